"""The ``gdplot`` command: ``demo``, ``train CSV --target COL`` and ``predict MODEL CSV``.

Plots render on a :class:`taskqueue.TaskQueue` while training runs; the command waits for
them at the end, showing how many are left. Every error is one line on stderr
(``gdplot: error: ...``) and an exit status: 2 for bad usage or input, 1 when training or
plotting fails. Notices (columns or rows left out) are lines ``gdplot: note: ...`` on stderr,
so that ``predict``'s stdout is only its CSV.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import inspect
import logging
import math
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from gdplot import __version__
from gdplot.base import DivergenceError
from gdplot.callbacks import GifCallback, PlotCallback
from gdplot.data import DataError, load_columns, load_table, split_rows, uses_decimal_comma
from gdplot.persist import (
    ModelFileError,
    TrainedModel,
    estimator_class,
    is_classifier,
    load_model,
    save_model,
)
from gdplot.model_maths import model_kinds
from gdplot.progress import ProgressCallback, ProgressLine
from gdplot.render import renderer_problem
from gdplot.run_folder import FolderInUse, RunFolder
from gdplot.validation import check_int, check_real
from taskqueue import TaskQueue

USAGE_ERROR = 2
TRAINING_ERROR = 1

MODEL_KINDS = tuple(model_kinds())  # every registered estimator: linear, logistic, mlp
RENDER_MODES = ("process", "thread", "sync")
_MODEL_HELP = (
    "linear: least squares regression; logistic: binary classification (any two-valued "
    "target, text labels too); mlp: a one-hidden-layer ReLU network for regression "
    "(default: linear)"
)


class CommandError(Exception):
    """A failure to report as one line, with the exit status to return."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class _ArgumentParser(argparse.ArgumentParser):
    # argparse prints the whole usage and exits; a one-line error is friendlier and testable.
    def error(self, message: str) -> NoReturn:
        # "argument --lr: --lr must be ..." says the flag twice: keep the second.
        message = re.sub(r"^argument (\S+): \1 ", r"\1 ", message)
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
    except BrokenPipeError:  # e.g. `gdplot predict ... | head`
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), sys.stdout.fileno())  # no second error at exit
        return 1
    finally:
        logging.getLogger("gdplot").removeHandler(quiet)


def note(message: str) -> None:
    """A notice: something left out or assumed, that the user should know about."""
    print(f"gdplot: note: {message}", file=sys.stderr)


# --------------------------------------------------------------------------- arguments


def _flag_type(parse: Callable[[str], Any], check: Callable[[Any, str], Any], flag: str,
               expected: str) -> Callable[[str], Any]:
    """An argparse ``type`` that parses the text, then checks it with gdplot.validation."""

    def convert(text: str) -> Any:
        try:
            value = parse(text)
        except (ValueError, OverflowError):
            raise argparse.ArgumentTypeError(f"must be {expected}, got {text!r}") from None
        try:
            return check(value, flag)
        except (TypeError, ValueError) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


def _int_flag(flag: str, minimum: int) -> Callable[[str], int]:
    return _flag_type(int, lambda v, n: check_int(v, n, minimum=minimum), flag,
                      f"an integer >= {minimum}")


def _learning_rate(text: str) -> float | str:
    if text.strip().lower() == "auto":
        return "auto"  # the estimator computes 1/L from the data
    return _flag_type(float, lambda v, n: check_real(v, n, minimum=0, inclusive=False), "--lr",
                      "a number > 0 or 'auto'")(text)


def _test_size(value: float, flag: str) -> float:
    value = check_real(value, flag, minimum=0)
    if value >= 1:
        raise ValueError(f"{flag} must be a fraction in [0, 1), got {flag}={value!r}")
    return value


