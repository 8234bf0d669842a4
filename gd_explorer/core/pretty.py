"""Formulas as people write them: ``(1 - x)**2 + 100*(y - x**2)**2`` → ``(1 − x)² + 100(y − x²)²``.

The objectives carry their formulas as sympy-style text (what a user may type back);
:func:`pretty_formula` turns that text into readable math for labels: powers as
superscripts (``^(…)`` where a superscript would not read), ``·`` for products (nothing
between a number and a name: ``2x``), ``√`` and ``π``, a real minus sign.  It only
rewrites tokens; text it does not understand passes through unchanged, so it never
fails on a formula.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\s*(?:(\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)"
                    r"|([A-Za-z_][A-Za-z_0-9]*)|(\*\*|[-+*/^(),])|(\S))")
_SUPER = str.maketrans("0123456789-+().", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺⁽⁾·")
_NAMES = {"pi": "π", "sqrt": "√", "oo": "∞"}


def _tokens(text: str) -> list[str]:
    out = []
    for m in _TOKEN.finditer(text):
        tok = next(g for g in m.groups() if g is not None)
        out.append(tok)
    return out


def _group_end(toks: list[str], i: int) -> int:
    """Index after the parenthesised group starting at ``toks[i] == "("`` (or i + 1)."""
    depth = 0
    for j in range(i, len(toks)):
        if toks[j] == "(":
            depth += 1
        elif toks[j] == ")":
            depth -= 1
            if depth == 0:
                return j + 1
    return len(toks)


def _exponent(toks: list[str], i: int) -> tuple[str, int]:
    """The exponent starting at ``toks[i]`` as superscript (or ``^…``) text, and the next
    index."""
    if i >= len(toks):
        return "^", i
    tok = toks[i]
    sign = ""
    j = i
    if tok == "-" and j + 1 < len(toks):
        sign, j = "-", j + 1
        tok = toks[j]
    if re.fullmatch(r"\d+", tok):
        return (sign + tok).translate(_SUPER), j + 1
    if tok == "(":
        end = _group_end(toks, j)
        inner = toks[j + 1:end - 1]
        if inner and all(re.fullmatch(r"\d+|[-+]", t) for t in inner):
            return (sign + "".join(inner)).translate(_SUPER), end
        return "^(" + sign + _join(inner) + ")", end
    if re.fullmatch(r"[A-Za-z_]\w*", tok):
        if j + 1 < len(toks) and toks[j + 1] == "(":  # a function call
            end = _group_end(toks, j + 1)
            return "^" + sign + _join(toks[j:end]), end
        return "^" + sign + _NAMES.get(tok, tok), j + 1
    return "^" + sign + tok, j + 1


def _join(toks: list[str]) -> str:
    out: list[str] = []
    i = 0
    prev = ""  # the previous token, to tell a unary minus from a binary one
    while i < len(toks):
        tok = toks[i]
        if tok in ("**", "^"):
            text, i = _exponent(toks, i + 1)
            out.append(text)
            prev = ")"
            continue
        if tok in "+-" and len(tok) == 1:
            unary = prev in ("", "(", ",", "+", "-", "*", "/", "**", "^")
            sym = "−" if tok == "-" else "+"
            out.append(sym if unary else f" {sym} ")
        elif tok == "*":
            nxt = toks[i + 1] if i + 1 < len(toks) else ""
            number_before = bool(re.fullmatch(r"[\d.]+", prev))
            # 2x, 100(y − x²), 2π; but 10·cos(x), 1e-3·x, 2·e
            if number_before and (nxt == "(" or nxt == "pi"
                                  or (len(nxt) == 1 and nxt.isalpha() and nxt != "e")):
                pass
            else:
                out.append("·")
        elif tok == "/":
            out.append("/")
        elif tok == ",":
            out.append(", ")
        elif re.fullmatch(r"[A-Za-z_]\w*", tok):
            out.append(_NAMES.get(tok, tok))
        else:
            out.append(tok)
        prev = tok
        i += 1
    return "".join(out)


def pretty_formula(text: str) -> str:
    """Readable math for sympy-style formula ``text`` (see the module docstring).

    >>> pretty_formula("(1 - x)**2 + 100*(y - x**2)**2")
    '(1 − x)² + 100(y − x²)²'
    >>> pretty_formula("2*x*sin(y)")
    '2x·sin(y)'
    """
    try:
        return _join(_tokens(str(text)))
    except Exception:  # noqa: BLE001 - a label must never fail: show the text as it is
        return str(text)
