"""Renderers: draw one :class:`~gdplot.snapshot.Snapshot` into one image file.

Every renderer is a module-level function ``render(snapshot, path)`` so that it pickles and
can run on a worker thread or in another process while training goes on. Each call builds
its own :class:`~matplotlib.figure.Figure` on an Agg canvas: pyplot's global state is not
thread-safe, a private figure is. Files are written atomically, so a reader (or a crash)
never sees half a PNG.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from gdplot.model_maths import model_maths
from gdplot.snapshot import Snapshot

__all__ = [
    "RENDERERS",
    "atomic_writer",
    "check_renderer_fits",
    "loss_grid",
    "render_boundary",
    "render_comparison",
    "render_fit",
    "render_loss",
    "render_surface",
    "renderer_problem",
    "save_figure",
    "surface_ranges",
]

FIGSIZE = (6.4, 4.8)
DPI = 100
GRID_POINTS = 60
# Bounds the (grid points x samples) block of the loss grid held in memory at once.
_GRID_BLOCK_ELEMENTS = 2_000_000


# --------------------------------------------------------------------------- atomic files


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Open a temp file beside ``path`` for binary writing; on success it replaces ``path``.

    On any exception the temp file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    # Created with 0o666 minus the umask, like a plain open(), unlike mkstemp's 0o600.
    temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            yield file
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def save_figure(fig: Figure, path: str | os.PathLike[str]) -> Path:
    """Save ``fig`` to ``path`` atomically (format from the suffix, PNG by default)."""
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    with atomic_writer(path) as file:
        fig.savefig(file, format=fmt)
    return path


def _new_figure() -> Figure:
    fig = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _title(snapshot: Snapshot, what: str) -> str:
    run = f" ({snapshot.label})" if snapshot.label else ""
    model = snapshot.maths.title
    return f"{model}{run}: {what}\nepoch {snapshot.epoch}, loss {snapshot.loss:.4g}"


def _spans_decades(values: np.ndarray) -> bool:
    finite = values[np.isfinite(values)]
    return finite.size > 1 and finite.min() > 0 and finite.max() / finite.min() >= 100


def _feature_count(snapshot: Snapshot) -> int:
    return np.shape(snapshot.X)[1]


# --------------------------------------------------------------------------- renderers


def render_loss(snapshot: Snapshot, path: str | os.PathLike[str]) -> Path:
    """Loss per epoch so far (epoch 0: before training); log scale if it spans decades."""
    epochs = np.arange(1, len(snapshot.history) + 1)
    losses = np.asarray(snapshot.history, dtype=float)
    if np.isfinite(snapshot.initial_loss):
        epochs = np.concatenate([[0], epochs])
        losses = np.concatenate([[snapshot.initial_loss], losses])
    fig = _new_figure()
    ax = fig.add_subplot()
    ax.plot(epochs, losses, marker="o" if len(losses) < 30 else None, markersize=3)
    if _spans_decades(losses):
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.grid(True, alpha=0.3)
    ax.set_title(_title(snapshot, "training loss"))
    return save_figure(fig, path)


def render_fit(snapshot: Snapshot, path: str | os.PathLike[str]) -> Path:
    """The data and the model's current curve over its single feature.

    Regression: the prediction. Logistic: the probability of class 1 over the 0/1 labels.
    """
    check_renderer_fits("fit", snapshot)
    x = snapshot.X[:, 0]
    grid = np.linspace(x.min(), x.max(), 200)
    fig = _new_figure()
    ax = fig.add_subplot()
    ax.scatter(x, snapshot.y, s=10, alpha=0.5, label="data")
    maths = snapshot.maths
    ax.plot(grid, snapshot.decision(grid[:, None]), color="C3", linewidth=2,
            label=maths.output_label)
    if maths.task == "classification":
        ax.axhline(0.5, color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend(loc="best")
    ax.set_title(_title(snapshot, "current fit"))
    return save_figure(fig, path)


def render_boundary(snapshot: Snapshot, path: str | os.PathLike[str]) -> Path:
    """Probability contours and the 0.5 decision boundary of a 2-feature logistic model."""
    check_renderer_fits("boundary", snapshot)
    x0, x1 = snapshot.X[:, 0], snapshot.X[:, 1]
    g0, g1 = np.meshgrid(_padded_range(x0), _padded_range(x1))
    proba = snapshot.decision(np.column_stack([g0.ravel(), g1.ravel()])).reshape(g0.shape)
    fig = _new_figure()
    ax = fig.add_subplot()
    filled = ax.contourf(g0, g1, proba, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
    fig.colorbar(filled, ax=ax, label="P(y = 1)")
    if proba.min() < 0.5 < proba.max():
        ax.contour(g0, g1, proba, levels=[0.5], colors="black", linewidths=2)
    for label, color in ((0, "tab:blue"), (1, "tab:red")):
        members = snapshot.y == label
        ax.scatter(
            x0[members],
            x1[members],
            color=color,
            s=14,
            edgecolors="white",
            linewidths=0.5,
            label=f"y = {label}",
        )
    ax.legend(loc="best")
    ax.set_xlabel("x[0]")
    ax.set_ylabel("x[1]")
    ax.set_title(_title(snapshot, "decision boundary"))
    return save_figure(fig, path)


def render_surface(
    snapshot: Snapshot,
    path: str | os.PathLike[str],
    *,
    ranges: tuple[np.ndarray, np.ndarray] | None = None,
) -> Path:
    """Loss contours over two parameters and the path gradient descent took so far.

    The two parameters are the first two entries of ``[*coef, intercept]``: ``(coef[0],
    intercept)`` for one feature, ``(coef[0], coef[1])`` otherwise, with the rest held at
    their current values. The loss is evaluated on the plotting sample. ``ranges``, the
    ``(a_values, b_values)`` grid to draw over, defaults to ``surface_ranges([snapshot])``;
    the frames of an animation share one, so that their axes hold still.
    """
    path_taken = _surface_path(snapshot)
    names = [f"coef[{i}]" for i in range(_feature_count(snapshot))] + ["intercept"]
    a_range, b_range = surface_ranges([snapshot]) if ranges is None else ranges
    losses = loss_grid(snapshot, a_range, b_range)
    fig = _new_figure()
    ax = fig.add_subplot()
    levels = _contour_levels(losses)
    if levels is not None:
        filled = ax.contourf(a_range, b_range, losses, levels=levels, cmap="viridis", alpha=0.8)
        fig.colorbar(filled, ax=ax, label="loss")
    ax.plot(
        path_taken[:, 0],
        path_taken[:, 1],
        color="white",
        linewidth=1.5,
        marker="o",
        markersize=3,
        markeredgecolor="black",
        label="path",
    )
    ax.plot(
        *path_taken[0, :2], marker="s", color="orange", markersize=7, linestyle="", label="start"
    )
    ax.plot(*path_taken[-1, :2], marker="*", color="red", markersize=12, linestyle="", label="now")
    ax.legend(loc="best")
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    ax.set_title(_title(snapshot, "loss surface"))
    return save_figure(fig, path)


def loss_grid(snapshot: Snapshot, a_values: np.ndarray, b_values: np.ndarray) -> np.ndarray:
    """The loss on the plotting sample over a grid of the first two flat parameters.

    ``a_values`` (shape ``(na,)``) replaces the first entry of ``[*coef, intercept]``,
    ``b_values`` (shape ``(nb,)``) the second; the others keep their current values.
    Returns shape ``(nb, na)`` (rows follow ``b``, as contour plots expect): MSE for linear
    models, the mean negative log-likelihood for logistic ones.
    """
    design = _design(snapshot)
    y = np.asarray(snapshot.y, dtype=float)
    loss_of_z = snapshot.maths.loss_of_z
    flat = np.append(snapshot.params["coef"], snapshot.params["intercept"])
    fixed_part = design[:, 2:] @ flat[2:]
    a_grid, b_grid = np.meshgrid(a_values, b_values)
    a_flat, b_flat = a_grid.ravel(), b_grid.ravel()
    out = np.empty(a_flat.size)
    # One (block x samples) matrix at a time: vectorised, with bounded memory.
    block = max(1, _GRID_BLOCK_ELEMENTS // max(1, len(design)))
    for start in range(0, a_flat.size, block):
        stop = start + block
        z = (
            np.outer(a_flat[start:stop], design[:, 0])
            + np.outer(b_flat[start:stop], design[:, 1])
            + fixed_part
        )
        out[start:stop] = loss_of_z(z, y)
    return out.reshape(a_grid.shape)


def surface_ranges(snapshots: Sequence[Snapshot]) -> tuple[np.ndarray, np.ndarray]:
    """The ``(a_values, b_values)`` grid of the surface plot that shows every snapshot's path.

    For linear models it also takes in the least-squares optimum of the two parameters, so
    the bowl shows where descent is heading, not only where it has been.
    """
    points = []
    for snapshot in snapshots:
        path_taken = _surface_path(snapshot)
        points.append(path_taken[:, :2])
        if snapshot.maths.task == "regression":  # a linear least-squares model
            design = _design(snapshot)
            flat = path_taken[-1]
            target = snapshot.y - design[:, 2:] @ flat[2:]
            optimum = np.linalg.lstsq(design[:, :2], target, rcond=None)[0]
            if np.all(np.isfinite(optimum)):
                points.append(optimum[None, :])
    if not points:
        raise ValueError("surface_ranges needs at least one snapshot, got none")
    stacked = np.vstack(points)
    return _padded_range(stacked[:, 0]), _padded_range(stacked[:, 1])


def _design(snapshot: Snapshot) -> np.ndarray:
    """The plotting sample with a column of ones: ``design @ [*coef, intercept]`` is ``z``."""
    X = np.asarray(snapshot.X, dtype=float)
    return np.column_stack([X, np.ones(len(X))])


def _surface_path(snapshot: Snapshot) -> np.ndarray:
    """The snapshot's parameter path, shape ``(epoch + 1, n_params)``, if it can be drawn."""
    check_renderer_fits("surface", snapshot)
    if snapshot.path is None:
        raise ValueError("the 'surface' plot needs the snapshot's parameter path, got path=None")
    return np.asarray(snapshot.path, dtype=float)


