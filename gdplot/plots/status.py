"""The run-status file kept current while a model trains, written by the plot executor.

The file's format, writer and reader are :mod:`gdplot.data.run_status`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from gdplot.data.run_status import STATUS_NAME, write_run_status
from gdplot.plots.dispatch import RenderDispatcher
from gdplot.validation import check_int

__all__ = ["RunStatusCallback"]


class RunStatusCallback(RenderDispatcher):
    """Keep ``folder``'s run-status file current while a model trains.

    The file is written by ``executor`` (as a plot is), never on the training thread: each
    epoch hands the newest state over, coalesced like a live plot (``add_latest`` on a
    TaskQueue; on another executor one write in flight and the newest waiting), so the file
    follows at the writer's pace. ``executor=None`` writes inline, on the training thread,
    so give it an ``every`` (write after epochs ``every``, ``2 * every``, ...) as for plots.

    ``on_train_end`` writes the state ``finished``. A ``fit`` that raises calls no hook:
    its caller reports the failure with :meth:`failed`, once training has stopped.
    """

    def __init__(self, folder: str | os.PathLike[str], *, executor: object = None,
                 every: int = 1, label: str = "") -> None:
        super().__init__(executor)
        self.every = check_int(every, "every", minimum=1)
        if not isinstance(folder, (str, os.PathLike)):
            raise TypeError(f"folder must be a path, got {type(folder).__name__} {folder!r}")
        # Absolute here: a process worker would resolve a relative path against its own folder.
        self.folder = Path(os.path.abspath(folder))
        self.label = str(label)
        self._key = str(self.folder / STATUS_NAME)
        self._fields: dict[str, Any] = {}
        self._history: Any = ()

    def on_train_begin(self, estimator: Any) -> None:
        self._start_run()
        snapshot = estimator.snapshot(label=self.label)
        settings = {
            name: value for name, value in estimator.get_params().items()
            if value is None or isinstance(value, (bool, int, float, str))
        }
        settings["lr_used"] = float(estimator.lr_)
        self._fields = {
            "model": snapshot.model, "label": self.label, "settings": settings,
            "epochs": snapshot.epochs_total, "initial_loss": snapshot.initial_loss,
            "epoch": 0, "state": "running",
        }
        self._history = snapshot.history
        self._write()

    def on_epoch_end(self, estimator: Any, epoch: int) -> None:
        # A view of the losses so far: training only appends after it.
        self._history = estimator.history_
        self._fields["epoch"] = epoch
        if epoch % self.every == 0:
            self._write()

    def on_train_end(self, estimator: Any) -> None:
        self._fields["state"] = "finished"
        self._write()

    def _write(self) -> None:
        self.dispatch(write_run_status, self.folder, dict(self._fields), self._history,
                      latest_key=self._key)

    def failed(self, message: str, *, timeout: float | None = 10.0) -> None:
        """Write the state ``failed`` with ``message``, after the writes still pending (up to
        ``timeout`` seconds), from the calling thread. For a ``fit`` that raised."""
        if not self._fields:  # training never began: nothing to report
            return
        self.wait(timeout)
        write_run_status(self.folder, {**self._fields, "state": "failed",
                                       "message": str(message)}, self._history)
