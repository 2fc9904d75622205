"""The two moments a queue cannot look after itself: interpreter exit and ``os.fork()``.

Each case runs in a fresh interpreter (``run_script``), whose timeout turns a hang into a
failure. tests/taskqueue/test_exit.py covers the plain cases (drained at exit, after an uncaught
exception, ``drain_at_exit=False``, one fork); these go further.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

# Writes one file per task, slowly enough that work is still pending when the main thread ends.
PRELUDE = """
    import os, sys, threading, time, warnings
    from pathlib import Path
    from taskqueue import TaskQueue, TaskQueueClosed

    out = Path(sys.argv[1]) / "out"
    out.mkdir(exist_ok=True)

    def write(name):
        time.sleep(0.002)
        (out / f"{name}.txt").write_text(name)
"""


def written(tmp_path) -> set[str]:
    return {p.stem for p in (tmp_path / "out").iterdir()}


# -- interpreter exit --------------------------------------------------------------------------


def test_a_training_thread_outliving_the_main_thread_loses_nothing(run_script, tmp_path):
    # The main thread only starts the (non-daemon) training thread; the queue must stay
    # open for it after the main thread ends, and be drained once it ends too.
    result = run_script(PRELUDE + """
    q = TaskQueue(1)

    def train():
        for i in range(200):
            time.sleep(0.001)
            q.add_task(write, f"epoch{i}")

    threading.Thread(target=train).start()
    """)
    assert result.returncode == 0, result.stderr
    assert "TaskQueueClosed" not in result.stderr
    assert written(tmp_path) == {f"epoch{i}" for i in range(200)}


def test_exit_drains_every_queue_and_tasks_added_while_draining(run_script, tmp_path):
    result = run_script(PRELUDE + """
    plots = TaskQueue(2, name="plots")
    uploads = TaskQueue(1, maxsize=5, overflow="block", name="uploads")

    def plot_then_upload(i):
        write(f"plot{i}")
        uploads.add_task(write, f"upload{i}")  # adds work to another queue while draining
        if i % 10 == 0:
            plots.add_task(write, f"extra{i}")  # and to its own

    for i in range(50):
        plots.add_task(plot_then_upload, i)
    sys.exit(3)
    """)
    assert result.returncode == 3, result.stderr
    expected = ({f"plot{i}" for i in range(50)} | {f"upload{i}" for i in range(50)}
                | {f"extra{i}" for i in range(0, 50, 10)})
    assert written(tmp_path) == expected


def test_exit_by_uncaught_keyboard_interrupt_still_drains(run_script, tmp_path):
    result = run_script(PRELUDE + """
    q = TaskQueue(2)
    for i in range(100):
        q.add_task(write, str(i))
    raise KeyboardInterrupt
    """)
    assert result.returncode != 0
    assert "KeyboardInterrupt" in result.stderr
    assert written(tmp_path) == {str(i) for i in range(100)}


def test_a_failing_task_at_exit_is_logged_and_the_rest_still_run(run_script, tmp_path):
    result = run_script(PRELUDE + """
    import logging
    logging.basicConfig()
    q = TaskQueue(1, name="exiting")

    def broken():
        raise OSError("disk full while exiting")

    for i in range(20):
        q.add_task(broken if i == 5 else write, *(() if i == 5 else (str(i),)))
    """)
    assert result.returncode == 0, result.stderr
    assert "disk full while exiting" in result.stderr and "exiting" in result.stderr
    assert written(tmp_path) == {str(i) for i in range(20) if i != 5}


@pytest.mark.skipif((3, 12, 0) <= sys.version_info[:3] < (3, 12, 3),
                    reason="CPython 3.12.0-3.12.2 refuse to start threads during interpreter "
                           "shutdown (python/cpython#113964, fixed in 3.12.3)")
def test_drained_tasks_may_use_a_thread_pool_executor(run_script, tmp_path):
    # Upload libraries run their own ThreadPoolExecutor; its exit hook refuses new work, so
    # our drain must run before it, even when concurrent.futures.thread is imported after us.
    result = run_script(PRELUDE + """
    from concurrent.futures import ThreadPoolExecutor

    def upload(i):
        with ThreadPoolExecutor(2) as pool:
            pool.submit(write, f"upload{i}").result()

    q = TaskQueue(1)
    for i in range(5):
        q.add_task(upload, i)
    """)
    assert result.returncode == 0, result.stderr
    assert written(tmp_path) == {f"upload{i}" for i in range(5)}


def test_a_pipeline_is_closed_only_once_every_stage_is_idle(run_script, tmp_path):
    # A late (non-daemon) producer feeds stage 1 after the main thread ended; stage 1 feeds
    # stage 2. Whatever order the exit visits the queues in, none may close while another
    # can still feed it.
    result = run_script(PRELUDE + """
    from taskqueue import lifecycle
    first, second = TaskQueue(1, name="a"), TaskQueue(1, name="b")
    downstream, upstream = lifecycle._live_queues()  # downstream is visited first

    def stage1(i):
        time.sleep(0.002)
        downstream.add_task(write, str(i))

    def late_producer():
        time.sleep(0.2)
        for i in range(20):
            upstream.add_task(stage1, i)

    threading.Thread(target=late_producer).start()
    """)
    assert result.returncode == 0, result.stderr
    assert "TaskQueueClosed" not in result.stderr
    assert written(tmp_path) == {str(i) for i in range(20)}


def test_a_daemon_thread_feeding_a_live_plot_cannot_stall_the_exit(run_script, tmp_path):
    # A daemon producer never stops; the drain refuses its new work instead of waiting for an
    # idle moment that never comes. What it queued before the exit is still rendered.
    result = run_script(PRELUDE + """
    q = TaskQueue(1, name="live")
    started, told = threading.Event(), threading.Event()

    def render(name):
        time.sleep(0.005)  # slower than the producer: there is always a frame pending
        if threading._SHUTTING_DOWN:
            # A render ending during the exit drain waits until the producer has said it was
            # refused: else the exit could end, killing the daemon thread mid-message.
            told.wait(5)
        write(name)

    def feed():
        i = 0
        while True:
            try:
                q.add_latest("plot", render, f"frame{i}")
            except TaskQueueClosed as refused:
                print(refused, file=sys.stderr, flush=True)
                told.set()
                return
            started.set()
            i += 1
            time.sleep(0.001)

    threading.Thread(target=feed, daemon=True).start()
    started.wait(5)
    print("main done")
    """, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "main done\n"
    assert "draining for interpreter exit" in result.stderr  # the daemon producer was told
    assert written(tmp_path)  # frames were rendered


def test_drain_at_exit_false_exits_although_every_worker_hangs(run_script, tmp_path):
    result = run_script(PRELUDE + """
    q = TaskQueue(2, drain_at_exit=False)
    for _ in range(2):
        q.add_task(threading.Event().wait)  # never returns
    for i in range(100):
        q.add_task(write, str(i))
    print("main done")
    """, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "main done\n"
    assert written(tmp_path) == set()


def test_one_ctrl_c_ends_an_exit_drain_stuck_on_a_hung_task(tmp_path):
    script = tmp_path / "hang.py"
    script.write_text(textwrap.dedent("""
        import signal, threading, time
        from taskqueue import TaskQueue

        # Python's own Ctrl-C handling, even when started as a background job (SIGINT ignored).
        signal.signal(signal.SIGINT, signal.default_int_handler)

        def hang():
            # Say when the interpreter has begun shutting down (the exit drain waits for
            # this task), then hang.
            while not threading._SHUTTING_DOWN:
                time.sleep(0.01)
            print("draining", flush=True)
            threading.Event().wait()

        TaskQueue(1).add_task(hang)
    """))
    with subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout.readline() == "draining\n"
            time.sleep(0.2)  # from the flag being set to the drain's wait: a few bytecodes
            process.send_signal(signal.SIGINT)
            # A second wait after this one Ctrl-C would time out here and fail the test.
            _, stderr = process.communicate(timeout=30)
        finally:
            process.kill()
    assert "KeyboardInterrupt" in stderr


# -- exit_timeout: a hung task cannot hold the exit forever ---------------------------------------


def test_exit_timeout_ends_an_exit_stuck_on_a_hung_task_and_says_what_was_abandoned(
        run_script, tmp_path):
    # As in the issue: close(timeout=1) gave up, and the process still never exited.
    result = run_script(PRELUDE + """
    q = TaskQueue(1, name="stuck", exit_timeout=1)
    q.add_task(threading.Event().wait)  # hangs for ever
    for i in range(3):
        q.add_task(write, str(i))
    print("close", q.close(timeout=0.1))
    """, timeout=60)
    assert result.returncode == 1, result.stderr  # abandoned work: not a clean exit
    assert result.stdout == "close False\n"
    assert ("stuck: exit_timeout=1s passed; the process exits, abandoning 4 unfinished task(s) "
            "(1 running, 3 pending)") in result.stderr
    assert written(tmp_path) == set()


def test_exit_timeout_gives_up_on_the_hung_queue_only(run_script, tmp_path):
    result = run_script(PRELUDE + """
    hung = TaskQueue(1, name="hung", exit_timeout=0.5)
    hung.add_task(threading.Event().wait)
    healthy = TaskQueue(2, name="healthy", exit_timeout=None)
    for i in range(50):
        healthy.add_task(write, str(i))
    """, timeout=60)
    assert result.returncode == 1, result.stderr
    assert "hung: exit_timeout=0.5s passed" in result.stderr and "healthy" not in result.stderr
    assert written(tmp_path) == {str(i) for i in range(50)}


@pytest.mark.parametrize(("ending", "status"), [
    ("pass", 1),  # would have been 0: abandoned work makes it 1
    ("sys.exit(0)", 1),
    ("raise KeyError('boom')", 1),
    # Failing already, with a status of its own: it stays.
    ("drain_on_signal(); signal.raise_signal(signal.SIGTERM)", 128 + signal.SIGTERM),
])
def test_an_exit_that_abandons_tasks_fails_unless_it_fails_already(run_script, tmp_path,
                                                                    ending, status):
    result = run_script(PRELUDE + f"""
    import logging, signal
    from taskqueue import drain_on_signal
    logging.basicConfig(format="logged: %(message)s")
    q = TaskQueue(1, name="stuck", exit_timeout=0.5)
    q.add_task(threading.Event().wait)  # hangs for ever
    q.add_task(write, "never")
    print("queued")  # buffered: a pipe
    logging.getLogger("app").warning("flushed before the exit")
    {ending}
    """, timeout=60)
    assert result.returncode == status, result.stderr
    assert result.stdout == "queued\n"  # the standard streams were flushed
    assert "logged: flushed before the exit" in result.stderr
    assert ("stuck: exit_timeout=0.5s passed; the process exits, abandoning 2 unfinished "
            "task(s)") in result.stderr
    assert written(tmp_path) == set()


def test_exit_timeout_does_not_count_the_wait_for_non_daemon_threads(run_script, tmp_path):
    # The exit waits 1.5 s for the training thread before the queue's last drain: that time
    # is not the queue's, whose 1 s is still whole for the writes the thread added at its end.
    result = run_script(PRELUDE + """
    q = TaskQueue(1, name="late", exit_timeout=1)

    def train():
        time.sleep(1.5)
        for i in range(5):
            q.add_task(write, str(i))

    threading.Thread(target=train).start()
    """, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "exit_timeout" not in result.stderr
    assert written(tmp_path) == {str(i) for i in range(5)}


def test_the_default_exit_timeout_is_the_documented_one():
    from taskqueue import EXIT_TIMEOUT, TaskQueue
    q = TaskQueue(0, drain_at_exit=False)
    assert q.exit_timeout == EXIT_TIMEOUT == 20.0


# -- drain_on_signal ------------------------------------------------------------------------------

SIGTERM_SCRIPT = PRELUDE + """
    from taskqueue import drain_on_signal
    INSTALL
    q = TaskQueue(1)
    gate = threading.Event()
    q.add_task(gate.wait, 30)  # the writes stay queued until the main thread is interrupted
    for i in range(10):
        q.add_task(write, str(i))
    try:
        print("queued", flush=True)
        time.sleep(60)  # SIGTERM arrives here
    finally:
        gate.set()
