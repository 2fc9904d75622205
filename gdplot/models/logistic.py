"""Binary logistic regression by gradient descent on the negative log-likelihood, or by
gradient ascent on the log-likelihood: the same iterates, reached by two honest code paths."""

from __future__ import annotations

from typing import Any

import numpy as np

from gdplot.models.base import FitSettings
from gdplot.models.linear import LinearModel, linear_output
from gdplot.models.maths import ModelMaths, register_estimator, register_model
from gdplot.validation import check_choice, check_labels

_MAX_CLASSES_SHOWN = 10


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function ``1 / (1 + exp(-z))`` elementwise, without overflow for any z."""
    # exp of a non-positive number never overflows.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def negative_log_likelihood(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mean ``log(1 + e^z) - y z`` over the last axis (``z`` ``(..., n)``, ``y`` ``(n,)`` in
    {0, 1}), exact for any ``z``."""
    # log(1 + e^z) = max(z, 0) + log1p(e^-|z|): no overflow, and in place it costs about half
    # of np.logaddexp(0, z), which matters on a loss surface's grid of 10^5-10^6 scores.
    softplus = np.abs(z)
    np.negative(softplus, out=softplus)
    np.exp(softplus, out=softplus)
    np.log1p(softplus, out=softplus)
    softplus += np.maximum(z, 0.0)
    return (softplus.sum(axis=-1) - z @ y) / z.shape[-1]


def negative_log_likelihood_gradient(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``d mean(log(1 + e^z) - y z) / dz = (sigmoid(z) - y) / n`` for ``z`` ``(n,)``."""
    z_grad = sigmoid(z)
    z_grad -= y
    z_grad /= z_grad.shape[0]
    return z_grad


def log_likelihood_gradient(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``d mean(y z - log(1 + e^z)) / dz = (y - sigmoid(z)) / n``: what gradient *ascent*
    climbs, derived on its own rather than as the negative of the descent gradient."""
    z_grad = y - sigmoid(z)
    z_grad /= z_grad.shape[0]
    return z_grad


LOGISTIC = register_model(
    ModelMaths(
        kind="logistic",
        title="Logistic regression",
        task="classification",
        raw_output=linear_output,
        link=sigmoid,
        loss_of_z=negative_log_likelihood,
        output_label="P(y = 1)",
        linear_in_params=True,
        loss_gradient_of_z=negative_log_likelihood_gradient,
        lipschitz_factor=0.25,
    )
)


@register_estimator
class LogisticRegressionGD(LinearModel):
    """Unpenalised binary logistic regression: ``P(y = classes_[1] | x) = sigmoid(x @ coef + b)``.

    Parameters (besides those of ``GradientDescentEstimator``):
        method: ``"descent"`` steps ``theta -= lr * grad(NLL)``; ``"ascent"`` steps
            ``theta += lr * grad(LL)`` with the log-likelihood's own gradient. Both give the
            same iterates; ``"ascent"`` is there to show that they are the same thing.

    The loss recorded in ``history_`` is the mean negative log-likelihood,
    ``mean(log(1 + exp(z)) - y * z)`` with ``y`` in {0, 1}, computed with ``logaddexp`` so
    that huge ``|z|`` never overflows. Without a penalty the iterates approach the maximum
    likelihood estimate. On linearly separable data no finite MLE exists: the loss keeps
    falling towards 0 and ``coef_`` keeps growing (roughly like ``log(steps)``), but stays
    finite; stop with ``epochs``.

    Learned attributes: ``classes_`` (the two labels, sorted; numbers or strings), ``coef_``,
    ``intercept_`` and those of ``GradientDescentEstimator``.
    """

    maths = LOGISTIC

    def __init__(
        self,
        *,
        lr: float = 0.01,
        epochs: int = 100,
        batch_size: int | None = None,
        shuffle: bool = True,
        random_state: int | np.random.Generator | None = None,
        record_steps: int | str | None = None,
        method: str = "descent",
    ) -> None:
        super().__init__(
            lr=lr, epochs=epochs, batch_size=batch_size, shuffle=shuffle, random_state=random_state,
            record_steps=record_steps,
        )
        self.method = method

    def validate_params(self) -> FitSettings:
        settings = super().validate_params()
        check_choice(self.method, "method", ("descent", "ascent"))
        return settings

    def _check_fit_target(self, y: Any, n_samples: int) -> np.ndarray:
        labels = check_labels(y, n_samples)
        classes = np.unique(labels)
        if classes.shape[0] != 2:
            shown = ", ".join(repr(c) for c in classes[:_MAX_CLASSES_SHOWN].tolist())
            more = ", ..." if classes.shape[0] > _MAX_CLASSES_SHOWN else ""
            raise ValueError(
                f"{type(self).__name__} is a binary classifier: y must hold exactly 2 classes, "
                f"found {classes.shape[0]}: [{shown}{more}]"
            )
        self.classes_ = classes
        return (labels == classes[1]).astype(np.float64)

    def _check_validation_target(self, y: Any, n_samples: int) -> np.ndarray:
        labels = check_labels(y, n_samples)
        unknown = np.unique(labels[~np.isin(labels, self.classes_)])
        if unknown.size:
            shown = ", ".join(repr(c) for c in unknown[:_MAX_CLASSES_SHOWN].tolist())
            raise ValueError(
                f"validation_data: y_val holds label(s) the training target does not: [{shown}]; "
                f"the classes are {self.classes_.tolist()!r}"
            )
        return (labels == self.classes_[1]).astype(np.float64)

    # -- prediction ------------------------------------------------------------------------

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n_samples, 2)``; column ``j`` is ``P(y = classes_[j])``."""
        z = self._decision_function(self._check_predict_X(X))
        # link(-z) = sigmoid(-z), not 1 - sigmoid(z), keeps tiny probabilities accurate.
        return np.column_stack([self.maths.link(-z), self.maths.link(z)])

    def predict(self, X: Any) -> np.ndarray:
        """The more probable label from ``classes_`` for each row, shape ``(n_samples,)``."""
        z = self._decision_function(self._check_predict_X(X))
        return self.classes_[(z > 0).astype(np.intp)]

    def score(self, X: Any, y: Any) -> float:
        """Accuracy: the fraction of rows where ``predict(X)`` equals ``y``."""
        predicted = self.predict(X)
        y = check_labels(y, predicted.shape[0])
        return float(np.mean(predicted == y))

    # -- the step ----------------------------------------------------------------------------

    def _take_step(self, X: np.ndarray, y: np.ndarray, lr: float) -> None:
        if self.method == "ascent":
            z_grad = log_likelihood_gradient(self._decision_function(X), y)
            self._theta += lr * self._theta_gradient(X, z_grad)
        else:
            super()._take_step(X, y, lr)  # descent on the registered loss
