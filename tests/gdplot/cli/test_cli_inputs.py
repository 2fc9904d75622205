"""``gdplot train`` on malformed input: one line on stderr, a non-zero exit, nothing half-written.

test_cli.py covers the common mistakes (a missing column or file, a directory, a text
cell, --out being a file); these go further: broken CSV structure and encodings, folders
that cannot be written, and generated CSV files of every shape.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from gdplot.cli import main
from gdplot.data.run_folder import MANIFEST_NAME
from gdplot.data.run_status import STATUS_NAME

BUDGETS = [
    pytest.param(30, id="30-examples"),
    pytest.param(300, id="300-examples", marks=[pytest.mark.slow, pytest.mark.timeout(1800)]),
]


def train(csv: Path, out: Path, *options: str, target: str = "y") -> int:
    return main(["train", str(csv), "--target", target, "--out", str(out), "--epochs", "2",
                 *options])


def assert_one_error_line(err: str, *fragments: str) -> None:
    assert err.count("\n") == 1 and err.startswith("gdplot: error: "), repr(err)
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err


def assert_nothing_half_written(out: Path, *, expect_empty: bool) -> None:
    """No temp files; every file left is a complete image (but gdplot's manifest of them and
    run-status file); nothing at all if ``expect_empty``."""
    files = sorted(p for p in out.rglob("*") if p.name not in (MANIFEST_NAME, STATUS_NAME)
                   ) if out.exists() else []
    if expect_empty:
        assert files == [], f"files written although the input was refused: {files}"
    for path in files:
        assert not path.name.startswith("."), f"temp file left behind: {path.name}"
        with Image.open(path) as image:
            image.load()  # raises on a truncated file


MALFORMED = [
    pytest.param(b"x,y\n1,2\n3\n5,6\n", ["line 3", "expected 2 cells, got 1"], id="short-row"),
    pytest.param(b"x,y\n1,2\n3,4,5\n", ["line 3", "expected 2 cells, got 3"], id="long-row"),
    pytest.param(b"x,y\n1,2\n,6\n", ["1 data row(s) with a value in every column"],
                 id="empty-cell-leaves-one-row"),
    pytest.param(b"x,y\n1,2\n3,nan\n", ["1 data row(s) with a value"], id="nan-cell"),
    pytest.param(b"x,y\n1,2\n-inf,4\n", ["column 'x'", "'-inf'"], id="inf-cell"),
    pytest.param(b"x,y\n1,2\n1e400,4\n", ["column 'x'", "'1e400'"], id="overflowing-cell"),
    pytest.param(b"x,y\n1,2\n0x1F,4\n", ["no numeric feature column", "x ('0x1F')"],
                 id="hex-cell"),
    pytest.param(b"x,y\n1,2\n3,four\n", ["line 3", "the target is not a number: 'four'"],
                 id="text-target-cell"),
    pytest.param(b"", ["empty"], id="empty-file"),
    pytest.param(b"\n\n  \n", ["data.csv"], id="blank-lines-only"),
    pytest.param(b"x,y\n", ["0 data row"], id="header-only"),
    pytest.param(b"x,y\n1,2\n", ["1 data row"], id="one-row"),
    pytest.param(b"y\n1\n2\n", ["only the target column"], id="target-only"),
    pytest.param(b"y,x,y\n1,2,3\n4,5,6\n", ["more than one column 'y'"], id="duplicate-target"),
    pytest.param(b"x,y\n1,2\n\xff\xfe,4\n", ["not UTF-8"], id="not-utf8"),
    pytest.param(b"x,y\n1,2\n3,\"4\n5,6\n", ["column 'y'"], id="unterminated-quote"),
    pytest.param(b"x,y\n1,2\n3,4\x00\n", [], id="nul-byte"),
    pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", [], id="a-png-not-a-csv"),
]


@pytest.mark.parametrize(("content", "fragments"), MALFORMED)
def test_malformed_csv_is_one_line_exit_2_and_nothing_written(tmp_path, capsys, content, fragments):
    csv = tmp_path / "data.csv"
    csv.write_bytes(content)
    out = tmp_path / "plots"
    assert train(csv, out) == 2
    captured = capsys.readouterr()
    assert_one_error_line(captured.err, *fragments)
    assert_nothing_half_written(out, expect_empty=True)


def test_a_row_missing_a_value_is_left_out_with_a_note(tmp_path, capsys):
    csv = tmp_path / "data.csv"
    csv.write_bytes(b"x,y\n1,2\n3,4\n,6\n\n5,NA\n7,8\n")
    out = tmp_path / "plots"
    assert train(csv, out, "--test-size", "0") == 0
    captured = capsys.readouterr()
    assert captured.err.startswith("gdplot: note: left out 3 row(s) with a missing value in a "
                                   "column used (line(s) 4, 5, 6)\n")
    assert "train (3 rows)" in captured.out


def test_a_device_instead_of_a_file_is_refused(tmp_path, capsys):
    out = tmp_path / "plots"
    assert train(Path(os.devnull), out) == 2  # never read: /dev/zero would never end
    assert_one_error_line(capsys.readouterr().err, "character device, not a CSV file")
    assert_nothing_half_written(out, expect_empty=True)


def write_good_csv(path: Path) -> Path:
    path.write_text("x,y\n" + "".join(f"{i},{2 * i + 1}\n" for i in range(20)))
    return path


UNWRITABLE = [
    pytest.param(lambda tmp: tmp / "data.csv" / "plots", id="inside-a-file"),
    pytest.param(lambda tmp: Path("/proc/gdplot-cannot-be-here"), id="in-proc"),
    pytest.param(lambda tmp: Path(os.devnull), id="a-device"),
]


@pytest.mark.parametrize("make_out", UNWRITABLE)
def test_an_unwritable_out_is_refused_before_training(tmp_path, capsys, make_out):
    csv = write_good_csv(tmp_path / "data.csv")
    out = make_out(tmp_path)
    assert train(csv, out) == 2
    captured = capsys.readouterr()
    assert_one_error_line(captured.err, "--out")
    assert "trained" not in captured.out  # refused before any training time was spent
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root may write to a read-only folder")
def test_a_read_only_out_folder_is_refused(tmp_path, capsys):
    csv = write_good_csv(tmp_path / "data.csv")
    out = tmp_path / "plots"
    out.mkdir()
    out.chmod(0o555)
    try:
        assert train(csv, out) == 2
        assert_one_error_line(capsys.readouterr().err, "--out", "not a writable folder")
        assert list(out.iterdir()) == []
    finally:
        out.chmod(0o755)


def test_the_installed_command_prints_one_line_and_exits_non_zero(tmp_path):
    csv = tmp_path / "ragged.csv"
    csv.write_text("x,y\n1,2\n3\n")
    result = subprocess.run(
        [sys.executable, "-m", "gdplot", "train", str(csv), "--target", "y", "--out",
         str(tmp_path / "plots")], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert_one_error_line(result.stderr, "expected 2 cells, got 1")
    assert result.stdout == ""
    assert not (tmp_path / "plots").exists()


# -- generated CSV files ---------------------------------------------------------------------

cells = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10**6, 10**6).map(str),
    st.sampled_from(["", " ", "nan", "inf", "-", "1e999", "1,5", "\"3\"", "x"]),
    st.text(max_size=4),
)
names = st.sampled_from(["x", "y", "z", "y ", "", "Y"])


@st.composite
def valid_tables(draw) -> list[list[str]]:
    """A header with a ``y`` column and 2-12 rows of small integers (``y`` in 0/1)."""
    header = draw(st.permutations(["x", "y", "z"][: draw(st.integers(2, 3))]))
    rows = draw(st.lists(
        st.tuples(*(st.integers(0, 1) if name == "y" else st.integers(-50, 50) for name in header)),
        min_size=2, max_size=12))
    return [list(header), *([str(v) for v in row] for row in rows)]


@st.composite
def csv_files(draw) -> bytes:
    """Valid tables, valid tables with one defect, random tables, random bytes."""
    kind = draw(st.sampled_from(["valid", "one-defect", "one-defect", "random", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=64))
    if kind == "random":
        header = draw(st.lists(names, max_size=4))
        table = [header, *draw(st.lists(st.lists(cells, max_size=len(header) + 1), max_size=12))]
    else:
        table = draw(valid_tables())
    if kind == "one-defect":
        row = draw(st.integers(0, len(table) - 1))
        defect = draw(st.sampled_from(["cell", "drop-cell", "extra-cell", "blank-row"]))
        if defect == "cell":
            table[row][draw(st.integers(0, len(table[row]) - 1))] = draw(cells)
        elif defect == "drop-cell":
            table[row].pop()
        elif defect == "extra-cell":
            table[row].append(draw(cells))
        else:
            table.insert(row, [])
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return newline.join(",".join(row) for row in table).encode()


@pytest.mark.parametrize("examples", BUDGETS)
def test_any_csv_trains_or_fails_with_one_line_and_nothing_half_written(examples, capsys):
    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(csv_files(), st.sampled_from(["linear", "logistic", "mlp"]))
    # A target the model fits exactly: the loss surface's colour range starts at 0.
    @example(content=b"y,x,z\n0,0,0\n0,1,1", model="linear")
    def check(content, model):
        with tempfile.TemporaryDirectory() as folder:
            csv, out = Path(folder) / "data.csv", Path(folder) / "plots"
            csv.write_bytes(content)
            status = train(csv, out, "--model", model, "--epochs", "1", "--workers", "1")
            captured = capsys.readouterr()
            assert status in (0, 1, 2), status
            event(f"exit status {status}")
            if status == 0:  # notes only: columns or rows left out
                assert all(line.startswith("gdplot: note: ")
                           for line in captured.err.splitlines()), captured.err
                assert_nothing_half_written(out, expect_empty=False)
                assert any(out.iterdir())
            else:
                assert_one_error_line(captured.err)
                assert_nothing_half_written(out, expect_empty=status == 2)

    check()
