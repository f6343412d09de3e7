"""dlvcli.core.box_compare against hand-worked cases, a by-the-definition loop, and properties."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dlvcli.core.box_compare import box_compare, box_metrics, check_boxes, same_distance_boxes
from dlvcli.core.boxes import enclosing_box, from_xyxy, to_xyxy

# --------------------------------------------------------------------------- the oracle


def by_definition(a, b) -> dict[str, float]:
    """Every measure of one pair, written out with Python floats from the papers' definitions."""
    ax1, ay1, ax2, ay2 = a
    bx1, by1, bx2, by2 = b
    iw = max(0.0, min(ax2, bx2) - max(ax1, bx1))
    ih = max(0.0, min(ay2, by2) - max(ay1, by1))
    inter = iw * ih
    union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
    iou = inter / union
    cw, ch = max(ax2, bx2) - min(ax1, bx1), max(ay2, by2) - min(ay1, by1)
    giou = iou - (cw * ch - union) / (cw * ch)
    rho2 = ((ax1 + ax2) / 2 - (bx1 + bx2) / 2) ** 2 + ((ay1 + ay2) / 2 - (by1 + by2) / 2) ** 2
    diou = iou - rho2 / (cw**2 + ch**2)
    v = 4 / math.pi**2 * (math.atan((ax2 - ax1) / (ay2 - ay1)) - math.atan((bx2 - bx1) / (by2 - by1))) ** 2
    alpha = 0.0 if v == 0 else v / ((1 - iou) + v)
    sa = ((ax1 + ax2) / 2, (ay1 + ay2) / 2, ax2 - ax1, ay2 - ay1)
    sb = ((bx1 + bx2) / 2, (by1 + by2) / 2, bx2 - bx1, by2 - by1)
    return {
        "intersection": inter,
        "union": union,
        "iou": iou,
        "giou": giou,
        "diou": diou,
        "ciou": diou - alpha * v,
        "l1": sum(abs(x - y) for x, y in zip(a, b)),
        "l2": math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b))),
        "l1_cxcywh": sum(abs(x - y) for x, y in zip(sa, sb)),
        "l2_cxcywh": math.sqrt(sum((x - y) ** 2 for x, y in zip(sa, sb))),
    }


coordinate = st.floats(min_value=-100, max_value=100, allow_nan=False)
size = st.floats(min_value=0.01, max_value=100, allow_nan=False)


@st.composite
def boxes(draw):
    x, y, w, h = draw(coordinate), draw(coordinate), draw(size), draw(size)
    return (x, y, x + w, y + h)


MEASURES = ("intersection", "union", "iou", "giou", "diou", "ciou", "l1", "l2", "l1_cxcywh", "l2_cxcywh")


# --------------------------------------------------------------------------- hand-worked cases


def test_identical_boxes():
    # A = B: I = U = 16, IoU = 1; C = A so GIoU = 1 − 0/16 = 1; ρ = 0 so DIoU = 1; v = 0 so CIoU = 1;
    # every coordinate difference is 0, so all four distances are 0.
    p = box_compare([0, 0, 4, 4], [0, 0, 4, 4]).pairs[0]
    assert (p.intersection, p.union, p.iou, p.giou, p.diou, p.ciou) == (16, 16, 1, 1, 1, 1)
    assert (p.l1, p.l2, p.l1_cxcywh, p.l2_cxcywh) == (0, 0, 0, 0)
    assert p.v == 0 and p.alpha == 0 and p.enclosing == (0, 0, 4, 4)


def test_disjoint_boxes():
    # A = (0,0,2,2), B = (3,3,5,5): I = 0, U = 4 + 4 = 8, IoU = 0.
    # C = (0,0,5,5), |C| = 25: GIoU = 0 − (25 − 8)/25 = −17/25 = −0.68 (negative: no overlap).
    # centres (1,1) and (4,4): ρ² = 9 + 9 = 18; c² = 5² + 5² = 50: DIoU = 0 − 18/50 = −0.36.
    # same aspect ratio: v = 0, CIoU = DIoU.  Corners differ by 3 each: L1 = 12, L2 = √36 = 6.
    # (cx,cy,w,h) = (1,1,2,2) and (4,4,2,2): L1 = 6, L2 = √18.
    p = box_compare([0, 0, 2, 2], [3, 3, 5, 5], exact=True).pairs[0]
    assert p.iou == 0 and p.union == 8 and p.enclosing == (0, 0, 5, 5)
    assert p.giou == pytest.approx(-0.68, abs=1e-15) and p.giou < 0
    assert p.exact["giou"] == Fraction(-17, 25)
    assert p.diou == pytest.approx(-0.36, abs=1e-15) and p.ciou == p.diou
    assert (p.l1, p.l2, p.l1_cxcywh) == (12, 6, 6)
    assert p.l2_cxcywh == pytest.approx(math.sqrt(18), rel=1e-15)


