"""A live plot in a notebook: what it costs training, in a real Jupyter kernel.

The loop of issue 17: ``MLPRegressorGD(hidden=32, batch_size=32)`` on 6,000 x 1 inputs, 120
epochs, and the same loop made about 4 s long (the cost target's run). It runs in a real
ipykernel, driven over its protocol as a front end drives it (``benchmarks.kernel``), in
each of these ways:

- ``livelossplot``: ``PlotLosses().update(logs); .send()`` every epoch, what people use now
  (an optional dependency: skipped when it does not import; the reference loop only, as it
  is several times slower);
- ``gdplot, thread``: ``PlotCallback("loss", out_dir=None, show=True, executor=TaskQueue(1))``;
- ``gdplot, process``: the same with ``executor=None``: the kernel's rendering process.

Every way gets fresh kernels: in each, after a warm-up fit of 2 epochs with no plots, six
cells time ``fit``: no plots twice, plotted (the kernel's FIRST plotted fit: a fresh figure's
layout, the rendering process's start), no plots, plotted again, no plots. The callbacks are
made inside the timed region, and ``fit`` with ``show=True`` returns once the view shows the
last frame, so a plotted fit's time includes both. Each fit gives two figures:

- **Wall clock**: a plotted fit over the mean of the plain fits just before and just after it
  in the same kernel. What a user's clock says; but on a shared machine the same plain fit
  can take much longer in one cell than in the next (its CPU time as much as its wall clock:
  the machine, not this process, is slower), so a cost of a few percent hides in the spread
  of a few kernels.
- **Training held**: the fit's wall clock over the CPU time the training thread spent on
  training itself, that is its CPU time less the callbacks' (their hooks, and making them).
  With no plots this is 1.00x; with a view it counts the time the training thread waited
  (for the GIL, for the last frame) and the view's own work on it. Both parts of the ratio
  come from the same fit, so the machine's speed cancels out. It does not see training's
  own arithmetic made slower by work elsewhere (a busy other core, a cache shared with the
  render thread): that shows only in the wall-clock figure.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from benchmarks.measure import figure, repetitions

__all__ = ["chart", "markdown", "run"]

FULL_REPEAT = 8
#: Kernels per way for the reference loop of a full run.
REFERENCE_KERNELS = 3
QUICK_REPEAT = 1
N_SAMPLES = 6000
HIDDEN = 32
BATCH_SIZE = 32
REFERENCE_EPOCHS = 120
#: Epochs of the run of about 4 s, the cost target's run (the reference loop is 120).
LONG_EPOCHS = 300
QUICK_EPOCHS = 40
LIMIT = 1.10  # training with the live view / without plots

SETUP = """
import json, time
import numpy as np
from gdplot import MLPRegressorGD
from gdplot.plots import PlotCallback
from taskqueue import TaskQueue
rng = np.random.default_rng(0)
X = rng.uniform(-3, 3, ({n}, 1))
y = np.sin(X[:, 0]) + 0.1 * rng.standard_normal({n})

def model(epochs):
    return MLPRegressorGD(hidden={hidden}, batch_size={batch}, lr=0.01, epochs=epochs,
                          random_state=0)

class HookTimer:
    # Forwards a callback's hooks, adding up the training thread's CPU time spent in them.
    def __init__(self, callback):
        self.callback, self.cpu = callback, 0.0
    def _call(self, name, *args):
        hook = getattr(self.callback, name, None)
        if hook is not None:
            started = time.thread_time()
            try:
                hook(*args)
            finally:
                self.cpu += time.thread_time() - started
    def on_train_begin(self, estimator):
        self._call("on_train_begin", estimator)
    def on_epoch_end(self, estimator, epoch):
        self._call("on_epoch_end", estimator, epoch)
    def on_train_end(self, estimator):
        self._call("on_train_end", estimator)
    def on_train_error(self, estimator):
        self._call("on_train_error", estimator)

def timed(make_callbacks=list):
    start, cpu = time.perf_counter(), time.thread_time()
    callbacks = [HookTimer(callback) for callback in make_callbacks()]
    made = time.thread_time() - cpu
    model({epochs}).fit(X, y, callbacks=callbacks)
    print(json.dumps({{"wall": time.perf_counter() - start, "cpu": time.thread_time() - cpu,
                      "callbacks_cpu": made + sum(c.cpu for c in callbacks)}}))

