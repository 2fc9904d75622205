"""The small value types that cross the task queue's boundary."""

from __future__ import annotations

from concurrent.futures.thread import BrokenThreadPool
from dataclasses import dataclass
from typing import Any, Callable


class TaskQueueClosed(RuntimeError):
    """Work was offered to a TaskQueue after ``close()`` / ``shutdown()``."""


class BrokenTaskQueue(BrokenThreadPool):
    """A worker's ``initializer`` raised: the queue runs nothing more.

    Its pending futures get this exception, and every later attempt to add work raises it. A
    ``concurrent.futures.BrokenExecutor`` (through ``BrokenThreadPool``), as a
    ``ThreadPoolExecutor`` would raise.
    """


@dataclass(frozen=True, slots=True)
class TaskStats:
    """A consistent snapshot of a queue's counters, taken under its lock.

    Every task offered is counted once in ``submitted`` and, once it is over, in exactly one
    of ``completed``, ``failed``, ``dropped`` (overflow), ``coalesced`` (replaced by a newer
    ``add_latest`` call) or ``cancelled`` (discarded unrun: by ``close(cancel_pending=True)``,
    a ``KeyboardInterrupt`` leaving a ``with`` block, a failing ``initializer``, or a future
    cancelled before it ran). Until then it is ``pending`` or ``running``, so at any
    moment ``submitted == completed + failed + dropped + coalesced + cancelled + pending +
    running``.
    """

    submitted: int
    completed: int
    failed: int
    dropped: int
    coalesced: int
    cancelled: int
    pending: int
    running: int

    @property
    def finished(self) -> int:
        """Tasks that are over, whatever their outcome."""
        return self.completed + self.failed + self.dropped + self.coalesced + self.cancelled


@dataclass(frozen=True, slots=True)
class TaskFailure:
    """A fire-and-forget task (``add_task`` / ``add_latest``) that raised."""

    task: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    exception: BaseException
