"""IoU and its relatives (GIoU, DIoU, CIoU) against L1/L2 distances between boxes (docs/box-compare.md).

Boxes are float arrays of shape (..., 4) in corner form (x1, y1, x2, y2) unless a
``box_format`` says otherwise.  Every overlap measure here is built on the one
intersection/union helper, :func:`dlvcli.core.boxes.intersection_union`.

References:
    Rezatofighi et al., "Generalized Intersection over Union", CVPR 2019 (GIoU).
    Zheng et al., "Distance-IoU Loss: Faster and Better Learning for Bounding Box
    Regression", AAAI 2020 (DIoU, CIoU).
"""

from __future__ import annotations

from dlvcli.core.display import WorkedSolution  # str() and Jupyter show the worked solution

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from dlvcli.core.boxes import BOX_FORMATS, box_area, enclosing_box, from_xyxy, intersection_union, to_xyxy
from dlvcli.core.expr import Add, Div, Expr, Fn, Group, Line, Num, Sym, atan, cos, fmax, fmin, juxtapose, sin, sqrt, vector

FOUR_OVER_PI_SQUARED = 4.0 / math.pi**2
DISTANCE_METRICS = ("l2", "l1")

# the measures computed for every pair, in the order box_metrics returns them
METRIC_NAMES = (
    "area_a", "area_b", "intersection", "union", "iou", "enclosing", "enclosing_area", "giou",
    "center_distance_sq", "diagonal_sq", "diou", "v", "alpha", "ciou", "l1", "l2", "l1_cxcywh", "l2_cxcywh",
)  # fmt: skip


# --------------------------------------------------------------------------- validation


def check_boxes(boxes, what: str = "box") -> np.ndarray:
    """Return ``boxes`` (xyxy, shape (N, 4)) after checking they are finite with x1 < x2 and y1 < y2.

    Raises ``ValueError`` naming the first bad box (1-based) and what was expected.
    """
    b = np.asarray(boxes, dtype=float)
    if b.ndim == 0 or b.shape[-1] != 4:
        raise ValueError(f"{what}: expected 4 numbers per box, got shape {b.shape}")
    flat = b.reshape(-1, 4)
    for i, box in enumerate(flat):
        name = what if len(flat) == 1 else f"{what} {i + 1}"
        coords = ", ".join(f"{c:g}" for c in box)
        if not np.all(np.isfinite(box)):
            raise ValueError(f"{name} ({coords}) has a coordinate that is not a finite number")
        if not box[2] > box[0] or not box[3] > box[1]:
            axis = "x2 ≤ x1" if not box[2] > box[0] else "y2 ≤ y1"
            raise ValueError(
                f"{name} (x1, y1, x2, y2 = {coords}) has {axis}: zero or negative area "
                "(expected x1 < x2 and y1 < y2, i.e. positive width and height)"
            )
    return b


# --------------------------------------------------------------------------- vectorised measures


