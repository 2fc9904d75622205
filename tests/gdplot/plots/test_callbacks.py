"""Plot callbacks: inline, on a TaskQueue, on any Executor; failures never stop training."""

from __future__ import annotations

import io
import logging
import multiprocessing
import shutil
import threading
import types
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, wait

import numpy as np
import pytest
from PIL import Image

from gdplot import LinearRegressionGD, LogisticRegressionGD, MLPRegressorGD
from gdplot.plots import live_plot
from gdplot.plots.callbacks import GifCallback, PlotCallback, render_gif
from gdplot.data.datasets import make_classification, make_regression
from gdplot.plots.renderers import render_loss
from taskqueue import TaskQueue

X, Y, _, _ = make_regression(60, 1, noise=0.5, random_state=0)


def train(callbacks, epochs: int = 10, **params) -> LinearRegressionGD:
    return LinearRegressionGD(lr=0.1, epochs=epochs, random_state=0, **params).fit(
        X, Y, callbacks=callbacks
    )


def assert_png(path) -> None:
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert len(np.unique(np.asarray(image.convert("L")))) > 10


def names(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


class RecordingExecutor:
    """An Executor that only records what it is given: proves nothing ran on submit."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def submit(self, fn, /, *args, **kwargs) -> Future:
        self.calls.append((fn, args, kwargs))
        return Future()


@pytest.fixture
def queue():
    q = TaskQueue(num_workers=1, name="test-plots")
    yield q
    q.close(cancel_pending=True)


def epoch_recorder(snapshot, path) -> None:
    """A module-level renderer that writes the snapshot's epoch (checks which frame landed)."""
    path.write_text(str(snapshot.epoch))


# --------------------------------------------------------------------------- when and where


@pytest.mark.parametrize(
    ("every", "epochs", "expected"),
    [
        (3, 10, [3, 6, 9, 10]),  # the last epoch is always plotted
        (5, 10, [5, 10]),  # ... but not twice
        (1, 3, [1, 2, 3]),
        (20, 4, [4]),
    ],
)
def test_frames_after_every_nth_epoch_and_the_last(tmp_path, every, epochs, expected):
    callback = PlotCallback("loss", every=every, out_dir=tmp_path / "plots")
    train([callback], epochs=epochs)
    expected_names = [f"loss_epoch{e:04d}.png" for e in expected]
    assert [p.name for p in callback.paths] == expected_names
    assert names(tmp_path / "plots") == expected_names
    for path in callback.paths:
        assert_png(path)
    assert callback.failures == 0


def test_built_in_kinds_render_real_training_state(tmp_path):
    kinds = ["loss", "fit", "surface"]
    callbacks = [
        PlotCallback(kind, every=5, out_dir=tmp_path, prefix="run_", label="batch")
        for kind in kinds
    ]
    train(callbacks, epochs=5)
    assert names(tmp_path) == [f"run_{kind}_epoch0005.png" for kind in sorted(kinds)]
    for path in tmp_path.iterdir():
        assert_png(path)


def test_coalesce_keeps_one_live_file_with_the_last_frame(tmp_path):
    callback = PlotCallback(epoch_recorder, coalesce=True, out_dir=tmp_path, prefix="live_")
    train([callback], epochs=6)
    assert names(tmp_path) == ["live_epoch_recorder.png"]
    assert (tmp_path / "live_epoch_recorder.png").read_text() == "6"
    assert callback.paths == [tmp_path / "live_epoch_recorder.png"]  # listed once


def test_a_callable_kind_gets_the_snapshot_with_the_label(tmp_path):
    seen = []

    def my_plot(snapshot, path):
        seen.append((snapshot.epoch, snapshot.label, path.name))

    train([PlotCallback(my_plot, every=2, out_dir=tmp_path, label="experiment")], epochs=4)
    assert seen == [
        (2, "experiment", "my_plot_epoch0002.png"),
        (4, "experiment", "my_plot_epoch0004.png"),
    ]


def test_out_dir_is_created_with_parents(tmp_path):
    out = tmp_path / "a" / "b"
    train([PlotCallback("loss", every=10, out_dir=out)], epochs=10)
    assert names(out) == ["loss_epoch0010.png"]


def test_a_refit_starts_a_fresh_list_of_paths(tmp_path):
    callback = PlotCallback("loss", every=2, out_dir=tmp_path)
    train([callback], epochs=2)
    train([callback], epochs=4)
    assert [p.name for p in callback.paths] == ["loss_epoch0002.png", "loss_epoch0004.png"]


# --------------------------------------------------------------------------- failures


def test_inline_render_failures_are_logged_and_counted_but_training_finishes(tmp_path, caplog):
    def broken(snapshot, path):
        raise RuntimeError(f"cannot draw epoch {snapshot.epoch}")

    callback = PlotCallback(broken, every=2, out_dir=tmp_path)
    with caplog.at_level(logging.ERROR, logger="gdplot"):
        model = train([callback], epochs=6)
    assert model.n_iter_ == 6
    assert callback.failures == 3
    assert [str(e) for e in callback.errors] == [f"cannot draw epoch {e}" for e in (2, 4, 6)]
    assert len([r for r in caplog.records if r.name == "gdplot"]) == 3
    assert names(tmp_path) == []


class ReplaceFolderWithFile:
    """Runs after PlotCallback.on_train_begin: the plot folder vanishes under a file."""

    def __init__(self, folder) -> None:
        self.folder = folder

    def on_train_begin(self, estimator) -> None:
        shutil.rmtree(self.folder)
        self.folder.write_text("not a folder any more")


def failing_render(snapshot, path) -> None:
    raise OSError(f"cannot write epoch {snapshot.epoch}")


def test_failures_are_counted_per_fit_even_with_renders_still_running(tmp_path, caplog):
    release = threading.Event()

    def slow_failing_render(snapshot, path):
        release.wait(10)
        failing_render(snapshot, path)

    with ThreadPoolExecutor(1) as pool, caplog.at_level(logging.CRITICAL, logger="gdplot"):
        callback = PlotCallback(slow_failing_render, every=1, out_dir=tmp_path, executor=pool)
        train([callback], epochs=3)
        first_futures = callback.futures
        callback.render = failing_render
        train([callback], epochs=2)  # the first fit's renders are still waiting
        release.set()
        wait(first_futures + callback.futures, timeout=10)
    assert callback.failures == 2  # this fit's two frames, not the first fit's three


def test_an_unwritable_plot_folder_does_not_stop_training(tmp_path):
    out = tmp_path / "plots"
    callback = PlotCallback("loss", every=1, out_dir=out)
    model = train([callback, ReplaceFolderWithFile(out)], epochs=3)
    assert model.n_iter_ == 3
    assert callback.failures == 3
    assert all(isinstance(e, NotADirectoryError) for e in callback.errors)


def test_an_out_dir_that_cannot_be_created_fails_before_training_naming_it(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    model = LinearRegressionGD(epochs=3)
    with pytest.raises(OSError, match=r"out_dir='.*file\.txt/plots'"):
        model.fit(X, Y, callbacks=[PlotCallback("loss", out_dir=blocker / "plots")])
    assert not hasattr(model, "n_iter_")


def test_queued_failures_surface_through_join(tmp_path, queue):
    def broken(snapshot, path):
        raise ValueError(f"bad frame {snapshot.epoch}")

    model = train([PlotCallback(broken, every=5, out_dir=tmp_path, executor=queue)], epochs=10)
    assert model.n_iter_ == 10
    with pytest.raises(ExceptionGroup) as caught:
        queue.join(raise_errors=True)
    assert sorted(str(e) for e in caught.value.exceptions) == ["bad frame 10", "bad frame 5"]


def test_queued_failures_reach_on_error(tmp_path):
    failures = []
    with TaskQueue(num_workers=1, on_error=failures.append) as q:

        def broken(snapshot, path):
            raise OSError("disk full")

        train([PlotCallback(broken, every=10, out_dir=tmp_path, executor=q)], epochs=10)
        q.join()
    assert [str(f.exception) for f in failures] == ["disk full"]


def test_executor_failures_are_logged_and_counted_from_futures(tmp_path, caplog):
    def broken(snapshot, path):
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR, logger="gdplot"), ThreadPoolExecutor(2) as pool:
        callback = PlotCallback(broken, every=2, out_dir=tmp_path, executor=pool)
        train([callback], epochs=4)
        wait(callback.futures)
    assert len(callback.futures) == 2
    assert callback.failures == 2
    assert sum("boom" in str(r.exc_info[1]) for r in caplog.records if r.name == "gdplot") == 2


# ---------------------------------------------------------------- off the training thread


def test_with_an_executor_the_training_thread_only_snapshots_and_enqueues(tmp_path):
    executor = RecordingExecutor()
    callback = PlotCallback("surface", every=2, out_dir=tmp_path / "plots", executor=executor)
    train([callback], epochs=4)
    assert names(tmp_path / "plots") == []  # the folder exists; nothing was drawn or written
    assert [(fn, args[1].name) for fn, args, _ in executor.calls] == [
        (callback.render, "surface_epoch0002.png"),
        (callback.render, "surface_epoch0004.png"),
    ]
    assert [args[0].epoch for _, args, _ in executor.calls] == [2, 4]


def test_queued_renders_run_on_worker_threads(tmp_path, queue):
    threads = []

    def where(snapshot, path):
        threads.append(threading.current_thread())

    train([PlotCallback(where, out_dir=tmp_path, executor=queue)], epochs=5)
    queue.join(raise_errors=True)
    assert len(threads) == 5
    assert threading.main_thread() not in threads and threading.current_thread() not in threads


class CoefRecorder:
    """Records the live parameters at each epoch end, independently of the snapshots."""

    def __init__(self) -> None:
        self.by_epoch: dict[int, np.ndarray] = {}

    def on_epoch_end(self, estimator, epoch) -> None:
        self.by_epoch[epoch] = np.append(estimator.coef_, estimator.intercept_)


@pytest.mark.parametrize("executor_kind", ["taskqueue", "threadpool"])
def test_a_slow_renderer_sees_its_epochs_params_while_training_moves_on(tmp_path, executor_kind):
    training_done = threading.Event()
    rendered: dict[int, np.ndarray] = {}

    def slow(snapshot, path):
        # Render only after training has finished (and overwritten the live parameters).
        assert training_done.wait(timeout=30)
        rendered[snapshot.epoch] = np.append(snapshot.params["coef"], snapshot.params["intercept"])

    executor = TaskQueue(num_workers=2) if executor_kind == "taskqueue" else ThreadPoolExecutor(2)
    recorder = CoefRecorder()
    with executor:
        train(
            [PlotCallback(slow, every=1, out_dir=tmp_path, executor=executor), recorder], epochs=8
        )
        training_done.set()
    assert sorted(rendered) == list(range(1, 9))
    for epoch, params in rendered.items():
        np.testing.assert_array_equal(params, recorder.by_epoch[epoch])
    assert not np.array_equal(rendered[1], rendered[8])  # training did move on


def test_coalesce_on_a_taskqueue_renders_the_latest_frame_and_skips_stale_ones(tmp_path, queue):
    release = threading.Event()
    rendered = []

    def gated(snapshot, path):
        assert release.wait(timeout=30)
        rendered.append(snapshot.epoch)
        epoch_recorder(snapshot, path)

    callback = PlotCallback(gated, coalesce=True, out_dir=tmp_path, executor=queue)
    train([callback], epochs=20)
    release.set()
    queue.join(raise_errors=True)
    # At most the frame already running plus the newest one; the rest were replaced.
    assert 1 <= len(rendered) <= 2
    assert rendered[-1] == 20
    assert (tmp_path / "gated.png").read_text() == "20"
    assert queue.stats().coalesced == 20 - len(rendered)


def test_a_process_pool_renders_pickled_snapshots(tmp_path):
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        callback = PlotCallback("fit", every=3, out_dir=tmp_path, executor=pool)
        train([callback], epochs=6)
        done, _ = wait(callback.futures)
    assert all(f.exception() is None for f in done)
    assert names(tmp_path) == ["fit_epoch0003.png", "fit_epoch0006.png"]
    for path in callback.paths:
        assert_png(path)


# --------------------------------------------------------------------------- fail fast

ESTIMATORS = {
    "linear": LinearRegressionGD,
    "logistic": LogisticRegressionGD,
    "mlp": MLPRegressorGD,
}


def data_for(model: str, n_features: int) -> tuple[np.ndarray, np.ndarray]:
    if model == "logistic":
        Xc, yc = make_classification(60, random_state=0)
        return Xc[:, :n_features], yc
    Xr, yr, _, _ = make_regression(60, n_features, random_state=0)
    return Xr, yr


INCOMPATIBLE = [
    ("fit", "linear", 2, "the 'fit' plot needs exactly 1 feature, got 2 features"),
    ("fit", "logistic", 2, "the 'fit' plot needs exactly 1 feature, got 2 features"),
    ("fit", "mlp", 2, "the 'fit' plot needs exactly 1 feature, got 2 features"),
    ("boundary", "linear", 2, "the 'boundary' plot needs a logistic model .*model='linear'"),
    ("boundary", "logistic", 1, "the 'boundary' plot needs .*exactly 2 features.* 1 features"),
    ("boundary", "mlp", 2, "the 'boundary' plot needs a logistic model .*model='mlp'"),
    ("surface", "mlp", 1, "the 'surface' plot needs a linear or logistic model.*model='mlp'"),
]


@pytest.mark.parametrize("callback_type", [PlotCallback, GifCallback])
@pytest.mark.parametrize(("kind", "model", "n_features", "message"), INCOMPATIBLE)
def test_a_plot_that_cannot_draw_the_model_fails_fit_before_the_first_epoch(
    tmp_path, callback_type, kind, model, n_features, message
):
    out = tmp_path / "plots"
    executor = RecordingExecutor()
    if callback_type is PlotCallback:
        plot = PlotCallback(kind, out_dir=out, executor=executor)
    else:
        plot = GifCallback(kind, out / "run.gif", executor=executor)
    epochs_run: list[int] = []
    recorder = types.SimpleNamespace(on_epoch_end=lambda estimator, epoch: epochs_run.append(epoch))
    estimator = ESTIMATORS[model](epochs=3, random_state=0)
    with pytest.raises(ValueError, match=message):
        estimator.fit(*data_for(model, n_features), callbacks=[plot, recorder])
    assert epochs_run == [] and executor.calls == []
    assert not out.exists()
    assert not hasattr(estimator, "n_iter_")


def test_custom_renderers_are_not_checked_before_training(tmp_path):
    def fit(snapshot, path):  # shares a built-in's name, draws anything
        path.write_text(str(snapshot.epoch))

    X2, y2 = data_for("linear", 2)
    callback = PlotCallback(fit, every=2, out_dir=tmp_path)
    LinearRegressionGD(lr=0.1, epochs=4, random_state=0).fit(X2, y2, callbacks=[callback])
    assert names(tmp_path) == ["fit_epoch0002.png", "fit_epoch0004.png"]
    assert callback.failures == 0


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"kind": "histogram"},
            ValueError,
            r"kind must be one of \['boundary', 'fit', 'loss', 'surface'\].*'histogram'",
        ),
        ({"kind": 3}, TypeError, "kind must be a renderer name or a callable, got int"),
        ({"kind": "loss", "every": 0}, ValueError, "every must be an int >= 1, got every=0"),
        ({"kind": "loss", "every": 2.0}, TypeError, "every must be an int >= 1, got every=2.0"),
        ({"kind": "loss", "every": True}, TypeError, "every=True"),
        (
            {"kind": "loss", "executor": object()},
            TypeError,
            "executor must be None, a TaskQueue or a concurrent.futures.Executor, got object",
        ),
        ({"kind": "loss", "out_dir": 5}, TypeError, "out_dir must be a path, got int 5"),
    ],
)
def test_plot_callback_rejects_bad_arguments_by_name(kwargs, error, message):
    kind = kwargs.pop("kind")
    with pytest.raises(error, match=message):
        PlotCallback(kind, **kwargs)


