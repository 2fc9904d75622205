"""Find the gdplot runs under a folder and describe what the page shows of each.

A run folder is DIR itself or any folder below it that holds a run's manifest
(``.gdplot-manifest.json``) or run-status file (``.gdplot-run.json``). Only what a manifest
lists (and that exists) is ever offered, plus the status file; everything else in DIR stays
unseen. Discovery does not follow symbolic links to folders, skips hidden folders, and goes
at most :data:`MAX_DEPTH` levels down.

A folder may hold several runs told apart by a file-name prefix (``gdplot demo`` writes
``linear-batch_fit_epoch0015.png``, ``mlp_loss.png``, ...): each prefix is a column of its own.

:class:`RunScanner` re-reads only what changed: a manifest or status file when its
``stat`` changed, a folder's listing when the folder's own ``stat`` changed (files land by
rename, which touches it) or recently changed (timestamps have a granularity).
"""

from __future__ import annotations

import os
import re
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from gdplot.data.run_folder import LOCK_NAME, MANIFEST_NAME, RunFolder
from gdplot.data.run_status import STATUS_NAME, read_run_status

__all__ = ["MAX_DEPTH", "PLOT_KINDS", "RunScanner", "file_url"]

#: How many levels of folders below DIR are searched for runs.
MAX_DEPTH = 4
#: Folders visited per scan, at most: a DIR that is a large tree costs a bounded walk.
MAX_FOLDERS = 5000
#: The page's rows, in order; ``gif`` is the animation of any plot kind.
PLOT_KINDS = ("loss", "fit", "boundary", "surface", "gif")
#: A folder changed this recently is listed again even if its stat looks unchanged.
_RECENT_SECONDS = 2.0

_FRAME = re.compile(
    r"^(?P<prefix>.*?)(?P<kind>loss|fit|boundary|surface)(?:_epoch(?P<epoch>\d+))?\.png$"
)
_GIF = re.compile(r"^(?P<prefix>.*?)(?P<kind>loss|fit|boundary|surface)\.gif$")


def _stat_key(st: os.stat_result) -> tuple[int, int, int]:
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def file_url(folder: tuple[str, ...], name: str) -> str:
    """The URL path under which the server offers ``name`` of the run folder ``folder``
    (its parts relative to DIR)."""
    return "/files/" + "/".join(quote(part, safe="") for part in (*folder, name))


@dataclass
class _Folder:
    """What the scanner remembers of one run folder between scans."""

    path: Path
    parts: tuple[str, ...]
    manifest_key: tuple[int, int, int] | None = None
    listed: list[str] = field(default_factory=list)
    status_key: tuple[int, int, int] | None = None
    status: dict[str, Any] | None = None
    folder_key: tuple[int, int, int] | None = None
    listed_at: float = 0.0
    present: set[str] = field(default_factory=set)
    #: Bumped when ``listed`` or ``present`` changes; ``index`` is of ``index_generation``.
    generation: int = 0
    index: _Index | None = None
    index_generation: int = -1


@dataclass
class _Listing:
    """A folder as discovery last saw it."""

    key: tuple[int, int, int]
    changed_at: float
    is_run: bool
    subfolders: list[str]


@dataclass
class _Index:
    """What a folder's listed-and-present files say, computed once per change of either."""

    newest: dict[tuple[str, str], tuple[float, str]]  # (prefix, kind) -> (epoch, name)
    prefixes: list[str]
    extras: list[str]
    files: dict[str, Path]  # URL path -> file, every listed file present


