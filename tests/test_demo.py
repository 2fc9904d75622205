"""The demo module: every model trained and plotted, into a folder that keeps one run."""

from __future__ import annotations

import re

from PIL import Image

from gdplot import demo
from gdplot.run_folder import MANIFEST_NAME, RunFolder
from taskqueue import TaskQueue


def run_demo(out, epochs: int) -> int:
    with RunFolder(out) as folder, TaskQueue(2, name="demo-plots") as queue:
        return demo.run(folder, queue, epochs=epochs, show_progress=False)


def test_the_demo_trains_every_model_and_keeps_one_runs_plots(tmp_path, capsys):
    out = tmp_path / "demo"
    out.mkdir()
    (out / "README.txt").write_text("the user's")
    assert run_demo(out, epochs=12) == 0
    first = capsys.readouterr().out
    for name in ("linear, batch GD", "linear, mini-batch GD", "linear, stochastic GD",
                 "logistic, batch GD", "mlp, mini-batch GD"):
        assert re.search(rf"^{re.escape(name)} +\d", first, re.MULTILINE), first
    assert run_demo(out, epochs=8) == 0
    second = capsys.readouterr().out
    count = int(re.search(r"^(\d+) plot files in", second, re.MULTILINE).group(1))
    plots = sorted(p for p in out.iterdir() if p.name not in (MANIFEST_NAME, "README.txt"))
    assert len(plots) == count
    # Only the second run's frames: its linear runs ended at epoch 8, never 12.
    assert any("epoch0008" in p.name for p in plots)
    assert not any("epoch0012" in p.name for p in plots if p.name.startswith("linear"))
    assert (out / "README.txt").read_text() == "the user's"
    assert (out / demo.COMPARISON_NAME) in plots
    for path in plots:
        with Image.open(path) as image:
            image.load()
