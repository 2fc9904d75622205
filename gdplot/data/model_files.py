"""A fitted model with its scaling, and a file format to keep it in (JSON, not pickle).

:class:`TrainedModel` is what ``gdplot train`` fits and ``gdplot predict`` uses: an estimator
trained on standardised features (and, for regression, a standardised target), with the
column names and the scaling that turn raw CSV columns into its inputs and its outputs back
into the target's own units. :func:`save_model` and :func:`load_model` keep one in a file.

The file is UTF-8 JSON, one object, written atomically::

    {
      "format": "gdplot-model",          # always this string
      "version": 1,                       # bumped on any incompatible change
      "model": "linear",                  # the estimator's kind: linear, logistic, mlp
      "estimator": "LinearRegressionGD",  # for people reading the file
      "hyperparameters": {"lr": 0.01, "epochs": 100, ...},   # get_params(); a Generator
                                          # random_state is stored as null
      "n_features": 2,
      "parameters": {"coef": [..], "intercept": 0.5},        # Snapshot.params names;
                                          # arrays as (nested) lists, in float64 repr
      "features": ["bmi", "bp"],          # column names, in the order of the inputs
      "feature_scaling": {"mean": [..], "scale": [..]},      # input = (column - mean) / scale
      "target": "progression",
      "target_scaling": {"mean": 152.1, "scale": 77.0},      # prediction = output * scale
                                          # + mean; null for classifiers
      "classes": ["B", "M"],              # classifiers: the labels, class 1 second; else null
      "training": {"epochs_run": 100, "lr": 0.01, "initial_loss": 1.0, "final_loss": 0.48}
    }

Loading checks the format name, the version, the kind and every parameter's shape, and
fails with a :class:`ModelFileError` naming the file and what is wrong.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gdplot.atomic import write_bytes_atomic
from gdplot.data.preprocessing import scale_columns, standardize
from gdplot.models import estimator_class
from gdplot.models.base import GradientDescentEstimator
from gdplot.validation import check_X

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "ModelFileError",
    "TrainedModel",
    "estimator_class",
    "load_model",
    "save_model",
]

FORMAT_NAME = "gdplot-model"
FORMAT_VERSION = 1


def is_classifier(estimator: GradientDescentEstimator) -> bool:
    """Whether the estimator's maths are a classification (its target is labels, unscaled)."""
    return type(estimator).maths.task == "classification"


class ModelFileError(ValueError):
    """A model file that cannot be read; the message names the file and the problem."""