"""


def run_and_terminate(tmp_path, install: str) -> subprocess.CompletedProcess:
    script = tmp_path / "terminated.py"
    script.write_text(textwrap.dedent(SIGTERM_SCRIPT.replace("INSTALL", install)))
    with subprocess.Popen([sys.executable, str(script), str(tmp_path)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout.readline() == "queued\n"
            process.send_signal(signal.SIGTERM)
            stdout, stderr = process.communicate(timeout=30)
        finally:
            process.kill()
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@pytest.mark.skipif(not hasattr(signal, "SIGTERM") or os.name != "posix", reason="POSIX signals")
def test_sigterm_after_drain_on_signal_runs_every_queued_write_and_exits_143(tmp_path):
    result = run_and_terminate(tmp_path, "drain_on_signal()")
    assert result.returncode == 143, result.stderr
    assert result.stderr == ""
    assert written(tmp_path) == {str(i) for i in range(10)}


@pytest.mark.skipif(not hasattr(signal, "SIGTERM") or os.name != "posix", reason="POSIX signals")
def test_the_library_installs_no_signal_handler_of_its_own(tmp_path):
    result = run_and_terminate(tmp_path, "")
    assert result.returncode == -signal.SIGTERM  # SIGTERM's default action: nothing drained
    assert written(tmp_path) == set()


@pytest.mark.skipif(not hasattr(signal, "SIGTERM") or os.name != "posix", reason="POSIX signals")
def test_a_second_sigterm_ends_a_drain_stuck_on_a_hung_task_at_once(tmp_path):
    script = tmp_path / "stuck.py"
    script.write_text(textwrap.dedent("""
        import threading, time
        from taskqueue import TaskQueue, drain_on_signal

        drain_on_signal()

        def hang():
            while not threading._SHUTTING_DOWN:  # until the exit drain waits for this task
                time.sleep(0.01)
            print("draining", flush=True)
            threading.Event().wait()

        q = TaskQueue(1, exit_timeout=None)
        q.add_task(hang)
        print("ready", flush=True)
        time.sleep(60)
    """))
    with subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout.readline() == "ready\n"
            process.send_signal(signal.SIGTERM)  # the first: a normal exit, which drains...
            assert process.stdout.readline() == "draining\n"
            process.send_signal(signal.SIGTERM)  # ...and the second ends it
            process.communicate(timeout=30)
        finally:
            process.kill()
    assert process.returncode == -signal.SIGTERM


# -- a signal at a random moment of a producer loop: never inside the queue's lock -----------------

# The README's loop (SIGNAL_LOOP "readme"), and one that also uses submit, put and join ("mixed").
# It spends most of its time inside the queue's critical sections; a signal landing there must
# not leave the mutex held (the exit would wait for it for ever). SIGTERM comes through
# drain_on_signal, SIGINT (Ctrl-C) through Python's default handler. After the with block, the
# counters must still add up: no update was cut in half.
SIGNAL_LOOP = """
    import signal, sys, time
    from taskqueue import TaskQueue, drain_on_signal

    kind, loop, exit_timeout = sys.argv[2], sys.argv[3], float(sys.argv[4])
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even as a background job
    if kind == "SIGTERM":
        drain_on_signal()

    def upload(step, path):
        time.sleep(0.0005)

    q = None
    try:
        with TaskQueue(num_workers=2, maxsize=64, overflow="drop_oldest",
                       exit_timeout=exit_timeout) as q:
            for step in range(10**9):
                if step == 1:
                    print("looping", flush=True)
                if step % 100 == 0:
                    q.add_task(upload, step, f"plot_{step}.png")
                q.add_latest("live", upload, step, "live.png")
                if loop == "mixed":
                    q.submit(upload, step, "submitted.png")
                    q.put(q.stats)  # a callable, run with no arguments
                    q.join(timeout=0)
    finally:
        if q is not None:
            s = q.stats()
            print("unaccounted", s.submitted - s.finished - s.pending - s.running, flush=True)
