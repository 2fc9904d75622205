"""What the notebook view's render thread takes from training, measured as its CPU time.

    python -m benchmarks.notebook_render_cpu [--kernels 3] [--epochs 300]

The notebook section's wall-clock ratios spread by about 15% on a shared machine, which hides
a cost of a few percent. On a ``TaskQueue`` thread, a frame is drawn holding the GIL, so the
CPU time the render thread spends on frames is time the training thread could not run: an
upper bound on the view's cost that machine noise hardly moves. This runs the notebook
section's loop (``benchmarks.notebook``) in fresh kernels: a plain fit, then two plotted fits
with ``PlotCallback('loss', out_dir=None, show=True, executor=TaskQueue(1))``, summing
``time.thread_time()`` over each fit's renders. Not one of ``python -m benchmarks``'
sections: it wraps the renderer, which the timed sections must not do.
"""

from __future__ import annotations

import argparse
import json
import statistics

from benchmarks.notebook import BATCH_SIZE, HIDDEN, LONG_EPOCHS, N_SAMPLES, SETUP

# Wraps the render function the callback dispatches, in the kernel: each render adds its
# thread's CPU time to ``render_cpu``.
WRAP_RENDERS = """
import time
from gdplot.plots import callbacks as _callbacks
_render_frame = _callbacks.render_frame
render_cpu = []
def _timed_render(*args):
    started = time.thread_time()
    try:
        return _render_frame(*args)
    finally:
        render_cpu.append(time.thread_time() - started)
_callbacks.render_frame = _timed_render
queue = TaskQueue(1)
"""

PLOTTED = ("render_cpu.clear(); timed([PlotCallback('loss', out_dir=None, show=True, "
           "executor=queue)]); print(json.dumps([sum(render_cpu), len(render_cpu)]))")


def one_kernel(epochs: int) -> dict[str, float]:
    """In a fresh kernel: the plain fit's time, and each plotted fit's render CPU time."""
    from benchmarks.kernel import KernelSession

    result: dict[str, float] = {}
    with KernelSession() as kernel:
        kernel.run(SETUP.format(n=N_SAMPLES, hidden=HIDDEN, batch=BATCH_SIZE, epochs=epochs))
        kernel.run(WRAP_RENDERS)
        result["plain_s"] = json.loads(kernel.run("timed()").stdout.strip().splitlines()[-1])
        for which in ("first", "second"):
            lines = kernel.run(PLOTTED).stdout.strip().splitlines()
            result[f"{which}_s"] = json.loads(lines[-2])
            result[f"{which}_render_cpu_s"], result[f"{which}_frames"] = json.loads(lines[-1])
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.notebook_render_cpu",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--kernels", type=int, default=3, help="fresh kernels (default 3)")
    parser.add_argument("--epochs", type=int, default=LONG_EPOCHS,
                        help=f"epochs of each fit (default {LONG_EPOCHS})")
    args = parser.parse_args(argv)
    if args.kernels < 1 or args.epochs < 1:
        parser.error(f"--kernels and --epochs must be >= 1, got {args.kernels} and {args.epochs}")
    runs = [one_kernel(args.epochs) for _ in range(args.kernels)]
    for run in runs:
        print(json.dumps({key: round(value, 3) for key, value in run.items()}))
    for which in ("first", "second"):
        shares = [run[f"{which}_render_cpu_s"] / run["plain_s"] for run in runs]
        cpu = [run[f"{which}_render_cpu_s"] for run in runs]
        print(f"{which} plotted fit: render CPU {statistics.median(cpu):.3f} s (median of "
              f"{len(runs)}), {statistics.median(shares):.1%} of a plain fit")


if __name__ == "__main__":
    main()
