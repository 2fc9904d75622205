"""Hand render tasks to an executor, keep count of them, and wait for them.

The plot callbacks call :meth:`RenderDispatcher.dispatch` on the training thread; it must
cost little more than the executor's own enqueue. Three kinds of executor are served:

- ``None``: the render runs now, on the training thread (failures are logged and kept; a
  ``KeyboardInterrupt`` is kept and raised on, as it stops training like Ctrl-C);
- a :class:`taskqueue.TaskQueue`: ``add_task``, or ``add_latest`` for a live plot, so the
  queue coalesces frames itself and reports failures through its ``on_error`` and
  ``join(raise_errors=True)`` as for any other task;
- any other :class:`concurrent.futures.Executor` (a thread or process pool, Dask's
  ``Client.get_executor()``, loky): ``submit``. A live plot is coalesced here, on the caller's
  side: at most one of its renders is in flight and only the newest frame waits, submitted
  when the one in flight ends. So the live file always ends on the last frame, whatever
  order a pool's workers finish in.

Every dispatched render is counted until it has run, failed, been cancelled or been
replaced by a newer frame, so :meth:`RenderDispatcher.wait` covers exactly one fit's renders,
on a queue shared with other work too.

A render never stops training. Any exception it raises, ``SystemExit`` and
``KeyboardInterrupt`` on a worker included, is a failure kept in ``errors``. So is an
executor that refuses a render: a process pool whose worker died (``BrokenProcessPool``) or
one shut down. After such a refusal the fit's later renders are not offered to that
executor again; each is kept as a failure with the same exception.
"""

from __future__ import annotations

import logging
import os
import pickle
import threading
from collections.abc import Callable, Hashable
from concurrent.futures import BrokenExecutor, CancelledError, Executor, Future, ThreadPoolExecutor
from typing import Any

__all__ = ["RenderDispatcher", "check_sendable", "is_thread_based"]

logger = logging.getLogger("gdplot")


def is_thread_based(executor: object) -> bool:
    """Whether ``executor`` runs tasks on threads of this process (so anything goes to it
    as a reference, unpickled): ``None`` (inline), a TaskQueue or a ThreadPoolExecutor."""
    return executor is None or hasattr(executor, "add_task") or isinstance(
        executor, ThreadPoolExecutor
    )


def check_sendable(executor: object, fn: Callable[..., object], *args: object,
                   what: str = "task") -> None:
    """Raise ``TypeError`` naming ``fn`` if ``executor`` runs tasks in other processes and
    ``fn`` or ``args`` cannot be sent there; so a lambda renderer on a process pool fails
    once, before training, instead of once per frame.

    Executors that ship tasks with cloudpickle (Dask, loky) are checked with it: it sends
    lambdas and closures by value, which the standard pickle refuses.
    """
    if is_thread_based(executor):
        return
    module = type(executor).__module__.split(".")[0]
    dumps = pickle.dumps
    if module in ("distributed", "dask", "loky", "joblib"):
        try:
            import cloudpickle  # Dask and loky depend on it

            dumps = cloudpickle.dumps
        except ImportError:
            pass
    for item, role in ((fn, what), *((arg, "argument") for arg in args)):
        try:
            dumps(item)
        except Exception as exc:
            name = getattr(fn, "__qualname__", None) or repr(fn)
            if role == what:
                problem = f"the {what} {name} cannot be pickled"
            else:
                problem = f"a {type(item).__name__} for the {what} {name} cannot be pickled"
            raise TypeError(
                f"{problem}, so it cannot be sent to {type(executor).__name__}, which runs "
                f"tasks in other processes ({type(exc).__name__}: {exc}); use a module-level "
                "function, or a thread-based executor (TaskQueue, ThreadPoolExecutor)"
            ) from exc


