"""Render dispatch on every kind of executor: waiting for one fit's renders, caller-side
coalescing of live plots, absolute plot folders, and renderers that cannot be sent."""

from __future__ import annotations

import multiprocessing
import os
import random
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest

from gdplot import LinearRegressionGD
from gdplot.plots.callbacks import GifCallback, PlotCallback
from gdplot.data.datasets import make_regression
from gdplot.plots.dispatch import RenderDispatcher, check_sendable
from taskqueue import TaskQueue

X, Y, _, _ = make_regression(60, 1, noise=0.5, random_state=0)
WAIT = 30  # seconds: reached only when something hangs


def train(callbacks, epochs: int = 10) -> LinearRegressionGD:
    return LinearRegressionGD(lr=0.1, epochs=epochs, random_state=0).fit(X, Y, callbacks=callbacks)


def epoch_recorder(snapshot, path) -> None:
    """Writes which epoch's frame landed (atomically, as the real renderers do)."""
    temp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    with open(temp, "w") as file:
        file.write(str(snapshot.epoch))
    os.replace(temp, path)


def jittery_recorder(snapshot, path) -> None:
    """Finishes after a random short delay, so a pool's workers finish out of order."""
    time.sleep(random.uniform(0, 0.004))
    epoch_recorder(snapshot, path)


def failing_on_even(snapshot, path) -> None:
    if snapshot.epoch % 2 == 0:
        raise OSError(f"disk full at epoch {snapshot.epoch}")
    epoch_recorder(snapshot, path)


@pytest.fixture(params=["taskqueue", "threads", "processes"])
def executor(request):
    if request.param == "taskqueue":
        made = TaskQueue(num_workers=2, name="test-dispatch", drain_at_exit=False)
        yield made
        made.close(cancel_pending=True, timeout=WAIT)
    elif request.param == "threads":
        with ThreadPoolExecutor(max_workers=3) as made:
            yield made
    else:
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as made:
            yield made


# --------------------------------------------------------------------------- wait


def test_wait_covers_every_render_of_the_fit_on_every_executor(tmp_path, executor):
    callback = PlotCallback(epoch_recorder, every=2, out_dir=tmp_path, executor=executor)
    train([callback], epochs=10)
    assert callback.wait(timeout=WAIT) is True
    assert callback.pending() == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"epoch_recorder_epoch{e:04d}.png" for e in (2, 4, 6, 8, 10)
    ]
    assert [p.read_text() for p in callback.paths] == ["2", "4", "6", "8", "10"]


def test_wait_raises_the_fits_failures_once_as_a_group(tmp_path, executor):
    callback = PlotCallback(failing_on_even, out_dir=tmp_path, executor=executor)
    train([callback], epochs=6)
    with pytest.raises(ExceptionGroup) as raised:
        callback.wait(timeout=WAIT, raise_errors=True)
    messages = sorted(str(e) for e in raised.value.exceptions)
    assert messages == [f"disk full at epoch {e}" for e in (2, 4, 6)]
    assert callback.failures == 3
    assert callback.wait(timeout=WAIT, raise_errors=True) is True  # raised once, not twice


def test_wait_times_out_while_a_render_is_still_running(tmp_path):
    release = threading.Event()

    def gated(snapshot, path):
        release.wait(WAIT)

    with TaskQueue(num_workers=1, drain_at_exit=False) as queue:
        callback = PlotCallback(gated, out_dir=tmp_path, executor=queue)
        train([callback], epochs=3)
        assert callback.wait(timeout=0.05) is False
        assert callback.pending() >= 1
        release.set()
        assert callback.wait(timeout=WAIT) is True
        assert callback.pending() == 0


