"""Softmax focal loss (``dlv focal --classes K``) as a worked solution, JSON and Markdown.

The derivation is built once as a list of blocks (headings, :class:`dlvcli.core.expr.Line`
objects, sentences, tables); the text and the Markdown printers walk the same blocks, so
the two carry the same steps and the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dlvcli.core.expr import Add, Div, Expr, Group, Line, Mul, Neg, Num, Pow, Sym, exp, fmax, juxtapose, ln
from dlvcli.core.focal_softmax import SoftmaxFocalResult, SoftmaxFocalRow, SoftmaxPrediction
from dlvcli.render.numbers import NumberStyle, full_precision, needs_scientific
from dlvcli.render.output import OutputSettings
from dlvcli.render.tables import FitTable

# predictions whose full derivation is printed (the JSON has them all)
MAX_DERIVATIONS = 20
TITLE = "Softmax focal loss"
CITATION = "(Lin et al., ICCV 2017)"

P_T = Sym("p_t")
ALPHA_T = Sym("α_t", r"\alpha_t")
GAMMA = Sym("γ", r"\gamma")
A = Sym("A")
ONE_MINUS_P_T = 1 - P_T


def _z(j) -> Sym:
    return Sym(f"z_{j}", f"z_{{{j}}}")


def _p(j) -> Sym:
    return Sym(f"p_{j}", f"p_{{{j}}}")


def _dz(j) -> Sym:
    return Sym(f"∂FL/∂z_{j}", rf"\frac{{\partial FL}}{{\partial z_{{{j}}}}}")


# --------------------------------------------------------------------------- blocks


@dataclass(frozen=True)
class Heading:
    text: str
    latex: str = ""  # the Markdown form when it has math
    level: int = 3


@dataclass(frozen=True)
class Sentence:
    text: str
    latex: str = ""  # Markdown form (with $…$) when it differs
    formula: bool = False  # text broken at operators (not between words) when too wide


@dataclass(frozen=True)
class Step:
    line: Line
    indent: int = 2


@dataclass(frozen=True)
class TableBlock:
    title: str
    headers: tuple[str, ...]
    latex_headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    latex_rows: tuple[tuple[str, ...], ...]


def _vector(values, style: NumberStyle) -> str:
    return "(" + ", ".join(style.num(v) for v in values) + ")"


def _base(value: float) -> Expr:
    """A number raised to a power: bracketed when shown in scientific notation (``(1.2e−5)^2``)."""
    return Group(Num(value)) if needs_scientific(value) else Num(value)


def _prediction_lines(pred: SoftmaxPrediction, alpha) -> list:
    """The γ-independent steps: softmax (stably, with the largest logit shifted out), p_t, CE, 1 − p_t, α_t."""
    t = pred.target
    k = pred.classes
    out: list = []
    if pred.logits is not None:
        z = pred.logits
        m = Sym("m")
        out.append(Step(Line(m, Sym("max_k z_k", r"\max_k z_k"), fmax(*(Num(v) for v in z)), pred.shift)))
        for j in range(k):
            out.append(Step(Line(exp(_z(j) - m), None, exp(Num(z[j]) - Num(pred.shift)), pred.exp_shifted[j]), indent=4))
        out.append(
            Step(
                Line(
                    Sym("S"),
                    Sym("Σ_k exp(z_k − m)", r"\sum_k \exp(z_k - m)"),
                    Add(tuple(Num(e) for e in pred.exp_shifted)),
                    pred.sum_exp,
                )
            )
        )
        out.append(
            Step(Line(Sym("L"), Sym("ln Σ_k exp(z_k)", r"\ln \sum_k \exp(z_k)"), Num(pred.shift) + ln(Num(pred.sum_exp)), pred.logsumexp, note="(logsumexp)",
                      parts=(Sym("m") + ln(Sym("S")),)))
        )
        for j in range(k):
            out.append(Step(Line(_p(j), exp(_z(j) - m) / Sym("S"), Num(pred.exp_shifted[j]) / Num(pred.sum_exp), pred.p[j]), indent=4))
        out.append(Step(Line(ln(P_T), _z(t) - Sym("L"), Num(z[t]) - Num(pred.logsumexp), pred.log_p_t, note=f"(t = {t}; log-softmax)")))
        out.append(Step(Line(P_T, _p(t), None, pred.p_t)))
    else:
        given = pred.probs_given
        out.append(Step(Line(Sym("Σ_j p_j", r"\sum_j p_j"), None, Add(tuple(Num(v) for v in given)), sum(given))))
        out.append(Step(Line(P_T, _p(t), None, pred.p_t, note=f"(t = {t})")))
        out.append(Step(Line(ln(P_T), None, ln(Num(pred.p_t)), pred.log_p_t)))
    out.append(Step(Line(Sym("CE"), -ln(P_T), None, pred.ce)))
    if k == 2:
        other = 1 - t
        out.append(Step(Line(ONE_MINUS_P_T, _p(other), None, pred.one_minus_p_t, note="(the other class)")))
    else:
        others = [j for j in range(k) if j != t]
        out.append(
            Step(
                Line(
                    ONE_MINUS_P_T,
                    Sym("Σ_{j≠t} p_j", r"\sum_{j \neq t} p_j"),
                    Add(tuple(Num(pred.p[j]) for j in others)),
                    pred.one_minus_p_t,
                    
                )
            )
        )
    if alpha is None:
        out.append(Step(Line(ALPHA_T, None, None, 1, note="(no α)")))
    else:
        out.append(Step(Line(ALPHA_T, Sym(f"α_{t}", rf"\alpha_{{{t}}}"), None, pred.alpha_t)))
    return out


def _gamma_lines(row: SoftmaxFocalRow) -> list:
    pred = row.prediction
    t, k, g = pred.target, pred.classes, row.gamma
    om = pred.one_minus_p_t
    out: list = []
    mod = Pow(ONE_MINUS_P_T, GAMMA)
    out.append(Step(Line(mod, None, Pow(_base(om), Num(g)), row.modulating_factor, label="modulating factor"), indent=4))
    out.append(
        Step(
            Line(
                Sym("FL"),
                juxtapose(Neg(ALPHA_T), mod, ln(P_T)),
                Mul((Neg(Num(pred.alpha_t)), Num(row.modulating_factor), Num(pred.log_p_t))),
                row.fl,
            ),
            indent=4,
        )
    )
    # the numbers put into the formula itself, as the binary form does: 1 / (α_t · factor)
    ratio_numbers = Div(Num(1), Mul((Num(pred.alpha_t), Num(row.modulating_factor))))
    out.append(Step(Line(Div(Sym("CE"), Sym("FL")), Div(Num(1), juxtapose(ALPHA_T, mod)), ratio_numbers, row.ratio), indent=4))
    a_formula = juxtapose(ALPHA_T, Group(juxtapose(GAMMA, Pow(ONE_MINUS_P_T, GAMMA - 1), P_T, ln(P_T)) - mod))
    finite = row.a == row.a and abs(row.a) != float("inf")
    if finite:
        a_numbers = Mul(
            (
                Num(pred.alpha_t),
                Group(Add((Mul((Num(g), Pow(_base(om), Num(g - 1.0)), Num(pred.p_t), Num(pred.log_p_t))), Neg(Num(row.modulating_factor))))),
            )
        )
        out.append(Step(Line(A, a_formula, a_numbers, row.a), indent=4))
        for j in range(k):
            delta = 1 if j == t else 0
            out.append(
                Step(
                    Line(_dz(j), juxtapose(A, Group(Num(delta) - _p(j))), Mul((Num(row.a), Group(Num(delta) - Num(pred.p[j])))), row.dfl_dlogits[j]),
                    indent=6,
                )
            )
    else:
        # (1 − p_t)^(γ−1) overflows: the stable split ∂FL/∂z_j = −p_j/(1 − p_t) · ∂FL/∂z_t
        out.append(Step(Line(A, a_formula, None, row.a, note="(1 − p_t)^(γ − 1) overflows; the gradient is computed without it:"), indent=4))
        dzt = row.dfl_dlogits[t]
        out.append(
            Step(
                Line(
                    _dz(t),
                    juxtapose(ALPHA_T, mod, Group(juxtapose(GAMMA, P_T, ln(P_T)) - ONE_MINUS_P_T)),
                    Mul((Num(pred.alpha_t), Num(row.modulating_factor), Group(Add((Mul((Num(g), Num(pred.p_t), Num(pred.log_p_t))), Neg(Num(om))))))),
                    dzt,
                ),
                indent=6,
            )
        )
        for j in range(k):
            if j != t:
                out.append(Step(Line(_dz(j), Neg(Mul((Div(_p(j), ONE_MINUS_P_T), _dz(t)))), None, row.dfl_dlogits[j]), indent=6))
    return out


def _gamma_tables(pred_rows: tuple[SoftmaxFocalRow, ...], style: NumberStyle) -> list[TableBlock]:
    """Across γ: the losses, and the gradient (its own table, so that K columns fit)."""
    table = _gamma_table(pred_rows, style)
    scalars = slice(0, 5)
    grads = [0] + list(range(5, len(table.headers)))
    return [
        TableBlock(table.title, table.headers[scalars], table.latex_headers[scalars],
                   tuple(r[scalars] for r in table.rows), tuple(r[scalars] for r in table.latex_rows)),
        TableBlock("∂FL/∂z across γ", tuple(table.headers[i] for i in grads), tuple(table.latex_headers[i] for i in grads),
                   tuple(tuple(r[i] for i in grads) for r in table.rows), tuple(tuple(r[i] for i in grads) for r in table.latex_rows)),
    ]


def _gamma_table(pred_rows: tuple[SoftmaxFocalRow, ...], style: NumberStyle) -> TableBlock:
    k = pred_rows[0].prediction.classes
    latex_style = style.for_latex()
    columns = [
        [r.gamma for r in pred_rows],
        [r.modulating_factor for r in pred_rows],
        [r.ce for r in pred_rows],
        [r.fl for r in pred_rows],
        [r.ratio for r in pred_rows],
    ] + [[r.dfl_dlogits[j] for r in pred_rows] for j in range(k)]
    text_cols = [[style.num(v) for v in columns[0]]] + [style.column(c) for c in columns[1:]]
    latex_cols = [[latex_style.num(v) for v in columns[0]]] + [latex_style.column(c) for c in columns[1:]]
    headers = ("γ", "(1 − p_t)^γ", "CE", "FL", "CE / FL") + tuple(f"∂FL/∂z_{j}" for j in range(k))
    latex_headers = (r"$\gamma$", r"$(1 - p_t)^\gamma$", "CE", "FL", "CE / FL") + tuple(rf"$\partial FL / \partial z_{{{j}}}$" for j in range(k))
    rows = tuple(tuple(col[i] for col in text_cols) for i in range(len(pred_rows)))
    latex_rows = tuple(tuple(f"${col[i]}$" for col in latex_cols) for i in range(len(pred_rows)))
    return TableBlock(f"Across γ (p_t = {style.num(pred_rows[0].p_t)})", headers, latex_headers, rows, latex_rows)


def blocks(result: SoftmaxFocalResult, style: NumberStyle) -> list:
    """The whole worked solution as blocks, in order."""
    k = result.classes
    out: list = [
        Sentence(
            "p = softmax(z)   FL = −α_t (1 − p_t)^γ ln p_t   CE = −ln p_t",
            r"$p = \operatorname{softmax}(z)$, $\; FL = -\alpha_t (1 - p_t)^\gamma \ln p_t$, $\; CE = -\ln p_t$",
            formula=True,
        ),
        Sentence("∂FL/∂z_j = A (δ_tj − p_j)", r"$\frac{\partial FL}{\partial z_j} = A\,(\delta_{tj} - p_j)$, where", formula=True),
        Sentence(
            "A = α_t (γ (1 − p_t)^(γ − 1) p_t ln p_t − (1 − p_t)^γ)",
            r"$A = \alpha_t \left(\gamma (1 - p_t)^{\gamma - 1} p_t \ln p_t - (1 - p_t)^\gamma\right)$",
            formula=True,
        ),
        Sentence(
            "(chain rule: ∂p_t/∂z_j = p_t (δ_tj − p_j), and A = p_t ∂FL/∂p_t)",
            r"(chain rule: $\partial p_t / \partial z_j = p_t (\delta_{tj} - p_j)$, and $A = p_t\, \partial FL / \partial p_t$)",
        ),
    ]
    if result.alpha is not None:
        out.append(Sentence(f"α = {_vector(result.alpha, style)}: α_t = α[t], the weight of the target class.",
                            rf"$\alpha = {_vector(result.alpha, style.for_latex())}$: $\alpha_t = \alpha[t]$, the weight of the target class."))
    for i, pred in enumerate(result.predictions[:MAX_DERIVATIONS]):
        rows = result.rows_for(i)
        if pred.logits is not None:
            given, given_latex = f"z = {_vector(pred.logits, style)}", f"$z = {_vector(pred.logits, style.for_latex())}$"
        else:
            given, given_latex = f"p = {_vector(pred.probs_given, style)}", f"$p = {_vector(pred.probs_given, style.for_latex())}$"
        out.append(Heading(f"Prediction {i + 1}: {given}, target t = {pred.target}", f"Prediction {i + 1}: {given_latex}, target $t = {pred.target}$"))
        if pred.logits is None:
            out.append(Sentence("(∂FL/∂z: for logits z with softmax(z) = p, z = ln p + const)",
                                r"($\partial FL / \partial z$: for logits $z$ with $\operatorname{softmax}(z) = p$, $z = \ln p + \text{const}$)"))
        out += _prediction_lines(pred, result.alpha)
        for row in rows:
            out.append(Heading(f"γ = {style.num(row.gamma)}", f"$\\gamma = {style.for_latex().num(row.gamma)}$", level=4))
            out += _gamma_lines(row)
        out += _gamma_tables(rows, style)
        zero = next((r for r in rows if r.gamma == 0), None)
        if zero is not None and result.alpha is None:
            same = "identical to the last bit" if zero.fl == zero.ce else "NOT identical (a bug: please report it)"
            out.append(Sentence(f"γ = 0 without α is softmax cross-entropy: FL = {full_precision(zero.fl)} and CE = {full_precision(zero.ce)}, {same}; "
                                f"∂FL/∂z = p − onehot(t)."))
    if len(result.predictions) > MAX_DERIVATIONS:
        out.append(Sentence(f"(Derivations shown for the first {MAX_DERIVATIONS} of {len(result.predictions)} predictions; --json has all.)"))
    return out


# --------------------------------------------------------------------------- JSON


def to_json(result: SoftmaxFocalResult, settings: OutputSettings) -> dict:
    rows = []
    for index, row in enumerate(result.rows):
        pred = row.prediction
        rows.append(
            {
                "prediction": index // len(result.gammas) + 1,
                "p": list(pred.p),
                "p_t": row.p_t,
                "target": row.target,
                "gamma": row.gamma,
                "alpha": None if result.alpha is None else list(result.alpha),
                "alpha_t": row.alpha_t,
                "ce": row.ce,
                "fl": row.fl,
                "modulating_factor": row.modulating_factor,
                "ratio": row.ratio,
                "dfl_dlogits": list(row.dfl_dlogits),
            }
        )
    return {"classes": result.classes, "rows": rows}


# --------------------------------------------------------------------------- text


class _WrappedLine:
    """One derivation line, broken at operators to the console's width (never cut)."""

    def __init__(self, text: str, indent: int):
        self.text, self.indent = text, indent

    def __rich_console__(self, console, options):
        from rich.text import Text

        from dlvcli.render.expr import wrap

        for piece in wrap(self.text, max(20, options.max_width - self.indent), indent=4):
            yield Text(" " * self.indent + piece, overflow="fold")


