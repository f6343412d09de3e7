"""How numbers are shown in text and Markdown."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from numbers import Real


@dataclass(frozen=True)
class NumberStyle:
    """``digits`` decimals; with ``exact``, fractions are shown as ``p/q``."""

    digits: int = 4
    exact: bool = False

    def num(self, value, exact: Fraction | None = None) -> str:
        """Format ``value``; when exact mode is on and an exact value is known, show the fraction."""
        if self.exact and exact is not None:
            return fraction_text(exact)
        if isinstance(value, Fraction):
            value = float(value)
        if value is None:
            return "—"
        if isinstance(value, bool):
            return str(int(value))
        if isinstance(value, int):
            return str(value)
        value = float(value)
        if not math.isfinite(value):
            return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
        text = f"{value:.{self.digits}f}"
        if text.startswith("-") and float(text) == 0:
            text = text[1:]
        return text

    def sci(self, value: Real) -> str:
        """A value that may be tiny or huge: fixed point when readable, else scientific."""
        value = float(value)
        if value != 0 and math.isfinite(value) and (abs(value) < 10 ** -self.digits or abs(value) >= 1e6):
            return f"{value:.{max(self.digits - 1, 1)}e}"
        return self.num(value)


def fraction_text(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def latex_fraction(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    sign = "-" if value < 0 else ""
    return f"{sign}\\tfrac{{{abs(value.numerator)}}}{{{value.denominator}}}"
