"""The gdplot command line: train on a CSV, one-line errors with exit codes, and the demo."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gdplot import render
from gdplot.cli import main
from gdplot.data import make_classification, make_regression

REPO_ROOT = Path(__file__).resolve().parents[1]


def write_csv(path: Path, columns: list[str], table: np.ndarray) -> Path:
    lines = [",".join(columns)] + [",".join(repr(float(v)) for v in row) for row in table]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def regression_csv(tmp_path) -> Path:
    X, y, _, _ = make_regression(80, 1, noise=0.3, random_state=0)
    # Far from standardised on purpose: the command must rescale it.
    return write_csv(tmp_path / "houses.csv", ["size", "price"], np.column_stack([X * 50 + 200, y]))


@pytest.fixture
def classification_csv(tmp_path) -> Path:
    X, y = make_classification(80, separation=3.0, random_state=0)
    return write_csv(
        tmp_path / "blobs.csv", ["a", "label", "b"], np.column_stack([X[:, 0], y, X[:, 1]])
    )


def train_argv(csv: Path, out: Path, options: str = "", target: str = "price") -> list[str]:
    """``gdplot train`` arguments; ``options`` is split on spaces (no paths in it)."""
    return ["train", str(csv), "--target", target, "--out", str(out), *options.split()]


def assert_pngs(folder: Path) -> list[str]:
    names = sorted(p.name for p in folder.iterdir())
    assert not [n for n in names if n.startswith(".")], "temp files left behind"
    for name in names:
        with Image.open(folder / name) as image:
            assert image.format == "PNG"
    return names


def assert_one_line_error(capsys, message: str) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("gdplot: error: "), err
    assert re.search(message, err), err
    return err


@pytest.mark.parametrize("mode", [[], ["--sync"]])
def test_train_linear_standardises_trains_and_plots(tmp_path, regression_csv, capsys, mode):
    out = tmp_path / "plots"
    status = main(train_argv(regression_csv, out, "--epochs 30 --lr 0.1 --plot-every 10") + mode)
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "standardized 1 feature(s) to mean 0, std 1: size" in captured.out
    loss = float(re.search(r"final loss (\S+),", captured.out).group(1))
    r2 = float(re.search(r"R\^2 (\S+)", captured.out).group(1))
    assert loss < 0.2 and r2 > 0.9  # it learned: noise 0.3 gives MSE ~0.09
    assert assert_pngs(out) == [
        "fit_epoch0010.png",
        "fit_epoch0020.png",
        "fit_epoch0030.png",
        "loss.png",
        "surface_epoch0010.png",
        "surface_epoch0020.png",
        "surface_epoch0030.png",
    ]
    assert f"7 plot files in {out}/" in captured.out
    assert captured.err == ""  # no progress bar: stderr is not a terminal


def test_train_logistic_on_two_features_plots_the_boundary(tmp_path, classification_csv, capsys):
    out = tmp_path / "out"
    options = "--model logistic --lr 0.5 --epochs 20 --plot-every 20"
    status = main(train_argv(classification_csv, out, options, target="label"))
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert float(re.search(r"accuracy (\S+)", captured.out).group(1)) > 0.85
    assert assert_pngs(out) == ["boundary_epoch0020.png", "loss.png", "surface_epoch0020.png"]


def test_train_mlp_plots_fit_and_loss_with_a_progress_bar(tmp_path, regression_csv, capsys):
    out = tmp_path / "out"
    options = "--model mlp --epochs 10 --batch-size 16 --progress --workers 1"
    status = main(train_argv(regression_csv, out, options))
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "epoch 10/10 [" in captured.err and captured.err.endswith("\n")
    names = assert_pngs(out)
    assert "loss.png" in names and "fit_epoch0010.png" in names
    assert not [n for n in names if "surface" in n]


def test_help_exits_zero(capsys):
    assert main(["train", "--help"]) == 0
    assert "--target" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("", "the following arguments are required: COMMAND"),
        ("fly", "invalid choice: 'fly'"),
        ("train {csv}", "the following arguments are required: --target"),
        (
            "train {csv} --target price --lr -1",
            "argument --lr: must be a finite number > 0, got '-1'",
        ),
        ("train {csv} --target price --lr fast", "got 'fast'"),
        ("train {csv} --target price --lr nan", "got 'nan'"),
        (
            "train {csv} --target price --epochs 0",
            "argument --epochs: must be an integer >= 1, got '0'",
        ),
        ("train {csv} --target price --epochs 2.5", "got '2.5'"),
        ("train {csv} --target price --model svm", "invalid choice: 'svm'"),
        (
            "train {csv} --target price --seed -3",
            "argument --seed: must be an integer >= 0, got '-3'",
        ),
        ("train {csv} --target price --workers 0", "argument --workers: .*got '0'"),
        ("train {csv} --target cost", "no column 'cost'.*columns are: size, price"),
        ("train {dir}/missing.csv --target price", "missing.csv'?: no such file"),
        ("train {dir} --target price", "is a directory, not a CSV file"),
        ("train {dir}/" + "a" * 300 + ".csv --target price", "cannot read: File name too long"),
        ("train {csv} --target price --out {csv}", "--out '.*houses.csv' is not a directory"),
        ("train {csv} --target price --out {csv}/sub", "--out '.*' is not a writable folder"),
        ("train {csv} --target price --model logistic", "logistic: .*exactly 2 classes"),
    ],
)
def test_usage_and_input_errors_are_one_line_and_exit_2(
    tmp_path, regression_csv, capsys, command, message
):
    never = tmp_path / "never"
    argv = [word.format(csv=regression_csv, dir=tmp_path) for word in command.split()]
    if argv[:1] == ["train"] and "--out" not in argv:
        argv += ["--out", str(never)]
    assert main(argv) == 2
    assert_one_line_error(capsys, message)
    assert not (never.exists() and any(never.iterdir()))  # nothing written


def test_a_non_numeric_cell_names_line_and_column(tmp_path, capsys):
    csv_path = tmp_path / "bad.csv"
    csv_path.write_text("x,y\n1,2\n3,4\n5,n/a\n")
    assert main(["train", str(csv_path), "--target", "y", "--out", str(tmp_path / "out")]) == 2
    assert_one_line_error(capsys, r"line 4, column 'y': not a finite number: 'n/a'")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("mode", [[], ["--sync"]])
def test_divergence_is_one_line_exit_1_and_leaves_no_partial_files(
    tmp_path, regression_csv, capsys, mode
):
    out = tmp_path / "out"
    options = "--lr 1e6 --epochs 100 --plot-every 5"
    status = main(train_argv(regression_csv, out, options) + mode)
    assert status == 1
    assert_one_line_error(
        capsys,
        r"^gdplot: error: linear: .* diverged at epoch \d+.*lr=1000000\.0.*smaller learning rate",
    )
    assert_pngs(out)  # whatever was plotted before the divergence is whole


def test_an_error_after_a_progress_bar_starts_on_its_own_line(tmp_path, regression_csv, capsys):
    # lr 1.5 on standardised features doubles the error each epoch: the bar is drawn at epoch
    # 1, and divergence is caught a dozen epochs later.
    options = "--lr 1.5 --epochs 100 --progress"
    assert main(train_argv(regression_csv, tmp_path / "out", options)) == 1
    bar, error, rest = capsys.readouterr().err.split("\n")
    assert bar.startswith("\repoch ") and error.startswith("gdplot: error: linear: ")
    assert rest == ""


@pytest.mark.parametrize("mode", [[], ["--sync"]])
def test_failed_plots_are_one_line_exit_1_after_training(
    tmp_path, regression_csv, capsys, monkeypatch, mode
):
    def broken(snapshot, path):
        raise RuntimeError("renderer exploded")

    monkeypatch.setitem(render.RENDERERS, "surface", broken)
    options = "--epochs 4 --plot-every 2"
    status = main(train_argv(regression_csv, tmp_path / "out", options) + mode)
    assert status == 1
    err = assert_one_line_error(capsys, "2 plot[(]s[)] failed: renderer exploded")
    assert "Traceback" not in err


def test_python_m_gdplot_demo(tmp_path):
    out = tmp_path / "demo"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    result = subprocess.run(
        [sys.executable, "-m", "gdplot", "demo", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=110,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    for row in (
        "linear, batch GD",
        "linear, mini-batch GD",
        "linear, stochastic GD",
        "logistic, batch GD",
        "mlp, mini-batch GD",
    ):
        assert re.search(rf"^{re.escape(row)} +\d", result.stdout, re.MULTILINE), result.stdout
    count = int(re.search(r"(\d+) plot files in", result.stdout).group(1))
    files = sorted(out.iterdir())
    assert len(files) == count and 10 <= count <= 100
    assert (out / "linear_batch-vs-minibatch-vs-stochastic.png") in files
    for path in files:
        with Image.open(path) as image:
            assert image.format == ("GIF" if path.suffix == ".gif" else "PNG")
            assert len(np.unique(np.asarray(image.convert("L")))) > 10
