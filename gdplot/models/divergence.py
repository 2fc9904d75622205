"""Divergence: the error a run that blew up raises, and the advice its message gives."""

from __future__ import annotations

import numpy as np

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
