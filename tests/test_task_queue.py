"""TaskQueue's contract: every task runs once or is counted; nothing hangs; errors surface."""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import logging
import queue
import threading
import unittest
import weakref

import pytest

from taskqueue import TaskFailure, TaskQueue, TaskQueueClosed, TaskStats

WAIT = 10  # seconds: generous bounds so a broken queue fails instead of hanging


def accounted(stats: TaskStats) -> int:
    return stats.completed + stats.failed + stats.dropped + stats.coalesced + stats.cancelled


def blocker(q: TaskQueue) -> threading.Event:
    """Occupy one worker of ``q`` until the returned event is set."""
    started, release = threading.Event(), threading.Event()

    def hold():
        started.set()
        release.wait(WAIT)

    q.add_task(hold)
    assert started.wait(WAIT)
    return release


# -- construction ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "names"),
    [
        ({"num_workers": -1}, ValueError, ["num_workers", "-1"]),
        ({"num_workers": 1.5}, TypeError, ["num_workers", "1.5"]),
        ({"num_workers": True}, TypeError, ["num_workers", "True"]),
        ({"num_workers": "2"}, TypeError, ["num_workers", "'2'"]),
        ({"maxsize": None}, TypeError, ["maxsize", "None"]),
        ({"overflow": "drop"}, ValueError, ["overflow", "'drop'"]),
        ({"name": 3}, TypeError, ["name", "3"]),
        ({"on_error": "log"}, TypeError, ["on_error", "'log'"]),
        ({"drain_at_exit": 1}, TypeError, ["drain_at_exit", "1"]),
    ],
)
def test_bad_constructor_arguments_name_the_parameter_and_value(kwargs, error, names):
    with pytest.raises(error) as info:
        TaskQueue(**kwargs)
    for name in names:
        assert name in str(info.value)


def test_a_refused_thread_stops_the_started_workers_and_names_num_workers(monkeypatch):
    real_start = threading.Thread.start
    started = []

    def start_three_then_refuse(thread):
        if len(started) == 3:
            raise RuntimeError("can't start new thread")
        started.append(thread)
        real_start(thread)

    monkeypatch.setattr(threading.Thread, "start", start_three_then_refuse)
    with pytest.raises(RuntimeError, match=r"num_workers=1000: could start only 3"):
        TaskQueue(1000, name="refused")
    monkeypatch.undo()
    for thread in started:
        thread.join(WAIT)
    assert not any(thread.is_alive() for thread in started)


def test_is_a_queue_and_an_executor_with_named_daemon_workers(make_queue):
    q = make_queue(3, name="plots")
    assert isinstance(q, queue.Queue)
    assert isinstance(q, concurrent.futures.Executor)
    workers = [t for t in threading.enumerate() if t.name.startswith("plots-worker-")]
    assert sorted(t.name for t in workers) == ["plots-worker-0", "plots-worker-1", "plots-worker-2"]
    assert all(t.daemon for t in workers)


# -- running tasks --------------------------------------------------------------------------


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


# -- failures -------------------------------------------------------------------------------


def test_a_failing_task_is_counted_reported_and_never_kills_its_worker(make_queue):
    failures: list[TaskFailure] = []
    q = make_queue(1, on_error=failures.append)

    def explode(x, *, y):
        raise ZeroDivisionError(f"{x}/{y}")

    for i in range(50):
        q.add_task(explode, i, y=0)
    done = []
    q.add_task(done.append, "still alive")
    assert q.join(WAIT)
    assert done == ["still alive"]
    assert len(failures) == 50
    assert failures[7].task is explode
    assert failures[7].args == (7,) and failures[7].kwargs == {"y": 0}
    assert isinstance(failures[7].exception, ZeroDivisionError)
    stats = q.stats()
    assert (stats.failed, stats.completed) == (50, 1)


def test_failures_are_logged_with_traceback_by_default(make_queue, caplog):
    q = make_queue(1, name="logq")

    def broken_upload():
        raise OSError("disk full")

    with caplog.at_level(logging.ERROR, logger="taskqueue"):
        q.add_task(broken_upload)
        assert q.join(WAIT)
    [record] = [r for r in caplog.records if r.name == "taskqueue"]
    assert "broken_upload" in record.getMessage() and "logq" in record.getMessage()
    assert record.exc_info[0] is OSError


