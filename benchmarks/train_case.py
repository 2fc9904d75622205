"""`gdplot train` as a new user runs it: a breast-cancer-sized logistic regression, plotted.

The case from issue 8: 569 rows x 30 features, ``--model logistic --batch-size 1 --epochs
300 --plot-every 5`` (a live loss plot every epoch and a loss-surface frame every 5 epochs),
against the same command plotting once (``--plot-every 300``). The whole command's wall time
is measured in a subprocess, start-up and the wait for the last plot included: what the user
waits for. Each plot mode the command offers is measured (``--render process``, its default;
``thread``; ``sync``: on the training thread).

The data: scikit-learn's bundled copy of the Wisconsin breast-cancer set when scikit-learn is
installed (it ships with the package, no download), else a synthetic set of the same shape:
30 correlated features on very different scales, two classes of 212 and 357 rows.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks.measure import figure, per_round_ratio, repetitions

__all__ = ["run"]

FULL_REPEAT = 3
QUICK_REPEAT = 1
FULL_EPOCHS = 300
QUICK_EPOCHS = 60
PLOT_EVERY = 5
LIMIT = 1.5  # wall time with --plot-every 5 over plotting once
REPO = Path(__file__).resolve().parents[1]
# Plot modes of the command: extra flags. The first is the command's default.
MODES = {"process (default)": [], "thread": ["--render", "thread"], "sync": ["--sync"]}
# The same training and plots through the library, for each executor the command uses:
# what its default should be.
LIBRARY_MODES = ("thread", "process", "sync")


def breast_cancer_like() -> tuple[np.ndarray, np.ndarray, str]:
    """``(X (569, 30), y (569,) of 0/1, where the data came from)``."""
    try:
        from sklearn.datasets import load_breast_cancer
    except ImportError:
        pass
    else:
        data = load_breast_cancer()
        return data.data, data.target, "Wisconsin breast-cancer data (scikit-learn's copy)"
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(212), np.ones(357)]
    rng.shuffle(y)
    latent = rng.standard_normal((569, 5)) + 1.2 * (y[:, None] - 0.5)
    mixing = rng.standard_normal((5, 30))
    scales = 10.0 ** rng.uniform(-3, 3, 30)  # like areas next to smoothness ratios
    X = (latent @ mixing + 0.5 * rng.standard_normal((569, 30))) * scales + scales
    return X, y, "synthetic breast-cancer-shaped data (scikit-learn not installed)"


def _write_csv(path: Path, X: np.ndarray, y: np.ndarray) -> None:
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow([f"f{i}" for i in range(X.shape[1])] + ["diagnosis"])
        for row, label in zip(X, y):
            writer.writerow([f"{value:.6g}" for value in row] + [int(label)])


def _train_once(csv_path: Path, epochs: int, plot_every: int, flags: list[str]) -> float:
    """Wall seconds of one ``gdplot train`` command; raises if it fails."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO), os.environ.get("PYTHONPATH", "")])}
    with tempfile.TemporaryDirectory(prefix="gdplot-bench-") as out:
        command = [sys.executable, "-m", "gdplot", "train", str(csv_path), "--target",
                   "diagnosis", "--model", "logistic", "--batch-size", "1", "--epochs",
                   str(epochs), "--plot-every", str(plot_every), "--out", out, *flags]
        start = time.perf_counter()
        finished = subprocess.run(command, capture_output=True, text=True, cwd=out, env=env,
                                  timeout=600)
        wall = time.perf_counter() - start
    if finished.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({finished.returncode}): "
                           f"{finished.stderr.strip()}")
    return wall


