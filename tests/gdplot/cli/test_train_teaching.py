"""``gdplot train`` as a lesson: held-out rows drawn beside the training loss, a note when
training had not finished, constant columns left out, and no output before a refusal."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gdplot import LinearRegressionGD, TrainedModel, load_model
from gdplot.cli import main
from gdplot.data import make_regression


def write_csv(path: Path, columns: list[str], table: np.ndarray) -> Path:
    lines = [",".join(columns)] + [",".join(repr(float(v)) for v in row) for row in table]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def table_csv(tmp_path) -> Path:
    X, y, _, _ = make_regression(120, 2, noise=0.3, random_state=0)
    constant = np.full((120, 1), 7.0)
    return write_csv(tmp_path / "table.csv", ["a", "flat", "b", "target"],
                     np.column_stack([X[:, :1] * 40 + 100, constant, X[:, 1:], 3 * y + 50]))


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def test_trained_model_scales_validation_rows_as_it_scales_training_rows():
    X, y, _, _ = make_regression(100, 2, noise=0.3, random_state=1)
    X, y = X * [10.0, 0.1] + 5, 20 * y + 3
    model = TrainedModel.fit(LinearRegressionGD(lr=0.1, epochs=30), X[:80], y[:80],
                             validation_data=(X[80:], y[80:]))
    estimator = model.estimator
    # The validation loss is the MSE on the standardised target, what predict gives.
    expected = np.mean(((model.predict(X[80:]) - y[80:]) / model.target_scale) ** 2)
    assert estimator.val_history_[-1] == pytest.approx(expected, rel=1e-9)
    assert estimator.val_score_history_[-1] == pytest.approx(model.score(X[80:], y[80:]))


def test_train_draws_the_held_out_loss_and_leaves_constant_columns_out(
        table_csv, tmp_path, capsys):
    save = tmp_path / "model.json"
    status, out, err = run(["train", str(table_csv), "--target", "target", "--out",
                            str(tmp_path / "run"), "--epochs", "60", "--lr", "0.1",
                            "--save", str(save)], capsys)
    assert status == 0, err
    assert "left out 1 constant column(s), one value in every row: flat" in err
    assert "standardised 2 feature(s) to mean 0, std 1: a, b" in out
    assert "standardised the target too (target: mean " in out
    assert load_model(save).feature_names == ["a", "b"]
    assert (tmp_path / "run" / "loss.png").is_file()


def test_train_notes_a_run_that_had_not_finished_with_what_to_try(table_csv, tmp_path, capsys):
    status, _, err = run(["train", str(table_csv), "--target", "target", "--out",
                          str(tmp_path / "run"), "--epochs", "10", "--lr", "0.01"], capsys)
    assert status == 0
    note = [line for line in err.splitlines() if "still falling" in line]
    assert len(note) == 1
    assert note[0].startswith("gdplot: note: loss still falling (down ")
    assert "in the last 1 of 10 epochs): try --epochs 20, a larger --lr or --lr auto" in note[0]
    assert len(note[0]) < 120
    assert err.rstrip().endswith(note[0])  # said last, after the plots are written


def test_train_accepts_lr_auto_for_the_mlp(table_csv, tmp_path, capsys):
    status, out, err = run(["train", str(table_csv), "--target", "target", "--model", "mlp",
                            "--hidden", "8", "--lr", "auto", "--epochs", "40", "--out",
                            str(tmp_path / "run")], capsys)
    assert status == 0, err
    assert "(auto)" in out and "diverged" not in err


def test_train_refuses_a_folder_in_use_before_printing_anything(table_csv, tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "loss.png").write_text("my own file")
    status, out, err = run(["train", str(table_csv), "--target", "target", "--out", str(mine),
                            "--progress"], capsys)
    assert status == 2
    assert out == ""
    assert err.strip().splitlines()[-1].startswith("gdplot: error: --out")
    assert (mine / "loss.png").read_text() == "my own file"


def test_train_refuses_when_every_feature_is_constant(tmp_path, capsys):
    csv = write_csv(tmp_path / "flat.csv", ["a", "b", "target"],
                    np.column_stack([np.ones(20), np.full(20, 2.0), np.arange(20.0)]))
    status, out, err = run(["train", str(csv), "--target", "target", "--out",
                            str(tmp_path / "run")], capsys)
    assert status == 2 and out == ""
    assert "every feature column holds one value in every row (a, b)" in err
