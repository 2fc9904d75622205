"""Plot callbacks: plots of the training state that never block training.

An estimator's ``fit(X, y, callbacks=[...])`` calls, when present,
``on_train_begin(estimator)``, ``on_epoch_end(estimator, epoch)`` (1-based) and
``on_train_end(estimator)``. A plot callback takes a :class:`~gdplot.models.snapshot.Snapshot` on
the training thread (a cheap copy) and hands the rendering to an executor, so the cost on
the training thread is the snapshot and the enqueue: no matplotlib, no file I/O.

With ``executor=None`` plots render synchronously instead, which is simple and slow.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import re
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gdplot.atomic import atomic_writer
from gdplot.models.snapshot import Snapshot
from gdplot.plots.dispatch import RenderDispatcher, check_sendable
from gdplot.plots.live_plot import FIGSIZE
from gdplot.plots.notebook import (
    DEFAULT_FPS,
    NotebookView,
    kernel_shell,
    shared_renderer,
    warn_no_kernel,
)
from gdplot.plots.png import DPI, encode_png
from gdplot.plots.renderers import RENDERERS, check_renderer_fits, render_frame
from gdplot.plots.renderers import Renderer as BuiltinRenderer
from gdplot.plots.renderers import RenderFunction as Renderer
from gdplot.validation import check_bool, check_int, check_real

__all__ = ["GifCallback", "PlotCallback", "render_gif"]

logger = logging.getLogger("gdplot")

#: How long ``fit`` waits at most, with ``show=True``, for the view to show the last frame.
FINAL_FRAME_TIMEOUT = 60.0


def _resolve_renderer(kind: object) -> tuple[str, Renderer]:
    """``(name for file names, renderer)`` for a built-in name, a built-in renderer object
    (``gdplot.plots.renderers.render_loss``, ...) or any ``render(snapshot, path)`` callable."""
    if isinstance(kind, str):
        if kind not in RENDERERS:
            raise ValueError(f"kind must be one of {sorted(RENDERERS)} or a callable, got {kind!r}")
        return kind, RENDERERS[kind]
    if isinstance(kind, BuiltinRenderer):
        return kind.name, kind
    if not callable(kind):
        raise TypeError(f"kind must be a renderer name or a callable, got {type(kind).__name__}")
    name = re.sub(r"[^A-Za-z0-9_-]+", "", getattr(kind, "__name__", "")) or "plot"
    return name, kind


def _check_path(value: object, name: str) -> Path:
    """``value`` as an absolute path: made absolute here, on the caller's side, because a
    process or cluster worker would resolve a relative one against its own folder."""
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path, got {type(value).__name__} {value!r}")
    return Path(os.path.abspath(value))


def _check_names(value: object, name: str) -> tuple[str, ...]:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{name} must be a sequence of str, got {value!r}")
    names = tuple(value)
    if not all(isinstance(item, str) for item in names):
        raise TypeError(f"{name} must be a sequence of str, got {value!r}")
    return names


def _view_executor(render: Renderer, snapshot: Snapshot) -> object:
    """Where ``show=True`` with ``executor=None`` renders: the kernel's rendering process,
    or the training thread for a renderer that cannot be sent to another process."""
    executor = shared_renderer()
    try:
        check_sendable(executor, render, snapshot, what="renderer")
    except TypeError:
        return None
    return executor


@functools.cache
def _placeholder() -> bytes:
    """What the view shows until the first frame: a blank image of a plot's size."""
    width, height = round(FIGSIZE[0] * DPI), round(FIGSIZE[1] * DPI)
    return encode_png(np.full((height, width, 4), 255, dtype=np.uint8), DPI)


def _prepare(estimator: Any, kind: str | Renderer, out_dir: Path) -> None:
    """Before the first epoch: refuse a built-in plot that cannot draw this model, then
    create ``out_dir``; so a bad pairing fails ``fit`` at once and writes nothing."""
    check_renderer_fits(kind, estimator.snapshot())
    _make_out_dir(out_dir)