def _build_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(
        prog="gdplot",
        description="Gradient descent from scratch, with plots rendered off the training thread.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="train every model on synthetic data and plot it")
    _add_output_arguments(demo)
    demo.set_defaults(run=run_demo)

    train = commands.add_parser(
        "train",
        help="train a model on a CSV file",
        description="Train a model on a CSV file with a header row. Numeric columns other "
        "than the target are the features (text and index columns are left out, with a "
        "note), standardised; a regression target is standardised too, and scores are "
        "reported in its units. Rows missing a value in a column used are left out.",
    )
    train.add_argument("csv", metavar="CSV", help="CSV file with a header row (delimiter sniffed)")
    train.add_argument("--target", required=True, metavar="COL", help="column to predict")
    train.add_argument(
        "--features",
        metavar="A,B,...",
        help="comma-separated feature columns (default: every numeric column but the target)",
    )
    train.add_argument("--model", choices=MODEL_KINDS, default="linear", help=_MODEL_HELP)
    train.add_argument(
        "--hidden",
        type=_int_flag("--hidden", 1),
        metavar="N",
        help="hidden units of --model mlp (default 32)",
    )
    train.add_argument(
        "--lr",
        type=_learning_rate,
        default=0.01,
        metavar="RATE",
        help="learning rate, or 'auto' for 1/L computed from the data (linear and logistic; "
        "default 0.01)",
    )
    train.add_argument(
        "--epochs", type=_int_flag("--epochs", 1), default=100, help="passes over the data (100)"
    )
    train.add_argument(
        "--batch-size",
        type=_int_flag("--batch-size", 1),
        default=None,
        metavar="N",
        help="samples per step: 1 is stochastic GD (default: the full batch)",
    )
    train.add_argument(
        "--test-size",
        type=_flag_type(float, _test_size, "--test-size", "a fraction in [0, 1)"),
        default=0.2,
        metavar="F",
        help="fraction of rows held out for scoring, chosen by --seed (default 0.2; 0: none)",
    )
    train.add_argument(
        "--seed", type=_int_flag("--seed", 0), default=0, help="random seed (0)"
    )
    train.add_argument(
        "--save",
        type=Path,
        metavar="PATH",
        help="write the trained model to PATH (JSON; use it with `gdplot predict`)",
    )
    train.add_argument(
        "--plot-every",
        type=_int_flag("--plot-every", 1),
        default=None,
        metavar="N",
        help="plot every N epochs (default: about 10 frames per plot)",
    )
    train.add_argument(
        "--render",
        choices=RENDER_MODES,
        default="process",
        help="where plots are drawn: 'process' (default: a rendering process beside "
        "training, which then never waits for matplotlib), 'thread' (a task queue in this "
        "process) or 'sync' (on the training thread)",
    )
    train.add_argument(
        "--sync",
        action="store_const",
        const="sync",
        dest="render",
        help="the same as --render sync",
    )
    train.add_argument(
        "--progress",
        action="store_true",
        help="show progress even when stderr is not a terminal (plain lines)",
    )
    _add_output_arguments(train)
    train.set_defaults(run=run_train)

    predict = commands.add_parser(
        "predict",
        help="predict with a model saved by `train --save`",
        description="Write CSV's rows to stdout with a `prediction` column added (and, for a "
        "classifier, `probability`: of the second class). Features are matched by column "
        "name and scaled as in training; rows missing one get an empty prediction.",
    )
    predict.add_argument("model", metavar="MODEL", help="a model file written by train --save")
    predict.add_argument("csv", metavar="CSV", help="CSV file with the model's feature columns")
    predict.set_defaults(run=run_predict)
    return parser


def _add_output_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("plots"),
        metavar="DIR",
        help="folder for the plots; files a previous gdplot run wrote there are replaced, "
        "other files are left alone (default: plots)",
    )
    parser.add_argument(
        "--workers",
        type=_int_flag("--workers", 1),
        default=None,
        metavar="N",
        help="plot-rendering processes or threads (default 1: a second thread measured slower, as drawing holds the GIL and each thread builds its own figures)",
    )


# --------------------------------------------------------------------------- output folder


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


def _with_run_folder(out: Path, body: Callable[[RunFolder], int]) -> int:
    """Run ``body`` holding ``out``'s lock; refuse in one line if another run holds it."""
    folder = RunFolder(_prepare_out_dir(out))
    try:
        folder.acquire()
    except FolderInUse as exc:
        raise CommandError(str(exc), USAGE_ERROR) from None
    try:
        return body(folder)
    finally:
        folder.release()


