"""The notebook view in a real Jupyter kernel, driven over its protocol, listening to every
iopub message; and ``show=True`` outside a kernel.

The kernel is shared by the module's tests (it takes a second or two to start); each test
makes its own executor in it and shuts it down.
"""

from __future__ import annotations

import ast
import base64
import re
import textwrap

import pytest

from gdplot.plots.notebook import NotebookView

SETUP = """
import math, pathlib, tempfile, time
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
import numpy as np
from gdplot import LinearRegressionGD, MLPRegressorGD
from gdplot.progress import ProgressCallback
from gdplot.plots import PlotCallback
from taskqueue import TaskQueue
rng = np.random.default_rng(0)
X = rng.uniform(-3, 3, (2000, 1))
y = np.sin(X[:, 0]) + 0.1 * rng.standard_normal(2000)
forkserver = multiprocessing.get_context("forkserver")
def mlp(epochs):
    return MLPRegressorGD(hidden=16, batch_size=32, lr=0.01, epochs=epochs, random_state=0)
"""

DASK = """
from distributed import Client
client = Client(processes={processes}, n_workers=1, threads_per_worker=1, dashboard_address=None)
ex = client.get_executor()
"""
# Executors PlotCallback takes, made in the kernel (``ex``) and how each is shut down.
EXECUTORS = {
    "taskqueue": ("ex = TaskQueue(1)", "ex.close()"),
    "process pool": ("ex = ProcessPoolExecutor(1, mp_context=forkserver)", "ex.shutdown()"),
    "kernel's process": ("ex = None", ""),
    "dask threads": (DASK.format(processes=False), "client.close()"),
    "dask processes": (DASK.format(processes=True), "client.close()"),
}


@pytest.fixture(scope="module")
def kernel():
    pytest.importorskip("ipykernel")
    pytest.importorskip("jupyter_client")
    from benchmarks.kernel import KernelSession

    with KernelSession() as session:
        session.run(SETUP)
        yield session


def _png(message: dict) -> bytes:
    return base64.b64decode(message["content"]["data"]["image/png"])


def _epoch(message: dict) -> int | None:
    found = re.search(r"epoch (\d+)", message["content"]["data"].get("text/plain", ""))
    return int(found.group(1)) if found else None


def _with_id(messages: list[dict], display_id: str) -> list[dict]:
    return [m for m in messages if m["msg_type"] in ("display_data", "update_display_data")
            and m["content"].get("transient", {}).get("display_id") == display_id]


def _the_display(run) -> str:
    """The display_id of the cell's one display_data message, checked to hold an image."""
    displays = run.own("display_data")
    assert len(displays) == 1, [m["content"] for m in displays]
    assert "image/png" in displays[0]["content"]["data"]
    return displays[0]["content"]["transient"]["display_id"]


@pytest.mark.parametrize("executor", list(EXECUTORS))
def test_the_cell_shows_one_image_updated_in_place_ending_on_the_last_file(kernel, executor,
                                                                             tmp_path):
    if executor.startswith("dask"):
        pytest.importorskip("distributed")
    make, close = EXECUTORS[executor]
    kernel.run(make)
    try:
        run = kernel.run(textwrap.dedent(f"""
            cb = PlotCallback("loss", out_dir={str(tmp_path)!r}, every=25, executor=ex,
                              show=True, fps=25)
            mlp(100).fit(X, y, callbacks=[cb])
            print("fit returned", cb.paths[-1])
            """))
        display_id = _the_display(run)
        updates = run.own("update_display_data")
        # Every message of this display, whatever cell it came with, carries this cell's
        # header: none went out with another parent.
        ours = _with_id(kernel.messages, display_id)
        assert {m["parent_header"]["msg_id"] for m in ours} == {run.msg_id}
        # Updates arrived while fit ran: before the cell printed that fit returned, and
        # showing epochs before the last one; the last shows the last epoch.
        order = [m["msg_type"] for m in run.messages if m["msg_type"] == "update_display_data"
                 or (m["msg_type"] == "stream" and m["content"]["name"] == "stdout")]
        assert order.index("stream") > order.index("update_display_data")
        epochs = [_epoch(m) for m in updates]
        assert len(updates) >= 2 and min(epochs) < 100 and epochs[-1] == 100, epochs
        assert epochs == sorted(epochs)  # the newest frame wins: never an older one after
        last_file = tmp_path / "loss_epoch0100.png"
        assert _png(updates[-1]) == last_file.read_bytes()
        assert sorted(p.name for p in tmp_path.iterdir()) == [
            f"loss_epoch{e:04d}.png" for e in (25, 50, 75, 100)]
        # A later cell brings no message for this display.
        later = kernel.run("time.sleep(0.3)")
        assert _with_id(later.messages, display_id) == []
    finally:
        if close:
            kernel.run(close)


