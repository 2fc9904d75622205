"""Bad input, generated: every estimator and the TaskQueue constructor either accept an input
and work, or reject it with a ValueError/TypeError that names the problem, raised by our
code (not from deep inside NumPy). Never a hang, a crash, or NaN weights.

Each property runs ~50 examples in the default run and 1,000 with ``pytest -m slow``. The
oracles below restate the documented contract (which values are valid), not the code.
"""

from __future__ import annotations

import fractions
import numbers
import queue
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gdplot
from gdplot import (
    DivergenceError,
    LinearRegressionGD,
    LogisticRegressionGD,
    MLPRegressorGD,
)
from taskqueue import OVERFLOW_POLICIES, TaskQueue

WAIT = 30
GDPLOT_DIR = Path(gdplot.__file__).parent
BUDGETS = [
    pytest.param(50, id="50-examples"),
    pytest.param(1_000, id="1000-examples", marks=[pytest.mark.slow, pytest.mark.timeout(1800)]),
]


def budget(examples: int):
    return settings(max_examples=examples, deadline=None, database=None, suppress_health_check=[
        HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])


def raised_in(exc: BaseException) -> Path:
    """The file of the innermost frame that raised ``exc``."""
    tb = exc.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    return Path(tb.tb_frame.f_code.co_filename)


def assert_clear_rejection(exc: BaseException, names: set[str]) -> None:
    """``exc`` is a ValueError/TypeError raised by gdplot, naming one of ``names``."""
    assert isinstance(exc, (ValueError, TypeError)), f"{type(exc).__name__}: {exc}"
    message = str(exc)
    assert any(re.search(rf"\b{re.escape(name)}\b", message) for name in names), (
        f"{message!r} names none of {sorted(names)}")
    assert GDPLOT_DIR in raised_in(exc).parents, f"raised deep inside {raised_in(exc)}: {message}"


# -- the contract, restated ------------------------------------------------------------------


def is_int(value, minimum: int) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= minimum


def is_learning_rate(value, cls) -> bool:
    """A finite number > 0; or "auto" for the models with a Lipschitz constant."""
    if isinstance(value, str):
        return value == "auto" and cls in (LinearRegressionGD, LogisticRegressionGD)
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and np.isfinite(float(value)) and value > 0)


#: Whether ``value`` is valid for the parameter, given the estimator class.
HYPERPARAMETERS = {
    "lr": is_learning_rate,
    "epochs": lambda v, cls: is_int(v, 1),
    "batch_size": lambda v, cls: v is None or is_int(v, 1),
    "shuffle": lambda v, cls: isinstance(v, (bool, np.bool_)),
    "random_state": lambda v, cls: (v is None or isinstance(v, np.random.Generator)
                                    or is_int(v, 0)),
    "method": lambda v, cls: isinstance(v, str) and v in ("descent", "ascent"),
    "hidden": lambda v, cls: is_int(v, 1),
}


def numeric_and_finite(array: np.ndarray) -> bool:
    return array.dtype.kind in "biuf" and bool(np.isfinite(array.astype(np.float64)).all())


def data_problems(estimator, X: np.ndarray, y: np.ndarray) -> set[str]:
    """Which of ``X`` and ``y`` break the documented contract of ``fit``."""
    if X.ndim != 2 or X.size == 0 or not numeric_and_finite(X):
        return {"X"}
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        return {"y"}
    if isinstance(estimator, LogisticRegressionGD):
        labels_ok = (y.dtype.kind in "US" or numeric_and_finite(y)) and np.unique(y).size == 2
        return set() if labels_ok else {"y"}
    return set() if numeric_and_finite(y) else {"y"}


# -- strategies --------------------------------------------------------------------------------

junk = st.one_of(st.none(), st.booleans(), st.text(max_size=4), st.lists(st.integers(), max_size=2),
                 st.complex_numbers(max_magnitude=10))
