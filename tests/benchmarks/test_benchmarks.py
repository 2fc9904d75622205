"""``python -m benchmarks`` keeps working: its quick run, its files, its flags. No speed asserts."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from benchmarks.measure import check_repeat, figure, interleave, per_round_ratio
from benchmarks.report import format_figure

# The module's quick run (one subprocess, shared by its tests) takes about two minutes on an
# idle 2-core machine, more on a busy one: past the suite's 120 s default per test, so the
# bound here is the subprocess's own timeout plus room.
pytestmark = pytest.mark.timeout(600)

REPO = Path(__file__).resolve().parents[2]
SECTIONS = ("offload", "queue_cost", "render_cost", "gd_speed", "train_case", "submit_cost",
            "notebook")


def run_benchmarks(*args: str, timeout: float = 400) -> subprocess.CompletedProcess:
    # -W error: a warning anywhere in the run (matplotlib, NumPy, scikit-learn) fails it.
    return subprocess.run([sys.executable, "-W", "error", "-m", "benchmarks", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def figures_in(node, where="results"):
    """Every figure (a dict with a "median") in the JSON tree, with where it was found."""
    if isinstance(node, dict):
        if "median" in node:
            yield where, node
            return
        for key, value in node.items():
            yield from figures_in(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from figures_in(value, f"{where}[{index}]")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("benchmarks")
    finished = run_benchmarks("--quick", "--out", str(out))
    assert finished.returncode == 0, finished.stderr
    return out, json.loads((out / "results.json").read_text())


def test_quick_run_writes_every_section_with_the_machine(quick_run):
    _, results = quick_run
    assert list(results["sections"]) == list(SECTIONS)
    assert results["quick"] is True
    machine = results["machine"]
    for key in ("platform", "cpu_model", "cpu_count", "python", "date", "blas_env"):
        assert machine[key], key
    for library in ("numpy", "matplotlib"):
        assert machine["versions"][library], library
    for name, section in results["sections"].items():
        assert section["settings"]["repeat"] >= 1, name
        assert isinstance(section["targets"], list), name


def test_every_figure_is_a_median_with_its_min_and_max(quick_run):
    _, results = quick_run
    found = list(figures_in(results))
    assert len(found) > 100  # every section contributes many
    for where, fig in found:
        values = fig["values"]
        assert fig["min"] <= fig["median"] <= fig["max"], where
        assert fig["median"] == pytest.approx(statistics.median(values)), where
        assert (fig["min"], fig["max"]) == (min(values), max(values)), where


def test_offload_covers_every_mode_and_sink_and_counts_every_frame(quick_run):
    _, results = quick_run
    offload = results["sections"]["offload"]
    modes = [mode["name"] for mode in offload["settings"]["modes"]]
    assert modes == ["none", "sync", "thread x1", "thread x1, cold", "thread x2", "thread x4",
                     "latest", "drop_oldest", "process"]
    workloads = {w["name"]: w for w in offload["settings"]["workloads"]}
    assert set(workloads) == {"mini-batch", "full-batch"}
    rows = offload["rows"]
    assert len(rows) == len(workloads) * len(offload["settings"]["sinks"]) * len(modes)
    for row in rows:
        requested = row["requested"]["values"]
        expected = 0 if row["mode"] == "none" else workloads[row["workload"]]["plots"]
        assert requested == [expected] * len(requested), row
        for run, asked in enumerate(requested):
            outcome = [row[key]["values"][run] for key in ("rendered", "coalesced", "dropped")]
            assert sum(outcome) == asked, row  # no frame lost or counted twice
            files = row["files"]["values"][run]
            # Every rendered frame is on disk once fit and the wait are over; coalescing
            # overwrites one live file.
            assert files == (min(asked, 1) if row["mode"] == "latest" else outcome[0]), row
        if row["mode"] == "none":
            assert row["slowdown"]["values"] == [1.0] * len(requested)


def test_targets_say_met_exactly_when_the_median_is_within_the_limit(quick_run):
    _, results = quick_run
    targets = [t for section in results["sections"].values() for t in section["targets"]]
    assert {t["section"] for t in targets} == {"offload", "queue_cost", "gd_speed",
                                               "render_cost", "train_case"}
    for target in targets:
        assert target["met"] == (target["measured"]["median"] <= target["limit"]), target["name"]


def test_render_cost_has_a_fresh_and_a_cached_row_per_renderer_with_targets(quick_run):
    _, results = quick_run
    render_cost = results["sections"]["render_cost"]
    per_plot = render_cost["per_plot_ms"]
    for kind in ("loss", "fit", "boundary", "surface"):
        assert {f"{kind}, fresh", f"{kind}, reused", f"{kind}, cached"} <= set(per_plot), kind
        names = [t["name"] for t in render_cost["targets"] if t["name"].startswith(
            "two-parameter surface" if kind == "surface" else kind)]
        assert len(names) == 2, names  # a budget in ms and a ratio to the fresh figure
    speedup = render_cost["cached_speedup"]["loss"]["values"]
    fresh, cached = per_plot["loss, fresh"]["values"], per_plot["loss, cached"]["values"]
    assert speedup == pytest.approx([f / c for f, c in zip(fresh, cached)])


def test_offload_targets_real_pngs_on_a_task_queue_thread_per_workload(quick_run):
    _, results = quick_run
    names = [t["name"] for t in results["sections"]["offload"]["targets"]]
    for workload in ("mini-batch", "full-batch"):
        for sink in ("loss PNG",):
            for background in ("background reused", "first run (cold)"):
                assert (f"training loop with real {sink}s on a TaskQueue thread, {background}, "
                        f"{workload}: x of no plots") in names


def test_train_case_compares_plotting_every_5_epochs_with_plotting_once(quick_run):
    _, results = quick_run
    section = results["sections"]["train_case"]
    epochs = section["settings"]["epochs"]
    assert section["settings"]["features"] == 30 and section["settings"]["rows"] == 569
    rows = {(row["mode"], row["plot_every"]): row for row in section["rows"]}
    assert ("process (default)", 5) in rows and ("process (default)", epochs) in rows
    (target,) = section["targets"]
    assert target["measured"] == rows[("process (default)", 5)]["vs_once"]


def test_submit_cost_covers_every_executor_that_imports(quick_run):
    _, results = quick_run
    section = results["sections"]["submit_cost"]
    executors = [row["executor"] for row in section["rows"]]
    assert executors[:3] == ["TaskQueue.add_task", "ThreadPoolExecutor.submit",
                             "ProcessPoolExecutor.submit"]
    try:
        import dask.distributed  # noqa: F401
    except ImportError:
        assert list(section["skipped"]) == ["Dask LocalCluster executor"]
    else:
        assert executors[3:] == ["Dask Client.get_executor().submit"]


def test_a_quick_run_without_out_writes_to_a_scratch_folder_and_names_missed_targets():
    committed = REPO / "benchmarks" / "results"
    before = {p.name: p.stat().st_mtime_ns for p in committed.iterdir()} if committed.exists() \
        else {}
    finished = run_benchmarks("--quick", "--only", "render_cost", "--repeat", "1")
    assert finished.returncode == 0, finished.stderr
    after = {p.name: p.stat().st_mtime_ns for p in committed.iterdir()} if committed.exists() \
        else {}
    assert after == before  # the committed full-run results are untouched
    wrote = [line.split("wrote ", 1)[1] for line in finished.stderr.splitlines() if "wrote " in line]
    assert wrote and all(Path(path).parent != committed for path in wrote)
    scratch = Path(wrote[0]).parent
    results = json.loads((scratch / "results.json").read_text())
    missed = [t for t in results["sections"]["render_cost"]["targets"] if not t["met"]]
    assert f"targets missed: {len(missed)} of 8" in finished.stderr
    for target in missed:  # each by name, not only a count
        assert f"missed: {target['name']}: " in finished.stderr


def test_markdown_puts_the_headline_first_and_every_chart_is_a_png(quick_run):
    out, _ = quick_run
    markdown = (out / "results.md").read_text()
    headings = [line for line in markdown.splitlines() if line.startswith("## ")]
    assert headings[:2] == ["## Headline: training-loop time with plots / with none", "## Targets"]
    for name in SECTIONS:
        chart = out / f"{name}.png"
        assert f"]({name}.png)" in markdown
        with Image.open(chart) as image:
            assert image.format == "PNG" and image.width > 500
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # no temp files left


def test_only_and_repeat_select_what_runs(tmp_path):
    finished = run_benchmarks("--only", "queue_cost", "--quick", "--repeat", "1",
                              "--out", str(tmp_path))
    assert finished.returncode == 0, finished.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    assert list(results["sections"]) == ["queue_cost"]
    assert results["sections"]["queue_cost"]["settings"]["repeat"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["queue_cost.png", "results.json",
                                                          "results.md"]


@pytest.mark.parametrize(("args", "complaint"), [
    (["--bogus"], "unrecognized arguments: --bogus"),
    (["--repeat", "0"], "--repeat: must be an int >= 1, got '0'"),
    (["--repeat", "many"], "--repeat: must be an int >= 1, got 'many'"),
    (["--only", "offload,nope"], "--only: must be one or more of"),
    (["--only", ""], "--only: must be one or more of"),
    (["--quick", "--out", __file__], "--out: not a folder"),
])
def test_a_bad_flag_is_one_line_on_stderr_and_exit_2(args, complaint):
    finished = run_benchmarks(*args, timeout=30)
    assert finished.returncode == 2
    assert finished.stdout == ""
    assert len(finished.stderr.splitlines()) == 1
    assert complaint in finished.stderr


def test_interleave_runs_the_trials_in_alternating_rounds():
    calls = []
    results = interleave({"a": lambda: calls.append("a") or len(calls),
                          "b": lambda: calls.append("b") or len(calls)}, repeat=3)
    assert calls == ["a", "b", "a", "b", "a", "b"]
    assert results == {"a": [1, 3, 5], "b": [2, 4, 6]}


def test_figures_and_per_round_ratios():
    assert figure([3, 1, 2], "s") == {"unit": "s", "median": 2.0, "min": 1.0, "max": 3.0,
                                      "values": [3.0, 1.0, 2.0]}
    ratio = per_round_ratio([2.0, 9.0], [1.0, 3.0])
    assert (ratio["unit"], ratio["values"]) == ("x", [2.0, 3.0])
    with pytest.raises(ValueError, match="at least one measurement"):
        figure([], "s")
    with pytest.raises(ValueError, match="one denominator per numerator, got 2 and 1"):
        per_round_ratio([1.0, 2.0], [1.0])


@pytest.mark.parametrize(("repeat", "error"), [(0, ValueError), (True, TypeError), (2.0, TypeError)])
def test_check_repeat_rejects_what_is_not_a_positive_int(repeat, error):
    with pytest.raises(error, match=f"repeat must be an int >= 1, got repeat={repeat!r}"):
        check_repeat(repeat)


@pytest.mark.parametrize(("fig", "text"), [
    ({"unit": "x", "median": 1.0213, "min": 0.991, "max": 1.05}, "1.02x (0.991-1.05)"),
    ({"unit": "s", "median": 0.0421, "min": 0.0421, "max": 0.0421}, "42.1 ms"),
    ({"unit": "s", "median": 2.5, "min": 2.0, "max": 3.0}, "2.5 s (2-3)"),
    ({"unit": "ns/task", "median": 1234.4, "min": 1000.0, "max": 1500.0}, "1,234 ns (1,000-1,500)"),
    ({"unit": "fraction", "median": 0.234, "min": 0.2, "max": 0.25}, "23% (20-25)"),
])
def test_format_figure_shows_the_median_then_the_range_in_one_unit(fig, text):
    assert format_figure(fig) == text


def test_the_notebook_rerun_refuses_a_kernel_count_below_one(capsys):
    from benchmarks import notebook

    with pytest.raises(SystemExit) as exited:
        notebook.main(["--kernels", "0"])
    assert exited.value.code == 2
    assert "--kernels and --epochs must be >= 1, got 0 and 300" in capsys.readouterr().err


@pytest.mark.notebooks
def test_a_notebook_fit_is_split_into_training_and_the_callbacks_work_in_a_real_kernel():
    pytest.importorskip("ipykernel")
    pytest.importorskip("jupyter_client")
    from benchmarks import notebook

    fits = notebook._one_kernel("gdplot, thread", epochs=30)
    for i in range(4):
        # With no plots only training runs on the training thread (making no callbacks is
        # a few microseconds): its wall clock is its CPU time, whatever the machine's speed.
        assert fits[f"plain {i} callbacks cpu"] < 1e-3, fits
        assert 0.9 < notebook.held(fits, f"plain {i}") < 1.5, fits
    for k in (1, 2):
        # Making the callback, sending the placeholder and snapshots run on that thread.
        assert 0 < fits[f"plotted {k} callbacks cpu"] < fits[f"plotted {k} cpu"], fits
        assert fits[f"plotted {k} updates"] >= 2, fits  # the placeholder and the last frame


def test_the_gil_handoffs_benchmark_refuses_fewer_than_two_rounds(capsys):
    from benchmarks import gil_handoffs

    with pytest.raises(SystemExit) as exited:
        gil_handoffs.main(["--rounds", "1"])
    assert exited.value.code == 2
    assert "--rounds must be >= 2, got 1" in capsys.readouterr().err