def box_metrics(a, b) -> dict[str, np.ndarray]:
    """Every measure of docs/box-compare.md for xyxy boxes ``a`` and ``b`` (broadcast against each other).

    Shapes: ``a`` and ``b`` (..., 4) → each scalar measure (...,), ``enclosing`` (..., 4).

    .. math::

        IoU = I / U, \\quad GIoU = IoU - (|C| - U) / |C|, \\quad
        DIoU = IoU - \\rho^2 / c^2, \\quad CIoU = DIoU - \\alpha v,

        v = \\tfrac{4}{\\pi^2} (\\arctan(w_a/h_a) - \\arctan(w_b/h_b))^2, \\quad
        \\alpha = v / ((1 - IoU) + v)  \\; (0 \\text{ where } v = 0)

    with C the smallest enclosing box, ρ the distance between the centres and c the
    diagonal of C.  ``l1``/``l2`` are the distances between the corner vectors
    (x1, y1, x2, y2), ``l1_cxcywh``/``l2_cxcywh`` between the (cx, cy, w, h) vectors.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a, b = np.broadcast_arrays(a, b)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        # The ratios (IoU, GIoU, DIoU, v, α, CIoU) do not change when both boxes are scaled
        # by the same factor, so they are computed on the pair scaled by a power of two
        # (exact in floating point) that brings its largest coordinate to [0.5, 1): the
        # same bits for everyday boxes, and still correct where the areas themselves
        # overflow (coordinates near 1e308) or underflow (near 1e-320).
        _, exponent = np.frexp(np.maximum(np.max(np.abs(a), axis=-1), np.max(np.abs(b), axis=-1)))
        shift = -exponent[..., None]  # ldexp, not a * 2.0**shift: 2**1063 (for 1e-320) is beyond a float
        # v needs each box's aspect ratio only: from the box scaled on its own (a 5e-324-wide
        # box next to a 1-wide one would underflow to 0/0 in the pair's common scale)
        atan_a, atan_b = (np.arctan(_aspect(_scaled(box))) for box in (a, b))
        ratios = _ratios(np.ldexp(a, shift), np.ldexp(b, shift), atan_a, atan_b)
        inter, union = intersection_union(a, b)
        enclosing = enclosing_box(a, b)
        enclosing_area = box_area(enclosing)
        center_a = (a[..., :2] + a[..., 2:]) / 2
        center_b = (b[..., :2] + b[..., 2:]) / 2
        center_distance_sq = np.sum((center_a - center_b) ** 2, axis=-1)
        diagonal_sq = np.sum((enclosing[..., 2:] - enclosing[..., :2]) ** 2, axis=-1)
        corner_diff = a - b
        size_diff = from_xyxy(a, "cxcywh") - from_xyxy(b, "cxcywh")
    return {
        "area_a": box_area(a),
        "area_b": box_area(b),
        "intersection": inter,
        "union": union,
        "iou": ratios["iou"],
        "enclosing": enclosing,
        "enclosing_area": enclosing_area,
        "giou": ratios["giou"],
        "center_distance_sq": center_distance_sq,
        "diagonal_sq": diagonal_sq,
        "diou": ratios["diou"],
        "v": ratios["v"],
        "alpha": ratios["alpha"],
        "ciou": ratios["ciou"],
        "l1": np.sum(np.abs(corner_diff), axis=-1),
        "l2": _norm(corner_diff),
        "l1_cxcywh": np.sum(np.abs(size_diff), axis=-1),
        "l2_cxcywh": _norm(size_diff),
    }


def _scaled(boxes: np.ndarray) -> np.ndarray:
    """Each box times the power of two that brings its largest |coordinate| to [0.5, 1) (exact)."""
    _, exponent = np.frexp(np.max(np.abs(boxes), axis=-1))
    return np.ldexp(boxes, -exponent[..., None])


def _aspect(boxes: np.ndarray) -> np.ndarray:
    return (boxes[..., 2] - boxes[..., 0]) / (boxes[..., 3] - boxes[..., 1])


def _norm(diff: np.ndarray) -> np.ndarray:
    """√(Σ dᵢ²) over the last axis, without squares that underflow or overflow on the way."""
    largest = np.max(np.abs(diff), axis=-1)
    _, exponent = np.frexp(largest)
    root = np.sqrt(np.sum(np.ldexp(diff, -exponent[..., None]) ** 2, axis=-1))
    return np.where(np.isfinite(largest) & (largest > 0), np.ldexp(root, exponent), largest)


def _ratios(a: np.ndarray, b: np.ndarray, atan_a: np.ndarray, atan_b: np.ndarray) -> dict[str, np.ndarray]:
    """IoU, GIoU, DIoU, v, α and CIoU of xyxy boxes (the scale-free measures of :func:`box_metrics`);
    ``atan_a``/``atan_b`` are atan(w/h) of each box."""
    inter, union = intersection_union(a, b)
    iou = inter / union
    enclosing = enclosing_box(a, b)
    enclosing_area = box_area(enclosing)
    giou = iou - (enclosing_area - union) / enclosing_area
    center_a = (a[..., :2] + a[..., 2:]) / 2
    center_b = (b[..., :2] + b[..., 2:]) / 2
    center_distance_sq = np.sum((center_a - center_b) ** 2, axis=-1)
    diagonal_sq = np.sum((enclosing[..., 2:] - enclosing[..., :2]) ** 2, axis=-1)
    diou = iou - center_distance_sq / diagonal_sq
    v = FOUR_OVER_PI_SQUARED * (atan_a - atan_b) ** 2
    alpha = np.where(v > 0, v / np.where(v > 0, (1 - iou) + v, 1.0), 0.0)
    ciou = diou - alpha * v
    return {"iou": iou, "giou": giou, "diou": diou, "v": v, "alpha": alpha, "ciou": ciou}


def giou(a, b) -> np.ndarray:
    """Generalized IoU of xyxy boxes (broadcast): IoU − (|C| − U)/|C|, in (−1, 1]."""
    return box_metrics(a, b)["giou"]


def diou(a, b) -> np.ndarray:
    """Distance IoU of xyxy boxes (broadcast): IoU − ρ²/c², in (−1, 1]."""
    return box_metrics(a, b)["diou"]


def ciou(a, b) -> np.ndarray:
    """Complete IoU of xyxy boxes (broadcast): DIoU − αv (Zheng et al. 2020; no case split at IoU 0.5)."""
    return box_metrics(a, b)["ciou"]


def _exact_metrics(a: Sequence[Fraction], b: Sequence[Fraction]) -> dict[str, Fraction]:
    """The rational measures computed with fractions (xyxy boxes as 4 Fractions each)."""
    ax1, ay1, ax2, ay2 = a
    bx1, by1, bx2, by2 = b
    area_a = (ax2 - ax1) * (ay2 - ay1)
    area_b = (bx2 - bx1) * (by2 - by1)
    inter = max(Fraction(0), min(ax2, bx2) - max(ax1, bx1)) * max(Fraction(0), min(ay2, by2) - max(ay1, by1))
    union = area_a + area_b - inter
    iou = inter / union
    cx1, cy1, cx2, cy2 = min(ax1, bx1), min(ay1, by1), max(ax2, bx2), max(ay2, by2)
    enclosing_area = (cx2 - cx1) * (cy2 - cy1)
    rho2 = ((ax1 + ax2) / 2 - (bx1 + bx2) / 2) ** 2 + ((ay1 + ay2) / 2 - (by1 + by2) / 2) ** 2
    c2 = (cx2 - cx1) ** 2 + (cy2 - cy1) ** 2
    sa = ((ax1 + ax2) / 2, (ay1 + ay2) / 2, ax2 - ax1, ay2 - ay1)
    sb = ((bx1 + bx2) / 2, (by1 + by2) / 2, bx2 - bx1, by2 - by1)
    diou = iou - rho2 / c2
    # v (and so α and CIoU) is rational only when the aspect ratios are equal: v = α = 0
    same_aspect = (ax2 - ax1) * (by2 - by1) == (bx2 - bx1) * (ay2 - ay1)
    ciou_terms = {"v": Fraction(0), "alpha": Fraction(0), "ciou": diou} if same_aspect else {}
    return {
        "area_a": area_a,
        "area_b": area_b,
        "intersection": inter,
        "union": union,
        "iou": iou,
        "enclosing_area": enclosing_area,
        "giou": iou - (enclosing_area - union) / enclosing_area,
        "center_distance_sq": rho2,
        "diagonal_sq": c2,
        "diou": diou,
        **ciou_terms,
        "l1": sum((abs(x - y) for x, y in zip(a, b)), Fraction(0)),
        "l2_sq": sum(((x - y) ** 2 for x, y in zip(a, b)), Fraction(0)),
        "l1_cxcywh": sum((abs(x - y) for x, y in zip(sa, sb)), Fraction(0)),
        "l2_cxcywh_sq": sum(((x - y) ** 2 for x, y in zip(sa, sb)), Fraction(0)),
    }


def _as_fraction(x: Any) -> Fraction:
    """The rational a user typed: a Fraction or int as is, a float by its shortest decimal (0.1 → 1/10)."""
    if isinstance(x, (Fraction, int)) and not isinstance(x, bool):
        return Fraction(x)
    return Fraction(repr(float(x)))


# --------------------------------------------------------------------------- result objects


@dataclass(frozen=True)
class BoxPair:
    """One compared pair: the boxes (xyxy), every measure of docs/box-compare.md, and how it was reached.

    ``a_given``/``b_given`` are the boxes as given, in ``a_format``/``b_format``.
    ``exact`` holds the rational measures as fractions when computed with ``exact=True``
    (``iou``, ``giou``, ``diou``, ``l1``, …; ``l2_sq`` is L2², as L2 itself may be irrational).
    ``label`` says where the pair came from (a CSV line, a direction θ), ``angle`` is θ in
    degrees for the boxes made by :func:`same_distance_boxes`.
    """

    a: tuple[float, float, float, float]
    b: tuple[float, float, float, float]
    a_given: tuple[float, float, float, float]
    b_given: tuple[float, float, float, float]
    a_format: str
    b_format: str
    area_a: float
    area_b: float
    intersection: float
    union: float
    iou: float
    enclosing: tuple[float, float, float, float]
    enclosing_area: float
    giou: float
    center_distance_sq: float
    diagonal_sq: float
    diou: float
    v: float
    alpha: float
    ciou: float
    l1: float
    l2: float
    l1_cxcywh: float
    l2_cxcywh: float
    exact: dict[str, Fraction] | None = None
    label: str | None = None
    angle: float | None = None

    @property
    def a_cxcywh(self) -> tuple[float, ...]:
        return tuple(float(x) for x in from_xyxy(self.a, "cxcywh"))

    @property
    def b_cxcywh(self) -> tuple[float, ...]:
        return tuple(float(x) for x in from_xyxy(self.b, "cxcywh"))

    def _x(self, name: str) -> Fraction | None:
        return None if self.exact is None else self.exact.get(name)

    def lines(self) -> tuple[Line, ...]:
        """The worked solution for this pair as expression lines (formula, numbers, value),
        the numbers from this result; ``dlvcli.render.derivation`` prints them as text and LaTeX."""
        out: list[Line] = []
        x = self._x

        def num(value: float, name: str | None = None) -> Num:
            return Num(value, None if name is None else x(name))

        for side, given, fmt_name, box in (("A", self.a_given, self.a_format, self.a), ("B", self.b_given, self.b_format, self.b)):
            if fmt_name == "xyxy":
                continue
            gx, gy, gw, gh = (Num(v) for v in given)
            if fmt_name == "xywh":
                formula = vector(SX, SY, SX + SW, SY + SH)
                numbers = vector(gx, gy, gx + gw, gy + gh)
            else:
                formula = vector(SCX - SW / 2, SCY - SH / 2, SCX + SW / 2, SCY + SH / 2)
                numbers = vector(gx - gw / 2, gy - gh / 2, gx + gw / 2, gy + gh / 2)
            out.append(Line(Sym(side), formula, numbers, box, label=f"{side} in xyxy (from {fmt_name})"))

        (ax1, ay1, ax2, ay2), (bx1, by1, bx2, by2) = ([Num(v) for v in self.a], [Num(v) for v in self.b])
        out.append(Line(abs_(Sym("A")), Group(X2A - X1A) * Group(Y2A - Y1A), Group(ax2 - ax1) * Group(ay2 - ay1),
                        self.area_a, x("area_a"), label="area of A"))
        out.append(Line(abs_(Sym("B")), Group(X2B - X1B) * Group(Y2B - Y1B), Group(bx2 - bx1) * Group(by2 - by1),
                        self.area_b, x("area_b"), label="area of B"))
        iw = min(self.a[2], self.b[2]) - max(self.a[0], self.b[0])
        ih = min(self.a[3], self.b[3]) - max(self.a[1], self.b[1])

        def overlap(hi_a, hi_b, lo_a, lo_b):
            return fmax(Num(0), fmin(hi_a, hi_b) - fmax(lo_a, lo_b))

        out.append(Line(
            I, overlap(X2A, X2B, X1A, X1B) * overlap(Y2A, Y2B, Y1A, Y1B), Num(max(iw, 0.0)) * Num(max(ih, 0.0)),
            self.intersection, x("intersection"), label="intersection",
            parts=(overlap(ax2, bx2, ax1, bx1) * overlap(ay2, by2, ay1, by1),),
        ))
        out.append(Line(U, abs_(Sym("A")) + abs_(Sym("B")) - I, num(self.area_a, "area_a") + num(self.area_b, "area_b") - num(self.intersection, "intersection"),
                        self.union, x("union"), label="union"))
        out.append(Line(IOU, Div(I, U), Div(num(self.intersection, "intersection"), num(self.union, "union")), self.iou, x("iou"), label="IoU"))
        out.append(Line(
            Sym("C"), vector(fmin(X1A, X1B), fmin(Y1A, Y1B), fmax(X2A, X2B), fmax(Y2A, Y2B)),
            vector(fmin(ax1, bx1), fmin(ay1, by1), fmax(ax2, bx2), fmax(ay2, by2)), self.enclosing, label="enclosing box C",
        ))
        cx1, cy1, cx2, cy2 = (Num(v) for v in self.enclosing)
        out.append(Line(abs_(Sym("C")), Group(X2C - X1C) * Group(Y2C - Y1C), Group(cx2 - cx1) * Group(cy2 - cy1),
                        self.enclosing_area, x("enclosing_area"), label="area of C"))
        area_c = num(self.enclosing_area, "enclosing_area")
        out.append(Line(GIOU, IOU - Div(abs_(Sym("C")) - U, abs_(Sym("C"))),
                        num(self.iou, "iou") - Div(area_c - num(self.union, "union"), area_c), self.giou, x("giou"), label="GIoU"))
        (pa, qa), (pb, qb) = ((self.a[0] + self.a[2]) / 2, (self.a[1] + self.a[3]) / 2), ((self.b[0] + self.b[2]) / 2, (self.b[1] + self.b[3]) / 2)
        out.append(Line(RHO2, Group(CXA - CXB) ** 2 + Group(CYA - CYB) ** 2, Group(Num(pa) - Num(pb)) ** 2 + Group(Num(qa) - Num(qb)) ** 2,
                        self.center_distance_sq, x("center_distance_sq"), label="centre distance² ρ²"))
        out.append(Line(C2, Group(X2C - X1C) ** 2 + Group(Y2C - Y1C) ** 2, Group(cx2 - cx1) ** 2 + Group(cy2 - cy1) ** 2,
                        self.diagonal_sq, x("diagonal_sq"), label="diagonal² of C"))
        out.append(Line(DIOU, IOU - Div(RHO2, C2),
                        num(self.iou, "iou") - Div(num(self.center_distance_sq, "center_distance_sq"), num(self.diagonal_sq, "diagonal_sq")),
                        self.diou, x("diou"), label="DIoU"))
        wa, ha = self.a[2] - self.a[0], self.a[3] - self.a[1]
        wb, hb = self.b[2] - self.b[0], self.b[3] - self.b[1]
        out.append(Line(
            V, FOUR_OVER_PI_SQ * Group(atan(Div(WA, HA)) - atan(Div(WB, HB))) ** 2,
            Num(FOUR_OVER_PI_SQUARED) * Group(atan(Div(Num(wa), Num(ha))) - atan(Div(Num(wb), Num(hb)))) ** 2,
            self.v, x("v"), label="aspect-ratio term v",
        ))
        alpha_formula = Div(V, Group(1 - IOU) + V)
        if self.v > 0 or self.iou < 1:
            out.append(Line(ALPHA, alpha_formula, Div(num(self.v, "v"), Group(1 - num(self.iou, "iou")) + num(self.v, "v")),
                            self.alpha, x("alpha"), label="trade-off α"))
        else:
            out.append(Line(ALPHA, alpha_formula, None, self.alpha, x("alpha"), note="(0/0 when v = 0 and IoU = 1: taken as 0)",
                            label="trade-off α"))
        out.append(Line(CIOU, DIOU - ALPHA * V, num(self.diou, "diou") - num(self.alpha, "alpha") * num(self.v, "v"),
                        self.ciou, x("ciou"), label="CIoU"))
        out.append(Line(L1, SUM_ABS_AB, None, self.l1, x("l1"), label="L1 of (x1,y1,x2,y2)",
                        parts=(_sum(abs_(Num(p) - Num(q)) for p, q in zip(self.a, self.b)),)))
        l2_sq = x("l2_sq")
        out.append(Line(L2, SQRT_SUM_AB, sqrt(Num(_sum_sq(self.a, self.b) if l2_sq is None else _float(l2_sq), l2_sq)),
                        self.l2, _exact_sqrt(l2_sq), label="L2 of (x1,y1,x2,y2)",
                        parts=(sqrt(_sum(Group(Num(p) - Num(q)) ** 2 for p, q in zip(self.a, self.b))),)))
        sa, sb = self.a_cxcywh, self.b_cxcywh
        out.append(Line(L1, SUM_ABS_S, None, self.l1_cxcywh, x("l1_cxcywh"), label="L1 of (cx,cy,w,h)",
                        parts=(_sum(abs_(Num(p) - Num(q)) for p, q in zip(sa, sb)),)))
        l2s_sq = x("l2_cxcywh_sq")
        out.append(Line(L2, SQRT_SUM_S, sqrt(Num(_sum_sq(sa, sb) if l2s_sq is None else _float(l2s_sq), l2s_sq)),
                        self.l2_cxcywh, _exact_sqrt(l2s_sq), label="L2 of (cx,cy,w,h)",
                        parts=(sqrt(_sum(Group(Num(p) - Num(q)) ** 2 for p, q in zip(sa, sb))),)))
        return tuple(out)


def abs_(x) -> Fn:
    return Fn("abs", (x,))


def _sum(terms) -> Expr:
    terms = list(terms)
    return terms[0] if len(terms) == 1 else Add(tuple(terms))


def _corner(name: str, index: str, box: str) -> Sym:
    """x2ᵃ in text, x_2^a in LaTeX."""
    return Sym(f"{name}{index}{'ᵃ' if box == 'a' else 'ᵇ' if box == 'b' else 'ᶜ'}", f"{name}_{index}^{box}")


X1A, Y1A, X2A, Y2A = (_corner(n, i, "a") for n, i in (("x", "1"), ("y", "1"), ("x", "2"), ("y", "2")))
X1B, Y1B, X2B, Y2B = (_corner(n, i, "b") for n, i in (("x", "1"), ("y", "1"), ("x", "2"), ("y", "2")))
X1C, Y1C, X2C, Y2C = (_corner(n, i, "c") for n, i in (("x", "1"), ("y", "1"), ("x", "2"), ("y", "2")))
CXA, CYA, CXB, CYB = Sym("cxᵃ", "c_x^a"), Sym("cyᵃ", "c_y^a"), Sym("cxᵇ", "c_x^b"), Sym("cyᵇ", "c_y^b")
WA, HA, WB, HB = Sym("wᵃ", "w^a"), Sym("hᵃ", "h^a"), Sym("wᵇ", "w^b"), Sym("hᵇ", "h^b")
SX, SY, SW, SH, SCX, SCY = Sym("x"), Sym("y"), Sym("w"), Sym("h"), Sym("cx", "c_x"), Sym("cy", "c_y")
I, U = Sym("I"), Sym("U")
IOU, GIOU, DIOU, CIOU = Sym("IoU", r"\mathrm{IoU}"), Sym("GIoU", r"\mathrm{GIoU}"), Sym("DIoU", r"\mathrm{DIoU}"), Sym("CIoU", r"\mathrm{CIoU}")
RHO2, C2, V, ALPHA = Sym("ρ²", r"\rho^2"), Sym("c²", "c^2"), Sym("v"), Sym("α", r"\alpha")
FOUR_OVER_PI_SQ = Sym("(4/π²)", r"\frac{4}{\pi^2}")
L1, L2 = Sym("L1", "L_1"), Sym("L2", "L_2")
SUM_ABS_AB = Sym("Σᵢ |aᵢ − bᵢ|", r"\sum_i \lvert a_i - b_i \rvert")
SQRT_SUM_AB = Sym("√(Σᵢ (aᵢ − bᵢ)²)", r"\sqrt{\sum_i (a_i - b_i)^2}")
SUM_ABS_S = Sym("Σᵢ |sᵃᵢ − sᵇᵢ|", r"\sum_i \lvert s^a_i - s^b_i \rvert")
SQRT_SUM_S = Sym("√(Σᵢ (sᵃᵢ − sᵇᵢ)²)", r"\sqrt{\sum_i (s^a_i - s^b_i)^2}")


def _sum_sq(a: Sequence[float], b: Sequence[float]) -> float:
    # d * d, not d ** 2: a float's ** raises OverflowError where * gives inf (coordinates near 1e308)
    return sum((x - y) * (x - y) for x, y in zip(a, b))


def _float(value: Fraction) -> float:
    """A fraction as a float, inf when it is beyond the float range (instead of OverflowError)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _exact_sqrt(value: Fraction | None) -> Fraction | None:
    """√value as a fraction when it is one (√(9/4) = 3/2), else None."""
    if value is None or value < 0:
        return None
    num, den = math.isqrt(value.numerator), math.isqrt(value.denominator)
    return Fraction(num, den) if num * num == value.numerator and den * den == value.denominator else None


