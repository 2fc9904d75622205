"""close, shutdown and with: drain or cancel, then refuse more; Ctrl-C leaving with cancels."""

from __future__ import annotations

import logging
import threading

import pytest

from taskqueue import TaskQueueClosed

WAIT = 10  # seconds: generous bounds so a broken queue fails instead of hanging


def test_close_runs_pending_work_then_refuses_more(make_queue):
    q = make_queue(2)
    seen = []
    for i in range(100):
        q.add_task(seen.append, i)
    assert q.close() is True
    assert sorted(seen) == list(range(100))
    assert not any(t.name.startswith("taskqueue-worker") and t.is_alive() for t in q._workers)
    for add in (lambda: q.add_task(print), lambda: q.submit(print), lambda: q.add_latest(1, print)):
        with pytest.raises(TaskQueueClosed):
            add()
    assert issubclass(TaskQueueClosed, RuntimeError)
    assert q.close() is True  # idempotent
    q.shutdown()


def test_close_cancel_pending_discards_and_counts(make_queue, hold):
    q = make_queue(1)
    release = hold(q)
    futures = [q.submit(lambda: None) for _ in range(5)]
    for _ in range(5):
        q.add_task(lambda: None)
    q.close(wait=False, cancel_pending=True)
    release.set()
    assert q.close(timeout=WAIT) is True
    assert all(f.cancelled() for f in futures)
    stats = q.stats()
    assert stats.cancelled == 10 and stats.submitted == stats.finished == 11


def test_shutdown_cancel_futures_and_context_manager(make_queue, hold):
    with make_queue(1) as q:
        results = [q.submit(lambda i=i: i * i) for i in range(5)]
    assert [f.result(0) for f in results] == [0, 1, 4, 9, 16]
    assert q.closed
    q2 = make_queue(1)
    release = hold(q2)
    pending = q2.submit(lambda: None)
    q2.shutdown(wait=False, cancel_futures=True)
    assert pending.cancelled()
    release.set()


def test_a_hung_task_cannot_hang_close_or_join_with_a_timeout(make_queue, hold):
    q = make_queue(1)
    release = hold(q)  # "hangs" until released
    q.add_task(lambda: None)
    assert q.join(timeout=0.05) is False
    assert q.close(cancel_pending=True, timeout=0.05) is False
    release.set()
    assert q.close(timeout=WAIT) is True


def test_close_wakes_a_blocked_producer(make_queue, hold):
    q = make_queue(1, maxsize=1)
    release = hold(q)
    q.add_task(lambda: None)
    outcome = []
    producer = threading.Thread(target=lambda: outcome.append(_try(q.add_task, print)))
    producer.start()
    q.close(wait=False, cancel_pending=True)
    producer.join(WAIT)
    assert outcome and isinstance(outcome[0], TaskQueueClosed)
    release.set()


def test_a_task_may_close_its_own_queue(make_queue):
    q = make_queue(1)
    seen = []
    q.add_task(q.close)
    q.add_task(seen.append, "pending before close still runs")
    assert q.join(WAIT)
    assert q.close(timeout=WAIT) is True
    assert seen == ["pending before close still runs"]


def _try(fn, *args):
    try:
        fn(*args)
    except BaseException as exc:
        return exc
    return None


def test_put_after_close_is_refused_not_stranded_behind_the_stop_sentinels(make_queue):
    q = make_queue(1)
    q.close()
    with pytest.raises(TaskQueueClosed):
        q.put(print)
    assert q.join(WAIT)


class _ReleaseOnLog(logging.Handler):
    """Sets ``event`` once a warning is logged: lets a held task go only after the log."""

    def __init__(self, event: threading.Event):
        super().__init__(logging.WARNING)
        self.event = event
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())
        self.event.set()


def test_ctrl_c_in_with_cancels_pending_lets_running_end_and_logs_the_count(make_queue, hold):
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