class _RenderCount:
    """How many of one fit's renders are not finished yet, and the errors of those that failed.

    Shared by the training thread (which adds), the executor's threads (which finish) and a
    thread in ``wait``.
    """

    def __init__(self) -> None:
        # Guards ``outstanding``; notified when it drops to 0. Reentrant because a
        # ``_CountedRender`` that is dropped unrun finishes from ``__del__``, which can run
        # on any thread at any allocation, including one already holding this lock.
        self._changed = threading.Condition(threading.RLock())
        self.outstanding = 0
        self.errors: list[BaseException] = []  # list.append is atomic: no lock needed
        #: Why the executor refused a render for good (it is broken or shut down), if it did.
        self.refused: BaseException | None = None
        self.raised = 0  # how many of ``errors`` a wait(raise_errors=True) has raised

    def add(self) -> None:
        with self._changed:
            self.outstanding += 1

    def finish(self) -> None:
        with self._changed:
            self.outstanding -= 1
            if self.outstanding == 0:
                self._changed.notify_all()

    def wait(self, timeout: float | None) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self.outstanding == 0, timeout)


class _CountedRender:
    """A render for a TaskQueue that tells its ``_RenderCount`` when it is over: when it has
    run, or when the queue drops it unrun (an overflow policy, ``add_latest`` replacing it
    by a newer frame, ``close(cancel_pending=True)``), which frees it."""

    __slots__ = ("_count", "_fn", "__weakref__")

    def __init__(self, count: _RenderCount, fn: Callable[..., object]) -> None:
        self._count: _RenderCount | None = count
        self._fn = fn
        count.add()

    @property
    def __name__(self) -> str:  # what the queue's failure reports name
        return getattr(self._fn, "__name__", repr(self._fn))

    def __call__(self, *args: object) -> object:
        count, self._count = self._count, None
        try:
            return self._fn(*args)
        except BaseException as exc:  # SystemExit and KeyboardInterrupt fail a render too
            if count is not None:
                count.errors.append(exc)
            raise  # the queue reports it too, through on_error and join(raise_errors=True)
        finally:
            if count is not None:
                count.finish()

    def __del__(self) -> None:
        self.abandon()

    def abandon(self) -> None:
        """Over without running (the queue refused it, or dropped it): finish its count.
        Explicit where the refusal's traceback would keep this object alive."""
        count, self._count = self._count, None
        if count is not None:
            count.finish()


#: ``on_done(result, error)``: told how a render ended, on the thread it ended on.
OnDone = Callable[[object, "BaseException | None"], None]


class _Reporting:
    """A render run in this process (inline or on a TaskQueue) that tells ``on_done`` how it
    ended. Dropped unrun, it tells nothing: a newer frame replaced it, or the queue let it go."""

    __slots__ = ("_fn", "_on_done")

    def __init__(self, fn: Callable[..., object], on_done: OnDone) -> None:
        self._fn = fn
        self._on_done = on_done

    @property
    def __name__(self) -> str:
        return getattr(self._fn, "__name__", repr(self._fn))

    def __call__(self, *args: object) -> object:
        try:
            result = self._fn(*args)
        except BaseException as exc:
            self._on_done(None, exc)
            raise
        self._on_done(result, None)
        return result


def _report(future: Future[Any], on_done: OnDone) -> None:
    if future.cancelled():
        on_done(None, CancelledError())
    elif (error := future.exception()) is not None:
        on_done(None, error)
    else:
        on_done(future.result(), None)


class _LiveSlot:
    """One live plot on a plain executor: is a render in flight, and the newest frame waiting."""

    __slots__ = ("in_flight", "waiting")

    def __init__(self) -> None:
        self.in_flight = False
        self.waiting: tuple[Callable[..., object], tuple, OnDone | None] | None = None


