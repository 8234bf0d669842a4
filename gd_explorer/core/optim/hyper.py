"""Hyperparameters: one declaration that every layer reads.

An optimizer or a schedule declares its hyperparameters as a tuple of
:class:`HyperParameter`: the torch keyword name, a kind, torch's default, a range and a
line of help.  From that one declaration come the validation (with the same message in
the CLI, a session file and the run editor), the CLI flag (``--momentum-decay``), the
run editor's widget and its tooltip, and the session reader's checks.

Kinds
-----
``float``   a finite number within ``[low, high]`` (either end may be open or absent)
``int``     a whole number within ``[low, high]`` (30.0 is taken for 30)
``bool``    true or false
``pair``    two floats, each within the range (torch's ``betas``, ``etas``, ...)
``choice``  one of ``choices`` (strings; ``"none"`` stands for torch's ``None``)
``ints``    whole numbers in increasing order, each within the range (MultiStepLR's
            ``milestones``; typed as ``100,200,300``)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

KINDS = ("float", "int", "bool", "pair", "choice", "ints")


# --------------------------------------------------------------------------- validators
def check_real(name: str, value: Any) -> float:
    """A finite real number (bools refused: ``True`` is not a learning rate)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v!r}")
    return v


def check_positive(name: str, value: Any) -> float:
    v = check_real(name, value)
    if v <= 0:
        raise ValueError(f"{name} must be positive, got {v:g}")
    return v


def check_non_negative(name: str, value: Any) -> float:
    v = check_real(name, value)
    if v < 0:
        raise ValueError(f"{name} must be zero or positive, got {v:g}")
    return v


