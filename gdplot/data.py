"""Data for the demos and the command line: synthetic sets, CSV files as people have them,
scaling and a train/test split.

Everything returns float arrays: ``X`` of shape ``(n_samples, n_features)``, ``y`` of shape
``(n_samples,)``.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from gdplot.validation import check_int, check_random_state, check_real, check_X

__all__ = [
    "CsvText",
    "DataError",
    "Table",
    "load_columns",
    "load_csv",
    "load_table",
    "read_csv_text",
    "sniff_delimiter",
    "split_rows",
    "uses_decimal_comma",
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
    """``(X, y, feature_names)`` of :func:`load_table` with a numeric target (notices dropped)."""
    table = load_table(path, target)
    return table.X, table.y, table.feature_names


# --------------------------------------------------------------------------- reading CSV text

#: Cells read as "no value", as pandas reads them (compared stripped and lower-cased).
MISSING_MARKERS = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})
#: Delimiters the sniffer may choose between; anything else reads as comma-separated.
DELIMITERS = ",;\t|"
_SNIFF_LINES = 20
#: ``1,5`` is one and a half in a file delimited by something other than a comma.
_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+(?:[eE][+-]?\d+)?")
#: Names pandas gives an unnamed column it read back (``Unnamed: 0``).
_PANDAS_UNNAMED = re.compile(r"Unnamed: \d+")
#: Names of identifier columns: left out of the features when they hold distinct integers.
_ID_NAME = re.compile(r"(?i)(id|index|row|row[ _]?(number|num|no)|.*[ _]id)")
_MAX_SHOWN = 5


@dataclass(frozen=True)
class CsvText:
    """A CSV file as text cells: the header and the data rows, blank rows included.

    ``rows`` holds ``(line, cells)`` pairs (``line`` 1-based, where the row ends); every row
    has as many cells as the header, except blank rows (no cells, or only whitespace).
    """

    name: str
    columns: list[str]
    rows: list[tuple[int, list[str]]]
    delimiter: str

    def column_index(self, column: str) -> int:
        """The position of ``column``; a ``DataError`` naming the columns if it is not there
        exactly once."""
        count = self.columns.count(column)
        if count == 1:
            return self.columns.index(column)
        problem = "no" if count == 0 else "more than one"
        raise DataError(
            f"{self.name!r} has {problem} column {column!r}; {self.describe_columns()}"
        )

    def describe_columns(self) -> str:
        """``columns are: a, b, c (delimiter ';')``: what a user needs to fix a column name."""
        # Quoted where a bare name would mislead: empty, or holding a delimiter or a space.
        names = ", ".join(
            repr(c) if not c or any(d in c for d in DELIMITERS + " ") else c
            for c in self.columns
        )
        return f"columns are: {names} (read with delimiter {self.delimiter!r})"


def read_csv_text(path: str | os.PathLike[str]) -> CsvText:
    """Read the CSV file at ``path``: delimiter sniffed, header row, text cells.

    The delimiter is the one of ``DELIMITERS`` that :class:`csv.Sniffer` finds in the first
    lines, and a comma if it finds none. Blank lines before the header are skipped. Raises
    :class:`DataError` for a missing, unreadable, non-UTF-8 or empty file, a malformed CSV
    and ragged rows.
    """
    name = os.fspath(path)
    try:
        with open(name, newline="", encoding="utf-8-sig") as file:
            text = file.read()
        return _split_csv(text, name)
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


def sniff_delimiter(text: str) -> str:
    """The delimiter of CSV ``text``: one of ``DELIMITERS`` that the first non-blank lines
    agree on (``csv.Sniffer``), and that the header row contains; else a comma."""
    lines = [line for line in text.splitlines() if line.strip()][:_SNIFF_LINES]
    if not lines:
        return ","
    try:
        delimiter = csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS).delimiter
    except csv.Error:  # one column, or no consistent delimiter
        return ","
    return delimiter if delimiter in lines[0] else ","


def _split_csv(text: str, name: str) -> CsvText:
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next((row for row in reader if not _is_blank(row)), None)
    if header is None:
        raise DataError(
            f"{name!r} has no header row (the file is empty or blank): "
            "a header row naming the columns is required"
        )
    columns = [cell.strip() for cell in header]
    rows = []
    for row in reader:
        if not _is_blank(row) and len(row) != len(columns):
            raise DataError(
                f"{name!r} line {reader.line_num}: expected {len(columns)} cells, got {len(row)}"
                f" (read with delimiter {delimiter!r})"
            )
        rows.append((reader.line_num, row))
    return CsvText(name, columns, rows, delimiter)


def _is_blank(row: list[str]) -> bool:
    """An empty line, or one of only whitespace and delimiters."""
    return not any(cell.strip() for cell in row)


# --------------------------------------------------------------------------- cells


_MISSING = object()  # a cell with no value
_TEXT = object()  # a cell that is not a number


def _parse_cell(cell: str, delimiter: str) -> float | object:
    """A number, ``_MISSING`` or ``_TEXT``. Non-finite numbers are returned as they are."""
    stripped = cell.strip()
    if stripped.lower() in MISSING_MARKERS:
        return _MISSING
    if delimiter != "," and _DECIMAL_COMMA.fullmatch(stripped):
        stripped = stripped.replace(",", ".")
    if "_" in stripped:  # float() would read "1_000" as 1000; a CSV reader should not
        return _TEXT
    try:
        return float(stripped)
    except ValueError:
        return _TEXT


@dataclass
class _Column:
    """One column parsed: its values (NaN where missing) and what kind of column it is."""

    name: str
    values: np.ndarray  # float64, NaN where a cell is missing or text
    missing: np.ndarray  # bool, per row
    first_text: tuple[int, str] | None  # (line, cell) of the first non-number
    first_nonfinite: tuple[int, str] | None

    @property
    def kind(self) -> str:
        if self.first_text is not None:
            return "text"
        return "empty" if self.missing.all() else "numeric"


def _parse_column(text: CsvText, index: int, data_rows: list[tuple[int, list[str]]]) -> _Column:
    fast = _parse_plain_numbers(index, data_rows)
    if fast is not None:
        return _Column(text.columns[index], fast, np.isnan(fast), None, None)
    values = np.full(len(data_rows), np.nan)
    missing = np.zeros(len(data_rows), dtype=bool)
    first_text = first_nonfinite = None
    for i, (line, cells) in enumerate(data_rows):
        cell = cells[index] if index < len(cells) else ""  # a blank row may be short
        value = _parse_cell(cell, text.delimiter)
        if value is _MISSING:
            missing[i] = True
        elif value is _TEXT:
            first_text = first_text or (line, cell)
        elif not math.isfinite(value):
            first_nonfinite = first_nonfinite or (line, cell)
        else:
            values[i] = value
    return _Column(text.columns[index], values, missing, first_text, first_nonfinite)


def _parse_plain_numbers(index: int, data_rows: list[tuple[int, list[str]]]) -> np.ndarray | None:
    """The common case in one NumPy conversion: every cell a finite number or ``nan``. ``None``
    for anything else (an empty or text cell, an underscore, infinity), which the cell-by-cell
    parse then reports exactly."""
    try:
        cells = [cells[index] for _, cells in data_rows]
    except IndexError:  # a short blank row
        return None
    joined = "".join(cells)
    # NumPy, like float(), would read 1_000 as 1000, and it drops trailing NUL characters.
    if not cells or "_" in joined or "\x00" in joined:
        return None
    try:
        values = np.array(cells).astype(np.float64)
    except ValueError:
        return None
    if np.isinf(values).any():
        return None
    # NaN is a missing value only where the cell says so ("nan"; "-nan" is not a marker).
    not_a_number = np.flatnonzero(np.isnan(values))
    if any(cells[i].strip().lower() not in MISSING_MARKERS for i in not_a_number):
        return None
    return values


def _check_finite_column(text: CsvText, column: _Column) -> None:
    if column.first_nonfinite is not None:
        line, cell = column.first_nonfinite
        raise DataError(
            f"{text.name!r} line {line}, column {column.name!r}: not a finite number: {cell!r}"
        )


def _is_index(column: _Column) -> bool:
    """Row numbers 0, 1, 2, ... as pandas ``to_csv()`` writes its index."""
    return (
        column.kind == "numeric"
        and not column.missing.any()
        and np.array_equal(column.values, np.arange(column.values.size))
    )


def _is_identifier(column: _Column) -> bool:
    """A column named like ``id`` or ``patient_id`` holding distinct integers: a row label,
    not a measurement."""
    values = column.values
    return (
        column.kind == "numeric"
        and bool(_ID_NAME.fullmatch(column.name))
        and not column.missing.any()
        and bool(np.all(values == np.round(values)))
        and np.unique(values).size == values.size
    )


def _shown(items: list[str]) -> str:
    more = f", ... ({len(items)} in all)" if len(items) > _MAX_SHOWN else ""
    return ", ".join(items[:_MAX_SHOWN]) + more


# --------------------------------------------------------------------------- tables


@dataclass
class Table:
    """A CSV file read for training.

    Attributes:
        X: ``(n_rows, n_features)`` float64, the feature columns in file order.
        y: ``(n_rows,)``: float64, or for ``labels=True`` the labels as read (float64 if every
            label is a number, else str).
        feature_names, target_name: column names, as in the header (stripped).
        lines: ``(n_rows,)`` the line of each row in the file.
        notices: one line each for what was left out, and why.
        delimiter: the delimiter the file was read with.
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    target_name: str
    lines: np.ndarray
    notices: list[str] = field(default_factory=list)
    delimiter: str = ","


