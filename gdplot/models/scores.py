"""Scores: R^2 for regressors, accuracy for classifiers, from predictions or from the model's
raw output during training."""

from __future__ import annotations

from typing import Any

import numpy as np

from gdplot.models.maths import ModelMaths
from gdplot.validation import check_target

__all__ = ["RegressorMixin", "score_of_z"]


def score_of_z(maths: ModelMaths, z: np.ndarray, y: np.ndarray) -> float:
    """The score of the model's output ``z`` on ``y``, as its ``score`` computes it: R^2 of a
    regressor's prediction, or a classifier's accuracy (class 1 where its probability is
    above 1/2)."""
    if maths.task == "classification":
        return float(np.mean((maths.link(z) > 0.5) == (y == 1.0)))
    residual = float(np.sum((y - maths.link(z)) ** 2))
    total = float(np.sum((y - y.mean()) ** 2))
    if total == 0:
        return 1.0 if residual == 0 else 0.0
    return 1.0 - residual / total


class RegressorMixin:
    """``score`` as the coefficient of determination R^2 of ``predict``."""

    def score(self, X: Any, y: Any) -> float:
        """R^2 of ``predict(X)`` against ``y`` ``(n_samples,)``: 1 is perfect, 0 is as good as
        predicting the mean. A constant ``y`` scores 1.0 if predicted exactly, else 0.0."""
        predicted = self.predict(X)
        y = check_target(y, predicted.shape[0])
        residual = np.sum((y - predicted) ** 2)
        total = np.sum((y - y.mean()) ** 2)
        if total == 0:
            return 1.0 if residual == 0 else 0.0
        return float(1.0 - residual / total)
