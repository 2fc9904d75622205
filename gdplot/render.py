"""Drawing: one plot of one :class:`~gdplot.snapshot.Snapshot`, kept alive between frames.

Each plot kind is a :class:`LivePlot`: it builds its own :class:`~matplotlib.figure.Figure`
on an Agg canvas (never pyplot, whose global state is not thread-safe), with everything that
stays put for a run drawn once into a *background* (axes, ticks, labels, grid, the data, a
two-parameter loss contour), and the few artists that change per frame (a line, a path, a
title) marked animated. A frame restores the background, draws only those artists on top
(Agg ``restore_region``/``draw_artist``) and encodes the pixels as a PNG: a few milliseconds
instead of a whole figure. The background is redrawn, and the layout solved again, only when
the axes must change (say the loss leaves its y-range, which grows a step at a time). A new
plot whose background an earlier one drew from the same inputs restores those pixels instead
(:mod:`gdplot.backgrounds`); the title's status line is stamped from cached glyphs
(:mod:`gdplot.glyphs`).

A fresh render is the same code run once, so a cached frame and a fresh one agree.
Which plot suits which model, and the per-worker cache of live plots, are in
:mod:`gdplot.renderers`; atomic file writing is in :mod:`gdplot.atomic`.
"""

from __future__ import annotations

import math
import os
import struct
import zlib
from collections.abc import Callable, Hashable, Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.colors import BoundaryNorm
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import Bbox

from gdplot.atomic import atomic_writer, write_bytes_atomic
from gdplot.backgrounds import Background, background_key, backgrounds, data_digest
from gdplot.glyphs import TextStamp
from gdplot.snapshot import Snapshot

__all__ = [
    "BoundaryPlot",
    "FitPlot",
    "LivePlot",
    "LossPlot",
    "PLOTS",
    "PathSurfacePlot",
    "SurfacePlot",
    "encode_png",
    "loss_grid",
    "PathView",
    "path_view",
    "render_comparison",
    "save_figure",
    "surface_ranges",
]

FIGSIZE = (6.4, 4.8)
DPI = 100
GRID_POINTS = 60
#: The grid of a surface past two parameters, recomputed every frame: coarser, as it costs
#: (points x path length + points x samples) per frame.
VIEW_GRID_POINTS = 30
#: The most path points such a view draws (evenly spread, first and last always): each is
#: a node the surface passes through exactly.
MAX_VIEW_POINTS = 60
#: zlib level of frame PNGs: 1 deflates in about half the time of 6, for ~15% larger files.
PNG_COMPRESS_LEVEL = 1
# Bounds the (grid points x samples) block of the loss grid held in memory at once.
_GRID_BLOCK_ELEMENTS = 2_000_000


# --------------------------------------------------------------------------- files


def save_figure(fig: Figure, path: str | os.PathLike[str]) -> Path:
    """Save ``fig`` to ``path`` atomically (format from the suffix, PNG by default)."""
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    with atomic_writer(path) as file:
        fig.savefig(file, format=fmt)
    return path


def encode_png(rgba: np.ndarray | memoryview, dpi: float = DPI) -> bytes:
    """PNG bytes of an ``(height, width, 4)`` uint8 RGBA buffer.

    Written here rather than by Pillow: rows unfiltered, then one zlib stream. On plots (flat
    colours, thin lines) that is smaller than Pillow's adaptive filtering and about twice as
    fast, and ``zlib.compress`` releases the GIL while it deflates, so a frame encoding on a
    worker thread leaves the training thread free.
    """
    pixels = np.asarray(rgba)
    height, width, channels = pixels.shape
    if channels != 4 or pixels.dtype != np.uint8:
        raise ValueError(f"rgba must be (height, width, 4) uint8, got {pixels.shape} {pixels.dtype}")
    rows = np.empty((height, 1 + 4 * width), dtype=np.uint8)
    rows[:, 0] = 0  # filter type 0 (none) for every row
    rows[:, 1:] = pixels.reshape(height, 4 * width)
    per_metre = round(dpi / 0.0254)
    return b"".join([
        b"\x89PNG\r\n\x1a\n",
        _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)),
        _png_chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),
        _png_chunk(b"IDAT", zlib.compress(rows.data, PNG_COMPRESS_LEVEL)),
        _png_chunk(b"IEND", b""),
    ])


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _new_figure() -> Figure:
    fig = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


# --------------------------------------------------------------------------- text


def _title(snapshot: Snapshot, what: str) -> str:
    """``Model (label): what`` then ``epoch N, loss L``; a label that only repeats the model's
    kind or title is left out, so each thing is said once."""
    return f"{_heading(snapshot, what)}\n{_status(snapshot)}"


