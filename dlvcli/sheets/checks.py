"""Expectations of a problem sheet: find a dotted key in a command's JSON, compare with tolerance.

Pure Python (no numpy, no YAML): a command's JSON document is plain dicts, lists, numbers,
strings, booleans and ``None``.

A number passes when ``|got − expected| ≤ max(tol, rtol·|expected|)``; ``dlv solve``
uses tol = 1e-9 and rtol = 1e-6 unless the sheet or the problem sets them, ``dlv grade``
rtol = 5e-3 (students round by hand). Exact answers written as fractions are compared by
value: ``30/44`` equals ``15/22``.

>>> doc = {"classes": [{"ap": 0.7532467532467533, "ap_exact": "58/77"}]}
>>> lookup(doc, "classes.0.ap")
0.7532467532467533
>>> compare(0.7532467532, lookup(doc, "classes.0.ap")).ok
True
>>> compare("116/154", lookup(doc, "classes.0.ap_exact")).ok   # the same fraction
True
>>> compare(".nan", 0.5).error
"'.nan' is not a finite number (a number is due here)"
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

DEFAULT_TOL = 1e-9
DEFAULT_RTOL = 1e-6
GRADE_RTOL = 5e-3  # dlv grade: answers rounded by hand to 3–4 significant digits pass

_RATIO = re.compile(r"\s*[+-]?\d+\s*(/\s*[+-]?\d+\s*)?")  # an integer or p/q: an exact answer


class KeyNotFound(LookupError):
    """The output has no value at this dotted key; the message says where the path stopped."""


def _describe_keys(node: dict) -> str:
    names = list(node)
    shown = ", ".join(names[:12]) + (f" and {len(names) - 12} more" if len(names) > 12 else "")
    return f"it has: {shown}" if names else "it is empty"


def lookup(document: Any, key: str) -> Any:
    """The value at dotted ``key`` (``classes.0.ap``: list indices as numbers, ``-1`` the last).

    Raises :class:`KeyNotFound` naming the part of the key that does not exist and what
    is there instead.
    """
    if not isinstance(key, str) or not key or any(part == "" for part in key.split(".")):
        raise KeyNotFound(f"{key!r} is not a dotted key (expected names and list indices joined by '.', e.g. classes.0.ap)")
    node = document
    done: list[str] = []
    for part in key.split("."):
        where = ".".join(done) or "the output"
        if isinstance(node, dict):
            if part not in node:
                raise KeyNotFound(f"no key {part!r} in {where} ({_describe_keys(node)})")
            node = node[part]
        elif isinstance(node, list):
            try:
                index = int(part)
            except ValueError:
                raise KeyNotFound(f"{where} is a list of {len(node)}: expected an index 0..{len(node) - 1}, got {part!r}") from None
            if not -len(node) <= index < len(node):
                raise KeyNotFound(f"index {index} is out of range: {where} is a list of {len(node)}")
            node = node[index]
        else:
            raise KeyNotFound(f"{where} is a single value ({_short(node)}), it has no {part!r}")
        done.append(part)
    return node


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 30 else text[:29] + "…"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class NotANumber(ValueError):
    """A value where a number is due that is not one (``abc``, ``.nan``, ``1/0``); the message says which."""


def parse_number(value: Any) -> Fraction | float:
    """A number, or a string holding a fraction or decimal (``"58/77"``, ``"0.75"``), as a finite value.

    Strings come back as :class:`~fractions.Fraction` (exact); floats and ints as given.
    Raises :class:`NotANumber` for anything else, including NaN, infinities and ``1/0``.
    """
    if _is_number(value):
        if isinstance(value, float) and not math.isfinite(value):
            raise NotANumber(f"{_yaml_name(value)!r} is not a finite number")
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            number = Fraction(text)
        except ZeroDivisionError:
            raise NotANumber(f"{value!r} divides by zero") from None
        except ValueError:
            lowered = text.lower().lstrip("+-")
            if lowered in ("nan", ".nan", "inf", ".inf", "infinity"):
                raise NotANumber(f"{value!r} is not a finite number") from None
            raise NotANumber(f"{value!r} is not a number") from None
        return number
    raise NotANumber(f"{_short(value)} is not a number")


def _yaml_name(value: float) -> str:
    return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")


def is_exact_text(value: Any) -> bool:
    """Whether ``value`` is written as an exact answer: an integer or ``p/q`` in a string."""
    return isinstance(value, str) and _RATIO.fullmatch(value) is not None


def tolerance_for(expected: float, tol: float, rtol: float) -> float:
    """The tolerance a number ``expected`` is checked with: ``max(tol, rtol·|expected|)``."""
    return max(tol, rtol * abs(expected))


def numbers_close(expected: float, got: float, tol: float = DEFAULT_TOL, rtol: float = DEFAULT_RTOL) -> bool:
    """``|got − expected| ≤ max(tol, rtol·|expected|)``: either tolerance is enough."""
    if not (math.isfinite(expected) and math.isfinite(got)):
        return expected == got
    return abs(got - expected) <= tolerance_for(expected, tol, rtol)


@dataclass(frozen=True)
class Comparison:
    """How a value compares with its expectation.

    ``difference`` and ``tolerance`` are those of the number that is furthest out (in units
    of its tolerance) when numbers were compared, else None. ``error`` is set when the
    expectation itself cannot be compared (a non-number where a number is due): a bad sheet.
    """

    ok: bool
    difference: float | None = None
    tolerance: float | None = None
    error: str | None = None


def _worst(parts: list[Comparison]) -> Comparison:
    """One comparison for a list: ok when all are, with the worst element's difference and tolerance."""
    for part in parts:
        if part.error:
            return part
    if any(not p.ok and p.difference is None for p in parts):
        # a part differs in a way no number measures (a list of another length, text for a number):
        # no difference to show, rather than the largest of the parts that agree (0)
        return Comparison(False)
    numeric = [p for p in parts if p.difference is not None]
    ok = all(p.ok for p in parts)

    def ratio(p: Comparison) -> float:
        if p.tolerance:
            return p.difference / p.tolerance
        return math.inf if p.difference else 0.0

    if not numeric:
        return Comparison(ok)
    worst = max(numeric, key=ratio)
    return Comparison(ok, worst.difference, worst.tolerance)


