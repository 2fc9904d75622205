"""Render cost: milliseconds per frame for each built-in renderer, fresh and cached.

Each renderer draws a snapshot taken from a real 1,000-epoch fit (so the loss plot is a
1,000-point curve) into a PNG file, in two ways:

- ``fresh``: a new figure for the frame (what every frame cost before figures were kept:
  build, solve the layout, draw everything, encode), with no background to reuse (the
  process's store of drawn backgrounds emptied first): a run's first frame, the first time;
- ``reused``: a run's first frame when an earlier run drew the same background (same data,
  texts and axes; see ``gdplot.plots.backgrounds``): build the figure, restore the stored pixels,
  draw the changing artists, encode, write;
- ``cached``: the steady state of a live plot, the worker's figure of the run kept from the
  frame before: restore the background, draw the changing artists, encode, write.

The cached loss frame is also split into its phases (draw the changing artists, encode the
PNG, write the file). The surface is the two-parameter one (one feature and the intercept),
whose contour is drawn once per run; past two parameters the view follows the path and is
recomputed and redrawn every frame (measured as ``surface, 3 params``, no target: its cached
rounds alternate between the last two epochs' snapshots, so each frame is a new view, as in
training).
"""

from __future__ import annotations

import dataclasses
import itertools
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks.measure import figure, interleave, per_round_ratio, repetitions
from gdplot import LinearRegressionGD, LogisticRegressionGD
from gdplot.plots import live_plot
from gdplot.plots import png as png_encoding
from gdplot.atomic import write_bytes_atomic
from gdplot.plots.backgrounds import backgrounds
from gdplot.data.datasets import make_classification, make_regression
from gdplot.plots.renderers import RENDERERS, figure_cache
from gdplot.models.snapshot import Snapshot

__all__ = ["run"]

FULL_REPEAT = 7
QUICK_REPEAT = 3
EPOCHS = 1000
N_SAMPLES = 2000  # the most rows a snapshot carries for plotting
# Steady-state frame budgets (ms) and how much cheaper than a fresh figure a frame must be.
FRAME_LIMIT_MS = {"loss": 8.0, "fit": 10.0, "surface": 12.0, "boundary": 20.0}
MIN_SPEEDUP = 8.0


def _snapshots() -> dict[str, Snapshot]:
    """A snapshot each renderer accepts, from real fits of ``EPOCHS`` epochs; marked as not
    the last epoch (``epochs_total`` beyond it), so that the live plot stays cached."""
    X1, y1, _, _ = make_regression(N_SAMPLES, 1, random_state=0)
    linear = LinearRegressionGD(lr=0.01, epochs=EPOCHS, random_state=0).fit(X1, y1).snapshot()
    X2, y2 = make_classification(N_SAMPLES, random_state=0)
    logistic = LogisticRegressionGD(lr=0.1, epochs=EPOCHS, random_state=0).fit(X2, y2).snapshot()
    live = {"loss": linear, "fit": linear, "boundary": logistic, "surface": linear,
            "surface, 3 params": logistic}
    return {name: dataclasses.replace(s, epochs_total=2 * EPOCHS) for name, s in live.items()}


def _epoch_before(snapshot: Snapshot) -> Snapshot:
    """``snapshot`` one epoch earlier: its path and history without their last entries, its
    parameters the path's point there (a live plot's frame before this one)."""
    path = np.asarray(snapshot.path)[:-1]
    params = {"coef": path[-1, :-1].copy(), "intercept": np.asarray(path[-1, -1])}
    history = np.asarray(snapshot.history)[:-1]
    return dataclasses.replace(snapshot, epoch=snapshot.epoch - 1, path=path, params=params,
                               history=history, loss=float(history[-1]))


def _cold(renderer, snapshot: Snapshot, path: Path) -> None:
    """Render with no stored background to reuse (emptying the store takes microseconds)."""
    backgrounds().clear()
    renderer(snapshot, path)


def _kind(name: str) -> str:
    return name.split(",")[0]


def _timed(render: Callable[[], object]) -> Callable[[], float]:
    def trial() -> float:
        start = time.perf_counter()
        render()
        return time.perf_counter() - start
    return trial


