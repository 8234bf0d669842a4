"""Readers of session-file values: each checks one JSON value and names its key path.

Shared by the session reader (:mod:`gd_explorer.core.session.specs`) and the problem
kinds (:mod:`gd_explorer.core.problems.kinds`), which read their own fields.  Every
refusal is a :class:`SessionError` (a ``ValueError``) whose message starts with the key
path, e.g. ``problem.model: unknown model 'cubic'; choose one of: ...``.
"""

from __future__ import annotations

import difflib
import math
from typing import Any

import numpy as np

from gd_explorer.core.limits import MAX_TEXT_LENGTH

__all__ = ["SessionError", "choice", "describe", "fail", "flag", "join", "key_text",
           "non_negative", "object_of", "real", "text", "whole"]


class SessionError(ValueError):
    """A session was refused; the message names the key path (or file) and the reason."""


def _fail(path: str, message: str) -> SessionError:
    return SessionError(f"{path}: {message}" if path else message)


def _describe(v: Any) -> str:
    """A short description of a value for messages: never huge, never recursive."""
    if v is None:
        return "null"
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        # str() of an int with thousands of digits is slow (and limited in 3.11+)
        return str(int(v)) if abs(int(v)) < 10**30 else "a huge integer"
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    if isinstance(v, str):
        return repr(v) if len(v) <= 40 else repr(v[:37]) + "..."
    if isinstance(v, (list, tuple)):
        return f"a list of {len(v)} item{'' if len(v) == 1 else 's'}"
    if isinstance(v, dict):
        return "an object"
    return f"a {type(v).__name__}"


def _key_text(key: Any) -> str:
    return _describe(key) if isinstance(key, str) else f"non-text key {_describe(key)}"


def _object(path: str, value: Any, keys: tuple[str, ...], optional: dict | None = None) -> dict:
    """Check that ``value`` is a mapping with exactly ``keys`` (those in ``optional`` may be
    missing: the result then has their default)."""
    if not isinstance(value, dict):
        raise _fail(path, f"must be an object {{...}}, got {_describe(value)}")
    for key in value:
        if not isinstance(key, str) or key not in keys:
            hint = ""
            if isinstance(key, str) and len(key) <= 100:
                close = difflib.get_close_matches(key, keys, n=1)
                if close:
                    hint = f" (did you mean {close[0]!r}?)"
            raise _fail(path, f"unknown key {_key_text(key)}{hint}; "
                              f"expected: {', '.join(keys)}")
    for key in keys:
        if key not in value and key not in (optional or {}):
            raise _fail(path, f"missing key {key!r}")
    if optional and any(key not in value for key in optional):
        value = {**optional, **value}
    return value


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _real(path: str, v: Any) -> float:
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise _fail(path, f"must be a number, got {_describe(v)}")
    try:
        x = float(v)
    except OverflowError:
        raise _fail(path, "number too large") from None
    if not math.isfinite(x):
        raise _fail(path, f"must be a finite number, got {x!r}")
    return x


def _non_negative(path: str, v: Any) -> float:
    x = _real(path, v)
    if x < 0:
        raise _fail(path, f"must be zero or positive, got {x!r}")
    return x


def _whole(path: str, v: Any, lo: int, hi: int) -> int:
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
        raise _fail(path, f"must be a whole number, got {_describe(v)}")
    n = int(v)
    if not lo <= n <= hi:
        raise _fail(path, f"must be between {lo:,} and {hi:,}, got {_describe(n)}")
    return n


def _flag(path: str, v: Any) -> bool:
    if not isinstance(v, (bool, np.bool_)):
        raise _fail(path, f"must be true or false, got {_describe(v)}")
    return bool(v)


def _text(path: str, v: Any, *, empty: bool = True) -> str:
    if not isinstance(v, str):
        raise _fail(path, f"must be text, got {_describe(v)}")
    if len(v) > MAX_TEXT_LENGTH:
        raise _fail(path, f"too long: {len(v):,} characters (limit {MAX_TEXT_LENGTH})")
    if not empty and not v.strip():
        raise _fail(path, "must not be empty")
    if "\x00" in v:
        raise _fail(path, "must not contain NUL characters")
    try:
        v.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from "\ud800" escapes cannot be saved
        raise _fail(path, "is not valid Unicode text") from None
    return v


def _choice(path: str, v: Any, table, what: str) -> str:
    name = _text(path, v, empty=False)
    if name not in table:
        raise _fail(path, f"unknown {what} {_describe(name)}; choose one of: {', '.join(table)}")
    return name


# public names for the kinds' readers (specs.py keeps the underscored ones)
fail, describe, key_text, object_of, join = _fail, _describe, _key_text, _object, _join
real, non_negative, whole, flag, text, choice = _real, _non_negative, _whole, _flag, _text, _choice


# ---------------------------------------------------------------- writing
def plain_float(v: Any) -> Any:
    """A number as a plain float for JSON (bools stay bools); anything else unchanged."""
    # numpy 2 scalars would print as np.float64(...) in some paths; plain floats never do.
    # Anything else is passed through unchanged so that validation can name it.
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v)
    return v


def plain_int(v: Any) -> Any:
    """A numpy integer as a plain int for JSON (bools stay bools); anything else unchanged."""
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    return v
