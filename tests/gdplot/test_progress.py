"""The progress bar: in place on a terminal and as wide as it, plain lines elsewhere, rate and
ETA, and log records above the bar."""

from __future__ import annotations

import io
import logging
import re
import threading

import pytest

from gdplot.data.datasets import make_regression
from gdplot.models.linear import LinearRegressionGD
from gdplot.progress import ProgressCallback, ProgressLine, format_seconds


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def train(callbacks, epochs: int) -> LinearRegressionGD:
    X, y, _, _ = make_regression(50, 1, random_state=0)
    return LinearRegressionGD(lr=0.1, epochs=epochs).fit(X, y, callbacks=callbacks)


def frames(text: str) -> list[str]:
    """What a terminal showed, frame by frame (each redraw starts with a carriage return)."""
    return [frame.rstrip() for frame in text.rstrip("\n").split("\r")[1:]]


def test_on_a_terminal_the_bar_redraws_in_place_with_rate_and_eta(monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    stream = FakeTerminal()
    model = train([ProgressCallback(stream=stream, min_interval=0, width=10)], epochs=4)
    shown = frames(stream.getvalue())
    assert len(shown) == 4 and stream.getvalue().endswith("\n")
    assert shown[0].startswith("epoch 1/4 [##--------]  25% loss ")
    assert shown[-1].startswith("epoch 4/4 [##########] 100% loss ")
    assert f"loss {model.history_[-1]:.4g} | " in shown[-1]
    assert re.search(r"\| \d+\.\ds<\d+\.\ds, [\d.e+]+ epoch/s$", shown[-1]), shown[-1]


def test_on_a_terminal_the_bar_is_throttled_but_shows_first_and_last_epoch(monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    stream = FakeTerminal()
    train([ProgressCallback(stream=stream, min_interval=3600)], epochs=50)
    assert [f.split("/")[0] for f in frames(stream.getvalue())] == ["epoch  1", "epoch 50"]


@pytest.mark.parametrize("columns", [20, 40, 60, 80, 200])
def test_the_bar_never_wraps_a_narrow_terminal(monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    stream = FakeTerminal()
    train([ProgressCallback(stream=stream, min_interval=0)], epochs=30)
    shown = frames(stream.getvalue())
    assert len(shown) == 30
    assert all(len(frame) <= columns - 1 for frame in shown), max(map(len, shown))
    if columns >= 80:
        assert "[" in shown[-1] and "%" in shown[-1]  # room for the bar itself


def test_without_a_terminal_it_writes_a_few_plain_lines():
    stream = io.StringIO()
    train([ProgressCallback(stream=stream, min_interval=0)], epochs=1000)
    text = stream.getvalue()
    lines = text.splitlines()
    assert "\r" not in text
    # epoch 1, then every 10%: 11 lines for 1000 epochs, each of them short.
    assert [line.split("/")[0].split()[-1] for line in lines] == [
        "1", *(str(e) for e in range(100, 1001, 100))
    ]
    assert max(map(len, lines)) < 120


def test_without_a_terminal_a_slow_run_also_writes_every_few_seconds(monkeypatch):
    clock = iter(range(0, 10**6, 7))  # each reading of the clock: 7 s later
    monkeypatch.setattr("gdplot.progress.time.monotonic", lambda: next(clock))
    stream = io.StringIO()
    train([ProgressCallback(stream=stream, plain_interval=10)], epochs=5)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 5  # every epoch: each is > 10 s after the last line (and 20%)


@pytest.fixture
def terminal_log(monkeypatch):
    """A 100-column fake terminal, and a handler writing gdplot's log records to it."""
    monkeypatch.setenv("COLUMNS", "100")
    stream = FakeTerminal()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("gdplot")
    logger.addHandler(handler)
    yield stream, handler
    logger.removeHandler(handler)


def test_log_records_appear_above_the_bar(terminal_log):
    stream, handler = terminal_log

    class LogAtEpoch3:
        def on_epoch_end(self, estimator, epoch):
            if epoch == 3:
                logging.getLogger("gdplot.test").warning("something to say")

    train([ProgressCallback(stream=stream, min_interval=0), LogAtEpoch3()], epochs=5)
    text = stream.getvalue()
    before, after = text.split("something to say\n")
    # The bar of epoch 3 is cleared (spaces, then back to column 0) before the record...
    assert re.search(r"epoch 3/5 [^\r]*\r +\r$", before), repr(before[-200:])
    # ... and redrawn after it, then training goes on below the record.
    assert after.startswith("epoch 3/5") and "epoch 5/5" in after
    assert "emit" not in vars(handler)  # the handler is restored after training


def test_log_records_from_another_thread_do_not_interleave_with_the_bar(terminal_log):
    stream, _ = terminal_log
    logger = logging.getLogger("gdplot")
    line = ProgressLine(stream)

    def log_many():
        for i in range(200):
            logger.warning("record %d", i)

    try:
        line.show("a bar")
        worker = threading.Thread(target=log_many)
        worker.start()
        for i in range(200):
            line.show(f"a bar {i}")
        worker.join()
    finally:
        line.close()
    records = re.findall(r"[^\n]*record \d+", stream.getvalue())
    assert len(records) == 200
    for record in records:  # each starts at column 0, on a line the bar was cleared from
        *before, text = record.split("\r")
        assert re.fullmatch(r"record \d+", text), repr(record)
        assert not before or before[-1].strip() == "", repr(record)


def test_a_plain_line_is_not_redrawn():
    stream = io.StringIO()
    line = ProgressLine(stream)
    line.show("one")
    line.show("two")
    line.close()
    assert stream.getvalue() == "one\ntwo\n"


@pytest.mark.parametrize(
    ("seconds", "text"), [(4.25, "4.2s"), (65, "1:05"), (3723, "1:02:03"), (float("inf"), "?")]
)
def test_format_seconds(seconds, text):
    assert format_seconds(seconds) == text


def test_progress_bar_rejects_bad_arguments():
    with pytest.raises(
        ValueError, match="min_interval must be a finite number >= 0, got min_interval=-1"
    ):
        ProgressCallback(min_interval=-1)
    with pytest.raises(TypeError, match="min_interval='fast'"):
        ProgressCallback(min_interval="fast")
    with pytest.raises(ValueError, match="width=0"):
        ProgressCallback(width=0)
    with pytest.raises(ValueError, match="plain_interval=0"):
        ProgressCallback(plain_interval=0)
    with pytest.raises(TypeError, match="dynamic"):
        ProgressCallback(dynamic="yes")


def test_records_of_the_last_resort_handler_appear_above_the_bar(monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    terminal = FakeTerminal()
    monkeypatch.setattr("sys.stderr", terminal)  # where logging.lastResort writes
    logger = logging.getLogger("gdplot-test-unconfigured")
    logger.propagate = False  # no handler anywhere: the last resort handles it
    line = ProgressLine(terminal)
    try:
        line.show("the bar")
        logger.warning("unconfigured record")
    finally:
        line.close()
        logger.propagate = True
    assert terminal.getvalue() == "\rthe bar\r       \runconfigured record\nthe bar\n"
