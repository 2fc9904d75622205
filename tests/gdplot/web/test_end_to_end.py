"""Watching real training: ``gdplot serve runs/`` in one process, ``gdplot train --out
runs/NAME`` in others, the page in chromium following them.

``GDPLOT_SCREENSHOT=path.png`` saves the page at the end (the README's picture).
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from serve_helpers import start_gdplot, write_line_csv

START_SECONDS = 60  # a bound only a hung command reaches

# Every src any <img> takes, in order, from the moment the page loads.
RECORD_SRCS = """() => {
    window.__srcs = [];
    new MutationObserver((records) => {
        for (const r of records) window.__srcs.push(r.target.getAttribute("src"));
    }).observe(document.body, {subtree: true, attributes: true, attributeFilter: ["src"]});
}"""


gdplot = start_gdplot


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    return write_line_csv(tmp_path / "line.csv")


def train(csv_file: Path, out: Path, *args: str) -> subprocess.Popen:
    # --render sync: every frame is drawn before training goes on, so a run lasts at least
    # its frames' drawing and the page sees it running on any machine.
    return gdplot("train", str(csv_file), "--target", "y", "--epochs", "50",
                  "--plot-every", "5", "--render", "sync", "--out", str(out), *args)


def finish(process: subprocess.Popen) -> str:
    out, err = process.communicate(timeout=START_SECONDS)
    assert process.returncode == 0, err
    return out


def test_the_page_follows_real_training(tmp_path, csv_file, page):
    runs = tmp_path / "runs"
    runs.mkdir()
    server = gdplot("serve", str(runs), "--port", "0")
    trainings = []
    try:
        url = server.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), server.stderr.read()
        page.goto(url)
        page.locator("#empty").wait_for(state="visible")
        page.evaluate(RECORD_SRCS)
        page.evaluate("window.__marker = 'same document'")

        trainings.append(train(csv_file, runs / "lr-0.02", "--lr", "0.02"))
        status = page.locator(".run-status").first
        status.filter(has_text="running").wait_for()
        status.filter(has_text="finished").wait_for(timeout=START_SECONDS * 1000)
        finish(trainings[0])
        page.wait_for_function("() => document.querySelector('img[src*=\"fit_epoch0050\"]')"
                               " && document.querySelector('img[src*=\"fit_epoch0050\"]').complete")
        fit_frames = {src.split("?")[0] for src in page.evaluate("window.__srcs")
                      if "/files/lr-0.02/fit_epoch" in src}
        assert len(fit_frames) >= 2, fit_frames  # the image changed while training went on

        # A sweep: two more runs, started after the page loaded, side by side.
        for lr, batch in (("0.2", None), ("0.05", "16")):
            name = f"lr-{lr}" + (f"-batch-{batch}" if batch else "")
            extra = ["--batch-size", batch] if batch else []
            trainings.append(train(csv_file, runs / name, "--lr", lr, *extra))
            finish(trainings[-1])
        page.locator(".run-name").nth(2).wait_for()
        page.wait_for_function("() => document.querySelectorAll('.badge.finished').length === 3")
        page.wait_for_function("() => [...document.querySelectorAll('.cell img')]"
                               ".every((img) => img.complete && img.naturalWidth > 0)")
        assert page.locator(".run-name").all_inner_texts() == [
            "lr-0.02", "lr-0.05-batch-16", "lr-0.2"]
        assert page.locator("#overlay polyline").count() == 3
        legend = page.locator("#legend").inner_text()
        assert "lr 0.05, batch 16" in legend and "lr 0.2, full batch" in legend
        assert page.evaluate("window.__marker") == "same document"
        assert page.problems == []
        if os.environ.get("GDPLOT_SCREENSHOT"):
            page.set_viewport_size({"width": 1400, "height": 1560})
            page.wait_for_timeout(300)  # the overlay redraws at the new width
            page.screenshot(path=os.environ["GDPLOT_SCREENSHOT"])
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=START_SECONDS)
        assert server.returncode == 0
    finally:
        for process in (server, *trainings):
            process.kill()