class _FitRenders:
    """The renders of one fit: their count, their futures, and its live plots' slots.

    A render of an earlier fit still running reports to the ``_FitRenders`` it was
    dispatched with, never to a later fit's.
    """

    def __init__(self) -> None:
        self.count = _RenderCount()
        self.futures: list[Future[Any]] = []
        # Guards ``live``: the training thread and the executor's done-callbacks use it.
        self.live_lock = threading.Lock()
        self.live: dict[Hashable, _LiveSlot] = {}

    def submit(self, executor: Executor, fn: Callable[..., object], args: tuple,
               latest_key: Hashable, on_done: OnDone | None = None) -> bool:
        """Submit one render; ``False`` if the executor refused it (kept as a failure)."""
        count = self.count
        if count.refused is not None:  # broken or shut down: it would refuse this one too
            count.errors.append(count.refused)
            return False
        count.add()
        try:
            future = executor.submit(fn, *args)
        except Exception as exc:  # noqa: BLE001 - any refusal fails this render, not training
            self.refused_by(exc, fn, args)
            count.finish()
            return False
        except BaseException:
            count.finish()
            raise
        self.futures.append(future)
        if on_done is not None:
            future.add_done_callback(lambda done: _report(done, on_done))
        future.add_done_callback(lambda done: self._done(done, executor, fn, args, latest_key))
        return True

    def refused_by(self, exc: Exception, fn: Callable[..., object], args: tuple) -> None:
        """The executor refused a render: keep that as the render's failure, and remember a
        refusal for good (a broken or shut-down executor) so that later renders are not
        offered to it."""
        self.count.errors.append(exc)
        if isinstance(exc, (BrokenExecutor, RuntimeError)):
            self.count.refused = exc
        logger.error("plot %s could not be submitted", describe(fn, args), exc_info=exc)

    def submit_latest(self, executor: Executor, fn: Callable[..., object], args: tuple,
                      key: Hashable, on_done: OnDone | None = None) -> None:
        """Submit now if no render of ``key`` is in flight; else wait in its slot, replacing
        an older waiting frame (which then counts as finished)."""
        with self.live_lock:
            slot = self.live.setdefault(key, _LiveSlot())
            if slot.in_flight:
                if slot.waiting is None:
                    self.count.add()
                slot.waiting = (fn, args, on_done)
                return
            slot.in_flight = True
        submitted = False
        try:
            submitted = self.submit(executor, fn, args, key, on_done)
        finally:
            if not submitted:
                with self.live_lock:
                    slot.in_flight = False

    def _done(self, future: Future[Any], executor: Executor, fn: Callable[..., object],
              args: tuple, latest_key: Hashable) -> None:
        error = None if future.cancelled() else future.exception()
        if error is not None:
            self.count.errors.append(error)
            logger.error("plot %s failed", describe(fn, args), exc_info=error)
            if isinstance(error, BrokenExecutor):
                # The pool broke. Its own thread may be running this callback while holding
                # the lock that submit() takes (ProcessPoolExecutor on 3.12+), so the waiting
                # frame must not be offered to it: it is kept as a failure instead.
                self.count.refused = error
        if latest_key is not None:
            # Before this render's finish(): the count must not touch 0 in between.
            self._submit_waiting(executor, latest_key)
        self.count.finish()

    def _submit_waiting(self, executor: Executor, key: Hashable) -> None:
        """The live plot's render in flight has ended: submit the newest frame waiting."""
        with self.live_lock:
            slot = self.live[key]
            waiting, slot.waiting = slot.waiting, None
            slot.in_flight = waiting is not None
        if waiting is None:
            return
        fn, args, on_done = waiting
        submitted = False
        try:
            # A refusal (the executor shut down or broken meanwhile) is kept as a failure.
            submitted = self.submit(executor, fn, args, key, on_done)
        finally:
            if not submitted:
                with self.live_lock:
                    slot.in_flight = False
            self.count.finish()  # the waiting frame's own count; submit() added the render's


