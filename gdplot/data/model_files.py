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
from gdplot.data.bounded_json import JSONLimitError, load_bounded_json
from gdplot.data.file_kinds import NotARegularFile
from gdplot.data.preprocessing import scale_columns, standardize
from gdplot.models import estimator_class
from gdplot.models.base import GradientDescentEstimator
from gdplot.validation import check_X

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "ModelFileError",
    "PredictionOverflow",
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


class PredictionOverflow(ValueError):
    """A prediction beyond float64's range; ``row`` is its row of ``X``."""

    def __init__(self, row: int, what: str) -> None:
        super().__init__(f"{what} of row {row} overflows float64's range")
        self.row = row
        self.what = what


def _first_overflow(values: np.ndarray, what: str) -> None:
    """Raise :class:`PredictionOverflow` for the first row of ``values`` that is not finite."""
    bad = np.flatnonzero(~np.isfinite(values).reshape(len(values), -1).all(axis=1))
    if bad.size:
        raise PredictionOverflow(int(bad[0]), what)


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
        validation_data: Any = None,
    ) -> TrainedModel:
        """Standardise ``X`` (and a regression target ``y``), then fit ``estimator`` on them;
        ``validation_data`` ``(X_val, y_val)``, in the raw units, is scaled as they are."""
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
        if validation_data is not None:
            validation_data = model._scaled_validation(validation_data)
        estimator.fit(X_scaled, y, callbacks=callbacks, validation_data=validation_data)
        return model

    def _scaled_validation(self, validation_data: Any) -> tuple[np.ndarray, Any]:
        """Held-out ``(X_val, y_val)`` scaled as the training columns were."""
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise TypeError("validation_data must be a pair (X_val, y_val), got "
                            f"{type(validation_data).__name__}")
        X_val = check_X(validation_data[0], "validation_data X_val")
        if X_val.shape[1] != len(self.feature_names):
            raise ValueError(f"validation_data X_val has {X_val.shape[1]} columns, but X has "
                             f"{len(self.feature_names)}")
        y_val = validation_data[1]
        if self.target_scale is not None:
            y_val = (np.asarray(y_val, dtype=np.float64) - self.target_mean) / self.target_scale
        return (X_val - self.feature_mean) / self.feature_scale, y_val

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
        with np.errstate(over="ignore", invalid="ignore"):  # refused below instead
            scaled = (X - self.feature_mean) / self.feature_scale
        _first_overflow(scaled, "the scaled features")
        return scaled

    def predict(self, X: Any) -> np.ndarray:
        """Predictions in the target's units, or labels, for raw columns ``X``.

        A prediction beyond float64's range raises :class:`PredictionOverflow` naming its
        row: never ``inf``."""
        scaled = self.transform(X)
        with np.errstate(over="ignore", invalid="ignore"):  # refused below instead
            output = self.estimator.predict(scaled)
            if self.target_scale is not None:
                output = output * self.target_scale + self.target_mean
        if self.target_scale is not None:  # a classifier's labels need no check
            _first_overflow(output, "the prediction")
        return output

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


#: Limits on a model file, checked before anything is built from it. A saved model nests 4
#: deep (document, parameters, array, row); its numbers are float64 reprs, integers are
#: counts well under 20 digits.
MAX_FILE_BYTES = 256 * 2**20
MAX_DEPTH = 16
MAX_INT_DIGITS = 20
#: A model of at most this many parameters is built to compare its arrays with the file's.
_SMALL_MODEL = 2**16


