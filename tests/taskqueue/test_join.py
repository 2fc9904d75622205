"""join: waits for every task (also tasks added by tasks), with a timeout, never for itself."""

from __future__ import annotations

import pytest

WAIT = 10  # seconds: generous bounds so a broken queue fails instead of hanging


def test_join_waits_for_tasks_added_by_tasks(make_queue):
    q = make_queue(2)
    seen = []

    def spawn(depth):
        seen.append(depth)
        if depth < 20:
            q.add_task(spawn, depth + 1)

    q.add_task(spawn, 0)
    assert q.join(WAIT)
    assert seen == list(range(21))


def test_join_times_out_and_later_succeeds(make_queue, hold):
    q = make_queue(1)
    release = hold(q)
    assert q.join(timeout=0.05) is False
    release.set()
    assert q.join(timeout=WAIT) is True


@pytest.mark.parametrize(("timeout", "error"), [(-1, ValueError), (float("nan"), ValueError), ("1", TypeError)])
def test_join_rejects_bad_timeouts(make_queue, timeout, error):
    with pytest.raises(error, match="timeout"):
        make_queue(1).join(timeout)


def test_join_from_inside_its_own_task_raises_instead_of_deadlocking(make_queue):
    q = make_queue(1)
    with pytest.raises(RuntimeError, match="join"):
        q.submit(q.join).result(WAIT)
