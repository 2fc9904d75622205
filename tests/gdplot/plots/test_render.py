"""Renderers: valid PNGs, atomic writes, the right maths, clear errors for the wrong model."""

from __future__ import annotations

import dataclasses
import pickle
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gdplot.plots.backgrounds import backgrounds
from gdplot.plots import boundary, comparison, landscape, live_plot, png, surface
from gdplot.plots.live_plot import LivePlot
from gdplot.plots.landscape import loss_grid, path_view, surface_ranges
from gdplot.plots.comparison import render_comparison
from gdplot.plots.png import save_figure
from gdplot.plots.renderers import RENDERERS, check_renderer_fits, render_surface, renderer_problem
from gdplot.models.snapshot import Snapshot


def make_snapshot(
    model: str,
    n_features: int = 1,
    *,
    epoch: int = 4,
    label: str = "run",
    history: np.ndarray | None = None,
    initial_loss: float = 3.0,
) -> Snapshot:
    """A hand-built snapshot: a short, plausible descent from zero towards the true params."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, n_features))
    true_coef = np.arange(1.0, n_features + 1)
    if model == "mlp":
        hidden = 8
        params = {
            "hidden.weight": rng.standard_normal((n_features, hidden)),
            "hidden.bias": rng.standard_normal(hidden),
            "output.weight": rng.standard_normal((hidden, 1)),
            "output.bias": np.array([0.1]),
        }
        y = np.sin(X[:, 0])
        path = None
    else:
        z = X @ true_coef + 0.5
        y = (z > 0).astype(float) if model == "logistic" else z + 0.1 * rng.standard_normal(120)
        fractions = np.linspace(0.0, 0.8, epoch + 1)[:, None]
        path = fractions * np.append(true_coef, 0.5)
        params = {"coef": path[-1, :-1].copy(), "intercept": np.array(path[-1, -1])}
    if history is None:
        history = np.geomspace(2.0, 0.3, epoch)
    return Snapshot(
        model=model,
        epoch=epoch,
        step=epoch,
        loss=float(history[-1]),
        params=params,
        history=history,
        X=X,
        y=y,
        initial_loss=initial_loss,
        path=path,
        label=label,
    )


def assert_valid_png(path, *, alone: bool = True) -> None:
    """A readable PNG of the configured size with more than one colour (something was drawn)."""
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size == (
            round(live_plot.FIGSIZE[0] * png.DPI),
            round(live_plot.FIGSIZE[1] * png.DPI),
        )
        assert image.mode in ("RGB", "RGBA")
        pixels = np.asarray(image.convert("RGB")).reshape(-1, 3)
    assert len(np.unique(pixels, axis=0)) > 10
    if alone:  # no temp file left beside it
        assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def drawn(kind: str, snapshot: Snapshot, **options) -> LivePlot:
    """The live plot of ``kind`` after drawing ``snapshot`` (its figure can be inspected)."""
    plot = RENDERERS[kind].fresh(snapshot, **options)
    plot.frame(snapshot)
    return plot


VALID = [
    ("loss", "linear", 1),
    ("loss", "logistic", 2),
    ("loss", "mlp", 1),
    ("fit", "linear", 1),
    ("fit", "logistic", 1),
    ("fit", "mlp", 1),
    ("boundary", "logistic", 2),
    ("surface", "linear", 1),
    ("surface", "linear", 3),
    ("surface", "logistic", 1),
    ("surface", "logistic", 2),
]


@pytest.mark.parametrize(("kind", "model", "n_features"), VALID)
def test_each_renderer_writes_a_valid_png_and_nothing_else(tmp_path, kind, model, n_features):
    path = tmp_path / f"{kind}.png"
    RENDERERS[kind](make_snapshot(model, n_features), path)
    assert_valid_png(path)


INVALID = [
    ("fit", "linear", 2, "exactly 1 feature, got 2 features"),
    ("fit", "logistic", 3, "got 3 features"),
    ("fit", "mlp", 2, "got 2 features"),
    ("boundary", "linear", 2, "model='linear'"),
    ("boundary", "logistic", 1, "with 1 features"),
    ("boundary", "mlp", 2, "model='mlp'"),
    ("surface", "mlp", 1, "model='mlp'"),
]


@pytest.mark.parametrize(("kind", "model", "n_features", "message"), INVALID)
def test_a_renderer_rejects_a_model_it_cannot_draw_and_writes_nothing(
    tmp_path, kind, model, n_features, message
):
    with pytest.raises(ValueError, match=message):
        RENDERERS[kind](make_snapshot(model, n_features), tmp_path / "x.png")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("kind", "model", "n_features", "message"), INVALID)
def test_the_up_front_check_gives_the_renderers_own_error(kind, model, n_features, message):
    snapshot = make_snapshot(model, n_features)
    with pytest.raises(ValueError, match=message) as by_name:
        check_renderer_fits(kind, snapshot)
    with pytest.raises(ValueError) as by_function:
        check_renderer_fits(RENDERERS[kind], snapshot)
    assert str(by_name.value) == str(by_function.value)
    assert str(by_name.value) == renderer_problem(kind, model, n_features)
    assert f"the '{kind}' plot needs" in str(by_name.value)


@pytest.mark.parametrize(("kind", "model", "n_features"), VALID)
def test_the_up_front_check_accepts_what_the_renderer_draws(kind, model, n_features):
    check_renderer_fits(kind, make_snapshot(model, n_features))
    check_renderer_fits(RENDERERS[kind], make_snapshot(model, n_features))
    assert renderer_problem(kind, model, n_features) is None


def test_custom_renderers_and_loss_are_not_restricted():
    snapshot = make_snapshot("mlp", 3)

    def fit(snapshot, path):  # a custom renderer that happens to share a built-in's name
        raise AssertionError("never called")

    check_renderer_fits(fit, snapshot)
    check_renderer_fits("loss", snapshot)


def test_surface_without_a_parameter_path_is_refused(tmp_path):
    snapshot = dataclasses.replace(make_snapshot("linear", 1), path=None)
    with pytest.raises(ValueError, match="needs the snapshot's parameter path, got path=None"):
        render_surface(snapshot, tmp_path / "x.png")
    assert list(tmp_path.iterdir()) == []


def test_titles_name_model_label_epoch_and_loss():
    snapshot = make_snapshot("linear", epoch=7, label="mini-batch")
    for kind in ("loss", "fit", "surface"):
        title = drawn(kind, snapshot).title_text
        assert title.startswith("Linear regression (mini-batch): ")
        assert title.endswith(f"\nepoch 7, loss {snapshot.loss:.4g}")


@pytest.mark.parametrize("label", ["logistic", "Logistic regression", "", "  "])
def test_a_title_says_each_thing_once(label):
    snapshot = make_snapshot("logistic", 1, label=label)
    title = drawn("loss", snapshot).title_text
    assert title.splitlines()[0] == "Logistic regression: training loss"


def test_axes_and_legends_use_the_given_names():
    snapshot = dataclasses.replace(make_snapshot("logistic", 2), feature_names=("radius", "area"),
                                   target_name="diagnosis", class_names=("benign", "malignant"))
    plot = drawn("boundary", snapshot)
    assert (plot.axes.get_xlabel(), plot.axes.get_ylabel()) == ("radius", "area")
    legend = [text.get_text() for text in plot.axes.get_legend().get_texts()]
    assert legend == ["diagnosis = benign", "diagnosis = malignant"]
    fit = drawn("fit", dataclasses.replace(make_snapshot("linear", 1), feature_names=("size",),
                                           target_name="price"))
    assert (fit.axes.get_xlabel(), fit.axes.get_ylabel()) == ("size", "price")
    plain = drawn("boundary", make_snapshot("logistic", 2))
    assert (plain.axes.get_xlabel(), plain.axes.get_ylabel()) == ("x[0]", "x[1]")
    assert [t.get_text() for t in plain.axes.get_legend().get_texts()] == ["y = 0", "y = 1"]


@pytest.mark.parametrize(
    ("history", "scale"),
    [
        (np.array([100.0, 10.0, 1.0, 0.1]), "log"),
        (np.array([1.0, 0.9, 0.8, 0.7]), "linear"),
    ],
)
def test_loss_plot_uses_log_scale_only_when_the_loss_spans_decades(history, scale):
    snapshot = make_snapshot("linear", epoch=4, history=history, initial_loss=float("nan"))
    plot = drawn("loss", snapshot)
    assert plot.axes.get_yscale() == scale
    np.testing.assert_array_equal(plot.line.get_ydata(), history)
    np.testing.assert_array_equal(plot.line.get_xdata(), [1, 2, 3, 4])
    low, high = plot.axes.get_ylim()
    assert low <= history.min() and history.max() <= high


def test_loss_axes_grow_in_steps_and_end_where_a_fresh_plot_of_the_whole_run_would():
    losses = np.geomspace(0.9, 0.004, 60)
    limits = [live_plot.loss_axis(losses[:n]) for n in range(1, 61)]
    assert len(set(limits)) <= 6  # a handful of backgrounds for 60 frames
    assert limits[-1] == live_plot.loss_axis(losses)
    for (_, (low, high)), n in zip(limits, range(1, 61)):
        assert low <= losses[:n].min() and losses[:n].max() <= high


def test_loss_plot_x_axis_runs_to_the_last_epoch_when_known():
    snapshot = dataclasses.replace(make_snapshot("linear", epoch=3), epochs_total=50)
    assert drawn("loss", snapshot).axes.get_xlim() == (0, 50)


def test_loss_plot_starts_at_epoch_zero_with_the_initial_loss():
    snapshot = make_snapshot("linear", epoch=3)
    line = drawn("loss", snapshot).line
    np.testing.assert_array_equal(line.get_xdata(), [0, 1, 2, 3])
    np.testing.assert_array_equal(line.get_ydata(), np.r_[snapshot.initial_loss, snapshot.history])


def test_loss_plot_of_a_diverging_run_still_renders(tmp_path):
    history = np.array([1.0, 1e3, 1e9, np.inf])
    path = tmp_path / "loss.png"
    RENDERERS["loss"](make_snapshot("linear", epoch=4, history=history), path)
    assert_valid_png(path)


def test_fit_plot_draws_the_snapshots_prediction():
    snapshot = make_snapshot("linear", epoch=2)
    curve = drawn("fit", snapshot).curve
    x = np.asarray(curve.get_xdata())
    expected = x * snapshot.params["coef"][0] + snapshot.params["intercept"]
    np.testing.assert_allclose(curve.get_ydata(), expected)


def test_boundary_plot_draws_the_probability_and_the_half_line():
    snapshot = make_snapshot("logistic", 2)
    plot = drawn("boundary", snapshot)
    # One band per pixel inside the axes: the band of the model's probability at that
    # pixel's data coordinates (read off the score, compared with the probability here) ...
    rows, cols = plot._band_pixels
    assert plot.bands.shape == (rows.stop - rows.start, cols.stop - cols.start)
    expected = np.clip(np.floor(snapshot.decision(plot._grid) * 10), 0, 9).reshape(plot.bands.shape)
    np.testing.assert_array_equal(plot.bands, expected)
    # ... painted in its band's colour where no point covers it.
    pixels = np.asarray(plot.figure.canvas.buffer_rgba())[rows, cols][::-1]
    covered = np.zeros(np.asarray(plot.figure.canvas.buffer_rgba()).shape[:2], bool)
    covered.reshape(-1)[plot._point_index] = True
    free = ~covered[rows, cols][::-1]
    free[:, :3] = free[:3, :] = False  # keep clear of the frame's edges
    painted = pixels[free] == plot._palette[plot.bands[free]]
    assert painted.all(axis=1).mean() > 0.95  # only the boundary line covers the rest
    assert len(np.unique(plot.bands)) > 5
    xs, ys = (np.asarray(v) for v in plot.boundary.get_data())
    on_line = np.column_stack([xs, ys])[np.isfinite(xs)]
    assert len(on_line) > 10
    np.testing.assert_allclose(snapshot.decision(on_line), 0.5, atol=0.01)


def test_boundary_bands_come_from_the_link_itself_when_it_is_not_increasing():
    decreasing = lambda z: 1 - 1 / (1 + np.exp(-z))  # noqa: E731
    assert boundary._crossings(decreasing, np.linspace(0.1, 0.9, 9)) is None
    crossings = boundary._crossings(lambda z: 1 / (1 + np.exp(-z)), np.array([0.1, 0.5, 0.9]))
    np.testing.assert_allclose(crossings, [np.log(1 / 9), 0.0, np.log(9)], atol=1e-12)
    # Levels the link never reaches, or always passes, count for no score or every score.
    clipped = boundary._crossings(lambda z: np.clip(z, 0.2, 0.8), np.array([0.1, 0.5, 0.9]))
    assert clipped[0] == -np.inf and clipped[2] == np.inf


def test_the_grid_reaches_pixels_by_bilinear_interpolation():
    a_values, b_values = np.linspace(-1, 2, 7), np.linspace(0, 1, 5)
    grid = np.random.default_rng(0).normal(size=(5, 7))
    xs, ys = np.linspace(-1.5, 2.5, 40), np.linspace(0, 1, 30)  # past the ends: clamped
    values = (surface._interpolation_matrix(b_values, ys) @ grid
              @ surface._interpolation_matrix(a_values, xs).T)
    # Along each row, then each column, plain linear interpolation.
    along_a = np.array([np.interp(xs, a_values, row) for row in grid])
    expected = np.array([np.interp(ys, b_values, column) for column in along_a.T]).T
    np.testing.assert_allclose(values, expected, atol=1e-12)


def test_two_parameter_surface_plots_coef_and_intercept_and_the_path():
    snapshot = make_snapshot("linear", 1, epoch=5)
    plot = drawn("surface", snapshot)
    assert plot.axes.get_xlabel() == "slope: coef[0]"
    assert plot.axes.get_ylabel().startswith("intercept")
    np.testing.assert_array_equal(plot.path_line.get_xdata(), snapshot.path[:, 0])
    np.testing.assert_array_equal(plot.path_line.get_ydata(), snapshot.path[:, 1])


@pytest.mark.parametrize(("model", "n_features"), [("linear", 3), ("logistic", 2),
                                                   ("logistic", 30)])
def test_a_surface_of_more_parameters_draws_each_point_on_its_own_loss(model, n_features):
    snapshot = make_snapshot(model, n_features, epoch=12)
    plot = drawn("surface", snapshot)
    assert "main direction" in plot.axes.get_xlabel() and "second direction" in plot.axes.get_ylabel()
    coords = np.column_stack([plot.path_line.get_xdata(), plot.path_line.get_ydata()])
    assert coords.shape == (13, 2)
    # The loss of the drawn surface under each drawn point is that point's own loss.
    view = path_view(snapshot)
    design = np.column_stack([snapshot.X, np.ones(len(snapshot.X))])
    own = snapshot.maths.loss_of_z(snapshot.path @ design.T, snapshot.y)
    for (a, b), loss in zip(coords, own):
        on_grid = view.loss_grid(snapshot, np.array([a]), np.array([b]))
        assert on_grid[0, 0] == pytest.approx(loss, rel=1e-9)
    # ... and the start marker sits on the starting loss (not on a slice through the end).
    start = np.column_stack([plot.start.get_xdata(), plot.start.get_ydata()])
    assert view.loss_grid(snapshot, start[:, 0], start[:, 1])[0, 0] == pytest.approx(own[0])


def test_a_real_fits_surface_shows_its_recorded_losses():
    from gdplot import LogisticRegressionGD
    rng = np.random.default_rng(1)
    X = rng.standard_normal((150, 5))
    y = (X @ [1.0, -2.0, 0.5, 0.0, 1.5] + 0.5 * rng.standard_normal(150) > 0).astype(int)
    snapshot = LogisticRegressionGD(lr=0.5, epochs=15, random_state=0).fit(X, y).snapshot()
    view = path_view(snapshot)
    losses = [view.loss_grid(snapshot, np.array([a]), np.array([b]))[0, 0]
              for a, b in view.coords]
    np.testing.assert_allclose(losses, np.r_[snapshot.initial_loss, snapshot.history], rtol=1e-9)


def test_a_growing_paths_view_keeps_its_orientation_from_frame_to_frame():
    from gdplot import LogisticRegressionGD
    rng = np.random.default_rng(3)
    X = rng.standard_normal((200, 8))
    y = (X @ rng.standard_normal(8) + rng.standard_normal(200) > 0).astype(int)
    path = LogisticRegressionGD(lr=0.3, epochs=40, batch_size=16, random_state=0).fit(
        X, y).snapshot().path
    views = [landscape.PathView(path[:count]) for count in range(3, len(path) + 1)]
    for view in views:
        assert np.all(view.coords.sum(axis=0) > 0)  # the path's mean lies on the + side
    # So a live view never mirrors when the path grows by a point (an SVD's sign can flip).
    for before, after in zip(views, views[1:]):
        assert before.u @ after.u > 0.5 and before.v @ after.v > 0


def test_a_path_views_colour_bar_labels_every_decade_of_a_log_range():
    from gdplot import LogisticRegressionGD
    rng = np.random.default_rng(0)
    X = 3 * rng.standard_normal((300, 6))
    y = (X @ rng.standard_normal(6) > 0).astype(int)
    snapshot = LogisticRegressionGD(lr=2.0, epochs=60, random_state=0).fit(X, y).snapshot()
    plot = drawn("surface", snapshot)
    levels = plot.levels
    assert levels[-1] / levels[0] >= 100  # the case: losses over decades
    # Bands of equal ratios, so each decade gets as many ...
    np.testing.assert_allclose(np.diff(np.log10(levels)), np.diff(np.log10(levels))[0])
    # ... and every decade inside the range is labelled: the lower ones are not left blank.
    colorbar_axes = plot.figure.axes[1]
    labels = [float(t.get_text()) for t in colorbar_axes.get_yticklabels()]
    decades = 10.0 ** np.arange(np.ceil(np.log10(levels[0])), np.log10(levels[-1]) + 1e-9)
    assert set(decades) <= set(labels)


def test_shared_surface_ranges_cover_every_path_and_hold_the_axes_still():
    late = make_snapshot("linear", 1, epoch=6)
    early = dataclasses.replace(late, epoch=2, path=late.path[:3] - 5.0)  # off to one side
    ranges = surface_ranges([early, late])
    for points, grid in ((early.path, ranges), (late.path, ranges)):
        for axis in (0, 1):
            assert grid[axis][0] < points[:, axis].min() and points[:, axis].max() < grid[axis][-1]
    # One snapshot's default grid is fitted to its own path only, so the axes differ ...
    own = [drawn("surface", s).axes for s in (early, late)]
    assert (own[0].get_xlim(), own[0].get_ylim()) != (own[1].get_xlim(), own[1].get_ylim())
    # ... and the shared grid gives every frame the same axes.
    shared = [drawn("surface", s, ranges=ranges).axes for s in (early, late)]
    assert (shared[0].get_xlim(), shared[0].get_ylim()) == (shared[1].get_xlim(),
                                                            shared[1].get_ylim())


def reference_loss(snapshot: Snapshot, flat_params: np.ndarray) -> float:
    """The loss at one parameter vector, computed the obvious way (for checking the grid)."""
    z = snapshot.X @ flat_params[:-1] + flat_params[-1]
    if snapshot.model == "logistic":
        p = 1.0 / (1.0 + np.exp(-z))
        return float(-np.mean(snapshot.y * np.log(p) + (1 - snapshot.y) * np.log(1 - p)))
    return float(np.mean((z - snapshot.y) ** 2))


@pytest.mark.parametrize(("model", "n_features"), [("linear", 1), ("linear", 3), ("logistic", 2)])
def test_loss_grid_matches_a_point_by_point_computation(model, n_features, monkeypatch):
    monkeypatch.setattr(landscape, "_GRID_BLOCK_ELEMENTS", 500)  # force several blocks
    snapshot = make_snapshot(model, n_features)
    a_values, b_values = np.linspace(-1, 2, 5), np.linspace(0, 3, 4)
    grid = loss_grid(snapshot, a_values, b_values)
    assert grid.shape == (4, 5)
    current = np.append(snapshot.params["coef"], snapshot.params["intercept"])
    for row, b in enumerate(b_values):
        for col, a in enumerate(a_values):
            flat = current.copy()
            flat[0], flat[1] = a, b
            assert grid[row, col] == pytest.approx(reference_loss(snapshot, flat), rel=1e-9)


def test_save_figure_failure_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    path = tmp_path / "plot.png"
    path.write_bytes(b"previous frame")
    fig = live_plot.new_figure()

    def broken_savefig(file, **kwargs):
        file.write(b"half a PNG")
        raise RuntimeError("disk full")

    fig.savefig = broken_savefig
    with pytest.raises(RuntimeError, match="disk full"):
        save_figure(fig, path)
    assert path.read_bytes() == b"previous frame"
    assert [p.name for p in tmp_path.iterdir()] == ["plot.png"]


def test_save_figure_into_a_missing_folder_raises_and_writes_nothing(tmp_path):
    with pytest.raises(FileNotFoundError):
        RENDERERS["loss"](make_snapshot("linear"), tmp_path / "missing" / "loss.png")
    assert list(tmp_path.iterdir()) == []


def test_overwriting_a_live_file_replaces_it_with_the_new_frame(tmp_path):
    path = tmp_path / "loss.png"
    RENDERERS["loss"](make_snapshot("linear", epoch=2), path)
    first = path.read_bytes()
    RENDERERS["loss"](make_snapshot("linear", epoch=6), path)
    assert path.read_bytes() != first
    assert_valid_png(path)


def test_render_comparison_draws_one_curve_per_run(tmp_path, monkeypatch):
    figures = []
    monkeypatch.setattr(comparison, "save_figure", lambda fig, path: figures.append(fig))
    histories = {
        "batch": np.geomspace(10, 1, 20),
        "mini-batch": np.geomspace(10, 0.1, 20),
        "stochastic": np.geomspace(10, 0.05, 20),
    }
    render_comparison(histories, tmp_path / "unused.png")
    ax = figures[0].axes[0]
    assert [text.get_text().split(" (")[0] for text in ax.get_legend().get_texts()] == list(
        histories
    )
    assert ax.get_yscale() == "log"
    for line, losses in zip(ax.lines, histories.values(), strict=True):
        np.testing.assert_array_equal(line.get_ydata(), losses)


def test_render_comparison_writes_a_png(tmp_path):
    path = tmp_path / "comparison.png"
    render_comparison({"batch": [3.0, 2.0, 1.5], "stochastic": [3.0, 1.0, 0.9]}, path)
    assert_valid_png(path)


@pytest.mark.parametrize(
    ("histories", "message"),
    [
        ({}, "empty"),
        ({"batch": np.ones((2, 2))}, r"histories\['batch'\].*shape \(2, 2\)"),
        ({"batch": []}, r"shape \(0,\)"),
    ],
)
def test_render_comparison_rejects_bad_histories(tmp_path, histories, message):
    with pytest.raises(ValueError, match=message):
        render_comparison(histories, tmp_path / "c.png")
    assert list(tmp_path.iterdir()) == []


def test_renderers_and_snapshots_pickle_for_process_pools():
    snapshot = make_snapshot("logistic", 2)
    for kind, fn in RENDERERS.items():
        assert pickle.loads(pickle.dumps(fn)) is fn, kind
    copy = pickle.loads(pickle.dumps(snapshot))
    np.testing.assert_array_equal(copy.decision(snapshot.X), snapshot.decision(snapshot.X))


def test_renderers_run_concurrently_on_threads(tmp_path):
    snapshots = [make_snapshot("linear", epoch=e) for e in range(1, 5)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        paths = list(
            pool.map(lambda s: RENDERERS["fit"](s, tmp_path / f"fit{s.epoch}.png"), snapshots)
        )
    for path in paths:
        assert_valid_png(path, alone=False)
    assert len(list(tmp_path.iterdir())) == len(snapshots)


def test_library_modules_never_import_pyplot():
    code = (
        "import sys, gdplot, gdplot.models, gdplot.data, gdplot.cli, gdplot.cli.train, gdplot.cli.demo, "
        "gdplot.plots.callbacks, gdplot.plots.renderers, gdplot.plots.comparison; "
        "sys.exit('matplotlib.pyplot' in sys.modules)"
    )
    repo_root = Path(__file__).resolve().parents[3]  # import this checkout, whatever is installed
    assert subprocess.run([sys.executable, "-c", code], cwd=repo_root, timeout=60).returncode == 0


def test_encode_png_round_trips_the_pixels_with_the_dpi():
    import io

    pixels = (np.random.default_rng(0).random((48, 64, 4)) * 255).astype(np.uint8)
    with Image.open(io.BytesIO(png.encode_png(pixels, dpi=100))) as image:
        assert (image.format, image.mode, image.size) == ("PNG", "RGBA", (64, 48))
        assert image.info["dpi"] == pytest.approx((100, 100), abs=0.01)
        np.testing.assert_array_equal(np.asarray(image), pixels)
    with pytest.raises(ValueError, match=r"rgba must be \(height, width, 4\) uint8, got \(48, 64, 3\)"):
        png.encode_png(pixels[:, :, :3])


LAID_OUT_FROM_TEXTS = {
    "loss, linear": ("loss", dict(history=np.geomspace(2.0, 0.3, 4))),
    "loss, log": ("loss", dict(history=np.geomspace(2.0, 1e-3, 4))),
    "loss, tiny": ("loss", dict(history=np.geomspace(2e-6, 1e-9, 4), initial_loss=3e-6)),
    "loss, millions": ("loss", dict(history=np.linspace(3e6, 2e6, 4), initial_loss=3e6)),
    "fit, long names": ("fit", dict(feature_names=("median income of the block group",),
                                    target_name="house value (hundreds of thousands)")),
}


@pytest.mark.parametrize("case", list(LAID_OUT_FROM_TEXTS))
def test_a_plot_laid_out_from_its_texts_fits_them_as_the_layout_engine_would(case, monkeypatch):
    kind, fields = LAID_OUT_FROM_TEXTS[case]
    history = fields.pop("history", None)
    initial = fields.pop("initial_loss", 3.0)
    snapshot = dataclasses.replace(make_snapshot("linear", history=history, initial_loss=initial),
                                   **fields)
    backgrounds().clear()  # each layout drawn here, not restored from another plot
    plot = drawn(kind, snapshot)
    assert type(plot).layout == "texts"
    figure, renderer = plot.figure.bbox, plot.figure.canvas.get_renderer()
    texts = plot.axes.get_tightbbox(renderer)  # every text of the axes, as drawn
    pad = live_plot.LAYOUT_PAD * plot.figure.dpi / 72
    # Every text is inside the figure, with the padding kept ...
    assert texts.x0 >= figure.x0 + pad - 1 and texts.y0 >= figure.y0 + pad - 1
    assert texts.x1 <= figure.x1 - pad + 1 and texts.y1 <= figure.y1 - pad + 1
    # ... and no space is wasted: the axes is where matplotlib's constrained layout puts it.
    monkeypatch.setattr(type(plot), "layout", "constrained")
    backgrounds().clear()
    constrained = drawn(kind, snapshot).axes.get_window_extent()
    np.testing.assert_allclose(plot.axes.get_window_extent().extents, constrained.extents,
                               atol=1)


def test_colour_bar_ticks_from_zero_are_linear_steps():
    # A loss of exactly 0 (a target the model fits exactly) starts the colour range at 0.
    np.testing.assert_allclose(live_plot.nice_ticks(0.0, 1.0), [0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert live_plot.nice_ticks(0.01, 1.0).tolist() == [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]
