"""One registry of live queues, for the two moments a queue cannot look after itself.

- Interpreter exit: worker threads are daemons, so the interpreter would kill them with work
  still pending. Every queue that asked for it is drained twice: once when the main thread
  has finished (also after an uncaught exception), leaving it open because threads the main
  thread left running (a training loop in a thread) may still add work; and once more after
  those threads have ended, before the interpreter tears down, closing it.
  Each queue's ``exit_timeout`` bounds how long the exit waits for it, on a clock that runs
  only while the exit drains (not while it waits for the program's non-daemon threads). An
  exit that abandons unfinished tasks ends with status 1, unless it fails already.
- ``os.fork()``: the child inherits the queue's memory but none of its threads, and a lock a
  worker held at the moment of the fork stays held forever. The child resets each queue so it
  works there (fresh locks, workers restarted on first use).

The registry holds weak references: it never keeps a closed queue alive. Signals are in
``signals``: nothing installs a signal handler unless asked to.
"""

from __future__ import annotations

import atexit
import concurrent.futures.thread  # noqa: F401  (for the order of the exit hooks: see below)
import contextlib
import logging
import os
import sys
import threading
import weakref
from time import monotonic
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .task_queue import TaskQueue

# Guards _live: queues register from any thread, and the exit hook iterates it.
_registry_lock = threading.Lock()
_live: weakref.WeakSet[TaskQueue] = weakref.WeakSet()


def register(queue: TaskQueue) -> None:
    with _registry_lock:
        _live.add(queue)


def _live_queues() -> list[TaskQueue]:
    with _registry_lock:
        return list(_live)


def live_queues_nowait() -> list[TaskQueue] | None:
    """The live queues, or None if the registry's lock is busy (for a signal handler, which
    must not wait for a lock its own thread may hold)."""
    if not _registry_lock.acquire(blocking=False):
        return None
    try:
        return list(_live)
    finally:
        _registry_lock.release()


# The rest of this module runs in the main thread only, at exit.

# Whether the first drain ran to its end. If Ctrl-C cut the exit short (a hung task), the user
# wants out: the second drain must not make them wait again.
_first_drain_done = False
# Whether the interpreter has begun its exit drains.
_exiting = False
# Whether drain_on_signal's handler has begun the exit (its SystemExit is on its way up).
_signalled = False
# Whether the exit abandoned unfinished tasks (an exit_timeout passed, or a second Ctrl-C).
_abandoned = False
# The code of a SystemExit seen leaving a queue's with block, if any.
_system_exit_code: object = None
# Seconds the exit drains have waited so far: each queue's exit_timeout counts only these.
_exit_waited = 0.0
# When the exit would have begun (monotonic clock) had it spent no time waiting elsewhere
# (for non-daemon threads) between its drains.
_exit_began = 0.0


def _deadline(queue: TaskQueue) -> float | None:
    return None if queue.exit_timeout is None else _exit_began + queue.exit_timeout


def exit_has_begun() -> bool:
    """Whether the interpreter's exit drains have begun."""
    return _exiting


def exiting_on_signal() -> None:
    """drain_on_signal's handler raises the SystemExit that ends the program."""
    global _signalled
    _signalled = True


def signalled() -> bool:
    """Whether the program is ending on a signal given to drain_on_signal."""
    return _signalled


def note_abandoned() -> None:
    """The exit leaves a queue's unfinished tasks behind: it is not a clean exit."""
    global _abandoned
    _abandoned = True


def note_system_exit(code: object) -> None:
    """A SystemExit with this code left a queue's with block."""
    global _system_exit_code
    _system_exit_code = code


def _exits_non_zero() -> bool:
    """Whether the program ends with a non-zero status already, as far as can be seen: on a
    drain_on_signal signal, an uncaught exception, or a SystemExit seen leaving a queue's
    with block."""
    if _signalled or _system_exit_code not in (None, 0):
        return True
    uncaught = getattr(sys, "last_exc", None) or getattr(sys, "last_value", None)
    return uncaught is not None and not isinstance(uncaught, SystemExit)


def _exit_with_failure() -> None:
    """End the process with status 1, now: the exit status can no longer be changed any
    other way. Logging and the standard streams are flushed first; atexit handlers
    registered before this module was imported do not run."""
    with contextlib.suppress(Exception):
        logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(1)


def _drain_all() -> list[TaskQueue]:
    """Run what is pending on every queue that asked for it, until all are idle at once (a
    task of one queue may feed another), or past their exit_timeout; return the queues that
    have workers and went idle."""
    global _exiting, _exit_began, _exit_waited
    _exiting = True
    started = monotonic()
    _exit_began = started - _exit_waited
    try:
        queues = [queue for queue in _live_queues() if queue.drain_at_exit]
        while True:
            draining = [queue for queue in queues if queue._drain_for_exit(_deadline(queue))]
            if not any(queue.unfinished_tasks for queue in draining):
                return draining
    finally:
        _exit_waited += monotonic() - started


def _drain_at_exit() -> None:
    """threading's exit hook: the main thread has finished, non-daemon threads still run and
    may still add work, so the queues stay open."""
    global _first_drain_done
    _drain_all()
    _first_drain_done = True


def _close_at_exit() -> None:
    """atexit: the non-daemon threads have ended; drain once more, then close."""
    if _register_thread_exit is not None and not _first_drain_done:
        return
    for queue in _drain_all():
        # Idle, so its workers stop at once; bounded all the same, in case a task of a queue
        # the exit gave up on still feeds it.
        deadline = _deadline(queue)
        queue.close(timeout=None if deadline is None else max(0.0, deadline - monotonic()))
    if _abandoned and not _exits_non_zero():
        _exit_with_failure()  # abandoned work is not a clean exit


def _reset_in_child() -> None:
    global _registry_lock
    # Another thread may have held the lock at the moment of the fork; it never will here.
    _registry_lock = threading.Lock()
    for queue in list(_live):
        queue._reset_after_fork()


# threading's own exit hook runs before non-daemon threads are joined and before atexit
# handlers, exactly as concurrent.futures.thread uses it, so tasks may still start threads.
# Those hooks run last-registered first: importing concurrent.futures.thread above registers
# its hook (which refuses new ThreadPoolExecutor work) before ours, so ours runs first and
# drained tasks may still use a ThreadPoolExecutor (an upload library's, say). It is private
# API; without it the atexit drain does all the work. atexit handlers run after the
# non-daemon threads have ended, and daemon threads (our workers) still run during them.
_register_thread_exit = getattr(threading, "_register_atexit", None)
if _register_thread_exit is not None:
    _register_thread_exit(_drain_at_exit)
atexit.register(_close_at_exit)

if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_in_child)
