"""Drawing: one plot of one :class:`~gdplot.models.snapshot.Snapshot`, kept alive between frames.

Each plot kind is a :class:`LivePlot`: it builds its own :class:`~matplotlib.figure.Figure`
on an Agg canvas (never pyplot, whose global state is not thread-safe), with everything that
stays put for a run drawn once into a *background* (axes, ticks, labels, grid, the data, a
two-parameter loss contour), and the few artists that change per frame (a line, a path, a
title) marked animated. A frame restores the background, draws only those artists on top
(Agg ``restore_region``/``draw_artist``) and encodes the pixels as a PNG, instead of drawing
a whole figure. The background is redrawn, and the layout solved again, only when
the axes must change (say the loss leaves its y-range, which grows a step at a time). A new
plot whose background an earlier one drew from the same inputs restores those pixels instead
(:mod:`gdplot.plots.backgrounds`); the title's status line is stamped from cached glyphs
(:mod:`gdplot.plots.glyphs`).

A fresh render is the same code run once, so a cached frame and a fresh one agree.
The plot kinds are in :mod:`gdplot.plots.curves`, :mod:`gdplot.plots.boundary` and
:mod:`gdplot.plots.surface`; which plot suits which model, and the per-worker cache of live
plots, are in :mod:`gdplot.plots.renderers`; PNG encoding is in :mod:`gdplot.plots.png`.
"""

from __future__ import annotations

import math
from collections.abc import Hashable

import numpy as np
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import Bbox

from gdplot.models.snapshot import Snapshot
from gdplot.plots.backgrounds import Background, background_key, backgrounds
from gdplot.plots.glyphs import TextStamp
from gdplot.plots.png import DPI, encode_png

FIGSIZE = (6.4, 4.8)
GRID_POINTS = 60
#: The grid of a surface past two parameters, recomputed every frame: coarser, as it costs
#: (points x path length + points x samples) per frame.
VIEW_GRID_POINTS = 30
#: The most path points such a view draws (evenly spread, first and last always): each is
#: a node the surface passes through exactly.
MAX_VIEW_POINTS = 60


#: Space kept around the texts of a figure laid out by :meth:`LivePlot._fit_axes_to_texts`,
#: in points: as matplotlib's constrained layout keeps (3/72 inch).
LAYOUT_PAD = 3.0


def _labels_in_view(axis) -> list:
    """The major tick labels that ``axis`` draws: those of ticks inside its limits (a
    locator also places ticks just outside them). Sets the formatter's offset text too."""
    labels = axis.get_majorticklabels()
    low, high = sorted(axis.get_view_interval())
    slack = 1e-9 * (high - low)
    return [label for label, location in zip(labels, axis.get_majorticklocs())
            if low - slack <= location <= high + slack]


def new_figure(layout: str | None = "constrained") -> Figure:
    fig = Figure(figsize=FIGSIZE, dpi=DPI, layout=layout)
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
    """``epoch N, loss L``, and the validation loss when the fit has held-out rows."""
    status = f"epoch {snapshot.epoch}, loss {snapshot.loss:.4g}"
    if snapshot.val_history is not None:
        val = snapshot.val_history[-1] if snapshot.epoch else snapshot.val_initial_loss
        status += f", validation {val:.4g}"
    return status


# --------------------------------------------------------------------------- limits

_MANTISSAS = (1.0, 2.0, 5.0)


def nice_ceil(value: float) -> float:
    """The smallest ``m * 10**k`` (``m`` in 1, 2, 5) >= ``value`` (> 0). Monotone in
    ``value``, so a range grown from a prefix of the data ends where the whole data's does."""
    exponent = math.floor(math.log10(value))
    for mantissa in (*_MANTISSAS, 10.0):
        candidate = mantissa * 10.0**exponent
        if candidate >= value * (1 - 1e-12):
            return candidate
    return 10.0 ** (exponent + 1)


def nice_floor(value: float) -> float:
    """The largest ``m * 10**k`` (``m`` in 1, 2, 5) <= ``value`` (> 0); monotone."""
    exponent = math.floor(math.log10(value))
    for mantissa in (10.0, *reversed(_MANTISSAS)):
        candidate = mantissa * 10.0**exponent
        if candidate <= value * (1 + 1e-12):
            return candidate
    return 10.0 ** (exponent - 1)


