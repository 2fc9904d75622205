"""Make ``docs/images/notebook.png``: a real notebook run with the live view, as a page shows it.

    PYTHONPATH=$PWD python docs/images/make_notebook_png.py

Runs a two-cell notebook in a real kernel (nbclient), converts it to HTML (nbconvert's lab
template) and screenshots it with the system's Chromium (playwright, ``/usr/bin/chromium``).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert import HTMLExporter

OUT = Path(__file__).resolve().parent / "notebook.png"
CELLS = [
    """import numpy as np
from gdplot import MLPRegressorGD
from gdplot.progress import ProgressCallback
from gdplot.plots import PlotCallback

rng = np.random.default_rng(0)
X = rng.uniform(-3, 3, (6000, 1))
y = np.sin(X[:, 0]) + 0.1 * rng.standard_normal(6000)""",
    """model = MLPRegressorGD(hidden=32, batch_size=32, epochs=120, lr=0.01, random_state=0)
plots = [PlotCallback("fit", out_dir=None, show=True)]   # updated in place while it trains
model.fit(X, y, callbacks=[*plots, ProgressCallback()])""",
]


def main() -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    os.environ.setdefault("PYTHONPATH", os.getcwd())
    NotebookClient(notebook, timeout=300, kernel_name="python3").execute()
    html, _ = HTMLExporter(template_name="lab").from_notebook_node(notebook)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as scratch, sync_playwright() as driver:
        page_path = Path(scratch, "notebook.html")
        page_path.write_text(html, encoding="utf-8")
        browser = driver.chromium.launch(executable_path="/usr/bin/chromium")
        page = browser.new_page(viewport={"width": 900, "height": 600})
        page.goto(page_path.as_uri())
        page.locator("body").screenshot(path=str(OUT))
        browser.close()
    print(OUT, OUT.stat().st_size, "bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
