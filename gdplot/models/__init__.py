"""The models and their training: the gradient-descent loop every estimator shares
(:mod:`~gdplot.models.base`), each model's maths in one registry (:mod:`~gdplot.models.maths`),
the estimators (:mod:`~gdplot.models.linear`, :mod:`~gdplot.models.logistic`,
:mod:`~gdplot.models.mlp`, built on the layers of :mod:`~gdplot.models.nn`), the ``lr='auto'``
rule (:mod:`~gdplot.models.learning_rate`) and the snapshots a callback takes
(:mod:`~gdplot.models.snapshot`).

Each estimator module registers its model when it is imported; importing this package
imports them all, so every built-in model kind is registered.
"""

from gdplot.models.base import GradientDescentEstimator
from gdplot.models.convergence import ConvergenceWarning
from gdplot.models.divergence import DivergenceError
from gdplot.models.linear import LinearRegressionGD
from gdplot.models.logistic import LogisticRegressionGD
from gdplot.models.maths import ModelMaths, estimator_class, model_kinds, model_maths
from gdplot.models.mlp import MLPRegressorGD
from gdplot.models.snapshot import Snapshot

__all__ = [
    "ConvergenceWarning",
    "DivergenceError",
    "GradientDescentEstimator",
    "LinearRegressionGD",
    "LogisticRegressionGD",
    "MLPRegressorGD",
    "ModelMaths",
    "Snapshot",
    "estimator_class",
    "model_kinds",
    "model_maths",
]
