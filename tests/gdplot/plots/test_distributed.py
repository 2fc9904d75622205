"""The same user code on every kind of executor: a Dask cluster with worker processes, a
process pool and loky. Plots go to a relative folder, a live plot is coalesced, and
``wait(raise_errors=True)`` covers them; the live file must end on the last epoch."""

from __future__ import annotations

import multiprocessing
import os
import sys
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
from PIL import Image

from gdplot import LinearRegressionGD
from gdplot.plots.callbacks import PlotCallback
from gdplot.data.datasets import make_regression

EPOCHS = 30
RUNS = 3


def epoch_recorder(snapshot, path) -> None:
    """A live plot that records which epoch's frame landed last (written atomically)."""
    temp = f"{path}.{os.getpid()}.tmp"
    with open(temp, "w") as file:
        file.write(str(snapshot.epoch))
    os.replace(temp, path)


def user_code(executor, run: int) -> list:
    """The README's plot example, as a user runs it, with a relative out_dir."""
    X, y, _, _ = make_regression(500, 1, noise=1.0, random_state=run)
    out_dir = f"plots/run{run}"
    plots = [
        PlotCallback("surface", every=10, out_dir=out_dir, executor=executor),
        PlotCallback("loss", out_dir=out_dir, executor=executor, coalesce=True),
        PlotCallback(epoch_recorder, out_dir=out_dir, executor=executor, coalesce=True),
    ]
    LinearRegressionGD(lr=0.05, epochs=EPOCHS, batch_size=32, random_state=run).fit(
        X, y, callbacks=plots
    )
    for plot in plots:
        assert plot.wait(timeout=120, raise_errors=True)
    return plots


def check_runs(caller_dir) -> None:
    for run in range(RUNS):
        folder = caller_dir / "plots" / f"run{run}"
        pngs = sorted(p.name for p in folder.iterdir() if p.suffix == ".png")
        assert pngs == [
            "epoch_recorder.png",
            "loss.png",
            "surface_epoch0010.png",
            "surface_epoch0020.png",
            "surface_epoch0030.png",
        ]
        assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
        for name in pngs:
            if name != "epoch_recorder.png":
                with Image.open(folder / name) as image:
                    image.load()  # decodes the whole file
                    assert image.format == "PNG" and image.size[0] > 100
                    assert len(np.unique(np.asarray(image.convert("L")))) > 10
        assert (folder / "epoch_recorder.png").read_text() == str(EPOCHS), f"run {run}"


@pytest.fixture
def caller_dir(tmp_path, monkeypatch):
    """The workers start in one folder, the caller works in another (as on a cluster)."""
    workers = tmp_path / "workers"
    workers.mkdir()
    caller = tmp_path / "caller"
    caller.mkdir()
    monkeypatch.chdir(workers)
    yield caller


def test_a_dask_cluster_with_worker_processes(caller_dir, monkeypatch):
    distributed = pytest.importorskip("distributed")
    cloudpickle = pytest.importorskip("cloudpickle")
    # Dask ships tasks with cloudpickle; this test module is not importable on its workers,
    # so its functions travel by value.
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    with warnings.catch_warnings():
        # Dask's own start-up and tear-down warnings are not what this test is about.
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = distributed.Client(cluster)
    try:
        executor = client.get_executor()
        monkeypatch.chdir(caller_dir)
        for run in range(RUNS):
            user_code(executor, run)
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            client.close()
            cluster.close()
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    check_runs(caller_dir)


def test_a_process_pool(caller_dir, monkeypatch):
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=context) as pool:
        monkeypatch.chdir(caller_dir)
        for run in range(RUNS):
            user_code(pool, run)
    check_runs(caller_dir)


def test_loky(caller_dir, monkeypatch):
    loky = pytest.importorskip("loky")
    cloudpickle = pytest.importorskip("cloudpickle")
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    executor = loky.get_reusable_executor(max_workers=2)
    try:
        monkeypatch.chdir(caller_dir)
        for run in range(RUNS):
            user_code(executor, run)
    finally:
        executor.shutdown(wait=True)
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    check_runs(caller_dir)
