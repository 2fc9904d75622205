"""Issue 10, in process: latest really wins, dropped futures are done, no workers means no
tasks, Ctrl-C in ``with``, initializer, copy_context. (Exit and signals: test_exit_and_fork.py.)
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import logging
import queue
import random
import signal
import threading
import time

import pytest

from taskqueue import BrokenTaskQueue, TaskFailure, TaskQueue, TaskQueueClosed, drain_on_signal

WAIT = 10  # seconds: a bound only a broken queue reaches


def hold(q: TaskQueue, add=None) -> threading.Event:
    """Occupy one worker of ``q`` (through ``add``, default ``q.add_task``) until released."""
    started, release = threading.Event(), threading.Event()

    def held():
        started.set()
        release.wait(WAIT)

    (add or q.add_task)(held)
    assert started.wait(WAIT)
    return release


# -- 1. add_latest: per key one running, one waiting; the last to run is the newest -----------


@pytest.mark.parametrize("num_workers", [2, 4])
def test_the_last_render_per_key_is_always_the_newest(make_queue, num_workers):
    # A live plot per key, frames coming while earlier ones render, renders of uneven length
    # (the last one quick). When a key was freed as its task started, two tasks of one key
    # ran at once, and the older, slower one often ended last: the code before this test
    # failed it in 43 of 60 runs with 2 workers and 59 of 60 with 4.
    rng = random.Random(num_workers)
    keys = ["loss", "fit", "weights"]
    frames = 20
    for run in range(60):
        q = make_queue(num_workers)
        lock = threading.Lock()  # guards last, running, overlaps
        last: dict[str, int] = {}
        running = dict.fromkeys(keys, 0)
        overlaps = []

        def render(key, frame, duration):
            with lock:
                running[key] += 1
                if running[key] > 1:
                    overlaps.append((key, frame))
            time.sleep(duration)
            with lock:
                running[key] -= 1
                last[key] = frame

        for frame in range(frames):
            for key in keys:
                duration = 0 if frame == frames - 1 else rng.choice([0, 0.0005, 0.002])
                q.add_latest(key, render, key, frame, duration)
            time.sleep(rng.choice([0, 0.0002, 0.001]))  # the training step between frames
        assert q.join(WAIT)
        assert overlaps == [], f"run {run}: two tasks of one key ran at once"
        assert last == dict.fromkeys(keys, frames - 1), f"run {run}: a stale frame ended last"
        stats = q.stats()
        assert stats.submitted == frames * len(keys) == stats.completed + stats.coalesced
        q.close(timeout=WAIT)


def test_a_waiting_latest_task_starts_only_after_its_running_one_ends(make_queue):
    q = make_queue(2)
    release = hold(q, lambda task: q.add_latest("plot", task))  # frame 1 runs on one worker
    seen = []
    q.add_latest("plot", seen.append, 2)  # waits: its key is running
    other = q.submit(lambda: "the free worker runs other work meanwhile")
    assert other.result(WAIT)
    stats = q.stats()
    assert (stats.pending, stats.running) == (1, 1)  # frame 2 still waits
    assert seen == []
    q.add_latest("plot", seen.append, 3)  # replaces the waiting frame 2
    release.set()
    assert q.join(WAIT)
    assert seen == [3]
    stats = q.stats()
    assert (stats.completed, stats.coalesced, stats.submitted) == (3, 1, 4)


def test_a_waiting_latest_task_does_not_hold_up_the_tasks_behind_it(make_queue):
    q = make_queue(2)
    release = hold(q, lambda task: q.add_latest("plot", task))
    q.add_latest("plot", print, "never printed before release")
    behind = [q.submit(pow, 2, i) for i in range(20)]
    assert [f.result(WAIT) for f in behind] == [2**i for i in range(20)]
    release.set()
    assert q.join(WAIT)


def test_close_runs_a_waiting_latest_task_after_its_running_one(make_queue):
    q = make_queue(3)
    release = hold(q, lambda task: q.add_latest("plot", task))
    seen = []
    q.add_latest("plot", seen.append, "last frame")
    q.close(wait=False)  # idle workers take their stop sentinels first
    release.set()
    assert q.close(timeout=WAIT)
    assert seen == ["last frame"]


# -- 2. futures dropped or cancelled unrun are done for wait() and as_completed() --------------


def test_a_future_dropped_by_drop_oldest_is_done_for_wait(make_queue):
    q = make_queue(1, maxsize=1, overflow="drop_oldest")
    release = hold(q)
    dropped = q.submit(lambda: "dropped")
    kept = q.submit(lambda: "kept")  # drops the first
    done, not_done = concurrent.futures.wait([dropped], timeout=WAIT)
    assert done == {dropped} and not not_done
    assert dropped.cancelled()
    release.set()
    assert kept.result(WAIT) == "kept"


def test_a_future_dropped_by_drop_newest_is_yielded_by_as_completed(make_queue):
    q = make_queue(1, maxsize=1, overflow="drop_newest")
    release = hold(q)
    kept = q.submit(lambda: "kept")
    dropped = q.submit(lambda: "dropped")
    assert list(concurrent.futures.as_completed([dropped], timeout=WAIT)) == [dropped]
    assert dropped.cancelled()
    release.set()
    assert kept.result(WAIT) == "kept"


@pytest.mark.parametrize("how", ["close", "shutdown"])
def test_futures_cancelled_by_closing_are_done_for_wait_and_as_completed(make_queue, how):
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


def test_a_waiter_already_blocked_wakes_when_its_future_is_dropped(make_queue):
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


# -- 3. with no workers: a plain queue, tasks refused -------------------------------------------


@pytest.mark.parametrize("add", [
    lambda q: q.add_task(print),
    lambda q: q.add_latest("k", print),
    lambda q: q.submit(print),
    lambda q: q.map(print, [1, 2]),
    lambda q: q.map(print, []),
], ids=["add_task", "add_latest", "submit", "map", "map-empty"])
def test_no_workers_refuses_tasks_naming_num_workers(make_queue, add):
    q = make_queue(0, name="plain")
    with pytest.raises(RuntimeError, match=r"plain has num_workers=0: nothing would ever run"):
        add(q)
    assert q.stats().submitted == 0
    q.put("item")  # still a plain queue
    assert q.get(timeout=WAIT) == "item"
    q.task_done()
    assert q.join(WAIT)


def test_no_workers_still_checks_the_task_first(make_queue):
    q = make_queue(0)
    with pytest.raises(TypeError, match="callable"):
        q.add_task(42)


# -- 6. KeyboardInterrupt leaving ``with`` -------------------------------------------------------


class _ReleaseOnLog(logging.Handler):
    """Sets ``event`` once a warning is logged: lets a held task go only after the log."""

    def __init__(self, event: threading.Event):
        super().__init__(logging.WARNING)
        self.event = event
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())
        self.event.set()


def test_ctrl_c_in_with_cancels_pending_lets_running_end_and_logs_the_count(make_queue):
    logger = logging.getLogger("taskqueue")
    q = make_queue(1, name="interrupted")
    release = hold(q)  # running when Ctrl-C comes; released by the warning
    handler = _ReleaseOnLog(release)
    logger.addHandler(handler)
    ran = []
    try:
        with pytest.raises(KeyboardInterrupt):
            with q:
                futures = [q.submit(ran.append, i) for i in range(5)]
                for i in range(7):
                    q.add_task(ran.append, i)
                q.add_latest("plot", ran.append, "latest")
                raise KeyboardInterrupt
    finally:
        logger.removeHandler(handler)
    assert ran == []
    assert all(f.cancelled() for f in futures)
    assert q.closed and not any(w.is_alive() for w in q._workers)  # the running one ended
    stats = q.stats()
    assert (stats.cancelled, stats.completed, stats.pending, stats.running) == (13, 1, 0, 0)
    assert any("KeyboardInterrupt" in m and "cancelled 13 pending" in m and "interrupted" in m
               for m in handler.messages), handler.messages


def test_other_exceptions_leaving_with_still_run_everything(make_queue):
    q = make_queue(2)
    ran = []
    with pytest.raises(ValueError):
        with q:
            for i in range(50):
                q.add_task(ran.append, i)
            raise ValueError("an ordinary error")
    assert sorted(ran) == list(range(50))
    assert q.stats().cancelled == 0


# -- initializer / initargs ------------------------------------------------------------------------


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


@pytest.mark.parametrize(("kwargs", "error", "names"), [
    ({"initializer": "setup"}, TypeError, ["initializer", "'setup'"]),
    ({"initargs": [1]}, TypeError, ["initargs", "[1]"]),
    ({"copy_context": 1}, TypeError, ["copy_context", "1"]),
    ({"exit_timeout": -1}, ValueError, ["exit_timeout", "-1"]),
    ({"exit_timeout": float("nan")}, ValueError, ["exit_timeout", "nan"]),
    ({"exit_timeout": "5"}, TypeError, ["exit_timeout", "'5'"]),
])
def test_new_constructor_arguments_are_checked(kwargs, error, names):
    with pytest.raises(error) as info:
        TaskQueue(1, drain_at_exit=False, **kwargs)
    for name in names:
        assert name in str(info.value)


# -- copy_context ----------------------------------------------------------------------------------

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="unset")


@pytest.mark.parametrize("method", ["add_task", "add_latest", "submit"])
def test_copy_context_runs_each_task_in_its_adders_context(make_queue, method):
    q = make_queue(1, copy_context=True)
    seen = []
    add = {"add_task": q.add_task, "submit": q.submit,
           "add_latest": lambda fn, *a: q.add_latest(a, fn, *a)}[method]

    def record(tag):
        seen.append((tag, request_id.get()))
        request_id.set(f"leaked by {tag}")  # must stay in this task's copy

    for tag in ("a", "b", "c"):
        token = request_id.set(f"request {tag}")
        try:
            add(record, tag)
        finally:
            request_id.reset(token)
    add(record, "none")
    assert q.join(WAIT)
    assert seen == [("a", "request a"), ("b", "request b"), ("c", "request c"),
                    ("none", "unset")]
    assert request_id.get() == "unset"


def test_without_copy_context_tasks_share_their_workers_context(make_queue):
    # The default: cheaper, and as a ThreadPoolExecutor's tasks do.
    q = make_queue(1)
    token = request_id.set("the adder's")
    try:
        q.add_task(request_id.set, "set by the first task")
        second = q.submit(request_id.get)
    finally:
        request_id.reset(token)
    assert second.result(WAIT) == "set by the first task"


def test_copy_context_failures_name_the_task_not_the_context(make_queue):
    failures: list[TaskFailure] = []
    q = make_queue(1, copy_context=True, on_error=failures.append)

    def explode(x):
        raise ValueError(x)

    q.add_task(explode, 1)
    q.add_latest("k", explode, 2)
    assert q.join(WAIT)
    assert [(f.task, f.args) for f in failures] == [(explode, (1,)), (explode, (2,))]
    with pytest.raises(ValueError):
        q.submit(explode, 3).result(WAIT)


# -- drain_on_signal: the checks made in process (the signal itself: test_exit_and_fork.py) -----


def test_drain_on_signal_refuses_other_threads_and_bad_signals():
    outcome = []
    thread = threading.Thread(target=lambda: outcome.append(_raised(drain_on_signal)),
                              name="not-main")
    thread.start()
    thread.join(WAIT)
    assert isinstance(outcome[0], RuntimeError) and "main thread" in str(outcome[0])
    assert "not-main" in str(outcome[0])
    before = signal.getsignal(signal.SIGTERM)
    for bad, error in (("SIGTERM", TypeError), (True, TypeError), (10_000, ValueError)):
        with pytest.raises(error, match=repr(bad).replace("(", r"\(")):
            drain_on_signal(signal.SIGTERM, bad)
    if hasattr(signal, "SIGKILL"):
        with pytest.raises(ValueError, match="SIGKILL cannot be caught"):
            drain_on_signal(signal.SIGKILL)
    assert signal.getsignal(signal.SIGTERM) is before  # nothing installed by a refused call


def _raised(fn, *args):
    try:
        fn(*args)
    except BaseException as exc:
        return exc
    return None


def test_closed_and_broken_errors_stay_distinct(make_queue):
    q = make_queue(1)
    q.close()
    with pytest.raises(TaskQueueClosed):
        q.submit(print)
    assert not isinstance(TaskQueueClosed("x"), concurrent.futures.BrokenExecutor)
    with pytest.raises(queue.Empty):
        q.get_nowait()


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
