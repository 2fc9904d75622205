"""add_task: every task runs exactly once, from any number of producers, and is counted."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest

WAIT = 10  # seconds: generous bounds so a broken queue fails instead of hanging


def test_every_task_runs_exactly_once_in_order_with_one_worker(make_queue):
    q = make_queue(1)
    seen = []
    for i in range(500):
        q.add_task(seen.append, i)
    assert q.join(WAIT)
    assert seen == list(range(500))


def test_keyword_arguments_named_like_parameters_reach_the_task(make_queue):
    q = make_queue(1)
    got = []
    q.add_task(lambda *a, **kw: got.append((a, kw)), 1, 2, task="t", fn="f", key="k", timeout=3)
    q.add_latest("x", lambda **kw: got.append(kw), task="latest")
    assert q.join(WAIT)
    assert got == [((1, 2), {"task": "t", "fn": "f", "key": "k", "timeout": 3}), {"task": "latest"}]


@pytest.mark.parametrize("method", ["add_task", "submit"])
def test_a_non_callable_task_is_a_type_error_in_the_caller(make_queue, method):
    q = make_queue(1)
    with pytest.raises(TypeError, match="callable.*42"):
        getattr(q, method)(42)
    with pytest.raises(TypeError, match="callable"):
        q.add_latest("key", "not callable")
    with pytest.raises(TypeError, match="key must be hashable"):
        q.add_latest(["unhashable"], print)
    assert q.stats().submitted == 0


@pytest.mark.parametrize("num_workers", [1, 2, 4])
def test_many_producers_lose_no_task(make_queue, num_workers):
    q = make_queue(num_workers)
    counts = [0] * 8
    lock = threading.Lock()  # guards counts

    def count(producer):
        with lock:
            counts[producer] += 1

    def produce(producer):
        for _ in range(2_000):
            q.add_task(count, producer)

    producers = [threading.Thread(target=produce, args=(p,)) for p in range(8)]
    for t in producers:
        t.start()
    for t in producers:
        t.join()
    assert q.join(WAIT)
    assert counts == [2_000] * 8
    stats = q.stats()
    assert stats.submitted == stats.completed == 16_000
    assert (stats.pending, stats.running) == (0, 0)


def test_the_queue_keeps_no_reference_to_a_task_after_it_ran(make_queue):
    q = make_queue(1, on_error=lambda failure: None)

    class Payload:
        pass

    def fail(payload):
        raise ValueError("rendering failed")

    refs = []
    for task in (lambda payload: None, fail):
        payload = Payload()
        refs.append(weakref.ref(payload))
        q.add_task(task, payload)
        del payload
    future_payload = Payload()
    refs.append(weakref.ref(future_payload))
    q.submit(lambda payload: None, future_payload).result(WAIT)
    del future_payload
    assert q.join(WAIT)
    gc.collect()
    assert [ref() for ref in refs] == [None, None, None]


def test_stats_account_for_every_task_when_idle(make_queue, hold):
    q = make_queue(2, maxsize=4, overflow="drop_oldest", on_error=lambda failure: None)
    release = hold(q)
    release2 = hold(q)
    for i in range(10):
        q.add_task(lambda: None)
        q.add_latest("k", lambda: 1 / 0)
    q.submit(lambda: None).cancel()
    mid = q.stats()
    assert mid.submitted == mid.finished + mid.pending + mid.running
    release.set()
    release2.set()
    assert q.join(WAIT)
    stats = q.stats()
    assert stats.pending == stats.running == 0
    assert stats.submitted == 23 == stats.finished == stats.finished
    assert stats.dropped > 0 and stats.coalesced > 0
