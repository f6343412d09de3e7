"""``interp-ap`` on COCO files (mode C): the COCOeval summary, per-category AP, PR curves."""

from __future__ import annotations

from dataclasses import dataclass

from dlvcli.render.output import OutputSettings

def summary_rows(result):
    """(key, metric, IoU label, area, maxDets) per summary number, as COCOeval.summarize prints them."""
    from dlvcli.core.coco import summary_spec

    rows = []
    for key, is_ap, iou, area, max_dets in summary_spec([r[0] for r in result.area_ranges], result.max_dets):
        label = _thresholds_label(result.iou_thresholds) if iou is None else f"{iou:.2f}"
        rows.append((key, "AP" if is_ap else "AR", label, area, max_dets))
    return rows


# Per-category metric columns per table: id and name plus six numbers fit 80 columns.
_METRICS_PER_TABLE = 6


EXPLANATION = (
    "COCOeval (bbox): per image and category the detections, by descending score (the first 100), "
    "take greedily the unmatched ground-truth box of highest IoU ≥ t (crowd boxes: IoU against the "
    "detection's own area, matched any number of times, detections on them ignored). "
    "Per category: precision = cumTP / (cumTP + cumFP), recall = cumTP / num_gt, the envelope "
    "p_interp(r) = max precision at recall ≥ r, sampled at r = 0, 0.01, 0.02 up to 1: "
    "AP_t = 1/101 · Σ_r p_interp(r); AP = mean over thresholds t and categories with ground truth."
)


def _thresholds_label(thresholds) -> str:
    if len(thresholds) == 1:
        return f"{thresholds[0]:.2f}"
    return f"{thresholds[0]:.2f}:{thresholds[-1]:.2f}"


