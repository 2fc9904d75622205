"""Renderer objects and the per-worker figure cache: a cached frame is the frame a fresh
figure would draw; figures are never shared between threads; memory stays bounded."""

from __future__ import annotations

import dataclasses
import multiprocessing
import pickle
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gdplot import LinearRegressionGD, LogisticRegressionGD
from gdplot.plots.callbacks import PlotCallback
from gdplot.models.maths import model_maths, register_model
from gdplot.plots.renderers import (
    RENDERERS,
    FigureCache,
    Renderer,
    figure_cache,
    render_loss,
    renderer_problem,
)
from gdplot.models.snapshot import Snapshot
from taskqueue import TaskQueue


def regression_data(n_features: int = 1, n: int = 200):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, n_features))
    return X, X @ np.arange(1.0, n_features + 1) + 0.5 + 0.3 * rng.standard_normal(n)


def classification_data(n: int = 200):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((n, 2))
    return X, (X @ [1.5, -1.0] + 0.3 * rng.standard_normal(n) > 0).astype(int)


def run_snapshots(kind: str, epochs: int = 12) -> list[Snapshot]:
    """The snapshot of every epoch of one real fit suited to ``kind``."""
    snapshots = []
    recorder = type("Recorder", (), {
        "on_epoch_end": lambda self, est, epoch: snapshots.append(est.snapshot(label="run"))})()
    if kind == "boundary":
        LogisticRegressionGD(lr=0.5, epochs=epochs, random_state=0).fit(
            *classification_data(), callbacks=[recorder])
    else:
        LinearRegressionGD(lr=0.05, epochs=epochs, random_state=0).fit(
            *regression_data(), callbacks=[recorder])
    return snapshots


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        assert image.format == "PNG"
        return np.asarray(image.convert("RGB"), dtype=float)


@pytest.fixture
def cache():
    """The calling thread's cache, emptied before and after the test."""
    figure_cache().clear()
    yield figure_cache()
    figure_cache().clear()


@pytest.mark.parametrize("kind", ["loss", "fit", "boundary", "surface"])
def test_a_cached_frame_matches_a_fresh_render_of_the_same_snapshot(tmp_path, cache, kind):
    snapshots = run_snapshots(kind)
    *earlier, last = snapshots
    last = dataclasses.replace(last, epochs_total=last.epoch + 10)  # keep the plot cached
    for snapshot in earlier:
        RENDERERS[kind](dataclasses.replace(snapshot, epochs_total=last.epochs_total),
                        tmp_path / "live.png")
    RENDERERS[kind](last, tmp_path / "live.png")
    RENDERERS[kind](dataclasses.replace(last, run_id=""), tmp_path / "fresh.png")  # no cache
    cached, fresh = pixels(tmp_path / "live.png"), pixels(tmp_path / "fresh.png")
    assert cached.shape == fresh.shape == (480, 640, 3)
    changed = np.abs(cached - fresh).max(axis=2) > 48
    assert changed.mean() < 0.01, f"{changed.mean():.2%} of the pixels differ"
    assert len(cache) == 1 and cache.built < len(snapshots)  # the figure was reused


def test_frames_of_a_run_reuse_one_figure_and_the_last_epoch_releases_it(tmp_path, cache):
    snapshots = run_snapshots("loss", epochs=12)
    for snapshot in snapshots[:-1]:
        render_loss(snapshot, tmp_path / "loss.png")
        assert len(cache) == 1
    assert cache.built <= 3  # the y-axis may step out once or twice; not a figure per frame
    render_loss(snapshots[-1], tmp_path / "loss.png")
    assert snapshots[-1].is_last and len(cache) == 0


def test_a_loss_leaving_its_axes_gets_a_new_background(tmp_path, cache):
    snapshot = run_snapshots("loss", epochs=3)[0]
    render_loss(snapshot, tmp_path / "a.png")
    grown = dataclasses.replace(snapshot, epoch=2, history=np.r_[snapshot.history, 50.0])
    render_loss(grown, tmp_path / "b.png")
    assert cache.built == 2 and len(cache) == 1


def test_each_worker_keeps_a_bounded_number_of_live_plots(tmp_path, cache):
    snapshot = run_snapshots("loss", epochs=3)[0]
    for run in range(FigureCache.max_plots + 3):
        render_loss(dataclasses.replace(snapshot, run_id=f"run{run}"), tmp_path / "x.png")
    assert len(cache) == FigureCache.max_plots
    cache.release("run8")
    assert len(cache) == FigureCache.max_plots - 1