def _padded_range(values: np.ndarray, points: int = GRID_POINTS) -> np.ndarray:
    finite = values[np.isfinite(values)]
    low, high = (finite.min(), finite.max()) if finite.size else (-1.0, 1.0)
    pad = max(0.25 * (high - low), 0.1 * max(abs(low), abs(high)), 0.5)
    return np.linspace(low - pad, high + pad, points)


def _contour_levels(values: np.ndarray, count: int = 20) -> np.ndarray | None:
    finite = values[np.isfinite(values)]
    if finite.size == 0 or finite.max() <= finite.min():
        return None  # a flat surface has no contours to draw
    if _spans_decades(finite):
        return np.geomspace(finite.min(), finite.max(), count)
    return np.linspace(finite.min(), finite.max(), count)


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
    fig = _new_figure()
    ax = fig.add_subplot()
    for label, losses in curves.items():
        ax.plot(np.arange(1, losses.size + 1), losses, label=f"{label} (final {losses[-1]:.4g})")
    if _spans_decades(np.concatenate(list(curves.values()))):
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best")
    ax.set_title(title)
    return save_figure(fig, path)


Renderer = Callable[[Snapshot, "str | os.PathLike[str]"], object]

RENDERERS: dict[str, Renderer] = {
    "loss": render_loss,
    "fit": render_fit,
    "boundary": render_boundary,
    "surface": render_surface,
}


