"""Numbers, vectors and matrices given as option strings (or already parsed by YAML).

``--x 1,0.5,-1`` is a vector; ``--W '[[0.5,0],[0,0.5]]'`` a matrix (a JSON/YAML
literal).  A value from a ``--config`` file arrives as a JSON string (the config
merge encodes lists that way), so both paths meet here.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from dlvcli.errors import InputError


def _to_float(token: Any, what: str) -> float:
    if isinstance(token, bool):
        raise InputError(f"{what}: expected a number, got {token!r}")
    if isinstance(token, (int, float)):
        value = float(token)
    else:
        text = str(token).strip()
        try:
            value = float(text)
        except ValueError:
            raise InputError(f"{what}: expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise InputError(f"{what}: {value} is not a finite number")
    return value


def parse_number(value: Any, what: str) -> float:
    """One finite float from a string or number."""
    return _to_float(value, what)


def exact_value(token: Any) -> Fraction | None:
    """The exact rational a user typed (``0.1`` → 1/10), or None when it is not a plain decimal."""
    if isinstance(token, bool):
        return None
    if isinstance(token, int):
        return Fraction(token)
    try:
        return Fraction(str(token).strip())
    except (ValueError, ZeroDivisionError):
        return None


def _nesting_depth(text: str) -> int:
    """How deep the brackets of a literal go (quotes ignored: numbers have none)."""
    import re

    depth = deepest = 0
    for bracket in re.sub(r"[^][{}]+", "", text):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _literal(text: str, what: str) -> Any:
    import json

    from dlvcli.inputs.config import MAX_YAML_DEPTH, load_yaml

    # json and the checks below recurse per level: refuse a 2000-deep list before they do
    if _nesting_depth(text) > MAX_YAML_DEPTH:
        raise InputError(f"{what}: nested more than {MAX_YAML_DEPTH} levels deep, expected a vector or a matrix like [[1,2],[3,4]]")
    try:  # JSON first: much faster than YAML for big matrices, and most literals are JSON
        return json.loads(text)
    except ValueError:
        pass
    try:
        value, _ = load_yaml(text, what)
    except InputError as exc:
        raise InputError(f"not a valid list literal ({exc.message})", file=what, line=exc.line, column=exc.column) from None
    return value


def parse_vector(value: Any, what: str) -> list[float]:
    """A vector: ``1,0.5,-1``, ``[1, 0.5, -1]``, a single number, or a list."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise InputError(f"{what}: empty, expected comma-separated numbers")
        if text.startswith("["):
            value = _literal(text, what)
        else:
            return [_to_float(tok, f"{what}, item {i + 1}") for i, tok in enumerate(text.split(","))]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [_to_float(value, what)]
    if not isinstance(value, list) or any(isinstance(v, list) for v in value):
        raise InputError(f"{what}: expected a flat list of numbers, got {value!r}")
    if not value:
        raise InputError(f"{what}: empty, expected at least one number")
    return [_to_float(v, f"{what}, item {i + 1}") for i, v in enumerate(value)]


def parse_nested(value: Any, what: str) -> Any:
    """A number or a (possibly nested) rectangular list of numbers, as Python lists of floats.

    Raises InputError for ragged rows, empty lists and non-numeric entries, naming the
    index of the offending entry.
    """
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise InputError(f"{what}: empty, expected a number or a matrix like [[1,2],[3,4]]")
        if text.startswith("["):
            value = _literal(text, what)
        elif "," in text:
            value = [tok for tok in text.split(",")]
        else:
            return _to_float(text, what)

    def walk(node: Any, path: tuple[int, ...]) -> tuple[Any, tuple[int, ...]]:
        where = what + ("" if not path else "[" + "][".join(map(str, path)) + "]")
        if isinstance(node, list):
            if not node:
                raise InputError(f"{where}: empty list, expected numbers")
            items = [walk(child, path + (i,)) for i, child in enumerate(node)]
            shapes = {shape for _, shape in items}
            if len(shapes) != 1:
                lengths = [shape[0] if shape else 0 for _, shape in items]
                raise InputError(f"{where}: ragged rows (lengths {lengths}), expected every row the same length")
            return [v for v, _ in items], (len(node), *shapes.pop())
        return _to_float(node, where), ()

    parsed, _ = walk(value, ())
    return parsed
