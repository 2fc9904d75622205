"""Plot offload: the same training with a plot every N steps, rendered in each possible way.

What users run: ``LinearRegressionGD.fit(X, y, callbacks=[PlotCallback(...)])``. The callback
fires at the end of an epoch, so the workloads use short epochs (hundreds of steps) and plot
every few of them. Modes:

- ``none``: no callback at all, the baseline of every ratio;
- ``sync``: ``PlotCallback(executor=None)``, rendering on the training thread;
- ``thread x1/x2/x4``: a ``TaskQueue`` with 1, 2 or 4 workers, every frame rendered. The
  run's first frame finds its background drawn by an earlier run of the same figure (the
  ``sync`` run of the round, in this process; see ``gdplot.plots.backgrounds``);
- ``thread x1, cold``: the same with the process's store of drawn backgrounds emptied first,
  as in a process's first run: the worker draws the whole figure once, holding the GIL;
- ``latest``: ``coalesce=True`` on a 1-worker ``TaskQueue``: ``add_latest``, one live file,
  a frame still waiting is replaced by the newer one;
- ``drop_oldest``: a 1-worker ``TaskQueue(maxsize=1, overflow="drop_oldest")``, one file per
  frame, frames that wait too long are dropped;
- ``process``: a 1-process ``ProcessPoolExecutor`` ("forkserver" context), every frame
  rendered in another interpreter (its own GIL). The pool is started, and has rendered one
  warm-up plot, before any timer; its start-up time is reported on its own.

Sinks: real matplotlib PNGs (the loss curve, the loss-surface contour) and a simulated
network write (``time.sleep`` of 5, 20 or 100 ms, then a small receipt file).

Per run: the time until ``fit`` returns (the training loop, plot requests included), the
time until every plot is on disk, and how many frames were rendered, coalesced or dropped.
Rounds interleave the modes; each sink's block of modes starts with its own ``none`` run,
and a mode's slowdown is its training time over that ``none`` run's.
"""

from __future__ import annotations

import multiprocessing
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks.measure import figure, per_round_ratio, repetitions
from gdplot import LinearRegressionGD
from gdplot.plots.callbacks import PlotCallback
from gdplot.data.datasets import make_regression
from gdplot.atomic import atomic_writer
from gdplot.plots.backgrounds import backgrounds
from gdplot.plots.renderers import RENDERERS
from taskqueue import TaskQueue

__all__ = ["run", "SimulatedNetworkWrite"]

FULL_REPEAT = 3
QUICK_REPEAT = 2
PROCESS_WORKERS = 1


