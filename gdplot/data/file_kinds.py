"""Open only regular files: never block on a FIFO, never read a device, optionally never
follow a link.

Reading ``/dev/zero`` as a CSV never ends, and opening a FIFO waits for a writer that may
never come. Every file gdplot reads (a CSV, a model file, a run folder's lock and manifest)
is opened with ``O_NONBLOCK`` and checked with ``fstat`` before a byte is read.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

__all__ = ["NotARegularFile", "file_kind", "open_regular", "path_kind", "read_at_most"]

_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def file_kind(mode: int) -> str:
    """What a file mode is, in words: ``a symbolic link``, ``a directory``, ..."""
    kinds = ((stat.S_ISREG, "a regular file"), (stat.S_ISLNK, "a symbolic link"),
             (stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
             (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"))
    return next((words for test, words in kinds if test(mode)), "not a regular file")


def path_kind(path: str | os.PathLike[str], *, follow_links: bool = True) -> str | None:
    """:func:`file_kind` of what is at ``path``; ``None`` if nothing is there.
    ``OSError`` for a path that cannot be looked at (too long, no permission)."""
    try:
        mode = (os.stat if follow_links else os.lstat)(path).st_mode
    except FileNotFoundError:
        return None
    return file_kind(mode)


class NotARegularFile(OSError):
    """A path that must be a regular file is something else; ``kind`` says what."""

    def __init__(self, path: str | os.PathLike[str], kind: str) -> None:
        super().__init__(errno.EINVAL, f"{kind}, not a regular file", os.fspath(path))
        self.path = Path(path)
        self.kind = kind

    def __str__(self) -> str:
        return f"{os.fspath(self.path)!r} is {self.kind}, not a regular file"


def open_regular(path: str | os.PathLike[str], flags: int = os.O_RDONLY, *,
                 follow_links: bool = True, mode: int = 0o666) -> int:
    """``os.open(path, flags)`` for a regular file only, else :class:`NotARegularFile`
    (nothing read, nothing written). A FIFO is never waited on; with ``follow_links=False`` a
    symbolic link at ``path`` is refused (``O_NOFOLLOW``), not followed. The descriptor
    returned blocks as usual."""
    try:
        fd = os.open(path, flags | _NONBLOCK | (0 if follow_links else _NOFOLLOW), mode)
    except OSError as exc:
        # ELOOP (EMLINK on some BSDs): a link refused by O_NOFOLLOW; EISDIR: a directory
        # opened for writing; ENXIO: a FIFO with no reader, a device that is not there.
        if exc.errno not in (errno.ELOOP, errno.EISDIR, errno.ENXIO, errno.EMLINK):
            raise
        try:
            kind = path_kind(path, follow_links=follow_links)
        except OSError:
            kind = None
        if kind in (None, "a regular file"):
            raise
        raise NotARegularFile(path, kind) from None
    try:
        file_mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(file_mode):
            raise NotARegularFile(path, file_kind(file_mode))
        if _NONBLOCK:
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_at_most(fd: int, max_bytes: int) -> bytes | None:
    """The whole regular file open at ``fd`` (the descriptor is closed), or ``None`` if it
    holds more than ``max_bytes``. Memory is allocated for what the file holds, not for the
    limit."""
    with open(fd, "rb") as file:
        size = os.fstat(fd).st_size
        if size > max_bytes:
            return None
        data = file.read(size + 1)  # + 1: a file that grew meanwhile shows it
        return data if len(data) <= max_bytes else None
