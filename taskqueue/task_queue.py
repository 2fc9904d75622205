"""TaskQueue: a ``queue.Queue`` whose daemon worker threads run the callables put on it.

The queue is the standard library's, used through its intended hooks (``_put``, ``_get``,
``_qsize``), so with ``num_workers=0`` it *is* a ``queue.Queue``. On top of it:

- fire-and-forget tasks (``add_task``), coalescing tasks (``add_latest``: ``coalescing``)
  and futures (``submit``, ``map``: it is a ``concurrent.futures.Executor`` too; the work
  items are in ``items``);
- a bounded queue with an overflow policy (``overflow``);
- a task that raises never kills its worker (``worker``): it is counted, handed to
  ``on_error`` (or logged), and can be re-raised by ``join(raise_errors=True)``;
- ``join`` with a timeout, ``close`` that drains or cancels (Ctrl-C leaving ``with``
  cancels), pending work drained at interpreter exit within ``exit_timeout``, and a queue
  that keeps working in a forked child (``closing``, ``lifecycle``);
- ``ThreadPoolExecutor``'s ``initializer``/``initargs``, and tasks run in a copy of their
  adder's ``contextvars`` context on request (``copy_context``).

Locking: the pending items, the counters, ``_latest``, ``_running_keys``, ``_unreported``,
``_state``, ``_broken`` and ``_workers`` are guarded by ``self.mutex``, the one lock that
``queue.Queue`` creates (``closed``, ``__repr__`` and the exit drain only read them, unlocked,
for a hint). The settings (``overflow``, ``on_error``, ...) are plain attributes, set once.
No user code (a task, a future's done-callback, ``on_error``, an argument's ``__del__``) runs
while the mutex is held, with one exception: an ``add_latest`` key's ``__hash__``/``__eq__``,
which must not call back into the queue. The mutex is re-entrant only so that a signal
handler can tell whether the main thread holds it (``signals``): nothing takes it twice. The
three conditions share the mutex:
- ``not_empty``: notified when an item (task or stop sentinel) is queued, or when an
  ``add_latest`` task waiting for its key's running task may start; workers wait on it.
- ``not_full``: notified when a slot frees up or the queue closes; blocked producers wait on it.
- ``all_tasks_done``: notified when ``unfinished_tasks`` reaches zero; ``join`` waits on it.
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import queue
import reprlib
import threading
from collections import deque
from typing import Any, Callable, Hashable

from . import lifecycle, signals
from .closing import CLOSED, GENERAL, OPEN, ClosingMixin
from .coalescing import CoalescingMixin
from .items import FutureTask, LatestTask, Task, cancel_future
from .overflow import OVERFLOW_POLICIES, OverflowMixin
from .types import TaskFailure, TaskStats
from .validation import check_int, check_timeout
from .worker import WorkerMixin, current_worker_queue

__all__ = ["EXIT_TIMEOUT", "TaskQueue"]

# How long the interpreter-exit drain waits for a queue's tasks by default, in seconds: long
# enough for a healthy backlog, short enough that a process stopped with a grace period
# (Kubernetes: SIGTERM, then SIGKILL 30 s later) ends on its own, saying what it abandoned,
# instead of being killed silently.
EXIT_TIMEOUT = 20.0


class TaskQueue(CoalescingMixin, OverflowMixin, ClosingMixin, WorkerMixin, queue.Queue,
                concurrent.futures.Executor):
    """A thread-backed task queue: ``add_task(fn, *args, **kwargs)``, then ``join()``.

    Args:
        num_workers: daemon worker threads (``>= 0``), named ``f"{name}-worker-{i}"``. With
            0 the object is a plain ``queue.Queue``: ``put`` and ``get`` work, and
            ``add_task``, ``add_latest``, ``submit`` and ``map`` raise ``RuntimeError``
            (nothing would ever run their tasks).
        maxsize: as for ``queue.Queue``; ``<= 0`` is unbounded.
        overflow: what ``add_task``, ``add_latest`` and ``submit`` do when the queue is full:
            ``"block"`` until there is room (back-pressure), ``"drop_oldest"`` pending task,
            ``"drop_newest"`` (the incoming one), or ``"raise"`` ``queue.Full``. Dropped
            tasks are counted (``stats().dropped``), their futures cancelled, and the drops
            logged as warnings on the ``"taskqueue"`` logger: the first at once, then a count
            at most every few seconds and at close. A task adding work to its own
            full queue is never blocked, dropped or refused (that could deadlock the worker,
            or lose work it relies on): it may exceed ``maxsize``.
        name: names the threads and appears in messages.
        on_error: called with a ``TaskFailure`` (on the worker thread) when an ``add_task``
            or ``add_latest`` task raises; by default the failure is logged with its
            traceback on the ``"taskqueue"`` logger. A submitted task's exception goes to its
            future instead.
        drain_at_exit: run what is still pending when the interpreter exits, instead of
            letting it die with the daemon threads.
        exit_timeout: seconds the interpreter exit waits for this queue's tasks (``None``:
            no limit). When they pass, the process exits without the unfinished tasks, says
            on stderr how many it abandoned, and ends with exit status 1 (unless it ends
            with a non-zero status already: an uncaught exception, a ``drain_on_signal``
            signal, a ``SystemExit`` leaving the queue's ``with`` block). Time the exit
            spends waiting for the program's own non-daemon threads does not count.
        initializer, initargs: as for ``ThreadPoolExecutor``: each worker calls
            ``initializer(*initargs)`` before its first task. If it raises, the failure is
            logged and the queue is broken: closed, its pending tasks discarded (their
            futures get ``BrokenTaskQueue``, a ``concurrent.futures.BrokenExecutor``) and
            every later add raises ``BrokenTaskQueue``.
        copy_context: run each task in a copy of the ``contextvars`` context of the code
            that added it (as ``asyncio.to_thread`` does), so that no value one task sets is
            seen by another. Off by default: it makes ``add_task`` cost more.

    With workers running, use ``add_task``/``add_latest``/``submit`` rather than
    ``put``/``get``: ``put(callable)`` runs it with no arguments (with ``put``'s own
    ``block``/``timeout``, not the overflow policy), anything else the workers could not
    run is a ``TypeError`` at the ``put``, and a ``get`` would steal work from the workers. Close the queue (or use ``with``) when done: its workers keep it alive until then.
    An ``add_latest`` key's ``__hash__`` and ``__eq__`` run under the queue's lock: they must
    not call back into the queue. A ``KeyboardInterrupt`` leaving ``with TaskQueue() as q:``
    cancels the tasks not yet started; any other way out runs them first.
    """

    def __init__(
        self,
        num_workers: int = 1,
        maxsize: int = 0,
        *,
        overflow: str = "block",
        name: str = "taskqueue",
        on_error: Callable[[TaskFailure], Any] | None = None,
        drain_at_exit: bool = True,
        exit_timeout: float | None = EXIT_TIMEOUT,
        initializer: Callable[..., Any] | None = None,
        initargs: tuple = (),
        copy_context: bool = False,
    ) -> None:
        check_int("num_workers", num_workers, minimum=0)
        check_int("maxsize", maxsize)
        if not isinstance(overflow, str) or overflow not in OVERFLOW_POLICIES:
            raise ValueError(f"overflow must be one of {OVERFLOW_POLICIES}, got {overflow!r}")
        if not isinstance(name, str):
            raise TypeError(f"name must be a str, got {name!r}")
        if on_error is not None and not callable(on_error):
            raise TypeError(f"on_error must be callable or None, got {on_error!r}")
        if not isinstance(drain_at_exit, bool):
            raise TypeError(f"drain_at_exit must be a bool, got {drain_at_exit!r}")
        exit_timeout = check_timeout(exit_timeout, "exit_timeout")
        if initializer is not None and not callable(initializer):
            raise TypeError(f"initializer must be callable or None, got {initializer!r}")
        if not isinstance(initargs, tuple):
            raise TypeError(f"initargs must be a tuple, got {initargs!r}")
        if not isinstance(copy_context, bool):
            raise TypeError(f"copy_context must be a bool, got {copy_context!r}")
        super().__init__(maxsize)
        self._make_locks()
        self.num_workers = num_workers
        self.overflow = overflow
        self.name = name
        self.on_error = on_error
        self.drain_at_exit = drain_at_exit
        self.exit_timeout = exit_timeout
        self.initializer = initializer
        self.initargs = initargs
        self.copy_context = copy_context
        self._open_state = GENERAL if copy_context or not num_workers else OPEN
        self._state = self._open_state
        self._broken: str | None = None  # why a failing initializer broke the queue
        # The exit no longer waits for this queue's tasks. A plain flag, not under the mutex:
        # set by the exit drain or by __exit__ on a second Ctrl-C, read by the exit drain.
        self._given_up = False
        try:
            # Under the mutex, so that a worker whose initializer fails at once sees them all
            # when it stops the others.
            with self.mutex:
                self._start_workers()
        except RuntimeError as exc:  # the system refused one more thread
            started = len(self._workers)
            self.close()
            raise RuntimeError(f"num_workers={num_workers}: could start only {started} worker "
                               f"threads ({exc})") from exc
        lifecycle.register(self)
        if num_workers:
            signals.guard_interrupts()

    def _make_locks(self) -> None:
        """The mutex and its three conditions, as queue.Queue makes them but for a re-entrant
        mutex: one knows its owner, so a signal handler can tell whether the main thread is
        inside the queue's critical section (see ``signals``)."""
        self.mutex = threading.RLock()
        # Workers wait on it for an item that may start.
        self.not_empty = threading.Condition(self.mutex)
        # Producers blocked by a full queue ("block", or put) wait on it for room or close.
        self.not_full = threading.Condition(self.mutex)
        # join() waits on it for unfinished_tasks to reach zero.
        self.all_tasks_done = threading.Condition(self.mutex)

    def _init(self, maxsize: int) -> None:
        super()._init(maxsize)
        self._latest: dict[Hashable, LatestTask] = {}  # add_latest key -> its waiting task
        self._running_keys: set[Hashable] = set()  # add_latest keys with a task running
        self._stops_queued = 0  # stop sentinels in self.queue, which are not tasks
        self._unreported: deque[BaseException] = deque()  # failures for join(raise_errors)
        self._unreported_lost = 0  # failures beyond max_unreported_failures
        self._submitted = self._completed = self._failed = 0
        self._dropped = self._coalesced = self._cancelled = 0
        self._drops_unlogged = 0  # see overflow
        self._next_drop_log = 0.0
        # Discarded tasks whose futures are still to be cancelled (outside the mutex: their
        # done-callbacks are user code). A deque, so that a cancelling interrupted by Ctrl-C
        # leaves the rest to the next caller instead of losing them.
        self._to_cancel: deque[Any] = deque()

    # -- queue.Queue hooks: every insertion is counted, sentinels are not tasks ---------------

    def _qsize(self) -> int:
        return len(self.queue) - self._stops_queued

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        """As ``queue.Queue.put``. With workers, ``item`` must be something they can run: a
        callable (run with no arguments) or a task this queue made (one taken by ``get``);
        anything else is a ``TypeError`` here, not a failure later on a worker."""
        if self.num_workers and not _runnable(item):
            hint = ("add_latest(key, fn, *args, **kwargs)" if type(item) is LatestTask
                    else "add_task(fn, *args, **kwargs)")
            raise TypeError(f"put() on {self.name}, a TaskQueue with workers, takes a callable "
                            f"(run with no arguments) or a task it made; got "
                            f"{reprlib.repr(item)}: use {hint}")
        super().put(item, block, timeout)

    def _put(self, item: Any) -> None:
        # Only Queue.put arrives here (our own ways to add check first, then _append): it
        # must be refused after close like everything else, or its item would wait behind
        # the stop sentinels forever.
        self._ensure_open()
        self._append(item)

    def _append(self, item: Any) -> None:
        self._submitted += 1
        self.queue.append(item)

    def _get(self) -> Any:
        item = self.queue.popleft()
        if type(item) is LatestTask:
            del self._latest[item.key]  # taken (by get()) or dropped: no longer pending
        return item

    def task_done(self) -> None:
        """As ``queue.Queue.task_done``; also counts the task as completed."""
        with self.all_tasks_done:
            unfinished = self.unfinished_tasks - 1
            if unfinished < 0:
                raise ValueError("task_done() called too many times")
            self.unfinished_tasks = unfinished
            self._completed += 1
            if not unfinished:
                self.all_tasks_done.notify_all()

    # -- adding work ---------------------------------------------------------------------------

    def add_task(self, task: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        """Queue ``task(*args, **kwargs)`` to run on a worker; fire and forget."""
        if not callable(task):
            raise TypeError(f"task must be callable, got {task!r}")
        # The common case (open, not full) inlines Queue.put and _append: one lock, no calls.
        with self.not_full:
            if not self._state and not 0 < self.maxsize <= self._qsize():
                self._submitted += 1
                self.queue.append((task, args, kwargs))
                self.unfinished_tasks += 1
                self.not_empty.notify()
                return
        self._enqueue((task, args, kwargs))

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future:
        """Queue ``fn(*args, **kwargs)``; its result or exception goes to the returned future."""
        if not callable(fn):
            raise TypeError(f"fn must be callable, got {fn!r}")
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._enqueue(FutureTask(future, fn, args, kwargs))
        return future

    def map(self, fn: Callable[..., Any], *iterables: Any, **kwargs: Any):
        """As ``Executor.map``."""
        self._check_workers()  # even for empty iterables, which submit nothing
        return super().map(fn, *iterables, **kwargs)

    def _check_workers(self) -> None:
        if not self.num_workers:
            raise RuntimeError(
                f"{self.name} has num_workers=0: nothing would ever run this task. With no "
                f"workers a TaskQueue is a plain queue (put, get); give it num_workers >= 1 "
                f"to run tasks")

    def _enqueue(self, item: Any) -> None:
        """Queue ``item`` under the overflow policy; the general path of every way to add."""
        self._check_workers()
        if self.copy_context:
            context = contextvars.copy_context()  # here, in the thread that adds the task
            if type(item) is tuple:
                item = Task(*item, context)
            else:
                item.context = context
        dropped = replaced = None
        with self.not_full:
            while True:
                self._ensure_open()
                if type(item) is LatestTask:
                    replaced = self._replace_waiting_locked(item)
                    if replaced is not None:
                        break
                if not 0 < self.maxsize <= self._qsize() or current_worker_queue() is self:
                    break
                dropped = self._overflow_locked(item)
                if dropped is not None:
                    break
            if replaced is None and dropped is not item:
                if type(item) is LatestTask:
                    self._latest[item.key] = item
                self._append(item)  # _ensure_open ran above, under this same lock
                self.unfinished_tasks += 1
                self.not_empty.notify()
        if dropped is not None:
            cancel_future(dropped)  # outside the lock: done-callbacks are user code
            self._log_drops()
        del replaced  # freed here, outside the lock: an argument's __del__ is user code

    # -- waiting and counting ------------------------------------------------------------------

    def join(self, timeout: float | None = None, *, raise_errors: bool = False) -> bool:
        """Wait until every task added so far, including tasks added by tasks, is done.

        Returns False if ``timeout`` seconds passed first. With ``raise_errors``, raises an
        ``ExceptionGroup`` (a ``BaseExceptionGroup`` if a task raised e.g. KeyboardInterrupt)
        of the fire-and-forget failures not yet reported this way; each is reported once.
        """
        timeout = check_timeout(timeout)
        if current_worker_queue() is self:
            raise RuntimeError(
                f"join() called from inside a task of {self.name} would wait for itself forever")
        with self.all_tasks_done:
            if not self.all_tasks_done.wait_for(lambda: not self.unfinished_tasks, timeout):
                return False
            if not (raise_errors and self._unreported):
                return True
            errors, lost = list(self._unreported), self._unreported_lost
            self._unreported.clear()
            self._unreported_lost = 0
        message = f"{len(errors) + lost} task(s) failed on {self.name}"
        if lost:
            message += f" (only the last {len(errors)} kept)"
        raise BaseExceptionGroup(message, errors)

    def stats(self) -> TaskStats:
        """A consistent snapshot of the counters (see ``TaskStats``)."""
        with self.mutex:
            pending = self._qsize()
            return TaskStats(
                submitted=self._submitted, completed=self._completed, failed=self._failed,
                dropped=self._dropped, coalesced=self._coalesced, cancelled=self._cancelled,
                pending=pending, running=self.unfinished_tasks - pending,
            )

    def __repr__(self) -> str:
        state = "closed" if self._state == CLOSED else "open"  # an unlocked read: a hint
        return (f"<{type(self).__name__} {self.name!r} {state} workers={self.num_workers} "
                f"pending={self._qsize()} unfinished={self.unfinished_tasks}>")


def _runnable(item: Any) -> bool:
    """Whether a worker can run ``item`` as ``put`` gives it: a callable, or a task of the
    kinds the queue makes. An ``add_latest`` task is not: its key's bookkeeping is
    ``add_latest``'s."""
    kind = type(item)
    if kind is tuple:  # add_task's (fn, args, kwargs)
        return (len(item) == 3 and callable(item[0]) and type(item[1]) is tuple
                and type(item[2]) is dict)
    if kind is Task or kind is FutureTask:
        return True
    return kind is not LatestTask and callable(item)
