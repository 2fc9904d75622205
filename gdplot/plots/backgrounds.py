"""Drawn backgrounds, kept so that a live plot that would draw the same one can reuse it.

A live plot's first frame draws its whole figure once (axes, ticks, labels, the data, a loss
contour), laying it out, all of it holding the GIL, so on a rendering
thread it is the one frame that slows training. A run that starts
with the same figure as an earlier one (the rounds of a learning-rate sweep, a cell run again,
the same fit on a new queue) would draw exactly the same pixels.

So the first frame's result is kept here: the background's pixels and the few numbers its
changing artists are placed by (the axes' position, the title's, the legend's). A plot looks
it up by a key made of everything its background is drawn from (the plot kind, its texts,
its axis limits, a digest of the data, matplotlib's version and every rc setting); on a hit
it restores those pixels instead of drawing, and may skip building what only the background
shows. Only pixels and numbers are shared between threads, never a figure: each plot still
has its own figure, in the thread that draws it.

The store holds at most :data:`MAX_BACKGROUNDS` backgrounds (about 1.2 MB each at the
default size), least recently used first out.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

import matplotlib as mpl
import numpy as np

__all__ = ["Background", "BackgroundStore", "MAX_BACKGROUNDS", "background_key",
           "backgrounds", "data_digest"]

#: Backgrounds kept per process.
MAX_BACKGROUNDS = 8


@dataclass(frozen=True)
class Background:
    """What a live plot's first frame drew, and where it put what frames draw on top.

    Attributes:
        pixels: the whole canvas, as Agg's ``copy_from_bbox`` region (restored, never
            changed).
        axes_position: the main axes' position in figure coordinates, as the layout left it.
        title_position: the title's position in axes coordinates (the status line's anchor).
        legend_loc: the legend's lower-left corner in axes coordinates, where the first draw
            put it; ``None`` without a legend.
    """

    pixels: object
    axes_position: tuple[float, float, float, float]
    title_position: tuple[float, float]
    legend_loc: tuple[float, float] | None


class BackgroundStore:
    """Backgrounds by key, shared by every thread of the process; least recently used out."""

    def __init__(self, max_entries: int = MAX_BACKGROUNDS) -> None:
        self.max_entries = max_entries
        # Guards _entries, hits and misses: worker threads look up and add concurrently.
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, Background] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def get(self, key: Hashable | None) -> Background | None:
        """The background stored under ``key`` (``None``: never shared), or ``None``."""
        if key is None:
            return None
        with self._lock:
            background = self._entries.get(key)
            if background is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return background

    def put(self, key: Hashable | None, background: Background) -> None:
        """Keep ``background`` under ``key`` (nothing if ``key`` is ``None``)."""
        if key is None or self.max_entries <= 0:
            return
        with self._lock:
            self._entries[key] = background
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget every background and restart the counts (a process's first run again)."""
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0


_store = BackgroundStore()


def backgrounds() -> BackgroundStore:
    """The process's :class:`BackgroundStore`."""
    return _store


def data_digest(*arrays: np.ndarray) -> str:
    """A digest of arrays' shapes, dtypes and values: the data a background shows."""
    digest = hashlib.blake2b(digest_size=16)
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.data)
    return digest.hexdigest()


def background_key(*parts: Hashable) -> tuple:
    """A key of ``parts`` (what one plot's background is drawn from) plus what every
    background is drawn with: matplotlib's version and its rc settings (a style changes
    every pixel)."""
    # dict.items reads the stored settings without RcParams' validation, which is slow.
    settings = repr(list(dict.items(mpl.rcParams)))
    return (mpl.__version__, hashlib.blake2b(settings.encode(), digest_size=16).hexdigest(),
            *parts)
