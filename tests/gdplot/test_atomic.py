"""Atomic writes: the target is replaced whole or left as it was, and no temp file remains."""

from __future__ import annotations

import os

import pytest

from gdplot.atomic import atomic_writer, write_bytes_atomic


def test_a_write_replaces_the_file_whole(tmp_path):
    path = tmp_path / "frame.png"
    path.write_bytes(b"old")
    assert write_bytes_atomic(path, b"new frame") == path
    assert path.read_bytes() == b"new frame"
    assert [p.name for p in tmp_path.iterdir()] == ["frame.png"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    path = tmp_path / "frame.png"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="disk full"):
        with atomic_writer(path) as file:
            file.write(b"half a frame")
            raise RuntimeError("disk full")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["frame.png"]


def test_a_new_file_gets_the_usual_permissions(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    path = write_bytes_atomic(tmp_path / "new.bin", b"x")
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_missing_folder_raises_and_creates_nothing(tmp_path):
    with pytest.raises(FileNotFoundError):
        write_bytes_atomic(tmp_path / "missing" / "x.png", b"x")
    assert list(tmp_path.iterdir()) == []
