"""Tests for gd_explorer.core.io.tabular: reading x/y data from CSV files in the wild."""

from __future__ import annotations

import os
import re
import string
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gd_explorer.core.io import tabular
from gd_explorer.core.io.tabular import (
    MAX_BYTES,
    DataError,
    Table,
    read_table,
    read_xy,
    select_xy,
)


def write(tmp_path, content: bytes | str, name: str = "data.csv"):
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def refused(path, detail: str) -> str:
    """A ``match=`` pattern: the message starts with the file's path, then ``detail``."""
    return "^" + re.escape(f"{path}: ") + detail


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.tobytes() == b.tobytes()


# ---------------------------------------------------------------------------------------
# Accepted files

ACCEPTED = [
    pytest.param(
        b"x,y\n1,2\n-2.5,1e-3\n+3,.5\n",
        ("x", "y"),
        [[1.0, 2.0], [-2.5, 1e-3], [3.0, 0.5]],
        True,
        ",",
        id="header-comma",
    ),
    pytest.param(
        b"1,2\n3,4\n",
        ("column 1", "column 2"),
        [[1.0, 2.0], [3.0, 4.0]],
        False,
        ",",
        id="no-header",
    ),
    pytest.param(
        b"x;y\n1.5;2\n3;-4E+2\n",
        ("x", "y"),
        [[1.5, 2.0], [3.0, -400.0]],
        True,
        ";",
        id="semicolon",
    ),
    pytest.param(
        b"t\tv\n0\t1.25\n5.\t1e2\n",
        ("t", "v"),
        [[0.0, 1.25], [5.0, 100.0]],
        True,
        "\t",
        id="tab",
    ),
    pytest.param(
        b"x y\n1  2\n  3 \t 4  \n",
        ("x", "y"),
        [[1.0, 2.0], [3.0, 4.0]],
        True,
        " ",
        id="whitespace",
    ),
    pytest.param(
        b"\xef\xbb\xbfx,y\n1,2\n",
        ("x", "y"),
        [[1.0, 2.0]],
        True,
        ",",
        id="bom",
    ),
    pytest.param(
        b"\xef\xbb\xbf1;2\r\n3;4\r\n",
        ("column 1", "column 2"),
        [[1.0, 2.0], [3.0, 4.0]],
        False,
        ";",
        id="bom-no-header-crlf",
    ),
    pytest.param(
        b"x,y\r\n1,2\r\n3,4",
        ("x", "y"),
        [[1.0, 2.0], [3.0, 4.0]],
        True,
        ",",
        id="crlf-no-final-newline",
    ),
    pytest.param(
        b"x\ty\r1\t2\r3\t4\r",
        ("x", "y"),
        [[1.0, 2.0], [3.0, 4.0]],
        True,
        "\t",
        id="cr",
    ),
    pytest.param(
        b"\n  \nx,y\n\n1,2\n \t \n3,4\n\n\n",
        ("x", "y"),
        [[1.0, 2.0], [3.0, 4.0]],
        True,
        ",",
        id="blank-lines",
    ),
    pytest.param(
        b"  x , y \n 1 , 2 \n\t3\t,4\n",
        ("x", "y"),
        [[1.0, 2.0], [3.0, 4.0]],
        True,
        ",",
        id="surrounding-whitespace",
    ),
    pytest.param(
        b'"x","y"\n"1.5","2"\n "3" , 4\n',
        ("x", "y"),
        [[1.5, 2.0], [3.0, 4.0]],
        True,
        ",",
        id="quoted",
    ),
    pytest.param(
        b'"length, m";"mass; kg"\n"1.5";2\n',
        ("length, m", "mass; kg"),
        [[1.5, 2.0]],
        True,
        ";",
        id="quoted-delimiters-in-header",
    ),
    pytest.param(
        b"a,,c\n1,2,3\n",
        ("a", "column 2", "c"),
        [[1.0, 2.0, 3.0]],
        True,
        ",",
        id="empty-header-name",
    ),
    pytest.param(
        b'size,length 5"\n1,2\n',
        ("size", 'length 5"'),
        [[1.0, 2.0]],
        True,
        ",",
        id="literal-quote-in-header",
    ),
    pytest.param(
        b"x,y\n1e-400,1.7976931348623157e308\n5e-324,-2.2250738585072014e-308\n",
        ("x", "y"),
        [[0.0, 1.7976931348623157e308], [5e-324, -2.2250738585072014e-308]],
        True,
        ",",
        id="extreme-magnitudes",
    ),
]


