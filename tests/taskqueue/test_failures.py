"""A task that raises: counted, reported (on_error or the log), re-raised by join, never
fatal to its worker; what a kept failure holds on to."""

from __future__ import annotations

import gc
import logging
import weakref

import pytest

from taskqueue import TaskFailure

WAIT = 10  # seconds: generous bounds so a broken queue fails instead of hanging


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


class CustomBaseException(BaseException):
    """Neither an Exception nor one of Python's own BaseExceptions."""


BASE_EXCEPTIONS = [KeyboardInterrupt, SystemExit, GeneratorExit, CustomBaseException,
                   lambda message: BaseExceptionGroup(message, [KeyboardInterrupt(message)])]


@pytest.mark.parametrize("make_error", BASE_EXCEPTIONS,
                         ids=["KeyboardInterrupt", "SystemExit", "GeneratorExit", "custom",
                              "BaseExceptionGroup"])
@pytest.mark.parametrize("handler", ["on_error", "logging"])
def test_any_base_exception_from_a_task_is_a_failure_of_that_task(make_queue, caplog, live_workers,
                                                                   make_error, handler):
    # On a worker, a KeyboardInterrupt or SystemExit is no signal to stop: it is the task's
    # failure, reported like any other, and the worker goes on.
    failures: list[TaskFailure] = []
    q = make_queue(2, name="base", on_error=failures.append if handler == "on_error" else None)
    workers = live_workers(q)
    raised = []

    def fail(tag):
        error = make_error(tag)
        raised.append(error)
        raise error

    with caplog.at_level(logging.ERROR, logger="taskqueue"):
        q.add_task(fail, "add_task")
        q.add_latest("key", fail, "add_latest")
        future = q.submit(fail, "submit")
        submitted = future.exception(WAIT)
        assert any(submitted is e for e in raised) and "submit" in str(submitted)
        assert q.join(WAIT)
        with pytest.raises(BaseExceptionGroup) as info:
            q.join(WAIT, raise_errors=True)
    fire_and_forget = [e for e in raised if e is not submitted]
    assert sorted(map(id, info.value.exceptions)) == sorted(map(id, fire_and_forget))
    if handler == "on_error":
        assert sorted(map(id, (f.exception for f in failures))) == sorted(map(id, fire_and_forget))
    else:
        logged = [r.exc_info[1] for r in caplog.records
                  if r.name == "taskqueue" and r.exc_info and "failed on base" in r.getMessage()]
        assert sorted(map(id, logged)) == sorted(map(id, fire_and_forget))
    stats = q.stats()
    assert (stats.failed, stats.completed, stats.submitted) == (3, 0, 3)
    assert q.submit(lambda: "alive").result(WAIT) == "alive"
    assert live_workers(q) == workers  # the same threads: none died, none was replaced
