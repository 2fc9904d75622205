"""``gdplot train`` and ``predict`` against hostile files and paths: one line on stderr, the
right exit status, nothing written through a link, nothing of the previous run deleted
before every input has been checked, and no hang."""

from __future__ import annotations

import errno
import json
import os
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from gdplot.cli import main
from gdplot.cli.checks import MAX_FRAMES
from gdplot.data.run_folder import LOCK_NAME, MANIFEST_NAME

pytestmark = pytest.mark.skipif(os.name != "posix", reason="links, FIFOs and /dev as on POSIX")


def write_csv(path: Path, rows: int = 40, *, huge: str | None = None, column: int = 0) -> Path:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, 2))
    y = X @ [1.0, 2.0] + 0.1 * rng.standard_normal(rows)
    lines = ["a,b,y"] + [f"{float(r[0])!r},{float(r[1])!r},{float(t)!r}"
                         for r, t in zip(X, y, strict=True)]
    if huge is not None:
        cells = lines[5].split(",")
        cells[column] = huge
        lines[5] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    return path


def train(csv: Path | str, out: Path | str, *options: str) -> int:
    return main(["train", str(csv), "--target", "y", "--out", str(out), "--epochs", "3",
                 "--render", "sync", *options])


def one_error(capsys, *fragments: str) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("gdplot: error: "), repr(err)
    for fragment in fragments:
        assert fragment in err, err
    return err


@pytest.fixture
def csv(tmp_path) -> Path:
    return write_csv(tmp_path / "data.csv")


@pytest.fixture
def previous(tmp_path, csv, capsys) -> tuple[Path, list[Path]]:
    """A run folder holding a previous run's plots."""
    out = tmp_path / "runs"
    assert train(csv, out) == 0
    capsys.readouterr()
    plots = sorted(out.glob("*.png"))
    assert len(plots) >= 2
    return out, plots


# --------------------------------------------------------------------------- item 2, 10: odd files


@pytest.mark.parametrize("name", [LOCK_NAME, MANIFEST_NAME])
@pytest.mark.parametrize("kind", ["symlink", "directory", "fifo"])
def test_a_lock_or_manifest_that_is_a_link_directory_or_fifo_is_one_line_and_harmless(
    tmp_path, csv, previous, capsys, name, kind
):
    out, plots = previous
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    os.utime(victim, (0, 0))  # older than the grace of an empty lock
    (out / name).unlink(missing_ok=True)
    if kind == "symlink":
        (out / name).symlink_to(victim)
    elif kind == "directory":
        (out / name).mkdir()
    else:
        os.mkfifo(out / name)
    started = time.monotonic()
    assert train(csv, out) == 2
    assert time.monotonic() - started < 60  # a FIFO is never waited on
    one_error(capsys, name, {"symlink": "symbolic link", "directory": "directory",
                             "fifo": "FIFO"}[kind])
    assert victim.read_text() == "precious\n"  # nothing written through the link
    assert all(plot.exists() for plot in plots)  # nothing of the previous run removed


def test_a_bad_manifest_entry_is_ignored_with_a_note_and_the_run_goes_on(previous, csv, capsys):
    out, _ = previous
    manifest = out / MANIFEST_NAME
    document = json.loads(manifest.read_text())
    document["files"][1:1] = ["a\x00b.png", "x" * 300 + ".png"]
    manifest.write_text(json.dumps(document))
    assert train(csv, out) == 0
    err = capsys.readouterr().err
    assert "ignored 2 entries" in err and "Traceback" not in err
    assert not (out / LOCK_NAME).exists()
    assert MANIFEST_NAME in {p.name for p in out.iterdir()}


def test_a_full_disk_on_the_lock_write_is_one_line_and_leaves_no_lock(
    tmp_path, csv, capsys, monkeypatch
):
    def full(fd, data, offset):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "pwrite", full)
    assert train(csv, tmp_path / "runs") == 2
    one_error(capsys, "cannot write the lock file", "No space left on device")
    assert not os.path.lexists(tmp_path / "runs" / LOCK_NAME)


# --------------------------------------------------------------------------- item 4: check first


@pytest.mark.parametrize("huge, column", [("1e308", 0), ("-1e308", 1), ("1.7e308", 2),
                                          ("1e200", 0)])
