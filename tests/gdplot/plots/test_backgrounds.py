"""A live plot reuses a background drawn before from the same inputs, and only then."""

from __future__ import annotations

import dataclasses
import threading

import matplotlib as mpl
import numpy as np
import pytest

from gdplot import LinearRegressionGD, LogisticRegressionGD
from gdplot.plots.backgrounds import BackgroundStore, backgrounds, data_digest
from gdplot.data.datasets import make_classification, make_regression
from gdplot.plots.renderers import RENDERERS
from gdplot.models.snapshot import Snapshot


def _snapshot(kind: str, *, seed: int = 0, epochs: int = 20) -> Snapshot:
    if kind == "boundary":
        X, y = make_classification(300, random_state=seed)
        model = LogisticRegressionGD(lr=0.1, epochs=epochs, random_state=0)
    else:
        X, y, _, _ = make_regression(300, 1, random_state=seed)
        model = LinearRegressionGD(lr=0.05, epochs=epochs, random_state=0)
    snapshot = model.fit(X, y).snapshot()
    return dataclasses.replace(snapshot, epochs_total=2 * epochs, label="run")  # live: not last


@pytest.fixture(autouse=True)
def empty_store():
    backgrounds().clear()
    yield
    backgrounds().clear()


def _first_frame(kind: str, snapshot: Snapshot) -> np.ndarray:
    return np.array(RENDERERS[kind].fresh(snapshot).frame(snapshot))


@pytest.mark.parametrize("kind", ["loss", "fit", "boundary", "surface"])
def test_a_reused_background_gives_the_same_frames_as_drawing_it(kind):
    snapshot = _snapshot(kind)
    drawn_plot = RENDERERS[kind].fresh(snapshot)
    drawn = [np.array(drawn_plot.frame(snapshot)) for _ in range(2)]
    assert (backgrounds().hits, len(backgrounds())) == (0, 1)
    reused_plot = RENDERERS[kind].fresh(snapshot)
    reused = [np.array(reused_plot.frame(snapshot)) for _ in range(2)]
    assert backgrounds().hits == 1
    for frame in (*drawn[1:], *reused):  # every frame, first or later, drawn or reused
        np.testing.assert_array_equal(frame, drawn[0])
    # Later frames of a reused plot draw their own epochs on it.
    later = dataclasses.replace(snapshot, epoch=snapshot.epoch - 5,
                                history=snapshot.history[:-5])
    if kind == "loss":
        assert not np.array_equal(np.array(reused_plot.frame(later)), drawn[0])


def test_the_surface_is_not_computed_again_when_its_background_is_reused(monkeypatch):
    from gdplot.plots import surface

    snapshot = _snapshot("surface")
    _first_frame("surface", snapshot)
    calls = []
    monkeypatch.setattr(surface, "loss_grid", lambda *a: calls.append(a))
    _first_frame("surface", snapshot)
    assert calls == [] and backgrounds().hits == 1


@pytest.mark.parametrize(("kind", "change"), [
    ("loss", lambda s: dataclasses.replace(s, label="another run")),  # the title
    ("loss", lambda s: dataclasses.replace(s, epochs_total=3 * s.epochs_total)),  # x-axis
    ("loss", lambda s: dataclasses.replace(s, history=s.history * 100)),  # y-axis
    ("fit", lambda s: dataclasses.replace(s, y=s.y + 0.5)),  # the data
    ("fit", lambda s: dataclasses.replace(s, feature_names=("height",))),  # a label
    ("boundary", lambda s: dataclasses.replace(s, class_names=("no", "yes"))),  # a legend
    ("surface", lambda s: dataclasses.replace(s, X=s.X * 2)),  # the loss surface
])
def test_a_background_drawn_from_other_inputs_is_not_reused(kind, change):
    snapshot = _snapshot(kind)
    _first_frame(kind, snapshot)
    changed = change(snapshot)
    frame = _first_frame(kind, changed)
    assert backgrounds().hits == 0
    backgrounds().clear()
    np.testing.assert_array_equal(frame, _first_frame(kind, changed))  # as if drawn alone


def test_a_changed_style_is_not_reused():
    snapshot = _snapshot("loss")
    plain = _first_frame("loss", snapshot)
    with mpl.rc_context({"axes.facecolor": "#eeeeee"}):
        grey = _first_frame("loss", snapshot)
    assert backgrounds().hits == 0
    assert not np.array_equal(grey, plain)


def test_the_store_keeps_its_most_recently_used_backgrounds():
    store = BackgroundStore(max_entries=2)
    for key in ("a", "b"):
        store.put(key, key)
    assert store.get("a") == "a"  # "a" is now the most recently used ...
    store.put("c", "c")  # ... so "b" goes
    assert (store.get("b"), store.get("a"), store.get("c")) == (None, "a", "c")
    assert len(store) == 2 and (store.hits, store.misses) == (3, 1)
    store.put(None, "never")
    assert store.get(None) is None and len(store) == 2
    BackgroundStore(max_entries=0).put("a", "a")  # keeps nothing, raises nothing


def test_the_data_digest_tells_shape_dtype_and_values_apart():
    values = np.arange(6.0)
    digests = {data_digest(values), data_digest(values.reshape(2, 3)),
               data_digest(values.astype(np.float32)), data_digest(values + 1e-12),
               data_digest(values[::2]), data_digest(values, values)}
    assert len(digests) == 6
    assert data_digest(values) == data_digest(np.arange(6.0))


def test_threads_drawing_the_same_background_at_once_each_get_the_right_frames():
    snapshots = [_snapshot("fit", seed=seed % 2) for seed in range(8)]
    expected = {}
    for seed in (0, 1):
        backgrounds().clear()
        expected[seed] = _first_frame("fit", snapshots[seed])
    backgrounds().clear()
    frames: dict[int, list[np.ndarray]] = {}
    start = threading.Barrier(len(snapshots))

    def draw(index: int) -> None:
        start.wait()
        plot = RENDERERS["fit"].fresh(snapshots[index])
        frames[index] = [np.array(plot.frame(snapshots[index])) for _ in range(3)]

    threads = [threading.Thread(target=draw, args=(i,)) for i in range(len(snapshots))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(frames) == len(snapshots)
    for index, drawn in frames.items():
        for frame in drawn:
            np.testing.assert_array_equal(frame, expected[index % 2])
    assert len(backgrounds()) == 2
