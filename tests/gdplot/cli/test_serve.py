"""``gdplot serve DIR`` and ``gdplot train --serve``, as subprocesses: the address on stdout,
bad input as one line, Ctrl-C stopping within a second without a traceback."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from serve_helpers import TIMEOUT, get, png, start_gdplot, write_line_csv, write_run

START_SECONDS = 30  # a bound only a hung command reaches


gdplot = start_gdplot


def read_url(process: subprocess.Popen) -> str:
    line = process.stdout.readline()  # the command prints it at once; a hang fails by timeout
    assert line.startswith("http://127.0.0.1:"), (line, process.stderr.read())
    return line.strip()


def port_of(url: str) -> int:
    return int(url.rstrip("/").rsplit(":", 1)[1])


def interrupt(process: subprocess.Popen) -> tuple[float, str, str]:
    """Send Ctrl-C (SIGINT); the seconds until the process ended, its stdout and stderr."""
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=START_SECONDS)
    return time.monotonic() - started, out, err


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    return write_line_csv(tmp_path / "line.csv")


# -- gdplot serve ---------------------------------------------------------------------------------


def test_serve_prints_the_address_and_stops_on_ctrl_c(tmp_path):
    write_run(tmp_path / "runs" / "a", {"loss.png": png((1, 2, 3))})
    process = gdplot("serve", str(tmp_path / "runs"), "--port", "0")
    try:
        url = read_url(process)
        port = port_of(url)
        state = json.loads(get(port, "/api/runs").body)
        assert [run["name"] for run in state["runs"]] == ["a"]
        # An open event stream must not hold the server up.
        stream = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        stream.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        assert stream.recv(100).startswith(b"HTTP/1.1 200")
        seconds, out, err = interrupt(process)
        stream.close()
    finally:
        process.kill()
    assert seconds < 1.0, seconds
    assert process.returncode == 0
    assert out == "" and "Traceback" not in err
    assert err.strip() == "gdplot: stopped serving"


@pytest.mark.parametrize(("args", "message"), [
    (["missing"], "DIR 'missing' is not a folder"),
    (["."], None),  # with a port in use: below
    ([".", "--port", "-1"], "--port must be"),
    ([".", "--port", "65536"], "--port must be"),
    ([".", "--port", "http"], "argument --port: must be a port number"),
    ([".", "--host", "no-such-host.invalid"], "cannot listen on --host 'no-such-host.invalid'"),
])
def test_serve_bad_input_is_one_line(tmp_path, args, message):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        if message is None:
            args = [*args, "--port", str(busy.getsockname()[1])]
            message = "the port is in use"
        result = subprocess.run([sys.executable, "-m", "gdplot", "serve", *args], cwd=tmp_path,
                                capture_output=True, text=True, timeout=START_SECONDS)
    finally:
        busy.close()
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("gdplot: error: "), result.stderr
    assert message in lines[0]


# -- gdplot train --serve ---------------------------------------------------------------------------


def test_train_serve_gives_the_address_first_and_serves_until_ctrl_c(tmp_path, csv_file):
    out = tmp_path / "runs" / "lr-0.1"
    process = gdplot("train", str(csv_file), "--target", "y", "--lr", "0.1", "--epochs", "40",
                     "--render", "thread", "--out", str(out), "--serve", "0")
    try:
        before = []  # what the command says before it serves: the data, not training yet
        while not (line := process.stdout.readline()).startswith("serving "):
            assert line, process.stderr.read()
            before.append(line)
        assert before and not any(line.startswith("trained") for line in before), before
        assert line == f"serving {out}/ at {line.split()[-1]}\n"
        url = line.split()[-1]
        port = port_of(url)
        assert url == f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            runs = json.loads(get(port, "/api/runs").body)["runs"]
            # Training finishes first; its last frames land after.
            if (runs and runs[0]["state"] == "finished"
                    and runs[0]["plots"].get("fit", {}).get("epoch") == 40):
                break
            time.sleep(0.2)
        (run,) = runs
        assert run["state"] == "finished" and run["status"]["epoch"] == 40
        assert run["status"]["settings"]["lr"] == 0.1
        assert {"loss", "fit", "surface"} <= set(run["plots"])
        # Training is over: the lock is released while the page is still served.
        deadline = time.monotonic() + START_SECONDS
        while (out / ".gdplot.lock").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not (out / ".gdplot.lock").exists()
        assert get(port, run["plots"]["fit"]["url"]).status == 200
        seconds, rest, err = interrupt(process)
    finally:
        process.kill()
    assert seconds < 1.0, seconds
    assert process.returncode == 0
    assert "trained linear for 40 epochs" in rest
    assert "still serving" in err and "Traceback" not in err


def test_a_sweep_is_a_run_folder_per_run_under_one_parent(tmp_path, csv_file):
    """Runs started together in sibling folders each hold their own lock and manifest; a run
    on a folder in use is refused; the server shows each run once."""
    from gdplot.data.run_folder import RunFolder
    from gdplot.web import RunServer

    runs = tmp_path / "runs"
    (runs / "busy").mkdir(parents=True)
    with RunFolder(runs / "busy"):  # another run holds this one
        sweep = [gdplot("train", str(csv_file), "--target", "y", "--lr", lr, "--epochs", "30",
                        "--render", "thread", "--out", str(runs / name))
                 for lr, name in (("0.01", "lr-0.01"), ("0.1", "lr-0.1"), ("0.1", "busy"))]
        try:
            results = [process.communicate(timeout=START_SECONDS) for process in sweep]
        finally:
            for process in sweep:
                process.kill()
    assert [process.returncode for process in sweep] == [0, 0, 2], [err for _, err in results]
    assert "is in use by another gdplot run" in results[2][1]
    with RunServer(runs, port=0) as server:
        state = json.loads(server.state()[1])
    assert [run["name"] for run in state["runs"]] == ["lr-0.01", "lr-0.1"]
    for run, lr in zip(state["runs"], (0.01, 0.1)):
        assert run["state"] == "finished" and run["status"]["settings"]["lr"] == lr
        assert {"loss", "fit", "surface"} <= set(run["plots"])
