"""Reading a worked solution as a grader would: does every printed line compute?

``chain_errors(text)`` finds each chain ``A = B = C`` (or ``≈``) whose parts are arithmetic
on shown numbers and checks, with interval arithmetic, that consecutive parts agree
within the rounding of their shown digits: a number printed with d decimals stands for
any value within half a unit of its last digit.  ``shown_number_errors(text)`` flags a
non-zero number rounded to fewer than 3 significant digits (``0.0011`` at 4 decimals),
a zero written with decimals (``0.0000``), and an ASCII minus before a number in text
(the document's minus is U+2212).

This module is an independent reader of dlv's output: it shares no code with dlv.
"""

from __future__ import annotations

import math
import re

MINUS = "\u2212"
SUPERSCRIPT_DIGITS = {"⁰": 0, "¹": 1, "²": 2, "³": 3, "⁴": 4, "⁵": 5, "⁶": 6, "⁷": 7, "⁸": 8, "⁹": 9}
FUNCTIONS = {"ln": math.log, "exp": math.exp, "sqrt": math.sqrt, "√": math.sqrt, "tanh": math.tanh, "atan": math.atan, "arctan": math.atan,
             "σ": lambda v: 1.0 / (1.0 + math.exp(-v))}
NUMBER = r"\d+(?:\.\d+)?(?:e[−-]?\d+)?"
# ⊙ (elementwise product) multiplies scalars; ½ is a number; ‖x‖ of a scalar is |x|;
# tanh² is the square of tanh (the RNN cells' worked lines)
TOKEN = re.compile(rf"\s*(?:(?P<num>{NUMBER}|½)|(?P<fn>ln|exp|sqrt|tanh²|tanh|atan|arctan|max|min|√|σ)|(?P<sup>[⁰¹²³⁴⁵⁶⁷⁸⁹]+)|(?P<op>[-−+·×*⊙/^(),\[\]‖]))")


class NotArithmetic(Exception):
    pass


# ----------------------------------------------------------------------------- intervals


class Interval:
    __slots__ = ("lo", "hi")

    def __init__(self, lo: float, hi: float | None = None):
        self.lo, self.hi = lo, (lo if hi is None else hi)

    def __add__(self, o):
        return Interval(self.lo + o.lo, self.hi + o.hi)

    def __sub__(self, o):
        return Interval(self.lo - o.hi, self.hi - o.lo)

    def __neg__(self):
        return Interval(-self.hi, -self.lo)

    def __mul__(self, o):
        c = [self.lo * o.lo, self.lo * o.hi, self.hi * o.lo, self.hi * o.hi]
        return Interval(min(c), max(c))

    def __truediv__(self, o):
        if o.lo <= 0 <= o.hi:
            return Interval(-math.inf, math.inf)
        return self * Interval(1 / o.hi, 1 / o.lo)

    def __pow__(self, o):
        if o.lo == o.hi and float(o.lo).is_integer():
            n = int(o.lo)
            c = [self.lo**n, self.hi**n]
            lo, hi = min(c), max(c)
            if n % 2 == 0 and self.lo <= 0 <= self.hi:
                lo = 0.0
            return Interval(lo, hi)
        if self.lo < 0:
            raise NotArithmetic("negative base")
        c = [a**b for a in (self.lo, self.hi) for b in (o.lo, o.hi)]
        return Interval(min(c), max(c))

    def monotone(self, f):
        try:
            return Interval(f(self.lo), f(self.hi))
        except (ValueError, OverflowError) as e:
            raise NotArithmetic(str(e))

    def meets(self, o, slack: float = 1e-9) -> bool:
        tol = slack * max(1.0, abs(self.lo), abs(self.hi), abs(o.lo), abs(o.hi))
        return self.lo <= o.hi + tol and o.lo <= self.hi + tol

    def __repr__(self):
        return f"[{self.lo:.6g}, {self.hi:.6g}]"


def shown_interval(text: str, digits: int = 4) -> Interval:
    """The values a shown number may stand for: ± half a unit of its last digit.

    dlv rounds to ``digits`` decimals (or more, for 3 significant digits) and shows a
    value with fewer decimals only when that is the value itself (an input such as 0.9),
    so a number with fewer than ``digits`` decimals is taken as exact."""
    text = text.replace(MINUS, "-")
    mantissa, _, exponent = text.partition("e")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    scale = 10.0 ** int(exponent) if exponent else 1.0
    value = float(mantissa) * scale
    if decimals < digits and not exponent:
        return Interval(value)
    half = 0.5 * 10.0 ** (-decimals) * scale
    return Interval(value - half, value + half)


# ----------------------------------------------------------------------------- parsing


