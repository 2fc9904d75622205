"""Gradient-descent speed: one epoch of ``LinearRegressionGD`` over a (1,000,000 x 10) array.

Cases, interleaved round by round:

- ``full batch``, ``mini-batch 256, shuffled`` and ``mini-batch 256, contiguous`` (no
  shuffling: every batch a contiguous slice, the floor a shuffled epoch is held against);
- ``stochastic`` (batch size 1): a million Python-level steps would take many seconds per
  round, so it runs over the first ``SGD_ROWS`` rows and is scaled to the full array, and
  says so;
- the references: ``numpy.linalg.lstsq`` (the exact solution, intercept column included),
  ``sklearn.linear_model.SGDRegressor`` for one epoch when scikit-learn is installed (it is
  never a dependency), and the floor of any epoch, one pass of ``X.sum()``.

gdplot trains ``EPOCHS`` epochs; ``epoch`` is the mean of those after the first two, each
timed between two ``on_epoch_end`` calls: the shuffle, the gradient steps and the
end-of-epoch loss over the whole set, in the steady state of a long training. ``first
epoch`` is the mean of the first two, which also pay the one-time cost of the shuffle
buffers (fresh memory is slow the first time it is touched; on large data gdplot gathers the
next epoch's rows into a second buffer on a helper thread while the current one trains). ``SGDRegressor``'s epoch is one
``partial_fit`` call on a model that has already seen one, its input validation included.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable

import numpy as np

from benchmarks.measure import figure, interleave, per_round_ratio, repetitions
from gdplot import LinearRegressionGD

__all__ = ["run"]

FULL_SHAPE = (1_000_000, 10)
QUICK_SHAPE = (50_000, 10)
FULL_SGD_ROWS = 100_000
QUICK_SGD_ROWS = 5_000
FULL_REPEAT = 5
QUICK_REPEAT = 3
BATCH = 256
EPOCHS = 5  # two to warm up, three timed
LR = 0.001  # small enough for every batch size here, including 1


class EpochTimer:
    """A gdplot callback: ``seconds[k]`` is how long epoch ``k + 1`` took."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self._mark = 0.0

    def on_train_begin(self, estimator: object) -> None:
        self._mark = time.perf_counter()

    def on_epoch_end(self, estimator: object, epoch: int) -> None:
        now = time.perf_counter()
        self.seconds.append(now - self._mark)
        self._mark = now


def _make_data(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.standard_normal(shape)
    y = X @ rng.uniform(-5, 5, shape[1]) + 1.5 + rng.standard_normal(shape[0])
    return X, y


def _gdplot_epoch(X: np.ndarray, y: np.ndarray, batch_size: int | None, shuffle: bool,
                  scale: float = 1.0) -> Callable[[], dict[str, float]]:
    def trial() -> dict[str, float]:
        timer = EpochTimer()
        LinearRegressionGD(lr=LR, epochs=EPOCHS, batch_size=batch_size, shuffle=shuffle,
                           random_state=0).fit(X, y, callbacks=[timer])
        warm_up, steady = timer.seconds[:2], timer.seconds[2:]
        return {"epoch": float(np.mean(steady)) * scale,
                "first_epoch": float(np.mean(warm_up)) * scale}
    return trial


def _timed(fn: Callable[[], object]) -> Callable[[], dict[str, float]]:
    def trial() -> dict[str, float]:
        start = time.perf_counter()
        fn()
        return {"epoch": time.perf_counter() - start}
    return trial


def _sgd_regressor_epoch(X: np.ndarray, y: np.ndarray) -> Callable[[], dict[str, float]]:
    from sklearn.linear_model import SGDRegressor

    def trial() -> dict[str, float]:
        model = SGDRegressor(learning_rate="constant", eta0=LR, penalty=None, shuffle=True,
                             random_state=0)
        model.partial_fit(X, y)  # the first call sets the model up: not an epoch like the rest
        return _timed(lambda: model.partial_fit(X, y))()
    return trial


def run(*, quick: bool = False, repeat: int | None = None,
        log: Callable[[str], object] = lambda message: None) -> dict:
    """Time one epoch of each kind against the references; JSON-ready results with targets."""
    rounds = repetitions(repeat, QUICK_REPEAT if quick else FULL_REPEAT)
    shape = QUICK_SHAPE if quick else FULL_SHAPE
    sgd_rows = QUICK_SGD_ROWS if quick else FULL_SGD_ROWS
    X, y = _make_data(shape)
    design = np.column_stack([X, np.ones(shape[0])])  # lstsq fits the intercept as a column
    sklearn_found = importlib.util.find_spec("sklearn") is not None

    trials = {
        "full batch": _gdplot_epoch(X, y, None, shuffle=False),
        f"mini-batch {BATCH}, shuffled": _gdplot_epoch(X, y, BATCH, shuffle=True),
        f"mini-batch {BATCH}, contiguous": _gdplot_epoch(X, y, BATCH, shuffle=False),
        f"stochastic (x{shape[0] / sgd_rows:g} of {sgd_rows:,} rows)": _gdplot_epoch(
            X[:sgd_rows], y[:sgd_rows], 1, shuffle=True, scale=shape[0] / sgd_rows),
        "numpy.linalg.lstsq": _timed(lambda: np.linalg.lstsq(design, y, rcond=None)),
        "floor: X.sum()": _timed(X.sum),
    }
    if sklearn_found:
        trials["sklearn SGDRegressor"] = _sgd_regressor_epoch(X, y)
    log(f"gd speed: {len(trials)} cases x {rounds} rounds on a {shape[0]:,} x {shape[1]} array")
    raw = interleave(trials, rounds)

    rows = []
    for name, results in raw.items():
        row = {"case": name, "epoch_s": figure((r["epoch"] for r in results), "s")}
        if "first_epoch" in results[0]:
            row["first_epoch_s"] = figure((r["first_epoch"] for r in results), "s")
        rows.append(row)
    return {
        "title": "Gradient descent speed",
        "settings": {"shape": list(shape), "batch_size": BATCH, "lr": LR, "repeat": rounds,
                     "stochastic_rows": sgd_rows, "scikit_learn": sklearn_found},
        "rows": rows,
        "targets": _targets(raw, sklearn_found),
    }


def _targets(raw: dict[str, list[dict[str, float]]], sklearn_found: bool) -> list[dict]:
    shuffled = raw[f"mini-batch {BATCH}, shuffled"]
    contiguous = raw[f"mini-batch {BATCH}, contiguous"]
    ratio = per_round_ratio([r["epoch"] for r in shuffled], [r["epoch"] for r in contiguous])
    targets = [{
        "section": "gd_speed",
        "name": f"mini-batch {BATCH} epoch, shuffled vs contiguous slices",
        "limit": 2.0,
        "measured": ratio,
        "met": ratio["median"] <= 2.0,
    }]
    if sklearn_found:
        sklearn_epoch = raw["sklearn SGDRegressor"]
        versus = per_round_ratio([r["epoch"] for r in shuffled], [r["epoch"] for r in sklearn_epoch])
        targets.append({
            "section": "gd_speed",
            "name": f"mini-batch {BATCH} shuffled epoch vs SGDRegressor epoch",
            "limit": 1.0,
            "measured": versus,
            "met": versus["median"] <= 1.0,
        })
    return targets
