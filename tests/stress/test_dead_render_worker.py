"""A rendering process that dies never stops training, and SIGTERM leaves no process behind.

- In the library, a process pool whose worker is SIGKILLed mid-fit (as the OOM killer
  would) breaks; ``fit`` still finishes, and every render the broken pool lost or refused is
  in ``plot.errors`` and raised by ``wait(raise_errors=True)``.
- ``gdplot train`` (default ``--render process``) with its rendering worker killed starts a
  new one (once) and plots on, saves the model, says how many plots failed and why, and
  exits 1.
- ``gdplot train`` sent SIGTERM stops as on Ctrl-C: exit 143, its lock removed, and its
  forkserver, rendering worker and resource tracker all gone.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np
import pytest

from gdplot import LinearRegressionGD, load_model
from gdplot.data.run_folder import LOCK_NAME
from gdplot.plots.callbacks import PlotCallback

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="SIGKILL, forkserver and /proc"
)

WAIT = 60  # seconds: a bound only a hang reaches


class KillWorkerAt:
    """A callback that SIGKILLs the pool's worker at ``epoch``, then waits until the pool
    knows it is broken, so that every later render meets a broken pool."""

    def __init__(self, pool: ProcessPoolExecutor, epoch: int) -> None:
        self.pool, self.epoch = pool, epoch

    def on_epoch_end(self, estimator, epoch: int) -> None:
        if epoch != self.epoch:
            return
        for pid in list(self.pool._processes):
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + WAIT
        while not self.pool._broken:
            assert time.monotonic() < deadline, "the pool never noticed its worker died"
            time.sleep(0.01)


def test_fit_finishes_when_its_rendering_process_is_killed(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 1))
    y = 3 * X[:, 0] + 1
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("forkserver"))
    try:
        pool.submit(os.getpid).result(timeout=WAIT)  # the worker is up
        live = PlotCallback("loss", every=1, out_dir=tmp_path, executor=pool, coalesce=True)
        frames = PlotCallback("fit", every=10, out_dir=tmp_path, executor=pool)
        estimator = LinearRegressionGD(lr=0.01, epochs=200, random_state=0)
        estimator.fit(X, y, callbacks=[live, frames, KillWorkerAt(pool, 50)])
    finally:
        pool.shutdown(wait=True, cancel_futures=True)

    assert estimator.n_iter_ == 200  # training went on to the end
    assert estimator.score(X, y) > 0.9
    for plot in (live, frames):
        assert plot.wait(timeout=WAIT)
        assert plot.errors and all(isinstance(e, BrokenProcessPool) for e in plot.errors)
    # Every frame after the kill (epochs 60, 70, ..., 200) failed; those before may have too.
    assert 15 <= frames.failures <= 20
    with pytest.raises(ExceptionGroup) as caught:
        frames.wait(raise_errors=True)
    assert len(caught.value.exceptions) == frames.failures
    assert frames.wait(raise_errors=True)  # each failure is raised once


# --------------------------------------------------------------------------- the command


def children_of(pid: int) -> list[int]:
    """Every living descendant of ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":  # a zombie has ended
                parents[int(entry)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        kids = [child for child, p in parents.items() if p == parent]
        found += kids
        frontier += kids
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture
def long_csv(tmp_path) -> Path:
    """A regression CSV that takes `gdplot train --batch-size 64` seconds per hundred epochs."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20_000, 2))
    y = X @ [1.0, 2.0] + 0.1 * rng.standard_normal(20_000)
    path = tmp_path / "big.csv"
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", header="a,b,y", comments="")
    return path


def start_train(csv: Path, out: Path, *options: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gdplot", "train", str(csv), "--target", "y", "--out", str(out),
         "--batch-size", "64", *options],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def wait_for_rendering(process: subprocess.Popen, out: Path, helpers: int = 3) -> list[int]:
    """Wait until the run has its pool (resource tracker, forkserver, worker: ``helpers``
    processes) and a first plot; returns the pool's processes."""
    deadline = time.monotonic() + WAIT
    while True:
        assert process.poll() is None, f"the run ended early: {process.stderr.read()}"
        assert time.monotonic() < deadline, "the rendering pool never started"
        found = children_of(process.pid)
        if len(found) >= helpers and any(out.glob("*.png")):
            return found
        time.sleep(0.05)


@pytest.mark.slow
def test_the_command_saves_the_model_and_exits_1_when_its_rendering_process_dies(
    tmp_path, long_csv
):
    out, save = tmp_path / "runs", tmp_path / "model.json"
    with start_train(long_csv, out, "--epochs", "1500", "--save", str(save)) as process:
        # Killed once it has drawn a first plot: then a render is in flight (the live loss
        # plot always has one), and training, far longer than the worker's start, goes on.
        helpers = wait_for_rendering(process, out)
        # The worker is the forkserver's child: a grandchild of the command.
        workers = [pid for pid in helpers if pid not in children_of_direct(process.pid)]
        assert workers, helpers
        os.kill(workers[0], signal.SIGKILL)
        stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 1, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "plot(s) failed: a rendering process died" in lines[0]
    assert lines[0].endswith("a new rendering process took over")
    assert int(lines[0].split("error: ")[1].split(" ")[0]) >= 1
    assert "trained linear for 1500 epochs" in stdout
    assert f"saved the model to {save}" in stdout
    assert load_model(save).estimator.n_iter_ == 1500
    assert not (out / LOCK_NAME).exists()
    # Plotting went on in the new process: the last frame and the live plot are there.
    assert (out / "surface_epoch1500.png").is_file() and (out / "loss.png").is_file()


def square(x: int) -> int:
    return x * x


def test_the_commands_pool_is_replaced_once_when_its_process_dies():
    from gdplot.cli.render_pool import RenderPool

    made = []

    def make() -> ProcessPoolExecutor:
        made.append(ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("forkserver")))
        return made[-1]

    def kill_worker() -> None:
        pool = made[-1]
        for pid in list(pool._processes):
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + WAIT
        while not pool._broken:
            assert time.monotonic() < deadline
            time.sleep(0.01)

    pool = RenderPool(make)
    try:
        assert pool.submit(square, 3).result(timeout=WAIT) == 9
        kill_worker()
        assert pool.submit(square, 4).result(timeout=WAIT) == 16  # a new pool took over
        assert pool.restarted == 1 and len(made) == 2
        kill_worker()
        with pytest.raises(BrokenProcessPool):  # once only
            pool.submit(square, 5)
        assert len(made) == 2
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    assert all(p._shutdown_thread for p in made)


def children_of_direct(pid: int) -> set[int]:
    return {child for child in children_of(pid) if _parent(child) == pid}


def _parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    except OSError:
        return -1


@pytest.mark.slow
@pytest.mark.parametrize("render", ["process", "thread"])
def test_sigterm_stops_the_command_like_ctrl_c_and_leaves_no_process_behind(
    tmp_path, long_csv, render
):
    out = tmp_path / "runs"
    with start_train(long_csv, out, "--epochs", "2000", "--render", render) as process:
        helpers = wait_for_rendering(process, out, helpers=3 if render == "process" else 0)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=WAIT)
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert stderr.strip().splitlines()[-1] == "gdplot: terminated"
    assert "Traceback" not in stderr
    assert not (out / LOCK_NAME).exists()
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in helpers) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [pid for pid in helpers if alive(pid)]
    for pid in left:  # never leave them to the next test
        os.kill(pid, signal.SIGKILL)
    assert not left, "the forkserver, the rendering worker or the resource tracker lived on"
