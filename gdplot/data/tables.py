"""CSV columns as arrays: cells parsed to numbers, feature and target columns chosen,
rows missing a value left out (with a notice).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from gdplot.data.csv_text import (
    DECIMAL_COMMA,
    CsvText,
    DataError,
    is_blank,
    read_csv_text,
)

#: Cells read as "no value", as pandas reads them (compared stripped and lower-cased).
MISSING_MARKERS = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})
#: Names pandas gives an unnamed column it read back (``Unnamed: 0``).
_PANDAS_UNNAMED = re.compile(r"Unnamed: \d+")
#: Names of identifier columns: left out of the features when they hold distinct integers.
_ID_NAME = re.compile(r"(?i)(id|index|row|row[ _]?(number|num|no)|.*[ _]id)")
_MAX_SHOWN = 5


# --------------------------------------------------------------------------- cells


_MISSING = object()  # a cell with no value
_TEXT = object()  # a cell that is not a number


#: A bound for ``largest=``: squaring differences of numbers this large and summing a few
#: million of them (a mean squared error) stays finite in float64.
LARGEST_VALUE = 1e150


def _parse_cell(cell: str, delimiter: str) -> float | object:
    """A number, ``_MISSING`` or ``_TEXT``. Non-finite numbers are returned as they are."""
    stripped = cell.strip()
    if stripped.lower() in MISSING_MARKERS:
        return _MISSING
    if delimiter != "," and DECIMAL_COMMA.fullmatch(stripped):
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


def _check_finite_column(text: CsvText, column: _Column, largest: float | None = None) -> None:
    """Refuse a column with an infinite number, or one larger in size than ``largest``
    (``column.values`` is aligned with ``text.rows``)."""
    if column.first_nonfinite is not None:
        line, cell = column.first_nonfinite
        raise DataError(
            f"{text.name!r} line {line}, column {column.name!r}: not a finite number: {cell!r}"
        )
    if largest is None:
        return
    with np.errstate(invalid="ignore"):  # NaN marks a missing value: never too large
        huge = np.flatnonzero(np.abs(column.values) > largest)
    if huge.size:
        line, _ = text.rows[huge[0]]
        value = column.values[huge[0]]
        raise DataError(
            f"{text.name!r} line {line}, column {column.name!r}: {value:g} is too large: "
            f"numbers up to {largest:g} in size are taken (so that their squares and sums "
            "stay finite); rescale the column"
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
    largest: float | None = None,
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
    - Infinite or overflowing numbers in a column used are an error naming line and column,
      and so, given ``largest`` (e.g. ``LARGEST_VALUE``), are numbers larger in size.
    - At least 2 rows must remain.
    """
    text = read_csv_text(path)
    name = text.name
    target_index = text.column_index(target)
    data_rows = text.rows
    filled = sum(not is_blank(cells) for _, cells in data_rows)
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
        _check_finite_column(text, parsed[index], largest)
    target_column = _parse_column(text, target_index, data_rows)
    if not labels:
        _check_numeric_target(text, target_column)
        _check_finite_column(text, target_column, largest)

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
    path: str | os.PathLike[str], names: Sequence[str], *, largest: float | None = None
) -> tuple[CsvText, np.ndarray, np.ndarray]:
    """Read the columns ``names`` of a CSV, in that order, for prediction.

    Returns ``(text, X, complete)``: ``text`` the whole file (to copy its rows out),
    ``X`` ``(n_rows, len(names))`` float64 with NaN where a value is missing, and
    ``complete`` ``(n_rows,)`` bool, the rows with every value present. Blank rows are left
    out. Missing columns are one :class:`DataError` naming them all; a text or infinite
    cell in a needed column is one naming its line and column, and so, given ``largest``, is
    a number larger in size.
    """
    text = read_csv_text(path)
    absent = [n for n in names if n not in text.columns]
    if absent:
        raise DataError(
            f"{text.name!r} has no column(s) {', '.join(map(repr, absent))} that the model "
            f"needs; {text.describe_columns()}"
        )
    rows = [(line, cells) for line, cells in text.rows if not is_blank(cells)]
    text = CsvText(text.name, text.columns, rows, text.delimiter)
    columns = [_parse_column(text, text.column_index(n), rows) for n in names]
    for column in columns:
        if column.first_text is not None:
            line, cell = column.first_text
            raise DataError(
                f"{text.name!r} line {line}, column {column.name!r}: not a number: "
                f"{cell.strip()!r}"
            )
        _check_finite_column(text, column, largest)
    X = np.column_stack([c.values for c in columns]) if columns else np.empty((len(rows), 0))
    complete = ~np.any(np.column_stack([c.missing for c in columns]), axis=1) if columns else (
        np.ones(len(rows), dtype=bool)
    )
    return text, X, complete


def load_csv(path: str | os.PathLike[str], target: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``(X, y, feature_names)`` of :func:`load_table` with a numeric target (notices dropped)."""
    table = load_table(path, target)
    return table.X, table.y, table.feature_names
