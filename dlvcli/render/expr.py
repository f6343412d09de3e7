"""Printers for ``dlvcli.core.expr``: one tree, a text printer and a LaTeX printer.

Both dispatch on the node's class (as SymPy's printers do) and put brackets only where
precedence needs them, so ``(1 − p_t)^γ`` and ``1 − p_t^γ`` come out as written.
Numbers go through the document's ``NumberStyle`` (≥ 3 significant digits, U+2212 in
text, ``-`` in LaTeX).  ``wrap`` breaks a long text line at ``=`` first, then at ``+``/``−``,
then at ``·``, never inside a number or a bracket when it can help it (80 columns).
"""

from __future__ import annotations

from dataclasses import dataclass

from dlvcli.core.expr import Add, Div, Expr, Fn, Group, Line, Mul, Neg, Note, Num, Pow, Sym, Tuple
from dlvcli.render.numbers import MINUS, NumberStyle

# precedence: higher binds tighter
ADD, MUL, NEG, POW, ATOM = 1, 2, 3, 4, 5
SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
TEXT_FUNCTIONS = {"atan": "atan", "ln": "ln", "exp": "exp", "tanh": "tanh"}
LATEX_FUNCTIONS = {"atan": r"\arctan", "ln": r"\ln", "exp": r"\exp", "tanh": r"\tanh", "max": r"\max", "min": r"\min", "cos": r"\cos", "sin": r"\sin"}


def _precedence(expr: Expr, style: NumberStyle) -> int:
    if isinstance(expr, Add):
        return ADD
    if isinstance(expr, (Mul, Div)):
        return MUL
    if isinstance(expr, Neg):
        return NEG
    if isinstance(expr, Pow):
        return POW
    if isinstance(expr, Note):
        return ADD  # "p  (target 1)" stands alone: bracketed inside anything else
    if isinstance(expr, Num):
        value = expr.value
        try:
            negative = float(value) < 0
        except (TypeError, ValueError):
            negative = False
        if style.exact and expr.exact is not None:
            # a shown fraction p/q binds like a division
            return NEG if expr.exact < 0 else (MUL if expr.exact.denominator != 1 else ATOM)
        return NEG if negative else ATOM
    return ATOM


@dataclass(frozen=True)
class TextPrinter:
    style: NumberStyle
    # the tokens LatexPrinter writes otherwise
    _open, _close, _minus, _dot = "(", ")", f" {MINUS} ", " · "

    def __call__(self, expr: Expr) -> str:
        return self.print(expr)

    def print(self, expr: Expr) -> str:
        return getattr(self, "_print_" + type(expr).__name__)(expr)

    def wrapped(self, expr: Expr, lowest: int, first: bool = False) -> str:
        """``expr`` in brackets when it binds looser than ``lowest``."""
        text = self.print(expr)
        prec = _precedence(expr, self.style)
        if prec < lowest or (prec == NEG and not first and lowest > ADD):
            return f"{self._open}{text}{self._close}"
        return text

    def _print_Num(self, expr: Num) -> str:
        return self.style.num(expr.value, expr.exact)

    def _print_Sym(self, expr: Sym) -> str:
        return expr.name

    def _print_Add(self, expr: Add) -> str:
        out = []
        for i, term in enumerate(expr.terms):
            if i == 0:
                out.append(self.wrapped(term, ADD, first=True))
            elif isinstance(term, Neg):
                out.append(self._minus + self.wrapped(term.arg, MUL))
            elif _precedence(term, self.style) == NEG:
                out.append(f" + {self._open}{self.print(term)}{self._close}")
            else:
                out.append(" + " + self.wrapped(term, ADD))
        return "".join(out)

    def _print_Mul(self, expr: Mul) -> str:
        parts = [self.wrapped(f, MUL, first=(i == 0)) for i, f in enumerate(expr.factors)]
        out = parts[0]
        for left, right in zip(parts, parts[1:]):
            out += self._dot if expr.sep == "·" or _needs_dot(left, right) else " "
            out += right
        return out

    def _print_Div(self, expr: Div) -> str:
        return f"{self.wrapped(expr.num, MUL, first=True)} / {self.wrapped(expr.den, POW)}"

    def _print_Pow(self, expr: Pow) -> str:
        base = self.wrapped(expr.base, ATOM)
        e = expr.exp
        if isinstance(e, Num) and isinstance(e.value, int) and 0 <= e.value <= 9:
            return base + str(e.value).translate(SUPERSCRIPTS)
        return f"{base}^{self.wrapped(e, ATOM)}"

    def _print_Neg(self, expr: Neg) -> str:
        return MINUS + self.wrapped(expr.arg, POW)

    def _print_Fn(self, expr: Fn) -> str:
        if expr.name in ("max", "min", "abs") or len(expr.args) != 1:
            if expr.name == "abs":
                return "|" + self.print(expr.args[0]) + "|"
            return f"{expr.name}(" + ", ".join(self.print(a) for a in expr.args) + ")"
        (arg,) = expr.args
        if expr.name == "sqrt":
            return "√" + self.wrapped(arg, ATOM)
        name = TEXT_FUNCTIONS.get(expr.name, expr.name)
        if _precedence(arg, self.style) == ATOM:
            return f"{name} {self.print(arg)}"
        return f"{name}({self.print(arg)})"

    def _print_Group(self, expr: Group) -> str:
        return expr.brackets[0] + self.print(expr.arg) + expr.brackets[1]

    def _print_Tuple(self, expr: Tuple) -> str:
        return "(" + ", ".join(self.print(x) for x in expr.items) + ")"

    def _print_Note(self, expr: Note) -> str:
        return f"{self.print(expr.arg)}  ({expr.text})"


