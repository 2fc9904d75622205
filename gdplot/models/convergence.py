"""Whether a run had finished: the ``ConvergenceWarning`` of a loss still falling at the end."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["CONVERGENCE_RTOL", "ConvergenceWarning", "still_falling"]

#: A run whose loss fell by more than this fraction over its last tenth had not converged.
CONVERGENCE_RTOL = 0.01


class ConvergenceWarning(UserWarning):
    """The loss was still falling when training stopped (as scikit-learn's warning of that
    name): more epochs, or a larger learning rate, would have lowered it further.

    Attributes:
        relative_decrease: how much the loss fell over the last tenth of the run, as a
            fraction of where that tenth started.
        epochs: the epochs in that last tenth.
    """

    def __init__(self, message: str, *, relative_decrease: float, epochs: int) -> None:
        super().__init__(message)
        self.relative_decrease = relative_decrease
        self.epochs = epochs


def still_falling(name: str, initial_loss: float, history: np.ndarray) -> ConvergenceWarning | None:
    """The warning for a run of model ``name`` whose loss fell by more than
    ``CONVERGENCE_RTOL`` over the last tenth of its ``history`` (at least one epoch; before
    the first epoch the loss was ``initial_loss``), or ``None``.

    Over three epochs or more the fall is the slope of a straight line fitted to that tenth,
    and it must stand out from the noise about the line (twice the slope's standard error):
    the loss of a stochastic run that has settled jumps about, and its last epoch may happen
    to sit low.
    """
    epochs = len(history)
    tail = max(1, epochs // 10)
    start = initial_loss if tail >= epochs else float(history[-tail - 1])
    if epochs == 0 or not start > 0:
        return None
    window = np.concatenate([[start], history[-tail:]]) / start
    if tail < 3:
        decrease, significant = 1.0 - float(window[-1]), True
    else:
        x = np.arange(tail + 1.0) - tail / 2
        slope = float(x @ window / (x @ x))
        residual = window - window.mean() - slope * x
        standard_error = math.sqrt(float(residual @ residual) / (tail - 1) / float(x @ x))
        decrease, significant = -slope * tail, -slope > 2 * standard_error
    if not (decrease > CONVERGENCE_RTOL and significant):
        return None
    return ConvergenceWarning(
        f"{name}: the loss was still falling when training stopped: down {decrease:.1%} over "
        f"the last {tail} of {epochs} epochs (to {float(history[-1]):.4g}); train for more "
        "epochs, or with a larger learning rate",
        relative_decrease=decrease,
        epochs=tail,
    )
