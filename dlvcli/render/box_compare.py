"""``box-compare`` results as a worked solution (rich, Markdown), as JSON, and as a picture of the boxes.

The derivation lines come from the core (:meth:`BoxPair.lines`); ``dlvcli.render.derivation``
prints them as text and as LaTeX, so the two cannot differ.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

from dlvcli.core.box_compare import BoxCompareResult, BoxPair, same_distance_lines
from dlvcli.render.derivation import Derivation, Heading, table_column, escape_markdown, markdown_items, markdown_table
from dlvcli.render.numbers import NumberStyle, fraction_text
from dlvcli.render.output import OutputSettings
from dlvcli.render.tables import FitTable

# pairs mode prints the full derivation of at most this many pairs (the table has them all)
MAX_DERIVATIONS = 20
ONE_LINE = 90  # a derivation longer than this is broken after the formula


# --------------------------------------------------------------------------- the view


def _box(box: Sequence[float], fmt: Callable[..., str]) -> str:
    return "(" + ", ".join(fmt(v) for v in box) + ")"


def _given(pair: BoxPair, side: str, fmt: Callable[..., str]) -> str:
    box, box_format = (pair.a_given, pair.a_format) if side == "a" else (pair.b_given, pair.b_format)
    if box_format == "xyxy":
        return _box(box, fmt)
    return f"{box_format} {_box(box, fmt)}"


EXACT_KEYS = ("intersection", "union", "iou", "giou", "diou", "l1", "l1_cxcywh")
# rational only when the two aspect ratios are equal (v = 0): null otherwise
OPTIONAL_EXACT_KEYS = ("ciou",)


def _exact_sqrt_text(value: Fraction | None) -> str | None:
    if value is None:
        return None
    num, den = math.isqrt(value.numerator), math.isqrt(value.denominator)
    return fraction_text(Fraction(num, den)) if num * num == value.numerator and den * den == value.denominator else None


def to_json(result: BoxCompareResult, settings: OutputSettings) -> dict:
    pairs = []
    for p in result.pairs:
        entry: dict[str, Any] = {
            "a": list(p.a),
            "b": list(p.b),
            "enclosing": list(p.enclosing),
            "intersection": p.intersection,
            "union": p.union,
            "iou": p.iou,
            "giou": p.giou,
            "diou": p.diou,
            "ciou": p.ciou,
            "l1": p.l1,
            "l2": p.l2,
            "l1_cxcywh": p.l1_cxcywh,
            "l2_cxcywh": p.l2_cxcywh,
        }
        if settings.exact and p.exact is not None:
            for key in EXACT_KEYS:
                entry[f"{key}_exact"] = fraction_text(p.exact[key])
            for key in OPTIONAL_EXACT_KEYS:
                entry[f"{key}_exact"] = fraction_text(p.exact[key]) if key in p.exact else None
            entry["l2_exact"] = _exact_sqrt_text(p.exact["l2_sq"])
            entry["l2_cxcywh_exact"] = _exact_sqrt_text(p.exact["l2_cxcywh_sq"])
        pairs.append(entry)
    body: dict[str, Any] = {"pairs": pairs}
    info = result.same_distance
    if info is not None:
        body["same_distance"] = {
            "metric": info.metric,
            "radius": info.radius,
            "n": info.n,
            "angles": [p.angle for p in result.pairs],
            "iou_min": info.iou_min,
            "iou_max": info.iou_max,
            "iou_spread": info.spread,
        }
    return body


def _summary_rows(result: BoxCompareResult, style: NumberStyle, show_a: bool) -> tuple[list[str], list[list[str]], int]:
    """The table of every pair (one number rule per column) and how many key columns lead it."""
    info = result.same_distance
    pairs = result.pairs
    header = ["#"]
    columns: list[list[str]] = [[str(i) for i in range(1, len(pairs) + 1)]]
    if info is not None:
        header.append("θ")
        columns.append([f"{style.num(p.angle)}°" for p in pairs])
    keys = len(header)
    if show_a:
        header.append("A")
        columns.append([_box(p.a, style.num) for p in pairs])
    header.append("B's (x2, y2)" if info is not None else "B")
    columns.append([_box(p.b[2:] if info is not None else p.b, style.num) for p in pairs])
    for name, key in (("IoU", "iou"), ("GIoU", "giou"), ("DIoU", "diou"), ("CIoU", "ciou"), ("L1", "l1"), ("L2", "l2"),
                      ("L1 (cxcywh)", "l1_cxcywh"), ("L2 (cxcywh)", "l2_cxcywh")):
        header.append(name)
        exacts = [None if p.exact is None else p.exact.get(key) for p in pairs]
        columns.append(table_column(style, [getattr(p, key) for p in pairs], exacts))
    return header, [list(row) for row in zip(*columns)], keys


def _intro_text(result: BoxCompareResult, style: NumberStyle) -> str:
    info = result.same_distance
    x1, y1, x2, y2 = (style.num(v) for v in result.pairs[0].a)
    shape = "circle" if info.metric == "l2" else "L1 diamond"
    return (
        f"Reference A = ({x1}, {y1}, {x2}, {y2}); every B keeps A's top-left corner and puts its bottom-right corner "
        f"on the {shape} of radius R = {style.num(info.radius)} around ({x2}, {y2}), in {info.n} directions θ_k:"
    )


def _closing_text(result: BoxCompareResult) -> str:
    return "The corner vectors differ by (0, 0, R u_x, R u_y), so every B_k is at the same distance R from A."


def _spread_line(result: BoxCompareResult, style: NumberStyle) -> str:
    info = result.same_distance
    best, worst = result.pairs[0], result.pairs[-1]
    metric = info.metric.upper()
    fmt = style.num
    return (
        f"Same {metric} distance {fmt(info.radius)}, different overlap: IoU from {fmt(worst.iou)} (θ = {fmt(worst.angle)}°) "
        f"to {fmt(best.iou)} (θ = {fmt(best.angle)}°), a spread of {fmt(info.spread)}."
    )


def _pair_heading(i: int, p: BoxPair, style: NumberStyle) -> str:
    where = f"  ({p.label})" if p.label else ""
    return f"Pair {i}: A = {_given(p, 'a', style.num)}, B = {_given(p, 'b', style.num)}{where}"


def _table_title(result: BoxCompareResult, style: NumberStyle, single_a: bool) -> str:
    if result.same_distance is not None:
        return "Sorted by IoU, largest first"
    title = "All pairs"
    if single_a:
        title += f" (A = {_box(result.pairs[0].a, style.num)})"
    return title


def to_rich(result: BoxCompareResult, settings: OutputSettings) -> list:
    from rich.text import Text

    style = settings.style
    out: list = []
    info = result.same_distance
    single_a = len({p.a for p in result.pairs}) == 1
    if info is not None:
        out.append(Heading(f"Same {info.metric.upper()} distance, different IoU", bold=True))
        out.append(Text(_intro_text(result, style)))
        out.append(Derivation(same_distance_lines(info, result.pairs[0].a), style))
        out.append(Text(_closing_text(result)))
    else:
        out.append(Heading("Box overlap (IoU, GIoU, DIoU, CIoU) against L1/L2 distances", bold=True))
        out.append(Text("Corner form (x1, y1, x2, y2); centre-size form (cx, cy, w, h). GIoU: Rezatofighi et al. 2019; DIoU, CIoU: Zheng et al. 2020."))
        shown = result.pairs[:MAX_DERIVATIONS]
        for i, p in enumerate(shown, start=1):
            out.append(Text(""))
            out.append(Heading(_pair_heading(i, p, style), dim_rule=True))
            out.append(Derivation(p.lines(), style))
        if len(result.pairs) > len(shown):
            out.append(Text(""))
            out.append(Text(f"(Derivations shown for the first {MAX_DERIVATIONS} of {len(result.pairs)} pairs; the table and --json have all.)"))
    if info is not None or len(result.pairs) > 1:
        header, rows, keys = _summary_rows(result, style, show_a=not single_a)
        out.append(Text(""))
        out.append(FitTable(header, rows, title=_table_title(result, style, single_a), keys=keys))
    if info is not None:
        out.append(Text(_spread_line(result, style), style="bold"))
    return out


def to_markdown(result: BoxCompareResult, settings: OutputSettings) -> str:
    style = settings.style
    info = result.same_distance
    md: list[str] = []
    single_a = len({p.a for p in result.pairs}) == 1
    if info is not None:
        md += [f"## Same {info.metric.upper()} distance, different IoU", ""]
        md += [_intro_text(result, style), ""]
        md += markdown_items(same_distance_lines(info, result.pairs[0].a), style)
        md += ["", _closing_text(result), ""]
    else:
        md += ["## Box overlap against L1/L2 distances", ""]
        md += ["Corner form (x1, y1, x2, y2); centre-size form (cx, cy, w, h). GIoU: Rezatofighi et al. 2019; DIoU, CIoU: Zheng et al. 2020.", ""]
        for i, p in enumerate(result.pairs[:MAX_DERIVATIONS], start=1):
            md += [f"### {escape_markdown(_pair_heading(i, p, style))}", ""]
            md += markdown_items(p.lines(), style)
            md.append("")
        if len(result.pairs) > MAX_DERIVATIONS:
            md += [f"(Derivations shown for the first {MAX_DERIVATIONS} of {len(result.pairs)} pairs; the table and --json have all.)", ""]
    if info is not None or len(result.pairs) > 1:
        header, rows, _ = _summary_rows(result, style, show_a=not single_a)
        md += [f"**{_table_title(result, style, single_a)}**", ""]
        md += markdown_table(header, rows)
        md.append("")
    if info is not None:
        md.append(f"**{_spread_line(result, style)}**")
    return "\n".join(md)


LEGEND_LIMIT = 20


def draw(result: BoxCompareResult, figure) -> None:
    """The reference box (black) and each compared box, labelled with its IoU; one panel per reference."""
    import numpy as np
    from matplotlib.patches import Polygon, Rectangle

    groups: dict[tuple, list[tuple[int, BoxPair]]] = {}
    for number, p in enumerate(result.pairs, start=1):
        groups.setdefault(p.a, []).append((number, p))
    references = list(groups)[:12]
    cols = min(len(references), 4)
    rows = math.ceil(len(references) / cols)
    colors = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:olive", "tab:cyan", "tab:gray"]
    info = result.same_distance
    for k, a_given in enumerate(references, start=1):
        ax = figure.add_subplot(rows, cols, k)
        pairs = groups[a_given]
        # coordinates near ±1e308: widths and the axis span overflow a float, so the panel is
        # drawn with every coordinate scaled by a power of two and says so
        extent = max(abs(v) for box in [a_given] + [p.b for _, p in pairs] for v in box)
        if info is not None:
            extent = max(extent, abs(a_given[2]) + info.radius, abs(a_given[3]) + info.radius)
        scale = 2.0 ** -(math.frexp(extent)[1]) if extent > 1e100 else 1.0
        a = tuple(v * scale for v in a_given)
        radius = info.radius * scale if info is not None else None
        all_boxes = np.array([a] + [[v * scale for v in p.b] for _, p in pairs])
        ax.add_patch(Rectangle(a[:2], a[2] - a[0], a[3] - a[1], fill=False, edgecolor="black", linewidth=2.5, label="A (reference)"))
        if len(pairs) > len(colors):
            from matplotlib import colormaps

            cmap = colormaps["tab20" if len(pairs) <= 20 else "hsv"]
            palette = [cmap(i / (20 if len(pairs) <= 20 else len(pairs))) for i in range(len(pairs))]
        else:
            palette = colors
        # past LEGEND_LIMIT boxes a legend (and a name per box) is unreadable, takes seconds
        # to lay out and squeezes the axes to nothing: the boxes are drawn unnamed
        named = len(pairs) <= LEGEND_LIMIT
        for i, (number, p) in enumerate(pairs):
            color = palette[i]
            b = tuple(v * scale for v in p.b)
            name = f"θ = {p.angle:g}°" if p.angle is not None else f"B{number}"
            ax.add_patch(Rectangle(b[:2], b[2] - b[0], b[3] - b[1], fill=False, edgecolor=color, linewidth=1.4,
                                   linestyle="--" if info is not None else "-", label=f"{name}: IoU {NumberStyle(digits=3).num(p.iou)}" if named else "_nolegend_"))
            if info is not None:
                ax.plot([b[2]], [b[3]], "o", color=color, markersize=4)
            elif named:
                ax.annotate(name, (b[0], b[1]), xytext=(3, -10), textcoords="offset points", color=color, fontsize=8)
        if info is not None:
            t = np.linspace(0, 2 * np.pi, 241)
            if info.metric == "l2":
                xs, ys = np.cos(t), np.sin(t)
            else:
                xs, ys = np.cos(t) / (np.abs(np.cos(t)) + np.abs(np.sin(t))), np.sin(t) / (np.abs(np.cos(t)) + np.abs(np.sin(t)))
            ax.add_patch(Polygon(np.c_[a[2] + radius * xs, a[3] + radius * ys], closed=True, fill=False,
                                 edgecolor="gray", linestyle=":", linewidth=1))
        lo = all_boxes[:, :2].min(axis=0)
        hi = all_boxes[:, 2:].max(axis=0)
        if info is not None:
            hi = np.maximum(hi, np.array(a[2:]) + radius)
        pad = 0.08 * max(hi - lo)
        scaled = f" (× 2^{math.frexp(scale)[1] - 1})" if scale != 1.0 else ""
        ax.set_xlabel(f"x{scaled}", fontsize=9)
        ax.set_ylabel(f"y{scaled}, growing downwards (image coordinates)", fontsize=9)
        ax.set_xlim(lo[0] - pad, hi[0] + pad)
        ax.set_ylim(hi[1] + pad, lo[1] - pad)  # image coordinates: y grows downwards
        ax.set_aspect("equal")
        ax.grid(alpha=0.25)
        if info is not None:
            ax.set_title(f"same {info.metric.upper()} distance R = {info.radius:g}: IoU from {info.iou_min:.3f} to {info.iou_max:.3f}")
            ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
        elif len(references) == 1:
            ax.set_title("boxes compared with A (black)")
            ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
        else:
            ax.legend(fontsize=6, loc="best", framealpha=0.8)
    if len(groups) > len(references):
        figure.suptitle(f"first {len(references)} of {len(groups)} reference boxes")
