"""Divergence: the error a run that blew up raises, and the advice its message gives."""

from __future__ import annotations

import numpy as np

from gdplot.models.learning_rate import auto_learning_rate
from gdplot.models.maths import ModelMaths

#: A loss this many times its starting value is divergence (see ``_check_finite``).
DIVERGENCE_GROWTH = 1e8


class DivergenceError(ValueError):
    """Training diverged: the loss or the parameters stopped being finite, the loss grew
    ``DIVERGENCE_GROWTH`` times past its start, or the run ended with a loss above its start.

    Attributes:
        lr: the learning rate used (the computed one if ``lr="auto"``).
        epoch: the epoch at whose end divergence was detected (0: before the first step).
        suggested_lr: a learning rate to try instead, ``None`` when the loss was not finite
            even before the first step (no rate helps; the data need rescaling). For models
            with a ``lipschitz_factor`` (linear, logistic) it is computed from the data, as
            ``lr="auto"`` would (see ``gdplot.models.learning_rate``), if that is below ``lr``;
            otherwise it is ``lr / 10``.
    """

    def __init__(
        self, message: str, *, lr: float, epoch: int, suggested_lr: float | None = None
    ) -> None:
        super().__init__(message)
        self.lr = lr
        self.epoch = epoch
        self.suggested_lr = suggested_lr


def rescaling_advice(X: np.ndarray, y: np.ndarray | None) -> str:
    """``", or standardise the features"`` (and/or the target ``y``, for regression) where
    they are far from mean 0 and standard deviation 1; ``""`` where they are not, so that
    advice already followed is not repeated."""
    unscaled = []
    if not looks_standardised(X):
        unscaled.append("the features")
    if y is not None and not looks_standardised(y[:, np.newaxis]):
        unscaled.append(f"the target (y has mean {y.mean():.3g}, standard deviation {y.std():.3g})")
    return f", or standardise {' and '.join(unscaled)}" if unscaled else ""


def looks_standardised(columns: np.ndarray) -> bool:
    """Every column's mean is within a few units of 0 and its standard deviation within an
    order of magnitude of 1, or it is all zeros (what standardising makes of a constant
    column). Scales like these are not what makes a run diverge."""
    with np.errstate(over="ignore", invalid="ignore"):  # huge values: inf, not standardised
        mean, std = columns.mean(axis=0), columns.std(axis=0)
    scaled = (np.abs(mean) <= 3.0) & (std >= 0.1) & (std <= 10.0)
    zeros = ~np.any(columns, axis=0)
    return bool(np.all(scaled | zeros))


def divergence_error(
    name: str, what: str, epoch: int, *, maths: ModelMaths, X: np.ndarray, y: np.ndarray,
    lr: float, auto: bool, batch_size: int | None,
) -> DivergenceError:
    """The ``DivergenceError`` of model ``name`` trained on ``X``, ``y`` at rate ``lr`` (the
    one ``lr="auto"`` chose if ``auto``), which found ``what`` at ``epoch``, with a learning
    rate to try instead."""
    try:
        computed = auto_learning_rate(maths, X, batch_size)
    except ValueError:  # X too large to square: the rescaling advice below is the answer
        computed = None
    if computed is not None and computed < lr:
        suggested = computed
        mini_batch = batch_size is not None and batch_size < X.shape[0]
        batch = f" for batch_size={batch_size}" if mini_batch else ""
        advice = (
            f"Try a smaller learning rate: lr={suggested:.3g}, computed from the data "
            f"(1/L, L the Lipschitz constant of the loss gradient{batch}), or lr='auto'"
        )
    else:
        suggested = lr / 10
        advice = f"Try a smaller learning rate, e.g. lr={suggested:.3g}"
    rescale = rescaling_advice(X, y if maths.task == "regression" else None)
    used = f"lr='auto' ({lr:.3g})" if auto else f"lr={lr!r}"
    return DivergenceError(
        f"{name} diverged at epoch {epoch}: {what} with {used}. {advice}{rescale}.",
        lr=lr,
        epoch=epoch,
        suggested_lr=suggested,
    )


class Diverged(Exception):
    """Raised inside the training loop, which turns it into a ``DivergenceError`` with advice
    computed from the training data."""

    def __init__(self, what: str, epoch: int) -> None:
        super().__init__(what)
        self.what = what
        self.epoch = epoch
