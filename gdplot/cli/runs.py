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
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from gdplot.cli.errors import TRAINING_ERROR, USAGE_ERROR, CommandError
from gdplot.cli.progress import ProgressLine
from gdplot.data.run_folder import FolderInUse, RunFolder
from gdplot.models.divergence import DivergenceError
from gdplot.plots.callbacks import GifCallback, PlotCallback
from taskqueue import TaskQueue

# --------------------------------------------------------------------------- output folder


def _prepare_out_dir(out: Path) -> Path:
    """Create ``out`` and prove it is writable, before any training time is spent."""
    if out.exists() and not out.is_dir():
        raise CommandError(f"--out {str(out)!r} is not a directory", USAGE_ERROR)
    try:
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
    except FolderInUse as exc:
        raise CommandError(str(exc), USAGE_ERROR) from None
    try:
        return body(folder)
    finally:
        folder.release()


def start_folder(folder: RunFolder, planned: Sequence[Path]) -> int:
    """``folder.start(planned)``; a user's file in the way is a one-line usage error."""
    try:
        return folder.start(planned)
    except FileExistsError as exc:
        raise CommandError(str(exc), USAGE_ERROR) from None


def planned_paths(callbacks: Iterable[Any], epochs: int) -> list[Path]:
    """Every file the plot callbacks may write in a run of ``epochs`` epochs."""
    paths: list[Path] = []
    for callback in callbacks:
        if isinstance(callback, GifCallback):
            paths.append(callback.path)
        elif isinstance(callback, PlotCallback):
            frames = {*range(callback.every, epochs + 1, callback.every), epochs}
            paths.extend(dict.fromkeys(callback.path_for(epoch) for epoch in sorted(frames)))
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
    errors: dict[int, BaseException] = {}
    for callback in callbacks:
        errors.update((id(error), error) for error in callback.errors)
    if queue is not None:
        try:
            queue.join(raise_errors=True)
        except BaseExceptionGroup as group:
            errors.update((id(error), error) for error in group.exceptions)
    if errors:
        first = next(iter(errors.values()))
        raise CommandError(f"{len(errors)} plot(s) failed: {first}", TRAINING_ERROR)


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
    pool = ProcessPoolExecutor(max_workers=workers or 1, mp_context=context)
    try:
        pool.submit(_warm_up)  # imports matplotlib there while this process reads and trains
        status = body(pool)
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
