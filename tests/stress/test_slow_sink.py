"""A producer 100x faster than its consumer: with a bound, memory stays bounded, newest wins.

The consumer is slowed deterministically, not with sleeps: it may render one item per
token, and the producer hands out one token per 100 items it offers. Each item owns a
buffer of a known size that counts itself while alive, so the peak of that count shows how
many items the queue held at once (tracemalloc's peak would also count whatever any other
thread of the test process allocates meanwhile).
"""

from __future__ import annotations

import threading
import weakref

import numpy as np
import pytest

WAIT = 30
RATIO = 100  # items offered per item the consumer may render while the producer runs


class CountedBuffer(bytearray):
    """A buffer that counts how many of its kind are alive, and the most ever alive at once."""

    _lock = threading.Lock()  # guards alive and peak: buffers die on the worker thread
    alive = 0
    peak = 0

    def __init__(self, size: int) -> None:
        super().__init__(size)
        with CountedBuffer._lock:
            CountedBuffer.alive += 1
            CountedBuffer.peak = max(CountedBuffer.peak, CountedBuffer.alive)

    def __del__(self) -> None:
        with CountedBuffer._lock:
            CountedBuffer.alive -= 1

    @classmethod
    def restart(cls) -> None:
        with cls._lock:
            cls.peak = cls.alive


def feed_slow_consumer(q, items: int, item_bytes: int, *, latest: bool) -> tuple[list[int], int]:
    """Offer ``items`` buffers of ``item_bytes`` to ``q``; return (indexes rendered, peak
    bytes of buffers alive at once)."""
    rendered: list[int] = []
    tokens = threading.Semaphore(0)

    def render(buffer: bytearray, index: int) -> None:
        tokens.acquire()
        assert len(buffer) == item_bytes
        rendered.append(index)

    CountedBuffer.restart()
    for index in range(items):
        buffer = CountedBuffer(item_bytes)
        if latest:
            q.add_latest("live", render, buffer, index)
        else:
            q.add_task(render, buffer, index)
        del buffer
        if index % RATIO == RATIO - 1:
            tokens.release()
    tokens.release(items)  # production is over: let the consumer finish
    assert q.join(WAIT)
    return rendered, CountedBuffer.peak * item_bytes


def check_bounded_and_newest_wins(make_queue, check_accounted, *, items, item_bytes, maxsize,
                                  overflow, latest):
    bounded = make_queue(1, maxsize, overflow=overflow, name="bounded")
    rendered, bounded_peak = feed_slow_consumer(bounded, items, item_bytes, latest=latest)
    unbounded = make_queue(1, name="unbounded")
    everything, unbounded_peak = feed_slow_consumer(unbounded, items, item_bytes, latest=False)

    # The bound holds: maxsize pending + one running + one being offered + one being
    # dropped (+ one the worker has taken but not yet let go of).
    slots = max(maxsize, 1) + 4
    assert bounded_peak <= slots * item_bytes, (bounded_peak, slots * item_bytes)
    # The unbounded queue really did pile up (nearly) every item: the difference is real.
    assert unbounded_peak > items * item_bytes / 2
    assert unbounded_peak > 10 * bounded_peak

    assert everything == list(range(items))
    assert rendered[-1] == items - 1, "the newest item was not the last one rendered"
    assert rendered == sorted(rendered) and len(set(rendered)) == len(rendered)
    stats = bounded.stats()
    check_accounted(stats, items)
    assert stats.completed == len(rendered) < items / 2
    assert stats.dropped + stats.coalesced == items - len(rendered)
    print(f"\n{items} items of {item_bytes // 1024} KiB, {overflow} maxsize={maxsize} "
          f"latest={latest}: peak {bounded_peak / 2**10:.0f} KiB bounded vs "
          f"{unbounded_peak / 2**20:.1f} MiB unbounded; rendered {len(rendered)}, "
          f"dropped {stats.dropped}, coalesced {stats.coalesced}")
    return rendered


CASES = [
    pytest.param(8, "drop_oldest", False, id="drop_oldest"),
    pytest.param(0, "block", True, id="add_latest-unbounded"),
    pytest.param(4, "drop_oldest", True, id="add_latest-drop_oldest"),
]


