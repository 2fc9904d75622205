"""What adding to a full bounded queue does: block, drop the oldest, drop the newest, raise.

A task adding work to its own full queue is never blocked, dropped or refused (that could
deadlock its worker, or lose work it relies on): the caller checks that before asking here.

Drops are logged on the ``taskqueue`` logger as warnings: the first at once, then at most
one line every ``DROP_LOG_INTERVAL`` seconds with the count since the last, and the rest
when the queue closes; never one line per task. ``stats().dropped`` is the exact count.
"""

from __future__ import annotations

import contextlib
import logging
import queue
from time import monotonic
from typing import Any

OVERFLOW_POLICIES = ("block", "drop_oldest", "drop_newest", "raise")

# Seconds between two log lines about drops on one queue.
DROP_LOG_INTERVAL = 5.0

_log = logging.getLogger("taskqueue")


class OverflowMixin:
    """TaskQueue's overflow policies, applied under its mutex by the general add path.

    State (guarded by the mutex): ``_drops_unlogged``, the drops not yet in the log, and
    ``_next_drop_log``, the monotonic time before which no drop is logged (0: none yet)."""

    def _overflow_locked(self, item: Any) -> Any:
        """Under the mutex, the queue full: apply the policy to the incoming ``item``.

        Returns the task dropped (the oldest pending one, or ``item`` itself), counted; or
        None after waiting for room ("block"): the caller checks again, as anything may
        have changed meanwhile (the queue closed, ``item``'s key got a waiting task).
        """
        overflow = self.overflow
        if overflow == "block":
            self.not_full.wait()
            return None
        if overflow == "drop_oldest":
            dropped = self._get()
            self.unfinished_tasks -= 1
        elif overflow == "drop_newest":
            self._submitted += 1
            dropped = item
        else:
            raise queue.Full(f"{self.name} is full (maxsize={self.maxsize}, overflow='raise')")
        self._dropped += 1
        self._drops_unlogged += 1
        return dropped

    def _log_drops(self, *, final: bool = False) -> None:
        """Outside the mutex (a log handler is user code): log the drops not yet logged, if
        the interval since the last line has passed or the queue is closing (``final``)."""
        now = monotonic()
        if not final and now < self._next_drop_log:  # an unlocked read: a hint, cheap
            return
        with self.mutex:
            count = self._drops_unlogged
            if not count or (not final and now < self._next_drop_log):
                return
            first = not self._next_drop_log
            self._drops_unlogged = 0
            self._next_drop_log = now + DROP_LOG_INTERVAL
            total = self._dropped
        with contextlib.suppress(Exception):  # a broken log handler must not fail the add
            if first:
                _log.warning("%s is full (maxsize=%d): overflow=%r dropped %d task(s); "
                             "further drops are logged at most every %g s",
                             self.name, self.maxsize, self.overflow, count, DROP_LOG_INTERVAL)
            else:
                _log.warning("%s is full (maxsize=%d): overflow=%r dropped %d more task(s), "
                             "%d in all", self.name, self.maxsize, self.overflow, count, total)
