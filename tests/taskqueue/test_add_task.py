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


@pytest.mark.parametrize("item", ["hello", 42, None, (print, "not args", {}), (1, 2, 3), ()],
                         ids=["str", "int", "None", "bad-args", "3-tuple", "empty-tuple"])
def test_put_refuses_at_once_what_the_workers_could_not_run(make_queue, item):
    q = make_queue(1, name="uploads")
    with pytest.raises(TypeError, match=r"put\(\) on uploads, a TaskQueue with workers, takes "
                                        r"a callable .* use add_task\(fn, \*args, \*\*kwargs\)"):
        q.put(item)
    with pytest.raises(TypeError):
        q.put_nowait(item)
    assert q.stats().submitted == 0 and q.join(WAIT, raise_errors=True)
    # Nothing queued, nothing half-counted: the queue goes on as before.
    ran = []
    q.put(lambda: ran.append("callable"))  # run with no arguments
    q.add_task(ran.append, "task")
    assert q.join(WAIT, raise_errors=True)
    assert ran == ["callable", "task"] and q.stats().completed == 2


def test_put_takes_back_a_task_the_queue_made(make_queue, hold):
    q = make_queue(1)
    release = hold(q)
    ran = []
    q.add_task(ran.append, "added")
    future = q.submit(pow, 2, 10)
    q.add_latest("k", ran.append, "latest")
    taken = [q.get_nowait() for _ in range(3)]  # what the workers would have run
    q.put(taken[0])
    q.put(taken[1])
    with pytest.raises(TypeError, match=r"use add_latest\(key, fn"):
        q.put(taken[2])
    for _ in taken:
        q.task_done()  # the three taken, as for any queue.Queue
    release.set()
    assert q.join(WAIT)
    assert ran == ["added"] and future.result(WAIT) == 1024


def test_with_no_workers_put_takes_anything(make_queue):
    q = make_queue(0)
    for item in ("hello", 42, None, (1, 2, 3)):
        q.put(item)
    assert [q.get_nowait() for _ in range(4)] == ["hello", 42, None, (1, 2, 3)]
