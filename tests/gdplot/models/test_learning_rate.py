"""The learning rate computed from the data (gdplot.models.learning_rate) and ``lr="auto"``: 1/L, with
L the Lipschitz constant of the loss gradient, descends at every epoch however the features
are scaled."""

import numpy as np
import pytest

import gdplot.models.learning_rate as learning_rate
from gdplot import DivergenceError, LinearRegressionGD, LogisticRegressionGD, MLPRegressorGD
from gdplot.models.learning_rate import (
    auto_learning_rate,
    gram_largest_eigenvalue,
    lipschitz_constant,
)
from gdplot.models.maths import model_maths

LINEAR, LOGISTIC, MLP = (model_maths(kind) for kind in ("linear", "logistic", "mlp"))


def badly_scaled(n_samples=300, seed=0):
    """Features with scales from 1e-3 to 1e3 and offsets, a target linear in them, and labels
    from a logistic model in them (the classes overlap: a finite MLE exists)."""
    rng = np.random.default_rng(seed)
    scales = np.logspace(-3, 3, 5)
    Z = rng.normal(size=(n_samples, scales.size))
    X = Z * scales + np.array([0.0, 5.0, -2.0, 0.0, 300.0])
    y = Z @ [0.2, -0.3, 0.5, 1.0, 2.0] + 0.1 * rng.normal(size=n_samples)
    labels = rng.random(n_samples) < 1 / (1 + np.exp(-(Z @ [1.0, 0.0, 0.0, -1.0, 0.5])))
    return X, y, labels


def exact_largest_eigenvalue(X):
    design = np.column_stack([X, np.ones(len(X))])
    return np.linalg.eigvalsh(design.T @ design / len(X))[-1]


# -- the eigenvalue and the Lipschitz constant -----------------------------------------------------


@pytest.mark.parametrize("explicit", [True, False], ids=["gram", "matrix-free"])
@pytest.mark.parametrize("shape", [(200, 1), (300, 5), (50, 80)])
def test_largest_eigenvalue_matches_the_exact_one(shape, explicit, monkeypatch):
    if not explicit:
        monkeypatch.setattr(learning_rate, "EXPLICIT_GRAM_MAX_COLUMNS", 0)
    rng = np.random.default_rng(shape[1])
    X = rng.normal(size=shape) * rng.uniform(0.1, 3, size=shape[1]) + rng.normal(size=shape[1])
    exact = exact_largest_eigenvalue(X)
    estimate = gram_largest_eigenvalue(X)
    assert estimate <= exact * (1 + 1e-12)  # a Rayleigh quotient never overshoots
    assert estimate == pytest.approx(exact, rel=1e-4)


def test_largest_eigenvalue_of_badly_scaled_features():
    X, _, _ = badly_scaled()
    assert gram_largest_eigenvalue(X) == pytest.approx(exact_largest_eigenvalue(X), rel=1e-6)


def test_lipschitz_constant_uses_each_models_factor():
    X, _, _ = badly_scaled()
    top = exact_largest_eigenvalue(X)
    assert lipschitz_constant(LINEAR, X) == pytest.approx(2 * top, rel=1e-6)
    assert lipschitz_constant(LOGISTIC, X) == pytest.approx(top / 4, rel=1e-6)
    assert lipschitz_constant(MLP, X) is None
    assert auto_learning_rate(MLP, X) is None


def test_mean_squared_error_gradient_is_L_lipschitz_and_L_is_tight():
    # For the MSE, L is exactly the largest curvature: a step of 2/L along the top eigenvector
    # of the Hessian lands where it started; a bit more overshoots and grows the loss.
    X, y, _ = badly_scaled(seed=1)
    design = np.column_stack([X, np.ones(len(X))])
    hessian = 2 * design.T @ design / len(X)
    assert lipschitz_constant(LINEAR, X) == pytest.approx(np.linalg.eigvalsh(hessian)[-1])


# -- the rate ---------------------------------------------------------------------------------


def test_full_batch_rate_is_one_over_L():
    X, _, _ = badly_scaled()
    for maths in (LINEAR, LOGISTIC):
        expected = 1 / lipschitz_constant(maths, X)
        assert auto_learning_rate(maths, X) == expected
        assert auto_learning_rate(maths, X, batch_size=len(X)) == expected
        assert auto_learning_rate(maths, X, batch_size=10 * len(X)) == expected


def test_mini_batch_rate_runs_from_one_over_L_max_to_one_over_L():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(100, 4))
    one_row = 1 / (2 * (np.max(np.sum(X**2, axis=1)) + 1))
    assert auto_learning_rate(LINEAR, X, batch_size=1) == pytest.approx(one_row)
    rates = [auto_learning_rate(LINEAR, X, batch_size=b) for b in (1, 2, 8, 32, 99, 100)]
    assert rates == sorted(rates) and len(set(rates)) == len(rates)
    assert rates[-1] == pytest.approx(1 / lipschitz_constant(LINEAR, X))