def _heading(snapshot: Snapshot, what: str) -> str:
    model = snapshot.maths.title
    label = snapshot.label.strip()
    repeats = label.casefold() in {"", snapshot.model.casefold(), model.casefold()}
    run = "" if repeats else f" ({label})"
    return f"{model}{run}: {what}"


def _status(snapshot: Snapshot) -> str:
    return f"epoch {snapshot.epoch}, loss {snapshot.loss:.4g}"


# --------------------------------------------------------------------------- limits

_MANTISSAS = (1.0, 2.0, 5.0)


def _nice_ceil(value: float) -> float:
    """The smallest ``m * 10**k`` (``m`` in 1, 2, 5) >= ``value`` (> 0). Monotone in
    ``value``, so a range grown from a prefix of the data ends where the whole data's does."""
    exponent = math.floor(math.log10(value))
    for mantissa in (*_MANTISSAS, 10.0):
        candidate = mantissa * 10.0**exponent
        if candidate >= value * (1 - 1e-12):
            return candidate
    return 10.0 ** (exponent + 1)


def _nice_floor(value: float) -> float:
    """The largest ``m * 10**k`` (``m`` in 1, 2, 5) <= ``value`` (> 0); monotone."""
    exponent = math.floor(math.log10(value))
    for mantissa in (10.0, *reversed(_MANTISSAS)):
        candidate = mantissa * 10.0**exponent
        if candidate <= value * (1 + 1e-12):
            return candidate
    return 10.0 ** (exponent - 1)


def _spans_decades(values: np.ndarray) -> bool:
    finite = values[np.isfinite(values)]
    return finite.size > 1 and finite.min() > 0 and finite.max() / finite.min() >= 100


def _loss_axis(losses: np.ndarray) -> tuple[str, tuple[float, float]]:
    """``(scale, (low, high))`` for a loss curve: log with whole decades if it spans decades,
    else linear between 1-2-5 steps. Both ends move only outwards as the curve grows."""
    finite = losses[np.isfinite(losses)]
    if finite.size == 0:
        return "linear", (0.0, 1.0)
    low, high = float(finite.min()), float(finite.max())
    if _spans_decades(finite):
        return "log", (10.0 ** math.floor(math.log10(low)), 10.0 ** math.ceil(math.log10(high)))
    top = _nice_ceil(high) if high > 0 else 1.0
    bottom = _nice_floor(low) if low > 0 else (low if low < 0 else 0.0)
    if 0 < bottom <= 0.2 * top:  # so close to zero that zero reads better (and stays put)
        bottom = 0.0
    if bottom >= top:
        bottom = 0.0 if top > 0 else top - 1.0
    return "linear", (bottom, top)


def _padded_range(values: np.ndarray, points: int = GRID_POINTS) -> np.ndarray:
    finite = values[np.isfinite(values)]
    low, high = (finite.min(), finite.max()) if finite.size else (-1.0, 1.0)
    pad = max(0.25 * (high - low), 0.1 * max(abs(low), abs(high)), 0.5)
    return np.linspace(low - pad, high + pad, points)


