"""The ``gdplot`` command: ``gdplot demo`` and ``gdplot train CSV --target COL``.

Plots render on a :class:`taskqueue.TaskQueue` while training runs; the command waits for
them at the end. Every error is one line on stderr (``gdplot: error: ...``) and an exit
status: 2 for bad usage or input, 1 when training or plotting fails.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from gdplot import DivergenceError, LinearRegressionGD, LogisticRegressionGD, MLPRegressorGD
from gdplot.callbacks import GifCallback, PlotCallback, ProgressCallback
from gdplot.data import (
    DataError,
    load_csv,
    make_classification,
    make_nonlinear,
    make_regression,
    standardize,
)
from gdplot.render import render_comparison, renderer_problem
from taskqueue import TaskQueue

USAGE_ERROR = 2
TRAINING_ERROR = 1

MODELS: dict[str, Callable[..., Any]] = {
    "linear": LinearRegressionGD,
    "logistic": LogisticRegressionGD,
    "mlp": MLPRegressorGD,
}


class CommandError(Exception):
    """A failure to report as one line, with the exit status to return."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class _ArgumentParser(argparse.ArgumentParser):
    # argparse prints the whole usage and exits; a one-line error is friendlier and testable.
    def error(self, message: str) -> NoReturn:
        raise CommandError(message, USAGE_ERROR)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = _build_parser()
    # Failed plots are summed up in one error line; their tracebacks would only be noise.
    quiet = logging.NullHandler()
    logging.getLogger("gdplot").addHandler(quiet)
    try:
        args = parser.parse_args(argv)
        return args.run(args)
    except CommandError as exc:
        print(f"gdplot: error: {exc}", file=sys.stderr)
        return exc.status
    except SystemExit as exc:  # --help and --version exit through argparse
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        print("gdplot: interrupted", file=sys.stderr)
        return 130
    finally:
        logging.getLogger("gdplot").removeHandler(quiet)


# --------------------------------------------------------------------------- arguments


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}")
    return value


def _int_at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {text!r}")
        return value

    return parse


_positive_int = _int_at_least(1)


def _build_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(
        prog="gdplot",
        description="Gradient descent from scratch, with plots rendered off the training thread.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="train every model on synthetic data and plot it")
    _add_output_arguments(demo)
    demo.set_defaults(run=run_demo)

    train = commands.add_parser("train", help="train a model on a CSV file")
    train.add_argument("csv", metavar="CSV", help="numeric CSV file with a header row")
    train.add_argument("--target", required=True, metavar="COL", help="column to predict")
    train.add_argument("--model", choices=sorted(MODELS), default="linear")
    train.add_argument("--lr", type=_positive_float, default=0.01, help="learning rate (0.01)")
    train.add_argument(
        "--epochs", type=_positive_int, default=100, help="passes over the data (100)"
    )
    train.add_argument(
        "--batch-size",
        type=_positive_int,
        default=None,
        metavar="N",
        help="samples per step: 1 is stochastic GD (default: the full batch)",
    )
    train.add_argument("--seed", type=_int_at_least(0), default=0, help="random seed (0)")
    train.add_argument(
        "--plot-every",
        type=_positive_int,
        default=None,
        metavar="N",
        help="plot every N epochs (default: about 10 frames per plot)",
    )
    train.add_argument(
        "--sync",
        action="store_true",
        help="render plots on the training thread instead of a task queue",
    )
    train.add_argument(
        "--progress",
        action="store_true",
        help="show a progress bar even when stderr is not a terminal",
    )
    _add_output_arguments(train)
    train.set_defaults(run=run_train)
    return parser


def _add_output_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("plots"),
        metavar="DIR",
        help="folder for the plots (default: plots)",
    )
    parser.add_argument(
        "--workers", type=_positive_int, default=2, metavar="N", help="plot-rendering threads (2)"
    )


def _prepare_out_dir(out: Path) -> Path:
    """Create ``out`` and prove it is writable, before any training time is spent."""
    if out.exists() and not out.is_dir():
        raise CommandError(f"--out {str(out)!r} is not a directory", USAGE_ERROR)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out, prefix=".gdplot-probe-"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise CommandError(
            f"--out {str(out)!r} is not a writable folder: {reason}", USAGE_ERROR
        ) from None
    return out