@pytest.mark.parametrize(("content", "columns", "data", "has_header", "delimiter"), ACCEPTED)
def test_accepted_variants(tmp_path, content, columns, data, has_header, delimiter):
    path = write(tmp_path, content)
    table = read_table(path)
    assert table.path == str(path)
    assert table.columns == columns
    assert table.has_header is has_header
    assert table.delimiter == delimiter
    assert table.data.dtype == np.float64
    assert same_bits(table.data, np.array(data, dtype=np.float64))


def test_negative_zero_survives(tmp_path):
    table = read_table(write(tmp_path, "x,y\n-0,-0.0\n0,1\n"))
    assert np.signbit(table.data[0]).all()
    assert not np.signbit(table.data[1]).any()


def test_data_is_read_only(tmp_path):
    table = read_table(write(tmp_path, "1,2\n3,4\n"))
    with pytest.raises(ValueError, match="read-only"):
        table.data[0, 0] = 5.0


def test_str_path_accepted(tmp_path):
    path = write(tmp_path, "1,2\n")
    assert read_table(str(path)).path == str(path)


def test_many_blank_lines_do_not_count_as_rows(tmp_path, monkeypatch):
    monkeypatch.setattr(tabular, "MAX_ROWS", 3)
    table = read_table(write(tmp_path, "x,y\n" + "\n" * 20 + "1,2\n\n\n3,4\n5,6\n"))
    assert table.data.shape == (3, 2)


def test_semicolon_wins_over_comma_when_both_fit(tmp_path):
    # "1;2,5" could be 2 columns by ';' or by ','; the semicolon reading is the one that
    # then reports the decimal comma instead of inventing columns.
    path = write(tmp_path, "1;2,5\n3;4,5\n")
    with pytest.raises(DataError, match=refused(path, r"line 1, column 2: '2,5'")):
        read_table(path)


# ---------------------------------------------------------------------------------------
# Column selection

THREE = "time,pos,vel\n0,1,2\n1,3,4\n2,5,6\n"


@pytest.mark.parametrize(
    ("x", "y", "expected"),
    [
        (None, None, (0, 1)),
        ("time", "vel", (0, 2)),
        (2, 1, (2, 1)),
        ("vel", 0, (2, 0)),
        (np.int64(1), "time", (1, 0)),
        (1, None, (1, 0)),
        (None, 0, (1, 0)),
        (None, 2, (0, 2)),
        (2, None, (2, 0)),
    ],
)
def test_select_xy(tmp_path, x, y, expected):
    table = read_table(write(tmp_path, THREE))
    xs, ys = select_xy(table, x, y)
    assert np.array_equal(xs, table.data[:, expected[0]])
    assert np.array_equal(ys, table.data[:, expected[1]])
    xs[0] = 99.0  # copies, free to modify
    assert table.data[0, expected[0]] != 99.0


def test_read_xy_returns_names(tmp_path):
    xs, ys, names = read_xy(write(tmp_path, THREE), x="vel", y=1)
    assert names == ("vel", "pos")
    assert xs.tolist() == [2.0, 4.0, 6.0]
    assert ys.tolist() == [1.0, 3.0, 5.0]


def test_read_xy_defaults_without_header(tmp_path):
    xs, ys, names = read_xy(write(tmp_path, "1;2\n3;4\n"))
    assert names == ("column 1", "column 2")
    assert xs.tolist() == [1.0, 3.0]
    assert ys.tolist() == [2.0, 4.0]


@pytest.mark.parametrize(
    ("x", "y", "detail"),
    [
        ("speed", None, r"no x column named 'speed'\. Columns: 0: 'time', 1: 'pos', 2: 'vel'"),
        (None, "Pos", r"no y column named 'Pos'\. Columns: 0: 'time'"),
        (3, None, r"x column index 3 is out of range \(0 to 2\)\. Columns: 0: 'time'"),
        (0, -1, r"y column index -1 is out of range"),
        ("pos", 1, r"x and y are the same column \(1: 'pos'\)"),
        (0, 0, r"x and y are the same column \(0: 'time'\)"),
        (True, 1, r"x column must be a name or an index, got True"),
        (0, 1.0, r"y column must be a name or an index, got 1\.0"),
    ],
)
def test_select_xy_refusals(tmp_path, x, y, detail):
    path = write(tmp_path, THREE)
    table = read_table(path)
    with pytest.raises(DataError, match=refused(path, detail)):
        select_xy(table, x, y)
    with pytest.raises(DataError, match=refused(path, detail)):
        read_xy(path, x, y)


