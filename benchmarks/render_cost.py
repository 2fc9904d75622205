"""Render cost: milliseconds per plot for each built-in renderer, and where the time goes.

Each renderer draws a snapshot taken from a real 1,000-epoch fit (so the loss plot is the
issue's 1,000-point curve) into a PNG file. The loss plot is also split into its phases:
building the figure, drawing it (Agg rasterisation) and encoding the PNG.

``gdplot.render`` builds a new figure for every frame (one figure per task is what keeps
renders thread-safe). To show what *reusing* a figure between frames would save, this module
has a small benchmark-only loss plot that keeps one figure and only updates its line; it is
not part of gdplot.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.image import imsave

from benchmarks.measure import figure, interleave, repetitions
from gdplot import LinearRegressionGD, LogisticRegressionGD
from gdplot import render as gdplot_render
from gdplot.data import make_classification, make_regression
from gdplot.render import RENDERERS, save_figure
from gdplot.snapshot import Snapshot

__all__ = ["run"]

FULL_REPEAT = 7
QUICK_REPEAT = 3
EPOCHS = 1000
N_SAMPLES = 2000  # the most rows a snapshot carries for plotting


def _snapshots() -> dict[str, Snapshot]:
    """A snapshot each renderer accepts, from real fits of ``EPOCHS`` epochs."""
    X1, y1, _, _ = make_regression(N_SAMPLES, 1, random_state=0)
    linear = LinearRegressionGD(lr=0.01, epochs=EPOCHS, random_state=0).fit(X1, y1).snapshot()
    X2, y2 = make_classification(N_SAMPLES, random_state=0)
    logistic = LogisticRegressionGD(lr=0.1, epochs=EPOCHS, random_state=0).fit(X2, y2).snapshot()
    return {"loss": linear, "fit": linear, "boundary": logistic, "surface": linear}


class ReusedLossFigure:
    """Benchmark-only: the loss plot with ONE figure kept between frames (not in gdplot).

    Only the line's data, the scales and the title change per frame; the figure, axes, labels
    and grid are built once. Not thread-safe: one instance per thread.
    """

    def __init__(self) -> None:
        self.figure = Figure(figsize=gdplot_render.FIGSIZE, dpi=gdplot_render.DPI,
                             layout="constrained")
        FigureCanvasAgg(self.figure)
        self.axes = self.figure.add_subplot()
        (self.line,) = self.axes.plot([], [])
        self.axes.set_xlabel("epoch")
        self.axes.set_ylabel("loss")
        self.axes.grid(True, alpha=0.3)

    def __call__(self, snapshot: Snapshot, path: str | Path) -> Path:
        losses = np.concatenate([[snapshot.initial_loss], snapshot.history])
        self.line.set_data(np.arange(losses.size), losses)
        self.axes.set_yscale("log" if gdplot_render._spans_decades(losses) else "linear")
        self.axes.relim()
        self.axes.autoscale_view()
        self.axes.set_title(gdplot_render._title(snapshot, "training loss"))
        return save_figure(self.figure, path)


@contextlib.contextmanager
def _capturing_figures(captured: list[tuple[Figure, float]]) -> Iterator[None]:
    """While active, gdplot's ``save_figure`` records ``(figure, time it was called)`` and saves
    nothing, so a renderer's build phase can be timed on its own."""
    original = gdplot_render.save_figure

    def capture(fig: Figure, path: str | Path) -> Path:
        captured.append((fig, time.perf_counter()))
        return Path(path)

    gdplot_render.save_figure = capture
    try:
        yield
    finally:
        gdplot_render.save_figure = original


def _loss_phases(snapshot: Snapshot, path: Path) -> dict[str, float]:
    """Seconds to build, draw and PNG-encode one loss plot, and to write the file."""
    captured: list[tuple[Figure, float]] = []
    start = time.perf_counter()
    with _capturing_figures(captured):
        RENDERERS["loss"](snapshot, path)
    (fig, built), = captured
    fig.canvas.draw()
    drawn = time.perf_counter()
    png = io.BytesIO()
    imsave(png, fig.canvas.buffer_rgba(), format="png", dpi=fig.dpi)
    encoded = time.perf_counter()
    path.write_bytes(png.getvalue())
    written = time.perf_counter()
    return {"build": built - start, "draw": drawn - built, "encode": encoded - drawn,
            "write": written - encoded}


def _timed(render: Callable[[Snapshot, Path], object], snapshot: Snapshot, path: Path) -> Callable[[], float]:
    def trial() -> float:
        start = time.perf_counter()
        render(snapshot, path)
        return time.perf_counter() - start
    return trial


def run(*, quick: bool = False, repeat: int | None = None,
        log: Callable[[str], object] = lambda message: None) -> dict:
    """Time every renderer, the loss plot's phases and a reused figure; JSON-ready results."""
    rounds = repetitions(repeat, QUICK_REPEAT if quick else FULL_REPEAT)
    snapshots = _snapshots()
    reused = ReusedLossFigure()
    with tempfile.TemporaryDirectory(prefix="gdplot-bench-") as scratch:
        folder = Path(scratch)
        trials = {kind: _timed(render, snapshots[kind], folder / f"{kind}.png")
                  for kind, render in RENDERERS.items()}
        trials["loss, figure reused"] = _timed(reused, snapshots["loss"], folder / "reused.png")
        trials["loss phases"] = lambda: _loss_phases(snapshots["loss"], folder / "phases.png")
        for warm_up in trials.values():  # imports, font cache, first-draw caches
            warm_up()
        log(f"render cost: {len(trials)} renders x {rounds} rounds")
        raw = interleave(trials, rounds)
    phases = raw.pop("loss phases")
    per_plot = {name: figure((s * 1e3 for s in seconds), "ms") for name, seconds in raw.items()}
    fresh, kept = raw["loss"], raw["loss, figure reused"]
    return {
        "title": "Render cost",
        "settings": {"repeat": rounds, "epochs": EPOCHS, "plot_sample_rows": N_SAMPLES,
                     "figsize": list(gdplot_render.FIGSIZE), "dpi": gdplot_render.DPI,
                     "reuse": f"{__name__}.{ReusedLossFigure.__qualname__}"},
        "per_plot_ms": per_plot,
        "loss_phases_ms": {phase: figure((p[phase] * 1e3 for p in phases), "ms")
                           for phase in phases[0]},
        "reuse_saves": figure((1 - k / f for k, f in zip(kept, fresh)), "fraction"),
        "targets": [],
    }
