"""Signals: a signal never lands inside a queue's lock.

Python runs a signal handler in the main thread between two bytecodes, wherever it is. An
exception raised there (``KeyboardInterrupt``, or the ``SystemExit`` of ``drain_on_signal``)
inside a queue's critical section could leave its mutex held (say, inside
``Condition.__exit__``, before the release) or its counters half-updated; the exit drain
would then wait for that lock for ever. So the handlers here first ask whether the main
thread is inside a queue's critical section: whether it holds a queue's mutex (a re-entrant
lock, which knows its owner), or is inside ``Condition.wait`` between releasing the mutex
and blocking. If so, they defer: a helper thread sends the same signal to the main thread
again a moment later, until it lands outside. A wait blocked on a condition is outside (it
restores the lock before the exception leaves it), so a signal still interrupts a ``join``
or a blocked ``add_task`` at once. The hot path pays nothing: the checks run only when a
signal arrives.

On CPython 3.13 they also defer, a bounded number of times, when the main thread is at a
loop's backward jump: an exception raised there leaves the enclosing ``try`` and ``with``
blocks without running their handlers (CPython gh-130279), so a ``finally`` block, a queue's
``__exit__`` and the program's own cleanup would be skipped. A later send lands elsewhere in
any loop that calls something (a loop that only jumps gets the signal there all the same).

- ``drain_on_signal`` turns a signal (SIGTERM) into a normal exit, so that the exit drain runs.
- ``guard_interrupts``, called when a queue with workers is made in the main thread, wraps
  Python's default SIGINT handler (Ctrl-C raises ``KeyboardInterrupt``) the same way. No
  other handler is installed unless asked for.
"""

from __future__ import annotations

import _thread
import dis
import os
import signal
import sys
import threading
import time
from typing import Callable

from . import lifecycle

# Seconds between two sends of a deferred signal: a critical section lasts microseconds, so
# the next send almost always lands outside it.
_RESEND_AFTER = 0.002

# Guards _deferred and _resending, and orders them with the sends: the helper thread sends
# only under it, and a handler that acts on a signal clears _deferred under it first, so no
# send follows the action (after drain_on_signal's, the next signal is the default, fatal).
# Re-entrant: a signal may arrive while the main thread's handler holds it.
_resend_lock = threading.RLock()
_deferred: int | None = None  # the signal waiting to be sent again, if any
_resending = False  # whether the helper thread runs
_jump_deferrals = 0  # how many sends in a row landed at a backward jump (see above)


def _blocking_lines(wait: Callable) -> frozenset[int]:
    """The lines of ``Condition.wait`` on which it blocks, the mutex released: the calls
    ``waiter.acquire(...)`` after ``self._release_save()``."""
    lines, line, released, previous = set(), None, False, None
    for instruction in dis.get_instructions(wait):
        if instruction.positions is not None and instruction.positions.lineno is not None:
            line = instruction.positions.lineno
        if instruction.argval == "_release_save":
            released = True
        elif (released and instruction.argval == "acquire" and previous is not None
              and previous.opname.startswith("LOAD_FAST") and previous.argval == "waiter"):
            lines.add(line)
        previous = instruction
    return frozenset(lines)


_CONDITION_WAIT = threading.Condition.wait.__code__
# Empty if this Python's Condition.wait is not recognised: its frames are then not checked
# (a signal deferred there could otherwise never be taken while it blocks).
_WAIT_BLOCKS_ON = _blocking_lines(threading.Condition.wait)


def _inside_a_queue(frame) -> bool:
    """In the main thread, in a signal handler: whether raising now could leave a queue's
    mutex held or its state half-changed."""
    queues = lifecycle.live_queues_nowait()
    if queues is None:
        return True  # the registry's lock is busy (perhaps held by this very thread)
    if any(queue.mutex._is_owned() for queue in queues):
        return True
    if _WAIT_BLOCKS_ON:
        while frame is not None:
            # Between Condition.wait's release of the mutex and its blocking acquire.
            if frame.f_code is _CONDITION_WAIT and frame.f_lineno not in _WAIT_BLOCKS_ON:
                return True
            frame = frame.f_back
    return False


# Where CPython loses an exception raised by a signal handler: the opcode of a loop's backward
# jump, on the versions that have the defect (None elsewhere). How many sends in a row may be
# deferred for it: a loop that only jumps gets the signal after that many (x _RESEND_AFTER).
_LOST_AT = dis.opmap.get("JUMP_BACKWARD") if sys.version_info[:2] == (3, 13) else None
_MAX_JUMP_DEFERRALS = 50


