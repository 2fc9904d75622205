"""The shared training loop, run through every estimator: parameters, validation, determinism,
divergence, callbacks and snapshots."""

import itertools
import pickle
import re
import threading

import numpy as np
import pytest

import gdplot.models.epochs as epochs
from gdplot.models.learning_rate import auto_learning_rate
from gdplot import (
    DivergenceError,
    LinearRegressionGD,
    LogisticRegressionGD,
    MLPRegressorGD,
    NotFittedError,
    Snapshot,
)

ESTIMATORS = [LinearRegressionGD, LogisticRegressionGD, MLPRegressorGD]


def problem(estimator_class, n_samples=120, n_features=3, seed=0):
    """A small noisy problem the estimator can learn: labels for the classifier."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_features))
    y = X @ np.linspace(1.0, -1.0, n_features) + 0.5 + 0.3 * rng.normal(size=n_samples)
    if estimator_class is LogisticRegressionGD:
        return X, np.where(y > 0.5, "yes", "no")
    return X, y


def fitted_params(estimator):
    return {name: value.copy() for name, value in estimator.snapshot().params.items()}


class Recorder:
    """A callback that records every hook call and a snapshot at each one."""

    def __init__(self):
        self.calls = []
        self.snapshots = []

    def on_train_begin(self, estimator):
        self.calls.append(("begin", None))
        self.snapshots.append(estimator.snapshot("begin"))

    def on_epoch_end(self, estimator, epoch):
        self.calls.append(("epoch", epoch))
        self.snapshots.append(estimator.snapshot(f"epoch {epoch}"))

    def on_train_end(self, estimator):
        self.calls.append(("end", None))


# -- parameters ---------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_init_only_stores_params_and_get_set_round_trip(cls):
    estimator = cls(lr=-5, epochs="many")  # invalid, but __init__ does not validate
    params = estimator.get_params()
    assert params["lr"] == -5 and params["epochs"] == "many"
    assert set(params) >= {"lr", "epochs", "batch_size", "shuffle", "random_state"}
    other = cls().set_params(**params)
    assert other.get_params() == params
    assert (
        cls(**cls(lr=0.5, batch_size=8).get_params()).get_params()
        == cls(lr=0.5, batch_size=8).get_params()
    )


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_set_params_returns_self_and_rejects_unknown_names(cls):
    estimator = cls()
    assert estimator.set_params(lr=0.3) is estimator and estimator.lr == 0.3
    with pytest.raises(ValueError, match=r"invalid parameter 'learning_rate'"):
        estimator.set_params(lr=0.9, learning_rate=0.1)
    assert estimator.lr == 0.3  # nothing set when one name is bad


def test_repr_shows_only_non_default_params():
    assert repr(LinearRegressionGD()) == "LinearRegressionGD()"
    assert (
        repr(LinearRegressionGD(lr=0.1, shuffle=False))
        == "LinearRegressionGD(lr=0.1, shuffle=False)"
    )
    assert repr(LogisticRegressionGD(method="ascent")) == "LogisticRegressionGD(method='ascent')"
    assert (
        repr(MLPRegressorGD(hidden=8, random_state=0)) == "MLPRegressorGD(hidden=8, random_state=0)"
    )
    assert repr(LinearRegressionGD(lr=1)) == "LinearRegressionGD(lr=1)"  # 1 is not the default 0.01


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize(
    "params, error, message",
    [
        ({"lr": 0}, ValueError, r"lr must be a finite number > 0, got lr=0"),
        ({"lr": float("nan")}, ValueError, r"got lr=nan"),
        ({"lr": True}, TypeError, r"got lr=True"),
        ({"epochs": 0}, ValueError, r"epochs must be an int in \[1, 100000000\], got epochs=0"),
        ({"epochs": 10.0}, TypeError, r"got epochs=10.0"),
        ({"epochs": False}, TypeError, r"got epochs=False"),
        (
            {"batch_size": 0},
            ValueError,
            r"batch_size must be an int >= 1 or None, got batch_size=0",
        ),
        ({"batch_size": True}, TypeError, r"got batch_size=True"),
        ({"shuffle": "yes"}, TypeError, r"shuffle must be True or False, got shuffle='yes'"),
        ({"random_state": -1}, ValueError, r"got random_state=-1"),
        ({"random_state": 0.5}, TypeError, r"got random_state=0.5"),
    ],
)
def test_fit_validates_common_params(cls, params, error, message):
    X, y = problem(cls)
    with pytest.raises(error, match=message):
        cls(**params).fit(X, y)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_fit_rejects_bad_data_and_leaves_the_estimator_unfitted(cls):
    X, y = problem(cls)
    estimator = cls(epochs=2).fit(X, y)
    with pytest.raises(ValueError, match=r"X and y have different numbers of samples"):
        estimator.fit(X, y[:-1])
    with pytest.raises(ValueError, match=r"got shape \(120, 1\); use y.ravel\(\)"):
        estimator.fit(X, y[:, np.newaxis])
    with pytest.raises(ValueError, match=r"X contains NaN"):
        estimator.fit(np.where(X > 2, np.nan, X), y)
    with pytest.raises(NotFittedError):
        estimator.predict(X)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_fit_accepts_lists_ints_and_float32(cls):
    X, y = problem(cls, n_samples=20)
    reference = cls(epochs=3, random_state=0).fit(X.round(), y).snapshot().params
    for X_variant in (X.round().tolist(), X.round().astype(np.int64), X.round().astype(np.float32)):
        params = cls(epochs=3, random_state=0).fit(X_variant, list(y)).snapshot().params
        for name in reference:
            np.testing.assert_array_equal(params[name], reference[name])


# -- fitting ----------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("batch_size", [None, 1, 16])
def test_same_random_state_gives_identical_fits(cls, batch_size):
    X, y = problem(cls)

    def fit(random_state):
        return cls(epochs=4, batch_size=batch_size, random_state=random_state).fit(X, y)

    first, second, other = fit(3), fit(3), fit(4)
    from_generator = fit(np.random.default_rng(3))  # a Generator seeded alike: the same stream
    for name, value in fitted_params(first).items():
        np.testing.assert_array_equal(value, fitted_params(second)[name])
        np.testing.assert_array_equal(value, fitted_params(from_generator)[name])
    np.testing.assert_array_equal(first.history_, second.history_)
    if batch_size is not None or cls is MLPRegressorGD:  # randomness is used at all
        assert not np.array_equal(first.history_, other.history_)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_shuffle_changes_mini_batch_order_but_not_full_batch(cls):
    X, y = problem(cls)

    def history(**params):
        return cls(epochs=3, random_state=0, **params).fit(X, y).history_

    assert not np.array_equal(
        history(batch_size=10, shuffle=True), history(batch_size=10, shuffle=False)
    )
    np.testing.assert_array_equal(history(shuffle=True), history(shuffle=False))
    np.testing.assert_array_equal(history(batch_size=1000), history(batch_size=None))


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("batch_size, steps_per_epoch", [(None, 1), (1, 120), (50, 3), (120, 1)])
def test_learned_state_after_fit(cls, batch_size, steps_per_epoch):
    X, y = problem(cls)
    estimator = cls(lr=0.01, epochs=5, batch_size=batch_size, random_state=0)
    assert estimator.fit(X, y) is estimator
    assert estimator.n_features_in_ == 3
    assert estimator.n_iter_ == 5
    assert estimator.n_steps_ == 5 * steps_per_epoch
    assert isinstance(estimator.history_, np.ndarray) and estimator.history_.shape == (5,)
    assert estimator.history_[-1] < estimator.initial_loss_


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_refit_starts_from_scratch(cls):
    X, y = problem(cls)
    estimator = cls(epochs=3, random_state=0).fit(X, y)
    first = fitted_params(estimator)
    estimator.fit(X, y)
    for name, value in fitted_params(estimator).items():
        np.testing.assert_array_equal(value, first[name])


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_use_before_fit_raises_not_fitted(cls):
    estimator = cls()
    X, _ = problem(cls)
    methods = [
        estimator.predict,
        lambda X: estimator.score(X, X[:, 0]),
        lambda X: estimator.snapshot(),
    ]
    if cls is LogisticRegressionGD:
        methods.append(estimator.predict_proba)
    for method in methods:
        with pytest.raises(
            NotFittedError, match=rf"this {cls.__name__} instance is not fitted yet"
        ):
            method(X)
    assert not hasattr(estimator, "history_")


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_predict_checks_feature_count(cls):
    X, y = problem(cls)
    estimator = cls(epochs=2).fit(X, y)
    with pytest.raises(
        ValueError, match=rf"X has 2 features, but {cls.__name__} was fitted with 3"
    ):
        estimator.predict(X[:, :2])
    with pytest.raises(ValueError, match=r"2-D"):
        estimator.predict(X[0])


# -- divergence ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cls, lr",
    [(LinearRegressionGD, 100.0), (LogisticRegressionGD, 1e308), (MLPRegressorGD, 1000.0)],
)
def test_huge_learning_rate_raises_divergence_and_leaves_no_weights(cls, lr):
    X, y = problem(cls)
    if cls is LogisticRegressionGD:
        X = X * 1e10  # logistic steps are bounded by |X|, so only huge steps on huge X blow up
    estimator = cls(lr=lr, epochs=1000, random_state=0)
    with pytest.raises(
        DivergenceError,
        match=rf"diverged at epoch \d+: .* lr={re.escape(repr(lr))}\. Try a smaller",
    ) as info:
        estimator.fit(X, y)
    assert isinstance(info.value, ValueError) and info.value.lr == lr and info.value.epoch >= 1
    assert not [name for name in vars(estimator) if name.endswith("_") or name.startswith("_")]
    with pytest.raises(NotFittedError):
        estimator.predict(X)


def test_a_loss_blowing_up_is_caught_long_before_it_overflows():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = X @ [1.0, -1.0] + 0.1 * rng.normal(size=200)
    seen = []

    class Record:
        def on_epoch_end(self, estimator, epoch):
            seen.append(estimator.history_[-1])

    # lr 1.5 on standardised features about doubles the error every epoch: finite for
    # hundreds of epochs, but no oscillation.
    with pytest.raises(DivergenceError, match=r"the loss grew from .* lr=1\.5\. Try a smaller"):
        LinearRegressionGD(lr=1.5, epochs=500).fit(X, y, callbacks=[Record()])
    assert len(seen) < 40 and all(np.isfinite(seen))
    # a stochastic run that merely oscillates near its minimum is no divergence
    LinearRegressionGD(lr=0.05, epochs=30, batch_size=1, random_state=0).fit(X, y)


def test_loss_already_overflowing_before_training_is_reported():
    X = np.array([[1e200], [2e200]])
    with pytest.raises(DivergenceError, match=r"before the first step; X or y is too large"):
        LinearRegressionGD().fit(X, [1e200, 3e200])


def test_a_run_ending_above_its_start_is_divergence_with_a_rate_from_the_data():
    # Issue 9: lr=1e6 kept every loss finite and ended near 3,500 from 0.69 -- and "succeeded".
    X, y = problem(LogisticRegressionGD)
    estimator = LogisticRegressionGD(lr=1e6, epochs=100)
    with pytest.raises(
        DivergenceError,
        match=r"diverged at epoch 100: the loss ended at [\d.e+]+, above where it started "
        r"\(0\.6931\), with lr=1000000\.0\. Try a smaller learning rate: lr=[\d.]+, computed "
        r"from the data \(1/L, ",
    ) as info:
        estimator.fit(X, y)
    assert not [name for name in vars(estimator) if name.endswith("_") or name.startswith("_")]
    error = info.value
    assert error.epoch == 100 and error.lr == 1e6
    assert error.suggested_lr == auto_learning_rate(LogisticRegressionGD.maths, X)
    assert f"lr={error.suggested_lr:.3g}," in str(error)
    # ... and the suggested rate trains, descending at every epoch.
    history = estimator.set_params(lr=error.suggested_lr).fit(X, y).history_
    assert np.all(np.diff(history) <= 0) and history[-1] < 0.6 * estimator.initial_loss_


def test_suggested_rate_is_one_over_the_lipschitz_constant_of_the_mse_gradient():
    X, y = problem(LinearRegressionGD)
    X = X * [1.0, 30.0, 0.01]
    with pytest.raises(DivergenceError) as info:
        LinearRegressionGD(lr=1.0, epochs=50).fit(X, y)
    design = np.column_stack([X, np.ones(len(X))])
    lipschitz = 2 * np.linalg.eigvalsh(design.T @ design / len(X))[-1]
    assert info.value.suggested_lr == pytest.approx(1 / lipschitz, rel=1e-6)
    assert "or standardise the features" in str(info.value)  # they are not


def test_mini_batch_divergence_suggests_the_batch_size_aware_rate():
    X, y = problem(LinearRegressionGD)
    with pytest.raises(DivergenceError, match=r"for batch_size=4\), or lr='auto'\.$") as info:
        LinearRegressionGD(lr=5.0, epochs=50, batch_size=4, random_state=0).fit(X, y)
    rate = info.value.suggested_lr
    assert rate == auto_learning_rate(LinearRegressionGD.maths, X, batch_size=4)
    LinearRegressionGD(lr=rate, epochs=20, batch_size=4, random_state=0).fit(X, y)


def test_mlp_divergence_hint_is_generic_and_mentions_only_scaling_not_done():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 2))
    y = np.sin(X[:, 0])
    with pytest.raises(DivergenceError) as info:
        MLPRegressorGD(lr=50.0, epochs=50, random_state=0).fit(X, y)
    assert info.value.suggested_lr == 5.0
    assert str(info.value).endswith("with lr=50.0. Try a smaller learning rate, e.g. lr=5.")
    with pytest.raises(DivergenceError) as info:
        MLPRegressorGD(lr=50.0, epochs=50, random_state=0).fit(100 * X + 7, 152 + 77 * y)
    target = 152 + 77 * y
    assert str(info.value).endswith(
        f"e.g. lr=5, or standardise the features and the target (y has mean {target.mean():.3g}, "
        f"standard deviation {target.std():.3g})."
    )


def test_no_rate_is_suggested_when_the_loss_overflows_before_the_first_step():
    with pytest.raises(DivergenceError) as info:
        LinearRegressionGD().fit([[1e200], [2e200]], [1e200, 3e200])
    assert info.value.suggested_lr is None and info.value.epoch == 0


def test_fit_after_divergence_works():
    X, y = problem(LinearRegressionGD)
    estimator = LinearRegressionGD(lr=100.0, epochs=1000)
    with pytest.raises(DivergenceError):
        estimator.fit(X, y)
    estimator.set_params(lr=0.1).fit(X, y)
    assert np.isfinite(estimator.coef_).all() and estimator.score(X, y) > 0.9


# -- callbacks ----------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_callbacks_get_hooks_in_order_with_epochs_and_distinct_snapshots(cls):
    X, y = problem(cls)
    first, second = Recorder(), Recorder()
    estimator = cls(lr=0.05, epochs=4, random_state=0).fit(X, y, callbacks=[first, second])
    expected = [("begin", None)] + [("epoch", e) for e in range(1, 5)] + [("end", None)]
    assert first.calls == expected and second.calls == expected
    snapshots = first.snapshots
    assert [s.epoch for s in snapshots] == [0, 1, 2, 3, 4]
    assert [s.label for s in snapshots] == ["begin", "epoch 1", "epoch 2", "epoch 3", "epoch 4"]
    for before, after in itertools.pairwise(snapshots):
        assert any(not np.array_equal(before.params[k], after.params[k]) for k in after.params)
    for name, value in fitted_params(estimator).items():
        np.testing.assert_array_equal(snapshots[-1].params[name], value)
    assert snapshots[0].loss == estimator.initial_loss_ and snapshots[0].history.shape == (0,)
    assert [s.loss for s in snapshots[1:]] == list(estimator.history_)
    assert [s.step for s in snapshots] == [0, 1, 2, 3, 4]


def test_callbacks_may_define_only_some_hooks():
    epochs_seen = []

    class EpochsOnly:
        def on_epoch_end(self, estimator, epoch):
            epochs_seen.append(epoch)

    X, y = problem(LinearRegressionGD)
    LinearRegressionGD(epochs=3).fit(X, y, callbacks=(EpochsOnly(),))
    assert epochs_seen == [1, 2, 3]


def test_callback_without_hooks_is_a_type_error_naming_it():
    class NotACallback:
        def __repr__(self):
            return "NotACallback()"

    X, y = problem(LinearRegressionGD)
    with pytest.raises(
        TypeError, match=r"callback NotACallback\(\) defines none of on_train_begin"
    ):
        LinearRegressionGD().fit(X, y, callbacks=[Recorder(), NotACallback()])
    with pytest.raises(TypeError, match=r"wrap a single callback in a list"):
        LinearRegressionGD().fit(X, y, callbacks=Recorder())


def test_callback_exception_propagates_and_leaves_estimator_unfitted():
    class Stop(Exception):
        pass

    class StopAtEpoch2:
        def on_epoch_end(self, estimator, epoch):
            if epoch == 2:
                raise Stop

    X, y = problem(LinearRegressionGD)
    estimator = LinearRegressionGD(epochs=5)
    with pytest.raises(Stop):
        estimator.fit(X, y, callbacks=[StopAtEpoch2()])
    assert not hasattr(estimator, "coef_")


class Events:
    """Records which hooks a fit called, in order; fails in the hook named ``fail_in``."""

    def __init__(self, log, name, fail_in=None):
        self.log, self.name, self.fail_in = log, name, fail_in

    def _hook(self, hook):
        self.log.append((self.name, hook))
        if hook == self.fail_in:
            raise RuntimeError(f"{self.name} fails in {hook}")

    def on_train_begin(self, estimator):
        self._hook("begin")

    def on_epoch_end(self, estimator, epoch):
        self._hook("epoch")

    def on_train_end(self, estimator):
        self._hook("end")

    def on_train_error(self, estimator):
        self._hook("error")


def test_on_train_error_is_called_instead_of_on_train_end_when_training_fails():
    X, y = problem(LinearRegressionGD)
    log = []
    LinearRegressionGD(epochs=1).fit(X, y, callbacks=[Events(log, "a")])
    assert log == [("a", "begin"), ("a", "epoch"), ("a", "end")]

    log.clear()
    with pytest.raises(RuntimeError, match="b fails in epoch"):
        LinearRegressionGD(epochs=3).fit(X, y, callbacks=[Events(log, "a"),
                                                          Events(log, "b", "epoch")])
    assert log == [("a", "begin"), ("b", "begin"), ("a", "epoch"), ("b", "epoch"),
                   ("a", "error"), ("b", "error")]

    # A failing on_train_begin: every callback is told, those whose own begin never ran too.
    log.clear()
    with pytest.raises(RuntimeError, match="a fails in begin"):
        LinearRegressionGD(epochs=3).fit(X, y, callbacks=[Events(log, "a", "begin"),
                                                          Events(log, "b")])
    assert log == [("a", "begin"), ("a", "error"), ("b", "error")]

    # A failing on_train_end: the others' error hooks still run.
    log.clear()
    with pytest.raises(RuntimeError, match="a fails in end"):
        LinearRegressionGD(epochs=1).fit(X, y, callbacks=[Events(log, "a", "end"),
                                                          Events(log, "b")])
    assert log[-2:] == [("a", "error"), ("b", "error")]


def test_on_train_error_is_not_called_when_the_fit_fails_before_training_began():
    X, y = problem(LinearRegressionGD)
    log = []
    with pytest.raises(ValueError, match="epochs"):
        LinearRegressionGD(epochs=0).fit(X, y, callbacks=[Events(log, "a")])
    with pytest.raises(ValueError):
        LinearRegressionGD().fit(X[:, :0], y, callbacks=[Events(log, "a")])
    assert log == []


def test_a_failing_error_hook_is_logged_and_the_fit_error_still_propagates(caplog):
    X, y = problem(LinearRegressionGD)
    log = []
    callbacks = [Events(log, "a", "error"), Events(log, "b", "epoch")]
    with pytest.raises(RuntimeError, match="b fails in epoch"):
        LinearRegressionGD(epochs=2).fit(X, y, callbacks=callbacks)
    assert ("b", "error") in log  # after a's error hook failed
    assert "on_train_error hook" in caplog.text and "a fails in error" in caplog.text


def test_a_callback_with_only_on_train_error_is_accepted():
    class OnlyErrors:
        def __init__(self):
            self.calls = 0

        def on_train_error(self, estimator):
            self.calls += 1

    X, y = problem(LinearRegressionGD)
    only = OnlyErrors()
    LinearRegressionGD(epochs=1).fit(X, y, callbacks=[only])
    assert only.calls == 0


# -- snapshots ------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_snapshot_is_a_copy_unaffected_by_later_training(cls):
    X, y = problem(cls)
    estimator = cls(lr=0.05, epochs=3, random_state=0).fit(X, y)
    snapshot = estimator.snapshot()
    kept = {name: value.copy() for name, value in snapshot.params.items()}
    history = snapshot.history.copy()
    for live in estimator._live_params().values():  # mutate the estimator's parameters in place
        live += 1.0
    estimator.fit(X, y)
    estimator.set_params(epochs=7).fit(X, y)
    for name, value in snapshot.params.items():
        np.testing.assert_array_equal(value, kept[name])
    np.testing.assert_array_equal(snapshot.history, history)


@pytest.mark.parametrize("cls", [LinearRegressionGD, LogisticRegressionGD])
def test_snapshots_during_training_are_read_only_windows_later_epochs_leave_alone(cls):
    X, y = problem(cls)
    recorder = Recorder()
    estimator = cls(lr=0.05, epochs=8, random_state=0).fit(X, y, callbacks=[recorder])
    history, path = estimator.history_, estimator.snapshot().path
    assert [s.epoch for s in recorder.snapshots][:3] == [0, 1, 2]
    for snapshot in recorder.snapshots[1:]:  # epoch 0's history is empty
        epoch = snapshot.epoch
        np.testing.assert_array_equal(snapshot.history, history[:epoch])
        np.testing.assert_array_equal(snapshot.path, path[: epoch + 1])
        # Not a copy per epoch (a live plot snapshots every epoch: copies made a long run
        # quadratic), and nothing can write through it.
        assert np.shares_memory(snapshot.history, history)
        assert np.shares_memory(snapshot.path, path)
        for array in (snapshot.history, snapshot.path):
            with pytest.raises(ValueError, match="read-only"):
                array[0] = 0.0
    assert history.flags.writeable  # the estimator's own attribute stays a plain array


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_snapshot_decision_agrees_with_prediction(cls):
    X, y = problem(cls)
    estimator = cls(lr=0.05, epochs=20, random_state=0).fit(X, y)
    snapshot = estimator.snapshot()
    assert isinstance(snapshot, Snapshot)
    expected = (
        estimator.predict_proba(X)[:, 1] if cls is LogisticRegressionGD else estimator.predict(X)
    )
    np.testing.assert_allclose(snapshot.decision(X), expected, rtol=1e-12, atol=1e-12)
    assert (
        snapshot.model
        == {LinearRegressionGD: "linear", LogisticRegressionGD: "logistic", MLPRegressorGD: "mlp"}[
            cls
        ]
    )


@pytest.mark.parametrize("cls", [LinearRegressionGD, LogisticRegressionGD])
def test_linear_models_record_the_parameter_path(cls):
    X, y = problem(cls)
    recorder = Recorder()
    estimator = cls(lr=0.05, epochs=6).fit(X, y, callbacks=[recorder])
    path = estimator.snapshot().path
    assert path.shape == (7, 4)
    np.testing.assert_array_equal(path[0], np.zeros(4))
    np.testing.assert_array_equal(path[-1], [*estimator.coef_, estimator.intercept_])
    for snapshot in recorder.snapshots:
        np.testing.assert_array_equal(snapshot.path, path[: snapshot.epoch + 1])
        np.testing.assert_array_equal(
            snapshot.path[-1], [*snapshot.params["coef"], snapshot.params["intercept"]]
        )


def test_mlp_snapshot_has_no_path():
    X, y = problem(MLPRegressorGD)
    assert MLPRegressorGD(epochs=2).fit(X, y).snapshot().path is None


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_plotting_sample_is_bounded_shared_and_read_only(cls):
    X, y = problem(cls, n_samples=300)
    estimator = cls(epochs=2)
    estimator.plot_sample_size = 50
    recorder = Recorder()
    estimator.fit(X, y, callbacks=[recorder])
    first, last = recorder.snapshots[0], estimator.snapshot()
    assert first.X.shape == (50, 3) and first.y.shape == (50,)
    assert first.X is last.X and first.y is last.y
    assert not first.X.flags.writeable and not first.y.flags.writeable
    rows = [np.flatnonzero((X == row).all(axis=1))[0] for row in first.X]
    assert rows == sorted(set(rows))  # distinct training rows, in their original order
    if cls is LogisticRegressionGD:
        np.testing.assert_array_equal(first.y, (y[rows] == "yes").astype(float))
    else:
        np.testing.assert_array_equal(first.y, y[rows])
    small = cls(epochs=1).fit(X[:30], y[:30]).snapshot()
    np.testing.assert_array_equal(small.X, X[:30])


def test_snapshot_pickles_and_checks_its_label():
    X, y = problem(LinearRegressionGD)
    estimator = LinearRegressionGD(epochs=2).fit(X, y)
    restored = pickle.loads(pickle.dumps(estimator.snapshot("run")))
    assert restored.label == "run" and restored.epoch == 2
    with pytest.raises(TypeError, match=r"label must be a str, got label=3"):
        estimator.snapshot(label=3)


def test_package_exports_public_names_and_its_example_runs():
    import doctest

    import gdplot

    assert sorted(gdplot.__all__) == [
        "ConvergenceWarning",
        "DivergenceError",
        "GifCallback",
        "LinearRegressionGD",
        "LogisticRegressionGD",
        "MLPRegressorGD",
        "NotFittedError",
        "PlotCallback",
        "ProgressCallback",
        "Snapshot",
        "TrainedModel",
        "load_model",
        "save_model",
    ]
    assert all(hasattr(gdplot, name) for name in gdplot.__all__)
    assert doctest.testmod(gdplot).failed == 0


# -- the shuffled-epoch prefetch ------------------------------------------------------------


def _prefetch_fit(monkeypatch, min_elements, callbacks=()):
    monkeypatch.setattr(epochs, "PREFETCH_MIN_ELEMENTS", min_elements)
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 3))
    y = X @ [1.0, -2.0, 0.5] + 0.1 * rng.normal(size=300)
    model = LinearRegressionGD(lr=0.05, epochs=6, batch_size=16, random_state=7)
    return model.fit(X, y, callbacks=callbacks)


def test_prefetching_the_next_shuffle_gives_bitwise_the_same_fit(monkeypatch):
    inline = _prefetch_fit(monkeypatch, min_elements=10**12)
    prefetched = _prefetch_fit(monkeypatch, min_elements=1)
    assert np.array_equal(inline.coef_, prefetched.coef_)
    assert np.array_equal(inline.history_, prefetched.history_)


def test_a_failing_epoch_stops_the_prefetch_helper(monkeypatch):
    class FailAtEpoch3:
        def on_epoch_end(self, estimator, epoch):
            assert any(t.name.startswith("gdplot-shuffle") for t in threading.enumerate())
            if epoch == 3:
                raise KeyError("stop")

    with pytest.raises(KeyError):
        _prefetch_fit(monkeypatch, min_elements=1, callbacks=[FailAtEpoch3()])
    assert not any(t.name.startswith("gdplot-shuffle") for t in threading.enumerate())
