"""The notebook view: a plot shown in the Jupyter cell that runs ``fit``, one image updated
in place while training runs.

A frame is PNG bytes first and a destination second: whichever executor renders it (a
thread, a process, a cluster), the bytes come back to the kernel, so the view needs no
shared filesystem. Then:

- On the training thread, at the start of ``fit``, :meth:`NotebookView.start` sends one
  ``display_data`` message with a fresh ``display_id``. It goes out with the parent header
  of the cell running ``fit``, so the front end puts the image in that cell's output.
- Frames arrive from any thread (a render thread, the done callback of a process pool's or
  a Dask future) through :meth:`NotebookView.offer`. Only the newest waits: an older frame
  still waiting is replaced (skipped, never queued), and one older than a frame already
  shown is ignored.
- One sender thread per view sends each waiting frame as an ``update_display_data`` with
  the view's ``display_id``, at most ``fps`` times a second; the run's final frame goes out
  as soon as it arrives. ipykernel takes the parent header of an output message from a
  context variable, and a new thread starts without the training thread's value (it would
  fall back to the header of the *latest* request, maybe another cell's). So the sender
  runs inside a copy of the training thread's context taken in :meth:`start`: every update
  carries the header of the cell that runs ``fit``, whichever thread rendered the frame.

IPython is imported only here, and only when a view is started in a kernel.
"""

from __future__ import annotations

import atexit
import base64
import contextvars
import math
import multiprocessing
import re
import signal
import sys
import threading
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

__all__ = ["DEFAULT_FPS", "NotebookLine", "NotebookView", "kernel_shell", "shared_renderer",
           "warn_no_kernel"]

#: Frames a second a view sends by default: enough to watch, little enough to cost nothing.
DEFAULT_FPS = 4.0


def kernel_shell() -> Any | None:
    """The IPython shell of the Jupyter kernel this code runs in, or ``None`` outside one.

    A kernel has imported ``ipykernel`` before running any cell, so outside one this imports
    nothing; inside one, a shell with a ``kernel`` speaks ``display_data`` and
    ``update_display_data`` (a terminal IPython does not).
    """
    if "ipykernel" not in sys.modules:
        return None
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:
        return None
    return shell


def warn_no_kernel(what: str) -> None:
    """Warn that ``show=True`` has no notebook to show ``what`` in (a ``UserWarning`` from
    one line of gdplot, so Python's default filter shows it once however many fits)."""
    warnings.warn(
        f"show=True: not running in a Jupyter kernel, so there is no notebook to show "
        f"{what} in; plots are written to files only",
        UserWarning,
        stacklevel=2,
    )


# The kernel's rendering process (see shared_renderer); guarded by _shared_lock.
_shared: ProcessPoolExecutor | None = None
_shared_lock = threading.Lock()


def shared_renderer() -> ProcessPoolExecutor:
    """The rendering process of this kernel: what ``show=True`` with ``executor=None`` uses.

    One worker process, started on first use and reused by every later fit (so only the
    first fit pays for its start, on the other core), shut down when the interpreter exits.
    A render in another process holds none of the kernel's GIL, so even a fresh figure's
    first layout costs training nothing; only the snapshot is pickled here.

    It is a fresh interpreter (spawn: never a fork of the kernel's threads, and starting it
    does not wait for it, unlike a forkserver). It ignores Ctrl-C (interrupting the kernel
    signals its whole process group, and an interrupted cell must not break the renderer),
    then imports the renderers and loads fonts. It keeps the normal priority: ``fit`` waits
    for the view's last frame, which a starved renderer would make late.
    """
    global _shared
    with _shared_lock:
        broken = _shared is not None and getattr(_shared, "_broken", False)
        if _shared is None or broken:
            _shared = ProcessPoolExecutor(
                1, mp_context=multiprocessing.get_context("spawn"),
                initializer=signal.signal, initargs=(signal.SIGINT, signal.SIG_IGN))
            _shared.submit(_warm_up)
            if not broken:
                atexit.register(_shutdown_shared)
        return _shared


