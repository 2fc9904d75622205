"""TaskQueue under load and under faults: every task accounted for, no worker lost, no hang.

The basic contract is in tests/taskqueue/; this goes further: many producers mixing every
way to add work with failing tasks, exceptions of every kind (also from the failure path
itself: broken exceptions, broken loggers, done-callbacks), hung tasks, and tasks that close
their own queue while others are still adding.
"""

from __future__ import annotations

import collections
import logging
import queue
import sys
import threading

import pytest

from taskqueue import TaskFailure, TaskQueue, TaskQueueClosed

WAIT = 30  # seconds: a bound that only a hung queue reaches
PRODUCERS = 8
SHORT_TASKS_PER_PRODUCER = 2_500  # 20,000 tasks per queue: the CI run
LONG_TASKS_PER_PRODUCER = 25_000  # 200,000 tasks per queue: pytest -m slow

# A share of the load raises, cycling through these (every 7th task).
LOAD_ERRORS = (ValueError, KeyboardInterrupt, SystemExit, OSError, MemoryError, GeneratorExit)


def work(ran: list, token: tuple, error: type[BaseException] | None) -> tuple:
    ran.append(token)  # list.append is atomic: no lock on the hot path under test
    if error is not None:
        raise error(token)
    return token


def run_load(q: TaskQueue, tasks_per_producer: int, reported: list[TaskFailure]) -> dict:
    """``PRODUCERS`` threads offer ``tasks_per_producer`` tasks each to ``q``, then ``q`` is joined.

    Of every 10 tasks, 8 go through ``add_task``, 1 through ``add_latest`` (one key per
    producer) and 1 through ``submit``; every 7th raises. Returns what was offered and run.
    """
    ran: list[tuple] = []
    futures: dict[tuple, object] = {}
    plain: set[tuple] = set()
    latest: set[tuple] = set()
    failing: set[tuple] = set()
    start = threading.Barrier(PRODUCERS)

    def produce(producer: int) -> None:
        start.wait()
        for i in range(tasks_per_producer):
            token = (producer, i)
            error = LOAD_ERRORS[i % len(LOAD_ERRORS)] if i % 7 == 0 else None
            if error is not None:
                failing.add(token)
            if i % 10 == 9:
                futures[token] = q.submit(work, ran, token, error)
            elif i % 10 == 8:
                latest.add(token)
                q.add_latest(("producer", producer), work, ran, token, error)
            else:
                plain.add(token)
                q.add_task(work, ran, token, error)

    producers = [threading.Thread(target=produce, args=(p,)) for p in range(PRODUCERS)]
    for t in producers:
        t.start()
    for t in producers:
        t.join(WAIT)
    assert not any(t.is_alive() for t in producers), "a producer hung in add_task"
    assert q.join(WAIT), f"join() did not return: {q.stats()}"
    return {"ran": ran, "futures": futures, "plain": plain, "latest": latest,
            "failing": failing, "reported": reported}


def check_load(q: TaskQueue, load: dict, tasks_per_producer: int, check_accounted) -> None:
    submitted = PRODUCERS * tasks_per_producer
    stats = q.stats()
    check_accounted(stats, submitted)
    ran = load["ran"]
    counts = collections.Counter(ran)
    assert not [token for token, n in counts.items() if n > 1], "a task ran twice"
    assert stats.completed + stats.failed == len(ran)
    assert stats.failed == len(load["failing"] & counts.keys())
    assert stats.cancelled == 0

    dropped = (load["plain"] | load["latest"] | load["futures"].keys()) - counts.keys()
    assert len(dropped) == stats.dropped + stats.coalesced, "a task vanished uncounted"
    if q.overflow in ("block", "raise") or q.maxsize <= 0:
        assert stats.dropped == 0
        assert load["plain"] <= counts.keys(), "an add_task task never ran"
    # The newest add_latest task of each producer is never coalesced away (only dropped).
    newest = {max(t for t in load["latest"] if t[0] == p) for p in range(PRODUCERS)}
    if stats.dropped == 0:
        assert newest <= counts.keys()

    # Fire-and-forget failures reach on_error, each once; submitted ones go to their future.
    reported = collections.Counter(f.args[1] for f in load["reported"])
    fire_and_forget_failures = (load["failing"] - load["futures"].keys()) & counts.keys()
    assert reported == collections.Counter(fire_and_forget_failures)
    for failure in load["reported"]:
        token = failure.args[1]
        assert isinstance(failure.exception, LOAD_ERRORS[token[1] % len(LOAD_ERRORS)])
    for token, future in load["futures"].items():
        if future.cancelled():
            assert token not in counts
        elif token in load["failing"]:
            assert isinstance(future.exception(0), LOAD_ERRORS[token[1] % len(LOAD_ERRORS)])
        else:
            assert future.result(0) == token


