"""Filled bands painted straight into an Agg buffer's pixels: the palette of a set of levels,
the pixels inside an axes' frame and their data coordinates.

A decision boundary's probability bands and a loss surface's contour bands are painted
this way, so a frame never re-runs a contour fill.
"""

from __future__ import annotations

import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.figure import Figure


def words(rgba: np.ndarray) -> np.ndarray:
    """An ``(height, width, 4)`` uint8 buffer seen as ``(height, width)`` uint32 pixels: one
    4-byte move per pixel instead of four 1-byte ones."""
    return rgba.view(np.uint32)[..., 0]


def band_palette(mappable: ScalarMappable, levels: np.ndarray, alpha: float) -> np.ndarray:
    """``(len(levels) - 1, 4)`` uint8: each band's colour (at its centre) blended over the
    white axes, as a fill of that ``alpha`` would be, opaque."""
    centres = (levels[:-1] + levels[1:]) / 2
    colours = mappable.to_rgba(centres, alpha=1.0, bytes=True).astype(float)
    palette = np.round(alpha * colours + (1 - alpha) * 255).astype(np.uint8)
    palette[:, 3] = 255
    return palette


def paint(rgba: np.ndarray, rows: slice, cols: slice, palette: np.ndarray,
           indices: np.ndarray) -> None:
    """Set ``rgba[rows, cols]`` to ``palette[indices]`` (``palette`` ``(k, 4)`` uint8)."""
    words(rgba)[rows, cols] = words(np.ascontiguousarray(palette)[None])[0][indices]


def inner_pixels(figure: Figure, axes) -> tuple[slice, slice, np.ndarray, np.ndarray]:
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
