"""Synthetic data sets, the strict CSV loader and standardisation."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gdplot.data import (
    DataError,
    load_csv,
    make_classification,
    make_nonlinear,
    make_regression,
    standardize,
)

# --------------------------------------------------------------------------- synthetic data


def test_make_regression_without_noise_is_exactly_linear():
    X, y, coef, intercept = make_regression(50, 3, noise=0.0, random_state=1)
    assert X.shape == (50, 3) and y.shape == (50,) and coef.shape == (3,)
    np.testing.assert_allclose(y, X @ coef + intercept)


def test_make_regression_noise_has_the_requested_spread():
    X, y, coef, intercept = make_regression(20_000, 2, noise=2.0, random_state=3)
    assert np.std(y - (X @ coef + intercept)) == pytest.approx(2.0, rel=0.05)


def test_synthetic_sets_are_reproducible_with_random_state_and_vary_without():
    first, again = make_regression(30, random_state=7), make_regression(30, random_state=7)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(
        make_nonlinear(30, random_state=1)[1], make_nonlinear(30, random_state=2)[1]
    )


def test_make_classification_gives_two_balanced_separated_blobs():
    X, y = make_classification(401, separation=4.0, random_state=0)
    assert X.shape == (401, 2)
    assert set(np.unique(y)) == {0.0, 1.0}
    assert np.sum(y == 1.0) == 201
    centre_0, centre_1 = X[y == 0].mean(axis=0), X[y == 1].mean(axis=0)
    assert np.linalg.norm(centre_1 - centre_0) == pytest.approx(4.0, rel=0.1)
    # Shuffled, so a first-half/second-half split would not be a trivial one.
    assert 0 < y[:200].sum() < 200


def test_make_nonlinear_without_noise_is_a_sine():
    X, y = make_nonlinear(100, noise=0.0, random_state=0)
    assert X.shape == (100, 1)
    assert X.min() >= -3 and X.max() <= 3
    np.testing.assert_allclose(y, np.sin(X[:, 0]))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: make_regression(0), ValueError, "n_samples must be an int >= 1, got n_samples=0"),
        (
            lambda: make_regression(10, 2.5),
            TypeError,
            r"n_features must be an int >= 1, got n_features=2\.5",
        ),
        (
            lambda: make_regression(10, noise=-1.0),
            ValueError,
            r"noise must be a finite number >= 0, got noise=-1\.0",
        ),
        (lambda: make_regression(True), TypeError, r"n_samples must be .*\(bool\)"),
        (
            lambda: make_classification(1),
            ValueError,
            "n_samples must be an int >= 2, got n_samples=1",
        ),
        (lambda: make_classification(10, separation=float("nan")), ValueError, "separation=nan"),
        (
            lambda: make_nonlinear(10, noise="lots"),
            TypeError,
            r"noise must be a finite number >= 0, got noise='lots' \(str\)",
        ),
        (lambda: make_nonlinear(10, random_state=-1), ValueError, "random_state"),
    ],
)
def test_synthetic_data_rejects_bad_arguments_by_name(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --------------------------------------------------------------------------- load_csv


def write(tmp_path, text: str, name: str = "data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_load_csv_splits_target_from_features_in_file_order(tmp_path):
    path = write(tmp_path, "a, price ,b\n1,10,2\n3,30,4\n\n5,50,6\n")
    X, y, names = load_csv(path, "price")
    assert names == ["a", "b"]
    np.testing.assert_array_equal(X, [[1, 2], [3, 4], [5, 6]])
    np.testing.assert_array_equal(y, [10, 30, 50])
    assert X.dtype == float and y.dtype == float


def test_load_csv_accepts_a_byte_order_mark_and_quoted_cells(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes('\ufeffx,"y"\r\n" 1.5 ",2e3\r\n-2,3\r\n'.encode("utf-8"))
    X, y, names = load_csv(path, "y")
    assert names == ["x"]
    np.testing.assert_array_equal(X[:, 0], [1.5, -2.0])
    np.testing.assert_array_equal(y, [2000.0, 3.0])


@pytest.mark.parametrize(
    ("text", "target", "message"),
    [
        ("", "y", "has no header row"),
        ("\n\n", "y", "has no header row"),
        ("\n  \n\t\n", "y", "has no header row"),
        ("x,y\n", "y", "has 0 data row"),
        ("x,y\n1,2\n", "y", "has 1 data row"),
        ("x,z\n1,2\n3,4\n", "y", "no column 'y'; columns are: x, z"),
        ("x,y,y\n1,2,3\n3,4,5\n", "y", "more than one column 'y'"),
        ("y\n1\n2\n", "y", "only the target column"),
        ("x,y\n1,2\n3\n", "y", "line 3: expected 2 cells, got 1"),
        ("x,y\n1,2\n\n\n3,4,5\n", "y", "line 5: expected 2 cells, got 3"),
        ("x,y\n1,2\n3,abc\n", "y", "line 3, column 'y': not a finite number: 'abc'"),
        ("x,y\n1,2\n,4\n", "y", "line 3, column 'x': empty cell"),
        ("x,y\n1,2\nnan,4\n", "y", "line 3, column 'x': not a finite number: 'nan'"),
        ("x,y\n1,2\n3,inf\n", "y", "not a finite number: 'inf'"),
    ],
)
def test_load_csv_bad_content_is_one_clear_line(tmp_path, text, target, message):
    path = write(tmp_path, text)
    with pytest.raises(DataError, match=message) as caught:
        load_csv(path, target)
    assert "\n" not in str(caught.value)
    assert str(path) in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_load_csv_skips_blank_and_whitespace_lines_before_the_header(tmp_path):
    X, y, features = load_csv(write(tmp_path, " \n , \n\nx,y\n1,2\n  \n3,4\n"), "y")
    assert features == ["x"]
    np.testing.assert_array_equal(X[:, 0], [1.0, 3.0])
    np.testing.assert_array_equal(y, [2.0, 4.0])


def test_load_csv_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"missing\.csv'?: no such file"):
        load_csv(tmp_path / "missing.csv", "y")


def test_load_csv_directory(tmp_path):
    with pytest.raises(DataError, match="is a directory, not a CSV file"):
        load_csv(tmp_path, "y")


def test_load_csv_unreadable_path_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="cannot read: File name too long"):
        load_csv(tmp_path / ("a" * 300 + ".csv"), "y")


def test_load_csv_binary_file(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(b"x,y\n\xff\xfe\x00,1\n")
    with pytest.raises(DataError, match="not UTF-8 text"):
        load_csv(path, "y")


finite_floats = st.floats(allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=40, deadline=None)
@given(
    table=hnp.arrays(
        np.float64, st.tuples(st.integers(2, 8), st.integers(2, 4)), elements=finite_floats
    )
)
def test_load_csv_round_trips_what_csv_writer_wrote(tmp_path_factory, table):
    path = tmp_path_factory.mktemp("csv") / "table.csv"
    columns = [f"c{i}" for i in range(table.shape[1])]
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(columns)
        writer.writerows([[repr(float(v)) for v in row] for row in table])
    X, y, names = load_csv(path, "c1")
    assert names == [c for c in columns if c != "c1"]
    np.testing.assert_array_equal(y, table[:, 1])
    np.testing.assert_array_equal(X, np.delete(table, 1, axis=1))


# --------------------------------------------------------------------------- standardize


def test_standardize_gives_zero_mean_unit_std_and_inverts():
    X = np.random.default_rng(0).normal(5.0, 3.0, size=(100, 3))
    Xs, mean, scale = standardize(X)
    np.testing.assert_allclose(Xs.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Xs.std(axis=0), 1.0)
    np.testing.assert_allclose(Xs * scale + mean, X)


@pytest.mark.parametrize("constant", [0.0, 0.1, -7.3])
def test_standardize_constant_column_gets_scale_one(constant):
    X = np.column_stack([np.full(10, constant), np.arange(10.0)])
    Xs, mean, scale = standardize(X)
    assert scale[0] == 1.0
    np.testing.assert_allclose(Xs[:, 0], 0.0, atol=1e-15)
    assert mean[0] == pytest.approx(constant)


@settings(max_examples=50, deadline=None)
@given(
    hnp.arrays(
        np.float64, st.tuples(st.integers(1, 20), st.integers(1, 4)), elements=st.floats(-1e6, 1e6)
    )
)
def test_standardize_is_finite_and_round_trips_for_any_finite_table(X):
    Xs, mean, scale = standardize(X)
    assert np.all(np.isfinite(Xs)) and np.all(scale > 0)
    np.testing.assert_allclose(Xs * scale + mean, X, atol=1e-6 * (1 + np.abs(X).max()))


@pytest.mark.parametrize(
    ("X", "message"),
    [
        (np.arange(3.0), r"2-D.*shape \(3,\)"),
        (np.empty((0, 2)), r"shape \(0, 2\)"),
        (np.array([[1.0], [np.nan]]), "NaN or infinity"),
        (np.array([["a"], ["b"]]), "dtype <U1"),
    ],
)
def test_standardize_rejects_bad_input(X, message):
    with pytest.raises(ValueError, match=message):
        standardize(X)
