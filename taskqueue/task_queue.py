"""TaskQueue: a ``queue.Queue`` whose daemon worker threads run the callables put on it.

The queue is the standard library's, used through its intended hooks (``_put``, ``_get``,
``_qsize``), so with ``num_workers=0`` it *is* a ``queue.Queue``. On top of it:

- fire-and-forget tasks (``add_task``), coalescing tasks (``add_latest``) and futures
  (``submit``, ``map``: it is a ``concurrent.futures.Executor`` too);
- a bounded queue with an overflow policy: block, drop the oldest, drop the newest, or raise;
- a task that raises never kills its worker: it is counted, handed to ``on_error`` (or
  logged), and can be re-raised by ``join(raise_errors=True)``;
- ``join`` with a timeout, ``close`` that drains or cancels (Ctrl-C leaving ``with``
  cancels), pending work drained at interpreter exit within ``exit_timeout``, and a queue
  that keeps working in a forked child;
- ``ThreadPoolExecutor``'s ``initializer``/``initargs``, and tasks run in a copy of their
  adder's ``contextvars`` context on request (``copy_context``).

Locking: the pending items, the counters, ``_latest``, ``_running_keys``, ``_unreported``,
``_state``, ``_broken`` and ``_workers`` are guarded by ``self.mutex``, the one lock that
``queue.Queue`` creates (``closed``, ``__repr__`` and the exit drain only read them, unlocked,
for a hint). The settings (``overflow``, ``on_error``, ...) are plain attributes, set once.
No user code (a task, a future's done-callback, ``on_error``, an argument's ``__del__``) runs
while the mutex is held, with one exception: an ``add_latest`` key's ``__hash__``/``__eq__``,
which must not call back into the queue. The three conditions share the mutex:
- ``not_empty``: notified when an item (task or stop sentinel) is queued, or when an
  ``add_latest`` task waiting for its key's running task may start; workers wait on it.
- ``not_full``: notified when a slot frees up or the queue closes; blocked producers wait on it.
- ``all_tasks_done``: notified when ``unfinished_tasks`` reaches zero; ``join`` waits on it.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import contextvars
import logging
import queue
import sys
import threading
import traceback
from collections import deque
from numbers import Real
from time import monotonic as _monotonic
from typing import Any, Callable, Hashable

from . import lifecycle
from .types import BrokenTaskQueue, TaskFailure, TaskQueueClosed, TaskStats

__all__ = ["TaskQueue"]

_log = logging.getLogger("taskqueue")

OVERFLOW_POLICIES = ("block", "drop_oldest", "drop_newest", "raise")

# Queue states. Anything but _OPEN sends add_task to its general path (_enqueue). _GENERAL:
# open, but every add takes the general path: the queue copies contexts (copy_context=True),
# or has no workers (num_workers=0: adding tasks is refused; put and get work). _FORKED: in a
# forked child, until first use restarts the workers. _EXITING: the interpreter is draining
# the queue at exit; a daemon thread that is no queue's worker may no longer add work (a
# daemon producer could otherwise keep the drain, and so the exit, busy forever). _CLOSED:
# by close(), or by a failing initializer (then _broken says why).
_OPEN, _GENERAL, _FORKED, _EXITING, _CLOSED = 0, 1, 2, 3, 4

# How long the interpreter-exit drain waits for a queue's tasks by default, in seconds. A
# healthy backlog is done in a few seconds (a plot render takes ~0.1 s); one still running
# after 20 s is most likely hung (a network call without a timeout). And a process stopped
# by Kubernetes (SIGTERM, then SIGKILL after its default 30 s grace period) then ends on its
# own, with the warning that says what was abandoned, instead of being killed silently.
EXIT_TIMEOUT = 20.0

# How a task ended.
_COMPLETED, _FAILED, _CANCELLED = 0, 1, 2


class _Stop:
    """The sentinel a worker stops on; one is queued per live worker by ``close``."""

    def __repr__(self) -> str:
        return "<stop>"


_STOP = _Stop()
_WAIT = object()  # _take: nothing may start now
_NO_KEY = object()  # the worker's running add_latest key when it runs anything else

# Which queue the current thread is a worker of, if any: lets add_task, join and close
# see that they were called from inside one of their own queue's tasks.
_worker_of = threading.local()

# Items on the queue. add_task stores a plain (fn, args, kwargs) tuple: the cheapest thing
# to build, which keeps its cost next to a bare Queue.put. The classes below carry more; their
# context is the contextvars.Context the task runs in (copy_context=True), or None.


class _Task:
    """An ``add_task`` task that runs in a copy of its adder's context."""

    __slots__ = ("fn", "args", "kwargs", "context")

    def __init__(self, fn: Callable[..., Any], args: tuple, kwargs: dict,
                 context: contextvars.Context | None = None):
        self.fn, self.args, self.kwargs, self.context = fn, args, kwargs, context