def _margins(values: np.ndarray, fraction: float = 0.05) -> tuple[float, float]:
    """matplotlib's default 5% margins around ``values`` (what autoscaling would show)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return -1.0, 1.0
    low, high = float(finite.min()), float(finite.max())
    pad = (high - low) * fraction or max(abs(low) * fraction, 0.5)
    return low - pad, high + pad


def _contour_levels(values: np.ndarray, count: int = 20) -> np.ndarray | None:
    finite = values[np.isfinite(values)]
    if finite.size == 0 or finite.max() <= finite.min():
        return None  # a flat surface has no contours to draw
    if _spans_decades(finite):
        return np.geomspace(finite.min(), finite.max(), count)
    return np.linspace(finite.min(), finite.max(), count)


# --------------------------------------------------------------------------- live plots


class LivePlot:
    """One figure of one run, redrawn frame by frame. Belongs to ONE thread at a time.

    Subclasses build the static artists in ``__init__`` (calling ``super().__init__``),
    register the changing ones with :meth:`_animate`, and implement :meth:`update` (set the
    changing artists from a snapshot) and, if their axes can change, :meth:`fits`.
    """

    #: What the title says the plot shows.
    what = ""

    def __init__(self, snapshot: Snapshot) -> None:
        self.figure = _new_figure()
        self.axes = self.figure.add_subplot()
        self._animated: list[Artist] = []
        self._background = None
        self._legend_frozen = False
        # A legend drawn over changing artists is opaque, so its pixels never change.
        self._legend = None
        self._legend_pixels = None
        self._legend_loc: tuple[float, float] | None = None
        # A background drawn before from the same inputs, found by _reuse_background (see
        # gdplot.backgrounds); while None, the first frame draws the figure itself.
        self._background_key: tuple | None = None
        self._reused: Background | None = None
        # The title's first line is fixed for the run and drawn into the background; only
        # its second line (epoch, loss), a text of its own laid out like the title, changes.
        self.axes.set_title(f"{_heading(snapshot, self.what)}\n ")
        title = self.axes.title
        self._status = self.axes.text(0.5, 1.0, "", transform=title.get_transform(),
                                      ha="center", va="baseline", color=title.get_color(),
                                      fontproperties=title.get_fontproperties())
        self._status.set_animated(True)  # never in the background; drawn by _draw_status
        # (stamp, centre column, baseline row) once the first frame has placed the status.
        self._status_stamp: tuple[TextStamp, float, int] | None = None

    def fits(self, snapshot: Snapshot) -> bool:
        """Can this figure's background show ``snapshot``? (If not, build a new plot.)"""
        return True

    @property
    def title_text(self) -> str:
        """The whole title as drawn: the heading, then the status line of the last frame."""
        return f"{self.axes.get_title().rstrip()}\n{self._status.get_text().strip()}"

    def update(self, snapshot: Snapshot) -> None:
        """Set the changing artists from ``snapshot``."""
        self._status.set_text(f"\n{_status(snapshot)}")

    def _animate_legend(self) -> None:
        """An opaque legend drawn above the changing artists, blitted after its first frame."""
        self._legend = self.axes.legend(loc="best", framealpha=1.0)
        self._animate(self._legend)

    def _animate(self, *artists: Artist) -> None:
        for artist in artists:
            artist.set_animated(True)
            self._animated.append(artist)

    def frame(self, snapshot: Snapshot) -> np.ndarray:
        """Draw ``snapshot``; returns the canvas's RGBA pixels ``(height, width, 4)`` (a view,
        valid until the next frame)."""
        self.update(snapshot)
        self._restore_background()
        self._draw_changing()
        return np.asarray(self.figure.canvas.buffer_rgba())

    def _draw_changing(self) -> None:
        """Draw the changing artists over the restored background, then the status line."""
        for artist in self._animated:
            if artist is self._legend:
                self._draw_legend()
            else:
                self.figure.draw_artist(artist)
        self._draw_status()

    def _draw_legend(self) -> None:
        """Blit the legend (opaque and unchanging), captured by :meth:`_capture_legend`."""
        self.figure.canvas.restore_region(self._legend_pixels)

    def _capture_legend(self) -> None:
        """Draw the legend once over the bare background and keep its pixels, with a pixel
        around it for its antialiased edge, so that every frame, the first included, blits
        the same pixels; then put the bare background back."""
        canvas = self.figure.canvas
        self.figure.draw_artist(self._legend)
        box = self._legend.get_window_extent()
        self._legend_pixels = canvas.copy_from_bbox(Bbox.from_extents(
            math.floor(box.x0) - 1, math.floor(box.y0) - 1,
            math.ceil(box.x1) + 1, math.ceil(box.y1) + 1))
        canvas.restore_region(self._background)

    def _draw_status(self) -> None:
        """The title's second line (epoch, loss): stamped from cached glyphs, as matplotlib
        would shape and rasterise it anew, which cost more than the rest of a frame."""
        if self._status_stamp is None:
            self.figure.draw_artist(self._status)
            return
        stamp, centre, baseline = self._status_stamp
        line = self._status.get_text().rsplit("\n", 1)[-1]
        stamp.draw(np.asarray(self.figure.canvas.buffer_rgba()), line, centre, baseline)

    def _reuse_background(self, *inputs: Hashable) -> bool:
        """Look for a background drawn before from the same ``inputs`` (everything this
        plot's background is drawn from besides its kind, size, title and the main axes'
        labels, scales and limits, which must be set by now); ``True`` if there is one, in
        which case what only the background shows need not be built."""
        ax = self.axes
        self._background_key = background_key(
            type(self).__qualname__, tuple(self.figure.get_size_inches()), self.figure.dpi,
            ax.get_title(), ax.get_xlabel(), ax.get_ylabel(), ax.get_xscale(),
            ax.get_yscale(), tuple(ax.get_xlim()), tuple(ax.get_ylim()), *inputs)
        self._reused = backgrounds().get(self._background_key)
        return self._reused is not None

    def _restore_background(self) -> bool:
        """Put the drawn background back on the canvas; at the first frame draw it (the
        layout is solved there, once; animated artists are skipped), or restore one drawn
        before from the same inputs, and return ``True``."""
        canvas = self.figure.canvas
        if self._background is not None:
            canvas.restore_region(self._background)
            return False
        reused = self._reused
        if reused is None:
            canvas.draw()
            self.figure.set_layout_engine("none")
            self._background = canvas.copy_from_bbox(self.figure.bbox)
        else:
            self.figure.set_layout_engine("none")
            self.axes.set_position(reused.axes_position)
            self.axes.title.set_position(reused.title_position)
            canvas.restore_region(reused.pixels)
            self._background = reused.pixels
        self._status.set_position(self.axes.title.get_position())
        if TextStamp.can_stamp(self._status):
            # The status is laid out like the title, whose anchor is its last line's baseline.
            centre, baseline = self._status.get_transform().transform(
                self._status.get_position())
            height = self.figure.canvas.get_width_height()[1]
            self._status_stamp = (TextStamp(self._status, self.figure.dpi), float(centre),
                                  height - round(float(baseline)))
        self._freeze_legend(None if reused is None else reused.legend_loc)
        if self._legend is not None:
            self._capture_legend()
        if reused is None and self._background_key is not None:
            backgrounds().put(self._background_key, Background(
                pixels=self._background,
                axes_position=tuple(self.axes.get_position().bounds),
                title_position=tuple(self.axes.title.get_position()),
                legend_loc=self._legend_loc))
        return True

    def png(self, snapshot: Snapshot) -> bytes:
        """The frame of ``snapshot`` as PNG bytes."""
        return encode_png(self.frame(snapshot), self.figure.dpi)

    def _freeze_legend(self, loc: tuple[float, float] | None = None) -> None:
        """Pin a ``loc="best"`` legend where the first full draw put it (or at ``loc``, where
        it was put on the same background before): finding the best spot scans every data
        point, which a frame must not pay for."""
        legend = self.axes.get_legend()
        if legend is None or self._legend_frozen:
            return
        if loc is None:
            box = legend.get_window_extent().transformed(self.axes.transAxes.inverted())
            loc = (float(box.x0), float(box.y0))
        legend.set_loc(loc)
        self._legend_loc = loc
        self._legend_frozen = True