@dataclass
class TrainedModel:
    """An estimator with the scaling of its inputs and outputs and the columns' names.

    ``predict(X)`` takes raw columns ``X`` ``(n, len(feature_names))`` in the order of
    ``feature_names`` and answers in the target's own units (or its labels).
    """

    estimator: GradientDescentEstimator
    feature_names: list[str]
    feature_mean: np.ndarray
    feature_scale: np.ndarray
    target_name: str = "y"
    #: ``None`` for a classifier: its labels are not scaled.
    target_mean: float | None = None
    target_scale: float | None = None

    @classmethod
    def fit(
        cls,
        estimator: GradientDescentEstimator,
        X: Any,
        y: Any,
        *,
        feature_names: list[str] | None = None,
        target_name: str = "y",
        callbacks: Any = (),
    ) -> TrainedModel:
        """Standardise ``X`` (and a regression target ``y``), then fit ``estimator`` on them."""
        X = check_X(X)  # once: scaling trusts it, and the estimator checks what it is given
        X_scaled, mean, scale = scale_columns(X)
        names = list(feature_names) if feature_names is not None else [
            f"x{i}" for i in range(X.shape[1])
        ]
        if len(names) != X.shape[1]:
            raise ValueError(
                f"feature_names has {len(names)} names for {X.shape[1]} columns: {names!r}"
            )
        model = cls(estimator, names, mean, scale, target_name)
        if not is_classifier(estimator):
            y_column = np.asarray(y, dtype=np.float64).reshape(-1, 1)
            y_scaled, y_mean, y_scale = standardize(y_column)
            model.target_mean, model.target_scale = float(y_mean[0]), float(y_scale[0])
            y = y_scaled[:, 0]
        estimator.fit(X_scaled, y, callbacks=callbacks)
        return model

    @property
    def classes(self) -> np.ndarray | None:
        """A classifier's labels (``classes[1]`` is the class whose probability it outputs)."""
        return getattr(self.estimator, "classes_", None) if is_classifier(self.estimator) else None

    def transform(self, X: Any) -> np.ndarray:
        """Raw feature columns to the estimator's inputs: ``(X - mean) / scale``."""
        X = check_X(X)
        if X.shape[1] != len(self.feature_names):
            raise ValueError(
                f"X has {X.shape[1]} columns, but the model takes {len(self.feature_names)}: "
                f"{', '.join(self.feature_names)}"
            )
        return (X - self.feature_mean) / self.feature_scale

    def predict(self, X: Any) -> np.ndarray:
        """Predictions in the target's units, or labels, for raw columns ``X``."""
        output = self.estimator.predict(self.transform(X))
        if self.target_scale is None:
            return output
        return output * self.target_scale + self.target_mean

    def predict_proba(self, X: Any) -> np.ndarray:
        """A classifier's ``(n, 2)`` class probabilities for raw columns ``X``."""
        return self.estimator.predict_proba(self.transform(X))

    def score(self, X: Any, y: Any) -> float:
        """Accuracy for a classifier, R^2 in the target's units for a regressor."""
        if self.target_scale is None:
            return self.estimator.score(self.transform(X), y)
        y_scaled = (np.asarray(y, dtype=np.float64) - self.target_mean) / self.target_scale
        return self.estimator.score(self.transform(X), y_scaled)  # R^2 is unit-free

    def mean_squared_error(self, X: Any, y: Any) -> float:
        """A regressor's mean squared error in the target's units squared."""
        return float(np.mean((self.predict(X) - np.asarray(y, dtype=np.float64)) ** 2))

    # -- the file --------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The JSON object described in this module's docstring."""
        estimator = self.estimator
        params = estimator.get_params()
        if not isinstance(params.get("random_state"), (int, type(None))):
            params["random_state"] = None  # a Generator's state is not worth keeping
        classes = self.classes
        history = getattr(estimator, "history_", np.empty(0))
        return {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "model": type(estimator).maths.kind,
            "estimator": type(estimator).__name__,
            "hyperparameters": _plain(params),
            "n_features": int(estimator.n_features_in_),
            "parameters": {
                name: np.asarray(value, dtype=np.float64).tolist()
                for name, value in estimator._live_params().items()
            },
            "features": list(self.feature_names),
            "feature_scaling": {
                "mean": np.asarray(self.feature_mean, dtype=np.float64).tolist(),
                "scale": np.asarray(self.feature_scale, dtype=np.float64).tolist(),
            },
            "target": self.target_name,
            "target_scaling": None
            if self.target_scale is None
            else {"mean": self.target_mean, "scale": self.target_scale},
            "classes": None if classes is None else _plain(classes.tolist()),
            "training": {
                "epochs_run": int(getattr(estimator, "n_iter_", 0)),
                "lr": _plain(getattr(estimator, "lr_", None)),  # the rate used ("auto" resolved)
                "initial_loss": _plain(getattr(estimator, "initial_loss_", None)),
                "final_loss": float(history[-1]) if len(history) else None,
            },
        }


