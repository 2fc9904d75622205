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
  An entry that cannot name a file of the folder (a path, a NUL byte, a name too long) is
  ignored and counted in ``ignored_entries``.

Both must be regular files. Each is opened with ``O_NOFOLLOW`` and checked with ``fstat``: a
symbolic link, directory, FIFO or device at either name (or a lock hard-linked to another
file) is refused with :class:`UnsafeRunFile` before anything in the folder is removed, and
nothing is ever written through a link. A lock whose pid cannot be written (a full disk) is
removed again.
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
from gdplot.data.file_kinds import (
    NotARegularFile,
    open_regular,
    path_kind,
    read_at_most,
)

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows: the pid alone decides
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "LOCK_NAME", "MANIFEST_NAME", "FolderInUse", "RunFolder", "RunFolderError", "UnsafeRunFile",
]

LOCK_NAME = ".gdplot.lock"
MANIFEST_NAME = ".gdplot-manifest.json"
_MANIFEST_FORMAT = "gdplot-run-files"
#: A lock file still empty after this many seconds was left by a run that died creating it.
_EMPTY_LOCK_GRACE = 10.0
#: A manifest larger than this was not written by gdplot (a run's list of names is far smaller).
_MAX_MANIFEST_BYTES = 32 * 2**20


class RunFolderError(RuntimeError):
    """The run folder cannot be used; the message names the folder and why."""


class UnsafeRunFile(RunFolderError):
    """The lock or the manifest is not a regular file (a link, a directory, a FIFO, ...)."""

    def __init__(self, path: Path, what: str) -> None:
        super().__init__(
            f"--out {str(path.parent)!r}: {path.name} is {what}, not a regular file, and "
            "gdplot neither follows nor writes to it: remove it if no gdplot run is using the "
            "folder"
        )
        self.path = path


def _open_regular(path: Path, flags: int, mode: int = 0o644) -> int:
    """:func:`open_regular` never through a link; :class:`UnsafeRunFile` for anything but a
    regular file. ``FileNotFoundError`` if nothing is there (``FileExistsError`` for
    ``O_EXCL`` if anything is, a link included)."""
    try:
        return open_regular(path, flags, follow_links=False, mode=mode)
    except NotARegularFile as exc:
        raise UnsafeRunFile(path, exc.kind) from None


def _check_regular_or_missing(path: Path) -> None:
    """Refuse ``path`` if it exists and is not a regular file (``lstat``: a link counts)."""
    kind = path_kind(path, follow_links=False)
    if kind not in (None, "a regular file"):
        raise UnsafeRunFile(path, kind)


