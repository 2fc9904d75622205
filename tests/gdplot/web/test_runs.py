"""Finding runs under a folder, and what the page shows of each."""

from __future__ import annotations

import os
from pathlib import Path

from gdplot.data.run_folder import LOCK_NAME, RunFolder
from gdplot.web.runs import MAX_DEPTH, RunScanner
from serve_helpers import png, write_run


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
