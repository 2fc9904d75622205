"""What a fit records besides the loss per epoch: held-out rows (``validation_data``), chosen
gradient steps (``record_steps``), whether it had converged (``ConvergenceWarning``), and the
MLP's ``lr="auto"`` (a learning-rate range test)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from gdplot import (
    ConvergenceWarning,
    DivergenceError,
    LinearRegressionGD,
    LogisticRegressionGD,
    MLPRegressorGD,
)
from gdplot.data import make_classification, make_nonlinear, make_regression
from gdplot.models.learning_rate import range_test_learning_rate
from gdplot.models.steps import LOG_STEPS_PER_DECADE, samples_processed, step_schedule


@pytest.fixture
def regression():
    X, y, _, _ = make_regression(120, 3, noise=0.5, random_state=0)
    return X[:90], y[:90], X[90:], y[90:]


def mse(model, X, y) -> float:
    return float(np.mean((model.predict(X) - y) ** 2))


class Recorder:
    """A callback keeping a snapshot at the start and after every epoch."""

    def __init__(self):
        self.snapshots = []

    def on_train_begin(self, estimator):
        self.snapshots.append(estimator.snapshot())

    def on_epoch_end(self, estimator, epoch):
        self.snapshots.append(estimator.snapshot())


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("make", [
    lambda: LinearRegressionGD(lr=0.05, epochs=15, batch_size=16, random_state=0),
    lambda: MLPRegressorGD(hidden=8, lr=0.05, epochs=15, batch_size=16, random_state=0),
])
def test_validation_history_is_the_loss_and_score_on_the_held_out_rows(regression, make):
    X, y, X_val, y_val = regression
    recorder = Recorder()
    model = make().fit(X, y, callbacks=[recorder], validation_data=(X_val, y_val))
    assert model.val_history_.shape == model.history_.shape == (15,)
    # After the run: exactly what predict and score say on each set.
    assert model.val_history_[-1] == pytest.approx(mse(model, X_val, y_val), rel=1e-12)
    assert model.val_score_history_[-1] == pytest.approx(model.score(X_val, y_val), rel=1e-12)
    assert model.score_history_[-1] == pytest.approx(model.score(X, y), rel=1e-12)
    # Every epoch: the snapshot's parameters give the recorded validation loss and score.
    for snapshot in recorder.snapshots:
        z = snapshot.decision(X_val)
        expected = np.mean((z - y_val) ** 2)
        recorded = (snapshot.val_history[-1] if snapshot.epoch else snapshot.val_initial_loss)
        assert recorded == pytest.approx(expected, rel=1e-12)
        r2 = 1 - np.sum((y_val - z) ** 2) / np.sum((y_val - y_val.mean()) ** 2)
        assert snapshot.val_score == pytest.approx(r2, rel=1e-12)
        assert snapshot.score_name == "R^2"
    # The validation curve is not the training curve.
    assert not np.allclose(model.val_history_, model.history_)


def test_validation_does_not_change_the_fit(regression):
    X, y, X_val, y_val = regression
    plain = LinearRegressionGD(lr=0.05, epochs=10, batch_size=8, random_state=3).fit(X, y)
    held = LinearRegressionGD(lr=0.05, epochs=10, batch_size=8, random_state=3).fit(
        X, y, validation_data=(X_val, y_val))
    np.testing.assert_array_equal(plain.history_, held.history_)
    np.testing.assert_array_equal(plain.coef_, held.coef_)
    assert plain.val_history_ is None and plain.score_history_ is None


def test_a_classifiers_validation_score_is_its_accuracy_on_the_held_out_labels():
    X, y = make_classification(200, separation=1.5, random_state=0)
    labels = np.where(y == 1, "yes", "no")
    model = LogisticRegressionGD(lr=0.5, epochs=20, random_state=0).fit(
        X[:150], labels[:150], validation_data=(X[150:], labels[150:]))
    assert model.val_score_history_[-1] == model.score(X[150:], labels[150:])
    assert model.score_history_[-1] == model.score(X[:150], labels[:150])
    assert model.snapshot().score_name == "accuracy"
    proba = model.predict_proba(X[150:])[:, 1]
    target = (labels[150:] == "yes").astype(float)
    nll = -np.mean(target * np.log(proba) + (1 - target) * np.log(1 - proba))
    assert model.val_history_[-1] == pytest.approx(nll, rel=1e-9)


@pytest.mark.parametrize(("validation_data", "error", "message"), [
    ([[1.0, 2.0, 3.0]], TypeError, r"validation_data must be a pair \(X_val, y_val\), got list"),
    ("X_val", TypeError, "validation_data must be a pair"),
    ((np.ones((5, 2)), np.ones(5)), ValueError, "validation_data X_val has 2 features, but X has 3"),
    ((np.ones((5, 3)), np.ones(4)), ValueError, "validation_data:.*5.*4|validation_data:.*4.*5"),
    ((np.full((5, 3), np.nan), np.ones(5)), ValueError, "validation_data X_val"),
])
def test_bad_validation_data_is_refused_at_the_boundary(regression, validation_data, error, message):
    X, y, _, _ = regression
    model = LinearRegressionGD(epochs=2)
    with pytest.raises(error, match=message):
        model.fit(X, y, validation_data=validation_data)
    assert not hasattr(model, "history_")  # left unfitted


def test_validation_labels_the_training_set_lacks_are_refused():
    X, y = make_classification(60, random_state=0)
    with pytest.raises(ValueError, match=r"validation_data: y_val holds label\(s\).*\[7\]"):
        LogisticRegressionGD(epochs=2).fit(X, y, validation_data=(X[:4], [0, 1, 7, 1]))


# --------------------------------------------------------------------------- steps


def test_every_kth_step_records_the_loss_and_parameters_that_epochs_agree_with(regression):
    X, y, _, _ = regression  # 90 rows, batches of 20: 5 steps per epoch, the last of 10 rows
    model = LinearRegressionGD(lr=0.05, epochs=6, batch_size=20, record_steps=5,
                               random_state=0).fit(X, y)
    np.testing.assert_array_equal(model.steps_, np.arange(0, 31, 5))
    # Every 5th step is an epoch's end here: the same loss and parameters as the epochs.
    np.testing.assert_allclose(model.step_history_, [model.initial_loss_, *model.history_],
                               rtol=1e-12)
    np.testing.assert_allclose(model.step_path_[-1], [*model.coef_, model.intercept_])
    np.testing.assert_array_equal(model.step_samples_, np.arange(7) * 90)
    assert model.n_steps_ == 30


def test_steps_count_rows_processed_with_a_short_last_batch():
    assert samples_processed(np.array([0, 1, 4, 5, 6, 9, 10]), 90, 20).tolist() == [
        0, 20, 80, 90, 110, 170, 180]
    X, y, _, _ = make_regression(90, 1, random_state=0)
    model = LinearRegressionGD(lr=0.01, epochs=3, batch_size=20, record_steps=1).fit(X, y)
    assert model.steps_.tolist() == list(range(16))
    assert model.step_samples_[-1] == 3 * 90
    # Between epoch ends the recorded loss is the training loss at those parameters.
    design = np.column_stack([X, np.ones(90)])
    losses = np.mean((model.step_path_ @ design.T - y) ** 2, axis=1)
    np.testing.assert_allclose(model.step_history_, losses, rtol=1e-10)


def test_log_spaced_steps_keep_every_early_step_and_few_late_ones():
    schedule = step_schedule("log", 100_000)
    assert schedule[0] == 0 and schedule[-1] == 100_000
    assert schedule[:21].tolist() == list(range(21))  # the first steps, where the zig-zag is
    assert schedule.size <= LOG_STEPS_PER_DECADE * 5 + 2
    ratios = schedule[50:] / schedule[49:-1]
    assert ratios.max() < 1.1  # evenly spread on a log axis
    X, y, _, _ = make_regression(200, 1, random_state=0)
    model = LinearRegressionGD(lr=0.01, epochs=50, batch_size=1, record_steps="log",
                               random_state=0).fit(X, y)
    assert model.steps_[-1] == model.n_steps_ == 10_000
    np.testing.assert_array_equal(model.steps_, step_schedule("log", 10_000))
    assert model.step_path_.shape == (model.steps_.size, 2)


def test_recording_steps_does_not_change_the_fit(regression):
    X, y, _, _ = regression
    fits = [LinearRegressionGD(lr=0.02, epochs=4, batch_size=4, random_state=1,
                               record_steps=r).fit(X, y) for r in (None, 1, "log")]
    for model in fits[1:]:
        np.testing.assert_array_equal(model.coef_, fits[0].coef_)
        np.testing.assert_array_equal(model.history_, fits[0].history_)
    assert fits[0].steps_ is None and fits[0].step_path_ is None


def test_a_snapshot_carries_the_steps_recorded_so_far_read_only(regression):
    X, y, _, _ = regression
    recorder = Recorder()
    model = MLPRegressorGD(hidden=4, lr=0.01, epochs=3, batch_size=30, record_steps=2,
                           random_state=0).fit(X, y, callbacks=[recorder])
    first, after_one, last = recorder.snapshots[0], recorder.snapshots[1], recorder.snapshots[-1]
    assert first.steps.tolist() == [0] and first.step_losses[0] == model.initial_loss_
    assert after_one.steps.tolist() == [0, 2]  # 3 steps per epoch: step 2 is in epoch 1
    assert last.steps.tolist() == model.steps_.tolist() == [0, 2, 4, 6, 8, 9]
    assert last.step_path is None  # an MLP has no path to draw
    with pytest.raises(ValueError, match="read-only"):
        last.step_losses[0] = 0.0


@pytest.mark.parametrize(("value", "error"), [("linear", ValueError), (0, ValueError),
                                              (2.5, TypeError), (True, TypeError)])
def test_bad_record_steps_are_refused_naming_the_parameter(regression, value, error):
    X, y, _, _ = regression
    with pytest.raises(error, match="record_steps"):
        LinearRegressionGD(record_steps=value).fit(X, y)


# --------------------------------------------------------------------------- convergence


def test_a_run_stopped_while_the_loss_still_falls_warns_naming_the_decrease(regression):
    X, y, _, _ = regression
    with pytest.warns(ConvergenceWarning, match=r"still falling.*last 2 of 20 epochs") as caught:
        model = LinearRegressionGD(lr=0.005, epochs=20).fit(X, y)
    warning = caught[0].message
    expected = (model.history_[-3] - model.history_[-1]) / model.history_[-3]
    assert warning.relative_decrease == pytest.approx(expected)
    assert warning.epochs == 2 and issubclass(ConvergenceWarning, UserWarning)
    assert caught[0].filename == __file__  # points at the caller's fit


def test_a_converged_run_does_not_warn(regression):
    X, y, _, _ = regression
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        LinearRegressionGD(lr=0.1, epochs=300).fit(X, y)


def test_a_stochastic_run_jumping_about_its_floor_does_not_warn():
    X, y, _, _ = make_regression(400, 1, noise=1.0, random_state=0)
    model = LinearRegressionGD(lr=0.02, epochs=60, batch_size=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model.fit(X, y)
    # Its last epoch does sit lower than the start of the last tenth: noise, not progress.
    assert model.history_[-1] < 0.99 * model.history_[-7]


def test_a_smooth_fall_over_the_last_tenth_is_measured_by_its_slope(regression):
    X, y, _, _ = regression
    with pytest.warns(ConvergenceWarning) as caught:
        model = LinearRegressionGD(lr=0.002, epochs=40).fit(X, y)
    endpoints = (model.history_[-5] - model.history_[-1]) / model.history_[-5]
    assert caught[0].message.epochs == 4
    assert caught[0].message.relative_decrease == pytest.approx(endpoints, rel=0.05)


# --------------------------------------------------------------------------- lr="auto"


def test_the_range_test_picks_a_rate_below_where_descent_blows_up():
    # A least-squares problem whose largest stable rate is known: 2 / L.
    X, y, _, _ = make_regression(300, 2, noise=0.1, random_state=0)
    X = X * [1.0, 3.0]
    design = np.column_stack([X, np.ones(300)])
    lipschitz = 2 * np.linalg.eigvalsh(design.T @ design / 300).max()
    theta = np.zeros(3)

    def step(Xb, yb, lr):
        residual = np.column_stack([Xb, np.ones(len(Xb))]) @ theta - yb
        theta[:] -= lr * 2 * np.column_stack([Xb, np.ones(len(Xb))]).T @ residual / len(Xb)

    def loss(Xb, yb):
        return float(np.mean((np.column_stack([Xb, np.ones(len(Xb))]) @ theta - yb) ** 2))

    with np.errstate(over="ignore", invalid="ignore"):
        rate = range_test_learning_rate(step, loss, X, y)
    assert 0.02 * (2 / lipschitz) < rate < 2 / lipschitz


def test_auto_lr_trains_the_mlp_from_its_own_start_without_diverging():
    X, y = make_nonlinear(300, noise=0.1, random_state=2)
    starts = []
    for lr in ("auto", 0.01):
        recorder = Recorder()
        model = MLPRegressorGD(hidden=16, lr=lr, epochs=150, batch_size=32, random_state=0)
        model.fit(X, y, callbacks=[recorder])
        starts.append(recorder.snapshots[0].params)
        if lr == "auto":
            auto = model
    assert 1e-4 < auto.lr_ < 1.0 and auto.get_params()["lr"] == "auto"
    assert auto.score(X, y) > 0.9
    # The range test ran on a copy: the run starts where a run at a given rate starts.
    for name in starts[0]:
        np.testing.assert_array_equal(starts[0][name], starts[1][name])


def test_auto_lr_of_the_mlp_never_diverges_on_badly_scaled_data():
    X, y, _, _ = make_regression(200, 3, noise=0.5, random_state=1)
    X = X * [1.0, 30.0, 300.0]
    try:
        MLPRegressorGD(hidden=8, lr="auto", epochs=30, random_state=0).fit(X, y)
    except DivergenceError as exc:  # pragma: no cover - the assertion's message
        pytest.fail(f"lr='auto' diverged: {exc}")
