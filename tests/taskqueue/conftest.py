"""Fixtures of the taskqueue tests."""

from __future__ import annotations

import threading

import pytest

from taskqueue import TaskQueue

WAIT = 10  # seconds: a bound only a broken queue reaches


def _hold(q: TaskQueue, add=None) -> threading.Event:
    """Occupy one worker of ``q`` (through ``add``, default ``q.add_task``) until the
    returned event is set."""
    started, release = threading.Event(), threading.Event()

    def held():
        started.set()
        release.wait(WAIT)

    (add or q.add_task)(held)
    assert started.wait(WAIT)
    return release


@pytest.fixture
def hold():
    """``hold(q, add=None)``: one worker of ``q`` busy until the returned event is set."""
    return _hold
