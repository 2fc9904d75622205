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


# A loop shaped as the README's: its body ends in an ``if`` (so the backward jump is reached
# by a jump), and most of an iteration is plain arithmetic before that jump, where no signal
# is taken: a signal arriving then is taken at the jump.
LOOP_WITH_FINALLY = """
    import signal, sys
    from taskqueue import TaskQueue, drain_on_signal

    kind, mode = sys.argv[1], "plain"
    if kind == "SIGTERM":
        drain_on_signal()
    else:
        signal.signal(signal.SIGINT, signal.default_int_handler)  # even as a background job
    total = 0
    try:
        with TaskQueue(num_workers=1) as q:
            for step in range(10**9):
                if step == 1:
                    print("looping", flush=True)
                q.add_latest("live", abs, step)
""" + "                total = (total * 31 + step) % 1000003\n" * 40 + """
                if mode == "mixed":
                    q.join(timeout=0)
    finally:
        print("finally ran", q.closed, flush=True)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGTERM") or not hasattr(signal, "pthread_kill"),
                    reason="POSIX signals")
@pytest.mark.parametrize("kind", ["SIGTERM", "SIGINT"])
def test_a_signal_in_a_loop_runs_the_finally_blocks_and_the_queue_exit(tmp_path, kind):
    # On CPython 3.13, an exception a signal handler raises at a loop's backward jump skips
    # every enclosing handler; the handlers wait for another point of the loop instead.
    import random
    import subprocess
    import sys
    import textwrap
    import time

    script = tmp_path / "loop.py"
    script.write_text(textwrap.dedent(LOOP_WITH_FINALLY))
    rng = random.Random(0)
    for run in range(12):
        with subprocess.Popen([sys.executable, str(script), kind], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) as process:
            try:
                assert process.stdout.readline() == "looping\n", process.stderr.read()
                time.sleep(rng.uniform(0, 0.05))
                process.send_signal(getattr(signal, kind))
                stdout, stderr = process.communicate(timeout=WAIT)
            finally:
                process.kill()
        assert stdout == "finally ran True\n", (run, stderr)
        assert process.returncode == (143 if kind == "SIGTERM" else -signal.SIGINT), (run, stderr)