def test_on_error_raising_is_logged_and_the_worker_survives(make_queue, caplog):
    def bad_handler(failure):
        raise RuntimeError("handler bug")

    q = make_queue(1, on_error=bad_handler)
    with caplog.at_level(logging.ERROR, logger="taskqueue"):
        q.add_task(lambda: 1 / 0)
        after = q.submit(lambda: "ok")
        assert after.result(WAIT) == "ok"
    assert any("bad_handler" in r.getMessage() for r in caplog.records)
    assert q.stats().failed == 1


@pytest.mark.parametrize("exc_type", [KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError])
def test_base_exceptions_in_tasks_are_reported_not_fatal(make_queue, exc_type):
    q = make_queue(1, on_error=lambda failure: None)

    def interrupt():
        raise exc_type("from a task")

    q.add_task(interrupt)
    with pytest.raises(BaseExceptionGroup) as info:
        q.join(WAIT, raise_errors=True)
    assert [type(e) for e in info.value.exceptions] == [exc_type]
    future = q.submit(interrupt)
    with pytest.raises(exc_type):
        future.result(WAIT)
    assert q.submit(lambda: "alive").result(WAIT) == "alive"


def test_join_raise_errors_reports_each_failure_once(make_queue):
    q = make_queue(2, on_error=lambda failure: None)
    for i in range(3):
        q.add_task(lambda i=i: (_ for _ in ()).throw(ValueError(i)))
    q.add_task(lambda: None)
    with pytest.raises(ExceptionGroup) as info:
        q.join(WAIT, raise_errors=True)
    assert sorted(e.args[0] for e in info.value.exceptions) == [0, 1, 2]
    assert "3 task(s) failed" in str(info.value)
    assert q.join(WAIT, raise_errors=True) is True


def test_submitted_exceptions_go_to_the_future_not_on_error(make_queue):
    failures = []
    q = make_queue(1, on_error=failures.append)
    future = q.submit(int, "not a number")
    with pytest.raises(ValueError):
        future.result(WAIT)
    assert q.join(WAIT, raise_errors=True)
    assert failures == []
    assert q.stats().failed == 1


# -- join -----------------------------------------------------------------------------------


def test_join_waits_for_tasks_added_by_tasks(make_queue):
    q = make_queue(2)
    seen = []

    def spawn(depth):
        seen.append(depth)
        if depth < 20:
            q.add_task(spawn, depth + 1)

    q.add_task(spawn, 0)
    assert q.join(WAIT)
    assert seen == list(range(21))


def test_join_times_out_and_later_succeeds(make_queue):
    q = make_queue(1)
    release = blocker(q)
    assert q.join(timeout=0.05) is False
    release.set()
    assert q.join(timeout=WAIT) is True


@pytest.mark.parametrize(("timeout", "error"), [(-1, ValueError), (float("nan"), ValueError), ("1", TypeError)])
def test_join_rejects_bad_timeouts(make_queue, timeout, error):
    with pytest.raises(error, match="timeout"):
        make_queue(1).join(timeout)


def test_join_from_inside_its_own_task_raises_instead_of_deadlocking(make_queue):
    q = make_queue(1)
    with pytest.raises(RuntimeError, match="join"):
        q.submit(q.join).result(WAIT)


# -- submit, map and other executors' callers ------------------------------------------------


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


# -- add_latest -----------------------------------------------------------------------------


def test_add_latest_keeps_only_the_newest_pending_task_per_key(make_queue):
    q = make_queue(1)
    release = blocker(q)
    rendered = []
    for frame in range(10):
        q.add_latest("loss", rendered.append, ("loss", frame))
        q.add_latest("fit", rendered.append, ("fit", frame))
    assert q.stats().pending == 2
    release.set()
    assert q.join(WAIT)
    assert rendered == [("loss", 9), ("fit", 9)]
    stats = q.stats()
    assert stats.coalesced == 18 and stats.submitted == accounted(stats) == 21


