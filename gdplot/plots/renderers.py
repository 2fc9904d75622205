"""The built-in renderers: what each draws, which models it suits, and its live figures.

A :class:`Renderer` is a callable ``renderer(snapshot, path)``, like any custom renderer,
that also carries its ``name`` (``"loss"``, ``"fit"``, ``"boundary"``, ``"surface"``), the
rule for the models it suits (from their maths: task, linear in the parameters, feature
count; never their names) and the :class:`~gdplot.plots.live_plot.LivePlot` that draws it. It pickles
by name, so a process pool or a Dask worker gets the same renderer of its own interpreter.

Frames of one run reuse a figure: each worker (thread, or process) keeps its own
:class:`FigureCache` of live plots, keyed by ``(renderer, run_id)``, so a figure is never
shared between threads. A run's figure is released after its last epoch, and each worker
keeps at most ``FigureCache.max_plots`` (least recently used go first). Snapshots without a
``run_id`` (built by hand) render fresh.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from gdplot.atomic import write_bytes_atomic
from gdplot.models.maths import ModelMaths, model_maths
from gdplot.models.snapshot import Snapshot
from gdplot.plots.boundary import BoundaryPlot
from gdplot.plots.curves import FitPlot, LossPlot
from gdplot.plots.landscape import PathView, surface_ranges
from gdplot.plots.live_plot import LivePlot
from gdplot.plots.surface import surface_plot

#: The live plot of each built-in kind.
PLOTS: dict[str, Callable[..., LivePlot]] = {
    "loss": LossPlot,
    "fit": FitPlot,
    "boundary": BoundaryPlot,
    "surface": surface_plot,
}

#: Anything PlotCallback accepts as a renderer: ``render(snapshot, path)``.
RenderFunction = Callable[[Snapshot, "str | os.PathLike[str]"], object]

__all__ = [
    "FigureCache",
    "PLOTS",
    "RENDERERS",
    "RenderFunction",
    "Renderer",
    "check_renderer_fits",
    "figure_cache",
    "render_boundary",
    "render_fit",
    "render_frame",
    "render_loss",
    "render_surface",
    "renderer_problem",
]


class Renderer:
    """A built-in plot: ``renderer(snapshot, path)`` writes one PNG frame atomically.

    Attributes:
        name: the plot's kind, used in file names (``"loss"``, ...).
        plot: the :class:`~gdplot.plots.live_plot.LivePlot` class that draws it.
        summary: one line on what it draws.
    """

    def __init__(self, name: str, summary: str,
                 problem: Callable[[ModelMaths, int], str | None],
                 shared_options: Callable[[Sequence[Snapshot]], dict[str, object]] | None = None,
                 ) -> None:
        self.name = name
        self.summary = summary
        self.plot = PLOTS[name]
        self._problem = problem
        self._shared_options = shared_options

    def shared_options(self, snapshots: Sequence[Snapshot]) -> dict[str, object]:
        """Options for :meth:`fresh` that make frames of all ``snapshots`` share their axes
        (an animation's frames must hold still); none for most plots."""
        if self._shared_options is None or not snapshots:
            return {}
        return self._shared_options(snapshots)

    def problem(self, maths: ModelMaths | str, n_features: int) -> str | None:
        """Why this plot cannot draw a model with ``maths`` (or its kind, e.g.
        ``"logistic"``) fitted on ``n_features`` features; ``None`` if it can."""
        if isinstance(maths, str):
            maths = model_maths(maths)
        return self._problem(maths, n_features)

    def suits(self, maths: ModelMaths | str, n_features: int) -> bool:
        return self.problem(maths, n_features) is None

    def check(self, snapshot: Snapshot) -> None:
        """Raise ``ValueError`` (saying why) if this plot cannot draw ``snapshot``'s model."""
        problem = self.problem(snapshot.maths, snapshot.X.shape[1])
        if problem is not None:
            raise ValueError(problem)

    def fresh(self, snapshot: Snapshot, **options: object) -> LivePlot:
        """A new live plot of ``snapshot`` (its figure belongs to the calling thread);
        ``options`` go to the plot (e.g. the surface's ``ranges``)."""
        self.check(snapshot)
        return self.plot(snapshot, **options)

    def __call__(self, snapshot: Snapshot, path: str | os.PathLike[str]) -> Path:
        """Draw ``snapshot`` into ``path`` (PNG), with this worker's figure for the run."""
        self.check(snapshot)
        return figure_cache().render(self, snapshot, path)

    def __reduce__(self) -> tuple[Callable[[str], Renderer], tuple[str]]:
        return _builtin_renderer, (self.name,)

    def __repr__(self) -> str:
        return f"<gdplot renderer {self.name!r}: {self.summary}>"


def _builtin_renderer(name: str) -> Renderer:
    """The built-in renderer ``name`` (what a pickled renderer turns back into)."""
    return _BUILTIN[name]


# --------------------------------------------------------------------------- what suits what


def _any_model(maths: ModelMaths, n_features: int) -> str | None:
    return None


def _fit_problem(maths: ModelMaths, n_features: int) -> str | None:
    if n_features == 1:
        return None
    return (
        f"the 'fit' plot needs exactly 1 feature, got {n_features} features "
        "(use 'boundary' for 2-feature classification or 'surface'/'loss')"
    )


def _boundary_problem(maths: ModelMaths, n_features: int) -> str | None:
    if maths.task == "classification" and n_features == 2:
        return None
    return (
        "the 'boundary' plot needs a logistic model with exactly 2 features, "
        f"got model={maths.kind!r} with {n_features} features"
    )


def _surface_problem(maths: ModelMaths, n_features: int) -> str | None:
    if maths.linear_in_params:
        return None
    return (
        "the 'surface' plot needs a linear or logistic model with a parameter path, "
        f"got model={maths.kind!r}"
    )


def _surface_shared_options(snapshots: Sequence[Snapshot]) -> dict[str, object]:
    # One grid fitted to every snapshot's path (two parameters), or past two parameters
    # one view through the longest path, keeping each snapshot's epoch on it.
    if np.shape(snapshots[-1].path)[1:] == (2,):
        return {"ranges": surface_ranges(snapshots)}
    longest = max(snapshots, key=lambda s: s.epoch)
    return {"view": PathView(longest.path, keep=[s.epoch for s in snapshots])}


render_loss = Renderer("loss", "the loss per epoch so far", _any_model)
render_fit = Renderer("fit", "the data and the model's curve over its one feature", _fit_problem)
render_boundary = Renderer("boundary", "class-1 probability and the decision boundary",
                           _boundary_problem)
render_surface = Renderer("surface", "loss contours and the parameter path", _surface_problem,
                          _surface_shared_options)

_BUILTIN: dict[str, Renderer] = {r.name: r for r in (render_loss, render_fit, render_boundary,
                                                     render_surface)}
#: The built-in renderers by name (a copy: replacing an entry changes what names resolve to).
RENDERERS: dict[str, Renderer] = dict(_BUILTIN)


def renderer_problem(kind: str, model: str, n_features: int) -> str | None:
    """Why the built-in plot ``kind`` cannot draw a ``model`` (its kind, e.g. ``"linear"``)
    fitted on ``n_features`` features, or ``None`` if it can (``None`` for a kind that is
    not built in)."""
    renderer = _BUILTIN.get(kind)
    return None if renderer is None else renderer.problem(model, n_features)


def render_frame(render: RenderFunction, snapshot: Snapshot,
                 path: str | os.PathLike[str] | None = None) -> bytes:
    """Render ``snapshot`` with ``render``, write the frame to ``path`` (atomically) unless
    it is ``None``, and return the frame's PNG bytes: what a notebook view is sent back,
    from a thread, a process or a cluster worker alike.

    A built-in renderer draws the bytes with this worker's figure of the run; any other
    ``render(snapshot, path)`` draws into ``path`` (or a temporary file), read back.
    """
    if isinstance(render, Renderer):
        render.check(snapshot)
        data = figure_cache().png(render, snapshot)
        if path is not None:
            write_bytes_atomic(path, data)
        return data
    if path is not None:
        render(snapshot, path)
        return Path(path).read_bytes()
    with tempfile.TemporaryDirectory(prefix="gdplot-frame-") as scratch:
        frame = Path(scratch, "frame.png")
        render(snapshot, frame)
        return frame.read_bytes()


def check_renderer_fits(kind: object, snapshot: Snapshot) -> None:
    """Raise ``ValueError`` if the built-in plot ``kind`` (a :class:`Renderer` or its name)
    cannot draw ``snapshot``'s model; anything else (a custom renderer) is not checked."""
    renderer = _BUILTIN.get(kind) if isinstance(kind, str) else kind
    if isinstance(renderer, Renderer):
        renderer.check(snapshot)


# --------------------------------------------------------------------------- the cache


class FigureCache:
    """One worker's live plots, keyed by ``(renderer name, run id)``. Not thread-safe by
    design: each thread gets its own from :func:`figure_cache`, so no lock is needed and a
    figure never crosses threads."""

    #: Live plots kept per worker: a few runs' plots at once; each holds ~3 MB of pixels.
    max_plots = 6

    def __init__(self) -> None:
        self._plots: OrderedDict[tuple[str, str], LivePlot] = OrderedDict()
        self.built = 0  # figures built (fresh renders included): for tests and benchmarks

    def __len__(self) -> int:
        return len(self._plots)

    def render(self, renderer: Renderer, snapshot: Snapshot,
               path: str | os.PathLike[str]) -> Path:
        """Write ``snapshot``'s frame to ``path`` atomically (see :meth:`png`)."""
        return write_bytes_atomic(path, self.png(renderer, snapshot))

    def png(self, renderer: Renderer, snapshot: Snapshot) -> bytes:
        """``snapshot``'s frame as PNG bytes, drawn with the run's live plot (built if
        needed, rebuilt if its axes cannot show the snapshot); the plot is released after
        the run's last epoch."""
        if not snapshot.run_id:
            self.built += 1
            return renderer.fresh(snapshot).png(snapshot)
        key = (renderer.name, snapshot.run_id)
        plot = self._plots.pop(key, None)
        if plot is None or not plot.fits(snapshot):
            plot = renderer.fresh(snapshot)
            self.built += 1
        # A frame that fails leaves its plot out of the cache: it may be half-updated.
        data = plot.png(snapshot)
        if not snapshot.is_last:  # after the last epoch no frame of this run will come
            self._plots[key] = plot
            while len(self._plots) > self.max_plots:
                self._plots.popitem(last=False)
        return data

    def release(self, run_id: str) -> None:
        """Drop every live plot of ``run_id``."""
        for key in [key for key in self._plots if key[1] == run_id]:
            del self._plots[key]

    def clear(self) -> None:
        """Drop every live plot and restart the ``built`` count."""
        self._plots.clear()
        self.built = 0


# Each thread's own cache (a worker process has its own threads, so its own caches).
_local = threading.local()


def figure_cache() -> FigureCache:
    """The calling thread's :class:`FigureCache`."""
    cache = getattr(_local, "cache", None)
    if cache is None:
        cache = _local.cache = FigureCache()
    return cache
