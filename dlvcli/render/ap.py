"""``interp-ap`` results as a worked solution (rich, Markdown), as JSON, and as a PR plot."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from itertools import groupby

from dlvcli.core.ap import APResult, ClassAP, InterpolatedPoint
from dlvcli.render.numbers import NumberStyle, fraction_text, latex_fraction
from dlvcli.render.output import OutputSettings

METHOD_TITLES = {
    "11point": "11-point interpolated AP (PASCAL VOC 2007)",
    "101point": "101-point interpolated AP (COCO)",
    "allpoint": "all-point interpolated AP: area under the precision envelope (VOC 2010+)",
}


def _class_label(c: ClassAP) -> str:
    return "all detections" if c.name is None else f"class {c.name}"


def _level_text(p: InterpolatedPoint, method: str) -> str:
    """Recall levels are exact tenths or hundredths: show them as such, never as 1/5."""
    return f"{p.recall:.2f}" if method == "101point" else f"{p.recall:.1f}"


def _exact_or_none(cond: bool, value: Fraction | None):
    return str(value) if cond and value is not None else None


@dataclass(frozen=True)
class ApView:
    """Renders an :class:`APResult`; ``summary`` leaves out the per-detection rows."""

    summary: bool = False

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
                entry["ranked"] = self._ranked_rows(c, result, exact)
            entry["interpolated"] = [self._point(p, exact) for p in c.points]
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

        style = settings.style
        out: list = [Rule(Text(f"{METHOD_TITLES[result.method]}", style="bold"), align="left")]
        out.append(Text("precision = cumTP / rank        recall = cumTP / num_gt"))
        out.append(Text(self._method_definition(result.method)))
        if result.mode == "boxes":
            thr = ", ".join(f"{t:g}" for t in result.iou_thresholds)
            out.append(
                Text(
                    "Matching (PASCAL VOC): by descending score, each detection takes the ground-truth box of its image "
                    f"with the highest IoU; TP if IoU ≥ {thr} and the box is not taken, ignored if the box is difficult, "
                    "else FP." + (" Widths are x2 − x1 + 1 (--plus-one)." if result.plus_one else "")
                )
            )
        for c in result.classes:
            out.append(Text(""))
            out.append(Rule(Text.assemble((_class_label(c), "bold"), f"  num_gt = {c.num_gt}, detections = {c.num_detections}"), align="left"))
            if c.num_ignored:
                out.append(Text(f"{c.num_ignored} detection(s) matched a difficult box: ignored, no rank."))
            if not self.summary and len(c.table):
                out.append(self._ranked_table(c, result, style))
            if c.ap is None:
                out.append(Text("No ground truth: recall is undefined, so AP is undefined (null) and left out of the mAP."))
                continue
            out.append(self._points_table(c, result.method, style))
            for line in self._formula_lines(c, result, style):
                out.append(Text(line))
        if len(result.classes) > 1 or result.map is None:
            out.append(Text(""))
            for line in self._map_lines(result, style):
                out.append(Text(line, style="bold"))
        if result.compare:
            out.append(Text(""))
            out += self._compare_section(result, style)
        return out

    @staticmethod
    def _compare_section(result: APResult, style: NumberStyle) -> list:
        """``--compare``: the table, who uses each method, and why each method row differs."""
        from rich.table import Table
        from rich.text import Text

        several = len(result.classes) > 1
        table = Table(
            title="Why tools disagree: the same detections under each convention (rows that differ from this run are marked)",
            title_justify="left",
            header_style="bold",
        )
        for name in ("method", "+1 pixel", "tied scores", "mAP" if several else "AP", "differs because"):
            table.add_column(name, justify="right" if name in ("AP", "mAP") else "left")
        for row in result.compare:
            table.add_row(
                row.method,
                "yes" if row.plus_one else "no",
                row.ties,
                style.num(row.ap),
                ", ".join(row.differs_because),
                style="bold yellow" if row.differs_because else None,
            )
        def bullets(items) -> Table:
            # a grid keeps wrapped lines indented under their bullet
            grid = Table.grid(padding=(0, 1))
            grid.add_column(no_wrap=True)
            grid.add_column()
            for head, body in items:
                grid.add_row(head, body)
            return grid

        tools: dict[str, str] = {}
        for row in result.compare:
            tools.setdefault(row.method, row.tool)
        out: list = [table, Text("Who uses each method:", style="bold"), bullets((f"  {m}:", t) for m, t in tools.items())]
        explained = [row for row in result.compare if row.explanation]
        if explained:
            out.append(Text(f"Why each method differs from {result.method} (no +1, file-order ties):", style="bold"))
            for row in explained:
                out.append(Text.assemble("  ", (row.method, "bold"), f" ({style.num(row.ap)}):"))
                out.append(bullets(("    •", line) for line in row.explanation))
        return out

    @staticmethod
    def _method_definition(method: str) -> str:
        if method == "allpoint":
            return "AP = Σᵢ (rᵢ − rᵢ₋₁) · p_interp(rᵢ) over the recalls rᵢ where recall changes, r₀ = 0;  p_interp(r) = max over r' ≥ r of p(r')"
        n = 11 if method == "11point" else 101
        levels = "{0, 0.1, …, 1}" if n == 11 else "{0, 0.01, …, 1}"
        return f"AP = 1/{n} · Σ over r ∈ {levels} of p_interp(r);  p_interp(r) = max over r' ≥ r of p(r') (0 if no recall reaches r)"

    @staticmethod
    def _ranked_table(c: ClassAP, result: APResult, style: NumberStyle):
        from rich.table import Table

        t = c.table
        table = Table(title="Ranked detections", title_justify="left", header_style="bold")
        table.add_column("rank", justify="right")
        if t.score is not None:
            table.add_column("score", justify="right")
        if result.mode == "boxes":
            table.add_column("image")
            table.add_column("IoU", justify="right")
            table.add_column("GT row", justify="right")
        for name in ("TP/FP", "cum TP", "cum FP"):
            table.add_column(name, justify="right")
        table.add_column("precision", justify="right")
        table.add_column("recall", justify="right")
        for i in range(len(t)):
            cells = [str(i + 1)]
            if t.score is not None:
                cells.append(f"{t.score[i]:g}")
            if result.mode == "boxes":
                iou = float(t.iou[i])
                cells += [str(t.image[i]), "—" if iou != iou else style.num(iou), "—" if t.matched_gt[i] < 0 else str(int(t.matched_gt[i]))]
            cum_tp = int(t.cum_tp[i])
            cells += ["TP" if t.tp[i] else "FP", str(cum_tp), str(int(t.cum_fp[i]))]
            cells.append(f"{cum_tp}/{i + 1} = {style.num(t.precision[i], Fraction(cum_tp, i + 1))}" if not style.exact else fraction_text(Fraction(cum_tp, i + 1)))
            if c.num_gt:
                r = Fraction(cum_tp, c.num_gt)
                cells.append(f"{cum_tp}/{c.num_gt} = {style.num(t.recall[i])}" if not style.exact else fraction_text(r))
            else:
                cells.append("—")
            table.add_row(*cells, style=None if t.tp[i] else "dim")
        return table

    @staticmethod
    def _points_table(c: ClassAP, method: str, style: NumberStyle):
        from rich.table import Table

        if method == "allpoint":
            table = Table(title="Envelope at each recall reached", title_justify="left", header_style="bold")
            for name in ("recall rᵢ", "rᵢ − rᵢ₋₁", "p_interp(rᵢ)", "from rank", "(rᵢ − rᵢ₋₁)·p_interp"):
                table.add_column(name, justify="right")
            previous = Fraction(0)
            for p in c.points:
                delta = p.recall_exact - previous
                previous = p.recall_exact
                table.add_row(
                    style.num(p.recall, p.recall_exact),
                    style.num(float(delta), delta),
                    style.num(p.precision, p.precision_exact),
                    str(p.rank),
                    style.num(float(delta * p.precision_exact), delta * p.precision_exact),
                )
            return table
        table = Table(title="Interpolated precision at each recall level", title_justify="left", header_style="bold")
        table.add_column("recall level r", justify="right")
        table.add_column("p_interp(r)", justify="right")
        table.add_column("from rank", justify="right")
        for p in c.points:
            table.add_row(
                _level_text(p, method),
                style.num(p.precision, p.precision_exact),
                "—" if p.rank is None else str(p.rank),
            )
        return table

    @staticmethod
    def _value_text(value: float, exact: Fraction | None, style: NumberStyle) -> str:
        if exact is not None and exact.denominator != 1:
            return f"{fraction_text(exact)} ≈ {style.num(value)}"
        return style.num(value) if exact is None else f"{fraction_text(exact)}"

    def _formula_lines(self, c: ClassAP, result: APResult, style: NumberStyle) -> list[str]:
        method = result.method
        lines = []
        if method == "allpoint":
            terms = []
            previous = Fraction(0)
            for p in c.points:
                delta = p.recall_exact - previous
                previous = p.recall_exact
                terms.append(f"{style.num(float(delta), delta)}·{style.num(p.precision, p.precision_exact)}")
            lines.append("AP = Σᵢ (rᵢ − rᵢ₋₁) · p_interp(rᵢ)")
            lines.append("   = " + (" + ".join(terms) if terms else "0  (no true positive)"))
        else:
            n = len(c.points)
            values = [style.num(p.precision, p.precision_exact) for p in c.points]
            if method == "11point":
                inner = " + ".join(values)
            else:
                inner = " + ".join(f"{len(list(g))} × {v}" for v, g in groupby(values))
            symbol = "r ∈ {0, 0.1, …, 1}" if method == "11point" else "r ∈ {0, 0.01, …, 1}"
            lines.append(f"AP = 1/{n} · Σ_{{{symbol}}} p_interp(r)")
            lines.append(f"   = 1/{n} · ({inner})")
        label = "AP" if c.ap_per_iou is None else f"AP at IoU {result.iou_thresholds[0]:g}"
        first = c.ap if c.ap_per_iou is None else c.ap_per_iou[0]
        first_exact = c.ap_exact if c.ap_per_iou is None else None
        lines.append(f"   = {self._value_text(first, first_exact, style)}" + ("" if c.ap_per_iou is None else f"   ({label})"))
        if c.ap_per_iou is not None:
            per = ", ".join(f"{t:g}: {style.num(a)}" for t, a in zip(result.iou_thresholds, c.ap_per_iou))
            lines.append(f"AP per IoU threshold: {per}")
            lines.append(
                f"AP = mean over {len(c.ap_per_iou)} thresholds = ({' + '.join(style.num(a) for a in c.ap_per_iou)}) / {len(c.ap_per_iou)}"
            )
            lines.append(f"   = {self._value_text(c.ap, c.ap_exact, style)}")
        return lines

    def _map_lines(self, result: APResult, style: NumberStyle) -> list[str]:
        scored = [c for c in result.classes if c.ap is not None]
        if not scored:
            return ["mAP is undefined: no class has ground truth."]
        inner = " + ".join(style.num(c.ap, c.ap_exact) for c in scored)
        return [
            f"mAP = 1/{len(scored)} · Σ_c AP_c = ({inner}) / {len(scored)}",
            f"    = {self._value_text(result.map, result.map_exact, style)}",
        ]

    # ---------------------------------------------------------------- Markdown
    def to_markdown(self, result: APResult, settings: OutputSettings) -> str:
        style = settings.style
        md = [f"## {METHOD_TITLES[result.method]}", ""]
        md.append(r"$\text{precision} = \dfrac{\text{cumTP}}{\text{rank}}$, $\text{recall} = \dfrac{\text{cumTP}}{\text{num\_gt}}$")
        md.append("")
        if result.method == "allpoint":
            md.append(r"$AP = \sum_i (r_i - r_{i-1})\, p_{\text{interp}}(r_i)$, with $p_{\text{interp}}(r) = \max_{r' \ge r} p(r')$")
        else:
            n = 11 if result.method == "11point" else 101
            step = "0.1" if n == 11 else "0.01"
            md.append(
                rf"$AP = \frac{{1}}{{{n}}} \sum_{{r \in \{{0, {step}, \ldots, 1\}}}} p_{{\text{{interp}}}}(r)$, "
                r"with $p_{\text{interp}}(r) = \max_{r' \ge r} p(r')$"
            )
        for c in result.classes:
            md += ["", f"### {_class_label(c).capitalize()} ($\\text{{num\\_gt}} = {c.num_gt}$)", ""]
            t = c.table
            if not self.summary and len(t):
                header = ["rank"] + (["score"] if t.score is not None else []) + (["image", "IoU"] if result.mode == "boxes" else [])
                header += ["TP/FP", "cum TP", "cum FP", "precision", "recall"]
                md.append("| " + " | ".join(header) + " |")
                md.append("|" + "---:|" * len(header))
                for i in range(len(t)):
                    cum_tp = int(t.cum_tp[i])
                    cells = [str(i + 1)] + ([f"{t.score[i]:g}"] if t.score is not None else [])
                    if result.mode == "boxes":
                        iou = float(t.iou[i])
                        cells += [str(t.image[i]), "—" if iou != iou else style.num(iou)]
                    cells += ["TP" if t.tp[i] else "FP", str(cum_tp), str(int(t.cum_fp[i]))]
                    cells.append(f"${latex_fraction(Fraction(cum_tp, i + 1))}$" if style.exact else style.num(t.precision[i]))
                    cells.append(
                        "—" if not c.num_gt else (f"${latex_fraction(Fraction(cum_tp, c.num_gt))}$" if style.exact else style.num(t.recall[i]))
                    )
                    md.append("| " + " | ".join(cells) + " |")
                md.append("")
            if c.ap is None:
                md.append("No ground truth: AP is undefined and left out of the mAP.")
                continue
            md.append("| recall $r$ | $p_{\\text{interp}}(r)$ | from rank |")
            md.append("|---:|---:|---:|")
            for p in c.points:
                prec = f"${latex_fraction(p.precision_exact)}$" if style.exact else style.num(p.precision)
                recall = _level_text(p, result.method) if result.method != "allpoint" else style.num(p.recall, p.recall_exact)
                md.append(f"| {recall} | {prec} | {p.rank or '—'} |")
            md.append("")
            values = [
                latex_fraction(p.precision_exact) if style.exact else style.num(p.precision) for p in c.points
            ]
            if result.method == "allpoint":
                previous = Fraction(0)
                terms = []
                for p, v in zip(c.points, values):
                    delta = p.recall_exact - previous
                    previous = p.recall_exact
                    terms.append(f"{latex_fraction(delta) if style.exact else style.num(float(delta))} \\cdot {v}")
                substituted = " + ".join(terms) or "0"
            elif result.method == "11point":
                substituted = rf"\frac{{1}}{{11}}\left({' + '.join(values)}\right)"
            else:
                runs = " + ".join(f"{len(list(g))}" + r" \cdot " + v for v, g in groupby(values))
                substituted = rf"\frac{{1}}{{101}}\left({runs}\right)"
            ap_first = c.ap if c.ap_per_iou is None else c.ap_per_iou[0]
            exact_first = c.ap_exact if c.ap_per_iou is None else None
            answer = style.num(ap_first) if exact_first is None else f"{latex_fraction(exact_first)} \\approx {style.num(ap_first)}"
            md.append(f"$$AP = {substituted} = {answer}$$")
            if c.ap_per_iou is not None:
                per = " + ".join(style.num(a) for a in c.ap_per_iou)
                final = style.num(c.ap) if c.ap_exact is None else f"{latex_fraction(c.ap_exact)} \\approx {style.num(c.ap)}"
                md.append(f"$$AP = \\frac{{1}}{{{len(c.ap_per_iou)}}}\\left({per}\\right) = {final}$$")
        if len(result.classes) > 1 or result.map is None:
            scored = [c for c in result.classes if c.ap is not None]
            md.append("")
            if scored:
                inner = " + ".join(style.num(c.ap) for c in scored)
                final = style.num(result.map) if result.map_exact is None else f"{latex_fraction(result.map_exact)} \\approx {style.num(result.map)}"
                md.append(f"$$\\text{{mAP}} = \\frac{{1}}{{{len(scored)}}}\\left({inner}\\right) = {final}$$")
            else:
                md.append("mAP is undefined: no class has ground truth.")
        if result.compare:
            md += self._compare_markdown(result, style)
        return "\n".join(md)

    @staticmethod
    def _compare_markdown(result: APResult, style: NumberStyle) -> list[str]:
        """``--compare`` in Markdown: the same table, tools and explanations as the text."""

        def cell(text: str) -> str:
            return text.replace("|", "\\|")

        md = ["", "### Conventions compared", "", "| method | +1 pixel | tied scores | AP | differs because | tool |", "|---|---|---|---:|---|---|"]
        for row in result.compare:
            md.append(
                f"| {row.method} | {'yes' if row.plus_one else 'no'} | {row.ties} | {style.num(row.ap)} | "
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
                ax.step(t.recall, envelope, where="pre", color=color, linewidth=2, label=f"{label}envelope p_interp")
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
