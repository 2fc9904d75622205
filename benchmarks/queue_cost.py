"""Queue cost: what one no-op task costs the producer, and end-to-end throughput.

Candidates, each with its worker threads started (and having run one task) before the timer:

- ``TaskQueue.add_task(noop)`` and ``TaskQueue.submit(noop)``, and ``add_task`` on a queue
  made with ``copy_context=True`` (each task runs in a copy of its adder's context: what
  that option costs);
- a bare ``queue.Queue``: ``put((fn, args, kwargs))`` and the textbook worker loop
  (``get``, call, ``task_done``), finished with ``Queue.join()``;
- ``queue.SimpleQueue`` with the same loop, finished by one stop sentinel per worker;
- ``ThreadPoolExecutor.submit(noop)``, finished with ``shutdown(wait=True)``.

Per trial: the producer's time per task while the workers run (what a user sees), the time
until every task has run, and, in a second trial, the producer's time per task while every
worker is parked on a gate (the queue only fills up). Rounds interleave the candidates, and
each ratio compares two candidates from the same round.

Stdlib only: this module must not need NumPy.
"""

from __future__ import annotations

import concurrent.futures
import queue
import threading
import time
from collections.abc import Callable
from itertools import repeat

from benchmarks.measure import figure, interleave, per_round_ratio, repetitions
from taskqueue import TaskQueue

__all__ = ["run"]

FULL_TASKS = 200_000
QUICK_TASKS = 5_000
FULL_REPEAT = 5
QUICK_REPEAT = 3
WORKER_COUNTS = (1, 4)
REFERENCE = "queue.Queue"
TARGETS = {  # candidate vs reference: at most this ratio (median)
    "producer": ("TaskQueue.add_task", REFERENCE, 1.2),
    "end_to_end": ("TaskQueue.add_task", REFERENCE, 1.3),
    "vs_executor": ("TaskQueue.add_task", "ThreadPoolExecutor.submit", 0.5),
}


def noop() -> None:
    """The task: nothing, so that only the queue's own cost is measured."""


def _call_each(call: Callable[[Callable[[], None]], object], count: int) -> None:
    for _ in repeat(None, count):
        call(noop)


def _put_each(put: Callable[[tuple], object], count: int) -> None:
    for _ in repeat(None, count):
        put((noop, (), {}))


def _bare_worker(source: queue.Queue | queue.SimpleQueue, acknowledge: bool) -> None:
    """The textbook worker loop; ``None`` stops it."""
    while True:
        item = source.get()
        if item is None:
            return
        fn, args, kwargs = item
        fn(*args, **kwargs)
        if acknowledge:
            source.task_done()


class _Candidate:
    """One way to run tasks on ``workers`` threads; subclasses fill in the four hooks."""

    label = ""

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def run_later(self, fn: Callable[[], object]) -> None:
        """Schedule ``fn()`` (untimed plumbing: parking, warm-up)."""
        raise NotImplementedError

    def produce(self, count: int) -> None:
        """Add ``count`` no-op tasks: the timed producer loop."""
        raise NotImplementedError

    def wait_done(self) -> None:
        """Return once every task added so far has run (the candidate's natural way)."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop the workers (after ``wait_done``); harmless if they already stopped."""

    def park(self) -> Callable[[], None]:
        """Block every worker on a gate; return the function that opens it."""
        parked = threading.Semaphore(0)
        gate = threading.Event()

        def wait_at_gate() -> None:
            parked.release()
            gate.wait()

        for _ in range(self.workers):
            self.run_later(wait_at_gate)
        for _ in range(self.workers):
            parked.acquire()
        return gate.set


class _TaskQueueAddTask(_Candidate):
    label = "TaskQueue.add_task"

    def __init__(self, workers: int) -> None:
        super().__init__(workers)
        self.queue = TaskQueue(workers, name="bench")

    def run_later(self, fn: Callable[[], object]) -> None:
        self.queue.add_task(fn)

    def produce(self, count: int) -> None:
        _call_each(self.queue.add_task, count)

    def wait_done(self) -> None:
        self.queue.join()

    def stop(self) -> None:
        self.queue.close()


class _TaskQueueCopyContext(_TaskQueueAddTask):
    label = "TaskQueue.add_task (copy_context)"

    def __init__(self, workers: int) -> None:
        _Candidate.__init__(self, workers)
        self.queue = TaskQueue(workers, name="bench", copy_context=True)


class _TaskQueueSubmit(_TaskQueueAddTask):
    label = "TaskQueue.submit"

    def produce(self, count: int) -> None:
        _call_each(self.queue.submit, count)


class _BareQueue(_Candidate):
    label = REFERENCE
    acknowledge = True  # a queue.Queue worker calls task_done, so that join() works

    def __init__(self, workers: int) -> None:
        super().__init__(workers)
        self.queue = self._make_queue()
        self.threads = [threading.Thread(target=_bare_worker, args=(self.queue, self.acknowledge),
                                         daemon=True) for _ in range(workers)]
        for thread in self.threads:
            thread.start()

    @staticmethod
    def _make_queue() -> queue.Queue | queue.SimpleQueue:
        return queue.Queue()

    def run_later(self, fn: Callable[[], object]) -> None:
        self.queue.put((fn, (), {}))

    def produce(self, count: int) -> None:
        _put_each(self.queue.put, count)

    def wait_done(self) -> None:
        self.queue.join()

    def stop(self) -> None:
        for _ in self.threads:
            self.queue.put(None)
        for thread in self.threads:
            thread.join()


