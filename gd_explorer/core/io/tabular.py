"""Read x/y columns from user CSV files, refusing anything doubtful with a clear message.

Files come "from the wild": spreadsheets export semicolons and decimal commas, editors add
byte-order marks, old Macs end lines with CR. Everything that is not an unambiguous table
of finite numbers is refused with a :class:`DataError` naming the file and, where it
applies, the physical line (1-based, blank lines and the header included) and the column.
Nothing is ever dropped or turned into NaN silently.
"""

from __future__ import annotations

import collections
import csv
import operator
import os
import re
import stat
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import chain

import numpy as np

__all__ = [
    "MAX_BYTES",
    "MAX_ROWS",
    "DataError",
    "Table",
    "read_table",
    "read_xy",
    "select_xy",
]

MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 2_000_000

# Explicit grammar instead of trusting float(): float() also accepts "1_000", "nan",
# "infinity" and non-ASCII digits, none of which belong in a numeric column.
_NUMBER = re.compile(r"[ \t]*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[ \t]*", re.ASCII)
_NONFINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.ASCII | re.IGNORECASE)
_DECIMAL_COMMA = re.compile(r"[+-]?(?:\d+,\d*|,\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_OUTSIDE_GRAMMAR = re.compile(r"[^0-9.eE+\- \t\n]")
_NONBLANK_LINE = re.compile(r"^[^\S\n]*\S", re.MULTILINE)

# Preference order when several delimiters split the sample equally well. ";" beats ","
# because semicolon files usually carry decimal commas, which "," would split into
# plausible-looking but wrong columns.
_DELIMITERS = ("\t", ";", ",")
_WHITESPACE = " "
_DELIMITER_NAMES = {"\t": "tabs", ";": "';'", ",": "','", " ": "whitespace"}
_SNIFF_LINES = 50
_QUOTE_WIDTH = 30


class DataError(ValueError):
    """A data file cannot be used; the message says which file, where and why."""


@dataclass(frozen=True)
class Table:
    """A rectangular table of finite float64 values read from a text file.

    Attributes
    ----------
    path : str
        The path as given to :func:`read_table`.
    columns : tuple of str
        Header names, or ``"column 1"``, ``"column 2"``, ... when there is no header.
    data : numpy.ndarray
        Shape ``(n_rows, n_columns)``, float64, all finite, read-only.
    has_header : bool
        Whether the first non-blank line was a header.
    delimiter : str
        ``","``, ``";"``, ``"\\t"`` or ``" "`` (runs of spaces/tabs).
    """

    path: str
    columns: tuple[str, ...]
    data: np.ndarray
    has_header: bool
    delimiter: str

    def __post_init__(self) -> None:
        # Other code builds Tables too (samples, tests); keep the invariants in one place.
        if self.data.ndim != 2 or self.data.dtype != np.float64:
            raise ValueError(
                f"data must be a 2-D float64 array, got {self.data.ndim}-D {self.data.dtype}"
            )
        if self.data.shape[1] != len(self.columns):
            raise ValueError(f"data has {self.data.shape[1]} columns but {len(self.columns)} names")
        if not np.isfinite(self.data).all():
            raise ValueError("data must be finite")


def _fail(path: str, message: str) -> DataError:
    return DataError(f"{path}: {message}")


def _quote(field: str) -> str:
    if len(field) > _QUOTE_WIDTH:
        field = field[: _QUOTE_WIDTH - 3] + "..."
    return repr(field)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _read_text(path: str) -> str:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise _fail(path, "no such file") from None
    except PermissionError:
        raise _fail(path, "permission denied") from None
    except (OSError, ValueError) as exc:  # ValueError: embedded NUL in the path
        raise _fail(path, f"cannot access the file ({exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise _fail(path, "is a directory, not a file")
    if not stat.S_ISREG(info.st_mode):
        # FIFOs and devices would block or never end.
        raise _fail(path, "is not a regular file")
    if info.st_size > MAX_BYTES:
        raise _fail(path, _too_big(info.st_size))
    try:
        with open(path, "rb") as handle:
            # Read one byte past the cap: the file may have grown since stat().
            raw = handle.read(MAX_BYTES + 1)
    except PermissionError:
        raise _fail(path, "permission denied") from None
    except OSError as exc:
        raise _fail(path, f"cannot read the file ({exc.strerror or exc})") from None
    if len(raw) > MAX_BYTES:
        raise _fail(path, _too_big(len(raw)))
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _fail(path, "not a text file this program reads (UTF-16?); save it as UTF-8")
    if b"\x00" in raw:
        raise _fail(path, "not a text file (contains NUL bytes)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise _fail(
            path, f"not a text file (not valid UTF-8 at byte {exc.start}, line {line})"
        ) from None


def _too_big(size: int) -> str:
    mib = 1024 * 1024
    return f"file is {size / mib:.1f} MiB, larger than the {MAX_BYTES / mib:.0f} MiB limit"


def _records(path: str, lines: list[str], numbers: list[int], delimiter: str) -> list[list[str]]:
    """Split each non-blank line into fields; one record per line or a DataError."""
    if delimiter == _WHITESPACE:
        return [line.split() for line in lines]
    if not any('"' in line for line in lines):
        # Without quotes csv only adds cost; the leading spaces it would skip are
        # stripped later anyway.
        return [line.split(delimiter) for line in lines]
    reader = csv.reader(lines, delimiter=delimiter, skipinitialspace=True)
    try:
        records = list(reader)
    except csv.Error as exc:
        raise _fail(path, f"line {numbers[max(reader.line_num, 1) - 1]}: {exc}") from None
    if len(records) != len(lines):
        # A quote left open swallows the next line and csv joins the two without a
        # trace ("1 + 5" on two lines would read as 15), so find the culprit.
        reader = csv.reader(lines, delimiter=delimiter, skipinitialspace=True)
        before = 0
        for _ in reader:
            if reader.line_num - before > 1:
                break
            before = reader.line_num
        raise _fail(path, f"line {numbers[before]}: unbalanced quote runs onto the next line")
    if lines[-1].count('"') % 2:
        # ...and at the end of the file csv closes an open quote without complaint.
        raise _fail(path, f"line {numbers[-1]}: unbalanced quote")
    return records


def _count_fields(line: str, delimiter: str) -> int:
    try:
        return len(next(csv.reader([line], delimiter=delimiter, skipinitialspace=True), []))
    except csv.Error:
        # An oversized field; the full parse reports it with its line number.
        return line.count(delimiter) + 1


def _sniff(lines: Sequence[str]) -> tuple[str, int]:
    """Pick the delimiter and field count that describe most of the first lines.

    Uses the most common field count rather than the first line's, so that a single odd
    line (a title, a header with a trailing comma) is reported as the odd one out.
    """
    sample = lines[:_SNIFF_LINES]
    best: tuple[int, int] | None = None
    choice = ("", 1)
    for rank, delimiter in enumerate(_DELIMITERS):
        # Line by line: an unbalanced quote must not hide the layout of the other lines;
        # the full parse reports it with its line number.
        counts = [_count_fields(line, delimiter) for line in sample]
        width, frequency = Counter(counts).most_common(1)[0]
        if width < 2:
            continue
        score = (frequency, -rank)
        if best is None or score > best:
            best, choice = score, (delimiter, width)
    if best is not None:
        return choice
    # Whitespace-separated only as a last resort: "1, 2" splits on spaces too.
    counts = [len(line.split()) for line in sample]
    width, _ = Counter(counts).most_common(1)[0]
    if width >= 2:
        return _WHITESPACE, width
    return "", 1


def _numberlike(field: str, delimiter: str) -> bool:
    # Strip only what the number grammar allows, so a no-break space stays visible.
    field = field.strip(" \t")
    return bool(
        _NUMBER.fullmatch(field)
        or _NONFINITE.fullmatch(field)
        or (delimiter != "," and _DECIMAL_COMMA.fullmatch(field))
    )


def _is_header(fields: Sequence[str], delimiter: str) -> bool:
    # Empty fields do not make a header: "1,,3" is a data row with a hole, and taking it
    # as a header would silently drop it.
    return any(f.strip() and not _numberlike(f, delimiter) for f in fields)


def _field_problem(field: str, delimiter: str) -> str:
    stripped = field.strip(" \t")
    if not stripped:
        return "empty field"
    if _NONFINITE.fullmatch(stripped):
        return f"{_quote(stripped)} is not a finite number (NaN and infinity are refused)"
    if delimiter != "," and _DECIMAL_COMMA.fullmatch(stripped):
        return f"{_quote(stripped)} is not a number (decimal comma? use '.')"
    return f"{_quote(stripped)} is not a number"


#: the tables last read, by file identity: opening a CSV previews it (read off the UI
#: thread) and then fits it; the fit must not read a large file a second time
_RECENT: collections.OrderedDict = collections.OrderedDict()
_RECENT_SIZE = 2
_RECENT_LOCK = threading.Lock()


def _identity(path: str):
    # size and times alone miss a same-size rewrite within the clock's granularity (a
    # few ms): the first bytes are part of the identity too
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            return None
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except (OSError, ValueError):
        return None
    return (os.path.realpath(path), st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns,
            hash(head))


def read_table(path: str | os.PathLike) -> Table:
    """Read a delimited text file of numbers into a :class:`Table`.

    The last few tables read are kept by file identity (path, inode, size, modification
    time): reading an unchanged file again returns the same table without reading it.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.

    Returns
    -------
    Table
        The numbers as a float64 array with column names and the detected format.

    Raises
    ------
    DataError
        For any file that is not an unambiguous table of finite numbers with at least
        two columns and one data row; the message names the file and, where it applies,
        the 1-based physical line and column.

    Notes
    -----
    Accepted: UTF-8 with or without BOM; LF, CRLF or CR line endings; ``,`` ``;`` or tab
    delimiters (sniffed), or runs of whitespace when none of those fits; an optional
    header (a first non-blank line with a field that is not a number); blank lines
    anywhere; spaces around fields; quoted fields; numbers such as ``1``, ``-2.5``,
    ``1e-3``, ``+3``, ``.5``, ``5.``. Decimal commas, NaN, infinity, empty fields and
    ragged rows are refused, never guessed at.
    """
    path = os.fsdecode(os.fspath(path))
    key = _identity(path)
    if key is not None:
        with _RECENT_LOCK:
            table = _RECENT.get(key)
            if table is not None:
                _RECENT.move_to_end(key)
        if table is not None:
            return table if table.path == path else replace(table, path=path)
    table = _read_table_file(path)
    if key is not None and _identity(path) == key:  # unchanged while it was read
        with _RECENT_LOCK:
            _RECENT[key] = table
            while len(_RECENT) > _RECENT_SIZE:
                _RECENT.popitem(last=False)
    return table


def _read_table_file(path: str) -> Table:
    """:func:`read_table` without the cache."""
    text = _read_text(path).replace("\r\n", "\n").replace("\r", "\n")
    if text.count("\n") > MAX_ROWS and len(_NONBLANK_LINE.findall(text)) > MAX_ROWS + 1:
        # Refuse before building millions of small Python objects.
        raise _fail(path, f"more than {MAX_ROWS:,} data rows")
    physical = text.split("\n")
    del text
    # Keep the physical line number of each non-blank line: messages must match what an
    # editor shows.
    numbers = [i for i, line in enumerate(physical, 1) if line.strip()]
    lines = [physical[i - 1] for i in numbers]
    del physical
    if not lines:
        raise _fail(path, "no data rows (the file is empty or blank)")

    delimiter, width = _sniff(lines)
    if width < 2:
        raise _fail(
            path,
            f"needs at least two columns; line {numbers[0]} has one field "
            "and no ',', ';' or tab separates columns",
        )
    records = _records(path, lines, numbers, delimiter)
    widths = list(map(len, records))
    if widths.count(width) != len(widths):
        index = next(i for i, n in enumerate(widths) if n != width)
        raise _fail(
            path,
            f"line {numbers[index]}: {_plural(widths[index], 'field')}, expected {width} "
            f"(separated by {_DELIMITER_NAMES[delimiter]})",
        )
    del widths

    has_header = _is_header(records[0], delimiter)
    first = 1 if has_header else 0
    n_rows = len(records) - first
    if n_rows == 0:
        raise _fail(path, f"no data rows (only a header on line {numbers[0]})")
    if n_rows > MAX_ROWS:
        raise _fail(path, f"more than {MAX_ROWS:,} data rows (line {numbers[first + MAX_ROWS]})")

    fields = list(chain.from_iterable(records[first:]))
    # Fast path: with only these characters, float() accepts exactly the number grammar
    # (no underscores, no nan/inf spellings, no non-ASCII digits or spaces).
    values = None
    if not _OUTSIDE_GRAMMAR.search("\n".join(fields)):
        try:
            values = np.fromiter(map(float, fields), dtype=np.float64, count=len(fields))
        except ValueError:
            pass
    if values is None:
        number = _NUMBER.fullmatch
        for index, field in enumerate(fields):
            if not number(field):
                row, column = divmod(index, width)
                raise _fail(
                    path,
                    f"line {numbers[first + row]}, column {column + 1}: "
                    + _field_problem(field, delimiter),
                )
        raise AssertionError("unreachable: every field matched the number grammar")
    data = values.reshape(n_rows, width)
    finite = np.isfinite(data)
    if not finite.all():
        row, column = np.argwhere(~finite)[0]
        # Only overflow gets here ("1e999"): NaN/inf spellings fail the grammar above.
        raise _fail(
            path,
            f"line {numbers[first + row]}, column {column + 1}: "
            f"{_quote(fields[row * width + column].strip())} is too large for float64",
        )
    data.setflags(write=False)

    if has_header:
        names = [name.strip() for name in records[0]]
        columns = tuple(name or f"column {i}" for i, name in enumerate(names, 1))
    else:
        columns = tuple(f"column {i}" for i in range(1, width + 1))
    return Table(
        path=path,
        columns=columns,
        data=data,
        has_header=has_header,
        delimiter=delimiter,
    )


def _column_index(table: Table, key: str | int, role: str) -> int:
    listing = ", ".join(f"{i}: {name!r}" for i, name in enumerate(table.columns))
    if isinstance(key, str):
        matches = [i for i, name in enumerate(table.columns) if name == key]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise _fail(
                table.path,
                f"{role} column name {key!r} is ambiguous (columns {matches}); "
                f"use an index. Columns: {listing}",
            )
        raise _fail(table.path, f"no {role} column named {key!r}. Columns: {listing}")
    if isinstance(key, bool):
        raise _fail(table.path, f"{role} column must be a name or an index, got {key!r}")
    try:
        index = operator.index(key)
    except TypeError:
        raise _fail(table.path, f"{role} column must be a name or an index, got {key!r}") from None
    if not 0 <= index < len(table.columns):
        raise _fail(
            table.path,
            f"{role} column index {index} is out of range (0 to "
            f"{len(table.columns) - 1}). Columns: {listing}",
        )
    return index


def _resolve_xy(table: Table, x: str | int | None, y: str | int | None) -> tuple[int, int]:
    ix = None if x is None else _column_index(table, x, "x")
    iy = None if y is None else _column_index(table, y, "y")
    if ix is None:
        ix = 1 if iy == 0 else 0
    if iy is None:
        iy = 1 if ix == 0 else 0
    if ix == iy:
        raise _fail(
            table.path,
            f"x and y are the same column ({ix}: {table.columns[ix]!r}); pick two columns",
        )
    return ix, iy


def select_xy(
    table: Table, x: str | int | None = None, y: str | int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Pick the x and y columns of a table.

    Parameters
    ----------
    table : Table
        A table from :func:`read_table`.
    x, y : str or int or None
        Column name or 0-based index. ``None`` takes the first column not used by the
        other argument, so by default x is column 0 and y is column 1.

    Returns
    -------
    x, y : numpy.ndarray
        Writable 1-D float64 copies of the two columns.

    Raises
    ------
    DataError
        When a name or index does not exist (the message lists the columns), a name is
        ambiguous, or both refer to the same column.
    """
    ix, iy = _resolve_xy(table, x, y)
    return table.data[:, ix].copy(), table.data[:, iy].copy()


def read_xy(
    path: str | os.PathLike, x: str | int | None = None, y: str | int | None = None
) -> tuple[np.ndarray, np.ndarray, tuple[str, str]]:
    """Read a file and return its x and y columns with their names.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read, as for :func:`read_table`.
    x, y : str or int or None
        Column name or 0-based index, as for :func:`select_xy`.

    Returns
    -------
    x, y : numpy.ndarray
        1-D float64 arrays of equal length, all finite.
    names : tuple of (str, str)
        The names of the chosen x and y columns.

    Raises
    ------
    DataError
        For any unusable file or column choice.
    """
    table = read_table(path)
    ix, iy = _resolve_xy(table, x, y)
    names = (table.columns[ix], table.columns[iy])
    return table.data[:, ix].copy(), table.data[:, iy].copy(), names
