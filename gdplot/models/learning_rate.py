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
"""

from __future__ import annotations

import numpy as np

from gdplot.models.maths import ModelMaths

__all__ = ["auto_learning_rate", "gram_largest_eigenvalue", "lipschitz_constant"]

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