"""
SIGNAL_EXIT_STATUS = {"SIGTERM": 128 + signal.SIGTERM, "SIGINT": -signal.SIGINT}


def signal_loops_at_random_moments(tmp_path, kind: str, loop: str, runs: int, seed: int) -> None:
    """Start the loop ``runs`` times, signal each at a random moment; each must end within its
    exit_timeout plus a second, with its exit status and its counters adding up."""
    exit_timeout = 3.0
    script = tmp_path / "loop.py"
    script.write_text(textwrap.dedent(SIGNAL_LOOP))
    rng = random.Random(seed)
    for run in range(runs):
        with subprocess.Popen([sys.executable, str(script), str(tmp_path), kind, loop,
                               str(exit_timeout)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) as process:
            try:
                assert process.stdout.readline() == "looping\n", process.stderr.read()
                time.sleep(rng.uniform(0, 0.3))
                process.send_signal(getattr(signal, kind))
                signalled = time.monotonic()
                try:
                    stdout, stderr = process.communicate(timeout=exit_timeout + 1)
                except subprocess.TimeoutExpired:
                    pytest.fail(f"run {run}: {kind} left the {loop} loop hanging for more than "
                                f"exit_timeout + 1 s")
                took = time.monotonic() - signalled
            finally:
                process.kill()
        assert process.returncode == SIGNAL_EXIT_STATUS[kind], (run, stderr)
        assert stdout == "unaccounted 0\n", (run, took, stderr)


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
@pytest.mark.parametrize("loop", ["readme", "mixed"])
@pytest.mark.parametrize("kind", ["SIGTERM", "SIGINT"])
def test_a_signal_at_a_random_moment_of_a_producer_loop_always_exits(tmp_path, kind, loop):
    signal_loops_at_random_moments(tmp_path, kind, loop, runs=5, seed=len(kind + loop))


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
@pytest.mark.parametrize("loop", ["readme", "mixed"])
@pytest.mark.parametrize("kind", ["SIGTERM", "SIGINT"])
def test_many_signals_at_random_moments_of_a_producer_loop_always_exit(tmp_path, kind, loop):
    signal_loops_at_random_moments(tmp_path, kind, loop, runs=60, seed=7)


BLOCKED_SCRIPT = """
    import signal, sys, threading
    from taskqueue import TaskQueue, drain_on_signal

    kind, where = sys.argv[2], sys.argv[3]
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even as a background job
    if kind == "SIGTERM":
        drain_on_signal()
    q = TaskQueue(1, maxsize=1, exit_timeout=1, name="blocked")
    q.add_task(threading.Event().wait)  # hangs for ever
    q.add_task(print)  # the queue is full
    print("blocking", flush=True)
    if where == "with":  # Ctrl-C waits for the running task within exit_timeout
        with q:
            threading.Event().wait()
    elif where == "join":
        q.join()
    elif where == "add_task":
        q.add_task(print)
    else:
        q.put(print)