def test_add_latest_key_is_free_again_once_its_task_starts(make_queue):
    q = make_queue(1)
    started, release = threading.Event(), threading.Event()
    seen = []

    def slow(frame):
        seen.append(frame)
        started.set()
        release.wait(WAIT)

    q.add_latest("k", slow, 1)
    assert started.wait(WAIT)
    q.add_latest("k", seen.append, 2)  # the first is running: this one queues
    q.add_latest("k", seen.append, 3)  # replaces 2
    release.set()
    assert q.join(WAIT)
    assert seen == [1, 3]


# -- overflow policies ----------------------------------------------------------------------


def test_overflow_block_applies_back_pressure(make_queue):
    q = make_queue(1, maxsize=2, overflow="block")
    release = blocker(q)
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


def test_overflow_drop_oldest_keeps_the_newest(make_queue):
    q = make_queue(1, maxsize=3, overflow="drop_oldest")
    release = blocker(q)
    futures = [q.submit(lambda i=i: i) for i in range(3)]
    seen = []
    for i in range(3, 10):
        q.add_task(seen.append, i)
    assert all(f.cancelled() for f in futures)
    release.set()
    assert q.join(WAIT)
    assert seen == [7, 8, 9]
    stats = q.stats()
    assert stats.dropped == 7 and stats.submitted == accounted(stats) == 11


def test_overflow_drop_newest_discards_the_incoming_task(make_queue):
    q = make_queue(1, maxsize=2, overflow="drop_newest")
    release = blocker(q)
    seen = []
    for i in range(6):
        q.add_task(seen.append, i)
    dropped_future = q.submit(seen.append, "future")
    assert dropped_future.cancelled()
    release.set()
    assert q.join(WAIT)
    assert seen == [0, 1]
    assert q.stats().dropped == 5


def test_overflow_raise_raises_queue_full_and_counts_nothing(make_queue):
    q = make_queue(1, maxsize=1, overflow="raise")
    release = blocker(q)
    q.add_task(lambda: None)
    with pytest.raises(queue.Full, match="maxsize=1"):
        q.add_task(lambda: None)
    release.set()
    assert q.join(WAIT)
    stats = q.stats()
    assert stats.submitted == accounted(stats) == 2


def test_a_task_adding_to_its_own_full_queue_does_not_deadlock(make_queue):
    q = make_queue(1, maxsize=1, overflow="block")
    seen = []

    def fan_out():
        for i in range(5):
            q.add_task(seen.append, i)

    q.add_task(fan_out)
    assert q.join(WAIT)
    assert seen == list(range(5))


# -- close ----------------------------------------------------------------------------------


def test_close_runs_pending_work_then_refuses_more(make_queue):
    q = make_queue(2)
    seen = []
    for i in range(100):
        q.add_task(seen.append, i)
    assert q.close() is True
    assert sorted(seen) == list(range(100))
    assert not any(t.name.startswith("taskqueue-worker") and t.is_alive() for t in q._workers)
    for add in (lambda: q.add_task(print), lambda: q.submit(print), lambda: q.add_latest(1, print)):
        with pytest.raises(TaskQueueClosed):
            add()
    assert issubclass(TaskQueueClosed, RuntimeError)
    assert q.close() is True  # idempotent
    q.shutdown()


def test_close_cancel_pending_discards_and_counts(make_queue):
    q = make_queue(1)
    release = blocker(q)
    futures = [q.submit(lambda: None) for _ in range(5)]
    for _ in range(5):
        q.add_task(lambda: None)
    q.close(wait=False, cancel_pending=True)
    release.set()
    assert q.close(timeout=WAIT) is True
    assert all(f.cancelled() for f in futures)
    stats = q.stats()
    assert stats.cancelled == 10 and stats.submitted == accounted(stats) == 11


def test_shutdown_cancel_futures_and_context_manager(make_queue):
    with make_queue(1) as q:
        results = [q.submit(lambda i=i: i * i) for i in range(5)]
    assert [f.result(0) for f in results] == [0, 1, 4, 9, 16]
    assert q.closed
    q2 = make_queue(1)
    release = blocker(q2)
    pending = q2.submit(lambda: None)
    q2.shutdown(wait=False, cancel_futures=True)
    assert pending.cancelled()
    release.set()