hyperparameter_values = {
    "lr": st.one_of(st.floats(1e-4, 1.0), st.floats(), st.integers(-2, 3),
                    st.just(np.float32(0.1)), st.sampled_from(["auto", "Auto", "0.1"]), junk),
    "epochs": st.one_of(st.integers(1, 5), st.integers(-3, 0), st.just(np.int64(3)),
                        st.floats(0, 5), junk),
    "batch_size": st.one_of(st.none(), st.integers(1, 8), st.integers(-3, 0),
                            st.integers(10**6, 2**63), st.floats(0, 8), junk),
    "shuffle": st.one_of(st.booleans(), st.just(np.True_), st.integers(0, 1), junk),
    "random_state": st.one_of(st.none(), st.integers(0, 2**70), st.integers(-9, -1),
                              st.builds(np.random.default_rng, st.integers(0, 9)), st.floats(),
                              junk),
    "method": st.one_of(st.sampled_from(["descent", "ascent"]), st.text(max_size=8), junk),
    "hidden": st.one_of(st.integers(1, 12), st.integers(-3, 0), st.floats(0, 8), junk),
}
ESTIMATORS = {
    LinearRegressionGD: ("lr", "epochs", "batch_size", "shuffle", "random_state"),
    LogisticRegressionGD: ("lr", "epochs", "batch_size", "shuffle", "random_state", "method"),
    MLPRegressorGD: ("lr", "epochs", "batch_size", "shuffle", "random_state", "hidden"),
}
dtypes = st.sampled_from([np.float64, np.float32, np.float16, np.int64, np.int8, np.uint8,
                          np.bool_, np.complex128, np.dtype("<U3")])
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=6)


@st.composite
def arrays(draw, shape=shapes):
    if isinstance(shape, st.SearchStrategy):
        shape = draw(shape)
    return draw(hnp.arrays(draw(dtypes), shape))


SENSIBLE = {"lr": 0.05, "epochs": 3, "batch_size": None, "shuffle": True, "random_state": 0,
            "method": "descent", "hidden": 4}


@st.composite
def fit_inputs(draw):
    """``(estimator class, params, X, y)``: valid, or broken in one place, or in many."""
    cls = draw(st.sampled_from(list(ESTIMATORS)))
    names = ESTIMATORS[cls]
    perturbed = draw(st.sampled_from([(), (), names, (draw(st.sampled_from(names)),)]))
    params = {name: draw(hyperparameter_values[name]) if name in perturbed else SENSIBLE[name]
              for name in names}
    data = draw(st.sampled_from(["clean", "clean", "well-shaped", "anything"]))
    if data == "anything":
        return cls, params, draw(arrays()), draw(arrays())
    n, d = draw(st.integers(1, 8)), draw(st.integers(1, 3))
    if data == "clean":  # finite values of any size, valid labels
        X = draw(hnp.arrays(np.float64, (n, d), elements=st.floats(-1e6, 1e6)))
        y = draw(hnp.arrays(np.float64, n, elements=st.floats(-1e6, 1e6)))
        if cls is LogisticRegressionGD:
            y = np.array(["cat", "dog"] * n)[:n] if draw(st.booleans()) else (y > 0).astype(int)
        return cls, params, X, y
    X = draw(arrays(shape=(n, d)))  # random dtype and values (NaN, inf, huge, text, ...)
    n_labels = draw(st.sampled_from([n, n, n, max(n - 1, 0), n + 1]))
    return cls, params, X, draw(arrays(shape=(n_labels,)))


def check_fit(cls, params, X, y) -> None:
    estimator = cls(**params)
    problems = {name for name, value in params.items() if not HYPERPARAMETERS[name](value, cls)}
    problems |= data_problems(estimator, X, y)
    try:
        fitted = estimator.fit(X, y)
    except DivergenceError as exc:
        assert not problems, f"expected a complaint about {problems}, got: {exc}"
        assert_clear_rejection(exc, {"lr", "X", "y"})  # lr too large, or data too large
        event("fit: diverged, DivergenceError")
        assert not hasattr(estimator, "n_features_in_"), "a diverged fit left weights behind"
        return
    except Exception as exc:
        assert problems, f"valid input rejected: {type(exc).__name__}: {exc}"
        assert_clear_rejection(exc, problems)
        assert not hasattr(estimator, "n_features_in_")
        event(f"fit: rejected, {type(exc).__name__}")
        return
    assert not problems, f"accepted although {problems} is invalid"
    assert fitted is estimator
    params_now = estimator.snapshot().params
    assert all(np.isfinite(p).all() for p in params_now.values()), "NaN/inf weights"
    assert np.isfinite(estimator.history_).all()
    predictions = estimator.predict(X)
    assert predictions.shape == (X.shape[0],)
    if cls is not LogisticRegressionGD:
        assert np.isfinite(predictions).all()
    event("fit: accepted, finite weights")


