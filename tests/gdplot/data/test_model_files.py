"""Model files: a fitted model with its scaling, kept as versioned JSON and read back exactly."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gdplot import LinearRegressionGD, LogisticRegressionGD, MLPRegressorGD
from gdplot.data.model_files import (
    FORMAT_NAME,
    FORMAT_VERSION,
    ModelFileError,
    TrainedModel,
    load_model,
    save_model,
)
from gdplot.validation import NotFittedError


def raw_data(seed: int = 0, n: int = 120):
    """Features on very different scales and a target of 152 +- ~77."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)) * [1000.0, 0.01, 5.0] + [5e4, 0.2, -3.0]
    signal = (X[:, 0] - 5e4) / 1000 - 2 * (X[:, 1] - 0.2) / 0.01 + 0.1 * np.abs(X[:, 2] + 3)
    return X, 152 + 30 * signal + rng.normal(0, 5, n)


ESTIMATORS = [
    pytest.param(lambda: LinearRegressionGD(lr=0.1, epochs=200), id="linear"),
    pytest.param(lambda: MLPRegressorGD(hidden=8, lr=0.05, epochs=200, random_state=1), id="mlp"),
]


@pytest.mark.parametrize("make", ESTIMATORS)
def test_a_regressor_round_trips_and_predicts_in_the_targets_units(tmp_path, make):
    X, y = raw_data()
    model = TrainedModel.fit(make(), X, y, feature_names=["rent", "rate", "depth"],
                             target_name="price")
    assert model.score(X, y) > 0.8  # it learned, from raw columns
    assert abs(np.mean(model.predict(X)) - np.mean(y)) < 5  # in the target's units
    path = save_model(tmp_path / "model.json", model)
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.feature_names == ["rent", "rate", "depth"] and loaded.target_name == "price"
    assert loaded.estimator.get_params() == model.estimator.get_params()
    assert loaded.score(X, y) == model.score(X, y)


def test_a_classifier_round_trips_with_its_text_labels(tmp_path):
    X, y = raw_data(2)
    labels = np.where(y > np.median(y), "high", "low")
    model = TrainedModel.fit(LogisticRegressionGD(lr=0.5, epochs=100), X, labels,
                             feature_names=["a", "b", "c"], target_name="band")
    assert model.target_scale is None and list(model.classes) == ["high", "low"]
    loaded = load_model(save_model(tmp_path / "m.json", model))
    assert list(loaded.predict(X)) == list(model.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert loaded.score(X, labels) > 0.85


def test_the_file_is_documented_json(tmp_path):
    X, y = raw_data()
    model = TrainedModel.fit(LinearRegressionGD(lr=0.1, epochs=50, random_state=3), X, y,
                             feature_names=["a", "b", "c"], target_name="t")
    document = json.loads(save_model(tmp_path / "m.json", model).read_text(encoding="utf-8"))
    assert document["format"] == FORMAT_NAME == "gdplot-model"
    assert document["version"] == FORMAT_VERSION == 1
    assert document["model"] == "linear" and document["estimator"] == "LinearRegressionGD"
    assert document["hyperparameters"]["random_state"] == 3
    assert document["n_features"] == 3 and document["features"] == ["a", "b", "c"]
    assert len(document["parameters"]["coef"]) == 3
    assert isinstance(document["parameters"]["intercept"], float)
    np.testing.assert_allclose(document["feature_scaling"]["mean"], X.mean(axis=0))
    np.testing.assert_allclose(document["feature_scaling"]["scale"], X.std(axis=0))
    assert document["target_scaling"]["mean"] == pytest.approx(y.mean())
    assert document["target_scaling"]["scale"] == pytest.approx(y.std())
    assert document["classes"] is None
    assert document["training"]["epochs_run"] == 50 and document["training"]["lr"] == 0.1
    assert not list(tmp_path.glob(".*.tmp"))  # written atomically: no temp file left


def test_lr_auto_is_kept_as_asked_and_as_resolved(tmp_path):
    X, y = raw_data()
    model = TrainedModel.fit(LinearRegressionGD(lr="auto", epochs=20), X, y)
    loaded = load_model(save_model(tmp_path / "m.json", model))
    assert loaded.estimator.lr == "auto"
    assert loaded.estimator.lr_ == model.estimator.lr_ > 0


def test_a_bare_estimator_is_saved_without_scaling(tmp_path):
    X = np.arange(10.0).reshape(-1, 1)
    estimator = LinearRegressionGD(lr=0.02, epochs=2000).fit(X, 3 * X[:, 0] + 1)
    loaded = load_model(save_model(tmp_path / "m.json", estimator, feature_names=["x"]))
    np.testing.assert_allclose(loaded.predict([[20.0]]), [61.0], atol=1e-3)
    with pytest.raises(NotFittedError):
        save_model(tmp_path / "n.json", LinearRegressionGD())


def test_a_failed_save_leaves_the_old_file(tmp_path, monkeypatch):
    X, y = raw_data()
    model = TrainedModel.fit(LinearRegressionGD(epochs=5), X, y)
    path = save_model(tmp_path / "m.json", model)
    before = path.read_bytes()
    monkeypatch.setattr(json, "dumps", lambda *a, **k: (_ for _ in ()).throw(OSError("disk")))
    with pytest.raises(OSError, match="disk"):
        save_model(path, model)
    assert path.read_bytes() == before


def good_document(tmp_path) -> dict:
    X, y = raw_data()
    model = TrainedModel.fit(MLPRegressorGD(hidden=4, epochs=5, random_state=0), X, y)
    return json.loads(save_model(tmp_path / "good.json", model).read_text())


BREAKAGES = [
    (lambda d: d.update(format="pickle"), "its format is not 'gdplot-model'"),
    (lambda d: d.update(version=2), "format version 2; this gdplot reads version 1"),
    (lambda d: d.update(model="svm"), "unknown model kind='svm'"),
    (lambda d: d.pop("parameters"), "missing field 'parameters'"),
    (lambda d: d["parameters"].update({"hidden.weight": [[1.0]]}),
     r"parameter 'hidden.weight' has shape \(1, 1\), expected \(3, 4\)"),
    (lambda d: d["parameters"].pop("output.bias"), "do not match the model's"),
    (lambda d: d["hyperparameters"].update(hidden=0), "hidden must be an int >= 1"),
    (lambda d: d["feature_scaling"].update(scale=[1.0, 0.0, 1.0]), "scale must be > 0"),
    (lambda d: d.update(features=["a"]), "1 feature names for n_features=3"),
    (lambda d: d.update(target_scaling=None), "a regressor needs target_scaling"),
    (lambda d: d.update(n_features=True), "n_features must be an int >= 1"),
]


@pytest.mark.parametrize(("breakage", "message"), BREAKAGES)
def test_a_broken_model_file_is_one_clear_error(tmp_path, breakage, message):
    document = good_document(tmp_path)
    breakage(document)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ModelFileError, match=message) as caught:
        load_model(path)
    assert "broken.json" in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "not JSON"), (b"\x80\x81", "not JSON"), (b"[1, 2]", "format is not")],
)
def test_a_file_that_is_no_model_file(tmp_path, content, message):
    path = tmp_path / "x.json"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=message):
        load_model(path)
    with pytest.raises(ModelFileError, match="no such file"):
        load_model(tmp_path / "missing.json")
    with pytest.raises(ModelFileError, match="is a directory"):
        load_model(tmp_path)
