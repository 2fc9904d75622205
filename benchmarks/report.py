"""Turn the measurements into ``results.json``, ``results.md`` and PNG charts, atomically.

Everything here reads the plain dicts the sections return (see ``benchmarks.measure`` for a
*figure*), so a saved ``results.json`` can be re-reported::

    python -c "import json, benchmarks.report as r; r.write_report(json.load(open('benchmarks/results/results.json')), 'benchmarks/results')"
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import LogFormatter

from gdplot.atomic import write_bytes_atomic

__all__ = ["format_figure", "render_markdown", "write_report"]

# What makes a target hard to reach; printed under the targets table when one is missed.
_WHY_MISSED = {
    "offload": (
        "The training thread still takes a snapshot (a copy of the parameters, read-only "
        "windows on the history and path) and queues it for every plot. A matplotlib render "
        "on a thread holds the GIL while it builds and draws (a run's first frame builds the "
        "whole figure: see Render cost's fresh row), so the training thread waits for it; a "
        "render in another process holds no GIL of ours but needs a free core, and the "
        "snapshot is pickled on the training thread. On a 2-core machine anything else "
        "running competes for that core."
    ),
    "queue_cost": (
        "`add_task` checks that the task is callable and counts it, under the same single "
        "lock `queue.Queue.put` takes; with workers running, the producer also competes with "
        "them for the GIL and the lock."
    ),
    "render_cost": (
        "A cached frame still draws its changing artists (Agg, holding the GIL) and encodes a "
        "PNG (zlib, GIL released, now the larger part); the status line is stamped from "
        "cached glyphs. A fresh figure is mostly matplotlib laying out and drawing ticks and "
        "text. On a busy machine every figure here grows; the ratio to a fresh figure in "
        "the same rounds is the steadier measure."
    ),
    "train_case": (
        "Past two parameters the loss-surface view follows the path, so each of its frames "
        "is recomputed and redrawn whole; on a thread that drawing holds the GIL while "
        "batch-1 training wants it back after every step."
    ),
    "gd_speed": (
        "A shuffled epoch gathers every row into a buffer once (one extra pass over the "
        "array) before its contiguous slices; each mini-batch step is a handful of NumPy "
        "calls whose fixed Python cost SGDRegressor's compiled per-sample loop does not pay."
    ),
    "notebook": (
        "On a thread, a fresh figure's first frame lays out the whole figure holding the "
        "GIL, and every later frame draws there too; in a process, the snapshot is pickled "
        "on the training thread, the frames come back as PNG bytes, and the process needs "
        "a free core. A wall-clock ratio compares fits made at different moments of a "
        "shared machine, whose speed can change by more than the view costs: `held` "
        "compares a fit with itself."
    ),
}
_SINK_NOTE = "net N ms: a simulated network write (`time.sleep`), then a receipt file"


# --------------------------------------------------------------------------- formatting


def format_figure(fig: dict) -> str:
    """``"1.02x (0.99-1.05)"``: the median, then min-max, in the figure's unit."""
    scale, suffix, pattern = _display_unit(fig["unit"], fig["median"])

    def show(value: float) -> str:
        return pattern.format(value * scale)

    text = show(fig["median"]) + suffix
    if show(fig["min"]) != show(fig["max"]):
        text += f" ({show(fig['min'])}-{show(fig['max'])})"
    return text


def _display_unit(unit: str, median: float) -> tuple[float, str, str]:
    """``(scale, suffix, format)`` to show values of ``unit`` near ``median``."""
    if unit == "s":
        return (1e3, " ms", "{:.3g}") if median < 1 else (1.0, " s", "{:.3g}")
    return _UNITS.get(unit, (1.0, f" {unit}", "{:.3g}"))


_UNITS: dict[str, tuple[float, str, str]] = {
    "x": (1.0, "x", "{:.3g}"),
    "ms": (1.0, " ms", "{:.3g}"),
    "us": (1.0, " µs", "{:,.3g}"),
    "ns/task": (1.0, " ns", "{:,.0f}"),
    "tasks/s": (1e-3, "k/s", "{:,.0f}"),
    "plots": (1.0, "", "{:g}"),
    "fraction": (100.0, "%", "{:.0f}"),
}


def _seconds(value: float) -> str:
    return format_figure({"unit": "s", "median": value, "min": value, "max": value})


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


# --------------------------------------------------------------------------- Markdown


