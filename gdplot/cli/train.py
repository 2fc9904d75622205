"""``gdplot train CSV --target COL``: train one model on a CSV file, plotting as it goes.
"""

from __future__ import annotations

import argparse
import inspect
import math
import sys
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gdplot.cli.checks import check_frame_count, check_out_path, check_save_path
from gdplot.cli.errors import TRAINING_ERROR, USAGE_ERROR, CommandError, note
from gdplot.progress import ProgressCallback
from gdplot.cli.runs import (
    divergence_message,
    in_flag_terms,
    make_plots,
    planned_paths,
    plot_files,
    start_folder,
    wait_for_plots,
    with_executor,
    with_run_folder,
    written_paths,
)
from gdplot.cli.serve import serve_until_interrupted, start_server
from gdplot.data.csv_text import DataError
from gdplot.data.model_files import (
    TrainedModel,
    estimator_class,
    is_classifier,
    save_model,
)
from gdplot.data.preprocessing import split_rows
from gdplot.data.run_folder import RunFolder
from gdplot.data.tables import LARGEST_VALUE, load_table
from gdplot.models.convergence import ConvergenceWarning
from gdplot.models.divergence import DivergenceError
from gdplot.plots.renderers import renderer_problem
from gdplot.plots.status import RunStatusCallback
from gdplot.web import RunServer
from taskqueue import TaskQueue

# --------------------------------------------------------------------------- train


@dataclass
class _Scores:
    """Scores of a trained model on one set of rows, in the target's units."""

    what: str
    rows: int
    text: str


@dataclass
class TrainRun:
    """``gdplot train``'s inputs once read and checked."""

    args: argparse.Namespace
    estimator: Any
    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    target_name: str
    train_rows: np.ndarray
    test_rows: np.ndarray
    notices: list[str] = field(default_factory=list)


def run_train(args: argparse.Namespace) -> int:
    """Train one model on a CSV file, plotting as it goes."""
    run = _read_training_input(args)  # every input error, before anything is written
    for message in run.notices:
        note(message)
    served: list[RunServer] = []  # --serve's server, started once the folder is held
    try:
        status = with_run_folder(args.out, lambda folder: _train(run, folder, served))
    except BaseException:
        for server in served:
            server.close()
        raise
    # The folder's lock is released: the page is served on, with the run's final state.
    return serve_until_interrupted(served[0], status) if served else status


def _read_training_input(args: argparse.Namespace) -> TrainRun:
    cls = estimator_class(args.model)
    classifier = cls.maths.task == "classification"
    takes_hidden = "hidden" in inspect.signature(cls).parameters
    if args.hidden is not None and not takes_hidden:
        raise CommandError(f"--hidden applies to --model mlp, not --model {args.model}",
                           USAGE_ERROR)
    features = None
    if args.features is not None:
        features = [name.strip() for name in args.features.split(",")]
        if not all(features):
            raise CommandError(f"--features has an empty name: {args.features!r}", USAGE_ERROR)
    try:
        table = load_table(
            args.csv, args.target, features=features, labels=classifier, largest=LARGEST_VALUE
        )
    except DataError as exc:
        raise CommandError(str(exc), USAGE_ERROR) from None
    if classifier:
        classes = np.unique(table.y)
        if classes.size != 2:
            shown = ", ".join(_label_text(c) for c in classes[:10]) + (
                ", ..." if classes.size > 10 else ""
            )
            raise CommandError(
                f"{args.model}: --target {args.target!r} has {classes.size} distinct value(s) "
                f"({shown}); a binary classifier needs exactly 2",
                USAGE_ERROR,
            )
    notices = list(table.notices)
    X, feature_names = _without_constant_columns(table.X, table.feature_names, notices)
    check_out_path(args.out, args.csv)
    if args.save is not None:
        check_save_path(args.save, args.csv)
    check_frame_count(args.epochs, args.plot_every,
                      len(_kinds_for(args.model, len(feature_names))))
    settings: dict[str, Any] = {
        "lr": args.lr, "epochs": args.epochs, "batch_size": args.batch_size,
        "random_state": args.seed,
    }
    if takes_hidden and args.hidden is not None:
        settings["hidden"] = args.hidden
    if args.batch_size is not None:  # the surface then draws the steps, not only the epochs
        settings["record_steps"] = "log"
    estimator = cls(**settings)
    try:  # the estimator's own checks, before anything is written (fit repeats them)
        estimator.validate_params()
    except (TypeError, ValueError) as exc:
        raise CommandError(f"{args.model}: {in_flag_terms(str(exc))}", USAGE_ERROR) from None
    train_rows, test_rows = split_rows(
        len(table.y), args.test_size, random_state=args.seed,
        labels=table.y if classifier else None,
    )
    if args.test_size > 0 and test_rows.size == 0:
        notices.append(f"too few rows ({len(table.y)}) to hold any out: scoring on training only")
    return TrainRun(
        args, estimator, X, table.y, feature_names, table.target_name,
        train_rows, test_rows, notices,
    )


