"""Helpers of the ``gdplot serve`` tests (tests/gdplot/web/): run folders as gdplot writes
them, and raw HTTP on 127.0.0.1 with bounded reads."""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from gdplot.data.run_folder import RunFolder
from gdplot.data.run_status import write_run_status

TIMEOUT = 5.0  # seconds any one socket operation may take before the test fails


def png(colour: tuple[int, int, int], size: tuple[int, int] = (64, 48)) -> bytes:
    """A small PNG of one colour."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def write_run(folder: Path, files: dict[str, bytes], *, epoch: int = 3, epochs: int = 10,
              state: str = "finished", lr: float = 0.1, batch_size: int | None = None,
              model: str = "linear") -> Path:
    """A run folder as ``gdplot train`` leaves it: the files, a manifest listing them and
    a status file."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    RunFolder(folder).finish([folder / name for name in files])
    history = [1.0 / (1 + e) for e in range(epoch)]
    write_run_status(folder, {
        "model": model, "settings": {"lr": lr, "batch_size": batch_size, "epochs": epochs},
        "epoch": epoch, "epochs": epochs, "state": state,
    }, history)
    return folder


@dataclass
class Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def raw_request(port: int, data: bytes, timeout: float = TIMEOUT) -> Response:
    """Send ``data`` as is; read the response until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    reply = b"".join(chunks)
    head, _, body = reply.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Response(status, headers, body)


def get(port: int, path: str, *, method: str = "GET", host: str | None = None,
        extra: str = "") -> Response:
    """One request with ``Connection: close``; ``host=None`` sends ``127.0.0.1:port``."""
    host = f"127.0.0.1:{port}" if host is None else host
    request = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n"
    return raw_request(port, request.encode("latin-1"))


def write_line_csv(path: Path) -> Path:
    """A small CSV of y = 1.5 x + 1 plus noise (columns x, y) that gdplot train can read."""
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.normal(size=240)
    y = 1.5 * x + 1 + rng.normal(scale=0.8, size=240)
    path.write_text("\n".join(["x,y"] + [f"{a:.4f},{b:.4f}" for a, b in zip(x, y)]) + "\n")
    return path


def _ctrl_c_as_in_a_terminal() -> None:
    # A process started in the background of a script inherits SIGINT ignored (POSIX), and
    # Python then never raises KeyboardInterrupt; these tests press Ctrl-C as a terminal does.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_gdplot(*args: str) -> subprocess.Popen:
    """``python -m gdplot ARGS`` with its stdout and stderr piped (text, unbuffered), and
    Ctrl-C (SIGINT) delivered to it as in a terminal, however this test run was started."""
    return subprocess.Popen([sys.executable, "-m", "gdplot", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"},
                            preexec_fn=_ctrl_c_as_in_a_terminal)