def render_markdown(results: dict) -> str:
    """The whole ``results.md``: headline first, then targets, each section, the machine."""
    sections = results["sections"]
    machine = results["machine"]
    versions = machine["versions"]
    parts = [
        "# Benchmarks: what the task queue buys",
        f"Produced by `{results['command']}` on {machine['date']}: {machine['cpu_model']}, "
        f"{machine['cpu_count']} cores, Python {machine['python']}, NumPy {versions['numpy']}, "
        f"matplotlib {versions['matplotlib']}. {_blas_note(results)}",
        f"Every figure is the median of several repetitions (here {_repeats(sections)}) with "
        "(min-max); every "
        "ratio is taken per repetition between runs made in the same process, in interleaved "
        "rounds (A B A B ...).",
    ]
    if "offload" in sections:
        parts += _headline(sections["offload"])
    parts += _targets_table(sections)
    for name, section in sections.items():
        parts += [f"## {section['title']}", *_SECTION_WRITERS[name](section),
                  f"_Section time: {section['duration_s']:.0f} s._"]
    parts += ["## Machine", _table(["", ""], [[key, f"`{value}`"] for key, value in machine.items()])]
    return "\n\n".join(parts) + "\n"


def _blas_note(results: dict) -> str:
    if results["blas_pinned"]:
        return ("NumPy's BLAS was pinned to one thread by the benchmark (set "
                "`OPENBLAS_NUM_THREADS` yourself to measure another count): with two BLAS "
                "threads on two cores, a renderer busy on the second core stalls every "
                "full-batch step.")
    threads = {key: value for key, value in results["machine"]["blas_env"].items()
               if key.endswith("NUM_THREADS")}
    return f"BLAS threads as set by the caller: {threads}."


def _repeats(sections: dict) -> str:
    counts = sorted({section["settings"]["repeat"] for section in sections.values()})
    return " or ".join(str(count) for count in counts)


def _headline(offload: dict) -> list[str]:
    parts = ["## Headline: training-loop time with plots / with none",
             "Time until `fit` returns with a plot every N steps, divided by the same training "
             "with no plots. " + _SINK_NOTE + "."]
    for workload in offload["settings"]["workloads"]:
        rows = [row for row in offload["rows"] if row["workload"] == workload["name"]]
        sinks = offload["settings"]["sinks"]
        modes = [mode["name"] for mode in offload["settings"]["modes"]][1:]
        cell = {(row["mode"], row["sink"]): format_figure(row["slowdown"]) for row in rows}
        parts += [f"**{_describe_workload(workload)}**",
                  _table(["mode", *sinks], [[mode, *(cell[mode, sink] for sink in sinks)]
                                            for mode in modes])]
    parts.append("![training-loop slowdown per mode and sink](offload.png)")
    return parts


def _describe_workload(workload: dict) -> str:
    batch = workload["batch_size"] or "all"
    return (f"{workload['name']}: {workload['n_samples']:,} rows, batch {batch}, "
            f"{workload['epochs']} epochs of {_count(workload['steps_per_epoch'], 'step')}, "
            f"a plot every {workload['plot_every_steps']:,} steps ({workload['plots']} plots)")


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


def _targets_table(sections: dict) -> list[str]:
    targets = [target for section in sections.values() for target in section["targets"]]
    if not targets:
        return []
    rows = [[target["name"], _limit(target), format_figure(target["measured"]),
             "met" if target["met"] else "**missed**"] for target in targets]
    parts = ["## Targets", _table(["target", "limit", "measured (median, min-max)", ""], rows)]
    missed = sorted({target["section"] for target in targets if not target["met"]})
    parts += [f"Missed in {sections[name]['title'].lower()}: {_WHY_MISSED[name]}"
              for name in missed if name in _WHY_MISSED]
    return parts


def _limit(target: dict) -> str:
    unit = target.get("unit", "x")
    return f"<= {target['limit']:g}" + ("x" if unit == "x" else f" {unit}")


def _offload_section(section: dict) -> list[str]:
    pool = section["process_pool"]
    parts = [
        f"`LinearRegressionGD` on {section['settings']['n_features']} features with "
        "`PlotCallback` in each mode. `latest`: `coalesce=True` on a 1-worker `TaskQueue` "
        "(`add_latest`); `drop_oldest`: a 1-worker `TaskQueue(maxsize=1, "
        "overflow=\"drop_oldest\")`; `process`: a "
        f"{pool['workers']}-process `ProcessPoolExecutor` ({pool['context']} context), "
        f"started before the timers: start-up {_seconds(pool['startup_s'])}, then a first "
        f"render of {_seconds(pool['first_render_s'])} (matplotlib imported there). Every "
        "sink rendered once, here and in the pool, before the timers. `fit returns`: the "
        "training loop, plot requests included; `all on disk`: until every requested plot "
        "is written. Callbacks fire at the end of an epoch, so the epochs are short.",
    ]
    headers = ["sink", "mode", "fit returns", "all on disk", "slowdown", "requested", "rendered",
               "coalesced", "dropped"]
    for workload in section["settings"]["workloads"]:
        rows = [[row["sink"], row["mode"], format_figure(row["train_s"]),
                 format_figure(row["total_s"]), format_figure(row["slowdown"]),
                 *(format_figure(row[count]) for count in ("requested", "rendered", "coalesced",
                                                           "dropped"))]
                for row in section["rows"] if row["workload"] == workload["name"]]
        parts += [f"**{_describe_workload(workload)}**", _table(headers, rows)]
    return parts