def _without_constant_columns(
    X: np.ndarray, names: list[str], notices: list[str]
) -> tuple[np.ndarray, list[str]]:
    """``X`` and ``names`` without the columns that hold one value in every row (nothing to
    learn from; standardised they would be all zeros), with a notice."""
    constant = np.ptp(X, axis=0) == 0
    if not constant.any():
        return X, names
    left_out = [name for name, same in zip(names, constant) if same]
    shown = ", ".join(left_out[:8]) + (f", ... ({len(left_out)} in all)"
                                       if len(left_out) > 8 else "")
    if constant.all():
        raise CommandError(
            f"every feature column holds one value in every row ({shown}): nothing to learn from",
            USAGE_ERROR,
        )
    notices.append(f"left out {len(left_out)} constant column(s), one value in every row: {shown}")
    return X[:, ~constant], [name for name, same in zip(names, constant) if not same]


def _label_text(label: Any) -> str:
    """A class label as the user wrote it: ``'M'``, or ``4`` rather than ``4.0``."""
    if isinstance(label, (float, np.floating)) and float(label).is_integer():
        return str(int(label))
    if isinstance(label, (str, np.str_)):
        return repr(str(label))
    return str(label)


def _train(run: TrainRun, folder: RunFolder, served: list[RunServer]) -> int:
    args, estimator = run.args, run.estimator
    classifier = is_classifier(estimator)
    X_train, y_train = run.X[run.train_rows], run.y[run.train_rows]
    validation = None
    if run.test_rows.size:  # the held-out rows: their loss is drawn beside the training loss
        validation = (run.X[run.test_rows], run.y[run.test_rows])
    every = args.plot_every or max(1, args.epochs // 10)
    show_progress = args.progress or sys.stderr.isatty()
    progress = [ProgressCallback()] if show_progress else []
    plot_names = {
        "feature_names": [f"{name} (standardised)" for name in run.feature_names],
        "target_name": run.target_name if classifier else f"{run.target_name} (standardised)",
    }

    def train(executor: Any) -> int:
        plots = make_plots(
            _kinds_for(args.model, len(run.feature_names)),
            out=folder.folder,
            every=every,
            executor=executor,
            names=plot_names,
        )
        # The page's status line, written by the plot executor as plots are.
        status = RunStatusCallback(folder.folder, executor=executor,
                                   every=1 if executor is not None else every)
        removed = start_folder(folder, planned_paths(plots, args.epochs))
        if removed:
            note(f"removed {plot_files(removed)} of the previous run from {folder.folder}/")
        _print_scaling(run, y_train, classifier)  # only once the folder is ours
        if args.serve is not None:
            served.append(start_server(folder.folder, "127.0.0.1", args.serve, flag="--serve",
                                       in_thread=True))
            print(f"serving {folder.folder}/ at {served[0].url}", flush=True)
        start = time.perf_counter()
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ConvergenceWarning)
                model = TrainedModel.fit(
                    estimator, X_train, y_train, feature_names=run.feature_names,
                    target_name=run.target_name, callbacks=[*plots, status, *progress],
                    validation_data=validation,
                )
        # On failure the manifest keeps listing every file the run planned: renders still in
        # flight may write some of them after this. The next run removes those that exist.
        except DivergenceError as exc:  # its message says where, and which lr to try instead
            message = divergence_message(
                exc,
                auto_lr=args.lr == "auto",
                auto_works=True,  # every model takes lr="auto"
            )
            status.failed(message)
            raise CommandError(f"{args.model}: {message}", TRAINING_ERROR) from None
        except (ValueError, TypeError, OSError) as exc:  # bad input, or a folder gone
            status.failed(str(exc))
            raise CommandError(f"{args.model}: {exc}", USAGE_ERROR) from None
        finally:
            for bar in progress:
                bar.finish()  # an error message must not land on the progress bar's line
        seconds = time.perf_counter() - start
        rate = f" with lr={estimator.lr_:.4g} (auto)" if args.lr == "auto" else ""
        print(
            f"trained {args.model} for {estimator.n_iter_} epochs{rate} in {seconds:.2f} s: "
            f"final loss {estimator.history_[-1]:.6g}"
            + ("" if classifier else " (on the standardised target)")
        )
        for scores in _scores(model, run):
            print(f"{scores.what} ({scores.rows} rows): {scores.text}")
        for warning in caught:  # a ConvergenceWarning is said last, as a note
            if not issubclass(warning.category, ConvergenceWarning):
                warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                       warning.lineno)
        if args.save is not None:
            try:
                save_model(args.save, model)
            except OSError as exc:
                raise CommandError(
                    f"--save {str(args.save)!r}: {exc.strerror or exc}", TRAINING_ERROR
                ) from None
            print(f"saved the model to {args.save}")
        queue = executor if isinstance(executor, TaskQueue) else None
        wait_for_plots(queue, [*plots, status], show_progress=show_progress)
        written = folder.finish(written_paths(plots))
        print(f"{plot_files(len(written))} in {folder.folder}/")
        for warning in caught:
            if issubclass(warning.category, ConvergenceWarning):
                note(_convergence_note(warning.message, args))
        return 0

    return with_executor(args.render, args.workers, train)


