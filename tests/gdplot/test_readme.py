"""The README's Python examples run as written (in a scratch folder, with warnings as errors)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
# A block inside a list item is indented like the item: dedent it.
EXAMPLES = [textwrap.dedent(block) for block in
            re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)]


def test_the_readme_has_examples():
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize("source", EXAMPLES, ids=[f"example{i}" for i in range(len(EXAMPLES))])
def test_readme_example_runs(source, tmp_path, monkeypatch):
    # The cluster example needs Dask, an optional extra that CI installs where it can.
    if re.search(r"^from distributed import", source, flags=re.M):
        pytest.importorskip("distributed")
    monkeypatch.chdir(tmp_path)
    if "show=True" in source:  # the notebook example, run here outside a kernel: it says so once
        with pytest.warns(UserWarning, match="not running in a Jupyter kernel"):
            exec(compile(source, str(README), "exec"), {"__name__": "__main__"})
        return
    # Run as a script would be, so that an ``if __name__ == "__main__":`` block runs too.
    exec(compile(source, str(README), "exec"), {"__name__": "__main__"})
