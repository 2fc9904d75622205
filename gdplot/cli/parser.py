"""The command line's arguments: one sub-parser per command, each flag checked as it is
parsed, with the same messages as the library's own checks.
"""

from __future__ import annotations

import argparse
import importlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from gdplot import __version__
from gdplot.cli.errors import USAGE_ERROR, CommandError
from gdplot.models.maths import model_kinds
from gdplot.validation import check_int, check_real

MODEL_KINDS = tuple(model_kinds())  # every registered estimator: linear, logistic, mlp
RENDER_MODES = ("process", "thread", "sync")
_MODEL_HELP = (
    "linear: least squares regression; logistic: binary classification (any two-valued "
    "target, text labels too); mlp: a one-hidden-layer ReLU network for regression "
    "(default: linear)"
)


class _ArgumentParser(argparse.ArgumentParser):
    # argparse prints the whole usage and exits; a one-line error is friendlier and testable.
    def error(self, message: str) -> NoReturn:
        # "argument --lr: --lr must be ..." says the flag twice: keep the second.
        message = re.sub(r"^argument (\S+): \1 ", r"\1 ", message)
        raise CommandError(message, USAGE_ERROR)


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
        return "auto"  # the estimator computes a rate from the data
    return _flag_type(float, lambda v, n: check_real(v, n, minimum=0, inclusive=False), "--lr",
                      "a number > 0 or 'auto'")(text)


def _test_size(value: float, flag: str) -> float:
    value = check_real(value, flag, minimum=0)
    if value >= 1:
        raise ValueError(f"{flag} must be a fraction in [0, 1), got {flag}={value!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(
        prog="gdplot",
        description="Gradient descent from scratch, with plots rendered off the training thread.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="train every model on synthetic data and plot it")
    _add_output_arguments(demo)
    demo.set_defaults(run=_command("gdplot.cli.demo", "run_demo"))

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
        help="learning rate, or 'auto': 1/L computed from the data (linear and logistic) or "
        "a learning-rate range test (mlp) (default 0.01)",
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
    train.set_defaults(run=_command("gdplot.cli.train", "run_train"))

    predict = commands.add_parser(
        "predict",
        help="predict with a model saved by `train --save`",
        description="Write CSV's rows to stdout with a `prediction` column added (and, for a "
        "classifier, `probability`: of the second class). Features are matched by column "
        "name and scaled as in training; rows missing one get an empty prediction.",
    )
    predict.add_argument("model", metavar="MODEL", help="a model file written by train --save")
    predict.add_argument("csv", metavar="CSV", help="CSV file with the model's feature columns")
    predict.set_defaults(run=_command("gdplot.cli.predict", "run_predict"))
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
        help="plot-rendering processes or threads (default 1; drawing holds the GIL and each "
        "thread builds its own figures, so more threads rarely help)",
    )


def _command(module: str, name: str) -> Callable[[argparse.Namespace], int]:
    """The command function ``name`` of ``module``, imported when the command runs: so
    ``predict`` (and a refusal of a bad model file) never imports the plotting code, with
    matplotlib, that ``train`` and ``demo`` need."""

    def run(args: argparse.Namespace) -> int:
        return getattr(importlib.import_module(module), name)(args)

    run.__name__ = name
    return run
