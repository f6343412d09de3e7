"""A small expression tree for the lines of a worked solution.

A derivation line is ``lhs = formula = substituted = value``: the formula in symbols, the
same formula with the numbers put in, the result.  Holding the formula and the
substitution as trees (numbers, symbols, operators), not as display strings, lets one
printer per format (``dlvcli.render.expr``: text, LaTeX) write them, so text and Markdown
cannot disagree, and lets a test evaluate every printed line (``evaluate``).  The idea is
SymPy's (one expression, many printers); the tree is far smaller, and it keeps the
textbook form a student writes (no reordering, no simplification).

Build expressions with the constructors and the operators::

    p_t = Sym("p_t")
    fl = -Sym("α_t", r"\\alpha_t") * (1 - p_t) ** Sym("γ", r"\\gamma") * ln(p_t)
    numbers = fl.subs({"p_t": 0.9, "α_t": 1, "γ": 2})
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Union

Number = Union[int, float, Fraction]


class Expr:
    """Base class; nodes are frozen dataclasses, combined with Python's operators."""

    def __add__(self, other) -> "Expr":
        return Add((self, as_expr(other)))

    def __radd__(self, other) -> "Expr":
        return Add((as_expr(other), self))

    def __sub__(self, other) -> "Expr":
        return Add((self, Neg(as_expr(other))))

    def __rsub__(self, other) -> "Expr":
        return Add((as_expr(other), Neg(self)))

    def __mul__(self, other) -> "Expr":
        return Mul((self, as_expr(other)))

    def __rmul__(self, other) -> "Expr":
        return Mul((as_expr(other), self))

    def __truediv__(self, other) -> "Expr":
        return Div(self, as_expr(other))

    def __rtruediv__(self, other) -> "Expr":
        return Div(as_expr(other), self)

    def __pow__(self, other) -> "Expr":
        return Pow(self, as_expr(other))

    def __neg__(self) -> "Expr":
        return Neg(self)

    def subs(self, values: dict[str, Any]) -> "Expr":
        """The same tree with symbols named in ``values`` replaced by numbers (or trees)."""
        return _subs(self, values)


@dataclass(frozen=True, eq=False)
class Num(Expr):
    """A number as it will be shown; ``exact`` is its fraction when known (``--exact``)."""

    value: Any
    exact: Fraction | None = None


@dataclass(frozen=True, eq=False)
class Sym(Expr):
    """A symbol: its text name (Unicode, as a student writes it) and its LaTeX."""

    name: str
    latex: str | None = None


@dataclass(frozen=True, eq=False)
class Add(Expr):
    """A sum of terms; a term that is a :class:`Neg` is written ``− term``."""

    terms: tuple


@dataclass(frozen=True, eq=False)
class Mul(Expr):
    """A product of factors."""

    factors: tuple
    # "·" between factors, or "" for juxtaposition (α_t (1 − p_t)^γ)
    sep: str = "·"


@dataclass(frozen=True, eq=False)
class Div(Expr):
    """A fraction, written ``num / den`` (text) or ``\\frac{num}{den}`` (LaTeX)."""

    num: Expr
    den: Expr


@dataclass(frozen=True, eq=False)
class Pow(Expr):
    """A power, written ``base^exp``."""

    base: Expr
    exp: Expr


@dataclass(frozen=True, eq=False)
class Neg(Expr):
    """A negation, written ``−arg``."""

    arg: Expr


@dataclass(frozen=True, eq=False)
class Fn(Expr):
    """A function applied to arguments: ln, exp, tanh, sqrt, atan, max, min, abs."""

    name: str
    args: tuple


@dataclass(frozen=True, eq=False)
class Group(Expr):
    """Brackets a student writes on purpose ([…] in a nested form); kept as written."""

    arg: Expr
    brackets: str = "()"


@dataclass(frozen=True, eq=False)
class Tuple(Expr):
    """A vector written out, ``(x1, y1, x2, y2)``: a box, a corner.  ``evaluate`` gives a tuple."""

    items: tuple


@dataclass(frozen=True, eq=False)
class Note(Expr):
    """An expression followed by a remark in words, ``p  (target 1)``: the remark says which
    case of a definition applies.  It evaluates as ``arg``; ``latex`` is the remark in LaTeX
    (``\\text{no } \\alpha``), else the text is wrapped in ``\\text{…}``."""

    arg: Expr
    text: str
    latex: str | None = None


@dataclass(frozen=True)
class Line:
    """One line of a derivation: ``lhs = formula = substituted = value``.

    Any of ``formula``, ``substituted`` may be None (a definition with no numbers, a value
    read off a table).  ``value`` is a number (shown with the document's number style) or
    None for a statement.  ``note`` is plain text after the line ("(no α)").
    """

    lhs: Expr | None
    formula: Expr | None = None
    substituted: Expr | None = None
    value: Any = None
    exact: Fraction | None = None
    note: str = ""
    label: str = ""
    parts: tuple = field(default_factory=tuple)  # extra expressions between formula and substituted