LOAD_CASES = [
    pytest.param(workers, maxsize, overflow,
                 id=f"{workers}w-{overflow if maxsize else 'unbounded'}")
    for workers in (1, 2, 4)
    for maxsize, overflow in ((0, "block"), (64, "block"), (64, "drop_oldest"))
]


def load_test(q, tasks_per_producer, reported, check_accounted, live_workers):
    workers_before = live_workers(q)
    assert len(workers_before) == q.num_workers
    load = run_load(q, tasks_per_producer, reported)
    check_load(q, load, tasks_per_producer, check_accounted)
    assert live_workers(q) == workers_before, "a worker died (or was replaced)"
    assert q.close(timeout=WAIT) is True
    print(f"\n{q.name}: {q.stats()}")


@pytest.mark.parametrize("tasks_per_producer", [
    SHORT_TASKS_PER_PRODUCER,
    pytest.param(LONG_TASKS_PER_PRODUCER, marks=[pytest.mark.slow, pytest.mark.timeout(900)]),
])
@pytest.mark.parametrize(("workers", "maxsize", "overflow"), LOAD_CASES)
def test_load_every_task_is_accounted_for(make_queue, check_accounted, live_workers,
                                          workers, maxsize, overflow, tasks_per_producer):
    reported: list[TaskFailure] = []
    q = make_queue(workers, maxsize, overflow=overflow, on_error=reported.append,
                   name=f"load{tasks_per_producer}-{workers}{overflow}{maxsize}")
    load_test(q, tasks_per_producer, reported, check_accounted, live_workers)


# -- exceptions of every kind ----------------------------------------------------------------


class CustomBase(BaseException):
    """Derives from BaseException only, like KeyboardInterrupt."""


class UnprintableError(Exception):
    def __str__(self) -> str:
        raise RuntimeError("__str__ is broken too")

    def __repr__(self) -> str:
        raise RuntimeError("__repr__ is broken too")


def _raise(error: BaseException):
    def task():
        raise error
    return task


def _notes_not_a_list() -> None:
    error = ValueError("notes")
    error.__notes__ = "a string, not a list"  # add_note() refuses to extend this
    raise error


def _recurse_forever(depth: int = 0) -> int:
    return _recurse_forever(depth + 1) + 1


def _exception_group() -> None:
    raise ExceptionGroup("several", [ValueError(1), TypeError(2)])


def _base_exception_group() -> None:
    raise BaseExceptionGroup("several", [KeyboardInterrupt(), ValueError(2)])


def _stop_iteration() -> None:
    next(iter(()))


class UnnamedCallable:
    """A callable object whose attribute lookups (``__qualname__``, ``__name__``) all raise."""

    def __getattr__(self, name):
        raise RuntimeError(f"no attribute {name} for you")

    def __call__(self):
        raise LookupError("the call failed")


