"""A one-off chart comparing training runs: the demo's batch vs mini-batch vs stochastic
gradient descent, drawn per training row processed and per gradient step.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from gdplot.models.snapshot import Snapshot
from gdplot.plots.live_plot import new_figure, spans_decades
from gdplot.plots.png import DPI, save_figure


def render_comparison(
    runs: Mapping[str, object],
    path: str | os.PathLike[str],
    *,
    title: str = "Batch vs mini-batch vs stochastic gradient descent",
    ylabel: str = "loss",
) -> Path:
    """Compare training runs on one chart; writes it to ``path`` atomically.

    ``runs`` maps a label to a fitted estimator or its :class:`Snapshot` (of the same data,
    ideally with ``record_steps``): two panels draw the training loss against the training
    rows processed (gradient evaluations: the fair measure of work across batch sizes) and
    against the gradient steps taken, both on log axes from the shared start at step 0
    (drawn at 0). Each legend entry gives the batch size and the learning rate. A dotted line
    marks one epoch's worth of rows.

    The second panel counts steps rather than seconds: a step count is the same on every
    machine and every run, and the two panels together show the trade: per row processed
    stochastic descent is far ahead, per step full-batch descent is.

    A mapping of plain loss histories (``{label: losses per epoch}``) draws those on one
    panel against the epoch, as before steps were recorded.
    """
    if not runs:
        raise ValueError("runs must name at least one run, got an empty mapping")
    if all(isinstance(run, (list, tuple, np.ndarray)) for run in runs.values()):
        return _render_histories(runs, path, title=title, ylabel=ylabel)
    curves = {label: _comparison_curve(label, run) for label, run in runs.items()}
    fig = Figure(figsize=(11.0, 5.2), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    by_samples, by_steps = fig.subplots(1, 2, sharey=True)
    all_losses = np.concatenate([curve["losses"] for curve in curves.values()])
    for index, (label, curve) in enumerate(curves.items()):
        style = {"color": f"C{index}", "linewidth": 1.4}
        by_samples.plot(curve["samples"], curve["losses"], label=curve["legend"], **style)
        by_steps.plot(curve["steps"], curve["losses"], **style)
    starts = [curve["losses"][0] for curve in curves.values() if curve["steps"][0] == 0]
    for ax in (by_samples, by_steps):
        if starts:
            ax.plot([0], [starts[0]], marker="o", color="black", linestyle="",
                    label="shared start (step 0)" if ax is by_samples else None, zorder=5)
        ax.set_xscale("symlog", linthresh=1.0, linscale=0.3)
        ax.set_xlim(left=0)
        ax.grid(True, which="major", alpha=0.3)
    epoch_rows = {curve["n_samples"] for curve in curves.values() if curve["n_samples"]}
    if len(epoch_rows) == 1:
        rows = epoch_rows.pop()
        by_samples.axvline(rows, color="grey", linestyle=":", linewidth=1,
                           label=f"one epoch ({rows:,} rows)")
    if spans_decades(all_losses):
        by_samples.set_yscale("log")
        # 0.2 rather than 2 x 10^-1: plain numbers read better (the panels share y).
        by_samples.yaxis.set_major_formatter("{x:g}")
        by_samples.yaxis.set_minor_formatter("{x:g}")
    by_samples.set_xlabel("training rows processed (gradient evaluations, log scale)")
    by_steps.set_xlabel("gradient steps taken (log scale)")
    by_samples.set_ylabel(ylabel)
    by_samples.set_title("per row processed: the work done", fontsize=10)
    by_steps.set_title("per gradient step: the updates made", fontsize=10)
    fig.legend(loc="outside lower center", ncols=2, fontsize=8)
    fig.suptitle(title)
    return save_figure(fig, path)


def _comparison_curve(label: str, run: object) -> dict[str, object]:
    """A run's loss against steps and rows processed, from its recorded steps if any, else
    from its epochs; its legend entry."""
    snapshot = run if isinstance(run, Snapshot) else getattr(run, "snapshot", None)
    if callable(snapshot):
        snapshot = snapshot()
    if not isinstance(snapshot, Snapshot):
        raise TypeError(
            f"runs[{label!r}] must be a fitted estimator, a Snapshot or a loss history, "
            f"got {type(run).__name__}"
        )
    n, batch = snapshot.n_samples, snapshot.batch_size
    if snapshot.steps is not None:
        steps = np.asarray(snapshot.steps)
        samples = np.asarray(snapshot.step_samples)
        losses = np.asarray(snapshot.step_losses, dtype=float)
    else:
        per_epoch = -(-n // batch) if n and batch else 1
        epochs = np.arange(snapshot.epoch + 1)
        steps, samples = epochs * per_epoch, epochs * n
        losses = np.concatenate([[snapshot.initial_loss], snapshot.history])
    size = f"all {n:,} rows" if batch and batch >= n else f"{batch} row{'s' if batch != 1 else ''}"
    legend = (f"{label}: batch size {size}, lr {snapshot.lr:.3g} "
              f"(final loss {snapshot.loss:.4g})")
    return {"steps": steps, "samples": samples, "losses": losses, "legend": legend,
            "n_samples": n}


def _render_histories(
    histories: Mapping[str, object], path: str | os.PathLike[str], *, title: str, ylabel: str
) -> Path:
    """Several loss histories (``{label: losses per epoch, shape (epochs,)}``) on one chart."""
    curves = {label: np.asarray(h, dtype=float) for label, h in histories.items()}
    for label, losses in curves.items():
        if losses.ndim != 1 or losses.size == 0:
            raise ValueError(
                f"histories[{label!r}] must be a non-empty 1-D loss history, "
                f"got shape {losses.shape}"
            )
    fig = new_figure()
    ax = fig.add_subplot()
    for label, losses in curves.items():
        ax.plot(np.arange(1, losses.size + 1), losses, label=f"{label} (final {losses[-1]:.4g})")
    if spans_decades(np.concatenate(list(curves.values()))):
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best")
    ax.set_title(title)
    return save_figure(fig, path)
