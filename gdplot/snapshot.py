"""What a plot sees: a frozen copy of the training state at the end of one epoch.

A snapshot is taken on the training thread and rendered later, on a worker thread or in
another process, while training has moved on. So it owns copies of everything that changes
during training (parameters, the loss history, the parameter path) and only *references*
what never changes (the plotting sample of the training data). It pickles cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

ModelKind = Literal["linear", "logistic", "mlp"]


@dataclass(frozen=True, eq=False)
class Snapshot:
    """The state of one training run at the end of epoch ``epoch``.

    Attributes:
        model: ``"linear"``, ``"logistic"`` or ``"mlp"``: which maths ``decision`` applies.
        epoch: epochs finished so far (1-based).
        step: gradient steps taken so far (one per batch).
        loss: loss over the whole training set at the end of this epoch.
        params: copied parameter arrays. Linear models: ``"coef"`` shape ``(n_features,)``
            and ``"intercept"`` shape ``()``. MLP: ``"hidden.weight"`` ``(n_features, hidden)``,
            ``"hidden.bias"`` ``(hidden,)``, ``"output.weight"`` ``(hidden, 1)``,
            ``"output.bias"`` ``(1,)``.
        history: loss at the end of each epoch so far, shape ``(epoch,)``; ``history[0]`` is
            epoch 1. ``initial_loss`` is the loss before the first step.
        X, y: the plotting sample of the training data (at most a few thousand rows, fixed for
            the run; shared between snapshots, never mutated).
        path: for linear models, the flattened ``[*coef, intercept]`` at the start and at the
            end of every epoch so far, shape ``(epoch + 1, n_features + 1)``; ``None`` for MLP.
        label: a free-form name for the run (for titles and legends).
    """

    model: ModelKind
    epoch: int
    step: int
    loss: float
    params: dict[str, np.ndarray]
    history: np.ndarray
    X: np.ndarray
    y: np.ndarray
    initial_loss: float = float("nan")
    path: np.ndarray | None = None
    label: str = ""
    extra: dict[str, object] = field(default_factory=dict)

    def decision(self, X: np.ndarray) -> np.ndarray:
        """The model's raw output on ``X`` (shape ``(n, n_features)``) with these parameters.

        Regression: the prediction, shape ``(n,)``. Logistic: the probability of the second
        class, shape ``(n,)``.
        """
        X = np.asarray(X, dtype=float)
        if self.model == "mlp":
            hidden = np.maximum(X @ self.params["hidden.weight"] + self.params["hidden.bias"], 0.0)
            return (hidden @ self.params["output.weight"] + self.params["output.bias"])[:, 0]
        z = X @ self.params["coef"] + self.params["intercept"]
        if self.model == "logistic":
            return sigmoid(z)
        return z


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function ``1 / (1 + exp(-z))`` elementwise, without overflow for any z."""
    # exp of a non-positive number never overflows.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
