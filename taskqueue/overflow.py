"""What adding to a full bounded queue does: block, drop the oldest, drop the newest, raise.

A task adding work to its own full queue is never blocked, dropped or refused (that could
deadlock its worker, or lose work it relies on): the caller checks that before asking here.
"""

from __future__ import annotations

import queue
from typing import Any

OVERFLOW_POLICIES = ("block", "drop_oldest", "drop_newest", "raise")


class OverflowMixin:
    """TaskQueue's overflow policies, applied under its mutex by the general add path."""

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
        return dropped
