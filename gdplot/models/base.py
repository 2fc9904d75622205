"""The training loop every estimator shares; subclasses supply only the maths.

``GradientDescentEstimator`` owns the hyper-parameters (scikit-learn style: ``__init__`` only
stores them, ``fit`` validates them), the epoch and batch loop, the divergence check, the
callbacks and snapshots. A subclass implements:

- ``_init_params(n_features, rng)``: create the parameter arrays, updated in place afterwards;
- ``_live_params()``: those arrays by their ``Snapshot.params`` names (views, not copies);
- ``_flat_params()``: the parameters as one vector for ``Snapshot.path``, or ``None``;
- ``_loss(X, y)``: the training loss on ``X`` ``(n, n_features)``, ``y`` ``(n,)``, a float;
- ``_gradients(X, y)``: ``(param, gradient of the loss)`` pairs for one batch.

The optimiser (plain gradient descent, ``param -= lr * grad``) lives here, in ``_take_step``,
not in the parameters' owners.

Divergence is a ``DivergenceError``: a loss or parameters no longer finite, a loss grown
``DIVERGENCE_GROWTH``-fold, or a run that ends with its loss above where it started. Its
message suggests a learning rate, computed from the data where the model allows (see
``gdplot.models.learning_rate``, which ``lr="auto"`` uses too).

If ``fit`` raises anything (bad input, ``DivergenceError``, an exception from a callback, a
``KeyboardInterrupt``) the estimator is left *unfitted*: a half-trained or diverged model is
never mistaken for a fitted one, and no NaN weights are left behind.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import secrets
import warnings
from typing import Any, ClassVar, NamedTuple

import numpy as np

from gdplot.models.convergence import still_falling
from gdplot.models.divergence import (
    DIVERGENCE_GROWTH,
    Diverged,
    DivergenceError,
    divergence_error,
)
from gdplot.models.epochs import epoch_data
from gdplot.models.held_out import HeldOut, check_validation_data
from gdplot.models.hooks import call_error_hooks, collect_hooks
from gdplot.models.learning_rate import auto_learning_rate, range_test_learning_rate
from gdplot.models.maths import ModelMaths
from gdplot.models.snapshot import Snapshot
from gdplot.models.steps import StepRecorder, check_record_steps, step_schedule
from gdplot.validation import (
    NotFittedError,
    check_bool,
    check_int,
    check_learning_rate,
    check_n_features,
    check_random_state,
    check_target,
    check_X,
)

#: The loss history and the parameter path keep one entry per epoch, preallocated.
MAX_EPOCHS = 10**8

_TINY = np.finfo(np.float64).tiny


class FitSettings(NamedTuple):
    """The hyper-parameters as validated at the start of ``fit`` (``lr`` may be ``"auto"``
    until the data are checked; training sees a number)."""

    lr: float | str
    epochs: int
    batch_size: int | None
    shuffle: bool
    rng: np.random.Generator
    record_steps: int | str | None = None


class GradientDescentEstimator:
    """Base class: hyper-parameters, the training loop, callbacks and snapshots.

    Parameters:
        lr: learning rate, a finite number > 0, or ``"auto"``: for models with a
            ``lipschitz_factor`` (linear and logistic regression) ``1 / L`` computed from the
            training data, with ``L`` the Lipschitz constant of the loss's gradient, at which
            full-batch descent lowers the loss at every epoch however the features are scaled
            (for mini-batches, the batch-size-aware rate of ``gdplot.models.learning_rate``);
            for others (the MLP) a learning-rate range test on a copy of the model.
        epochs: passes over the training set, an int >= 1.
        batch_size: rows per gradient step. ``None``: full-batch gradient descent; ``1``:
            stochastic; ``k``: mini-batch (the last batch of an epoch may be smaller). A value
            >= ``n_samples`` is full-batch.
        shuffle: reshuffle the rows every epoch (ignored for full-batch, where order cannot
            matter).
        random_state: ``None``, an int seed or a ``numpy.random.Generator``; the same int gives
            bitwise the same fit.
        record_steps: ``None`` (history per epoch only), an int ``k`` (also record the loss
            and the parameters every ``k`` gradient steps) or ``"log"`` (at log-spaced steps:
            every step at first, ever fewer later); see ``gdplot.models.steps``.

    Learned attributes (set by ``fit``): ``n_features_in_``, ``lr_`` (the learning rate used:
    ``lr``, or the computed one for ``"auto"``), ``initial_loss_`` (loss before the
    first step), ``history_`` (loss over the whole training set after each epoch, shape
    ``(n_iter_,)``), ``n_iter_`` (epochs run), ``n_steps_`` (gradient steps taken).
    With ``validation_data``: ``val_initial_loss_``, ``val_history_`` (the loss on those rows,
    as ``history_``), ``score_history_`` and ``val_score_history_`` (R^2 or accuracy on each
    set after each epoch). With ``record_steps``: ``steps_`` (the recorded steps, 0 the
    start), ``step_samples_`` (training rows processed by then: gradient evaluations),
    ``step_history_`` (the training loss there), ``step_path_`` (the flat parameters there;
    ``None`` without a path). Each is ``None`` when not asked for.
    """

    #: The most rows of the training data a ``Snapshot`` carries for plotting.
    plot_sample_size: ClassVar[int] = 2000
    #: The model's maths, registered in its own module (see ``gdplot.models.maths``).
    maths: ClassVar[ModelMaths]

    def __init__(
        self,
        *,
        lr: float = 0.01,
        epochs: int = 100,
        batch_size: int | None = None,
        shuffle: bool = True,
        random_state: int | np.random.Generator | None = None,
        record_steps: int | str | None = None,
    ) -> None:
        self.lr = lr
        self.epochs = epochs
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.random_state = random_state
        self.record_steps = record_steps

    # -- hyper-parameters -----------------------------------------------------------------

    @classmethod
    def _init_signature(cls) -> dict[str, inspect.Parameter]:
        parameters = inspect.signature(cls.__init__).parameters
        return {name: p for name, p in parameters.items() if name != "self"}

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's parameters and their current values (``deep`` is accepted for
        scikit-learn compatibility; there are no nested estimators)."""
        return {name: getattr(self, name) for name in self._init_signature()}

    def set_params(self, **params: Any) -> GradientDescentEstimator:
        """Set constructor parameters by name; an unknown name is a ``ValueError``. Returns
        ``self``. Values are validated by the next ``fit``."""
        valid = self._init_signature()
        for name in params:
            if name not in valid:
                raise ValueError(
                    f"invalid parameter {name!r} for {type(self).__name__}; "
                    f"valid parameters are: {', '.join(valid)}"
                )
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        def is_default(value: Any, default: Any) -> bool:
            return value is default or (type(value) is type(default) and value == default)

        signature = self._init_signature()
        changed = [
            f"{name}={value!r}"
            for name, value in self.get_params().items()
            if not is_default(value, signature[name].default)
        ]
        return f"{type(self).__name__}({', '.join(changed)})"

    def validate_params(self) -> FitSettings:
        """Validate the hyper-parameters; subclasses extend this to check their own."""
        return FitSettings(
            lr=check_learning_rate(self.lr, allow_auto=True),
            epochs=check_int(self.epochs, "epochs", maximum=MAX_EPOCHS),
            batch_size=check_int(self.batch_size, "batch_size", allow_none=True),
            shuffle=check_bool(self.shuffle, "shuffle"),
            rng=check_random_state(self.random_state),
            record_steps=check_record_steps(self.record_steps),
        )

    # -- fitting --------------------------------------------------------------------------

    def fit(
        self, X: Any, y: Any, callbacks: Any = (), validation_data: Any = None
    ) -> GradientDescentEstimator:
        """Train on ``X`` ``(n_samples, n_features)`` and ``y`` ``(n_samples,)``. Returns ``self``.

        ``callbacks``: a list of objects defining any of ``on_train_begin(estimator)``,
        ``on_epoch_end(estimator, epoch)`` (``epoch`` 1-based), ``on_train_end(estimator)``
        (when training completes) and ``on_train_error(estimator)`` (instead, when it fails
        after it began). They may call ``estimator.snapshot()``.
        ``validation_data``: ``(X_val, y_val)``, rows held out of training, whose loss and
        score are recorded after every epoch (one forward pass on them per epoch).

        A run whose loss was still falling at the end warns with a ``ConvergenceWarning``.
        """
        self._forget_fit()
        try:
            settings = self.validate_params()
            X = check_X(X)
            y = self._check_fit_target(y, X.shape[0])
            validation = check_validation_data(validation_data, X.shape[1],
                                               self._check_validation_target)
            hooks = collect_hooks(callbacks)
            if settings.lr == "auto":
                settings = settings._replace(lr=self._auto_learning_rate(X, y, settings))
            self._train(X, y, settings, hooks, validation)
        except BaseException:
            self._forget_fit()
            raise
        warning = still_falling(type(self).__name__, self.initial_loss_, self.history_)
        if warning is not None:
            warnings.warn(warning, stacklevel=2)
        return self

    def _check_fit_target(self, y: Any, n_samples: int) -> np.ndarray:
        """The training target as float64 ``(n_samples,)``; classifiers encode labels here."""
        return check_target(y, n_samples)

    def _check_validation_target(self, y: Any, n_samples: int) -> np.ndarray:
        """The validation target, encoded as ``_check_fit_target`` encoded the training one."""
        return check_target(y, n_samples)

    def _auto_learning_rate(self, X: np.ndarray, y: np.ndarray, settings: FitSettings) -> float:
        """``lr="auto"``: ``1 / L`` where the model has a Lipschitz bound, else a range test on
        a copy of the model from the run's own start (a copy of the generator: the run's
        random stream is unchanged)."""
        rate = auto_learning_rate(self.maths, X, settings.batch_size)
        if rate is not None:
            return rate
        probe = type(self)(**self.get_params())
        probe._init_params(X.shape[1], copy.deepcopy(settings.rng))
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return range_test_learning_rate(probe._take_step, probe._loss, X, y,
                                            batch_size=settings.batch_size)

    def _forget_fit(self) -> None:
        # What fit creates: learned attributes end in "_", private training state starts with it.
        for name in [name for name in vars(self) if name.endswith("_") or name.startswith("_")]:
            delattr(self, name)

    def _train(self, X: np.ndarray, y: np.ndarray, settings: FitSettings,
               hooks: dict[str, list], validation: tuple | None = None) -> None:
        self._began = False  # True once the on_train_begin hooks start
        try:
            self._run_epochs(X, y, settings, hooks, validation)
            for hook in hooks["on_train_end"]:
                hook(self)
        except BaseException as error:
            if self._began:
                call_error_hooks(self, hooks["on_train_error"])
            if isinstance(error, Diverged):
                raise divergence_error(
                    type(self).__name__, error.what, error.epoch, maths=self.maths, X=X, y=y,
                    lr=settings.lr, auto=self.lr == "auto", batch_size=settings.batch_size,
                ) from None
            raise

    def _run_epochs(self, X: np.ndarray, y: np.ndarray, settings: FitSettings,
                    hooks: dict[str, list], validation: tuple | None = None) -> None:
        n_samples = X.shape[0]
        batch_size = min(settings.batch_size or n_samples, n_samples)
        batch_starts = range(0, n_samples, batch_size)
        self._start_training(X, y, settings, validation, len(batch_starts))
        self._began = True
        for hook in hooks["on_train_begin"]:
            hook(self)
        recorder, held_out = self._steps, self._held_out
        epochs = epoch_data(
            X,
            y,
            shuffle=settings.shuffle and batch_size < n_samples,
            rng=settings.rng,
            epochs=settings.epochs,
        )
        with contextlib.closing(epochs):  # stops the prefetch helper if training fails
            for epoch, (X_epoch, y_epoch) in enumerate(epochs, start=1):
                # Overflow is how divergence starts; _end_epoch reports it as DivergenceError.
                with np.errstate(over="ignore", invalid="ignore"):
                    if recorder is None:
                        for start in batch_starts:
                            stop = start + batch_size
                            self._take_step(X_epoch[start:stop], y_epoch[start:stop], settings.lr)
                    else:  # the same steps, counted, recording those scheduled
                        for step, start in enumerate(batch_starts, start=self.n_steps_ + 1):
                            stop = start + batch_size
                            self._take_step(X_epoch[start:stop], y_epoch[start:stop], settings.lr)
                            if step == recorder.due:
                                recorder.record(self._loss(X, y), self._flat_params())
                    if held_out is None:
                        loss = self._loss(X, y)
                    else:
                        loss = held_out.evaluate(self._live_params(), X, y, epoch)
                self.n_steps_ += len(batch_starts)
                self._end_epoch(epoch, loss)
                for hook in hooks["on_epoch_end"]:
                    hook(self, epoch)
        if self.history_[-1] > self.initial_loss_:  # epochs >= 1, so history_ is not empty
            raise Diverged(
                f"the loss ended at {self.history_[-1]:.4g}, above where it started "
                f"({self.initial_loss_:.4g}),",
                self.n_iter_,
            )

    def _start_training(self, X: np.ndarray, y: np.ndarray, settings: FitSettings,
                        validation: tuple | None = None, steps_per_epoch: int = 1) -> None:
        """Initial parameters, the buffers for history, path, held-out rows and recorded
        steps, and the plotting sample."""
        self._init_params(X.shape[1], settings.rng)
        self.n_features_in_ = X.shape[1]
        self.lr_ = settings.lr
        self._n_samples = X.shape[0]
        self._batch_size = min(settings.batch_size or X.shape[0], X.shape[0])
        self._fit_description = repr(self)
        self._plot_X, self._plot_y = self._plot_sample(X, y)
        start = self._flat_params()
        try:
            self._history = np.empty(settings.epochs)
            self._path = None if start is None else np.empty((settings.epochs + 1, start.size))
        except MemoryError:
            size = settings.epochs * (1 if start is None else start.size + 2) * 8 / 2**30
            raise ValueError(
                f"epochs={settings.epochs} needs {size:.3g} GiB to record the loss history and "
                "the parameter path of every epoch; use fewer epochs"
            ) from None
        self.history_ = self._history[:0]
        if self._path is not None:
            self._path[0] = start
        self.n_iter_ = 0
        self.n_steps_ = 0
        self._held_out = None if validation is None else HeldOut(*validation, settings.epochs,
                                                                 self.maths)
        with np.errstate(over="ignore", invalid="ignore"):
            if self._held_out is None:
                self.initial_loss_ = self._loss(X, y)
            else:
                self.initial_loss_ = self._held_out.evaluate(self._live_params(), X, y, 0)
        self._check_finite(self.initial_loss_, epoch=0)
        self._steps = None
        if settings.record_steps is not None:
            schedule = step_schedule(settings.record_steps, settings.epochs * steps_per_epoch)
            self._steps = StepRecorder(schedule, None if start is None else start.size,
                                       X.shape[0], self._batch_size)
            self._steps.record(self.initial_loss_, start)
        self._publish(0)

    def _publish(self, epoch: int) -> None:
        """The learned attributes of held-out rows and recorded steps (``None`` where not
        asked for) as windows on what is recorded after ``epoch`` epochs."""
        held_out, steps = self._held_out, self._steps
        vars(self).update(HeldOut.ATTRIBUTES if held_out is None else held_out.attributes(epoch))
        vars(self).update(StepRecorder.ATTRIBUTES if steps is None else steps.attributes())

    def _end_epoch(self, epoch: int, loss: float) -> None:
        """Check for divergence, then record the epoch's loss and parameters."""
        self._check_finite(loss, epoch=epoch)
        self._history[epoch - 1] = loss
        self.history_ = self._history[:epoch]
        if self._path is not None:
            self._path[epoch] = self._flat_params()
        self.n_iter_ = epoch
        if self._held_out is not None or self._steps is not None:
            self._publish(epoch)

    def _take_step(self, X: np.ndarray, y: np.ndarray, lr: float) -> None:
        """One gradient-descent step on the batch ``X`` ``(m, n_features)``, ``y`` ``(m,)``."""
        for param, grad in self._gradients(X, y):
            param -= lr * grad

    def _check_finite(self, loss: float, *, epoch: int) -> None:
        """Raise ``Diverged`` if the loss or the parameters stopped being finite, or if the
        loss grew ``DIVERGENCE_GROWTH`` times past where it started: a step that large is no
        oscillation but a blow-up that would overflow a few epochs later."""
        params_finite = all(np.isfinite(p).all() for p in self._live_params().values())
        exploded = epoch > 0 and loss > DIVERGENCE_GROWTH * max(self.initial_loss_, _TINY)
        if np.isfinite(loss) and params_finite and not exploded:
            return
        if not params_finite:
            what = "the parameters became non-finite"
        elif exploded:
            what = f"the loss grew from {self.initial_loss_:.4g} to {loss:.4g}"
        else:
            what = f"the loss became {loss}"
        if epoch == 0:
            raise DivergenceError(
                f"{type(self).__name__}: the loss is {loss} before the first step; X or y is "
                "too large for float64 arithmetic: rescale them (e.g. standardise the features)",
                lr=self.lr_,
                epoch=epoch,
            )
        raise Diverged(what, epoch)

    def _plot_sample(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """At most ``plot_sample_size`` rows, picked by a fixed seed so that plotting never
        changes the training's random stream; read-only copies shared by every snapshot."""
        n_samples = X.shape[0]
        size = check_int(self.plot_sample_size, "plot_sample_size")
        if n_samples > size:
            rows = np.sort(np.random.default_rng(0).choice(n_samples, size, replace=False))
            sample_X, sample_y = X[rows], y[rows]
        else:
            sample_X, sample_y = X.copy(), y.copy()
        sample_X.flags.writeable = False
        sample_y.flags.writeable = False
        return sample_X, sample_y

    # -- after (or during) fit --------------------------------------------------------------

    def _check_is_fitted(self) -> None:
        if "n_features_in_" not in vars(self):
            raise NotFittedError(
                f"this {type(self).__name__} instance is not fitted yet; call fit(X, y) first"
            )

    def _check_predict_X(self, X: Any) -> np.ndarray:
        self._check_is_fitted()
        X = check_X(X)
        check_n_features(X, self.n_features_in_, type(self).__name__)
        return X

    def snapshot(self, label: str = "") -> Snapshot:
        """The current training state as a ``Snapshot`` (see ``gdplot.models.snapshot``).

        Parameters are copied; history and path are read-only views of the epochs recorded
        so far, which training never writes again (it appends), so a later render sees
        exactly this moment; the plotting sample ``X``/``y`` is shared, read-only, by every
        snapshot of the fit.
        Usable from callbacks during ``fit`` (epoch 0 in ``on_train_begin``) and after it.
        """
        self._check_is_fitted()
        if not isinstance(label, str):
            raise TypeError(f"label must be a str, got label={label!r} ({type(label).__name__})")
        epoch = self.n_iter_
        # One id per fit (fit forgets every "_" attribute): renderers cache a figure per run.
        run_id = vars(self).get("_run_id")
        if run_id is None:
            run_id = self._run_id = secrets.token_hex(8)
        return Snapshot(
            model=self.maths.kind,
            epoch=epoch,
            step=self.n_steps_,
            loss=float(self._history[epoch - 1]) if epoch else self.initial_loss_,
            params={name: np.array(param) for name, param in self._live_params().items()},
            # Views, not copies: a live plot snapshots every epoch, and copying what grows
            # with the epochs would make a long run quadratic in its epochs.
            history=_frozen(self._history[:epoch]),
            X=self._plot_X,
            y=self._plot_y,
            initial_loss=self.initial_loss_,
            path=None if self._path is None else _frozen(self._path[: epoch + 1]),
            label=label,
            run_id=run_id,
            epochs_total=self._history.size,
            class_names=tuple(str(c) for c in getattr(self, "classes_", ())),
            extra={"estimator": self._fit_description},
            lr=float(self.lr_),
            batch_size=self._batch_size,
            n_samples=self._n_samples,
            **({} if self._held_out is None else self._held_out.snapshot_fields(epoch, _frozen)),
            **({} if self._steps is None else {
                "steps": _frozen(self.steps_), "step_samples": _frozen(self.step_samples_),
                "step_losses": _frozen(self.step_history_),
                "step_path": None if self.step_path_ is None else _frozen(self.step_path_)}),
        )

    # -- the maths, supplied by subclasses ------------------------------------------------

    def _init_params(self, n_features: int, rng: np.random.Generator) -> None:
        raise NotImplementedError

    def parameter_count(self, n_features: int) -> int:
        """How many numbers ``_init_params(n_features, ...)`` would allocate, without
        allocating them (a model file is checked against it first)."""
        raise NotImplementedError

    def _live_params(self) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def _flat_params(self) -> np.ndarray | None:
        raise NotImplementedError

    def _loss(self, X: np.ndarray, y: np.ndarray) -> float:
        raise NotImplementedError

    def _gradients(self, X: np.ndarray, y: np.ndarray) -> Any:
        raise NotImplementedError


def _frozen(view: np.ndarray) -> np.ndarray:
    """``view``, read-only: a snapshot's window on a buffer that training keeps appending to."""
    view = view.view()
    view.flags.writeable = False
    return view