def _make_out_dir(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise OSError(
            exc.errno, f"cannot create plot folder out_dir={str(out_dir)!r}: {reason}"
        ) from exc


class PlotCallback(RenderDispatcher):
    """Render a plot of the training state every ``every`` epochs and after the last one.

    Args:
        kind: ``"loss"``, ``"fit"``, ``"boundary"``, ``"surface"`` or a callable
            ``render(snapshot, path)`` (module-level, if the executor is a process pool).
            A built-in kind that cannot draw the model (``"boundary"`` of a linear model,
            ``"fit"`` on 2 features, ``"surface"`` of an MLP) makes ``fit`` raise
            ``ValueError`` in ``on_train_begin``, before the first epoch; callables are
            not checked.
        every: plot after epochs ``every``, ``2 * every``, ... and always after the last.
        executor: ``None`` (render on the training thread), a ``TaskQueue`` or any
            ``concurrent.futures.Executor``.
        out_dir: folder for the images, created in ``on_train_begin``; a relative one is made
            absolute when the callback is created (process and cluster workers must see the
            caller's filesystem, shared or local, at that path).
        coalesce: keep one live file ``{prefix}{kind}.png`` overwritten atomically instead of
            one file per frame; only the newest frame waiting is rendered, and the file always
            ends on the last frame. A ``TaskQueue`` coalesces with ``add_latest``; on any other
            executor the callback keeps at most one render in flight and the newest frame
            waiting, submitted when the one in flight ends.
        prefix: prepended to file names, to keep several runs in one folder apart.
        label: the run's name in plot titles.
        feature_names: the features' names, for axis labels (default ``x[0]``, ``x[1]``, ...).
        target_name: the target's name, for axis labels (default ``y``).
        show: in a Jupyter kernel, show the plot in the output of the cell that runs
            ``fit``: one image, updated in place with the newest frame while training runs
            (frames come back to the kernel as PNG bytes from any executor, no shared
            filesystem needed), and ``fit`` returns once it shows the run's last frame (the
            same bytes as the last file, if files are written). ``out_dir=None`` then writes
            no files. Outside a kernel it warns once and writes the files. With
            ``executor=None`` in a kernel, frames render in the kernel's rendering process
            (one, started on first use and reused by later fits), not on the training thread.
        fps: the most frames a second the view is updated with (default 4); frames are
            requested no more often than that, and one arriving too soon replaces the one
            waiting instead of queueing. ``every`` still decides which files are written.

    On an executor that is not thread-based (a process pool, Dask, loky), ``fit`` checks
    before the first epoch that the renderer and a snapshot can be sent to it (pickled), and
    fails at once naming the renderer if not.

    After ``fit``, of that fit: ``paths`` lists the files written or queued, in order, each
    once (a live file once however many frames it took), and ``frames`` counts the frames
    asked for;
    ``wait(timeout, raise_errors=...)`` waits for its renders on any executor and
    ``pending()`` counts those not finished; ``errors`` (and their count, ``failures``) the
    failed renders (on a TaskQueue they also reach its ``on_error`` and
    ``join(raise_errors=True)``); ``futures`` holds ``submit``'s futures.
    """

    def __init__(
        self,
        kind: str | Renderer,
        *,
        every: int = 1,
        out_dir: str | os.PathLike[str] | None = "plots",
        executor: object = None,
        coalesce: bool = False,
        prefix: str = "",
        label: str = "",
        feature_names: Sequence[str] | None = None,
        target_name: str | None = None,
        show: bool = False,
        fps: float = DEFAULT_FPS,
    ) -> None:
        super().__init__(executor)
        self.kind = kind
        self.name, self.render = _resolve_renderer(kind)
        self.every = check_int(every, "every", minimum=1)
        self.show = check_bool(show, "show")
        self.fps = check_real(fps, "fps", minimum=0, inclusive=False)
        if out_dir is None and not self.show:
            raise ValueError("out_dir=None writes no files and shows nothing: give an out_dir, "
                             "or show=True to see the plot in a notebook")
        self.out_dir = None if out_dir is None else _check_path(out_dir, "out_dir")
        self.coalesce = bool(coalesce)
        self.prefix = str(prefix)
        self.label = str(label)
        self._names: dict[str, Any] = {}
        if feature_names is not None:
            self._names["feature_names"] = _check_names(feature_names, "feature_names")
        if target_name is not None:
            if not isinstance(target_name, str):
                raise TypeError(f"target_name must be a str, got {target_name!r}")
            self._names["target_name"] = target_name
        self.paths: list[Path] = []
        self.frames = 0
        self._last_epoch = 0
        self._last_plotted = 0
        self._live_path: Path | None = None
        self.view: NotebookView | None = None
        self._warned = False

    def on_train_begin(self, estimator: Any) -> None:
        names = self._names.get("feature_names")
        if names is not None and len(names) != estimator.n_features_in_:
            raise ValueError(
                f"feature_names has {len(names)} names but X has {estimator.n_features_in_} "
                f"features: {list(names)!r}"
            )
        check_renderer_fits(self.kind, estimator.snapshot())
        if self.out_dir is not None:
            _make_out_dir(self.out_dir)
        if self.view is not None:
            self.view.close()
        self.view = None
        executor = self.executor
        if self.show and kernel_shell() is None:
            if not self._warned:  # once per callback, however many fits
                self._warned = True
                warn_no_kernel(f"the {self.name} plot" if self.out_dir is not None else
                               f"the {self.name} plot (out_dir=None: nothing is written)")
        elif self.show:
            self.view = NotebookView(f"{self.name} plot", fps=self.fps)
            if executor is None:
                executor = _view_executor(self.render, self._snapshot(estimator))
        check_sendable(executor, self.render, self._snapshot(estimator), what="renderer")
        self._start_run(executor)
        self.paths = []
        self._last_epoch = self._last_plotted = 0
        self.frames = 0
        # A live plot's one file, built once per fit: it is asked for every epoch, and
        # ``paths`` lists it once.
        self._live_path = self.path_for(0) if self.coalesce else None
        if self.view is not None:
            self.view.start(_placeholder())

    def on_epoch_end(self, estimator: Any, epoch: int) -> None:
        self._last_epoch = epoch
        if self.out_dir is not None and epoch % self.every == 0:
            self._plot(estimator)
        elif self.view is not None and self.view.due():
            self._plot(estimator, write=False)

    def on_train_end(self, estimator: Any) -> None:
        wanted = self.out_dir is not None or self.view is not None
        if wanted and self._last_epoch > self._last_plotted:
            self._plot(estimator, write=self.out_dir is not None)
        if self.view is not None:
            self.view.finish(self._last_epoch)
            if not self._wait_view(FINAL_FRAME_TIMEOUT):
                logger.warning("the %s plot's last frame is not rendered after %g s; fit "
                               "returns, and the view shows it when it comes",
                               self.name, FINAL_FRAME_TIMEOUT)

    def on_train_error(self, estimator: Any) -> None:
        """Training failed: the view keeps the last frame it showed and stops sending; the
        frames already asked for are still drawn and written."""
        if self.view is not None:
            self.view.close()

    def wait(self, timeout: float | None = None, *, raise_errors: bool = False) -> bool:
        """As :meth:`RenderDispatcher.wait`; with a notebook view, also until it shows the
        run's last frame."""
        start = time.monotonic()
        finished = super().wait(timeout, raise_errors=raise_errors)
        if finished and self.view is not None:
            left = None if timeout is None else max(timeout - (time.monotonic() - start), 0)
            return self._wait_view(left)
        return finished

    def _wait_view(self, timeout: float | None) -> bool:
        """Wait until the view shows the last frame, or no render of the fit is left that
        could bring it (its render failed, or the executor dropped it)."""
        view = self.view
        deadline = None if timeout is None else time.monotonic() + timeout
        while not view.wait(0.05):
            if self.pending() == 0:
                return view.wait(0.5)  # an offered final frame goes out at once
            if deadline is not None and time.monotonic() >= deadline:
                return False
        return True

    def path_for(self, epoch: int) -> Path:
        """Where the frame of ``epoch`` goes (the same live file for every epoch if coalescing)."""
        if self.coalesce:
            return self.out_dir / f"{self.prefix}{self.name}.png"
        return self.out_dir / f"{self.prefix}{self.name}_epoch{epoch:04d}.png"

    def _snapshot(self, estimator: Any) -> Snapshot:
        snapshot = estimator.snapshot(label=self.label)
        return dataclasses.replace(snapshot, **self._names) if self._names else snapshot

    def _plot(self, estimator: Any, write: bool = True) -> None:
        snapshot = self._snapshot(estimator)
        self._last_plotted = self._last_epoch
        self.frames += 1
        view = self.view
        if write:
            path = self._live_path or self.path_for(snapshot.epoch)
            if not (self.coalesce and self.paths):  # a live file is listed once
                self.paths.append(path)
            key = str(path) if self.coalesce else None
        else:  # a frame for the view only: the newest one waiting replaces older ones
            path, key = None, ("notebook view", id(self))
        if view is None:
            self.dispatch(self.render, snapshot, path, latest_key=key)
            return
        epoch = snapshot.epoch

        def show(png: object, error: BaseException | None) -> None:
            if error is None and isinstance(png, bytes):
                view.offer(epoch, png)

        self.dispatch(render_frame, self.render, snapshot, path, latest_key=key, on_done=show)


class GifCallback(RenderDispatcher):
    """Keep a snapshot every ``every`` epochs; after training, render them all into one GIF.

    The GIF is made by ONE task (on ``executor``, or inline if it is ``None``) and written
    atomically to ``path``. A built-in ``kind`` that cannot draw the model fails ``fit``
    before the first epoch, as with :class:`PlotCallback`. Snapshots are small (parameters, history; the data is shared), but
    choose ``every`` so that the frame count stays modest: each frame is a full render.
    """

    def __init__(
        self,
        kind: str | Renderer,
        path: str | os.PathLike[str],
        *,
        every: int = 1,
        executor: object = None,
        frame_seconds: float = 0.2,
        label: str = "",
    ) -> None:
        super().__init__(executor)
        self.kind = kind
        _, self.render = _resolve_renderer(kind)
        self.path = _check_path(path, "path")
        self.every = check_int(every, "every", minimum=1)
        self.frame_seconds = check_real(frame_seconds, "frame_seconds", minimum=0, inclusive=False)
        self.label = str(label)
        self.snapshots: list[Snapshot] = []
        self._last_epoch = 0

    def on_train_begin(self, estimator: Any) -> None:
        _prepare(estimator, self.kind, self.path.parent)
        check_sendable(self.executor, self.render, estimator.snapshot(label=self.label),
                       what="renderer")
        self._start_run()
        # The first frame is the start: epoch 0, the initial parameters.
        self.snapshots = [estimator.snapshot(label=self.label)]
        self._last_epoch = 0

    def on_epoch_end(self, estimator: Any, epoch: int) -> None:
        self._last_epoch = epoch
        if epoch % self.every == 0:
            self.snapshots.append(estimator.snapshot(label=self.label))

    def on_train_end(self, estimator: Any) -> None:
        plotted = self.snapshots[-1].epoch if self.snapshots else 0
        if self._last_epoch > plotted:
            self.snapshots.append(estimator.snapshot(label=self.label))
        if self.snapshots:
            self.dispatch(
                render_gif, self.render, list(self.snapshots), self.path, self.frame_seconds
            )


def render_gif(
    render: Renderer,
    snapshots: Sequence[Snapshot],
    path: str | os.PathLike[str],
    frame_seconds: float = 0.2,
) -> Path:
    """Render each snapshot with ``render`` and write them as one looping GIF, atomically.

    A built-in renderer's frames share their axes (see :meth:`Renderer.shared_options`), so
    they hold still.
    """
    from PIL import Image  # Pillow ships with matplotlib; only GIFs need it

    if not snapshots:
        raise ValueError("render_gif needs at least one snapshot, got none")
    frame_seconds = check_real(frame_seconds, "frame_seconds", minimum=0, inclusive=False)
    path = Path(path)
    frames = []
    if isinstance(render, BuiltinRenderer):
        # Built-in plots draw straight into pixels, no files; the renderer says what keeps
        # the frames' axes still.
        options = render.shared_options(snapshots)
        for snapshot in snapshots:
            pixels = render.fresh(snapshot, **options).frame(snapshot)
            frames.append(Image.fromarray(pixels).convert("RGB"))
    else:
        with tempfile.TemporaryDirectory(prefix="gdplot-gif-") as scratch:
            for index, snapshot in enumerate(snapshots):
                frame_path = Path(scratch) / f"frame{index:05d}.png"
                render(snapshot, frame_path)
                with Image.open(frame_path) as image:
                    frames.append(image.convert("RGB"))
    with atomic_writer(path) as file:
        frames[0].save(
            file,
            format="GIF",
            save_all=True,
            append_images=frames[1:],
            duration=round(frame_seconds * 1000),
            loop=0,
        )
    return path
