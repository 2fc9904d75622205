"""``gdplot train``'s rendering processes: a process pool that is replaced, once, if it breaks.

A rendering process that dies (killed, or out of memory) breaks a ``ProcessPoolExecutor``
for good: its renders in flight fail with ``BrokenProcessPool`` and so does every later
submit. The command owns its pool, so it may start a new one and go on plotting. It does
so once: a second death suggests the next would die too, and its renders then fail like
any refused render (training still goes on, see :mod:`gdplot.plots.dispatch`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

__all__ = ["RenderPool"]


class RenderPool(Executor):
    """An executor over ``make()``'s process pool, replaced by a new ``make()`` the first
    ``restarts`` times a submit finds it broken. ``restarted`` counts the replacements."""

    def __init__(self, make: Callable[[], ProcessPoolExecutor], *, restarts: int = 1) -> None:
        self._make = make
        # Guards _pool, _retired and _restarts_left: submit runs on the training thread and
        # in a pool's done-callbacks (a live plot's next frame), shutdown on the main thread.
        self._lock = threading.Lock()
        self._pool = make()
        self._retired: list[ProcessPoolExecutor] = []
        self._restarts_left = restarts
        self.restarted = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._lock:
            try:
                return self._pool.submit(fn, *args, **kwargs)
            except BrokenProcessPool:
                if self._restarts_left == 0:
                    raise
                self._restarts_left -= 1
                self.restarted += 1
                self._retired.append(self._pool)
                self._pool = self._make()
            return self._pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            pools = [*self._retired, self._pool]
        for pool in pools:
            pool.shutdown(wait=wait, cancel_futures=cancel_futures)