def _cached_phases(name: str, snapshot: Snapshot, path: Path) -> Callable[[], dict[str, float]]:
    """Seconds to draw a cached frame, encode it and write the file."""
    plot = RENDERERS[_kind(name)].fresh(snapshot)
    plot.frame(snapshot)  # the background, drawn once

    def trial() -> dict[str, float]:
        start = time.perf_counter()
        pixels = plot.frame(snapshot)
        drawn = time.perf_counter()
        png = png_encoding.encode_png(pixels)
        encoded = time.perf_counter()
        write_bytes_atomic(path, png)
        written = time.perf_counter()
        return {"draw": drawn - start, "encode": encoded - drawn, "write": written - encoded}
    return trial


def run(*, quick: bool = False, repeat: int | None = None,
        log: Callable[[str], object] = lambda message: None) -> dict:
    """Time every renderer fresh and cached, and the cached loss frame's phases."""
    rounds = repetitions(repeat, QUICK_REPEAT if quick else FULL_REPEAT)
    snapshots = _snapshots()
    figure_cache().clear()
    with tempfile.TemporaryDirectory(prefix="gdplot-bench-") as scratch:
        folder = Path(scratch)
        trials: dict[str, Callable[[], object]] = {}
        for name, snapshot in snapshots.items():
            renderer = RENDERERS[_kind(name)]
            fresh = dataclasses.replace(snapshot, run_id="")  # no run: nothing cached
            trials[f"{name}, fresh"] = _timed(
                lambda r=renderer, s=fresh, p=folder / f"{name} fresh.png": _cold(r, s, p))
            if name == "surface, 3 params":  # a view that follows the path: never reused,
                # and a new view every frame (a snapshot drawn twice would reuse its view).
                frames = itertools.cycle([_epoch_before(snapshot), snapshot])
                trials[f"{name}, cached"] = _timed(
                    lambda r=renderer, f=frames, p=folder / f"{name} cached.png": r(next(f), p))
                continue
            trials[f"{name}, reused"] = _timed(
                lambda r=renderer, s=fresh, p=folder / f"{name} reused.png": r(s, p))
            trials[f"{name}, cached"] = _timed(
                lambda r=renderer, s=snapshot, p=folder / f"{name} cached.png": r(s, p))
        trials["loss phases"] = _cached_phases("loss", snapshots["loss"], folder / "phases.png")
        for warm_up in trials.values():  # imports, font cache; the cached plots' backgrounds
            warm_up()
        log(f"render cost: {len(trials)} renders x {rounds} rounds")
        raw = interleave(trials, rounds)
    figure_cache().clear()
    backgrounds().clear()
    phases = raw.pop("loss phases")
    per_plot = {name: figure((s * 1e3 for s in seconds), "ms") for name, seconds in raw.items()}
    speedup = {name: per_round_ratio(raw[f"{name}, fresh"], raw[f"{name}, cached"])
               for name in snapshots}
    return {
        "title": "Render cost",
        "settings": {"repeat": rounds, "epochs": EPOCHS, "plot_sample_rows": N_SAMPLES,
                     "figsize": list(live_plot.FIGSIZE), "dpi": png_encoding.DPI,
                     "png_compress_level": png_encoding.PNG_COMPRESS_LEVEL},
        "per_plot_ms": per_plot,
        "cached_speedup": speedup,
        "loss_phases_ms": {phase: figure((p[phase] * 1e3 for p in phases), "ms")
                           for phase in phases[0]},
        "targets": _targets(per_plot, speedup),
    }


def _targets(per_plot: dict[str, dict], speedup: dict[str, dict]) -> list[dict]:
    targets = []
    for kind, limit in FRAME_LIMIT_MS.items():
        what = "two-parameter surface" if kind == "surface" else kind
        measured = per_plot[f"{kind}, cached"]
        targets.append({"section": "render_cost", "name": f"{what} frame, cached figure (ms)",
                        "limit": limit, "unit": "ms", "measured": measured,
                        "met": measured["median"] <= limit})
        ratio = speedup[kind]
        # Stated as cached / fresh <= 1/8, so that "met" reads like every other target.
        inverse = figure((1 / value for value in ratio["values"]), "x")
        targets.append({"section": "render_cost",
                        "name": f"{what} frame, cached / fresh figure",
                        "limit": round(1 / MIN_SPEEDUP, 4), "measured": inverse,
                        "met": inverse["median"] <= 1 / MIN_SPEEDUP})
    return targets
