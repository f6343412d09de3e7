"""``interp-ap`` on COCO files (mode C): the COCOeval summary, per-category AP, PR curves."""

from __future__ import annotations

from dataclasses import dataclass

from dlvcli.render.output import OutputSettings

SUMMARY_ROWS = (
    ("ap", "AP", "0.50:0.95", "all", 100),
    ("ap50", "AP", "0.50", "all", 100),
    ("ap75", "AP", "0.75", "all", 100),
    ("ap_small", "AP", "0.50:0.95", "small", 100),
    ("ap_medium", "AP", "0.50:0.95", "medium", 100),
    ("ap_large", "AP", "0.50:0.95", "large", 100),
    ("ar1", "AR", "0.50:0.95", "all", 1),
    ("ar10", "AR", "0.50:0.95", "all", 10),
    ("ar100", "AR", "0.50:0.95", "all", 100),
    ("ar_small", "AR", "0.50:0.95", "small", 100),
    ("ar_medium", "AR", "0.50:0.95", "medium", 100),
    ("ar_large", "AR", "0.50:0.95", "large", 100),
)

EXPLANATION = (
    "COCOeval (bbox): per image and category the detections, by descending score (the first 100), "
    "take greedily the unmatched ground-truth box of highest IoU ≥ t (crowd boxes: IoU against the "
    "detection's own area, matched any number of times, detections on them ignored). "
    "Per category: precision = cumTP / (cumTP + cumFP), recall = cumTP / num_gt, the envelope "
    "p_interp(r) = max precision at recall ≥ r, sampled at r = 0, 0.01, …, 1: "
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
            "num_images": result.num_images,
        }

    def to_rich(self, result, settings: OutputSettings) -> list:
        from rich.rule import Rule
        from rich.table import Table
        from rich.text import Text

        style = settings.style
        out: list = [Rule(Text("COCO box AP (101-point, pycocotools' COCOeval)", style="bold"), align="left"), Text(EXPLANATION)]
        per = Table(title="Per category (area all, maxDets 100)", title_justify="left", header_style="bold")
        for name in ("id", "name", "num_gt", "crowd", "detections", "AP"):
            per.add_column(name, justify="left" if name == "name" else "right")
        show = [t for t in (0.5, 0.75) if any(abs(t - u) < 1e-12 for u in result.iou_thresholds)] if len(result.iou_thresholds) > 1 else []
        for t in show:
            per.add_column(f"AP@{t:g}", justify="right")
        for c in result.categories:
            cells = [str(c.category_id), c.name, str(c.num_gt), str(c.num_crowd), str(c.num_detections), style.num(c.ap)]
            for t in show:
                i = min(range(len(result.iou_thresholds)), key=lambda j: abs(result.iou_thresholds[j] - t))
                cells.append(style.num(c.ap_per_iou[i]))
            per.add_row(*cells)
        out.append(per)
        scored = [c for c in result.categories if c.ap is not None]
        if scored:
            inner = " + ".join(style.num(c.ap) for c in scored[:12]) + (" + …" if len(scored) > 12 else "")
            out.append(Text(f"AP = 1/{len(scored)} · Σ_c AP_c = ({inner}) / {len(scored)} = {style.num(result.ap)}", style="bold"))
        summary = Table(title="COCOeval summary", title_justify="left", header_style="bold")
        for name in ("key", "metric", "IoU", "area", "maxDets", "value"):
            summary.add_column(name, justify="right" if name in ("maxDets", "value") else "left")
        for key, metric, iou, area, max_dets in SUMMARY_ROWS:
            iou_label = _thresholds_label(result.iou_thresholds) if iou == "0.50:0.95" else iou
            value = getattr(result, key)
            summary.add_row(key, metric, iou_label, area, str(max_dets), "−1 (undefined)" if value is None else style.num(value))
        out.append(summary)
        return out

    def to_markdown(self, result, settings: OutputSettings) -> str:
        style = settings.style
        md = ["## COCO box AP (101-point, COCOeval)", "", EXPLANATION, ""]
        md.append(r"$$AP_t = \frac{1}{101} \sum_{r \in \{0, 0.01, \ldots, 1\}} p_{\text{interp}}(r), \qquad AP = \frac{1}{|T|\,|K|} \sum_{t, k} AP_{t,k}$$")
        md += ["", "| id | name | num_gt | detections | AP |", "|---:|---|---:|---:|---:|"]
        for c in result.categories:
            md.append(f"| {c.category_id} | {c.name} | {c.num_gt} | {c.num_detections} | {style.num(c.ap)} |")
        md += ["", "| key | metric | IoU | area | maxDets | value |", "|---|---|---|---|---:|---:|"]
        for key, metric, iou, area, max_dets in SUMMARY_ROWS:
            value = getattr(result, key)
            iou_label = _thresholds_label(result.iou_thresholds) if iou == "0.50:0.95" else iou
            md.append(f"| {key} | {metric} | {iou_label} | {area} | {max_dets} | {'−1' if value is None else style.num(value)} |")
        return "\n".join(md)

    def draw(self, result, figure) -> None:
        """Per-category interpolated PR curves at IoU 0.5 and 0.75."""
        curves = result.pr_curves or {result.iou_thresholds[0]: result.precision[0, :, :, 0, -1].T}
        axes = figure.subplots(1, len(curves), squeeze=False)[0]
        for ax, (threshold, precision) in zip(axes, sorted(curves.items())):
            for k, c in enumerate(result.categories[:20]):
                if c.ap is None:
                    continue
                ax.plot(result.recall_levels, precision[k], linewidth=1.2, label=f"{c.name} ({c.ap_per_iou[list(result.iou_thresholds).index(threshold)] if threshold in result.iou_thresholds else c.ap:.3f})")
            ax.set_title(f"IoU {threshold:g}")
            ax.set_xlabel("recall")
            ax.set_ylabel("interpolated precision")
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1.02)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7, loc="lower left")