def _tokens(text: str):
    pos, out = 0, []
    text = text.strip()
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise NotArithmetic(text[pos:])
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, tokens, digits):
        self.t, self.i, self.digits = tokens, 0, digits
        self.in_norm = False  # inside ‖…‖: the next ‖ closes

    def peek(self):
        return self.t[self.i] if self.i < len(self.t) else (None, None)

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def parse(self) -> Interval:
        value = self.expr()
        if self.i != len(self.t):
            raise NotArithmetic("trailing")
        return value

    def expr(self):
        kind, tok = self.peek()
        if tok in ("-", MINUS):
            self.take()
            value = -self.term()
        else:
            value = self.term()
        while True:
            kind, tok = self.peek()
            if tok == "+":
                self.take()
                value = value + self.term()
            elif tok in ("-", MINUS):
                self.take()
                value = value - self.term()
            else:
                return value

    def term(self):
        value = self.unary()
        while True:
            kind, tok = self.peek()
            if tok in ("·", "×", "*", "⊙"):
                self.take()
                value = value * self.unary()
            elif tok == "/":
                self.take()
                value = value / self.unary()
            elif kind in ("num", "fn") or tok in ("(", "[") or (tok == "‖" and not self.in_norm):
                value = value * self.unary()  # side by side
            else:
                return value

    def unary(self):
        kind, tok = self.peek()
        if tok in ("-", MINUS):
            self.take()
            return -self.unary()
        return self.power()

    def power(self):
        base = self.atom()
        kind, tok = self.peek()
        if kind == "sup":
            self.take()
            n = 0
            for ch in tok:
                n = 10 * n + SUPERSCRIPT_DIGITS[ch]
            return base ** Interval(float(n))
        if tok == "^":
            self.take()
            return base ** self.unary()
        return base

    def atom(self):
        kind, tok = self.take()
        if kind == "num":
            return Interval(0.5) if tok == "½" else shown_interval(tok, self.digits)
        if tok == "‖" and not self.in_norm:
            self.in_norm = True
            value = self.expr()
            if self.take()[1] != "‖":
                raise NotArithmetic("norm")
            self.in_norm = False
            if value.lo >= 0:
                return value
            if value.hi <= 0:
                return -value
            return Interval(0.0, max(-value.lo, value.hi))
        if tok == "tanh²":
            return self.power().monotone(math.tanh) ** Interval(2.0)
        if kind == "fn":
            if tok in ("max", "min"):
                if self.take()[1] != "(":
                    raise NotArithmetic(tok)
                args = [self.expr()]
                while self.peek()[1] == ",":
                    self.take()
                    args.append(self.expr())
                if self.take()[1] != ")":
                    raise NotArithmetic(tok)
                pick = max if tok == "max" else min
                return Interval(pick(a.lo for a in args), pick(a.hi for a in args))
            return self.power().monotone(FUNCTIONS[tok])
        if tok in ("(", "["):
            value = self.expr()
            close = self.take()[1]
            if close not in (")", "]"):
                raise NotArithmetic("bracket")
            return value
        raise NotArithmetic(str(tok))


def arithmetic(part: str, digits: int = 4) -> Interval | None:
    """The interval a part of a chain stands for, or None when it is not arithmetic on numbers."""
    part = part.strip()
    if not part or not re.search(r"\d", part) or "," in part and not re.search(r"max|min", part):
        return None
    try:
        return _Parser(_tokens(part), digits).parse()
    except (NotArithmetic, ZeroDivisionError, OverflowError, KeyError, IndexError):
        return None


# ----------------------------------------------------------------------------- chains


def _segments(text: str):
    """Logical lines, continuation lines (starting with = or ≈, or indented deeper than the
    line before and starting with an operator) joined, split at table rules and at gaps of
    two or more spaces (columns of a layout)."""
    lines: list[str] = []
    for raw in text.splitlines():
        stripped = raw.strip()
        deeper = lines and len(raw) - len(raw.lstrip()) > len(lines[-1]) - len(lines[-1].lstrip())
        operator = deeper and re.match(r"[+−·⊙/×] ", stripped)
        if lines and (stripped.startswith("= ") or stripped.startswith("≈ ") or operator) and "│" not in raw:
            lines[-1] += " " + stripped
        else:
            lines.append(raw)
    for line in lines:
        for cell in re.split(r"[│┃|]", line):
            for piece in re.split(r"\s{2,}", cell):
                if "=" in piece or "≈" in piece:
                    yield line, piece


def chain_errors(text: str, digits: int = 4) -> list[str]:
    errors = []
    for line, piece in _segments(text):
        parts = re.split(r"\s[=≈]\s", piece)
        values = [arithmetic(p, digits) for p in parts]
        for (a, va), (b, vb) in zip(zip(parts, values), zip(parts[1:], values[1:])):
            if va is None or vb is None:
                continue
            if not va.meets(vb):
                errors.append(f"{a.strip()} = {b.strip()}: {va} vs {vb}   (in: {line.strip()})")
    return errors


SHOWN = re.compile(r"(?<![\w.^_/:\-−])([−-]?)(\d+)\.(\d+)(?:e([−-]?\d+))?(?![\w.:])")


def shown_number_errors(text: str, digits: int = 4) -> list[str]:
    errors = []
    for line in text.splitlines():
        for m in SHOWN.finditer(line):
            sign, whole, frac, exponent = m.groups()
            shown = m.group(0)
            digits_all = (whole + frac).lstrip("0")
            if not digits_all.strip("0") and exponent is None:
                errors.append(f"{shown!r}: a zero written with decimals (an exact zero is '0')   (in: {line.strip()})")
                continue
            significant = len(digits_all) if exponent is None else len(whole.lstrip("0") + frac)
            if exponent is None and len(frac) >= digits and significant < 3:
                errors.append(f"{shown!r}: fewer than 3 significant digits   (in: {line.strip()})")
        for m in re.finditer(r"(?<![\w\-−.:/])-(?=\d)", line):
            errors.append(f"ASCII '-' before a number (the text minus is U+2212)   (in: {line.strip()})")
    return errors
