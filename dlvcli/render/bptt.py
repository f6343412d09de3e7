"""``dlv bptt`` output: the worked solution as rich renderables, JSON, Markdown, and the decay plot."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from dlvcli.core.bptt import BpttResult, StepGradient, Term, indexed, partial, subscript
from dlvcli.render.output import OutputSettings

from dlvcli.core.expr import Add, Expr, Group, Line, Mul, Neg, Num, Sym
from dlvcli.render.derivation import Math, Prose, prose_markdown
from dlvcli.render.expr import LatexPrinter, TextPrinter, _needs_dot, latex_line, line_parts, text_line, wrap
from dlvcli.render.numbers import MINUS
from dlvcli.render.tables import FitTable, shown_rows

DECAY_ROWS = (0, 1, 2, 3, 4, 5, 7, 10, 15, 20, 30, 50, 70, 100, 150, 200, 300, 500, 700, 1000, 2000, 5000, 10000)


# --------------------------------------------------------------------------- printers


@dataclass(frozen=True)
class CompactTextPrinter(TextPrinter):
    """Products written tight, ``(ŷ₃ − y₃)·V·(1 − h₃²)·[h₂ + W(1 − h₂²)·…]``, as docs/bptt.md
    writes the nested form; sums keep their spaces, so a long line wraps at ``+``/``−``."""

    def _print_Mul(self, expr: Mul) -> str:
        parts = [self.wrapped(f, 2, first=(i == 0)) for i, f in enumerate(expr.factors)]
        out = parts[0]
        for left, right in zip(parts, parts[1:]):
            out += "·" if expr.sep == "·" or _needs_dot(left, right) else ""
            out += right
        return out


@dataclass(frozen=True)
class CompactLatexPrinter(LatexPrinter):
    """LaTeX for the same trees: round brackets plain, square ones ``\\bigl[ … \\bigr]``."""

    def _print_Group(self, expr: Group) -> str:
        if expr.brackets == "[]":
            return f"\\bigl[{self.print(expr.arg)}\\bigr]"
        return expr.brackets[0] + self.print(expr.arg) + expr.brackets[1]


def signed_sum(values) -> Expr:
    """a + b − c: a negative term after the first is written as a subtraction."""
    terms = []
    for i, v in enumerate(values):
        v = float(v)
        terms.append(Neg(Num(-v)) if i > 0 and v < 0 else Num(v))
    return terms[0] if len(terms) == 1 else Add(tuple(terms))


def product(*factors) -> Expr:
    """Numbers (or trees) multiplied, ``0.5 · (−1)``."""
    items = tuple(f if isinstance(f, Expr) else Num(float(f)) for f in factors)
    return items[0] if len(items) == 1 else Mul(items)


# --------------------------------------------------------------------------- number formatting


class Fmt:
    """Numbers, vectors and matrices as text (rich cells) or LaTeX (Markdown).

    Computed values use ``--digits`` decimals (scientific when tiny or huge); values the
    user gave (``given``) are shown compactly, without trailing zeros (0.5, not 0.5000).
    """

    def __init__(self, settings: OutputSettings):
        self.style = settings.style
        self.latex_style = settings.style.for_latex()
        self.text = TextPrinter(self.style)
        self.compact = CompactTextPrinter(self.style)
        self.latex = CompactLatexPrinter(self.style)

    def n(self, value: float) -> str:
        return self.style.num(float(value))

    def inp(self, value: float) -> str:
        # inputs are shown as given (0.5, not 0.5000): NumberStyle drops decimals that are zero
        return self.n(value)

    def p(self, value: float, given: bool = False) -> str:
        """A number, parenthesised when negative (for products and powers)."""
        text = self.n(value)
        return f"({text})" if text.startswith(("-", MINUS)) else text

    def pin(self, value: float) -> str:
        return self.p(value, given=True)

    def cell(self, expr: Expr, value: float | None = None) -> str:
        """``expr`` (spaced operators) and, on the next line, ``= value``."""
        text = self.text(expr)
        return text if value is None else f"{text}\n= {self.n(value)}"

    def tex_cell(self, expr: Expr, value: float | None = None) -> str:
        text = self.latex(expr)
        return text if value is None else f"{text} = {self.tex(value)}"

    def vec(self, v: np.ndarray, given: bool = False) -> str:
        v = np.ravel(v)
        one = self.inp if given else self.n
        return one(v[0]) if v.size == 1 else "[" + ", ".join(one(e) for e in v) + "]"

    def col(self, v: np.ndarray, given: bool = False) -> str:
        """A column vector, one entry a line, right-aligned."""
        one = self.inp if given else self.n
        cells = [one(e) for e in np.ravel(v)]
        width = max(len(c) for c in cells)
        return "\n".join(c.rjust(width) for c in cells)

    def mat(self, m: np.ndarray, given: bool = False) -> str:
        m = np.asarray(m)
        one = self.inp if given else self.n
        if m.size == 1:
            return one(m.reshape(-1)[0])
        m = np.atleast_2d(m)
        cells = [[one(e) for e in row] for row in m]
        width = max(len(c) for row in cells for c in row)
        return "\n".join(" ".join(c.rjust(width) for c in row) for row in cells)

    def any(self, value: np.ndarray, given: bool = False) -> str:
        value = np.asarray(value)
        if value.ndim <= 1:
            return self.col(value, given) if value.size > 1 else (self.inp if given else self.n)(value.reshape(-1)[0])
        return self.mat(value, given)

    # LaTeX
    def tex(self, value: float, given: bool = False) -> str:
        return self.latex_style.num(float(value))

    def ptex(self, value: float, given: bool = False) -> str:
        text = self.tex(value, given)
        return f"\\left({text}\\right)" if text.startswith("-") else text

    def tex_any(self, value: np.ndarray, given: bool = False) -> str:
        value = np.asarray(value)
        if value.size == 1:
            return self.tex(value.reshape(-1)[0], given)
        m = value.reshape(-1, 1) if value.ndim == 1 else value
        rows = " \\\\ ".join(" & ".join(self.tex(e, given) for e in row) for row in m)
        return f"\\begin{{bmatrix}} {rows} \\end{{bmatrix}}"


def _prose(*pieces, style: str = "", indent: int = 2) -> Prose:
    """A sentence of prose and formulas (:class:`Math`): wrapped between the words of the
    prose, never inside a formula."""
    return Prose(*pieces, indent=indent, style=style)


def _line(text: str, style: str | None = None, indent: int = 2):
    """Lines with no formula to keep whole (a matrix): rich wraps them at spaces, under the indent."""
    from rich.padding import Padding
    from rich.text import Text

    return Padding(Text(text, style=style or ""), (0, 0, 0, indent), expand=False)


class _Formula:
    """A formula line that wraps at operators (render.expr.wrap) to the console's width,
    continuation lines indented by ``hang`` more and starting with the operator."""

    def __init__(self, text: str, indent: int = 2, hang: int = 4, style: str = ""):
        self.text, self.indent, self.hang, self.style = text, indent, hang, style

    def __rich_console__(self, console, options):
        from rich.text import Text

        width = max(20, options.max_width - self.indent)
        for piece in wrap(self.text, width, indent=self.hang):
            yield Text(" " * self.indent + piece, style=self.style, no_wrap=True, overflow="ignore")

    def __rich_measure__(self, console, options):
        from rich.measure import Measurement

        return Measurement(min(options.max_width, 20), min(options.max_width, self.indent + len(self.text)))


def _formula(text: str, indent: int = 2, hang: int = 4, style: str = "") -> _Formula:
    return _Formula(text, indent, hang, style)


def _aligned(line: Line, f: "Fmt", indent: int = 4) -> list:
    """``lhs = formula`` then ``= substituted`` and ``= value`` below, aligned under the first ``=``."""
    parts = line_parts(line, f.compact)
    lhs, rest = parts[0], parts[1:]
    out = [_formula(f"{lhs} = {rest[0]}", indent=indent, hang=len(lhs) + 3)]
    for part in rest[1:]:
        out.append(_formula(f"= {part}", indent=indent + len(lhs) + 1, hang=4))
    return out


def _pad(renderable, indent: int = 2):
    from rich.padding import Padding

    return Padding(renderable, (0, 0, 0, indent), expand=False)


def _table(title: str | None, lines: bool = False):
    """A table that splits into tables of as even widths as fit, repeating the first column,
    or stacks its rows ("t = 1", then "header: cell") where one column beside it does not fit."""
    return FitTable(title=title or "", lines=lines, split="narrow", stack="cells", title_style="bold", parts=None)


def _chain_symbol(t: int, k: int, scalar: bool, latex: bool = False) -> str:
    """∂h_t/∂h_k written out as the product of one-step Jacobians (in text, or in LaTeX)."""
    if k == t:
        return "1" if scalar else "I"
    if latex:
        factor = (lambda j: f"(1-h_{{{j}}}^2)W") if scalar else (lambda j: f"D_{{{j}}}W")
        times, first, dots = " ", "\\,", " \\cdots "
    else:
        factor = (lambda j: f"(1−h{subscript(j)}²)W") if scalar else (lambda j: f"D{subscript(j)}W")
        times, first, dots = " · ", " · ", " ⋯ "
    js = list(range(t, k, -1))
    if len(js) <= 3:
        return times.join(factor(j) for j in js)
    return f"{factor(js[0])}{first}{factor(js[1])}{dots}{factor(js[-1])}"


# --------------------------------------------------------------------------- the view


@dataclass(frozen=True)
class BpttView:
    """Renders a :class:`~dlvcli.core.bptt.BpttResult` (``full``: every term, whatever T)."""

    full: bool = False

    # ----------------------------------------------------------------- JSON
    def to_json(self, result: BpttResult, settings: OutputSettings) -> dict:
        # Non-finite values become null here: the core has already named each group of
        # them in result.warnings (one line per group rather than one per number).
        return _clean(self._json(result))

    def _json(self, result: BpttResult) -> dict:
        model, fwd = result.model, result.forward
        hidden_scalar = model.shapes["W"] == ()
        x_scalar = len(result.sequence_shapes["x"]) == 1
        out_scalar = model.output_size == 1 and model.shapes["V"] == ()
        y_scalar = model.loss == "softmax-ce" or len(result.sequence_shapes["y"]) == 1

        def hidden(v):
            return float(v[0]) if hidden_scalar else v

        forward_rows = []
        for i in range(fwd.T):
            forward_rows.append(
                {
                    "t": i + 1,
                    "x": float(fwd.x[i, 0]) if x_scalar else fwd.x[i],
                    "a": hidden(fwd.a[i]),
                    "h": hidden(fwd.h[i]),
                    "y_hat": float(fwd.y_hat[i, 0]) if out_scalar else fwd.y_hat[i],
                    "y": int(fwd.y[i]) if model.loss == "softmax-ce" else (float(fwd.y[i, 0]) if y_scalar else fwd.y[i]),
                    "loss": float(fwd.losses[i]),
                }
            )
        payload: dict[str, Any] = {
            "T": fwd.T,
            "loss": result.loss,
            "forward": forward_rows,
            "grads": dict(result.grads),
        }
        show_terms = result.has_terms and (self.full or fwd.T <= 50)
        if result.per_step is None:
            payload["per_step"] = None
        else:
            steps = []
            for row in result.per_step:
                item: dict[str, Any] = {
                    "t": row.t,
                    "dU": model.as_given("U", row.dU),
                    "dW": model.as_given("W", row.dW),
                    "dV": model.as_given("V", row.dV),
                }
                if row.db is not None:
                    item["db"] = model.as_given("b", row.db)
                if row.dc is not None:
                    item["dc"] = model.as_given("c", row.dc)
                if show_terms and row.terms is not None:
                    item["terms"] = [self._term_json(result, term) for term in row.terms]
                steps.append(item)
            payload["per_step"] = steps
        if result.vanishing is not None:
            van = result.vanishing
            payload["vanishing"] = {
                "sigma_max_w": van.sigma_max_W,
                "max_one_minus_h2": van.max_slope,
                "bound": van.bound,
                "bound_distance": van.bound_distance,
                "threshold": van.threshold,
                "distance_below": van.distance_below,
                "jacobian_norms": [
                    {"distance": int(d), "norm": float(n)} for d, n in zip(van.distances, van.norms_from_last)
                ],
            }
        if result.gradient_check is not None:
            check = result.gradient_check
            body: dict[str, Any] = {
                "max_rel_error": check.max_rel_error,
                "per_param": dict(check.per_param),
                "max_abs_error": dict(check.max_abs_error),
                "entries_checked": dict(check.entries_checked),
                "entries": dict(check.entries),
                "epsilon": check.epsilon,
                "loss_checked": "truncated" if check.truncated else "full",
            }
            if check.entries_checked == check.entries:
                body["numeric"] = {name: model.as_given(name, v) for name, v in check.numeric.items()}
            payload["gradient_check"] = body
        return payload

    @staticmethod
    def _term_json(result: BpttResult, term: Term) -> dict:
        model = result.model
        item = {
            "k": term.k,
            "dW": model.as_given("W", term.dW),
            "dU": model.as_given("U", term.dU),
        }
        if model.b is not None:
            item["db"] = model.as_given("b", term.db)
        item["jacobian_norm"] = term.jacobian_norm
        return item

    # ----------------------------------------------------------------- rich text
    def to_rich(self, result: BpttResult, settings: OutputSettings) -> list:
        from rich.table import Table
        from rich.text import Text

        f = Fmt(settings)
        model, fwd = result.model, result.forward
        scalar = model.is_scalar
        T = fwd.T
        out: list = []

        # ----- header and model
        kind = "scalar RNN" if scalar else (
            f"input size {model.input_size} · hidden size {model.hidden_size} · output size {model.output_size}"
        )
        mode = "full BPTT" if result.truncate is None else f"truncated BPTT, K = {result.truncate}"
        out.append(Text("Backpropagation through time — tanh RNN", style="bold"))
        # each item whole, the separator with the item after it
        items = [*kind.split(" · "), f"T = {T}", f"loss {model.loss}", mode]
        out.append(_prose(*_separated(items, " · ")))
        bias_b = " + b" if model.b is not None else ""
        bias_c = " + c" if model.c is not None else ""
        out.append(_prose(*_spaced([f"a_t = U·x_t + W·h_(t−1){bias_b}", "h_t = tanh(a_t)", f"z_t = V·h_t{bias_c}"], "    ")))
        if model.loss == "half-sse":
            out.append(_prose(*_spaced(["ŷ_t = z_t", "E_t = ½‖ŷ_t − y_t‖²", "E = Σ_t E_t"], "    ")))
        else:
            out.append(_prose(*_spaced(["ŷ_t = softmax(z_t)", "E_t = −log ŷ_t[y_t]", "E = Σ_t E_t"], "    ")))
        if scalar:
            parts = [f"{name} = {f.inp(float(np.ravel(v)[0]))}" for name, v in model.parameters().items()]
            parts.append(f"h₀ = {f.inp(float(model.h0[0]))}")
            out.append(_prose(*_spaced(parts, "   ")))
        else:
            grid = Table.grid(padding=(0, 2))
            shown = dict(model.parameters())
            shown["h₀"] = model.h0
            for _ in shown:
                grid.add_column(justify="right", no_wrap=True)
            grid.add_row(*[Text(name, style="bold") for name in shown])
            grid.add_row(*[f.any(v, given=True) for v in shown.values()])
            out.append(_pad(grid))
            out.append(_prose("Vectors are columns; ", Math("D_j = diag(1 − h_j²)"), ".", style="dim"))

        # ----- forward
        out.append(Text(""))
        out.append(self._forward_table(result, f))
        if T <= 8:
            sum_text = " + ".join(f"E{subscript(t)}" for t in range(1, T + 1))
            nums = " + ".join(f.n(v) for v in fwd.losses)
            out.append(_formula(f"E = {sum_text} = {nums} = {f.n(result.loss)}", style="bold"))
        else:
            out.append(_formula(f"E = Σ_t E_t = {f.n(result.loss)}", style="bold"))

        # ----- backward
        out.append(Text(""))
        if result.has_terms and (self.full or T <= 50):
            out.extend(self._backward_intro(result))
            for row in result.per_step:
                out.extend(self._step_rich(result, row, f))
        elif result.per_step is not None:
            out.append(self._per_step_summary(result, f))
            if T > 50 and not self.full:
                out.append(_prose(Math(f"T = {T} > 50"), ": the terms are summarised; --full prints every term.", style="dim"))
        else:
            out.append(_prose("Per-step gradients left out (see the warning); the totals below are exact.", style="dim"))

        # ----- totals, why it vanishes, check
        out.append(Text(""))
        out.append(self._totals_table(result, f))
        if result.vanishing is not None:
            out.append(Text(""))
            out.extend(self._vanishing_rich(result, f))
        if result.gradient_check is not None:
            out.append(Text(""))
            out.extend(self._check_rich(result, f))
        return out

    def _forward_table(self, result: BpttResult, f: Fmt):
        model, fwd = result.model, result.forward
        scalar = model.is_scalar
        b = model.b
        table = _table("Forward pass", lines=not scalar)
        table.add_column("t", justify="right")
        table.add_column("x_t", justify="right")
        if scalar:
            table.add_column("a_t = U·x_t + W·h_(t−1)" + (" + b" if b is not None else ""), justify="right")
        else:
            table.add_column("a_t", justify="right")
        table.add_column("h_t", justify="right")
        if model.loss == "softmax-ce":
            table.add_column("z_t", justify="right")
        table.add_column("ŷ_t", justify="right")
        table.add_column("y_t", justify="right")
        table.add_column("E_t", justify="right")
        for t in shown_rows(fwd.T, self.full, first=1):
            if t is None:
                table.add_row(*["⋮"] * len(table.columns))
                continue
            i = t - 1
            if scalar:
                a_text = f"{f.text(_preactivation(result, i))} = {f.n(fwd.a[i, 0])}"
                cells = [str(t), f.n(fwd.x[i, 0]), a_text, f.n(fwd.h[i, 0])]
            else:
                cells = [str(t), f.col(fwd.x[i]), f.col(fwd.a[i]), f.col(fwd.h[i])]
            if model.loss == "softmax-ce":
                cells += [f.col(fwd.z[i]), f.col(fwd.y_hat[i]), str(int(fwd.y[i]))]
            else:
                cells += [f.col(fwd.y_hat[i]), f.col(fwd.y[i])]
            cells.append(f.n(fwd.losses[i]))
            table.add_row(*cells)
        return table

    def _backward_intro(self, result: BpttResult) -> list:
        from rich.text import Text

        model = result.model
        scalar = model.is_scalar
        out = [Text("Backward pass, step by step", style="bold")]
        jac = "(1 − h_j²)·W" if scalar else "D_j·W"
        out.append(_formula("∂E_t/∂W = Σ_k ∂E_t/∂h_t · (Π_(j=k+1..t) ∂h_j/∂h_(j−1)) · ∂⁺h_k/∂W", style="dim"))
        out.append(_prose("with ", Math(f"∂h_j/∂h_(j−1) = {jac}"), "; the error signal reaching step k is", style="dim"))
        signal = "(1 − h_k²) · ∂h_t/∂h_k · ∂E_t/∂h_t" if scalar else "D_k · (∂h_t/∂h_k)ᵀ · ∂E_t/∂h_t"
        out.append(_formula(f"∂E_t/∂a_k = {signal}", indent=4, style="dim"))
        tr = "ᵀ" if not scalar else ""
        terms = ["term k of ", Math(f"∂E_t/∂W = ∂E_t/∂a_k · h_(k−1){tr}"), ",   of ", Math(f"∂E_t/∂U = ∂E_t/∂a_k · x_k{tr}")]
        if model.b is not None:
            terms += [",   of ", Math("∂E_t/∂b = ∂E_t/∂a_k")]
        out.append(_prose(*terms, style="dim"))
        if result.truncate is not None:
            out.append(_prose("Truncated at ", Math(f"K = {result.truncate}"), ": k runs over ",
                              Math(f"max(1, t − {result.truncate - 1})..t"), " only.", style="dim"))
        if scalar:
            out.append(_prose("For a scalar RNN the norm ", Math("‖∂h_t/∂h_k‖"), " is ", Math("|∂h_t/∂h_k|"), ".", style="dim"))
        return out

    # the scalar step as derivation lines and table cells, printed alike in text and Markdown
    def _head_lines(self, result: BpttResult, row: StepGradient) -> list[Line]:
        model, fwd = result.model, result.forward
        t, i = row.t, row.t - 1
        err = fwd.output_error[i]
        y_hat, y = indexed("ŷ", "\\hat y", t), indexed("y", "y", t)
        lines = [
            Line(
                partial(f"E{subscript(t)}", f"ŷ{subscript(t)}", f"E_{{{t}}}", f"\\hat y_{{{t}}}"),
                y_hat - y, Num(float(fwd.y_hat[i, 0])) - Num(float(fwd.y[i, 0])), float(err[0]),
            ),
            Line(
                partial(f"E{subscript(t)}", f"h{subscript(t)}", f"E_{{{t}}}", f"h_{{{t}}}"),
                Mul((Sym("V"), Group(y_hat - y))), product(model.V[0, 0], err[0]), float((err @ model.V)[0]),
            ),
        ]
        return lines

    def _term_cells(self, result: BpttResult, row: StepGradient) -> list[tuple]:
        """Per term k (k = t first): label, chain (text, LaTeX, value or None), and
        (expression, value) for ∂E_t/∂a_k and the terms of ∂E_t/∂W, ∂E_t/∂U."""
        fwd, model = result.forward, result.model
        t = row.t
        g = float((fwd.output_error[t - 1] @ model.V)[0])
        cells = []
        for term in reversed(row.terms or ()):
            k = term.k
            J = float(term.jacobian[0, 0])
            slope_k = float(1 - fwd.h[k - 1, 0] ** 2)
            signal_expr = product(slope_k, g) if k == t else product(slope_k, J, g)
            signal = float(term.signal[0])
            cells.append((
                f"{k} ({t - k})",
                (_chain_symbol(t, k, True), _chain_symbol(t, k, True, latex=True), J if k < t else None),
                (signal_expr, signal),
                (product(signal, fwd.h_prev[k - 1, 0]), float(term.dW[0, 0])),
                (product(signal, fwd.x[k - 1, 0]), float(term.dU[0, 0])),
            ))
        return cells

    def _tail_lines(self, result: BpttResult, row: StepGradient) -> list[Line]:
        model, fwd = result.model, result.forward
        t, i = row.t, row.t - 1
        s = subscript(t)
        err = float(fwd.output_error[i, 0])
        y_hat, y = indexed("ŷ", "\\hat y", t), indexed("y", "y", t)
        lines = []
        if model.b is not None:
            signals = [float(term.signal[0]) for term in reversed(row.terms or ())]
            lines.append(Line(
                partial(f"E{s}", "b", f"E_{{{t}}}"),
                Sym(f"Σ_k ∂E{s}/∂a_k", f"\\sum_k \\dfrac{{\\partial E_{{{t}}}}}{{\\partial a_k}}"),
                signed_sum(signals) if len(signals) > 1 else None, float(row.db[0]),
            ))
        lines.append(Line(
            partial(f"E{s}", "V", f"E_{{{t}}}"), Mul((Group(y_hat - y), indexed("h", "h", t))),
            product(err, fwd.h[i, 0]), float(row.dV[0, 0]),
        ))
        if model.c is not None:
            lines.append(Line(partial(f"E{s}", "c", f"E_{{{t}}}"), y_hat - y, None, float(row.dc[0])))
        return lines

    def _step_rich(self, result: BpttResult, row: StepGradient, f: Fmt) -> list:
        from rich.rule import Rule

        model, fwd = result.model, result.forward
        scalar = model.is_scalar
        t, i = row.t, row.t - 1
        s = subscript(t)
        err = fwd.output_error[i]
        out: list = [Rule(f"t = {t}", align="left", style="dim")]
        simple_head = scalar and model.loss == "half-sse"
        if simple_head:
            for line in self._head_lines(result, row):
                out.append(_formula(text_line(line, f.style), hang=6))
        else:
            if model.loss == "half-sse":
                out.append(_formula(f"∂E{s}/∂ŷ{s} = ŷ{s} − y{s} = {f.vec(err)}"))
            else:
                cls = int(fwd.y[i])
                p = fwd.y_hat[i, cls]
                slope = f.n(-1.0 / p) if p > 0 else MINUS + "inf"
                out.append(_prose(Math(f"∂E{s}/∂ŷ{s} = −1/ŷ{s}[y{s}]"), " at class ", Math(f"y{s} = {cls}"), ", 0 elsewhere: ",
                                  Math(f"−1/{f.n(p)} = {slope}")))
                out.append(_formula(f"∂E{s}/∂z{s} = ŷ{s} − onehot(y{s}) = {f.vec(err)}"))
            g = err @ model.V
            if scalar:
                out.append(_formula(f"∂E{s}/∂h{s} = V · ∂E{s}/∂z{s} = {f.pin(model.V[0, 0])} · {f.p(err[0])} = {f.n(g[0])}"))
            else:
                out.append(_formula(f"∂E{s}/∂h{s} = Vᵀ · ∂E{s}/∂z{s} = {f.vec(g)}"))

        table = _table(None, lines=True)
        table.add_column("k (t−k)" if scalar else "k", justify="right")
        table.add_column(f"∂h{s}/∂h_k", justify="right")
        if not scalar:
            table.add_column("‖·‖₂", justify="right")
        table.add_column(f"∂E{s}/∂a_k", justify="right")
        table.add_column(f"term of ∂E{s}/∂W", justify="right")
        table.add_column(f"term of ∂E{s}/∂U", justify="right")
        if scalar:
            for label, chain, signal, dw, du in self._term_cells(result, row):
                chain_text = chain[0] + ("" if chain[2] is None else f"\n= {f.n(chain[2])}")
                table.add_row(label, chain_text, f.cell(*signal), f.cell(*dw), f.cell(*du))
            table.add_row("Σ", "", "", f"Σ_k = {f.n(row.dW[0, 0])}", f"Σ_k = {f.n(row.dU[0, 0])}", style="bold")
        else:
            for term in reversed(row.terms or ()):
                k = term.k
                chain = _chain_symbol(t, k, False)
                if k < t:
                    chain += "\n" + f.mat(term.jacobian)
                table.add_row(str(k), chain, f.n(term.jacobian_norm), f.col(term.signal), f.mat(term.dW), f.mat(term.dU))
            table.add_row("Σ", "", "", f.col(row.db) if model.b is not None else "", f.mat(row.dW), f.mat(row.dU), style="bold")
        out.append(_pad(table))
        if scalar:
            tail = self._tail_lines(result, row)
            if model.b is not None:
                out.append(_formula(text_line(tail.pop(0), f.style), hang=6))
            if model.loss == "half-sse":
                out.append(_prose("The same in closed (nested) form:", style="italic"))
                for param in ["W", "U"] + (["b"] if model.b is not None else []):
                    out.extend(_aligned(result.nested(t, param), f, indent=4))
            for line in tail:
                out.append(_formula(text_line(line, f.style), hang=6))
        else:
            if model.b is not None:
                out.append(_formula(f"∂E{s}/∂b = Σ_k ∂E{s}/∂a_k = {f.vec(row.db)}"))
            out.append(_formula(f"∂E{s}/∂V = ∂E{s}/∂z{s} · h{s}ᵀ"))
            out.append(_line(_equals_block(f.mat(row.dV)), indent=4))
            if model.c is not None:
                out.append(_formula(f"∂E{s}/∂c = ∂E{s}/∂z{s} = {f.vec(row.dc)}"))
        return out

    def _per_step_summary(self, result: BpttResult, f: Fmt):
        model, fwd = result.model, result.forward
        scalar = model.is_scalar
        table = _table("Per-step gradients" + ("" if scalar else " (Frobenius norms)"))
        table.add_column("t", justify="right")
        table.add_column("E_t", justify="right")
        names = ["U", "W", "V"] + (["b"] if model.b is not None else []) + (["c"] if model.c is not None else [])
        for name in names:
            table.add_column(f"∂E_t/∂{name}" if scalar else f"‖∂E_t/∂{name}‖", justify="right")
        for t in shown_rows(fwd.T, self.full, first=1):
            if t is None:
                table.add_row(*["⋮"] * len(table.columns))
                continue
            row = result.per_step[t - 1]
            vals = [row.dU, row.dW, row.dV] + ([row.db] if row.db is not None else []) + ([row.dc] if row.dc is not None else [])
            cells = [f.n(np.ravel(v)[0]) if scalar else f.n(float(np.linalg.norm(v))) for v in vals]
            table.add_row(str(t), f.n(fwd.losses[t - 1]), *cells)
        return table

    def _totals_table(self, result: BpttResult, f: Fmt):
        model = result.model
        scalar = model.is_scalar
        table = _table("Totals: dE/dθ = Σ_t ∂E_t/∂θ", lines=not scalar)
        table.add_column("θ")
        table.add_column("Σ_t ∂E_t/∂θ" if scalar else "formula")
        table.add_column("dE/dθ", justify="right", style="bold")
        formulas = {
            "U": "Σ_t Σ_k ∂E_t/∂a_k · x_kᵀ",
            "W": "Σ_t Σ_k ∂E_t/∂a_k · h_(k−1)ᵀ",
            "V": "Σ_t (ŷ_t − y_t) · h_tᵀ",
            "b": "Σ_t Σ_k ∂E_t/∂a_k",
            "c": "Σ_t (ŷ_t − y_t)",
        }
        attr = {"U": "dU", "W": "dW", "V": "dV", "b": "db", "c": "dc"}
        for name, grad in result.grads_matrix.items():
            if scalar and result.per_step is not None and result.T <= 8:
                middle = f.text(signed_sum(np.ravel(getattr(r, attr[name]))[0] for r in result.per_step))
            else:
                middle = formulas[name]
            table.add_row(name, middle, f.any(grad))
        return table

    def _decay_rows(self, result: BpttResult) -> list[tuple[int, float]]:
        van = result.vanishing
        available = dict(zip((int(d) for d in van.distances), (float(n) for n in van.norms_from_last)))
        T = result.T
        wanted = list(range(T)) if T <= 12 else [d for d in DECAY_ROWS if d < T] + [T - 1]
        if van.distance_below is not None:
            wanted.append(van.distance_below)
        rows: dict[int, float] = {}
        for d in sorted(set(wanted)):
            near = d if d in available else max((e for e in available if e <= d), default=None)
            if near is not None:
                rows[near] = available[near]
        return sorted(rows.items())

    def _vanishing_rich(self, result: BpttResult, f: Fmt) -> list:
        from rich.text import Text

        van = result.vanishing
        scalar = result.model.is_scalar
        T = result.T
        out: list = [Text(_vanishing_title(result), style="bold")]
        jac = "(1 − h_j²)·W" if scalar else "diag(1 − h_j²)·W"
        out.append(_prose("Each step back multiplies by ", Math(f"∂h_j/∂h_(j−1) = {jac}"), ", so"))
        out.append(_formula("‖∂h_t/∂h_k‖ ≤ (σ_max(W) · max(1 − h²))^(t−k)", indent=4))
        slope = result.forward.local_slope
        where = np.unravel_index(int(np.argmax(slope)), slope.shape)
        out.append(
            _prose(
                Math(f"σ_max(W) = {f.n(van.sigma_max_W)}"), *((" (", Math("= |W|"), ")") if scalar else (" (the largest singular value of W)",)),
                ",  ", Math(f"max(1 − h²) = {f.n(van.max_slope)}"), " (", Math(f"t = {where[0] + 1}"),
                "" if scalar else f", unit {where[1] + 1}", ")",
            )
        )
        bound = Line(Sym("per-step bound"), product(van.sigma_max_W, van.max_slope), None, van.bound)
        if van.bound < 1:
            verdict = (Math(text_line(bound, f.style) + " < 1"), ": each step back shrinks a term by at least this factor.")
        else:
            verdict = (Math(text_line(bound, f.style) + " ≥ 1"), ": the bound allows growth; the measured norms below decide.")
        out.append(_prose(*verdict))
        out.append(_prose("Measured from the last step, ", Math(f"t = T = {T}"), ":"))
        table = _table(None)
        table.add_column("d = t − k", justify="right")
        table.add_column("‖∂h_T/∂h_(T−d)‖", justify="right")
        table.add_column("bound^d", justify="right")
        for d, norm in self._decay_rows(result):
            table.add_row(str(d), f.n(norm), f.n(_power(van.bound, d)))
        out.append(_pad(table))
        for sentence in _vanishing_sentences(result, f):
            out.append(_prose(*sentence))
        return out

    def _check_rich(self, result: BpttResult, f: Fmt) -> list:
        check = result.gradient_check
        table = _table(None)
        values = any(size == 1 for size in check.entries.values())
        table.add_column("θ")
        table.add_column("entries", justify="right")
        if values:
            table.add_column("analytic", justify="right")
            table.add_column("numeric", justify="right")
        table.add_column("max |analytic − numeric|", justify="right")
        table.add_column("relative error", justify="right")
        for name in check.per_param:
            one = check.entries[name] == 1
            cells = [name, f"{check.entries_checked[name]}/{check.entries[name]}"]
            if values:
                cells += [
                    f.n(np.ravel(result.grads_matrix[name])[0]) if one else "",
                    f.n(np.ravel(check.numeric[name])[0]) if one else "",
                ]
            cells += [_e(check.max_abs_error[name]), _e(check.per_param[name])]
            table.add_row(*cells)
        return [
            _prose("Gradient check: central differences ", Math("(E(θ + ε) − E(θ − ε)) / 2ε"), style="bold", indent=0),
            table,
            _prose(Math(f"max relative error = {_e(check.max_rel_error)}"), style="bold"),
            _prose(*_check_note(check, f), style="dim"),
        ]

    # ----------------------------------------------------------------- Markdown
    def to_markdown(self, result: BpttResult, settings: OutputSettings) -> str:
        f = Fmt(settings)
        model, fwd = result.model, result.forward
        scalar = model.is_scalar
        T = fwd.T
        L: list[str] = []
        mode = "full BPTT" if result.truncate is None else f"truncated BPTT, $K = {result.truncate}$"
        kind = "scalar RNN" if scalar else (
            f"input size {model.input_size}, hidden size {model.hidden_size}, output size {model.output_size}"
        )
        L.append(f"## Backpropagation through time — tanh RNN ({kind})")
        L.append("")
        L.append(f"$T = {T}$, loss `{model.loss}`, {mode}.")
        L.append("")
        bias_b = " + b" if model.b is not None else ""
        bias_c = " + c" if model.c is not None else ""
        if model.loss == "half-sse":
            out_eq = r"\hat y_t = z_t,\quad E_t = \tfrac12\lVert \hat y_t - y_t\rVert^2"
        else:
            out_eq = r"\hat y_t = \mathrm{softmax}(z_t),\quad E_t = -\log \hat y_t[y_t]"
        L.append(
            f"$a_t = U x_t + W h_{{t-1}}{bias_b},\\quad h_t = \\tanh(a_t),\\quad z_t = V h_t{bias_c},\\quad "
            f"{out_eq},\\quad E = \\sum_t E_t$"
        )
        L.append("")
        params = dict(model.parameters())
        params["h_0"] = model.h0
        L.append(", ".join(f"${name} = {f.tex_any(v, given=True)}$" for name, v in params.items()))
        if not scalar:
            L.append("")
            L.append(r"Below, $D_j = \mathrm{diag}(1 - h_j^2)$.")
        L.append("")
        L.append("### Forward pass")
        L.append("")
        softmax = model.loss == "softmax-ce"
        z_head = " $z_t$ |" if softmax else ""
        L.append(f"| $t$ | $x_t$ | $a_t$ | $h_t = \\tanh(a_t)$ |{z_head} $\\hat y_t$ | $y_t$ | $E_t$ |")
        L.append("|---:" * (8 if softmax else 7) + "|")
        for t in shown_rows(T, self.full, first=1):
            if t is None:
                L.append("| ⋮ |" + " |" * (7 if softmax else 6))
                continue
            i = t - 1
            if scalar:
                a_cell = f"${f.tex_cell(_preactivation(result, i), fwd.a[i, 0])}$"
            else:
                a_cell = f"${f.tex_any(fwd.a[i])}$"
            y_cell = str(int(fwd.y[i])) if softmax else f"${f.tex_any(fwd.y[i], True)}$"
            z_cell = f" ${f.tex_any(fwd.z[i])}$ |" if softmax else ""
            L.append(
                f"| {t} | ${f.tex_any(fwd.x[i], True)}$ | {a_cell} | ${f.tex_any(fwd.h[i])}$ |{z_cell} ${f.tex_any(fwd.y_hat[i])}$ | "
                f"{y_cell} | ${f.tex(fwd.losses[i])}$ |"
            )
        L.append("")
        if T <= 8:
            L.append(
                "$E = " + " + ".join(f"E_{{{t}}}" for t in range(1, T + 1)) + " = "
                + " + ".join(f.tex(v) for v in fwd.losses) + f" = {f.tex(result.loss)}$"
            )
        else:
            L.append(f"$E = \\sum_t E_t = {f.tex(result.loss)}$")
        L.append("")

        if result.has_terms and (self.full or T <= 50):
            L.append("### Backward pass")
            L.append("")
            jac = "(1-h_j^2)W" if scalar else "D_j W"
            L.append(
                "$\\dfrac{\\partial E_t}{\\partial W} = \\sum_{k} \\dfrac{\\partial E_t}{\\partial h_t}"
                "\\Big(\\prod_{j=k+1}^{t} \\dfrac{\\partial h_j}{\\partial h_{j-1}}\\Big)"
                f"\\dfrac{{\\partial^+ h_k}}{{\\partial W}}$ with $\\dfrac{{\\partial h_j}}{{\\partial h_{{j-1}}}} = {jac}$"
                + ("; term $k$ is $\\dfrac{\\partial E_t}{\\partial a_k} h_{k-1}$ (for $U$: $x_k$), " if scalar else
                   "; term $k$ is $\\dfrac{\\partial E_t}{\\partial a_k} h_{k-1}^\\top$ (for $U$: $x_k^\\top$), ")
                + (
                    "$\\dfrac{\\partial E_t}{\\partial a_k} = (1-h_k^2)\\,\\dfrac{\\partial h_t}{\\partial h_k}"
                    "\\,\\dfrac{\\partial E_t}{\\partial h_t}$"
                    if scalar
                    else "$\\dfrac{\\partial E_t}{\\partial a_k} = D_k \\Big(\\dfrac{\\partial h_t}{\\partial h_k}\\Big)^{\\!\\top}"
                    "\\dfrac{\\partial E_t}{\\partial h_t}$, $D_k = \\mathrm{diag}(1-h_k^2)$"
                )
                + (f"; truncated: $k = \\max(1, t-{result.truncate - 1}), \\dots, t$." if result.truncate else ".")
            )
            L.append("")
            for row in result.per_step:
                L.extend(self._step_markdown(result, row, f))
        elif result.per_step is not None:
            L.append("### Per-step gradients")
            L.append("")
            names = ["U", "W", "V"] + (["b"] if model.b is not None else []) + (["c"] if model.c is not None else [])
            head = " | ".join(
                (f"$\\partial E_t/\\partial {n}$" if scalar else f"$\\lVert\\partial E_t/\\partial {n}\\rVert$") for n in names
            )
            L.append(f"| $t$ | $E_t$ | {head} |")
            L.append("|---:" * (len(names) + 2) + "|")
            for t in shown_rows(T, self.full, first=1):
                if t is None:
                    L.append("| ⋮ |" + " |" * (len(names) + 1))
                    continue
                row = result.per_step[t - 1]
                vals = [row.dU, row.dW, row.dV] + ([row.db] if row.db is not None else []) + (
                    [row.dc] if row.dc is not None else []
                )
                cells = [f.tex(np.ravel(v)[0]) if scalar else f.tex(float(np.linalg.norm(v))) for v in vals]
                L.append(f"| {t} | ${f.tex(fwd.losses[t - 1])}$ | " + " | ".join(f"${c}$" for c in cells) + " |")
            L.append("")

        L.append("### Totals")
        L.append("")
        attr = {"U": "dU", "W": "dW", "V": "dV", "b": "db", "c": "dc"}
        for name, grad in result.grads_matrix.items():
            if scalar and result.per_step is not None and T <= 8:
                parts = f.latex(signed_sum(np.ravel(getattr(r, attr[name]))[0] for r in result.per_step))
                L.append(f"- $\\dfrac{{dE}}{{d{name}}} = \\sum_t \\dfrac{{\\partial E_t}}{{\\partial {name}}} = {parts} = {f.tex_any(grad)}$")
            else:
                L.append(f"- $\\dfrac{{dE}}{{d{name}}} = {f.tex_any(grad)}$")
        L.append("")

        if result.vanishing is not None:
            van = result.vanishing
            L.append(f"### {_vanishing_title(result)}")
            L.append("")
            jac = "(1-h_j^2)\\,W" if scalar else "\\mathrm{diag}(1-h_j^2)\\,W"
            slope = result.forward.local_slope
            where = np.unravel_index(int(np.argmax(slope)), slope.shape)  # as the text says it
            L.append(
                f"Each step back multiplies by $\\partial h_j/\\partial h_{{j-1}} = {jac}$, so "
                "$\\lVert \\partial h_t/\\partial h_k\\rVert \\le (\\sigma_{\\max}(W)\\cdot\\max(1-h^2))^{t-k}$, with "
                f"$\\sigma_{{\\max}}(W) = {f.tex(van.sigma_max_W)}$" + (" ($= |W|$)" if scalar else " (the largest singular value of $W$)")
                + f" and $\\max(1-h^2) = {f.tex(van.max_slope)}$ (at $t = {where[0] + 1}$" + ("" if scalar else f", unit {where[1] + 1}") + ")."
            )
            L.append("")
            bound = f"per-step bound $= {f.tex(van.sigma_max_W)} \\cdot {f.tex(van.max_slope)} = {f.tex(van.bound)}$"
            if van.bound < 1:
                L.append(bound + " $< 1$: each step back shrinks a term by at least this factor.")
            else:
                L.append(bound + " $\\ge 1$: the bound allows growth; the measured norms below decide.")
            L.append("")
            L.append(f"| $d = t-k$ | $\\lVert \\partial h_{{T}}/\\partial h_{{T-d}}\\rVert$ ($T = {T}$) | bound$^d$ |")
            L.append("|---:|---:|---:|")
            for d, norm in self._decay_rows(result):
                L.append(f"| {d} | ${f.tex(norm)}$ | ${f.tex(_power(van.bound, d))}$ |")
            L.append("")
            for sentence in _vanishing_sentences(result, f):
                L.append(prose_markdown(sentence))
                L.append("")

        if result.gradient_check is not None:
            check = result.gradient_check
            L.append("### Gradient check")
            L.append("")
            L.append("Central differences $(E(\\theta+\\varepsilon) - E(\\theta-\\varepsilon))/2\\varepsilon$.")
            L.append("")
            L.append("| $\\theta$ | entries | max abs. error | relative error |")
            L.append("|---|---:|---:|---:|")
            for name in check.per_param:
                L.append(
                    f"| ${name}$ | {check.entries_checked[name]}/{check.entries[name]} | "
                    f"${_e(check.max_abs_error[name], True)}$ | ${_e(check.per_param[name], True)}$ |"
                )
            L.append("")
            L.append(f"**max relative error** $= {_e(check.max_rel_error, True)}$")
            L.append("")
            L.append(prose_markdown(_check_note(check, f)))
            L.append("")
        return "\n".join(L)

    def _step_markdown(self, result: BpttResult, row: StepGradient, f: Fmt) -> list[str]:
        model, fwd = result.model, result.forward
        scalar = model.is_scalar
        t, i = row.t, row.t - 1
        err = fwd.output_error[i]
        g = err @ model.V
        L = [f"#### $t = {t}$", ""]
        if scalar and model.loss == "half-sse":
            for line in self._head_lines(result, row):
                L.append(f"- ${latex_line(line, f.style)}$")
        else:
            if model.loss == "half-sse":
                L.append(
                    f"- $\\partial E_{{{t}}}/\\partial \\hat y_{{{t}}} = \\hat y_{{{t}}} - y_{{{t}}} = {f.tex_any(err)}$"
                )
            else:
                cls = int(fwd.y[i])
                p = fwd.y_hat[i, cls]
                slope = f.tex(-1.0 / p) if p > 0 else "-\\infty"
                L.append(
                    f"- $\\partial E_{{{t}}}/\\partial \\hat y_{{{t}}}[{cls}] = -1/\\hat y_{{{t}}}[{cls}] = -1/{f.tex(p)} = {slope}$, "
                    f"$\\partial E_{{{t}}}/\\partial z_{{{t}}} = \\hat y_{{{t}}} - \\mathrm{{onehot}}(y_{{{t}}}) = {f.tex_any(err)}$"
                )
            if scalar:
                L.append(
                    f"- $\\partial E_{{{t}}}/\\partial h_{{{t}}} = V\\,\\partial E_{{{t}}}/\\partial z_{{{t}}} = "
                    f"{f.tex_cell(product(model.V[0, 0], err[0]), g[0])}$"
                )
            else:
                L.append(f"- $\\partial E_{{{t}}}/\\partial h_{{{t}}} = V^\\top \\partial E_{{{t}}}/\\partial z_{{{t}}} = {f.tex_any(g)}$")
        L.append("")
        if scalar:
            L.append(
                f"| $k$ ($t-k$) | $\\partial h_{{{t}}}/\\partial h_k$ | $\\partial E_{{{t}}}/\\partial a_k$ | "
                f"term of $\\partial E_{{{t}}}/\\partial W$ | term of $\\partial E_{{{t}}}/\\partial U$ |"
            )
            L.append("|---:|---:|---:|---:|---:|")
            for label, chain, signal, dw, du in self._term_cells(result, row):
                chain_tex = chain[1] + ("" if chain[2] is None else f" = {f.tex(chain[2])}")
                L.append(
                    f"| {label} | ${chain_tex}$ | ${f.tex_cell(*signal)}$ | ${f.tex_cell(*dw)}$ | ${f.tex_cell(*du)}$ |"
                )
            L.append(f"| $\\Sigma$ | | | $\\Sigma_k = {f.tex(row.dW[0, 0])}$ | $\\Sigma_k = {f.tex(row.dU[0, 0])}$ |")
        else:
            L.append(
                f"| $k$ | $\\partial h_{{{t}}}/\\partial h_k$ | norm | $\\partial E_{{{t}}}/\\partial a_k$ | "
                f"term of $\\partial E_{{{t}}}/\\partial W$ | term of $\\partial E_{{{t}}}/\\partial U$ |"
            )
            L.append("|---:|---:|---:|---:|---:|---:|")
            for term in reversed(row.terms or ()):
                L.append(
                    f"| {term.k} | ${_chain_symbol(t, term.k, scalar, latex=True)}"
                    + (f" = {f.tex_any(term.jacobian)}$ |" if term.k < t else "$ |")
                    + f" ${f.tex(term.jacobian_norm)}$ | "
                    f"${f.tex_any(term.signal)}$ | ${f.tex_any(term.dW)}$ | ${f.tex_any(term.dU)}$ |"
                )
            L.append(f"| $\\Sigma$ | | | | ${f.tex_any(row.dW)}$ | ${f.tex_any(row.dU)}$ |")
        L.append("")
        if scalar:
            tail = self._tail_lines(result, row)
            if model.b is not None:
                L.append(f"- ${latex_line(tail.pop(0), f.style)}$")
            if model.loss == "half-sse":
                for param in ["W", "U"] + (["b"] if model.b is not None else []):
                    parts = line_parts(result.nested(t, param), f.latex)
                    L.append(f"- ${parts[0]} = {parts[1]}$")
                    L.append(f"  $= {' = '.join(parts[2:])}$")
            for line in tail:
                L.append(f"- ${latex_line(line, f.style)}$")
        else:
            if model.b is not None:
                L.append(f"- $\\partial E_{{{t}}}/\\partial b = \\sum_k \\partial E_{{{t}}}/\\partial a_k = {f.tex_any(row.db)}$")
            L.append(f"- $\\partial E_{{{t}}}/\\partial V = \\partial E_{{{t}}}/\\partial z_{{{t}}}\\,h_{{{t}}}^\\top = {f.tex_any(row.dV)}$")
            if model.c is not None:
                L.append(f"- $\\partial E_{{{t}}}/\\partial c = \\partial E_{{{t}}}/\\partial z_{{{t}}} = {f.tex_any(row.dc)}$")
        L.append("")
        return L

    # ----------------------------------------------------------------- plot
    def draw(self, result: BpttResult, figure) -> None:
        van = result.vanishing
        ax = figure.add_subplot(1, 1, 1)
        T = result.T
        if van is None:
            ax.text(0.5, 0.5, "no decay data", ha="center")
            return
        if van.pair_norms is not None and T > 1:
            ts, ks = np.tril_indices(T)
            vals = van.pair_norms[ts, ks]
            keep = np.isfinite(vals) & (vals > 0)
            ax.scatter((ts - ks)[keep], vals[keep], s=10, color="0.6", alpha=0.5, label="every pair (t, k)")
        norms = np.asarray(van.norms_from_last, dtype=float)
        d = np.asarray(van.distances)
        keep = np.isfinite(norms) & (norms > 0)
        ax.plot(d[keep], norms[keep], "o-" if len(d) <= 60 else "-", color="C0", ms=4, label=f"from the last step, t = T = {T}")
        if van.bound > 0:
            with np.errstate(over="ignore", under="ignore"):
                bound = van.bound ** d.astype(float)
            ok = np.isfinite(bound) & (bound > 0)
            ax.plot(d[ok], bound[ok], "--", color="C3", label=f"bound ({van.bound:.3g})^(t−k)")
        ax.axhline(van.threshold, color="0.3", lw=0.8, ls=":", label=f"{van.threshold:g} of the nearest term")
        if van.distance_below is not None:
            ax.axvline(van.distance_below, color="0.3", lw=0.8, ls=":")
        ax.set_yscale("log")
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # t − k is a whole number of steps
        ax.set_xlabel("t − k")
        ax.set_ylabel("‖∂h_t/∂h_k‖ (spectral norm)")
        ax.set_title(
            f"Jacobian norm against distance: σ_max(W)·max(1 − h²) = {van.bound:.3g}"
            + _plot_verdict(result)
        )
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(loc="best", fontsize="small")


def _preactivation(result: BpttResult, i: int) -> Expr:
    """U·x_t + W·h_(t−1) (+ b) with the numbers of step i + 1 (scalar model)."""
    model, fwd = result.model, result.forward
    terms = [product(model.U[0, 0], fwd.x[i, 0]), product(model.W[0, 0], fwd.h_prev[i, 0])]
    if model.b is not None:
        terms.append(Num(float(model.b[0])) if model.b[0] >= 0 else Neg(Num(-float(model.b[0]))))
    return Add(tuple(terms))


def _grows(result: BpttResult) -> bool:
    """The measured Jacobian norm grows past 1 (or overflows): the far terms dominate."""
    norms = np.asarray(result.vanishing.norms_from_last, dtype=float)
    return result.T > 1 and (not np.all(np.isfinite(norms)) or float(np.max(norms[1:])) > 1)


def _plot_verdict(result: BpttResult) -> str:
    """The plot title's verdict, by the same rule as the section heading (_vanishing_title)."""
    heading = _vanishing_title(result)
    if heading.endswith("explode"):
        return " (exploding)"
    if heading.endswith("vanish"):
        return " (vanishing)"
    return ""