def load_model(path: str | os.PathLike[str]) -> TrainedModel:
    """Read a model file written by :func:`save_model`; ``ModelFileError`` if it is not one.

    The file is read within limits (a regular file of at most ``MAX_FILE_BYTES``, nested at
    most ``MAX_DEPTH`` deep, integers of at most ``MAX_INT_DIGITS`` digits, finite numbers),
    and every field's type and size is checked against the others (the parameter arrays
    present decide how large the model may be) before any parameter array is allocated.
    """
    name = os.fspath(path)
    try:
        document = load_bounded_json(
            name, max_bytes=MAX_FILE_BYTES, max_depth=MAX_DEPTH, max_int_digits=MAX_INT_DIGITS
        )
    except FileNotFoundError:
        raise ModelFileError(f"{name!r}: no such file") from None
    except NotARegularFile as exc:
        raise ModelFileError(f"{name!r} is {exc.kind}, not a model file") from None
    except IsADirectoryError:
        raise ModelFileError(f"{name!r} is a directory, not a model file") from None
    except OSError as exc:
        raise ModelFileError(f"{name!r}: cannot read: {exc.strerror or exc}") from None
    except JSONLimitError as exc:
        raise ModelFileError(f"{name!r}: not a usable gdplot model file: {exc}") from None
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
    kind = _typed(document, "model", str)
    cls = estimator_class(kind)
    hyperparameters = _typed(document, "hyperparameters", dict)
    for key, value in hyperparameters.items():
        if not isinstance(value, (str, int, float, bool, type(None))):
            raise TypeError(f"hyperparameters.{key} must be a number, a string or null, "
                             f"got {type(value).__name__}")
    estimator = cls(**hyperparameters)
    estimator.validate_params()  # the hyper-parameters, e.g. hidden, shape the parameters
    features = _typed(document, "features", list)
    if not all(isinstance(f, str) for f in features):
        raise ValueError("features must be a list of column names (strings)")
    n_features = document["n_features"]
    if isinstance(n_features, bool) or not isinstance(n_features, int) or n_features < 1:
        raise ValueError(f"n_features must be an int >= 1, got {n_features!r}")
    if len(features) != n_features:
        raise ValueError(f"{len(features)} feature names for n_features={n_features}")
    scaling = _typed(document, "feature_scaling", dict)
    mean = _vector(scaling["mean"], n_features, "feature_scaling.mean")
    scale = _vector(scaling["scale"], n_features, "feature_scaling.scale")
    if np.any(scale <= 0):
        raise ValueError("feature_scaling.scale must be > 0")
    target = _typed(document, "target", str)
    target_scaling = document["target_scaling"]
    classes = document["classes"]
    if is_classifier(estimator):
        if not isinstance(classes, list) or len(classes) != 2 or not all(
            isinstance(c, (str, int, float)) and not isinstance(c, bool) for c in classes
        ):
            raise ValueError(f"a classifier needs 2 classes (strings or numbers), got "
                             f"classes={_shown(classes)}")
    elif target_scaling is None:
        raise ValueError("a regressor needs target_scaling")
    if target_scaling is not None:
        if not isinstance(target_scaling, dict):
            raise ValueError("target_scaling must be an object with mean and scale, or null")
        target_mean = _finite(target_scaling["mean"], "target_scaling.mean")
        target_scale = _finite(target_scaling["scale"], "target_scaling.scale")
        if target_scale <= 0:
            raise ValueError(f"target_scaling.scale must be > 0, got {target_scale!r}")
    training = document.get("training")
    if training is None:
        training = {}
    if not isinstance(training, dict):
        raise TypeError(f"training must be an object or null, got {type(training).__name__}")
    epochs_run = training.get("epochs_run")
    if epochs_run is not None and (
        isinstance(epochs_run, bool) or not isinstance(epochs_run, int) or epochs_run < 0
    ):
        raise ValueError(f"training.epochs_run must be an int >= 0, got {epochs_run!r}")

    _restore_parameters(estimator, n_features, _typed(document, "parameters", dict))
    if is_classifier(estimator):
        estimator.classes_ = np.array(classes)
    estimator.n_iter_ = epochs_run or 0
    if isinstance(training.get("lr"), (int, float)) and not isinstance(training["lr"], bool):
        estimator.lr_ = float(training["lr"])
    model = TrainedModel(estimator, list(features), mean, scale, target)
    if target_scaling is not None:
        model.target_mean, model.target_scale = target_mean, target_scale
    return model


def _typed(document: dict[str, Any], key: str, kind: type) -> Any:
    """``document[key]``, which must be a ``kind`` (``str``, ``list``, ``dict``)."""
    value = document[key]
    if not isinstance(value, kind):
        words = {str: "a string", list: "a list", dict: "an object"}[kind]
        raise TypeError(f"{key} must be {words}, got {type(value).__name__}")
    return value


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _restore_parameters(
    estimator: GradientDescentEstimator, n_features: int, saved: dict[str, Any]
) -> None:
    """Check the saved arrays against the model's size, then create the estimator's parameter
    arrays (``_init_params``) and fill them in place."""
    arrays = {}
    for name, values in saved.items():
        array = np.asarray(values)  # no larger than the file: it holds every number
        if array.dtype.kind not in "iuf":
            raise ValueError(f"parameter {name!r} must be an array of numbers")
        arrays[name] = array
    present = sum(array.size for array in arrays.values())
    expected = estimator.parameter_count(n_features)
    # Before allocating: a file cannot ask for much more than it holds (a small model is
    # built, so that its arrays' names and shapes are compared below).
    if expected > max(present, _SMALL_MODEL):
        raise ValueError(
            f"parameters hold {present:,} numbers; this model on {n_features} features has "
            f"{expected:,}"
        )
    estimator._init_params(n_features, np.random.default_rng(0))
    live = estimator._live_params()
    if set(arrays) != set(live):
        raise ValueError(
            f"parameters {sorted(arrays)} do not match the model's {sorted(live)}"
        )
    for name, array in live.items():
        value = arrays[name].astype(np.float64)
        if value.shape != array.shape:
            raise ValueError(
                f"parameter {name!r} has shape {value.shape}, expected {array.shape}"
            )
        if not np.isfinite(value).all():
            raise ValueError(f"parameter {name!r} is not finite")
        array[...] = value
    estimator.n_features_in_ = n_features


def _vector(values: Any, size: int, name: str) -> np.ndarray:
    if not isinstance(values, list) or len(values) != size or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in values
    ):
        raise ValueError(f"{name} must be {size} finite numbers")
    array = np.asarray(values, dtype=np.float64)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be {size} finite numbers")
    return array


def _finite(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)
