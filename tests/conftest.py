"""Fixtures shared by the reliability suites: queues that never outlive a test, subprocesses."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from taskqueue import TaskQueue, TaskStats

WAIT = 30  # seconds: a bound that only a broken (hung) queue ever reaches


@pytest.fixture
def make_queue():
    """TaskQueues that are closed (pending work cancelled) when the test ends."""
    made: list[TaskQueue] = []

    def make(*args, **kwargs) -> TaskQueue:
        kwargs.setdefault("drain_at_exit", False)
        q = TaskQueue(*args, **kwargs)
        made.append(q)
        return q

    yield make
    for q in made:
        q.close(cancel_pending=True, timeout=WAIT)


@pytest.fixture
def run_script(tmp_path: Path):
    """Run a dedented Python script in a fresh interpreter as ``script.py tmp_path *args``.

    The timeout turns a hang into a test failure (``subprocess.TimeoutExpired``).
    """

    def run(body: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        script = tmp_path / "script.py"
        script.write_text(textwrap.dedent(body))
        return subprocess.run([sys.executable, str(script), str(tmp_path), *args],
                              capture_output=True, text=True, timeout=timeout, check=False)

    return run


@pytest.fixture
def check_accounted():
    """``check(stats, submitted)``: every task is over and counted in exactly one outcome."""

    def check(stats: TaskStats, submitted: int) -> None:
        assert stats.submitted == submitted
        assert (stats.pending, stats.running) == (0, 0)
        assert (stats.completed + stats.failed + stats.dropped + stats.coalesced
                + stats.cancelled) == submitted

    return check


@pytest.fixture
def live_workers():
    """``live_workers(q)``: the threads still running ``q``'s worker loop."""

    def live(q: TaskQueue) -> list[threading.Thread]:
        prefix = f"{q.name}-worker-"
        return [t for t in threading.enumerate() if t.name.startswith(prefix) and t.is_alive()]

    return live