# --------------------------------------------------------------------------- running


@dataclass
class Run:
    """One model to train, with the plots to make of it."""

    name: str
    estimator: Any
    X: np.ndarray
    y: np.ndarray
    callbacks: list[Any]
    seconds: float = 0.0

    def fit(self) -> None:
        start = time.perf_counter()
        try:
            self.estimator.fit(self.X, self.y, callbacks=self.callbacks)
        except DivergenceError as exc:  # its message says where, and which lr to try instead
            raise CommandError(f"{self.name}: {exc}", TRAINING_ERROR) from None
        except (ValueError, OSError) as exc:  # bad input, or a plot folder gone since the check
            raise CommandError(f"{self.name}: {exc}", USAGE_ERROR) from None
        self.seconds = time.perf_counter() - start

    @property
    def final_loss(self) -> float:
        return float(self.estimator.history_[-1])

    @property
    def score_text(self) -> str:
        metric = "accuracy" if isinstance(self.estimator, LogisticRegressionGD) else "R^2"
        return f"{metric} {self.estimator.score(self.X, self.y):.4g}"


def _plots(
    kinds: Sequence[str], *, out: Path, prefix: str, label: str, every: int, executor: Any
) -> list[PlotCallback]:
    """A live ``loss`` plot plus a frame every ``every`` epochs of each of ``kinds``."""
    # Queued, a live frame per epoch costs training only a snapshot: the queue keeps only
    # the newest pending one. Inline, each frame is a full render, so keep to ``every``.
    live_loss = PlotCallback(
        "loss",
        out_dir=out,
        prefix=prefix,
        label=label,
        every=1 if executor is not None else every,
        executor=executor,
        coalesce=True,
    )
    return [live_loss] + [
        PlotCallback(kind, out_dir=out, prefix=prefix, label=label, every=every, executor=executor)
        for kind in kinds
    ]


def _finish_plots(
    queue: TaskQueue | None, callbacks: Sequence[Any], extra_paths: Sequence[Path], out: Path
) -> None:
    """Wait for the queued plots; raise one CommandError if any failed, else say where they are."""
    print("waiting for plots to finish ...", flush=True)
    errors = [error for callback in callbacks for error in callback.errors]
    if queue is not None:
        try:
            queue.join(raise_errors=True)
        except BaseExceptionGroup as group:
            errors.extend(group.exceptions)
    if errors:
        raise CommandError(f"{len(errors)} plot(s) failed: {errors[0]}", TRAINING_ERROR)
    paths = {path for callback in callbacks for path in getattr(callback, "paths", ())}
    paths.update(callback.path for callback in callbacks if isinstance(callback, GifCallback))
    paths.update(extra_paths)
    written = sorted(path for path in paths if path.exists())
    print(f"{len(written)} plot files in {out}/")


def _print_table(runs: Sequence[Run]) -> None:
    width = max(len("model"), *(len(run.name) for run in runs))
    print(f"{'model':<{width}}  {'final loss':>12}  {'score':<16}  {'train s':>7}")
    for run in runs:
        print(
            f"{run.name:<{width}}  {run.final_loss:>12.5g}  {run.score_text:<16}  "
            f"{run.seconds:>7.2f}"
        )


def _with_queue(workers: int, body: Callable[[TaskQueue], int]) -> int:
    # Failures are reported once, by join(raise_errors=True); no traceback logging per task.
    queue = TaskQueue(num_workers=workers, name="gdplot-plots", on_error=lambda failure: None)
    try:
        status = body(queue)
    except BaseException:
        queue.close(cancel_pending=True)
        raise
    queue.close()
    return status


# --------------------------------------------------------------------------- demo

_DEMO_EPOCHS = 60
_DEMO_FRAMES = 4


def run_demo(args: argparse.Namespace) -> int:
    """Train linear (batch, mini-batch, stochastic), logistic and MLP models on synthetic data."""
    out = _prepare_out_dir(args.out)
    return _with_queue(args.workers, lambda queue: _demo(out, queue))