"""


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
@pytest.mark.parametrize("where", ["join", "add_task", "put", "with"])
@pytest.mark.parametrize("kind", ["SIGTERM", "SIGINT"])
def test_a_signal_ends_a_main_thread_blocked_in_the_queue(tmp_path, kind, where):
    # Blocked on a condition of the queue, the main thread does not hold its lock: the
    # signal takes effect at once, and the exit gives up on the hung task after exit_timeout.
    script = tmp_path / "blocked.py"
    script.write_text(textwrap.dedent(BLOCKED_SCRIPT))
    with subprocess.Popen([sys.executable, str(script), str(tmp_path), kind, where],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout.readline() == "blocking\n"
            time.sleep(0.3)  # blocked by now
            process.send_signal(getattr(signal, kind))
            stdout, stderr = process.communicate(timeout=1 + 1 + 5)  # exit_timeout + 1 + start
        finally:
            process.kill()
    assert process.returncode == SIGNAL_EXIT_STATUS[kind], stderr
    assert "blocked: exit_timeout=1s passed; " in stderr and "abandoning" in stderr


# -- Ctrl-C leaving ``with``: a second one stops the wait, with one traceback -------------------


# Ctrl-C as a terminal sends it, to the main thread, from any thread: ctrl_c().
CTRL_C_PRELUDE = PRELUDE + """
    import logging, signal
    logging.basicConfig(format="%(message)s")
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even as a background job
    release = threading.Event()
    queued = threading.Event()  # set by the main thread once it has queued everything

    def ctrl_c():
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    def wait_for_ctrl_c():
        # In short sleeps: a signal that lands just before a long sleep starts would only be
        # handled when it ends (the sleep is not interrupted by a signal already handled).
        for _ in range(3000):
            time.sleep(0.01)
