"""The worker threads: each takes the next item that may start, runs it, and counts how it
ended. A task that raises, whatever it raises, never ends its worker."""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Any

from .items import (COMPLETED, FAILED, NO_KEY, STOP, WAIT, FutureTask, LatestTask,
                    Task, describe, run_future, settle, without_frames)
from .types import BrokenTaskQueue, TaskFailure

_log = logging.getLogger("taskqueue")

# Which queue the current thread is a worker of, if any: lets add_task, join and close
# see that they were called from inside one of their own queue's tasks.
_worker_of = threading.local()


def current_worker_queue() -> Any:
    """The queue whose worker the calling thread is, or None."""
    return getattr(_worker_of, "queue", None)


def forget_worker_queue() -> None:
    """In a forked child: the calling thread is no worker of the parent's queue here."""
    with contextlib.suppress(AttributeError):
        del _worker_of.queue


class WorkerMixin:
    """TaskQueue's workers. Needs from the queue: its mutex and conditions, ``_take`` (the
    next item that may start), ``_discard_pending`` and ``_close_locked``."""

    # join(raise_errors=True) re-raises at most this many failures (0: none); older ones are
    # only counted.
    max_unreported_failures = 1000

    def _start_workers(self) -> None:
        self._workers = []
        for i in range(self.num_workers):
            worker = threading.Thread(target=self._work, name=f"{self.name}-worker-{i}", daemon=True)
            worker.start()
            self._workers.append(worker)

    def _work(self) -> None:
        _worker_of.queue = self
        if self.initializer is not None and not self._initialize():
            return
        while True:
            with self.not_empty:
                while (item := self._take()) is WAIT:
                    self.not_empty.wait()
                if item is STOP:
                    self._stops_queued -= 1
                    return
                self.not_full.notify()
            key = item.key if type(item) is LatestTask else NO_KEY
            try:
                outcome, error = self._execute(item)
            except BaseException as exc:
                # Running or reporting the item failed past every guard in _execute (say, a
                # MemoryError while reporting): the task is over all the same, and the worker
                # must live on.
                outcome, error = FAILED, without_frames(exc)
            del item  # hold no reference to a finished task while waiting for the next
            with self.all_tasks_done:
                if outcome == COMPLETED:
                    self._completed += 1
                elif outcome == FAILED:
                    self._failed += 1
                    if error is not None:
                        self._keep_unreported(error)
                else:
                    self._cancelled += 1
                if key is not NO_KEY:
                    self._running_keys.discard(key)
                    if key in self._latest:  # its waiting task may start now
                        self.not_empty.notify()
                unfinished = self.unfinished_tasks - 1
                self.unfinished_tasks = unfinished
                if not unfinished:
                    self.all_tasks_done.notify_all()
            error = key = None

    def _initialize(self) -> bool:
        """Run the initializer on this new worker; if it raises, break the queue."""
        try:
            self.initializer(*self.initargs)
        except BaseException as exc:
            reason = f"initializer {describe(self.initializer)} raised {type(exc).__name__}"
            with contextlib.suppress(BaseException):  # the logging may be broken too
                _log.critical("%s on %s: the queue is broken, its pending tasks discarded",
                              reason, self.name, exc_info=exc)
            self._break(reason)
            return False
        return True

    def _break(self, reason: str) -> None:
        """Close the queue for good, discard what is pending and fail its futures."""
        with self.mutex:
            if self._broken is None:
                self._broken = reason
            discarded = self._discard_pending()
            self._close_locked(exclude=threading.current_thread())  # this worker is done
        for item in discarded:
            if type(item) is FutureTask and item.future.set_running_or_notify_cancel():
                error = BrokenTaskQueue(f"{self.name} is broken: {reason}")
                settle(item.future, item.future.set_exception, error)

    def _execute(self, item: Any) -> tuple[int, BaseException | None]:
        """Run one item; return how it ended and, for a fire-and-forget failure, its exception."""
        kind = type(item)
        context = None
        if kind is tuple:  # from add_task (put() takes no other tuple)
            fn, args, kwargs = item
        elif kind is LatestTask or kind is Task:
            fn, args, kwargs, context = item.fn, item.args, item.kwargs, item.context
        elif kind is FutureTask:
            outcome = run_future(item)
            del item  # the future's exception may point back to this frame
            return outcome, None
        else:  # a callable given to put()
            fn, args, kwargs = item, (), {}
        try:
            if context is None:
                fn(*args, **kwargs)
            else:
                context.run(fn, *args, **kwargs)
        except BaseException as exc:  # a task's KeyboardInterrupt/SystemExit must not kill us
            error = self._report_failure(fn, args, kwargs, exc)
            # This frame outlives the call (the task's frames point back to it), so it must
            # not keep the task and its arguments alive.
            del fn, args, kwargs, item, context
            return FAILED, error
        return COMPLETED, None

    def _report_failure(self, fn, args, kwargs, exc: BaseException) -> BaseException:
        # Drop the worker's own frame from the traceback: it holds the task and its arguments.
        if exc.__traceback__ is not None:
            exc.__traceback__ = exc.__traceback__.tb_next
        note = f"raised by task {describe(fn)} on {self.name}"
        try:
            if note not in getattr(exc, "__notes__", ()):  # one exception raised many times
                exc.add_note(note)
        except TypeError:
            pass  # the task set __notes__ to something that is not a list: keep it as it is
        handler = self.on_error
        try:
            if handler is None:
                _log.error("task %s failed on %s", describe(fn), self.name, exc_info=exc)
            else:
                handler(TaskFailure(fn, args, kwargs, exc))
        except BaseException:
            # A broken on_error (or logging setup) must cost neither the worker nor the
            # failure: it is still counted and kept for join(raise_errors=True).
            if handler is not None:
                with contextlib.suppress(BaseException):  # the logging may be broken too
                    _log.exception("on_error handler %s raised while handling a failure of %s",
                                   describe(handler), describe(fn))
        # Kept for join(raise_errors=True), without the locals of the frames it passed.
        return without_frames(exc)

    def _keep_unreported(self, error: BaseException) -> None:
        self._unreported.append(error)
        while len(self._unreported) > max(0, self.max_unreported_failures):
            self._unreported.popleft()
            self._unreported_lost += 1
