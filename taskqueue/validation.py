"""Checks of the arguments that enter the queue: a clear error naming the parameter and value."""

from __future__ import annotations

import threading
from numbers import Real
from typing import Any


def check_int(name: str, value: Any, *, minimum: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")


def check_timeout(timeout: Any, name: str = "timeout") -> float | None:
    """``timeout`` as a wait accepts it: one longer than the platform can wait (e.g. ``inf``)
    is no timeout, not an ``OverflowError``."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, Real):
        raise TypeError(f"{name} must be a number of seconds or None, got {timeout!r}")
    if not timeout >= 0:  # also rejects NaN
        raise ValueError(f"{name} must be >= 0, got {timeout!r}")
    return None if timeout > threading.TIMEOUT_MAX else float(timeout)