"""


def assert_stopped_waiting_with_one_traceback(result, tmp_path) -> None:
    """The second Ctrl-C stopped the wait for the running task, here and at exit; the first
    went on up alone; no pending write ran."""
    assert result.returncode != 0
    assert result.stderr.count("Traceback") == 1 and "KeyboardInterrupt" in result.stderr
    assert "second KeyboardInterrupt: uploads no longer waits" in result.stderr
    assert "exit_timeout" not in result.stderr  # the exit did not wait for it again either
    assert written(tmp_path) == set()


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs signal.pthread_kill")
def test_a_second_ctrl_c_in_with_stops_waiting_with_one_traceback(run_script, tmp_path):
    result = run_script(CTRL_C_PRELUDE + """
    def running():
        queued.wait(30)
        print("running", flush=True)
        ctrl_c()          # Ctrl-C in the with block (the main thread sleeps there)
        # A stand-in for a long upload, which __exit__ now waits for (once it has cancelled
        # the pending tasks: on a slow machine that may take a while) ...
        deadline = time.monotonic() + 20
        while q.stats().cancelled < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.5)
        ctrl_c()          # ...until a second Ctrl-C
        release.wait(30)

    with TaskQueue(1, name="uploads", exit_timeout=30) as q:
        q.add_task(running)
        for i in range(20):
            q.add_task(write, str(i))
        queued.set()
        wait_for_ctrl_c()
    """, timeout=60)
    assert result.stdout == "running\n"
    assert "KeyboardInterrupt: uploads cancelled 20 pending task(s)" in result.stderr
    assert_stopped_waiting_with_one_traceback(result, tmp_path)


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs signal.pthread_kill")
def test_a_second_ctrl_c_while_with_is_still_cancelling_loses_no_future(run_script, tmp_path):
    # The second Ctrl-C lands inside the cancelling itself: a done-callback of the 5th pending
    # future sends it (callbacks run in cancel(), on the thread leaving the with block).
    result = run_script(CTRL_C_PRELUDE + """
    import concurrent.futures

    def running():
        queued.wait(30)
        print("running", flush=True)
        ctrl_c()
        release.wait(30)

    def on_done(future):
        if future.cancelled():
            signal.raise_signal(signal.SIGINT)  # this thread: raised before cancel() returns

    futures = []
    try:
        with TaskQueue(1, name="uploads", exit_timeout=30) as q:
            q.add_task(running)
            futures = [q.submit(write, str(i)) for i in range(20)]
            futures[4].add_done_callback(on_done)
            queued.set()
            wait_for_ctrl_c()
    except KeyboardInterrupt:
        done, _ = concurrent.futures.wait(futures, timeout=5)  # as_completed, wait: notified
        print(q.stats().cancelled, sum(f.cancelled() for f in futures), len(done), flush=True)
        raise
    """, timeout=60)
    assert result.stdout == "running\n20 20 20\n"
    assert "unexpected state" not in result.stderr  # no future was notified twice
    assert_stopped_waiting_with_one_traceback(result, tmp_path)


# -- fork ----------------------------------------------------------------------------------------

# In each child: a watchdog turns a hang into a SIGALRM death, and os._exit reports the outcome.
FORK_PRELUDE = PRELUDE + """
    warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork with threads running
    import signal

    def child_uses(q, tag, n=20):
        # In a forked child: use q every way; exit 0 only if everything worked.
        signal.alarm(20)
        seen = []
        for i in range(n):
            q.add_task(seen.append, i)
        future = q.submit(sum, [1, 2, 3])
        q.add_latest("k", seen.append, "latest")
        ok = q.join(10) and future.result(10) == 6 and sorted(seen, key=str) == sorted(
            [*range(n), "latest"], key=str)
        stats = q.stats()
        ok = ok and stats.submitted == n + 2 and stats.completed == n + 2
        q.close(timeout=10)
        os._exit(0 if ok else 3)

    def wait_child(pid):
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status)
"""


@needs_fork
def test_forks_while_producers_hammer_the_queue(run_script):
    # Producers and workers take the queue's lock all the time, so some forks happen while
    # another thread holds it: the child must not inherit it held.
    result = run_script(FORK_PRELUDE + """
    q = TaskQueue(2, maxsize=100, overflow="drop_oldest", name="hammered")
    stop = threading.Event()
    counts = []

    def produce():
        n = 0
        while not stop.is_set():
            q.add_task(time.sleep, 0)
            q.add_latest("live", time.sleep, 0)
            n += 2
        counts.append(n)

    producers = [threading.Thread(target=produce) for _ in range(4)]
    for t in producers:
        t.start()
    codes = []
    for _ in range(20):
        pid = os.fork()
        if pid == 0:
            child_uses(q, "child")
        codes.append(wait_child(pid))
    stop.set()
    for t in producers:
        t.join()
    assert q.join(10)
    s = q.stats()
    accounted = s.completed + s.failed + s.dropped + s.coalesced + s.cancelled
    print("children", *codes)
    print("parent", s.submitted == sum(counts) == accounted, s.failed)
    """, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["children"] + ["0"] * 20
    assert lines[1].split() == ["parent", "True", "0"]


@needs_fork
def test_fork_from_inside_a_task(run_script):
    result = run_script(FORK_PRELUDE + """
    q = TaskQueue(2)

    def forking_task():
        pid = os.fork()
        if pid == 0:
            child_uses(q, "child-of-a-worker")  # the child is "inside" a task of q
        return wait_child(pid)

    print("child", q.submit(forking_task).result(30), "parent", q.join(10))
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["child", "0", "parent", "True"]


