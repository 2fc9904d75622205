"""Any exception a renderer raises is a plot failure, and so is a render the executor
refuses (broken or shut down): kept in ``plot.errors``, raised by ``wait(raise_errors=True)``,
and training goes on."""

from __future__ import annotations

from concurrent.futures import BrokenExecutor, Executor, ThreadPoolExecutor

import numpy as np
import pytest

from gdplot import LinearRegressionGD
from gdplot.plots.callbacks import PlotCallback
from taskqueue import TaskQueue

X = np.random.default_rng(0).standard_normal((40, 1))
Y = 2 * X[:, 0] + 1
WAIT = 30


def exits(snapshot, path):
    raise SystemExit(3)


def interrupts(snapshot, path):
    raise KeyboardInterrupt


def fails(snapshot, path):
    raise ValueError("renderer exploded")


def fit_with(plot: PlotCallback, epochs: int = 10) -> LinearRegressionGD:
    return LinearRegressionGD(lr=0.1, epochs=epochs, random_state=0).fit(X, Y, callbacks=[plot])


@pytest.fixture(params=["TaskQueue", "ThreadPoolExecutor"])
def executor(request):
    if request.param == "TaskQueue":
        made = TaskQueue(1, drain_at_exit=False, on_error=lambda failure: None)
        yield made
        made.close(cancel_pending=True, timeout=WAIT)
    else:
        made = ThreadPoolExecutor(1)
        yield made
        made.shutdown(wait=True, cancel_futures=True)


@pytest.mark.parametrize("renderer, error", [(exits, SystemExit), (interrupts, KeyboardInterrupt)])
def test_a_base_exception_from_a_renderer_on_a_worker_is_a_plot_failure(
    executor, renderer, error
):
    plot = PlotCallback(renderer, every=5, out_dir="unused", executor=executor)
    estimator = fit_with(plot)
    assert estimator.n_iter_ == 10
    assert plot.wait(timeout=WAIT)
    assert [type(e) for e in plot.errors] == [error, error]
    with pytest.raises(BaseExceptionGroup) as caught:
        plot.wait(raise_errors=True)
    assert [type(e) for e in caught.value.exceptions] == [error, error]
    assert plot.wait(raise_errors=True)  # raised once


def test_plain_failures_still_raise_an_exception_group(executor):
    plot = PlotCallback(fails, every=5, out_dir="unused", executor=executor)
    fit_with(plot)
    with pytest.raises(ExceptionGroup, match="2 plot render"):
        plot.wait(timeout=WAIT, raise_errors=True)


def test_inline_a_system_exit_is_a_failure_and_ctrl_c_still_stops_training():
    exiting = PlotCallback(exits, every=5, out_dir="unused")
    assert fit_with(exiting).n_iter_ == 10
    assert [type(e) for e in exiting.errors] == [SystemExit, SystemExit]

    interrupted = PlotCallback(interrupts, every=5, out_dir="unused")
    with pytest.raises(KeyboardInterrupt):  # on the training thread it is the user's Ctrl-C
        fit_with(interrupted)
    assert [type(e) for e in interrupted.errors] == [KeyboardInterrupt]


class BrokenAfter(Executor):
    """Runs ``n`` tasks inline, then refuses every submit as a broken pool does."""

    def __init__(self, n: int) -> None:
        self.left = n
        self.offered = 0

    def submit(self, fn, /, *args, **kwargs):
        self.offered += 1
        if self.left == 0:
            raise BrokenExecutor("a worker died")
        self.left -= 1
        with ThreadPoolExecutor(1) as inline:
            return inline.submit(fn, *args, **kwargs)


def drawn(snapshot, path):
    return None


@pytest.mark.parametrize("coalesce", [False, True])
def test_an_executor_that_breaks_mid_fit_fails_the_rest_and_training_goes_on(coalesce):
    pool = BrokenAfter(3)
    plot = PlotCallback(drawn, every=1, out_dir="unused", executor=pool, coalesce=coalesce)
    estimator = fit_with(plot, epochs=50)
    assert estimator.n_iter_ == 50
    assert plot.wait(timeout=WAIT)
    assert plot.pending() == 0
    assert plot.failures == 47 and all(isinstance(e, BrokenExecutor) for e in plot.errors)
    assert pool.offered == 4  # once refused, never offered again in this fit
    with pytest.raises(ExceptionGroup) as caught:
        plot.wait(raise_errors=True)
    assert len(caught.value.exceptions) == 47


def test_a_pool_shut_down_under_a_fit_fails_its_renders_not_the_fit():
    pool = ThreadPoolExecutor(1)
    pool.shutdown()
    plot = PlotCallback(drawn, every=2, out_dir="unused", executor=pool)
    assert fit_with(plot).n_iter_ == 10
    assert plot.failures == 5
    assert all(isinstance(e, RuntimeError) for e in plot.errors)


def test_a_task_queue_closed_under_a_fit_fails_its_renders_not_the_fit():
    queue = TaskQueue(1, drain_at_exit=False)
    queue.close()
    plot = PlotCallback(drawn, every=2, out_dir="unused", executor=queue)
    live = PlotCallback(drawn, every=1, out_dir="unused", executor=queue, coalesce=True)
    assert LinearRegressionGD(lr=0.1, epochs=10).fit(X, Y, callbacks=[plot, live]).n_iter_ == 10
    assert plot.failures == 5 and live.failures == 10
    assert all(isinstance(e, RuntimeError) for e in plot.errors + live.errors)
    assert plot.wait(timeout=WAIT) and live.wait(timeout=WAIT)  # nothing left counted


def test_a_broken_task_queue_fails_its_renders_not_the_fit():
    def initializer():
        raise OSError("no display")

    queue = TaskQueue(1, drain_at_exit=False, initializer=initializer,
                      on_error=lambda failure: None)
    try:
        # Broken once its worker has tried to start: a task's future then says so.
        assert isinstance(queue.submit(int).exception(timeout=WAIT), BrokenExecutor)
        plot = PlotCallback(drawn, every=1, out_dir="unused", executor=queue)
        assert LinearRegressionGD(lr=0.1, epochs=20).fit(X, Y, callbacks=[plot]).n_iter_ == 20
        assert plot.wait(timeout=WAIT)
        assert plot.failures == 20
        assert all(isinstance(e, BrokenExecutor) for e in plot.errors)
    finally:
        queue.close(cancel_pending=True, timeout=WAIT)