# --------------------------------------------------------------------------- what each draws


def _fit_problem(model: str, n_features: int) -> str | None:
    if n_features == 1:
        return None
    return (
        f"the 'fit' plot needs exactly 1 feature, got {n_features} features "
        "(use 'boundary' for 2-feature classification or 'surface'/'loss')"
    )


def _boundary_problem(model: str, n_features: int) -> str | None:
    if model_maths(model).task == "classification" and n_features == 2:
        return None
    return (
        "the 'boundary' plot needs a logistic model with exactly 2 features, "
        f"got model={model!r} with {n_features} features"
    )


def _surface_problem(model: str, n_features: int) -> str | None:
    if model_maths(model).linear_in_params:
        return None
    return (
        "the 'surface' plot needs a linear or logistic model with a parameter path, "
        f"got model={model!r}"
    )


_PROBLEMS: dict[str, Callable[[str, int], str | None]] = {
    "fit": _fit_problem,
    "boundary": _boundary_problem,
    "surface": _surface_problem,
}


def renderer_problem(kind: str, model: str, n_features: int) -> str | None:
    """Why the built-in plot ``kind`` cannot draw a ``model`` (``"linear"``, ``"logistic"``,
    ``"mlp"``) fitted on ``n_features`` features, or ``None`` if it can (``"loss"`` draws any)."""
    problem = _PROBLEMS.get(kind)
    return None if problem is None else problem(model, n_features)


def check_renderer_fits(kind: str | Renderer, snapshot: Snapshot) -> None:
    """Raise ``ValueError`` if the built-in plot ``kind`` (its name or its function in
    ``RENDERERS``) cannot draw ``snapshot``'s model; any other renderer is not checked.

    The renderers call it first; plot callbacks call it before training starts.
    """
    if not isinstance(kind, str):
        kind = next((name for name, render in RENDERERS.items() if render is kind), "")
    problem = renderer_problem(kind, snapshot.model, _feature_count(snapshot))
    if problem is not None:
        raise ValueError(problem)
