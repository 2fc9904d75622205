"""The boundary checks: each bad input kind gives a clear error naming what was wrong."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gdplot import NotFittedError
from gdplot.validation import (
    check_bool,
    check_choice,
    check_int,
    check_labels,
    check_learning_rate,
    check_n_features,
    check_random_state,
    check_real,
    check_target,
    check_X,
)

# -- hyper-parameters ---------------------------------------------------------------------------


@pytest.mark.parametrize("lr", [0.1, 1, np.float32(0.5), np.int64(2)])
def test_learning_rate_accepts_positive_finite_numbers(lr):
    assert check_learning_rate(lr) == float(lr)
    assert type(check_learning_rate(lr)) is float


@pytest.mark.parametrize(
    "lr, error",
    [
        (0, ValueError),
        (-0.1, ValueError),
        (float("nan"), ValueError),
        (float("inf"), ValueError),
        (True, TypeError),
        ("0.1", TypeError),
        (None, TypeError),
        (1 + 2j, TypeError),
    ],
)
def test_learning_rate_rejects_bad_values_naming_them(lr, error):
    with pytest.raises(error, match=r"lr must be a finite number > 0, got lr=") as info:
        check_learning_rate(lr)
    assert repr(lr) in str(info.value)


def test_learning_rate_auto_only_where_allowed():
    assert check_learning_rate("auto", allow_auto=True) == "auto"
    assert check_learning_rate(0.5, allow_auto=True) == 0.5
    with pytest.raises(TypeError, match=r"lr must be a finite number > 0, got lr='auto'"):
        check_learning_rate("auto")
    with pytest.raises(ValueError, match=r"> 0 or 'auto', got lr='AUTO'"):
        check_learning_rate("AUTO", allow_auto=True)
    with pytest.raises(ValueError, match=r"lr must be a finite number > 0, got lr=0"):
        check_learning_rate(0, allow_auto=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 0.0),
        (2, 2.0),
        (0.5, 0.5),
        (np.float32(0.25), 0.25),
        (np.int64(3), 3.0),
        (Fraction(1, 4), 0.25),
    ],
)
def test_real_accepts_finite_reals_as_float(value, expected):
    result = check_real(value, "noise", minimum=0)
    assert result == expected and type(result) is float


@pytest.mark.parametrize(
    ("value", "kwargs", "error", "message"),
    [
        (-1, {"minimum": 0}, ValueError, "noise must be a finite number >= 0, got noise=-1$"),
        (0, {"minimum": 0, "inclusive": False}, ValueError, "must be a finite number > 0, got"),
        (float("nan"), {}, ValueError, "noise must be a finite number, got noise=nan$"),
        (float("-inf"), {}, ValueError, "got noise=-inf"),
        (10**400, {}, ValueError, "noise must be a finite number, got noise=1000"),
        (True, {"minimum": 0}, TypeError, r"got noise=True \(bool\)"),
        ("1", {}, TypeError, r"noise must be a finite number, got noise='1' \(str\)"),
        (None, {}, TypeError, r"got noise=None \(NoneType\)"),
        (1j, {}, TypeError, r"\(complex\)"),
    ],
)
def test_real_rejects_bad_values_naming_parameter_and_value(value, kwargs, error, message):
    with pytest.raises(error, match=message):
        check_real(value, "noise", **kwargs)


def test_int_accepts_ints_and_numpy_ints():
    assert check_int(3, "epochs") == 3
    assert type(check_int(np.int32(3), "epochs")) is int
    assert check_int(None, "batch_size", allow_none=True) is None


@pytest.mark.parametrize(
    "value, error",
    [
        (0, ValueError),
        (-5, ValueError),
        (2.5, TypeError),
        (3.0, TypeError),
        (True, TypeError),
        ("3", TypeError),
        (None, TypeError),
    ],
)
def test_int_rejects_bad_values_naming_parameter_and_value(value, error):
    with pytest.raises(error, match=rf"epochs must be an int >= 1, got epochs={value!r}"):
        check_int(value, "epochs")


def test_int_message_mentions_none_when_none_is_allowed():
    with pytest.raises(
        ValueError, match=r"batch_size must be an int >= 1 or None, got batch_size=0"
    ):
        check_int(0, "batch_size", allow_none=True)


def test_bool_accepts_only_bools():
    assert check_bool(np.True_, "shuffle") is True
    with pytest.raises(TypeError, match=r"shuffle must be True or False, got shuffle=1"):
        check_bool(1, "shuffle")


def test_choice_names_the_options():
    assert check_choice("ascent", "method", ("descent", "ascent")) == "ascent"
    with pytest.raises(ValueError, match=r"method must be 'descent' or 'ascent', got method='up'"):
        check_choice("up", "method", ("descent", "ascent"))


def test_random_state_int_gives_reproducible_generator():
    first = check_random_state(7).random(3)
    assert np.array_equal(first, check_random_state(7).random(3))
    assert not np.array_equal(first, check_random_state(8).random(3))


def test_random_state_generator_is_used_as_is():
    generator = np.random.default_rng(0)
    assert check_random_state(generator) is generator
    assert isinstance(check_random_state(None), np.random.Generator)


@pytest.mark.parametrize(
    "random_state, error",
    [
        (-1, ValueError),
        (True, TypeError),
        (1.5, TypeError),
        ("0", TypeError),
        (np.random.RandomState(0), TypeError),
    ],
)
def test_random_state_rejects_bad_values(random_state, error):
    with pytest.raises(error, match=r"random_state"):
        check_random_state(random_state)


# -- X ----------------------------------------------------------------------------------------


def test_X_is_converted_to_contiguous_float64():
    X = check_X([[1, 2], [3, 4]])
    assert X.dtype == np.float64 and X.flags.c_contiguous
    assert np.array_equal(X, [[1.0, 2.0], [3.0, 4.0]])
    fortran = np.asfortranarray(np.arange(6, dtype=np.float32).reshape(3, 2))
    assert check_X(fortran).flags.c_contiguous
    assert check_X(np.array([[True, False]])).dtype == np.float64


@pytest.mark.parametrize(
    "X, message",
    [
        ([1.0, 2.0, 3.0], r"2-D array .* got a 1-D array of shape \(3,\); for a single feature"),
        (np.zeros((2, 2, 2)), r"got a 3-D array of shape \(2, 2, 2\)"),
        (5.0, r"got a 0-D array"),
        (np.zeros((0, 3)), r"X is empty \(shape \(0, 3\)\)"),
        (np.zeros((3, 0)), r"X is empty \(shape \(3, 0\)\)"),
        ([[1.0, np.nan]], r"X contains NaN or infinity \(first at index \(0, 1\)\)"),
        ([[1.0], [np.inf]], r"X contains NaN or infinity \(first at index \(1, 0\)\)"),
        ([[1.0, 1j]], r"X is complex \(dtype complex128\)"),
        ([["a", "b"]], r"X must be numeric .* dtype <U1"),
        (np.array([[1.0, None]], dtype=object), r"X must be numeric .* dtype object"),
        ([[1.0, 2.0], [3.0]], r"X could not be converted to an array"),
        (np.array([["2024-01-01"]], dtype="datetime64[D]"), r"X must be numeric"),
    ],
)
def test_X_errors_say_what_was_wrong(X, message):
    with pytest.raises(ValueError, match=message):
        check_X(X)


@settings(max_examples=40, deadline=None)
@given(
    X=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=6),
        elements=st.floats(-1e6, 1e6),
    ),
    data=st.data(),
)
def test_any_non_finite_entry_is_reported_at_its_index(X, data):
    row = data.draw(st.integers(0, X.shape[0] - 1))
    column = data.draw(st.integers(0, X.shape[1] - 1))
    X[row, column] = data.draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    with pytest.raises(ValueError, match=rf"first at index \({row}, {column}\)"):
        check_X(X)


@settings(max_examples=40, deadline=None)
@given(
    hnp.arrays(
        hnp.scalar_dtypes(), hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=4)
    )
)
def test_X_of_any_dtype_is_accepted_as_float64_or_rejected_with_value_error(X):
    try:
        checked = check_X(X)
    except ValueError as error:
        assert str(error).startswith("X ")
    else:
        assert checked.dtype == np.float64 and checked.shape == X.shape
        assert np.isfinite(checked).all()


# -- y ----------------------------------------------------------------------------------------


def test_target_is_converted_to_float64():
    y = check_target([1, 2, 3], 3)
    assert y.dtype == np.float64 and np.array_equal(y, [1.0, 2.0, 3.0])


@pytest.mark.parametrize(
    "y, message",
    [
        (np.zeros((3, 1)), r"y must be a 1-D array .* got shape \(3, 1\); use y.ravel\(\)"),
        (np.zeros((3, 2)), r"got shape \(3, 2\)$"),
        (np.zeros(4), r"X and y have different numbers of samples: X has 3, y has 4"),
        ([1.0, np.nan, 2.0], r"y contains NaN or infinity \(first at index \(1,\)\)"),
        (["a", "b", "c"], r"y must be numeric"),
        ([1j, 2, 3], r"y is complex"),
    ],
)
def test_target_errors_say_what_was_wrong(y, message):
    with pytest.raises(ValueError, match=message):
        check_target(y, 3)


def test_labels_keep_their_type():
    assert check_labels(["a", "b"], 2).dtype.kind == "U"
    assert check_labels([3, 7], 2).dtype.kind == "i"
    assert check_labels(np.array(["x", "y"], dtype=object), 2).dtype == object


@pytest.mark.parametrize(
    "y, message",
    [
        ([0.0, np.nan], r"y contains NaN"),
        (np.array(["a", 1], dtype=object), r"y holds labels that cannot be sorted"),
        (np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[D]"), r"numbers or strings"),
        ([[0], [1]], r"1-D"),
    ],
)
def test_label_errors_say_what_was_wrong(y, message):
    with pytest.raises(ValueError, match=message):
        check_labels(y, 2)


def test_feature_count_mismatch_names_both_counts():
    check_n_features(np.zeros((2, 3)), 3, "Model")
    with pytest.raises(ValueError, match=r"X has 2 features, but Model was fitted with 3 features"):
        check_n_features(np.zeros((2, 2)), 3, "Model")


def test_not_fitted_error_is_value_and_attribute_error():
    assert issubclass(NotFittedError, ValueError)
    assert issubclass(NotFittedError, AttributeError)
