"""A classifier's decision boundary and probability bands over its two features.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import BoundaryNorm

from gdplot.models.snapshot import Snapshot
from gdplot.plots.backgrounds import data_digest
from gdplot.plots.bands import band_palette, inner_pixels, paint, words
from gdplot.plots.live_plot import LivePlot, padded_range


class BoundaryPlot(LivePlot):
    """Class-1 probability in bands of 0.1 and the 0.5 decision boundary of a 2-feature
    classifier, over the data.

    A frame paints the probability bands straight into the axes' pixels (one model score
    per pixel, a palette lookup: no image resampling), draws the boundary line, then puts
    back the data points, whose pixels were captured once over the background: the points,
    the axes and the colour bar are never drawn again. With an increasing link (the logistic
    one is) a pixel's band is read off its score ``z`` against the scores at which the link
    crosses each level, found once per plot: the link is never evaluated per pixel.
    """

    what = "decision boundary"
    LEVELS = np.linspace(0, 1, 11)
    ALPHA = 0.6

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__(snapshot)
        ax = self.axes
        x0, x1 = snapshot.X[:, 0], snapshot.X[:, 1]
        self._g0, self._g1 = padded_range(x0), padded_range(x1)
        self._extent = (self._g0[0], self._g0[-1], self._g1[0], self._g1[-1])
        self._mappable = ScalarMappable(BoundaryNorm(self.LEVELS, 256), "RdBu_r")
        self.figure.colorbar(self._mappable, ax=ax, label=f"P({snapshot.class_name(1)})",
                             alpha=self.ALPHA)
        self._palette = band_palette(self._mappable, self.LEVELS, self.ALPHA)
        self._level_scores = _crossings(snapshot.maths.link, self.LEVELS[1:-1])
        self._coarse = np.column_stack([g.ravel() for g in np.meshgrid(self._g0, self._g1)])
        (self.boundary,) = ax.plot([], [], color="black", linewidth=2)
        self._animate(self.boundary)
        self._points = []
        for label, color in ((0, "tab:blue"), (1, "tab:red")):
            members = snapshot.y == label
            self._points.append(ax.scatter(x0[members], x1[members], color=color, s=14,
                                            edgecolors="white", linewidths=0.5,
                                            label=snapshot.class_name(label)))
            self._points[-1].set_animated(True)  # not in the background: captured on top
        ax.set_xlim(self._extent[:2])
        ax.set_ylim(self._extent[2:])
        ax.set_xlabel(snapshot.feature_name(0))
        ax.set_ylabel(snapshot.feature_name(1))
        self._animate_legend()
        self._reuse_background(data_digest(x0, x1, snapshot.y), snapshot.class_name(0),
                               snapshot.class_name(1))
        self._band_pixels = None  # (rows, cols) slices of the axes' inside, in the buffer
        self._grid = np.empty((0, 2))
        # The points' pixels: flat indices into the buffer (as uint32) and their colours.
        self._point_index = np.empty(0, np.intp)
        self._point_colours = np.empty(0, np.uint32)
        #: Each inner pixel's band (0..9: probability in [b/10, (b+1)/10)), rows bottom-up.
        self.bands = np.empty((0, 0), np.uint8)

    def update(self, snapshot: Snapshot) -> None:
        super().update(snapshot)
        if self._band_pixels is not None:
            rows, cols = self._band_pixels
            shape = (rows.stop - rows.start, cols.stop - cols.start)
            self.bands = self._bands_of(snapshot).reshape(shape)
        proba = snapshot.decision(self._coarse).reshape(self._g1.size, self._g0.size)
        self.boundary.set_data(*_level_line(self._g0, self._g1, proba, 0.5))

    def _bands_of(self, snapshot: Snapshot) -> np.ndarray:
        """Each grid point's band, from its score if the link is increasing."""
        if self._level_scores is None:
            proba = snapshot.decision(self._grid)
            return np.clip(proba * 10, 0, 9).astype(np.uint8)
        scores = snapshot.maths.raw_output(snapshot.params, self._grid)
        bands = np.zeros(scores.shape, np.uint8)
        above = np.empty(scores.shape, bool)
        for score in self._level_scores:  # the band counts the levels at or below p
            np.greater_equal(scores, score, out=above)
            bands += above
        return bands

    def frame(self, snapshot: Snapshot) -> np.ndarray:
        canvas = self.figure.canvas
        if self._restore_background():
            self._capture_points()
        self.update(snapshot)
        buffer = np.asarray(canvas.buffer_rgba())
        rows, cols = self._band_pixels
        paint(buffer, rows, cols, self._palette, self.bands[::-1])  # buffer rows: top-down
        self.figure.draw_artist(self.boundary)
        words(buffer).reshape(-1)[self._point_index] = self._point_colours
        self._draw_legend()
        self._draw_status()
        return buffer

    def _capture_points(self) -> None:
        """The axes' inner pixels and their data coordinates; the points' pixels, drawn
        once over the background (their white edges hide where they met it)."""
        canvas = self.figure.canvas
        rows, cols, xs, ys = inner_pixels(self.figure, self.axes)
        self._band_pixels = (rows, cols)
        self._grid = np.column_stack([g.ravel() for g in np.meshgrid(xs, ys)])
        before = np.array(canvas.buffer_rgba())
        for points in self._points:
            points.draw(canvas.get_renderer())
        after = np.asarray(canvas.buffer_rgba())
        self._point_index = np.flatnonzero(np.any(after != before, axis=2))
        self._point_colours = words(after).reshape(-1)[self._point_index].copy()
        canvas.restore_region(self._background)


def _crossings(link: Callable[[np.ndarray], np.ndarray],
               levels: np.ndarray) -> np.ndarray | None:
    """The scores ``z`` at which an increasing ``link`` reaches each of ``levels`` (so that
    ``link(z) >= level`` exactly when ``z >= crossing``, to rounding); ``None`` if ``link`` is
    not increasing over the scores that matter (then the bands come from ``link`` itself).
    A level the link never reaches gets ``inf``; one it always passes, ``-inf``."""
    scores = np.linspace(-50.0, 50.0, 2001)
    values = np.asarray(link(scores), dtype=float)
    if values.shape != scores.shape or not np.all(np.diff(values) >= 0):
        return None
    low = np.full(levels.shape, scores[0])
    high = np.full(levels.shape, scores[-1])
    for _ in range(60):  # bisection: the bracket shrinks 2**60-fold, to rounding
        middle = (low + high) / 2
        reached = np.asarray(link(middle), dtype=float) >= levels
        high = np.where(reached, middle, high)
        low = np.where(reached, low, middle)
    crossings = high.copy()
    crossings[levels > values[-1]] = np.inf
    crossings[levels <= values[0]] = -np.inf
    return crossings


def _level_line(xs: np.ndarray, ys: np.ndarray, values: np.ndarray,
                level: float) -> tuple[np.ndarray, np.ndarray]:
    """The ``level`` contour of ``values`` (rows follow ``ys``) as one polyline, its pieces
    separated by NaN; empty if the level is not crossed."""
    import contourpy  # a matplotlib dependency

    if not (np.nanmin(values) < level < np.nanmax(values)):
        return np.empty(0), np.empty(0)
    pieces = contourpy.contour_generator(xs, ys, values).lines(level)
    joined = np.concatenate([np.vstack([piece, [np.nan, np.nan]]) for piece in pieces])
    return joined[:, 0], joined[:, 1]
