"""The run-status file: written atomically, read back checked, small on long runs."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from gdplot.data.run_status import (
    HISTORY_POINTS,
    STATUS_NAME,
    read_run_status,
    run_status_document,
    write_run_status,
)


def test_status_round_trip(tmp_path):
    history = np.linspace(1.0, 0.5, 7)
    write_run_status(tmp_path, {
        "model": "mlp", "label": "sin", "settings": {"lr": 0.01, "batch_size": 32, "hidden": 8},
        "epoch": 7, "epochs": 20, "state": "running", "initial_loss": 1.5,
    }, history)
    status = read_run_status(tmp_path)
    assert status["model"] == "mlp" and status["label"] == "sin"
    assert status["settings"] == {"lr": 0.01, "batch_size": 32, "hidden": 8}
    assert (status["epoch"], status["epochs"], status["state"]) == (7, 20, "running")
    assert status["loss"] == 0.5 and status["initial_loss"] == 1.5
    assert status["history"]["epoch"] == list(range(1, 8))
    assert status["history"]["loss"] == pytest.approx(history.tolist())
    assert status["pid"] == os.getpid()


def test_status_history_is_thinned_but_keeps_both_ends():
    history = np.arange(10_000, 0, -1, dtype=float)
    document = run_status_document({"state": "running"}, history)
    epochs, losses = document["history"]["epoch"], document["history"]["loss"]
    assert len(epochs) <= HISTORY_POINTS
    assert epochs[0] == 1 and epochs[-1] == 10_000 and epochs == sorted(set(epochs))
    assert losses[0] == 10_000 and losses[-1] == 1
    assert document["epoch"] == 10_000 and document["loss"] == 1


def test_status_without_nan(tmp_path):
    """A diverged run's NaN and inf losses are written as null, so JSON readers accept it."""
    path = write_run_status(tmp_path, {"state": "failed", "message": "diverged",
                                       "settings": {"lr": float("inf")}},
                            [1.0, float("inf"), float("nan")])
    document = json.loads(path.read_text(), parse_constant=pytest.fail)
    assert document["history"]["loss"] == [1.0, None, None]
    assert document["loss"] is None and document["settings"]["lr"] is None
    assert read_run_status(path)["message"] == "diverged"


def test_status_rejects_unknown_state():
    with pytest.raises(ValueError, match="state must be one of"):
        run_status_document({"state": "paused"})


@pytest.mark.parametrize("content", [
    b"", b"{", b"[]", b'{"format": "something-else"}', b"\xff\xfe",
    b'{"format": "gdplot-run-status", "epoch": "7", "state": "exploded", "history": 3}',
])
def test_reading_a_bad_status_file_never_raises(tmp_path, content):
    (tmp_path / STATUS_NAME).write_bytes(content)
    status = read_run_status(tmp_path)
    if status is not None:  # ours, but with fields of the wrong type: cleaned
        assert status["epoch"] == 0 and status["state"] == "running"
        assert status["history"] == {"epoch": [], "loss": []}


def test_reading_a_missing_status_file(tmp_path):
    assert read_run_status(tmp_path) is None
