"""Synthetic data sets, the strict CSV loader and standardisation."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gdplot.data.csv_text import DataError, sniff_delimiter
from gdplot.data.tables import load_columns, load_csv, load_table
from gdplot.data.datasets import make_classification, make_nonlinear, make_regression
from gdplot.data.preprocessing import split_rows, standardize

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
        ("x,y\n1,2\n3,abc\n", "y", "line 3, column 'y': the target is not a number: 'abc'"),
        ("x,y\n1,2\n,4\n", "y", "has 1 data row.s. with a value in every column used"),
        ("x,y\n1,2\nnan,4\n", "y", "has 1 data row.s. with a value in every column used"),
        ("x,y\n1,2\n3,inf\n", "y", "line 3, column 'y': not a finite number: 'inf'"),
        ("x,y\n1,2\n1e999,4\n", "y", "line 3, column 'x': not a finite number: '1e999'"),
        ("x,y\n1,2\n1_0,4\n", "y", "no numeric feature column.*x \\('1_0'\\)"),
        ("x,y\n1,2\n3,4\x00\n", "y", "line 3, column 'y': the target is not a number"),
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


# --------------------------------------------------------------------------- load_table


def test_text_columns_are_left_out_with_one_notice_naming_them(tmp_path):
    table = load_table(write(tmp_path, "species,x,island,y\nAdelie,1,Dream,2\nGentoo,2,,4\n"
                                       "Adelie,3,Biscoe,6\n"), "y")
    assert table.feature_names == ["x"]
    np.testing.assert_array_equal(table.X[:, 0], [1, 2, 3])
    assert table.notices == ["left out non-numeric column(s): species ('Adelie'), island "
                             "('Dream') (choose columns with --features)"]


def test_chosen_features_are_used_in_the_order_given(tmp_path):
    path = write(tmp_path, "a,b,name,y\n1,10,p,5\n2,20,q,6\n3,30,r,7\n")
    table = load_table(path, "y", features=["b", "a"])
    assert table.feature_names == ["b", "a"] and table.notices == []
    np.testing.assert_array_equal(table.X, [[10, 1], [20, 2], [30, 3]])
    with pytest.raises(DataError, match=r"column 'name' is not numeric \(line 2: 'p'\)"):
        load_table(path, "y", features=["a", "name"])
    with pytest.raises(DataError, match=r"no column\(s\) 'c', 'd'; columns are: a, b, name, y"):
        load_table(path, "y", features=["a", "c", "d"])


def test_one_rule_for_rows_missing_a_value_in_a_column_used(tmp_path):
    text = ("x,unused,y\n"
            "1,,1\n"        # missing only in an unused (text) column: kept
            "2,t,NA\n"      # missing target: left out
            ",t,3\n"        # missing feature: left out
            "\n"            # blank: left out, by the same rule
            " , , \n"       # blank but for spaces: left out
            "4,t,n/a\n"     # another spelling of missing
            "5,t,5\n"
            "6,t,?\n")
    table = load_table(write(tmp_path, text), "y")
    np.testing.assert_array_equal(table.X[:, 0], [1, 5])
    np.testing.assert_array_equal(table.lines, [2, 8])
    assert table.notices[-1] == ("left out 6 row(s) with a missing value in a column used "
                                 "(line(s) 3, 4, 5, 6, 7, ... (6 in all))")


@pytest.mark.parametrize(
    ("header", "first"),
    [(",a,y", "0"), ("Unnamed: 0,a,y", "0")],
    ids=["pandas-to_csv", "read-back-by-pandas"],
)
def test_an_index_column_is_left_out_with_a_notice(tmp_path, header, first):
    rows = "".join(f"{i},{i * 0.5 + 1},{i % 2}\n" for i in range(6))
    table = load_table(write(tmp_path, f"{header}\n{rows}"), "y")
    assert table.feature_names == ["a"]
    assert "left out column 1" in table.notices[0] and "an index" in table.notices[0]


def test_a_named_count_column_is_a_feature_and_an_unnamed_one_is_not(tmp_path):
    rows = "".join(f"{i},{i * 3 % 7},{i}\n" for i in range(6))
    assert load_table(write(tmp_path, f"count,b,y\n{rows}"), "y").feature_names == ["count", "b"]
    table = load_table(write(tmp_path, f",b,y\n{rows}".replace("\n0,", "\n9,")), "y")
    assert table.feature_names == ["b"]
    assert table.notices == ["left out column 1 (no header): a feature needs a name"]


def test_an_id_column_of_distinct_integers_is_left_out(tmp_path):
    path = write(tmp_path, "patient_id,x,y\n901,1,2\n17,2,4\n33,3,7\n")
    table = load_table(path, "y")
    assert table.feature_names == ["x"]
    assert table.notices[0].startswith("left out identifier column(s): patient_id")
    assert load_table(path, "y", features=["patient_id", "x"]).feature_names == ["patient_id", "x"]


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("a;b;y\n1,5;2;3\n4;5,25;6\n", ";"),
        ("a\tb\ty\n1.5\t2\t3\n4\t5.25\t6\n", "\t"),
        ("a|b|y\n1.5|2|3\n4|5.25|6\n", "|"),
        ('a,b,y\n1.5,2,3\n4,"5.25",6\n', ","),
    ],
    ids=["semicolon-decimal-comma", "tab", "bar", "comma"],
)
def test_the_delimiter_is_sniffed(tmp_path, text, delimiter):
    table = load_table(write(tmp_path, text), "y")
    assert table.delimiter == delimiter
    np.testing.assert_array_equal(table.X, [[1.5, 2], [4, 5.25]])


def test_sniffing_falls_back_to_a_comma():
    assert sniff_delimiter("") == ","
    assert sniff_delimiter("y\n1\n2\n") == ","
    assert sniff_delimiter("a b\n1 2\n") == ","


def test_a_missing_column_names_the_delimiter_seen(tmp_path):
    with pytest.raises(DataError, match=r"no column 'y'; columns are: 'a;b', c \(read with "
                                        r"delimiter ','\)"):
        load_table(write(tmp_path, '"a;b",c\n1,2\n3,4\n'), "y")
    with pytest.raises(DataError, match=r"columns are: a, y \(read with delimiter ';'\)"):
        load_table(write(tmp_path, "a;y\n1;2\n3;4\n"), "price")


def test_labels_keep_text_and_numbers_as_they_are(tmp_path):
    path = write(tmp_path, "x,kind,code\n1,cat,2\n2,dog,4\n3, cat ,4\n4,,2\n")
    table = load_table(path, "kind", labels=True, features=["x"])
    assert table.y.tolist() == ["cat", "dog", "cat"]  # the row without a label is left out
    numeric = load_table(path, "code", labels=True, features=["x"])
    assert numeric.y.dtype == np.float64 and numeric.y.tolist() == [2.0, 4.0, 4.0, 2.0]
    with pytest.raises(DataError, match="the target is not a number: 'cat'"):
        load_table(path, "kind", features=["x"])


def test_load_columns_reads_the_named_columns_for_prediction(tmp_path):
    path = write(tmp_path, "id;b;a\nr1;2;1\n\nr2;;3\nr3;4,5;5\n")
    text, X, complete = load_columns(path, ["a", "b"])
    assert [cells[0] for _, cells in text.rows] == ["r1", "r2", "r3"]  # blank line dropped
    np.testing.assert_array_equal(X[complete], [[1, 2], [5, 4.5]])
    assert complete.tolist() == [True, False, True]
    with pytest.raises(DataError, match=r"no column\(s\) 'c' that the model needs"):
        load_columns(path, ["a", "c"])
    with pytest.raises(DataError, match=r"line 2, column 'id': not a number: 'r1'"):
        load_columns(path, ["id"])


# --------------------------------------------------------------------------- split_rows


def test_split_rows_is_seeded_disjoint_and_complete():
    train, test = split_rows(100, 0.2, random_state=3)
    assert test.size == 20 and train.size == 80
    assert sorted([*train, *test]) == list(range(100))
    again = split_rows(100, 0.2, random_state=3)
    np.testing.assert_array_equal(again[1], test)
    assert not np.array_equal(split_rows(100, 0.2, random_state=4)[1], test)
    assert split_rows(100, 0.0)[1].size == 0
    assert split_rows(3, 0.9)[0].size == 2  # at least 2 rows to train on


def test_split_rows_stratified_keeps_each_class_in_training():
    labels = np.array(["a"] * 90 + ["b"] * 9 + ["c"])
    train, test = split_rows(100, 0.2, random_state=0, labels=labels)
    assert np.sum(labels[test] == "a") == 18 and np.sum(labels[test] == "b") == 1
    assert "c" in labels[train] and "c" not in labels[test]


@pytest.mark.parametrize("size", [-0.1, 1.0, float("nan")])
def test_split_rows_rejects_a_bad_test_size(size):
    with pytest.raises(ValueError, match="test_size"):
        split_rows(10, size)


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
