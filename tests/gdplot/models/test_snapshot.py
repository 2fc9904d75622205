"""Snapshots: what renderers learn about the run (its id, its length, names for the axes)."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np

from gdplot import LinearRegressionGD, LogisticRegressionGD
from gdplot.models.snapshot import Snapshot


def plain_snapshot(**changes) -> Snapshot:
    snapshot = Snapshot(model="linear", epoch=3, step=3, loss=0.5,
                        params={"coef": np.ones(2), "intercept": np.array(0.0)},
                        history=np.array([0.9, 0.7, 0.5]), X=np.zeros((4, 2)), y=np.zeros(4))
    return dataclasses.replace(snapshot, **changes)


def test_names_fall_back_to_positions_and_y():
    snapshot = plain_snapshot()
    assert (snapshot.run_id, snapshot.epochs_total) == ("", 0)
    assert (snapshot.feature_name(0), snapshot.feature_name(1)) == ("x[0]", "x[1]")
    assert snapshot.target_label == "y"
    assert (snapshot.class_name(0), snapshot.class_name(1)) == ("y = 0", "y = 1")
    assert not snapshot.is_last  # the run's length is unknown


def test_given_names_are_used():
    snapshot = plain_snapshot(feature_names=("age", "dose"), target_name="outcome",
                              class_names=("0.0", "cured"))
    assert (snapshot.feature_name(0), snapshot.feature_name(1)) == ("age", "dose")
    assert snapshot.target_label == "outcome"
    assert (snapshot.class_name(0), snapshot.class_name(1)) == ("outcome = 0", "outcome = cured")


def test_a_fit_gives_its_snapshots_one_run_id_its_length_and_its_classes():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 2))
    y = np.where(X[:, 0] > 0, "yes", "no")
    ids = []
    recorder = type("R", (), {"on_epoch_end": lambda self, est, epoch: ids.append(
        est.snapshot())})()
    model = LogisticRegressionGD(lr=0.5, epochs=5, random_state=0).fit(X, y, callbacks=[recorder])
    assert len({s.run_id for s in ids}) == 1 and ids[0].run_id
    assert [s.epochs_total for s in ids] == [5] * 5
    assert [s.is_last for s in ids] == [False] * 4 + [True]
    assert ids[0].class_names == ("no", "yes")
    model.fit(X, y)
    assert model.snapshot().run_id != ids[0].run_id  # a new fit is a new run
    linear = LinearRegressionGD(epochs=2).fit(X, X[:, 0]).snapshot()
    assert linear.class_names == ()


def test_a_snapshot_pickles_with_its_new_fields():
    snapshot = plain_snapshot(run_id="abc", epochs_total=9, feature_names=("a", "b"))
    copy = pickle.loads(pickle.dumps(snapshot))
    assert (copy.run_id, copy.epochs_total, copy.feature_names) == ("abc", 9, ("a", "b"))
