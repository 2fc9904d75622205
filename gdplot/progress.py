"""A progress bar for training that behaves like tqdm's, without depending on it.

On a terminal it is one line redrawn in place, as wide as the terminal and never wider:
``epoch 12/100 [####-----------]  12% loss 0.0123 | 1.2s<8.8s, 10.0 epoch/s``. Log records
written to the same stream while it is shown appear above it (the bar line is cleared, the
record written, the bar redrawn). On anything else (a pipe, a file, a CI log) it writes
plain lines instead, one every ``10%`` of the epochs or every ``plain_interval`` seconds,
whichever comes first, plus the first and the last epoch: never one line of carriage returns.
In a Jupyter kernel it is one HTML bar in the cell's output, updated in place.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any, TextIO

from gdplot.plots.notebook import NotebookLine, kernel_shell
from gdplot.validation import check_bool, check_int, check_real

__all__ = ["ProgressCallback", "ProgressLine", "format_seconds"]

#: Loggers whose stream handlers the bar steps aside for (besides the root logger's).
_LOGGERS = ("gdplot", "taskqueue")


def format_seconds(seconds: float) -> str:
    """``4.2s``, ``1:05``, ``1:02:03``: short, as tqdm writes durations."""
    if not math.isfinite(seconds):
        return "?"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _terminal_columns(stream: TextIO) -> int:
    """The width of the terminal ``stream`` writes to (``COLUMNS`` wins, as in shutil)."""
    fallback = shutil.get_terminal_size((80, 24)).columns  # honours COLUMNS, then stdout
    if os.environ.get("COLUMNS", "").isdigit():
        return fallback
    try:
        return os.get_terminal_size(stream.fileno()).columns or fallback
    except (AttributeError, ValueError, OSError):
        return fallback


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class ProgressLine:
    """One status line on ``stream``: redrawn in place on a terminal, else plain lines.

    ``show(text)`` replaces the line on a terminal; elsewhere it writes ``text`` as a line.
    While shown on a terminal, records of the root, ``gdplot`` and ``taskqueue`` loggers'
    stream handlers (and of logging's last-resort handler) writing to the same stream clear
    the line, are written, and the line is redrawn. ``close()`` ends the line and stops
    stepping aside for log records.
    """

    def __init__(self, stream: TextIO, *, dynamic: bool | None = None) -> None:
        self.stream = stream
        self.dynamic = _is_terminal(stream) if dynamic is None else bool(dynamic)
        # Guards the terminal line (what is drawn on it, and the writes to it): the training
        # thread draws, render threads may log at the same moment.
        self._lock = threading.RLock()
        self._text = ""  # what the line shows now ("" when nothing is drawn)
        self._patched: list[logging.Handler] = []

    def columns(self) -> int:
        return _terminal_columns(self.stream)

    def show(self, text: str) -> None:
        with self._lock:
            if not self.dynamic:
                self.stream.write(text + "\n")
                self.stream.flush()
                return
            if not self._patched:
                self._step_aside_for_logging()
            text = text[: max(self.columns() - 1, 1)]  # the last column would wrap
            if text == self._text:
                return
            # Pad over the previous text: a shorter line must not leave its tail behind.
            self.stream.write("\r" + text.ljust(len(self._text)))
            self.stream.flush()
            self._text = text

    def close(self) -> None:
        """End the line (if one is drawn) and restore the log handlers."""
        with self._lock:
            self._restore_logging()
            if self.dynamic and self._text:
                self.stream.write("\n")
                self.stream.flush()
            self._text = ""

    @contextlib.contextmanager
    def cleared(self) -> Iterator[None]:
        """Clear the line, let the body write whole lines, then redraw it."""
        with self._lock:
            text = self._text
            if text:
                self.stream.write("\r" + " " * len(text) + "\r")
                self._text = ""
            try:
                yield
            finally:
                if text:
                    self.stream.write(text)
                    self.stream.flush()
                    self._text = text

    # -- log records above the line ----------------------------------------------------------

    def _step_aside_for_logging(self) -> None:
        handlers = list(logging.getLogger().handlers)
        for name in _LOGGERS:
            handlers += logging.getLogger(name).handlers
        if logging.lastResort is not None:  # where records go when no handler is configured
            handlers.append(logging.lastResort)
        for handler in dict.fromkeys(handlers):  # unique, in order
            if isinstance(handler, logging.StreamHandler) and handler.stream is self.stream:
                handler.emit = self._wrap_emit(handler.emit)  # type: ignore[method-assign]
                self._patched.append(handler)

    def _wrap_emit(self, emit: Any) -> Any:
        def emit_above_the_line(record: logging.LogRecord) -> None:
            with self.cleared():
                emit(record)

        emit_above_the_line.gdplot_original = emit  # type: ignore[attr-defined]
        return emit_above_the_line

    def _restore_logging(self) -> None:
        for handler in self._patched:
            original = getattr(handler.emit, "gdplot_original", None)
            if original is not None:
                del handler.emit  # the instance attribute; the class's emit shows again
        self._patched = []


class ProgressCallback:
    """A training progress bar: epoch, bar, percentage, loss, elapsed<remaining, rate.

    Args:
        stream: where to write (default ``sys.stderr`` as it is when training starts).
        min_interval: on a terminal, redraw at most this often, in seconds (always on the
            first and the last epoch), so a fast loop is not slowed down by writes.
        width: the most characters the bar itself takes (it shrinks to fit the terminal).
        plain_interval: without a terminal, write a line at least this often, in seconds, as
            well as every 10% of the epochs.
        dynamic: redraw one line in place (``True``) or write plain lines (``False``);
            default: in place exactly when ``stream`` is a terminal. In a Jupyter kernel,
            with neither ``stream`` nor ``dynamic`` given, the bar is one HTML display in
            the cell's output, updated in place.
    """

    def __init__(
        self,
        *,
        stream: TextIO | None = None,
        min_interval: float = 0.1,
        width: int = 30,
        plain_interval: float = 10.0,
        dynamic: bool | None = None,
    ) -> None:
        self.stream = stream
        self.min_interval = check_real(min_interval, "min_interval", minimum=0)
        self.width = check_int(width, "width", minimum=1)
        self.plain_interval = check_real(
            plain_interval, "plain_interval", minimum=0, inclusive=False
        )
        self.dynamic = None if dynamic is None else check_bool(dynamic, "dynamic")
        self._line: ProgressLine | NotebookLine | None = None
        self._total: int | None = None
        self._start = self._last_draw = 0.0
        self._last_tenth = -1

    def on_train_begin(self, estimator: Any) -> None:
        self.finish()
        stream = self.stream if self.stream is not None else sys.stderr
        if self.stream is None and self.dynamic is None and kernel_shell() is not None:
            self._line = NotebookLine()  # one bar updated in place in the cell's output
        else:
            self._line = ProgressLine(stream, dynamic=self.dynamic)
        total = getattr(estimator, "epochs", None)
        self._total = total if isinstance(total, int) and total > 0 else None
        self._start = time.monotonic()
        self._last_draw = -math.inf
        self._last_tenth = -1

    def on_epoch_end(self, estimator: Any, epoch: int) -> None:
        line = self._line
        if line is None:
            return
        now = time.monotonic()
        last = epoch == 1 or epoch == self._total
        if line.dynamic:
            due = now - self._last_draw >= self.min_interval
        else:
            tenth = 10 * epoch // self._total if self._total else -1
            due = tenth > self._last_tenth or now - self._last_draw >= self.plain_interval
            if due or last:
                self._last_tenth = max(tenth, self._last_tenth)
        if due or last:
            self._last_draw = now
            line.show(self.format(epoch, _current_loss(estimator), now - self._start))

    def on_train_end(self, estimator: Any) -> None:
        self.finish()

    def finish(self) -> None:
        """End the bar's line (if one is drawn), e.g. before reporting that training failed."""
        if self._line is not None:
            self._line.close()

    def format(self, epoch: int, loss: float, elapsed: float) -> str:
        """The bar's text after ``epoch`` with ``loss``, ``elapsed`` seconds in; it fits the
        terminal when drawn in place."""
        rate = epoch / elapsed if elapsed > 0 else math.inf
        rate_text = f"{rate:.3g} epoch/s" if math.isfinite(rate) else "? epoch/s"
        if not self._total:
            return f"epoch {epoch} loss {loss:.4g} | {format_seconds(elapsed)}, {rate_text}"
        total = self._total
        done = min(epoch, total)
        remaining = (total - done) / rate if rate > 0 else math.inf
        count = f"epoch {epoch:>{len(str(total))}}/{total}"
        timing = f"{format_seconds(elapsed)}<{format_seconds(remaining)}"
        # Longest first; on a narrow terminal the bar goes first, then the rate, then times.
        tails = [
            f"{100 * done // total:3d}% loss {loss:.4g} | {timing}, {rate_text}",
            f"{100 * done // total:3d}% loss {loss:.4g} | {timing}",
            f"{100 * done // total:3d}% loss {loss:.4g}",
        ]
        tail = tails[0]
        width = self.width
        if self._line is not None and self._line.dynamic:
            columns = self._line.columns() - 1  # the last column would wrap
            fitting = [t for t in tails if len(count) + 1 + len(t) <= columns]
            tail = fitting[0] if fitting else tails[-1]
            width = min(width, columns - len(count) - len(tail) - 4)
        if width < 3:
            return f"{count} {tail}"
        filled = width * done // total  # full only at the end
        return f"{count} [{'#' * filled}{'-' * (width - filled)}] {tail}"


def _current_loss(estimator: Any) -> float:
    history = getattr(estimator, "history_", None)
    if history is not None and len(history):
        return float(history[-1])
    return float(estimator.snapshot().loss)
