"""``dlv bptt`` output: the worked solution as rich renderables, JSON, Markdown, and the decay plot."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from dlvcli.core.bptt import BpttResult, StepGradient, Term, subscript
from dlvcli.render.output import OutputSettings

SUMMARY_ROWS = 10  # rows shown at each end of a long table
DECAY_ROWS = (0, 1, 2, 3, 4, 5, 7, 10, 15, 20, 30, 50, 70, 100, 150, 200, 300, 500, 700, 1000, 2000, 5000, 10000)


# --------------------------------------------------------------------------- number formatting


class Fmt:
    """Numbers, vectors and matrices as text (rich cells) or LaTeX (Markdown).

    Computed values use ``--digits`` decimals (scientific when tiny or huge); values the
    user gave (``given``) are shown compactly, without trailing zeros (0.5, not 0.5000).
    """

    def __init__(self, settings: OutputSettings):
        self.style = settings.style

    def n(self, value: float) -> str:
        return self.style.sci(float(value))

    def inp(self, value: float) -> str:
        text = self.n(value)
        if "." in text and "e" not in text:
            text = text.rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text

    def p(self, value: float, given: bool = False) -> str:
        """A number, parenthesised when negative (for products and powers)."""
        text = self.inp(value) if given else self.n(value)
        return f"({text})" if text.startswith("-") else text

    def pin(self, value: float) -> str:
        return self.p(value, given=True)

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
        text = self.inp(value) if given else self.n(value)
        if "e" in text:
            mant, exp = text.split("e")
            text = f"{mant}\\times 10^{{{int(exp)}}}"
        return text

    def ptex(self, value: float, given: bool = False) -> str:
        text = self.tex(value, given)
        return f"({text})" if text.startswith("-") else text

    def tex_any(self, value: np.ndarray, given: bool = False) -> str:
        value = np.asarray(value)
        if value.size == 1:
            return self.tex(value.reshape(-1)[0], given)
        m = value.reshape(-1, 1) if value.ndim == 1 else value
        rows = " \\\\ ".join(" & ".join(self.tex(e, given) for e in row) for row in m)
        return f"\\begin{{bmatrix}} {rows} \\end{{bmatrix}}"


def _line(text: str, style: str | None = None, indent: int = 2):
    from rich.padding import Padding
    from rich.text import Text

    return Padding(Text(text, style=style or ""), (0, 0, 0, indent), expand=False)


def _pad(renderable, indent: int = 2):
    from rich.padding import Padding

    return Padding(renderable, (0, 0, 0, indent), expand=False)


def _table(title: str | None, lines: bool = False) -> "_FitTable":
    return _FitTable(title, lines)


class _FitTable:
    """A rich Table that, on a console too narrow for it, prints its rows as stacked blocks.

    Matrices are never cut: their columns do not wrap, so a table of them can be wider
    than an 80-column terminal; there each row becomes "first column = value" followed by
    one "header: cell" entry per column, with multi-line cells indented below.
    """

    def __init__(self, title: str | None, lines: bool):
        from rich.table import Table

        self.title = title
        self.table = Table(title=title, title_justify="left", title_style="bold", show_lines=lines)
        self.headers: list[str] = []
        self.rows: list[tuple[str, ...]] = []

    @property
    def columns(self):
        return self.table.columns

    def add_column(self, header: str, **options) -> None:
        self.headers.append(header)
        self.table.add_column(header, **options)

    def add_row(self, *cells: str, **options) -> None:
        self.rows.append(cells)
        self.table.add_row(*cells, **options)

    def _minimum_width(self) -> int:
        """The narrowest the table can be without cutting a cell (rich's own measure
        ignores ``no_wrap``): longest line of a no-wrap column, else longest word."""
        from rich.cells import cell_len

        total = len(self.headers) + 1  # the vertical rules
        for i, column in enumerate(self.table.columns):
            texts = [self.headers[i]] + [row[i] for row in self.rows if i < len(row)]
            pieces = [p for text in texts for p in (text.split("\n") if column.no_wrap else text.split())]
            total += max((cell_len(p) for p in pieces), default=0) + 2  # cell padding
        return total

    def _fits(self, console, options) -> bool:
        return self._minimum_width() <= options.max_width

    def __rich_measure__(self, console, options):
        from rich.measure import Measurement

        measured = Measurement.get(console, options, self.table)
        return Measurement(min(measured.minimum, options.max_width), measured.maximum)

    def __rich_console__(self, console, options):
        from rich.padding import Padding
        from rich.text import Text

        if self._fits(console, options):
            yield self.table
            return
        if self.title:
            yield Text(self.title, style="bold")
        for row in self.rows:
            head = row[0]
            yield Text(head if head in ("⋮", "Σ") else f"{self.headers[0]} = {head}", style="bold")
            for header, cell in zip(self.headers[1:], row[1:]):
                if not cell or cell == "⋮":
                    continue
                if "\n" in cell:
                    yield Padding(Text(f"{header}:"), (0, 0, 0, 2), expand=False)
                    yield Padding(Text(cell, no_wrap=True, overflow="fold"), (0, 0, 0, 4), expand=False)
                else:
                    yield Padding(Text(f"{header}: {cell}"), (0, 0, 0, 2), expand=False)


def _shown_rows(T: int, full: bool) -> list[int | None]:
    """1-based rows of a per-t table; None marks the elided middle."""
    if full or T <= 50:
        return list(range(1, T + 1))
    return list(range(1, SUMMARY_ROWS + 1)) + [None] + list(range(T - SUMMARY_ROWS + 1, T + 1))


def _chain_symbol(t: int, k: int, scalar: bool) -> str:
    """∂h_t/∂h_k written out as the product of one-step Jacobians."""
    if k == t:
        return "1" if scalar else "I"
    factor = (lambda j: f"(1−h{subscript(j)}²)W") if scalar else (lambda j: f"D{subscript(j)}W")
    js = list(range(t, k, -1))
    if len(js) <= 3:
        return " · ".join(factor(j) for j in js)
    return f"{factor(js[0])} · {factor(js[1])} ⋯ {factor(js[-1])}"


def _chain_tex(t: int, k: int, scalar: bool) -> str:
    if k == t:
        return "1" if scalar else "I"
    factor = (lambda j: f"(1-h_{{{j}}}^2)W") if scalar else (lambda j: f"D_{{{j}}}W")
    js = list(range(t, k, -1))
    if len(js) <= 3:
        return " ".join(factor(j) for j in js)
    return f"{factor(js[0])}\\,{factor(js[1])} \\cdots {factor(js[-1])}"


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
        out.append(_line(f"{kind} · T = {T} · loss {model.loss} · {mode}"))
        bias_b = " + b" if model.b is not None else ""
        bias_c = " + c" if model.c is not None else ""
        out.append(_line(f"a_t = U·x_t + W·h_(t−1){bias_b}    h_t = tanh(a_t)    z_t = V·h_t{bias_c}"))
        if model.loss == "half-sse":
            out.append(_line("ŷ_t = z_t    E_t = ½‖ŷ_t − y_t‖²    E = Σ_t E_t"))
        else:
            out.append(_line("ŷ_t = softmax(z_t)    E_t = −log ŷ_t[y_t]    E = Σ_t E_t"))
        if scalar:
            parts = [f"{name} = {f.inp(float(np.ravel(v)[0]))}" for name, v in model.parameters().items()]
            parts.append(f"h₀ = {f.inp(float(model.h0[0]))}")
            out.append(_line("   ".join(parts)))
        else:
            grid = Table.grid(padding=(0, 2))
            shown = dict(model.parameters())
            shown["h₀"] = model.h0
            for _ in shown:
                grid.add_column(justify="right", no_wrap=True)
            grid.add_row(*[Text(name, style="bold") for name in shown])
            grid.add_row(*[f.any(v, given=True) for v in shown.values()])
            out.append(_pad(grid))
            out.append(_line("Vectors are columns; D_j = diag(1 − h_j²).", style="dim"))

        # ----- forward
        out.append(Text(""))
        out.append(self._forward_table(result, f))
        if T <= 8:
            sum_text = " + ".join(f"E{subscript(t)}" for t in range(1, T + 1))
            nums = " + ".join(f.n(v) for v in fwd.losses)
            out.append(_line(f"E = {sum_text} = {nums} = {f.n(result.loss)}", style="bold"))
        else:
            out.append(_line(f"E = Σ_t E_t = {f.n(result.loss)}", style="bold"))

        # ----- backward
        out.append(Text(""))
        if result.has_terms and (self.full or T <= 50):
            out.extend(self._backward_intro(result))
            for row in result.per_step:
                out.extend(self._step_rich(result, row, f))
        elif result.per_step is not None:
            out.append(self._per_step_summary(result, f))
            if T > 50 and not self.full:
                out.append(_line(f"T = {T} > 50: the terms are summarised; --full prints every term.", style="dim"))
        else:
            out.append(_line("Per-step gradients left out (see the warning); the totals below are exact.", style="dim"))

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
        b, c = model.b, model.c
        table = _table("Forward pass", lines=not scalar)
        table.add_column("t", justify="right")
        table.add_column("x_t", justify="right", no_wrap=True)
        if scalar:
            table.add_column("a_t = U·x_t + W·h_(t−1)" + (" + b" if b is not None else ""), justify="right")
        else:
            table.add_column("a_t", justify="right", no_wrap=True)
        table.add_column("h_t", justify="right", no_wrap=True)
        if model.loss == "softmax-ce":
            table.add_column("z_t", justify="right", no_wrap=True)
        table.add_column("ŷ_t", justify="right", no_wrap=True)
        table.add_column("y_t", justify="right", no_wrap=True)
        table.add_column("E_t", justify="right", no_wrap=True)
        U, W = float(model.U[0, 0]), float(model.W[0, 0])
        for t in _shown_rows(fwd.T, self.full):
            if t is None:
                table.add_row(*["⋮"] * len(table.columns))
                continue
            i = t - 1
            if scalar:
                a_text = f"{f.pin(U)} · {f.pin(fwd.x[i, 0])} + {f.pin(W)} · {f.p(fwd.h_prev[i, 0], given=(i == 0))}"
                if b is not None:
                    a_text += f" + {f.pin(b[0])}"
                a_text += f" = {f.n(fwd.a[i, 0])}"
                cells = [str(t), f.inp(fwd.x[i, 0]), a_text, f.n(fwd.h[i, 0])]
            else:
                cells = [str(t), f.col(fwd.x[i], given=True), f.col(fwd.a[i]), f.col(fwd.h[i])]
            if model.loss == "softmax-ce":
                cells += [f.col(fwd.z[i]), f.col(fwd.y_hat[i]), str(int(fwd.y[i]))]
            else:
                cells += [f.col(fwd.y_hat[i]), f.col(fwd.y[i], given=True)]
            cells.append(f.n(fwd.losses[i]))
            table.add_row(*cells)
        return table

    def _backward_intro(self, result: BpttResult) -> list:
        from rich.text import Text

        model = result.model
        scalar = model.is_scalar
        out = [Text("Backward pass, step by step", style="bold")]
        jac = "(1 − h_j²)·W" if scalar else "D_j·W"
        out.append(
            _line(f"∂E_t/∂W = Σ_k ∂E_t/∂h_t · (Π_(j=k+1..t) ∂h_j/∂h_(j−1)) · ∂⁺h_k/∂W,   ∂h_j/∂h_(j−1) = {jac}", style="dim")
        )
        signal = "(1 − h_k²) · ∂h_t/∂h_k · ∂E_t/∂h_t" if scalar else "D_k · (∂h_t/∂h_k)ᵀ · ∂E_t/∂h_t"
        tr = "ᵀ" if not scalar else ""
        terms = f"term k of ∂E_t/∂W = ∂E_t/∂a_k · h_(k−1){tr},  of ∂E_t/∂U = ∂E_t/∂a_k · x_k{tr}"
        if model.b is not None:
            terms += ",  of ∂E_t/∂b = ∂E_t/∂a_k"
        out.append(_line(f"∂E_t/∂a_k = {signal};   {terms}", style="dim"))
        if result.truncate is not None:
            out.append(_line(f"Truncated at K = {result.truncate}: k runs over max(1, t − {result.truncate - 1})..t only.", style="dim"))
        if scalar:
            out.append(_line("For a scalar RNN the norm ‖∂h_t/∂h_k‖ is |∂h_t/∂h_k|.", style="dim"))
        return out

    def _step_rich(self, result: BpttResult, row: StepGradient, f: Fmt) -> list:
        from rich.rule import Rule

        model, fwd = result.model, result.forward
        scalar = model.is_scalar
        t, i = row.t, row.t - 1
        s = subscript(t)
        err = fwd.output_error[i]
        out: list = [Rule(f"t = {t}", align="left", style="dim")]
        if model.loss == "half-sse":
            if model.output_size == 1:
                out.append(_line(f"∂E{s}/∂ŷ{s} = ŷ{s} − y{s} = {f.n(fwd.y_hat[i, 0])} − {f.pin(fwd.y[i, 0])} = {f.n(err[0])}"))
            else:
                out.append(_line(f"∂E{s}/∂ŷ{s} = ŷ{s} − y{s} = {f.vec(err)}"))
        else:
            cls = int(fwd.y[i])
            p = fwd.y_hat[i, cls]
            slope = f.n(-1.0 / p) if p > 0 else "-inf"
            out.append(_line(f"∂E{s}/∂ŷ{s} = −1/ŷ{s}[y{s}] at class y{s} = {cls}, 0 elsewhere: −1/{f.n(p)} = {slope}"))
            out.append(_line(f"∂E{s}/∂z{s} = ŷ{s} − onehot(y{s}) = {f.vec(err)}"))
        g = err @ model.V
        if scalar:
            out.append(_line(f"∂E{s}/∂h{s} = V · (ŷ{s} − y{s}) = {f.pin(model.V[0, 0])} · {f.p(err[0])} = {f.n(g[0])}"))
        else:
            out.append(_line(f"∂E{s}/∂h{s} = Vᵀ · ∂E{s}/∂z{s} = {f.vec(g)}"))

        table = _table(None, lines=True)
        table.add_column("k (t−k)" if scalar else "k", justify="right")
        if scalar:
            table.add_column(f"∂h{s}/∂h_k", justify="right")
            table.add_column(f"∂E{s}/∂a_k", justify="right", no_wrap=True)
            table.add_column(f"term of ∂E{s}/∂W", justify="right", no_wrap=True)
            table.add_column(f"term of ∂E{s}/∂U", justify="right", no_wrap=True)
        else:
            table.add_column(f"∂h{s}/∂h_k", justify="right", no_wrap=True)
            table.add_column("‖·‖₂", justify="right", no_wrap=True)
            table.add_column(f"∂E{s}/∂a_k", justify="right", no_wrap=True)
            table.add_column(f"term of ∂E{s}/∂W", justify="right", no_wrap=True)
            table.add_column(f"term of ∂E{s}/∂U", justify="right", no_wrap=True)
        for term in reversed(row.terms or ()):
            k = term.k
            chain = _chain_symbol(t, k, scalar)
            label = f"{k} ({t - k})" if scalar else str(k)
            if scalar:
                J = float(term.jacobian[0, 0])
                if k < t:
                    chain += f"\n= {f.n(J)}"
                slope_k = f.p(1 - fwd.h[k - 1, 0] ** 2)
                signal = f"{slope_k} · {f.p(g[0])}" if k == t else f"{slope_k} · {f.p(J)} · {f.p(g[0])}"
                signal += f"\n= {f.n(term.signal[0])}"
                h_in = f.p(fwd.h_prev[k - 1, 0], given=(k == 1))
                dw = f"{f.p(term.signal[0])} · {h_in}\n= {f.n(term.dW[0, 0])}"
                du = f"{f.p(term.signal[0])} · {f.pin(fwd.x[k - 1, 0])}\n= {f.n(term.dU[0, 0])}"
                table.add_row(label, chain, signal, dw, du)
            else:
                if k < t:
                    chain += "\n" + f.mat(term.jacobian)
                table.add_row(label, chain, f.n(term.jacobian_norm), f.col(term.signal), f.mat(term.dW), f.mat(term.dU))
        sums = [f"Σ_k = {f.n(row.dW[0, 0])}", f"Σ_k = {f.n(row.dU[0, 0])}"] if scalar else [f.mat(row.dW), f.mat(row.dU)]
        if scalar:
            table.add_row("Σ", "", "", *sums, style="bold")
        else:
            table.add_row("Σ", "", "", f.col(row.db) if model.b is not None else "", *sums, style="bold")
        out.append(_pad(table))
        if model.b is not None:
            out.append(_line(f"∂E{s}/∂b = Σ_k ∂E{s}/∂a_k = {f.vec(row.db)}"))
        if scalar and model.loss == "half-sse":
            out.append(_line("The same in closed (nested) form:", style="italic"))
            for param in ["W", "U"] + (["b"] if model.b is not None else []):
                step = result.nested(t, param, num=f.n, num_given=f.inp)
                indent = len(step.label) + 5
                out.append(_line(step.formula, indent=4))
                out.append(_line(f"= {step.substituted}", indent=indent))
                out.append(_line(f"= {f.n(step.value)}", indent=indent))
        if scalar:
            out.append(_line(f"∂E{s}/∂V = (ŷ{s} − y{s}) · h{s} = {f.p(err[0])} · {f.p(fwd.h[i, 0])} = {f.n(row.dV[0, 0])}"))
        else:
            out.append(_line(f"∂E{s}/∂V = ∂E{s}/∂z{s} · h{s}ᵀ ="))
            out.append(_line(f.mat(row.dV), indent=4))
        if model.c is not None:
            out.append(_line(f"∂E{s}/∂c = ∂E{s}/∂z{s} = {f.vec(row.dc)}"))
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
        for t in _shown_rows(fwd.T, self.full):
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
        table.add_column("dE/dθ", justify="right", style="bold", no_wrap=True)
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
                middle = " + ".join(f.p(np.ravel(getattr(r, attr[name]))[0]) for r in result.per_step)
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
        out: list = [Text("Why long-range terms vanish", style="bold")]
        jac = "(1 − h_j²)·W" if scalar else "diag(1 − h_j²)·W"
        out.append(_line(f"Each step back multiplies by ∂h_j/∂h_(j−1) = {jac}, so"))
        out.append(_line("‖∂h_t/∂h_k‖ ≤ (σ_max(W) · max(1 − h²))^(t−k)", indent=4))
        slope = result.forward.local_slope
        where = np.unravel_index(int(np.argmax(slope)), slope.shape)
        out.append(
            _line(
                f"σ_max(W) = {f.n(van.sigma_max_W)}" + (" (= |W|)" if scalar else " (the largest singular value of W)")
                + f",  max(1 − h²) = {f.n(van.max_slope)} (t = {where[0] + 1}" + ("" if scalar else f", unit {where[1] + 1}") + ")"
            )
        )
        verdict = f"per-step bound = {f.n(van.sigma_max_W)} × {f.n(van.max_slope)} = {f.n(van.bound)}"
        if van.bound < 1:
            verdict += f" < 1: the terms shrink at least geometrically; bound^d < {van.threshold:g} from d = {van.bound_distance}."
        else:
            verdict += " ≥ 1: the bound allows growth (the gradient may explode); the measured norms decide."
        out.append(_line(verdict))
        out.append(_line(f"Measured from the last step, t = T = {T}:"))
        table = _table(None)
        table.add_column("d = t − k", justify="right")
        table.add_column("‖∂h_T/∂h_(T−d)‖", justify="right")
        table.add_column("bound^d", justify="right")
        for d, norm in self._decay_rows(result):
            table.add_row(str(d), f.n(norm), f.n(_power(van.bound, d)))
        out.append(_pad(table))
        out.append(_line(self._below_sentence(result)))
        return out

    @staticmethod
    def _below_sentence(result: BpttResult) -> str:
        van = result.vanishing
        T = result.T
        if van.distance_below is not None:
            return (
                f"A term's Jacobian factor falls below {van.threshold:g} of the nearest term's (k = t, norm 1) "
                f"at distance t − k = {van.distance_below}."
            )
        norms = np.asarray(van.norms_from_last, dtype=float)
        if T > 1 and (not np.all(np.isfinite(norms)) or norms[-1] > 1):
            return (
                f"The Jacobian norm grows with the distance ({'it overflows' if not np.all(np.isfinite(norms)) else f'to {norms[-1]:.3g}'} "
                f"at t − k = {int(van.distances[-1])}): the far terms dominate, an exploding gradient rather than a vanishing one."
            )
        extra = f"; the bound guarantees it by d = {van.bound_distance}" if van.bound_distance is not None else ""
        return (
            f"A term's Jacobian factor stays above {van.threshold:g} of the nearest term's (k = t, norm 1) "
            f"over the {T - 1} distance(s) of this sequence{extra}."
        )

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
            cells += [f"{check.max_abs_error[name]:.2e}", f"{check.per_param[name]:.2e}"]
            table.add_row(*cells)
        what = (
            "the truncated loss (each E_t run from the fixed h_(t−K), whose gradient is the truncated sum)"
            if check.truncated
            else "the loss E"
        )
        from rich.text import Text

        return [
            Text("Gradient check: central differences (E(θ + ε) − E(θ − ε)) / 2ε", style="bold"),
            table,
            _line(f"max relative error = {check.max_rel_error:.2e}", style="bold"),
            _line(
                f"ε = {check.epsilon:.2g}·max(1, |θ_i|), on {what}; relative error of a parameter = "
                "max |analytic − numeric| / its largest |gradient entry|",
                style="dim",
            ),
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
        L.append("| $t$ | $x_t$ | $a_t$ | $h_t = \\tanh(a_t)$ | $\\hat y_t$ | $y_t$ | $E_t$ |")
        L.append("|---:|---:|---:|---:|---:|---:|---:|")
        for t in _shown_rows(T, self.full):
            if t is None:
                L.append("| ⋮ | | | | | | |")
                continue
            i = t - 1
            if scalar:
                a_cell = (
                    f"${f.ptex(model.U[0, 0], True)}\\cdot{f.ptex(fwd.x[i, 0], True)} + {f.ptex(model.W[0, 0], True)}\\cdot"
                    f"{f.ptex(fwd.h_prev[i, 0], i == 0)}" + (f" + {f.ptex(model.b[0], True)}" if model.b is not None else "")
                    + f" = {f.tex(fwd.a[i, 0])}$"
                )
            else:
                a_cell = f"${f.tex_any(fwd.a[i])}$"
            y_cell = str(int(fwd.y[i])) if model.loss == "softmax-ce" else f"${f.tex_any(fwd.y[i], True)}$"
            L.append(
                f"| {t} | ${f.tex_any(fwd.x[i], True)}$ | {a_cell} | ${f.tex_any(fwd.h[i])}$ | ${f.tex_any(fwd.y_hat[i])}$ | "
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
                f"\\dfrac{{\\partial^+ h_k}}{{\\partial W}}$ with $\\dfrac{{\\partial h_j}}{{\\partial h_{{j-1}}}} = {jac}$; "
                "term $k$ is $\\dfrac{\\partial E_t}{\\partial a_k} h_{k-1}^\\top$ (for $U$: $x_k^\\top$), "
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
            for t in _shown_rows(T, self.full):
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
                parts = " + ".join(f.ptex(np.ravel(getattr(r, attr[name]))[0]) for r in result.per_step)
                L.append(f"- $\\dfrac{{dE}}{{d{name}}} = \\sum_t \\dfrac{{\\partial E_t}}{{\\partial {name}}} = {parts} = {f.tex_any(grad)}$")
            else:
                L.append(f"- $\\dfrac{{dE}}{{d{name}}} = {f.tex_any(grad)}$")
        L.append("")

        if result.vanishing is not None:
            van = result.vanishing
            L.append("### Why long-range terms vanish")
            L.append("")
            L.append(
                "Each step back multiplies by $\\partial h_j/\\partial h_{j-1} = \\mathrm{diag}(1-h_j^2)\\,W$, so "
                "$\\lVert \\partial h_t/\\partial h_k\\rVert \\le (\\sigma_{\\max}(W)\\cdot\\max(1-h^2))^{t-k}"
                f" = ({f.tex(van.sigma_max_W)}\\cdot {f.tex(van.max_slope)})^{{t-k}} = {f.tex(van.bound)}^{{t-k}}$."
            )
            L.append("")
            if van.bound < 1:
                L.append(
                    f"The bound is below 1: every term shrinks at least geometrically, and bound$^d < {van.threshold:g}$ "
                    f"from $d = {van.bound_distance}$."
                )
            else:
                L.append("The bound is at least 1: it allows growth, so the gradient may explode.")
            L.append("")
            L.append(f"| $d = t-k$ | $\\lVert \\partial h_{{T}}/\\partial h_{{T-d}}\\rVert$ ($T = {T}$) | bound$^d$ |")
            L.append("|---:|---:|---:|")
            for d, norm in self._decay_rows(result):
                L.append(f"| {d} | ${f.tex(norm)}$ | ${f.tex(_power(van.bound, d))}$ |")
            L.append("")
            L.append(self._below_sentence(result).replace("‖", "$\\lVert$"))
            L.append("")

        if result.gradient_check is not None:
            check = result.gradient_check
            L.append("### Gradient check")
            L.append("")
            L.append("Central differences $(E(\\theta+\\varepsilon) - E(\\theta-\\varepsilon))/2\\varepsilon$"
                     + (" on the truncated loss" if check.truncated else "") + ".")
            L.append("")
            L.append("| $\\theta$ | entries | max abs. error | relative error |")
            L.append("|---|---:|---:|---:|")
            for name in check.per_param:
                L.append(
                    f"| ${name}$ | {check.entries_checked[name]}/{check.entries[name]} | "
                    f"{check.max_abs_error[name]:.2e} | {check.per_param[name]:.2e} |"
                )
            L.append("")
            L.append(f"**max relative error = {check.max_rel_error:.2e}**")
            L.append("")
        return "\n".join(L)

    def _step_markdown(self, result: BpttResult, row: StepGradient, f: Fmt) -> list[str]:
        model, fwd = result.model, result.forward
        scalar = model.is_scalar
        t, i = row.t, row.t - 1
        err = fwd.output_error[i]
        g = err @ model.V
        L = [f"#### $t = {t}$", ""]
        if model.loss == "half-sse":
            L.append(
                f"- $\\partial E_{{{t}}}/\\partial \\hat y_{{{t}}} = \\hat y_{{{t}}} - y_{{{t}}} = {f.tex_any(err)}$"
            )
        else:
            cls = int(fwd.y[i])
            slope = f.tex(-1.0 / fwd.y_hat[i, cls]) if fwd.y_hat[i, cls] > 0 else "-\\infty"
            L.append(
                f"- $\\partial E_{{{t}}}/\\partial \\hat y_{{{t}}}[{cls}] = -1/\\hat y_{{{t}}}[{cls}] = {slope}$, "
                f"$\\partial E_{{{t}}}/\\partial z_{{{t}}} = \\hat y_{{{t}}} - \\mathrm{{onehot}}(y_{{{t}}}) = {f.tex_any(err)}$"
            )
        L.append(f"- $\\partial E_{{{t}}}/\\partial h_{{{t}}} = V^\\top(\\hat y_{{{t}}} - y_{{{t}}}) = {f.tex_any(g)}$")
        L.append("")
        b_col = ""
        L.append(
            f"| $k$ | $\\partial h_{{{t}}}/\\partial h_k$ | norm | $\\partial E_{{{t}}}/\\partial a_k$ | "
            f"term of $\\partial E_{{{t}}}/\\partial W$ | term of $\\partial E_{{{t}}}/\\partial U$ |{b_col}"
        )
        L.append("|---:|---:|---:|---:|---:|---:|")
        for term in reversed(row.terms or ()):
            L.append(
                f"| {term.k} | ${_chain_tex(t, term.k, scalar)}"
                + (f" = {f.tex_any(term.jacobian)}$ |" if term.k < t else "$ |")
                + f" ${f.tex(term.jacobian_norm)}$ | "
                f"${f.tex_any(term.signal)}$ | ${f.tex_any(term.dW)}$ | ${f.tex_any(term.dU)}$ |"
            )
        L.append(f"| $\\Sigma$ | | | | ${f.tex_any(row.dW)}$ | ${f.tex_any(row.dU)}$ |")
        L.append("")
        if scalar and model.loss == "half-sse":
            for param in ["W", "U"] + (["b"] if model.b is not None else []):
                step = result.nested(t, param, num=f.n, num_given=f.inp)
                L.append(f"- ${_tex_nested(step.formula)}$")
                L.append(f"  $= {_tex_nested(step.substituted)} = {f.tex(step.value)}$")
        if model.b is not None:
            L.append(f"- $\\partial E_{{{t}}}/\\partial b = \\sum_k \\partial E_{{{t}}}/\\partial a_k = {f.tex_any(row.db)}$")
        L.append(f"- $\\partial E_{{{t}}}/\\partial V = (\\hat y_{{{t}}} - y_{{{t}}})\\,h_{{{t}}}^\\top = {f.tex_any(row.dV)}$")
        if model.c is not None:
            L.append(f"- $\\partial E_{{{t}}}/\\partial c = \\hat y_{{{t}}} - y_{{{t}}} = {f.tex_any(row.dc)}$")
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
        ax.set_xlabel("t − k")
        ax.set_ylabel("‖∂h_t/∂h_k‖ (spectral norm)")
        ax.set_title(
            f"Jacobian norm against distance: σ_max(W)·max(1 − h²) = {van.bound:.3g}"
            + (" (vanishing)" if van.bound < 1 else "")
        )
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(loc="best", fontsize="small")


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
        return _clean(value.tolist()) if value.ndim else _clean(float(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value + 0.0 if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def _tex_nested(text: str) -> str:
    """The nested form's plain-text notation as LaTeX."""
    import re

    subs = str.maketrans("₀₁₂₃₄₅₆₇₈₉₋", "0123456789-")
    text = re.sub(r"([hxyEŷ])([₀₁₂₃₄₅₆₇₈₉]+)", lambda m: f"{m.group(1)}_{{{m.group(2).translate(subs)}}}", text)
    text = text.replace("ŷ_", "\\hat y_").replace("ŷ", "\\hat y")
    text = re.sub(r"∂E_\{(\d+)\}/∂(\w)", r"\\dfrac{\\partial E_{\1}}{\\partial \2}", text)
    return (
        text.replace("·", "\\cdot ").replace("−", "-").replace("²", "^2").replace("[", "\\big[").replace("]", "\\big]")
    )
