"""Interpreter exit and fork, the plain cases (in subprocesses); drain_on_signal's checks.

Under faults, kills and signals: tests/stress/test_exit_and_fork.py."""

from __future__ import annotations

import signal
import threading

import pytest

from taskqueue import drain_on_signal

WAIT = 10  # seconds: generous bounds so a broken queue fails instead of hanging


EXIT_SCRIPT = """
    import sys, time
    from pathlib import Path
    from taskqueue import TaskQueue

    out = Path(sys.argv[1]) / "out"
    out.mkdir()

    def write(i):
        time.sleep(0.005)
        (out / f"{{i}}.txt").write_text(str(i))

    q = TaskQueue(2, drain_at_exit={drain})
    for i in range(100):
        q.add_task(write, i)
    {ending}
"""


def test_pending_tasks_run_before_the_interpreter_exits(run_script, tmp_path):
    result = run_script(EXIT_SCRIPT.format(drain=True, ending="print('main done')"))
    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "out").iterdir())) == 100


def test_pending_tasks_are_drained_after_an_uncaught_exception(run_script, tmp_path):
    result = run_script(EXIT_SCRIPT.format(drain=True, ending="raise SystemError('boom')"))
    assert result.returncode == 1 and "SystemError: boom" in result.stderr
    assert len(list((tmp_path / "out").iterdir())) == 100


def test_drain_at_exit_false_exits_without_running_everything(run_script, tmp_path):
    result = run_script(EXIT_SCRIPT.format(drain=False, ending="pass"))
    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "out").iterdir())) < 100


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_a_forked_child_gets_a_working_queue(run_script):
    result = run_script("""
        import os, sys, threading, warnings
        from taskqueue import TaskQueue
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork with threads

        q = TaskQueue(2)
        gate = threading.Event()
        q.add_task(gate.wait, 5)           # a worker busy (holding no lock) at fork time
        pid = os.fork()
        if pid == 0:
            seen = []
            for i in range(10):
                q.add_task(seen.append, i)
            ok = q.join(5) and seen == list(range(10)) and q.stats().submitted == 10
            os._exit(0 if ok else 3)
        gate.set()
        _, status = os.waitpid(pid, 0)
        print("child", os.waitstatus_to_exitcode(status), "parent", q.join(5))
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["child", "0", "parent", "True"]


def test_drain_on_signal_refuses_other_threads_and_bad_signals():
    outcome = []
    thread = threading.Thread(target=lambda: outcome.append(_raised(drain_on_signal)),
                              name="not-main")
    thread.start()
    thread.join(WAIT)
    assert isinstance(outcome[0], RuntimeError) and "main thread" in str(outcome[0])
    assert "not-main" in str(outcome[0])
    before = signal.getsignal(signal.SIGTERM)
    for bad, error in (("SIGTERM", TypeError), (True, TypeError), (10_000, ValueError)):
        with pytest.raises(error, match=repr(bad).replace("(", r"\(")):
            drain_on_signal(signal.SIGTERM, bad)
    if hasattr(signal, "SIGKILL"):
        with pytest.raises(ValueError, match="SIGKILL cannot be caught"):
            drain_on_signal(signal.SIGKILL)
    assert signal.getsignal(signal.SIGTERM) is before  # nothing installed by a refused call


def _raised(fn, *args):
    try:
        fn(*args)
    except BaseException as exc:
        return exc
    return None
