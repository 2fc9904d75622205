"""Finding runs under a folder, and the run-status file they write."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from gdplot.run_folder import LOCK_NAME, RunFolder
from gdplot.run_status import (
    HISTORY_POINTS,
    STATUS_NAME,
    read_run_status,
    run_status_document,
    write_run_status,
)
from gdplot.web.runs import MAX_DEPTH, RunScanner
from serve_helpers import png, write_run

# -- the status file ---------------------------------------------------------------------------


def test_status_round_trip(tmp_path):
    history = np.linspace(1.0, 0.5, 7)
    write_run_status(tmp_path, {
        "model": "mlp", "label": "sin", "settings": {"lr": 0.01, "batch_size": 32, "hidden": 8},
        "epoch": 7, "epochs": 20, "state": "running", "initial_loss": 1.5,
    }, history)
    status = read_run_status(tmp_path)
    assert status["model"] == "mlp" and status["label"] == "sin"
    assert status["settings"] == {"lr": 0.01, "batch_size": 32, "hidden": 8}
    assert (status["epoch"], status["epochs"], status["state"]) == (7, 20, "running")
    assert status["loss"] == 0.5 and status["initial_loss"] == 1.5
    assert status["history"]["epoch"] == list(range(1, 8))
    assert status["history"]["loss"] == pytest.approx(history.tolist())
    assert status["pid"] == os.getpid()


def test_status_history_is_thinned_but_keeps_both_ends():
    history = np.arange(10_000, 0, -1, dtype=float)
    document = run_status_document({"state": "running"}, history)
    epochs, losses = document["history"]["epoch"], document["history"]["loss"]
    assert len(epochs) <= HISTORY_POINTS
    assert epochs[0] == 1 and epochs[-1] == 10_000 and epochs == sorted(set(epochs))
    assert losses[0] == 10_000 and losses[-1] == 1
    assert document["epoch"] == 10_000 and document["loss"] == 1


def test_status_without_nan(tmp_path):
    """A diverged run's NaN and inf losses are written as null, so JSON readers accept it."""
    path = write_run_status(tmp_path, {"state": "failed", "message": "diverged",
                                       "settings": {"lr": float("inf")}},
                            [1.0, float("inf"), float("nan")])
    document = json.loads(path.read_text(), parse_constant=pytest.fail)
    assert document["history"]["loss"] == [1.0, None, None]
    assert document["loss"] is None and document["settings"]["lr"] is None
    assert read_run_status(path)["message"] == "diverged"


def test_status_rejects_unknown_state():
    with pytest.raises(ValueError, match="state must be one of"):
        run_status_document({"state": "paused"})


@pytest.mark.parametrize("content", [
    b"", b"{", b"[]", b'{"format": "something-else"}', b"\xff\xfe",
    b'{"format": "gdplot-run-status", "epoch": "7", "state": "exploded", "history": 3}',
])
def test_reading_a_bad_status_file_never_raises(tmp_path, content):
    (tmp_path / STATUS_NAME).write_bytes(content)
    status = read_run_status(tmp_path)
    if status is not None:  # ours, but with fields of the wrong type: cleaned
        assert status["epoch"] == 0 and status["state"] == "running"
        assert status["history"] == {"epoch": [], "loss": []}


def test_reading_a_missing_status_file(tmp_path):
    assert read_run_status(tmp_path) is None


# -- finding runs ----------------------------------------------------------------------------------


def names(state: dict) -> list[str]:
    return [run["name"] for run in state["runs"]]


def test_finds_dir_itself_and_folders_below(tmp_path):
    write_run(tmp_path, {"loss.png": png((1, 1, 1))})
    write_run(tmp_path / "lr-0.1", {"loss.png": png((1, 1, 1))})
    write_run(tmp_path / "sweep" / "lr-0.01", {"loss.png": png((1, 1, 1))})
    (tmp_path / "not-a-run").mkdir()
    (tmp_path / "not-a-run" / "loss.png").write_bytes(png((1, 1, 1)))
    assert names(RunScanner(tmp_path).scan()) == [tmp_path.name, "lr-0.1", "sweep/lr-0.01"]


def test_skips_hidden_linked_and_deep_folders(tmp_path):
    root = tmp_path / "runs"
    write_run(root / ".hidden", {"loss.png": png((1, 1, 1))})
    write_run(tmp_path / "outside", {"loss.png": png((1, 1, 1))})
    root.mkdir(exist_ok=True)
    os.symlink(tmp_path / "outside", root / "linked")
    deep = root.joinpath(*[f"d{i}" for i in range(MAX_DEPTH + 1)])
    write_run(deep, {"loss.png": png((1, 1, 1))})
    write_run(deep.parent, {"loss.png": png((1, 1, 1))})
    assert names(RunScanner(root).scan()) == ["/".join(deep.parent.relative_to(root).parts)]