def _queue_cost_section(section: dict) -> list[str]:
    settings = section["settings"]
    parts = [
        f"{settings['tasks']:,} no-op tasks. Producer cost: time in the producer's loop per "
        "task, with the workers running (what a user sees) and with every worker parked on a "
        f"gate (the queue only fills). Ratios are against a bare `{settings['reference']}."
        "put((fn, args, kwargs))` measured in the same round. End-to-end: from the first task "
        "added until every task has run.",
    ]
    headers = ["workers", "candidate", "producer (running)", "vs put", "producer (parked)",
               "vs put", "end-to-end", "throughput", "vs queue.Queue"]
    rows = [[str(row["workers"]), f"`{row['candidate']}`", *(format_figure(row[key]) for key in (
        "producer_ns", "producer_vs_queue", "producer_parked_ns", "producer_parked_vs_queue",
        "end_to_end_s", "throughput", "end_to_end_vs_queue"))] for row in section["rows"]]
    return [*parts, _table(headers, rows), "![queue cost](queue_cost.png)"]


def _render_cost_section(section: dict) -> list[str]:
    settings = section["settings"]
    per_plot = section["per_plot_ms"]
    rows = [[f"`{name}`", format_figure(per_plot[f"{name}, fresh"]),
             format_figure(per_plot[f"{name}, reused"]) if f"{name}, reused" in per_plot else "",
             format_figure(per_plot[f"{name}, cached"]), format_figure(speedup)]
            for name, speedup in section["cached_speedup"].items()]
    phases = [[phase, format_figure(fig)] for phase, fig in section["loss_phases_ms"].items()]
    return [
        f"One PNG per frame ({settings['figsize'][0]}x{settings['figsize'][1]} in at "
        f"{settings['dpi']} dpi, zlib level {settings['png_compress_level']}) of a snapshot "
        f"after {settings['epochs']} epochs (the loss plot has {settings['epochs'] + 1} "
        f"points), {settings['plot_sample_rows']:,} data rows. `fresh`: a new figure for the "
        "frame (build, layout, draw everything, encode, write), with no drawn background to "
        "reuse: a run's first frame, the first time. `reused`: a run's first frame when an "
        "earlier run drew the same background (build the figure, restore the stored pixels, "
        "draw the changing artists, encode, write). `cached`: the steady state of a live "
        "plot, the worker's figure of the run kept from the frame before (restore the "
        "background, draw the changing artists, encode, write). The surface is the "
        "two-parameter one (its contour drawn once per run); `surface, 3 params` follows "
        "the path, so it is redrawn every frame and never reused.",
        _table(["renderer", "fresh figure", "reused background", "cached figure",
                "fresh / cached"], rows),
        "Where a cached loss frame's time goes (the encode releases the GIL):",
        _table(["phase", "time"], phases),
        "![render cost](render_cost.png)",
    ]


def _train_case_section(section: dict) -> list[str]:
    settings = section["settings"]
    rows = [[row["mode"], str(row["plot_every"]), format_figure(row["wall_s"]),
             format_figure(row["vs_once"]) if "vs_once" in row else ""]
            for row in section["rows"]]
    return [
        f"`gdplot train` as a user runs it, in a subprocess: {settings['rows']} x "
        f"{settings['features']} {settings['data']}, `--model logistic --batch-size 1 "
        f"--epochs {settings['epochs']}`, every plot the command chooses (a live loss plot "
        "and the loss surface), with `--plot-every N` against plotting once "
        f"(`--plot-every {settings['epochs']}`). Wall time of the whole command, "
        "interpreter start-up and the wait for the last plot included. `library, X`: the "
        "same training and plots through the library (`PlotCallback`s as the command makes "
        "them) with each executor, `process` being a 1-process forkserver pool: what the "
        "command's default should be.",
        _table(["plots", "--plot-every", "wall time", "vs plotting once"], rows),
        "![gdplot train wall time](train_case.png)",
    ]


