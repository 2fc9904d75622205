"""Preparing arrays for training: a (stratified) train/test split and standardisation.
"""

from __future__ import annotations

import math

import numpy as np

from gdplot.validation import check_int, check_random_state, check_real, check_X


def split_rows(
    n_rows: int,
    test_size: float,
    *,
    random_state: int | np.random.Generator | None = None,
    labels: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(train_rows, test_rows)``: sorted row indices, a random ``test_size`` fraction held out.

    With ``labels`` the split is stratified: each class gives ``floor(test_size * count)``
    of its rows, so every class keeps at least one training row. Without, ``round(test_size
    * n_rows)`` rows are held out, leaving at least 2 for training. ``test_size=0`` holds out
    none.
    """
    n_rows = check_int(n_rows, "n_rows", minimum=1)
    test_size = check_real(test_size, "test_size", minimum=0)
    if test_size >= 1:
        raise ValueError(
            f"test_size must be a finite number in [0, 1), got test_size={test_size!r}"
        )
    rng = check_random_state(random_state)
    if labels is None:
        n_test = min(round(test_size * n_rows), max(n_rows - 2, 0))
        test = rng.permutation(n_rows)[:n_test]
    else:
        groups = [np.flatnonzero(labels == c) for c in np.unique(labels)]
        test = np.concatenate(
            [rng.permutation(g)[: math.floor(test_size * g.size)] for g in groups]
            or [np.empty(0, dtype=np.intp)]
        )
    is_test = np.zeros(n_rows, dtype=bool)
    is_test[test] = True
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)


#: Columns with a magnitude above this are scaled down before summing: their squares, or a
#: sum of many of them, would overflow float64.
_HUGE = 1e150


def standardize(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scale each column of ``X`` (shape ``(n, d)``) to mean 0 and standard deviation 1.

    Returns ``(X_scaled, mean, scale)`` with ``mean`` and ``scale`` of shape ``(d,)``, so that
    ``X_scaled = (X - mean) / scale``. A constant column gets scale 1 (it becomes all zeros).
    """
    return scale_columns(check_X(X))


def scale_columns(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`standardize` of an ``X`` already checked by :func:`gdplot.validation.check_X`."""
    # A column of huge numbers (up to 1.8e308) is divided by its largest magnitude first, so
    # that its sum and its deviations stay finite; other columns are left as they are.
    size = np.max(np.abs(X), axis=0)
    size = np.where(size > _HUGE, size, 1.0)
    unit = X / size
    unit_mean = unit.mean(axis=0)
    centred = unit - unit_mean
    # Dividing by the largest deviation first keeps tiny columns from underflowing to std 0.
    peak = np.max(np.abs(centred), axis=0)
    peak[peak == 0] = 1.0
    unit_scale = peak * np.std(centred / peak, axis=0)
    # Exact test: a constant column's std can come out as 1e-17 rather than 0.
    constant = (np.ptp(unit, axis=0) == 0) | (unit_scale == 0)
    unit_scale[constant] = 1.0
    scale = np.where(constant, 1.0, unit_scale * size)
    return centred / unit_scale, unit_mean * size, scale
