"""Signals: ``drain_on_signal`` turns a signal (SIGTERM) into a normal exit, so that the exit
drain runs. Nothing installs a signal handler unless asked to."""

from __future__ import annotations

import signal
import threading

from . import lifecycle


def drain_on_signal(*signals: int) -> None:
    """Make each of ``signals`` (default: SIGTERM) end the program as a normal exit would.

    On such a signal the main thread raises ``SystemExit(128 + signum)``: ``finally`` blocks
    and ``with`` blocks run, then the exit drain runs each queue's pending tasks (within its
    ``exit_timeout``), and the exit status is ``128 + signum`` (143 for SIGTERM), as a shell
    reports a process killed by it. A second such signal gets the default action: it ends
    the process at once. A signal arriving when the exit has already begun lets it finish.
    Call it from the main thread: only there can Python install signal handlers.
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
    signal.signal(signum, signal.SIG_DFL)  # a second one ends the process at once
    if lifecycle.exit_has_begun():
        return  # the exit and its drain are under way: let them finish
    raise SystemExit(128 + signum)
