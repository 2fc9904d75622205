"""``python -m benchmarks.lr_auto_grid``: the MLP's ``lr="auto"`` against a grid of rates.

Four regression tasks (sin(x), scikit-learn's diabetes, Friedman #1, a 5-feature linear
one), standardised and split 80/20 by a fixed seed; an MLP with 32 hidden units trained for
200 epochs at each rate of the grid and at ``lr="auto"``, with mini-batches of 32 and full
batch. Prints R^2 on the held-out and on the training rows, the grid's best, and how far
``lr="auto"`` is from it ("div": diverged). Not a timing: it checks a choice, so it is not
a section of ``python -m benchmarks``. Needs scikit-learn (for two of the data sets).
"""

from __future__ import annotations

import warnings

import numpy as np

from gdplot import DivergenceError, MLPRegressorGD
from gdplot.data import make_nonlinear, make_regression

GRID = (1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0)
EPOCHS = 200
HIDDEN = 32


def tasks():
    from sklearn.datasets import load_diabetes, make_friedman1

    yield ("sin(x)", *make_nonlinear(400, noise=0.1, random_state=2))
    yield ("diabetes", *load_diabetes(return_X_y=True))
    yield ("friedman1", *make_friedman1(500, noise=1.0, random_state=0))
    yield ("linear 5-d", *make_regression(400, 5, noise=1.0, random_state=3)[:2])


def standardised(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    return (a - a.mean(0)) / a.std(0)


def scores(X, y, lr, batch_size, rows):
    """``(held-out R^2, training R^2, lr used)``, NaN scores if the run diverged."""
    train, test = rows
    model = MLPRegressorGD(hidden=HIDDEN, lr=lr, epochs=EPOCHS, batch_size=batch_size,
                           random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: a grid has slow rates on purpose
        try:
            model.fit(X[train], y[train])
        except DivergenceError:
            return float("nan"), float("nan"), lr
    return model.score(X[test], y[test]), model.score(X[train], y[train]), model.lr_


def main() -> None:
    for batch_size in (32, None):
        results = []
        for name, X, y in tasks():
            X, y = standardised(X), standardised(y)
            order = np.random.default_rng(0).permutation(len(y))
            cut = int(0.8 * len(y))
            rows = (order[:cut], order[cut:])
            results.append((name, {lr: scores(X, y, lr, batch_size, rows)
                                   for lr in (*GRID, "auto")}))
        for which, column in (("held-out", 0), ("training", 1)):
            print(f"\nbatch_size={batch_size or 'full'}, {EPOCHS} epochs, hidden={HIDDEN}: "
                  f"{which} R^2 (div: diverged)")
            print(f"{'task':<11} " + " ".join(f"{lr:>6g}" for lr in GRID)
                  + "   best   auto (its lr)  best - auto")
            for name, by_rate in results:
                cells = " ".join("   div" if np.isnan(by_rate[lr][column])
                                 else f"{by_rate[lr][column]:6.3f}" for lr in GRID)
                best = np.nanmax([by_rate[lr][column] for lr in GRID])
                auto, _, rate = by_rate["auto"][column], None, by_rate["auto"][2]
                print(f"{name:<11} {cells}  {best:.3f}  {auto:.3f} ({rate:.3g})"
                      f"  {best - auto:+.3f}")


if __name__ == "__main__":
    main()