def _submit_cost_section(section: dict) -> list[str]:
    settings = section["settings"]
    rows = [[row["executor"], format_figure(row["submit_us"])] for row in section["rows"]]
    skipped = "".join(f" {name}: not measured ({why})." for name, why in
                      section.get("skipped", {}).items())
    return [
        f"What handing one frame to an executor costs the training thread: "
        f"{settings['frames']} `submit(render_loss, snapshot, path)` calls of a snapshot after "
        f"{settings['epochs']} epochs ({settings['snapshot_kib']:.0f} KiB pickled), timed on "
        "the submitting thread only (the renders run elsewhere, and are waited for outside "
        "the timer)." + skipped,
        _table(["executor", "per frame"], rows),
        "![submit cost per frame](submit_cost.png)",
    ]


def _gd_speed_section(section: dict) -> list[str]:
    settings = section["settings"]
    shape = settings["shape"]
    rows = [[row["case"], format_figure(row["epoch_s"]),
             format_figure(row["first_epoch_s"]) if "first_epoch_s" in row else ""]
            for row in section["rows"]]
    return [
        f"One epoch of `LinearRegressionGD` (lr {settings['lr']}) over a ({shape[0]:,} x "
        f"{shape[1]}) float64 array: the mean of epochs 3-5 of a 5-epoch fit (the first two, "
        "in the last column, also pay for fresh shuffle buffers). The stochastic case runs over the first "
        f"{settings['stochastic_rows']:,} rows and is scaled to the whole array. "
        "`SGDRegressor`: one `partial_fit` epoch after a first one, input validation included"
        + ("" if settings["scikit_learn"] else " (scikit-learn not installed: not measured)") + ".",
        _table(["case", "epoch", "epochs 1-2"], rows),
        "![gradient descent speed](gd_speed.png)",
    ]


_SECTION_WRITERS: dict[str, Callable[[dict], list[str]]] = {
    "offload": _offload_section,
    "queue_cost": _queue_cost_section,
    "render_cost": _render_cost_section,
    "gd_speed": _gd_speed_section,
    "train_case": _train_case_section,
    "submit_cost": _submit_cost_section,
    "notebook": lambda section: _section_module("notebook").markdown(section),
}


# --------------------------------------------------------------------------- charts


def _bar_chart(axes, groups: Sequence[str], series: dict[str, Sequence[dict]], *,
               ylabel: str, log: bool = False, baseline: float | None = None) -> None:
    """Grouped bars at the medians with min-max whiskers: one bar per series in each group."""
    width = 0.8 / len(series)
    for index, (label, figs) in enumerate(series.items()):
        positions = [group + (index - (len(series) - 1) / 2) * width for group in range(len(groups))]
        medians = [fig["median"] for fig in figs]
        whiskers = [[m - fig["min"] for m, fig in zip(medians, figs)],
                    [fig["max"] - m for m, fig in zip(medians, figs)]]
        axes.bar(positions, medians, width, yerr=whiskers, capsize=2, label=label,
                 error_kw={"elinewidth": 0.8})
    axes.set_xticks(range(len(groups)), groups)
    axes.set_ylabel(ylabel)
    if log:
        _log_scale(axes, "y")
    if baseline is not None:
        axes.axhline(baseline, color="black", linewidth=0.8, linestyle="--")
    axes.grid(True, axis="y", alpha=0.3)
    if len(series) > 1:
        axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))