def test_wait_ignores_other_work_on_a_shared_queue(tmp_path):
    other_work = threading.Event()
    with TaskQueue(num_workers=2, drain_at_exit=False) as queue:
        queue.add_task(other_work.wait, WAIT)  # somebody else's long task on the same queue
        callback = PlotCallback(epoch_recorder, out_dir=tmp_path, executor=queue)
        train([callback], epochs=4)
        assert callback.wait(timeout=WAIT) is True
        assert not other_work.is_set()
        other_work.set()


@pytest.mark.parametrize("overflow", ["drop_oldest", "drop_newest"])
def test_frames_dropped_by_the_queue_count_as_finished(tmp_path, overflow):
    release = threading.Event()

    def gated(snapshot, path):
        release.wait(WAIT)
        epoch_recorder(snapshot, path)

    with TaskQueue(num_workers=1, maxsize=2, overflow=overflow, drain_at_exit=False) as queue:
        callback = PlotCallback(gated, out_dir=tmp_path, executor=queue)
        train([callback], epochs=12)
        release.set()
        assert callback.wait(timeout=WAIT) is True  # never hangs on a frame that will not run
        assert queue.stats().dropped > 0
    written = len(list(tmp_path.iterdir()))
    assert written == 12 - queue.stats().dropped


def test_a_later_fit_does_not_wait_for_an_earlier_fits_renders(tmp_path):
    hold = threading.Event()
    hold.set()
    release = threading.Event()

    def gated(snapshot, path):
        if hold.is_set():
            release.wait(WAIT)

    with ThreadPoolExecutor(2) as pool:
        callback = PlotCallback(gated, every=100, out_dir=tmp_path, executor=pool)
        train([callback], epochs=2)  # its one frame is held at the gate
        assert callback.pending() == 1
        hold.clear()
        train([callback], epochs=2)
        assert callback.wait(timeout=WAIT) is True  # the first fit's frame is still held
        assert not release.is_set()
        release.set()


def test_inline_rendering_has_nothing_pending(tmp_path):
    callback = PlotCallback(epoch_recorder, out_dir=tmp_path)
    train([callback], epochs=3)
    assert callback.pending() == 0
    assert callback.wait(timeout=0) is True


@pytest.mark.parametrize("timeout", [-1, "soon", float("nan"), True])
def test_wait_refuses_a_bad_timeout(tmp_path, timeout):
    callback = PlotCallback(epoch_recorder, out_dir=tmp_path)
    with pytest.raises(ValueError, match="timeout must be None or a number >= 0"):
        callback.wait(timeout=timeout)


def test_gif_callback_waits_too(tmp_path):
    with TaskQueue(num_workers=1, drain_at_exit=False) as queue:
        gif = GifCallback("loss", tmp_path / "loss.gif", every=2, executor=queue)
        train([gif], epochs=4)
        assert gif.wait(timeout=WAIT) is True
    assert (tmp_path / "loss.gif").stat().st_size > 0


# --------------------------------------------------------------------------- coalescing


@pytest.mark.parametrize("workers", [2, 4])
def test_a_live_plot_on_a_plain_pool_always_ends_on_the_last_frame(tmp_path, workers):
    with ThreadPoolExecutor(workers) as pool:
        for run in range(20):
            out = tmp_path / f"run{run}"
            callback = PlotCallback(jittery_recorder, coalesce=True, out_dir=out, executor=pool)
            train([callback], epochs=30)
            assert callback.wait(timeout=WAIT, raise_errors=True)
            assert (out / "jittery_recorder.png").read_text() == "30", f"run {run}"


def test_a_live_plot_keeps_one_render_in_flight_and_only_the_newest_waiting(tmp_path):
    lock = threading.Lock()
    running = 0
    most_running = 0
    rendered: list[int] = []
    release = threading.Event()

    def counted(snapshot, path):
        nonlocal running, most_running
        with lock:
            running += 1
            most_running = max(most_running, running)
        release.wait(WAIT)
        time.sleep(0.002)
        with lock:
            running -= 1
            rendered.append(snapshot.epoch)

    with ThreadPoolExecutor(4) as pool:
        callback = PlotCallback(counted, coalesce=True, out_dir=tmp_path, executor=pool)
        train([callback], epochs=25)
        assert callback.pending() == 2  # the first frame in flight, the newest waiting
        release.set()
        assert callback.wait(timeout=WAIT)
    assert most_running == 1
    assert rendered == [1, 25]