def to_rich(result: SoftmaxFocalResult, settings: OutputSettings) -> list:
    from rich.rule import Rule
    from rich.text import Text

    from dlvcli.render.expr import text_line

    style = settings.style
    out: list = [Rule(Text(f"{TITLE}, K = {result.classes} classes {CITATION}", style="bold"), align="left")]
    for block in blocks(result, style):
        if isinstance(block, Heading):
            if block.level == 3:
                out.append(Text(""))
                out.append(Rule(Text(block.text), align="left", style="dim"))
            else:
                out.append(Text("  " + block.text, style="bold"))
        elif isinstance(block, Sentence):
            out.append(_WrappedLine(block.text, 0) if block.formula else Text(block.text))
        elif isinstance(block, Step):
            out.append(_WrappedLine(text_line(block.line, style), block.indent))
        elif isinstance(block, TableBlock):
            out.append(FitTable(block.headers, block.rows, title=block.title))
    return out


# --------------------------------------------------------------------------- Markdown


def to_markdown(result: SoftmaxFocalResult, settings: OutputSettings) -> str:
    from dlvcli.render.expr import latex_line

    style = settings.style
    md = [f"## {TITLE}, K = {result.classes} classes {CITATION}", ""]
    for block in blocks(result, style):
        if isinstance(block, Heading):
            md += ["", "#" * block.level + " " + (block.latex or block.text), ""]
        elif isinstance(block, Sentence):
            md += [block.latex or block.text, ""]
        elif isinstance(block, Step):
            note = f" {block.line.note}" if block.line.note else ""
            md.append("  " * max(0, block.indent // 2 - 1) + f"- ${latex_line(block.line, style)}${note}")
        elif isinstance(block, TableBlock):
            md += ["", f"**{block.title}**", ""]
            md.append("| " + " | ".join(block.latex_headers) + " |")
            md.append("|" + "---:|" * len(block.latex_headers))
            md += ["| " + " | ".join(row) + " |" for row in block.latex_rows]
            md.append("")
    return "\n".join(md)