class LossPlot(LivePlot):
    """Loss per epoch so far (epoch 0: before training); log scale if it spans decades.

    The x-axis runs to the run's last epoch when it is known; the y-axis grows in steps
    (whole decades on a log scale, 1-2-5 steps on a linear one), so most frames only
    redraw the line and the title.
    """

    what = "training loss"

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__(snapshot)
        ax = self.axes
        (self.line,) = ax.plot([], [], markersize=3)
        self._animate(self.line)
        self._x_max = self._x_limit(snapshot)
        self._scale, self._y_limits = _loss_axis(self._curve(snapshot)[1])
        ax.set_xlim(0, self._x_max)
        ax.set_yscale(self._scale)
        ax.set_ylim(*self._y_limits)
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.grid(True, alpha=0.3)
        self._reuse_background(self._x_max, self._scale, self._y_limits)

    @staticmethod
    def _curve(snapshot: Snapshot) -> tuple[np.ndarray, np.ndarray]:
        epochs = np.arange(1, len(snapshot.history) + 1)
        losses = np.asarray(snapshot.history, dtype=float)
        if np.isfinite(snapshot.initial_loss):
            epochs = np.concatenate([[0], epochs])
            losses = np.concatenate([[snapshot.initial_loss], losses])
        return epochs, losses

    @staticmethod
    def _x_limit(snapshot: Snapshot) -> float:
        if snapshot.epochs_total >= max(snapshot.epoch, 1):
            return float(snapshot.epochs_total)
        return _nice_ceil(max(snapshot.epoch, 1))

    def fits(self, snapshot: Snapshot) -> bool:
        # In order, a run's limits only grow, so this is equality; a frame arriving late (from
        # a second worker) is drawn on the wider axes already there instead of a new figure.
        scale, (low, high) = _loss_axis(self._curve(snapshot)[1])
        return (self._x_limit(snapshot) == self._x_max and scale == self._scale
                and self._y_limits[0] <= low and high <= self._y_limits[1])

    def update(self, snapshot: Snapshot) -> None:
        super().update(snapshot)
        epochs, losses = self._curve(snapshot)
        self.line.set_data(epochs, losses)
        self.line.set_marker("o" if len(losses) < 30 else "None")