@dataclass(frozen=True)
class LatexPrinter(TextPrinter):
    _open, _close, _minus, _dot = "\\left(", "\\right)", " - ", " \\cdot "

    def __post_init__(self):
        object.__setattr__(self, "style", self.style.for_latex())

    def _print_Sym(self, expr: Sym) -> str:
        return expr.latex if expr.latex is not None else expr.name

    def _print_Div(self, expr: Div) -> str:
        return f"\\frac{{{self.print(expr.num)}}}{{{self.print(expr.den)}}}"

    def _print_Pow(self, expr: Pow) -> str:
        base = self.wrapped(expr.base, ATOM)
        if isinstance(expr.base, (Fn, Div)):
            base = f"\\left({self.print(expr.base)}\\right)"
        return f"{{{base}}}^{{{self.print(expr.exp)}}}"

    def _print_Neg(self, expr: Neg) -> str:
        return "-" + self.wrapped(expr.arg, POW)

    def _print_Fn(self, expr: Fn) -> str:
        if expr.name == "sqrt":
            return f"\\sqrt{{{self.print(expr.args[0])}}}"
        if expr.name == "abs":
            return f"\\left|{self.print(expr.args[0])}\\right|"
        name = LATEX_FUNCTIONS.get(expr.name, f"\\operatorname{{{expr.name}}}")
        if len(expr.args) == 1 and _precedence(expr.args[0], self.style) == ATOM and expr.name not in ("max", "min"):
            return f"{name} {self.print(expr.args[0])}"
        return f"{name}\\left(" + ", ".join(self.print(a) for a in expr.args) + "\\right)"

    def _print_Group(self, expr: Group) -> str:
        left, right = expr.brackets
        return f"\\left{left}{self.print(expr.arg)}\\right{right}"

    def _print_Tuple(self, expr: Tuple) -> str:
        return "\\left(" + ", ".join(self.print(x) for x in expr.items) + "\\right)"

    def _print_Note(self, expr: Note) -> str:
        remark = expr.latex if expr.latex is not None else f"\\text{{{expr.text}}}"
        return f"{self.print(expr.arg)} \\quad ({remark})"


def _needs_dot(left: str, right: str) -> bool:
    """Side by side is fine for ``α_t (1 − p_t)``; two numbers need a dot: ``1 · 0.01``."""
    def numeric_end(t):
        return t[-1:].isdigit() or t.endswith(")") and t.rstrip(")")[-1:].isdigit()

    starts_numeric = right[:1].isdigit() or right[:1] in ("-", MINUS, ".", "(") or right.startswith(("\\left(", "\\tfrac"))
    return starts_numeric and (numeric_end(left) or left[-1:] in ")]}")


def line_parts(line: Line, printer) -> list[str]:
    """The printed parts of ``lhs = formula = … = substituted = value``."""
    parts = []
    for expr in (line.lhs, line.formula, *line.parts, line.substituted):
        if expr is not None:
            parts.append(printer(expr))
    if line.value is not None:
        if isinstance(line.value, (tuple, list)):
            parts.append(printer(Tuple(tuple(Num(v) for v in line.value))))
        else:
            parts.append(printer(Num(line.value, line.exact)))
    return parts


def text_line(line: Line, style: NumberStyle) -> str:
    text = " = ".join(line_parts(line, TextPrinter(style)))
    return f"{text}  {line.note}" if line.note else text


def latex_line(line: Line, style: NumberStyle) -> str:
    return " = ".join(line_parts(line, LatexPrinter(style)))


# ----------------------------------------------------------------------------- wrapping


def _break_points(text: str) -> list[tuple[int, int]]:
    """(position, rank) where a line may break before an operator; lower rank = better."""
    points = []
    depth = 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        elif ch == " " and i + 2 < len(text) and text[i + 2] == " ":
            op = text[i + 1]
            # deeper inside brackets is a worse place to break: (1 − h²) stays whole
            if op in "=≈":
                points.append((i, 3 * depth))
            elif op in f"+{MINUS}":
                points.append((i, 1 + 3 * depth))
            elif op in "·×/":
                points.append((i, 2 + 3 * depth))
    return points


def wrap(text: str, width: int, indent: int = 4) -> list[str]:
    """Break ``text`` into lines of at most ``width`` columns at operators.

    Continuation lines are indented by ``indent`` and begin with the operator, as a
    student continues an equation on the next line.  A piece with no break point that is
    still too wide stays whole (a number is never split).
    """
    if width <= indent + 10 or len(text) <= width:
        return [text]
    lines: list[str] = []
    rest = text
    prefix = ""
    while len(prefix) + len(rest) > width:
        room = width - len(prefix)
        candidates = [(rank, pos) for pos, rank in _break_points(rest) if 0 < pos <= room]
        if not candidates:
            later = [pos for pos, _ in _break_points(rest) if pos > 0]
            if not later:
                break
            cut = later[0]
        else:
            best = min(rank for rank, _ in candidates)
            # the last break of the best rank that fits, unless it leaves a tiny line
            cut = max(pos for rank, pos in candidates if rank == best)
            if cut < room // 3:
                cut = max(pos for _, pos in candidates)
        lines.append(prefix + rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
        prefix = " " * indent
    lines.append(prefix + rest)
    return lines
