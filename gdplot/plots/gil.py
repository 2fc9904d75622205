"""Longer GIL slices while plots are drawn beside training in its own process, so that the
threads serving them and training hand the GIL to each other less often.

While two threads want the GIL, CPython makes the holder give it up every switch interval
(5 ms by default). A plot drawn on a thread of the training process runs matplotlib under
the GIL, and a notebook view adds a thread that sends each frame and ipykernel's thread that
writes it out: every frame hands the GIL over several times, a fresh figure some twenty
times. Each hand-off costs training more than the wait. The threads run on different cores
and touch the same Python objects (reference counts of types, ``None``, small ints, module
dictionaries), so after every turn of another thread, training finds those cache lines on
the other core and runs its own arithmetic slower; threads kept on one core do not show it.
With longer slices the other threads get the same share of the GIL in fewer turns.

:class:`LongSlices` raises the interpreter's switch interval to :data:`SLICE_SECONDS` while
at least one holder (a fit whose plots are drawn or shown off the training thread) is
active, and puts back the value it found once the last one is done, unless something else
changed it meanwhile (then that value stays). The interval is process-wide: meanwhile, a
thread that wants the GIL may wait up to one slice for it, which frames capped at a few a
second can afford and a training loop does not notice.
"""

from __future__ import annotations

import os
import sys
import threading

__all__ = ["SLICE_SECONDS", "LongSlices"]

#: The switch interval while plots are drawn beside training: ten times CPython's default.
SLICE_SECONDS = 0.05

# Guards the four below: fits run on several threads at once.
_lock = threading.Lock()
_holders = 0  # active holders, on any thread
_generation = 0  # counts forks: a hold taken before the fork is not one in the child
_found: float | None = None  # the interval found when the first of them began (if raised)
_set: float | None = None  # the interval as set then (read back: CPython rounds it)


class LongSlices:
    """One holder of the longer slices: :meth:`hold` and :meth:`release` (each idempotent,
    so a fit that ends twice, or fails after it ended, releases once)."""

    def __init__(self) -> None:
        self.held = False
        self._generation = 0

    def hold(self) -> None:
        global _holders, _found, _set
        if self.held and self._generation == _generation:
            return
        with _lock:
            if _holders == 0:
                current = sys.getswitchinterval()
                if current < SLICE_SECONDS:
                    sys.setswitchinterval(SLICE_SECONDS)
                    _found, _set = current, sys.getswitchinterval()
            _holders += 1
            self.held, self._generation = True, _generation

    def release(self) -> None:
        global _holders, _found, _set
        if not self.held:
            return
        with _lock:
            self.held = False
            if self._generation != _generation:  # held before a fork, released in the child
                return
            _holders -= 1
            if _holders == 0 and _found is not None:
                if sys.getswitchinterval() == _set:  # nobody else has changed it
                    sys.setswitchinterval(_found)
                _found = _set = None


def _reset_in_child() -> None:
    """In a forked child: no fit of the parent runs there, and the lock may have been held by
    one of its other threads at the fork."""
    global _lock, _holders, _generation, _found, _set
    _lock = threading.Lock()
    if _found is not None and sys.getswitchinterval() == _set:
        sys.setswitchinterval(_found)
    _holders, _found, _set = 0, None, None
    _generation += 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_in_child)
