"""Killed mid-write: SIGKILL a training run with queued plots; every .png left must be whole.

A subprocess trains with two PlotCallbacks on a TaskQueue (a live loss plot overwritten
every epoch, and a fit plot every 25 epochs), and is killed with SIGKILL at a pseudo-random
moment after its first image appears: no exit hooks, no cleanup. Files are written to a
temp name and renamed, so whatever the moment, every ``*.png`` must decode completely; a
temp file may be left behind, but never under a ``.png`` name.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

TRAINING = """
import sys
from pathlib import Path

import numpy as np

from gdplot import LinearRegressionGD
from gdplot.plots.callbacks import PlotCallback
from taskqueue import TaskQueue

out = Path(sys.argv[1])
rng = np.random.default_rng(0)
X = rng.standard_normal((200, 1))
y = 3 * X[:, 0] + 1 + 0.1 * rng.standard_normal(200)
queue = TaskQueue(2, maxsize=4, overflow="drop_oldest")
callbacks = [
    PlotCallback("loss", every=1, out_dir=out, executor=queue, coalesce=True),
    PlotCallback("fit", every=25, out_dir=out, executor=queue),
]
LinearRegressionGD(lr=0.001, epochs=200_000, random_state=0).fit(X, y, callbacks=callbacks)
print("training finished before the kill", flush=True)
"""

FIRST_IMAGE_TIMEOUT = 60  # seconds for the subprocess to start and write its first image


def kill_mid_training(script: Path, out: Path, delay: float) -> None:
    """Start the training script, wait for its first .png, sleep ``delay`` s, SIGKILL it."""
    with subprocess.Popen([sys.executable, str(script), str(out)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as process:
        try:
            deadline = time.monotonic() + FIRST_IMAGE_TIMEOUT
            while not (out.is_dir() and any(out.glob("*.png"))):
                assert process.poll() is None, f"training died early: {process.stderr.read()}"
                assert time.monotonic() < deadline, "no image appeared"
                time.sleep(0.01)
            time.sleep(delay)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"


def check_files_left(out: Path) -> tuple[int, int]:
    """Every .png decodes completely; anything else is a temp file. Returns (pngs, temps)."""
    pngs = temps = 0
    for path in out.iterdir():
        if path.suffix == ".png":
            with Image.open(path) as image:
                assert image.format == "PNG", path.name
                image.load()  # decodes every byte: raises on a truncated file
                assert image.width > 0 and image.height > 0
            assert not path.name.startswith("."), f"a temp name ends in .png: {path.name}"
            pngs += 1
        else:
            assert path.name.startswith(".") and path.name.endswith(".tmp"), path.name
            temps += 1
    return pngs, temps


def run_kills(tmp_path: Path, kills: int) -> tuple[int, int]:
    script = tmp_path / "train.py"
    script.write_text(TRAINING)
    delays = random.Random(2024)
    pngs = temps = 0
    for kill in range(kills):
        out = tmp_path / f"run{kill}"
        delay = delays.uniform(0.0, 1.5)
        kill_mid_training(script, out, delay)
        run_pngs, run_temps = check_files_left(out)
        assert run_pngs >= 1
        pngs += run_pngs
        temps += run_temps
    print(f"\n{kills} kills: {pngs} .png files checked, all whole; "
          f"{temps} temp files left by writes cut short")
    return pngs, temps


def test_sigkill_at_random_moments_leaves_only_whole_images(tmp_path):
    run_kills(tmp_path, kills=3)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_sigkill_long(tmp_path):
    run_kills(tmp_path, kills=20)


def test_the_kill_script_completes_when_not_killed(tmp_path):
    # Guards the premise: unkilled, the script trains, plots and leaves no temp file.
    script = tmp_path / "train.py"
    script.write_text(TRAINING.replace("epochs=200_000", "epochs=60"))
    out = tmp_path / "plots"
    result = subprocess.run([sys.executable, str(script), str(out)], capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    # loss.png, and fit frames after epochs 25, 50 and the last (maxsize=4 drops none of them)
    assert check_files_left(out) == (4, 0)
    assert os.path.getsize(out / "loss.png") > 0
