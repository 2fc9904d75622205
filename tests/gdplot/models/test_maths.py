"""Each model's maths in one home (gdplot.models.maths): the registry, the gradients the training
loop chains through, and a new model added in one place."""

import numpy as np
import pytest

import gdplot.models.maths as registry
from gdplot import LinearRegressionGD, LogisticRegressionGD, MLPRegressorGD
from gdplot.models.linear import LinearModel, linear_output
from gdplot.models.maths import (
    ModelMaths,
    estimator_class,
    identity,
    model_kinds,
    model_maths,
    register_estimator,
    register_model,
)
from gdplot.models.nn import numerical_gradient

ESTIMATORS = {"linear": LinearRegressionGD, "logistic": LogisticRegressionGD, "mlp": MLPRegressorGD}


def test_each_kind_has_its_maths_and_its_estimator():
    assert model_kinds() == ["linear", "logistic", "mlp"]
    for kind, cls in ESTIMATORS.items():
        assert estimator_class(kind) is cls
        assert cls.maths is model_maths(kind) and cls.maths.kind == kind
    for lookup in (model_maths, estimator_class):
        with pytest.raises(ValueError, match=r"unknown model kind='svm'; known kinds: linear, "):
            lookup("svm")


@pytest.mark.parametrize("kind", sorted(ESTIMATORS))
def test_loss_gradient_matches_finite_differences_of_the_loss(kind):
    maths = model_maths(kind)
    rng = np.random.default_rng(0)
    z = rng.normal(size=7) * 3
    classes = maths.task == "classification"
    y = (rng.random(7) < 0.5).astype(float) if classes else rng.normal(size=7)
    analytic = maths.loss_gradient_of_z(z.copy(), y)  # may reuse its argument's memory
    numeric = numerical_gradient(lambda v: float(maths.loss_of_z(v, y)), z.copy())
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("kind", sorted(ESTIMATORS))
def test_training_loss_is_the_registered_loss_of_the_registered_output(kind):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 2))
    y = X[:, 0] - X[:, 1] ** 2
    target = y > 0 if kind == "logistic" else y
    model = ESTIMATORS[kind](lr=0.05, epochs=5, random_state=0).fit(X, target)
    snapshot = model.snapshot()
    z = snapshot.maths.raw_output(snapshot.params, X)
    loss = snapshot.maths.loss_of_z(z, np.asarray(target, dtype=float))
    assert model.history_[-1] == pytest.approx(loss, rel=1e-12)


def test_linear_output_leaves_its_inputs_alone():
    params = {"coef": np.array([1.0, 2.0]), "intercept": np.array(0.5)}
    X = np.ones((3, 2))
    np.testing.assert_array_equal(linear_output(params, X), [3.5, 3.5, 3.5])
    assert params["intercept"] == 0.5 and params["coef"].tolist() == [1.0, 2.0]


def test_a_kind_and_its_estimator_are_registered_once():
    with pytest.raises(ValueError, match=r"kind='linear' is already registered"):
        register_model(ModelMaths(**{**vars(model_maths("linear")), "title": "Other"}))
    assert register_model(model_maths("linear")) is model_maths("linear")  # same one: fine

    class Unregistered(LinearModel):
        maths = ModelMaths(**{**vars(model_maths("linear")), "kind": "nowhere"})

    with pytest.raises(ValueError, match=r"Unregistered.maths must be a registered ModelMaths"):
        register_estimator(Unregistered)

    class Second(LinearRegressionGD):
        pass

    with pytest.raises(ValueError, match=r"already has an estimator: LinearRegressionGD"):
        register_estimator(Second)


# -- a new model, in one place ---------------------------------------------------------------


def test_a_new_model_needs_only_its_own_maths_and_estimator(monkeypatch):
    # Poisson regression, log link: everything the training loop, snapshots and lookups need
    # is this block (it would be the new model's module).
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    monkeypatch.setattr(registry, "_ESTIMATORS", dict(registry._ESTIMATORS))

    def poisson_deviance(z, y):  # mean(exp(z) - y z), the negative log-likelihood up to a constant
        return np.mean(np.exp(z) - y * z, axis=-1)

    def poisson_gradient(z, y):
        return (np.exp(z) - y) / z.shape[0]

    poisson = register_model(
        ModelMaths(
            kind="poisson",
            title="Poisson regression",
            task="regression",
            raw_output=linear_output,
            link=np.exp,
            loss_of_z=poisson_deviance,
            output_label="expected count",
            linear_in_params=True,
            loss_gradient_of_z=poisson_gradient,
        )
    )

    @register_estimator
    class PoissonRegressionGD(LinearModel):
        maths = poisson

    rng = np.random.default_rng(2)
    X = rng.normal(size=(400, 2)) / 2
    counts = rng.poisson(np.exp(X @ [0.8, -0.5] + 1.0))
    model = PoissonRegressionGD(lr=0.1, epochs=400).fit(X, counts)
    np.testing.assert_allclose([*model.coef_, model.intercept_], [0.8, -0.5, 1.0], atol=0.15)
    assert estimator_class("poisson") is PoissonRegressionGD and "poisson" in model_kinds()
    snapshot = model.snapshot()
    assert snapshot.maths is poisson
    expected = np.exp(X[:3] @ model.coef_ + model.intercept_)
    np.testing.assert_allclose(snapshot.decision(X[:3]), expected, rtol=1e-12)
    # No Lipschitz factor (exp has no bounded curvature): lr="auto" is a range test's rate.
    auto = PoissonRegressionGD(lr="auto", epochs=400).fit(X, counts)
    assert auto.lr_ != model.lr_ and auto.history_[-1] < auto.initial_loss_
    np.testing.assert_allclose([*auto.coef_, auto.intercept_], [0.8, -0.5, 1.0], atol=0.15)


def test_identity_is_the_regression_link():
    z = np.array([-1.0, 2.0])
    assert identity(z) is z
