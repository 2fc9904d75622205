"""The executor's work items: what sits on the queue, and how a future's outcome is given.

``add_task`` queues a plain ``(fn, args, kwargs)`` tuple: the cheapest thing to build, which
keeps its cost next to a bare ``Queue.put``. The classes below carry more; their ``context``
is the ``contextvars.Context`` the task runs in (``copy_context=True``), or None.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import contextvars
import logging
import traceback
from typing import Any, Callable, Hashable

_log = logging.getLogger("taskqueue")

# How a task ended.
COMPLETED, FAILED, CANCELLED = 0, 1, 2


class Task:
    """An ``add_task`` task that runs in a copy of its adder's context."""

    __slots__ = ("fn", "args", "kwargs", "context")

    def __init__(self, fn: Callable[..., Any], args: tuple, kwargs: dict,
                 context: contextvars.Context | None = None):
        self.fn, self.args, self.kwargs, self.context = fn, args, kwargs, context


class LatestTask(Task):
    """An ``add_latest`` task: mutable, so a newer call can replace what it will run."""

    __slots__ = ("key",)

    def __init__(self, key: Hashable, fn: Callable[..., Any], args: tuple, kwargs: dict):
        self.key, self.fn, self.args, self.kwargs, self.context = key, fn, args, kwargs, None


class FutureTask(Task):
    """A ``submit`` task and the future that receives its outcome."""

    __slots__ = ("future",)

    def __init__(self, future: concurrent.futures.Future, fn: Callable[..., Any], args, kwargs):
        self.future, self.fn, self.args, self.kwargs, self.context = future, fn, args, kwargs, None


class _Stop:
    """The sentinel a worker stops on; one is queued per live worker by ``close``."""

    def __repr__(self) -> str:
        return "<stop>"


STOP = _Stop()
WAIT = object()  # a worker's take: nothing may start now
NO_KEY = object()  # the worker's running add_latest key when it runs anything else


def run_future(item: FutureTask) -> int:
    """Run a submitted task; its result or exception goes to its future. Return the outcome."""
    future = item.future
    if not future.set_running_or_notify_cancel():
        return CANCELLED
    try:
        if item.context is None:
            result = item.fn(*item.args, **item.kwargs)
        else:
            result = item.context.run(item.fn, *item.args, **item.kwargs)
    except BaseException as exc:
        del item  # this frame outlives the call in the exception's traceback
        settle(future, future.set_exception, exc)
        del future  # or: future -> exception -> traceback -> this frame -> future
        return FAILED
    settle(future, future.set_result, result)
    return COMPLETED


def settle(future: concurrent.futures.Future, setter: Callable[[Any], None], value: Any) -> None:
    """Give ``future`` its outcome; a done-callback's exception, even SystemExit, is logged:
    it is not the task's, and it must not cost the worker or skip the other callbacks."""
    try:
        setter(value)
    except BaseException:
        with contextlib.suppress(BaseException):
            _log.exception("a done-callback of a future of this queue raised")


def cancel_future(item: Any) -> None:
    """Cancel a dropped task's future, and tell its waiters (``wait``, ``as_completed``) as a
    worker taking it would have: ``cancel()`` alone leaves them asleep."""
    if type(item) is FutureTask and item.future.cancel():
        with contextlib.suppress(RuntimeError):  # notified already: a retry after Ctrl-C
            item.future.set_running_or_notify_cancel()


def without_frames(exc: BaseException) -> BaseException:
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


def describe(fn: Any) -> str:
    """A task's name for messages."""
    try:  # any callable object will do as a task, even one whose attributes or repr raise
        name = getattr(fn, "__qualname__", None)
        return name if isinstance(name, str) else repr(fn)
    except Exception:
        return f"<{type(fn).__name__} object>"
