"""PNG frames: encoding an RGBA buffer, and writing a figure or a live plot's frame atomically.

The encoder writes the pixels with ``zlib`` directly, which releases the GIL while it
compresses, so a rendering thread does not hold up training.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from gdplot.atomic import atomic_writer, write_bytes_atomic
from gdplot.models.snapshot import Snapshot

if TYPE_CHECKING:
    from gdplot.plots.live_plot import LivePlot

DPI = 100


#: zlib level of frame PNGs: the fastest, for files a little larger than the default's.
PNG_COMPRESS_LEVEL = 1


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
    colours, thin lines) that is smaller and faster than Pillow's adaptive filtering, and
    ``zlib.compress`` releases the GIL while it deflates, so a frame encoding on a
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


def write_frame(plot: LivePlot, snapshot: Snapshot, path: str | os.PathLike[str]) -> Path:
    """Draw ``snapshot`` with ``plot`` and write the PNG to ``path`` atomically."""
    return write_bytes_atomic(path, plot.png(snapshot))
