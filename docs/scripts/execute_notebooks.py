"""Run the tutorial notebooks in a real Jupyter kernel and store their outputs in place.

The site renders the stored outputs (mkdocs-jupyter with ``execute: false``), so run this after
changing a notebook, or the code it uses, and commit the result::

    python docs/scripts/execute_notebooks.py                  # every notebook under docs/
    python docs/scripts/execute_notebooks.py docs/tutorials/3-backprop-by-hand.ipynb

The kernel imports this checkout (``PYTHONPATH`` is set to it). A cell that raises stops the
notebook, and the script exits non-zero naming it. ``tests/docs/test_docs.py`` executes every
notebook the same way, without writing.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
TIMEOUT = 300  # seconds per cell: a bound only a hung cell reaches


def execute(path: Path) -> nbformat.NotebookNode:
    """``path``'s notebook, executed in a fresh ``python3`` kernel, in its own folder."""
    notebook = nbformat.read(path, as_version=4)
    env_path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    os.environ["PYTHONPATH"] = env_path  # inherited by the kernel that the client starts
    client = NotebookClient(notebook, timeout=TIMEOUT, kernel_name="python3",
                            record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    return notebook


def main(argv: list[str]) -> int:
    paths = [Path(arg) for arg in argv] or sorted(DOCS.rglob("*.ipynb"))
    for path in paths:
        if ".ipynb_checkpoints" in path.parts:
            continue
        start = time.perf_counter()
        notebook = execute(path)
        nbformat.write(notebook, path)
        print(f"{path}: {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