def test_overlapping_boxes_exact():
    # A = (0,0,4,4), B = (2,2,6,6): I = 2·2 = 4, U = 16 + 16 − 4 = 28, IoU = 1/7.
    # C = (0,0,6,6), |C| = 36: GIoU = 1/7 − 8/36 = 9/63 − 14/63 = −5/63.
    # ρ² = (2−4)² + (2−4)² = 8, c² = 72: DIoU = 1/7 − 1/9 = 2/63.
    p = box_compare([0, 0, 4, 4], [2, 2, 6, 6], exact=True).pairs[0]
    assert p.exact["iou"] == Fraction(1, 7) and p.exact["giou"] == Fraction(-5, 63)
    assert p.exact["diou"] == Fraction(2, 63)
    assert p.iou == pytest.approx(1 / 7) and p.giou == pytest.approx(-5 / 63) and p.diou == pytest.approx(2 / 63)


def test_ciou_aspect_ratio_term():
    # A = (0,0,4,4) (w/h = 1), B = (0,1.5,4,2.5) (w/h = 4), same centre (2,2):
    # I = 4·1 = 4, U = 16 + 4 − 4 = 16, IoU = 1/4; ρ = 0 so DIoU = 1/4.
    # v = 4/π² (atan 1 − atan 4)² = 4/π² (0.7854 − 1.3258)² = 0.4053 · 0.2921 = 0.11836…, α = v/(3/4 + v), CIoU = 1/4 − αv.
    p = box_compare([0, 0, 4, 4], [0, 1.5, 4, 2.5]).pairs[0]
    v = 4 / math.pi**2 * (math.pi / 4 - math.atan(4)) ** 2
    assert v == pytest.approx(0.118365, abs=1e-6)
    assert p.v == pytest.approx(v, rel=1e-14)
    assert p.alpha == pytest.approx(v / (0.75 + v), rel=1e-14)
    assert p.diou == 0.25 and p.ciou == pytest.approx(0.25 - v * v / (0.75 + v), rel=1e-14)


def test_ciou_has_no_special_case_below_iou_half():
    # Zheng et al.'s later code sets α = 0 when IoU < 0.5; the contract keeps α = v/((1 − IoU) + v)
    p = box_compare([0, 0, 4, 4], [3, 0, 9, 2]).pairs[0]
    assert p.iou < 0.5 and p.v > 0 and p.alpha == pytest.approx(p.v / ((1 - p.iou) + p.v))
    assert p.ciou < p.diou


def test_box_formats_give_the_same_pair():
    # (0,0,4,4) is xywh (0,0,4,4) and cxcywh (2,2,4,4); (2,2,6,6) is xywh (2,2,4,4) and cxcywh (4,4,4,4)
    xyxy = box_compare([0, 0, 4, 4], [2, 2, 6, 6]).pairs[0]
    xywh = box_compare([0, 0, 4, 4], [2, 2, 4, 4], "xywh").pairs[0]
    cxcywh = box_compare([2, 2, 4, 4], [4, 4, 4, 4], "cxcywh", exact=True).pairs[0]
    for p in (xywh, cxcywh):
        assert p.a == xyxy.a and p.b == xyxy.b and p.iou == xyxy.iou and p.l2_cxcywh == xyxy.l2_cxcywh
    assert cxcywh.exact["iou"] == Fraction(1, 7)
    np.testing.assert_array_equal(from_xyxy(to_xyxy([2, 2, 4, 4], "cxcywh"), "cxcywh"), [2, 2, 4, 4])


def test_enclosing_box():
    np.testing.assert_array_equal(enclosing_box([0, 0, 2, 2], [[3, 3, 5, 5], [-1, 1, 1, 4]]), [[0, 0, 5, 5], [-1, 0, 2, 4]])


def test_one_reference_against_many_and_row_pairs():
    r = box_compare([0, 0, 4, 4], [[2, 2, 6, 6], [0, 0, 4, 4]])
    assert [p.a for p in r.pairs] == [(0, 0, 4, 4)] * 2 and r.pairs[1].iou == 1
    r = box_compare([[0, 0, 4, 4], [0, 0, 2, 2]], [[0, 0, 4, 4], [3, 3, 5, 5]])
    assert [p.iou for p in r.pairs] == [1, 0]
    with pytest.raises(ValueError, match="2 boxes a but 3 boxes b"):
        box_compare([[0, 0, 4, 4], [0, 0, 2, 2]], [[0, 0, 4, 4]] * 3)


@pytest.mark.parametrize(
    "box, message",
    [
        ([3, 0, 1, 4], "x2 ≤ x1"),
        ([0, 0, 0, 4], "x2 ≤ x1"),  # zero width: zero area
        ([0, 2, 4, 2], "y2 ≤ y1"),  # zero height: zero area
        ([0, float("nan"), 4, 4], "not a finite number"),
    ],
)
def test_degenerate_boxes_are_rejected(box, message):
    with pytest.raises(ValueError, match=message):
        check_boxes(box)
    with pytest.raises(ValueError, match=message):
        box_compare([0, 0, 4, 4], box)