def test_a_failed_fit_stops_its_view(kernel):
    run = kernel.run(textwrap.dedent("""
        class Stop(Exception):
            pass
        class StopAt:
            def on_epoch_end(self, estimator, epoch):
                if epoch == 60:
                    raise Stop
        ex = TaskQueue(1)
        cb = PlotCallback("loss", out_dir=None, executor=ex, show=True, fps=25)
        try:
            mlp(100).fit(X, y, callbacks=[cb, StopAt()])
        except Stop:
            print("fit failed")
        cb.view._sender.join(5)
        print("sender alive", cb.view._sender.is_alive())
        ex.close()
        """))
    assert "fit failed" in run.stdout
    assert "sender alive False" in run.stdout
    assert len(run.own("display_data")) == 1  # the view was shown, and is left as it was


def test_out_dir_none_writes_nothing_and_several_plots_each_get_an_image(kernel, tmp_path):
    run = kernel.run(textwrap.dedent(f"""
        import os
        os.chdir({str(tmp_path)!r})
        ex = TaskQueue(1)
        plots = [PlotCallback(kind, out_dir=None, executor=ex, show=True, fps=25)
                 for kind in ("loss", "fit")]
        mlp(80).fit(X, y, callbacks=plots)
        ex.close()
        """))
    displays = run.own("display_data")
    assert len(displays) == 2
    ids = [m["content"]["transient"]["display_id"] for m in displays]
    assert len(set(ids)) == 2
    for display_id in ids:
        updates = [m for m in run.own("update_display_data")
                   if m["content"]["transient"]["display_id"] == display_id]
        assert updates and _epoch(updates[-1]) == 80
        assert _png(updates[-1]).startswith(b"\x89PNG")
    assert _png(updates[-1]) != _png([m for m in run.own("update_display_data")
                                      if m["content"]["transient"]["display_id"] == ids[0]][-1])
    assert list(tmp_path.iterdir()) == []


def test_the_frame_rate_is_capped_and_every_still_decides_the_files(kernel, tmp_path):
    run = kernel.run(textwrap.dedent(f"""
        ex = TaskQueue(1)
        cb = PlotCallback("loss", out_dir={str(tmp_path)!r}, every=1000, executor=ex,
                          show=True, fps=2)
        start = time.perf_counter()
        mlp(150).fit(X, y, callbacks=[cb])
        print(time.perf_counter() - start)
        ex.close()
        """))
    seconds = float(run.stdout.split()[-1])
    updates = run.own("update_display_data")
    # At most fps a second, plus the final frame (sent at once) and one for rounding.
    assert 1 <= len(updates) <= seconds * 2 + 2, (len(updates), seconds)
    assert [p.name for p in tmp_path.iterdir()] == ["loss_epoch0150.png"]
    assert _png(updates[-1]) == (tmp_path / "loss_epoch0150.png").read_bytes()


def test_progress_is_one_bar_updated_in_place(kernel):
    run = kernel.run("mlp(30).fit(X, y, callbacks=[ProgressCallback(min_interval=0)])")
    assert "epoch" not in run.stderr.replace("epochs", "")  # no bar lines on stderr
    displays = run.own("display_data")
    assert len(displays) == 1 and "text/html" in displays[0]["content"]["data"]
    display_id = displays[0]["content"]["transient"]["display_id"]
    updates = run.own("update_display_data")
    assert len(updates) >= 2
    assert {m["content"]["transient"]["display_id"] for m in updates} == {display_id}
    assert "30/30" in updates[-1]["content"]["data"]["text/plain"]


def test_show_outside_a_kernel_warns_once_and_writes_files(run_script):
    result = run_script("""
        import sys, warnings
        from pathlib import Path
        import numpy as np
        from gdplot import LinearRegressionGD
        from gdplot.plots import PlotCallback
        out = Path(sys.argv[1], "plots")
        X = np.linspace(0, 1, 50)[:, None]
        y = 2 * X[:, 0] + 1
        caught = []
        for prefix in ("a_", "b_"):  # a callback warns once, however many fits
            with warnings.catch_warnings(record=True) as fits:
                warnings.simplefilter("always")
                cb = PlotCallback("loss", out_dir=out, every=5, prefix=prefix, show=True)
                for _ in range(2):
                    LinearRegressionGD(lr=0.1, epochs=10).fit(X, y, callbacks=[cb])
            caught.append([(w.category.__name__, str(w.message)) for w in fits
                           if "show=True" in str(w.message)])
        print(caught)
        print(sorted(p.name for p in out.iterdir()))
        print("IPython" in sys.modules)
        """)
    assert result.returncode == 0, result.stderr
    warned, files, ipython = result.stdout.splitlines()
    first, second = ast.literal_eval(warned)
    assert len(first) == len(second) == 1
    assert first[0][0] == "UserWarning" and "not running in a Jupyter kernel" in first[0][1]
    assert files == str(sorted(f"{p}_loss_epoch{e:04d}.png" for p in "ab" for e in (5, 10)))
    assert ipython == "False"