def test_select_xy_ambiguous_name(tmp_path):
    path = write(tmp_path, "a,b,a\n1,2,3\n")
    table = read_table(path)
    with pytest.raises(DataError, match=refused(path, r"x column name 'a' is ambiguous")):
        select_xy(table, "a", "b")
    xs, ys = select_xy(table, 2, "b")
    assert (xs.tolist(), ys.tolist()) == ([3.0], [2.0])


def test_table_checks_its_invariants():
    with pytest.raises(ValueError, match="2 names"):
        Table("p", ("a", "b"), np.zeros((2, 3)), True, ",")
    with pytest.raises(ValueError, match="finite"):
        Table("p", ("a", "b"), np.array([[1.0, np.nan]]), True, ",")
    with pytest.raises(ValueError, match="2-D float64"):
        Table("p", ("a", "b"), np.zeros(2), True, ",")


# ---------------------------------------------------------------------------------------
# Refused files

REFUSED = [
    pytest.param(b"", r"no data rows \(the file is empty or blank\)", id="empty"),
    pytest.param(b"\n \r\n\t\n", r"no data rows \(the file is empty or blank\)", id="blank"),
    pytest.param(b"\n\nx,y\n\n", r"no data rows \(only a header on line 3\)", id="only-header"),
    pytest.param(b"x,y\n1,\xff\n", r"not a text file \(not valid UTF-8 .*line 2\)", id="latin1"),
    pytest.param(b"x,y\n1,\x002\n", r"not a text file \(contains NUL bytes\)", id="nul"),
    pytest.param("x,y\n1,2\n".encode("utf-16"), r"not a text file .*UTF-16", id="utf16"),
    pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", r"not a text file", id="binary-png"),
    pytest.param(
        b"x,y\n1,2\n3,abc\n", r"line 3, column 2: 'abc' is not a number$", id="non-numeric"
    ),
    pytest.param(
        b"x,y\n1,2\n\n\n3,4\n" + b"z" * 100 + b",4\n",
        r"line 6, column 1: 'z{27}\.\.\.' is not a number$",
        id="non-numeric-truncated",
    ),
    pytest.param(
        b"x,y\n1,2\n\r\n3,4\nq,r\n",
        r"line 5, column 1: 'q' is not a number$",
        id="second-header-crlf-blank",
    ),
    pytest.param(b"x,y\r\r1,2\r3,-\r", r"line 4, column 2: '-' is not a number", id="cr-lines"),
    pytest.param(b"x,y\n1,2\n3,\n", r"line 3, column 2: empty field", id="empty-field"),
    pytest.param(b"x,y\n1,  \n", r"line 2, column 2: empty field", id="blank-field"),
    pytest.param(
        b"1,,3\n4,5,6\n", r"line 1, column 2: empty field", id="hole-in-first-row-not-header"
    ),
    pytest.param(b"x,y\n1,1_000\n", r"line 2, column 2: '1_000' is not a number", id="underscore"),
    pytest.param(
        "x,y\n1,\u0661\u0662\n".encode(), r"line 2, column 2: '١٢' is not a number", id="arabic"
    ),
    pytest.param(
        "x,y\n1,\u00a02\n".encode(), r"line 2, column 2: '\\xa02' is not a number", id="nbsp"
    ),
    pytest.param(b"x,y\n1,0x10\n", r"line 2, column 2: '0x10' is not a number", id="hex"),
    pytest.param(b"x,y\n1,2 3\n", r"line 2, column 2: '2 3' is not a number", id="inner-space"),
    pytest.param(
        b"x;y\n1;2\n3;1,5\n",
        r"line 3, column 2: '1,5' is not a number \(decimal comma\? use '\.'\)",
        id="decimal-comma",
    ),
    pytest.param(
        b"1,5;2,5\n3,5;4,5\n",
        r"line 1, column 1: '1,5' is not a number \(decimal comma\? use '\.'\)",
        id="decimal-comma-no-header",
    ),
    pytest.param(
        b"x\ty\n-0,25\t1\n",
        r"line 2, column 1: '-0,25' is not a number \(decimal comma",
        id="decimal-comma-tab",
    ),
    pytest.param(
        b"x,y\n1,1e999\n", r"line 2, column 2: '1e999' is too large for float64", id="overflow"
    ),
    pytest.param(
        b"x,y\n1,2\n3,4,5\n6,7\n", r"line 3: 3 fields, expected 2 \(separated by ','\)", id="ragged"
    ),
    pytest.param(
        b"x;y\n\n1;2\n\n3\n4;5\n",
        r"line 5: 1 field, expected 2 \(separated by ';'\)",
        id="ragged-short-after-blank-lines",
    ),
    pytest.param(
        b"x,y,z\n1,2\n3,4\n", r"line 1: 3 fields, expected 2", id="header-wider-than-data"
    ),
    pytest.param(
        b"My measurements\nx,y\n1,2\n3,4\n", r"line 1: 1 field, expected 2", id="title-line"
    ),
    pytest.param(
        b"x\n1\n2\n", r"needs at least two columns; line 1 has one field", id="single-column"
    ),
    pytest.param(
        b"\n\n1.5\n2.5\n", r"needs at least two columns; line 3 has one field", id="one-number"
    ),
    pytest.param(
        b'x,y\n1,"2\n3",4\n',
        r"line 2: unbalanced quote runs onto the next line",
        id="quote-spans-lines",
    ),
    pytest.param(b'x,y\n1,2\n3,"4\n', r"line 3: unbalanced quote$", id="quote-open-at-eof"),
    pytest.param(
        b'x,y\n1,"' + b"9" * 200_000 + b'"\n',
        r"line 2: field larger than field limit",
        id="csv-field-limit",
    ),
]


