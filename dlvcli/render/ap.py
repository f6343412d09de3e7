"""``interp-ap`` results as a worked solution (rich, Markdown), as JSON, and as a PR plot."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from itertools import groupby

from dlvcli.core.ap import APResult, ClassAP, InterpolatedPoint
from dlvcli.core.expr import Div, Expr, Group, Line, Mul, Num, Sym
from dlvcli.core.expr import Add as Sum
from dlvcli.render.derivation import Prose, formula_pieces
from dlvcli.render.expr import LatexPrinter, TextPrinter, line_parts, wrap
from dlvcli.render.numbers import MINUS, NumberStyle, fraction_text, latex_fraction
from dlvcli.render.jsonout import PlainRows
from dlvcli.render.output import OutputSettings
from dlvcli.render.tables import LONG_TABLE, Column, column_texts, fitted_table, heading, left_out_note, shown_rows

METHOD_TITLES = {
    "11point": "11-point interpolated AP (PASCAL VOC 2007)",
    "101point": "101-point interpolated AP (COCO)",
    "allpoint": "all-point interpolated AP: area under the precision envelope (VOC 2010+)",
}


def _class_label(c: ClassAP) -> str:
    return "all detections" if c.name is None else f"class {c.name}"


def _level_text(level: float) -> str:
    """Recall levels are exact tenths or hundredths: 0, 0.1, 0.25, 1 (never 1/5, never 0.0)."""
    return NumberStyle(digits=2).num(round(float(level), 2))


def _exact_or_none(cond: bool, value: Fraction | None):
    return str(value) if cond and value is not None else None


@dataclass(frozen=True)
class ApView:
    """Renders an :class:`APResult`; ``summary`` leaves out the per-detection rows,
    ``full`` prints every row of a long table (else the first and last rows)."""

    summary: bool = False
    full: bool = False

    # ---------------------------------------------------------------- JSON
    def to_json(self, result: APResult, settings: OutputSettings) -> dict:
        exact = settings.exact
        classes = []
        for c in result.classes:
            entry: dict = {
                "class": c.name,
                "num_gt": c.num_gt,
                "num_detections": c.num_detections,
                "ap": c.ap,
            }
            if result.mode == "boxes":
                entry["num_ignored"] = c.num_ignored
            if exact:
                entry["ap_exact"] = _exact_or_none(True, c.ap_exact)
            if c.ap_per_iou is not None:
                entry["ap_per_iou"] = [
                    {"iou": t, "ap": ap} for t, ap in zip(result.iou_thresholds, c.ap_per_iou)
                ]
            if not self.summary:
                entry["ranked"] = PlainRows(self._ranked_rows(c, result, exact))
            entry["interpolated"] = PlainRows(self._point(p, exact) for p in c.points)
            classes.append(entry)
        body = {
            "mode": result.mode,
            "method": result.method,
            "iou_thresholds": list(result.iou_thresholds) if result.mode != "ranked" else None,
            "map": result.map,
        }
        if exact:
            body["map_exact"] = _exact_or_none(True, result.map_exact)
        body["classes"] = classes
        if result.compare:
            body["compare"] = [
                {"method": r.method, "plus_one": r.plus_one, "ties": r.ties, "ap": r.ap, "tool": r.tool} for r in result.compare
            ]
        return body

    @staticmethod
    def _point(p: InterpolatedPoint, exact: bool) -> dict:
        point = {"recall": p.recall, "precision": p.precision, "rank": p.rank}
        if exact:
            point["recall_exact"] = fraction_text(p.recall_exact)
            point["precision_exact"] = fraction_text(p.precision_exact)
        return point

    @staticmethod
    def _ranked_rows(c: ClassAP, result: APResult, exact: bool) -> list[dict]:
        t = c.table
        rows = []
        for i in range(len(t)):
            row = {
                "rank": i + 1,
                "score": None if t.score is None else float(t.score[i]),
                "tp": int(t.tp[i]),
                "cum_tp": int(t.cum_tp[i]),
                "cum_fp": int(t.cum_fp[i]),
                "precision": float(t.precision[i]),
                "recall": None if c.num_gt == 0 else float(t.recall[i]),
            }
            if exact:
                row["precision_exact"] = fraction_text(Fraction(int(t.cum_tp[i]), i + 1))
                row["recall_exact"] = None if c.num_gt == 0 else fraction_text(Fraction(int(t.cum_tp[i]), c.num_gt))
            if result.mode == "boxes":
                iou = float(t.iou[i])
                row["image"] = str(t.image[i])
                row["iou"] = None if iou != iou else iou
                row["matched_gt"] = None if t.matched_gt[i] < 0 else int(t.matched_gt[i])
            rows.append(row)
        return rows

    # ---------------------------------------------------------------- text
    def to_rich(self, result: APResult, settings: OutputSettings) -> list:
        from rich.rule import Rule
        from rich.text import Text

        from dlvcli.render.output import stdout_console

        style = settings.style
        width = stdout_console().width
        out: list = [heading(METHOD_TITLES[result.method], width)]
        for line in _definitions(result.method):
            out.append(Text("\n".join(wrap(line, width, indent=4))))
        if result.mode == "boxes":
            thr = ", ".join(f"{t:g}" for t in result.iou_thresholds)
            out.append(
                Text(
                    "Matching (PASCAL VOC): by descending score, each detection takes the ground-truth box of its image "
                    f"with the highest IoU; TP if IoU ≥ {thr} and the box is not taken, ignored if the box is difficult, "
                    "else FP." + (" Widths are x2 − x1 + 1 (--plus-one)." if result.plus_one else "")
                )
            )
        compact = self._compact(result)
        if compact:
            title, columns, rows = _class_table_cells(result, style, markdown=False)
            out.append(Text(""))
            out.append(fitted_table(title, columns, rows))
            out.append(Text(many_classes_note(len(result.classes)), style="dim"))
        for c in () if compact else result.classes:
            out.append(Text(""))
            out.append(Text.assemble((_class_label(c), "bold"), f"  num_gt = {c.num_gt}, detections = {c.num_detections}"))
            if c.num_ignored:
                out.append(Text(f"{c.num_ignored} detection(s) matched a difficult box: ignored, no rank."))
            if not self.summary and len(c.table):
                title, columns, rows, styles = _ranked_table_cells(c, result, style, self.full, markdown=False)
                out.append(fitted_table(title, columns, rows, row_styles=styles))
                if len(c.table) > LONG_TABLE and not self.full:
                    out.append(Text(left_out_note(len(c.table)), style="dim"))
            if c.ap is None:
                out.append(Text("No ground truth: recall is undefined, so AP is undefined (null) and left out of the mAP."))
                continue
            table = _points_table_cells(c, result.method, style, self.full, self.summary, markdown=False)
            if table is None:
                out.append(Text(NO_TRUE_POSITIVE))
            else:
                title, columns, rows, note = table
                out.append(fitted_table(title, columns, rows))
                if note:
                    out.append(Text(note, style="dim"))
            for line in _ap_lines(c, result, self.full):
                out.append(Text(_line_text(line, style, width)))
        if len(result.classes) > 1 or result.map is None:
            out.append(Text(""))
            line = _map_line(result, compact)
            if line is None:
                out.append(Text("mAP is undefined: no class has ground truth.", style="bold"))
            else:
                out.append(Text(_line_text(line, style, width), style="bold"))
                if compact:
                    out.append(Text(map_sum_note(result), style="dim"))
        if result.compare:
            out.append(Text(""))
            out += self._compare_section(result, style)
        return out

    def _compact(self, result: APResult) -> bool:
        """Many classes: one row each instead of a worked solution each (``--full`` for those)."""
        return len(result.classes) > MANY_CLASSES and not self.full

    @staticmethod
    def _compare_section(result: APResult, style: NumberStyle) -> list:
        """``--compare``: the table, who uses each method, and why each method row differs."""
        from rich.text import Text

        several = len(result.classes) > 1
        # fitted, not one rich Table: at 60 columns rich cut "101point-interp" to "101point-…"
        columns = [Column("method", "left"), Column("+1 pixel", "left"), Column("tied scores", "left"),
                   Column("mAP" if several else "AP"), Column("differs because", "left")]
        aps = style.column([row.ap for row in result.compare])  # one rule for the column: 0.5000 beside 0.4554
        rows = [[row.method, "yes" if row.plus_one else "no", row.ties, ap, ", ".join(row.differs_because)]
                for row, ap in zip(result.compare, aps)]
        table = fitted_table(
            "Why tools disagree: the same detections under each convention",  # a differing row says why (in colour: bold yellow)
            columns, rows,
            row_styles=["bold yellow" if row.differs_because else None for row in result.compare],
        )

        tools: dict[str, str] = {}
        for row in result.compare:
            tools.setdefault(row.method, row.tool)
        out: list = [table, Text("Who uses each method:", style="bold")]
        # each method's users on lines under its name's column
        column = 2 + max(len(m) for m in tools) + 2
        out += [Prose(*formula_pieces(t), indent=column, lead=f"  {m + ':':<{column - 2}}") for m, t in tools.items()]
        explained = [row for row in result.compare if row.explanation]
        if explained:
            out.append(Text(f"Why each method differs from {result.method} (no +1, file-order ties):", style="bold"))
            for row in explained:
                out.append(Text.assemble("  ", (row.method, "bold"), f" ({style.num(row.ap)}):"))
                # each bullet's lines under its text, broken only between formulas
                out += [Prose(*formula_pieces(line), indent=6, lead="    • ") for line in row.explanation]
        return out

    # ---------------------------------------------------------------- Markdown
    def to_markdown(self, result: APResult, settings: OutputSettings) -> str:
        style = settings.style
        md = [f"## {METHOD_TITLES[result.method]}", ""]
        md.append(r"$\text{precision} = \dfrac{\text{cumTP}}{\text{rank}}$, $\text{recall} = \dfrac{\text{cumTP}}{\text{num\_gt}}$")
        md.append("")
        if result.method == "allpoint":
            md.append(r"$AP = \sum_i (r_i - r_{i-1})\, p_{\text{interp}}(r_i)$ over the recalls $r_i$ where recall changes, $r_0 = 0$;")
        else:
            n = 11 if result.method == "11point" else 101
            step, second = ("0.1", "0.2") if n == 11 else ("0.01", "0.02")
            md.append(rf"$AP = \frac{{1}}{{{n}}} \sum_r p_{{\text{{interp}}}}(r)$ over the {n} levels $r = 0, {step}, {second}$ up to $1$;")
        md.append(r"$p_{\text{interp}}(r) = \max_{r' \ge r} p(r')$ (0 if no recall reaches $r$).")
        if result.mode == "boxes":
            thr = ", ".join(f"{t:g}" for t in result.iou_thresholds)
            md += ["", f"Matching (PASCAL VOC): TP if IoU ≥ {thr} with an untaken ground-truth box of the image, else FP."]
        compact = self._compact(result)
        if compact:
            title, columns, rows = _class_table_cells(result, style, markdown=True)
            md += [""] + _md_table(title, columns, rows) + [many_classes_note(len(result.classes))]
        for c in () if compact else result.classes:
            md += ["", f"### {_class_label(c).capitalize()} ($\\text{{num\\_gt}} = {c.num_gt}$, detections = {c.num_detections})", ""]
            if c.num_ignored:
                md += [f"{c.num_ignored} detection(s) matched a difficult box: ignored, no rank.", ""]
            if not self.summary and len(c.table):
                title, columns, rows, _ = _ranked_table_cells(c, result, style, self.full, markdown=True)
                md += _md_table(title, columns, rows)
                if len(c.table) > LONG_TABLE and not self.full:
                    md += [left_out_note(len(c.table)), ""]
            if c.ap is None:
                md.append("No ground truth: AP is undefined and left out of the mAP.")
                continue
            table = _points_table_cells(c, result.method, style, self.full, self.summary, markdown=True)
            if table is None:
                md += [NO_TRUE_POSITIVE, ""]
            else:
                title, columns, rows, note = table
                md += _md_table(title, columns, rows)
                if note:
                    md += [note, ""]
            for line in _ap_lines(c, result, self.full):
                md.append(f"$${_line_latex(line, style)}$$" + (f" {line.note}" if line.note else ""))
        if len(result.classes) > 1 or result.map is None:
            md.append("")
            line = _map_line(result, compact)
            md.append("mAP is undefined: no class has ground truth." if line is None else f"$${_line_latex(line, style)}$$")
            if compact and line is not None:
                md += ["", map_sum_note(result).replace("Σ_c AP_c", r"$\sum_c AP_c$")]
        if result.compare:
            md += self._compare_markdown(result, style)
        return "\n".join(md)

    @staticmethod
    def _compare_markdown(result: APResult, style: NumberStyle) -> list[str]:
        """``--compare`` in Markdown: the same table, tools and explanations as the text."""

        def cell(text: str) -> str:
            return text.replace("|", "\\|")

        md = ["", "### Conventions compared", "", "| method | +1 pixel | tied scores | AP | differs because | tool |", "|---|---|---|---:|---|---|"]
        aps = style.column([row.ap for row in result.compare])  # the text table's column rule
        for row, ap in zip(result.compare, aps):
            md.append(
                f"| {row.method} | {'yes' if row.plus_one else 'no'} | {row.ties} | {ap} | "
                f"{cell(', '.join(row.differs_because))} | {cell(row.tool)} |"
            )
        explained = [row for row in result.compare if row.explanation]
        if explained:
            md += ["", f"Why each method differs from {result.method} (no +1, file-order ties):", ""]
            for row in explained:
                md.append(f"* **{row.method}** ({style.num(row.ap)}):")
                md += [f"  * {line}" for line in row.explanation]
        return md

    # ---------------------------------------------------------------- plot
    def draw(self, result: APResult, figure) -> None:
        """Precision–recall curve, its interpolated envelope, and the sampled points, per class."""
        import numpy as np

        ax = figure.add_subplot(1, 1, 1)
        colors = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:gray"]
        for color, c in zip(colors * 100, [c for c in result.classes if c.ap is not None]):
            t = c.table
            label = "" if c.name is None else f"{c.name}: "
            if len(t):
                recall = np.concatenate([[0.0], t.recall])
                precision = np.concatenate([[t.precision[0]], t.precision])
                ax.plot(recall, precision, "o-", color=color, alpha=0.45, markersize=3, label=f"{label}precision p(r)")
                envelope = np.maximum.accumulate(t.precision[::-1])[::-1]
                # the envelope holds p_interp(0) = its first value from recall 0 on
                ax.step(np.concatenate([[0.0], t.recall]), np.concatenate([[envelope[0]], envelope]), where="pre",
                        color=color, linewidth=2, label=f"{label}envelope p_interp")
            if c.points:
                ax.plot([p.recall for p in c.points], [p.precision for p in c.points], "s", color=color, markersize=5,
                        markerfacecolor="none", label=f"{label}sampled points (AP = {c.ap:.4f})")
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.05)
        ax.set_xlabel("recall")
        ax.set_ylabel("precision")
        ax.set_title(METHOD_TITLES[result.method])
        ax.grid(alpha=0.3)
        ax.legend(loc="lower left", fontsize=8)


# ---------------------------------------------------------------- worked-solution pieces
# Text and Markdown both print from these: the same rows, the same expressions.

NO_TRUE_POSITIVE = "No detection is a true positive: recall never rises above 0, the envelope is empty, and AP = 0."


def _definitions(method: str) -> list[str]:
    lines = ["precision = cumTP / rank,   recall = cumTP / num_gt"]
    if method == "allpoint":
        lines.append("AP = Σᵢ (rᵢ − rᵢ₋₁) · p_interp(rᵢ) over the recalls rᵢ where recall changes, r₀ = 0")
    else:
        n, step, second = (11, "0.1", "0.2") if method == "11point" else (101, "0.01", "0.02")
        lines.append(f"AP = 1/{n} · Σ_r p_interp(r) over the {n} levels r = 0, {step}, {second} up to 1")
    lines.append("p_interp(r) = max_{r' ≥ r} p(r'), 0 if no recall reaches r")
    return lines


@dataclass(frozen=True)
class _TextPrinter(TextPrinter):
    """The text printer, with a ratio of two whole numbers written as a student does: ``4/7``."""

    def _print_Div(self, expr: Div) -> str:
        if all(isinstance(e, Num) and isinstance(e.value, int) and e.value >= 0 for e in (expr.num, expr.den)):
            return f"{expr.num.value}/{expr.den.value}"
        return super()._print_Div(expr)


def _ratio(numerator: int, denominator: int) -> Expr:
    return Div(Num(numerator), Num(denominator))


def _ratio_cell(expr: Expr, value_text: str, style: NumberStyle, markdown: bool, exact: Fraction | None = None) -> str:
    """``4 / 7 = 0.5714`` (text) or ``$\\frac{4}{7} = 0.5714$`` (Markdown); with --exact ``4/7``."""
    if style.exact:
        return f"${latex_fraction(exact)}$" if markdown else fraction_text(exact)
    if markdown:
        return f"${LatexPrinter(style)(expr)} = {value_text.replace(MINUS, '-')}$"
    return f"{_TextPrinter(style)(expr)} = {value_text}"


def _ranked_table_cells(c: ClassAP, result: APResult, style: NumberStyle, full: bool, markdown: bool):
    """(title, columns, rows, row styles) of the ranked detections; a long table keeps its ends."""
    t = c.table
    picked = shown_rows(len(t), full)
    index = [i for i in picked if i is not None]
    columns = [Column("rank")]
    if t.score is not None:
        columns.append(Column("score"))
    if result.mode == "boxes":
        columns += [Column("image", "left"), Column("IoU"), Column("GT row")]
    columns += [Column("TP/FP"), Column("cum TP"), Column("cum FP"), Column("precision"), Column("recall")]
    precision = dict(zip(index, column_texts([t.precision[i] for i in index], style)))
    recall = dict(zip(index, column_texts([t.recall[i] for i in index], style))) if c.num_gt else {}
    ious = {}
    if result.mode == "boxes":
        shown_iou = [i for i in index if t.iou[i] == t.iou[i]]
        ious = dict(zip(shown_iou, column_texts([t.iou[i] for i in shown_iou], style)))
    rows: list = []
    styles: list = []
    for i in picked:
        if i is None:
            rows.append(None)
            styles.append(None)
            continue
        cum_tp, rank = int(t.cum_tp[i]), i + 1
        cells = [str(rank)]
        if t.score is not None:
            cells.append(_score_text(float(t.score[i]), style))
        if result.mode == "boxes":
            image = str(t.image[i])
            cells += [image.replace("|", "\\|") if markdown else image, ious.get(i, "—"), "—" if t.matched_gt[i] < 0 else str(int(t.matched_gt[i]))]
        cells += ["TP" if t.tp[i] else "FP", str(cum_tp), str(int(t.cum_fp[i]))]
        cells.append(_ratio_cell(_ratio(cum_tp, rank), precision[i], style, markdown, Fraction(cum_tp, rank)))
        if c.num_gt:
            cells.append(_ratio_cell(_ratio(cum_tp, c.num_gt), recall[i], style, markdown, Fraction(cum_tp, c.num_gt)))
        else:
            cells.append("—")
        rows.append(cells)
        styles.append(None if t.tp[i] else "dim")
    return "Ranked detections", columns, rows, styles


def _score_text(score: float, style: NumberStyle) -> str:
    """A score as given (``0.9``); tiny or huge ones with 3 significant digits (``3.10e−5``)."""
    text = f"{score:g}"
    return style.num(score) if "e" in text else text.replace("-", MINUS)


# Above this many classes the text and Markdown show one table row per class, not one
# worked solution per class (20,000 sections would take a minute to lay out and to read).
MANY_CLASSES = 50


def many_classes_note(n: int) -> str:
    return f"{n:,} classes: one row each; --full shows the worked solution of every class, --class NAME of one."


def map_sum_note(result: APResult) -> str:
    n = sum(c.ap is not None for c in result.classes)
    return f"Σ_c AP_c is the sum of the AP column over the {n:,} classes with ground truth."


def _class_table_cells(result: APResult, style: NumberStyle, markdown: bool):
    """(title, columns, rows) of the per-class table: class, num_gt, detections, (ignored), AP."""
    boxes = result.mode == "boxes" and any(c.num_ignored for c in result.classes)
    columns = [Column("class", "left"), Column("num_gt"), Column("detections")]
    if boxes:
        columns.append(Column("ignored"))
    columns.append(Column("AP"))
    scored = [c for c in result.classes if c.ap is not None]
    texts = iter(column_texts([c.ap for c in scored], style, [c.ap_exact for c in scored]))
    rows = []
    for c in result.classes:
        name = "—" if c.name is None else str(c.name)
        row = [name.replace("|", "\\|") if markdown else name, str(c.num_gt), str(c.num_detections)]
        if boxes:
            row.append(str(c.num_ignored))
        row.append(next(texts) if c.ap is not None else "— (no ground truth)")
        rows.append(row)
    return "AP per class", columns, rows


def _runs(points) -> list[list[InterpolatedPoint]]:
    """Consecutive recall levels with the same p_interp (and rank): one row each."""
    return [list(g) for _, g in groupby(points, key=lambda p: (p.precision_exact, p.rank))]


def _points_table_cells(c: ClassAP, method: str, style: NumberStyle, full: bool, summary: bool, markdown: bool):
    """(title, columns, rows, note) of the sampled envelope, or None when it is empty."""
    points = c.points
    if not points:
        return None
    if method == "allpoint":
        picked = shown_rows(len(points), full)
        index = [i for i in picked if i is not None]
        deltas, previous = [], Fraction(0)
        for p in points:
            deltas.append(p.recall_exact - previous)
            previous = p.recall_exact
        shown = [points[i] for i in index]
        recall = column_texts([p.recall for p in shown], style, [p.recall_exact for p in shown])
        delta = column_texts([float(deltas[i]) for i in index], style, [deltas[i] for i in index])
        precision = column_texts([p.precision for p in shown], style, [p.precision_exact for p in shown])
        products = [deltas[i] * points[i].precision_exact for i in index]
        product = column_texts([float(x) for x in products], style, products)
        rows, k = [], 0
        for i in picked:
            if i is None:
                rows.append(None)
                continue
            rows.append([recall[k], delta[k], precision[k], str(points[i].rank), product[k]])
            k += 1
        columns = [Column("recall rᵢ"), Column("rᵢ − rᵢ₋₁"), Column("p_interp(rᵢ)"), Column("from rank"), Column("(rᵢ − rᵢ₋₁)·p_interp")]
        note = left_out_note(len(points)) if len(points) > LONG_TABLE and not full else ""
        return "Envelope at each recall reached", columns, rows, note
    precision_title = "$p_{\\text{interp}}(r)$" if markdown else "p_interp(r)"
    if method == "101point" and (summary or not full):
        runs = _runs(points)
        values = column_texts([run[0].precision for run in runs], style, [run[0].precision_exact for run in runs])
        rows = []
        for run, value in zip(runs, values):
            first, last = _level_text(run[0].recall), _level_text(run[-1].recall)
            rows.append([first if len(run) == 1 else f"{first} to {last}", str(len(run)), value, "—" if run[0].rank is None else str(run[0].rank)])
        columns = [Column("recall levels r"), Column("levels"), Column(precision_title), Column("from rank")]
        return "Interpolated precision (levels of equal value grouped; --full lists all 101)", columns, rows, ""
    values = column_texts([p.precision for p in points], style, [p.precision_exact for p in points])
    rows = [[_level_text(p.recall), v, "—" if p.rank is None else str(p.rank)] for p, v in zip(points, values)]
    columns = [Column("recall level r"), Column(precision_title), Column("from rank")]
    return "Interpolated precision at each recall level", columns, rows, ""


def _value_text(value: float, exact: Fraction | None, style: NumberStyle, latex: bool = False) -> str:
    """``58/77 ≈ 0.7532``: the exact fraction and its decimal (the fraction alone with --exact)."""
    shown = style.for_latex() if latex else style
    if exact is None:
        return shown.num(value)
    if exact.denominator == 1:
        return shown.num(int(exact))
    fraction = latex_fraction(exact) if latex else fraction_text(exact).replace("-", MINUS)
    approx = r"\approx" if latex else "≈"
    return f"{fraction} {approx} {shown.num(value)}"


AP = Sym("AP")
MAP = Sym("mAP", r"\text{mAP}")


def _ap_lines(c: ClassAP, result: APResult, full: bool) -> list[Line]:
    """The AP of one class as derivation lines: formula, the numbers put in, the value."""
    method = result.method
    first = c.ap if c.ap_per_iou is None else c.ap_per_iou[0]
    first_exact = c.ap_exact if c.ap_per_iou is None else None
    lhs = AP if c.ap_per_iou is None else Sym(f"AP({result.iou_thresholds[0]:g})", f"AP_{{{result.iou_thresholds[0]:g}}}")
    if method == "allpoint":
        formula = Sym("Σᵢ (rᵢ − rᵢ₋₁) · p_interp(rᵢ)", r"\sum_i (r_i - r_{i-1})\, p_{\text{interp}}(r_i)")
        if not c.points:
            lines = [Line(lhs, formula, None, first, first_exact, note="(no true positive)")]
        elif len(c.points) > LONG_TABLE and not full:
            lines = [Line(lhs, formula, None, first, first_exact, note=f"(the sum of the last column over all {len(c.points)} rows)")]
        else:
            terms, previous = [], Fraction(0)
            for p in c.points:
                delta = p.recall_exact - previous
                previous = p.recall_exact
                terms.append(Mul((Num(float(delta), delta), Num(p.precision, p.precision_exact))))
            lines = [Line(lhs, formula, Sum(tuple(terms)) if len(terms) > 1 else terms[0], first, first_exact)]
    else:
        n = len(c.points)
        formula = Mul((_ratio(1, n), Sym("Σ_r p_interp(r)", r"\sum_r p_{\text{interp}}(r)")))
        if method == "11point":
            inner = Sum(tuple(Num(p.precision, p.precision_exact) for p in c.points))
        else:
            inner = Sum(tuple(Mul((Num(len(run)), Num(run[0].precision, run[0].precision_exact))) for run in _runs(c.points)))
            if len(inner.terms) == 1:
                inner = inner.terms[0]
        lines = [Line(lhs, formula, Mul((_ratio(1, n), Group(inner))), first, first_exact)]
    if c.ap_per_iou is not None:
        k = len(c.ap_per_iou)
        per_iou = Sum(tuple(Num(a) for a in c.ap_per_iou))
        lines.append(
            Line(AP, Sym(f"mean over the {k} IoU thresholds", rf"\text{{mean over the {k} IoU thresholds}}"), Div(Group(per_iou), Num(k)), c.ap, c.ap_exact)
        )
    return lines


def _map_line(result: APResult, compact: bool = False) -> Line | None:
    scored = [c for c in result.classes if c.ap is not None]
    if not scored:
        return None
    n = len(scored)
    if compact:
        # thousands of terms are no worked step: the sum is the AP column of the class table
        # (map_sum_note says so under the line)
        return Line(MAP, Mul((_ratio(1, n), Sym("Σ_c AP_c", r"\sum_c AP_c"))), None, result.map, result.map_exact)
    inner = Sum(tuple(Num(c.ap, c.ap_exact) for c in scored)) if n > 1 else Num(scored[0].ap, scored[0].ap_exact)
    return Line(MAP, Mul((_ratio(1, n), Sym("Σ_c AP_c", r"\sum_c AP_c"))), Mul((_ratio(1, n), Group(inner))), result.map, result.map_exact)


def _line_text(line: Line, style: NumberStyle, width: int = 10**6) -> str:
    """The line on one row when it fits ``width``; else ``lhs = formula`` and then one
    ``= …`` row per step, indented under it, each wrapped at its operators."""
    parts = line_parts(Line(line.lhs, line.formula, line.substituted), _TextPrinter(style))
    if line.value is not None:
        parts.append(_value_text(line.value, line.exact, style))
    if line.note:
        parts[-1] += f"  {line.note}"
    text = " = ".join(parts)
    if len(text) <= width:
        return text
    lead = len(parts[0]) + 1
    rows = wrap(" = ".join(parts[:2]), width, indent=lead + 2)
    for part in parts[2:]:
        rows += wrap(" " * lead + "= " + part, width, indent=lead + 2)
    return "\n".join(rows)


def _line_latex(line: Line, style: NumberStyle) -> str:
    parts = line_parts(Line(line.lhs, line.formula, line.substituted), LatexPrinter(style))
    if line.value is not None:
        parts.append(_value_text(line.value, line.exact, style, latex=True))
    return " = ".join(parts)


def _md_table(title: str, columns: list[Column], rows: list) -> list[str]:
    md = [f"**{title}**", "", "| " + " | ".join(c.header for c in columns) + " |", "|" + "".join("---:|" if c.justify == "right" else "---|" for c in columns)]
    for row in rows:
        md.append("| " + " | ".join(["⋮"] * len(columns) if row is None else row) + " |")
    md.append("")
    return md