def test_out_dir_none_outside_a_kernel_warns_and_writes_nothing(tmp_path, monkeypatch):
    from gdplot import LinearRegressionGD
    from gdplot.plots import PlotCallback

    monkeypatch.chdir(tmp_path)
    X = [[0.0], [1.0], [2.0]]
    callback = PlotCallback("loss", out_dir=None, show=True)
    with pytest.warns(UserWarning, match="out_dir=None: nothing is written"):
        LinearRegressionGD(lr=0.1, epochs=5).fit(X, [1.0, 3.0, 5.0], callbacks=[callback])
    assert callback.view is None and callback.paths == [] and list(tmp_path.iterdir()) == []


def test_out_dir_none_needs_show():
    from gdplot.plots import PlotCallback

    with pytest.raises(ValueError, match="out_dir=None"):
        PlotCallback("loss", out_dir=None)
    with pytest.raises(ValueError, match="fps"):
        PlotCallback("loss", show=True, fps=0)


class _RecordingView(NotebookView):
    """A view whose sender records what it would send (no kernel needed)."""

    def __init__(self, **kwargs) -> None:
        super().__init__("loss plot", **kwargs)
        self.updates: list[int] = []

    def _update(self, frame) -> None:
        self.updates.append(frame.epoch)


def _started(view: NotebookView) -> NotebookView:
    import threading

    view._sender = threading.Thread(target=view._send_frames, daemon=True)
    view._sender.start()
    return view


def test_view_sends_the_newest_frame_and_skips_the_rest():
    view = _started(_RecordingView(fps=0.5))  # one update, then none for 2 s
    view.offer(1, b"1")
    assert not view.wait(0.2)
    for epoch in (2, 3, 4):
        view.offer(epoch, b"x")
    view.offer(3, b"old")  # older than one offered: ignored
    view.finish(5)
    view.offer(5, b"5")  # the final frame goes out at once, cap or not
    assert view.wait(1.5)
    assert view.updates == [1, 5]
    assert view.skipped == 4 and view.sent == 2
    assert view.shown.png == b"5"


def test_the_first_frame_is_asked_for_one_interval_into_training(monkeypatch):
    import time
    import types

    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda bundle, **kwargs: (
        shown.append(bundle), types.SimpleNamespace(display_id="view-1"))[1])
    view = _RecordingView(fps=4)
    started = time.monotonic()
    view.start(b"placeholder")
    try:
        assert view.display_id == "view-1" and len(shown) == 1  # the placeholder, at once
        assert not view.due(started + 0.01)  # the first epochs: no frame yet
        assert view.due(started + 0.26)  # one interval in: the first frame
        assert not view.due(started + 0.27) and view.due(started + 0.52)
    finally:
        view.close()


def test_view_finish_after_the_last_frame_was_sent():
    view = _started(_RecordingView(fps=100))
    view.offer(7, b"7")
    deadline = __import__("time").monotonic() + 5
    while view.sent == 0 and __import__("time").monotonic() < deadline:
        view.wait(0.01)
    view.finish(7)
    assert view.wait(0) and view.updates == [7]


def test_executor_none_renders_in_one_kernel_process_reused_by_later_fits(kernel):
    run = kernel.run(textwrap.dedent("""
        import os, threading
        from gdplot.plots import notebook as notebook_view
        pids = []
        for _ in range(2):
            cb = PlotCallback("loss", out_dir=None, show=True, fps=25)
            mlp(20).fit(X, y, callbacks=[cb])
            pids.append(sorted(notebook_view.shared_renderer()._processes))
        print(pids, os.getpid())
        """))
    pids, kernel_pid = run.stdout.rsplit("]", 1)
    first, second = ast.literal_eval(pids + "]")
    assert first == second and len(first) == 1 and first[0] != int(kernel_pid)
    assert len(run.own("display_data")) == 2
