"""The callbacks of a fit: which of their hooks the training loop calls, checked up front.

``on_train_end`` is called when training completes; ``on_train_error`` instead, when it
fails (an exception, ``DivergenceError`` or Ctrl-C included) after the ``on_train_begin``
hooks began, so that a callback can let go of what it took for the fit. It may come to a
callback whose own ``on_train_begin`` did not run (an earlier one failed) or whose
``on_train_end`` failed part way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

__all__ = ["HOOK_NAMES", "call_error_hooks", "collect_hooks"]

logger = logging.getLogger("gdplot")

HOOK_NAMES = ("on_train_begin", "on_epoch_end", "on_train_end", "on_train_error")


def collect_hooks(callbacks: Any) -> dict[str, list]:
    """The callbacks' hook methods by hook name, in the callbacks' order."""
    if isinstance(callbacks, (str, bytes)) or not hasattr(callbacks, "__iter__"):
        raise TypeError(
            f"callbacks must be a list of callback objects, got {callbacks!r}; "
            "wrap a single callback in a list: callbacks=[callback]"
        )
    hooks: dict[str, list] = {name: [] for name in HOOK_NAMES}
    for callback in callbacks:
        found = [name for name in HOOK_NAMES if callable(getattr(callback, name, None))]
        if not found:
            raise TypeError(f"callback {callback!r} defines none of {', '.join(HOOK_NAMES)}")
        for name in found:
            hooks[name].append(getattr(callback, name))
    return hooks


def call_error_hooks(estimator: Any, hooks: list[Callable[[Any], object]]) -> None:
    """Call every ``on_train_error`` hook, while the fit's own error is on its way up: one
    that fails is logged, and the others still run."""
    for hook in hooks:
        try:
            hook(estimator)
        except Exception:
            logger.exception("on_train_error hook %r failed", hook)