def test_a_hung_task_cannot_hang_close_or_join_with_a_timeout(make_queue):
    q = make_queue(1)
    release = blocker(q)  # "hangs" until released
    q.add_task(lambda: None)
    assert q.join(timeout=0.05) is False
    assert q.close(cancel_pending=True, timeout=0.05) is False
    release.set()
    assert q.close(timeout=WAIT) is True


def test_close_wakes_a_blocked_producer(make_queue):
    q = make_queue(1, maxsize=1)
    release = blocker(q)
    q.add_task(lambda: None)
    outcome = []
    producer = threading.Thread(target=lambda: outcome.append(_try(q.add_task, print)))
    producer.start()
    q.close(wait=False, cancel_pending=True)
    producer.join(WAIT)
    assert outcome and isinstance(outcome[0], TaskQueueClosed)
    release.set()


def test_a_task_may_close_its_own_queue(make_queue):
    q = make_queue(1)
    seen = []
    q.add_task(q.close)
    q.add_task(seen.append, "pending before close still runs")
    assert q.join(WAIT)
    assert q.close(timeout=WAIT) is True
    assert seen == ["pending before close still runs"]


def _try(fn, *args):
    try:
        fn(*args)
    except BaseException as exc:
        return exc
    return None


# -- stats ----------------------------------------------------------------------------------


def test_stats_account_for_every_task_when_idle(make_queue):
    q = make_queue(2, maxsize=4, overflow="drop_oldest", on_error=lambda failure: None)
    release = blocker(q)
    release2 = blocker(q)
    for i in range(10):
        q.add_task(lambda: None)
        q.add_latest("k", lambda: 1 / 0)
    q.submit(lambda: None).cancel()
    mid = q.stats()
    assert mid.submitted == accounted(mid) + mid.pending + mid.running
    release.set()
    release2.set()
    assert q.join(WAIT)
    stats = q.stats()
    assert stats.pending == stats.running == 0
    assert stats.submitted == 23 == accounted(stats) == stats.finished
    assert stats.dropped > 0 and stats.coalesced > 0


# -- interpreter exit and fork (subprocesses) ------------------------------------------------


EXIT_SCRIPT = """
    import sys, time
    from pathlib import Path
    from taskqueue import TaskQueue

    out = Path(sys.argv[1]) / "out"
    out.mkdir()

    def write(i):
        time.sleep(0.005)
        (out / f"{{i}}.txt").write_text(str(i))

    q = TaskQueue(2, drain_at_exit={drain})
    for i in range(100):
        q.add_task(write, i)
    {ending}
"""


def test_pending_tasks_run_before_the_interpreter_exits(run_script, tmp_path):
    result = run_script(EXIT_SCRIPT.format(drain=True, ending="print('main done')"))
    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "out").iterdir())) == 100


def test_pending_tasks_are_drained_after_an_uncaught_exception(run_script, tmp_path):
    result = run_script(EXIT_SCRIPT.format(drain=True, ending="raise SystemError('boom')"))
    assert result.returncode == 1 and "SystemError: boom" in result.stderr
    assert len(list((tmp_path / "out").iterdir())) == 100


