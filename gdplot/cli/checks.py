"""Checks of ``gdplot train``'s outputs made before anything is read into a model or
written: where the model and the plots go, and how many frames a run would write.

Each failure is a one-line :class:`CommandError` naming the flag and the value.
"""

from __future__ import annotations

import os
from pathlib import Path

from gdplot.cli.errors import USAGE_ERROR, CommandError
from gdplot.data.file_kinds import path_kind

__all__ = ["MAX_FRAMES", "check_frame_count", "check_out_path", "check_save_path"]

#: A run that would write more numbered frames than this is refused up front.
MAX_FRAMES = 10_000
#: What an atomic write adds to a file name for its temp file: ".{name}.{12 hex}.tmp".
_TEMP_NAME_EXTRA = len(".") + len(".0123456789ab.tmp")


def _same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` are one file (a link, a hard link or another spelling)."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def _kind(flag: str, path: Path) -> str | None:
    """What is at ``path`` (links followed), or ``None``; a one-line error if it cannot be
    looked at (a name too long, a folder that is a file)."""
    try:
        return path_kind(path)
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise CommandError(f"{flag} {str(path)!r}: {reason}", USAGE_ERROR) from None


def check_save_path(path: Path, csv: str | os.PathLike[str]) -> None:
    """``--save PATH``: a regular file or nothing yet, in a writable folder, with a name
    short enough for its temp file, and never the input CSV."""
    if _same_file(path, Path(csv)):
        raise CommandError(
            f"--save {str(path)!r} is the input CSV: training would overwrite its own data; "
            "give another file name", USAGE_ERROR,
        )
    kind = _kind("--save", path)
    if kind == "a directory":
        raise CommandError(f"--save {str(path)!r} is a directory; give a file name", USAGE_ERROR)
    if kind not in (None, "a regular file"):
        raise CommandError(
            f"--save {str(path)!r} is {kind}, not a regular file; give a file name", USAGE_ERROR
        )
    parent = path.parent
    if _kind("--save", parent) != "a directory" or not os.access(parent, os.W_OK):
        raise CommandError(
            f"--save {str(path)!r}: folder {str(parent)!r} does not exist or is not writable",
            USAGE_ERROR,
        )
    try:
        name_max = os.pathconf(parent, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        name_max = 255
    if len(os.fsencode(path.name)) + _TEMP_NAME_EXTRA > name_max:
        raise CommandError(
            f"--save {str(path)!r}: the file name is too long (at most "
            f"{name_max - _TEMP_NAME_EXTRA} bytes here)", USAGE_ERROR,
        )


def check_out_path(out: Path, csv: str | os.PathLike[str]) -> None:
    """``--out DIR``: never the input CSV (any other problem is found creating it)."""
    if _same_file(out, Path(csv)):
        raise CommandError(
            f"--out {str(out)!r} is not a directory: it is the input CSV; give a folder for "
            "the plots", USAGE_ERROR
        )


def check_frame_count(epochs: int, every: int | None, kinds: int) -> None:
    """Refuse ``--plot-every`` if ``kinds`` numbered plots over ``epochs`` epochs would write
    more than :data:`MAX_FRAMES` files, naming the count and a ``--plot-every`` that fits."""
    if every is None or kinds == 0:
        return  # by default each plot has about 10 frames
    frames = kinds * -(-epochs // every)  # a frame every ``every`` epochs, and the last
    if frames <= MAX_FRAMES:
        return
    fits = -(-epochs // (MAX_FRAMES // kinds))
    raise CommandError(
        f"--plot-every {every} with --epochs {epochs} would write {frames:,} numbered plot "
        f"files ({kinds} plot(s)); at most {MAX_FRAMES:,} are allowed: use --plot-every "
        f"{fits} or more", USAGE_ERROR,
    )