def test_finite_huge_values_are_an_error_naming_column_and_value_before_any_removal(
    tmp_path, previous, capsys, huge, column
):
    out, plots = previous
    bad = write_csv(tmp_path / "huge.csv", huge=huge, column=column)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a NumPy overflow is a RuntimeWarning
        assert train(bad, out) == 2
    err = one_error(capsys, f"column {'aby'[column]!r}", "line 6", "too large")
    assert f"{float(huge):g}" in err
    assert "NaN or infinity" not in err
    assert all(plot.exists() for plot in plots)


# --------------------------------------------------------------------------- item 8: own input


@pytest.mark.parametrize("how", ["same", "link", "dotted"])
def test_save_pointing_at_the_input_csv_is_refused(tmp_path, csv, capsys, how):
    target = {"same": csv, "link": tmp_path / "link.csv", "dotted": tmp_path / "." / csv.name}[how]
    if how == "link":
        target.symlink_to(csv)
    before = csv.read_bytes()
    assert train(csv, tmp_path / "runs", "--save", str(target)) == 2
    one_error(capsys, "--save", "is the input CSV")
    assert csv.read_bytes() == before
    assert not (tmp_path / "runs").exists()  # refused before the folder was made


def test_out_pointing_at_the_input_csv_is_refused(tmp_path, csv, capsys):
    before = csv.read_bytes()
    assert train(csv, csv) == 2
    one_error(capsys, "--out", "is the input CSV")
    assert csv.read_bytes() == before


# --------------------------------------------------------------------------- item 10: odd paths


def test_dev_zero_and_a_fifo_as_the_csv_are_one_line(tmp_path, capsys):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    for path, kind in (("/dev/zero", "character device"), (fifo, "FIFO")):
        assert train(path, tmp_path / "runs") == 2
        one_error(capsys, kind, "not a CSV file")
        assert main(["predict", str(tmp_path / "m.json"), str(path)]) == 2
        capsys.readouterr()


@pytest.mark.parametrize(
    "flag, path",
    [(flag, path) for flag in ("--save", "--out") for path in ("/dev/null", "fifo", "long")]
    + [("--save", "long-name")],  # a name that fits, but not with the temp file's suffix
)
def test_odd_or_over_long_output_paths_are_one_line(tmp_path, csv, capsys, flag, path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    path = {"/dev/null": "/dev/null", "fifo": str(fifo),
            "long": str(tmp_path / ("d" * 300) / "m.json"),
            "long-name": str(tmp_path / ("d" * 250))}[path]
    if flag == "--save":
        status = train(csv, tmp_path / "runs", "--save", path)
    else:
        status = train(csv, path)
    assert status == 2
    one_error(capsys, flag)
    assert os.path.exists("/dev/null") and fifo.exists()


def test_predict_refuses_a_fifo_or_device_as_the_model_file(tmp_path, csv, capsys):
    fifo = tmp_path / "model.json"
    os.mkfifo(fifo)
    for path in (fifo, "/dev/zero"):
        assert main(["predict", str(path), str(csv)]) == 2
        one_error(capsys, "not a model file")


# --------------------------------------------------------------------------- item 9: frames


def test_a_run_of_too_many_frames_is_refused_up_front_with_a_plot_every_that_fits(
    tmp_path, csv, capsys
):
    started = time.monotonic()
    assert main(["train", str(csv), "--target", "y", "--out", str(tmp_path / "runs"),
                 "--epochs", "1000000", "--plot-every", "1"]) == 2
    err = one_error(capsys, "1,000,000 numbered plot files", f"at most {MAX_FRAMES:,}")
    every = int(err.split("--plot-every ")[-1].split(" ")[0])
    assert every == 100  # one numbered plot (the surface) of 1,000,000 epochs: 10,000 frames
    assert time.monotonic() - started < 30
    assert not (tmp_path / "runs").exists()


def test_planning_a_long_run_is_quick(tmp_path):
    from gdplot.cli.runs import make_plots, planned_paths

    with ThreadPoolExecutor(1) as pool:  # never started: nothing is submitted
        plots = make_plots(["surface"], out=tmp_path, every=100, executor=pool)
        started = time.monotonic()
        paths = planned_paths(plots, 1_000_000)
    # The live plot's one file, and the surface's 10,000 frames: not a path per epoch.
    assert len(paths) == 1 + 10_000
    assert time.monotonic() - started < 5