def library_run(csv_path: str, mode: str, epochs: int, plot_every: int, out: str) -> None:
    """What ``gdplot train`` does for this case, through the library with plots rendered in
    ``mode`` (``"thread"``: a 1-worker TaskQueue, ``"process"``: a 1-process forkserver pool,
    ``"sync"``): a live loss plot (every epoch when queued, coalesced where the executor can)
    and a surface frame every ``plot_every`` epochs; returns when every plot is on disk."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from gdplot import LogisticRegressionGD
    from gdplot.plots.callbacks import PlotCallback
    from taskqueue import TaskQueue

    data = np.loadtxt(csv_path, delimiter=",", skiprows=1)
    X, y = data[:, :-1], data[:, -1]
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    if mode == "process":
        executor = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("forkserver"))
    elif mode == "thread":
        executor = TaskQueue(1, name="plots")
    else:
        executor = None
    plots = [PlotCallback("loss", every=1 if executor is not None else plot_every, out_dir=out,
                          executor=executor, coalesce=True),
             PlotCallback("surface", every=plot_every, out_dir=out, executor=executor)]
    LogisticRegressionGD(lr=0.01, epochs=epochs, batch_size=1, random_state=0).fit(
        X, y, callbacks=plots)
    if isinstance(executor, TaskQueue):
        executor.join(raise_errors=True)
        executor.close()
    elif executor is not None:
        for plot in plots:
            for future in plot.futures:
                future.result()
        executor.shutdown()
    failures = sum(plot.failures for plot in plots)
    if failures:
        raise SystemExit(f"{failures} plots failed")


def _library_once(csv_path: Path, mode: str, epochs: int, plot_every: int) -> float:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO), os.environ.get("PYTHONPATH", "")])}
    with tempfile.TemporaryDirectory(prefix="gdplot-bench-") as out:
        code = (f"from benchmarks.train_case import library_run; library_run("
                f"{str(csv_path)!r}, {mode!r}, {epochs}, {plot_every}, {out!r})")
        start = time.perf_counter()
        finished = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                  cwd=REPO, env=env, timeout=600)
        wall = time.perf_counter() - start
    if finished.returncode != 0:
        raise RuntimeError(f"library run {mode} failed: {finished.stderr.strip()}")
    return wall


def run(*, quick: bool = False, repeat: int | None = None,
        log: Callable[[str], object] = lambda message: None) -> dict:
    rounds = repetitions(repeat, QUICK_REPEAT if quick else FULL_REPEAT)
    epochs = QUICK_EPOCHS if quick else FULL_EPOCHS
    X, y, source = breast_cancer_like()
    raw: dict[tuple[str, int], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="gdplot-bench-") as scratch:
        csv_path = Path(scratch) / "breast_cancer.csv"
        _write_csv(csv_path, X, y)
        for round_index in range(rounds):
            log(f"train case: round {round_index + 1}/{rounds}, "
                f"{len(MODES) + len(LIBRARY_MODES)} modes x 2")
            for mode, flags in MODES.items():
                for every in (PLOT_EVERY, epochs):
                    raw.setdefault((mode, every), []).append(
                        _train_once(csv_path, epochs, every, flags))
            for mode in LIBRARY_MODES:
                for every in (PLOT_EVERY, epochs):
                    raw.setdefault((f"library, {mode}", every), []).append(
                        _library_once(csv_path, mode, epochs, every))
    rows = []
    for (mode, every), walls in raw.items():
        row = {"mode": mode, "plot_every": every, "wall_s": figure(walls, "s")}
        if every != epochs:
            row["vs_once"] = per_round_ratio(walls, raw[(mode, epochs)])
        rows.append(row)
    default = next(row for row in rows if row["mode"] == next(iter(MODES)) and "vs_once" in row)
    return {
        "title": "gdplot train, breast-cancer case",
        "settings": {"repeat": rounds, "rows": X.shape[0], "features": X.shape[1],
                     "data": source, "epochs": epochs, "plot_every": PLOT_EVERY,
                     "modes": MODES, "library_modes": list(LIBRARY_MODES)},
        "rows": rows,
        "targets": [{
            "section": "train_case",
            "name": f"gdplot train 569x30 logistic, batch 1, --plot-every {PLOT_EVERY}, "
                    "default mode: wall time x of plotting once",
            "limit": LIMIT,
            "measured": default["vs_once"],
            "met": default["vs_once"]["median"] <= LIMIT,
        }],
    }