def test_newest_frame_of_each_kind_and_prefixes_as_runs(tmp_path):
    """gdplot demo's folder: runs told apart by prefix; a comparison chart as an extra."""
    write_run(tmp_path, {
        "linear-batch_loss.png": png((1, 1, 1)),
        "linear-batch_fit_epoch0015.png": png((1, 1, 1)),
        "linear-batch_fit_epoch0060.png": png((1, 1, 1)),
        "linear-batch_surface.gif": b"GIF89a",
        "mlp_fit_epoch0075.png": png((1, 1, 1)),
        "linear-batch-vs-minibatch.png": png((1, 1, 1)),
    })
    runs = RunScanner(tmp_path).scan()["runs"]
    by_prefix = {run["prefix"]: run for run in runs}
    assert sorted(by_prefix) == ["linear-batch_", "mlp_"]
    batch = by_prefix["linear-batch_"]
    assert sorted(batch["plots"]) == ["fit", "gif", "loss"]
    assert batch["plots"]["fit"]["epoch"] == 60 and batch["plots"]["loss"]["epoch"] is None
    assert batch["name"] == "linear-batch"
    # The unprefixed status file speaks for no single one of several runs.
    assert batch["status"] is None
    assert [extra["name"] for run in runs for extra in run["extras"]] == [
        "linear-batch-vs-minibatch.png"]


def test_planned_frames_not_written_yet_are_not_offered(tmp_path):
    folder = RunFolder(tmp_path)
    planned = [tmp_path / f"fit_epoch{e:04d}.png" for e in (2, 4, 6)]
    folder.start(planned)
    planned[0].write_bytes(png((1, 1, 1)))
    scanner = RunScanner(tmp_path)
    run = scanner.scan()["runs"][0]
    assert run["plots"]["fit"]["epoch"] == 2
    assert sorted(url.rsplit("/", 1)[1] for url in scanner.files) == ["fit_epoch0002.png"]
    planned[1].write_bytes(png((1, 1, 1)))
    assert scanner.scan()["runs"][0]["plots"]["fit"]["epoch"] == 4


def test_a_running_run_whose_lock_is_gone_was_stopped(tmp_path):
    write_run(tmp_path, {"loss.png": png((1, 1, 1))}, state="running")
    assert RunScanner(tmp_path).scan()["runs"][0]["state"] == "stopped"
    with RunFolder(tmp_path):
        assert (tmp_path / LOCK_NAME).exists()
        assert RunScanner(tmp_path).scan()["runs"][0]["state"] == "running"


def test_a_vanished_run_goes(tmp_path):
    write_run(tmp_path / "a", {"loss.png": png((1, 1, 1))})
    write_run(tmp_path / "b", {"loss.png": png((1, 1, 1))})
    scanner = RunScanner(tmp_path)
    assert names(scanner.scan()) == ["a", "b"]
    for path in sorted((tmp_path / "a").iterdir()):
        path.unlink()
    (tmp_path / "a").rmdir()
    assert names(scanner.scan()) == ["b"]
    assert not any(url.startswith("/files/a/") for url in scanner.files)


def test_a_run_folder_replaced_by_a_link_goes(tmp_path):
    root = tmp_path / "runs"
    write_run(root / "a", {"loss.png": png((1, 1, 1))})
    write_run(tmp_path / "outside", {"loss.png": png((1, 1, 1))})
    scanner = RunScanner(root)
    assert names(scanner.scan()) == ["a"]
    (root / "a").rename(tmp_path / "moved")
    os.symlink(tmp_path / "outside", root / "a")
    assert names(scanner.scan()) == []
    assert scanner.files == {}


def test_steady_scans_reuse_what_did_not_change(tmp_path):
    """A long run lists thousands of frames: once seen, a scan of an unchanged folder neither
    lists it nor parses its names again."""
    folder = tmp_path / "run"
    folder.mkdir()
    frames = [folder / f"fit_epoch{e:05d}.png" for e in range(1, 501)]
    for frame in frames:
        frame.write_bytes(b"x")
    RunFolder(folder).finish(frames)
    scanner = RunScanner(tmp_path)
    scanner.scan()
    index = scanner._folders[("run",)].index
    for listing in scanner._listings.values():  # as if the folder was last changed long ago
        listing.changed_at -= 60
    scanner._folders[("run",)].listed_at -= 60
    state = scanner.scan()
    assert scanner._folders[("run",)].index is index
    assert state["runs"][0]["plots"]["fit"]["epoch"] == 500
    frames[-1].unlink()
    assert scanner.scan()["runs"][0]["plots"]["fit"]["epoch"] == 499
    assert scanner._folders[("run",)].index is not index
