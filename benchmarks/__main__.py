"""``python -m benchmarks``: run the benchmarks and write ``benchmarks/results/``.

    python -m benchmarks                      # everything, ~10 minutes on 2 cores
    python -m benchmarks --quick              # a small version, about a minute
    python -m benchmarks --only queue_cost,gd_speed --repeat 3 --out /tmp/bench

Writes ``results.json`` (machine, versions, every raw figure), ``results.md`` (the headline
table first) and one PNG chart per section: into ``benchmarks/results/`` (the committed
results of a full run) by default, but a ``--quick`` run without ``--out`` writes to a new
scratch folder, never over the committed results. The console names every missed target.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

# Section name -> module; imported only when selected (queue_cost needs no NumPy).
SECTIONS = {
    "offload": "benchmarks.offload",
    "queue_cost": "benchmarks.queue_cost",
    "render_cost": "benchmarks.render_cost",
    "gd_speed": "benchmarks.gd_speed",
    "train_case": "benchmarks.train_case",
    "submit_cost": "benchmarks.submit_cost",
    "notebook": "benchmarks.notebook",
}
DEFAULT_OUT = Path(__file__).resolve().parent / "results"
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


class _OneLineErrorParser(argparse.ArgumentParser):
    """A bad flag is one line on stderr and exit status 2 (argparse adds the usage too)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an int >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an int >= 1, got {text!r}")
    return value


def _section_list(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in SECTIONS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"must be one or more of {', '.join(SECTIONS)} (comma-separated), got {text!r}")
    return list(dict.fromkeys(names))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = _OneLineErrorParser(
        prog="python -m benchmarks",
        description="Measure what the task queue buys; write JSON, Markdown and PNG charts.")
    parser.add_argument("--quick", action="store_true",
                        help="a small version that runs in under a minute")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="output folder (default: benchmarks/results; with --quick, a "
                             "new scratch folder)")
    parser.add_argument("--only", type=_section_list, default=list(SECTIONS),
                        metavar="SECTION[,SECTION]",
                        help=f"run only these sections: {', '.join(SECTIONS)}")
    parser.add_argument("--repeat", type=_positive_int, default=None, metavar="N",
                        help="repetitions per figure (default: per section, more without --quick)")
    args = parser.parse_args(argv)
    if args.out is None and not args.quick:
        args.out = DEFAULT_OUT
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        parser.error(f"argument --out: not a folder: {str(args.out)!r}")
    return args


def pin_blas_threads() -> bool:
    """Give NumPy's BLAS one thread, unless the user chose a count; True if we pinned it.

    Must run before NumPy is imported. The training loop is single-threaded Python; on a
    2-core machine a multi-threaded BLAS fights any renderer for the second core, and a
    full-batch step then slows down many times over, whatever the plot mode.
    """
    if any(name in os.environ for name in BLAS_THREAD_VARIABLES):
        return False
    for name in BLAS_THREAD_VARIABLES:
        os.environ[name] = "1"
    return True


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    blas_pinned = pin_blas_threads()
    from benchmarks.machine import describe_machine

    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f}s] {message}", file=sys.stderr, flush=True)

    command = "python -m benchmarks" + "".join(
        " " + shlex.quote(arg) for arg in (sys.argv[1:] if argv is None else argv))
    results = {
        "schema": 1,
        "command": command,
        "quick": args.quick,
        "blas_pinned": blas_pinned,
        "machine": describe_machine(),
        "sections": {},
    }
    for name in args.only:
        module = importlib.import_module(SECTIONS[name])
        section_start = time.perf_counter()
        section = module.run(quick=args.quick, repeat=args.repeat, log=log)
        section["duration_s"] = time.perf_counter() - section_start
        results["sections"][name] = section
    results["duration_s"] = time.perf_counter() - started

    from benchmarks.report import format_figure, write_report

    # A quick run is a smoke test: its figures must never replace a full run's committed ones.
    out = args.out if args.out is not None else Path(tempfile.mkdtemp(prefix="gdplot-bench-"))
    for path in write_report(results, out):
        log(f"wrote {path}")
    missed = [t for s in results["sections"].values() for t in s["targets"] if not t["met"]]
    targets = sum(len(s["targets"]) for s in results["sections"].values())
    log(f"done in {results['duration_s']:.0f} s; targets missed: {len(missed)} of {targets}")
    for target in missed:
        unit = target.get("unit", "x")
        limit = f"{target['limit']:g}" + ("x" if unit == "x" else f" {unit}")
        log(f"  missed: {target['name']}: {format_figure(target['measured'])} (limit {limit})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
