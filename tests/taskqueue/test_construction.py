"""The constructor: each argument checked, named daemon workers, a refused thread."""

from __future__ import annotations

import concurrent.futures
import queue
import threading

import pytest

from taskqueue import TaskQueue

WAIT = 10  # seconds: generous bounds so a broken queue fails instead of hanging


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
