"""Checks at the boundary: every bad input becomes a clear error naming what was wrong.

Hyper-parameter checks raise ``TypeError`` for the wrong kind of value and ``ValueError`` for a
value out of range; both messages name the parameter and repeat the value received. Array
checks return float64, C-contiguous arrays ready for the training loop.
"""

from __future__ import annotations

import math
import numbers
from typing import Literal

import numpy as np

_NUMERIC_KINDS = "biuf"  # bool, signed int, unsigned int, float


class NotFittedError(ValueError, AttributeError):
    """Raised when an estimator is used before ``fit`` (or after a failed ``fit``).

    It is both a ``ValueError`` and an ``AttributeError``, as in scikit-learn, so that
    ``hasattr(estimator, "coef_")`` is simply ``False`` on an unfitted estimator.
    """


# ---------------------------------------------------------------------------------------------
# hyper-parameters


def check_learning_rate(lr: object, *, allow_auto: bool = False) -> float | Literal["auto"]:
    """``lr`` as a float: a finite real number > 0 (bools are rejected); or the string
    ``"auto"`` if ``allow_auto`` (the caller computes the rate from the data)."""
    if allow_auto and isinstance(lr, str):
        if lr == "auto":
            return "auto"
        raise ValueError(f"lr must be a finite number > 0 or 'auto', got lr={lr!r}")
    return check_real(lr, "lr", minimum=0, inclusive=False)


def check_real(
    value: object, name: str, *, minimum: float | None = None, inclusive: bool = True
) -> float:
    """``value`` as a finite float, ``>= minimum`` (``> minimum`` unless ``inclusive``).

    Any real number is accepted (int, float, Fraction, NumPy scalars); bools, NaN, infinity and
    non-numbers are rejected with a message naming ``name`` and the value.
    """
    expected = "a finite number"
    if minimum is not None:
        expected += f" {'>=' if inclusive else '>'} {minimum:g}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {expected}, got {name}={value!r} ({type(value).__name__})")
    try:
        number = float(value)
    except OverflowError:  # an int beyond float range
        number = math.inf
    too_small = minimum is not None and (number < minimum if inclusive else number <= minimum)
    if not math.isfinite(number) or too_small:
        raise ValueError(f"{name} must be {expected}, got {name}={value!r}")
    return number


def check_int(
    value: object,
    name: str,
    *,
    minimum: int = 1,
    maximum: int | None = None,
    allow_none: bool = False,
) -> int | None:
    """``value`` as an int in ``[minimum, maximum]`` (or ``None`` when ``allow_none``); bools
    are rejected."""
    if value is None and allow_none:
        return None
    expected = f"an int >= {minimum}" if maximum is None else f"an int in [{minimum}, {maximum}]"
    expected += " or None" if allow_none else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be {expected}, got {name}={value!r} ({type(value).__name__})")
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be {expected}, got {name}={value!r}")
    return int(value)


def check_bool(value: object, name: str) -> bool:
    """``value`` as a bool; only ``True``/``False`` (or NumPy bools) are accepted."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(
            f"{name} must be True or False, got {name}={value!r} ({type(value).__name__})"
        )
    return bool(value)


def check_choice(value: object, name: str, choices: tuple[str, ...]) -> str:
    """``value`` if it is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        options = " or ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be {options}, got {name}={value!r}")
    return value


def check_random_state(random_state: object) -> np.random.Generator:
    """A ``Generator`` from ``None`` (fresh entropy), an int seed >= 0, or a ``Generator``.

    A ``Generator`` is used as is (and advanced by training), as scikit-learn does with a
    ``RandomState``; pass an int for repeatable fits.
    """
    if random_state is None or isinstance(random_state, np.random.Generator):
        return np.random.default_rng(random_state)
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
        raise TypeError(
            "random_state must be None, an int >= 0 or a numpy.random.Generator, "
            f"got random_state={random_state!r} ({type(random_state).__name__})"
        )
    if random_state < 0:
        raise ValueError(f"random_state must be an int >= 0, got random_state={random_state!r}")
    return np.random.default_rng(int(random_state))


# ---------------------------------------------------------------------------------------------
# arrays


def _as_array(values: object, name: str) -> np.ndarray:
    try:
        return np.asarray(values)
    except (ValueError, TypeError) as exc:  # ragged nested lists and the like
        raise ValueError(f"{name} could not be converted to an array: {exc}") from None


def _check_numeric(array: np.ndarray, name: str) -> np.ndarray:
    """``array`` as finite float64; rejects object, string, complex and NaN/inf."""
    kind = array.dtype.kind
    if kind == "c":
        raise ValueError(
            f"{name} is complex (dtype {array.dtype}); only real numbers are supported"
        )
    if kind not in _NUMERIC_KINDS:
        raise ValueError(
            f"{name} must be numeric (bool, int or float), got an array of dtype {array.dtype}"
        )
    array = np.ascontiguousarray(array, dtype=np.float64)
    finite = np.isfinite(array)
    if not finite.all():
        position = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise ValueError(f"{name} contains NaN or infinity (first at index {position})")
    return array


def check_X(X: object, name: str = "X") -> np.ndarray:
    """``X`` as a finite float64 array of shape ``(n_samples, n_features)``, both >= 1."""
    array = _as_array(X, name)
    if array.ndim != 2:
        hint = "; for a single feature use X.reshape(-1, 1)" if array.ndim == 1 else ""
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_samples, n_features), "
            f"got a {array.ndim}-D array of shape {array.shape}{hint}"
        )
    if array.size == 0:
        raise ValueError(
            f"{name} is empty (shape {array.shape}); need at least one sample and one feature"
        )
    return _check_numeric(array, name)


def _check_1d(y: object, n_samples: int, name: str) -> np.ndarray:
    array = _as_array(y, name)
    if array.ndim != 1:
        hint = "; use y.ravel()" if array.ndim == 2 and 1 in array.shape else ""
        raise ValueError(
            f"{name} must be a 1-D array of shape (n_samples,), got shape {array.shape}{hint}"
        )
    if array.shape[0] != n_samples:
        raise ValueError(
            f"X and {name} have different numbers of samples: X has {n_samples}, "
            f"{name} has {array.shape[0]}"
        )
    return array


def check_target(y: object, n_samples: int, name: str = "y") -> np.ndarray:
    """A regression target: finite float64, shape ``(n_samples,)``."""
    return _check_numeric(_check_1d(y, n_samples, name), name)


def check_labels(y: object, n_samples: int, name: str = "y") -> np.ndarray:
    """Class labels, shape ``(n_samples,)``: numbers (finite) or strings, any comparable type."""
    array = _check_1d(y, n_samples, name)
    kind = array.dtype.kind
    if kind in _NUMERIC_KINDS + "c":
        _check_numeric(array, name)
    elif kind == "O":
        try:
            np.unique(array)
        except TypeError as exc:
            raise ValueError(f"{name} holds labels that cannot be sorted: {exc}") from None
    elif kind not in "US":
        raise ValueError(
            f"{name} must hold numbers or strings, got an array of dtype {array.dtype}"
        )
    return array


def check_n_features(X: np.ndarray, n_features_in: int, estimator_name: str) -> None:
    """Raise ``ValueError`` unless ``X`` has the feature count seen in ``fit``."""
    if X.shape[1] != n_features_in:
        raise ValueError(
            f"X has {X.shape[1]} features, but {estimator_name} was fitted with "
            f"{n_features_in} features"
        )