def test_a_live_plot_submitted_after_the_pool_shut_down_is_a_counted_failure(tmp_path):
    release = threading.Event()

    def gated(snapshot, path):
        release.wait(WAIT)

    pool = ThreadPoolExecutor(1)
    callback = PlotCallback(gated, coalesce=True, out_dir=tmp_path, executor=pool)
    train([callback], epochs=3)
    pool.shutdown(wait=False)
    release.set()
    assert callback.wait(timeout=WAIT) is True
    assert callback.failures == 1
    assert isinstance(callback.errors[0], RuntimeError)
    pool.shutdown(wait=True)


# --------------------------------------------------------------------------- where files go


def test_a_relative_out_dir_is_fixed_when_the_callback_is_made(tmp_path, monkeypatch):
    (tmp_path / "caller").mkdir()
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "caller")
    callback = PlotCallback(epoch_recorder, out_dir="plots")
    assert callback.out_dir == tmp_path / "caller" / "plots"
    monkeypatch.chdir(tmp_path / "elsewhere")  # as a worker's own folder would be
    train([callback], epochs=2)
    assert sorted(p.name for p in (tmp_path / "caller" / "plots").iterdir()) == [
        "epoch_recorder_epoch0001.png",
        "epoch_recorder_epoch0002.png",
    ]
    assert not (tmp_path / "elsewhere" / "plots").exists()


# --------------------------------------------------------------------------- sendable


def test_an_unpicklable_renderer_fails_fit_before_the_first_epoch(tmp_path):
    submitted = []

    class CountingPool(ProcessPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):
            submitted.append(fn)
            return super().submit(fn, *args, **kwargs)

    with CountingPool(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        callback = PlotCallback(lambda snapshot, path: None, out_dir=tmp_path, executor=pool)
        model = LinearRegressionGD(epochs=5)
        with pytest.raises(TypeError, match=r"the renderer .*<lambda>.* cannot be pickled"):
            model.fit(X, Y, callbacks=[callback])
    assert submitted == []
    assert not hasattr(model, "n_iter_")


def test_thread_based_executors_take_any_renderer(tmp_path):
    with ThreadPoolExecutor(1) as pool:
        callback = PlotCallback(lambda s, p: epoch_recorder(s, p), out_dir=tmp_path,
                                executor=pool)
        train([callback], epochs=2)
        assert callback.wait(timeout=WAIT, raise_errors=True)
    assert len(list(tmp_path.iterdir())) == 2


def test_check_sendable_names_an_unpicklable_argument():
    with ProcessPoolExecutor(1) as pool:
        with pytest.raises(TypeError, match="a lock for the task epoch_recorder"):
            check_sendable(pool, epoch_recorder, threading.Lock())
        check_sendable(pool, epoch_recorder, 1, "x")  # fine: both pickle


def test_a_dispatcher_refuses_what_is_not_an_executor():
    with pytest.raises(TypeError, match="executor must be None, a TaskQueue or a"):
        RenderDispatcher(object())


def test_feature_names_must_match_the_features(tmp_path):
    callback = PlotCallback(epoch_recorder, out_dir=tmp_path, feature_names=["a", "b"])
    with pytest.raises(ValueError, match=r"feature_names has 2 names but X has 1 features"):
        train([callback], epochs=1)
    with pytest.raises(TypeError, match="feature_names must be a sequence of str"):
        PlotCallback(epoch_recorder, feature_names="ab")
    with pytest.raises(TypeError, match="target_name must be a str"):
        PlotCallback(epoch_recorder, target_name=3)