def test_drain_at_exit_false_exits_without_running_everything(run_script, tmp_path):
    result = run_script(EXIT_SCRIPT.format(drain=False, ending="pass"))
    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "out").iterdir())) < 100


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_a_forked_child_gets_a_working_queue(run_script):
    result = run_script("""
        import os, sys, threading, warnings
        from taskqueue import TaskQueue
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork with threads

        q = TaskQueue(2)
        gate = threading.Event()
        q.add_task(gate.wait, 5)           # a worker busy (holding no lock) at fork time
        pid = os.fork()
        if pid == 0:
            seen = []
            for i in range(10):
                q.add_task(seen.append, i)
            ok = q.join(5) and seen == list(range(10)) and q.stats().submitted == 10
            os._exit(0 if ok else 3)
        gate.set()
        _, status = os.waitpid(pid, 0)
        print("child", os.waitstatus_to_exitcode(status), "parent", q.join(5))
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["child", "0", "parent", "True"]


# -- with no workers it is the standard library's queue ---------------------------------------

try:
    from test import test_queue as stdlib_tests
except ImportError:  # CPython's test package is optional in some distributions
    stdlib_tests = None


class Queue(TaskQueue):
    """Named Queue because CPython's tests look the expected order up by class name."""

    def __init__(self, maxsize: int = 0):
        super().__init__(0, maxsize, drain_at_exit=False)


if stdlib_tests is not None:

    class TestCPythonQueueSuite(stdlib_tests.BaseQueueTestMixin, unittest.TestCase):
        queue = queue

        def setUp(self):
            self.type2test = Queue
            super().setUp()

    # Python 3.13 added Queue.shutdown(immediate); ours is Executor.shutdown(wait, cancel_futures).
    for _name in dir(TestCPythonQueueSuite):
        if _name.startswith("test_shutdown"):
            setattr(TestCPythonQueueSuite, _name, None)


# -- found by review: user code under the lock, outcomes of futures, what failures keep --------


def test_put_after_close_is_refused_not_stranded_behind_the_stop_sentinels(make_queue):
    q = make_queue(1)
    q.close()
    with pytest.raises(TaskQueueClosed):
        q.put(print)
    assert q.join(WAIT)


def test_a_replaced_add_latest_argument_is_freed_outside_the_lock(make_queue):
    q = make_queue(1)
    release = blocker(q)
    freed = []

    class Frame:
        def __del__(self):
            freed.append(q.stats().coalesced)  # takes the queue's lock: must not deadlock

    q.add_latest("k", print, Frame())
    done = threading.Event()
    replacer = threading.Thread(target=lambda: (q.add_latest("k", len, ()), done.set()))
    replacer.start()
    assert done.wait(WAIT), "add_latest deadlocked freeing the replaced arguments"
    release.set()
    assert q.join(WAIT)
    assert freed == [1]


def test_a_done_callback_raising_system_exit_is_not_the_tasks_failure(make_queue, caplog):
    q = make_queue(1)

    def exit_from_callback(f):
        raise SystemExit("from a done-callback")

    with caplog.at_level(logging.ERROR, logger="taskqueue"):
        future = q.submit(lambda: 42)
        future.add_done_callback(exit_from_callback)
        assert q.join(WAIT, raise_errors=True)
    assert future.result() == 42
    assert any("done-callback" in r.getMessage() for r in caplog.records)
    stats = q.stats()
    assert (stats.completed, stats.failed) == (1, 0)
    assert q.submit(lambda: "alive").result(WAIT) == "alive"


@pytest.mark.parametrize("keep", [0, -5])
def test_keeping_no_failures_still_counts_them_and_keeps_the_worker(make_queue, keep):
    q = make_queue(1, on_error=lambda failure: None)
    q.max_unreported_failures = keep
    q.add_task(lambda: 1 / 0)
    assert q.join(WAIT, raise_errors=True)  # nothing kept to raise
    assert q.stats().failed == 1
    assert q.submit(lambda: "alive").result(WAIT) == "alive"


def test_failures_keep_no_locals_of_chained_exceptions_or_failed_futures(make_queue):
    q = make_queue(1, on_error=lambda failure: None)

    class Payload:
        pass

    def helper(payload):
        raise KeyError("inner")

    def task(payload):
        try:
            helper(payload)
        except KeyError:
            raise ValueError("outer")  # __context__ is the KeyError, through helper's frame

    refs = []
    payload = Payload()
    refs.append(weakref.ref(payload))
    q.add_task(task, payload)
    payload = Payload()
    refs.append(weakref.ref(payload))
    future = q.submit(task, payload)
    del payload
    assert q.join(WAIT)
    del future
    gc.disable()  # freed by reference counting alone, as a ThreadPoolExecutor's are
    try:
        assert [ref() for ref in refs] == [None, None]
    finally:
        gc.enable()


def test_one_exception_instance_raised_many_times_gets_one_note(make_queue):
    q = make_queue(1, on_error=lambda failure: None)
    shared = RuntimeError("cached")

    def raise_shared():
        raise shared

    for _ in range(20):
        q.add_task(raise_shared)
    assert q.join(WAIT)
    assert len(shared.__notes__) == 1