def start_folder(folder: RunFolder, planned: Sequence[Path]) -> int:
    """``folder.start(planned)``; a user's file in the way is a one-line usage error."""
    try:
        return folder.start(planned)
    except FileExistsError as exc:
        raise CommandError(str(exc), USAGE_ERROR) from None


def planned_paths(callbacks: Iterable[Any], epochs: int) -> list[Path]:
    """Every file the plot callbacks may write in a run of ``epochs`` epochs."""
    paths: list[Path] = []
    for callback in callbacks:
        if isinstance(callback, GifCallback):
            paths.append(callback.path)
        elif isinstance(callback, PlotCallback):
            frames = {*range(callback.every, epochs + 1, callback.every), epochs}
            paths.extend(dict.fromkeys(callback.path_for(epoch) for epoch in sorted(frames)))
    return paths


def written_paths(callbacks: Iterable[Any]) -> list[Path]:
    paths: list[Path] = []
    for callback in callbacks:
        if isinstance(callback, GifCallback):
            paths.append(callback.path)
        else:
            paths.extend(getattr(callback, "paths", ()))
    return paths


def plot_files(count: int) -> str:
    return f"{count} plot file{'' if count == 1 else 's'}"


# --------------------------------------------------------------------------- plots


def make_plots(
    kinds: Sequence[str],
    *,
    out: Path,
    prefix: str = "",
    label: str = "",
    every: int,
    executor: Any,
    names: dict[str, Any] | None = None,
) -> list[PlotCallback]:
    """A live ``loss`` plot plus a frame every ``every`` epochs of each of ``kinds``."""
    names = names or {}
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
        **names,
    )
    return [live_loss] + [
        PlotCallback(
            kind, out_dir=out, prefix=prefix, label=label, every=every, executor=executor,
            **names,
        )
        for kind in kinds
    ]


def wait_for_plots(
    queue: TaskQueue | None, callbacks: Sequence[Any], *, show_progress: bool
) -> None:
    """Wait for the plots, showing how many are left; one ``CommandError`` if any failed."""
    line = ProgressLine(sys.stderr) if show_progress else None

    def left() -> int:
        count = sum(callback.pending() for callback in callbacks)
        if queue is not None:  # tasks of the queue's own besides the callbacks' (the demo's)
            stats = queue.stats()
            count = max(count, stats.pending + stats.running)
        return count

    try:
        shown_at = -math.inf
        while (remaining := left()) > 0:
            now = time.monotonic()
            if line is not None and (line.dynamic or now - shown_at >= 5.0):
                line.show(f"waiting for plots: {remaining} left")
                shown_at = now
            busy = next((cb for cb in callbacks if cb.pending()), None)
            if busy is not None:
                busy.wait(timeout=0.1)
            elif queue is not None:
                queue.join(timeout=0.1)
    finally:
        if line is not None:
            line.close()
    errors: dict[int, BaseException] = {}
    for callback in callbacks:
        errors.update((id(error), error) for error in callback.errors)
    if queue is not None:
        try:
            queue.join(raise_errors=True)
        except BaseExceptionGroup as group:
            errors.update((id(error), error) for error in group.exceptions)
    if errors:
        first = next(iter(errors.values()))
        raise CommandError(f"{len(errors)} plot(s) failed: {first}", TRAINING_ERROR)


def with_queue(workers: int, body: Callable[[TaskQueue], int]) -> int:
    """Run ``body`` with a plot queue of ``workers`` threads, closed afterwards."""
    # Failures are reported once, by wait_for_plots; no traceback logging per task.
    queue = TaskQueue(num_workers=workers, name="gdplot-plots", on_error=lambda failure: None)
    try:
        status = body(queue)
    except BaseException:
        queue.close(cancel_pending=True)
        raise
    queue.close()
    return status


