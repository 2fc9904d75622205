"""A one-off chart comparing several loss histories (the demo's batch vs mini-batch vs
stochastic gradient descent).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from gdplot.plots.live_plot import new_figure, spans_decades
from gdplot.plots.png import save_figure


def render_comparison(
    histories: Mapping[str, np.ndarray],
    path: str | os.PathLike[str],
    *,
    title: str = "Batch vs mini-batch vs stochastic gradient descent",
    ylabel: str = "loss",
) -> Path:
    """Several loss curves (``{label: losses per epoch, shape (epochs,)}``) on one chart."""
    if not histories:
        raise ValueError("histories must name at least one run, got an empty mapping")
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