class FitPlot(LivePlot):
    """The data and the model's current curve over its single feature.

    Regression: the prediction. Classification: the probability of class 1 over the 0/1
    labels. The axes are fitted to the data (fixed for a run): a curve far off the data
    leaves the axes, as it should.
    """

    what = "current fit"

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__(snapshot)
        ax = self.axes
        x = np.asarray(snapshot.X[:, 0], dtype=float)
        y = np.asarray(snapshot.y, dtype=float)
        self._grid = np.linspace(x.min(), x.max(), 200)
        maths = snapshot.maths
        ax.scatter(x, y, s=10, alpha=0.5, label="data")
        (self.curve,) = ax.plot([], [], color="C3", linewidth=2, label=maths.output_label)
        self._animate(self.curve)
        if maths.task == "classification":
            ax.axhline(0.5, color="grey", linestyle=":", linewidth=1)
            y = np.concatenate([y, [0.0, 1.0]])
        ax.set_xlim(*_margins(x))
        ax.set_ylim(*_margins(y))
        ax.set_xlabel(snapshot.feature_name(0))
        ax.set_ylabel(snapshot.target_label)
        self._animate_legend()
        self._reuse_background(data_digest(x, y), maths.task, maths.output_label)

    def update(self, snapshot: Snapshot) -> None:
        super().update(snapshot)
        self.curve.set_data(self._grid, snapshot.decision(self._grid[:, None]))


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
        self._g0, self._g1 = _padded_range(x0), _padded_range(x1)
        self._extent = (self._g0[0], self._g0[-1], self._g1[0], self._g1[-1])
        self._mappable = ScalarMappable(BoundaryNorm(self.LEVELS, 256), "RdBu_r")
        self.figure.colorbar(self._mappable, ax=ax, label=f"P({snapshot.class_name(1)})",
                             alpha=self.ALPHA)
        self._palette = _band_palette(self._mappable, self.LEVELS, self.ALPHA)
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
        _paint(buffer, rows, cols, self._palette, self.bands[::-1])  # buffer rows: top-down
        self.figure.draw_artist(self.boundary)
        _words(buffer).reshape(-1)[self._point_index] = self._point_colours
        self._draw_legend()
        self._draw_status()
        return buffer

    def _capture_points(self) -> None:
        """The axes' inner pixels and their data coordinates; the points' pixels, drawn
        once over the background (their white edges hide where they met it)."""
        canvas = self.figure.canvas
        rows, cols, xs, ys = _inner_pixels(self.figure, self.axes)
        self._band_pixels = (rows, cols)
        self._grid = np.column_stack([g.ravel() for g in np.meshgrid(xs, ys)])
        before = np.array(canvas.buffer_rgba())
        for points in self._points:
            points.draw(canvas.get_renderer())
        after = np.asarray(canvas.buffer_rgba())
        self._point_index = np.flatnonzero(np.any(after != before, axis=2))
        self._point_colours = _words(after).reshape(-1)[self._point_index].copy()
        canvas.restore_region(self._background)


def _words(rgba: np.ndarray) -> np.ndarray:
    """An ``(height, width, 4)`` uint8 buffer seen as ``(height, width)`` uint32 pixels: one
    4-byte move per pixel instead of four 1-byte ones."""
    return rgba.view(np.uint32)[..., 0]


def _band_palette(mappable: ScalarMappable, levels: np.ndarray, alpha: float) -> np.ndarray:
    """``(len(levels) - 1, 4)`` uint8: each band's colour (at its centre) blended over the
    white axes, as a fill of that ``alpha`` would be, opaque."""
    centres = (levels[:-1] + levels[1:]) / 2
    colours = mappable.to_rgba(centres, alpha=1.0, bytes=True).astype(float)
    palette = np.round(alpha * colours + (1 - alpha) * 255).astype(np.uint8)
    palette[:, 3] = 255
    return palette