def _shutdown_shared() -> None:
    global _shared
    with _shared_lock:
        executor, _shared = _shared, None
    if executor is not None:
        executor.shutdown(wait=True, cancel_futures=True)


def _warm_up() -> None:
    """In the rendering process: import the renderers and draw one throwaway text, so
    fonts are loaded before the first frame."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    import gdplot.plots.renderers  # noqa: F401  (what every frame unpickles)

    figure = Figure(figsize=(1, 1))
    figure.text(0.5, 0.5, "0.1 epoch")
    FigureCanvasAgg(figure).draw()


@dataclass(frozen=True)
class _Frame:
    epoch: int
    png: bytes
    final: bool


def _bundle(png: bytes, alt: str) -> dict[str, str]:
    return {"image/png": base64.b64encode(png).decode("ascii"), "text/plain": alt}


class NotebookView:
    """One image in the output of the cell that runs ``fit``, updated in place.

    Args:
        name: what the image shows, for its plain-text alternative (``"loss plot"``).
        fps: the most updates a second (``math.inf``: every frame that arrives).

    Use: :meth:`start` on the training thread; :meth:`due` there to decide whether to
    request a frame; :meth:`offer` from any thread with each rendered frame (``final``
    for the run's last); :meth:`wait` until the final frame is shown; :meth:`close`.

    Counts, for tests and benchmarks: ``sent`` updates sent, ``skipped`` frames replaced
    before they were sent or arriving out of date; ``shown`` the last frame sent.
    """

    def __init__(self, name: str = "plot", *, fps: float = DEFAULT_FPS) -> None:
        if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not fps > 0:
            raise ValueError(f"fps must be a number > 0, got fps={fps!r}")
        self.name = name
        self.fps = float(fps)
        self.interval = 0.0 if math.isinf(self.fps) else 1.0 / self.fps
        self.display_id: str | None = None
        # Guards every field below; notified when a frame arrives, when one is sent and on
        # close. Shared by the training thread (due, wait), renderers (offer), the sender.
        self._changed = threading.Condition()
        self._waiting: _Frame | None = None
        self._newest_epoch = -1  # the newest epoch offered: older frames are out of date
        self._final_epoch = math.inf  # the run's last epoch, once finish() says it
        self._next_request = 0.0  # monotonic time after which due() says yes again
        self._next_send = 0.0
        self._final_sent = False
        self._failed = False
        self._closed = False
        self._sender: threading.Thread | None = None
        self.shown: _Frame | None = None
        self.sent = 0
        self.skipped = 0

    # -- the training thread ------------------------------------------------------------------

    def start(self, placeholder: bytes) -> None:
        """Show ``placeholder`` (PNG bytes) in the running cell and start the sender.

        Must run on the thread running the cell (in ``on_train_begin``): the display and the
        sender's context take that cell's parent header.
        """
        from IPython.display import display

        handle = display(_bundle(placeholder, f"<gdplot {self.name}: waiting for a frame>"),
                         raw=True, display_id=True)
        self.display_id = handle.display_id
        # The first frame is asked for one interval into training, not at the first epoch: a
        # curve of two points would mostly be drawn on axes that the next frames outgrow
        # (the loss falls a decade), and each new set of axes is a full draw.
        self._next_request = time.monotonic() + self.interval
        context = contextvars.copy_context()
        self._sender = threading.Thread(target=context.run, args=(self._send_frames,),
                                        name=f"gdplot-view-{self.name}", daemon=True)
        self._sender.start()

    def due(self, now: float | None = None) -> bool:
        """Should a frame be requested now? Yes at most ``fps`` times a second: a frame
        that would never be shown is better not rendered at all."""
        now = time.monotonic() if now is None else now
        if now < self._next_request:
            return False
        self._next_request = now + self.interval
        return True

    def finish(self, epoch: int) -> None:
        """Training ended after ``epoch``: that epoch's frame is the final one, sent as soon
        as it arrives (or already sent)."""
        with self._changed:
            self._final_epoch = epoch
            waiting = self._waiting
            if waiting is not None and waiting.epoch >= epoch:
                self._waiting = _Frame(waiting.epoch, waiting.png, True)
            elif self.shown is not None and self.shown.epoch >= epoch:
                self._final_sent = True
            self._changed.notify_all()

    # -- any thread ---------------------------------------------------------------------------

    def offer(self, epoch: int, png: bytes, *, final: bool = False) -> None:
        """A rendered frame of ``epoch``: it replaces a frame still waiting, unless older."""
        with self._changed:
            final = final or epoch >= self._final_epoch
            if epoch < self._newest_epoch and not final:
                self.skipped += 1
                return
            if self._waiting is not None:
                self.skipped += 1
            self._newest_epoch = max(self._newest_epoch, epoch)
            self._waiting = _Frame(epoch, png, final)
            self._changed.notify_all()

    def give_up(self) -> None:
        """The final frame will never come (its render failed): stop waiting for it."""
        with self._changed:
            self._failed = True
            self._changed.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the final frame has been sent (``True``), its render failed or the
        view was closed (``False``), or ``timeout`` seconds passed (``False``)."""
        with self._changed:
            self._changed.wait_for(lambda: self._final_sent or self._failed or self._closed,
                                   timeout)
            return self._final_sent

    def close(self) -> None:
        """Stop the sender (a frame still waiting is sent first if it is the final one)."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    # -- the sender thread --------------------------------------------------------------------

    def _send_frames(self) -> None:
        """Send the newest frame waiting, at most ``fps`` times a second, until the final
        frame is sent or the view is closed. Runs in a copy of the training thread's context."""
        while True:
            with self._changed:
                while True:
                    frame = self._waiting
                    if frame is not None and frame.final:
                        break  # the last frame is shown at once
                    if self._closed:
                        return
                    delay = self._next_send - time.monotonic()
                    if frame is not None and delay <= 0:
                        break
                    self._changed.wait(delay if frame is not None else None)
                self._waiting = None
            try:
                self._update(frame)
            finally:
                with self._changed:
                    self.shown = frame
                    self.sent += 1
                    self._next_send = time.monotonic() + self.interval
                    if frame.final or frame.epoch >= self._final_epoch:
                        self._final_sent = True
                    self._changed.notify_all()
            if self._final_sent:
                return

    def _update(self, frame: _Frame) -> None:
        from IPython.display import update_display

        update_display(_bundle(frame.png, f"<gdplot {self.name}, epoch {frame.epoch}>"),
                       raw=True, display_id=self.display_id)


def _progress_html(text: str) -> str:
    """The bar's text as HTML: its ``[###---]`` drawn as a ``<progress>`` element."""
    from html import escape

    bar = re.search(r" \[(#*)(-*)\] ", text)
    if bar is None:
        return f'<pre style="margin: 0">{escape(text)}</pre>'
    done, total = len(bar.group(1)), len(bar.group(1)) + len(bar.group(2))
    return (f'<div style="display: flex; align-items: center; gap: 0.5em">'
            f'<code>{escape(text[:bar.start()])}</code>'
            f'<progress value="{done}" max="{total}" style="width: 12em"></progress>'
            f'<code>{escape(text[bar.end():])}</code></div>')


class NotebookLine:
    """A progress line for a notebook: one HTML display updated in place (as tqdm.auto does),
    instead of a line of text per update on stderr. The same interface as
    :class:`gdplot.progress.ProgressLine`; called on the training thread, so every update
    goes out with the running cell's parent header."""

    dynamic = True

    def __init__(self, columns: int = 100) -> None:
        self._columns = columns
        self._handle: Any = None
        self._text = ""

    def columns(self) -> int:
        return self._columns

    def show(self, text: str) -> None:
        if text == self._text:
            return
        from IPython.display import display

        bundle = {"text/plain": text, "text/html": _progress_html(text)}
        if self._handle is None:
            self._handle = display(bundle, raw=True, display_id=True)
        else:
            self._handle.update(bundle, raw=True)
        self._text = text

    def close(self) -> None:
        """The bar stays as last shown."""
