"""A lightweight threaded task queue: slow callbacks off the hot loop, nothing lost.

    from taskqueue import TaskQueue

    with TaskQueue(num_workers=2, maxsize=100, overflow="drop_oldest") as q:
        for step in range(1000):
            ...
            q.add_task(upload, step, path=f"plot_{step}.png")
        q.join(raise_errors=True)
"""

from .overflow import OVERFLOW_POLICIES
from .signals import drain_on_signal
from .task_queue import EXIT_TIMEOUT, TaskQueue
from .types import BrokenTaskQueue, TaskFailure, TaskQueueClosed, TaskStats

__all__ = ["EXIT_TIMEOUT", "OVERFLOW_POLICIES", "BrokenTaskQueue", "TaskFailure", "TaskQueue",
           "TaskQueueClosed", "TaskStats", "drain_on_signal"]
