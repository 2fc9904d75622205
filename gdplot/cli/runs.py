"""What the commands share: the output folder and its lock, planning and waiting for the
plots, the executor of ``--render``, and error messages in the command's terms.
"""

from __future__ import annotations

import math
import multiprocessing
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import BrokenExecutor, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from gdplot.cli.errors import TRAINING_ERROR, USAGE_ERROR, CommandError, note
from gdplot.progress import ProgressLine
from gdplot.cli.render_pool import RenderPool
from gdplot.data.run_folder import RunFolder, RunFolderError
from gdplot.models.divergence import DivergenceError
from gdplot.plots.callbacks import GifCallback, PlotCallback
from taskqueue import TaskQueue

# --------------------------------------------------------------------------- output folder


def _prepare_out_dir(out: Path) -> Path:
    """Create ``out`` and prove it is writable, before any training time is spent."""
    try:
        if out.exists() and not out.is_dir():
            raise CommandError(f"--out {str(out)!r} is not a directory", USAGE_ERROR)
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out, prefix=".gdplot-probe-"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise CommandError(
            f"--out {str(out)!r} is not a writable folder: {reason}", USAGE_ERROR
        ) from None
    return out


def with_run_folder(out: Path, body: Callable[[RunFolder], int]) -> int:
    """Run ``body`` holding ``out``'s lock; refuse in one line if another run holds it."""
    folder = RunFolder(_prepare_out_dir(out))
    try:
        folder.acquire()
    except RunFolderError as exc:  # in use, a lock or manifest that is not a regular file
        raise CommandError(str(exc), USAGE_ERROR) from None
    try:
        return body(folder)
    finally:
        folder.release()


def start_folder(folder: RunFolder, planned: Sequence[Path]) -> int:
    """``folder.start(planned)``; a user's file in the way, or a manifest that is not a
    regular file, is a one-line usage error. Manifest entries ignored get a note."""
    try:
        removed = folder.start(planned)
    except (FileExistsError, RunFolderError) as exc:
        raise CommandError(str(exc), USAGE_ERROR) from None
    if folder.ignored_entries:
        note(
            f"ignored {folder.ignored_entries} entr{'y' if folder.ignored_entries == 1 else 'ies'}"
            f" of {folder.manifest_path} that name no file of the folder"
        )
    return removed


def planned_paths(callbacks: Iterable[Any], epochs: int) -> list[Path]:
    """Every file the plot callbacks may write in a run of ``epochs`` epochs."""
    paths: list[Path] = []
    for callback in callbacks:
        if isinstance(callback, GifCallback):
            paths.append(callback.path)
        elif isinstance(callback, PlotCallback) and callback.coalesce:
            paths.append(callback.path_for(epochs))  # one live file, whatever the epoch
        elif isinstance(callback, PlotCallback):
            frames = {*range(callback.every, epochs + 1, callback.every), epochs}
            paths.extend(callback.path_for(epoch) for epoch in sorted(frames))
    return paths


def written_paths(callbacks: Iterable[Any]) -> list[Path]:
    paths: list[Path] = []
    for callback in callbacks:
        if isinstance(callback, GifCallback):
            paths.append(callback.path)
        else:
            paths.extend(getattr(callback, "paths", ()))
    return paths


def plot_files(count: int) -> str:
    return f"{count} plot file{'' if count == 1 else 's'}"


# --------------------------------------------------------------------------- plots


def make_plots(
    kinds: Sequence[str],
    *,
    out: Path,
    prefix: str = "",
    label: str = "",
    every: int,
    executor: Any,
    names: dict[str, Any] | None = None,
) -> list[PlotCallback]:
    """A live ``loss`` plot plus a frame every ``every`` epochs of each of ``kinds``."""
    names = names or {}
    # Queued, a live frame per epoch costs training only a snapshot: the queue keeps only
    # the newest pending one. Inline, each frame is a full render, so keep to ``every``.
    live_loss = PlotCallback(
        "loss",
        out_dir=out,
        prefix=prefix,
        label=label,
        every=1 if executor is not None else every,
        executor=executor,
        coalesce=True,
        **names,
    )
    return [live_loss] + [
        PlotCallback(
            kind, out_dir=out, prefix=prefix, label=label, every=every, executor=executor,
            **names,
        )
        for kind in kinds
    ]