@dataclass(frozen=True)
class SameDistance:
    """How :func:`same_distance_boxes` built its boxes, and the IoU spread it shows."""

    metric: str  # "l2" (circle) or "l1" (diamond)
    radius: float
    n: int
    iou_min: float
    iou_max: float
    max_radius: float  # R must be below this for every box to keep a positive width and height

    @property
    def spread(self) -> float:
        return self.iou_max - self.iou_min


def same_distance_lines(info: SameDistance, reference: Sequence[float]) -> tuple[Line, ...]:
    """How :func:`same_distance_boxes` builds B_k, and why every B_k is at distance R, as lines."""
    x1, y1, x2, y2 = (Num(v) for v in reference)
    r, ux, uy, k, theta = Sym("R"), Sym("u_x"), Sym("u_y"), Sym("k"), Sym("θ", r"\theta")
    out = [Line(Sym("B_k"), vector(Sym("x1", "x_1"), Sym("y1", "y_1"), Sym("x2", "x_2") + juxtapose(r, ux), Sym("y2", "y_2") + juxtapose(r, uy)),
                vector(x1, y1, x2 + juxtapose(Num(info.radius), ux), y2 + juxtapose(Num(info.radius), uy)), label="B_k")]
    if info.metric == "l2":
        out.append(Line(vector(ux, uy), vector(cos(theta), sin(theta)), label="direction"))
        check = Line(L2, sqrt(Num(0) ** 2 + Num(0) ** 2 + juxtapose(r, ux) ** 2 + juxtapose(r, uy) ** 2),
                     r, info.radius, label="distance", parts=(juxtapose(r, sqrt(ux ** 2 + uy ** 2)),), note="(as u_x² + u_y² = 1)")
    else:
        norm = abs_(cos(theta)) + abs_(sin(theta))
        out.append(Line(vector(ux, uy), vector(Div(cos(theta), norm), Div(sin(theta), norm)), label="direction"))
        check = Line(L1, abs_(Num(0)) + abs_(Num(0)) + abs_(juxtapose(r, ux)) + abs_(juxtapose(r, uy)),
                     r, info.radius, label="distance", parts=(juxtapose(r, Group(abs_(ux) + abs_(uy))),), note="(as |u_x| + |u_y| = 1)")
    out.append(Line(Sym("θ_k", r"\theta_k"), Div(juxtapose(Sym("360°", r"360^\circ"), k), Num(info.n)), label="angles"))
    return tuple(out + [check])