def load_table(
    path: str | os.PathLike[str],
    target: str,
    *,
    features: Sequence[str] | None = None,
    labels: bool = False,
) -> Table:
    """Read a CSV with a header row for training: ``target`` is the column to predict.

    The rules, each a notice in ``Table.notices`` (or a :class:`DataError` when the file
    cannot be used):

    - The delimiter is sniffed (comma, semicolon, tab or bar). With a delimiter other than a
      comma, ``1,5`` is read as 1.5.
    - Missing values are empty cells and ``NA``, ``N/A``, ``NaN``, ``null``, ``None``, ``?``
      (any case). **A row missing a value in a column used (a feature or the target) is left
      out**, and so is a blank row: one rule, one notice counting them.
    - ``features=None``: every other column with only numbers (and missing values) is a
      feature; text columns are left out, named in one notice. A column without a header
      (pandas' ``to_csv()`` index, or a trailing delimiter), or named ``Unnamed: N`` and
      holding 0, 1, 2, ..., is left out with a notice too, and so is an identifier: a column
      named ``id``, ``index``, ``row`` or ``..._id`` holding distinct whole numbers.
    - ``features=[...]``: exactly those columns, in that order; one that is missing, the
      target, or not numeric is an error naming it.
    - The target must be numbers, unless ``labels``: then any values, kept as they are.
    - Infinite or overflowing numbers in a column used are an error naming line and column.
    - At least 2 rows must remain.
    """
    text = read_csv_text(path)
    name = text.name
    target_index = text.column_index(target)
    data_rows = text.rows
    filled = sum(not _is_blank(cells) for _, cells in data_rows)
    if filled < 2:
        raise DataError(f"{name!r} has {filled} data row(s); at least 2 are needed")
    notices: list[str] = []
    if features is None:
        candidates = [i for i in range(len(text.columns)) if i != target_index]
        if not candidates:
            raise DataError(f"{name!r} has only the target column {target!r}: no features to use")
    else:
        candidates = _chosen_columns(text, list(features), target)
    parsed = {i: _parse_column(text, i, data_rows) for i in candidates}
    used = _feature_columns(text, parsed, explicit=features is not None, notices=notices)
    for index in used:
        _check_finite_column(text, parsed[index])
    target_column = _parse_column(text, target_index, data_rows)
    if not labels:
        _check_numeric_target(text, target_column)
        _check_finite_column(text, target_column)

    keep = ~target_column.missing
    for index in used:
        keep &= ~parsed[index].missing
    dropped = [line for (line, _), kept in zip(data_rows, keep, strict=True) if not kept]
    if dropped:
        notices.append(
            f"left out {len(dropped)} row(s) with a missing value in a column used "
            f"(line(s) {_shown([str(line) for line in dropped])})"
        )
    n_rows = int(keep.sum())
    if n_rows < 2:
        raise DataError(
            f"{name!r} has {n_rows} data row(s) with a value in every column used; "
            "at least 2 are needed"
        )
    X = np.column_stack([parsed[i].values[keep] for i in used])
    if labels:
        y = _labels(text, target_index, data_rows, keep)
    else:
        y = target_column.values[keep]
    lines = np.array([line for (line, _), kept in zip(data_rows, keep, strict=True) if kept])
    return Table(
        X=X,
        y=y,
        feature_names=[text.columns[i] for i in used],
        target_name=target,
        lines=lines,
        notices=notices,
        delimiter=text.delimiter,
    )


