"""JSON read within limits, for files that may have been written by anyone.

``json.load`` trusts its input: a file nested 100,000 deep overflows the recursion limit, a
5,000-digit integer takes quadratic time to convert, ``1e400`` and ``Infinity`` become
``inf``. :func:`load_bounded_json` checks the file's kind and size, then the nesting depth
(strings blanked, one pass in NumPy), before the parser allocates anything, and refuses long
integers and non-finite numbers while parsing.
"""

from __future__ import annotations

import json
import math
import os
import re
from typing import Any

import numpy as np

from gdplot.data.file_kinds import open_regular, read_at_most

__all__ = ["JSONLimitError", "load_bounded_json"]

#: A JSON string: its brackets are text, not nesting.
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_OPEN = np.frombuffer(b"[{", dtype=np.uint8)
_CLOSE = np.frombuffer(b"]}", dtype=np.uint8)


class JSONLimitError(ValueError):
    """A JSON file beyond a limit: too large, nested too deep, a number out of range."""


def load_bounded_json(path: str | os.PathLike[str], *, max_bytes: int, max_depth: int,
                      max_int_digits: int = 20) -> Any:
    """Parse the JSON file at ``path`` if it is a regular file of at most ``max_bytes``,
    nested at most ``max_depth`` deep, with integers of at most ``max_int_digits`` digits and
    only finite numbers; else :class:`JSONLimitError` saying which limit.

    Also raises what opening and decoding raise: ``OSError`` (a
    :class:`~gdplot.data.file_kinds.NotARegularFile` for a FIFO, device or directory),
    ``UnicodeDecodeError`` and ``json.JSONDecodeError``.
    """
    data = read_at_most(open_regular(path), max_bytes)
    if data is None:
        raise JSONLimitError(f"larger than {max_bytes:,} bytes")
    depth = nesting_depth(data)
    if depth > max_depth:
        raise JSONLimitError(f"nested {depth} deep (at most {max_depth})")
    text = data.decode("utf-8-sig")
    return json.loads(
        text,
        parse_int=lambda digits: _integer(digits, max_int_digits),
        parse_float=_finite_float,
        parse_constant=_no_constant,
    )


def nesting_depth(data: bytes) -> int:
    """How deep the arrays and objects of JSON ``data`` nest (brackets in strings aside)."""
    blanked = _STRING.sub(b'""', data)
    codes = np.frombuffer(blanked, dtype=np.uint8)
    steps = np.isin(codes, _OPEN).astype(np.int64) - np.isin(codes, _CLOSE)
    return int(np.cumsum(steps).max(initial=0))


def _integer(digits: str, max_digits: int) -> int:
    if len(digits.lstrip("-")) > max_digits:
        raise JSONLimitError(f"an integer of {len(digits.lstrip('-')):,} digits "
                             f"(at most {max_digits})")
    return int(digits)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JSONLimitError(f"the number {text[:40]} is out of float64's range")
    return value


def _no_constant(name: str) -> float:
    raise JSONLimitError(f"{name} is not a finite number")
