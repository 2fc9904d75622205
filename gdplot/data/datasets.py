"""Synthetic data sets for the demos and tests: ``X`` of shape ``(n_samples, n_features)``
and ``y`` of shape ``(n_samples,)``, float arrays.
"""

from __future__ import annotations

import math

import numpy as np

from gdplot.validation import check_int, check_random_state, check_real


def make_regression(
    n_samples: int = 200,
    n_features: int = 1,
    *,
    noise: float = 1.0,
    random_state: int | np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """A linear target with Gaussian noise: ``y = X @ true_coef + true_intercept + noise``.

    Returns ``(X, y, true_coef, true_intercept)``: ``X`` ``(n_samples, n_features)`` standard
    normal, ``true_coef`` ``(n_features,)`` drawn from ``[-5, 5]``, ``true_intercept`` a float.
    """
    n_samples = check_int(n_samples, "n_samples", minimum=1)
    n_features = check_int(n_features, "n_features", minimum=1)
    noise = check_real(noise, "noise", minimum=0)
    rng = check_random_state(random_state)
    true_coef = rng.uniform(-5.0, 5.0, size=n_features)
    true_intercept = float(rng.uniform(-3.0, 3.0))
    X = rng.standard_normal((n_samples, n_features))
    y = X @ true_coef + true_intercept + noise * rng.standard_normal(n_samples)
    return X, y, true_coef, true_intercept


def make_classification(
    n_samples: int = 200,
    *,
    separation: float = 2.0,
    random_state: int | np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian blobs in 2-D with unit spread, centres ``separation`` apart.

    Returns ``(X, y)``: ``X`` ``(n_samples, 2)``, ``y`` ``(n_samples,)`` of 0.0 and 1.0
    (half of each, the extra sample going to class 1).
    """
    n_samples = check_int(n_samples, "n_samples", minimum=2)
    separation = check_real(separation, "separation", minimum=0)
    rng = check_random_state(random_state)
    y = (np.arange(n_samples) >= n_samples // 2).astype(float)
    centre = np.array([separation, separation]) / (2 * math.sqrt(2))
    X = rng.standard_normal((n_samples, 2)) + np.where(y[:, None] == 1.0, centre, -centre)
    order = rng.permutation(n_samples)
    return X[order], y[order]


def make_nonlinear(
    n_samples: int = 200,
    *,
    noise: float = 0.1,
    random_state: int | np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``y = sin(x) + noise`` for ``x`` uniform in ``[-3, 3]``: a curve no line can fit.

    Returns ``(X, y)``: ``X`` ``(n_samples, 1)``, ``y`` ``(n_samples,)``.
    """
    n_samples = check_int(n_samples, "n_samples", minimum=1)
    noise = check_real(noise, "noise", minimum=0)
    rng = check_random_state(random_state)
    X = rng.uniform(-3.0, 3.0, size=(n_samples, 1))
    y = np.sin(X[:, 0]) + noise * rng.standard_normal(n_samples)
    return X, y
