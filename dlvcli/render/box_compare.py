"""``box-compare`` results as a worked solution (rich, Markdown), as JSON, and as a picture of the boxes.

The helpers ``number_formatter``, ``derivation_grid`` and ``markdown_steps`` turn
:class:`dlvcli.core.steps.Step` lists into text; ``dlvcli.render.focal`` uses them too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

from dlvcli.core.box_compare import BoxCompareResult, BoxPair
from dlvcli.core.steps import Step
from dlvcli.render.numbers import NumberStyle, fraction_text, latex_fraction
from dlvcli.render.output import OutputSettings

# pairs mode prints the full derivation of at most this many pairs (the table has them all)
MAX_DERIVATIONS = 20
ONE_LINE = 90  # a derivation longer than this is broken after the formula


# --------------------------------------------------------------------------- shared helpers


def number_formatter(style: NumberStyle, latex: bool = False) -> Callable[..., str]:
    """``fmt(value, exact=None)``: whole numbers as integers, others with ``--digits`` decimals,
    trailing zeros dropped when the value is that short decimal up to float rounding (0.5, and
    0.1 for 1 − 0.9 = 0.09999999999999998, but 0.1429 for 1/7); scientific when tiny or huge;
    fractions with ``--exact`` when known."""

    def fmt(value: Any, exact: Fraction | None = None) -> str:
        if style.exact and exact is not None:
            return latex_fraction(exact) if latex else fraction_text(exact)
        if value is None:
            return "—"
        v = float(value)
        # a whole number (or one off by float rounding only, like 0.9999999999999999) prints as one
        if math.isfinite(v) and abs(v) < 1e15 and abs(v - round(v)) <= 1e-12 * max(1.0, abs(v)):
            return str(int(round(v)))
        text = style.sci(v)
        if "." in text and "e" not in text:
            # 0.5000 → 0.5 when the value is 0.5 (up to float rounding, as for whole numbers);
            # 0.1429 stays: it is rounded
            short = text.rstrip("0")
            if abs(float(short) - v) <= 1e-12 * max(1.0, abs(v)):
                return short
        return text

    return fmt


def value_text(step: Step, fmt: Callable[..., str], latex: bool = False) -> str:
    """The result of a step: a number, a box, or ``p/q ≈ x.xxxx`` for a fraction with ``--exact``."""
    value = step.value
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(fmt(v) for v in value) + ")"
    text = fmt(value, step.exact)
    plain = fmt(value)
    if text != plain and step.exact is not None and step.exact.denominator != 1:
        approx = r"\approx" if latex else "≈"
        return f"{text} {approx} {plain}"
    return text


def _same_number(substituted: str, value: str) -> bool:
    """``p_t = 9/10 = 9/10 ≈ 0.9`` says the number twice: leave the substitution out then."""
    return substituted == value or value.startswith(substituted + " ≈") or value.startswith(substituted + r" \approx")


def derivation_grid(steps: Sequence[Step], fmt: Callable[..., str], indent: int = 2):
    """A two-column rich grid: label | formula = numbers = value (broken over lines when long)."""
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2), pad_edge=False)
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(no_wrap=False)
    for step in steps:
        value = value_text(step, fmt) if step.value is not None else ""
        parts = [step.formula]
        if step.substituted and not _same_number(step.substituted, value):
            parts.append(step.substituted)
        if value:
            parts.append(value)
        one_line = " = ".join(parts)
        if len(one_line) <= ONE_LINE:
            text = one_line
        else:
            lines = [parts[0]] + ["  = " + p for p in parts[1:]]
            text = "\n".join(lines)
        grid.add_row(Text(" " * indent + step.label), Text(text))
    return grid


def markdown_steps(steps: Sequence[Step], fmt: Callable[..., str]) -> list[str]:
    """One Markdown list item per step: ``- label: $formula = numbers = value$``."""
    lines = []
    for step in steps:
        value = value_text(step, fmt, latex=True) if step.value is not None else ""
        parts = [step.latex or step.formula]
        if step.substituted and not _same_number(step.substituted, value):
            parts.append(step.substituted)
        if value:
            parts.append(value)
        lines.append(f"- {step.label}: $" + " = ".join(parts) + "$")
    return lines


def _markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---:|" * len(header)]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out


# --------------------------------------------------------------------------- the view


def _box(box: Sequence[float], fmt: Callable[..., str]) -> str:
    return "(" + ", ".join(fmt(v) for v in box) + ")"


def _given(pair: BoxPair, side: str, fmt: Callable[..., str]) -> str:
    box, box_format = (pair.a_given, pair.a_format) if side == "a" else (pair.b_given, pair.b_format)
    if box_format == "xyxy":
        return _box(box, fmt)
    return f"{box_format} {_box(box, fmt)}"


EXACT_KEYS = ("intersection", "union", "iou", "giou", "diou", "l1", "l1_cxcywh")


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


def _summary_rows(result: BoxCompareResult, fmt: Callable[..., str], show_a: bool) -> tuple[list[str], list[list[str]]]:
    info = result.same_distance
    header = ["#"]
    if info is not None:
        header.append("θ")
    if show_a:
        header.append("A")
    header += ["B's (x2, y2)" if info is not None else "B", "IoU", "GIoU", "DIoU", "CIoU", "L1", "L2", "L1 (cxcywh)", "L2 (cxcywh)"]
    rows = []
    for i, p in enumerate(result.pairs, start=1):
        row = [str(i)]
        if info is not None:
            row.append(f"{p.angle:g}°")
        if show_a:
            row.append(_box(p.a, fmt))
        x = p.exact or {}
        row += [
            _box(p.b[2:] if info is not None else p.b, fmt),
            fmt(p.iou, x.get("iou")),
            fmt(p.giou, x.get("giou")),
            fmt(p.diou, x.get("diou")),
            fmt(p.ciou),
            fmt(p.l1, x.get("l1")),
            fmt(p.l2),
            fmt(p.l1_cxcywh, x.get("l1_cxcywh")),
            fmt(p.l2_cxcywh),
        ]
        rows.append(row)
    return header, rows


def _same_distance_lines(result: BoxCompareResult, fmt: Callable[..., str]) -> list[str]:
    info = result.same_distance
    a = result.pairs[0]
    x1, y1, x2, y2 = (fmt(v) for v in a.a)
    r = fmt(info.radius)
    if info.metric == "l2":
        shape = "circle"
        u = "(cos θ, sin θ)"
        check = "L2 = √(0² + 0² + (R u_x)² + (R u_y)²) = R"
    else:
        shape = "L1 diamond"
        u = "(cos θ, sin θ) / (|cos θ| + |sin θ|)"
        check = "L1 = |0| + |0| + |R u_x| + |R u_y| = R"
    lines = [
        f"Reference A = ({x1}, {y1}, {x2}, {y2}); every B keeps A's top-left corner and puts its bottom-right corner "
        f"on the {shape} of radius R = {r} around ({x2}, {y2}):",
        f"B_k = (x1, y1, x2 + R u_x, y2 + R u_y),  u = {u},  θ_k = 360° · k / {info.n}",
        f"The corner vectors differ by (0, 0, R u_x, R u_y), so {check} for every k.",
    ]
    return lines


def _spread_line(result: BoxCompareResult, fmt: Callable[..., str]) -> str:
    info = result.same_distance
    best, worst = result.pairs[0], result.pairs[-1]
    metric = info.metric.upper()
    return (
        f"Same {metric} distance {fmt(info.radius)}, different overlap: IoU from {fmt(worst.iou)} (θ = {worst.angle:g}°) "
        f"to {fmt(best.iou)} (θ = {best.angle:g}°), a spread of {fmt(info.spread)}."
    )


def to_rich(result: BoxCompareResult, settings: OutputSettings) -> list:
    from rich.rule import Rule
    from rich.table import Table
    from rich.text import Text

    fmt = number_formatter(settings.style)
    out: list = []
    info = result.same_distance
    single_a = len({p.a for p in result.pairs}) == 1
    if info is not None:
        out.append(Rule(Text(f"Same {info.metric.upper()} distance, different IoU", style="bold"), align="left"))
        out += [Text(line) for line in _same_distance_lines(result, fmt)]
    else:
        out.append(Rule(Text("Box overlap (IoU, GIoU, DIoU, CIoU) against L1/L2 distances", style="bold"), align="left"))
        out.append(Text("Corner form (x1, y1, x2, y2); centre-size form (cx, cy, w, h). GIoU: Rezatofighi et al. 2019; DIoU, CIoU: Zheng et al. 2020."))
        shown = result.pairs[:MAX_DERIVATIONS]
        for i, p in enumerate(shown, start=1):
            where = f"  ({p.label})" if p.label else ""
            out.append(Text(""))
            out.append(Rule(Text(f"Pair {i}: A = {_given(p, 'a', fmt)}, B = {_given(p, 'b', fmt)}{where}"), align="left", style="dim"))
            out.append(derivation_grid(p.steps(fmt), fmt))
        if len(result.pairs) > len(shown):
            out.append(Text(""))
            out.append(Text(f"(Derivations shown for the first {MAX_DERIVATIONS} of {len(result.pairs)} pairs; the table and --json have all.)"))
    if info is not None or len(result.pairs) > 1:
        header, rows = _summary_rows(result, fmt, show_a=not single_a)
        title = "Sorted by IoU, largest first" if info is not None else "All pairs"
        if single_a and info is None:
            title += f" (A = {_box(result.pairs[0].a, fmt)})"
        table = Table(title=title, title_justify="left", header_style="bold")
        for name in header:
            table.add_column(name, justify="right", no_wrap=name in ("A", "B", "B's (x2, y2)"))
        for row in rows:
            table.add_row(*row)
        out.append(Text(""))
        out.append(table)
    if info is not None:
        out.append(Text(_spread_line(result, fmt), style="bold"))
    return out


def to_markdown(result: BoxCompareResult, settings: OutputSettings) -> str:
    fmt = number_formatter(settings.style)
    fmt_latex = number_formatter(settings.style, latex=True)
    info = result.same_distance
    md: list[str] = []
    if info is not None:
        md += [f"## Same {info.metric.upper()} distance, different IoU", ""]
        md += [line + "  " for line in _same_distance_lines(result, fmt)]
        md.append("")
    else:
        md += ["## Box overlap against L1/L2 distances", ""]
        for i, p in enumerate(result.pairs[:MAX_DERIVATIONS], start=1):
            md += [f"### Pair {i}: A = {_given(p, 'a', fmt)}, B = {_given(p, 'b', fmt)}", ""]
            md += markdown_steps(p.steps(fmt_latex, latex=True), fmt_latex)
            md.append("")
        if len(result.pairs) > MAX_DERIVATIONS:
            md += [f"(Derivations shown for the first {MAX_DERIVATIONS} of {len(result.pairs)} pairs.)", ""]
    if info is not None or len(result.pairs) > 1:
        single_a = len({p.a for p in result.pairs}) == 1
        header, rows = _summary_rows(result, fmt, show_a=not single_a)
        md += _markdown_table(header, rows)
        md.append("")
    if info is not None:
        md.append(f"**{_spread_line(result, fmt)}**")
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
                                   linestyle="--" if info is not None else "-", label=f"{name}: IoU {p.iou:.3f}" if named else "_nolegend_"))
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
        if scale != 1.0:
            ax.set_xlabel(f"coordinates × 2^{math.frexp(scale)[1] - 1}", fontsize=8)
        ax.set_xlim(lo[0] - pad, hi[0] + pad)
        ax.set_ylim(hi[1] + pad, lo[1] - pad)  # image coordinates: y grows downwards
        ax.set_aspect("equal")
        ax.grid(alpha=0.25)
        if info is not None:
            ax.set_title(f"same {info.metric.upper()} distance R = {info.radius:g}: IoU {info.iou_min:.3f} … {info.iou_max:.3f}")
            ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
        elif len(references) == 1:
            ax.set_title("boxes compared with A (black)")
            ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
        else:
            ax.legend(fontsize=6, loc="best", framealpha=0.8)
    if len(groups) > len(references):
        figure.suptitle(f"first {len(references)} of {len(groups)} reference boxes")