FAULTS = {
    "ValueError": (_raise(ValueError("v")), ValueError),
    "KeyboardInterrupt": (_raise(KeyboardInterrupt()), KeyboardInterrupt),
    "SystemExit": (_raise(SystemExit(3)), SystemExit),
    "sys.exit": (lambda: sys.exit("bye"), SystemExit),
    "GeneratorExit": (_raise(GeneratorExit()), GeneratorExit),
    "MemoryError": (_raise(MemoryError()), MemoryError),
    "StopIteration": (_stop_iteration, StopIteration),
    "CustomBaseException": (_raise(CustomBase("custom")), CustomBase),
    "ExceptionGroup": (_exception_group, ExceptionGroup),
    "BaseExceptionGroup": (_base_exception_group, BaseExceptionGroup),
    "RecursionError": (_recurse_forever, RecursionError),
    "unprintable": (_raise(UnprintableError()), UnprintableError),
    "notes-not-a-list": (_notes_not_a_list, ValueError),
    "callable-with-broken-attributes": (UnnamedCallable(), LookupError),
}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("handler", ["on_error", "logging"])
def test_any_exception_in_a_task_is_reported_and_the_worker_survives(
        make_queue, live_workers, caplog, fault, handler):
    task, expected = FAULTS[fault]
    reported: list[TaskFailure] = []
    q = make_queue(1, name="faults", on_error=reported.append if handler == "on_error" else None)
    [worker] = live_workers(q)
    with caplog.at_level(logging.ERROR, logger="taskqueue"):
        for _ in range(3):
            q.add_task(task)
        ran_on = q.submit(threading.current_thread).result(WAIT)
        assert ran_on is worker, "the failure killed or replaced the worker"
        with pytest.raises(BaseExceptionGroup) as group:
            q.join(WAIT, raise_errors=True)
        future = q.submit(task)
        assert isinstance(future.exception(WAIT), expected)
    errors = group.value.exceptions
    assert len(errors) == 3 and all(isinstance(e, expected) for e in errors)
    logged = [r for r in caplog.records if r.name == "taskqueue"]
    if handler == "on_error":
        assert [f.exception for f in reported] == list(errors)
        assert all(f.task is task for f in reported)
        assert logged == []
    else:
        assert [r.exc_info[1] for r in logged] == list(errors)
        assert all(r.getMessage() for r in logged)  # formatting a broken exception works
    stats = q.stats()
    assert (stats.failed, stats.completed) == (4, 1)
    assert live_workers(q) == [worker]


@pytest.mark.parametrize("raised", [RuntimeError, KeyboardInterrupt, SystemExit, CustomBase])
def test_on_error_raising_anything_leaves_the_worker_alive(make_queue, live_workers, caplog,
                                                           raised):
    calls = []

    def broken_handler(failure: TaskFailure) -> None:
        calls.append(failure)
        raise raised("the handler is broken")

    q = make_queue(2, name="badhandler", on_error=broken_handler)
    workers = live_workers(q)
    with caplog.at_level(logging.ERROR, logger="taskqueue"):
        for i in range(200):
            q.add_task(work, [], (0, i), ValueError if i % 2 else None)
        assert q.join(WAIT)
    assert len(calls) == 100
    assert sum("broken_handler" in r.getMessage() for r in caplog.records) == 100
    assert live_workers(q) == workers
    stats = q.stats()
    assert (stats.completed, stats.failed) == (100, 100)


class ExplodingHandler(logging.Handler):
    """A logging handler whose emit raises: a broken logging setup."""

    def emit(self, record):
        raise OSError("the log disk is full")


def test_a_broken_logging_handler_cannot_kill_a_worker(make_queue, live_workers):
    logger = logging.getLogger("taskqueue")
    handler = ExplodingHandler()
    logger.addHandler(handler)
    try:
        q = make_queue(1, name="badlog")  # no on_error: failures go to the broken logger
        [worker] = live_workers(q)
        for i in range(20):
            q.add_task(work, [], (0, i), ValueError)
        with pytest.raises(BaseExceptionGroup) as group:
            q.join(WAIT, raise_errors=True)
    finally:
        logger.removeHandler(handler)
    assert len(group.value.exceptions) == 20
    assert live_workers(q) == [worker]
    assert q.stats().failed == 20


@pytest.mark.parametrize("raised", [ValueError, SystemExit, KeyboardInterrupt])
def test_a_raising_future_done_callback_cannot_kill_a_worker(make_queue, live_workers, raised):
    q = make_queue(1, name="donecb")
    [worker] = live_workers(q)
    futures = []
    gate = threading.Event()
    q.add_task(gate.wait, WAIT)  # callbacks are attached before their futures complete

    def callback(future):
        raise raised("from a done-callback")

    for i in range(10):
        future = q.submit(work, [], (0, i), None)
        future.add_done_callback(callback)
        futures.append(future)
    gate.set()
    assert q.join(WAIT), f"join hung: {q.stats()}"
    assert [f.result(0) for f in futures] == [(0, i) for i in range(10)]
    assert q.submit(threading.current_thread).result(WAIT) is worker
    stats = q.stats()
    assert stats.submitted == stats.finished == 12


