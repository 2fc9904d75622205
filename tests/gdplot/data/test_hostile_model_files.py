"""Model files are read within limits: each hostile mutation is one ``ModelFileError`` (one
line and exit 2 from ``gdplot predict``), found before anything large is allocated; a target
scale must be > 0; predictions that overflow are an error, never ``inf``."""

from __future__ import annotations

import json
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from gdplot import LinearRegressionGD
from gdplot.cli import main
from gdplot.data.model_files import (
    ModelFileError,
    PredictionOverflow,
    TrainedModel,
    load_model,
    save_model,
)
from gdplot.models.mlp import MLPRegressorGD

X = np.random.default_rng(0).standard_normal((30, 2))
Y = X @ [1.0, -2.0] + 0.5


@pytest.fixture(scope="module")
def documents(tmp_path_factory) -> dict[str, dict]:
    folder = tmp_path_factory.mktemp("models")
    linear = TrainedModel.fit(LinearRegressionGD(epochs=5, random_state=0), X, Y,
                              feature_names=["a", "b"])
    mlp = TrainedModel.fit(MLPRegressorGD(hidden=3, epochs=5, random_state=0), X, Y,
                           feature_names=["a", "b"])
    save_model(folder / "linear.json", linear)
    save_model(folder / "mlp.json", mlp)
    return {kind: json.loads((folder / f"{kind}.json").read_text()) for kind in ("linear", "mlp")}


def mutated(documents, kind, change) -> str:
    document = json.loads(json.dumps(documents[kind]))
    result = change(document)
    return result if isinstance(result, str) else json.dumps(document)


def set_in(path: str, value):
    def change(document):
        *parents, last = path.split(".")
        target = document
        for key in parents:
            target = target[key]
        target[last] = value

    return change


def replace_text(old: str, new: str):
    return lambda document: json.dumps(document).replace(old, new, 1)


MUTATIONS = [
    ("linear", lambda d: "[" * 100_000 + "]" * 100_000, "nested 100000 deep"),
    ("linear", replace_text('"version": 1', '"version": ' + "9" * 5000), "5,000 digits"),
    ("linear", replace_text('"version": 1', '"version": ' + str(10**400)), "401 digits"),
    ("linear", replace_text('"lr": 0.01', '"lr": 1e400'), "out of float64's range"),
    ("linear", set_in("training.epochs_run", float("inf")), "Infinity is not a finite number"),
    ("linear", set_in("training", [1]), "training must be an object"),
    ("linear", set_in("n_features", 10**12), "2 feature names for n_features=1000000000000"),
    ("mlp", set_in("hyperparameters.hidden", 10**9), "parameters hold 13 numbers"),
    ("mlp", set_in("hyperparameters.hidden", 2**20), "parameters hold 13 numbers"),
    ("linear", set_in("hyperparameters", "x"), "hyperparameters must be an object"),
    ("linear", set_in("hyperparameters.lr", [1, 2]), "hyperparameters.lr must be a number"),
    ("linear", set_in("parameters", [1]), "parameters must be an object"),
    ("linear", set_in("parameters.coef", ["a", "b"]), "must be an array of numbers"),
    ("linear", set_in("features", "ab"), "features must be a list"),
    ("linear", set_in("features", [1, 2]), "features must be a list of column names"),
    ("linear", set_in("feature_scaling.mean", [True, 0.0]), "feature_scaling.mean must be 2"),
    ("linear", set_in("target_scaling.scale", 0), "target_scaling.scale must be > 0"),
    ("linear", set_in("target_scaling.scale", -2.5), "target_scaling.scale must be > 0"),
    ("linear", set_in("target_scaling", [1, 2]), "target_scaling must be an object"),
    ("linear", set_in("target", 7), "target must be a string"),
]


@pytest.mark.parametrize("kind, change, message", MUTATIONS,
                         ids=[m[2][:40] for m in MUTATIONS])
def test_each_hostile_mutation_is_one_clear_error_in_little_memory(
    tmp_path, documents, kind, change, message
):
    path = tmp_path / "model.json"
    path.write_text(mutated(documents, kind, change))
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError) as caught:
            load_model(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    # A few copies of a file under 1 MB at most: never the model it claims to be.
    assert peak < 16 * 2**20, f"{peak / 2**20:.0f} MiB allocated to refuse it"


def test_the_command_gives_one_line_and_exit_2_for_each_mutation(tmp_path, documents, capsys):
    csv = tmp_path / "data.csv"
    csv.write_text("a,b\n1,2\n3,4\n")
    for index, (kind, change, message) in enumerate(MUTATIONS):
        path = tmp_path / f"model{index}.json"
        path.write_text(mutated(documents, kind, change))
        assert main(["predict", str(path), str(csv)]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.count("\n") == 1 and message in captured.err, captured.err


def test_an_untouched_model_file_still_loads(tmp_path, documents):
    for kind in ("linear", "mlp"):
        path = tmp_path / f"{kind}.json"
        path.write_text(json.dumps(documents[kind]))
        model = load_model(path)
        assert np.isfinite(model.predict(X)).all()


def test_a_deeply_nested_file_is_refused_in_a_subprocess_without_a_traceback(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 1_000_000 + "]" * 1_000_000)
    csv = tmp_path / "data.csv"
    csv.write_text("a,b\n1,2\n")
    result = subprocess.run([sys.executable, "-m", "gdplot", "predict", str(path), str(csv)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "nested 1000000 deep" in result.stderr


def test_predictions_that_overflow_are_an_error_never_inf(tmp_path, documents, capsys):
    document = json.loads(json.dumps(documents["linear"]))
    document["parameters"]["coef"] = [1e300, 1e300]
    document["target_scaling"]["scale"] = 1e300
    path = tmp_path / "overflow.json"
    path.write_text(json.dumps(document))
    model = load_model(path)
    with pytest.raises(PredictionOverflow, match="row 0") as caught:
        model.predict(np.array([[1.0, 1.0]]))
    assert caught.value.row == 0

    csv = tmp_path / "data.csv"
    csv.write_text("a,b\n0,0\n1,1\n")
    assert main(["predict", str(path), str(csv)]) == 2
    captured = capsys.readouterr()
    assert "inf" not in captured.out
    assert captured.err.count("\n") == 1
    assert "line 2" in captured.err and "overflows" in captured.err


def test_load_refuses_a_fifo_or_device_without_blocking(tmp_path):
    import os

    fifo = tmp_path / "model.json"
    os.mkfifo(fifo)
    for path in (fifo, Path("/dev/zero")):
        with pytest.raises(ModelFileError, match="not a model file"):
            load_model(path)
