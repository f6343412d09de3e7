"""One step of a worked solution: what is computed, its formula, the numbers, the value."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any


@dataclass(frozen=True)
class Step:
    """A line of a derivation.

    ``formula`` is symbolic (``IoU = |A ∩ B| / |A ∪ B|``), ``substituted`` the same
    with the numbers put in, ``value`` the result (a float, an array, or None for a
    statement), ``exact`` the same result as a fraction when the inputs were rational.
    ``latex`` optionally gives the formula for Markdown output.
    """

    label: str
    formula: str
    substituted: str = ""
    value: Any = None
    exact: Fraction | None = None
    latex: str = ""