# -- hung tasks ------------------------------------------------------------------------------


def test_hung_workers_with_blocked_producers_cannot_hang_close(make_queue, check_accounted):
    q = make_queue(2, maxsize=4, overflow="block", name="hung")
    release = threading.Event()
    running = threading.Barrier(3)

    def hang():
        running.wait(WAIT)
        release.wait(WAIT)

    q.add_task(hang)
    q.add_task(hang)
    running.wait(WAIT)  # both workers are stuck
    futures = [q.submit(work, [], (0, i), None) for i in range(4)]  # fills the queue
    outcomes = []

    def blocked_producer():
        try:
            q.add_task(work, [], (1, 0), None)
        except TaskQueueClosed as exc:
            outcomes.append(exc)

    producers = [threading.Thread(target=blocked_producer) for _ in range(3)]
    for t in producers:
        t.start()
    assert q.join(timeout=0.05) is False
    assert q.close(cancel_pending=True, timeout=0.05) is False  # workers still hung: no hang here
    for t in producers:
        t.join(WAIT)
    assert len(outcomes) == 3, "a producer blocked on a full queue was not released by close()"
    assert all(f.cancelled() for f in futures)
    mid = q.stats()
    assert (mid.cancelled, mid.running, mid.pending) == (4, 2, 0)
    release.set()
    assert q.close(timeout=WAIT) is True
    check_accounted(q.stats(), 6)


# -- a task that closes its own queue ----------------------------------------------------------


@pytest.mark.parametrize("cancel_pending", [False, True])
def test_a_task_closing_its_queue_while_producers_add(make_queue, check_accounted, cancel_pending):
    q = make_queue(2, name="selfclose")
    ran: list[tuple] = []
    refused: dict[int, int] = {}
    start = threading.Barrier(PRODUCERS)

    def produce(producer: int) -> None:
        start.wait()
        # Add until refused: the close is queued behind thousands of tasks.
        for i in range(1_000_000):
            try:
                if i == 500 and producer == 0:
                    q.add_task(q.close, wait=True, cancel_pending=cancel_pending)
                else:
                    q.add_task(work, ran, (producer, i), None)
            except TaskQueueClosed:
                refused[producer] = i
                return

    producers = [threading.Thread(target=produce, args=(p,)) for p in range(PRODUCERS)]
    for t in producers:
        t.start()
    for t in producers:
        t.join(WAIT)
    assert sorted(refused) == list(range(PRODUCERS)), "a producer was never refused"
    assert q.join(WAIT) is True
    assert q.close(timeout=WAIT) is True
    stats = q.stats()
    check_accounted(stats, sum(refused.values()))  # producer p offered refused[p] tasks
    assert len(ran) == len(set(ran)) == stats.completed - 1  # the closing task completed too
    if not cancel_pending:
        assert stats.cancelled == 0


def test_a_task_may_shut_down_its_own_executor(make_queue):
    q = make_queue(2, name="selfshutdown")
    seen = []
    q.submit(q.shutdown, wait=True).result(WAIT)  # must not wait for itself
    with pytest.raises(TaskQueueClosed):
        q.add_task(seen.append, 1)
    assert q.close(timeout=WAIT) is True
    assert q.join(WAIT) is True


def test_overflow_raise_under_load_counts_only_what_it_accepted(make_queue, check_accounted):
    q = make_queue(1, maxsize=8, overflow="raise", name="raising")
    accepted = collections.Counter()
    rejected = collections.Counter()

    def produce(producer: int) -> None:
        for i in range(1_000):
            try:
                q.add_task(work, [], (producer, i), None)
                accepted[producer] += 1
            except queue.Full:
                rejected[producer] += 1

    producers = [threading.Thread(target=produce, args=(p,)) for p in range(4)]
    for t in producers:
        t.start()
    for t in producers:
        t.join(WAIT)
    assert q.join(WAIT)
    assert sum(accepted.values()) + sum(rejected.values()) == 4_000
    check_accounted(q.stats(), sum(accepted.values()))
    assert q.stats().completed == sum(accepted.values())
