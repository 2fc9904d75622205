"""A line of text drawn from cached glyph pixels: the status line a live plot redraws per frame.

matplotlib shapes a text and rasterises each of its glyphs every time the text is drawn,
all of it holding the GIL: for a status line like ``epoch 137, loss 0.2345`` that costs more
than the rest of a cached frame. That line changes every frame but is made of a dozen
characters, so :class:`TextStamp` has each character rasterised once, by matplotlib's own Agg
renderer at a whole-pixel origin, keeps its coverage mask and advance width, and composites a
line from those masks straight into the canvas's pixels.

The glyphs are matplotlib's; only their placement differs: each starts at a whole pixel, one
advance width after the last, without kerning. So a stamped line may sit a pixel or two from
where matplotlib would put it. Texts it cannot stand in for (TeX, math, rotated) are drawn by
matplotlib as before (:meth:`TextStamp.can_stamp`).
"""

from __future__ import annotations

import functools

import matplotlib as mpl
import numpy as np
from matplotlib.backends.backend_agg import RendererAgg, get_hinting_flag
from matplotlib.colors import to_rgba
from matplotlib.font_manager import FontProperties, findfont, get_font
from matplotlib.text import Text

__all__ = ["TextStamp"]

#: Glyph masks kept per process: a few fonts and sizes times the characters they drew.
_GLYPH_CACHE_SIZE = 2048


@functools.lru_cache(maxsize=_GLYPH_CACHE_SIZE)
def _glyph(char: str, font: FontProperties, dpi: float) -> tuple[np.ndarray, int, int, float]:
    """``(mask, top, left, advance)`` of ``char``: its coverage ``(h, w)`` uint8, where the
    mask's top-left pixel lies from the pen (rows down from the baseline, columns right), and
    how far the pen moves on (pixels).

    Drawn by a renderer of its own, so any thread may call this (``lru_cache`` is
    thread-safe; two threads may both draw a glyph the first time, to the same result).
    """
    size = int(np.ceil(font.get_size_in_points() * dpi / 72))
    margin = 2 * size
    box = 4 * size
    renderer = RendererAgg(box, box, dpi)
    gc = renderer.new_gc()
    pen_x, baseline = margin, box - margin  # rows run downwards, as in the canvas
    renderer.draw_text(gc, pen_x, baseline, char, font, 0)
    gc.restore()
    coverage = np.asarray(renderer.buffer_rgba())[..., 3]  # black on transparent: alpha
    rows = np.flatnonzero(coverage.any(axis=1))
    cols = np.flatnonzero(coverage.any(axis=0))
    face = get_font(findfont(font))
    face.set_size(font.get_size_in_points(), dpi)
    advance = face.load_char(ord(char), flags=get_hinting_flag()).linearHoriAdvance / 65536
    if rows.size == 0:  # a space
        return np.zeros((0, 0), np.uint8), 0, 0, advance
    mask = coverage[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].copy()
    mask.flags.writeable = False
    return mask, int(rows[0] - baseline), int(cols[0] - pen_x), advance


class TextStamp:
    """Draws lines in the font, size and colour of ``text`` (a matplotlib ``Text``), centred
    on a point, into an Agg canvas's RGBA buffer."""

    def __init__(self, text: Text, dpi: float) -> None:
        self._font = text.get_fontproperties().copy()
        self._dpi = float(dpi)
        red, green, blue, alpha = to_rgba(text.get_color(), text.get_alpha())
        self._colour = np.array([red, green, blue], dtype=np.float32) * 255
        self._alpha = np.float32(alpha)
        # This stamp's glyphs by character: a dict lookup per character, where the shared
        # cache would hash the font properties each time.
        self._glyphs: dict[str, tuple[np.ndarray, int, int, float]] = {}

    def _glyph(self, char: str) -> tuple[np.ndarray, int, int, float]:
        glyph = self._glyphs.get(char)
        if glyph is None:
            glyph = self._glyphs[char] = _glyph(char, self._font, self._dpi)
        return glyph

    @staticmethod
    def can_stamp(text: Text) -> bool:
        """Whether a stamp draws ``text`` as matplotlib would: plain, upright text."""
        return (not mpl.rcParams["text.usetex"] and not text.get_usetex()
                and text.get_rotation() == 0)

    def width(self, line: str) -> float:
        """The line's width in pixels: the sum of its characters' advances."""
        return sum(self._glyph(char)[3] for char in line)

    def draw(self, rgba: np.ndarray, line: str, centre_x: float, baseline: int) -> None:
        """Draw ``line`` into ``rgba`` ``(height, width, 4)`` uint8 (rows top-down), centred on
        column ``centre_x`` with its baseline on row ``baseline``; what falls outside the
        buffer is cut off."""
        height, width = rgba.shape[:2]
        pen = centre_x - self.width(line) / 2
        for char in line:
            mask, top, left, advance = self._glyph(char)
            x, y = int(round(pen)) + left, baseline + top
            pen += advance
            if mask.size == 0:
                continue
            # Clip the mask to the buffer.
            x0, y0 = max(x, 0), max(y, 0)
            x1, y1 = min(x + mask.shape[1], width), min(y + mask.shape[0], height)
            if x0 >= x1 or y0 >= y1:
                continue
            cover = mask[y0 - y:y1 - y, x0 - x:x1 - x].astype(np.float32)
            cover *= self._alpha / 255
            self._blend(rgba[y0:y1, x0:x1], cover)

    def _blend(self, pixels: np.ndarray, cover: np.ndarray) -> None:
        """Paint the colour over ``pixels`` (straight RGBA) at coverage ``cover`` (0..1),
        "source over" as Agg does."""
        cover = cover[..., None]
        below = pixels.astype(np.float32)
        if pixels[..., 3].min() == 255:  # an opaque background (a figure's) stays opaque
            below[..., :3] += (self._colour - below[..., :3]) * cover
            pixels[..., :3] = np.rint(below[..., :3])
            return
        below_alpha = below[..., 3:] / 255
        out_alpha = cover + below_alpha * (1 - cover)
        safe = np.where(out_alpha > 0, out_alpha, 1)
        colour = (self._colour * cover + below[..., :3] * below_alpha * (1 - cover)) / safe
        pixels[..., :3] = np.rint(colour)
        pixels[..., 3:] = np.rint(out_alpha * 255)
