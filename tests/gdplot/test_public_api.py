"""The public names are importable from ``gdplot``; the callbacks load matplotlib only when
they are first used, so importing a model does not."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import gdplot
from gdplot.plots.callbacks import GifCallback, PlotCallback
from gdplot.progress import ProgressCallback


def test_the_callbacks_from_gdplot_are_the_classes_themselves():
    assert (gdplot.PlotCallback, gdplot.GifCallback, gdplot.ProgressCallback) == (
        PlotCallback, GifCallback, ProgressCallback)
    assert {"PlotCallback", "ProgressCallback", "__version__"} <= set(dir(gdplot))


def test_importing_gdplot_loads_matplotlib_only_when_a_callback_is_used():
    script = ("import json, sys, gdplot; before = 'matplotlib' in sys.modules; "
              "from gdplot import PlotCallback; "
              "print(json.dumps([before, 'matplotlib' in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert json.loads(out) == [False, True]


def test_a_name_gdplot_does_not_have_is_an_attribute_error():
    with pytest.raises(AttributeError, match="PlotCalback"):
        gdplot.PlotCalback  # noqa: B018