def _chosen_columns(text: CsvText, features: list[str], target: str) -> list[int]:
    if not features:
        raise DataError("features is empty: name at least one column")
    if target in features:
        raise DataError(f"the target {target!r} cannot also be a feature")
    repeated = sorted({f for f in features if features.count(f) > 1})
    if repeated:
        raise DataError(f"features names {', '.join(map(repr, repeated))} more than once")
    absent = [f for f in features if f not in text.columns]
    if absent:
        raise DataError(
            f"{text.name!r} has no column(s) {', '.join(map(repr, absent))}; "
            f"{text.describe_columns()}"
        )
    return [text.column_index(f) for f in features]


def _feature_columns(
    text: CsvText, parsed: dict[int, _Column], *, explicit: bool, notices: list[str]
) -> list[int]:
    """The columns to train on, in order; what is left out goes to ``notices``."""
    if explicit:
        for column in parsed.values():
            if column.kind != "numeric":
                raise DataError(_not_numeric(text, column))
        return list(parsed)
    index_like = [
        i for i, column in parsed.items()
        if not column.name or (_PANDAS_UNNAMED.fullmatch(column.name) and _is_index(column))
    ]
    if index_like:
        described = [
            f"column {i + 1} ({parsed[i].name or 'no header'}"
            + (": row numbers 0, 1, 2, ..., an index" if _is_index(parsed[i]) else "")
            + ")"
            for i in index_like
        ]
        notices.append(f"left out {_shown(described)}: a feature needs a name")
    identifiers = [i for i, c in parsed.items() if i not in index_like and _is_identifier(c)]
    if identifiers:
        notices.append(
            f"left out identifier column(s): {_shown([parsed[i].name for i in identifiers])} "
            "(distinct whole numbers; name them in --features to use them)"
        )
    index_like += identifiers
    text_columns = [i for i, c in parsed.items() if i not in index_like and c.kind == "text"]
    if text_columns:
        described = [f"{parsed[i].name} ({parsed[i].first_text[1].strip()!r})"
                     for i in text_columns]
        notices.append(
            f"left out non-numeric column(s): {_shown(described)} "
            "(choose columns with --features)"
        )
    empty = [i for i, c in parsed.items() if i not in index_like and c.kind == "empty"]
    if empty:
        notices.append(f"left out empty column(s): {_shown([parsed[i].name for i in empty])}")
    used = [i for i in parsed if i not in index_like and i not in text_columns and i not in empty]
    if not used:
        raise DataError(
            f"{text.name!r} has no numeric feature column besides the target"
            + "".join(f"; {message}" for message in notices)
            + f"; {text.describe_columns()}"
        )
    repeated = sorted({parsed[i].name for i in used if text.columns.count(parsed[i].name) > 1})
    if repeated:
        raise DataError(
            f"{text.name!r} has more than one column named {', '.join(map(repr, repeated))}"
        )
    return used


