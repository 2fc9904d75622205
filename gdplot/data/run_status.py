"""The run-status file: what a run folder tells a reader (``gdplot serve``) about its run.

``.gdplot-run.json`` sits beside the run's manifest. It is small JSON, replaced atomically
as training goes, so a reader never sees half of it::

    {
      "format": "gdplot-run-status", "version": 1,
      "model": "linear", "label": "",
      "settings": {"lr": 0.1, "lr_used": 0.1, "batch_size": null, "epochs": 100, ...},
      "epoch": 37, "epochs": 100, "loss": 0.123, "initial_loss": 1.0,
      "history": {"epoch": [1, 2, ...], "loss": [0.9, 0.7, ...]},
      "state": "running",  # or "finished", "failed"
      "message": "",       # why it failed, if it did
      "pid": 1234, "updated": 1764752400.0
    }

``history`` holds at most :data:`HISTORY_POINTS` points, evenly spread over the epochs and
always ending on the latest one, so the file stays small on a long run. A loss that is not
finite is written as ``null`` (JSON has no NaN).

The writer, :func:`write_run_status`, is what a rendering worker runs for
:class:`~gdplot.plots.status.RunStatusCallback`; the reader, :func:`read_run_status`, never raises on a missing,
partial or foreign file: it returns ``None``.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from gdplot.atomic import write_bytes_atomic

__all__ = [
    "HISTORY_POINTS",
    "STATES",
    "STATUS_NAME",
    "read_run_status",
    "run_status_document",
    "write_run_status",
]

STATUS_NAME = ".gdplot-run.json"
STATUS_FORMAT = "gdplot-run-status"
STATES = ("running", "finished", "failed")
#: Loss points kept in the file's history, at most.
HISTORY_POINTS = 400
#: A status file larger than this is not one of ours.
_MAX_BYTES = 1 << 20


def _number(value: Any) -> float | None:
    """A finite float, or ``None`` (NaN and infinities have no JSON form)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _thin(history: np.ndarray) -> tuple[list[int], list[float | None]]:
    """At most ``HISTORY_POINTS`` ``(epoch, loss)`` pairs, first and last epoch included."""
    losses = np.asarray(history, dtype=float).ravel()
    n = losses.size
    if n <= HISTORY_POINTS:
        index = np.arange(n)
    else:
        index = np.unique(np.round(np.linspace(0, n - 1, HISTORY_POINTS)).astype(int))
    kept = losses[index]
    return (index + 1).tolist(), [float(f"{v:.6g}") if math.isfinite(v) else None
                                  for v in kept.tolist()]


def run_status_document(fields: Mapping[str, Any], history: Any = ()) -> dict[str, Any]:
    """The status document for ``fields`` (model, label, settings, epoch, epochs, loss,
    initial_loss, state, message) and the loss ``history`` so far (one loss per epoch)."""
    state = fields.get("state", "running")
    if state not in STATES:
        raise ValueError(f"state must be one of {STATES}, got {state!r}")
    epochs_seen, losses = _thin(history)
    settings = {
        str(name): (_number(value) if isinstance(value, float) else value)
        for name, value in dict(fields.get("settings", {})).items()
        if value is None or isinstance(value, (bool, int, float, str))
    }
    return {
        "format": STATUS_FORMAT,
        "version": 1,
        "model": str(fields.get("model", "")),
        "label": str(fields.get("label", "")),
        "settings": settings,
        "epoch": int(fields.get("epoch", len(losses) and epochs_seen[-1])),
        "epochs": int(fields.get("epochs", 0)),
        "loss": _number(fields.get("loss", losses[-1] if losses else None)),
        "initial_loss": _number(fields.get("initial_loss")),
        "history": {"epoch": epochs_seen, "loss": losses},
        "state": state,
        "message": str(fields.get("message", "")),
        "pid": os.getpid(),
        "updated": time.time(),
    }


def write_run_status(
    folder: str | os.PathLike[str], fields: Mapping[str, Any], history: Any = ()
) -> Path:
    """Write ``folder``'s status file atomically (see :func:`run_status_document`)."""
    document = run_status_document(fields, history)
    text = json.dumps(document, separators=(",", ":"), allow_nan=False)
    return write_bytes_atomic(Path(folder) / STATUS_NAME, text.encode("utf-8"))


def read_run_status(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The status document at ``path`` (a status file or its folder), checked and cleaned;
    ``None`` if it is missing, unreadable, too large or not a run-status file."""
    path = Path(path)
    if path.is_dir():
        path = path / STATUS_NAME
    try:
        with open(path, "rb") as file:
            data = file.read(_MAX_BYTES + 1)
    except OSError:
        return None
    if len(data) > _MAX_BYTES:
        return None
    try:
        document = json.loads(data)
    except ValueError:
        return None
    if not isinstance(document, dict) or document.get("format") != STATUS_FORMAT:
        return None
    return _clean(document)


def _clean(document: dict[str, Any]) -> dict[str, Any]:
    """Only the fields of the format, each of its type (a reader trusts nothing else)."""

    def integer(name: str) -> int:
        value = document.get(name)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    history = document.get("history")
    epochs, losses = [], []
    if isinstance(history, dict):
        raw_epochs, raw_losses = history.get("epoch"), history.get("loss")
        if isinstance(raw_epochs, list) and isinstance(raw_losses, list):
            for epoch, loss in zip(raw_epochs, raw_losses):
                if isinstance(epoch, int) and not isinstance(epoch, bool):
                    epochs.append(epoch)
                    losses.append(_number(loss))
    settings = document.get("settings")
    state = document.get("state")
    return {
        "model": str(document.get("model", "")),
        "label": str(document.get("label", "")),
        "settings": {
            str(k): v for k, v in settings.items()
            if v is None or isinstance(v, (bool, int, float, str))
        } if isinstance(settings, dict) else {},
        "epoch": integer("epoch"),
        "epochs": integer("epochs"),
        "loss": _number(document.get("loss")),
        "initial_loss": _number(document.get("initial_loss")),
        "history": {"epoch": epochs, "loss": losses},
        "state": state if state in STATES else "running",
        "message": str(document.get("message", "")),
        "pid": integer("pid"),
        "updated": _number(document.get("updated")) or 0.0,
    }