class RenderDispatcher:
    """Runs render tasks inline or on an executor, counts them, and keeps failures off the
    training thread. See the module's docstring for what each kind of executor gets.

    After a fit (of that fit only): ``errors`` lists the renders that failed, ``failures`` is
    their count, ``futures`` holds ``submit``'s futures (a plain executor), ``pending()``
    counts the renders not finished yet and :meth:`wait` waits for them.
    """

    def __init__(self, executor: object) -> None:
        if executor is not None and not callable(getattr(executor, "submit", None)):
            raise TypeError(
                "executor must be None, a TaskQueue or a concurrent.futures.Executor, "
                f"got {type(executor).__name__}"
            )
        self.executor = executor
        self._run_executor = executor
        self._fit = _FitRenders()

    def _start_run(self, executor: object = None) -> None:
        """Forget the previous fit's renders (those still running report to their own fit);
        this fit renders on ``executor`` if given, else on ``self.executor``."""
        self._fit = _FitRenders()
        self._run_executor = self.executor if executor is None else executor

    @property
    def futures(self) -> list[Future[Any]]:
        """The futures ``submit`` returned for the last fit's renders (a plain executor)."""
        return self._fit.futures

    @property
    def errors(self) -> list[BaseException]:
        """The renders of the last fit that failed, in the order they failed."""
        return self._fit.count.errors

    @property
    def failures(self) -> int:
        """How many renders of the last fit failed."""
        return len(self._fit.count.errors)

    def pending(self) -> int:
        """How many renders of the last fit have not finished yet (a frame waiting behind a
        live plot's render in flight included)."""
        return self._fit.count.outstanding

    def wait(self, timeout: float | None = None, *, raise_errors: bool = False) -> bool:
        """Wait until every render of the last fit has finished, or ``timeout`` seconds.

        Returns ``True`` if all finished (a render dropped by the executor's overflow policy
        or replaced by a newer frame counts as finished), ``False`` on timeout. With
        ``raise_errors``, once all have finished, the failures not raised before raise as one
        ``ExceptionGroup`` (a ``BaseExceptionGroup`` if one is a ``SystemExit`` or
        ``KeyboardInterrupt``; each failure is raised once; ``errors`` keeps them all).
        """
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout >= 0
        ):
            raise ValueError(f"timeout must be None or a number >= 0, got {timeout!r}")
        count = self._fit.count
        finished = count.wait(timeout)
        if finished and raise_errors and len(count.errors) > count.raised:
            errors = count.errors[count.raised:]
            count.raised += len(errors)
            # BaseExceptionGroup is an ExceptionGroup when every error is an Exception.
            raise BaseExceptionGroup(f"{len(errors)} plot render(s) failed", errors)
        return finished

    def dispatch(self, fn: Callable[..., object], *args: object, latest_key: Hashable = None,
                 on_done: OnDone | None = None) -> None:
        """Run ``fn(*args)`` now or later; with ``latest_key`` a newer call may replace it.
        ``on_done(result, error)``, if given, is called on the thread where the render ended
        (a process pool's or Dask's future reports back in this process); not for a render
        dropped unrun."""
        executor = self._run_executor
        fit = self._fit
        if on_done is not None and is_thread_based(executor) and \
                not isinstance(executor, ThreadPoolExecutor):
            fn = _Reporting(fn, on_done)
            on_done = None
        if executor is None:
            try:
                fn(*args)
            except BaseException as exc:
                fit.count.errors.append(exc)
                if isinstance(exc, KeyboardInterrupt):  # Ctrl-C on the training thread
                    raise
                logger.error("plot %s failed", describe(fn, args), exc_info=exc)
        elif hasattr(executor, "add_task"):
            if fit.count.refused is not None:  # broken or closed: it would refuse this too
                fit.count.errors.append(fit.count.refused)
                return
            task = _CountedRender(fit.count, fn)
            try:
                if latest_key is None:
                    executor.add_task(task, *args)
                else:
                    executor.add_latest(latest_key, task, *args)
            except (BrokenExecutor, RuntimeError) as exc:  # BrokenTaskQueue, TaskQueueClosed
                task.abandon()
                fit.refused_by(exc, fn, args)
        elif latest_key is None:
            fit.submit(executor, fn, args, None, on_done)
        else:
            fit.submit_latest(executor, fn, args, latest_key, on_done)


def describe(fn: Callable[..., object], args: tuple) -> str:
    """``render_loss -> plots/loss.png``: a render task, for log lines."""
    target = next((a for a in args if isinstance(a, (str, os.PathLike))), None)
    name = getattr(fn, "__name__", repr(fn))
    return f"{name} -> {os.fspath(target)}" if target is not None else name