def _print_scaling(run: TrainRun, y_train: np.ndarray, classifier: bool) -> None:
    """What the command did to the columns before training."""
    names = ", ".join(run.feature_names)
    if len(run.feature_names) > 12:  # a line, not a paragraph: the saved model lists them all
        names = ", ".join([*run.feature_names[:8], "...", run.feature_names[-1]])
    print(f"standardised {len(run.feature_names)} feature(s) to mean 0, std 1: {names}")
    if classifier:
        classes = np.unique(y_train)
        print(
            f"classes of {run.target_name}: {_label_text(classes[0])} and "
            f"{_label_text(classes[1])}; the model gives the probability of "
            f"{_label_text(classes[1])}"
        )
    else:
        print(
            f"standardised the target too ({run.target_name}: mean {y_train.mean():.4g}, "
            f"std {y_train.std():.4g}); scores and predictions are in its units"
        )


def _convergence_note(warning: ConvergenceWarning, args: argparse.Namespace) -> str:
    """A ``ConvergenceWarning`` in the command's terms, with what to try."""
    tries = f"--epochs {2 * args.epochs}" + ("" if args.lr == "auto" else
                                              ", a larger --lr or --lr auto")
    return (
        f"loss still falling (down {warning.relative_decrease:.1%} in the last "
        f"{warning.epochs} of {args.epochs} epochs): try {tries}"
    )


def _scores(model: TrainedModel, run: TrainRun) -> list[_Scores]:
    sets = [("train", run.train_rows)]
    if run.test_rows.size:
        sets.append(("held out", run.test_rows))
    results = []
    for what, rows in sets:
        X, y = run.X[rows], run.y[rows]
        if model.target_scale is None:
            text = f"accuracy {model.score(X, y):.4g}"
        else:
            rmse = math.sqrt(model.mean_squared_error(X, y))
            text = f"R^2 {model.score(X, y):.4g}, RMSE {rmse:.4g}"
        results.append(_Scores(what, int(rows.size), text))
    return results


def _kinds_for(model: str, n_features: int) -> list[str]:
    """The per-epoch plots that make sense for this model and feature count (besides loss)."""
    return [
        kind
        for kind in ("fit", "boundary", "surface")
        if renderer_problem(kind, model, n_features) is None
    ]
