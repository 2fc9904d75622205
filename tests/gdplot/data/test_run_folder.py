"""The output folder of a run: one run at a time, and only gdplot's own files are removed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gdplot.data.run_folder import LOCK_NAME, MANIFEST_NAME, FolderInUse, RunFolder

REPO_ROOT = Path(__file__).resolve().parents[3]


def test_the_lock_holds_the_pid_and_is_removed_on_release(tmp_path):
    with RunFolder(tmp_path) as folder:
        assert (tmp_path / LOCK_NAME).read_text() == f"{os.getpid()}\n"
        with pytest.raises(FolderInUse, match=rf"in use by another gdplot run \(pid {os.getpid()}"):
            RunFolder(tmp_path).acquire()
    assert not (tmp_path / LOCK_NAME).exists()
    folder.release()  # twice is harmless
    RunFolder(tmp_path).acquire().release()


def test_a_lock_left_by_a_dead_process_is_taken_over(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    (tmp_path / LOCK_NAME).write_text(dead.stdout)
    with RunFolder(tmp_path):
        assert (tmp_path / LOCK_NAME).read_text() == f"{os.getpid()}\n"


def test_an_empty_lock_is_a_run_starting_up_until_it_is_old(tmp_path):
    lock = tmp_path / LOCK_NAME
    lock.write_text("")
    with pytest.raises(FolderInUse, match="a process starting up"):
        RunFolder(tmp_path).acquire()
    old = time.time() - 60
    os.utime(lock, (old, old))
    RunFolder(tmp_path).acquire().release()


HOLD = """
import sys, time
from gdplot.data.run_folder import RunFolder
RunFolder(sys.argv[1]).acquire()
print("held", flush=True)
time.sleep(60)
"""


def test_a_live_holder_in_another_process_refuses_then_its_death_frees_the_folder(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE,
                              text=True, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(FolderInUse, match=rf"\(pid {holder.pid}\)"):
            RunFolder(tmp_path).acquire()
    finally:
        holder.kill()  # SIGKILL: no chance to remove its lock
        holder.wait()
        holder.stdout.close()
    assert (tmp_path / LOCK_NAME).exists()
    RunFolder(tmp_path).acquire().release()


def test_a_run_removes_only_what_the_last_run_wrote(tmp_path):
    (tmp_path / "mine.png").write_bytes(b"the user's")
    folder = RunFolder(tmp_path)
    assert folder.start([tmp_path / "a.png", tmp_path / "b.png"]) == 0
    (tmp_path / "a.png").write_bytes(b"a")
    assert folder.finish([tmp_path / "a.png", tmp_path / "b.png"]) == [tmp_path / "a.png"]
    manifest = json.loads((tmp_path / MANIFEST_NAME).read_text())
    assert manifest == {"format": "gdplot-run-files", "version": 1, "files": ["a.png"]}
    # The next run plans c.png only: a.png goes, the user's file stays.
    assert folder.start([tmp_path / "c.png"]) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [MANIFEST_NAME, "mine.png"]


def test_a_run_killed_midway_is_cleaned_up_by_the_next(tmp_path):
    folder = RunFolder(tmp_path)
    folder.start([tmp_path / f"frame{i}.png" for i in range(5)])
    for i in range(3):  # then killed: finish() never runs
        (tmp_path / f"frame{i}.png").write_bytes(b"x")
    assert folder.start([tmp_path / "loss.png"]) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == [MANIFEST_NAME]


def test_a_users_file_in_the_way_is_refused_before_anything_is_removed(tmp_path):
    folder = RunFolder(tmp_path)
    folder.start([tmp_path / "old.png"])
    (tmp_path / "old.png").write_bytes(b"gdplot's")
    folder.finish([tmp_path / "old.png"])
    (tmp_path / "loss.png").write_bytes(b"the user's")
    with pytest.raises(FileExistsError, match="did not write and this run would overwrite: "
                                              "loss.png"):
        folder.start([tmp_path / "loss.png"])
    assert (tmp_path / "old.png").exists() and (tmp_path / "loss.png").read_bytes() == b"the user's"


@pytest.mark.parametrize(
    "files", [["../escape.png"], ["/etc/passwd"], [".."], [LOCK_NAME], [MANIFEST_NAME], [3]]
)
def test_a_manifest_never_reaches_outside_the_folder_or_gdplots_own_files(tmp_path, files):
    inner = tmp_path / "out"
    inner.mkdir()
    (tmp_path / "escape.png").write_bytes(b"keep")
    (inner / MANIFEST_NAME).write_text(json.dumps({"format": "gdplot-run-files", "files": files}))
    folder = RunFolder(inner)
    with folder:
        assert folder.previous_files() == []
        folder.start([])
    assert (tmp_path / "escape.png").exists()


def test_a_corrupt_manifest_lists_nothing(tmp_path):
    (tmp_path / MANIFEST_NAME).write_text("{not json")
    (tmp_path / "a.png").write_bytes(b"x")
    assert RunFolder(tmp_path).start([]) == 0
    assert (tmp_path / "a.png").exists()


def test_paths_outside_the_folder_are_refused(tmp_path):
    with pytest.raises(ValueError, match="is not in the run folder"):
        RunFolder(tmp_path / "out").start([tmp_path / "elsewhere.png"])
