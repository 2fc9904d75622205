"""Submit cost: what handing one frame to each kind of executor costs the training thread.

A plot callback's only work on the training thread is a snapshot and this hand-off. For each
executor, ``frames`` frames of ``render_loss`` (a snapshot after 1,000 epochs of a 2,000-row
fit, the data referenced, not copied, by the snapshot) are submitted back to back; the timer
covers the submitting loop only, and the renders are waited for outside it. Executors:

- ``TaskQueue.add_task`` (1 worker thread) and ``ThreadPoolExecutor.submit`` (1 worker):
  the snapshot is passed by reference;
- ``ProcessPoolExecutor.submit`` (1 process, forkserver): the call is pickled here;
- a Dask ``LocalCluster(n_workers=2, processes=True)``'s ``Client.get_executor().submit``,
  only when ``dask.distributed`` imports.

Every pool is started, and has rendered a frame, before any timer.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import pickle
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, wait
from pathlib import Path

from benchmarks.measure import figure, repetitions
from gdplot import LinearRegressionGD
from gdplot.data.datasets import make_regression
from gdplot.plots.renderers import render_loss
from taskqueue import TaskQueue

__all__ = ["run"]

FULL_REPEAT = 5
QUICK_REPEAT = 2
FULL_FRAMES = 100
QUICK_FRAMES = 20
EPOCHS = 1000
N_SAMPLES = 2000


class _TaskQueueExecutor:
    """``submit`` as gdplot's plot callbacks use a TaskQueue: ``add_task``, no future."""

    def __init__(self, queue: TaskQueue) -> None:
        self.queue = queue

    def submit(self, fn, *args):
        self.queue.add_task(fn, *args)

    def drain(self) -> None:
        self.queue.join(raise_errors=True)


@contextlib.contextmanager
def _executors(log: Callable[[str], object]) -> Iterator[tuple[dict[str, object], dict]]:
    """Every executor to measure, started; and the ones skipped, with why."""
    skipped: dict[str, str] = {}
    with contextlib.ExitStack() as stack:
        queue = stack.enter_context(TaskQueue(1, name="bench-submit"))
        executors: dict[str, object] = {
            "TaskQueue.add_task": _TaskQueueExecutor(queue),
            "ThreadPoolExecutor.submit": stack.enter_context(ThreadPoolExecutor(1)),
        }
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        executors["ProcessPoolExecutor.submit"] = stack.enter_context(
            ProcessPoolExecutor(1, mp_context=context))
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as exc:
            skipped["Dask LocalCluster executor"] = f"dask.distributed does not import: {exc}"
        else:
            log("submit cost: starting a Dask LocalCluster(n_workers=2, processes=True)")
            cluster = stack.enter_context(LocalCluster(
                n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None))
            client = stack.enter_context(Client(cluster))
            executors["Dask Client.get_executor().submit"] = client.get_executor()
        yield executors, skipped


def _drain(executor: object, futures: list) -> None:
    if isinstance(executor, _TaskQueueExecutor):
        executor.drain()
    else:
        wait(futures)
        for future in futures:
            future.result()  # a failed render fails the benchmark


def run(*, quick: bool = False, repeat: int | None = None,
        log: Callable[[str], object] = lambda message: None) -> dict:
    rounds = repetitions(repeat, QUICK_REPEAT if quick else FULL_REPEAT)
    frames = QUICK_FRAMES if quick else FULL_FRAMES
    X, y, _, _ = make_regression(N_SAMPLES, 1, random_state=0)
    snapshot = LinearRegressionGD(lr=0.01, epochs=EPOCHS, random_state=0).fit(X, y).snapshot()
    # Not the run's last epoch, so each worker keeps its live plot, as during training.
    snapshot = dataclasses.replace(snapshot, epochs_total=2 * EPOCHS)
    raw: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="gdplot-bench-") as scratch, \
            _executors(log) as (executors, skipped):
        paths = [Path(scratch, f"frame{i:04d}.png") for i in range(frames)]
        for name, executor in executors.items():  # imports and fonts in every worker
            _drain(executor, [executor.submit(render_loss, snapshot, paths[0])])
        log(f"submit cost: {len(executors)} executors x {frames} frames x {rounds} rounds")
        for _ in range(rounds):
            for name, executor in executors.items():
                start = time.perf_counter()
                futures = [executor.submit(render_loss, snapshot, path) for path in paths]
                elapsed = time.perf_counter() - start
                _drain(executor, futures)
                raw.setdefault(name, []).append(elapsed / frames * 1e6)
    return {
        "title": "Submit cost per frame",
        "settings": {"repeat": rounds, "frames": frames, "epochs": EPOCHS,
                     "snapshot_kib": len(pickle.dumps(snapshot)) / 1024},
        "rows": [{"executor": name, "submit_us": figure(values, "us")}
                 for name, values in raw.items()],
        "skipped": skipped,
        "targets": [],
    }