# --------------------------------------------------------------------------- properties


@given(a=boxes(), b=boxes())
def test_vectorised_equals_the_loop(a, b):
    fast = box_metrics(np.array([a, b]), np.array([b, a]))
    for i, (x, y) in enumerate(((a, b), (b, a))):
        slow = by_definition(x, y)
        for name in MEASURES:
            assert fast[name][i] == pytest.approx(slow[name], rel=1e-9, abs=1e-12), name


@given(a=boxes(), b=boxes())
def test_symmetric(a, b):
    ab, ba = box_metrics(a, b), box_metrics(b, a)
    for name in MEASURES:
        assert ab[name] == pytest.approx(ba[name], rel=1e-12, abs=1e-15), name


@given(a=boxes(), b=boxes())
def test_bounds(a, b):
    m = box_metrics(a, b)
    assert 0 <= m["iou"] <= 1
    assert -1 < m["giou"] <= m["iou"] + 1e-15
    assert -1 < m["diou"] <= m["iou"] + 1e-15
    assert m["ciou"] <= m["diou"] + 1e-15
    assert m["l1"] >= m["l2"] - 1e-9 >= -1e-9  # ‖x‖₁ ≥ ‖x‖₂


@given(a=boxes(), b=boxes(), dx=coordinate, dy=coordinate)
def test_translation_invariant(a, b, dx, dy):
    shift = np.array([dx, dy, dx, dy])
    before, after = box_metrics(a, b), box_metrics(np.add(a, shift), np.add(b, shift))
    for name in MEASURES:
        scale = max(1.0, abs(before[name]), 100.0 if name in ("intersection", "union") else 1.0)
        assert after[name] == pytest.approx(before[name], abs=1e-9 * scale * 100), name


@given(a=boxes())
def test_a_box_with_itself(a):
    m = box_metrics(a, a)
    assert m["iou"] == m["giou"] == m["diou"] == m["ciou"] == 1
    assert m["l1"] == m["l2"] == 0


# --------------------------------------------------------------------------- the same-distance demonstration


@pytest.mark.parametrize("metric", ["l2", "l1"])
def test_same_distance_rows_share_the_distance_but_not_the_iou(metric):
    r = same_distance_boxes([0, 0, 4, 3], 1.0, n=8, metric=metric)
    assert len(r.pairs) == 8
    for p in r.pairs:
        assert getattr(p, metric) == pytest.approx(1.0, abs=1e-12)
        assert p.b[:2] == (0, 0)  # the top-left corner is the reference's
    ious = [p.iou for p in r.pairs]
    assert ious == sorted(ious, reverse=True)
    assert len(set(ious)) > 1 and r.same_distance.spread == pytest.approx(max(ious) - min(ious))
    # θ = 0: B = (0,0,5,3) ⊃ A, IoU = 12/15 = 0.8 (worked by hand)
    assert r.pairs[0].angle == 0 and r.pairs[0].iou == pytest.approx(0.8)


@given(
    w=st.floats(min_value=1, max_value=100),
    h=st.floats(min_value=1, max_value=100),
    fraction=st.floats(min_value=0.01, max_value=0.99),
    n=st.integers(min_value=2, max_value=40),
)
def test_same_l2_property(w, h, fraction, n):
    radius = fraction * min(w, h)
    r = same_distance_boxes([10, 20, 10 + w, 20 + h], radius, n=n)
    assert len(r.pairs) == n
    assert all(abs(p.l2 - radius) <= 1e-12 for p in r.pairs)
    assert max(p.iou for p in r.pairs) > min(p.iou for p in r.pairs)


def test_same_distance_with_a_cxcywh_reference():
    r = same_distance_boxes([2, 1.5, 4, 3], 1.5, n=12, metric="l1", box_format="cxcywh")
    assert r.pairs[0].a == (0, 0, 4, 3) and all(p.l1 == pytest.approx(1.5, abs=1e-12) for p in r.pairs)


def test_too_large_radius_says_the_largest_allowed():
    # height 3: the box at θ = 270° has y2 = 3 − R, degenerate for R ≥ 3
    with pytest.raises(ValueError, match=r"largest R allowed is just under 3 .*0 < R < 3"):
        same_distance_boxes([0, 0, 4, 3], 3.0)
    # with three directions (0°, 120°, 240°) the steepest step is |cos 120°| = 1/2: R < 4/0.5 = 8 in x,
    # |sin 240°| = √3/2: R < 3/(√3/2) = 2√3 ≈ 3.46 in y
    same_distance_boxes([0, 0, 4, 3], 3.4, n=3)
    with pytest.raises(ValueError, match="just under 3.4641"):
        same_distance_boxes([0, 0, 4, 3], 3.5, n=3)
    with pytest.raises(ValueError, match="greater than 0"):
        same_distance_boxes([0, 0, 4, 3], 0.0)