@dataclass(frozen=True)
class Workload:
    """One training run: ``epochs`` passes over ``n_samples`` rows, a plot every ``plot_every`` epochs."""

    name: str
    n_samples: int
    batch_size: int | None
    epochs: int
    plot_every: int
    lr: float

    @property
    def steps_per_epoch(self) -> int:
        return -(-self.n_samples // (self.batch_size or self.n_samples))

    @property
    def plots(self) -> int:
        return self.epochs // self.plot_every + (self.epochs % self.plot_every > 0)


# Sized so that "none" takes ~0.5 s on a 2-core machine (full), with 15-16 plots, so that sync
# plotting is plain to see. 1,000 full-batch epochs make the 1,000-point loss curve.
FULL_WORKLOADS = (
    Workload("mini-batch", n_samples=20_000, batch_size=32, epochs=120, plot_every=8, lr=0.01),
    Workload("full-batch", n_samples=300_000, batch_size=None, epochs=1000, plot_every=64, lr=0.1),
)
QUICK_WORKLOADS = (
    Workload("mini-batch", n_samples=2_000, batch_size=32, epochs=8, plot_every=4, lr=0.01),
    Workload("full-batch", n_samples=5_000, batch_size=None, epochs=40, plot_every=20, lr=0.1),
)
# One feature: the surface is over (coef, intercept), fixed for a run, its contour drawn once
# (past two parameters the honest view follows the path and is redrawn every frame; the
# render_cost section measures that). Runs before issue 8 used two features and a slice.
N_FEATURES = 1


class SimulatedNetworkWrite:
    """A plot sink that costs a network round trip: ``time.sleep(seconds)``, then a receipt.

    It holds no GIL while it waits, like a real upload. The receipt (a one-line text file at
    the plot's path, written atomically) is what "on disk" means for this sink.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.__name__ = f"net{round(seconds * 1000)}ms"  # PlotCallback names files after it

    def __call__(self, snapshot, path) -> None:
        time.sleep(self.seconds)
        with atomic_writer(path) as receipt:
            receipt.write(f"epoch {snapshot.epoch} loss {snapshot.loss!r}\n".encode())


FULL_SINKS = {
    "loss PNG": "loss",
    "surface PNG": "surface",
    "net 5 ms": SimulatedNetworkWrite(0.005),
    "net 20 ms": SimulatedNetworkWrite(0.020),
    "net 100 ms": SimulatedNetworkWrite(0.100),
}
QUICK_SINKS = {name: FULL_SINKS[name] for name in ("loss PNG", "net 20 ms")}


@dataclass(frozen=True)
class Mode:
    """How plots are rendered: inline, on a ``TaskQueue``, or in a process pool."""

    name: str
    plots: bool = True
    queue_workers: int = 0  # 0: no TaskQueue
    maxsize: int = 0
    overflow: str = "block"
    coalesce: bool = False
    process: bool = False
    cold: bool = False  # no drawn background to reuse: a process's first run of a figure


MODES = (
    Mode("none", plots=False),
    Mode("sync"),
    Mode("thread x1", queue_workers=1),
    Mode("thread x1, cold", queue_workers=1, cold=True),
    Mode("thread x2", queue_workers=2),
    Mode("thread x4", queue_workers=4),
    Mode("latest", queue_workers=1, coalesce=True),
    Mode("drop_oldest", queue_workers=1, maxsize=1, overflow="drop_oldest"),
    Mode("process", process=True),
)
BASELINE = "none"
QUEUED = "thread x1"  # what "queued plots" means in the targets: the default TaskQueue use
QUEUED_COLD = "thread x1, cold"


def _start_process_pool() -> tuple[ProcessPoolExecutor, dict]:
    """A warm 1-process pool, and how long it took to get there."""
    methods = multiprocessing.get_all_start_methods()
    context = "forkserver" if "forkserver" in methods else "spawn"
    start = time.perf_counter()
    pool = ProcessPoolExecutor(PROCESS_WORKERS, mp_context=multiprocessing.get_context(context))
    pool.submit(int).result()  # workers start lazily: make them exist
    started = time.perf_counter()
    return pool, {"context": context, "workers": PROCESS_WORKERS, "startup_s": started - start}


def _warm_up(pool: ProcessPoolExecutor, sinks: dict, workload: Workload, data) -> float:
    """Render every sink once here and in the pool (imports, font cache); return the pool's
    first-render time, which includes importing matplotlib there."""
    snapshot = LinearRegressionGD(lr=workload.lr, epochs=2, batch_size=workload.batch_size,
                                  random_state=0).fit(*data).snapshot()
    with tempfile.TemporaryDirectory(prefix="gdplot-bench-") as scratch:
        start = time.perf_counter()
        pool.submit(RENDERERS["loss"], snapshot, Path(scratch, "pool.png")).result()
        first_render = time.perf_counter() - start
        for index, kind in enumerate(sinks.values()):
            render = RENDERERS[kind] if isinstance(kind, str) else kind
            render(snapshot, Path(scratch, f"here{index}.png"))
            pool.submit(render, snapshot, Path(scratch, f"pool{index}.png")).result()
    return first_render


def _run_once(workload: Workload, sink: object, mode: Mode, data, pool) -> dict[str, float]:
    """Train once in ``mode``; the timings and frame counts of that run."""
    X, y = data
    with tempfile.TemporaryDirectory(prefix="gdplot-bench-") as out_dir:
        queue = None
        if mode.queue_workers:
            queue = TaskQueue(mode.queue_workers, mode.maxsize, overflow=mode.overflow,
                              name="bench-plots")
        callbacks = []
        if mode.plots:
            callbacks.append(PlotCallback(sink, every=workload.plot_every, out_dir=out_dir,
                                          executor=pool if mode.process else queue,
                                          coalesce=mode.coalesce))
        model = LinearRegressionGD(lr=workload.lr, epochs=workload.epochs,
                                   batch_size=workload.batch_size, random_state=0)
        if mode.cold:
            backgrounds().clear()
        start = time.perf_counter()
        model.fit(X, y, callbacks=callbacks)
        trained = time.perf_counter()
        counts = _wait_for_plots(callbacks, queue)
        done = time.perf_counter()
        if queue is not None:
            queue.close()
        counts["files"] = sum(1 for path in Path(out_dir).iterdir() if not path.name.startswith("."))
    return {"train_s": trained - start, "total_s": done - start, **counts}


def _wait_for_plots(callbacks: list[PlotCallback], queue: TaskQueue | None) -> dict[str, int]:
    """Block until every plot requested is on disk; count what happened to the frames."""
    if not callbacks:
        return {"requested": 0, "rendered": 0, "coalesced": 0, "dropped": 0}
    (callback,) = callbacks
    requested = callback.frames
    if queue is not None:
        queue.join(raise_errors=True)  # a failed render makes the benchmark fail, loudly
        stats = queue.stats()
        return {"requested": requested, "rendered": stats.completed,
                "coalesced": stats.coalesced, "dropped": stats.dropped}
    if callback.futures:
        wait(callback.futures)
        for future in callback.futures:
            future.result()  # re-raises a failed render
    elif callback.failures:
        raise RuntimeError(f"{callback.failures} synchronous render(s) failed; see the log")
    return {"requested": requested, "rendered": requested, "coalesced": 0, "dropped": 0}


def run(*, quick: bool = False, repeat: int | None = None,
        log: Callable[[str], object] = lambda message: None) -> dict:
    """Every workload x sink x mode, interleaved over rounds; JSON-ready results with targets."""
    rounds = repetitions(repeat, QUICK_REPEAT if quick else FULL_REPEAT)
    workloads = QUICK_WORKLOADS if quick else FULL_WORKLOADS
    sinks = QUICK_SINKS if quick else FULL_SINKS
    datasets = {}
    for workload in workloads:
        X, y, _, _ = make_regression(workload.n_samples, N_FEATURES, random_state=0)
        datasets[workload.name] = (X, y)

    log(f"offload: starting a {PROCESS_WORKERS}-process pool (before any timer)")
    pool, pool_info = _start_process_pool()
    try:
        pool_info["first_render_s"] = _warm_up(pool, sinks, workloads[0], datasets[workloads[0].name])
        raw: dict[tuple[str, str, str], list[dict]] = {}
        for round_index in range(rounds):
            for workload in workloads:
                log(f"offload: round {round_index + 1}/{rounds}, {workload.name}: "
                    f"{len(sinks)} sinks x {len(MODES)} modes")
                for sink_name, sink in sinks.items():
                    for mode in MODES:
                        result = _run_once(workload, sink, mode, datasets[workload.name], pool)
                        raw.setdefault((workload.name, sink_name, mode.name), []).append(result)
    finally:
        pool.shutdown()

    rows = []
    for (workload_name, sink_name, mode_name), runs in raw.items():
        baseline = raw[(workload_name, sink_name, BASELINE)]
        train = [r["train_s"] for r in runs]
        total = [r["total_s"] for r in runs]
        rows.append({
            "workload": workload_name,
            "sink": sink_name,
            "mode": mode_name,
            "train_s": figure(train, "s"),
            "total_s": figure(total, "s"),
            "slowdown": per_round_ratio(train, [r["train_s"] for r in baseline]),
            "total_vs_none": per_round_ratio(total, [r["total_s"] for r in baseline]),
            **{count: figure((r[count] for r in runs), "plots")
               for count in ("requested", "rendered", "coalesced", "dropped", "files")},
        })
    return {
        "title": "Plot offload",
        "settings": {
            "repeat": rounds,
            "model": "LinearRegressionGD",
            "n_features": N_FEATURES,
            "workloads": [{**asdict(w), "steps_per_epoch": w.steps_per_epoch,
                           "plot_every_steps": w.plot_every * w.steps_per_epoch, "plots": w.plots}
                          for w in workloads],
            "sinks": list(sinks),
            "modes": [asdict(mode) for mode in MODES],
            "baseline": BASELINE,
        },
        "process_pool": pool_info,
        "rows": rows,
        "targets": _targets(rows, sinks),
    }


# Real PNGs on one TaskQueue thread, with cached figures: the training loop's slowdown.
THREAD_PNG_LIMITS = {"mini-batch": 1.10, "full-batch": 1.25}


def _targets(rows: list[dict], sinks: dict) -> list[dict]:
    wanted = [(QUEUED, "net 20 ms", 1.02, "queued plots, 20 ms I/O sink", None)]
    for sink in (name for name in sinks if isinstance(sinks[name], str)):
        wanted.append(("process", sink, 1.15, f"process renderer, {sink}", None))
        for workload, limit in THREAD_PNG_LIMITS.items():
            wanted += [
                (QUEUED, sink, limit,
                 f"real {sink}s on a TaskQueue thread, background reused", workload),
                (QUEUED_COLD, sink, limit,
                 f"real {sink}s on a TaskQueue thread, first run (cold)", workload),
            ]
    targets = []
    for row in rows:
        for mode, sink, limit, what, workload in wanted:
            if (row["mode"] == mode and row["sink"] == sink
                    and workload in (None, row["workload"])):
                targets.append({
                    "section": "offload",
                    "name": f"training loop with {what}, {row['workload']}: x of no plots",
                    "limit": limit,
                    "measured": row["slowdown"],
                    "met": row["slowdown"]["median"] <= limit,
                })
    return targets