def _at_a_lost_raise(frame) -> bool:
    """Whether an exception raised now, in the main thread, would skip its handlers."""
    if _LOST_AT is None or frame is None or _jump_deferrals >= _MAX_JUMP_DEFERRALS:
        return False
    code, offset = frame.f_code.co_code, frame.f_lasti
    return 0 <= offset < len(code) and code[offset] == _LOST_AT


def _when_safe(signum: int, frame, act: Callable[[], None]) -> None:
    """Call ``act`` (which raises) now, or, inside a queue's critical section (or where the
    exception would be lost), defer it."""
    global _deferred, _resending, _jump_deferrals
    with _resend_lock:  # held by the helper thread only while it sends
        at_a_jump = _at_a_lost_raise(frame)
        if at_a_jump or _inside_a_queue(frame):
            _jump_deferrals = _jump_deferrals + 1 if at_a_jump else 0
            _deferred = signum
            if not _resending:
                _resending = True
                _thread.start_new_thread(_resend, (threading.main_thread().ident,))
            return
        _deferred, _jump_deferrals = None, 0
        act()


def _resend(main_thread: int) -> None:
    """The helper thread: send the deferred signal to the main thread until it is taken."""
    global _resending
    while True:
        time.sleep(_RESEND_AFTER)
        with _resend_lock:
            if _deferred is None:
                _resending = False
                return
            signal.pthread_kill(main_thread, _deferred)


def drain_on_signal(*signals: int) -> None:
    """Make each of ``signals`` (default: SIGTERM) end the program as a normal exit would.

    On such a signal the main thread raises ``SystemExit(128 + signum)``: ``finally`` blocks
    and ``with`` blocks run, then the exit drain runs each queue's pending tasks (within its
    ``exit_timeout``), and the exit status is ``128 + signum`` (143 for SIGTERM), as a shell
    reports a process killed by it. A second such signal gets the default action: it ends
    the process at once. A signal arriving when the exit has already begun lets it finish.
    One arriving while the main thread is inside a queue's lock takes effect as soon as it
    has left it. Call it from the main thread: only there can Python install signal handlers.
    """
    caller = threading.current_thread()
    if caller is not threading.main_thread():
        raise RuntimeError(f"drain_on_signal() must be called from the main thread (only "
                           f"there can Python handle signals), not from {caller.name!r}")
    chosen = []
    for number in signals or (signal.SIGTERM,):
        if isinstance(number, bool) or not isinstance(number, int):
            raise TypeError(f"drain_on_signal: a signal must be an int such as "
                            f"signal.SIGTERM, got {number!r}")
        try:
            chosen.append(signal.Signals(number))
        except ValueError:
            raise ValueError(f"drain_on_signal: {number!r} is not a signal number") from None
    for sig in chosen:
        if sig in _UNCATCHABLE:
            raise ValueError(f"drain_on_signal: {sig.name} cannot be caught")
    for sig in chosen:
        signal.signal(sig, _exit_on_signal)


_UNCATCHABLE = {getattr(signal, name) for name in ("SIGKILL", "SIGSTOP") if hasattr(signal, name)}


def _exit_on_signal(signum: int, frame: object) -> None:
    global _deferred
    if lifecycle.exit_has_begun():
        with _resend_lock:
            _deferred = None  # nothing more to send
        return  # the exit and its drain are under way: let them finish
    _when_safe(signum, frame, lambda: _exit(signum))


def _exit(signum: int) -> None:
    signal.signal(signum, signal.SIG_DFL)  # a second one ends the process at once
    lifecycle.exiting_on_signal()
    raise SystemExit(128 + signum)


def _reset_in_child() -> None:
    """In a forked child: no helper thread runs there, and none holds the lock."""
    global _resend_lock, _deferred, _resending, _jump_deferrals
    _resend_lock = threading.RLock()
    _deferred, _resending, _jump_deferrals = None, False, 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_in_child)


def guard_interrupts() -> None:
    """Make Ctrl-C wait until the main thread has left any queue's lock (see above): wrap
    Python's default SIGINT handler, if it is the one installed. From the main thread only."""
    if (threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
        signal.signal(signal.SIGINT, _interrupt_when_safe)


def _interrupt_when_safe(signum: int, frame: object) -> None:
    _when_safe(signum, frame, lambda: signal.default_int_handler(signum, frame))
