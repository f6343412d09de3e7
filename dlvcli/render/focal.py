"""``focal`` results as a worked solution (rich, Markdown), as JSON, and as the paper's loss curves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dlvcli.core.focal import FocalResult, FocalRow, Prediction
from dlvcli.render.box_compare import derivation_grid, markdown_steps, number_formatter
from dlvcli.render.numbers import fraction_text
from dlvcli.render.output import OutputSettings

# predictions whose full derivation is printed (the table has them all)
MAX_DERIVATIONS = 20
TITLE = "Focal loss against cross-entropy"
DEFINITION = "FL(p_t) = −α_t (1 − p_t)^γ ln p_t        CE(p_t) = −ln p_t        (Lin et al., ICCV 2017)"
DEFINITION_LATEX = r"$FL(p_t) = -\alpha_t (1 - p_t)^\gamma \ln p_t$, $\quad CE(p_t) = -\ln p_t$ (Lin et al., ICCV 2017)"


def _prediction_text(pred: Prediction, fmt: Callable[..., str]) -> str:
    given = f"p = {fmt(pred.p, pred.p_exact)}" if pred.logit is None else f"logit z = {fmt(pred.logit)}"
    return f"{given}, target {pred.target}"


# --------------------------------------------------------------------------- JSON


def to_json(result: FocalResult, settings: OutputSettings) -> dict:
    rows = []
    for row in result.rows:
        entry: dict[str, Any] = {
            "p_t": row.p_t,
            "target": row.target,
            "gamma": row.gamma,
            "alpha": row.alpha,
            "alpha_t": row.alpha_t,
            "ce": row.ce,
            "fl": row.fl,
            "modulating_factor": row.modulating_factor,
            "ratio": row.ratio,
            "dfl_dlogit": row.dfl_dlogit,
        }
        if settings.exact:
            for key in ("p_t", "alpha_t", "modulating_factor"):
                value = getattr(row, f"{key}_exact")
                entry[f"{key}_exact"] = None if value is None else fraction_text(value)
        rows.append(entry)
    body: dict[str, Any] = {"rows": rows}
    if result.dataset is not None:
        body["dataset"] = [
            {
                "gamma": d.gamma,
                "n": d.n,
                "ce_mean": d.ce_mean,
                "fl_mean": d.fl_mean,
                "easy_share_ce": d.easy_share_ce,
                "easy_share_fl": d.easy_share_fl,
            }
            for d in result.dataset
        ]
    return body


# --------------------------------------------------------------------------- text


def _gamma_table_rows(rows: tuple[FocalRow, ...], fmt: Callable[..., str]) -> list[list[str]]:
    return [
        [fmt(r.gamma), fmt(r.modulating_factor, r.modulating_factor_exact), fmt(r.ce), fmt(r.fl), fmt(r.ratio), fmt(r.dfl_dlogit)]
        for r in rows
    ]


GAMMA_HEADER = ["γ", "(1 − p_t)^γ", "CE", "FL", "CE / FL", "∂FL/∂z"]


def _ce_statement(rows: tuple[FocalRow, ...], fmt: Callable[..., str]) -> str | None:
    """What γ = 0 gives, shown with the numbers at full precision."""
    zero = next((r for r in rows if r.gamma == 0), None)
    if zero is None:
        return None
    if zero.alpha is None:
        same = "identical to the last bit" if zero.fl == zero.ce else "NOT identical (a bug: please report it)"
        return f"γ = 0 without α is cross-entropy: FL = {zero.fl!r} and CE = {zero.ce!r}, {same}."
    return (
        f"γ = 0 with α = {fmt(zero.alpha)} is α-balanced cross-entropy: FL = α_t · CE = "
        f"{fmt(zero.alpha_t)} · {fmt(zero.ce)} = {fmt(zero.fl)}."
    )


def _summary_table(result: FocalResult, fmt: Callable[..., str]):
    from rich.table import Table

    table = Table(title="All predictions", title_justify="left", header_style="bold")
    for name in ["#", "given", "p_t", *GAMMA_HEADER]:
        table.add_column(name, justify="left" if name == "given" else "right")
    for i, pred in enumerate(result.predictions):
        for j, row in enumerate(result.rows_for(i)):
            first = j == 0
            cells = [str(i + 1) if first else "", _prediction_text(pred, fmt) if first else "", fmt(row.p_t, row.p_t_exact) if first else ""]
            table.add_row(*cells, *_gamma_table_rows((row,), fmt)[0], end_section=j == len(result.gammas) - 1)
    return table


def _dataset_renderables(result: FocalResult, fmt: Callable[..., str]) -> list:
    from rich.rule import Rule
    from rich.table import Table
    from rich.text import Text

    first = result.dataset[0]
    out: list = [
        Rule(Text(f"Data set: {first.n} predictions, {first.n_easy} easy (p_t > 0.5)", style="bold"), align="left"),
        Text("Per γ: the mean CE and FL over the examples, and the share of each loss carried by the easy ones (p_t > 0.5)."),
    ]
    table = Table(header_style="bold")
    for name in ("γ", "n", "mean CE", "mean FL", "easy share of CE", "easy share of FL"):
        table.add_column(name, justify="right")
    for d in result.dataset:
        table.add_row(fmt(d.gamma), str(d.n), fmt(d.ce_mean), fmt(d.fl_mean), _percent(d.easy_share_ce), _percent(d.easy_share_fl))
    out.append(table)
    out.append(Text("Cross-entropy (the same for every γ)", style="bold"))
    out.append(derivation_grid(first.steps(fmt, fl=False), fmt))
    for d in result.dataset:
        out.append(Text(f"Focal loss, γ = {fmt(d.gamma)}", style="bold"))
        out.append(derivation_grid(d.steps(fmt, ce=False), fmt))
    sentence = _dataset_sentence(result, fmt)
    if sentence:
        out.append(Text(""))
        out.append(Text(sentence, style="bold"))
    out.append(Text("(Per-example rows: --json.)", style="dim"))
    return out


def _percent(share: float) -> str:
    return "—" if share != share else f"{100 * share:.1f}%"


def _dataset_sentence(result: FocalResult, fmt: Callable[..., str]) -> str | None:
    focused = [d for d in result.dataset if d.gamma > 0]
    if not focused or not result.dataset[0].n_easy:
        return None
    d = next((d for d in focused if d.gamma == 2), focused[-1])
    return (
        f"The {d.n_easy} easy examples ({_percent(d.n_easy / d.n)} of the data set) carry {_percent(d.easy_share_ce)} "
        f"of the cross-entropy but {_percent(d.easy_share_fl)} of the focal loss at γ = {fmt(d.gamma)}."
    )


def to_rich(result: FocalResult, settings: OutputSettings) -> list:
    from rich.rule import Rule
    from rich.table import Table
    from rich.text import Text

    fmt = number_formatter(settings.style)
    out: list = [Rule(Text(f"{TITLE}", style="bold"), align="left"), Text(DEFINITION)]
    if result.alpha is not None:
        out.append(Text(f"α = {fmt(result.alpha)}: α_t = α for a positive (target 1), 1 − α for a negative (target 0)."))
    if result.dataset is not None:
        return out + [Text("")] + _dataset_renderables(result, fmt)
    for i, pred in enumerate(result.predictions[:MAX_DERIVATIONS]):
        rows = result.rows_for(i)
        out.append(Text(""))
        out.append(Rule(Text(f"Prediction {i + 1}: {_prediction_text(pred, fmt)}"), align="left", style="dim"))
        out.append(derivation_grid(rows[0].steps(fmt, gamma_terms=False), fmt))
        for row in rows:
            out.append(Text(f"  γ = {fmt(row.gamma)}", style="bold"))
            out.append(derivation_grid(row.steps(fmt, shared=False), fmt, indent=4))
        table = Table(title=f"Across γ (p_t = {fmt(rows[0].p_t, rows[0].p_t_exact)})", title_justify="left", header_style="bold")
        for name in GAMMA_HEADER:
            table.add_column(name, justify="right")
        for cells in _gamma_table_rows(rows, fmt):
            table.add_row(*cells)
        out.append(table)
        statement = _ce_statement(rows, fmt)
        if statement:
            out.append(Text(statement))
    if len(result.predictions) > MAX_DERIVATIONS:
        out.append(Text(f"(Derivations shown for the first {MAX_DERIVATIONS} of {len(result.predictions)} predictions.)"))
    if len(result.predictions) > 1:
        out.append(Text(""))
        out.append(_summary_table(result, fmt))
    return out


# --------------------------------------------------------------------------- Markdown


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---:|" * len(header)] + ["| " + " | ".join(r) + " |" for r in rows]


def to_markdown(result: FocalResult, settings: OutputSettings) -> str:
    fmt = number_formatter(settings.style)
    fmt_latex = number_formatter(settings.style, latex=True)
    md = [f"## {TITLE}", "", DEFINITION_LATEX, ""]
    header = ["$\\gamma$", "$(1 - p_t)^\\gamma$", "CE", "FL", "CE / FL", "$\\partial FL / \\partial z$"]
    if result.dataset is not None:
        first = result.dataset[0]
        md += [f"### Data set: {first.n} predictions, {first.n_easy} easy ($p_t > 0.5$)", ""]
        md += _md_table(
            ["$\\gamma$", "n", "mean CE", "mean FL", "easy share of CE", "easy share of FL"],
            [[fmt(d.gamma), str(d.n), fmt(d.ce_mean), fmt(d.fl_mean), _percent(d.easy_share_ce), _percent(d.easy_share_fl)] for d in result.dataset],
        )
        md += ["", "Cross-entropy (the same for every $\\gamma$):", ""]
        md += markdown_steps(first.steps(fmt_latex, latex=True, fl=False), fmt_latex)
        for d in result.dataset:
            md += ["", f"Focal loss, $\\gamma = {fmt_latex(d.gamma)}$:", ""]
            md += markdown_steps(d.steps(fmt_latex, latex=True, ce=False), fmt_latex)
        sentence = _dataset_sentence(result, fmt)
        if sentence:
            md += ["", f"**{sentence}**"]
        return "\n".join(md)
    for i, pred in enumerate(result.predictions[:MAX_DERIVATIONS]):
        rows = result.rows_for(i)
        md += [f"### Prediction {i + 1}: {_prediction_text(pred, fmt)}", ""]
        md += markdown_steps(rows[0].steps(fmt_latex, latex=True, gamma_terms=False), fmt_latex)
        for row in rows:
            md += ["", f"$\\gamma = {fmt_latex(row.gamma)}$:", ""]
            md += markdown_steps(row.steps(fmt_latex, latex=True, shared=False), fmt_latex)
        md.append("")
        md += _md_table(header, _gamma_table_rows(rows, fmt))
        statement = _ce_statement(rows, fmt)
        if statement:
            md += ["", statement]
        md.append("")
    return "\n".join(md)


# --------------------------------------------------------------------------- plot


def draw(result: FocalResult, figure) -> None:
    """Loss against p_t for each γ (the paper's figure 1), with the given predictions marked."""
    import numpy as np

    from dlvcli.core.focal import focal_terms

    ax = figure.add_subplot(1, 1, 1)
    p_t = np.linspace(0.001, 0.999, 999)
    target = result.predictions[0].target if result.predictions and result.dataset is None else 1
    terms = focal_terms(np.full(p_t.shape, target), p=p_t if target == 1 else 1 - p_t, gamma=result.gammas, alpha=result.alpha)
    colors = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:gray"]
    for j, g in enumerate(result.gammas):
        label = "γ = 0 (CE)" if g == 0 and result.alpha is None else f"γ = {g:g}"
        ax.plot(p_t, terms["fl"][:, j], color=colors[j % len(colors)], label=label)
    if result.dataset is None:
        for row_index, row in enumerate(result.rows):
            j = row_index % len(result.gammas)
            ax.plot([row.p_t], [row.fl], "o", color=colors[j % len(colors)], markersize=5)
    else:
        values = np.array([result.rows[i * len(result.gammas)].p_t for i in range(len(result.predictions))])
        ax.plot(values, np.zeros_like(values), "|", color="black", alpha=0.3, markersize=10, label="data set p_t")
    ax.axvspan(0.5, 1.0, color="gray", alpha=0.08)
    ax.text(0.75, 4.8, "well-classified examples (p_t > 0.5)", ha="center", va="top", fontsize=8, color="dimgray")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 5)
    ax.set_xlabel("probability of the ground-truth class p_t")
    weight = "" if result.alpha is None else f", α_t = {terms['alpha_t'][0]:g}"
    ax.set_ylabel("loss")
    ax.set_title(f"FL = −α_t (1 − p_t)^γ ln p_t{weight}")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", bbox_to_anchor=(1.0, 0.9), fontsize=9)