def with_executor(mode: str, workers: int | None, body: Callable[[Any], int]) -> int:
    """Run ``body`` with the executor of ``--render mode``: ``None`` (sync), a TaskQueue of
    threads, or a pool of rendering processes; closed afterwards.

    ``process`` is the default because it measured best (benchmarks/train_case.py): a
    thread's drawing holds the GIL, which small-step training wants back after every step.
    """
    if mode == "sync":
        return body(None)
    if mode == "thread":
        return with_queue(workers or 1, body)
    # forkserver: the children do not inherit this process's threads or their locks.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    pool = ProcessPoolExecutor(max_workers=workers or 1, mp_context=context)
    try:
        pool.submit(_warm_up)  # imports matplotlib there while this process reads and trains
        status = body(pool)
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return status


def _warm_up() -> None:
    """Run first in a rendering process: its first frame then does not import matplotlib."""
    import gdplot.render  # noqa: F401


def in_flag_terms(text: str) -> str:
    """An estimator's advice in the command's terms: ``--lr 0.38`` for ``lr=0.38``."""
    text = text.replace("lr='auto'", "--lr auto")
    return re.sub(r"((?:learning rate[^.]*?: |e\.g\. ))lr=([\w.+-]+)", r"\1--lr \2", text)


def divergence_message(exc: DivergenceError, *, auto_lr: bool, auto_works: bool) -> str:
    """The estimator's divergence message without advice the command has already taken
    (its features, and target, are standardised), plus ``--lr auto`` where the model takes it."""
    text = str(exc)
    text = re.sub(r",? or standardi[sz]e the features", "", text)
    text = re.sub(r" ?\(e\.g\. standardi[sz]e the features\)", "", text)
    text = in_flag_terms(text)
    if auto_works and not auto_lr and "auto" not in text:
        text = text.rstrip() + " Or let --lr auto choose one from the data."
    return text


# --------------------------------------------------------------------------- demo


def run_demo(args: argparse.Namespace) -> int:
    """Train linear (batch, mini-batch, stochastic), logistic and MLP models on synthetic data."""
    from gdplot import demo

    def body(folder: RunFolder) -> int:
        return with_queue(args.workers or 1, lambda queue: demo.run(folder, queue))

    return _with_run_folder(args.out, body)


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
    return _with_run_folder(args.out, lambda folder: _train(run, folder))


def _read_training_input(args: argparse.Namespace) -> TrainRun:
    cls = estimator_class(args.model)
    classifier = cls._maths.task == "classification"
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
        table = load_table(args.csv, args.target, features=features, labels=classifier)
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
    if args.save is not None:
        _check_save_path(args.save)
    settings: dict[str, Any] = {
        "lr": args.lr, "epochs": args.epochs, "batch_size": args.batch_size,
        "random_state": args.seed,
    }
    if takes_hidden and args.hidden is not None:
        settings["hidden"] = args.hidden
    estimator = cls(**settings)
    try:  # the estimator's own checks, before anything is written (fit repeats them)
        estimator._check_params()
    except (TypeError, ValueError) as exc:
        raise CommandError(f"{args.model}: {in_flag_terms(str(exc))}", USAGE_ERROR) from None
    train_rows, test_rows = split_rows(
        len(table.y), args.test_size, random_state=args.seed,
        labels=table.y if classifier else None,
    )
    notices = list(table.notices)
    if args.test_size > 0 and test_rows.size == 0:
        notices.append(f"too few rows ({len(table.y)}) to hold any out: scoring on training only")
    return TrainRun(
        args, estimator, table.X, table.y, table.feature_names, table.target_name,
        train_rows, test_rows, notices,
    )


def _check_save_path(path: Path) -> None:
    if path.is_dir():
        raise CommandError(f"--save {str(path)!r} is a directory; give a file name", USAGE_ERROR)
    parent = path.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise CommandError(
            f"--save {str(path)!r}: folder {str(parent)!r} does not exist or is not writable",
            USAGE_ERROR,
        )


def _label_text(label: Any) -> str:
    """A class label as the user wrote it: ``'M'``, or ``4`` rather than ``4.0``."""
    if isinstance(label, (float, np.floating)) and float(label).is_integer():
        return str(int(label))
    if isinstance(label, (str, np.str_)):
        return repr(str(label))
    return str(label)


