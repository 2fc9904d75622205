"""Hostile files in a run folder and in the input: links, directories, FIFOs, bad manifest
entries, a full disk, numbers too large to standardise. Each is refused in one clear error
before anything is removed, or ignored with a count; nothing is ever written through a link."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest

from gdplot.data.preprocessing import standardize
from gdplot.data.run_folder import (
    LOCK_NAME,
    MANIFEST_NAME,
    RunFolder,
    RunFolderError,
    UnsafeRunFile,
)

pytestmark = pytest.mark.skipif(os.name != "posix", reason="links and FIFOs as POSIX has them")


def previous_run(folder: Path, count: int = 3) -> list[Path]:
    """A finished run's files in ``folder``, listed in its manifest."""
    files = [folder / f"loss_epoch{i:04d}.png" for i in range(1, count + 1)]
    with RunFolder(folder) as run:
        run.start(files)
        for path in files:
            path.write_bytes(b"png")
        run.finish(files)
    return files


def make_odd_file(path: Path, kind: str, target: Path) -> None:
    if kind == "symlink":
        path.symlink_to(target)
    elif kind == "dangling symlink":
        path.symlink_to(target.parent / "nowhere")
    elif kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)


ODD_KINDS = ["symlink", "dangling symlink", "directory", "fifo"]
WORDS = {"symlink": "symbolic link", "dangling symlink": "symbolic link",
         "directory": "directory", "fifo": "FIFO"}


@pytest.mark.parametrize("kind", ODD_KINDS)
@pytest.mark.parametrize("name", [LOCK_NAME, MANIFEST_NAME])
def test_a_lock_or_manifest_that_is_not_a_regular_file_is_refused_and_never_written_through(
    tmp_path, name, kind
):
    folder = tmp_path / "runs"
    folder.mkdir()
    files = previous_run(folder) if name == LOCK_NAME else []
    victim = tmp_path / "victim"
    victim.write_text("the user's own file\n")
    os.utime(victim, (0, 0))  # old: a take-over of an "empty, stale" lock would reach it
    if name == MANIFEST_NAME:
        victim.write_text(json.dumps({"format": "gdplot-run-files", "version": 1,
                                      "files": ["keep.png"]}))
        (folder / "keep.png").write_bytes(b"not gdplot's")
    (folder / name).unlink(missing_ok=True)
    make_odd_file(folder / name, kind, victim)

    with pytest.raises(UnsafeRunFile, match=rf"{name} is a {WORDS[kind]}") as caught:
        RunFolder(folder).acquire()
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, RunFolderError)
    # Nothing written through the link, nothing removed, the odd file left as it was.
    assert victim.read_text().startswith(("the user's own file", "{"))
    assert all(path.exists() for path in files)
    assert (folder / "keep.png").exists() or name == LOCK_NAME
    assert os.path.lexists(folder / name)
    if name == LOCK_NAME and kind != "directory":
        # The lock at a link's name is never created either.
        assert not (folder.parent / "nowhere").exists()


@pytest.mark.parametrize("kind", ODD_KINDS)
def test_a_manifest_turned_odd_after_the_lock_is_taken_is_refused_before_any_removal(
    tmp_path, kind
):
    files = previous_run(tmp_path)
    victim = tmp_path.parent / f"{tmp_path.name}-victim.json"
    victim.write_text(json.dumps({"format": "gdplot-run-files", "version": 1,
                                  "files": [p.name for p in files]}))
    with RunFolder(tmp_path) as run:
        (tmp_path / MANIFEST_NAME).unlink()
        make_odd_file(tmp_path / MANIFEST_NAME, kind, victim)
        with pytest.raises(UnsafeRunFile, match=MANIFEST_NAME):
            run.start([tmp_path / "loss.png"])
    assert all(path.exists() for path in files)