def _paint(rgba: np.ndarray, rows: slice, cols: slice, palette: np.ndarray,
           indices: np.ndarray) -> None:
    """Set ``rgba[rows, cols]`` to ``palette[indices]`` (``palette`` ``(k, 4)`` uint8)."""
    _words(rgba)[rows, cols] = _words(np.ascontiguousarray(palette)[None])[0][indices]


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
            levels = _contour_levels(losses)
            if levels is not None:
                filled = ax.contourf(a_range, b_range, losses, levels=levels,
                                     cmap="viridis", alpha=0.8)
                self.figure.colorbar(filled, ax=ax, label="loss")
        self.path_line, self.start, self.now = _path_artists(ax)
        self._animate(self.path_line, self.start, self.now)
        self._animate_legend()

    def fits(self, snapshot: Snapshot) -> bool:
        if self._view is not None:
            return True
        points = _surface_path(snapshot)
        a_range, b_range = self.ranges
        return bool(np.all((a_range[0] <= points[:, 0]) & (points[:, 0] <= a_range[-1])
                           & (b_range[0] <= points[:, 1]) & (points[:, 1] <= b_range[-1])))

    def update(self, snapshot: Snapshot) -> None:
        super().update(snapshot)
        if self._view is not None:
            points = self._view.drawn(snapshot.epoch)
        else:
            points = _surface_path(snapshot)
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
        self.levels = _stepped_levels(losses, self.LEVELS)
        mappable = ScalarMappable(BoundaryNorm(self.levels, 256), "viridis")
        colorbar = self.figure.colorbar(mappable, ax=ax, label="loss", alpha=self.ALPHA)
        _colorbar_ticks(colorbar, self.levels)
        self._palette = _band_palette(mappable, self.levels, self.ALPHA)
        ax.set_xlim(self.ranges[0][0], self.ranges[0][-1])
        ax.set_ylim(self.ranges[1][0], self.ranges[1][-1])
        _label_surface_axes(ax, snapshot)
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
            rows, cols, xs, ys = _inner_pixels(self.figure, self.axes)
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
        _paint(buffer, rows, cols, self._palette, bands[::-1])  # buffer rows run top-down
        self._draw_changing()
        return buffer


