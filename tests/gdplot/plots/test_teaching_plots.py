"""Plots that teach: batch vs stochastic by the step, held-out curves, loss axes that show
the whole run, readable surfaces, and a GIF that starts at the start."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from gdplot import LinearRegressionGD, LogisticRegressionGD, MLPRegressorGD
from gdplot.plots.callbacks import GifCallback, PlotCallback
from gdplot.data import make_classification, make_nonlinear, make_regression
from gdplot.plots import comparison
from gdplot.plots.comparison import render_comparison
from gdplot.plots.renderers import RENDERERS


def drawn(kind, snapshot):
    plot = RENDERERS[kind].fresh(snapshot)
    plot.frame(snapshot)
    return plot


def is_nice(value: float, mantissas=(1, 2, 2.5, 5, 10)) -> bool:
    """``value`` is 0 or m * 10**k with m in ``mantissas`` (up to rounding)."""
    if value == 0:
        return True
    mantissa = abs(value) / 10.0 ** math.floor(math.log10(abs(value)) + 1e-9)
    return any(math.isclose(mantissa, m, rel_tol=1e-6) for m in mantissas)


def nice_ticks(ticks) -> bool:
    """1-2-5 values (a log bar), or multiples of a 1-2-2.5-5 step (a linear one)."""
    ticks = np.asarray(ticks, dtype=float)
    if len(ticks) >= 2 and all(is_nice(t, (1, 2, 5, 10)) for t in ticks):
        return True
    steps = np.diff(ticks)
    return (len(ticks) >= 3 and np.allclose(steps, steps[0]) and is_nice(steps[0])
            and np.allclose(ticks / steps[0], np.round(ticks / steps[0])))


@pytest.fixture(scope="module")
def line_data():
    X, y, _, _ = make_regression(400, 1, noise=1.0, random_state=0)
    return X, y


@pytest.fixture(scope="module")
def three_runs(line_data):
    X, y = line_data
    return {
        label: LinearRegressionGD(lr=0.02, epochs=20, batch_size=batch, random_state=0,
                                  record_steps="log").fit(X, y)
        for label, batch in (("batch", None), ("mini-batch", 32), ("stochastic", 1))
    }


# --------------------------------------------------------------------------- the comparison


def test_the_comparison_draws_each_run_per_row_processed_and_per_step_from_step_0(
        three_runs, tmp_path, monkeypatch):
    figures = []
    monkeypatch.setattr(comparison, "save_figure", lambda fig, path: figures.append(fig))
    render_comparison(three_runs, tmp_path / "unused.png")
    by_samples, by_steps = figures[0].axes[:2]
    assert by_samples.get_xscale() == by_steps.get_xscale() == "symlog"
    start = three_runs["batch"].initial_loss_
    for model, on_samples, on_steps in zip(three_runs.values(), by_samples.lines,
                                           by_steps.lines):
        np.testing.assert_array_equal(on_samples.get_xdata(), model.step_samples_)
        np.testing.assert_array_equal(on_steps.get_xdata(), model.steps_)
        np.testing.assert_array_equal(on_samples.get_ydata(), model.step_history_)
        assert on_samples.get_xdata()[0] == 0 and on_samples.get_ydata()[0] == start
    assert by_samples.get_xlim()[0] == 0  # step 0 is on the axes
    legend = [t.get_text() for t in figures[0].legends[0].get_texts()]
    assert legend[0].startswith("batch: batch size all 400 rows, lr 0.02")
    assert legend[1].startswith("mini-batch: batch size 32 rows, lr 0.02")
    assert legend[2].startswith("stochastic: batch size 1 row, lr 0.02")
    assert "one epoch (400 rows)" in legend


def test_after_one_epochs_worth_of_rows_stochastic_descent_is_far_ahead(three_runs):
    # What the comparison shows, on the recorded numbers themselves.
    def loss_at(model, rows):
        return model.step_history_[model.step_samples_ <= rows][-1]

    assert loss_at(three_runs["stochastic"], 400) < 0.3 * three_runs["batch"].initial_loss_
    assert loss_at(three_runs["batch"], 400) > 0.9 * three_runs["batch"].initial_loss_
    assert loss_at(three_runs["stochastic"], 400) < loss_at(three_runs["mini-batch"], 400) \
        < loss_at(three_runs["batch"], 400)


def test_the_comparison_writes_a_png_of_two_panels(three_runs, tmp_path):
    path = render_comparison(three_runs, tmp_path / "comparison.png")
    with Image.open(path) as image:
        assert image.format == "PNG" and image.width > 1.8 * 480


def test_the_comparison_refuses_what_is_not_a_run(tmp_path):
    with pytest.raises(TypeError, match=r"runs\['a'\] must be a fitted estimator"):
        render_comparison({"a": object()}, tmp_path / "c.png")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- loss plots


def test_the_loss_plot_draws_training_and_validation_and_says_both(line_data):
    X, y = line_data
    model = MLPRegressorGD(hidden=8, lr=0.05, epochs=12, batch_size=32, random_state=0).fit(
        X[:300], y[:300], validation_data=(X[300:], y[300:]))
    snapshot = model.snapshot()
    plot = drawn("loss", snapshot)
    np.testing.assert_array_equal(plot.val_line.get_ydata(),
                                  [model.val_initial_loss_, *model.val_history_])
    np.testing.assert_array_equal(plot.line.get_ydata(), [model.initial_loss_, *model.history_])
    assert [t.get_text() for t in plot.axes.get_legend().get_texts()] == ["training",
                                                                          "validation"]
    assert plot.title_text.endswith(
        f"loss {model.history_[-1]:.4g}, validation {model.val_history_[-1]:.4g}")
    low, high = plot.axes.get_ylim()
    assert low <= model.val_history_.min() and model.val_history_.max() <= high


@pytest.mark.parametrize(("end", "scale"), [(0.05, "log"), (0.09, "log"), (0.2, "linear")])
def test_the_loss_axis_is_logarithmic_once_the_run_spans_more_than_a_decade(end, scale):
    X, y = make_nonlinear(50, random_state=0)
    model = MLPRegressorGD(hidden=4, lr=0.01, epochs=30, random_state=0).fit(X, y)
    history = np.geomspace(1.0, end, 30)
    from dataclasses import replace
    snapshot = replace(model.snapshot(), history=history, initial_loss=1.0, loss=end)
    assert drawn("loss", snapshot).axes.get_yscale() == scale


# --------------------------------------------------------------------------- surfaces


def test_a_two_parameter_surface_reads_well(line_data):
    X, y = line_data
    model = LinearRegressionGD(lr=0.02, epochs=30, random_state=0).fit(X, y)
    plot = drawn("surface", model.snapshot())
    colorbar = plot.figure.axes[1]
    ticks = colorbar.get_yticks()
    assert nice_ticks(ticks), ticks
    # A marker at the least-squares minimum, named in the legend.
    design = np.column_stack([X, np.ones(len(X))])
    optimum = np.linalg.lstsq(design, y, rcond=None)[0]
    marker = next(line for line in plot.axes.lines if line.get_label() == "minimum")
    np.testing.assert_allclose([marker.get_xdata()[0], marker.get_ydata()[0]], optimum)
    assert "minimum" in [t.get_text() for t in plot.axes.get_legend().get_texts()]


def test_a_logistic_surface_marks_the_converged_minimum():
    X, y = make_classification(300, separation=1.0, random_state=0)  # not separable
    model = LogisticRegressionGD(lr=0.5, epochs=40, random_state=0).fit(X[:, :1], y)
    plot = drawn("surface", model.snapshot())
    marker = next(line for line in plot.axes.lines if line.get_label() == "minimum")
    theta = np.array([marker.get_xdata()[0], marker.get_ydata()[0]])
    design = np.column_stack([X[:, :1], np.ones(300)])
    p = 1 / (1 + np.exp(-design @ theta))
    np.testing.assert_allclose(design.T @ (p - y) / 300, 0, atol=1e-9)  # the gradient is 0


def test_a_stochastic_surface_draws_the_steps_not_one_segment_per_epoch(line_data):
    X, y = line_data
    model = LinearRegressionGD(lr=0.02, epochs=3, batch_size=1, record_steps="log",
                               random_state=0).fit(X, y)
    plot = drawn("surface", model.snapshot())
    xs, ys = plot.path_line.get_data()
    assert len(xs) == model.steps_.size > 10 * (model.n_iter_ + 1)
    np.testing.assert_array_equal(np.column_stack([xs, ys]), model.step_path_)
    # The zig-zag: consecutive steps turn back and forth instead of running straight.
    moves = np.diff(model.step_path_[:60], axis=0)
    assert np.mean(np.sum(moves[1:] * moves[:-1], axis=1) < 0) > 0.2
    (x0, x1), (y0, y1) = plot.axes.get_xlim(), plot.axes.get_ylim()
    assert np.all((x0 <= xs) & (xs <= x1) & (y0 <= ys) & (ys <= y1))


def test_a_principal_direction_view_keeps_the_path_inside_with_nice_ticks_and_a_caption():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 6))
    y = (X @ rng.standard_normal(6) + rng.standard_normal(300) > 0).astype(int)
    model = LogisticRegressionGD(lr=0.5, epochs=25, batch_size=16, record_steps="log",
                                 random_state=0).fit(X, y)
    plot = drawn("surface", model.snapshot())
    xs, ys = plot.path_line.get_data()
    (x0, x1), (y0, y1) = plot.axes.get_xlim(), plot.axes.get_ylim()
    assert np.all((x0 < xs) & (xs < x1) & (y0 < ys) & (ys < y1))
    now = plot.now.get_data()
    assert x0 < now[0][0] < x1 and y0 < now[1][0] < y1
    assert "main direction" in plot.axes.get_xlabel()
    assert "PCA" in plot.figure._supxlabel.get_text()
    ticks = plot.figure.axes[1].get_yticks()
    assert nice_ticks(ticks), ticks
    # The colour range is the view's own: its bands start and end near the losses drawn.
    _, losses = plot._view_of(model.snapshot())
    assert plot.levels[0] <= losses.min() and losses.max() <= plot.levels[-1]
    assert plot.levels[-1] / plot.levels[0] < 2.5 * losses.max() / losses.min()


# --------------------------------------------------------------------------- callbacks


def test_the_gif_starts_at_epoch_0_with_the_initial_parameters(tmp_path):
    X, y = make_nonlinear(60, random_state=0)
    starts = []

    class Start:
        def on_train_begin(self, estimator):
            starts.append(estimator.snapshot())

    gif = GifCallback("fit", tmp_path / "fit.gif", every=5)
    MLPRegressorGD(hidden=4, epochs=10, random_state=0).fit(X, y, callbacks=[Start(), gif])
    first = gif.snapshots[0]
    assert first.epoch == 0 and [s.epoch for s in gif.snapshots] == [0, 5, 10]
    for name, value in starts[0].params.items():
        np.testing.assert_array_equal(first.params[name], value)
    with Image.open(tmp_path / "fit.gif") as image:
        assert image.n_frames == 3


def test_a_live_plot_lists_its_one_file_once(tmp_path):
    X, y = make_nonlinear(40, random_state=0)
    live = PlotCallback("loss", out_dir=tmp_path, coalesce=True)
    MLPRegressorGD(hidden=4, epochs=8, random_state=0).fit(X, y, callbacks=[live])
    assert live.paths == [tmp_path / "loss.png"] and live.frames == 8
