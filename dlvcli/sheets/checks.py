"""Expectations of a problem sheet: find a dotted key in a command's JSON, compare with tolerance.

Pure Python (no numpy, no YAML): a command's JSON document is plain dicts, lists, numbers,
strings, booleans and ``None``.

>>> doc = {"classes": [{"ap": 0.7532467532467533, "ap_exact": "58/77"}]}
>>> lookup(doc, "classes.0.ap")
0.7532467532467533
>>> matches(0.75324675, lookup(doc, "classes.0.ap"), tol=1e-6)
True
>>> matches("58/77", lookup(doc, "classes.0.ap"))   # a fraction, compared as a number
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

DEFAULT_TOL = 1e-6


class KeyNotFound(LookupError):
    """The output has no value at this dotted key; the message says where the path stopped."""


def _describe_keys(node: dict) -> str:
    names = list(node)
    shown = ", ".join(names[:12]) + (", …" if len(names) > 12 else "")
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


def as_number(value: Any) -> float | None:
    """An expected value written as a number or as a fraction/decimal string (``"58/77"``), else None."""
    if _is_number(value):
        return float(value)
    if isinstance(value, str):
        try:
            return float(Fraction(value.strip()))
        except (ValueError, ZeroDivisionError):
            return None
    return None


def numbers_close(expected: float, got: float, tol: float = DEFAULT_TOL, rtol: float = 0.0) -> bool:
    """``|got − expected| ≤ max(tol, rtol·|expected|)``: either tolerance is enough."""
    if not (math.isfinite(expected) and math.isfinite(got)):
        return expected == got
    return abs(got - expected) <= max(tol, rtol * abs(expected))


def matches(expected: Any, got: Any, tol: float = DEFAULT_TOL, rtol: float = 0.0) -> bool:
    """Whether ``got`` (from the JSON) agrees with ``expected`` (from the sheet).

    * numbers: within ``tol`` (absolute) or ``rtol`` (relative to ``expected``);
    * a string expected against a number: the string is read as a fraction or decimal
      (``"58/77"``), then as a number; a string against a string: equal after trimming;
    * lists element by element (same length), mappings key by key (same keys);
    * ``true``/``false``/``null``: equal. A boolean is not a number here.
    """
    if isinstance(expected, list):
        return isinstance(got, list) and len(got) == len(expected) and all(matches(e, g, tol, rtol) for e, g in zip(expected, got))
    if isinstance(expected, dict):
        return (
            isinstance(got, dict)
            and set(map(str, expected)) == set(got)
            and all(matches(v, got[str(k)], tol, rtol) for k, v in expected.items())
        )
    if expected is None or isinstance(expected, bool) or isinstance(got, bool) or got is None:
        return expected is got or (expected is not None and expected == got and type(expected) is type(got))
    if _is_number(got):
        number = as_number(expected)
        return number is not None and numbers_close(number, float(got), tol, rtol)
    if isinstance(got, str) and isinstance(expected, str):
        return expected.strip() == got.strip()
    return False


@dataclass(frozen=True)
class Check:
    """One expectation of one problem: its dotted ``key``, the ``expected`` value and what the command gave."""

    key: str
    expected: Any
    got: Any
    ok: bool
    error: str | None = None  # the key does not exist in the output (a bad sheet, not a wrong answer)


def check_all(document: dict, expect: list[tuple[str, Any]], tol: float = DEFAULT_TOL, rtol: float = 0.0) -> list[Check]:
    """Compare every ``(key, expected)`` with ``document``; a missing key gives a Check with ``error``."""
    checks = []
    for key, expected in expect:
        try:
            got = lookup(document, key)
        except KeyNotFound as exc:
            checks.append(Check(key, expected, None, False, error=str(exc)))
            continue
        checks.append(Check(key, expected, got, matches(expected, got, tol, rtol)))
    return checks
