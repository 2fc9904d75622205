"""Repetitions and their summary: every figure is a median with its min and max.

Stdlib only, so that the queue-cost benchmark can use it without importing NumPy.

A *figure* is a plain dict, ready for JSON::

    {"unit": "s", "median": 0.51, "min": 0.49, "max": 0.55, "values": [0.51, 0.49, 0.55]}

Comparisons are ratios taken per repetition, inside one process, between trials that ran
in the same round (A B A B ...), so slow drift of the machine hits both sides alike.
"""

from __future__ import annotations

import gc
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TypeVar

__all__ = ["figure", "interleave", "per_round_ratio", "check_repeat", "repetitions"]

T = TypeVar("T")


def figure(values: Iterable[float], unit: str) -> dict:
    """Summarise repeated measurements as ``{"unit", "median", "min", "max", "values"}``."""
    values = [float(value) for value in values]
    if not values:
        raise ValueError(f"a figure needs at least one measurement, got none (unit {unit!r})")
    return {
        "unit": unit,
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "values": values,
    }


def per_round_ratio(numerators: Sequence[float], denominators: Sequence[float]) -> dict:
    """``numerators[i] / denominators[i]`` for each round ``i``, summarised as a figure."""
    if len(numerators) != len(denominators):
        raise ValueError(
            f"ratios need one denominator per numerator, got {len(numerators)} and {len(denominators)}"
        )
    return figure((a / b for a, b in zip(numerators, denominators)), "x")


def interleave(trials: Mapping[str, Callable[[], T]], repeat: int) -> dict[str, list[T]]:
    """Run every trial once per round, ``repeat`` rounds (A B C A B C ...).

    Returns ``{name: [result of round 0, round 1, ...]}``. A full garbage collection runs
    before each trial, so no trial pays for the garbage of the one before.
    """
    check_repeat(repeat)
    results: dict[str, list[T]] = {name: [] for name in trials}
    for _ in range(repeat):
        for name, trial in trials.items():
            gc.collect()
            results[name].append(trial())
    return results


def check_repeat(repeat: object) -> int:
    """``repeat`` if it is an int >= 1 (a figure needs at least one measurement)."""
    if isinstance(repeat, bool) or not isinstance(repeat, int):
        raise TypeError(f"repeat must be an int >= 1, got repeat={repeat!r}")
    if repeat < 1:
        raise ValueError(f"repeat must be an int >= 1, got repeat={repeat!r}")
    return repeat


def repetitions(repeat: object, default: int) -> int:
    """How many rounds a section runs: the user's ``--repeat`` if given, else its ``default``."""
    return default if repeat is None else check_repeat(repeat)
