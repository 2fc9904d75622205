"""The gdplot command line: train on CSVs as people have them, keep and use the model, one-line
errors with exit codes, an output folder that holds exactly one run, and the demo."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import realistic_csv
from gdplot import LinearRegressionGD, __version__, load_model
from gdplot.plots.callbacks import PlotCallback
from gdplot.cli import main
from gdplot.cli.runs import plot_files, wait_for_plots
from gdplot.data.datasets import make_classification, make_regression
from gdplot.data.run_folder import LOCK_NAME, MANIFEST_NAME
from taskqueue import TaskQueue

REPO_ROOT = Path(__file__).resolve().parents[3]


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


def assert_pngs(folder: Path, users: tuple[str, ...] = ()) -> list[str]:
    """The plot files in ``folder``, all whole PNGs; gdplot's manifest is there, its lock not;
    ``users`` are the user's own files, left out."""
    names = sorted(p.name for p in folder.iterdir() if p.name not in (MANIFEST_NAME, *users))
    assert not [n for n in names if n.startswith(".")], "temp or lock files left behind"
    for name in names:
        with Image.open(folder / name) as image:
            assert image.format == "PNG"
    return names


def assert_one_line_error(capsys, message: str) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("gdplot: error: "), err
    assert re.search(message, err), err
    return err


def scores(text: str, which: str) -> dict[str, float]:
    """``{"R^2": .., "RMSE": ..}`` or ``{"accuracy": ..}`` from the ``train``/``held out`` line."""
    line = re.search(rf"^{which} \((\d+) rows\): (.*)$", text, re.MULTILINE)
    assert line, text
    found = dict(re.findall(r"(R\^2|RMSE|accuracy) (\S+?)(?:,|$)", line.group(2)))
    return {"rows": int(line.group(1)), **{k: float(v) for k, v in found.items()}}


