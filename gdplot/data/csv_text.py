"""Reading CSV files as people have them: the text, its delimiter (sniffed), its header and rows.

A file that cannot be used is a :class:`DataError` whose message is one line saying where
and why.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from gdplot.data.file_kinds import NotARegularFile, open_regular


class DataError(ValueError):
    """A data file that cannot be used; the message is one line that says where and why."""


# --------------------------------------------------------------------------- reading CSV text

#: Delimiters the sniffer may choose between; anything else reads as comma-separated.
DELIMITERS = ",;\t|"
_SNIFF_LINES = 20
#: ``1,5`` is one and a half in a file delimited by something other than a comma.
DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+(?:[eE][+-]?\d+)?")


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
        # A regular file only: /dev/zero would be read for ever, a FIFO waited on.
        with open(open_regular(name), newline="", encoding="utf-8-sig") as file:
            text = file.read()
        return _split_csv(text, name)
    except NotARegularFile as exc:
        raise DataError(f"{name!r} is {exc.kind}, not a CSV file") from None
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
    header = next((row for row in reader if not is_blank(row)), None)
    if header is None:
        raise DataError(
            f"{name!r} has no header row (the file is empty or blank): "
            "a header row naming the columns is required"
        )
    columns = [cell.strip() for cell in header]
    rows = []
    for row in reader:
        if not is_blank(row) and len(row) != len(columns):
            raise DataError(
                f"{name!r} line {reader.line_num}: expected {len(columns)} cells, got {len(row)}"
                f" (read with delimiter {delimiter!r})"
            )
        rows.append((reader.line_num, row))
    return CsvText(name, columns, rows, delimiter)


def is_blank(row: list[str]) -> bool:
    """An empty line, or one of only whitespace and delimiters."""
    return not any(cell.strip() for cell in row)


def uses_decimal_comma(text: CsvText, names: Sequence[str]) -> bool:
    """Whether the columns ``names`` of ``text`` write numbers with a decimal comma (``1,5``),
    as spreadsheets in many locales do in files delimited by ``;``."""
    if text.delimiter == ",":
        return False
    indices = [text.column_index(name) for name in names]
    return any(
        DECIMAL_COMMA.fullmatch(cells[i].strip())
        for _, cells in text.rows
        for i in indices
        if i < len(cells)
    )
