"""Honest measurements of what the task queue buys: ``python -m benchmarks [--quick]``."""

import warnings

# Benchmarks time short fits on purpose: gdplot's ConvergenceWarning (a UserWarning whose
# message says the loss was still falling) is expected, even under -W error. Matched by its
# message so that importing this package needs no NumPy.
warnings.filterwarnings("ignore", message=r".*the loss was still falling", category=UserWarning)
