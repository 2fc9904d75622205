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

Every plotting way gets fresh kernels: in each, after a warm-up fit of 2 epochs with no
plots, six cells time ``fit``: no plots twice, plotted (the kernel's FIRST plotted fit: a
fresh figure's layout, the rendering process's start), no plots, plotted again, no plots.
Each plotted fit is compared with the mean of the plain fits just before and just after it
in the same kernel, so a busy stretch of the shared machine weighs on both sides of a ratio.
``fit`` with ``show=True`` returns once the view shows the last frame, so its time includes
that.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from benchmarks.measure import figure, per_round_ratio, repetitions

__all__ = ["chart", "markdown", "run"]

FULL_REPEAT = 5
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

def timed(callbacks=()):
    start = time.perf_counter()
    model({epochs}).fit(X, y, callbacks=list(callbacks))
    print(json.dumps(time.perf_counter() - start))

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
    """Fit times in one fresh kernel: plain 0, plain 1, plotted 1 (the kernel's first),
    plain 2, plotted 2, plain 3; ``bracket k``: the mean of the plain fits around plotted k."""
    from benchmarks.kernel import KernelSession

    setup, callbacks = WAYS[way]
    times: dict[str, float] = {}
    with KernelSession() as kernel:
        kernel.run(SETUP.format(n=N_SAMPLES, hidden=HIDDEN, batch=BATCH_SIZE, epochs=epochs))
        kernel.run(setup)
        for name, cell in (("plain 0", "timed()"), ("plain 1", "timed()"),
                           ("plotted 1", f"timed({callbacks})"), ("plain 2", "timed()"),
                           ("plotted 2", f"timed({callbacks})"), ("plain 3", "timed()")):
            run = kernel.run(cell)
            times[name] = json.loads(run.stdout.strip().splitlines()[-1])
            if name.startswith("plotted"):
                times[f"{name} updates"] = len(run.own("update_display_data")) + len(
                    run.own("display_data"))
    for k in (1, 2):
        times[f"bracket {k}"] = (times[f"plain {k}"] + times[f"plain {k + 1}"]) / 2
    return times


def run(*, quick: bool = False, repeat: int | None = None,
        log: Callable[[str], object] = lambda message: None) -> dict:
    rounds = repetitions(repeat, QUICK_REPEAT if quick else FULL_REPEAT)
    workloads = {"reference": QUICK_EPOCHS if quick else REFERENCE_EPOCHS}
    if not quick:
        workloads["about 4 s"] = LONG_EPOCHS
    skipped = {way: why for way in WAYS if (why := _available(way, quick))}
    rows = []
    raw: dict[tuple[str, str], list[dict[str, float]]] = {}
    for round_index in range(rounds):
        for workload, epochs in workloads.items():
            for way in WAYS:
                if way in skipped or (way == "livelossplot" and workload != "reference"):
                    continue
                log(f"notebook: round {round_index + 1}/{rounds}, {workload}, {way}")
                start = time.perf_counter()
                raw.setdefault((workload, way), []).append(_one_kernel(way, epochs))
                log(f"notebook:   {time.perf_counter() - start:.1f} s")
    for (workload, way), kernels in raw.items():
        rows.append({
            "workload": workload, "way": way, "epochs": workloads[workload],
            "plain_s": figure((k["plain 1"] for k in kernels), "s"),
            "first_s": figure((k["plotted 1"] for k in kernels), "s"),
            "first": per_round_ratio([k["plotted 1"] for k in kernels],
                                     [k["bracket 1"] for k in kernels]),
            "second": per_round_ratio([k["plotted 2"] for k in kernels],
                                      [k["bracket 2"] for k in kernels]),
            "messages": figure((k["plotted 1 updates"] for k in kernels), "plots"),
        })
    targets = []
    for row in rows:
        if row["workload"] == "about 4 s" and row["way"].startswith("gdplot"):
            for which in ("first", "second"):
                targets.append({
                    "section": "notebook",
                    "name": f"notebook view, {row['way'].split(', ')[1]}, {which} fit in a "
                            "kernel (about 4 s) / no plots",
                    "limit": LIMIT, "measured": row[which],
                    "met": row[which]["median"] <= LIMIT})
    return {
        "title": "Live plot in a notebook",
        "settings": {"repeat": rounds, "n_samples": N_SAMPLES, "hidden": HIDDEN,
                     "batch_size": BATCH_SIZE, "workloads": workloads},
        "rows": rows,
        "skipped": skipped,
        "targets": targets,
    }


# --------------------------------------------------------------------------- report


def markdown(section: dict) -> list[str]:
    """The section's paragraphs and table for ``results.md``."""
    from benchmarks.report import _table, format_figure

    settings = section["settings"]
    loops = ", ".join(f"{name}: {epochs} epochs" for name, epochs in
                      settings["workloads"].items())
    skipped = "".join(f" {way}: not measured ({why})." for way, why in
                      section.get("skipped", {}).items())
    rows = [[row["workload"], row["way"], format_figure(row["plain_s"]),
             format_figure(row["first_s"]), format_figure(row["first"]),
             format_figure(row["second"]), format_figure(row["messages"])]
            for row in section["rows"]]
    return [
        f"`MLPRegressorGD(hidden={settings['hidden']}, batch_size={settings['batch_size']})` "
        f"on {settings['n_samples']:,} x 1 inputs ({loops}) in a real ipykernel driven over "
        "its protocol. `livelossplot`: `PlotLosses().update(logs); .send()` every epoch. "
        "`gdplot, thread`: `PlotCallback('loss', out_dir=None, show=True, "
        "executor=TaskQueue(1))`. `gdplot, process`: the same with `executor=None`, which "
        "renders in the kernel's rendering process (started by the first plotted fit, "
        "reused by the second). Each way runs in fresh kernels: two fits with no plots, "
        "the kernel's first plotted fit, one with no plots, the second plotted fit, one "
        "with no plots; a plotted fit is compared with the mean of the plain fits just "
        "before and after it in the same kernel. "
        "`display messages`: display_data and update_display_data messages of the first "
        "plotted fit's cell." + skipped,
        _table(["loop", "way", "no plots", "first plotted fit", "first / no plots",
                "second / no plots", "display messages"], rows),
        "![training time with a live plot in a notebook](notebook.png)",
    ]


def chart(section: dict):
    """Grouped bars: first and second plotted fit over no plots, per loop and way."""
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
                   {"first fit in a fresh kernel": [row["first"] for row in rows],
                    "second fit": [row["second"] for row in rows]},
                   ylabel="fit time / no plots", log=True, baseline=1.0)
        axes.axhline(LIMIT, color="C3", linewidth=0.8, linestyle=":")
        axes.set_title(f"{workload}: {section['settings']['workloads'][workload]} epochs",
                       fontsize="medium")
    fig.suptitle("Training in a Jupyter kernel with a live loss plot (median, min-max; "
                 f"1 = no plots, dotted: {LIMIT:g})")
    return fig
