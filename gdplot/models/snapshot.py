"""What a plot sees: a frozen copy of the training state at the end of one epoch.

A snapshot is taken on the training thread and rendered later, on a worker thread or in
another process, while training has moved on. So it owns copies of what training overwrites
(the parameters), read-only windows on what training only appends to (the loss history and
the parameter path up to this epoch: a snapshot per epoch must not copy what grows with the
epochs), and only *references* what never changes (the plotting sample of the training
data). It pickles cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gdplot.models.maths import ModelMaths, model_maths


@dataclass(frozen=True, eq=False)
class Snapshot:
    """The state of one training run at the end of epoch ``epoch``.

    Attributes:
        model: the model's kind, ``"linear"``, ``"logistic"`` or ``"mlp"``: ``maths`` looks up
            what it computes (see ``gdplot.models.maths``).
        epoch: epochs finished so far (1-based).
        step: gradient steps taken so far (one per batch).
        loss: loss over the whole training set at the end of this epoch.
        params: copied parameter arrays. Linear models: ``"coef"`` shape ``(n_features,)``
            and ``"intercept"`` shape ``()``. MLP: ``"hidden.weight"`` ``(n_features, hidden)``,
            ``"hidden.bias"`` ``(hidden,)``, ``"output.weight"`` ``(hidden, 1)``,
            ``"output.bias"`` ``(1,)``.
        history: loss at the end of each epoch so far, shape ``(epoch,)``, read-only;
            ``history[0]`` is epoch 1. ``initial_loss`` is the loss before the first step.
        X, y: the plotting sample of the training data (at most a few thousand rows, fixed for
            the run; shared between snapshots, never mutated).
        path: for linear models, the flattened ``[*coef, intercept]`` at the start and at the
            end of every epoch so far, shape ``(epoch + 1, n_features + 1)``, read-only;
            ``None`` for MLP.
        label: a free-form name for the run (for titles and legends).
        run_id: identifies the fit the snapshot belongs to ("" if unknown). A renderer keeps
            one cached figure per run and releases it after the run's last epoch.
        epochs_total: the epochs the run will train for (0 if unknown): fixes the x-range of
            a live loss plot, and tells a renderer which frame is the last.
        feature_names: names of the features for axis labels (``()``: ``x[0]``, ``x[1]``).
        target_name: name of the target for axis labels (``""``: ``y``).
        class_names: a classifier's two class labels for legends (``()``: ``y = 0``/``y = 1``).
        lr, batch_size, n_samples: the learning rate used, the rows per gradient step and the
            training rows (``nan``/``0`` if unknown): legends of comparisons say them.
        val_history, val_initial_loss: the loss on the validation rows after each epoch so far
            (read-only, as ``history``) and before the first step; ``None``/``nan`` when the
            fit had no ``validation_data``.
        score_name, score, val_score: ``"R^2"`` or ``"accuracy"`` and its value now on the
            training and the validation rows (``""``/``nan`` without ``validation_data``).
        steps, step_samples, step_losses, step_path: the gradient steps recorded so far
            (``record_steps``; 0 is the start), the training rows processed by each, the
            training loss there and the flat parameters there (``None`` for the MLP);
            read-only; all ``None`` when the fit recorded no steps.
    """

    model: str
    epoch: int
    step: int
    loss: float
    params: dict[str, np.ndarray]
    history: np.ndarray
    X: np.ndarray
    y: np.ndarray
    initial_loss: float = float("nan")
    path: np.ndarray | None = None
    label: str = ""
    run_id: str = ""
    epochs_total: int = 0
    feature_names: tuple[str, ...] = ()
    target_name: str = ""
    class_names: tuple[str, ...] = ()
    extra: dict[str, object] = field(default_factory=dict)
    lr: float = float("nan")
    batch_size: int = 0
    n_samples: int = 0
    val_history: np.ndarray | None = None
    val_initial_loss: float = float("nan")
    score_name: str = ""
    score: float = float("nan")
    val_score: float = float("nan")
    steps: np.ndarray | None = None
    step_samples: np.ndarray | None = None
    step_losses: np.ndarray | None = None
    step_path: np.ndarray | None = None

    @property
    def maths(self) -> ModelMaths:
        """The model's maths (decision, loss, what it suits), looked up by ``model``."""
        return model_maths(self.model)

    def decision(self, X: np.ndarray) -> np.ndarray:
        """The model's output on ``X`` (shape ``(n, n_features)``) with these parameters.

        Regression: the prediction, shape ``(n,)``. Logistic: the probability of the second
        class, shape ``(n,)``.
        """
        return self.maths.output(self.params, X)

    @property
    def is_last(self) -> bool:
        """True if this is the run's last epoch (known only when ``epochs_total`` is)."""
        return self.epochs_total > 0 and self.epoch >= self.epochs_total

    def feature_name(self, index: int) -> str:
        """The axis label of feature ``index``: its name if given, else ``x[index]``."""
        if index < len(self.feature_names) and self.feature_names[index]:
            return str(self.feature_names[index])
        return f"x[{index}]"

    @property
    def target_label(self) -> str:
        """The axis label of the target: ``target_name`` if given, else ``y``."""
        return self.target_name or "y"

    def class_name(self, label: int) -> str:
        """The legend entry of class ``label`` (0 or 1): ``y = <its name>`` (``y`` being
        ``target_label``), ``y = 0``/``y = 1`` when ``class_names`` is not given."""
        name = str(self.class_names[label]) if label < len(self.class_names) else ""
        try:  # numeric labels read best plainly: 1.0 as 1
            name = f"{float(name):g}"
        except ValueError:
            pass
        return f"{self.target_label} = {name or label}"