class _LatestTask(_Task):
    """An ``add_latest`` task: mutable, so a newer call can replace what it will run."""

    __slots__ = ("key",)

    def __init__(self, key: Hashable, fn: Callable[..., Any], args: tuple, kwargs: dict):
        self.key, self.fn, self.args, self.kwargs, self.context = key, fn, args, kwargs, None


class _FutureTask(_Task):
    """A ``submit`` task and the future that receives its outcome."""

    __slots__ = ("future",)

    def __init__(self, future: concurrent.futures.Future, fn: Callable[..., Any], args, kwargs):
        self.future, self.fn, self.args, self.kwargs, self.context = future, fn, args, kwargs, None


class TaskQueue(queue.Queue, concurrent.futures.Executor):
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
            tasks are counted and their futures cancelled. A task adding work to its own
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
            no limit). When they pass, the process exits without the unfinished tasks, and
            says on stderr how many it abandoned. Time the exit spends waiting for the
            program's own non-daemon threads does not count.
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
    ``block``/``timeout``, not the overflow policy), and a ``get`` would steal work from the
    workers. Close the queue (or use ``with``) when done: its workers keep it alive until then.
    An ``add_latest`` key's ``__hash__`` and ``__eq__`` run under the queue's lock: they must
    not call back into the queue. A ``KeyboardInterrupt`` leaving ``with TaskQueue() as q:``
    cancels the tasks not yet started; any other way out runs them first.
    """

    # join(raise_errors=True) re-raises at most this many failures (0: none); older ones are
    # only counted.
    max_unreported_failures = 1000

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
        _check_int("num_workers", num_workers, minimum=0)
        _check_int("maxsize", maxsize)
        if not isinstance(overflow, str) or overflow not in OVERFLOW_POLICIES:
            raise ValueError(f"overflow must be one of {OVERFLOW_POLICIES}, got {overflow!r}")
        if not isinstance(name, str):
            raise TypeError(f"name must be a str, got {name!r}")
        if on_error is not None and not callable(on_error):
            raise TypeError(f"on_error must be callable or None, got {on_error!r}")
        if not isinstance(drain_at_exit, bool):
            raise TypeError(f"drain_at_exit must be a bool, got {drain_at_exit!r}")
        exit_timeout = _check_timeout(exit_timeout, "exit_timeout")
        if initializer is not None and not callable(initializer):
            raise TypeError(f"initializer must be callable or None, got {initializer!r}")
        if not isinstance(initargs, tuple):
            raise TypeError(f"initargs must be a tuple, got {initargs!r}")
        if not isinstance(copy_context, bool):
            raise TypeError(f"copy_context must be a bool, got {copy_context!r}")
        super().__init__(maxsize)
        self.num_workers = num_workers
        self.overflow = overflow
        self.name = name
        self.on_error = on_error
        self.drain_at_exit = drain_at_exit
        self.exit_timeout = exit_timeout
        self.initializer = initializer
        self.initargs = initargs
        self.copy_context = copy_context
        self._open_state = _GENERAL if copy_context or not num_workers else _OPEN
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

    def _init(self, maxsize: int) -> None:
        super()._init(maxsize)
        self._latest: dict[Hashable, _LatestTask] = {}  # add_latest key -> its pending task
        self._running_keys: set[Hashable] = set()  # add_latest keys with a task running
        self._stops_queued = 0  # stop sentinels in self.queue, which are not tasks
        self._unreported: deque[BaseException] = deque()
        self._unreported_lost = 0  # failures beyond max_unreported_failures
        self._submitted = self._completed = self._failed = 0
        self._dropped = self._coalesced = self._cancelled = 0
        # Discarded tasks whose futures are still to be cancelled (outside the mutex: their
        # done-callbacks are user code). A deque, so that a cancelling interrupted by Ctrl-C
        # leaves the rest to the next caller instead of losing them.
        self._to_cancel: deque[Any] = deque()

    def _start_workers(self) -> None:
        self._workers = []
        for i in range(self.num_workers):
            worker = threading.Thread(target=self._work, name=f"{self.name}-worker-{i}", daemon=True)
            worker.start()
            self._workers.append(worker)

    # -- queue.Queue hooks: every insertion is counted, sentinels are not tasks ---------------

    def _qsize(self) -> int:
        return len(self.queue) - self._stops_queued

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
        if type(item) is _LatestTask:
            del self._latest[item.key]  # taken (by get()) or dropped: no longer pending
        return item

    def _take(self) -> Any:
        """Under the mutex, for a worker: remove and return the first item that may start
        now, or ``_WAIT``. Anything may, but an ``add_latest`` task whose key has a task
        running: it waits for that one to end, so that tasks of one key never overlap and
        the last to run is the newest added."""
        pending = self.queue
        if not pending:
            return _WAIT
        if type(pending[0]) is not _LatestTask:
            return pending.popleft()  # the common case
        for index, item in enumerate(pending):
            if type(item) is not _LatestTask:
                break
            if item.key not in self._running_keys:
                del self._latest[item.key]
                self._running_keys.add(item.key)
                break
        else:
            return _WAIT
        del pending[index]
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
        self._enqueue(_LatestTask(key, task, args, kwargs))

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future:
        """Queue ``fn(*args, **kwargs)``; its result or exception goes to the returned future."""
        if not callable(fn):
            raise TypeError(f"fn must be callable, got {fn!r}")
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._enqueue(_FutureTask(future, fn, args, kwargs))
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
                item = _Task(*item, context)
            else:
                item.context = context
        evicted = replaced = None
        with self.not_full:
            while True:
                self._ensure_open()
                if type(item) is _LatestTask:
                    waiting = self._latest.get(item.key)
                    if waiting is not None:
                        # The replaced callable and arguments are freed after the lock is
                        # released: their __del__ is user code.
                        replaced = waiting.fn, waiting.args, waiting.kwargs, waiting.context
                        waiting.fn, waiting.args, waiting.kwargs = item.fn, item.args, item.kwargs
                        waiting.context = item.context
                        self._submitted += 1
                        self._coalesced += 1
                        break
                if not 0 < self.maxsize <= self._qsize() or _current_worker_queue() is self:
                    break
                if self.overflow == "block":
                    self.not_full.wait()
                elif self.overflow == "drop_oldest":
                    evicted = self._evict_oldest()
                    break
                elif self.overflow == "drop_newest":
                    self._submitted += 1
                    self._dropped += 1
                    evicted = item
                    break
                else:
                    raise queue.Full(f"{self.name} is full (maxsize={self.maxsize}, overflow='raise')")
            if replaced is None and evicted is not item:
                if type(item) is _LatestTask:
                    self._latest[item.key] = item
                self._append(item)  # _ensure_open ran above, under this same lock
                self.unfinished_tasks += 1
                self.not_empty.notify()
        if evicted is not None:
            _cancel_future(evicted)  # outside the lock: done-callbacks are user code
        del replaced

    def _ensure_open(self) -> None:
        """Under the mutex: refuse work once closed; restart workers first use after a fork."""
        if self._state == _CLOSED:
            if self._broken is not None:
                raise BrokenTaskQueue(f"{self.name} is broken: {self._broken}")
            raise TaskQueueClosed(f"{self.name} is closed: it accepts no new tasks")
        if self._state == _EXITING:
            caller = threading.current_thread()
            if caller.daemon and _current_worker_queue() is None:
                raise TaskQueueClosed(f"{self.name} is draining for interpreter exit: it "
                                      f"accepts no new tasks from daemon thread {caller.name}")
        elif self._state == _FORKED:
            self._state = self._open_state
            self._start_workers()

    def _evict_oldest(self) -> Any:
        item = self._get()
        self._dropped += 1
        self.unfinished_tasks -= 1
        return item

    # -- the worker ----------------------------------------------------------------------------

    def _work(self) -> None:
        _worker_of.queue = self
        if self.initializer is not None and not self._initialize():
            return
        while True:
            with self.not_empty:
                while (item := self._take()) is _WAIT:
                    self.not_empty.wait()
                if item is _STOP:
                    self._stops_queued -= 1
                    return
                self.not_full.notify()
            key = item.key if type(item) is _LatestTask else _NO_KEY
            try:
                outcome, error = self._execute(item)
            except BaseException as exc:
                # Running or reporting the item failed past every guard in _execute (say, a
                # MemoryError while reporting): the task is over all the same, and the worker
                # must live on.
                outcome, error = _FAILED, _without_frames(exc)
            del item  # hold no reference to a finished task while waiting for the next
            with self.all_tasks_done:
                if outcome == _COMPLETED:
                    self._completed += 1
                elif outcome == _FAILED:
                    self._failed += 1
                    if error is not None:
                        self._keep_unreported(error)
                else:
                    self._cancelled += 1
                if key is not _NO_KEY:
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
            reason = f"initializer {_describe(self.initializer)} raised {type(exc).__name__}"
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
            if type(item) is _FutureTask and item.future.set_running_or_notify_cancel():
                error = BrokenTaskQueue(f"{self.name} is broken: {reason}")
                _settle(item.future, item.future.set_exception, error)

    def _execute(self, item: Any) -> tuple[int, BaseException | None]:
        """Run one item; return how it ended and, for a fire-and-forget failure, its exception."""
        kind = type(item)
        context = None
        if kind is tuple and len(item) == 3:  # from add_task; put() may queue other tuples
            fn, args, kwargs = item
        elif kind is _LatestTask or kind is _Task:
            fn, args, kwargs, context = item.fn, item.args, item.kwargs, item.context
        elif kind is _FutureTask:
            outcome = self._execute_future(item)
            del item  # the future's exception may point back to this frame
            return outcome, None
        elif callable(item):
            fn, args, kwargs = item, (), {}
        else:
            fn, args, kwargs = _not_a_task, (item,), {}
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
            return _FAILED, error
        return _COMPLETED, None

    @staticmethod
    def _execute_future(item: _FutureTask) -> int:
        future = item.future
        if not future.set_running_or_notify_cancel():
            return _CANCELLED
        try:
            if item.context is None:
                result = item.fn(*item.args, **item.kwargs)
            else:
                result = item.context.run(item.fn, *item.args, **item.kwargs)
        except BaseException as exc:
            del item  # this frame outlives the call in the exception's traceback
            _settle(future, future.set_exception, exc)
            del future  # or: future -> exception -> traceback -> this frame -> future
            return _FAILED
        _settle(future, future.set_result, result)
        return _COMPLETED

    def _report_failure(self, fn, args, kwargs, exc: BaseException) -> BaseException:
        # Drop the worker's own frame from the traceback: it holds the task and its arguments.
        if exc.__traceback__ is not None:
            exc.__traceback__ = exc.__traceback__.tb_next
        note = f"raised by task {_describe(fn)} on {self.name}"
        try:
            if note not in getattr(exc, "__notes__", ()):  # one exception raised many times
                exc.add_note(note)
        except TypeError:
            pass  # the task set __notes__ to something that is not a list: keep it as it is
        handler = self.on_error
        try:
            if handler is None:
                _log.error("task %s failed on %s", _describe(fn), self.name, exc_info=exc)
            else:
                handler(TaskFailure(fn, args, kwargs, exc))
        except BaseException:
            # A broken on_error (or logging setup) must cost neither the worker nor the
            # failure: it is still counted and kept for join(raise_errors=True).
            if handler is not None:
                with contextlib.suppress(BaseException):  # the logging may be broken too
                    _log.exception("on_error handler %s raised while handling a failure of %s",
                                   _describe(handler), _describe(fn))
        # Kept for join(raise_errors=True), without the locals of the frames it passed.
        return _without_frames(exc)

    def _keep_unreported(self, error: BaseException) -> None:
        self._unreported.append(error)
        while len(self._unreported) > max(0, self.max_unreported_failures):
            self._unreported.popleft()
            self._unreported_lost += 1

    # -- waiting, closing, counting ------------------------------------------------------------

    def join(self, timeout: float | None = None, *, raise_errors: bool = False) -> bool:
        """Wait until every task added so far, including tasks added by tasks, is done.

        Returns False if ``timeout`` seconds passed first. With ``raise_errors``, raises an
        ``ExceptionGroup`` (a ``BaseExceptionGroup`` if a task raised e.g. KeyboardInterrupt)
        of the fire-and-forget failures not yet reported this way; each is reported once.
        """
        timeout = _check_timeout(timeout)
        if _current_worker_queue() is self:
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
        timeout = _check_timeout(timeout)
        self._stop_accepting(cancel_pending)
        if wait and _current_worker_queue() is not self:
            deadline = None if timeout is None else _monotonic() + timeout
            for worker in self._workers:
                worker.join(None if deadline is None else max(0.0, deadline - _monotonic()))
        return not any(worker.is_alive() for worker in self._workers)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """The ``concurrent.futures.Executor`` spelling of ``close``."""
        self.close(wait, cancel_pending=cancel_futures)

    def __enter__(self) -> TaskQueue:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc_info: object) -> bool:
        if exc_type is not None and issubclass(exc_type, KeyboardInterrupt) and self.num_workers:
            self._interrupted()
        else:
            self.close(wait=True)  # also after any other exception, as ThreadPoolExecutor
        return False

    def _interrupted(self) -> None:
        """Ctrl-C left the ``with`` block: cancel what has not started, let the running end.

        A second Ctrl-C at any point of this (cancelling, logging or waiting) stops the
        waiting, here and at exit; the pending tasks are all counted as cancelled and their
        futures cancelled all the same."""
        try:
            cancelled = self._stop_accepting(cancel_pending=True)
            with contextlib.suppress(Exception):
                _log.warning("KeyboardInterrupt: %s cancelled %d pending task(s); waiting for "
                             "the %d running", self.name, cancelled, self.stats().running)
            self.close(wait=True)
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
                _cancel_future(item)
            except KeyboardInterrupt:
                self._to_cancel.appendleft(item)
                raise

    def _close_locked(self, exclude: threading.Thread | None = None) -> None:
        """Under the mutex: accept no more work; one stop sentinel per live worker."""
        if self._state != _CLOSED:
            self._state = _CLOSED
            stops = sum(1 for w in self._workers if w.is_alive() and w is not exclude)
            self.queue.extend([_STOP] * stops)
            self._stops_queued += stops
            self.not_empty.notify_all()
            self.not_full.notify_all()  # blocked producers wake up to TaskQueueClosed

    def _discard_pending(self) -> list[Any]:
        tasks = [item for item in self.queue if item is not _STOP]
        self.queue.clear()
        self.queue.extend([_STOP] * self._stops_queued)
        self._latest.clear()
        self._cancelled += len(tasks)
        self.unfinished_tasks -= len(tasks)
        if not self.unfinished_tasks:
            self.all_tasks_done.notify_all()
        self.not_full.notify_all()
        return tasks

    def stats(self) -> TaskStats:
        """A consistent snapshot of the counters (see ``TaskStats``)."""
        with self.mutex:
            pending = self._qsize()
            return TaskStats(
                submitted=self._submitted, completed=self._completed, failed=self._failed,
                dropped=self._dropped, coalesced=self._coalesced, cancelled=self._cancelled,
                pending=pending, running=self.unfinished_tasks - pending,
            )

    @property
    def closed(self) -> bool:
        return self._state == _CLOSED

    def __repr__(self) -> str:
        state = "closed" if self._state == _CLOSED else "open"  # an unlocked read: a hint
        return (f"<{type(self).__name__} {self.name!r} {state} workers={self.num_workers} "
                f"pending={self._qsize()} unfinished={self.unfinished_tasks}>")

    # -- called by lifecycle -------------------------------------------------------------------

    def _drain_for_exit(self, deadline: float | None) -> bool:
        """Run what is pending (and what it adds) until the ``deadline`` (monotonic clock);
        return False if nothing ever would, or if the exit no longer waits for this queue."""
        self._cancel_discarded()  # what a Ctrl-C cut short (a cancelling is quick: no wait)
        if self._given_up or not any(worker.is_alive() for worker in self._workers):
            return False  # nothing would ever run what is pending, or we no longer wait
        with self.mutex:
            if self._state in (_OPEN, _GENERAL):
                self._state = _EXITING
        if self.join(None if deadline is None else max(0.0, deadline - _monotonic())):
            return True
        self._given_up = True
        stats = self.stats()
        with contextlib.suppress(Exception):  # stderr may be closed
            print(f"taskqueue: {self.name}: exit_timeout={self.exit_timeout:g}s passed; the "
                  f"process exits, abandoning {stats.pending + stats.running} unfinished "
                  f"task(s) ({stats.running} running, {stats.pending} pending)",
                  file=sys.stderr, flush=True)
        return False

    def _reset_after_fork(self) -> None:
        """In a forked child: fresh locks, no inherited work, workers started on first use.

        The parent's pending and running tasks stay the parent's: running them here too would
        do every write twice. Their futures are not completed in the child.
        """
        self.mutex = threading.Lock()
        self.not_empty = threading.Condition(self.mutex)
        self.not_full = threading.Condition(self.mutex)
        self.all_tasks_done = threading.Condition(self.mutex)
        self.unfinished_tasks = 0
        self._init(self.maxsize)
        self._workers = []
        self._given_up = False
        if self._state != _CLOSED:
            self._state = _FORKED  # an exit drain in the parent is not the child's
        if _current_worker_queue() is self:  # forked from inside one of our tasks
            del _worker_of.queue


def _current_worker_queue() -> TaskQueue | None:
    return getattr(_worker_of, "queue", None)


def _cancel_future(item: Any) -> None:
    """Cancel a dropped task's future, and tell its waiters (``wait``, ``as_completed``) as a
    worker taking it would have: ``cancel()`` alone leaves them asleep."""
    if type(item) is _FutureTask and item.future.cancel():
        with contextlib.suppress(RuntimeError):  # notified already: a retry after Ctrl-C
            item.future.set_running_or_notify_cancel()


def _not_a_task(item: Any) -> None:
    raise TypeError(f"{item!r} was put() on a TaskQueue with workers, but is not callable; "
                    "use add_task(fn, *args, **kwargs)")


def _describe(fn: Any) -> str:
    try:  # any callable object will do as a task, even one whose attributes or repr raise
        name = getattr(fn, "__qualname__", None)
        return name if isinstance(name, str) else repr(fn)
    except Exception:
        return f"<{type(fn).__name__} object>"


def _settle(future: concurrent.futures.Future, setter: Callable[[Any], None], value: Any) -> None:
    """Give ``future`` its outcome; a done-callback's exception, even SystemExit, is logged:
    it is not the task's, and it must not cost the worker or skip the other callbacks."""
    try:
        setter(value)
    except BaseException:
        with contextlib.suppress(BaseException):
            _log.exception("a done-callback of a future of this queue raised")


def _without_frames(exc: BaseException) -> BaseException:
    """``exc`` with the locals of the frames it and its chained exceptions passed cleared,
    fit to be kept for later."""
    seen: set[int] = set()
    pending = [exc]
    while pending:
        error = pending.pop()
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        traceback.clear_frames(error.__traceback__)
        pending += [error.__cause__, error.__context__, *getattr(error, "exceptions", ())]
    return exc


def _check_int(name: str, value: Any, *, minimum: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")


def _check_timeout(timeout: Any, name: str = "timeout") -> float | None:
    """``timeout`` as a wait accepts it: one longer than the platform can wait (e.g. ``inf``)
    is no timeout, not an ``OverflowError``."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, Real):
        raise TypeError(f"{name} must be a number of seconds or None, got {timeout!r}")
    if not timeout >= 0:  # also rejects NaN
        raise ValueError(f"{name} must be >= 0, got {timeout!r}")
    return None if timeout > threading.TIMEOUT_MAX else float(timeout)