def _demo(out: Path, queue: TaskQueue) -> int:
    X_reg, y_reg, _, _ = make_regression(400, 1, noise=1.0, random_state=0)
    X_cls, y_cls = make_classification(400, separation=3.0, random_state=1)
    X_sin, y_sin = make_nonlinear(400, noise=0.1, random_state=2)
    every = _DEMO_EPOCHS // _DEMO_FRAMES

    def linear_run(label: str, lr: float, batch_size: int | None) -> Run:
        prefix = f"linear-{label}_"
        callbacks: list[Any] = _plots(
            ["fit", "surface"], out=out, prefix=prefix, label=label, every=every, executor=queue
        )
        if batch_size is None:
            callbacks.append(
                GifCallback(
                    "surface",
                    out / f"{prefix}surface.gif",
                    every=every // 3,
                    executor=queue,
                    label=label,
                )
            )
        model = LinearRegressionGD(
            lr=lr, epochs=_DEMO_EPOCHS, batch_size=batch_size, random_state=0
        )
        return Run(f"linear, {label} GD", model, X_reg, y_reg, callbacks)

    runs = [
        # One lr for batch and mini-batch shows what more steps per epoch buy; stochastic
        # needs a smaller one, and still ends noisy.
        linear_run("batch", 0.02, None),
        linear_run("mini-batch", 0.02, 32),
        linear_run("stochastic", 0.005, 1),
        Run(
            "logistic, batch GD",
            LogisticRegressionGD(lr=0.5, epochs=_DEMO_EPOCHS, method="descent", random_state=0),
            X_cls,
            y_cls,
            _plots(
                ["boundary", "surface"],
                out=out,
                prefix="logistic_",
                label="descent",
                every=every,
                executor=queue,
            ),
        ),
        Run(
            "mlp, mini-batch GD",
            MLPRegressorGD(
                hidden=32, lr=0.01, epochs=5 * _DEMO_EPOCHS, batch_size=32, random_state=0
            ),
            X_sin,
            y_sin,
            _plots(
                ["fit"], out=out, prefix="mlp_", label="sin(x)", every=5 * every, executor=queue
            ),
        ),
    ]
    for run in runs:
        run.fit()
    comparison = out / "linear_batch-vs-minibatch-vs-stochastic.png"
    queue.add_task(
        render_comparison,
        {run.name: run.estimator.history_ for run in runs[:3]},
        comparison,
        ylabel="loss (MSE)",
    )
    _print_table(runs)
    _finish_plots(queue, [cb for run in runs for cb in run.callbacks], [comparison], out)
    print(f"convergence of batch vs mini-batch vs stochastic GD: {comparison}")
    return 0


# --------------------------------------------------------------------------- train


def run_train(args: argparse.Namespace) -> int:
    """Train one model on a CSV file, plotting as it goes."""
    try:
        X, y, features = load_csv(args.csv, args.target)
    except DataError as exc:
        raise CommandError(str(exc), USAGE_ERROR) from None
    out = _prepare_out_dir(args.out)
    X, _, _ = standardize(X)
    print(f"standardized {len(features)} feature(s) to mean 0, std 1: {', '.join(features)}")
    estimator = MODELS[args.model](
        lr=args.lr, epochs=args.epochs, batch_size=args.batch_size, random_state=args.seed
    )
    every = args.plot_every or max(1, args.epochs // 10)
    progress = [ProgressCallback()] if args.progress or sys.stderr.isatty() else []

    def train(queue: TaskQueue | None) -> int:
        plots = _plots(
            _kinds_for(args.model, len(features)),
            out=out,
            prefix="",
            label=args.model,
            every=every,
            executor=queue,
        )
        run = Run(args.model, estimator, X, y, [*plots, *progress])
        try:
            run.fit()
        finally:
            for bar in progress:
                bar.finish()  # an error message must not land on the progress bar's line
        print(
            f"trained {args.model} for {estimator.n_iter_} epochs in {run.seconds:.2f} s: "
            f"final loss {run.final_loss:.6g}, {run.score_text}"
        )
        _finish_plots(queue, plots, [], out)
        return 0

    return train(None) if args.sync else _with_queue(args.workers, train)


def _kinds_for(model: str, n_features: int) -> list[str]:
    """The per-epoch plots that make sense for this model and feature count (besides loss)."""
    return [
        kind
        for kind in ("fit", "boundary", "surface")
        if renderer_problem(kind, model, n_features) is None
    ]
