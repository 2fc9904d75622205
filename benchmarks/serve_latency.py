"""How long a new frame takes to show in ``gdplot serve``'s page, in headless chromium.

    python -m benchmarks.serve_latency [--frames 30] [--poll 0.5]

From the moment a frame's file lands (``os.replace``, as gdplot writes it) to the moment the
page swaps its ``<img>`` to it (already loaded and decoded). The server polls the folder every
``--poll`` seconds, so expect about half of that plus the page's load, and at most the
poll. Frames land at random moments, out of step with the poll. Not one of ``python -m
benchmarks``' sections: it needs Playwright and a chromium binary (``GDPLOT_CHROMIUM``, else
``chromium`` on the PATH).
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from gdplot.atomic import write_bytes_atomic
from gdplot.data.run_folder import RunFolder
from gdplot.data.run_status import write_run_status
from gdplot.web import RunServer


def _png(shade: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (shade, 80, 120)).save(buffer, format="PNG")
    return buffer.getvalue()


def _land(folder: Path, epoch: int, epochs: int) -> float:
    """Write frame ``epoch`` as a run does; the moment it landed (ms since the epoch)."""
    name = f"fit_epoch{epoch:04d}.png"
    write_bytes_atomic(folder / name, _png(epoch * 7 % 256))
    landed = time.time() * 1000
    RunFolder(folder).finish(sorted(folder.glob("fit_epoch*.png")))
    write_run_status(folder, {"model": "linear", "epoch": epoch, "epochs": epochs,
                              "settings": {"lr": 0.1}}, [1.0 / e for e in range(1, epoch + 1)])
    return landed


def measure(frames: int, poll: float) -> list[float]:
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("GDPLOT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    delays = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "runs" / "a"
        folder.mkdir(parents=True)
        _land(folder, 1, frames + 1)
        with RunServer(folder.parent, port=0, poll_interval=poll) as server:
            server.serve_in_thread()
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium)
                page = browser.new_page()
                page.goto(server.url)
                page.wait_for_function("() => document.querySelector('img[src*=fit_epoch0001]')")
                page.evaluate("""() => {
                    window.__shown = {};
                    const img = document.querySelector('img[src*=fit_epoch]');
                    new MutationObserver(() => {
                        const name = img.src.split('/').pop().split('?')[0];
                        window.__shown[name] = performance.timeOrigin + performance.now();
                    }).observe(img, {attributes: true, attributeFilter: ['src']});
                }""")
                for epoch in range(2, frames + 2):
                    time.sleep(random.uniform(0.05, 2 * poll + 0.05))
                    landed = _land(folder, epoch, frames + 1)
                    name = f"fit_epoch{epoch:04d}.png"
                    page.wait_for_function("n => window.__shown[n] !== undefined", arg=name,
                                           timeout=10_000)
                    delays.append(page.evaluate("n => window.__shown[n]", name) - landed)
                browser.close()
    return delays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--poll", type=float, default=0.5)
    args = parser.parse_args()
    delays = sorted(measure(args.frames, args.poll))
    print(f"poll every {args.poll} s, {len(delays)} frames: frame landed -> shown in the page: "
          f"median {statistics.median(delays):.0f} ms, min {delays[0]:.0f} ms, "
          f"max {delays[-1]:.0f} ms")


if __name__ == "__main__":
    main()
