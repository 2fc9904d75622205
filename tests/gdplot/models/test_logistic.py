"""Logistic regression: labels, stability, descent == ascent, and convergence to the MLE."""

import numpy as np
import pytest

import gdplot.models.logistic as logistic
from gdplot import DivergenceError, LogisticRegressionGD


def logistic_problem(n_samples=400, seed=0):
    """Labels drawn from a true logistic model, so the classes overlap and the MLE is finite."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, 2))
    probability = 1.0 / (1.0 + np.exp(-(X @ np.array([1.5, -1.0]) + 0.3)))
    return X, rng.random(n_samples) < probability


def newton_mle(X, y, iterations=30):
    """The maximum likelihood estimate [*coef, intercept] by Newton's method (IRLS)."""
    design = np.column_stack([X, np.ones(len(X))])
    theta = np.zeros(design.shape[1])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-design @ theta))
        hessian = design.T @ (design * (p * (1 - p))[:, np.newaxis])
        theta += np.linalg.solve(hessian, design.T @ (y - p))
    return theta


def test_full_batch_descent_converges_to_the_mle():
    X, y = logistic_problem()
    model = LogisticRegressionGD(lr=2.0, epochs=300).fit(X, y)
    np.testing.assert_allclose(
        [*model.coef_, model.intercept_], newton_mle(X, y), atol=1e-6, rtol=0
    )


def test_matches_scikit_learn_unpenalised():
    sklearn = pytest.importorskip("sklearn")
    from sklearn.linear_model import LogisticRegression

    version = tuple(int(part) for part in sklearn.__version__.split(".")[:2])
    # scikit-learn 1.8 deprecated penalty=None in favour of C=inf.
    unpenalised = {"C": np.inf} if version >= (1, 8) else {"penalty": None}
    X, y = logistic_problem()
    reference = LogisticRegression(**unpenalised, tol=1e-12, max_iter=10_000).fit(X, y)
    model = LogisticRegressionGD(lr=2.0, epochs=300).fit(X, y)
    np.testing.assert_allclose(model.coef_, reference.coef_[0], atol=1e-5)
    assert model.intercept_ == pytest.approx(reference.intercept_[0], abs=1e-5)
    np.testing.assert_allclose(model.predict_proba(X), reference.predict_proba(X), atol=1e-5)


@pytest.mark.parametrize("batch_size", [None, 7, 1])
def test_descent_on_nll_and_ascent_on_ll_give_the_same_iterates(batch_size):
    X, y = logistic_problem(n_samples=100)
    paths = {}
    for method in ("descent", "ascent"):
        model = LogisticRegressionGD(
            lr=0.5, epochs=30, batch_size=batch_size, random_state=1, method=method
        )
        paths[method] = model.fit(X, y).snapshot().path
    np.testing.assert_allclose(paths["ascent"], paths["descent"], rtol=0, atol=1e-12)
    assert np.ptp(paths["descent"], axis=0).min() > 0.01  # the run went somewhere


def test_ascent_really_uses_the_log_likelihood_gradient(monkeypatch):
    X, y = logistic_problem(n_samples=50)
    z = np.random.default_rng(0).normal(size=50)
    y01 = y.astype(float)
    ascent = logistic.log_likelihood_gradient(z.copy(), y01)
    descent = LogisticRegressionGD.maths.loss_gradient_of_z(z.copy(), y01)
    np.testing.assert_allclose(ascent, -descent, rtol=1e-14)
    calls = []
    real = logistic.log_likelihood_gradient

    def spy(z, y):
        calls.append(len(z))
        return real(z, y)

    monkeypatch.setattr(logistic, "log_likelihood_gradient", spy)
    LogisticRegressionGD(epochs=3, method="descent").fit(X, y)
    assert calls == []
    LogisticRegressionGD(epochs=3, method="ascent").fit(X, y)
    assert calls == [50, 50, 50]


def test_history_records_the_mean_negative_log_likelihood():
    X, y = logistic_problem()
    model = LogisticRegressionGD(lr=0.5, epochs=4).fit(X, y)
    p = model.predict_proba(X)[:, 1]
    nll = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert model.history_[-1] == pytest.approx(nll, rel=1e-12)
    assert model.initial_loss_ == pytest.approx(np.log(2))  # p = 1/2 everywhere at the start


