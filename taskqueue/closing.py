"""A queue's life: open, closed (drained or cancelled), drained at interpreter exit, and
reset in a forked child. The process-wide side (the exit hooks, the registry of live queues,
the fork hook) is in ``lifecycle``; this is each queue's part of it."""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from time import monotonic
from typing import Any

from . import lifecycle
from .items import STOP, cancel_future
from .types import BrokenTaskQueue, TaskQueueClosed
from .validation import check_timeout
from .worker import current_worker_queue, forget_worker_queue

_log = logging.getLogger("taskqueue")

# Queue states. Anything but OPEN sends add_task to its general path (_enqueue). GENERAL:
# open, but every add takes the general path: the queue copies contexts (copy_context=True),
# or has no workers (num_workers=0: adding tasks is refused; put and get work). FORKED: in a
# forked child, until first use restarts the workers. EXITING: the interpreter is draining
# the queue at exit; a daemon thread that is no queue's worker may no longer add work (a
# daemon producer could otherwise keep the drain, and so the exit, busy forever). CLOSED:
# by close(), or by a failing initializer (then _broken says why).
OPEN, GENERAL, FORKED, EXITING, CLOSED = 0, 1, 2, 3, 4


class ClosingMixin:
    """TaskQueue's ``close``, ``shutdown``, ``with``, exit drain and fork reset."""

    def _ensure_open(self) -> None:
        """Under the mutex: refuse work once closed; restart workers first use after a fork."""
        if self._state == CLOSED:
            if self._broken is not None:
                raise BrokenTaskQueue(f"{self.name} is broken: {self._broken}")
            raise TaskQueueClosed(f"{self.name} is closed: it accepts no new tasks")
        if self._state == EXITING:
            caller = threading.current_thread()
            if caller.daemon and current_worker_queue() is None:
                raise TaskQueueClosed(f"{self.name} is draining for interpreter exit: it "
                                      f"accepts no new tasks from daemon thread {caller.name}")
        elif self._state == FORKED:
            self._state = self._open_state
            self._start_workers()

    def close(self, wait: bool = True, *, cancel_pending: bool = False,
              timeout: float | None = None) -> bool:
        """Accept no new work (``TaskQueueClosed``); let the workers finish, then stop them.

        Args:
            wait: wait for the workers to stop (not when called from one of this queue's own
                tasks, which would wait for itself).
            cancel_pending: discard the tasks not yet started instead of running them; they
                are counted as cancelled and their futures cancelled.
            timeout: with ``wait``, give up waiting after this many seconds.

        Returns True if every worker has stopped. Calling it again is harmless.
        """
        timeout = check_timeout(timeout)
        self._stop_accepting(cancel_pending)
        self._log_drops(final=True)
        if wait and current_worker_queue() is not self:
            deadline = None if timeout is None else monotonic() + timeout
            for worker in self._workers:
                worker.join(None if deadline is None else max(0.0, deadline - monotonic()))
        return not any(worker.is_alive() for worker in self._workers)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """The ``concurrent.futures.Executor`` spelling of ``close``."""
        self.close(wait, cancel_pending=cancel_futures)

    @property
    def closed(self) -> bool:
        return self._state == CLOSED

    def __enter__(self) -> Any:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc_info: object) -> bool:
        if exc_type is not None and issubclass(exc_type, SystemExit):
            lifecycle.note_system_exit(getattr(exc_info[0], "code", None))
        if exc_type is not None and issubclass(exc_type, KeyboardInterrupt) and self.num_workers:
            self._interrupted()
        elif (exc_type is not None and issubclass(exc_type, SystemExit) and self.drain_at_exit
              and lifecycle.signalled()):
            # drain_on_signal's exit: the exit drain runs what is pending, within exit_timeout.
            self._stop_accepting(cancel_pending=False)
        else:
            self.close(wait=True)  # also after any other exception, as ThreadPoolExecutor
        return False

    def _interrupted(self) -> None:
        """Ctrl-C left the ``with`` block: cancel what has not started, let the running end,
        within ``exit_timeout``.

        A second Ctrl-C at any point of this (cancelling, logging or waiting) stops the
        waiting, here and at exit; the pending tasks are all counted as cancelled and their
        futures cancelled all the same."""
        try:
            cancelled = self._stop_accepting(cancel_pending=True)
            with contextlib.suppress(Exception):
                _log.warning("KeyboardInterrupt: %s cancelled %d pending task(s); waiting for "
                             "the %d running", self.name, cancelled, self.stats().running)
            if not self.close(wait=True, timeout=self.exit_timeout):
                self._abandon("after KeyboardInterrupt")
        except KeyboardInterrupt:
            # The first goes on up alone, so one traceback is printed, not two.
            self._given_up = True
            with contextlib.suppress(KeyboardInterrupt):  # a third one: the rest at exit
                self._stop_accepting(cancel_pending=True)
            with contextlib.suppress(Exception):
                _log.warning("second KeyboardInterrupt: %s no longer waits for its running "
                             "task(s)", self.name)

    def _stop_accepting(self, cancel_pending: bool) -> int:
        """Close the queue, optionally cancelling what is pending; return how many were."""
        cancelled = 0
        with self.mutex:
            if cancel_pending:
                discarded = self._discard_pending()
                self._to_cancel.extend(discarded)
                cancelled = len(discarded)
            self._close_locked()
        self._cancel_discarded()
        return cancelled

    def _cancel_discarded(self) -> None:
        """Cancel the futures of the discarded tasks, one at a time: each is taken by one
        caller, and put back if a KeyboardInterrupt stops its cancelling."""
        while True:
            try:
                item = self._to_cancel.popleft()
            except IndexError:
                return
            try:
                cancel_future(item)
            except KeyboardInterrupt:
                self._to_cancel.appendleft(item)
                raise

    def _close_locked(self, exclude: threading.Thread | None = None) -> None:
        """Under the mutex: accept no more work; one stop sentinel per live worker."""
        if self._state != CLOSED:
            self._state = CLOSED
            stops = sum(1 for w in self._workers if w.is_alive() and w is not exclude)
            self.queue.extend([STOP] * stops)
            self._stops_queued += stops
            self.not_empty.notify_all()
            self.not_full.notify_all()  # blocked producers wake up to TaskQueueClosed

    def _discard_pending(self) -> list[Any]:
        """Under the mutex: take every pending task off the queue, counted as cancelled."""
        tasks = [item for item in self.queue if item is not STOP]
        self.queue.clear()
        self.queue.extend([STOP] * self._stops_queued)
        self._latest.clear()
        self._cancelled += len(tasks)
        self.unfinished_tasks -= len(tasks)
        if not self.unfinished_tasks:
            self.all_tasks_done.notify_all()
        self.not_full.notify_all()
        return tasks

    # -- called by lifecycle -------------------------------------------------------------------

    def _drain_for_exit(self, deadline: float | None) -> bool:
        """Run what is pending (and what it adds) until the ``deadline`` (monotonic clock);
        return False if nothing ever would, or if the exit no longer waits for this queue."""
        self._cancel_discarded()  # what a Ctrl-C cut short (a cancelling is quick: no wait)
        if self._given_up or not any(worker.is_alive() for worker in self._workers):
            if self._given_up and self.unfinished_tasks:  # a second Ctrl-C left them
                lifecycle.note_abandoned()
            return False  # nothing would ever run what is pending, or we no longer wait
        with self.mutex:
            if self._state in (OPEN, GENERAL):
                self._state = EXITING
        if self.join(None if deadline is None else max(0.0, deadline - monotonic())):
            return True
        self._abandon("the process exits")
        return False

    def _abandon(self, what: str) -> None:
        """``exit_timeout`` has passed: no longer wait for this queue's unfinished tasks, and
        say so on stderr. The exit is then not a clean one (see ``lifecycle``)."""
        self._given_up = True
        lifecycle.note_abandoned()
        stats = self.stats()
        with contextlib.suppress(Exception):  # stderr may be closed
            print(f"taskqueue: {self.name}: exit_timeout={self.exit_timeout:g}s passed; "
                  f"{what}, abandoning {stats.pending + stats.running} unfinished "
                  f"task(s) ({stats.running} running, {stats.pending} pending)",
                  file=sys.stderr, flush=True)

    def _reset_after_fork(self) -> None:
        """In a forked child: fresh locks, no inherited work, workers started on first use.

        The parent's pending and running tasks stay the parent's: running them here too would
        do every write twice. Their futures are not completed in the child.
        """
        # The parent's lock may have been held at the fork by a thread that does not exist
        # here: new ones.
        self._make_locks()
        self.unfinished_tasks = 0
        self._init(self.maxsize)
        self._workers = []
        self._given_up = False
        if self._state != CLOSED:
            self._state = FORKED  # an exit drain in the parent is not the child's
        if current_worker_queue() is self:  # forked from inside one of our tasks
            forget_worker_queue()
