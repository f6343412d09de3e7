"""How numbers are shown in text and Markdown (docs/conventions.md, "Shown numbers and widths").

The rules every worked solution follows:

* ``--digits N`` is the number of decimals (default 4), raised where needed so that a
  non-zero value always shows at least ``MIN_SIGNIFICANT`` significant digits
  (0.0010536 → ``0.00105``, never ``0.0011``);
* an exact zero is ``0``, an integer is shown as an integer;
* values below ``SCI_BELOW`` or from ``SCI_FROM`` on are shown in scientific notation
  with at least three significant digits (``4.18e−9``);
* the minus sign is U+2212 in text and ``-`` in LaTeX (``latex=True``), one character
  throughout a document;
* ``column(values)`` gives one rule for a whole table column: the same number of decimals
  (or scientific notation) for every entry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from numbers import Real

MINUS = "\u2212"
MIN_SIGNIFICANT = 3
SCI_BELOW = 1e-4
SCI_FROM = 1e7
MAX_DECIMALS = 12


def decimals_needed(value: float, digits: int) -> int:
    """Decimals that show ``value`` with ``digits`` decimals and ≥ 3 significant digits."""
    if value == 0 or not math.isfinite(value):
        return digits
    magnitude = math.floor(math.log10(abs(value)))
    return min(MAX_DECIMALS, max(digits, MIN_SIGNIFICANT - 1 - magnitude))


def shortest_decimals(value: float, decimals: int) -> tuple[float, int]:
    """An input such as 0.9 is shown as ``0.9``, not ``0.9000``: fewer decimals when they
    give the value exactly (up to float rounding: 1 − 0.9 = 0.09999999999999998 is 0.1)."""
    for d in range(decimals + 1):
        if abs(round(value, d) - value) <= 1e-12 * max(1.0, abs(value)):
            return value, d
    return value, decimals


def needs_scientific(value: float) -> bool:
    return value != 0 and math.isfinite(value) and (abs(value) < SCI_BELOW or abs(value) >= SCI_FROM)


def _finish(text: str, latex: bool) -> str:
    if text.startswith("-") and "/" not in text:
        # a value that rounds to zero keeps no sign (a fraction p/q is never zero here)
        if float(text.split("e")[0]) == 0:
            text = text[1:]
    if not latex:
        text = text.replace("-", MINUS)
    return text


def format_fixed(value: float, decimals: int, latex: bool = False) -> str:
    return _finish(f"{value:.{decimals}f}", latex)


def format_scientific(value: float, digits: int, latex: bool = False) -> str:
    """``1.05e−3`` in text, ``1.05 \\times 10^{-3}`` in LaTeX; ≥ 3 significant digits."""
    mantissa_decimals = max(MIN_SIGNIFICANT - 1, min(digits - 1, MAX_DECIMALS))
    text = f"{value:.{mantissa_decimals}e}"
    mantissa, exponent = text.split("e")
    exponent = str(int(exponent))
    if latex:
        return f"{mantissa} \\times 10^{{{exponent}}}"
    return _finish(f"{mantissa}e{exponent}", latex)


def full_precision(value: float) -> str:
    """Every digit of a float (its repr: the shortest text that reads back as the same float),
    with the text minus sign: for statements such as "identical to the last bit"."""
    return repr(float(value)).replace("-", MINUS)


def fraction_text(value: Fraction) -> str:
    """``p/q`` with an ASCII minus (JSON's ``*_exact`` strings); ``NumberStyle.num`` for display."""
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def latex_fraction(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    sign = "-" if value < 0 else ""
    return f"{sign}\\tfrac{{{abs(value.numerator)}}}{{{value.denominator}}}"


@dataclass(frozen=True)
class NumberStyle:
    """``digits`` decimals (at least 3 significant digits); with ``exact``, fractions as ``p/q``.

    ``latex=True`` writes for Markdown math: ``-`` as the minus sign, ``\\tfrac`` for
    fractions, ``\\times 10^{k}`` for scientific notation.
    """

    digits: int = 4
    exact: bool = False
    latex: bool = False

    def for_latex(self) -> "NumberStyle":
        return NumberStyle(self.digits, self.exact, True)

    def num(self, value, exact: Fraction | None = None) -> str:
        """Format ``value``; when exact mode is on and an exact value is known, show the fraction."""
        if self.exact and exact is not None:
            return latex_fraction(exact) if self.latex else _finish(fraction_text(exact), False)
        if isinstance(value, Fraction):
            if self.exact:
                return latex_fraction(value) if self.latex else _finish(fraction_text(value), False)
            value = float(value)
        if value is None:
            return "—"
        if isinstance(value, bool):
            return str(int(value))
        if isinstance(value, int) or (hasattr(value, "dtype") and getattr(value.dtype, "kind", "") in "iu"):
            return _finish(str(int(value)), self.latex)
        value = float(value)
        if not math.isfinite(value):
            if math.isnan(value):
                return "nan"
            return ("\\infty" if value > 0 else "-\\infty") if self.latex else ("inf" if value > 0 else MINUS + "inf")
        if value == 0:
            return "0"
        if needs_scientific(value):
            return format_scientific(value, self.digits, self.latex)
        return format_fixed(*shortest_decimals(value, decimals_needed(value, self.digits)), latex=self.latex)

    # kept for callers that ask for "a value that may be tiny or huge": num() decides now
    sci = num

    def column(self, values, exacts=None) -> list[str]:
        """One rule for a table column: the same decimals for every finite non-zero entry.

        The decimals are the most any entry needs (≥ ``digits``, ≥ 3 significant digits
        each); when an entry needs scientific notation, the whole column uses it.
        Integers and exact zeros stay as they are; exact fractions with ``exact``.
        """
        values = list(values)
        exacts = list(exacts) if exacts is not None else [None] * len(values)
        if self.exact and all(e is not None for e in exacts):
            return [self.num(v, e) for v, e in zip(values, exacts)]
        floats = []
        for v in values:
            if v is None or isinstance(v, (bool, int)):
                continue
            f = float(v)
            if math.isfinite(f) and f != 0:
                floats.append(f)
        if not floats:
            return [self.num(v) for v in values]
        if any(needs_scientific(f) for f in floats):
            return [
                self.num(v) if (v is None or isinstance(v, (bool, int)) or not math.isfinite(float(v)) or float(v) == 0)
                else format_scientific(float(v), self.digits, self.latex)
                for v in values
            ]
        decimals = max(decimals_needed(f, self.digits) for f in floats)
        out = []
        for v in values:
            if v is None or isinstance(v, (bool, int)) or not math.isfinite(float(v)) or float(v) == 0:
                out.append(self.num(v))
            else:
                out.append(format_fixed(float(v), decimals, self.latex))
        return out


def is_real(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)
