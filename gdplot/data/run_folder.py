"""The ``--out`` folder of a ``gdplot`` command: one run at a time, and only its own plots.

Two small files in the folder make that so:

- ``.gdplot.lock`` holds the process id of the run using the folder. It is created with
  ``O_CREAT | O_EXCL`` (so one of two runs starting together wins) and removed when the run
  ends. A lock left by a run that died (its process is gone) is taken over. Where ``fcntl``
  exists the holder also keeps an ``flock`` on it, so a dead holder is recognised even if its
  pid has been reused by another process.
- ``.gdplot-manifest.json`` lists, by name, the files the last run wrote, written atomically.
  A new run removes those files (and only those: a file gdplot did not write is never
  touched), then lists what it may write before it starts, and what it did write at the end.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import time
from collections.abc import Iterable
from pathlib import Path

from gdplot.atomic import write_bytes_atomic

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows: the pid alone decides
    fcntl = None  # type: ignore[assignment]

__all__ = ["FolderInUse", "LOCK_NAME", "MANIFEST_NAME", "RunFolder"]

LOCK_NAME = ".gdplot.lock"
MANIFEST_NAME = ".gdplot-manifest.json"
_MANIFEST_FORMAT = "gdplot-run-files"
#: A lock file still empty after this many seconds was left by a run that died creating it.
_EMPTY_LOCK_GRACE = 10.0


class FolderInUse(RuntimeError):
    """Another live gdplot run holds the folder's lock."""

    def __init__(self, folder: Path, pid: int | None) -> None:
        holder = f"pid {pid}" if pid is not None else "a process starting up"
        super().__init__(
            f"--out {str(folder)!r} is in use by another gdplot run ({holder}); "
            "wait for it to finish or choose another folder"
        )
        self.pid = pid


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    except OSError:
        return False
    return True


def _read_pid(fd: int) -> int | None:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 64).decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else None


class RunFolder:
    """Hold ``folder`` for one run: ``acquire()`` (or ``with``), ``start(planned)``,
    ``finish(written)``, ``release()``."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.lock_path = self.folder / LOCK_NAME
        self.manifest_path = self.folder / MANIFEST_NAME
        self._fd: int | None = None

    # -- the lock ------------------------------------------------------------------------

    def acquire(self) -> RunFolder:
        """Take the folder's lock, or raise :class:`FolderInUse`. The folder must exist."""
        for _ in range(5):  # a lock that vanishes under us is retried
            try:
                fd = os.open(self.lock_path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o644)
            except FileExistsError:
                if self._take_over_stale():
                    return self
                continue
            self._hold(fd)
            return self
        raise FolderInUse(self.folder, None)

    def _hold(self, fd: int) -> None:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)  # a new file: nobody else can hold it yet
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        self._fd = fd

    def _take_over_stale(self) -> bool:
        """Take an existing lock whose holder is dead; raise ``FolderInUse`` if it lives;
        ``False`` if the lock file disappeared meanwhile (try creating it again)."""
        try:
            fd = os.open(self.lock_path, os.O_RDWR)
        except FileNotFoundError:
            return False
        try:
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError as exc:
                    if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                        raise FolderInUse(self.folder, _read_pid(fd)) from None
                    raise
                # Locked the file at the path, not one unlinked by its holder meanwhile?
                try:
                    same = os.path.samestat(os.fstat(fd), os.stat(self.lock_path))
                except FileNotFoundError:
                    same = False
                if not same:
                    os.close(fd)
                    return False
            pid = _read_pid(fd)
            if pid is None:
                # A run between creating the file and writing its pid, unless it died there.
                age = time.time() - os.fstat(fd).st_mtime
                if age < _EMPTY_LOCK_GRACE:
                    raise FolderInUse(self.folder, None)
            elif fcntl is None and pid != os.getpid() and _pid_alive(pid):
                raise FolderInUse(self.folder, pid)
            # With fcntl, a free flock is enough: a live holder holds it from creation on, so
            # a pid that looks alive here was reused by some other process.
        except BaseException:
            with contextlib.suppress(OSError):
                os.close(fd)
            raise
        self._hold(fd)
        return True

    def release(self) -> None:
        """Remove the lock (if held). Safe to call twice."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.lock_path)
        os.close(fd)  # after the unlink: a waiting run then sees no file, or a fresh one

    def __enter__(self) -> RunFolder:
        return self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    # -- the manifest ----------------------------------------------------------------------

    def previous_files(self) -> list[str]:
        """The names the manifest lists (none if it is missing or unreadable)."""
        try:
            document = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        if not isinstance(document, dict) or document.get("format") != _MANIFEST_FORMAT:
            return []
        files = document.get("files")
        return [name for name in files if _plain_name(name)] if isinstance(files, list) else []

    def start(self, planned: Iterable[str | os.PathLike[str]]) -> int:
        """Remove the previous run's files, then list ``planned`` (the files this run may
        write, a superset) so that a run killed midway is cleaned up by the next one.
        Returns how many files were removed that this run will not write again.

        Raises ``FileExistsError``, before removing anything, if a planned file exists that
        the manifest does not list: a file of the user's that the run would overwrite."""
        planned = list(planned)
        again = set(self._names(planned))
        previous = set(self.previous_files())
        theirs = sorted(n for n in again - previous if (self.folder / n).exists())
        if theirs:
            shown = ", ".join(theirs[:5]) + (f", ... ({len(theirs)} in all)" if len(theirs) > 5
                                             else "")
            raise FileExistsError(
                f"--out {str(self.folder)!r} holds files that gdplot did not write and this run "
                f"would overwrite: {shown}; move them or choose another folder"
            )
        removed = 0
        for name in self.previous_files():
            with contextlib.suppress(FileNotFoundError, IsADirectoryError, PermissionError):
                (self.folder / name).unlink()
                removed += name not in again
        self._write_manifest(planned)
        return removed

    def finish(self, written: Iterable[str | os.PathLike[str]]) -> list[Path]:
        """List exactly the files of ``written`` that exist; returns them, sorted."""
        present = [
            self.folder / name for name in self._names(written) if (self.folder / name).is_file()
        ]
        self._write_manifest(present)
        return present

    def _names(self, paths: Iterable[str | os.PathLike[str]]) -> list[str]:
        names = set()
        for path in paths:
            path = Path(path)
            if path.parent.resolve() != self.folder.resolve():
                raise ValueError(f"{str(path)!r} is not in the run folder {str(self.folder)!r}")
            names.add(path.name)
        return sorted(names)

    def _write_manifest(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        document = {"format": _MANIFEST_FORMAT, "version": 1, "files": self._names(paths)}
        write_bytes_atomic(self.manifest_path, (json.dumps(document, indent=1) + "\n").encode())


def _plain_name(name: object) -> bool:
    """A file name in the folder itself: no separators, not ``.``/``..``, not our own files."""
    return (
        isinstance(name, str)
        and name not in ("", ".", "..", LOCK_NAME, MANIFEST_NAME)
        and "/" not in name
        and os.sep not in name
        and (os.altsep is None or os.altsep not in name)
    )