@pytest.mark.parametrize("examples", BUDGETS)
def test_every_estimator_accepts_and_works_or_rejects_clearly(examples):
    @budget(examples)
    @given(fit_inputs())
    def check(case):
        check_fit(*case)

    check()


@pytest.mark.parametrize("examples", BUDGETS)
def test_predict_rejects_what_fit_would_reject(examples):
    fitted = {cls: cls(epochs=2, random_state=0).fit(
        [[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]], [0, 1, 1]) for cls in ESTIMATORS}

    @budget(examples)
    @given(st.sampled_from(list(ESTIMATORS)), arrays())
    def check(cls, X):
        estimator = fitted[cls]
        valid = X.ndim == 2 and X.size > 0 and numeric_and_finite(X) and X.shape[1] == 2
        try:
            predictions = estimator.predict(X)
        except Exception as exc:
            assert not valid, f"valid X rejected: {exc}"
            assert_clear_rejection(exc, {"X"})
            return
        assert valid, f"predict accepted X of shape {X.shape}, dtype {X.dtype}"
        assert predictions.shape == (X.shape[0],)

    check()


@pytest.mark.parametrize("cls", list(ESTIMATORS))
@pytest.mark.parametrize(("n_rows", "n_labels"), [(5, 4), (5, 6), (1, 0), (3, 30)])
def test_wrong_label_counts_name_both_counts(cls, n_rows, n_labels):
    X = np.arange(2.0 * n_rows).reshape(n_rows, 2)
    with pytest.raises(ValueError) as info:
        cls(epochs=2).fit(X, np.arange(n_labels) % 2)
    assert_clear_rejection(info.value, {"y"})
    assert f"X has {n_rows}" in str(info.value) and f"y has {n_labels}" in str(info.value)


# Absurd sizes and odd numeric types: each is either accepted and works, or refused up front
# naming the parameter, instead of an error from inside NumPy (or an allocation that takes
# the machine down).
ABSURD = [
    pytest.param(LinearRegressionGD, {"epochs": 10**12}, "epochs", id="epochs=10**12"),
    pytest.param(LinearRegressionGD, {"epochs": 2**63}, "epochs", id="epochs=2**63"),
    pytest.param(MLPRegressorGD, {"hidden": 10**12}, "hidden", id="hidden=10**12"),
    pytest.param(MLPRegressorGD, {"hidden": 10**9}, "hidden", id="hidden=10**9"),
    pytest.param(LinearRegressionGD, {"lr": 10**400}, "lr", id="lr=10**400"),
    pytest.param(LinearRegressionGD, {"lr": fractions.Fraction(1, 10)}, "lr",
                 id="lr=Fraction(1,10)"),
]


@pytest.mark.parametrize(("cls", "params", "name"), ABSURD)
def test_absurd_hyperparameters_work_or_are_refused_naming_them(cls, params, name):
    X = np.arange(6.0).reshape(3, 2)
    y = np.array([0.0, 1.0, 1.0])
    params = {"epochs": 2, **params}
    try:
        estimator = cls(**params).fit(X, y)
    except Exception as exc:
        assert_clear_rejection(exc, {name})
    else:
        assert all(np.isfinite(p).all() for p in estimator.snapshot().params.values())


# -- TaskQueue ---------------------------------------------------------------------------------