def _vanishing_title(result: BpttResult) -> str:
    """Titled by what happens in this run: the measured norms decide, then the bound."""
    van = result.vanishing
    if _grows(result):
        return "Why long-range terms explode"
    if van.bound < 1 or van.distance_below is not None:
        return "Why long-range terms vanish"
    return "How long-range terms scale"


def _vanishing_sentences(result: BpttResult, f: "Fmt") -> list[tuple]:
    """What the measured norms and the bound say, each statement computed: sentences of
    prose and formulas (:class:`Math`, with their LaTeX), for text and Markdown alike."""
    van = result.vanishing
    T = result.T
    thr = f.n(van.threshold)
    out: list[tuple] = []
    norms = np.asarray(van.norms_from_last, dtype=float)

    def distance(d: int) -> Math:
        return Math(f"t − k = {d}", f"t - k = {d}")

    if van.distance_below is not None:
        out.append((
            f"Measured: the Jacobian factor falls below {thr} of the nearest term's (", Math("k = t", "k = t"), ", norm 1) "
            "at distance ", distance(van.distance_below), ".",
        ))
    elif _grows(result):
        last = ("it overflows",) if not np.all(np.isfinite(norms)) else ("to ", Math(f.n(float(norms[-1])), f.tex(float(norms[-1]))))
        out.append((
            "Measured: the Jacobian norm grows with the distance (", *last, " at ", distance(int(van.distances[-1])), "): "
            "the far terms dominate, an exploding gradient rather than a vanishing one.",
        ))
    elif T > 1:
        smallest = float(np.min(norms))
        out.append((
            f"Measured: over the {T - 1} distance(s) of this sequence the Jacobian factor stays above {thr} "
            "(smallest ", Math(f.n(smallest), f.tex(smallest)), ", at ", distance(int(van.distances[int(np.argmin(norms))])), ").",
        ))
    if van.bound_distance is not None and 0 < van.bound < 1:
        d = van.bound_distance
        at = Line(Sym(f"bound^{d}"), Sym(f"{f.n(van.bound)}^{d}"), None, _power(van.bound, d))
        before = Line(Sym(f"bound^{d - 1}"), None, None, _power(van.bound, d - 1))
        thr_tex = f.tex(van.threshold)
        at_tex = (f"\\text{{bound}}^{{{d}}} = {f.tex(van.bound)}^{{{d}}} = {f.tex(_power(van.bound, d))} < {thr_tex}")
        before_tex = f"\\text{{bound}}^{{{d - 1}}} = {f.tex(_power(van.bound, d - 1))}"
        out.append((
            f"The bound falls below {thr} at ", Math(f"d = {d}", f"d = {d}"), " (", Math(f"{text_line(at, f.style)} < {thr}", at_tex),
            *((", while ", Math(text_line(before, f.style), before_tex)) if d > 1 else ()),
            f"), so terms more than {d - 1} steps back are guaranteed below {thr} of the nearest term.",
        ))
    return out


