"""Data for the demos and the command line: synthetic sets, a strict CSV loader, scaling.

Everything returns float arrays: ``X`` of shape ``(n_samples, n_features)``, ``y`` of shape
``(n_samples,)``.
"""

from __future__ import annotations

import csv
import math
import os

import numpy as np

from gdplot.validation import check_int, check_random_state, check_real, check_X

__all__ = [
    "DataError",
    "load_csv",
    "make_classification",
    "make_nonlinear",
    "make_regression",
    "standardize",
]


class DataError(ValueError):
    """A data file that cannot be used; the message is one line that says where and why."""


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


def load_csv(path: str | os.PathLike[str], target: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read a numeric CSV with a header row; ``target`` names the column to predict.

    Returns ``(X, y, feature_names)``: ``X`` ``(n_rows, n_columns - 1)`` in file order without
    the target, ``y`` ``(n_rows,)``. Blank lines are skipped. Raises :class:`DataError` for a
    missing, unreadable or empty file, a missing target, ragged rows, non-numeric or
    non-finite cells, or fewer than 2 data rows.
    """
    name = os.fspath(path)
    try:
        with open(name, newline="", encoding="utf-8-sig") as file:
            return _parse_csv(csv.reader(file), name, target)
    except FileNotFoundError:
        raise DataError(f"{name!r}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{name!r} is a directory, not a CSV file") from None
    except PermissionError:
        raise DataError(f"{name!r}: permission denied") from None
    except OSError as exc:  # a name too long, an I/O error, ...
        raise DataError(f"{name!r}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{name!r} is not UTF-8 text (byte {exc.start})") from None
    except csv.Error as exc:
        raise DataError(f"{name!r}: malformed CSV: {exc}") from None


def _parse_csv(
    reader: csv.Reader, name: str, target: str
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    header = next((row for row in reader if not _is_blank(row)), None)
    if header is None:
        raise DataError(
            f"{name!r} has no header row (the file is empty or blank): "
            "a header row naming the columns is required"
        )
    columns = [cell.strip() for cell in header]
    if columns.count(target) != 1:
        problem = "no" if target not in columns else "more than one"
        raise DataError(
            f"{name!r} has {problem} column {target!r}; columns are: {', '.join(columns)}"
        )
    if len(columns) < 2:
        raise DataError(f"{name!r} has only the target column {target!r}: no features to use")
    rows = []
    for row in reader:
        if _is_blank(row):
            continue
        if len(row) != len(columns):
            raise DataError(
                f"{name!r} line {reader.line_num}: expected {len(columns)} cells, got {len(row)}"
            )
        rows.append(
            [
                _parse_cell(cell, name, reader.line_num, column)
                for cell, column in zip(row, columns, strict=True)
            ]
        )
    if len(rows) < 2:
        raise DataError(f"{name!r} has {len(rows)} data row(s); at least 2 are needed")
    table = np.array(rows, dtype=float)
    target_index = columns.index(target)
    features = [column for i, column in enumerate(columns) if i != target_index]
    return np.delete(table, target_index, axis=1), table[:, target_index], features


def _is_blank(row: list[str]) -> bool:
    """An empty line, or one of only whitespace and commas: skipped wherever it is."""
    return not any(cell.strip() for cell in row)


def _parse_cell(cell: str, name: str, line: int, column: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value):
        what = "empty cell" if not cell.strip() else f"not a finite number: {cell!r}"
        raise DataError(f"{name!r} line {line}, column {column!r}: {what}")
    return value


def standardize(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scale each column of ``X`` (shape ``(n, d)``) to mean 0 and standard deviation 1.

    Returns ``(X_scaled, mean, scale)`` with ``mean`` and ``scale`` of shape ``(d,)``, so that
    ``X_scaled = (X - mean) / scale``. A constant column gets scale 1 (it becomes all zeros).
    """
    X = check_X(X)
    mean = X.mean(axis=0)
    centred = X - mean
    # Dividing by the largest deviation first keeps tiny columns from underflowing to std 0.
    peak = np.max(np.abs(centred), axis=0)
    peak[peak == 0] = 1.0
    scale = peak * np.std(centred / peak, axis=0)
    # Exact test: a constant column's std can come out as 1e-17 rather than 0.
    scale[(np.ptp(X, axis=0) == 0) | (scale == 0)] = 1.0
    return centred / scale, mean, scale