def check_flag(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be true or false, got {value!r}")
    return bool(value)


def check_whole(name: str, value: Any, minimum: int, *, integral_floats: bool = False,
                maximum: int | None = None) -> int:
    """A whole number >= ``minimum`` (and <= ``maximum``); ``integral_floats`` takes 30.0."""
    ok = not isinstance(value, (bool, np.bool_)) and (
        isinstance(value, (int, np.integer))
        or (integral_floats and isinstance(value, (float, np.floating))
            and math.isfinite(value) and value == int(value))
    )
    if not ok or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be a whole number <= {maximum:,}, got {value!r}")
    return int(value)


def check_lr(lr: Any) -> float:
    """Validate a learning rate: a finite, positive number."""
    return check_positive("learning rate", lr)


def _num(v: float) -> str:
    return f"{v:g}"


# --------------------------------------------------------------------------- declaration
@dataclass(frozen=True)
class HyperParameter:
    """One hyperparameter of an optimizer or a schedule.

    Parameters
    ----------
    name
        torch's keyword name (``momentum_decay``); the CLI flag is its kebab case.
    kind
        One of :data:`KINDS`.
    default
        torch's default.
    help
        One line for the tooltip, the CLI's ``--help`` and ``gd-explorer list``.
    low, high, low_open, high_open
        The allowed range of a number (of each element of a pair); ``None``: unbounded.
    choices
        The allowed strings of a ``choice``.
    none_ok
        A number (or an element of a pair) may also be ``None``: torch's "choose for me"
        (Adafactor's ``eps=(None, 1e-3)``); written ``none`` in text.
    """

    name: str
    kind: str
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()
    none_ok: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"hyperparameter kind must be one of {KINDS}, got {self.kind!r}")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"choice hyperparameter {self.name!r} needs its choices")
        self.check(self.default)  # a declaration with an invalid default is a bug

    # ------------------------------------------------------------------ derived texts
    @property
    def flag(self) -> str:
        """The CLI flag: ``--momentum-decay``."""
        return "--" + self.name.replace("_", "-")

    def range_text(self) -> str:
        """The allowed values in words: ``in [0, 1)``, ``> 0``, ``one of: none, strong_wolfe``."""
        if self.kind == "bool":
            return "true or false"
        if self.kind == "choice":
            return "one of: " + ", ".join(self.choices)
        lo, hi = self.low, self.high
        if self.kind == "ints":
            return "whole numbers in increasing order, each " + _bounds_text(self, "")
        whole = "a whole number " if self.kind == "int" else ""
        if lo == 0 and hi is None and self.kind == "float":
            # the wording of check_positive / check_non_negative
            return "positive" if self.low_open else "zero or positive"
        return _bounds_text(self, whole)

    def _range_or_none(self) -> str:
        return self.range_text() + (" or none" if self.none_ok else "")

    def describe(self) -> str:
        """``momentum_decay: ... (in [0, 1), torch default 0.004)`` for tooltips and lists."""
        return (f"{self.name}: {self.help} ({self._range_or_none()}; "
                f"default {self.format(self.default)})")

    # ------------------------------------------------------------------ values
    def _in_range(self, label: str, value: Any) -> float | int | None:
        if value is None and self.none_ok:
            return None
        if self.kind in ("int", "ints"):
            v = check_whole(label, value, -(2**62), integral_floats=True)
        else:
            v = check_real(label, value)
        lo, hi = self.low, self.high
        bad = (lo is not None and (v < lo or (self.low_open and v == lo))) or \
              (hi is not None and (v > hi or (self.high_open and v == hi)))
        if bad:
            raise ValueError(f"{label} must be {self.range_text()}, got {_num(v)}")
        return v

    def check(self, value: Any, label: str | None = None) -> Any:
        """The value, validated and normalised (floats, tuples); ``ValueError`` says why."""
        label = label or self.name
        if self.kind == "bool":
            return check_flag(label, value)
        if self.kind == "choice":
            if value is None and "none" in self.choices:
                return "none"
            if not isinstance(value, str) or value not in self.choices:
                raise ValueError(f"{label} must be {self.range_text()}, got {value!r}")
            return value
        if self.kind == "ints":
            return self._check_ints(value, label)
        if self.kind == "pair":
            if isinstance(value, (str, bytes)):
                raise ValueError(f"{label} must be a pair of numbers, got {value!r}")
            try:
                a, b = value
            except (TypeError, ValueError):
                raise ValueError(f"{label} must be a pair of numbers, got {value!r}") from None
            a, b = self._in_range(f"{label}[0]", a), self._in_range(f"{label}[1]", b)
            return (None if a is None else float(a), None if b is None else float(b))
        v = self._in_range(label, value)
        if v is None:
            return None
        return int(v) if self.kind == "int" else float(v)

    def _check_ints(self, value: Any, label: str) -> tuple[int, ...]:
        if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
            raise ValueError(f"{label} must be a list of whole numbers, got {value!r}")
        out = tuple(int(self._in_range(f"{label}[{i}]", v)) for i, v in enumerate(value))
        for i in range(1, len(out)):
            if out[i] <= out[i - 1]:
                raise ValueError(f"{label} must be in increasing order, got "
                                 f"{out[i - 1]} before {out[i]}")
        return out

    def parse(self, text: str) -> Any:
        """A value from text (a CLI argument, a typed field): ``0.9,0.999`` for a pair."""
        s = text.strip()
        if self.kind == "bool":
            low = s.lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"{self.name} must be true or false, got {text!r}")
        if self.kind == "choice":
            return self.check(s)
        if self.kind == "ints":
            parts = [c for c in s.replace(";", ",").replace(" ", ",").split(",") if c]
            numbers = []
            for c in parts:
                try:
                    numbers.append(int(c))
                except ValueError:
                    raise ValueError(f"{self.name} must be whole numbers like 100,200,300, "
                                     f"got {text!r}") from None
            return self.check(numbers)
        if self.kind == "pair":
            parts = s.replace(";", ",").split(",")
            if len(parts) != 2:
                raise ValueError(f"{self.name} must be two numbers like 0.9,0.999, got {text!r}")
            return self.check((self._number(parts[0]), self._number(parts[1])))
        number = self._number(s)
        return self.check(number)

    def _number(self, text: str) -> float | None:
        if self.none_ok and text.strip().lower() == "none":
            return None
        return _to_number(self.name, text)

    def format(self, value: Any) -> str:
        """The value as text that :meth:`parse` reads back exactly."""
        if self.kind == "bool":
            return "true" if value else "false"
        if self.kind == "choice":
            return str(value)
        if value is None:
            return "none"
        if self.kind == "pair":
            return ",".join("none" if v is None else repr(float(v)) for v in value)
        if self.kind == "ints":
            return ",".join(str(int(v)) for v in value)
        if self.kind == "int":
            return str(int(value))
        return repr(float(value))

    def to_json(self, value: Any) -> Any:
        """The value as a session file stores it (a pair as a list)."""
        return list(value) if self.kind in ("pair", "ints") else value


def _bounds_text(p: HyperParameter, whole: str) -> str:
    lo, hi = p.low, p.high
    if lo is not None and hi is not None:
        left = "(" if p.low_open else "["
        right = ")" if p.high_open else "]"
        return f"{whole}in {left}{_num(lo)}, {_num(hi)}{right}"
    if lo is not None:
        return f"{whole}{'>' if p.low_open else '>='} {_num(lo)}"
    if hi is not None:
        return f"{whole}{'<' if p.high_open else '<='} {_num(hi)}"
    return whole.strip() or "any number"


def _to_number(name: str, text: str) -> float:
    try:
        v = float(text.strip())
    except ValueError:
        raise ValueError(f"{name} must be a number, got {text.strip()!r}") from None
    return v


def check_all(params: tuple[HyperParameter, ...], values: dict[str, Any], owner: str) -> dict[str, Any]:
    """Every declared value, validated, defaults filled in; unknown keywords refused.

    ``owner`` names the optimizer or schedule in the message
    (``"nadam has no hyperparameter 'foo'; it takes: ..."``).
    """
    known = {p.name: p for p in params}
    for key in values:
        if key not in known:
            takes = ", ".join(known) or "nothing"
            raise ValueError(f"{owner} has no hyperparameter {key!r}; it takes: {takes}")
    return {p.name: p.check(values.get(p.name, p.default)) for p in params}
