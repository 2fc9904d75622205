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

__all__ = ["TERMINATED_STATUS", "Terminated", "sigterm_as_interrupt"]

TERMINATED_STATUS = 128 + signal.SIGTERM


class Terminated(KeyboardInterrupt):
    """Raised in the main thread on SIGTERM: a ``KeyboardInterrupt``, so that every cleanup
    that runs on Ctrl-C runs for it too."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    # One is enough: further SIGTERMs while cleaning up are ignored (the cleanup is bounded:
    # the render in flight, then the pool's shutdown); SIGKILL still ends the process.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Terminated("terminated")


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` in the main thread. Elsewhere
    than the main thread (a test calling ``main()`` from a thread) nothing changes."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGTERM"):
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