# --------------------------------------------------------------------------- GIF


def gif_frames_and_loop(path) -> tuple[int, int | None]:
    with Image.open(path) as image:
        assert image.format == "GIF"
        return image.n_frames, image.info.get("loop")


def test_gif_callback_enqueues_one_task_for_the_whole_run(tmp_path):
    executor = RecordingExecutor()
    callback = GifCallback("loss", tmp_path / "run.gif", every=3, executor=executor)
    train([callback], epochs=10)
    assert len(executor.calls) == 1
    fn, (render, snapshots, path, seconds), _ = executor.calls[0]
    assert fn is render_gif and render is render_loss and path == tmp_path / "run.gif"
    assert [s.epoch for s in snapshots] == [0, 3, 6, 9, 10]  # from the start
    assert names(tmp_path) == []


def test_gif_of_a_logistic_run_on_a_queue(tmp_path, queue):
    Xc, yc = make_classification(80, random_state=0)
    callback = GifCallback(
        "boundary", tmp_path / "boundary.gif", every=2, executor=queue, frame_seconds=0.1
    )
    LogisticRegressionGD(lr=0.5, epochs=6, random_state=0).fit(Xc, yc, callbacks=[callback])
    queue.join(raise_errors=True)
    assert gif_frames_and_loop(tmp_path / "boundary.gif") == (4, 0)  # epochs 0, 2, 4, 6; loops
    assert names(tmp_path) == ["boundary.gif"]


