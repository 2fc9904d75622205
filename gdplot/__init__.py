"""Gradient descent from scratch in NumPy, with plots that never block training.

>>> from gdplot import LinearRegressionGD
>>> model = LinearRegressionGD(lr=0.1, epochs=200).fit([[0.0], [1.0], [2.0]], [1.0, 3.0, 5.0])
>>> model.predict([[3.0]]).round(3)
array([7.])
"""

from importlib import metadata as _metadata

from gdplot.data.model_files import TrainedModel, load_model, save_model
from gdplot.models.convergence import ConvergenceWarning
from gdplot.models.divergence import DivergenceError
from gdplot.models.linear import LinearRegressionGD
from gdplot.models.logistic import LogisticRegressionGD
from gdplot.models.mlp import MLPRegressorGD
from gdplot.models.snapshot import Snapshot
from gdplot.validation import NotFittedError

#: The callbacks, importable from here too; loaded on first use, as they import matplotlib.
_CALLBACKS = {
    "GifCallback": "gdplot.plots.callbacks",
    "PlotCallback": "gdplot.plots.callbacks",
    "ProgressCallback": "gdplot.progress",
}


def __getattr__(name: str) -> object:
    if name in _CALLBACKS:
        from importlib import import_module

        return getattr(import_module(_CALLBACKS[name]), name)
    raise AttributeError(f"module 'gdplot' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_CALLBACKS))


try:
    __version__ = _metadata.version("gdplot-taskqueue")
except _metadata.PackageNotFoundError:  # run from a checkout that is not installed
    __version__ = "0+unknown"

__all__ = [
    "ConvergenceWarning",
    "DivergenceError",
    "GifCallback",
    "LinearRegressionGD",
    "LogisticRegressionGD",
    "MLPRegressorGD",
    "NotFittedError",
    "PlotCallback",
    "ProgressCallback",
    "Snapshot",
    "TrainedModel",
    "load_model",
    "save_model",
]
