"""The demo module: every model trained and plotted, into a folder that keeps one run."""

from __future__ import annotations

import re

from PIL import Image

from gdplot.cli import demo
from gdplot.data.run_folder import MANIFEST_NAME, RunFolder
from taskqueue import TaskQueue


def test_the_demo_trains_every_model_and_keeps_one_runs_plots(tmp_path, capsys):
    out = tmp_path / "demo"
    out.mkdir()
    (out / "README.txt").write_text("the user's")
    # What a longer earlier run left: a frame this run will not write again.
    earlier = out / "linear-batch_fit_epoch0060.png"
    RunFolder(out).start([earlier])
    earlier.write_bytes(b"an old frame")
    with RunFolder(out) as folder, TaskQueue(2, name="demo-plots") as queue:
        assert demo.run(folder, queue, epochs=8, show_progress=False) == 0
    printed = capsys.readouterr().out
    for name in ("linear, batch GD", "linear, mini-batch GD", "linear, stochastic GD",
                 "logistic, batch GD", "mlp, mini-batch GD"):
        assert re.search(rf"^{re.escape(name)} +\d", printed, re.MULTILINE), printed
    count = int(re.search(r"^(\d+) plot files in", printed, re.MULTILINE).group(1))
    plots = sorted(p for p in out.iterdir() if p.name not in (MANIFEST_NAME, "README.txt"))
    assert len(plots) == count
    assert not earlier.exists() and any("epoch0008" in p.name for p in plots)
    assert (out / "README.txt").read_text() == "the user's"
    assert (out / demo.COMPARISON_NAME) in plots
    for path in plots:
        with Image.open(path) as image:
            image.load()