def test_surface_gif_frames_share_their_axes(tmp_path, monkeypatch):
    figures = []
    new_figure = live_plot.new_figure

    def recording_new_figure(*args, **kwargs):
        figures.append(new_figure(*args, **kwargs))
        return figures[-1]

    monkeypatch.setattr(live_plot, "new_figure", recording_new_figure)
    Xc, yc = make_classification(80, random_state=0)
    callback = GifCallback("surface", tmp_path / "surface.gif", every=1)
    # Logistic: no optimum in view, so each frame's own path would give it its own axes.
    LogisticRegressionGD(lr=0.5, epochs=4, random_state=0).fit(Xc, yc, callbacks=[callback])
    assert callback.failures == 0
    assert gif_frames_and_loop(tmp_path / "surface.gif") == (5, 0)
    limits = {(fig.axes[0].get_xlim(), fig.axes[0].get_ylim()) for fig in figures}
    assert len(figures) == 5 and len(limits) == 1


def test_gif_inline_failure_is_counted_and_leaves_no_file(tmp_path):
    def broken(snapshot, path):
        raise RuntimeError("no")

    callback = GifCallback(broken, tmp_path / "x.gif", every=1)
    model = train([callback], epochs=2)
    assert model.n_iter_ == 2 and callback.failures == 1
    assert names(tmp_path) == []


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"every": 0}, ValueError, "every=0"),
        (
            {"frame_seconds": 0},
            ValueError,
            "frame_seconds must be a finite number > 0, got frame_seconds=0",
        ),
        ({"path": None}, TypeError, "path must be a path, got NoneType"),
    ],
)
def test_gif_callback_rejects_bad_arguments_by_name(tmp_path, kwargs, error, message):
    arguments = {"path": tmp_path / "a.gif", **kwargs}
    with pytest.raises(error, match=message):
        GifCallback("loss", **arguments)