@dataclass(frozen=True)
class BoxCompareResult(WorkedSolution):
    """The pairs compared (in display order), with the same-distance construction when used."""

    box_format: str
    pairs: tuple[BoxPair, ...]
    same_distance: SameDistance | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)


# --------------------------------------------------------------------------- public entry points


def _pairs_from_arrays(
    a_xyxy: np.ndarray,
    b_xyxy: np.ndarray,
    a_given: np.ndarray,
    b_given: np.ndarray,
    a_format: str,
    b_format: str,
    exact_inputs: tuple[list, list] | None,
    labels: Sequence[str | None] | None,
    angles: Sequence[float] | None = None,
) -> list[BoxPair]:
    metrics = box_metrics(a_xyxy, b_xyxy)
    pairs = []
    for i in range(len(a_xyxy)):
        exact = None
        if exact_inputs is not None:
            ea = to_xyxy_exact(exact_inputs[0][i], a_format)
            eb = to_xyxy_exact(exact_inputs[1][i], b_format)
            exact = _exact_metrics(ea, eb)
        values = {name: float(metrics[name][i]) for name in METRIC_NAMES if name != "enclosing"}
        pairs.append(
            BoxPair(
                a=tuple(float(x) for x in a_xyxy[i]),
                b=tuple(float(x) for x in b_xyxy[i]),
                a_given=tuple(float(x) for x in a_given[i]),
                b_given=tuple(float(x) for x in b_given[i]),
                a_format=a_format,
                b_format=b_format,
                enclosing=tuple(float(x) for x in metrics["enclosing"][i]),
                exact=exact,
                label=None if labels is None else labels[i],
                angle=None if angles is None else float(angles[i]),
                **values,
            )
        )
    return pairs


