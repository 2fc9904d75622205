"""The loss surface under the descent's path: over two parameters, or a view through a longer path.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import BoundaryNorm
from matplotlib.figure import Figure

from gdplot.models.snapshot import Snapshot
from gdplot.plots.backgrounds import data_digest
from gdplot.plots.bands import band_palette, inner_pixels, paint
from gdplot.plots.landscape import (
    PathView,
    drawn_path,
    known_minimum,
    loss_grid,
    path_view,
    surface_path,
    surface_ranges,
)
from gdplot.plots.live_plot import (
    VIEW_GRID_POINTS,
    LivePlot,
    contour_levels,
    nice_ceil,
    nice_levels,
    nice_ticks,
    padded_range,
    spans_decades,
)


class SurfacePlot(LivePlot):
    """Loss contours over two parameters (``coef[0]`` and the intercept) and the path gradient
    descent took. The surface is the loss itself, fixed for the run, so its contour is drawn
    once into the background and a frame draws only the path. The loss is evaluated on the
    plotting sample.

    ``view`` (a :class:`PathView`): the fixed surface of an animation past two parameters,
    through its longest path, whose frames draw prefixes of that path.
    """

    what = "loss surface"

    def __init__(self, snapshot: Snapshot, *,
                 ranges: tuple[np.ndarray, np.ndarray] | None = None,
                 view: PathView | None = None) -> None:
        super().__init__(snapshot)
        ax = self.axes
        self._view = view
        if view is not None:
            self.ranges = view.ranges() if ranges is None else ranges
        else:
            self.ranges = surface_ranges([snapshot]) if ranges is None else ranges
        a_range, b_range = self.ranges
        ax.set_xlim(a_range[0], a_range[-1])
        ax.set_ylim(b_range[0], b_range[-1])
        _label_surface_axes(ax, snapshot)
        # The surface is the model's loss over the data (and over any parameters past the
        # two drawn, held at their values): the same inputs draw the same contour. A view's
        # surface depends on its path: never shared.
        held = np.append(snapshot.params["coef"], snapshot.params["intercept"])[2:]
        if view is not None or not self._reuse_background(
                snapshot.model, data_digest(snapshot.X, snapshot.y, a_range, b_range, held)):
            if view is not None:
                losses = view.loss_grid(snapshot, *self.ranges)
            else:
                losses = loss_grid(snapshot, *self.ranges)
            levels = contour_levels(losses)
            if levels is not None:
                filled = ax.contourf(a_range, b_range, losses, levels=levels,
                                     cmap="viridis", norm=BoundaryNorm(levels, 256), alpha=0.8)
                _colorbar_ticks(self.figure.colorbar(filled, ax=ax, label="loss"), levels)
            if view is not None:
                _caption_view(self.figure, snapshot)
        self.path_line, self.start, self.now = _path_artists(ax)
        self._animate(self.path_line)
        minimum = known_minimum(snapshot) if view is None else None
        if minimum is not None:  # over the path, which may circle it; under the current point
            (marker,) = ax.plot(*minimum, marker="X", color="black", markeredgecolor="white",
                                markersize=10, linestyle="", label="minimum")
            self._animate(marker)
        self._animate(self.start, self.now)
        self._animate_legend()

    def fits(self, snapshot: Snapshot) -> bool:
        if self._view is not None:
            return True
        points = drawn_path(snapshot)
        a_range, b_range = self.ranges
        return bool(np.all((a_range[0] <= points[:, 0]) & (points[:, 0] <= a_range[-1])
                           & (b_range[0] <= points[:, 1]) & (points[:, 1] <= b_range[-1])))

    def update(self, snapshot: Snapshot) -> None:
        super().update(snapshot)
        if self._view is not None:
            points = self._view.drawn(snapshot.epoch)
        else:
            points = drawn_path(snapshot)
        _set_path(self.path_line, self.start, self.now, points)


class PathSurfacePlot(LivePlot):
    """The live loss surface past two parameters: the :class:`PathView` of the path so far,
    on which every drawn point lies on its own loss.

    The view follows the path, so the surface is evaluated anew every frame (on a small
    grid) and painted straight into the axes' pixels, in bands of fixed levels; the axes,
    their ranges and the colour bar stay in the background, which is redrawn only when the
    path leaves the ranges or the losses leave the levels (both grow in steps).
    """

    what = "loss surface"
    ALPHA = 0.8
    LEVELS = 20

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__(snapshot)
        ax = self.axes
        view = path_view(snapshot)
        self.ranges = tuple(_stepped_range(view.coords[:, axis]) for axis in (0, 1))
        losses = view.loss_grid(snapshot, *self.ranges)
        self._seen = (snapshot.epoch, view, losses)
        self.levels = nice_levels(losses, self.LEVELS)
        mappable = ScalarMappable(BoundaryNorm(self.levels, 256), "viridis")
        colorbar = self.figure.colorbar(mappable, ax=ax, label="loss", alpha=self.ALPHA)
        _colorbar_ticks(colorbar, self.levels)
        self._palette = band_palette(mappable, self.levels, self.ALPHA)
        ax.set_xlim(self.ranges[0][0], self.ranges[0][-1])
        ax.set_ylim(self.ranges[1][0], self.ranges[1][-1])
        _label_surface_axes(ax, snapshot)
        _caption_view(self.figure, snapshot)
        self.path_line, self.start, self.now = _path_artists(ax)
        self._animate(self.path_line, self.start, self.now)
        self._animate_legend()
        self._pixels = None  # the axes' inner pixels and where they fall on the grid

    def _view_of(self, snapshot: Snapshot) -> tuple[PathView, np.ndarray]:
        epoch, view, losses = self._seen
        if epoch != snapshot.epoch:
            view = path_view(snapshot)
            losses = view.loss_grid(snapshot, *self.ranges)
            self._seen = (snapshot.epoch, view, losses)
        return view, losses

    def fits(self, snapshot: Snapshot) -> bool:
        view, losses = self._view_of(snapshot)
        (a_range, b_range), coords = self.ranges, view.coords
        inside = np.all((a_range[0] <= coords[:, 0]) & (coords[:, 0] <= a_range[-1])
                        & (b_range[0] <= coords[:, 1]) & (coords[:, 1] <= b_range[-1]))
        finite = losses[np.isfinite(losses)]
        within = finite.size and self.levels[0] <= finite.min() and finite.max() <= self.levels[-1]
        return bool(inside and within)

    def update(self, snapshot: Snapshot) -> None:
        super().update(snapshot)
        view, _ = self._view_of(snapshot)
        _set_path(self.path_line, self.start, self.now, view.coords)

    def frame(self, snapshot: Snapshot) -> np.ndarray:
        canvas = self.figure.canvas
        if self._restore_background():
            rows, cols, xs, ys = inner_pixels(self.figure, self.axes)
            # Bilinear interpolation from the grid to the pixels, fixed with the ranges:
            # values = down @ losses @ across (see _interpolation_matrix).
            self._pixels = (rows, cols, _interpolation_matrix(self.ranges[1], ys),
                            _interpolation_matrix(self.ranges[0], xs).T)
        self.update(snapshot)
        _, losses = self._view_of(snapshot)
        rows, cols, down, across = self._pixels
        values = down @ losses @ across
        bands = np.clip(np.searchsorted(self.levels, values) - 1, 0, len(self._palette) - 1)
        buffer = np.asarray(canvas.buffer_rgba())
        paint(buffer, rows, cols, self._palette, bands[::-1])  # buffer rows run top-down
        self._draw_changing()
        return buffer


def surface_plot(snapshot: Snapshot, *, ranges: tuple[np.ndarray, np.ndarray] | None = None,
                 view: PathView | None = None) -> LivePlot:
    """The surface plot for ``snapshot``: a fixed contour for two parameters (or a given
    ``view``), else the live :class:`PathSurfacePlot`."""
    if view is not None or surface_path(snapshot).shape[1] == 2:
        return SurfacePlot(snapshot, ranges=ranges, view=view)
    return PathSurfacePlot(snapshot)


def _path_artists(ax) -> tuple:
    (path_line,) = ax.plot([], [], color="white", linewidth=1.5, marker="o", markersize=3,
                           markeredgecolor="black", label="path")
    (start,) = ax.plot([], [], marker="s", color="orange", markersize=7, linestyle="",
                       label="start")
    (now,) = ax.plot([], [], marker="*", color="red", markersize=12, linestyle="", label="now")
    return path_line, start, now


def _set_path(path_line, start, now, points: np.ndarray) -> None:
    path_line.set_data(points[:, 0], points[:, 1])
    # Past ~100 points the markers overlap anyway; drawing each would only cost time.
    path_line.set_markevery(max(1, len(points) // 100))
    start.set_data(points[:1, 0], points[:1, 1])
    now.set_data(points[-1:, 0], points[-1:, 1])


def _label_surface_axes(ax, snapshot: Snapshot) -> None:
    if surface_path(snapshot).shape[1] == 2:
        ax.set_xlabel(f"slope: {_coef_name(snapshot, 0)}")
        ax.set_ylabel("intercept (the output where the feature is 0)")
    else:
        ax.set_xlabel("along the path's main direction (distance in parameter space)")
        ax.set_ylabel("along its second direction")


def _caption_view(figure: Figure, snapshot: Snapshot) -> None:
    """One line under a principal-direction view saying what it shows."""
    figure.supxlabel(
        f"The {surface_path(snapshot).shape[1]} parameters seen in the plane of the two "
        "directions the path moved in most (PCA), from the start;\nthe loss shown under each "
        "path point is its own.", fontsize=8, color="dimgrey")


def _stepped_range(values: np.ndarray, points: int = VIEW_GRID_POINTS) -> np.ndarray:
    """A padded grid over ``values`` with ends on multiples of a 1-2-5 step, so that a range
    grown as the path moves changes only now and then."""
    padded = padded_range(values, 2)
    step = nice_ceil((padded[1] - padded[0]) / 4)
    return np.linspace(math.floor(padded[0] / step) * step, math.ceil(padded[1] / step) * step,
                       points)


def _colorbar_ticks(colorbar, levels: np.ndarray) -> None:
    """Label a colour bar of bands with nice numbers (see :func:`nice_ticks`)."""
    colorbar.set_ticks(nice_ticks(float(levels[0]), float(levels[-1])))
    if spans_decades(levels):
        colorbar.ax.yaxis.set_major_formatter("{x:g}")
    colorbar.ax.minorticks_off()


def _interpolation_matrix(values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``(at.size, values.size)``: row ``k`` linearly interpolates at ``at[k]`` between the
    two nearest of the increasing ``values`` (clamped at the ends). Bilinear interpolation
    is linear along each axis in turn, so a grid ``(b, a)`` goes to pixels ``(ys, xs)`` as
    ``B @ grid @ A.T``: two small BLAS products instead of four gathers per pixel."""
    position = np.interp(at, values, np.arange(values.size))
    index = np.clip(position.astype(np.intp), 0, values.size - 2)
    weight = position - index
    matrix = np.zeros((at.size, values.size))
    rows = np.arange(at.size)
    matrix[rows, index] = 1 - weight
    matrix[rows, index + 1] = weight
    return matrix


def _coef_name(snapshot: Snapshot, index: int) -> str:
    if index < len(snapshot.feature_names) and snapshot.feature_names[index]:
        return f"coef of {snapshot.feature_names[index]}"
    return f"coef[{index}]"


# --------------------------------------------------------------------------- surfaces