class RunScanner:
    """Scans ``root`` for runs. :meth:`scan` returns the page's state (JSON-ready) and
    updates :attr:`files`, the URL path -> file map of what may be served.

    One thread scans; any thread may read :attr:`files` (replaced whole, never mutated).
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(os.path.realpath(root))
        self.files: dict[str, Path] = {}
        self._folders: dict[tuple[str, ...], _Folder] = {}
        self._listings: dict[tuple[str, ...], _Listing] = {}

    # -- discovery -------------------------------------------------------------------------

    def _run_folders(self, now: float) -> list[tuple[str, ...]]:
        """The parts (relative to root) of every folder holding a manifest or status file."""
        found: list[tuple[str, ...]] = []
        stack: list[tuple[str, ...]] = [()]
        visited = 0
        listings: dict[tuple[str, ...], _Listing] = {}
        while stack and visited < MAX_FOLDERS:
            parts = stack.pop()
            visited += 1
            listing = self._list(parts, now)
            if listing is None:
                continue
            listings[parts] = listing
            if listing.is_run:
                found.append(parts)
            if len(parts) < MAX_DEPTH:
                stack.extend((*parts, name) for name in reversed(listing.subfolders))
        self._listings = listings
        return sorted(found)

    def _list(self, parts: tuple[str, ...], now: float) -> _Listing | None:
        """Whether the folder is a run's, and its subfolders; listed again only if its stat
        changed (or changed recently)."""
        path = self.root.joinpath(*parts)
        try:
            st = os.stat(path, follow_symlinks=False)
        except OSError:
            return None
        if not stat.S_ISDIR(st.st_mode):  # e.g. a folder replaced by a link since last seen
            return None
        key = _stat_key(st)
        known = self._listings.get(parts)
        if known is not None and known.key == key and now - known.changed_at >= _RECENT_SECONDS:
            return known
        names, subfolders = set(), []
        try:
            with os.scandir(path) as entries:
                for entry in entries:
                    names.add(entry.name)
                    if not entry.name.startswith(".") and entry.is_dir(follow_symlinks=False):
                        subfolders.append(entry.name)
        except OSError:
            return None
        changed_at = now if known is None or known.key != key else known.changed_at
        return _Listing(key, changed_at, MANIFEST_NAME in names or STATUS_NAME in names,
                        sorted(subfolders))

    # -- one folder --------------------------------------------------------------------------

    def _refresh(self, folder: _Folder, now: float) -> None:
        """Re-read the manifest, status and listing of ``folder`` where they changed."""
        try:
            key = _stat_key(os.stat(folder.path / MANIFEST_NAME))
        except OSError:
            key = None
        if key != folder.manifest_key:
            folder.manifest_key = key
            folder.listed = RunFolder(folder.path).previous_files() if key else []
            folder.generation += 1
        try:
            key = _stat_key(os.stat(folder.path / STATUS_NAME))
        except OSError:
            key = None
        if key != folder.status_key:
            folder.status_key = key
            folder.status = read_run_status(folder.path / STATUS_NAME) if key else None
        try:
            key = _stat_key(os.stat(folder.path))
        except OSError:
            key = None
        if key != folder.folder_key or now - folder.listed_at < _RECENT_SECONDS:
            if key != folder.folder_key:
                folder.listed_at = now
            folder.folder_key = key
            try:
                present = set(os.listdir(folder.path))
            except OSError:
                present = set()
            if present != folder.present:
                folder.present = present
                folder.generation += 1

    def _servable(self, folder: _Folder, name: str) -> os.stat_result | None:
        """The file's stat if it may be served: a regular file (not a link) in the folder."""
        try:
            st = os.stat(folder.path / name, follow_symlinks=False)
        except OSError:
            return None
        return st if stat.S_ISREG(st.st_mode) else None

    # -- the state ---------------------------------------------------------------------------

    def scan(self) -> dict[str, Any]:
        """Look at the folders again; the page's state: ``{"root": ..., "runs": [...]}``."""
        now = time.time()
        parts_found = self._run_folders(now)
        self._folders = {
            parts: self._folders.get(parts) or _Folder(self.root.joinpath(*parts), parts)
            for parts in parts_found
        }
        files: dict[str, Path] = {}
        runs: list[dict[str, Any]] = []
        for parts, folder in self._folders.items():
            self._refresh(folder, now)
            runs.extend(self._describe(folder, files))
        self.files = files
        return {"root": self.root.name or str(self.root), "runs": runs}

    def _index(self, folder: _Folder) -> _Index:
        """The folder's files by run and kind (recomputed only when its files changed)."""
        if folder.index is not None and folder.index_generation == folder.generation:
            return folder.index
        newest: dict[tuple[str, str], tuple[float, str]] = {}
        prefixes: set[str] = set()
        extras: list[str] = []
        files: dict[str, Path] = {}
        for name in folder.listed:
            if name not in folder.present:
                continue
            # Older frames may be fetched too. No stat per file here (a long run lists
            # thousands): the server opens a file without following a link, and serves
            # only a regular file.
            files[file_url(folder.parts, name)] = folder.path / name
            match = _FRAME.match(name) or _GIF.match(name)
            if match is None:
                extras.append(name)
                continue
            kind = "gif" if name.endswith(".gif") else match["kind"]
            # A live file (no epoch) is always the newest of its kind.
            epoch = match.groupdict().get("epoch")
            order = float(epoch) if epoch else float("inf")
            key = (match["prefix"], kind)
            if key not in newest or order > newest[key][0]:
                newest[key] = (order, name)
            prefixes.add(match["prefix"])
        if not prefixes and (extras or folder.listed):
            prefixes.add("")
        folder.index = _Index(newest, sorted(prefixes), extras, files)
        folder.index_generation = folder.generation
        return folder.index

    def _describe(self, folder: _Folder, files: dict[str, Path]) -> list[dict[str, Any]]:
        """The runs (one per file-name prefix) of ``folder``, and its servable files."""
        index = self._index(folder)
        files.update(index.files)
        groups: dict[str, dict[str, Any]] = {prefix: {} for prefix in index.prefixes}
        if folder.status is not None and not groups:
            groups[""] = {}
        for (prefix, kind), (order, name) in sorted(index.newest.items()):
            st = self._servable(folder, name)
            if st is None:
                continue
            url = file_url(folder.parts, name)
            groups[prefix][kind] = {
                "name": name,
                "url": f"{url}?v={st.st_mtime_ns:x}-{st.st_size:x}",
                "epoch": None if order == float("inf") else int(order),
            }
        extras = index.extras
        if folder.status is not None:
            files[file_url(folder.parts, STATUS_NAME)] = folder.path / STATUS_NAME
        state = self._state(folder)
        runs = []
        prefixes = sorted(groups)
        for prefix in prefixes:
            run_extras = [n for n in extras if _owner(n, prefixes) == prefix]
            extra_items = []
            for name in run_extras:
                st = self._servable(folder, name)
                if st is not None:
                    url = file_url(folder.parts, name)
                    extra_items.append(
                        {"name": name, "url": f"{url}?v={st.st_mtime_ns:x}-{st.st_size:x}"}
                    )
            # The status file speaks for the folder's run: the one run, or the unprefixed one.
            status = folder.status if len(prefixes) == 1 or prefix == "" else None
            runs.append({
                "id": "/".join(folder.parts) + ("#" + prefix if prefix else ""),
                "folder": "/".join(folder.parts),
                "prefix": prefix,
                "name": _run_name(folder, prefix, self.root),
                "status": status,
                "state": state if status is not None else None,
                "plots": groups[prefix],
                "extras": extra_items,
            })
        return runs

    def _state(self, folder: _Folder) -> str | None:
        """The run's state as the page shows it: the status file's, except that a run
        which says it is running but whose folder lock is gone was stopped (killed)."""
        if folder.status is None:
            return None
        state = folder.status["state"]
        if state == "running" and folder.manifest_key is not None:
            if LOCK_NAME not in folder.present and not (folder.path / LOCK_NAME).exists():
                return "stopped"
        return state


def _owner(name: str, prefixes: list[str]) -> str:
    """The prefix (of ``prefixes``) an extra file belongs to: the longest that starts it."""
    owners = [p for p in prefixes if p and name.startswith(p)]
    if owners:
        return max(owners, key=len)
    return "" if "" in prefixes else prefixes[0]


def _run_name(folder: _Folder, prefix: str, root: Path) -> str:
    name = "/".join(folder.parts) or root.name or str(root)
    label = prefix.rstrip("_-. ")
    return f"{name} · {label}" if label and folder.parts else (label or name)
