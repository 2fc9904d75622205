"""A real Jupyter kernel driven over its protocol, as a front end drives it.

Used by the notebook benchmark and by the notebook view's tests. The kernel is this
interpreter's ``ipykernel`` (a kernel spec written to a temporary folder, so it runs
``sys.executable`` whatever ``python`` is on the PATH) with this process's ``PYTHONPATH``,
so it imports the same checkout. Every iopub message is kept, whatever its parent: a test
must see an update that went out with another cell's header, too.

    with KernelSession() as kernel:
        cell = kernel.run("print(1)")
        cell.reply["status"], [m["msg_type"] for m in cell.messages]
"""

from __future__ import annotations

import json
import os
import queue
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["CellRun", "KernelError", "KernelSession"]


class KernelError(RuntimeError):
    """A cell raised in the kernel, or the kernel did not answer in time."""


@dataclass
class CellRun:
    """One executed cell: its request's ``msg_id``, its execute reply, and the iopub
    messages that arrived while it ran (every one, whatever its parent)."""

    msg_id: str
    reply: dict[str, Any]
    messages: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def own(self, msg_type: str | None = None) -> list[dict[str, Any]]:
        """This cell's messages (parent is its request), of ``msg_type`` if given."""
        return [m for m in self.messages if m["parent_header"].get("msg_id") == self.msg_id
                and (msg_type is None or m["msg_type"] == msg_type)]

    @property
    def stdout(self) -> str:
        return "".join(m["content"]["text"] for m in self.own("stream")
                       if m["content"]["name"] == "stdout")

    @property
    def stderr(self) -> str:
        return "".join(m["content"]["text"] for m in self.own("stream")
                       if m["content"]["name"] == "stderr")


class KernelSession:
    """Start a kernel, run cells in it, keep every iopub message; shut it down on exit.

    ``messages`` holds every iopub message received so far, in order of arrival.
    """

    def __init__(self, *, env: dict[str, str] | None = None, startup_timeout: float = 60) -> None:
        from jupyter_client.kernelspec import KernelSpecManager
        from jupyter_client.manager import KernelManager

        self._folder = tempfile.TemporaryDirectory(prefix="gdplot-kernel-")
        spec_dir = Path(self._folder.name, "kernels", "gdplot-python")
        spec_dir.mkdir(parents=True)
        kernel_env = {"PYTHONPATH": os.environ.get("PYTHONPATH", os.getcwd())}
        kernel_env.update(env or {})
        (spec_dir / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "gdplot test kernel", "language": "python", "env": kernel_env,
        }))
        specs = KernelSpecManager(kernel_dirs=[str(spec_dir.parent)])
        self.manager = KernelManager(kernel_name="gdplot-python", kernel_spec_manager=specs,
                                     transport="ipc")
        self.manager.start_kernel()
        self.client = self.manager.client()
        self.client.start_channels()
        try:
            self.client.wait_for_ready(timeout=startup_timeout)
        except BaseException:
            self.close()
            raise
        self.messages: list[dict[str, Any]] = []
        self.drain(0.2)

    def __enter__(self) -> KernelSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.client.stop_channels()
            self.manager.shutdown_kernel(now=False)
        finally:
            self._folder.cleanup()

    def drain(self, seconds: float) -> list[dict[str, Any]]:
        """Collect iopub messages for ``seconds``; returns those that arrived."""
        got = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                got.append(self.client.get_iopub_msg(timeout=left))
            except queue.Empty:
                break
        self.messages += got
        return got

    def run(self, code: str, *, timeout: float = 120, check: bool = True) -> CellRun:
        """Execute ``code`` and collect iopub messages until its ``idle`` status.

        Raises :class:`KernelError` with the traceback if the cell raised (``check``).
        """
        start = time.perf_counter()
        msg_id = self.client.execute(code)
        deadline = time.monotonic() + timeout
        run = CellRun(msg_id, {})
        idle = False
        while not idle:
            left = deadline - time.monotonic()
            if left <= 0:
                raise KernelError(f"cell did not finish in {timeout} s:\n{code}")
            try:
                message = self.client.get_iopub_msg(timeout=left)
            except queue.Empty:
                continue
            self.messages.append(message)
            run.messages.append(message)
            idle = (message["msg_type"] == "status"
                    and message["parent_header"].get("msg_id") == msg_id
                    and message["content"]["execution_state"] == "idle")
        run.seconds = time.perf_counter() - start
        run.reply = self.client.get_shell_msg(timeout=timeout)["content"]
        if check and run.reply["status"] != "ok":
            raise KernelError("cell failed:\n" + "\n".join(run.reply.get("traceback", []))
                              + f"\n{run.reply.get('ename')}: {run.reply.get('evalue')}")
        return run

    def value(self, expression: str) -> Any:
        """The value of a JSON-able ``expression`` in the kernel."""
        run = self.run(f"import json as _json; print(_json.dumps({expression}))")
        return json.loads(run.stdout.strip().splitlines()[-1])