class _SimpleQueue(_BareQueue):
    label = "queue.SimpleQueue"
    acknowledge = False

    @staticmethod
    def _make_queue() -> queue.Queue | queue.SimpleQueue:
        return queue.SimpleQueue()

    def wait_done(self) -> None:
        # No join(): the stop sentinels queue up behind the tasks, so the workers stopping
        # means every task has run.
        super().stop()
        self.threads = []


class _Executor(_Candidate):
    label = "ThreadPoolExecutor.submit"

    def __init__(self, workers: int) -> None:
        super().__init__(workers)
        self.executor = concurrent.futures.ThreadPoolExecutor(workers)

    def run_later(self, fn: Callable[[], object]) -> None:
        self.executor.submit(fn)

    def produce(self, count: int) -> None:
        _call_each(self.executor.submit, count)

    def wait_done(self) -> None:
        self.executor.shutdown(wait=True)


CANDIDATES: tuple[type[_Candidate], ...] = (
    _TaskQueueAddTask, _TaskQueueCopyContext, _TaskQueueSubmit, _BareQueue, _SimpleQueue,
    _Executor)


def _trial(candidate_type: type[_Candidate], workers: int, tasks: int) -> dict[str, float]:
    """One round for one candidate: a running trial, then a parked one."""
    running = candidate_type(workers)
    running.park()()  # every worker thread exists and has run a task before the timer
    start = time.perf_counter()
    running.produce(tasks)
    produced = time.perf_counter()
    running.wait_done()
    done = time.perf_counter()
    running.stop()

    parked = candidate_type(workers)
    open_gate = parked.park()
    parked_start = time.perf_counter()
    parked.produce(tasks)
    parked_produced = time.perf_counter()
    open_gate()
    parked.wait_done()
    parked.stop()
    return {
        "producer_ns": (produced - start) / tasks * 1e9,
        "producer_parked_ns": (parked_produced - parked_start) / tasks * 1e9,
        "end_to_end_s": done - start,
    }


def run(*, quick: bool = False, repeat: int | None = None,
        log: Callable[[str], object] = lambda message: None) -> dict:
    """Measure every candidate with 1 and 4 workers; JSON-ready results with targets."""
    tasks = QUICK_TASKS if quick else FULL_TASKS
    rounds = repetitions(repeat, QUICK_REPEAT if quick else FULL_REPEAT)
    rows, targets = [], []
    for workers in WORKER_COUNTS:
        log(f"queue cost: {len(CANDIDATES)} candidates x {rounds} rounds, {tasks:,} tasks, "
            f"{workers} worker(s)")
        trials = {kind.label: (lambda kind=kind: _trial(kind, workers, tasks)) for kind in CANDIDATES}
        raw = interleave(trials, rounds)
        column = {label: {key: [trial[key] for trial in results] for key in results[0]}
                  for label, results in raw.items()}
        reference = column[REFERENCE]
        for label, measured in column.items():
            rows.append({
                "candidate": label,
                "workers": workers,
                "producer_ns": figure(measured["producer_ns"], "ns/task"),
                "producer_parked_ns": figure(measured["producer_parked_ns"], "ns/task"),
                "end_to_end_s": figure(measured["end_to_end_s"], "s"),
                "throughput": figure((tasks / s for s in measured["end_to_end_s"]), "tasks/s"),
                "producer_vs_queue": per_round_ratio(measured["producer_ns"], reference["producer_ns"]),
                "producer_parked_vs_queue": per_round_ratio(measured["producer_parked_ns"],
                                                            reference["producer_parked_ns"]),
                "end_to_end_vs_queue": per_round_ratio(measured["end_to_end_s"],
                                                       reference["end_to_end_s"]),
            })
        targets += _targets(column, workers)
    return {
        "title": "Queue cost",
        "settings": {"tasks": tasks, "repeat": rounds, "workers": list(WORKER_COUNTS),
                     "reference": REFERENCE},
        "rows": rows,
        "targets": targets,
    }


def _targets(column: dict[str, dict[str, list[float]]], workers: int) -> list[dict]:
    checks = (
        ("producer", "producer_ns", "producer cost per task (workers running)"),
        ("producer", "producer_parked_ns", "producer cost per task (workers parked)"),
        ("end_to_end", "end_to_end_s", "end-to-end time"),
        ("vs_executor", "end_to_end_s", "end-to-end time"),
    )
    targets = []
    for target_key, measure, what in checks:
        candidate, reference, limit = TARGETS[target_key]
        ratio = per_round_ratio(column[candidate][measure], column[reference][measure])
        targets.append({
            "section": "queue_cost",
            "name": f"`{candidate}` {what} vs `{reference}`, {workers} worker(s)",
            "limit": limit,
            "measured": ratio,
            "met": ratio["median"] <= limit,
        })
    return targets
