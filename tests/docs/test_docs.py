"""The documentation site's examples run as written, and its notebooks run in a real kernel.

- Every ```python block of every page under docs/ runs as a script would, in a scratch folder,
  with warnings as errors (as the README's do, tests/test_readme.py).
- Every notebook under docs/ is executed in a fresh Jupyter kernel (nbclient + ipykernel, from
  the ``docs`` extra; skipped without them). The kernel imports this checkout. These tests are
  marked ``notebooks``: ``-m "not notebooks"`` leaves them out.
- The committed notebooks carry their outputs (the site renders those), and the performance
  page's markers name results that exist.
"""

from __future__ import annotations

import gc
import importlib.util
import os
import re
import signal
import textwrap
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
NOTEBOOKS = sorted(path for path in DOCS.rglob("*.ipynb") if ".ipynb_checkpoints" not in path.parts)
# The tutorials: the site renders them with their stored outputs.
TUTORIALS = [path for path in NOTEBOOKS if path.parent == DOCS / "tutorials"]


def _examples() -> list[pytest.param]:
    examples = []
    for page in PAGES:
        blocks = re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S)
        for number, block in enumerate(blocks):
            name = f"{page.relative_to(DOCS).as_posix()}#{number}"
            # A block inside a list item or an admonition is indented like it: dedent it.
            examples.append(pytest.param(page, textwrap.dedent(block), id=name))
    return examples


EXAMPLES = _examples()
_SIGNALS = [getattr(signal, name) for name in ("SIGTERM", "SIGHUP", "SIGINT") if hasattr(signal, name)]


def test_the_docs_have_pages_examples_and_notebooks():
    assert len(PAGES) >= 10
    assert len(EXAMPLES) >= 10
    assert len(TUTORIALS) >= 5


@pytest.mark.parametrize("page, source", EXAMPLES)
def test_docs_example_runs(page, source, tmp_path, monkeypatch):
    # The cluster example needs Dask, an optional extra that CI installs where it can.
    uses_dask = re.search(r"^from distributed import", source, flags=re.M) is not None
    if uses_dask:
        pytest.importorskip("distributed")
    monkeypatch.chdir(tmp_path)
    # An example may install signal handlers (drain_on_signal): they must not outlive it.
    handlers = {number: signal.getsignal(number) for number in _SIGNALS}
    try:
        # Run as a script would be, so that an ``if __name__ == "__main__":`` block runs too.
        exec(compile(source, str(page), "exec"), {"__name__": "__main__"})
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)
    if uses_dask:
        # Dask's dashboard can leave a socket for the garbage collector; collected later, its
        # ResourceWarning would fail whichever test happens to run then. Collect it here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()


# -- notebooks ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", TUTORIALS, ids=[path.name for path in TUTORIALS])
def test_committed_tutorial_carries_its_outputs(path):
    """The site renders the stored outputs: a notebook committed unexecuted would show no plots."""
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.read(path, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code" and cell.source.strip()]
    assert code, f"{path.name} has no code"
    unexecuted = [cell.source.splitlines()[0] for cell in code if cell.execution_count is None]
    assert not unexecuted, f"{path.name}: cells stored without running: {unexecuted}"
    errors = [out for cell in code for out in cell.outputs if out.output_type == "error"]
    assert not errors, f"{path.name} is stored with an error: {errors[0].ename}: {errors[0].evalue}"
    images = [out for cell in code for out in cell.outputs if "image/png" in out.get("data", {})]
    assert images, f"{path.name} is stored without a plot"
    # Each tutorial says what the reader should notice.
    assert "notice" in notebook.cells[0].source.lower(), f"{path.name}: no 'what to notice'"


@pytest.mark.notebooks
@pytest.mark.timeout(600)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_notebook_executes_in_a_real_kernel(path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    if importlib.util.find_spec("ipykernel") is None:
        pytest.skip("ipykernel is not installed (pip install -e '.[docs]')")
    # The kernel is a new process: it inherits the environment, so it imports this checkout.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=300, kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}})
    # Any cell that raises fails the test with the cell and its traceback (CellExecutionError).
    client.execute()
    images = [out for cell in notebook.cells if cell.cell_type == "code"
              for out in cell.outputs if "image/png" in out.get("data", {})]
    assert images, f"{path.name} drew no plot when executed"


# -- the performance page -----------------------------------------------------------------------


def _benchmarks_hook():
    spec = importlib.util.spec_from_file_location("docs_benchmarks_hook",
                                                  DOCS / "hooks" / "benchmarks.py")
    if importlib.util.find_spec("mkdocs") is None:
        pytest.skip("mkdocs is not installed (pip install -e '.[docs]')")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_performance_page_markers_name_committed_results():
    hook = _benchmarks_hook()
    page = (DOCS / "performance.md").read_text(encoding="utf-8")
    markers = hook.MARKER.findall(page)
    assert "run" in markers and "results.md" in markers
    for match in hook.MARKER.finditer(page):
        text = hook._expand(match["what"], hook._level_above(page, match))
        assert "<!-- benchmarks:" not in text
        for chart in re.findall(r"\]\(benchmarks/([\w.-]+\.png)\)", text):
            assert (hook.RESULTS / chart).is_file(), chart


def test_performance_page_gives_the_run_date_and_machine():
    import json

    hook = _benchmarks_hook()
    results = json.loads((hook.RESULTS / "results.json").read_text(encoding="utf-8"))
    summary = hook.run_summary(results)
    assert results["machine"]["date"] in summary
    assert results["machine"]["cpu_model"] in summary
    assert results["machine"]["python"] in summary


def test_embedded_report_nests_its_sections_and_points_at_the_charts():
    hook = _benchmarks_hook()
    text = hook.embed_report("# Title\n\nintro\n\n## Queue cost\n\n![queue](queue_cost.png)\n", 3)
    assert "# Title" not in text
    assert "\n#### Queue cost\n" in text
    assert "![queue](benchmarks/queue_cost.png)" in text
