"""``dlv interp-ap --tp 1,1,0,… [--score 0.9,0.8,…]``: the ranked table given inline (mode A).

The same table a CSV with a ``tp`` column (and optional ``score``) holds, as a student copies
it from an exercise. From a sheet or a --config file the values arrive as YAML lists
(JSON-encoded), on the command line as comma-separated words.
"""

from __future__ import annotations

from typing import Any

from dlvcli.errors import InputError
from dlvcli.inputs.detections import RankedInput
from dlvcli.inputs.tables import FALSE_WORDS, TRUE_WORDS
from dlvcli.inputs.values import _literal, parse_vector

MAX_ROWS = 1_000_000


def parse_tp(value: Any) -> list[bool]:
    """``1,1,0`` / ``TP,FP`` / ``true,false`` (or a list of them) → booleans, in rank order."""
    items: Any = value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise InputError("--tp: empty, expected comma-separated 1/0, TP/FP or true/false")
        items = _literal(text, "--tp") if text.startswith("[") else text.split(",")
    if not isinstance(items, list):
        items = [items]
    if not items:
        raise InputError("--tp: empty, expected at least one detection")
    if len(items) > MAX_ROWS:
        raise InputError(f"--tp: {len(items)} detections, expected at most {MAX_ROWS}")
    flags = []
    for i, item in enumerate(items, start=1):
        word = ("true" if item else "false") if isinstance(item, bool) else str(item).strip().lower()
        if word in TRUE_WORDS:
            flags.append(True)
        elif word in FALSE_WORDS:
            flags.append(False)
        else:
            raise InputError(f"--tp, item {i}: {item!r} is not a valid value (expected 1/0, TP/FP or true/false)")
    return flags


def parse_inline_ranked(tp: Any, score: Any | None) -> RankedInput:
    """The ranked table from ``--tp`` and optional ``--score`` (same length)."""
    flags = parse_tp(tp)
    scores = None
    if score is not None:
        scores = parse_vector(score, "--score")
        if len(scores) != len(flags):
            raise InputError(f"--score: {len(scores)} scores for {len(flags)} detections in --tp, expected the same number")
    return RankedInput(flags, scores, None)