def spans_decades(values: np.ndarray) -> bool:
    """Do the finite ``values`` (all > 0) span more than a decade? Then a log scale shows
    them better: on a linear one, all below a tenth of the top lie flat on the floor."""
    finite = values[np.isfinite(values)]
    return finite.size > 1 and finite.min() > 0 and finite.max() / finite.min() > 10


#: Where a log colour range may end: close to the losses (within a factor of 1.5), yet on
#: round numbers, so that a live view's range changes only now and then.
_LOG_END_MANTISSAS = (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 7.0, 10.0)


def _round_log(value: float, *, up: bool) -> float:
    """``value`` (> 0) rounded up or down to ``m * 10**k``, ``m`` in ``_LOG_END_MANTISSAS``."""
    candidates = np.array(_LOG_END_MANTISSAS) * 10.0 ** math.floor(math.log10(value))
    if up:
        return float(candidates[candidates >= value * (1 - 1e-12)].min())
    return float(candidates[candidates <= value * (1 + 1e-12)].max())


def nice_levels(losses: np.ndarray, count: int) -> np.ndarray:
    """About ``count`` band edges over the range of the finite ``losses`` themselves (a
    view's own colour range), on nice numbers: 1-2-5 steps on a linear scale; past a decade,
    equal ratios between ends on round numbers."""
    finite = losses[np.isfinite(losses)]
    low, high = float(finite.min()), float(finite.max())
    if high <= low:
        high = low + max(abs(low), 1.0) * 1e-3
    if spans_decades(finite):
        return np.geomspace(_round_log(low, up=False), _round_log(high, up=True), count + 1)
    levels = MaxNLocator(count, steps=[1, 2, 2.5, 5, 10]).tick_values(low, high)
    return levels[(levels >= levels[levels <= low].max())
                  & (levels <= levels[levels >= high].min())]


def nice_ticks(low: float, high: float) -> np.ndarray:
    """Labels for a colour bar from ``low`` to ``high``: multiples of a 1-2-2.5-5 step; past a
    decade the 1-2-5 values inside, or the decades alone where those would crowd (a bar of
    bands spaces log levels evenly, so a linear locator would crowd its labels at the top)."""
    if low > 0 and high / low > 10:
        exponents = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
        for mantissas in (_MANTISSAS, (1.0,)):
            ticks = np.array([m * 10.0**e for e in exponents for m in mantissas])
            ticks = ticks[(ticks >= low * (1 - 1e-9)) & (ticks <= high * (1 + 1e-9))]
            if ticks.size <= 8:
                break
        return ticks
    ticks = MaxNLocator(6, steps=[1, 2, 2.5, 5, 10]).tick_values(low, high)
    tolerance = 1e-9 * (high - low)
    return ticks[(ticks >= low - tolerance) & (ticks <= high + tolerance)]


def loss_axis(losses: np.ndarray) -> tuple[str, tuple[float, float]]:
    """``(scale, (low, high))`` for a loss curve: log with whole decades if it spans decades,
    else linear between 1-2-5 steps. Both ends move only outwards as the curve grows."""
    finite = losses[np.isfinite(losses)]
    if finite.size == 0:
        return "linear", (0.0, 1.0)
    low, high = float(finite.min()), float(finite.max())
    if spans_decades(finite):
        return "log", (10.0 ** math.floor(math.log10(low)), 10.0 ** math.ceil(math.log10(high)))
    top = nice_ceil(high) if high > 0 else 1.0
    bottom = nice_floor(low) if low > 0 else (low if low < 0 else 0.0)
    if 0 < bottom <= 0.2 * top:  # so close to zero that zero reads better (and stays put)
        bottom = 0.0
    if bottom >= top:
        bottom = 0.0 if top > 0 else top - 1.0
    return "linear", (bottom, top)


def padded_range(values: np.ndarray, points: int = GRID_POINTS) -> np.ndarray:
    finite = values[np.isfinite(values)]
    low, high = (finite.min(), finite.max()) if finite.size else (-1.0, 1.0)
    pad = max(0.25 * (high - low), 0.1 * max(abs(low), abs(high)), 0.5)
    return np.linspace(low - pad, high + pad, points)