@pytest.mark.parametrize(("maxsize", "overflow", "latest"), CASES)
def test_slow_sink_memory_is_bounded_and_the_newest_item_is_rendered(
        make_queue, check_accounted, maxsize, overflow, latest):
    rendered = check_bounded_and_newest_wins(
        make_queue, check_accounted, items=2_000, item_bytes=16 * 1024,
        maxsize=maxsize, overflow=overflow, latest=latest)
    if not latest:  # drop_oldest keeps the newest maxsize items, which all get rendered
        assert rendered[-maxsize:] == list(range(2_000 - maxsize, 2_000))


@pytest.mark.slow
@pytest.mark.parametrize(("maxsize", "overflow", "latest"), CASES)
def test_slow_sink_long(make_queue, check_accounted, maxsize, overflow, latest):
    check_bounded_and_newest_wins(
        make_queue, check_accounted, items=50_000, item_bytes=4 * 1024,
        maxsize=maxsize, overflow=overflow, latest=latest)


# -- the same through gdplot: a live plot behind a slow renderer --------------------------------


def train_behind_a_slow_renderer(make_queue, out_dir, *, coalesce: bool, epochs: int):
    """Train with one PlotCallback per epoch whose renderer runs once per 100 epochs.

    Returns (epochs rendered, the most snapshots alive at once). Each queued frame holds a
    snapshot: its parameters, and read-only windows on the run's loss history and parameter
    path, which grow with the epoch, as real ones do.
    """
    from gdplot import LinearRegressionGD
    from gdplot.plots.callbacks import PlotCallback

    tokens = threading.Semaphore(0)
    rendered: list[int] = []
    lock = threading.Lock()  # guards alive and most: snapshots die on the worker thread
    alive = most = 0

    def released() -> None:
        nonlocal alive
        with lock:
            alive -= 1

    class CountedSnapshots(LinearRegressionGD):
        def snapshot(self, label=""):
            nonlocal alive, most
            snapshot = super().snapshot(label)
            with lock:
                alive += 1
                most = max(most, alive)
            weakref.finalize(snapshot, released)
            return snapshot

    def slow_render(snapshot, path):
        tokens.acquire()
        rendered.append(snapshot.epoch)

    class Throttle:
        def on_epoch_end(self, estimator, epoch):
            if epoch % RATIO == 0:
                tokens.release()

    q = make_queue(1, name=f"live-{coalesce}")
    plot = PlotCallback(slow_render, coalesce=coalesce, out_dir=out_dir, executor=q)
    X = np.linspace(-1, 1, 50).reshape(-1, 1)
    CountedSnapshots(lr=0.01, epochs=epochs).fit(X, 2 * X[:, 0], callbacks=[plot, Throttle()])
    tokens.release(epochs)
    assert q.join(WAIT)
    return rendered, most


@pytest.mark.parametrize("epochs", [pytest.param(2_000, id="2000-epochs"),
                                    pytest.param(5_000, id="5000-epochs", marks=pytest.mark.slow)])
def test_a_live_plot_behind_a_slow_renderer_keeps_memory_bounded(make_queue, tmp_path, epochs):
    live, live_most = train_behind_a_slow_renderer(make_queue, tmp_path, coalesce=True,
                                                   epochs=epochs)
    every, every_most = train_behind_a_slow_renderer(make_queue, tmp_path, coalesce=False,
                                                     epochs=epochs)
    assert every == list(range(1, epochs + 1))  # one frame per epoch, all of them queued
    assert live[-1] == epochs, "the live plot does not show the last epoch"
    assert len(live) < epochs / 2
    # Queued, every frame's snapshot waits: ~99% of them alive at once. The live plot holds
    # one rendering, one waiting and the one being handed over, whatever the run's length.
    assert every_most > 0.9 * epochs
    assert live_most <= 4
    print(f"\n{epochs} epochs: at most {live_most} snapshots alive with a live plot, "
          f"{every_most} with every frame queued; rendered {len(live)} frames")
