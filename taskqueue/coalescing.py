"""Coalescing for ``add_latest``: per key, at most one task runs and at most one waits.

A newer ``add_latest`` call replaces what the waiting task of its key will run, and a
waiting task starts only once the running task of its key has ended. So the last task to run
for a key is the newest added, whatever the number of workers: "latest frame wins".

State (guarded by the queue's mutex): ``_latest`` maps a key to its waiting task (which is
also on the queue); ``_running_keys`` holds the keys with a task running.
"""

from __future__ import annotations

from typing import Any, Callable, Hashable

from .items import WAIT, LatestTask


class CoalescingMixin:
    """TaskQueue's ``add_latest``, and the worker's choice of the next item that may start."""

    def add_latest(self, key: Hashable, task: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        """Queue ``task(*args, **kwargs)`` unless a task for ``key`` is pending, then replace it.

        Per key, at most one task runs and at most one waits: a newer call replaces the
        waiting task's callable and arguments (the replaced one counts as coalesced), and the
        waiting task starts only once the running one has ended. So, whatever
        ``num_workers``, the last task to run for a key is the newest added: "latest frame
        wins" for live plots.
        """
        try:
            hash(key)
        except TypeError:
            raise TypeError(f"key must be hashable, got {key!r}") from None
        if not callable(task):
            raise TypeError(f"task must be callable, got {task!r}")
        self._enqueue(LatestTask(key, task, args, kwargs))

    def _replace_waiting_locked(self, item: LatestTask) -> tuple | None:
        """Under the mutex: if a task of ``item``'s key waits, make it run ``item`` instead
        and return what it would have run (for the caller to free after the lock is
        released: an argument's ``__del__`` is user code); else None."""
        waiting = self._latest.get(item.key)
        if waiting is None:
            return None
        replaced = waiting.fn, waiting.args, waiting.kwargs, waiting.context
        waiting.fn, waiting.args, waiting.kwargs = item.fn, item.args, item.kwargs
        waiting.context = item.context
        self._submitted += 1
        self._coalesced += 1
        return replaced

    def _take(self) -> Any:
        """Under the mutex, for a worker: remove and return the first item that may start
        now, or ``WAIT``. Anything may, but an ``add_latest`` task whose key has a task
        running: it waits for that one to end, so that tasks of one key never overlap and
        the last to run is the newest added."""
        pending = self.queue
        if not pending:
            return WAIT
        if type(pending[0]) is not LatestTask:
            return pending.popleft()  # the common case
        for index, item in enumerate(pending):
            if type(item) is not LatestTask:
                break
            if item.key not in self._running_keys:
                del self._latest[item.key]
                self._running_keys.add(item.key)
                break
        else:
            return WAIT
        del pending[index]
        return item