def _train(run: TrainRun, folder: RunFolder) -> int:
    args, estimator = run.args, run.estimator
    classifier = is_classifier(estimator)
    X_train, y_train = run.X[run.train_rows], run.y[run.train_rows]
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
            f"standardised the target {run.target_name} too (mean {y_train.mean():.4g}, "
            f"std {y_train.std():.4g}); scores and predictions are in its units"
        )
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
        removed = start_folder(folder, planned_paths(plots, args.epochs))
        if removed:
            note(f"removed {plot_files(removed)} of the previous run from {folder.folder}/")
        start = time.perf_counter()
        try:
            model = TrainedModel.fit(
                estimator, X_train, y_train, feature_names=run.feature_names,
                target_name=run.target_name, callbacks=[*plots, *progress],
            )
        # On failure the manifest keeps listing every file the run planned: renders still in
        # flight may write some of them after this. The next run removes those that exist.
        except DivergenceError as exc:  # its message says where, and which lr to try instead
            message = divergence_message(
                exc,
                auto_lr=args.lr == "auto",
                # lr="auto" needs a Lipschitz bound of the loss gradient, as the model's maths say.
                auto_works=type(estimator)._maths.lipschitz_factor is not None,
            )
            raise CommandError(f"{args.model}: {message}", TRAINING_ERROR) from None
        except (ValueError, TypeError, OSError) as exc:  # bad input, or a folder gone
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
        if args.save is not None:
            try:
                save_model(args.save, model)
            except OSError as exc:
                raise CommandError(
                    f"--save {str(args.save)!r}: {exc.strerror or exc}", TRAINING_ERROR
                ) from None
            print(f"saved the model to {args.save}")
        queue = executor if isinstance(executor, TaskQueue) else None
        wait_for_plots(queue, plots, show_progress=show_progress)
        written = folder.finish(written_paths(plots))
        print(f"{plot_files(len(written))} in {folder.folder}/")
        return 0

    return with_executor(args.render, args.workers, train)


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


# --------------------------------------------------------------------------- predict


def run_predict(args: argparse.Namespace) -> int:
    """Write the CSV's rows with a ``prediction`` column (and ``probability``) to stdout."""
    try:
        model = load_model(args.model)
    except ModelFileError as exc:
        raise CommandError(str(exc), USAGE_ERROR) from None
    try:
        text, X, complete = load_columns(args.csv, model.feature_names)
    except DataError as exc:
        raise CommandError(str(exc), USAGE_ERROR) from None
    # Numbers written as the input writes them: 1,5 in a file of decimal commas.
    comma = uses_decimal_comma(text, model.feature_names)

    def cell(value: Any) -> str:
        written = _cell(value)
        return written.replace(".", ",") if comma and isinstance(value, float) else written

    predictions: list[str] = [""] * len(text.rows)
    probabilities: list[str] = [""] * len(text.rows)
    rows = np.flatnonzero(complete)
    classifier = model.classes is not None
    if rows.size:
        predicted = model.predict(X[rows])
        for i, value in zip(rows, predicted, strict=True):
            predictions[i] = cell(value.item() if isinstance(value, np.generic) else value)
        if classifier:
            for i, p in zip(rows, model.predict_proba(X[rows])[:, 1], strict=True):
                probabilities[i] = cell(float(p))
    missing = len(text.rows) - rows.size
    if missing:
        note(f"{missing} row(s) miss a value the model needs: their prediction is empty")
    added = ["prediction", *(["probability"] if classifier else [])]
    replaced = [name for name in added if name in text.columns]
    if replaced:
        note(f"the input's column(s) {', '.join(replaced)} are replaced by this prediction")
    keep = [i for i, name in enumerate(text.columns) if name not in added]
    writer = csv.writer(sys.stdout, delimiter=text.delimiter, lineterminator="\n")
    writer.writerow([text.columns[i] for i in keep] + added)
    for index, (_, cells) in enumerate(text.rows):
        extra = [predictions[index], *([probabilities[index]] if classifier else [])]
        writer.writerow([cells[i] for i in keep] + extra)
    sys.stdout.flush()
    return 0


def _cell(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return str(int(number)) if number.is_integer() and abs(number) < 2**53 else repr(number)
    return str(value)