@needs_fork
def test_a_forked_child_does_not_run_the_parents_pending_work(run_script, tmp_path):
    result = run_script(FORK_PRELUDE + """
    q = TaskQueue(1)
    gate = threading.Event()
    q.add_task(gate.wait, 10)
    for i in range(30):
        q.add_task(write, f"task{i}")
    pid = os.fork()
    if pid == 0:
        signal.alarm(20)
        ok = q.join(10) and q.stats().submitted == 0  # nothing inherited, nothing to wait for
        os._exit(0 if ok else 3)
    code = wait_child(pid)
    gate.set()
    print("child", code, "parent", q.join(10))
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["child", "0", "parent", "True"]
    assert written(tmp_path) == {f"task{i}" for i in range(30)}  # each written once, by the parent


@needs_fork
def test_a_closed_queue_stays_closed_with_a_clear_error_in_the_child(run_script):
    result = run_script(FORK_PRELUDE + """
    q = TaskQueue(1)
    q.close()
    pid = os.fork()
    if pid == 0:
        signal.alarm(20)
        try:
            q.add_task(print, "never")
        except TaskQueueClosed as exc:
            os._exit(0 if "closed" in str(exc) else 4)
        os._exit(3)
    print("child", wait_child(pid))
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["child", "0"]


@needs_fork
def test_a_grandchild_gets_a_working_queue_too(run_script):
    result = run_script(FORK_PRELUDE + """
    q = TaskQueue(2)
    q.add_task(time.sleep, 0.01)
    pid = os.fork()
    if pid == 0:
        signal.alarm(30)
        q.add_task(time.sleep, 0.01)  # the child restarts its workers...
        grandchild = os.fork()         # ...and forks while they run
        if grandchild == 0:
            child_uses(q, "grandchild")
        os._exit(wait_child(grandchild))
    print("descendants", wait_child(pid), "parent", q.join(10))
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["descendants", "0", "parent", "True"]


@needs_fork
def test_multiprocessing_fork_children_can_use_an_inherited_queue(run_script):
    result = run_script(FORK_PRELUDE + """
    import multiprocessing

    q = TaskQueue(2)
    for _ in range(100):
        q.add_task(time.sleep, 0)

    def job(n):
        seen = []
        for i in range(n):
            q.add_task(seen.append, i)
        return q.join(10) and seen == list(range(n))

    if __name__ == "__main__":
        with multiprocessing.get_context("fork").Pool(2) as pool:
            print(*pool.map(job, [10, 20, 30, 40], chunksize=1))
        print("parent", q.join(10))
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True"] * 4 + ["parent", "True"]
