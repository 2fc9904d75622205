"""Held-out rows of a fit (``validation_data``): checked where they enter, and their loss and
both sets' scores recorded after every epoch, one forward pass on each set."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gdplot.models.maths import ModelMaths
from gdplot.models.scores import score_of_z
from gdplot.validation import check_X

__all__ = ["HeldOut", "check_validation_data"]


def check_validation_data(
    validation_data: Any, n_features: int, check_target: Callable[[Any, int], np.ndarray]
) -> tuple[np.ndarray, np.ndarray] | None:
    """``(X_val, y_val)`` checked as ``fit``'s ``X`` and ``y`` are (``check_target(y,
    n_samples)`` encodes the target as the training one was), or ``None``."""
    if validation_data is None:
        return None
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
        got = type(validation_data).__name__
        if isinstance(validation_data, (tuple, list)):
            got += f" of length {len(validation_data)}"
        raise TypeError(f"validation_data must be a pair (X_val, y_val), got {got}")
    X_val = check_X(validation_data[0], "validation_data X_val")
    if X_val.shape[1] != n_features:
        raise ValueError(
            f"validation_data X_val has {X_val.shape[1]} features, but X has {n_features}"
        )
    try:
        y_val = check_target(validation_data[1], X_val.shape[0])
    except ValueError as exc:
        message = str(exc)
        raise ValueError(
            message if message.startswith("validation_data") else f"validation_data: {message}"
        ) from None
    return X_val, y_val


class HeldOut:
    """The validation rows of one fit and, per epoch (row 0: before the first step), the loss
    on them and the score on both sets."""

    #: The estimator's attributes of held-out rows, as they are without any.
    ATTRIBUTES = dict.fromkeys(("val_initial_loss_", "val_history_", "score_history_",
                                "val_score_history_"))

    def __init__(self, X: np.ndarray, y: np.ndarray, epochs: int, maths: ModelMaths) -> None:
        self.X, self.y, self.maths = X, y, maths
        self.score_name = "accuracy" if maths.task == "classification" else "R^2"
        # Columns: validation loss, training score, validation score.
        self._table = np.empty((epochs + 1, 3))

    def evaluate(self, params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray,
                 epoch: int) -> float:
        """The training loss at ``params``; records epoch ``epoch``'s validation loss and
        both scores."""
        maths = self.maths
        z = maths.raw_output(params, X)
        z_val = maths.raw_output(params, self.X)
        self._table[epoch] = (float(maths.loss_of_z(z_val, self.y)), score_of_z(maths, z, y),
                              score_of_z(maths, z_val, self.y))
        return float(maths.loss_of_z(z, y))

    def attributes(self, epoch: int) -> dict[str, Any]:
        """The estimator's ``val_initial_loss_``, ``val_history_``, ``score_history_`` and
        ``val_score_history_`` after ``epoch`` epochs (windows on the table)."""
        table = self._table
        return {
            "val_initial_loss_": float(table[0, 0]),
            "val_history_": table[1 : epoch + 1, 0],
            "score_history_": table[1 : epoch + 1, 1],
            "val_score_history_": table[1 : epoch + 1, 2],
        }

    def snapshot_fields(self, epoch: int, frozen: Callable[[np.ndarray], np.ndarray]
                        ) -> dict[str, Any]:
        """A snapshot's validation history (``frozen``: a read-only window) and scores now."""
        table = self._table
        return {
            "val_history": frozen(table[1 : epoch + 1, 0]),
            "val_initial_loss": float(table[0, 0]),
            "score_name": self.score_name,
            "score": float(table[epoch, 1]),
            "val_score": float(table[epoch, 2]),
        }
