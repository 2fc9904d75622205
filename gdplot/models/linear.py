"""Linear regression by gradient descent, and the base shared with logistic regression.

Both models compute ``z = X @ coef + intercept``. Their parameters live in one flat vector
``theta = [*coef, intercept]``, so a step is one vector update and ``Snapshot.path`` gets one
row per epoch. ``LinearModel`` trains any model linear in its parameters from its registered
``ModelMaths`` alone: the loss of ``z`` and its gradient in ``z``, chained through ``z``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gdplot.models.base import GradientDescentEstimator
from gdplot.models.maths import (
    ModelMaths,
    Params,
    identity,
    register_estimator,
    register_model,
)
from gdplot.models.scores import RegressorMixin


def linear_output(params: Params, X: np.ndarray) -> np.ndarray:
    """``z = X @ coef + intercept``, shape ``(n,)`` for ``X`` ``(n, n_features)``."""
    z = X @ params["coef"]
    z += params["intercept"]  # in place: this runs once per gradient step
    return z


def mean_squared_error(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``mean((z - y) ** 2)`` over the last axis: ``z`` ``(..., n)``, ``y`` ``(n,)``."""
    residual = z - y
    return np.einsum("...i,...i->...", residual, residual) / residual.shape[-1]


def mean_squared_error_gradient(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``d mean((z - y) ** 2) / dz = 2 (z - y) / n`` for ``z`` ``(n,)``; reuses ``z``."""
    z -= y
    z *= 2.0 / z.shape[0]
    return z


LINEAR = register_model(
    ModelMaths(
        kind="linear",
        title="Linear regression",
        task="regression",
        raw_output=linear_output,
        link=identity,
        loss_of_z=mean_squared_error,
        output_label="prediction",
        linear_in_params=True,
        loss_gradient_of_z=mean_squared_error_gradient,
        lipschitz_factor=2.0,
    )
)


class LinearModel(GradientDescentEstimator):
    """Base of the models whose decision is ``z = X @ coef_ + intercept_``; starts at zero.

    A subclass sets ``maths``: its loss and the loss's gradient in ``z`` are all the training
    needs (``theta``'s gradient is ``[X.T @ dz, sum(dz)]``).

    Learned attributes: ``coef_`` ``(n_features,)`` (a view of the live parameters, as in
    scikit-learn) and ``intercept_`` (a float), plus the base class's.
    """

    @property
    def coef_(self) -> np.ndarray:
        self._check_is_fitted()
        return self._theta[:-1]

    @property
    def intercept_(self) -> float:
        self._check_is_fitted()
        return float(self._theta[-1])

    def parameter_count(self, n_features: int) -> int:
        return n_features + 1  # coef and intercept

    def _init_params(self, n_features: int, rng: np.random.Generator) -> None:
        self._theta = np.zeros(n_features + 1)
        self._theta_grad = np.empty(n_features + 1)
        # Views of theta, made once: each step updates theta in place, and these see it.
        self._params = {"coef": self._theta[:-1], "intercept": self._theta[-1:].reshape(())}

    def _live_params(self) -> dict[str, np.ndarray]:
        return self._params

    def _flat_params(self) -> np.ndarray:
        return self._theta

    def _decision_function(self, X: np.ndarray) -> np.ndarray:
        """``z`` ``(n,)`` for ``X`` ``(n, n_features)``: the model's ``raw_output``."""
        return self.maths.raw_output(self._params, X)

    def _loss(self, X: np.ndarray, y: np.ndarray) -> float:
        return float(self.maths.loss_of_z(self._decision_function(X), y))

    def _gradients(self, X: np.ndarray, y: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray]]:
        z_grad = self.maths.loss_gradient_of_z(self._decision_function(X), y)
        return ((self._theta, self._theta_gradient(X, z_grad)),)

    def _theta_gradient(self, X: np.ndarray, z_grad: np.ndarray) -> np.ndarray:
        """Chain rule through ``z``: the gradient w.r.t. ``theta`` given ``z_grad`` ``(m,)``,
        the gradient w.r.t. each row's ``z``. Written into a buffer reused by every step."""
        grad = self._theta_grad
        np.matmul(z_grad, X, out=grad[:-1])
        grad[-1] = z_grad.sum()
        return grad


@register_estimator
class LinearRegressionGD(RegressorMixin, LinearModel):
    """Ordinary least squares by gradient descent.

    Loss: the mean squared error ``mean((X @ coef + intercept - y) ** 2)`` (not halved), so
    the gradient is ``2/m * X.T @ residual``; ``history_`` records that loss. Full-batch
    descent with a small enough ``lr`` converges to the least-squares solution. See
    ``GradientDescentEstimator`` for the parameters.

    Example:
        >>> import numpy as np
        >>> X = np.arange(10.0).reshape(-1, 1)
        >>> model = LinearRegressionGD(lr=0.02, epochs=5000).fit(X, 3 * X[:, 0] + 1)
        >>> model.coef_.round(4), round(model.intercept_, 4)
        (array([3.]), 1.0)
    """

    maths = LINEAR

    def predict(self, X: Any) -> np.ndarray:
        """Predictions ``(n_samples,)`` for ``X`` ``(n_samples, n_features)``."""
        return self.maths.link(self._decision_function(self._check_predict_X(X)))