def _separated(items: list[str], separator: str) -> list:
    """``a · b · c`` with each item kept whole and each separator going with the item after it."""
    pieces: list = [Math(items[0])]
    for item in items[1:]:
        pieces += [" ", Math(f"{separator.strip()} {item}")]
    return pieces


def _spaced(items: list[str], gap: str) -> list:
    """Formulas side by side, ``gap`` apart, each kept whole."""
    pieces: list = [Math(items[0])]
    for item in items[1:]:
        pieces += [gap, Math(item)]
    return pieces


def _equals_block(block: str) -> str:
    """A matrix under the formula it is the value of: ``= `` before its first row."""
    first, *rest = block.split("\n")
    return "\n".join(["= " + first, *("  " + line for line in rest)])


def _check_note(check, f: "Fmt") -> list:
    """How the gradient check measures, as a sentence of prose and formulas (text and Markdown)."""
    if check.truncated:
        what = ["the truncated loss (each ", Math("E_t", "E_t"), " run from the fixed ", Math("h_(t−K)", "h_{t-K}"),
                ", whose gradient is the truncated sum)"]
    else:
        what = ["the loss ", Math("E", "E")]
    return [
        Math(f"ε = {_e(check.epsilon)}·max(1, |θ_i|)", f"\\varepsilon = {_e(check.epsilon, latex=True)} \\cdot \\max(1, |\\theta_i|)"),
        ", on ", *what, "; per parameter, ",
        Math("relative error = max |a − n| / max(|a|, |n|)", "\\text{relative error} = \\max |a - n| \\,/\\, \\max(|a|, |n|)"),
        " over its entries (a analytic, n numeric).",
    ]


