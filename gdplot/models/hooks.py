"""The callbacks of a fit: which of their hooks the training loop calls, checked up front."""

from __future__ import annotations

from typing import Any

__all__ = ["HOOK_NAMES", "collect_hooks"]

HOOK_NAMES = ("on_train_begin", "on_epoch_end", "on_train_end")


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