def run_cli(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """The real command, ``python -m gdplot``, in a fresh interpreter."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        [sys.executable, "-m", "gdplot", *args], capture_output=True, text=True, cwd=cwd,
        env=env, timeout=timeout, check=False,
    )


# --------------------------------------------------------------------------- training


@pytest.mark.parametrize("mode", [[], ["--sync"]])
def test_train_linear_standardises_trains_and_plots(tmp_path, regression_csv, capsys, mode):
    out = tmp_path / "plots"
    options = "--epochs 30 --lr 0.1 --plot-every 10 --test-size 0"
    status = main(train_argv(regression_csv, out, options) + mode)
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "standardised 1 feature(s) to mean 0, std 1: size" in captured.out
    assert "standardised the target too (price: mean " in captured.out
    train = scores(captured.out, "train")
    # Scored in the target's units: noise 0.3 around a target of std ~1.4.
    assert train["R^2"] > 0.9 and 0.2 < train["RMSE"] < 0.45 and train["rows"] == 80
    assert "held out" not in captured.out  # --test-size 0
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
    assert not (out / LOCK_NAME).exists()


def test_train_holds_out_a_seeded_fifth_by_default(tmp_path, regression_csv, capsys):
    outputs = []
    for _ in range(2):
        assert main(train_argv(regression_csv, tmp_path / "out", "--epochs 20 --lr 0.1")) == 0
        outputs.append(capsys.readouterr().out)
    held_out = scores(outputs[0], "held out")
    assert held_out["rows"] == 16 and scores(outputs[0], "train")["rows"] == 64
    assert held_out["R^2"] > 0.8
    def results(text: str) -> str:  # the output without the training time
        return re.sub(r"in [\d.]+ s", "", text)

    assert results(outputs[0]) == results(outputs[1])  # the same seed holds out the same rows
    assert main(train_argv(regression_csv, tmp_path / "out", "--epochs 20 --seed 5")) == 0
    assert results(capsys.readouterr().out) != results(outputs[0])


def test_train_logistic_on_two_features_plots_the_boundary(tmp_path, classification_csv, capsys):
    out = tmp_path / "out"
    options = "--model logistic --lr 0.5 --epochs 20 --plot-every 20"
    status = main(train_argv(classification_csv, out, options, target="label"))
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "classes of label: 0 and 1; the model gives the probability of 1" in captured.out
    assert scores(captured.out, "train")["accuracy"] > 0.85
    assert assert_pngs(out) == ["boundary_epoch0020.png", "loss.png", "surface_epoch0020.png"]


def test_train_mlp_with_hidden_plots_fit_and_loss_with_a_progress_bar(
    tmp_path, regression_csv, capsys
):
    out, saved = tmp_path / "out", tmp_path / "mlp.json"
    options = f"--model mlp --hidden 7 --epochs 10 --batch-size 16 --progress --workers 1"
    status = main(train_argv(regression_csv, out, options) + ["--save", str(saved)])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    # Not a terminal: plain progress lines, the last one at epoch 10.
    progress = [line for line in captured.err.splitlines() if line.startswith("epoch")]
    assert progress[-1].startswith("epoch 10/10 [") and "\r" not in captured.err
    assert max(map(len, captured.err.splitlines())) < 120  # lines, not one long line
    names = assert_pngs(out)
    assert "loss.png" in names and "fit_epoch0010.png" in names
    assert not [n for n in names if "surface" in n]
    assert load_model(saved).estimator._live_params()["hidden.weight"].shape == (1, 7)


def test_help_version_and_model_help(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"gdplot {__version__}"
    assert main(["train", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--target" in text and "--features" in text and "--save" in text
    assert "logistic: binary classification" in text and "mlp: a one-hidden-layer" in text
    assert "'auto'" in text


def test_lr_auto_reaches_the_estimator(tmp_path, regression_csv, capsys):
    status = main(train_argv(regression_csv, tmp_path / "out", "--lr auto --epochs 20"))
    captured = capsys.readouterr()
    try:
        LinearRegressionGD(lr="auto").validate_params()
    except (TypeError, ValueError):  # the estimators do not take "auto" yet: they say so
        assert status == 2
        assert "lr='auto'" in captured.err and captured.err.count("\n") == 1
        assert not (tmp_path / "out").exists()
    else:
        assert status == 0, captured.err
        assert scores(captured.out, "train")["R^2"] > 0.9
        assert re.search(r"trained linear for 20 epochs with lr=[\d.]+ \(auto\)", captured.out)


# --------------------------------------------------------------------------- data as people have it


def test_penguins_leaves_out_text_columns_and_incomplete_rows(tmp_path, capsys):
    csv_path = realistic_csv.penguins(tmp_path / "penguins.csv")
    status = main(train_argv(csv_path, tmp_path / "out", "--epochs 100 --lr 0.1",
                             target="body_mass_g"))
    captured = capsys.readouterr()
    assert status == 0, captured.err
    notes = [line for line in captured.err.splitlines() if line.startswith("gdplot: note: ")]
    assert len(notes) == 2, captured.err
    assert re.search(r"non-numeric column\(s\): species \('\w+'\), island \('\w+'\), "
                     r"sex \('(MALE|FEMALE)'\) \(choose columns with --features\)$", notes[0])
    assert "2 row(s) with a missing value" in notes[1] and "5, 273" in notes[1]
    assert "3 feature(s) to mean 0, std 1: bill_length_mm, bill_depth_mm, flipper_length_mm" in (
        captured.out
    )
    assert scores(captured.out, "train")["rows"] + scores(captured.out, "held out")["rows"] == 342
    assert scores(captured.out, "held out")["R^2"] > 0.6


def test_features_chooses_columns_and_refuses_a_text_one(tmp_path, capsys):
    csv_path = realistic_csv.penguins(tmp_path / "penguins.csv")
    out = tmp_path / "out"
    argv = train_argv(csv_path, out, "--epochs 5", target="body_mass_g")
    assert main([*argv, "--features", "flipper_length_mm, bill_depth_mm"]) == 0
    captured = capsys.readouterr()
    assert "2 feature(s) to mean 0, std 1: flipper_length_mm, bill_depth_mm" in captured.out
    assert "non-numeric" not in captured.err
    for features, message in [
        ("flipper_length_mm,island", r"column 'island' is not numeric \(line 2: '\w+'\)"),
        ("flipper_length_mm,wings", r"no column\(s\) 'wings'.*columns are: species, island"),
        ("body_mass_g", "the target 'body_mass_g' cannot also be a feature"),
        ("flipper_length_mm,", "--features has an empty name"),
    ]:
        assert main([*argv, "--out", str(tmp_path / "never"), "--features", features]) == 2
        assert_one_line_error(capsys, message)
        assert not (tmp_path / "never").exists()


def test_a_pandas_index_column_is_left_out_with_a_note(tmp_path, capsys):
    csv_path = realistic_csv.pandas_indexed(tmp_path / "frame.csv")
    saved = tmp_path / "model.json"
    argv = train_argv(csv_path, tmp_path / "out", "--lr 0.1 --epochs 200", target="y")
    assert main([*argv, "--save", str(saved)]) == 0
    captured = capsys.readouterr()
    assert re.search(r"note: left out column 1 \(no header: row numbers 0, 1, 2, \.\.\., an "
                     r"index\)", captured.err), captured.err
    assert "2 feature(s) to mean 0, std 1: a, b" in captured.out
    model = load_model(saved)
    assert model.feature_names == ["a", "b"]
    # y = 3 a - 2 b + 1: the raw coefficients come back through the scaling.
    np.testing.assert_allclose(model.predict([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]),
                               [4.0, -1.0, 1.0], atol=0.15)


def test_a_semicolon_file_with_decimal_commas_is_read(tmp_path, capsys):
    csv_path = realistic_csv.semicolon(tmp_path / "export.csv")
    status = main(train_argv(csv_path, tmp_path / "out", "--lr 0.1 --epochs 300"))
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "2 feature(s) to mean 0, std 1: size, rooms" in captured.out
    assert scores(captured.out, "held out")["R^2"] > 0.99
    assert main(train_argv(csv_path, tmp_path / "out", target="cost")) == 2
    assert_one_line_error(capsys, r"no column 'cost'; columns are: size, rooms, price "
                                  r"\(read with delimiter ';'\)")
    # Predictions are written as the file writes its numbers: ';' between, ',' for decimals.
    saved = tmp_path / "model.json"
    assert main([*train_argv(csv_path, tmp_path / "out", "--lr auto --epochs 100"),
                 "--save", str(saved)]) == 0
    capsys.readouterr()
    assert main(["predict", str(saved), str(csv_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "size;rooms;price;prediction"
    size, _, price, predicted = lines[1].split(";")
    assert abs(float(predicted.replace(",", ".")) - float(price.replace(",", "."))) < 5


def test_a_text_target_trains_logistic_and_names_the_classes(tmp_path, capsys):
    csv_path = realistic_csv.breast_cancer(tmp_path / "wdbc.csv")
    saved = tmp_path / "wdbc.json"
    argv = train_argv(csv_path, tmp_path / "out", "--model logistic --lr 0.5 --epochs 100",
                      target="diagnosis")
    assert main([*argv, "--save", str(saved)]) == 0
    captured = capsys.readouterr()
    assert "identifier column(s): id" in captured.err
    assert "standardised 30 feature(s)" in captured.out
    assert "classes of diagnosis: 'B' and 'M'; the model gives the probability of 'M'" in (
        captured.out
    )
    assert scores(captured.out, "held out")["accuracy"] > 0.9
    assert scores(captured.out, "held out")["rows"] == 113  # stratified: 71 B + 42 M
    assert list(load_model(saved).classes) == ["B", "M"]


def test_a_text_target_for_regression_names_the_cell(tmp_path, capsys):
    csv_path = realistic_csv.breast_cancer(tmp_path / "wdbc.csv")
    assert main(train_argv(csv_path, tmp_path / "out", target="diagnosis")) == 2
    assert_one_line_error(capsys, r"line 2, column 'diagnosis': the target is not a number: "
                                  r"'[BM]' \(text labels need a classifier: --model logistic\)")


def test_three_classes_fail_before_any_output(tmp_path, capsys):
    csv_path = realistic_csv.penguins(tmp_path / "penguins.csv")
    out = tmp_path / "out"
    assert main(train_argv(csv_path, out, "--model logistic", target="species")) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # not even the standardisation line
    assert re.search(r"error: logistic: --target 'species' has 3 distinct value\(s\) \('Adelie', "
                     r"'Chinstrap', 'Gentoo'\); a binary classifier needs exactly 2$",
                     captured.err.splitlines()[-1])
    assert not out.exists()


def test_diabetes_target_is_scaled_so_the_mlp_trains_in_a_subprocess(tmp_path):
    csv_path = realistic_csv.diabetes(tmp_path / "diabetes.csv")
    result = run_cli("train", str(csv_path), "--target", "progression", "--model", "mlp",
                     "--hidden", "16", "--lr", "0.01", "--epochs", "100", "--batch-size", "32",
                     "--out", "plots", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "standardised the target too (progression: mean 15" in result.stdout
    held_out = scores(result.stdout, "held out")
    # A linear signal explaining ~half the variance of a target of std 77.
    assert held_out["R^2"] > 0.3 and 40 < held_out["RMSE"] < 75
    assert result.stdout.endswith(f"1 plot file in plots/\n")  # 10 features: the loss only


# --------------------------------------------------------------------------- keeping the model


def test_train_save_then_predict_matches_by_column_name(tmp_path, capsys):
    csv_path = realistic_csv.diabetes(tmp_path / "diabetes.csv")
    saved = tmp_path / "model.json"
    argv = train_argv(csv_path, tmp_path / "out", "--lr 0.1 --epochs 200", target="progression")
    assert main([*argv, "--save", str(saved)]) == 0
    assert f"saved the model to {saved}" in capsys.readouterr().out
    document = json.loads(saved.read_text())
    assert (document["format"], document["version"], document["model"]) == ("gdplot-model", 1,
                                                                             "linear")
    # New rows: columns in another order, an extra one, no target, one incomplete row.
    rows = np.loadtxt(csv_path, delimiter=",", skiprows=1)[:5]
    new = tmp_path / "new.csv"
    header = ["patient", "s6", "s5", "s4", "s3", "s2", "s1", "bp", "bmi", "sex", "age"]
    lines = [",".join(header)]
    for i, row in enumerate(rows):
        lines.append(",".join([f"p{i}", *(repr(float(v)) for v in row[9::-1])]))
    lines.append("p5,1,2,3,4,5,6,7,,1,50")
    new.write_text("\n".join(lines) + "\n")
    assert main(["predict", str(saved), str(new)]) == 0
    captured = capsys.readouterr()
    assert "1 row(s) miss a value the model needs" in captured.err
    output = captured.out.splitlines()
    assert output[0] == ",".join([*header, "prediction"])
    assert [line.split(",")[0] for line in output[1:]] == [f"p{i}" for i in range(6)]
    predicted = [float(line.split(",")[-1]) for line in output[1:6]]
    np.testing.assert_allclose(predicted, load_model(saved).predict(rows[:, :10]), rtol=1e-12)
    assert 25 < min(predicted) and max(predicted) < 350  # in the target's units
    assert output[6].endswith(",")  # the incomplete row: an empty prediction


def test_predict_labels_and_probabilities_in_a_subprocess(tmp_path):
    csv_path = realistic_csv.breast_cancer(tmp_path / "wdbc.csv")
    train = run_cli("train", str(csv_path), "--target", "diagnosis", "--model", "logistic",
                    "--lr", "0.5", "--epochs", "60", "--save", "wdbc.json", "--out", "plots",
                    cwd=tmp_path)
    assert train.returncode == 0, train.stderr
    result = run_cli("predict", "wdbc.json", str(csv_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    header = lines[0].split(",")
    assert header[:2] == ["id", "diagnosis"] and header[-2:] == ["prediction", "probability"]
    rows = [line.split(",") for line in lines[1:]]
    assert len(rows) == 569
    agree = np.mean([row[1] == row[-2] for row in rows])
    assert agree > 0.9
    assert all((float(row[-1]) > 0.5) == (row[-2] == "M") for row in rows)


def test_predict_errors_are_one_line(tmp_path, capsys):
    csv_path = realistic_csv.pandas_indexed(tmp_path / "frame.csv")
    saved = tmp_path / "model.json"
    assert main([*train_argv(csv_path, tmp_path / "out", "--epochs 5", target="y"),
                 "--save", str(saved)]) == 0
    capsys.readouterr()
    other = tmp_path / "other.csv"
    other.write_text("b;c\n1;2\n")
    assert main(["predict", str(saved), str(other)]) == 2
    assert_one_line_error(capsys, r"no column\(s\) 'a' that the model needs; columns are: b, c "
                                  r"\(read with delimiter ';'\)")
    for bad, message in [("[]", "not a usable gdplot model file"),
                         ("{", "not a gdplot model file"),
                         ('{"format": "gdplot-model", "version": 9}', "format version 9")]:
        (tmp_path / "bad.json").write_text(bad)
        assert main(["predict", str(tmp_path / "bad.json"), str(csv_path)]) == 2
        assert_one_line_error(capsys, message)
    assert main(["predict", str(tmp_path / "none.json"), str(csv_path)]) == 2
    assert_one_line_error(capsys, "none.json'?: no such file")


# --------------------------------------------------------------------------- the --out folder


def test_out_holds_exactly_the_last_runs_plots_and_never_a_users_file(
    tmp_path, regression_csv, capsys
):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "fit.png").write_bytes(b"mine too, though named like a plot")
    assert main(train_argv(regression_csv, out, "--epochs 100 --plot-every 10")) == 0
    users = ("notes.txt", "fit.png")
    first = set(assert_pngs(out, users))
    assert "fit_epoch0100.png" in first
    capsys.readouterr()
    assert main(train_argv(regression_csv, out, "--epochs 40 --plot-every 20")) == 0
    captured = capsys.readouterr()
    files = set(assert_pngs(out, users))
    assert files == {"loss.png", "fit_epoch0020.png", "fit_epoch0040.png",
                     "surface_epoch0020.png", "surface_epoch0040.png"}
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "fit.png").read_bytes().startswith(b"mine")
    assert f"5 plot files in {out}/" in captured.out
    assert len(first) == 21  # 10 frames each of fit and surface, and the live loss
    assert f"removed {len(first - files)} plot files of the previous run" in captured.err
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    assert sorted(manifest["files"]) == sorted(files)


def test_a_users_file_a_run_would_overwrite_is_refused(tmp_path, regression_csv, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "loss.png").write_bytes(b"my own loss plot")
    assert main(train_argv(regression_csv, out, "--epochs 5")) == 2
    assert_one_line_error(capsys, r"holds files that gdplot did not write and this run would "
                                  r"overwrite: loss.png; move them or choose another folder$")
    assert (out / "loss.png").read_bytes() == b"my own loss plot"
    assert sorted(p.name for p in out.iterdir()) == ["loss.png"]


def test_plot_file_count_is_singular_for_one():
    assert [plot_files(n) for n in (0, 1, 2)] == ["0 plot files", "1 plot file", "2 plot files"]


HOLD_LOCK = """
import sys, time
from gdplot.data.run_folder import RunFolder
folder = RunFolder(sys.argv[1]).acquire()
print("held", flush=True)
time.sleep(60)
"""


def test_a_second_run_on_a_folder_in_use_is_refused(tmp_path, regression_csv, capsys):
    out = tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(out)],
                              stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert holder.stdout.readline() == "held\n"
        assert main(train_argv(regression_csv, out, "--epochs 5")) == 2
        assert_one_line_error(
            capsys, rf"--out '.*out' is in use by another gdplot run \(pid {holder.pid}\)"
        )
        assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME]
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    # Its holder is dead: the lock is stale and taken over.
    assert main(train_argv(regression_csv, out, "--epochs 5")) == 0
    assert not (out / LOCK_NAME).exists()


def test_a_stale_lock_of_a_dead_process_is_taken_over(tmp_path, regression_csv, capsys):
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    (out / LOCK_NAME).write_text(dead.stdout)
    assert main(train_argv(regression_csv, out, "--epochs 5")) == 0, capsys.readouterr().err
    assert not (out / LOCK_NAME).exists()


def test_two_runs_at_once_one_refused(tmp_path, regression_csv):
    out = tmp_path / "out"
    argv = train_argv(regression_csv, out, "--epochs 200 --plot-every 10")[1:]
    first = subprocess.Popen([sys.executable, "-m", "gdplot", "train", *argv],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    try:
        deadline = time.monotonic() + 60
        while not (out / LOCK_NAME).exists() and first.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        second = run_cli("train", *argv, cwd=tmp_path)
    finally:
        stdout, stderr = first.communicate(timeout=120)
    assert first.returncode == 0, stderr
    if second.returncode == 0:  # the first had already finished: nothing to refuse
        pytest.skip("the first run ended before the second started")
    assert second.returncode == 2 and second.stdout == ""
    assert re.fullmatch(r"gdplot: error: --out '.*' is in use by another gdplot run "
                        rf"\(pid {first.pid}\); .*\n", second.stderr)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("", "the following arguments are required: COMMAND"),
        ("fly", "invalid choice: 'fly'"),
        ("train {csv}", "the following arguments are required: --target"),
        ("train {csv} --target price --lr -1", "--lr must be a finite number > 0, got --lr=-1"),
        ("train {csv} --target price --lr fast", "--lr: must be a number > 0 or 'auto', got 'fast'"),
        ("train {csv} --target price --lr nan", "--lr=nan"),
        ("train {csv} --target price --epochs 0", "--epochs must be an int >= 1, got --epochs=0"),
        ("train {csv} --target price --epochs 2.5", "got '2.5'"),
        ("train {csv} --target price --model svm", "invalid choice: 'svm'"),
        ("train {csv} --target price --seed -3", "--seed must be an int >= 0, got --seed=-3"),
        ("train {csv} --target price --workers 0", "--workers must be an int >= 1"),
        ("train {csv} --target price --test-size 1", r"--test-size must be a fraction in \[0, 1\)"),
        ("train {csv} --target price --hidden 8", "--hidden applies to --model mlp, not --model "
                                                  "linear"),
        ("train {csv} --target price --model mlp --hidden 0", "--hidden must be an int >= 1"),
        ("train {csv} --target cost", r"no column 'cost'; columns are: size, price \(read with "
                                      r"delimiter ','\)"),
        ("train {dir}/missing.csv --target price", "missing.csv'?: no such file"),
        ("train {dir} --target price", "is a directory, not a CSV file"),
        ("train {dir}/" + "a" * 300 + ".csv --target price", "cannot read: File name too long"),
        ("train {csv} --target price --out {csv}", "--out '.*houses.csv' is not a directory"),
        ("train {csv} --target price --out {csv}/sub", "--out '.*' is not a writable folder"),
        ("train {csv} --target price --save {dir}", "--save '.*' is a directory"),
        ("train {csv} --target price --save {dir}/no/m.json", "does not exist or is not writable"),
        ("train {csv} --target price --model logistic", "logistic: .*exactly 2"),
        ("predict", "the following arguments are required: MODEL, CSV"),
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
    assert not never.exists()  # nothing written


def test_a_text_cell_in_a_feature_column_leaves_the_column_out(tmp_path, capsys):
    csv_path = tmp_path / "bad.csv"
    csv_path.write_text("x,z,y\n1,1,2\n3,2,4\n5,n/a!,6\n")
    assert main(["train", str(csv_path), "--target", "y", "--out", str(tmp_path / "out"),
                 "--test-size", "0"]) == 0
    captured = capsys.readouterr()
    assert "note: left out non-numeric column(s): z ('n/a!')" in captured.err
    assert "1 feature(s) to mean 0, std 1: x" in captured.out


@pytest.mark.parametrize("mode", [[], ["--sync"]])
def test_divergence_is_one_line_exit_1_and_leaves_no_partial_files(
    tmp_path, regression_csv, capsys, mode
):
    out = tmp_path / "out"
    options = "--lr 1e6 --epochs 100 --plot-every 5"
    status = main(train_argv(regression_csv, out, options) + mode)
    assert status == 1
    err = assert_one_line_error(
        capsys, r"^gdplot: error: linear: .* diverged at epoch \d+.*lr=1000000\.0"
    )
    assert "standardi" not in err  # the command has standardised features and target
    assert "--lr auto" in err and "lr='auto'" not in err  # advice in the command's own terms
    assert_pngs(out)  # whatever was plotted before the divergence is whole
    assert not (out / LOCK_NAME).exists()
    capsys.readouterr()
    # Renders of the failed run may land after it gave up: they are still gdplot's, and the
    # next run into the folder replaces them instead of taking them for the user's.
    assert main(train_argv(regression_csv, out, "--epochs 3 --lr 0.1 --plot-every 3") + mode) == 0
    assert assert_pngs(out) == ["fit_epoch0003.png", "loss.png", "surface_epoch0003.png"]


def test_an_mlp_divergence_suggests_lr_auto_once(tmp_path, regression_csv, capsys):
    assert main(train_argv(regression_csv, tmp_path / "out", "--model mlp --lr 50")) == 1
    err = assert_one_line_error(capsys, r"mlp: MLPRegressorGD diverged at epoch \d+")
    assert err.count("--lr auto") == 1 and "standardi" not in err


def test_an_error_after_a_progress_bar_starts_on_its_own_line(tmp_path, regression_csv, capsys):
    # lr 1.5 on standardised features doubles the error each epoch: the bar is drawn at epoch
    # 1, and divergence is caught a dozen epochs later.
    options = "--lr 1.5 --epochs 100 --progress"
    assert main(train_argv(regression_csv, tmp_path / "out", options)) == 1
    *progress, error, rest = capsys.readouterr().err.split("\n")
    assert progress and all(line.startswith("epoch ") for line in progress)
    assert error.startswith("gdplot: error: linear: ") and rest == ""


# The broken renderer is a local function: threads take it, a rendering process could not.
@pytest.mark.parametrize("mode", [["--render", "thread"], ["--sync"]])
def test_failed_plots_are_one_line_exit_1_after_training(
    tmp_path, regression_csv, capsys, monkeypatch, mode
):
    def broken(snapshot, path):
        raise RuntimeError("renderer exploded")

    from gdplot.cli import train

    real = train.make_plots

    def with_a_broken_surface(kinds, **kwargs):
        plots = real(kinds, **kwargs)
        for plot in plots:
            if plot.name == "surface":
                plot.render = broken
        return plots

    monkeypatch.setattr(train, "make_plots", with_a_broken_surface)
    options = "--epochs 4 --plot-every 2"
    status = main(train_argv(regression_csv, tmp_path / "out", options) + mode)
    assert status == 1
    err = assert_one_line_error(capsys, "2 plot[(]s[)] failed: renderer exploded")
    assert "Traceback" not in err


# --------------------------------------------------------------------------- waiting for plots


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_waiting_for_plots_counts_down_on_a_terminal(tmp_path, monkeypatch):
    release = []

    def slow(snapshot, path):
        time.sleep(0.15)
        release.append(path)
        Path(path).write_bytes(b"plot")

    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setenv("COLUMNS", "80")
    X, y, _, _ = make_regression(30, 1, random_state=0)
    with TaskQueue(1, name="plots", on_error=lambda failure: None) as queue:
        plot = PlotCallback(slow, out_dir=tmp_path, every=1, executor=queue)
        LinearRegressionGD(epochs=6).fit(X, y, callbacks=[plot])
        wait_for_plots(queue, [plot], show_progress=True)
        assert plot.pending() == 0
    assert len(release) == 6
    counts = [int(n) for n in re.findall(r"waiting for plots: (\d+) left", terminal.getvalue())]
    assert counts and counts == sorted(counts, reverse=True) and counts[0] >= 4
    assert terminal.getvalue().endswith("\n")


PTY_RUN = """
import os, pty, select, struct, subprocess, sys, fcntl, termios
columns, argv = int(sys.argv[1]), sys.argv[2:]
master, slave = pty.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
child = subprocess.Popen([sys.executable, "-m", "gdplot", *argv], stdin=slave,
                         stdout=subprocess.DEVNULL, stderr=slave, env=env)
os.close(slave)
seen = b""
while True:
    ready, _, _ = select.select([master], [], [], 0.5)
    if ready:
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        seen += data
    elif child.poll() is not None:
        break
sys.stdout.write(seen.decode())
sys.exit(child.wait())
"""


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_on_a_narrow_terminal_the_bar_and_the_wait_fit_on_one_line(tmp_path, regression_csv):
    columns = 44
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", PTY_RUN, str(columns), "train", str(regression_csv), "--target",
         "price", "--epochs", "200", "--plot-every", "10", "--out", str(tmp_path / "out")],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stdout
    screen = result.stdout.replace("\r\n", "\n")
    frames = [frame for line in screen.split("\n") for frame in line.split("\r")]
    bars = [f for f in frames if f.startswith("epoch")]
    assert bars and bars[-1].startswith("epoch 200/200")
    assert max(len(f.rstrip()) for f in frames) <= columns - 1, max(frames, key=len)


# --------------------------------------------------------------------------- the demo


def test_python_m_gdplot_demo(tmp_path):
    out = tmp_path / "demo"
    result = run_cli("demo", "--out", str(out), cwd=tmp_path, timeout=110)
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
    files = sorted(p for p in out.iterdir() if p.name != MANIFEST_NAME)
    assert len(files) == count and 10 <= count <= 100
    assert (out / "linear_batch-vs-minibatch-vs-stochastic.png") in files
    for path in files:
        with Image.open(path) as image:
            assert image.format == ("GIF" if path.suffix == ".gif" else "PNG")
            assert len(np.unique(np.asarray(image.convert("L")))) > 10


# --------------------------------------------------------------------------- scikit-learn's data


@pytest.fixture
def sklearn_datasets():
    return pytest.importorskip("sklearn.datasets")


def test_sklearn_diabetes_and_breast_cancer_through_the_cli(tmp_path, sklearn_datasets):
    import csv

    diabetes = sklearn_datasets.load_diabetes(scaled=False)
    cancer = sklearn_datasets.load_breast_cancer()
    with open(tmp_path / "diabetes.csv", "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow([*diabetes.feature_names, "progression"])
        writer.writerows([*x, t] for x, t in zip(diabetes.data, diabetes.target, strict=True))
    with open(tmp_path / "cancer.csv", "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow([*cancer.feature_names, "diagnosis"])
        writer.writerows([*x, cancer.target_names[t]]
                         for x, t in zip(cancer.data, cancer.target, strict=True))
    for model in ("linear", "mlp"):
        out: list[str] = []
        argv = ["train", str(tmp_path / "diabetes.csv"), "--target", "progression", "--model",
                model, "--lr", "0.05", "--epochs", "200", "--out", str(tmp_path / model)]
        result = run_cli(*argv[0:], cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        held_out = scores(result.stdout, "held out")
        assert held_out["R^2"] > 0.3 and 40 < held_out["RMSE"] < 70, result.stdout
    result = run_cli("train", "cancer.csv", "--target", "diagnosis", "--model", "logistic",
                     "--lr", "0.5", "--epochs", "200", "--out", "c", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "classes of diagnosis: 'benign' and 'malignant'" in result.stdout
    assert scores(result.stdout, "held out")["accuracy"] > 0.93


@pytest.mark.parametrize("mode", [[], ["--render", "process"], ["--render", "thread"], ["--sync"]])
def test_every_render_mode_writes_the_same_plots(tmp_path, regression_csv, mode):
    out = tmp_path / "out"
    status = main(train_argv(regression_csv, out, "--epochs 6 --plot-every 3") + mode)
    assert status == 0
    names = assert_pngs(out)
    assert names == ["fit_epoch0003.png", "fit_epoch0006.png", "loss.png",
                     "surface_epoch0003.png", "surface_epoch0006.png"]


def test_an_unknown_render_mode_is_one_line(tmp_path, regression_csv, capsys):
    assert main(train_argv(regression_csv, tmp_path / "out", "--render gpu")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--render" in err and "gpu" in err, err
