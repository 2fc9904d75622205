"""A learning rate computed from the data, for the models linear in their parameters.

For a model ``z = D @ theta`` with ``D = [X, 1]`` (the features and a column of ones for the
intercept), the Hessian of the mean loss is ``D.T @ diag(l''(z)) @ D / n``. Its largest
eigenvalue is at most ``L = c * lambda_max(D.T @ D / n)``, where ``c`` bounds the loss's
second derivative in ``z``: 2 for the (unhalved) squared error, 1/4 for the logistic
negative log-likelihood. ``ModelMaths.lipschitz_factor`` holds ``c``. ``L`` is the Lipschitz
constant of the gradient, and full-batch gradient descent with ``lr = 1 / L`` lowers the loss
at every step (any ``lr < 2 / L`` does), however badly the features are scaled.

Mini-batches see fewer rows, so their gradient can be steeper than the whole set's: at batch
size 1 a step on row ``i`` is safe only below ``2 / L_i`` with ``L_i = c * (|x_i|^2 + 1)``.
:func:`auto_learning_rate` uses the "expected smoothness" of ``b``-row batches drawn without
replacement (Gower et al., "SGD: General Analysis and Improved Rates", ICML 2019)::

    L(b) = n (b - 1) / (b (n - 1)) * L  +  (n - b) / (b (n - 1)) * max_i L_i

which is ``L`` for the full batch and ``max_i L_i`` for single rows.

Models with no such bound (the MLP) get their rate from a learning-rate range test (Smith,
"Cyclical Learning Rates for Training Neural Networks", 2017; fastai's ``lr_find``):
:func:`range_test_learning_rate` takes a short run of steps on a copy of the model with the
rate growing geometrically, watches the loss, and returns a rate safely below the one at
which the loss was lowest, itself just short of where it blows up.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gdplot.models.maths import ModelMaths

__all__ = [
    "auto_learning_rate",
    "gram_largest_eigenvalue",
    "lipschitz_constant",
    "range_test_learning_rate",
]

#: Power iteration stops when the eigenvalue estimate moves less than this, relatively...
POWER_ITERATION_RTOL = 1e-6
#: ... or after this many products with ``D.T @ D / n``.
POWER_ITERATION_MAX_ITER = 200
#: Up to this many columns ``D.T @ D / n`` is formed once (cost ``n * p^2``), and each
#: iteration is a small ``p x p`` product; wider data multiplies by ``D`` and ``D.T`` instead
#: (cost ``2 n p`` per iteration, no ``p x p`` matrix).
EXPLICIT_GRAM_MAX_COLUMNS = 256


def gram_largest_eigenvalue(X: np.ndarray) -> float:
    """``lambda_max(D.T @ D / n)`` with ``D = [X, 1]``, by power iteration, for ``X`` a finite
    float array ``(n, p)``.

    The estimate is a Rayleigh quotient, so it never exceeds the true value, and it is at
    least the largest diagonal entry (the largest mean square of a column, and 1 for the
    ones). The iteration starts from a fixed pseudo-random vector, so the answer is
    repeatable; a start with almost no weight on the top eigenvector would need more than
    ``POWER_ITERATION_MAX_ITER`` iterations, which a random start makes vanishingly unlikely.
    Returns ``inf`` if the squares of ``X`` overflow float64 (values beyond about 1e154).
    """
    X = np.asarray(X, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        estimate = _power_iteration(X)
    return estimate if np.isfinite(estimate) else np.inf


def _power_iteration(X: np.ndarray) -> float:
    n_samples, n_features = X.shape
    column_means = X.mean(axis=0)
    mean_squares = np.einsum("ij,ij->j", X, X) / n_samples
    if not np.isfinite(mean_squares).all():
        return np.inf
    if n_features + 1 <= EXPLICIT_GRAM_MAX_COLUMNS:
        gram = np.empty((n_features + 1, n_features + 1))
        gram[:-1, :-1] = X.T @ X / n_samples
        gram[:-1, -1] = gram[-1, :-1] = column_means
        gram[-1, -1] = 1.0

        def times_gram(v: np.ndarray) -> np.ndarray:
            return gram @ v

    else:

        def times_gram(v: np.ndarray) -> np.ndarray:
            d_v = X @ v[:-1] + v[-1]
            return np.append(d_v @ X, d_v.sum()) / n_samples

    v = np.random.default_rng(0).standard_normal(n_features + 1)
    v /= np.linalg.norm(v)
    estimate = 0.0
    for _ in range(POWER_ITERATION_MAX_ITER):
        gram_v = times_gram(v)
        previous, estimate = estimate, float(v @ gram_v)
        norm = np.linalg.norm(gram_v)
        if norm == 0.0 or abs(estimate - previous) <= POWER_ITERATION_RTOL * estimate:
            break
        v = gram_v / norm
    # Both are lower bounds of lambda_max; the diagonal one is exact for one dominant column.
    return max(estimate, float(mean_squares.max(initial=0.0)), 1.0)


def lipschitz_constant(maths: ModelMaths, X: np.ndarray) -> float | None:
    """``L = maths.lipschitz_factor * lambda_max(D.T @ D / n)``: the Lipschitz constant of the
    gradient of ``maths``'s mean loss over ``X`` ``(n, p)``; ``None`` for a model without a
    ``lipschitz_factor`` (one not linear in its parameters, such as the MLP); ``inf`` if the
    squares of ``X`` overflow float64."""
    if maths.lipschitz_factor is None:
        return None
    return maths.lipschitz_factor * gram_largest_eigenvalue(X)


def auto_learning_rate(
    maths: ModelMaths, X: np.ndarray, batch_size: int | None = None
) -> float | None:
    """The learning rate ``lr="auto"`` trains with: ``1 / L`` for full-batch descent (``batch_size``
    ``None`` or at least ``n``), ``1 / L(batch_size)`` for mini-batches (see the module's
    docstring); ``None`` for a model without a ``lipschitz_factor``. A ``ValueError`` if
    ``X`` is too large for float64 to square (no rate is then meaningful: rescale ``X``)."""
    full_batch = lipschitz_constant(maths, X)
    if full_batch is None:
        return None
    if not np.isfinite(full_batch):
        raise ValueError(
            "no learning rate can be computed from X: its squares overflow float64 (largest "
            f"|X| is {np.abs(X).max():.3g}); rescale it, e.g. standardise the features"
        )
    n_samples = X.shape[0]
    if batch_size is None or batch_size >= n_samples:
        return 1.0 / full_batch
    one_row = maths.lipschitz_factor * (float(np.einsum("ij,ij->i", X, X).max()) + 1.0)
    b, n = batch_size, n_samples
    smoothness = (n * (b - 1) * full_batch + (n - b) * one_row) / (b * (n - 1))
    return 1.0 / smoothness


#: The range test's rates: geometric from the first to the second, over this many steps.
RANGE_TEST_RATES = (1e-5, 10.0)
RANGE_TEST_STEPS = 100
#: The test stops once the loss is this many times its lowest (or not finite).
RANGE_TEST_BLOW_UP = 4.0
#: The rate chosen is the one at the lowest loss divided by this (fastai suggests 10, which
#: trains full-batch runs needlessly slowly).
RANGE_TEST_SAFETY = 6.0
#: The loss is watched on at most this many rows (a fixed subsample).
RANGE_TEST_ROWS = 1000


def range_test_learning_rate(
    step: Callable[[np.ndarray, np.ndarray, float], None],
    loss: Callable[[np.ndarray, np.ndarray], float],
    X: np.ndarray,
    y: np.ndarray,
    *,
    batch_size: int | None = None,
) -> float:
    """A learning rate from a range test: ``RANGE_TEST_STEPS`` steps ``step(X_batch, y_batch,
    lr)`` of a model (a copy: the test leaves it wherever it ends) with ``lr`` growing
    geometrically over ``RANGE_TEST_RATES``, each followed by ``loss(X_watch, y_watch)`` on a
    fixed subsample; stops once the loss is ``RANGE_TEST_BLOW_UP`` times its lowest or not
    finite. Returns the rate at the lowest (smoothed) loss over ``RANGE_TEST_SAFETY``: the
    lowest point comes just before the loss blows up, so a fraction of it is safely stable
    and still fast (as fastai's ``lr_min`` suggestion, a tenth).

    Batches are drawn in a fixed shuffled order, ``batch_size`` rows each (all rows if
    ``None``), as training would.
    """
    n_samples = X.shape[0]
    batch = min(batch_size or n_samples, n_samples)
    rng = np.random.default_rng(0)
    order = rng.permutation(n_samples)
    watch = order[: min(n_samples, RANGE_TEST_ROWS)]
    X_watch, y_watch = X[watch], y[watch]
    rates = np.geomspace(*RANGE_TEST_RATES, RANGE_TEST_STEPS)
    smoothed = np.full(rates.size, np.inf)
    average, weight = 0.0, 0.0
    position = 0
    for index, rate in enumerate(rates):
        if position + batch > n_samples:
            position = 0
        rows = order[position : position + batch]
        position += batch
        step(X[rows], y[rows], float(rate))
        value = loss(X_watch, y_watch)
        if not np.isfinite(value):
            break
        # An exponential moving average, corrected for its start at 0 (as fastai's).
        average = 0.7 * average + 0.3 * value
        weight = 0.7 * weight + 0.3
        smoothed[index] = average / weight
        if smoothed[index] > RANGE_TEST_BLOW_UP * smoothed[: index + 1].min():
            break
    best = int(np.argmin(smoothed))
    return float(rates[best] / RANGE_TEST_SAFETY)