class FolderInUse(RunFolderError):
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
        #: Manifest entries that cannot name a file of the folder, ignored by the last read.
        self.ignored_entries = 0

    # -- the lock ------------------------------------------------------------------------

    def acquire(self) -> RunFolder:
        """Take the folder's lock, or raise :class:`FolderInUse`. The folder must exist.

        Raises :class:`UnsafeRunFile` if the lock or the manifest is not a regular file, and
        :class:`RunFolderError` if the lock cannot be written (it is then removed again)."""
        _check_regular_or_missing(self.manifest_path)
        for _ in range(5):  # a lock that vanishes under us is retried
            try:
                # O_EXCL never follows a link: a link at the name is "exists".
                fd = _open_regular(self.lock_path, os.O_CREAT | os.O_EXCL | os.O_RDWR)
            except FileExistsError:
                if self._take_over_stale():
                    return self
                continue
            self._hold(fd)
            return self
        raise FolderInUse(self.folder, None)

    def _hold(self, fd: int) -> None:
        """Write this process's pid into the lock ``fd`` (new, or stale and flocked by us).
        If that fails (a full disk), the lock file is removed: a lock without a pid would
        refuse other runs for a while."""
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)  # a new file or a stale one we flocked already
            pid = f"{os.getpid()}\n".encode("ascii")
            # Written before truncating: a failed write leaves the old pid, never an empty lock.
            if os.pwrite(fd, pid, 0) != len(pid):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            os.ftruncate(fd, len(pid))
        except OSError as exc:
            with contextlib.suppress(OSError):
                if os.path.samestat(os.fstat(fd), os.lstat(self.lock_path)):
                    os.unlink(self.lock_path)
            os.close(fd)
            raise RunFolderError(
                f"--out {str(self.folder)!r}: cannot write the lock file {LOCK_NAME}: "
                f"{exc.strerror or exc}"
            ) from None
        self._fd = fd

    def _take_over_stale(self) -> bool:
        """Take an existing lock whose holder is dead; raise ``FolderInUse`` if it lives;
        ``False`` if the lock file disappeared meanwhile (try creating it again)."""
        try:
            fd = _open_regular(self.lock_path, os.O_RDWR)
        except FileNotFoundError:
            return False
        try:
            if os.fstat(fd).st_nlink > 1:  # writing the pid would change another file too
                raise UnsafeRunFile(self.lock_path, "a hard link to another file")
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError as exc:
                    if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                        raise FolderInUse(self.folder, _read_pid(fd)) from None
                    raise
                # Locked the file at the path, not one unlinked by its holder meanwhile?
                try:
                    same = os.path.samestat(os.fstat(fd), os.lstat(self.lock_path))
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
        """The names the manifest lists (none if it is missing or unreadable). Entries that
        cannot name a file of the folder are left out and counted in ``ignored_entries``.

        Raises :class:`UnsafeRunFile` if the manifest is not a regular file."""
        self.ignored_entries = 0
        try:
            fd = _open_regular(self.manifest_path, os.O_RDONLY)
        except FileNotFoundError:
            return []
        try:
            data = read_at_most(fd, _MAX_MANIFEST_BYTES)
        except OSError:
            return []
        if data is None:
            return []
        try:
            document = json.loads(data.decode("utf-8"))
        except (ValueError, RecursionError):
            return []
        if not isinstance(document, dict) or document.get("format") != _MANIFEST_FORMAT:
            return []
        files = document.get("files")
        if not isinstance(files, list):
            return []
        names = [name for name in files if _plain_name(name, self._name_max())]
        self.ignored_entries = len(files) - len(names)
        return names

    def _name_max(self) -> int:
        """The longest file name, in bytes, that the folder's file system takes."""
        try:
            return os.pathconf(self.folder, "PC_NAME_MAX")
        except (OSError, ValueError, AttributeError):
            return 255

    def start(self, planned: Iterable[str | os.PathLike[str]]) -> int:
        """Remove the previous run's files, then list ``planned`` (the files this run may
        write, a superset) so that a run killed midway is cleaned up by the next one.
        Returns how many files were removed that this run will not write again.

        Raises ``FileExistsError``, before removing anything, if a planned file exists that
        the manifest does not list: a file of the user's that the run would overwrite."""
        planned = list(planned)
        again = set(self._names(planned))
        previous_files = self.previous_files()
        previous = set(previous_files)
        theirs = sorted(n for n in again - previous if (self.folder / n).exists())
        if theirs:
            shown = ", ".join(theirs[:5]) + (f", ... ({len(theirs)} in all)" if len(theirs) > 5
                                             else "")
            raise FileExistsError(
                f"--out {str(self.folder)!r} holds files that gdplot did not write and this run "
                f"would overwrite: {shown}; move them or choose another folder"
            )
        removed = 0
        for name in previous_files:
            # A name gone, a directory put there, or not ours to remove: left as it is.
            with contextlib.suppress(OSError):
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
        folder = self.folder.resolve()
        inside: set[Path] = set()  # parents seen to be the folder
        for path in dict.fromkeys(paths):  # a live plot lists its one path once per frame
            path = Path(path)
            if path.parent not in inside:
                if path.parent.resolve() != folder:
                    raise ValueError(
                        f"{str(path)!r} is not in the run folder {str(self.folder)!r}"
                    )
                inside.add(path.parent)
            names.add(path.name)
        return sorted(names)

    def _write_manifest(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        document = {"format": _MANIFEST_FORMAT, "version": 1, "files": self._names(paths)}
        write_bytes_atomic(self.manifest_path, (json.dumps(document, indent=1) + "\n").encode())


def _plain_name(name: object, name_max: int = 255) -> bool:
    """A file name in the folder itself: no separators, not ``.``/``..``, not our own files,
    no NUL byte, and not longer than the file system takes."""
    if not isinstance(name, str) or name in ("", ".", "..", LOCK_NAME, MANIFEST_NAME):
        return False
    if "/" in name or os.sep in name or (os.altsep is not None and os.altsep in name):
        return False
    try:
        encoded = os.fsencode(name)
    except UnicodeError:  # a lone surrogate the file system encoding cannot write
        return False
    return b"\0" not in encoded and len(encoded) <= name_max