def _plain(value: Any) -> Any:
    """``value`` with NumPy scalars turned into Python ones, for ``json``."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def save_model(
    path: str | os.PathLike[str],
    model: TrainedModel | GradientDescentEstimator,
    *,
    feature_names: list[str] | None = None,
    target_name: str = "y",
) -> Path:
    """Write a fitted ``model`` to ``path`` as JSON, atomically; returns the path.

    A bare fitted estimator is saved with no scaling (mean 0, scale 1) and ``feature_names``
    (default ``x0``, ``x1``, ...).
    """
    if isinstance(model, GradientDescentEstimator):
        model._check_is_fitted()
        n = model.n_features_in_
        model = TrainedModel(
            model,
            list(feature_names) if feature_names is not None else [f"x{i}" for i in range(n)],
            np.zeros(n),
            np.ones(n),
            target_name,
            None if is_classifier(model) else 0.0,
            None if is_classifier(model) else 1.0,
        )
    elif not isinstance(model, TrainedModel):
        raise TypeError(
            f"model must be a TrainedModel or a fitted estimator, got {type(model).__name__}"
        )
    model.estimator._check_is_fitted()
    text = json.dumps(model.to_dict(), indent=1, allow_nan=False) + "\n"
    return write_bytes_atomic(path, text.encode("utf-8"))


def load_model(path: str | os.PathLike[str]) -> TrainedModel:
    """Read a model file written by :func:`save_model`; ``ModelFileError`` if it is not one."""
    name = os.fspath(path)
    try:
        with open(name, encoding="utf-8") as file:
            document = json.load(file)
    except FileNotFoundError:
        raise ModelFileError(f"{name!r}: no such file") from None
    except IsADirectoryError:
        raise ModelFileError(f"{name!r} is a directory, not a model file") from None
    except OSError as exc:
        raise ModelFileError(f"{name!r}: cannot read: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{name!r} is not a gdplot model file (not JSON: {exc})") from None
    try:
        return _from_dict(document)
    except (KeyError, TypeError, ValueError) as exc:
        reason = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        raise ModelFileError(f"{name!r}: not a usable gdplot model file: {reason}") from None


def _from_dict(document: Any) -> TrainedModel:
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        raise ValueError(f"its format is not {FORMAT_NAME!r}")
    version = document["version"]
    if version != FORMAT_VERSION:
        raise ValueError(
            f"format version {version!r}; this gdplot reads version {FORMAT_VERSION}"
        )
    cls = estimator_class(document["model"])
    estimator = cls(**document["hyperparameters"])
    n_features = document["n_features"]
    if isinstance(n_features, bool) or not isinstance(n_features, int) or n_features < 1:
        raise ValueError(f"n_features must be an int >= 1, got {n_features!r}")
    _restore_parameters(estimator, n_features, document["parameters"])
    classes = document["classes"]
    if is_classifier(estimator):
        if not isinstance(classes, list) or len(classes) != 2:
            raise ValueError(f"a classifier needs 2 classes, got classes={classes!r}")
        estimator.classes_ = np.array(classes)
    training = document.get("training") or {}
    estimator.n_iter_ = int(training.get("epochs_run") or 0)
    if isinstance(training.get("lr"), (int, float)):
        estimator.lr_ = float(training["lr"])
    features = [str(f) for f in document["features"]]
    scaling = document["feature_scaling"]
    mean = _vector(scaling["mean"], n_features, "feature_scaling.mean")
    scale = _vector(scaling["scale"], n_features, "feature_scaling.scale")
    if len(features) != n_features:
        raise ValueError(f"{len(features)} feature names for n_features={n_features}")
    if np.any(scale <= 0):
        raise ValueError("feature_scaling.scale must be > 0")
    target_scaling = document["target_scaling"]
    model = TrainedModel(estimator, features, mean, scale, str(document["target"]))
    if target_scaling is not None:
        model.target_mean = _finite(target_scaling["mean"], "target_scaling.mean")
        model.target_scale = _finite(target_scaling["scale"], "target_scaling.scale")
    elif not is_classifier(estimator):
        raise ValueError("a regressor needs target_scaling")
    return model


def _restore_parameters(
    estimator: GradientDescentEstimator, n_features: int, saved: dict[str, Any]
) -> None:
    """Create the estimator's parameter arrays (``_init_params``) and fill them in place."""
    estimator.validate_params()  # the hyper-parameters, e.g. hidden, shape the parameters
    estimator._init_params(n_features, np.random.default_rng(0))
    live = estimator._live_params()
    if set(saved) != set(live):
        raise ValueError(
            f"parameters {sorted(saved)} do not match the model's {sorted(live)}"
        )
    for name, array in live.items():
        value = np.asarray(saved[name], dtype=np.float64)
        if value.shape != array.shape:
            raise ValueError(
                f"parameter {name!r} has shape {value.shape}, expected {array.shape}"
            )
        if not np.isfinite(value).all():
            raise ValueError(f"parameter {name!r} is not finite")
        array[...] = value
    estimator.n_features_in_ = n_features


def _vector(values: Any, size: int, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.shape != (size,) or not np.isfinite(array).all():
        raise ValueError(f"{name} must be {size} finite numbers")
    return array


def _finite(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)
