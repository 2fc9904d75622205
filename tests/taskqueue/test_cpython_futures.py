"""CPython's own ``concurrent.futures`` thread-pool tests, run against ``TaskQueue``.

Imported from the interpreter's ``test.test_concurrent_futures`` package (3.13 ships it; 3.11
and 3.12 builds here do not, and the whole module is skipped there), never copied. Each
class below subclasses the stdlib's thread-pool test case and only swaps its
``executor_type`` for ``TaskQueueExecutor``, a constructor shim that maps
``ThreadPoolExecutor``'s arguments onto ``TaskQueue``'s.

Left out, each with its reason (they show up as skips):

- read ``ThreadPoolExecutor`` internals (``_threads``, ``_max_workers``):
  ``test_default_workers``, ``test_saturation``, ``test_idle_thread_reuse``,
  ``test_threads_terminate``;
- build a ``futures.ThreadPoolExecutor`` themselves, whatever ``executor_type`` is, so
  they would test the stdlib, not us: ``test_context_manager_shutdown``,
  ``test_del_shutdown``, ``test_shutdown_no_wait``, ``test_thread_names_assigned``,
  ``test_thread_names_default``, ``test_cancel_futures_wait_false``,
  ``test_hang_global_shutdown_lock`` (the last also forks 50 ``ProcessPoolExecutor``\\ s);
- run a child interpreter that imports ``executor_type.__name__`` from
  ``concurrent.futures``, where ``TaskQueueExecutor`` is not: ``test_interpreter_shutdown``,
  ``test_submit_after_interpreter_shutdown``, ``test_hang_gh83386``. The same behaviours
  (work pending at exit runs, ``shutdown(wait=False)`` does not hang the exit) are tested
  in tests/stress/test_exit_and_fork.py and test_exit.py;
- assume ``submit`` hands work to a thread before it returns (``ThreadPoolExecutor`` starts
  a thread inside ``submit`` and waits for it to start): ``test_cancel_futures`` wants at
  least one of 50 futures submitted just before ``shutdown(cancel_futures=True)`` to have
  started. ``TaskQueue``'s workers are started up front and ``submit`` does not yield, so
  all 50 may rightly still be pending, and all be cancelled. What that test checks is
  checked without the race in test_close.py
  (``test_close_cancel_pending_discards_and_counts``, ``..._context_manager``);
- contradict a documented choice: ``test_max_workers_negative`` expects ``max_workers=0``
  to be refused, but ``TaskQueue(0)`` is a plain ``queue.Queue`` (CPython's queue tests run
  against it); its ``submit`` is refused instead (test_plain_queue.py).

One adaptation, not a skip: the failing-initializer test looks for the failure's log record
on the ``"concurrent.futures"`` logger; ``TaskQueue`` logs on its own ``"taskqueue"``
logger, so ``_assert_logged`` looks there (same level, CRITICAL, and same message check).
That test also reads ``executor._broken``, which ``TaskQueue`` has with the same meaning
(``None``, or why the initializer broke the queue).
"""

from __future__ import annotations

import contextlib
import os
import unittest

import pytest

from taskqueue import TaskQueue

# The package form (3.13+); a 3.11/3.12 interpreter has either nothing or one big module.
test_wait = pytest.importorskip("test.test_concurrent_futures.test_wait")
test_as_completed = pytest.importorskip("test.test_concurrent_futures.test_as_completed")
test_thread_pool = pytest.importorskip("test.test_concurrent_futures.test_thread_pool")
test_shutdown = pytest.importorskip("test.test_concurrent_futures.test_shutdown")
test_init = pytest.importorskip("test.test_concurrent_futures.test_init")

pytestmark = pytest.mark.timeout(300)


class TaskQueueExecutor(TaskQueue):
    """``ThreadPoolExecutor``'s constructor, building a ``TaskQueue``."""

    def __init__(self, max_workers: int | None = None, thread_name_prefix: str = "",
                 initializer=None, initargs: tuple = ()):
        if max_workers is None:  # ThreadPoolExecutor's default
            max_workers = min(32, (os.cpu_count() or 1) + 4)
        super().__init__(max_workers, name=thread_name_prefix or "TaskQueueExecutor",
                         initializer=initializer, initargs=initargs)


def _left_out(reason: str):
    return unittest.skip(reason)(lambda self: None)


INTERNALS = "reads ThreadPoolExecutor internals (_threads, _max_workers)"
BUILDS_ITS_OWN = "builds a futures.ThreadPoolExecutor itself: tests the stdlib, not TaskQueue"
CHILD_IMPORT = ("its child interpreter imports executor_type.__name__ from "
                "concurrent.futures; covered by tests/stress/test_exit_and_fork.py")


class TaskQueueExecutorTest(test_thread_pool.ThreadPoolExecutorTest):
    executor_type = TaskQueueExecutor

    test_default_workers = _left_out(INTERNALS)
    test_saturation = _left_out(INTERNALS)
    test_idle_thread_reuse = _left_out(INTERNALS)
    test_hang_global_shutdown_lock = _left_out(BUILDS_ITS_OWN)
    test_max_workers_negative = _left_out(
        "TaskQueue(0) is a plain queue.Queue by design; its submit() is refused instead")


class TaskQueueWaitTest(test_wait.ThreadPoolWaitTests):
    executor_type = TaskQueueExecutor


class TaskQueueAsCompletedTest(test_as_completed.ThreadPoolAsCompletedTest):
    executor_type = TaskQueueExecutor


class TaskQueueShutdownTest(test_shutdown.ThreadPoolShutdownTest):
    executor_type = TaskQueueExecutor

    test_threads_terminate = _left_out(INTERNALS)
    test_context_manager_shutdown = _left_out(BUILDS_ITS_OWN)
    test_del_shutdown = _left_out(BUILDS_ITS_OWN)
    test_shutdown_no_wait = _left_out(BUILDS_ITS_OWN)
    test_thread_names_assigned = _left_out(BUILDS_ITS_OWN)
    test_thread_names_default = _left_out(BUILDS_ITS_OWN)
    test_cancel_futures_wait_false = _left_out(BUILDS_ITS_OWN)
    test_interpreter_shutdown = _left_out(CHILD_IMPORT)
    test_submit_after_interpreter_shutdown = _left_out(CHILD_IMPORT)
    test_hang_gh83386 = _left_out(CHILD_IMPORT)
    test_cancel_futures = _left_out(
        "assumes submit() starts a thread and yields to it, so that some of 50 futures have "
        "started before shutdown(cancel_futures=True); TaskQueue may rightly cancel all 50")


class TaskQueueInitializerTest(test_init.ThreadPoolInitializerTest):
    executor_type = TaskQueueExecutor


class TaskQueueFailingInitializerTest(test_init.ThreadPoolFailingInitializerTest):
    executor_type = TaskQueueExecutor

    @contextlib.contextmanager
    def _assert_logged(self, msg):
        with self.assertLogs("taskqueue", "CRITICAL") as cm:
            yield
        self.assertTrue(any(msg in line for line in cm.output), cm.output)