QUEUE_PARAMETERS = {
    "num_workers": lambda v: type(v) is int and v >= 0,
    "maxsize": lambda v: type(v) is int,
    "overflow": lambda v: isinstance(v, str) and v in OVERFLOW_POLICIES,
    "name": lambda v: isinstance(v, str),
    "on_error": lambda v: v is None or callable(v),
    "drain_at_exit": lambda v: type(v) is bool,
}
queue_values = {
    "num_workers": st.one_of(st.integers(0, 3), st.integers(-10**6, -1), st.floats(), junk),
    "maxsize": st.one_of(st.integers(-10**9, 10**9), st.integers(1, 4), st.floats(), junk),
    "overflow": st.one_of(st.sampled_from(OVERFLOW_POLICIES), st.text(max_size=12),
                          st.just(np.array(["block", "raise"])), junk),
    "name": st.one_of(st.text(max_size=20), st.integers(), junk),
    "on_error": st.one_of(st.none(), st.just(print), st.just(lambda failure: None), junk),
    "drain_at_exit": st.one_of(st.booleans(), st.integers(0, 1), junk),
}


@st.composite
def queue_arguments(draw) -> dict:
    """Keyword arguments for ``TaskQueue``: some left out, none, one or all of them random."""
    names = draw(st.lists(st.sampled_from(list(queue_values)), unique=True))
    perturbed = draw(st.sampled_from([(), (), names, (draw(st.sampled_from(list(queue_values))),)]))
    valid = {"num_workers": 2, "maxsize": 3, "overflow": "drop_oldest", "name": "fuzzed",
             "on_error": None, "drain_at_exit": False}
    return {name: draw(queue_values[name]) if name in perturbed else valid[name]
            for name in names}


timeouts = st.one_of(st.none(), st.floats(), st.integers(-5, 10**30),
                     st.just(fractions.Fraction(1, 3)),
                     st.text(max_size=3), st.booleans())


def check_queue(kwargs: dict, timeout) -> None:
    bad = {name for name, value in kwargs.items() if not QUEUE_PARAMETERS[name](value)}
    try:
        q = TaskQueue(**{"drain_at_exit": False, **kwargs})
    except (TypeError, ValueError) as exc:
        assert bad, f"valid arguments rejected: {exc}"
        assert any(name in str(exc) for name in bad), f"{exc} names none of {bad}"
        event(f"TaskQueue: rejected, {type(exc).__name__}")
        return
    assert not bad, f"accepted although {bad} is invalid"
    event("TaskQueue: accepted and worked")
    try:
        if q.num_workers:
            assert q.submit(pow, 2, 10).result(WAIT) == 1024
            q.add_latest("k", pow, 2, 3)
            q.add_task(pow, 2, 3)
        else:  # with no workers it is a plain queue.Queue
            q.put_nowait("item")
            assert q.get_nowait() == "item"
            q.task_done()
        valid_timeout = timeout is None or (
            isinstance(timeout, numbers.Real) and not isinstance(timeout, bool) and timeout >= 0)
        try:
            joined = q.join(timeout)
        except (TypeError, ValueError) as exc:
            assert not valid_timeout and "timeout" in str(exc)
        else:
            assert valid_timeout and isinstance(joined, bool)
    except queue.Full:
        assert kwargs.get("overflow") == "raise"  # a queue with maxsize 1 may well be full
    finally:
        assert q.close(cancel_pending=True, timeout=WAIT) is True


@pytest.mark.parametrize("examples", BUDGETS)
def test_task_queue_accepts_and_works_or_rejects_naming_the_argument(examples):
    @budget(examples)
    @given(queue_arguments(), timeouts)
    def check(kwargs, timeout):
        check_queue(kwargs, timeout)

    check()


@pytest.mark.parametrize("examples", BUDGETS)
def test_task_queue_methods_reject_non_callables_and_unhashable_keys(examples):
    q = TaskQueue(1, drain_at_exit=False, name="methods")

    @budget(examples)
    @given(st.one_of(st.integers(), st.text(), st.none(), st.lists(st.integers()),
                     st.builds(object)),
           st.one_of(st.integers(), st.text(), st.lists(st.integers()),
                     st.dictionaries(st.text(), st.integers())))
    def check(task, key):
        for add in (q.add_task, q.submit, lambda t: q.add_latest(key, t)):
            with pytest.raises(TypeError) as info:
                add(task)
            assert "callable" in str(info.value) or "hashable" in str(info.value)

    try:
        check()
        assert q.stats().submitted == 0
    finally:
        q.close(timeout=WAIT)
