"""add_latest: per key one task running and one waiting; the last to run is the newest."""

from __future__ import annotations

import random
import threading
import time

import pytest

WAIT = 10  # seconds: generous bounds so a broken queue fails instead of hanging


def test_add_latest_keeps_only_the_newest_pending_task_per_key(make_queue, hold):
    q = make_queue(1)
    release = hold(q)
    rendered = []
    for frame in range(10):
        q.add_latest("loss", rendered.append, ("loss", frame))
        q.add_latest("fit", rendered.append, ("fit", frame))
    assert q.stats().pending == 2
    release.set()
    assert q.join(WAIT)
    assert rendered == [("loss", 9), ("fit", 9)]
    stats = q.stats()
    assert stats.coalesced == 18 and stats.submitted == stats.finished == 21


def test_add_latest_key_is_free_again_once_its_task_starts(make_queue):
    q = make_queue(1)
    started, release = threading.Event(), threading.Event()
    seen = []

    def slow(frame):
        seen.append(frame)
        started.set()
        release.wait(WAIT)

    q.add_latest("k", slow, 1)
    assert started.wait(WAIT)
    q.add_latest("k", seen.append, 2)  # the first is running: this one queues
    q.add_latest("k", seen.append, 3)  # replaces 2
    release.set()
    assert q.join(WAIT)
    assert seen == [1, 3]


@pytest.mark.parametrize("num_workers", [2, 4])
def test_the_last_render_per_key_is_always_the_newest(make_queue, num_workers):
    # A live plot per key, frames coming while earlier ones render, renders of uneven length
    # (the last one quick): two tasks of one key must never run at once, or the older,
    # slower one could end last.
    rng = random.Random(num_workers)
    keys = ["loss", "fit", "weights"]
    frames = 20
    for run in range(60):
        q = make_queue(num_workers)
        lock = threading.Lock()  # guards last, running, overlaps
        last: dict[str, int] = {}
        running = dict.fromkeys(keys, 0)
        overlaps = []

        def render(key, frame, duration):
            with lock:
                running[key] += 1
                if running[key] > 1:
                    overlaps.append((key, frame))
            time.sleep(duration)
            with lock:
                running[key] -= 1
                last[key] = frame

        for frame in range(frames):
            for key in keys:
                duration = 0 if frame == frames - 1 else rng.choice([0, 0.0005, 0.002])
                q.add_latest(key, render, key, frame, duration)
            time.sleep(rng.choice([0, 0.0002, 0.001]))  # the training step between frames
        assert q.join(WAIT)
        assert overlaps == [], f"run {run}: two tasks of one key ran at once"
        assert last == dict.fromkeys(keys, frames - 1), f"run {run}: a stale frame ended last"
        stats = q.stats()
        assert stats.submitted == frames * len(keys) == stats.completed + stats.coalesced
        q.close(timeout=WAIT)


def test_a_waiting_latest_task_starts_only_after_its_running_one_ends(make_queue, hold):
    q = make_queue(2)
    release = hold(q, lambda task: q.add_latest("plot", task))  # frame 1 runs on one worker
    seen = []
    q.add_latest("plot", seen.append, 2)  # waits: its key is running
    other = q.submit(lambda: "the free worker runs other work meanwhile")
    assert other.result(WAIT)
    stats = q.stats()
    assert (stats.pending, stats.running) == (1, 1)  # frame 2 still waits
    assert seen == []
    q.add_latest("plot", seen.append, 3)  # replaces the waiting frame 2
    release.set()
    assert q.join(WAIT)
    assert seen == [3]
    stats = q.stats()
    assert (stats.completed, stats.coalesced, stats.submitted) == (3, 1, 4)


def test_a_waiting_latest_task_does_not_hold_up_the_tasks_behind_it(make_queue, hold):
    q = make_queue(2)
    release = hold(q, lambda task: q.add_latest("plot", task))
    q.add_latest("plot", print, "never printed before release")
    behind = [q.submit(pow, 2, i) for i in range(20)]
    assert [f.result(WAIT) for f in behind] == [2**i for i in range(20)]
    release.set()
    assert q.join(WAIT)


def test_close_runs_a_waiting_latest_task_after_its_running_one(make_queue, hold):
    q = make_queue(3)
    release = hold(q, lambda task: q.add_latest("plot", task))
    seen = []
    q.add_latest("plot", seen.append, "last frame")
    q.close(wait=False)  # idle workers take their stop sentinels first
    release.set()
    assert q.close(timeout=WAIT)
    assert seen == ["last frame"]


def test_a_replaced_add_latest_argument_is_freed_outside_the_lock(make_queue, hold):
    q = make_queue(1)
    release = hold(q)
    freed = []

    class Frame:
        def __del__(self):
            # User code: it may take the queue's lock, so it must not run under it.
            freed.append((q.mutex._is_owned(), q.stats().coalesced))

    q.add_latest("k", print, Frame())
    done = threading.Event()
    replacer = threading.Thread(target=lambda: (q.add_latest("k", len, ()), done.set()))
    replacer.start()
    assert done.wait(WAIT), "add_latest deadlocked freeing the replaced arguments"
    release.set()
    assert q.join(WAIT)
    assert freed == [(False, 1)]
