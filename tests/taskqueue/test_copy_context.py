"""copy_context: each task runs in a copy of its adder's contextvars context."""

from __future__ import annotations

import contextvars

import pytest

from taskqueue import TaskFailure

WAIT = 10  # seconds: generous bounds so a broken queue fails instead of hanging


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
