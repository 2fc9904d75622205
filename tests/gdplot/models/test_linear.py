"""Linear regression: the documented loss, its gradient, and convergence to least squares."""

import doctest

import numpy as np
import pytest

import gdplot.models.linear
from gdplot import LinearRegressionGD
from gdplot.models.nn import numerical_gradient


def regression_problem(n_samples=200, seed=0):
    """Correlated features, so that the least-squares solution is not just X.T @ y."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, 3)) @ np.array(
        [[1.0, 0.5, 0.0], [0.0, 1.0, 0.3], [0.0, 0.0, 1.0]]
    )
    y = X @ np.array([2.0, -1.0, 0.5]) + 3.0 + 0.2 * rng.normal(size=n_samples)
    return X, y


def least_squares(X, y):
    design = np.column_stack([X, np.ones(len(X))])
    solution = np.linalg.lstsq(design, y, rcond=None)[0]
    return solution[:-1], solution[-1]


def test_full_batch_reaches_the_least_squares_solution():
    X, y = regression_problem()
    model = LinearRegressionGD(lr=0.2, epochs=2000).fit(X, y)
    coef, intercept = least_squares(X, y)
    np.testing.assert_allclose(model.coef_, coef, atol=1e-6, rtol=0)
    assert abs(model.intercept_ - intercept) < 1e-6


@pytest.mark.parametrize(
    "batch_size, lr, epochs", [(None, 0.1, 300), (20, 0.02, 100), (1, 0.002, 60)]
)
def test_full_mini_and_stochastic_batches_all_converge(batch_size, lr, epochs):
    X, y = regression_problem()
    model = LinearRegressionGD(lr=lr, epochs=epochs, batch_size=batch_size, random_state=0).fit(
        X, y
    )
    coef, intercept = least_squares(X, y)
    # Stochastic steps keep jittering around the optimum, by about lr times the noise.
    np.testing.assert_allclose(model.coef_, coef, atol=0.05)
    assert abs(model.intercept_ - intercept) < 0.05
    best_mse = np.mean((X @ coef + intercept - y) ** 2)
    assert best_mse * (1 - 1e-9) <= model.history_[-1] < 1.05 * best_mse


def test_history_records_the_mean_squared_error_not_halved():
    X, y = regression_problem()
    recorded = []

    class RecordMSE:
        def on_epoch_end(self, model, epoch):
            recorded.append(np.mean((model.predict(X) - y) ** 2))

    model = LinearRegressionGD(lr=0.05, epochs=5).fit(X, y, callbacks=[RecordMSE()])
    np.testing.assert_allclose(model.history_, recorded, rtol=1e-12)
    assert model.initial_loss_ == pytest.approx(np.mean(y**2))  # parameters start at zero
    assert np.all(np.diff(model.history_) < 0)


def test_gradient_matches_the_documented_loss():
    X, y = regression_problem(n_samples=30)
    model = LinearRegressionGD(epochs=1).fit(X, y)
    theta = model._theta
    theta[:] = [0.3, -0.2, 0.1, 0.7]
    ((param, analytic),) = model._gradients(X, y)
    assert param is theta
    analytic = analytic.copy()
    numeric = numerical_gradient(lambda _: model._loss(X, y), theta)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


def test_predict_and_score():
    X, y = regression_problem()
    model = LinearRegressionGD(lr=0.1, epochs=500).fit(X, y)
    prediction = model.predict(X)
    np.testing.assert_allclose(prediction, X @ model.coef_ + model.intercept_)
    r2 = 1 - np.sum((y - prediction) ** 2) / np.sum((y - y.mean()) ** 2)
    assert model.score(X, y) == pytest.approx(r2)
    assert model.score(X, np.full_like(y, y.mean())) < 0  # worse than predicting the mean
    assert isinstance(model.intercept_, float) and model.coef_.shape == (3,)


def test_score_on_a_constant_target_is_one_if_exact_else_zero():
    X = np.arange(6.0).reshape(-1, 1)
    model = LinearRegressionGD(epochs=3).fit(X, np.zeros(6))  # the zero start is exact already
    np.testing.assert_array_equal(model.predict(X), np.zeros(6))
    assert model.score(X, np.zeros(6)) == 1.0
    assert model.score(X, np.ones(6)) == 0.0


def test_docstring_examples_run():
    assert doctest.testmod(gdplot.models.linear).failed == 0
