"""Plots of a training run, drawn off the training thread.

The callbacks (:mod:`~gdplot.plots.callbacks`) snapshot the training state and hand the
drawing to an executor (:mod:`~gdplot.plots.dispatch`). There a built-in renderer
(:mod:`~gdplot.plots.renderers`: which plot suits which model, and each worker's cache of
live figures) draws a :class:`~gdplot.plots.live_plot.LivePlot` (the blitting base class) of
one plot kind (:mod:`~gdplot.plots.curves`, :mod:`~gdplot.plots.boundary`,
:mod:`~gdplot.plots.surface`, over the loss-landscape maths of
:mod:`~gdplot.plots.landscape`) and writes it as PNG bytes (:mod:`~gdplot.plots.png`).
Cached backgrounds and title glyphs are in :mod:`~gdplot.plots.backgrounds` and
:mod:`~gdplot.plots.glyphs`. The notebook view (:mod:`~gdplot.plots.notebook`) shows a plot's
frames in the Jupyter cell that runs ``fit``, one image updated in place.

"""

from gdplot.plots.callbacks import GifCallback, PlotCallback, render_gif
from gdplot.plots.renderers import RENDERERS

__all__ = ["RENDERERS", "GifCallback", "PlotCallback", "render_gif"]
