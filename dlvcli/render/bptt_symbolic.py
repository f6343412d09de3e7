"""``dlv bptt --symbolic`` output: the derivation in symbols as text, Markdown (KaTeX) and JSON.

Three printers walk the same expression trees (:mod:`dlvcli.core.bptt_symbolic`):
text (Unicode, ``·``, ``−``, subscripts), LaTeX, and SymPy syntax (``*``, ``**``,
``tanh``) for the JSON.  With numbers, the text and LaTeX printers substitute each
symbol's value (derivative leaves by the value of what they mean), so a substituted
line is the symbolic line above it with numbers in.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from dlvcli.core.bptt_symbolic import (
    Add,
    BigOp,
    Const,
    Deriv,
    Derivation,
    Expr,
    Func,
    Mul,
    Paren,
    Pow,
    Sub,
    Sym,
    SymbolicBptt,
    Transpose,
    evaluate,
    subscript,
)
from dlvcli.render.derivation import Math, Prose, prose_text
from dlvcli.render.numbers import NumberStyle

MINUS = "−"
_SUP = str.maketrans("0123456789()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾")


# --------------------------------------------------------------------------- numbers


def number(value: float, digits: int = 4) -> str:
    """A number as every worked solution shows it (:class:`dlvcli.render.numbers.NumberStyle`:
    ``digits`` decimals and at least 3 significant digits, ``0`` for an exact zero, 0.5 not
    0.5000, scientific below 1e-4 and from 1e7, U+2212 as the minus sign)."""
    return NumberStyle(digits).num(float(value))


# --------------------------------------------------------------------------- printers


Values = Mapping[str, Any] | None
Formatter = Callable[[float], str]


def _is_sum(e: Expr) -> bool:
    return isinstance(e, (Add, Sub))


_NEGATIVE = re.compile(r"\(([−-][0-9.]+(?:e[−+-]?[0-9]+)?(?:\\times 10\^\{-?[0-9]+\})?)\)")


def _bare(text: str) -> str:
    """'(−0.071)' → '−0.071': a negative number needs no parentheses at the start of a sum."""
    m = _NEGATIVE.fullmatch(text)
    return m.group(1) if m else text


def _value_of(e: Expr, values: Values) -> Any:
    try:
        return evaluate(e, values)
    except (KeyError, ValueError):
        return None


class TextPrinter:
    """Unicode text; with ``values``, each symbol and derivative leaf becomes its number."""

    minus = f" {MINUS} "

    def __init__(self, values: Values = None, fmt: Formatter | None = None):
        self.values = values
        self.fmt = fmt or number

    def shown_value(self, e: Expr) -> str | None:
        """The number ``e`` stands for, when values are given and it has a single one."""
        value = None if self.values is None else _value_of(e, self.values)
        return None if value is None or hasattr(value, "ndim") else self.num(value)

    def num(self, value: float) -> str:
        text = self.fmt(value)
        return f"({text})" if text.startswith(MINUS) or text.startswith("-") else text

    def index(self, sub: int | str | None) -> str:
        if sub is None:
            return ""
        if isinstance(sub, int):
            return subscript(sub)
        return f"_{sub}" if len(sub) == 1 else f"_({sub})"

    def __call__(self, e: Expr) -> str:
        return self.p(e)

    def p(self, e: Expr) -> str:
        method = getattr(self, f"_{type(e).__name__}")
        return method(e)

    def _Sym(self, e: Sym) -> str:
        shown = self.shown_value(e) if e.key or e.definition is not None else None
        if shown is not None:
            return shown
        name = ("ŷ" if e.name == "y" else e.name + "\u0302") if e.hat else e.name
        text = name + self.index(e.sub)
        if e.sup:
            text += e.sup.translate(_SUP)
        return text

    def _Const(self, e: Const) -> str:
        return e.text

    def _Add(self, e: Add) -> str:
        return " + ".join(_bare(self.p(t)) if i == 0 else self.p(t) for i, t in enumerate(e.terms))

    def _Sub(self, e: Sub) -> str:
        right = self.p(e.right)
        if _is_sum(e.right):
            right = f"({right})"
        return f"{_bare(self.p(e.left))}{self.minus}{right}"

    def _Mul(self, e: Mul) -> str:
        parts = []
        for i, factor in enumerate(e.factors):
            text = self.p(factor)
            if _is_sum(factor):
                text = f"({text})"
            if i:
                parts.append(self.join(e.joins[i - 1]))
            parts.append(text)
        return "".join(parts)

    def join(self, join: str) -> str:
        """What stands between two factors joined by ``join`` ("", "·", "/")."""
        return "·" if join == "" and self.values is not None else join  # numbers side by side would read as one number

    def _Pow(self, e: Pow) -> str:
        base = self.p(e.base)
        if not isinstance(e.base, (Sym, Paren)) or (_is_sum(e.base)):
            base = f"({base})"
        return base + str(e.exponent).translate(_SUP)

    def _Paren(self, e: Paren) -> str:
        close = "]" if e.bracket == "[" else ")"
        return f"{e.bracket}{self.p(e.body)}{close}"

    def _Func(self, e: Func) -> str:
        arg = self.p(e.arg)
        if isinstance(e.arg, Paren):
            return f"{e.name}{arg}"
        return f"{e.name}({arg})"

    def _Transpose(self, e: Transpose) -> str:
        return self.p(e.body) + "ᵀ"

    def _Deriv(self, e: Deriv) -> str:
        shown = None if e.meaning is None else self.shown_value(e.meaning)
        return shown if shown is not None else self.derivative(e)

    def derivative(self, e: Deriv) -> str:
        """∂num/∂den in symbols."""
        plain = TextPrinter()
        text = f"∂{'⁺' if e.plus else ''}{plain.p(e.num)}/∂{plain.p(e.den)}"
        return f"({text})ᵀ" if e.transpose else text

    def _BigOp(self, e: BigOp) -> str:
        sign = "Σ" if e.op == "sum" else "Π"
        return f"{sign}_({e.var}={e.low}..{e.high}) {self.p(e.body)}"


def _tex_index(sub: str) -> str:
    return sub.replace(MINUS, "-")


class LatexPrinter(TextPrinter):
    """LaTeX for KaTeX (``-`` as the minus sign)."""

    minus = " - "

    def num(self, value: float) -> str:
        text = self.fmt(value).replace(MINUS, "-")
        if "e" in text and "inf" not in text:
            mant, exp = text.split("e")
            text = f"{mant}\\times 10^{{{int(exp)}}}"
        return f"({text})" if text.startswith("-") else text

    def _Sym(self, e: Sym) -> str:
        shown = self.shown_value(e) if e.key or e.definition is not None else None
        if shown is not None:
            return shown
        name = {"δ": "\\delta"}.get(e.name, e.name)
        if e.hat:
            name = f"\\hat{{{name}}}"
        text = name
        if e.sub is not None:
            text += f"_{{{_tex_index(str(e.sub))}}}"
        if e.sup:
            text += f"^{{{e.sup}}}"
        return text

    def join(self, join: str) -> str:
        if join == "·" or (join == "" and self.values is not None):
            return " \\cdot "
        return " / " if join == "/" else " "

    def _Pow(self, e: Pow) -> str:
        base = self.p(e.base)
        if not isinstance(e.base, (Sym, Paren)) or base.startswith("("):
            base = base if base.startswith("(") else f"({base})"
        return f"{{{base}}}^{{{e.exponent}}}"

    def _Paren(self, e: Paren) -> str:
        if e.bracket == "[":
            return f"\\big[{self.p(e.body)}\\big]"
        return f"({self.p(e.body)})"

    def _Func(self, e: Func) -> str:
        name = {"tanh": "\\tanh", "exp": "\\exp", "diag": "\\operatorname{diag}"}[e.name]
        arg = self.p(e.arg)
        return f"{name}{arg}" if isinstance(e.arg, Paren) else f"{name}({arg})"

    def _Transpose(self, e: Transpose) -> str:
        return f"{{{self.p(e.body)}}}^{{\\top}}"

    def derivative(self, e: Deriv) -> str:
        plain = LatexPrinter()
        top = f"\\partial{'^{+}' if e.plus else ''} {plain.p(e.num)}"
        text = f"\\frac{{{top}}}{{\\partial {plain.p(e.den)}}}"
        return f"\\Big({text}\\Big)^{{\\top}}" if e.transpose else text

    def _BigOp(self, e: BigOp) -> str:
        sign = "\\sum" if e.op == "sum" else "\\prod"
        low = _tex_index(e.low).replace("max(", "\\max(")
        return f"{sign}_{{{e.var}={low}}}^{{{_tex_index(e.high)}}} {self.p(e.body)}"


class SympyPrinter:
    """SymPy syntax: ``*``, ``**``, ``tanh``, symbols U, W, V, b, c, h0, x1…, y1…, h1…."""

    def __call__(self, e: Expr) -> str:
        return self.p(e)

    def p(self, e: Expr) -> str:
        if isinstance(e, Sym):
            if e.definition is not None:
                return self.p(e.definition)
            if not e.key:
                raise ValueError(f"symbol {e.name} has no SymPy name")
            return e.key
        if isinstance(e, Const):
            return e.text
        if isinstance(e, Add):
            return " + ".join(self.p(t) for t in e.terms)
        if isinstance(e, Sub):
            right = self.p(e.right)
            return f"{self.p(e.left)} - " + (f"({right})" if _is_sum(_resolved(e.right)) else right)
        if isinstance(e, Mul):
            out = []
            for i, factor in enumerate(e.factors):
                text = self.p(factor)
                if _is_sum(_resolved(factor)):
                    text = f"({text})"
                if i:
                    out.append("/" if e.joins[i - 1] == "/" else "*")
                out.append(text)
            return "".join(out)
        if isinstance(e, Pow):
            base = self.p(e.base)
            return (base if isinstance(_resolved(e.base), (Sym, Paren)) else f"({base})") + f"**{e.exponent}"
        if isinstance(e, Paren):
            return f"({self.p(e.body)})"
        if isinstance(e, Func) and e.name in ("tanh", "exp"):
            arg = self.p(e.arg)
            return f"{e.name}{arg}" if isinstance(e.arg, Paren) else f"{e.name}({arg})"
        if isinstance(e, Deriv) and e.meaning is not None:
            return f"({self.p(e.meaning)})"
        raise ValueError(f"{type(e).__name__} has no SymPy form here")


def _resolved(e: Expr) -> Expr:
    """A symbol with a definition stands for that definition (for SymPy's parentheses)."""
    while isinstance(e, Sym) and e.definition is not None:
        e = e.definition
    return e


# --------------------------------------------------------------------------- wrapping


def _depths(text: str) -> list[int]:
    depth, out = 0, []
    for ch in text:
        if ch in "([":
            depth += 1
        out.append(depth)
        if ch in ")]":
            depth -= 1
    return out


def wrap_formula(text: str, first: int, rest: int) -> list[str]:
    """Lines of ``text`` of at most ``first`` (then ``rest``) columns, broken at operators.

    A line breaks before `` + `` or `` − `` (the next line starts with the operator) or
    after ``·``, preferring the shallowest nesting; nothing is ever cut (a piece with no
    operator to break at stays whole and overflows).
    """
    from rich.cells import cell_len

    if cell_len(text) <= first:
        return [text]
    depth = _depths(text)
    cands: list[tuple[int, int]] = []  # (end of this line, start of the next)
    for m in re.finditer(r" [+−=≤] ", text):
        cands.append((m.start(), m.start() + 1, 0))
    for m in re.finditer("·", text):
        cands.append((m.end(), m.end(), 1))
    cands.sort()
    lines, start, avail = [], 0, first
    while cell_len(text[start:]) > avail:
        fits = [c for c in cands if start < c[0] and cell_len(text[start:c[0]]) <= avail]
        if not fits:
            later = [c for c in cands if c[0] > start]
            if not later:
                break
            fits = later[:1]
        late = [c for c in fits if cell_len(text[start:c[0]]) >= avail * 0.4] or fits
        best = min(late, key=lambda c: (depth[min(c[0], len(text) - 1)], c[2], -c[0]))
        lines.append(text[start:best[0]].rstrip())
        start = best[1]
        avail = rest
    lines.append(text[start:])
    return lines


class Formula:
    """A rich renderable: ``prefix`` + a formula wrapped to the console's width."""

    def __init__(self, prefix: str, body: str, hang: int | None = None, style: str = ""):
        self.prefix, self.body, self.style = prefix, body, style
        self.hang = len(prefix) + 2 if hang is None else hang

    def lines(self, width: int) -> list[str]:
        pieces = wrap_formula(self.body, max(width - len(self.prefix), 20), max(width - self.hang, 20))
        return [self.prefix + pieces[0]] + [" " * self.hang + p for p in pieces[1:]]

    def __rich_console__(self, console, options):
        from rich.text import Text

        for line in self.lines(options.max_width):
            yield Text(line, style=self.style, no_wrap=True, overflow="fold")

    def __rich_measure__(self, console, options):
        from rich.measure import Measurement

        return Measurement(20, options.max_width)


# --------------------------------------------------------------------------- the view


PARAM_ORDER = ("W", "U", "V", "b", "c")
STEP_ATTR = {"W": "dW", "U": "dU", "V": "dV", "b": "db", "c": "dc"}


@dataclass(frozen=True)
class SymbolicResult:
    """What ``dlv bptt --symbolic`` prints: the derivation, and the numeric run when numbers were given."""

    derivation: SymbolicBptt
    numeric: Any = None  # a BpttResult, or None
    values: Mapping[str, Any] | None = None  # symbol values from the numeric run
    full: bool = False

    @property
    def warnings(self) -> tuple[str, ...]:
        own = self.derivation.warnings if self.numeric is None else ()
        return tuple(own) + (tuple(self.numeric.warnings) if self.numeric is not None else ())

    @property
    def matrix(self) -> bool:
        return self.derivation.model.matrix

    def step_value(self, t: int, param: str) -> Any:
        """dlv's numeric ∂E_t/∂θ (in matrix form), or None without numbers."""
        if self.numeric is None or self.numeric.per_step is None:
            return None
        return getattr(self.numeric.per_step[t - 1], STEP_ATTR[param])

    def total_value(self, param: str) -> Any:
        return None if self.numeric is None else self.numeric.grads_matrix[param]


def _header_text(d: SymbolicBptt) -> list[tuple]:
    """The model's lines, each of prose and formulas (:class:`Math`): wrapped between them, never inside one."""
    m = d.model
    kind = "matrix form (vectors are columns)" if m.matrix else "scalar RNN"
    mode = "full BPTT" if m.truncate is None else f"truncated BPTT, K = {m.truncate}"
    b = " + b" if m.bias else ""
    c = " + c" if m.bias else ""

    def spaced(*items):  # formulas side by side, four spaces apart
        out: list = []
        for item in items:
            out += (["    "] if out else []) + (list(item) if isinstance(item, tuple) else [Math(item)])
        return tuple(out)

    items = [kind, f"T = {m.T}", f"loss {m.loss}", mode]
    lines = [
        tuple(piece for i, item in enumerate(items) for piece in ((" ", Math(f"· {item}")) if i else (Math(item),))),
        spaced(f"a_t = U·x_t + W·h_(t−1){b}", "h_t = tanh(a_t)", f"z_t = V·h_t{c}"),
    ]
    if m.loss == "half-sse":
        lines.append(spaced("ŷ_t = z_t", "E_t = ½‖ŷ_t − y_t‖²", "∂E_t/∂ŷ_t = ŷ_t − y_t", "E = Σ_t E_t"))
    else:
        lines.append(spaced("ŷ_t = softmax(z_t)", "E_t = −log ŷ_t[y_t]", (Math("∂E_t/∂z_t = ŷ_t − y_t"), " (", Math("y_t"), " one-hot)")))
    if m.matrix:
        lines.append(spaced("∂h_j/∂h_(j−1) = diag(1 − h_j²)·W",
                            (Math("∂⁺h_k/∂W"), ": the part of ", Math("∂h_k/∂W"), " with ", Math("h_(k−1)"), " held")))
    else:
        lines.append(spaced("∂h_j/∂h_(j−1) = (1 − h_j²)·W", (Math("∂⁺h_k/∂W = (1 − h_k²)·h_(k−1)"), "  (", Math("h_(k−1)"), " held)")))
    if m.truncate is not None:
        lines.append(("Truncated at ", Math(f"K = {m.truncate}"), ": E_t's sums for W, U, b run over ",
                      Math(f"k = max(1, t − {m.truncate - 1})..t"), "."))
    return lines


def _header_markdown(d: SymbolicBptt) -> list[str]:
    m = d.model
    kind = "matrix form (vectors are columns)" if m.matrix else "scalar RNN"
    mode = "full BPTT" if m.truncate is None else f"truncated BPTT, $K = {m.truncate}$"
    b = " + b" if m.bias else ""
    c = " + c" if m.bias else ""
    lines = [f"{kind}, $T = {m.T}$, loss `{m.loss}`, {mode}.", ""]
    lines.append(f"$a_t = U x_t + W h_{{t-1}}{b},\\quad h_t = \\tanh(a_t),\\quad z_t = V h_t{c}$")
    lines.append("")
    if m.loss == "half-sse":
        lines.append("$\\hat y_t = z_t,\\quad E_t = \\tfrac12\\lVert\\hat y_t - y_t\\rVert^2,\\quad "
                     "\\partial E_t/\\partial\\hat y_t = \\hat y_t - y_t,\\quad E = \\sum_t E_t$")
    else:
        lines.append("$\\hat y_t = \\operatorname{softmax}(z_t),\\quad E_t = -\\log \\hat y_t[y_t],\\quad "
                     "\\partial E_t/\\partial z_t = \\hat y_t - y_t$ ($y_t$ one-hot)")
    lines.append("")
    if m.matrix:
        lines.append("$\\partial h_j/\\partial h_{j-1} = \\operatorname{diag}(1 - h_j^2)\\,W$; "
                     "$\\partial^{+} h_k/\\partial W$ is the part of $\\partial h_k/\\partial W$ with $h_{k-1}$ held.")
    else:
        lines.append("$\\partial h_j/\\partial h_{j-1} = (1 - h_j^2)\\,W$, "
                     "$\\partial^{+} h_k/\\partial W = (1 - h_k^2)\\,h_{k-1}$ ($h_{k-1}$ held).")
    if m.truncate is not None:
        lines += ["", f"Truncated at $K = {m.truncate}$: $E_t$'s sums for $W, U, b$ run over "
                      f"$k = \\max(1, t - {m.truncate - 1}), \\ldots, t$."]
    return lines + [""]


class SymbolicView:
    """Renders a :class:`SymbolicResult` (``steps_only``: --t was given, print only those parts)."""

    def __init__(self, steps_only: bool = False):
        self.steps_only = steps_only

    # ----------------------------------------------------------------- JSON
    def to_json(self, result: SymbolicResult, settings) -> dict:
        d = result.derivation
        printer: Callable[[Expr], str] = TextPrinter() if d.model.matrix else SympyPrinter()
        payload: dict[str, Any] = {}
        if result.numeric is not None:
            from dlvcli.render.bptt import BpttView

            payload.update(BpttView(full=result.full).to_json(result.numeric, settings))
        payload["T"] = d.model.T
        payload["symbolic_form"] = "matrix" if d.model.matrix else "scalar"
        payload["symbolic"] = [
            {"t": step.t, **{f"d{name}": printer(step.params[name].closed) for name in d.param_names}}
            for step in d.steps
        ]
        payload["symbolic_total"] = {f"d{name}": printer(d.totals[name].closed) for name in d.param_names}
        return payload

    # ----------------------------------------------------------------- text
    def _fmt(self, settings) -> Formatter:
        digits = settings.digits if settings is not None else 4
        return lambda v: number(v, digits)

    def to_rich(self, result: SymbolicResult, settings) -> list:
        from rich.text import Text

        d = result.derivation
        fmt = self._fmt(settings)
        out: list = []
        if not self.steps_only:
            out.append(Text("Backpropagation through time in symbols — tanh RNN", style="bold"))
            for line in _header_text(d):
                out.append(Prose(*line))
            if result.values is not None:
                out.extend(self._forward_rich(result, fmt))
        for step in d.steps:
            out.append(Text(""))
            names = ", ".join(f"∂E{subscript(step.t)}/∂{n}" for n in d.param_names)
            out.append(Text(f"({step.part}) t = {step.t}: {names}", style="bold"))
            for name in d.param_names:
                out.extend(self._derivation_rich(result, step.params[name], fmt, result.step_value(step.t, name)))
        if self.steps_only:
            return out
        out.append(Text(""))
        out.append(Text("Totals: ∂E/∂θ = Σ_t ∂E_t/∂θ", style="bold"))
        for name in d.param_names:
            out.extend(self._derivation_rich(result, d.totals[name], fmt, result.total_value(name), totals=True))
        out.append(Text(""))
        out.append(Text("The general formula", style="bold"))
        for der in d.general:
            out.extend(self._derivation_rich(result, der, fmt, None))
        out.append(Text(""))
        out.append(Text("Why long-range terms vanish (or explode)", style="bold"))
        from rich.padding import Padding

        for said in vanishing_lines(result, fmt):
            if said.formula:
                out.append(Formula("    ", said.text, hang=6))
            elif said.pieces:
                out.append(Prose(*said.pieces))
            else:
                out.append(Padding(Text(said.text), (0, 0, 0, 2), expand=False))
        return out

    def _forward_rich(self, result: SymbolicResult, fmt: Formatter) -> list:
        from rich.text import Text

        out: list = [Text(""), Text("Forward pass", style="bold")]
        for line in forward_lines(result, TextPrinter, fmt):
            out.append(Formula("  ", line, hang=6))
        return out

    def _derivation_rich(self, result: SymbolicResult, der: Derivation, fmt: Formatter, value: Any,
                         totals: bool = False) -> list:
        plain = TextPrinter()
        out: list = [Formula("  ", plain(der.lhs))]
        numbers = result.values is not None and not result.matrix
        for i, form in enumerate(der.forms):
            out.append(Formula("    = ", plain(form.expr), hang=8))
            if numbers and form.numeric and not (totals and i == len(der.forms) - 1):
                out.append(Formula("    = ", TextPrinter(result.values, fmt)(form.expr), hang=8))
        if der.where:
            out.append(Formula("    ", "where", hang=6))
            for sym, definition in der.where:
                out.append(Formula("      ", f"{plain(sym)} = {plain(definition)}", hang=10))
        if value is not None:
            out.extend(self._value_rich(result, value, fmt))
        return out

    def _value_rich(self, result: SymbolicResult, value: Any, fmt: Formatter) -> list:
        from rich.padding import Padding
        from rich.text import Text

        if not result.matrix:
            return [Formula("    = ", fmt(_scalar(value)), hang=8, style="bold")]
        return [Padding(Text("= " + _matrix_text(value, fmt).replace("\n", "\n  "), style="bold", no_wrap=True),
                        (0, 0, 0, 4), expand=False)]

    # ----------------------------------------------------------------- Markdown
    def to_markdown(self, result: SymbolicResult, settings) -> str:
        d = result.derivation
        fmt = self._fmt(settings)
        m = d.model
        L: list[str] = []
        if not self.steps_only:
            L += ["## Backpropagation through time in symbols — tanh RNN", ""]
            L += _header_markdown(d)
            if result.values is not None:
                L += ["### Forward pass", ""]
                for line in forward_lines(result, LatexPrinter, lambda v: fmt(v).replace(MINUS, "-")):
                    L.append(f"- ${line}$")
                L.append("")
        for step in d.steps:
            names = ", ".join(f"$\\partial E_{{{step.t}}}/\\partial {n}$" for n in d.param_names)
            L += [f"### ({step.part}) $t = {step.t}$: {names}", ""]
            rows: list[str] = []
            for name in d.param_names:
                rows += self._derivation_tex(result, step.params[name], fmt, result.step_value(step.t, name))
            L += _aligned(rows)
        if self.steps_only:
            return "\n".join(L)
        L += ["### Totals: $\\partial E/\\partial\\theta = \\sum_t \\partial E_t/\\partial\\theta$", ""]
        rows = []
        for name in d.param_names:
            rows += self._derivation_tex(result, d.totals[name], fmt, result.total_value(name), totals=True)
        L += _aligned(rows)
        L += ["### The general formula", ""]
        rows = []
        for der in d.general:
            rows += self._derivation_tex(result, der, fmt, None)
        L += _aligned(rows)
        L += ["### Why long-range terms vanish (or explode)", ""]
        for said in vanishing_lines(result, fmt):
            L += [said.markdown, ""]
        return "\n".join(L)

    def _derivation_tex(self, result: SymbolicResult, der: Derivation, fmt: Formatter, value: Any,
                        totals: bool = False) -> list[str]:
        plain = LatexPrinter()
        rows = []
        numbers = result.values is not None and not result.matrix
        lhs = plain(der.lhs)
        for i, form in enumerate(der.forms):
            rows += _split_rows(("" if i else lhs) + " &= " + plain(form.expr))
            if numbers and form.numeric and not (totals and i == len(der.forms) - 1):
                rows += _split_rows(" &= " + LatexPrinter(result.values, fmt)(form.expr))
        for sym, definition in der.where:
            rows += _split_rows(f"{plain(sym)} &= {plain(definition)}")
        if value is not None:
            if result.matrix:
                rows.append(" &= " + _matrix_tex(value, fmt))
            else:
                rows.append(" &= " + fmt(_scalar(value)).replace(MINUS, "-"))
        if rows:
            rows[-1] += "\\\\[6pt]" if not rows[-1].endswith("\\\\[6pt]") else ""
        return rows


# --------------------------------------------------------------------------- shared pieces


def _scalar(value: Any) -> float:
    try:
        return float(value)
    except TypeError:
        import numpy as np

        return float(np.ravel(value)[0])


def _matrix_text(value: Any, fmt: Formatter) -> str:
    import numpy as np

    m = np.atleast_2d(np.asarray(value, dtype=float))
    if m.ndim == 2 and m.shape[1] != 1 and m.shape[0] == 1:
        m = m
    cells = [[fmt(float(v)) for v in row] for row in m]
    width = max(len(c) for row in cells for c in row)
    return "\n".join("[" + "  ".join(c.rjust(width) for c in row) + "]" for row in cells)


def _matrix_tex(value: Any, fmt: Formatter) -> str:
    import numpy as np

    m = np.asarray(value, dtype=float)
    m = m.reshape(-1, 1) if m.ndim == 1 else np.atleast_2d(m)
    body = " \\\\ ".join(" & ".join(fmt(float(v)).replace(MINUS, "-") for v in row) for row in m)
    return f"\\begin{{bmatrix}} {body} \\end{{bmatrix}}"


def _visible_length(tex: str) -> int:
    """A rough rendered width of a LaTeX piece: each command counts as one character,
    braces, scripts and spaces as none (a fraction counts both parts: an over-estimate)."""
    tex = re.sub(r"\\[a-zA-Z]+", "x", tex)
    return len(re.sub(r"[{}_^ &]", "", tex))


def _split_rows(row: str, limit: int = 70) -> list[str]:
    """One aligned row, broken before top-level ' + ' / ' - ' (outside braces) when long."""
    if _visible_length(row) <= limit:
        return [row]
    depth, cuts = 0, []
    i = 0
    while i < len(row):
        ch = row[i]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif depth == 0 and row.startswith((" + ", " - "), i) and "&=" in row[:i]:
            cuts.append(i)
        i += 1
    pieces, start, current = [], 0, 0
    last_cut = None
    for cut in cuts:
        if _visible_length(row[start:cut]) > limit and last_cut is not None and last_cut > start:
            pieces.append(row[start:last_cut])
            start = last_cut
        last_cut = cut
    if _visible_length(row[start:]) > limit and last_cut is not None and last_cut > start:
        pieces.append(row[start:last_cut])
        start = last_cut
    pieces.append(row[start:])
    del current
    return [pieces[0]] + [" &\\quad " + p.strip() for p in pieces[1:]]


def _aligned(rows: list[str]) -> list[str]:
    """One display block: $$\\begin{aligned} … \\end{aligned}$$ (KaTeX's align, usable inside $$)."""
    if not rows:
        return []
    if rows[-1].endswith("\\\\[6pt]"):
        rows[-1] = rows[-1][: -len("\\\\[6pt]")]
    body = " \\\\\n".join(r if not r.endswith("\\\\[6pt]") else r[: -len("\\\\[6pt]")] + "\\\\[6pt]" for r in rows)
    body = body.replace("\\\\[6pt] \\\\\n", "\\\\[6pt]\n")
    return ["$$", "\\begin{aligned}", body, "\\end{aligned}", "$$", ""]


_TEXT_MATH = re.compile(r"([^\s,;:]*[∂Σ_Π‖√≤≥γσ²ᵀ][^\s,;:]*)")


def _text_to_markdown(line: str) -> str:
    """A text line with its formulas in $…$: the Unicode pieces as LaTeX."""
    out = []
    for token in re.split(r"(\s{2,}|; |, | \(|\) )", line):
        if token and _TEXT_MATH.search(token) and not token.isspace():
            out.append(f"${_unicode_tex(token)}$")
        else:
            out.append(token.replace(MINUS, "-") if re.fullmatch(r"[\d.−-]+", token or "x") else token)
    return "".join(out)


def _unicode_tex(text: str) -> str:
    subs = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
    text = re.sub(r"([A-Za-zŷδ])([₀₁₂₃₄₅₆₇₈₉]+)", lambda m: f"{m.group(1)}_{{{m.group(2).translate(subs)}}}", text)
    text = re.sub(r"_\(([^()]*)\)", r"_{\1}", text)
    text = re.sub(r"\^\(([^()]*)\)", r"^{\1}", text)
    repl = [
        ("ŷ", "\\hat y"), ("∂⁺", "\\partial^{+} "), ("∂", "\\partial "), ("Σ", "\\sum"), ("Π", "\\prod"),
        ("‖", "\\lVert "), ("≤", "\\le "), ("≥", "\\ge "), ("γ", "\\gamma "), ("σ_max", "\\sigma_{\\max}"),
        ("²", "^2"), ("ᵀ", "^\\top "), ("·", "\\cdot "), (MINUS, "-"), ("½", "\\tfrac12"), ("δ", "\\delta "),
        ("..", "\\ldots "), ("√", "\\sqrt"), ("tanh", "\\tanh"), ("diag", "\\operatorname{diag}"),
        ("softmax", "\\operatorname{softmax}"), ("log", "\\log"), ("max(", "\\max("), ("|", "\\lvert "),
    ]
    for a, b in repl:
        text = text.replace(a, b)
    return text


def forward_lines(result: SymbolicResult, printer_class, fmt: Formatter) -> list[str]:
    """h_t = tanh(U·x_t + W·h_(t−1) [+ b]) = tanh(numbers) = value, and ŷ_t, per t."""
    from dlvcli.core.bptt_symbolic import Model, Symbols

    d = result.derivation
    s = Symbols(Model(d.model.T, d.model.loss, d.model.bias, d.model.truncate, d.model.matrix))
    plain, subst = printer_class(), printer_class(result.values, fmt)
    eq = " = "
    lines = []
    if d.model.matrix:
        import numpy as np

        tex = printer_class is LatexPrinter

        def vec(key: str) -> str:
            entries = [fmt(float(v)) for v in np.ravel(result.values[key])]
            if tex:
                return "\\begin{bmatrix} " + " \\\\ ".join(e.replace(MINUS, "-") for e in entries) + " \\end{bmatrix}"
            return "[" + ", ".join(entries) + "]ᵀ"

        for t in range(1, d.model.T + 1):
            a = Add((Mul((s.U, s.x(t)), ("",)), Mul((s.W, s.h(t - 1)), ("",))) + ((s.b,) if d.model.bias else ()))
            z: Expr = Mul((s.V, s.h(t)), ("",))
            if d.model.bias:
                z = Add((z, s.c))
            out_eq = plain(z) if d.model.loss == "half-sse" else f"softmax({plain(z)})"
            if tex and d.model.loss != "half-sse":
                out_eq = f"\\operatorname{{softmax}}({plain(z)})"
            lines.append(plain(s.h(t)) + eq + plain(Func("tanh", Paren(a))) + eq + vec(f"h{t}"))
            lines.append(plain(Sym("y", t, hat=True)) + eq + out_eq + eq + vec(f"yhat{t}"))
        return lines
    for t in range(1, d.model.T + 1):
        a: Expr = Add((mul_(s.U, s.x(t)), mul_(s.W, s.h(t - 1))))
        if d.model.bias:
            a = Add((*a.terms, s.b))
        h_val = result.values[f"h{t}"]
        # the numbers inside tanh, not h_(t−1) itself: substitute with h_t's own value hidden
        inner = {k: v for k, v in result.values.items() if k != f"h{t}"}
        lines.append(
            plain(s.h(t)) + eq + plain(Func("tanh", Paren(a))) + eq
            + printer_class(inner, fmt)(Func("tanh", Paren(a))) + eq + printer_class({}, fmt).num(h_val).strip("()")
        )
        yhat = result.values[f"yhat{t}"]
        z: Expr = mul_(s.V, s.h(t))
        if d.model.bias:
            z = Add((z, s.c))
        if d.model.loss == "half-sse":
            lines.append(plain(Sym("y", t, hat=True)) + eq + plain(z) + eq + subst(z) + eq
                         + printer_class({}, fmt).num(yhat).strip("()"))
        else:
            lines.append(plain(Sym("y", t, hat=True)) + eq + f"softmax({plain(z)})" + eq + "1")
    return lines


def mul_(a: Expr, b: Expr) -> Mul:
    return Mul((a, b), ("·",))


@dataclass(frozen=True)
class Said:
    """One line of the vanishing-gradient argument: prose or a formula, in text and in Markdown."""

    text: str
    markdown: str
    formula: bool = False
    pieces: tuple = ()  # prose: its words and formulas (Math), so that text wraps between words only


def _prose(markdown: str, *pieces) -> Said:
    """A sentence of the argument whose formulas (:class:`Math`) are never broken in text."""
    return Said(prose_text(pieces), markdown, pieces=pieces)


def vanishing_lines(result: SymbolicResult, fmt: Formatter) -> list[Said]:
    """The vanishing-gradient argument in symbols, with this run's numbers when given."""
    d = result.derivation
    out: list[Said] = []
    if not d.model.matrix:
        out += [
            _prose("Term $k$ of $\\partial E_t/\\partial W$ carries the Jacobian product",
                   "Term k of ", Math("∂E_t/∂W"), " carries the Jacobian product"),
            Said("∂h_t/∂h_k = Π_(j=k+1..t) ∂h_j/∂h_(j−1) = Π_(j=k+1..t) (1 − h_j²)·W",
                 "$$\\frac{\\partial h_t}{\\partial h_k} = \\prod_{j=k+1}^{t} \\frac{\\partial h_j}{\\partial h_{j-1}}"
                 " = \\prod_{j=k+1}^{t} (1 - h_j^2)\\,W$$", True),
            _prose("and $0 < 1 - h_j^2 \\le 1$ (the slope of tanh is at most 1), so",
                   "and ", Math("0 < 1 − h_j² ≤ 1"), " (the slope of tanh is at most 1), so"),
            Said("|∂h_t/∂h_k| = Π_(j=k+1..t) |(1 − h_j²)·W| ≤ |W|^(t−k)",
                 "$$\\Big|\\frac{\\partial h_t}{\\partial h_k}\\Big| = \\prod_{j=k+1}^{t} \\big|(1 - h_j^2)\\,W\\big|"
                 " \\le |W|^{t-k}$$", True),
            _prose("$|W| < 1$: the bound falls geometrically with the distance $t - k$, so terms from the far past add "
                 "almost nothing to $\\partial E_t/\\partial W$: the gradient cannot carry long-range dependencies "
                 "(it vanishes).",
                   Math("|W| < 1"), ": the bound falls geometrically with the distance ", Math("t − k"),
                   ", so terms from the far past add almost nothing to ", Math("∂E_t/∂W"),
                   ": the gradient cannot carry long-range dependencies (it vanishes)."),
            _prose("$|W| > 1$: the bound grows as $|W|^{t-k}$; where $(1 - h_j^2)\\,|W| > 1$ step after step (units away "
                 "from saturation) the far terms grow geometrically and dominate: the gradient explodes (clip its "
                 "norm; against vanishing, gated cells such as LSTM or GRU).",
                   Math("|W| > 1"), ": the bound grows as ", Math("|W|^(t−k)"), "; where ", Math("(1 − h_j²)·|W| > 1"),
                   " step after step (units away from saturation) the far terms grow geometrically and dominate: "
                   "the gradient explodes (clip its norm; against vanishing, gated cells such as LSTM or GRU)."),
        ]
    else:
        out += [
            _prose("Term $k$ of $\\partial E_t/\\partial W$ carries the Jacobian product",
                   "Term k of ", Math("∂E_t/∂W"), " carries the Jacobian product"),
            Said("∂h_t/∂h_k = Π_(j=k+1..t) ∂h_j/∂h_(j−1) = Π_(j=k+1..t) diag(1 − h_j²)·W",
                 "$$\\frac{\\partial h_t}{\\partial h_k} = \\prod_{j=k+1}^{t} \\frac{\\partial h_j}{\\partial h_{j-1}}"
                 " = \\prod_{j=k+1}^{t} \\operatorname{diag}(1 - h_j^2)\\,W$$", True),
            _prose("With $\\sigma_{\\max}(W)$ the largest singular value of $W$ (its spectral norm) and "
                 "$\\gamma = \\max_j \\lVert\\operatorname{diag}(1 - h_j^2)\\rVert = \\max_{j,i} (1 - h_{j,i}^2) \\le 1$:",
                   "With ", Math("σ_max(W)"), " the largest singular value of W (its spectral norm) and ",
                   Math("γ = max_j ‖diag(1 − h_j²)‖ = max_(j,i) (1 − h_(j,i)²) ≤ 1"), ":"),
            Said("‖∂h_t/∂h_k‖ ≤ Π_(j=k+1..t) ‖diag(1 − h_j²)‖·‖W‖ ≤ (γ·σ_max(W))^(t−k)",
                 "$$\\Big\\lVert\\frac{\\partial h_t}{\\partial h_k}\\Big\\rVert \\le \\prod_{j=k+1}^{t}"
                 " \\lVert\\operatorname{diag}(1 - h_j^2)\\rVert\\,\\lVert W\\rVert \\le (\\gamma\\,\\sigma_{\\max}(W))^{t-k}$$",
                 True),
            _prose("$\\sigma_{\\max}(W) < 1/\\gamma$ (certainly when $\\sigma_{\\max}(W) < 1$): the terms vanish at least "
                 "geometrically with $t - k$ (a sufficient condition).",
                   Math("σ_max(W) < 1/γ"), " (certainly when ", Math("σ_max(W) < 1"),
                   "): the terms vanish at least geometrically with ", Math("t − k"), " (a sufficient condition)."),
            _prose("$\\sigma_{\\max}(W) > 1/\\gamma$ is necessary for them to explode (Pascanu, Mikolov & Bengio 2013): "
                 "then the far terms can dominate and the gradient blows up (clip its norm).",
                   Math("σ_max(W) > 1/γ"), " is necessary for them to explode (Pascanu, Mikolov & Bengio 2013): "
                   "then the far terms can dominate and the gradient blows up (clip its norm)."),
        ]
    num = result.numeric
    if num is None or num.vanishing is None:
        return out
    van, T = num.vanishing, num.T
    tex = lambda text: text.replace(MINUS, "-")  # noqa: E731
    if not d.model.matrix:
        W = abs(_scalar(num.model.W))
        w = fmt(W)
        out.append(_prose(f"Here $|W| = {tex(w)}$ and $\\max_j (1 - h_j^2) = {tex(fmt(van.max_slope))}$.",
                          "Here ", Math(f"|W| = {w}"), " and ", Math(f"max_j (1 − h_j²) = {fmt(van.max_slope)}"), "."))
        if T >= 2 and van.pair_norms is not None and math.isfinite(van.pair_norms[T - 1, 0]):
            measured = float(van.pair_norms[T - 1, 0])
            slopes = [fmt(1 - result.values[f"h{j}"] ** 2) for j in range(T, 1, -1)]
            sym = "·".join(f"(1 − h{subscript(j)}²)W" for j in range(T, 1, -1))
            nums = "·".join(f"{s_}·{w}" for s_ in slopes)
            bound = fmt(W ** (T - 1))
            out.append(Said(
                f"|∂h{subscript(T)}/∂h₁| = |{sym}| = {nums} = {fmt(measured)} ≤ |W|^{T - 1} = {w}^{T - 1} = {bound}",
                f"$$\\Big|\\frac{{\\partial h_{{{T}}}}}{{\\partial h_1}}\\Big| = "
                + tex(nums.replace("·", " \\cdot ")) + f" = {tex(fmt(measured))} \\le |W|^{{{T - 1}}} = {tex(w)}^{{{T - 1}}}"
                f" = {tex(bound)}$$",
                True,
            ))
    else:
        out.append(_prose(
            f"Here $\\sigma_{{\\max}}(W) = {tex(fmt(van.sigma_max_W))}$, $\\gamma = {tex(fmt(van.max_slope))}$, "
            f"$\\gamma\\,\\sigma_{{\\max}}(W) = {tex(fmt(van.bound))}$.",
            "Here ", Math(f"σ_max(W) = {fmt(van.sigma_max_W)}"), ", ", Math(f"γ = {fmt(van.max_slope)}"), ", ",
            Math(f"γ·σ_max(W) = {fmt(van.bound)}"), ".",
        ))
        if T >= 2 and van.pair_norms is not None and math.isfinite(van.pair_norms[T - 1, 0]):
            measured = float(van.pair_norms[T - 1, 0])
            bound = fmt(van.bound ** (T - 1))
            out.append(Said(
                f"‖∂h{subscript(T)}/∂h₁‖ = {fmt(measured)} ≤ (γ·σ_max(W))^{T - 1} = {bound}",
                f"$$\\Big\\lVert\\frac{{\\partial h_{{{T}}}}}{{\\partial h_1}}\\Big\\rVert = {tex(fmt(measured))}"
                f" \\le (\\gamma\\,\\sigma_{{\\max}}(W))^{{{T - 1}}} = {tex(bound)}$$",
                True,
            ))
    return out


def _draw(self, result: SymbolicResult, figure) -> None:
    """--plot: the decay plot of the numeric run (it needs numbers)."""
    if result.numeric is None:
        from dlvcli.errors import InputError

        raise InputError("--plot with --symbolic needs numbers (--U --W --V --x --y): the plot shows measured norms")
    from dlvcli.render.bptt import BpttView

    BpttView(full=result.full).draw(result.numeric, figure)


SymbolicView.draw = _draw