def to_xyxy_exact(box: Sequence[Any], box_format: str) -> tuple[Fraction, ...]:
    """:func:`dlvcli.core.boxes.to_xyxy` for one box, in fractions."""
    x, y, w, h = (_as_fraction(v) for v in box)
    if box_format == "xyxy":
        return (x, y, w, h)
    if box_format == "xywh":
        return (x, y, x + w, y + h)
    if box_format == "cxcywh":
        return (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
    raise ValueError(f"unknown box format {box_format!r}, expected one of {', '.join(BOX_FORMATS)}")


def _given(boxes, box_format: str, what: str) -> tuple[np.ndarray, np.ndarray]:
    if box_format not in BOX_FORMATS:
        raise ValueError(f"unknown box format {box_format!r}, expected one of {', '.join(BOX_FORMATS)}")
    given = np.asarray(boxes, dtype=float)
    if given.ndim == 1:
        given = given[None, :]
    if given.ndim != 2 or given.shape[1] != 4 or len(given) == 0:
        raise ValueError(f"{what}: expected boxes of 4 numbers each ({box_format}), got shape {np.asarray(boxes).shape}")
    return given, check_boxes(to_xyxy(given, box_format), what)


def box_compare(
    a,
    b,
    box_format: str = "xyxy",
    *,
    b_format: str | None = None,
    exact: bool = False,
    labels: Sequence[str | None] | None = None,
) -> BoxCompareResult:
    """Compare reference boxes ``a`` with boxes ``b``: IoU, GIoU, DIoU, CIoU, L1 and L2 (docs/box-compare.md).

    Parameters
    ----------
    a : array-like, shape (4,) or (N, 4)
        The reference box(es), in ``box_format``.  One box is compared with every ``b``;
        N boxes are paired row by row with N boxes ``b``.
    b : array-like, shape (4,) or (M, 4)
        The other boxes, in ``b_format`` (default: ``box_format``).
    box_format : {"xyxy", "xywh", "cxcywh"}
    exact : bool
        Also compute the rational measures as fractions (each float taken as the decimal
        that prints it, so 0.1 is 1/10); see :attr:`BoxPair.exact`.
    labels : optional names for the pairs (shown in the worked solution).

    Raises ``ValueError`` for a box with zero or negative width or height, or
    mismatched counts.

    >>> r = box_compare([0, 0, 4, 4], [2, 2, 6, 6])
    >>> round(r.pairs[0].iou, 6), round(r.pairs[0].giou, 6)
    (0.142857, -0.079365)
    """
    b_format = b_format or box_format
    a_given, a_xyxy = _given(a, box_format, "box a")
    b_given, b_xyxy = _given(b, b_format, "box b")
    if len(a_given) == 1 and len(b_given) > 1:
        a_given = np.repeat(a_given, len(b_given), axis=0)
        a_xyxy = np.repeat(a_xyxy, len(b_given), axis=0)
    if len(a_given) != len(b_given):
        raise ValueError(f"{len(a_given)} boxes a but {len(b_given)} boxes b: give one a, or as many a as b")
    if labels is not None and len(labels) != len(a_given):
        raise ValueError(f"{len(labels)} labels for {len(a_given)} pairs")
    exact_inputs = None
    if exact:
        ea = np.asarray(a, dtype=object).reshape(-1, 4).tolist()
        if len(ea) == 1:
            ea = ea * len(b_given)
        exact_inputs = (ea, np.asarray(b, dtype=object).reshape(-1, 4).tolist())
    pairs = _pairs_from_arrays(a_xyxy, b_xyxy, a_given, b_given, box_format, b_format, exact_inputs, labels)
    return BoxCompareResult(box_format, tuple(pairs), None, _non_finite_warnings(pairs))


def same_distance_directions(n: int, metric: str = "l2") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """θ_k = 360°·k/n and the unit steps (u_x, u_y) on the L2 circle or the L1 diamond.

    On the circle u = (cos θ, sin θ); on the diamond u = (cos θ, sin θ)/(|cos θ| + |sin θ|),
    so |u_x| + |u_y| = 1.  Returns (θ in degrees, u_x, u_y), each shape (n,).
    """
    if metric not in DISTANCE_METRICS:
        raise ValueError(f"unknown distance {metric!r}, expected l2 or l1")
    if n < 1:
        raise ValueError(f"n = {n}: expected at least 1 box")
    theta = 2 * np.pi * np.arange(n) / n
    ux, uy = np.cos(theta), np.sin(theta)
    # cos(π/2) is 6e-17 in floating point: a step of exactly 0 reads better and keeps L2 = R
    ux = np.where(np.abs(ux) < 1e-12, 0.0, ux)
    uy = np.where(np.abs(uy) < 1e-12, 0.0, uy)
    if metric == "l1":
        norm = np.abs(ux) + np.abs(uy)
        ux, uy = ux / norm, uy / norm
    return np.degrees(theta), ux, uy


def same_distance_boxes(
    a,
    radius: float,
    n: int = 8,
    metric: str = "l2",
    box_format: str = "xyxy",
) -> BoxCompareResult:
    """N boxes at the same L2 (or L1) distance ``radius`` from ``a``, and how their IoU differs.

    Every box B_k shares the reference's top-left corner (x1, y1); its bottom-right
    corner is (x2 + R·u_x, y2 + R·u_y) with u on the circle of radius 1 (``metric="l2"``)
    or the L1 diamond (``"l1"``), at θ_k = 360°·k/n.  The corner vectors then differ by
    (0, 0, R·u_x, R·u_y), so every box has the same distance R from ``a``.  The pairs are
    returned sorted by IoU, largest first.

    Raises ``ValueError`` when a box would have zero or negative width or height, saying
    the largest R allowed (R must stay below it).

    >>> r = same_distance_boxes([0, 0, 4, 4], 1, n=4)
    >>> [round(p.l2, 12) for p in r.pairs]
    [1.0, 1.0, 1.0, 1.0]
    """
    radius = float(radius)
    if not math.isfinite(radius) or radius <= 0:
        raise ValueError(f"R = {radius:g}: expected a distance greater than 0")
    a_given, a_xyxy = _given(a, box_format, "box a")
    if len(a_given) != 1:
        raise ValueError("the same-distance demonstration takes one reference box a")
    angles, ux, uy = same_distance_directions(n, metric)
    width, height = a_xyxy[0, 2] - a_xyxy[0, 0], a_xyxy[0, 3] - a_xyxy[0, 1]
    # each box must keep x2' > x1, i.e. width + R·u_x > 0 (likewise for y)
    limits = [width / -u for u in ux if u < 0] + [height / -u for u in uy if u < 0]
    max_radius = float(min(limits)) if limits else math.inf
    name = {"l2": "--same-l2", "l1": "--same-l1"}[metric]
    b_xyxy = np.repeat(a_xyxy, n, axis=0)
    b_xyxy[:, 2] += radius * ux
    b_xyxy[:, 3] += radius * uy
    if radius >= max_radius or not np.all((b_xyxy[:, 2] > b_xyxy[:, 0]) & (b_xyxy[:, 3] > b_xyxy[:, 1])):
        bad = int(np.argmin(np.minimum(b_xyxy[:, 2] - b_xyxy[:, 0], b_xyxy[:, 3] - b_xyxy[:, 1])))
        raise ValueError(
            f"{name} {radius:g} is too large: the box at θ = {angles[bad]:g}° would have zero or negative "
            f"{'width' if b_xyxy[bad, 2] <= b_xyxy[bad, 0] else 'height'}. For this reference "
            f"(width {width:g}, height {height:g}) and {n} directions the largest R allowed is just "
            f"under {max_radius:g} (expected 0 < R < {max_radius:g})"
        )
    a_rows = np.repeat(a_given, n, axis=0)
    a_xyxy_rows = np.repeat(a_xyxy, n, axis=0)
    labels = [f"θ = {t:g}°" for t in angles]
    pairs = _pairs_from_arrays(a_xyxy_rows, b_xyxy, a_rows, b_xyxy.copy(), box_format, "xyxy", None, labels, angles)
    order = sorted(range(n), key=lambda i: -pairs[i].iou)  # stable: ties keep θ order
    pairs = [pairs[i] for i in order]
    ious = [p.iou for p in pairs]
    info = SameDistance(metric, radius, n, min(ious), max(ious), max_radius)
    warnings = _non_finite_warnings(pairs)
    # R far below the coordinates' floating-point spacing (R = 1e-12 at x2 = 1e9) moves the
    # corners by a rounded amount, or not at all: say so rather than claim every distance is R
    distances = [getattr(p, metric) for p in pairs]
    if any(not abs(d - radius) <= 1e-6 * radius for d in distances):
        spacing = float(np.spacing(np.max(np.abs(a_xyxy[0, 2:]))))
        warnings += (
            f"{name} {radius:g}: at A's coordinates floating point resolves only steps of {spacing:.3g}, so the "
            f"distances come out between {min(distances):.10g} and {max(distances):.10g}, not exactly R "
            f"(choose R well above {spacing:.3g})",
        )
    return BoxCompareResult(box_format, tuple(pairs), info, warnings)


def _non_finite_warnings(pairs: Sequence[BoxPair]) -> tuple[str, ...]:
    warnings = []
    for i, p in enumerate(pairs):
        bad = [name for name in METRIC_NAMES if name != "enclosing" and not math.isfinite(getattr(p, name))]
        if bad:
            warnings.append(f"pair {i + 1}: {', '.join(bad)} overflowed (not finite): the coordinates are too large for floating point")
    return tuple(warnings)