@pytest.mark.parametrize(("content", "detail"), REFUSED)
def test_refused_files(tmp_path, content, detail):
    path = write(tmp_path, content)
    with pytest.raises(DataError, match=refused(path, detail)):
        read_table(path)


@pytest.mark.parametrize("word", ["nan", "NaN", "inf", "-inf", "+Infinity", "-nan", "INF"])
def test_non_finite_refused(tmp_path, word):
    path = write(tmp_path, f"x,y\n1,2\n\n{word},4\n")
    detail = rf"line 4, column 1: '{re.escape(word)}' is not a finite number"
    with pytest.raises(DataError, match=refused(path, detail)):
        read_table(path)


def test_non_finite_in_first_row_is_not_a_header(tmp_path):
    path = write(tmp_path, "nan,1\n2,3\n")
    with pytest.raises(DataError, match=refused(path, r"line 1, column 1: 'nan'")):
        read_table(path)


def test_missing_file(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(DataError, match=refused(path, "no such file")):
        read_table(path)


def test_directory(tmp_path):
    with pytest.raises(DataError, match=refused(tmp_path, "is a directory")):
        read_table(tmp_path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
def test_fifo_is_not_read(tmp_path):
    path = tmp_path / "pipe"
    os.mkfifo(path)
    with pytest.raises(DataError, match=refused(path, "is not a regular file")):
        read_table(path)


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() == 0, reason="root reads files regardless of mode"
)
def test_unreadable_file(tmp_path):
    path = write(tmp_path, "1,2\n")
    path.chmod(0)
    try:
        with pytest.raises(DataError, match=refused(path, "permission denied")):
            read_table(path)
    finally:
        path.chmod(0o644)


def test_unreadable_file_simulated(tmp_path, monkeypatch):
    path = write(tmp_path, "1,2\n")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(tabular, "open", denied, raising=False)
    with pytest.raises(DataError, match=refused(path, "permission denied")):
        read_table(path)


def test_read_error_simulated(tmp_path, monkeypatch):
    path = write(tmp_path, "1,2\n")

    def broken(*args, **kwargs):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(tabular, "open", broken, raising=False)
    with pytest.raises(DataError, match=refused(path, r"cannot read the file \(Input/output")):
        read_table(path)


def test_file_over_the_size_cap(tmp_path):
    path = tmp_path / "huge.csv"
    with open(path, "wb") as handle:
        handle.truncate(MAX_BYTES + 1)  # sparse: stat() must refuse it before any read
    with pytest.raises(
        DataError, match=refused(path, r"file is 50\.0 MiB, larger than the 50 MiB limit")
    ):
        read_table(path)


def test_size_cap_is_checked_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(tabular, "MAX_BYTES", 10)
    path = write(tmp_path, "x,y\n1,2\n3,4\n")
    with pytest.raises(DataError, match=refused(path, r"file is 0\.0 MiB, larger than")):
        read_table(path)


def test_too_many_rows_with_line(tmp_path, monkeypatch):
    monkeypatch.setattr(tabular, "MAX_ROWS", 3)
    path = write(tmp_path, "1,2\n3,4\n\n5,6\n7,8\n")
    with pytest.raises(DataError, match=refused(path, r"more than 3 data rows \(line 5\)")):
        read_table(path)


def test_too_many_rows_caught_before_parsing(tmp_path, monkeypatch):
    monkeypatch.setattr(tabular, "MAX_ROWS", 3)
    path = write(tmp_path, "x,y\n1,2\n3,4\n5,6\n7,8\n")
    with pytest.raises(DataError, match=refused(path, r"more than 3 data rows")):
        read_table(path)


def test_exactly_max_rows_accepted(tmp_path, monkeypatch):
    monkeypatch.setattr(tabular, "MAX_ROWS", 3)
    table = read_table(write(tmp_path, "x,y\n1,2\n3,4\n5,6\n"))
    assert table.data.shape == (3, 2)


# ---------------------------------------------------------------------------------------
# Properties

EXTREMES = [
    0.0,
    -0.0,
    5e-324,
    -5e-324,
    2.2250738585072014e-308,
    2.225073858507201e-308,
    1.7976931348623157e308,
    -1.7976931348623157e308,
    1e-300,
    1e300,
    0.1,
    1 / 3,
]
finite_floats = st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from(EXTREMES)


@st.composite
def csv_files(draw):
    n_columns = draw(st.integers(2, 5))
    n_rows = draw(st.integers(1, 50))
    values = draw(
        st.lists(
            st.lists(finite_floats, min_size=n_columns, max_size=n_columns),
            min_size=n_rows,
            max_size=n_rows,
        )
    )
    delimiter = draw(st.sampled_from([",", ";", "\t", " "]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    header = draw(st.booleans())
    quote = delimiter != " " and draw(st.booleans())
    pad = draw(st.sampled_from(["", " ", "  "]))
    names = [
        f"c{i}" + draw(st.text(string.ascii_letters + "_", max_size=6)) for i in range(n_columns)
    ]

    def cell(text):
        return f'{pad}"{text}"{pad}' if quote else f"{pad}{text}{pad}"

    lines = [delimiter.join(cell(name) for name in names)] if header else []
    lines += [delimiter.join(cell(repr(float(v))) for v in row) for row in values]
    # Blank (or whitespace-only) lines at random places, before, between and after.
    for _ in range(draw(st.integers(0, 5))):
        at = draw(st.integers(0, len(lines)))
        lines.insert(at, draw(st.sampled_from(["", " ", "  \t"])))
    text = newline.join(lines) + (newline if draw(st.booleans()) else "")
    raw = (b"\xef\xbb\xbf" if draw(st.booleans()) else b"") + text.encode()
    columns = tuple(names) if header else tuple(f"column {i + 1}" for i in range(n_columns))
    return raw, np.array(values, dtype=np.float64), columns, header, delimiter


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(csv_files())
def test_round_trip_is_bit_exact(tmp_path, case):
    raw, values, columns, header, delimiter = case
    table = read_table(write(tmp_path, raw))
    assert table.columns == columns
    assert table.has_header is header
    assert table.delimiter == delimiter
    assert np.array_equal(table.data, values)
    assert same_bits(table.data, values)  # catches -0.0 and every last ulp


def check_never_crashes(path):
    try:
        table = read_table(path)
    except DataError as exc:
        assert str(exc).startswith(f"{path}: ")
        return
    assert table.data.dtype == np.float64
    assert table.data.ndim == 2
    assert table.data.shape[0] >= 1
    assert table.data.shape[1] == len(table.columns) >= 2
    assert np.isfinite(table.data).all()


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_crash(tmp_path, raw):
    check_never_crashes(write(tmp_path, raw))


# Text made of the characters that matter to the parser reaches far deeper than random
# bytes, which are almost never valid UTF-8.
parser_text = st.text(alphabet="0123456789.,;\t \r\n\"'eE+-naifxy_\ufeff\u00a0\u0661", max_size=200)


@settings(max_examples=500, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parser_text)
def test_arbitrary_text_never_crashes(tmp_path, text):
    check_never_crashes(write(tmp_path, text))
