"""SIGTERM handled as Ctrl-C is: the command stops training, shuts its rendering pool down
(the forkserver, its workers and the resource tracker end with it), removes its lock and
exits with status 143 (128 + SIGTERM), leaving no process behind.

Left to its default, SIGTERM ends the command at once: no ``finally`` runs, and the pool's
processes live on as orphans.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

__all__ = ["TERMINATED_STATUS", "Terminated", "sigterm_as_interrupt", "terminated"]

TERMINATED_STATUS = 128 + signal.SIGTERM

_received = False  # whether SIGTERM arrived within the current sigterm_as_interrupt()


class Terminated(KeyboardInterrupt):
    """Raised in the main thread on SIGTERM: a ``KeyboardInterrupt``, so that every cleanup
    that runs on Ctrl-C runs for it too."""


def terminated() -> bool:
    """Whether a ``KeyboardInterrupt`` caught now came from SIGTERM (see below)."""
    return _received


def _interrupt(signum: int, frame: FrameType | None) -> None:
    global _received
    _received = True
    # One is enough: further SIGTERMs while cleaning up are ignored (the cleanup is bounded:
    # the render in flight, then the pool's shutdown); SIGKILL still ends the process.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    on_ctrl_c = signal.getsignal(signal.SIGINT)
    if callable(on_ctrl_c) and on_ctrl_c is not signal.default_int_handler:
        # A wrapped Ctrl-C handler (taskqueue's, with a TaskQueue made in the main thread)
        # raises KeyboardInterrupt only outside a queue's critical section: let it decide.
        on_ctrl_c(signal.SIGINT, frame)
        return
    raise Terminated("terminated")


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises ``KeyboardInterrupt`` in the main thread, as Ctrl-C
    does (a :class:`Terminated`, or the one Ctrl-C's handler raises), and :func:`terminated`
    tells the two apart. Elsewhere than the main thread (a test calling ``main()`` from a
    thread) nothing changes."""
    global _received
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGTERM"):
        yield
        return
    _received = False
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