def _numeric(expected: Fraction | float, got: Fraction | float, tol: float, rtol: float) -> Comparison:
    if isinstance(expected, Fraction) and isinstance(got, Fraction):
        difference = float(abs(got - expected))  # exact: no rounding before the subtraction
    else:
        difference = abs(float(got) - float(expected))
    limit = tolerance_for(float(expected), tol, rtol)
    return Comparison(difference <= limit, difference, limit)


def compare(expected: Any, got: Any, tol: float = DEFAULT_TOL, rtol: float = DEFAULT_RTOL) -> Comparison:
    """Compare ``got`` (from the command's JSON, or a student) with ``expected`` (from the sheet).

    * numbers: within ``max(tol, rtol·|expected|)``; a fraction or decimal string stands
      for its number (``"58/77"``), on either side;
    * two exact answers (integers or ``p/q`` strings) are equal when their values are
      (``30/44`` equals ``15/22``), with no tolerance;
    * other strings: equal after trimming; lists element by element (same length),
      mappings key by key (same keys); ``true``/``false``/``null``: equal, and a boolean is
      not a number;
    * an expectation that is not a finite number where the output has a number
      (``.nan``, ``.inf``, ``'1/0'``, ``abc``, ``true``) gives ``error``: the sheet is bad.
    """
    if isinstance(expected, float) and not math.isfinite(expected):
        return Comparison(False, error=f"{_yaml_name(expected)!r} is not a finite number (a number is due here)")
    if isinstance(expected, list):
        if not isinstance(got, list):
            return Comparison(False)
        if len(got) != len(expected):
            # still look for a bad expectation inside, so that it is reported as such
            return _worst([compare(e, e, tol, rtol) for e in expected] + [Comparison(False)])
        return _worst([compare(e, g, tol, rtol) for e, g in zip(expected, got)])
    if isinstance(expected, dict):
        if not isinstance(got, dict) or set(map(str, expected)) != set(got):
            return Comparison(False)
        return _worst([compare(v, got[str(k)], tol, rtol) for k, v in expected.items()])
    if expected is None or got is None:
        return Comparison(expected is None and got is None)
    if isinstance(got, bool) or isinstance(expected, bool):
        if isinstance(expected, bool) and _is_number(got):
            return Comparison(False, error=f"{expected!r} is not a number (a number is due here)")
        return Comparison(isinstance(got, bool) and isinstance(expected, bool) and got is expected)
    if _is_number(got) or (is_exact_text(got) and not isinstance(expected, (list, dict))):
        try:
            wanted = parse_number(expected)
        except NotANumber as exc:
            if _is_number(got):
                return Comparison(False, error=f"{exc} (a number is due here)")
            return Comparison(isinstance(expected, str) and expected.strip() == str(got).strip())
        if isinstance(got, float) and not math.isfinite(got):
            return Comparison(False)  # a non-finite answer never equals a finite expectation
        value = got if _is_number(got) else Fraction(got.strip())
        if is_exact_text(expected) and is_exact_text(got):
            return Comparison(Fraction(expected.strip()) == value, float(abs(value - wanted)), 0.0)
        return _numeric(wanted, value, tol, rtol)
    if isinstance(got, str) and isinstance(expected, str):
        return Comparison(expected.strip() == got.strip())
    if isinstance(got, str) and _is_number(expected):
        try:
            return _numeric(expected, parse_number(got), tol, rtol)
        except NotANumber:
            return Comparison(False)
    return Comparison(False)


def matches(expected: Any, got: Any, tol: float = DEFAULT_TOL, rtol: float = DEFAULT_RTOL) -> bool:
    """Whether ``got`` agrees with ``expected`` (see :func:`compare`); a bad expectation never does."""
    return compare(expected, got, tol, rtol).ok


@dataclass(frozen=True)
class Check:
    """One expectation of one problem: its dotted ``key``, the ``expected`` value and what the command gave.

    ``error`` is set when the check could not be made: the key does not exist in the output
    (``missing``) or the expectation is not a value that can be compared (a bad sheet, not a
    wrong answer).
    """

    key: str
    expected: Any
    got: Any
    ok: bool
    error: str | None = None
    difference: float | None = None
    tolerance: float | None = None
    missing: bool = False


def check_all(
    document: dict, expect: list[tuple[str, Any]], tol: float = DEFAULT_TOL, rtol: float = DEFAULT_RTOL
) -> list[Check]:
    """Compare every ``(key, expected)`` with ``document``; a missing key or a bad expectation gives ``error``."""
    checks = []
    for key, expected in expect:
        try:
            got = lookup(document, key)
        except KeyNotFound as exc:
            checks.append(Check(key, expected, None, False, error=str(exc), missing=True))
            continue
        result = compare(expected, got, tol, rtol)
        checks.append(Check(key, expected, got, result.ok, result.error, result.difference, result.tolerance))
    return checks
