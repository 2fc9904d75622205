"""RunStatusCallback: the run-status file follows training, written off the training thread."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from gdplot import LinearRegressionGD, MLPRegressorGD
from gdplot.data.run_status import STATUS_NAME, read_run_status
from gdplot.plots.status import RunStatusCallback
from taskqueue import TaskQueue


def data(n: int = 50):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 1))
    return X, 2 * X[:, 0] + rng.normal(scale=0.1, size=n)


class HeldExecutor(ThreadPoolExecutor):
    """One worker that runs nothing until ``release``; counts what was submitted."""

    def __init__(self) -> None:
        super().__init__(max_workers=1)
        self.gate = threading.Event()
        self.submitted = 0
        super().submit(self.gate.wait)

    def submit(self, fn, /, *args, **kwargs):
        self.submitted += 1
        return super().submit(fn, *args, **kwargs)


def test_written_off_the_training_thread_and_coalesced(tmp_path):
    executor = HeldExecutor()
    try:
        status = RunStatusCallback(tmp_path, executor=executor, label="sweep")
        model = LinearRegressionGD(lr=0.1, epochs=200, batch_size=10, random_state=0)
        model.fit(*data(), callbacks=[status])
        # Training is over and the writer has not run: nothing was written on its thread.
        assert not (tmp_path / STATUS_NAME).exists()
        # One write submitted; the 200 epochs' states waiting behind it became the newest one.
        assert executor.submitted == 1
        executor.gate.set()
        assert status.wait(timeout=30)
    finally:
        executor.shutdown()
    assert executor.submitted == 2
    written = read_run_status(tmp_path)
    assert written["state"] == "finished"
    assert (written["epoch"], written["epochs"]) == (200, 200)
    assert written["model"] == "linear" and written["label"] == "sweep"
    assert written["settings"]["lr"] == 0.1 and written["settings"]["batch_size"] == 10
    assert written["loss"] == pytest.approx(model.history_[-1], rel=1e-5)
    assert written["history"]["epoch"][-1] == 200


def test_on_a_task_queue(tmp_path):
    with TaskQueue(num_workers=1) as queue:
        status = RunStatusCallback(tmp_path / "run", executor=queue)
        (tmp_path / "run").mkdir()
        model = LinearRegressionGD(lr="auto", epochs=30, random_state=0).fit(
            *data(), callbacks=[status])
        assert status.wait(timeout=30)
    written = read_run_status(tmp_path / "run")
    assert written["state"] == "finished" and written["epoch"] == 30
    assert written["settings"]["lr"] == "auto"
    assert written["settings"]["lr_used"] == pytest.approx(model.lr_)
    assert written["history"]["loss"] == pytest.approx(model.history_.tolist(), rel=1e-5)


def test_failed_run(tmp_path):
    """A diverging fit calls no end hook; failed() writes the state after pending writes."""
    status = RunStatusCallback(tmp_path, executor=None)
    model = MLPRegressorGD(hidden=4, lr=1e6, epochs=50, random_state=0)
    with pytest.raises(Exception) as raised:
        model.fit(*data(), callbacks=[status])
    status.failed(str(raised.value))
    written = read_run_status(tmp_path)
    assert written["state"] == "failed" and written["message"] == str(raised.value)
    assert written["epoch"] < 50


def test_failed_before_training_writes_nothing(tmp_path):
    status = RunStatusCallback(tmp_path)
    status.failed("bad input")
    assert not (tmp_path / STATUS_NAME).exists()


def test_folder_must_be_a_path():
    with pytest.raises(TypeError, match="folder must be a path"):
        RunStatusCallback(3)


def test_every(tmp_path):
    """Inline (no executor), the file is written every ``every`` epochs and at the end."""
    status = RunStatusCallback(tmp_path, every=10)
    seen = []

    class Reader:  # runs after the status callback, at each epoch's end
        def on_epoch_end(self, estimator, epoch):
            seen.append(read_run_status(tmp_path)["epoch"])

    LinearRegressionGD(lr=0.1, epochs=25, random_state=0).fit(*data(),
                                                             callbacks=[status, Reader()])
    assert seen == [0] * 9 + [10] * 10 + [20] * 6
    assert read_run_status(tmp_path)["epoch"] == 25
    with pytest.raises(ValueError, match="every"):
        RunStatusCallback(tmp_path, every=0)