def surface_plot(snapshot: Snapshot, *, ranges: tuple[np.ndarray, np.ndarray] | None = None,
                 view: PathView | None = None) -> LivePlot:
    """The surface plot for ``snapshot``: a fixed contour for two parameters (or a given
    ``view``), else the live :class:`PathSurfacePlot`."""
    if view is not None or _surface_path(snapshot).shape[1] == 2:
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
    # Past ~100 points the markers overlap anyway; drawing each would cost milliseconds.
    path_line.set_markevery(max(1, len(points) // 100))
    start.set_data(points[:1, 0], points[:1, 1])
    now.set_data(points[-1:, 0], points[-1:, 1])


def _label_surface_axes(ax, snapshot: Snapshot) -> None:
    if _surface_path(snapshot).shape[1] == 2:
        ax.set_xlabel(_coef_name(snapshot, 0))
        ax.set_ylabel("intercept")
    else:
        ax.set_xlabel("direction 1: the path's main direction (through every point)")
        ax.set_ylabel("direction 2: its second direction")


def _stepped_range(values: np.ndarray, points: int = VIEW_GRID_POINTS) -> np.ndarray:
    """A padded grid over ``values`` with ends on multiples of a 1-2-5 step, so that a range
    grown as the path moves changes only now and then."""
    padded = _padded_range(values, 2)
    step = _nice_ceil((padded[1] - padded[0]) / 4)
    return np.linspace(math.floor(padded[0] / step) * step, math.ceil(padded[1] / step) * step,
                       points)


def _stepped_levels(losses: np.ndarray, count: int) -> np.ndarray:
    """About ``count`` contour levels over ``losses`` with 1-2-5 ends, or on a log scale
    whole decades with the same number of levels in each (so each decade is a level)."""
    scale, (low, high) = _loss_axis(losses)
    if scale == "log":
        decades = round(math.log10(high / low))
        return np.logspace(math.log10(low), math.log10(high),
                           decades * max(1, round((count - 1) / decades)) + 1)
    return np.linspace(low, high, count)


def _colorbar_ticks(colorbar, levels: np.ndarray) -> None:
    """Label a colour bar of bands: about six 1-2-5 values, or each decade of log levels (a
    bar of bands spaces them evenly, so a linear locator would crowd its labels at the top
    of a log range and leave the lower decades blank)."""
    if _spans_decades(levels):  # log levels, as _stepped_levels makes them: decades are levels
        decades = np.log10(levels)
        colorbar.set_ticks(levels[np.isclose(decades, np.round(decades))])
        colorbar.ax.yaxis.set_major_formatter("{x:g}")
        colorbar.ax.minorticks_off()
    else:
        colorbar.locator = MaxNLocator(6)


def _inner_pixels(figure: Figure, axes) -> tuple[slice, slice, np.ndarray, np.ndarray]:
    """``(rows, cols, xs, ys)``: the buffer's rows (top-down) and columns strictly inside the
    axes' frame, and the data coordinates of those columns' and rows' (bottom-up) centres."""
    height = figure.canvas.get_width_height()[1]
    box = axes.bbox
    cols = slice(int(np.ceil(box.x0)) + 1, int(np.floor(box.x1)) - 1)
    rows = slice(height - int(np.floor(box.y1)) + 1, height - int(np.ceil(box.y0)) - 1)
    to_data = axes.transData.inverted()
    xs = to_data.transform(np.column_stack([np.arange(cols.start, cols.stop) + 0.5,
                                            np.full(cols.stop - cols.start, box.y0)]))[:, 0]
    bottom_up = height - np.arange(rows.stop - 1, rows.start - 1, -1) - 0.5
    ys = to_data.transform(np.column_stack([np.full(bottom_up.size, box.x0), bottom_up]))[:, 1]
    return rows, cols, xs, ys


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


def loss_grid(snapshot: Snapshot, a_values: np.ndarray, b_values: np.ndarray) -> np.ndarray:
    """The loss on the plotting sample over a grid of the first two flat parameters.

    ``a_values`` (shape ``(na,)``) replaces the first entry of ``[*coef, intercept]``,
    ``b_values`` (shape ``(nb,)``) the second; the others keep their current values.
    Returns shape ``(nb, na)`` (rows follow ``b``, as contour plots expect).
    """
    design = _design(snapshot)
    flat = np.append(snapshot.params["coef"], snapshot.params["intercept"])
    a_grid, b_grid = np.meshgrid(a_values, b_values)
    points = np.repeat(flat[None, :], a_grid.size, axis=0)
    points[:, 0], points[:, 1] = a_grid.ravel(), b_grid.ravel()
    return losses_at(snapshot, points, design).reshape(a_grid.shape)


def losses_at(snapshot: Snapshot, points: np.ndarray,
              design: np.ndarray | None = None) -> np.ndarray:
    """The loss on the plotting sample at each flat parameter vector ``[*coef, intercept]``
    of ``points`` ``(m, n_params)``; shape ``(m,)``. Computed in blocks of bounded size."""
    design = _design(snapshot) if design is None else design
    y = np.asarray(snapshot.y, dtype=float)
    loss_of_z = snapshot.maths.loss_of_z
    out = np.empty(len(points))
    block = max(1, _GRID_BLOCK_ELEMENTS // max(1, len(design)))
    for start in range(0, len(points), block):
        stop = start + block
        out[start:stop] = loss_of_z(points[start:stop] @ design.T, y)
    return out


def surface_ranges(snapshots: Sequence[Snapshot]) -> tuple[np.ndarray, np.ndarray]:
    """The ``(a_values, b_values)`` grid of the two-parameter surface plot that shows every
    snapshot's path.

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


class PathView:
    """A 2-D view of a parameter path in which every path point sits on its own loss.

    Coordinates: ``reference + a * u + b * v``, with ``reference`` the path's start and ``u``,
    ``v`` the path's two principal directions about it (Li et al. 2018, "Visualizing
    the Loss Landscape of Neural Nets"). A plane holds only three points of a path in many
    dimensions, so the surface is a *sheet* through the path: at ``(a, b)`` it adds the
    off-plane offset of the path points, interpolated by inverse squared distance (exact at
    each point). So the loss drawn under each path point is that point's real loss.
    """

    def __init__(self, path_taken: np.ndarray, keep: Sequence[int] = ()) -> None:
        path_taken = np.asarray(path_taken, dtype=float)
        count = len(path_taken)
        spread = np.linspace(0, count - 1, min(count, MAX_VIEW_POINTS)).round().astype(int)
        #: Indices (epochs) of the path points drawn: the sheet passes through exactly these.
        self.nodes = np.array(sorted({*spread.tolist(), *(i for i in keep if 0 <= i < count)}))
        points = path_taken[self.nodes]
        self.reference = points[0]  # the start: it stays put while the path grows
        offsets = points - self.reference
        self.u, self.v = _principal_directions(offsets)
        self.coords = np.column_stack([offsets @ self.u, offsets @ self.v])
        self.residuals = offsets - np.outer(self.coords[:, 0], self.u) - np.outer(
            self.coords[:, 1], self.v)

    def drawn(self, epoch: int) -> np.ndarray:
        """The view coordinates of the nodes up to ``epoch`` (an animation's frame)."""
        return self.coords[self.nodes <= epoch]

    def project(self, points: np.ndarray) -> np.ndarray:
        """View coordinates ``(m, 2)`` of flat parameters ``points`` ``(m, n_params)``: on the
        sheet exactly for the path's own points (an animation draws prefixes of it)."""
        offsets = np.asarray(points, dtype=float) - self.reference
        return np.column_stack([offsets @ self.u, offsets @ self.v])

    def ranges(self, points: int = GRID_POINTS) -> tuple[np.ndarray, np.ndarray]:
        return (_padded_range(self.coords[:, 0], points), _padded_range(self.coords[:, 1], points))

    def params_at(self, coords: np.ndarray) -> np.ndarray:
        """The flat parameters at view coordinates ``coords`` ``(m, 2)``: ``(m, n_params)``."""
        coords = np.asarray(coords, dtype=float)
        squared = ((coords[:, None, :] - self.coords[None, :, :]) ** 2).sum(axis=2)
        exact = squared <= 1e-24 * max(1.0, float(np.abs(self.coords).max()) ** 2)
        with np.errstate(divide="ignore"):
            weights = np.where(exact, 0.0, 1.0 / squared)
        hit = exact.any(axis=1)
        weights[hit] = exact[hit]  # on a path point: that point's offset, exactly
        weights /= weights.sum(axis=1, keepdims=True)
        return (self.reference + np.outer(coords[:, 0], self.u) + np.outer(coords[:, 1], self.v)
                + weights @ self.residuals)

    def loss_grid(self, snapshot: Snapshot, a_values: np.ndarray,
                  b_values: np.ndarray) -> np.ndarray:
        """The loss on the plotting sample over the view's grid, shape ``(nb, na)``."""
        a_grid, b_grid = np.meshgrid(a_values, b_values)
        params = self.params_at(np.column_stack([a_grid.ravel(), b_grid.ravel()]))
        return losses_at(snapshot, params).reshape(a_grid.shape)


def path_view(snapshot: Snapshot) -> PathView:
    """The :class:`PathView` of ``snapshot``'s parameter path."""
    return PathView(_surface_path(snapshot))


def _principal_directions(offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two orthonormal directions: the top principal directions of ``offsets`` ``(m, d)``,
    completed with coordinate axes where the path has fewer than two; each oriented so that
    the offsets lie on its positive side on average."""
    dims = offsets.shape[1]
    directions: list[np.ndarray] = []
    if np.any(offsets):
        _, singular, right = np.linalg.svd(offsets, full_matrices=False)
        scale = singular[0]
        directions = [right[i] for i in range(min(2, len(singular)))
                      if singular[i] > 1e-12 * scale]
    for axis in range(dims):
        if len(directions) == 2:
            break
        candidate = np.eye(dims)[axis]
        for d in directions:
            candidate = candidate - (candidate @ d) * d
        norm = np.linalg.norm(candidate)
        if norm > 1e-6:
            directions.append(candidate / norm)
    # An SVD fixes a direction only up to its sign, and which sign it returns can change when
    # the path grows by a point: a live view would then mirror from one frame to the next
    # (and leave its axes' ranges, so redraw its background). The mean side of the path moves
    # little per point; on real fits it never flipped where "the farthest point's side" did.
    total = offsets.sum(axis=0)
    u, v = (-d if total @ d < 0 else d for d in directions)
    return u, v


def _design(snapshot: Snapshot) -> np.ndarray:
    """The plotting sample with a column of ones: ``design @ [*coef, intercept]`` is ``z``."""
    X = np.asarray(snapshot.X, dtype=float)
    return np.column_stack([X, np.ones(len(X))])


def _surface_path(snapshot: Snapshot) -> np.ndarray:
    """The snapshot's parameter path, shape ``(epoch + 1, n_params)``."""
    if snapshot.path is None:
        raise ValueError("the 'surface' plot needs the snapshot's parameter path, got path=None")
    return np.asarray(snapshot.path, dtype=float)


# --------------------------------------------------------------------------- one-off charts


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


def write_frame(plot: LivePlot, snapshot: Snapshot, path: str | os.PathLike[str]) -> Path:
    """Draw ``snapshot`` with ``plot`` and write the PNG to ``path`` atomically."""
    return write_bytes_atomic(path, plot.png(snapshot))


#: The live plot of each built-in kind.
PLOTS: dict[str, Callable[..., LivePlot]] = {
    "loss": LossPlot,
    "fit": FitPlot,
    "boundary": BoundaryPlot,
    "surface": surface_plot,
}


# The renderer objects live in gdplot.renderers (which imports this module); these names are
# kept importable from here for code written before they moved.
_MOVED = {"RENDERERS", "RenderFunction", "Renderer", "check_renderer_fits", "render_boundary", "render_fit",
          "render_loss", "render_surface", "renderer_problem"}


def __getattr__(name: str) -> object:
    if name in _MOVED:
        from gdplot import renderers

        return getattr(renderers, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
