"""A one-hidden-layer ReLU network for regression, trained by the shared gradient-descent
loop with the hand-written backprop of ``gdplot.models.nn``, on the loss registered in its
``ModelMaths`` (the mean squared error, shared with linear regression)."""

from __future__ import annotations

from typing import Any

import numpy as np

from gdplot.models.base import FitSettings, GradientDescentEstimator
from gdplot.models.linear import mean_squared_error, mean_squared_error_gradient
from gdplot.models.maths import (
    ModelMaths,
    Params,
    identity,
    register_estimator,
    register_model,
)
from gdplot.models.nn import Linear, ReLU, Sequential
from gdplot.models.scores import RegressorMixin
from gdplot.validation import check_int

#: A guard against a typo like hidden=10**9 filling the machine's memory: 2**27 float64
#: parameters are 1 GiB, and their gradients as much again.
MAX_PARAMETERS = 2**27


def mlp_output(params: Params, X: np.ndarray) -> np.ndarray:
    """``relu(X @ W1 + b1) @ W2 + b2``, shape ``(n,)``: the forward pass of ``gdplot.models.nn``'s
    Linear-ReLU-Linear net, from the parameters alone (no layer objects to pickle)."""
    hidden = np.maximum(X @ params["hidden.weight"] + params["hidden.bias"], 0.0)
    return (hidden @ params["output.weight"] + params["output.bias"])[:, 0]


MLP = register_model(
    ModelMaths(
        kind="mlp",
        title="MLP",
        task="regression",
        raw_output=mlp_output,
        link=identity,
        loss_of_z=mean_squared_error,
        output_label="prediction",
        linear_in_params=False,
        loss_gradient_of_z=mean_squared_error_gradient,
    )
)


@register_estimator
class MLPRegressorGD(RegressorMixin, GradientDescentEstimator):
    """``Linear(n_features, hidden) -> ReLU -> Linear(hidden, 1)`` trained on the mean squared
    error (not halved; ``history_`` records it).

    Parameters (besides those of ``GradientDescentEstimator``):
        hidden: hidden units, an int >= 1.

    The weights start from ``random_state`` (PyTorch's default initialisation, see
    ``gdplot.models.nn.Linear``), so the same int seed gives the same fit. Learned attributes:
    ``model_``, the trained ``gdplot.models.nn.Sequential`` with layers ``"hidden"``, ``"relu"``,
    ``"output"``, plus those of ``GradientDescentEstimator``.
    """

    maths = MLP

    def __init__(
        self,
        *,
        hidden: int = 32,
        lr: float = 0.01,
        epochs: int = 100,
        batch_size: int | None = None,
        shuffle: bool = True,
        random_state: int | np.random.Generator | None = None,
        record_steps: int | str | None = None,
    ) -> None:
        super().__init__(
            lr=lr, epochs=epochs, batch_size=batch_size, shuffle=shuffle, random_state=random_state,
            record_steps=record_steps,
        )
        self.hidden = hidden

    def validate_params(self) -> FitSettings:
        settings = super().validate_params()
        check_int(self.hidden, "hidden")
        return settings

    def predict(self, X: Any) -> np.ndarray:
        """Predictions ``(n_samples,)`` for ``X`` ``(n_samples, n_features)``."""
        return self.maths.link(self._forward(self._check_predict_X(X)))

    # -- the maths ---------------------------------------------------------------------------

    def parameter_count(self, n_features: int) -> int:
        # hidden layer: weight (n_features, hidden) and bias; output: weight (hidden, 1), bias
        return (n_features + 2) * self.hidden + 1

    def _init_params(self, n_features: int, rng: np.random.Generator) -> None:
        n_params = self.parameter_count(n_features)
        if n_params > MAX_PARAMETERS:
            raise ValueError(
                f"hidden={self.hidden} with {n_features} features makes {n_params:,} parameters "
                f"({n_params * 8 / 2**30:.3g} GiB, twice that with gradients); at most "
                f"{MAX_PARAMETERS:,} are allowed: use fewer hidden units"
            )
        self.model_ = Sequential(
            ("hidden", Linear(n_features, self.hidden, rng=rng)),
            ("relu", ReLU()),
            ("output", Linear(self.hidden, 1, rng=rng)),
        )

    def _live_params(self) -> dict[str, np.ndarray]:
        return {name: param for name, param, _ in self.model_.parameters()}

    def _flat_params(self) -> None:
        return None  # no parameter path: a 100-dimensional path does not plot

    def _forward(self, X: np.ndarray) -> np.ndarray:
        """The network's output ``z`` ``(n,)`` (its layers keep what ``backward`` needs)."""
        return self.model_.forward(X)[:, 0]

    def _loss(self, X: np.ndarray, y: np.ndarray) -> float:
        return float(self.maths.loss_of_z(self._forward(X), y))

    def _gradients(self, X: np.ndarray, y: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        z_grad = self.maths.loss_gradient_of_z(self._forward(X), y)
        self.model_.backward(z_grad[:, np.newaxis])
        return [(param, grad) for _, param, grad in self.model_.parameters()]
