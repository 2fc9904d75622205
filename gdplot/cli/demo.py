"""``gdplot demo``: every model trained on synthetic data, with its plots.

Linear regression by batch, mini-batch and stochastic gradient descent (and a chart
comparing their convergence), logistic regression on two blobs, and an MLP on ``sin(x)``.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from dataclasses import dataclass
from typing import Any

from gdplot.cli.errors import TRAINING_ERROR, USAGE_ERROR, CommandError
from gdplot.cli.runs import (
    make_plots,
    planned_paths,
    plot_files,
    start_folder,
    wait_for_plots,
    with_queue,
    with_run_folder,
    written_paths,
)
from gdplot.data.datasets import make_classification, make_nonlinear, make_regression
from gdplot.data.run_folder import RunFolder
from gdplot.models.convergence import ConvergenceWarning
from gdplot.models.divergence import DivergenceError
from gdplot.models.linear import LinearRegressionGD
from gdplot.models.logistic import LogisticRegressionGD
from gdplot.models.mlp import MLPRegressorGD
from gdplot.plots.callbacks import GifCallback
from gdplot.plots.comparison import render_comparison
from taskqueue import TaskQueue

__all__ = ["EPOCHS", "DemoRun", "run", "run_demo"]

EPOCHS = 60
FRAMES = 4
COMPARISON_NAME = "linear_batch-vs-minibatch-vs-stochastic.png"


@dataclass
class DemoRun:
    """One model to train, with the plots to make of it."""

    name: str
    estimator: Any
    X: Any
    y: Any
    callbacks: list[Any]
    seconds: float = 0.0
    #: The run's ``ConvergenceWarning``, if its loss was still falling at the end.
    still_falling: ConvergenceWarning | None = None

    def fit(self) -> None:
        start = time.perf_counter()
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ConvergenceWarning)
                self.estimator.fit(self.X, self.y, callbacks=self.callbacks)
        except DivergenceError as exc:
            raise CommandError(f"{self.name}: {exc}", TRAINING_ERROR) from None
        except (ValueError, OSError) as exc:  # a plot folder gone since the check
            raise CommandError(f"{self.name}: {exc}", USAGE_ERROR) from None
        self.seconds = time.perf_counter() - start
        for warning in caught:  # a ConvergenceWarning goes in the table
            if issubclass(warning.category, ConvergenceWarning):
                self.still_falling = warning.message
            else:
                warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                       warning.lineno)

    @property
    def end_text(self) -> str:
        """Whether the loss had settled: the table's last column."""
        if self.still_falling is None:
            return "settled"
        return f"still falling ({self.still_falling.relative_decrease:.1%} in the last tenth)"

    @property
    def score_text(self) -> str:
        metric = "R^2" if self.estimator.maths.task == "regression" else "accuracy"
        return f"{metric} {self.estimator.score(self.X, self.y):.4g}"


def runs(folder: RunFolder, queue: TaskQueue, *, epochs: int = EPOCHS) -> list[DemoRun]:
    """The demo's models on their data sets, with plot callbacks writing into ``folder``
    (the MLP trains for ``5 * epochs``)."""
    out = folder.folder
    X_reg, y_reg, _, _ = make_regression(400, 1, noise=1.0, random_state=0)
    X_cls, y_cls = make_classification(400, separation=3.0, random_state=1)
    X_sin, y_sin = make_nonlinear(400, noise=0.1, random_state=2)
    every = max(1, epochs // FRAMES)

    def linear_run(label: str, lr: float, batch_size: int | None) -> DemoRun:
        prefix = f"linear-{label}_"
        callbacks: list[Any] = make_plots(
            ["fit", "surface"], out=out, prefix=prefix, label=label, every=every, executor=queue
        )
        if batch_size is None:
            callbacks.append(
                GifCallback(
                    "surface",
                    out / f"{prefix}surface.gif",
                    every=max(1, every // 3),
                    executor=queue,
                    label=label,
                )
            )
        # Steps recorded on a log scale: the comparison draws them per row processed, and
        # the surface draws the zig-zag of the first steps.
        model = LinearRegressionGD(lr=lr, epochs=epochs, batch_size=batch_size, random_state=0,
                                   record_steps="log")
        return DemoRun(f"linear, {label} GD", model, X_reg, y_reg, callbacks)

    return [
        # One lr for all three, so that only the batch size differs: stochastic descent is
        # ahead per row processed, and ends noisiest (it oscillates about the minimum).
        linear_run("batch", 0.02, None),
        linear_run("mini-batch", 0.02, 32),
        linear_run("stochastic", 0.02, 1),
        DemoRun(
            "logistic, batch GD",
            LogisticRegressionGD(lr=0.5, epochs=epochs, method="descent", random_state=0),
            X_cls,
            y_cls,
            make_plots(["boundary", "surface"], out=out, prefix="logistic_", label="descent",
                       every=every, executor=queue),
        ),
        DemoRun(
            "mlp, mini-batch GD",
            MLPRegressorGD(hidden=32, lr=0.01, epochs=5 * epochs, batch_size=32, random_state=0),
            X_sin,
            y_sin,
            make_plots(["fit"], out=out, prefix="mlp_", label="sin(x)", every=5 * every,
                       executor=queue),
        ),
    ]


def print_table(demo_runs: list[DemoRun]) -> None:
    width = max(len("model"), *(len(run.name) for run in demo_runs))
    print(f"{'model':<{width}}  {'final loss':>12}  {'score':<16}  {'train s':>7}  at the end")
    for run in demo_runs:
        print(
            f"{run.name:<{width}}  {run.estimator.history_[-1]:>12.5g}  {run.score_text:<16}  "
            f"{run.seconds:>7.2f}  {run.end_text}"
        )


def run(
    folder: RunFolder,
    queue: TaskQueue,
    *,
    epochs: int = EPOCHS,
    show_progress: bool | None = None,
) -> int:
    """Train the demo's models into ``folder`` (held by the caller), plots on ``queue``."""
    demo_runs = runs(folder, queue, epochs=epochs)
    callbacks = [cb for demo_run in demo_runs for cb in demo_run.callbacks]
    comparison = folder.folder / COMPARISON_NAME
    planned = [path for r in demo_runs for path in planned_paths(r.callbacks, r.estimator.epochs)]
    start_folder(folder, [*planned, comparison])
    # If anything fails, the manifest keeps listing every planned file, for the next run.
    for demo_run in demo_runs:
        demo_run.fit()
    queue.add_task(
        render_comparison,
        {r.name.removeprefix("linear, "): r.estimator.snapshot() for r in demo_runs[:3]},
        comparison,
        ylabel="training loss (MSE)",
    )
    print_table(demo_runs)
    wait_for_plots(
        queue, callbacks,
        show_progress=sys.stderr.isatty() if show_progress is None else show_progress,
    )
    paths = folder.finish([comparison, *written_paths(callbacks)])
    print(f"{plot_files(len(paths))} in {folder.folder}/")
    print(f"convergence of batch vs mini-batch vs stochastic GD: {comparison}")
    return 0


def run_demo(args: argparse.Namespace) -> int:
    """Train linear (batch, mini-batch, stochastic), logistic and MLP models on synthetic data."""
    def body(folder: RunFolder) -> int:
        return with_queue(args.workers or 1, lambda queue: run(folder, queue))

    return with_run_folder(args.out, body)