def wait_for_plots(
    queue: TaskQueue | None, callbacks: Sequence[Any], *, show_progress: bool
) -> None:
    """Wait for the plots, showing how many are left; one ``CommandError`` if any failed."""
    line = ProgressLine(sys.stderr) if show_progress else None

    def left() -> int:
        count = sum(callback.pending() for callback in callbacks)
        if queue is not None:  # tasks of the queue's own besides the callbacks' (the demo's)
            stats = queue.stats()
            count = max(count, stats.pending + stats.running)
        return count

    try:
        shown_at = -math.inf
        while (remaining := left()) > 0:
            now = time.monotonic()
            if line is not None and (line.dynamic or now - shown_at >= 5.0):
                line.show(f"waiting for plots: {remaining} left")
                shown_at = now
            busy = next((cb for cb in callbacks if cb.pending()), None)
            if busy is not None:
                busy.wait(timeout=0.1)
            elif queue is not None:
                queue.join(timeout=0.1)
    finally:
        if line is not None:
            line.close()
    # One entry per failed render: renders a broken executor refused share one exception.
    failed = [error for callback in callbacks for error in callback.errors]
    if queue is not None:
        known = {id(error) for error in failed}
        try:
            queue.join(raise_errors=True)
        except BaseExceptionGroup as group:
            failed.extend(error for error in group.exceptions if id(error) not in known)
    if failed:
        raise CommandError(failure_message(failed), TRAINING_ERROR)


def failure_message(errors: Sequence[BaseException]) -> str:
    """``3 plot(s) failed: ...`` and why: a rendering process that died first, as it
    explains the failures after it, else the first failure."""
    first = next((e for e in errors if isinstance(e, BrokenExecutor)), errors[0])
    why = str(first)
    if isinstance(first, BrokenExecutor):
        why = f"a rendering process died, killed or out of memory ({why})"
    elif not isinstance(first, Exception) or not why:  # SystemExit(3) says only "3"
        why = f"{type(first).__name__}: {why}" if why else type(first).__name__
    return f"{len(errors)} plot(s) failed: {why}"


def with_queue(workers: int, body: Callable[[TaskQueue], int]) -> int:
    """Run ``body`` with a plot queue of ``workers`` threads, closed afterwards."""
    # Failures are reported once, by wait_for_plots; no traceback logging per task.
    queue = TaskQueue(num_workers=workers, name="gdplot-plots", on_error=lambda failure: None)
    try:
        status = body(queue)
    except BaseException:
        queue.close(cancel_pending=True)
        raise
    queue.close()
    return status


def with_executor(mode: str, workers: int | None, body: Callable[[Any], int]) -> int:
    """Run ``body`` with the executor of ``--render mode``: ``None`` (sync), a TaskQueue of
    threads, or a pool of rendering processes; closed afterwards.

    ``process`` is the default: a thread's drawing holds the GIL, which small-step training
    wants back after every step.
    """
    if mode == "sync":
        return body(None)
    if mode == "thread":
        return with_queue(workers or 1, body)
    # forkserver: the children do not inherit this process's threads or their locks.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")

    def make_pool() -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(max_workers=workers or 1, mp_context=context)
        pool.submit(_warm_up)  # imports matplotlib there while this process reads and trains
        return pool

    pool = RenderPool(make_pool)  # a rendering process that dies is replaced, once
    try:
        status = body(pool)
    except CommandError as exc:
        pool.shutdown(wait=True, cancel_futures=True)
        if pool.restarted:  # the plots failed; say that plotting went on
            raise CommandError(f"{exc}; a new rendering process took over", exc.status) from None
        raise
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return status


def _warm_up() -> None:
    """Run first in a rendering process: its first frame then does not import matplotlib."""
    import gdplot.plots.renderers  # noqa: F401


def in_flag_terms(text: str) -> str:
    """An estimator's advice in the command's terms: ``--lr 0.38`` for ``lr=0.38``."""
    text = text.replace("lr='auto'", "--lr auto")
    return re.sub(r"((?:learning rate[^.]*?: |e\.g\. ))lr=([\w.+-]+)", r"\1--lr \2", text)


def divergence_message(exc: DivergenceError, *, auto_lr: bool, auto_works: bool) -> str:
    """The estimator's divergence message without advice the command has already taken
    (its features, and target, are standardised), plus ``--lr auto`` where the model takes it."""
    text = str(exc)
    text = re.sub(r",? or standardi[sz]e the features", "", text)
    text = re.sub(r" ?\(e\.g\. standardi[sz]e the features\)", "", text)
    text = in_flag_terms(text)
    if auto_works and not auto_lr and "auto" not in text:
        text = text.rstrip() + " Or let --lr auto choose one from the data."
    return text
