"""``focal`` results as a worked solution (rich, Markdown), as JSON, and as the paper's loss curves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dlvcli.core.focal import FocalResult, FocalRow, Prediction
from dlvcli.render.derivation import Derivation, Heading, table_column, markdown_items, markdown_table
from dlvcli.render.numbers import NumberStyle, fraction_text, full_precision
from dlvcli.render.output import OutputSettings
from dlvcli.render.tables import Column, FitTable

# predictions whose full derivation is printed (the table has them all)
MAX_DERIVATIONS = 20
TITLE = "Focal loss against cross-entropy"
DEFINITION = "FL(p_t) = −α_t (1 − p_t)^γ ln p_t,  CE(p_t) = −ln p_t  (Lin et al., ICCV 2017)"
DEFINITION_LATEX = r"$FL(p_t) = -\alpha_t (1 - p_t)^\gamma \ln p_t$, $\quad CE(p_t) = -\ln p_t$ (Lin et al., ICCV 2017)"


def _prediction_text(pred: Prediction, fmt: Callable[..., str]) -> str:
    given = f"p = {fmt(pred.p, pred.p_exact)}" if pred.logit is None else f"logit z = {fmt(pred.logit)}"
    return f"{given}, target {pred.target}"


# --------------------------------------------------------------------------- JSON


def to_json(result: FocalResult, settings: OutputSettings) -> dict:
    from dlvcli.render.jsonout import PlainRows

    rows = PlainRows()  # floats and ints only (the core converted them with .tolist())
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


GAMMA_HEADER = ["γ", "(1 − p_t)^γ", "CE", "FL", "CE / FL", "∂FL/∂z"]
GAMMA_HEADER_LATEX = ["$\\gamma$", "$(1 - p_t)^\\gamma$", "CE", "FL", "CE / FL", "$\\partial FL / \\partial z$"]


def _gamma_columns(rows: tuple[FocalRow, ...], style: NumberStyle) -> list[list[str]]:
    """The table across γ, one number rule per column (NumberStyle.column)."""
    columns = [
        [style.num(r.gamma) for r in rows],  # inputs, as given
        table_column(style, [r.modulating_factor for r in rows], [r.modulating_factor_exact for r in rows]),
        table_column(style, [r.ce for r in rows]),
        table_column(style, [r.fl for r in rows]),
        table_column(style, [r.ratio for r in rows]),
        table_column(style, [r.dfl_dlogit for r in rows]),
    ]
    return [list(cells) for cells in zip(*columns)]


def _ce_statement(rows: tuple[FocalRow, ...], style: NumberStyle) -> str | None:
    """What γ = 0 gives, shown with the numbers at full precision."""
    zero = next((r for r in rows if r.gamma == 0), None)
    if zero is None:
        return None
    if zero.alpha is None:
        same = "identical to the last bit" if zero.fl == zero.ce else "NOT identical (a bug: please report it)"
        return f"γ = 0 without α is cross-entropy: FL = {full_precision(zero.fl)} and CE = {full_precision(zero.ce)}, {same}."
    return (
        f"γ = 0 with α = {style.num(zero.alpha)} is α-balanced cross-entropy: FL = α_t · CE = "
        f"{style.num(zero.alpha_t)} · {style.num(zero.ce)} = {style.num(zero.fl)}."
    )


def _summary(result: FocalResult, style: NumberStyle) -> tuple[list[str], list[list[str]], list[int]]:
    header = ["#", "given", "p_t", *GAMMA_HEADER]
    rows, sections = [], []
    for i, pred in enumerate(result.predictions):
        block = result.rows_for(i)
        for j, cells in enumerate(_gamma_columns(block, style)):
            first = j == 0
            rows.append([str(i + 1) if first else "", _prediction_text(pred, style.num) if first else "",
                         style.num(block[0].p_t, block[0].p_t_exact) if first else "", *cells])
        sections.append(len(rows) - 1)
    return header, rows, sections


def _dataset_table(result: FocalResult, style: NumberStyle) -> tuple[list[str], list[list[str]]]:
    header = ["γ", "n", "mean CE", "mean FL", "easy share of CE", "easy share of FL"]
    d = result.dataset
    columns = [
        [style.num(x.gamma) for x in d],
        [str(x.n) for x in d],
        table_column(style, [x.ce_mean for x in d]),
        table_column(style, [x.fl_mean for x in d]),
        _percents([x.easy_share_ce for x in d], style),
        _percents([x.easy_share_fl for x in d], style),
    ]
    return header, [list(cells) for cells in zip(*columns)]


def _percents(shares, style: NumberStyle) -> list[str]:
    """Shares as percentages (≥ 3 significant digits, one rule for the column); — when undefined."""
    defined = [100 * s for s in shares if s == s]
    cells = iter(table_column(style, defined))
    return [f"{next(cells)}%" if s == s else "—" for s in shares]


def _dataset_sentence(result: FocalResult, style: NumberStyle) -> str | None:
    focused = [d for d in result.dataset if d.gamma > 0]
    if not focused or not result.dataset[0].n_easy:
        return None
    d = next((d for d in focused if d.gamma == 2), focused[-1])
    ce, fl = _percents([d.easy_share_ce, d.easy_share_fl], NumberStyle(1))
    (share,) = _percents([d.n_easy / d.n], NumberStyle(1))
    return (
        f"The {d.n_easy} easy examples ({share} of the data set) carry {ce} "
        f"of the cross-entropy but {fl} of the focal loss at γ = {style.num(d.gamma)}."
    )


def _dataset_renderables(result: FocalResult, style: NumberStyle) -> list:
    from rich.text import Text

    first = result.dataset[0]
    out: list = [
        Heading(f"Data set: {first.n} predictions, {first.n_easy} easy (p_t > 0.5)", bold=True),
        Text("Per γ: the mean CE and FL over the examples, and the share of each loss carried by the easy ones (p_t > 0.5)."),
    ]
    header, rows = _dataset_table(result, style)
    out.append(FitTable(header, rows))
    out.append(Text("Cross-entropy (the same for every γ)", style="bold"))
    out.append(Derivation(first.lines(fl=False), style))
    for d in result.dataset:
        out.append(Text(f"Focal loss, γ = {style.num(d.gamma)}", style="bold"))
        out.append(Derivation(d.lines(ce=False), style))
    sentence = _dataset_sentence(result, style)
    if sentence:
        out.append(Text(""))
        out.append(Text(sentence, style="bold"))
    out.append(Text("(Per-example rows: --json.)", style="dim"))
    return out


def to_rich(result: FocalResult, settings: OutputSettings) -> list:
    from rich.text import Text

    style = settings.style
    out: list = [Heading(f"{TITLE}", bold=True), Text(DEFINITION)]
    if result.alpha is not None:
        out.append(Text(f"α = {style.num(result.alpha)}: α_t = α for a positive (target 1), 1 − α for a negative (target 0)."))
    if result.dataset is not None:
        return out + [Text("")] + _dataset_renderables(result, style)
    for i, pred in enumerate(result.predictions[:MAX_DERIVATIONS]):
        rows = result.rows_for(i)
        out.append(Text(""))
        out.append(Heading(f"Prediction {i + 1}: {_prediction_text(pred, style.num)}", dim_rule=True))
        out.append(Derivation(rows[0].lines(gamma_terms=False), style))
        for row in rows:
            out.append(Text(f"  γ = {style.num(row.gamma)}", style="bold"))
            out.append(Derivation(row.lines(shared=False), style, indent=4))
        title = f"Across γ (p_t = {style.num(rows[0].p_t, rows[0].p_t_exact)})"
        out.append(FitTable(GAMMA_HEADER, _gamma_columns(rows, style), title=title))
        statement = _ce_statement(rows, style)
        if statement:
            out.append(Text(statement))
    if len(result.predictions) > MAX_DERIVATIONS:
        out.append(Text(f"(Derivations shown for the first {MAX_DERIVATIONS} of {len(result.predictions)} predictions.)"))
    if len(result.predictions) > 1:
        header, rows, sections = _summary(result, style)
        out.append(Text(""))
        columns = [Column(h, "left") if h == "given" else h for h in header]
        out.append(FitTable(columns, rows, title="All predictions", sections=sections))
    return out


# --------------------------------------------------------------------------- Markdown


def to_markdown(result: FocalResult, settings: OutputSettings) -> str:
    style = settings.style
    latex = style.for_latex()
    md = [f"## {TITLE}", "", DEFINITION_LATEX, ""]
    if result.alpha is not None:
        md += [f"$\\alpha = {latex.num(result.alpha)}$: $\\alpha_t = \\alpha$ for a positive (target 1), "
               "$1 - \\alpha$ for a negative (target 0).", ""]
    if result.dataset is not None:
        first = result.dataset[0]
        md += [f"### Data set: {first.n} predictions, {first.n_easy} easy ($p_t > 0.5$)", ""]
        header, rows = _dataset_table(result, style)
        md += markdown_table(["$\\gamma$", *header[1:]], rows)
        md += ["", "Cross-entropy (the same for every $\\gamma$):", ""]
        md += markdown_items(first.lines(fl=False), style)
        for d in result.dataset:
            md += ["", f"Focal loss, $\\gamma = {latex.num(d.gamma)}$:", ""]
            md += markdown_items(d.lines(ce=False), style)
        sentence = _dataset_sentence(result, style)
        if sentence:
            md += ["", f"**{sentence}**"]
        return "\n".join(md)
    for i, pred in enumerate(result.predictions[:MAX_DERIVATIONS]):
        rows = result.rows_for(i)
        md += [f"### Prediction {i + 1}: {_prediction_text(pred, style.num)}", ""]
        md += markdown_items(rows[0].lines(gamma_terms=False), style)
        for row in rows:
            md += ["", f"$\\gamma = {latex.num(row.gamma)}$:", ""]
            md += markdown_items(row.lines(shared=False), style)
        md += ["", f"Across $\\gamma$ ($p_t = {latex.num(rows[0].p_t, rows[0].p_t_exact)}$):", ""]
        md += markdown_table(GAMMA_HEADER_LATEX, _gamma_columns(rows, style))
        statement = _ce_statement(rows, style)
        if statement:
            md += ["", statement]
        md.append("")
    if len(result.predictions) > MAX_DERIVATIONS:
        md += [f"(Derivations shown for the first {MAX_DERIVATIONS} of {len(result.predictions)} predictions.)", ""]
    if len(result.predictions) > 1:
        header, rows, _ = _summary(result, style)
        md += ["### All predictions", ""]
        md += markdown_table(["#", "given", "$p_t$", *GAMMA_HEADER_LATEX], rows)
    return "\n".join(md)


# --------------------------------------------------------------------------- plot


def draw(result: FocalResult, figure) -> None:
    """Loss against p_t for each γ (the paper's figure 1), with the given predictions marked.

    Left: linear loss axis, as in the paper.  Right: the same curves on a log axis, where
    the well-classified end (p_t = 0.9: CE 0.105, FL at γ = 2 0.00105) is visible and the
    factor CE/FL is drawn as an arrow."""
    import numpy as np

    from dlvcli.core.focal import focal_terms

    ax, log_ax = figure.subplots(1, 2)
    p_t = np.linspace(0.001, 0.999, 999)
    target = result.predictions[0].target if result.predictions and result.dataset is None else 1
    terms = focal_terms(np.full(p_t.shape, target), p=p_t if target == 1 else 1 - p_t, gamma=result.gammas, alpha=result.alpha)
    colors = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:gray"]
    for j, g in enumerate(result.gammas):
        label = "γ = 0 (CE)" if g == 0 and result.alpha is None else f"γ = {g:g}"
        for axis in (ax, log_ax):
            axis.plot(p_t, terms["fl"][:, j], color=colors[j % len(colors)], label=label)
    if result.dataset is None:
        for row_index, row in enumerate(result.rows):
            j = row_index % len(result.gammas)
            for axis in (ax, log_ax):
                if row.fl > 0 or axis is ax:
                    axis.plot([row.p_t], [row.fl], "o", color=colors[j % len(colors)], markersize=5)
        # the paper's point: at one prediction, how far FL lies below CE (log axis: a vertical arrow)
        rows = result.rows_for(0) if result.predictions else ()
        low = max((r for r in rows if r.gamma > 0 and r.fl > 0), key=lambda r: r.gamma if r.gamma <= 2 else -r.gamma, default=None)
        ce_row = rows[0] if rows else None
        if low is not None and ce_row is not None and low.ratio > 1.5:
            ce_value = low.ce * low.alpha_t if result.alpha is not None else low.ce
            log_ax.annotate("", xy=(low.p_t, low.fl), xytext=(low.p_t, ce_value),
                            arrowprops={"arrowstyle": "->", "color": "black", "lw": 1.2})
            # the label sits in the empty lower left, joined to the arrow by a thin line: beside
            # the arrow it lay across the curves of the γ values in between
            log_ax.annotate(f"CE/FL = {low.ratio:.3g}×\n(γ = {low.gamma:g}, p_t = {low.p_t:.3g})",
                            xy=(low.p_t, (low.fl * ce_value) ** 0.5), xytext=(0.3, 0.3), textcoords="axes fraction",
                            ha="center", va="center", fontsize=8,
                            arrowprops={"arrowstyle": "-", "color": "0.5", "lw": 0.6})
            if result.alpha is not None:
                log_ax.text(0.02, 0.02, "arrow from α_t·CE", transform=log_ax.transAxes, fontsize=7, color="dimgray")
    else:
        values = np.array([result.rows[i * len(result.gammas)].p_t for i in range(len(result.predictions))])
        ax.plot(values, np.zeros_like(values), "|", color="black", alpha=0.3, markersize=10, label="data set p_t")
    for axis in (ax, log_ax):
        axis.axvspan(0.5, 1.0, color="gray", alpha=0.08)
        axis.set_xlim(0, 1)
        axis.set_xlabel("probability of the ground-truth class p_t")
        axis.grid(alpha=0.3)
    ax.text(0.75, 4.8, "well-classified\n(p_t > 0.5)", ha="center", va="top", fontsize=8, color="dimgray")
    ax.set_ylim(0, 5)
    ax.set_ylabel("loss")
    ax.set_title("linear scale (as in the paper)", fontsize=10)
    log_ax.set_yscale("log")
    positive = terms["fl"][terms["fl"] > 0]
    floor = max(float(positive.min()) if positive.size else 1e-6, 1e-8)
    log_ax.set_ylim(floor, 10)
    log_ax.set_ylabel("loss (log scale)")
    log_ax.set_title("log scale: the easy end", fontsize=10)
    weight = "" if result.alpha is None else f", α_t = {terms['alpha_t'][0]:g}"
    figure.suptitle(f"FL = −α_t (1 − p_t)^γ ln p_t{weight}")
    ax.legend(loc="upper right", bbox_to_anchor=(1.0, 0.85), fontsize=8)