model(2).fit(X, y)  # warm-up: NumPy's first calls, no plots
"""

# Each way: (setup cell, the callbacks of a plotted fit).
WAYS: dict[str, tuple[str, str]] = {
    "livelossplot": ("""
from livelossplot import PlotLosses

class LiveLossPlot:
    def on_train_begin(self, estimator):
        self.plot = PlotLosses()
    def on_epoch_end(self, estimator, epoch):
        self.plot.update({"loss": float(estimator.snapshot().loss)})
        self.plot.send()
""", "[LiveLossPlot()]"),
    "gdplot, thread": ("queue = TaskQueue(1)",
                       "[PlotCallback('loss', out_dir=None, show=True, executor=queue)]"),
    "gdplot, process": ("", "[PlotCallback('loss', out_dir=None, show=True)]"),
}


def _available(way: str, quick: bool) -> str | None:
    """Why ``way`` cannot be measured here, or ``None``."""
    try:
        import ipykernel  # noqa: F401
        import jupyter_client  # noqa: F401
    except ImportError as exc:
        return f"no Jupyter kernel to drive: {exc}"
    if way != "livelossplot":
        return None
    if quick:
        return "left out of a quick run"
    try:
        import livelossplot  # noqa: F401
    except ImportError as exc:
        return f"livelossplot does not import: {exc}"
    return None


def _one_kernel(way: str, epochs: int) -> dict[str, float]:
    """Fit times in one fresh kernel: for plain 0, plain 1, plotted 1 (the kernel's first),
    plain 2, plotted 2, plain 3, its wall clock (``name``), the training thread's CPU time
    (``name cpu``) and the callbacks' part of it (``name callbacks cpu``); ``bracket k``: the
    mean wall clock of the plain fits around plotted k."""
    from benchmarks.kernel import KernelSession

    setup, callbacks = WAYS[way]
    times: dict[str, float] = {}
    with KernelSession() as kernel:
        kernel.run(SETUP.format(n=N_SAMPLES, hidden=HIDDEN, batch=BATCH_SIZE, epochs=epochs))
        kernel.run(setup)
        for name, cell in (("plain 0", "timed()"), ("plain 1", "timed()"),
                           ("plotted 1", f"timed(lambda: {callbacks})"), ("plain 2", "timed()"),
                           ("plotted 2", f"timed(lambda: {callbacks})"), ("plain 3", "timed()")):
            run = kernel.run(cell)
            fit = json.loads(run.stdout.strip().splitlines()[-1])
            times[name] = fit["wall"]
            times[f"{name} cpu"] = fit["cpu"]
            times[f"{name} callbacks cpu"] = fit["callbacks_cpu"]
            if name.startswith("plotted"):
                times[f"{name} updates"] = len(run.own("update_display_data")) + len(
                    run.own("display_data"))
    for k in (1, 2):
        times[f"bracket {k}"] = (times[f"plain {k}"] + times[f"plain {k + 1}"]) / 2
    return times


def wall(fit: dict[str, float], k: int) -> float:
    """Plotted fit ``k``'s wall clock over the mean of the plain fits around it."""
    return fit[f"plotted {k}"] / fit[f"bracket {k}"]


def held(fit: dict[str, float], name: str) -> float:
    """The fit's wall clock over the training thread's CPU time on training itself."""
    return fit[name] / (fit[f"{name} cpu"] - fit[f"{name} callbacks cpu"])


def kernel_counts(repeat: int, quick: bool) -> dict[str, int]:
    """Fresh kernels per way for each loop: the cost target's loop gets ``repeat``; the
    reference loop, where livelossplot's cost is many times the spread, a few."""
    if quick:
        return {"reference": repeat}
    return {"reference": min(repeat, REFERENCE_KERNELS), "about 4 s": repeat}


def run(*, quick: bool = False, repeat: int | None = None,
        log: Callable[[str], object] = lambda message: None) -> dict:
    rounds = repetitions(repeat, QUICK_REPEAT if quick else FULL_REPEAT)
    workloads = {"reference": QUICK_EPOCHS if quick else REFERENCE_EPOCHS}
    if not quick:
        workloads["about 4 s"] = LONG_EPOCHS
    kernels_per_way = kernel_counts(rounds, quick)
    skipped = {way: why for way in WAYS if (why := _available(way, quick))}
    rows = []
    raw: dict[tuple[str, str], list[dict[str, float]]] = {}
    for round_index in range(rounds):
        for workload, epochs in workloads.items():
            if round_index >= kernels_per_way[workload]:
                continue
            for way in WAYS:
                if way in skipped or (way == "livelossplot" and workload != "reference"):
                    continue
                log(f"notebook: kernel {round_index + 1}/{kernels_per_way[workload]}, "
                    f"{workload}, {way}")
                start = time.perf_counter()
                raw.setdefault((workload, way), []).append(_one_kernel(way, epochs))
                log(f"notebook:   {time.perf_counter() - start:.1f} s")
    for (workload, way), kernels in raw.items():
        rows.append({
            "workload": workload, "way": way, "epochs": workloads[workload],
            "kernels": len(kernels),
            "plain_s": figure((k["plain 1"] for k in kernels), "s"),
            "first_s": figure((k["plotted 1"] for k in kernels), "s"),
            "first": figure((wall(k, 1) for k in kernels), "x"),
            "second": figure((wall(k, 2) for k in kernels), "x"),
            "first_held": figure((held(k, "plotted 1") for k in kernels), "x"),
            "second_held": figure((held(k, "plotted 2") for k in kernels), "x"),
            "plain_held": figure((held(k, f"plain {i}") for k in kernels for i in range(4)),
                                 "x"),
            "messages": figure((k["plotted 1 updates"] for k in kernels), "plots"),
            "fits": kernels,
        })
    targets = []
    for row in rows:
        if row["workload"] == "about 4 s" and row["way"].startswith("gdplot"):
            executor = row["way"].split(", ")[1]
            for which in ("first", "second"):
                for measure, label in ((which, "wall clock"), (f"{which}_held", "training held")):
                    targets.append({
                        "section": "notebook",
                        "name": f"notebook view, {executor}, {which} fit in a kernel (about "
                                f"4 s) / no plots, {label}",
                        "limit": LIMIT, "measured": row[measure],
                        "met": row[measure]["median"] <= LIMIT})
    return {
        "title": "Live plot in a notebook",
        "settings": {"repeat": rounds, "kernels": kernels_per_way, "n_samples": N_SAMPLES,
                     "hidden": HIDDEN, "batch_size": BATCH_SIZE, "workloads": workloads},
        "rows": rows,
        "skipped": skipped,
        "targets": targets,
    }


# --------------------------------------------------------------------------- report


def markdown(section: dict) -> list[str]:
    """The section's paragraphs and table for ``results.md``."""
    from benchmarks.report import _table, format_figure

    settings = section["settings"]
    loops = ", ".join(f"{name}: {epochs} epochs, {settings['kernels'][name]} fresh kernels "
                      "per way" for name, epochs in settings["workloads"].items())
    skipped = "".join(f" {way}: not measured ({why})." for way, why in
                      section.get("skipped", {}).items())
    rows = [[row["workload"], row["way"], format_figure(row["plain_s"]),
             format_figure(row["first_s"]), format_figure(row["first"]),
             format_figure(row["first_held"]), format_figure(row["second"]),
             format_figure(row["second_held"]), format_figure(row["plain_held"]),
             format_figure(row["messages"])]
            for row in section["rows"]]
    return [
        (f"`MLPRegressorGD(hidden={settings['hidden']}, batch_size={settings['batch_size']})` "
        f"on {settings['n_samples']:,} x 1 inputs ({loops}) in a real ipykernel driven over "
        "its protocol. `livelossplot`: `PlotLosses().update(logs); .send()` every epoch. "
        "`gdplot, thread`: `PlotCallback('loss', out_dir=None, show=True, "
        "executor=TaskQueue(1))`. `gdplot, process`: the same with `executor=None`, which "
        "renders in the kernel's rendering process (started by the first plotted fit, "
        "reused by the second). In each fresh kernel: two fits with no plots, the kernel's "
        "first plotted fit, one with no plots, the second plotted fit, one with no plots; "
        "the callbacks are made inside the timed region."),
        ("`wall`: a plotted fit's wall clock over the mean of the plain fits just before and "
        "after it in the same kernel. `held`: a fit's wall clock over the training thread's "
        "CPU time on training itself (its CPU time less the callbacks' hooks and making "
        "them), both from the same fit, so the machine's speed cancels out: the time "
        "training waited (for the GIL, for the last frame) and the view's own work on the "
        "training thread. `plain held`: the same for every fit with no plots. `display "
        "messages`: display_data and update_display_data messages of the first plotted "
        "fit's cell." + skipped),
        _table(["loop", "way", "no plots", "first plotted fit", "first, wall", "first, held",
                "second, wall", "second, held", "plain held", "display messages"], rows),
        "![training time with a live plot in a notebook](notebook.png)",
    ]


def chart(section: dict):
    """Grouped bars: first and second plotted fit over no plots, wall clock and held, per
    loop and way."""
    from benchmarks.report import _bar_chart, _new_figure

    workloads = [name for name in section["settings"]["workloads"]
                 if any(row["workload"] == name for row in section["rows"])]
    fig, axes_list = _new_figure(max(len(workloads), 1), 3.6)
    if not workloads:
        axes_list[0].text(0.5, 0.5, "not measured: " + "; ".join(
            sorted(set(section.get("skipped", {}).values()))), ha="center", va="center")
        axes_list[0].set_axis_off()
    for axes, workload in zip(axes_list, workloads):
        rows = [row for row in section["rows"] if row["workload"] == workload]
        _bar_chart(axes, [row["way"] for row in rows],
                   {"first fit in a fresh kernel, wall": [row["first"] for row in rows],
                    "first fit, training held": [row["first_held"] for row in rows],
                    "second fit, wall": [row["second"] for row in rows],
                    "second fit, training held": [row["second_held"] for row in rows]},
                   ylabel="fit time / no plots", log=True, baseline=1.0)
        axes.axhline(LIMIT, color="C3", linewidth=0.8, linestyle=":")
        axes.set_title(f"{workload}: {section['settings']['workloads'][workload]} epochs",
                       fontsize="medium")
    fig.suptitle("Training in a Jupyter kernel with a live loss plot (median, min-max; "
                 f"1 = no plots, dotted: {LIMIT:g})")
    return fig


# --------------------------------------------------------------------------- one way, many kernels


def main(argv: list[str] | None = None) -> None:
    """``python -m benchmarks.notebook``: one way's first and second fits in many fresh
    kernels, for a median steadier than the section's few kernels give."""
    import argparse
    import statistics

    parser = argparse.ArgumentParser(prog="python -m benchmarks.notebook", description=main.__doc__)
    parser.add_argument("--way", choices=[way for way in WAYS if way != "livelossplot"],
                        default="gdplot, thread")
    parser.add_argument("--kernels", type=int, default=40, help="fresh kernels (default 40)")
    parser.add_argument("--epochs", type=int, default=LONG_EPOCHS,
                        help=f"epochs of each fit (default {LONG_EPOCHS}: about 4 s)")
    parser.add_argument("--out", help="also write every kernel's fit times here, as JSON")
    args = parser.parse_args(argv)
    if args.kernels < 1 or args.epochs < 1:
        parser.error(f"--kernels and --epochs must be >= 1, got {args.kernels} and {args.epochs}")
    from benchmarks.__main__ import pin_blas_threads

    pin_blas_threads()  # the kernels inherit it, as in ``python -m benchmarks``
    if why := _available(args.way, quick=False):
        parser.exit(1, f"python -m benchmarks.notebook: {args.way}: {why}\n")
    kernels = []
    for index in range(args.kernels):
        kernels.append(_one_kernel(args.way, args.epochs))
        fit = kernels[-1]
        print(f"kernel {index + 1}/{args.kernels}: first {wall(fit, 1):.3f}x wall, "
              f"{held(fit, 'plotted 1'):.3f}x held; second {wall(fit, 2):.3f}x wall, "
              f"{held(fit, 'plotted 2'):.3f}x held", flush=True)
    for which in (1, 2):
        walls = sorted(wall(fit, which) for fit in kernels)
        helds = [held(fit, f"plotted {which}") for fit in kernels]
        quartiles = statistics.quantiles(walls, n=4) if len(walls) > 1 else walls * 3
        print(f"{args.way}, {'first' if which == 1 else 'second'} fit, {len(kernels)} kernels: "
              f"wall median {statistics.median(walls):.3f}x (quartiles {quartiles[0]:.3f}-"
              f"{quartiles[2]:.3f}, min-max {walls[0]:.3f}-{walls[-1]:.3f}, "
              f"{sum(w <= LIMIT for w in walls)} of {len(walls)} <= {LIMIT:g}x); "
              f"held median {statistics.median(helds):.3f}x")
    if args.out:
        from pathlib import Path

        Path(args.out).write_text(json.dumps({"way": args.way, "epochs": args.epochs,
                                              "kernels": kernels}, indent=1))


if __name__ == "__main__":
    main()
