"""With no workers a TaskQueue is the standard library's queue: CPython's queue tests run
against it, and adding tasks is refused."""

from __future__ import annotations

import queue
import unittest

import pytest

from taskqueue import TaskQueue

WAIT = 10  # seconds: generous bounds so a broken queue fails instead of hanging


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