@dataclass(frozen=True)
class CocoView:
    summary_only: bool = False

    def to_json(self, result, settings: OutputSettings) -> dict:
        classes = []
        several = len(result.iou_thresholds) > 1
        for k, c in enumerate(result.categories):
            entry = {
                "class": c.category_id,
                "name": c.name,
                "num_gt": c.num_gt,
                "num_crowd": c.num_crowd,
                "num_detections": c.num_detections,
                "ap": c.ap,
            }
            if several:
                entry["ap_per_iou"] = [{"iou": t, "ap": a} for t, a in zip(result.iou_thresholds, c.ap_per_iou)]
            entry["stats"] = dict(zip(result.summary_names, c.stats))
            if c.f1_evaluated:
                best = None if c.f1 is None else {"score": c.f1.score, "precision": c.f1.precision, "recall": c.f1.recall, "f1": c.f1.f1}
                entry["f1"] = {"iou": 0.5, "best": best}
            if c.ap is not None:
                curve = result.precision[0, :, k, 0, -1]
                entry["interpolated"] = [
                    {"recall": float(r), "precision": float(p)} for r, p in zip(result.recall_levels, curve)
                ]
            else:
                entry["interpolated"] = []
            classes.append(entry)
        return {
            "mode": "coco",
            "method": "101point",
            "iou_thresholds": list(result.iou_thresholds),
            "map": result.ap,
            "classes": classes,
            "coco": result.summary,
            "max_dets": list(result.max_dets),
            "area_rng": [{"name": n, "lo": lo, "hi": hi} for n, lo, hi in result.area_ranges],
            "num_images": result.num_images,
        }

    def to_rich(self, result, settings: OutputSettings) -> list:
        from rich.rule import Rule
        from rich.table import Table
        from rich.text import Text

        from dlvcli.render.output import stdout_console
        from dlvcli.render.tables import Column, column_texts, fitted_table, heading

        style = settings.style
        width = stdout_console().width
        out: list = [heading("COCO box AP (101-point, pycocotools' COCOeval)", width), Text(EXPLANATION.replace("the first 100", f"the first {result.max_dets[-1]}"))]
        big = result.max_dets[-1]
        columns = [Column("id"), Column("name", "left"), Column("num_gt"), Column("crowd"), Column("detections"), Column("AP")]
        aps = _column_or_dash([c.ap for c in result.categories], style)
        rows = [[str(c.category_id), c.name, str(c.num_gt), str(c.num_crowd), str(c.num_detections), ap] for c, ap in zip(result.categories, aps)]
        out.append(fitted_table(f"Per category (area all, maxDets {big})", columns, rows, keys=2))
        scored = [c for c in result.categories if c.ap is not None]
        if scored:
            inner = " + ".join(style.num(c.ap) for c in scored)
            out.append(Text(f"AP = 1/{len(scored)} · Σ_c AP_c = ({inner}) / {len(scored)} = {style.num(result.ap)}", style="bold"))
        out.append(Text("Per category, each number on that category alone (— = no ground truth in range):"))
        out.append(self._stats_table(result, style))
        if any(c.f1_evaluated for c in result.categories):
            out.append(Text("s: the score threshold of the highest F1 (detections with score ≥ s count)."))
            out.append(self._f1_table(result, style))
        columns = [Column("key", "left"), Column("metric", "left"), Column("IoU", "left"), Column("area", "left"), Column("maxDets"), Column("value")]
        values = result.summary
        keys = list(summary_rows(result))
        shown = _column_or_dash([values[key] for key, *_ in keys], style, dash="−1 (undefined)")
        rows = [[key, metric, iou_label, area, str(max_dets), value] for (key, metric, iou_label, area, max_dets), value in zip(keys, shown)]
        out.append(fitted_table("COCOeval summary", columns, rows))
        return out

    @staticmethod
    def _stats_table(result, style):
        """The summary numbers per category (split into column blocks that fit the screen)."""
        from dlvcli.render.tables import Column, fitted_table

        names = list(result.summary_names)
        columns = [Column("id"), Column("name", "left")] + [Column(name) for name in names]
        per_metric = [_column_or_dash([c.stats[j] for c in result.categories], style) for j in range(len(names))]
        rows = [[str(c.category_id), c.name] + [per_metric[j][i] for j in range(len(names))] for i, c in enumerate(result.categories)]
        return fitted_table("Per-category COCOeval summary", columns, rows, keys=2)

    @staticmethod
    def _f1_table(result, style):
        from dlvcli.render.tables import Column, fitted_table

        columns = [Column("id"), Column("name", "left"), Column("score s"), Column("P = TP/(TP+FP)"), Column("R = TP/num_gt"), Column("F1 = 2PR/(P+R)")]
        rows = []
        for c in result.categories:
            b = c.f1
            if b is None:
                rows.append([str(c.category_id), c.name, "—", "—", "—", "—"])
                continue
            rows.append([
                str(c.category_id),
                c.name,
                f"{b.score:g}",
                f"{b.tp}/{b.tp + b.fp} = {style.num(b.precision)}",
                f"{b.tp}/{b.num_gt} = {style.num(b.recall)}",
                style.num(b.f1),
            ])
        return fitted_table(f"Best F1 per category (IoU 0.5, area all, maxDets {result.max_dets[-1]})", columns, rows, keys=2)

    def to_markdown(self, result, settings: OutputSettings) -> str:
        style = settings.style
        md = ["## COCO box AP (101-point, COCOeval)", "", EXPLANATION.replace("the first 100", f"the first {result.max_dets[-1]}"), ""]
        md.append(r"$$AP_t = \frac{1}{101} \sum_{r} p_{\text{interp}}(r), \qquad AP = \frac{1}{|T|\,|K|} \sum_{t, k} AP_{t,k}$$")
        def cell(text) -> str:
            return str(text).replace("|", "\\|")

        md += ["", "| id | name | num_gt | crowd | detections | AP |", "|---:|---|---:|---:|---:|---:|"]
        for c, ap in zip(result.categories, _column_or_dash([c.ap for c in result.categories], style)):
            md.append(f"| {cell(c.category_id)} | {cell(c.name)} | {c.num_gt} | {c.num_crowd} | {c.num_detections} | {ap} |")
        scored = [c for c in result.categories if c.ap is not None]
        if scored:
            inner = " + ".join(style.num(c.ap) for c in scored)
            md += ["", f"$$AP = \\frac{{1}}{{{len(scored)}}}\\left({inner}\\right) = {style.num(result.ap)}$$"]
        names = list(result.summary_names)
        md += ["", "Per-category COCOeval summary (each number on that category alone; — = no ground truth in range):", ""]
        md += ["| id | name | " + " | ".join(names) + " |", "|---:|---|" + "---:|" * len(names)]
        per_metric = [_column_or_dash([c.stats[j] for c in result.categories], style) for j in range(len(names))]
        for i, c in enumerate(result.categories):
            md.append(f"| {cell(c.category_id)} | {cell(c.name)} | " + " | ".join(per_metric[j][i] for j in range(len(names))) + " |")
        if any(c.f1_evaluated for c in result.categories):
            md += ["", f"Best F1 per category (IoU 0.5, area all, maxDets {result.max_dets[-1]}); s: the score threshold of the highest F1 (detections with score ≥ s count):", ""]
            md += ["| id | name | score $s$ | $P = TP/(TP+FP)$ | $R = TP/n_{gt}$ | $F_1 = 2PR/(P+R)$ |", "|---:|---|---:|---:|---:|---:|"]
            for c in result.categories:
                b = c.f1
                if b is None:
                    md.append(f"| {cell(c.category_id)} | {cell(c.name)} | — | — | — | — |")
                else:
                    md.append(
                        f"| {cell(c.category_id)} | {cell(c.name)} | {b.score:g} | ${b.tp}/{b.tp + b.fp} = {style.num(b.precision)}$ | "
                        f"${b.tp}/{b.num_gt} = {style.num(b.recall)}$ | {style.num(b.f1)} |"
                    )
        md += ["", "| key | metric | IoU | area | maxDets | value |", "|---|---|---|---|---:|---:|"]
        values = result.summary
        keys = list(summary_rows(result))
        shown = _column_or_dash([values[key] for key, *_ in keys], style, dash="−1")
        for (key, metric, iou_label, area, max_dets), value in zip(keys, shown):
            md.append(f"| {key} | {metric} | {iou_label} | {cell(area)} | {max_dets} | {value} |")
        return "\n".join(md)

    def draw(self, result, figure) -> None:
        """Page 1 (top): the interpolated PR curves of all categories at IoU 0.5 and 0.75.

        Below it, one small panel per category with ground truth: its curves at those
        thresholds, titled with its AP (and best F1 point, with ``--f1``).
        """
        import math

        curves = result.pr_curves or {result.iou_thresholds[0]: result.precision[0, :, :, 0, -1].T}
        scored = [(k, c) for k, c in enumerate(result.categories) if c.ap is not None]
        cols = min(6, max(1, len(scored)))
        rows = math.ceil(len(scored) / cols) if scored else 0
        figure.set_size_inches(max(8.0, 2.2 * cols), 4.5 + 2.0 * rows)
        top, bottom = figure.subfigures(2, 1, height_ratios=[4.5, max(2.0 * rows, 0.01)]) if rows else (figure, None)
        axes = top.subplots(1, len(curves), squeeze=False)[0]
        thresholds = list(result.iou_thresholds)
        for ax, (threshold, precision) in zip(axes, sorted(curves.items())):
            t = thresholds.index(threshold) if threshold in thresholds else None
            for k, c in scored[:20]:
                ap = c.ap if t is None else c.ap_per_iou[t]
                ax.plot(result.recall_levels, precision[k], linewidth=1.2, label=f"{c.name}: AP {ap:.3f}")
            ax.set_title(f"IoU {threshold:g}" + (" (first 20 categories)" if len(scored) > 20 else ""))
            ax.set_xlabel("recall")
            ax.set_ylabel("interpolated precision")
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1.02)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7, loc="lower left")
        if bottom is None:
            return
        bottom.suptitle("Per category: interpolated precision at the 101 recall levels", fontsize=10)
        grid = bottom.subplots(rows, cols, squeeze=False)
        for i, ax in enumerate(grid.flat):
            if i >= len(scored):
                ax.set_visible(False)
                continue
            k, c = scored[i]
            for threshold, precision in sorted(curves.items()):
                ax.plot(result.recall_levels, precision[k], linewidth=1.0, label=f"IoU {threshold:g}")
            if c.f1 is not None:
                ax.plot([c.f1.recall], [c.f1.precision], "o", color="black", markersize=3, label=f"best F1 {c.f1.f1:.3f}")
            ax.set_title(f"{c.name}: AP {c.ap:.3f}", fontsize=8)
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1.02)
            ax.tick_params(labelsize=6)
            ax.grid(alpha=0.3)
            if i == 0:
                ax.legend(fontsize=6, loc="lower left")


def _column_or_dash(values, style, dash: str = "—") -> list[str]:
    """One number rule for a column (dlvcli.render.tables.column_texts); None shown as ``dash``."""
    from dlvcli.render.tables import column_texts

    present = [v for v in values if v is not None]
    shown = iter(column_texts(present, style)) if present else iter(())
    return [dash if v is None else next(shown) for v in values]