def test_a_fifo_manifest_never_blocks(tmp_path):
    os.mkfifo(tmp_path / MANIFEST_NAME)
    # The read opens without blocking (O_NONBLOCK) and refuses on fstat; a blocking open
    # of a FIFO with no writer would hang the test until its timeout.
    with pytest.raises(UnsafeRunFile, match="FIFO"):
        RunFolder(tmp_path).previous_files()


@pytest.mark.parametrize(
    "bad",
    ["a\x00b.png", "x" * 300 + ".png", "", "../outside.png", 7, None],
    ids=["nul", "300 chars", "empty", "outside", "int", "null"],
)
def test_bad_manifest_entries_are_ignored_and_counted_and_the_rest_removed(tmp_path, bad):
    files = previous_run(tmp_path)
    manifest = tmp_path / MANIFEST_NAME
    document = json.loads(manifest.read_text())
    document["files"].insert(1, bad)  # between good entries: they are removed all the same
    manifest.write_text(json.dumps(document))
    with RunFolder(tmp_path) as run:
        removed = run.start([tmp_path / "loss.png"])
        assert run.ignored_entries == 1
    assert removed == len(files)
    assert not any(path.exists() for path in files)


def test_the_lock_write_failing_on_a_full_disk_leaves_no_lock(tmp_path, monkeypatch):
    def full(fd, data, offset):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "pwrite", full)
    with pytest.raises(RunFolderError, match=rf"cannot write the lock file {LOCK_NAME}: No space"):
        RunFolder(tmp_path).acquire()
    assert not os.path.lexists(tmp_path / LOCK_NAME)
    monkeypatch.undo()
    RunFolder(tmp_path).acquire().release()  # the next run is not refused


def test_a_stale_lock_whose_take_over_fails_to_write_is_removed(tmp_path, monkeypatch):
    lock = tmp_path / LOCK_NAME
    lock.write_text("")
    os.utime(lock, (0, 0))  # empty and old: left by a run that died creating it

    def full(fd, data, offset):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "pwrite", full)
    with pytest.raises(RunFolderError, match="No space"):
        RunFolder(tmp_path).acquire()
    assert not os.path.lexists(lock)


@pytest.fixture
def full_disk(tmp_path):
    """A folder on a tmpfs of 64 KiB, filled up; skipped where mounting is not allowed."""
    mount = tmp_path / "full"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
                            capture_output=True, check=False)
    if result.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        fd = os.open(mount / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
        finally:
            os.close(fd)
        (mount / "runs").mkdir()
        yield mount / "runs"
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_real_full_disk_leaves_no_lock(full_disk):
    with pytest.raises(RunFolderError, match="No space left on device"):
        RunFolder(full_disk).acquire()
    assert not os.path.lexists(full_disk / LOCK_NAME)


@pytest.mark.parametrize("value", [1e308, -1e308, 1.7976931348623157e308, 1e200, 1e-300])
def test_standardize_handles_any_finite_values_without_warnings(value):
    X = np.array([[value, 1.0], [-value, 2.0], [value / 2, 3.0], [0.0, 4.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow is a RuntimeWarning
        scaled, mean, scale = standardize(X)
    assert np.isfinite(scaled).all() and np.isfinite(mean).all() and np.isfinite(scale).all()
    assert (scale > 0).all()
    np.testing.assert_allclose(scaled.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(scaled.std(axis=0), 1, rtol=1e-12)
    # The scaling maps back: X = scaled * scale + mean, to float64 precision (compared in
    # units of the largest value, where nothing overflows).
    unit = np.array([abs(value), 1.0])
    np.testing.assert_allclose(scaled * (scale / unit) + mean / unit, X / unit, atol=1e-14)


def test_a_lock_hard_linked_to_another_file_is_refused_and_never_written(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("")  # empty and old: a stale lock by its look
    os.utime(victim, (0, 0))
    folder = tmp_path / "runs"
    folder.mkdir()
    os.link(victim, folder / LOCK_NAME)
    with pytest.raises(UnsafeRunFile, match=f"{LOCK_NAME} is a hard link to another file"):
        RunFolder(folder).acquire()
    assert victim.read_text() == ""