def _new_figure(rows: int, height: float) -> tuple[Figure, list]:
    fig = Figure(figsize=(11, height * rows), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, list(fig.subplots(rows, 1, squeeze=False)[:, 0])


def _offload_chart(section: dict) -> Figure:
    workloads = section["settings"]["workloads"]
    sinks = section["settings"]["sinks"]
    modes = [mode["name"] for mode in section["settings"]["modes"]][1:]
    fig, axes_list = _new_figure(len(workloads), 4.2)
    for axes, workload in zip(axes_list, workloads):
        slowdown = {(row["mode"], row["sink"]): row["slowdown"] for row in section["rows"]
                    if row["workload"] == workload["name"]}
        _bar_chart(axes, sinks, {mode: [slowdown[mode, sink] for sink in sinks] for mode in modes},
                   ylabel="training loop / no plots", log=True, baseline=1.0)
        axes.set_title(_describe_workload(workload), fontsize="medium")
    fig.suptitle("Training-loop slowdown per plot mode and sink (median, min-max; 1 = no plots)")
    return fig


def _queue_cost_chart(section: dict) -> Figure:
    candidates = list(dict.fromkeys(row["candidate"] for row in section["rows"]))
    workers = section["settings"]["workers"]
    by_key = {(row["candidate"], row["workers"]): row for row in section["rows"]}
    fig, (producer, throughput) = _new_figure(2, 3.6)
    for axes, key, ylabel in ((producer, "producer_ns", "producer ns per task (running)"),
                              (throughput, "throughput", "tasks per second, end to end")):
        _bar_chart(axes, candidates, {f"{count} worker(s)": [by_key[c, count][key] for c in candidates]
                                      for count in workers}, ylabel=ylabel, log=True)
    fig.suptitle(f"Queue cost, {section['settings']['tasks']:,} no-op tasks (median, min-max)")
    return fig


def _single_series_chart(title: str, xlabel: str, figs: dict[str, dict], log: bool) -> Figure:
    """Horizontal bars at the medians with min-max whiskers, one per named figure."""
    fig, (axes,) = _new_figure(1, 0.45 * len(figs) + 1.2)
    medians = [f["median"] for f in figs.values()]
    whiskers = [[m - f["min"] for m, f in zip(medians, figs.values())],
                [f["max"] - m for m, f in zip(medians, figs.values())]]
    axes.barh(range(len(figs)), medians, xerr=whiskers, capsize=2, color="C0")
    axes.set_yticks(range(len(figs)), list(figs))
    axes.invert_yaxis()  # first row on top, as in the tables
    axes.set_xlabel(xlabel)
    if log:
        _log_scale(axes, "x")
    axes.grid(True, axis="x", alpha=0.3)
    fig.suptitle(title)
    return fig


class _PlainLogFormatter(LogFormatter):
    """LogFormatter's choice of ticks to label, written plainly: 0.01, 6, 20 (not 1e-02)."""

    def _num_to_string(self, x: float, vmin: float, vmax: float) -> str:
        return f"{x:g}"


def _log_scale(axes, which: str) -> None:
    """Log scale on the ``"x"`` or ``"y"`` axis of ``axes``, with plain tick labels."""
    getattr(axes, f"set_{which}scale")("log")
    axis = getattr(axes, f"{which}axis")
    axis.set_major_formatter(_PlainLogFormatter())
    axis.set_minor_formatter(_PlainLogFormatter(minor_thresholds=(2, 0.5)))


def _render_cost_chart(section: dict) -> Figure:
    return _single_series_chart("Time per frame (median, min-max)", "ms per frame",
                                section["per_plot_ms"], log=True)


def _train_case_chart(section: dict) -> Figure:
    return _single_series_chart("gdplot train, wall time (median, min-max)", "seconds",
                                {f"{row['mode']}, --plot-every {row['plot_every']}": row["wall_s"]
                                 for row in section["rows"]}, log=False)


def _submit_cost_chart(section: dict) -> Figure:
    return _single_series_chart("Training-thread cost of submitting one frame "
                                "(median, min-max)", "microseconds",
                                {row["executor"]: row["submit_us"] for row in section["rows"]},
                                log=True)


def _gd_speed_chart(section: dict) -> Figure:
    shape = section["settings"]["shape"]
    return _single_series_chart(f"One epoch over a {shape[0]:,} x {shape[1]} array "
                                "(median, min-max)", "seconds",
                                {row["case"]: row["epoch_s"] for row in section["rows"]}, log=True)


_CHARTS: dict[str, Callable[[dict], Figure]] = {
    "offload": _offload_chart,
    "queue_cost": _queue_cost_chart,
    "render_cost": _render_cost_chart,
    "gd_speed": _gd_speed_chart,
    "train_case": _train_case_chart,
    "submit_cost": _submit_cost_chart,
    "notebook": lambda section: _section_module("notebook").chart(section),
}


def _section_module(name: str):
    """A section that writes its own Markdown and chart (imported only when reported)."""
    import importlib

    return importlib.import_module(f"benchmarks.{name}")


# --------------------------------------------------------------------------- files


def write_report(results: dict, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write ``results.json``, ``results.md`` and one chart per section; return their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # The raw numbers first: a chart or table that fails to draw must not lose the run.
    written = [out / "results.json"]
    write_bytes_atomic(written[-1], (json.dumps(results, indent=1) + "\n").encode())
    for name, section in results["sections"].items():
        png = io.BytesIO()
        _CHARTS[name](section).savefig(png, format="png")
        written.append(out / f"{name}.png")
        write_bytes_atomic(written[-1], png.getvalue())
    written.append(out / "results.md")
    write_bytes_atomic(written[-1], render_markdown(results).encode())
    return written