# -- lr="auto" ---------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [LinearRegressionGD, LogisticRegressionGD])
def test_auto_rate_descends_at_every_epoch_on_badly_scaled_data(cls):
    X, y, labels = badly_scaled()
    target = y if cls is LinearRegressionGD else labels
    model = cls(lr="auto", epochs=300).fit(X, target)
    history = np.concatenate([[model.initial_loss_], model.history_])
    steps = np.diff(history)
    # Non-increasing, up to float rounding of a loss that has almost stopped moving.
    assert np.all(steps <= 1e-12 * history[:-1]), steps.max()
    # Progress along the large-scale features (the tiny ones need a near-infinite number of
    # steps at any safe rate: that is what badly scaled means).
    assert model.history_[-1] < 0.9 * model.initial_loss_
    # The same data with a fixed rate 10x larger than 1/L only fails.
    with pytest.raises(DivergenceError, match=r"diverged"):
        cls(lr=10 * model.lr_, epochs=300).fit(X, target)


@pytest.mark.parametrize("cls", [LinearRegressionGD, LogisticRegressionGD])
def test_auto_rate_is_recorded_and_params_keep_auto(cls):
    X, y, labels = badly_scaled(n_samples=120)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    target = y if cls is LinearRegressionGD else labels
    model = cls(lr="auto", epochs=3, batch_size=16, random_state=0).fit(X, target)
    assert model.lr_ == auto_learning_rate(cls.maths, X, batch_size=16)
    assert model.get_params()["lr"] == "auto"
    assert repr(model) == f"{cls.__name__}(lr='auto', epochs=3, batch_size=16, random_state=0)"
    assert cls(lr=0.5, epochs=1).fit(X[:, :1] / 1e3, target).lr_ == 0.5


def test_auto_rate_trains_stochastic_descent_where_one_over_L_diverges():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(500, 10))
    y = X @ rng.normal(size=10) + rng.normal(size=500)
    full_batch_rate = auto_learning_rate(LINEAR, X)
    with pytest.raises(DivergenceError, match=r"diverged"):
        LinearRegressionGD(lr=full_batch_rate, epochs=20, batch_size=1, random_state=0).fit(X, y)
    model = LinearRegressionGD(lr="auto", epochs=20, batch_size=1, random_state=0).fit(X, y)
    assert model.lr_ < full_batch_rate and model.score(X, y) > 0.85


def test_auto_for_the_mlp_is_the_range_tests_rate_for_its_data():
    X = np.linspace(-3, 3, 200).reshape(-1, 1)
    rates = {scale: MLPRegressorGD(hidden=8, lr="auto", epochs=2, random_state=0).fit(
        X * scale, np.sin(X[:, 0])).lr_ for scale in (1.0, 10.0)}
    # Features ten times larger make the loss ten to a hundred times steeper.
    assert 3 < rates[1.0] / rates[10.0] < 300


@pytest.mark.parametrize("lr", ["Auto", "fast", ""])
def test_other_strings_are_refused_naming_lr(lr):
    message = rf"lr must be a finite number > 0 or 'auto', got lr={lr!r}"
    with pytest.raises(ValueError, match=message):
        LinearRegressionGD(lr=lr).fit(np.zeros((3, 1)), np.zeros(3))


def test_features_too_large_to_square_get_no_rate_but_a_clear_error():
    X = np.array([[1e160], [2e160], [3e160]])
    assert gram_largest_eigenvalue(X) == np.inf  # and no overflow warning (they are errors)
    with pytest.raises(ValueError, match=r"no learning rate can be computed from X: .* 3e\+160"):
        LinearRegressionGD(lr="auto").fit(X, [1.0, 2.0, 3.0])
    # A fixed rate that diverges on them falls back to the generic hint, without warnings.
    with pytest.raises(DivergenceError, match=r"e\.g\. lr=1e-301, or standardise the features\.$"):
        LinearRegressionGD(lr=1e-300, epochs=3).fit(X, [1.0, 2.0, 3.0])


def test_divergence_with_the_auto_rate_says_so_and_suggests_less():
    # A target of pure noise: the zero start is already about optimal, so the gradient noise
    # of single-row steps can only end the run above where it started -- at any rate.
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(100, 3)), rng.normal(size=100)
    model = LinearRegressionGD(lr="auto", epochs=2, batch_size=1, random_state=0)
    expected = r"above where it started .* with lr='auto' \("
    with pytest.raises(DivergenceError, match=expected) as info:
        model.fit(X, y - y.mean())
    rate = auto_learning_rate(LINEAR, X, batch_size=1)
    assert info.value.lr == rate and info.value.suggested_lr == pytest.approx(rate / 10)
    assert f"with lr='auto' ({rate:.3g}). Try a smaller learning rate, e.g. lr=" in str(info.value)