def as_expr(value) -> Expr:
    if isinstance(value, Expr):
        return value
    if isinstance(value, Fraction):
        return Num(float(value), value)
    if isinstance(value, (int, float)) or hasattr(value, "dtype"):
        return Num(value)
    raise TypeError(f"cannot make an expression of {value!r}")


def num(value, exact: Fraction | None = None) -> Num:
    return Num(value, exact)


def ln(x) -> Fn:
    return Fn("ln", (as_expr(x),))


def exp(x) -> Fn:
    return Fn("exp", (as_expr(x),))


def sqrt(x) -> Fn:
    return Fn("sqrt", (as_expr(x),))


def tanh(x) -> Fn:
    return Fn("tanh", (as_expr(x),))


def atan(x) -> Fn:
    return Fn("atan", (as_expr(x),))


def fmax(*xs) -> Fn:
    return Fn("max", tuple(as_expr(x) for x in xs))


def fmin(*xs) -> Fn:
    return Fn("min", tuple(as_expr(x) for x in xs))


def cos(x) -> Fn:
    return Fn("cos", (as_expr(x),))


def sin(x) -> Fn:
    return Fn("sin", (as_expr(x),))


def vector(*items) -> Tuple:
    """``(a, b, …)``: the items as expressions (numbers become ``Num``)."""
    return Tuple(tuple(as_expr(x) for x in items))


def juxtapose(*factors) -> Mul:
    """Factors written side by side, as in ``α_t (1 − p_t)^γ``."""
    return Mul(tuple(as_expr(f) for f in factors), sep="")


FUNCTIONS = {
    "ln": math.log,
    "exp": math.exp,
    "sqrt": math.sqrt,
    "tanh": math.tanh,
    "atan": math.atan,
    "max": max,
    "min": min,
    "abs": abs,
    "cos": math.cos,
    "sin": math.sin,
}


def evaluate(expr: Expr, env: dict[str, float] | None = None) -> float:
    """The value of ``expr`` in floats (symbols from ``env``); a test checks printed lines with it."""
    env = env or {}
    if isinstance(expr, Num):
        return float(expr.value)
    if isinstance(expr, Sym):
        if expr.name not in env:
            raise ValueError(f"symbol {expr.name} has no value")
        return float(env[expr.name])
    if isinstance(expr, Add):
        return sum(evaluate(t, env) for t in expr.terms)
    if isinstance(expr, Mul):
        out = 1.0
        for f in expr.factors:
            out *= evaluate(f, env)
        return out
    if isinstance(expr, Div):
        return evaluate(expr.num, env) / evaluate(expr.den, env)
    if isinstance(expr, Pow):
        return evaluate(expr.base, env) ** evaluate(expr.exp, env)
    if isinstance(expr, Neg):
        return -evaluate(expr.arg, env)
    if isinstance(expr, (Group, Note)):
        return evaluate(expr.arg, env)
    if isinstance(expr, Tuple):
        return tuple(evaluate(x, env) for x in expr.items)
    if isinstance(expr, Fn):
        return FUNCTIONS[expr.name](*(evaluate(a, env) for a in expr.args))
    raise TypeError(f"cannot evaluate {type(expr).__name__}")


def _subs(expr: Expr, values: dict[str, Any]) -> Expr:
    if isinstance(expr, Sym):
        return as_expr(values[expr.name]) if expr.name in values else expr
    if isinstance(expr, Num):
        return expr
    if isinstance(expr, Add):
        return Add(tuple(_subs(t, values) for t in expr.terms))
    if isinstance(expr, Mul):
        return Mul(tuple(_subs(f, values) for f in expr.factors), expr.sep)
    if isinstance(expr, Div):
        return Div(_subs(expr.num, values), _subs(expr.den, values))
    if isinstance(expr, Pow):
        return Pow(_subs(expr.base, values), _subs(expr.exp, values))
    if isinstance(expr, Neg):
        return Neg(_subs(expr.arg, values))
    if isinstance(expr, Group):
        return Group(_subs(expr.arg, values), expr.brackets)
    if isinstance(expr, Fn):
        return Fn(expr.name, tuple(_subs(a, values) for a in expr.args))
    if isinstance(expr, Tuple):
        return Tuple(tuple(_subs(x, values) for x in expr.items))
    if isinstance(expr, Note):
        return Note(_subs(expr.arg, values), expr.text, expr.latex)
    raise TypeError(f"cannot substitute in {type(expr).__name__}")
