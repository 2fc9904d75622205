"""What a drawing thread's turns with the GIL cost training's own arithmetic.

``python -m benchmarks.gil_handoffs [--rounds N] [--out F]`` trains the same small MLP over
and over in this process, in interleaved pairs: alone, and beside a second thread that keeps
asking for the GIL, a quarter of a second apart. For each pair it compares the training
thread's own CPU time (not its wall clock: the time it waited for the GIL is not counted),
so a ratio above 1 means training's arithmetic itself ran slower beside that thread. The
second thread is, in turn:

- ``matplotlib``: draws a fresh loss figure each time (its background drawn anew), as a
  render thread does for a run's first frame;
- ``pure Python``: spins for as long, touching almost nothing;

each with the GIL's default 5-ms slices and with 50-ms slices, and, where the OS lets a thread choose its
cores, with both threads pinned to one core and to two different cores (default slices).
It is a magnified view, the drawing thread busy a third of the time or more, of what a
notebook view on a ``TaskQueue`` thread does now and then.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import threading
import time
import warnings
from pathlib import Path

#: (name, what the second thread runs, switch interval, cores of training and of the thread).
VARIANTS = [
    ("matplotlib, 5-ms slices", "matplotlib", 0.005, None),
    ("matplotlib, 50-ms slices", "matplotlib", 0.05, None),
    ("pure Python, 5-ms slices", "pure Python", 0.005, None),
    ("matplotlib, 5-ms slices, both on one core", "matplotlib", 0.005, ({0}, {0})),
    ("matplotlib, 5-ms slices, on two cores", "matplotlib", 0.005, ({0}, {1})),
]
EPOCHS = 40
PAUSE_S = 0.25  # between two turns of the second thread
SPIN_S = 0.12  # a pure-Python turn: about a fresh figure's CPU time


def _variant(name: str, busy: str, interval: float, cores: tuple | None, rounds: int) -> dict:
    import numpy as np

    from gdplot import MLPRegressorGD
    from gdplot.plots.backgrounds import backgrounds
    from gdplot.plots.renderers import RENDERERS, render_frame

    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, (6000, 1))
    y = np.sin(X[:, 0]) + 0.1 * rng.standard_normal(6000)

    def model(epochs: int) -> MLPRegressorGD:
        return MLPRegressorGD(hidden=32, batch_size=32, lr=0.01, epochs=epochs, random_state=0)

    snapshot = model(20).fit(X, y).snapshot()
    render_frame(RENDERERS["loss"], snapshot)  # the process's first figure, outside the timing
    go, stop = threading.Event(), threading.Event()
    busy_cpu = [0.0]

    def second_thread() -> None:
        if cores is not None:
            os.sched_setaffinity(0, cores[1])
        turn = 0
        while go.wait() and not stop.is_set():
            started = time.thread_time()
            if busy == "matplotlib":
                backgrounds().clear()
                render_frame(RENDERERS["loss"],
                             dataclasses.replace(snapshot, run_id=f"turn {turn}"))
            else:
                end = time.thread_time() + SPIN_S
                while time.thread_time() < end:
                    pass
            busy_cpu[0] += time.thread_time() - started
            turn += 1
            time.sleep(PAUSE_S)

    old_interval = sys.getswitchinterval()
    old_cores = os.sched_getaffinity(0) if cores is not None else None
    sys.setswitchinterval(interval)
    if cores is not None:
        os.sched_setaffinity(0, cores[0])
    thread = threading.Thread(target=second_thread, daemon=True)
    thread.start()
    ratios, walls, shares = [], [], []
    try:
        for index in range(rounds):
            cpu: dict[str, float] = {}
            wall: dict[str, float] = {}
            for beside in ((True, False) if index % 2 == 0 else (False, True)):
                if beside:
                    busy_cpu[0] = 0.0
                    go.set()
                started, started_cpu = time.perf_counter(), time.thread_time()
                model(EPOCHS).fit(X, y)
                wall[str(beside)] = time.perf_counter() - started
                cpu[str(beside)] = time.thread_time() - started_cpu
                if beside:
                    go.clear()
                    time.sleep(PAUSE_S + 0.1)  # its last turn ends
                    shares.append(busy_cpu[0] / wall["True"])
            ratios.append(cpu["True"] / cpu["False"])
            walls.append(wall["True"] / wall["False"])
    finally:
        stop.set()
        go.set()
        thread.join()
        sys.setswitchinterval(old_interval)
        if old_cores is not None:
            os.sched_setaffinity(0, old_cores)
    quartiles = statistics.quantiles(ratios, n=4)
    return {"name": name, "rounds": rounds, "training_cpu": statistics.median(ratios),
            "quartiles": [quartiles[0], quartiles[2]], "wall": statistics.median(walls),
            "busy_share": statistics.median(shares), "ratios": ratios}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gil_handoffs",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=30,
                        help="interleaved pairs of fits per variant (default 30)")
    parser.add_argument("--out", help="also write every pair's ratio here, as JSON")
    args = parser.parse_args(argv)
    if args.rounds < 2:
        parser.error(f"--rounds must be >= 2, got {args.rounds}")
    from benchmarks.__main__ import pin_blas_threads

    pin_blas_threads()
    warnings.simplefilter("ignore")  # short fits: ConvergenceWarning
    pinning = hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) >= 2
    results = []
    for name, busy, interval, cores in VARIANTS:
        if cores is not None and not pinning:
            print(f"{name}: not measured (no two cores to pin threads to)")
            continue
        result = _variant(name, busy, interval, cores, args.rounds)
        results.append(result)
        low, high = result["quartiles"]
        print(f"{name}: training CPU beside it / alone, median {result['training_cpu']:.3f}x "
              f"(quartiles {low:.3f}-{high:.3f}), wall {result['wall']:.3f}x, second "
              f"thread busy {result['busy_share']:.0%} of the time", flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps({"epochs": EPOCHS, "variants": results}, indent=1))


if __name__ == "__main__":
    main()