def test_a_snapshot_without_a_run_renders_fresh_and_is_not_kept(tmp_path, cache):
    snapshot = dataclasses.replace(run_snapshots("loss", epochs=2)[0], run_id="")
    render_loss(snapshot, tmp_path / "x.png")
    render_loss(snapshot, tmp_path / "x.png")
    assert len(cache) == 0 and cache.built == 2


def test_threads_each_draw_with_their_own_figures(tmp_path):
    snapshots = run_snapshots("fit", epochs=8)
    seen: dict[int, set[int]] = {}
    lock = threading.Lock()  # guards seen

    def render(index: int) -> Path:
        path = RENDERERS["fit"](snapshots[index], tmp_path / f"fit{index}.png")
        plots = {id(plot.figure) for plot in figure_cache()._plots.values()}
        with lock:
            seen.setdefault(threading.get_ident(), set()).update(plots)
        return path

    with ThreadPoolExecutor(max_workers=2) as pool:
        paths = list(pool.map(render, range(len(snapshots))))
    for path in paths:
        assert pixels(path).std() > 10
    figures = [figure for per_thread in seen.values() for figure in per_thread]
    assert len(figures) == len(set(figures))  # no figure in two threads' caches


def test_a_live_plot_on_a_task_queue_ends_with_the_last_epochs_frame(tmp_path, cache):
    X, y = regression_data()
    with TaskQueue(1, name="plots") as queue:
        plot = PlotCallback("loss", out_dir=tmp_path, executor=queue, coalesce=True)
        model = LinearRegressionGD(lr=0.05, epochs=30, random_state=0).fit(X, y, callbacks=[plot])
        queue.join(raise_errors=True)
    final = dataclasses.replace(model.snapshot(), run_id="")
    render_loss(final, tmp_path / "fresh.png")
    live = next(p for p in tmp_path.iterdir() if p.name != "fresh.png")
    assert np.array_equal(pixels(live), pixels(tmp_path / "fresh.png"))


def test_renderers_draw_in_a_process_pool(tmp_path):
    snapshots = run_snapshots("surface", epochs=4)
    context = multiprocessing.get_context(
        "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        futures = [pool.submit(RENDERERS["surface"], s, tmp_path / f"s{s.epoch}.png")
                   for s in snapshots]
        paths = [future.result(timeout=120) for future in futures]
    for path in paths:
        assert pixels(path).std() > 10


def test_renderers_pickle_as_themselves():
    for name, renderer in RENDERERS.items():
        assert pickle.loads(pickle.dumps(renderer)) is renderer
        assert renderer.name == name


# A model the renderers have never heard of: what suits it follows from its maths alone.
# (Built from logistic's maths, so that fields added to ModelMaths later are filled too.)
_QUADRATIC = register_model(dataclasses.replace(
    model_maths("logistic"),
    kind="test-quadratic-classifier",
    title="Quadratic classifier",
    raw_output=lambda params, X: (X**2) @ params["coef"] + params["intercept"],
    linear_in_params=False,
))


@pytest.mark.parametrize(("name", "n_features", "suits"), [
    ("loss", 5, True), ("fit", 1, True), ("fit", 2, False), ("boundary", 2, True),
    ("boundary", 3, False), ("surface", 2, False)])
def test_what_a_renderer_suits_follows_the_models_maths_not_its_name(name, n_features, suits):
    renderer = RENDERERS[name]
    assert isinstance(renderer, Renderer)
    assert renderer.suits(_QUADRATIC, n_features) is suits
    assert renderer.suits(_QUADRATIC.kind, n_features) is suits
    assert (renderer_problem(name, _QUADRATIC.kind, n_features) is None) is suits


def test_a_regression_models_maths_decide_the_boundary_plot():
    regression = dataclasses.replace(model_maths("linear"), kind="unregistered")
    assert "needs a logistic model" in RENDERERS["boundary"].problem(regression, 2)
    assert RENDERERS["surface"].suits(regression, 7)


def test_a_live_surface_past_two_parameters_keeps_its_background_across_most_frames(
        tmp_path, cache):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((120, 6))
    y = (X @ rng.standard_normal(6) > 0).astype(int)
    snapshots = []
    recorder = type("Recorder", (), {
        "on_epoch_end": lambda self, est, epoch: snapshots.append(est.snapshot())})()
    LogisticRegressionGD(lr=0.3, epochs=40, random_state=0).fit(X, y, callbacks=[recorder])
    for snapshot in snapshots:
        RENDERERS["surface"](snapshot, tmp_path / "surface.png")
    assert cache.built <= len(snapshots) // 4  # the ranges and levels grow in steps
    assert pixels(tmp_path / "surface.png").std() > 10
