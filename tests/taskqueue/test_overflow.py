"""A full bounded queue: block, drop the oldest, drop the newest or raise; a dropped future is
done for its waiters."""

from __future__ import annotations

import concurrent.futures
import logging
import queue
import threading

import pytest

WAIT = 10  # seconds: generous bounds so a broken queue fails instead of hanging


def test_overflow_block_applies_back_pressure(make_queue, hold):
    q = make_queue(1, maxsize=2, overflow="block")
    release = hold(q)
    q.add_task(lambda: None)
    q.add_task(lambda: None)
    added = threading.Event()
    producer = threading.Thread(target=lambda: (q.add_task(lambda: None), added.set()))
    producer.start()
    assert not added.wait(0.1)  # full: the producer waits
    release.set()
    assert added.wait(WAIT)
    producer.join(WAIT)
    assert q.join(WAIT)
    assert q.stats().completed == 4


def test_overflow_drop_oldest_keeps_the_newest(make_queue, hold):
    q = make_queue(1, maxsize=3, overflow="drop_oldest")
    release = hold(q)
    futures = [q.submit(lambda i=i: i) for i in range(3)]
    seen = []
    for i in range(3, 10):
        q.add_task(seen.append, i)
    assert all(f.cancelled() for f in futures)
    release.set()
    assert q.join(WAIT)
    assert seen == [7, 8, 9]
    stats = q.stats()
    assert stats.dropped == 7 and stats.submitted == stats.finished == 11


def test_overflow_drop_newest_discards_the_incoming_task(make_queue, hold):
    q = make_queue(1, maxsize=2, overflow="drop_newest")
    release = hold(q)
    seen = []
    for i in range(6):
        q.add_task(seen.append, i)
    dropped_future = q.submit(seen.append, "future")
    assert dropped_future.cancelled()
    release.set()
    assert q.join(WAIT)
    assert seen == [0, 1]
    assert q.stats().dropped == 5


def test_overflow_raise_raises_queue_full_and_counts_nothing(make_queue, hold):
    q = make_queue(1, maxsize=1, overflow="raise")
    release = hold(q)
    q.add_task(lambda: None)
    with pytest.raises(queue.Full, match="maxsize=1"):
        q.add_task(lambda: None)
    release.set()
    assert q.join(WAIT)
    stats = q.stats()
    assert stats.submitted == stats.finished == 2


def test_a_task_adding_to_its_own_full_queue_does_not_deadlock(make_queue):
    q = make_queue(1, maxsize=1, overflow="block")
    seen = []

    def fan_out():
        for i in range(5):
            q.add_task(seen.append, i)

    q.add_task(fan_out)
    assert q.join(WAIT)
    assert seen == list(range(5))


def test_a_future_dropped_by_drop_oldest_is_done_for_wait(make_queue, hold):
    q = make_queue(1, maxsize=1, overflow="drop_oldest")
    release = hold(q)
    dropped = q.submit(lambda: "dropped")
    kept = q.submit(lambda: "kept")  # drops the first
    done, not_done = concurrent.futures.wait([dropped], timeout=WAIT)
    assert done == {dropped} and not not_done
    assert dropped.cancelled()
    release.set()
    assert kept.result(WAIT) == "kept"


def test_a_future_dropped_by_drop_newest_is_yielded_by_as_completed(make_queue, hold):
    q = make_queue(1, maxsize=1, overflow="drop_newest")
    release = hold(q)
    kept = q.submit(lambda: "kept")
    dropped = q.submit(lambda: "dropped")
    assert list(concurrent.futures.as_completed([dropped], timeout=WAIT)) == [dropped]
    assert dropped.cancelled()
    release.set()
    assert kept.result(WAIT) == "kept"


def test_a_waiter_already_blocked_wakes_when_its_future_is_dropped(make_queue, hold):
    q = make_queue(1, maxsize=1, overflow="drop_oldest")
    release = hold(q)
    first = q.submit(lambda: None)
    woke = []
    waiter = threading.Thread(target=lambda: woke.append(
        concurrent.futures.wait([first], timeout=WAIT, return_when="FIRST_COMPLETED")))
    waiter.start()
    q.submit(lambda: None)  # drops ``first`` while the waiter sleeps on it
    waiter.join(WAIT)
    assert woke and woke[0].done == {first}
    release.set()


@pytest.mark.parametrize("overflow", ["drop_oldest", "drop_newest"])
def test_drops_are_logged_once_then_at_most_every_few_seconds_with_a_count(
        make_queue, hold, caplog, monkeypatch, overflow):
    from taskqueue import overflow as overflow_module

    now = [1000.0]
    monkeypatch.setattr(overflow_module, "monotonic", lambda: now[0])
    interval = overflow_module.DROP_LOG_INTERVAL
    q = make_queue(1, maxsize=2, overflow=overflow, name="uploads")
    release = hold(q)

    def warnings():
        return [r.getMessage() for r in caplog.records
                if r.name == "taskqueue" and r.levelno == logging.WARNING]

    with caplog.at_level(logging.WARNING, logger="taskqueue"):
        for _ in range(1000):  # 2 queued, 998 dropped: one line
            q.add_task(lambda: None)
        assert warnings() == [f"uploads is full (maxsize=2): overflow='{overflow}' dropped 1 "
                              f"task(s); further drops are logged at most every {interval:g} s"]
        now[0] += interval / 2
        for _ in range(100):  # within the interval: counted, not logged
            q.submit(lambda: None)
        assert len(warnings()) == 1
        now[0] += interval / 2
        q.add_latest("k", lambda: None)  # the interval has passed: one line with the count
        assert warnings()[1:] == [f"uploads is full (maxsize=2): overflow='{overflow}' dropped "
                                  f"1098 more task(s), 1099 in all"]
        for _ in range(10):  # the last ones: logged when the queue closes
            q.add_task(lambda: None)
        assert len(warnings()) == 2
        release.set()
        assert q.close(timeout=WAIT)
    assert warnings()[2:] == [f"uploads is full (maxsize=2): overflow='{overflow}' dropped 10 "
                              f"more task(s), 1109 in all"]
    stats = q.stats()
    assert stats.dropped == 1109  # exact, whatever the log says
    assert stats.submitted == stats.finished == 1 + 1000 + 100 + 1 + 10