def _not_numeric(text: CsvText, column: _Column) -> str:
    if column.first_text is None:
        return f"{text.name!r}: column {column.name!r} has no values"
    line, cell = column.first_text
    return (
        f"{text.name!r}: column {column.name!r} is not numeric "
        f"(line {line}: {cell.strip()!r})"
    )


def _check_numeric_target(text: CsvText, column: _Column) -> None:
    if column.first_text is not None:
        line, cell = column.first_text
        raise DataError(
            f"{text.name!r} line {line}, column {column.name!r}: the target is not a number: "
            f"{cell.strip()!r} (text labels need a classifier: --model logistic)"
        )


def _labels(
    text: CsvText, index: int, data_rows: list[tuple[int, list[str]]], keep: np.ndarray
) -> np.ndarray:
    """The target's kept cells as labels: float64 if every one is a number, else str."""
    cells = [cells[index].strip() for (_, cells), kept in zip(data_rows, keep, strict=True) if kept]
    numbers = [_parse_cell(cell, text.delimiter) for cell in cells]
    if all(isinstance(v, float) and math.isfinite(v) for v in numbers):
        return np.array(numbers, dtype=np.float64)
    return np.array(cells, dtype=str)


def load_columns(
    path: str | os.PathLike[str], names: Sequence[str]
) -> tuple[CsvText, np.ndarray, np.ndarray]:
    """Read the columns ``names`` of a CSV, in that order, for prediction.

    Returns ``(text, X, complete)``: ``text`` the whole file (to copy its rows out),
    ``X`` ``(n_rows, len(names))`` float64 with NaN where a value is missing, and
    ``complete`` ``(n_rows,)`` bool, the rows with every value present. Blank rows are left
    out. Missing columns are one :class:`DataError` naming them all; a text or infinite
    cell in a needed column is one naming its line and column.
    """
    text = read_csv_text(path)
    absent = [n for n in names if n not in text.columns]
    if absent:
        raise DataError(
            f"{text.name!r} has no column(s) {', '.join(map(repr, absent))} that the model "
            f"needs; {text.describe_columns()}"
        )
    rows = [(line, cells) for line, cells in text.rows if not _is_blank(cells)]
    text = CsvText(text.name, text.columns, rows, text.delimiter)
    columns = [_parse_column(text, text.column_index(n), rows) for n in names]
    for column in columns:
        if column.first_text is not None:
            line, cell = column.first_text
            raise DataError(
                f"{text.name!r} line {line}, column {column.name!r}: not a number: "
                f"{cell.strip()!r}"
            )
        _check_finite_column(text, column)
    X = np.column_stack([c.values for c in columns]) if columns else np.empty((len(rows), 0))
    complete = ~np.any(np.column_stack([c.missing for c in columns]), axis=1) if columns else (
        np.ones(len(rows), dtype=bool)
    )
    return text, X, complete


def uses_decimal_comma(text: CsvText, names: Sequence[str]) -> bool:
    """Whether the columns ``names`` of ``text`` write numbers with a decimal comma (``1,5``),
    as spreadsheets in many locales do in files delimited by ``;``."""
    if text.delimiter == ",":
        return False
    indices = [text.column_index(name) for name in names]
    return any(
        _DECIMAL_COMMA.fullmatch(cells[i].strip())
        for _, cells in text.rows
        for i in indices
        if i < len(cells)
    )


# --------------------------------------------------------------------------- splitting


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
