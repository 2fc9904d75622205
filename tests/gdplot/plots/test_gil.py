"""Longer GIL slices while a fit's plots are drawn or shown off its training thread."""

from __future__ import annotations

import os
import sys
import warnings

import numpy as np
import pytest

from gdplot import LinearRegressionGD
from gdplot.plots import PlotCallback
from gdplot.plots.gil import SLICE_SECONDS, LongSlices
from taskqueue import TaskQueue


@pytest.fixture(autouse=True)
def default_interval():
    """Every test starts from CPython's default interval and leaves it as it found it."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    yield
    sys.setswitchinterval(before)


def test_the_interval_is_raised_while_any_holder_holds_and_put_back_after_the_last():
    first, second = LongSlices(), LongSlices()
    first.hold()
    assert sys.getswitchinterval() == pytest.approx(SLICE_SECONDS)
    second.hold()
    first.release()
    assert sys.getswitchinterval() == pytest.approx(SLICE_SECONDS)  # second still holds
    second.release()
    assert sys.getswitchinterval() == pytest.approx(0.005)


def test_hold_and_release_are_idempotent():
    holder, other = LongSlices(), LongSlices()
    holder.hold()
    holder.hold()
    other.hold()
    holder.release()
    holder.release()  # a second release must not take other's hold away
    assert sys.getswitchinterval() == pytest.approx(SLICE_SECONDS)
    other.release()
    assert sys.getswitchinterval() == pytest.approx(0.005)
    LongSlices().release()  # never held: nothing happens
    assert sys.getswitchinterval() == pytest.approx(0.005)


def test_an_interval_changed_meanwhile_is_left_alone():
    holder = LongSlices()
    holder.hold()
    sys.setswitchinterval(0.02)  # the program's own choice, made during the fit
    holder.release()
    assert sys.getswitchinterval() == pytest.approx(0.02)


def test_a_longer_interval_already_set_is_kept():
    sys.setswitchinterval(0.2)
    holder = LongSlices()
    holder.hold()
    assert sys.getswitchinterval() == pytest.approx(0.2)
    holder.release()
    assert sys.getswitchinterval() == pytest.approx(0.2)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_starts_with_the_interval_the_parent_found():
    holder = LongSlices()
    holder.hold()
    read, write = os.pipe()
    with warnings.catch_warnings():  # 3.12+ warns of forking a process with threads
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: the fork happened while the parent held
        try:
            before = sys.getswitchinterval()
            again = LongSlices()
            again.hold()
            holder.release()  # held in the parent: in the child it holds nothing
            raised = sys.getswitchinterval()  # still raised: again holds
            again.release()
            os.write(write, f"{before} {raised} {sys.getswitchinterval()}".encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        before, raised, after = map(float, pipe.read().split())
    os.waitpid(pid, 0)
    holder.release()
    assert before == pytest.approx(0.005)
    assert raised == pytest.approx(SLICE_SECONDS)
    assert after == pytest.approx(0.005)


# -- in a fit -------------------------------------------------------------------------------------


class IntervalProbe:
    """Records the switch interval at every epoch, from the training thread."""

    def __init__(self, fail_at=None):
        self.seen, self.fail_at = [], fail_at

    def on_epoch_end(self, estimator, epoch):
        self.seen.append(sys.getswitchinterval())
        if epoch == self.fail_at:
            raise KeyboardInterrupt  # as Ctrl-C would, in the middle of training


def line(n=200):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 1))
    return X, 2 * X[:, 0] + 1


def test_a_fit_rendering_on_a_thread_draws_in_long_slices_and_puts_the_interval_back(tmp_path):
    X, y = line()
    probe = IntervalProbe()
    with TaskQueue(1) as queue:
        callback = PlotCallback("loss", every=2, out_dir=tmp_path, executor=queue)
        LinearRegressionGD(epochs=4).fit(X, y, callbacks=[callback, probe])
        callback.wait(30)
    assert probe.seen == pytest.approx([SLICE_SECONDS] * 4)
    assert sys.getswitchinterval() == pytest.approx(0.005)
    assert len(list(tmp_path.glob("*.png"))) == 2


def test_a_fit_rendering_inline_leaves_the_interval_alone(tmp_path):
    X, y = line()
    probe = IntervalProbe()
    callback = PlotCallback("loss", every=2, out_dir=tmp_path)
    LinearRegressionGD(epochs=2).fit(X, y, callbacks=[callback, probe])
    assert probe.seen == pytest.approx([0.005] * 2)


def test_a_failed_fit_puts_the_interval_back(tmp_path):
    X, y = line()
    probe = IntervalProbe(fail_at=2)
    with TaskQueue(1) as queue:
        callback = PlotCallback("loss", every=1, out_dir=tmp_path, executor=queue)
        with pytest.raises(KeyboardInterrupt):
            LinearRegressionGD(epochs=5).fit(X, y, callbacks=[callback, probe])
        assert sys.getswitchinterval() == pytest.approx(0.005)
        # The callback is whole: the next fit holds and lets go again.
        probe = IntervalProbe()
        LinearRegressionGD(epochs=2).fit(X, y, callbacks=[callback, probe])
        callback.wait(30)
    assert probe.seen == pytest.approx([SLICE_SECONDS] * 2)
    assert sys.getswitchinterval() == pytest.approx(0.005)