def test_string_labels_are_sorted_into_classes():
    X, y = logistic_problem()
    labels = np.where(y, "spam", "ham")
    model = LogisticRegressionGD(lr=1.0, epochs=100).fit(X, labels)
    assert model.classes_.tolist() == ["ham", "spam"]
    predicted = model.predict(X)
    assert set(predicted) <= {"ham", "spam"}
    np.testing.assert_array_equal(predicted == "spam", model.predict_proba(X)[:, 1] > 0.5)
    assert model.score(X, labels) == pytest.approx(np.mean(predicted == labels))
    assert model.score(X, labels) > 0.7
    numeric = LogisticRegressionGD(lr=1.0, epochs=100).fit(X, np.where(y, 7, -3))
    assert numeric.classes_.tolist() == [-3, 7]
    np.testing.assert_array_equal(numeric.coef_, model.coef_)  # "spam" and 7 are both classes_[1]


def test_predict_proba_is_a_distribution_over_the_two_classes():
    X, y = logistic_problem()
    model = LogisticRegressionGD(lr=1.0, epochs=50).fit(X, y)
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-15)
    assert np.all((proba > 0) & (proba < 1))


@pytest.mark.parametrize(
    "labels, message",
    [
        (["a"] * 6, r"exactly 2 classes, found 1: \['a'\]"),
        ([0, 1, 2, 0, 1, 2], r"exactly 2 classes, found 3: \[0, 1, 2\]"),
        (np.arange(6) * 1.5, r"found 6: \[0.0, 1.5, 3.0, 4.5, 6.0, 7.5\]"),
    ],
)
def test_one_or_many_classes_is_an_error_naming_them(labels, message):
    with pytest.raises(ValueError, match=message):
        LogisticRegressionGD().fit(np.zeros((6, 1)), labels)


def test_many_classes_are_listed_briefly():
    with pytest.raises(ValueError, match=r"found 50: \[0, 1, .*, 9, \.\.\.\]"):
        LogisticRegressionGD().fit(np.zeros((50, 1)), np.arange(50))


def test_method_is_validated():
    X, y = logistic_problem(n_samples=10)
    with pytest.raises(
        ValueError, match=r"method must be 'descent' or 'ascent', got method='newton'"
    ):
        LogisticRegressionGD(method="newton").fit(X, y)


def test_huge_logits_stay_finite_without_warnings():
    # |z| up to ~1e6: naive exp(-z) or log(sigmoid) would overflow (warnings are errors here).
    X = np.array([[-1e6], [-5.0], [5.0], [1e6]])
    y = np.array([0, 1, 0, 1])
    losses = []

    class RecordLoss:
        def on_epoch_end(self, model, epoch):
            losses.append(model.history_[-1])

    # lr=1 on a feature of scale 1e6 overshoots every step: each loss is finite, but the run
    # ends far above where it started, which is divergence, not a fit.
    with pytest.raises(DivergenceError, match=r"above where it started \(0\.6931\)"):
        LogisticRegressionGD(lr=1.0, epochs=5).fit(X, y, callbacks=[RecordLoss()])
    assert len(losses) == 5 and np.isfinite(losses).all() and max(losses) > 1e5
    model = LogisticRegressionGD(lr=1.0, epochs=50).fit([[-1.0], [1.0]], [0, 1])
    proba = model.predict_proba(X)  # z = coef * x reaches about 1e6 * coef
    assert np.isfinite(proba).all() and proba[0, 0] == proba[3, 1] == 1.0
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_separable_data_weights_grow_but_stay_finite():
    X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    y = np.array([0, 0, 1, 1])
    norms = []

    class RecordNorm:
        def on_epoch_end(self, model, epoch):
            norms.append(abs(model.coef_[0]))

    model = LogisticRegressionGD(lr=5.0, epochs=2000).fit(X, y, callbacks=[RecordNorm()])
    assert np.all(np.diff(norms) > 0)  # no finite minimiser: the weight keeps growing
    assert np.all(np.diff(model.history_) < 0) and model.history_[-1] < 1e-3
    assert np.isfinite(model.coef_).all()
    assert model.score(X, y) == 1.0


def test_snapshot_encodes_labels_as_zero_one():
    X, y = logistic_problem(n_samples=60)
    labels = np.where(y, "b", "a")
    snapshot = LogisticRegressionGD(epochs=2).fit(X, labels).snapshot()
    np.testing.assert_array_equal(snapshot.y, y.astype(float))
    assert snapshot.model == "logistic"
