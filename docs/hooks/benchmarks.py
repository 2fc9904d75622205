"""MkDocs hook: the performance page is built from ``benchmarks/results``.

``python -m benchmarks`` writes ``results.json``, ``results.md`` and one PNG chart per section
into ``benchmarks/results`` (the last full run, committed). This hook keeps the site in step
with that folder, with no copy to forget:

- every chart in ``benchmarks/results`` is published as ``benchmarks/<name>.png`` beside the
  pages (``on_files``);
- in ``performance.md``, the line ``<!-- benchmarks: run -->`` becomes a summary of the run
  taken from ``results.json`` (date, command, duration, machine, versions), and
  ``<!-- benchmarks: NAME.md -->`` becomes that report's text, its sections nested under the
  page's heading above the marker and its chart links pointed at the published charts
  (``on_page_markdown``).

A marker naming a report that is not there fails the build, so a renamed results file is
noticed (the site is built with ``--strict``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from mkdocs.structure.files import File

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results"
PAGE = "performance.md"
MARKER = re.compile(r"^<!-- benchmarks: (?P<what>[\w.-]+) -->$", flags=re.M)


def on_files(files, config):
    for chart in sorted(RESULTS.glob("*.png")):
        files.append(File.generated(config, f"benchmarks/{chart.name}", abs_src_path=str(chart)))
    return files


def on_page_markdown(markdown, page, config, files):
    if page.file.src_uri != PAGE:
        return markdown
    return MARKER.sub(lambda match: _expand(match["what"], _level_above(markdown, match)), markdown)


def _level_above(markdown: str, match: re.Match) -> int:
    """The level of the page's last heading before ``match`` (1 for ``#``)."""
    headings = re.findall(r"^(#{1,6}) ", markdown[: match.start()], flags=re.M)
    return len(headings[-1]) if headings else 1


def _expand(what: str, level: int) -> str:
    if what == "run":
        return run_summary(json.loads((RESULTS / "results.json").read_text(encoding="utf-8")))
    report = RESULTS / what
    if report.suffix != ".md" or not report.is_file():
        raise FileNotFoundError(f"{PAGE} includes {what!r}, which is not in {RESULTS}")
    return embed_report(report.read_text(encoding="utf-8"), level)


def run_summary(results: dict) -> str:
    """Two lines on the run ``results.json`` records: when, what, on which machine."""
    machine = results["machine"]
    versions = ", ".join(f"{name} {version}" for name, version in machine["versions"].items())
    load = ", ".join(f"{value:.2f}" for value in machine.get("load_average", []))
    blas = "BLAS pinned to one thread" if results.get("blas_pinned") else "BLAS threads as set"
    minutes = results.get("duration_s", 0) / 60
    return (
        f"**The run shown here:** `{results['command']}` on **{machine['date']}**, "
        f"{minutes:.0f} minutes.\n\n"
        f"**Machine:** {machine['cpu_model']}, {machine['cpus_usable']} usable cores "
        f"({machine['platform']}), {machine['python_implementation']} {machine['python']}, "
        f"{versions}; {blas}; load average when it started: {load}."
    )


def embed_report(text: str, level: int) -> str:
    """A ``results.md``-style report as a part of this page, under a heading of ``level``:
    its title dropped, its ``##`` sections at ``level + 1``, its charts pointed at
    ``benchmarks/``."""
    text = re.sub(r"\A# .*\n", "", text)
    deeper = "#" * (level - 1)
    text = re.sub(r"^(#{2,6}) ", lambda m: (m[1] + deeper)[:6] + " ", text, flags=re.M)
    return re.sub(r"!\[([^\]]*)\]\(([\w.-]+\.png)\)", r"![\1](benchmarks/\2)", text)
