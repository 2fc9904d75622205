"""The Executor side: submit, map, asyncio, futures cancelled by closing, initializer."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import threading

import pytest

from taskqueue import BrokenTaskQueue, TaskQueueClosed

WAIT = 10  # seconds: generous bounds so a broken queue fails instead of hanging


def test_submit_and_map_work_like_an_executor(make_queue):
    q = make_queue(3)
    futures = [q.submit(pow, 2, i) for i in range(10)]
    done, not_done = concurrent.futures.wait(futures, timeout=WAIT)
    assert not not_done
    assert [f.result() for f in futures] == [2**i for i in range(10)]
    assert list(q.map(lambda a, b: a * b, range(5), range(5), timeout=WAIT)) == [0, 1, 4, 9, 16]


def test_asyncio_run_in_executor(make_queue):
    q = make_queue(1)

    async def main():
        return await asyncio.get_running_loop().run_in_executor(q, sum, [1, 2, 3])

    assert asyncio.run(main()) == 6


@pytest.mark.parametrize("how", ["close", "shutdown"])
def test_futures_cancelled_by_closing_are_done_for_wait_and_as_completed(make_queue, how, hold):
    q = make_queue(1)
    release = hold(q)
    futures = [q.submit(pow, 2, i) for i in range(5)]
    if how == "close":
        q.close(wait=False, cancel_pending=True)
    else:
        q.shutdown(wait=False, cancel_futures=True)
    done, not_done = concurrent.futures.wait(futures, timeout=WAIT)
    assert done == set(futures) and not not_done
    assert set(concurrent.futures.as_completed(futures, timeout=WAIT)) == set(futures)
    assert all(f.cancelled() for f in futures)
    release.set()


def test_the_initializer_runs_once_per_worker_before_its_first_task(make_queue):
    local = threading.local()
    lock = threading.Lock()  # guards initialized
    initialized = []

    def init(cache_size):
        local.cache = {"size": cache_size}
        with lock:
            initialized.append(threading.current_thread().name)

    q = make_queue(3, name="init", initializer=init, initargs=(64,))
    futures = [q.submit(lambda: local.cache["size"]) for _ in range(30)]
    assert [f.result(WAIT) for f in futures] == [64] * 30
    assert sorted(initialized) == ["init-worker-0", "init-worker-1", "init-worker-2"]


def test_a_failing_initializer_breaks_the_queue(make_queue, caplog):
    gate = threading.Event()

    def init():
        gate.wait(WAIT)
        raise OSError("no GPU here")

    with caplog.at_level(logging.CRITICAL, logger="taskqueue"):
        q = make_queue(2, name="gpu", initializer=init)
        pending = [q.submit(pow, 2, i) for i in range(3)]
        q.add_task(print, "never")
        gate.set()
        for future in pending:
            with pytest.raises(concurrent.futures.BrokenExecutor, match="gpu is broken"):
                future.result(WAIT)
        for add in (lambda: q.submit(print), lambda: q.add_task(print),
                    lambda: q.add_latest("k", print), lambda: q.put(print)):
            with pytest.raises(BrokenTaskQueue, match=r"gpu is broken: initializer .*init "
                                                      r"raised OSError"):
                add()
    assert issubclass(BrokenTaskQueue, concurrent.futures.thread.BrokenThreadPool)
    assert q.closed
    assert q.close(timeout=WAIT)  # every worker stopped
    records = [r for r in caplog.records if r.name == "taskqueue"]
    assert records and "gpu" in records[0].getMessage() and records[0].exc_info[0] is OSError
    stats = q.stats()
    assert (stats.submitted, stats.cancelled, stats.pending, stats.running) == (4, 4, 0, 0)


def test_an_initializer_failing_in_one_worker_only_still_lets_close_stop_the_others(make_queue):
    # The healthy workers must get their stop sentinels, or close() would wait for ever.
    lock = threading.Lock()  # guards calls
    calls = []

    def fail_first():
        with lock:
            calls.append(None)
            first = len(calls) == 1
        if first:
            raise RuntimeError("only the first worker's initializer fails")

    for _ in range(20):
        calls.clear()
        q = make_queue(3, initializer=fail_first, on_error=lambda failure: None)
        try:  # a healthy worker may run it before the first one's initializer fails
            q.submit(lambda: None).result(WAIT)
        except BrokenTaskQueue:
            pass
        assert q.close(timeout=WAIT)
        with pytest.raises(BrokenTaskQueue):
            q.add_task(print)


def test_closed_and_broken_errors_stay_distinct(make_queue):
    q = make_queue(1)
    q.close()
    with pytest.raises(TaskQueueClosed):
        q.submit(print)
    assert not isinstance(TaskQueueClosed("x"), concurrent.futures.BrokenExecutor)
    with pytest.raises(queue.Empty):
        q.get_nowait()
