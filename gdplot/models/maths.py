"""What each model computes, kept in one place per model, and found by the model's name.

Every model module (``linear.py``, ``logistic.py``, ``mlp.py``) defines one :class:`ModelMaths`
next to its estimator and registers both (:func:`register_model`, :func:`register_estimator`).
The estimator's training loop, its snapshots and the renderers all call these functions; none
of them re-derives a model's maths or branches on its name. A snapshot carries only the name
(a short string pickles cheaply to a process renderer), and :func:`model_maths` turns it back
into the maths; :func:`estimator_class` finds the estimator of a kind (for model files and the
command line), :func:`model_kinds` lists them. Adding a model touches its own module (and
``gdplot/__init__.py``, which imports it, to export its estimator).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = [
    "ModelMaths",
    "estimator_class",
    "identity",
    "model_kinds",
    "model_maths",
    "register_estimator",
    "register_model",
]

Params = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class ModelMaths:
    """One model's maths.

    Attributes:
        kind: the name snapshots carry (``Snapshot.model``), e.g. ``"linear"``.
        title: how plots name the model, e.g. ``"Linear regression"``.
        task: ``"regression"`` or ``"classification"`` (binary: the positive class is 1).
        raw_output: ``raw_output(params, X)``: the model's score ``z`` of shape ``(n,)`` for
            ``X`` ``(n, n_features)``, with ``params`` named as in ``Snapshot.params``.
        link: maps ``z`` to what the model predicts: identity for regression, the probability
            of class 1 for classification. Any shape.
        loss_of_z: ``loss_of_z(z, y)``: the training loss of scores ``z`` (shape ``(..., n)``)
            against targets ``y`` ``(n,)``, averaged over the last axis, shape ``(...)``. So a
            whole grid of parameter settings is scored in one call.
        loss_gradient_of_z: ``loss_gradient_of_z(z, y)``: the gradient of
            ``loss_of_z(z, y)`` with respect to ``z`` (shape ``(n,)``, as ``z``), which
            training chains back through ``raw_output`` to the parameters. It may reuse
            ``z``'s memory: the training loop passes a fresh ``z`` per step.
        output_label: what ``link(z)`` is, for legends: ``"prediction"``, ``"P(y = 1)"``.
        linear_in_params: ``z = X @ coef + intercept``; the parameter path
            ``[*coef, intercept]`` and a loss surface over it exist.
        lipschitz_factor: for models linear in their parameters, the constant ``c`` such that
            the loss gradient is ``c * lambda_max(D.T @ D / n)``-Lipschitz, with ``D`` the
            design matrix ``[X, 1]`` (2 for the unhalved MSE, 1/4 for the logistic NLL);
            ``None`` where no such bound is known.
    """

    kind: str
    title: str
    task: Literal["regression", "classification"]
    raw_output: Callable[[Params, np.ndarray], np.ndarray]
    link: Callable[[np.ndarray], np.ndarray]
    loss_of_z: Callable[[np.ndarray, np.ndarray], np.ndarray]
    output_label: str
    linear_in_params: bool
    loss_gradient_of_z: Callable[[np.ndarray, np.ndarray], np.ndarray]
    lipschitz_factor: float | None = None

    def output(self, params: Params, X: np.ndarray) -> np.ndarray:
        """``link(raw_output(params, X))``: the prediction or class-1 probability, ``(n,)``."""
        return self.link(self.raw_output(params, np.asarray(X, dtype=float)))


def identity(z: np.ndarray) -> np.ndarray:
    """The link of a regression model: its score is its prediction."""
    return z


# Filled once, at import, by the model modules; read-only afterwards, so no lock is needed.
_REGISTRY: dict[str, ModelMaths] = {}
_ESTIMATORS: dict[str, type] = {}


def register_model(maths: ModelMaths) -> ModelMaths:
    """Make ``maths`` findable by ``maths.kind``; returns it. A kind is registered once."""
    _claim(_REGISTRY, maths.kind, maths, "is already registered")
    return maths


def model_maths(kind: str) -> ModelMaths:
    """The maths registered under ``kind`` (``"linear"``, ``"logistic"``, ``"mlp"``, ...)."""
    return _look_up(_REGISTRY, kind)


def register_estimator(cls: type) -> type:
    """A class decorator: make ``cls`` the estimator of the model kind ``cls.maths.kind``
    (whose maths must be registered already). Returns ``cls``."""
    maths = getattr(cls, "maths", None)
    if not isinstance(maths, ModelMaths) or _REGISTRY.get(maths.kind) is not maths:
        raise ValueError(
            f"{cls.__name__}.maths must be a registered ModelMaths, got {maths!r}"
        )
    _claim(_ESTIMATORS, maths.kind, cls, "already has an estimator")
    return cls


def estimator_class(kind: str) -> type:
    """The estimator class registered for ``kind`` (``"linear"`` -> ``LinearRegressionGD``)."""
    return _look_up(_ESTIMATORS, kind)


def model_kinds() -> list[str]:
    """The kinds that have an estimator, sorted: ``["linear", "logistic", "mlp"]``."""
    return sorted(_ESTIMATORS)


def _claim(table: dict, kind: str, value: object, taken: str) -> None:
    """Register ``value`` under ``kind`` in ``table``; the same value again is a no-op."""
    known = table.get(kind)
    if known is not None and known is not value:
        name = getattr(known, "__name__", None)  # an estimator class; maths have none
        raise ValueError(f"model kind={kind!r} {taken}" + (f": {name}" if name else ""))
    table[kind] = value


def _look_up(table: dict, kind: object):
    try:
        return table[kind]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown model kind={kind!r}; known kinds: {', '.join(sorted(table))}"
        ) from None