def margins(values: np.ndarray, fraction: float = 0.05) -> tuple[float, float]:
    """matplotlib's default 5% margins around ``values`` (what autoscaling would show)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return -1.0, 1.0
    low, high = float(finite.min()), float(finite.max())
    pad = (high - low) * fraction or max(abs(low) * fraction, 0.5)
    return low - pad, high + pad


def contour_levels(values: np.ndarray, count: int = 20) -> np.ndarray | None:
    finite = values[np.isfinite(values)]
    if finite.size == 0 or finite.max() <= finite.min():
        return None  # a flat surface has no contours to draw
    return nice_levels(finite, count)


# --------------------------------------------------------------------------- live plots


class LivePlot:
    """One figure of one run, redrawn frame by frame. Belongs to ONE thread at a time.

    Subclasses build the static artists in ``__init__`` (calling ``super().__init__``),
    register the changing ones with :meth:`_animate`, and implement :meth:`update` (set the
    changing artists from a snapshot) and, if their axes can change, :meth:`fits`.
    """

    #: What the title says the plot shows.
    what = ""
    #: How the first full draw lays the figure out: ``"constrained"`` (matplotlib's engine,
    #: for colour bars and anything else beside the axes), or ``"texts"`` for a plot of one
    #: axes with nothing outside it but its title, tick labels and axis labels: the margins
    #: are measured from those few texts (:meth:`_fit_axes_to_texts`), where the engine
    #: measures the tight box of every artist twice. The first frame, which a notebook
    #: user waits for and which a render thread draws holding the GIL, costs less.
    layout = "constrained"

    def __init__(self, snapshot: Snapshot) -> None:
        self.figure = new_figure("constrained" if self.layout == "constrained" else None)
        self.axes = self.figure.add_subplot()
        self._animated: list[Artist] = []
        self._background = None
        self._legend_frozen = False
        # A legend drawn over changing artists is opaque, so its pixels never change.
        self._legend = None
        self._legend_pixels = None
        self._legend_loc: tuple[float, float] | None = None
        # A background drawn before from the same inputs, found by _reuse_background (see
        # gdplot.plots.backgrounds); while None, the first frame draws the figure itself.
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
            if self.layout == "texts" and not self._fit_axes_to_texts():
                self.figure.set_layout_engine("constrained")
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

    def _fit_axes_to_texts(self) -> bool:
        """Place the axes so that its title, tick labels and axis labels just fit in the
        figure, with :data:`LAYOUT_PAD` around them; ``False`` (nothing moved) when the
        axes shows a text this does not measure (an offset or exponent beside an axis),
        for the constrained layout to solve instead."""
        figure, ax = self.figure, self.axes
        renderer = figure.canvas.get_renderer()
        points = figure.dpi / 72  # pixels per point
        x_labels, y_labels = _labels_in_view(ax.xaxis), _labels_in_view(ax.yaxis)
        if ax.xaxis.get_offset_text().get_text() or ax.yaxis.get_offset_text().get_text():
            return False

        def extent(texts: list) -> Bbox | None:
            boxes = [text.get_window_extent(renderer) for text in texts
                     if text.get_visible() and text.get_text()]
            return Bbox.union(boxes) if boxes else None

        def beside(axis, labels: Bbox | None, size: str) -> float:
            """Pixels from the axes' edge to the far side of the axis's label."""
            ticks = axis.get_major_ticks(1)
            room = (ticks[0].get_tick_padding() + ticks[0].get_pad()) * points if ticks else 0
            if labels is not None:
                room += getattr(labels, size)
            label = extent([axis.label])
            if label is not None:
                room += axis.labelpad * points + getattr(label, size)
            return room

        pad = LAYOUT_PAD * points
        ticks = extent(x_labels)
        left = pad + beside(ax.yaxis, extent(y_labels), "width")
        bottom = pad + beside(ax.xaxis, ticks, "height")
        # The title sits a fixed offset above the axes, and an x tick label is centred on its
        # tick: what sticks out above and to the right is the same wherever the axes goes.
        title = extent([ax.title])
        top = pad + (0.0 if title is None else max(title.y1 - ax.bbox.y1, 0.0))
        right = pad + (0.0 if ticks is None else max(ticks.x1 - ax.bbox.x1, 0.0))
        width, height = figure.bbox.width, figure.bbox.height
        if left + right >= width / 2 or top + bottom >= height / 2:
            return False  # texts too big for a fixed layout: let the engine shrink them
        ax.set_position([left / width, bottom / height, 1 - (left + right) / width,
                         1 - (top + bottom) / height])
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