def _e(value: float, latex: bool = False) -> str:
    """An error size in scientific notation, 3 significant digits, the document's minus."""
    if value == 0:
        return "0"
    mantissa, exponent = f"{value:.2e}".split("e")
    if latex:
        return f"{mantissa} \\times 10^{{{int(exponent)}}}"
    return f"{mantissa}e{int(exponent)}".replace("-", MINUS)


def _power(base: float, exponent: int) -> float:
    """base**exponent as a float that may be inf (Python's ** raises OverflowError)."""
    with np.errstate(over="ignore", under="ignore"):
        return float(np.power(np.float64(base), exponent))


def _clean(value: Any) -> Any:
    """Plain lists and floats; −0.0 (a zero term times a negative factor) as 0.0; non-finite as None."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, np.ndarray):
        if not value.ndim:
            return _clean(float(value))
        if value.dtype.kind == "f":
            # the whole array at once (a 200×200 matrix per step: 2 million floats in all)
            plain = value.astype(float) + 0.0  # −0.0 + 0.0 is 0.0
            finite = np.isfinite(plain)
            if finite.all():
                return plain.tolist()
            shown = plain.astype(object)
            shown[~finite] = None
            return shown.tolist()
        if value.dtype.kind in "iub":
            return value.tolist()
        return _clean(value.tolist())
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value + 0.0 if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value
