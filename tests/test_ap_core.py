"""interp-ap, modes A and B, against independent oracles and hand-worked fractions."""

from __future__ import annotations

import random
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlvcli.core.ap import interp_ap_boxes, interp_ap_ranked, parse_iou_thresholds
from dlvcli.core.boxes import to_xyxy
from dlvcli.core.matching import make_box_set

COURSE_TP = [1, 1, 0, 0, 0, 1, 1, 0, 0, 1]


# ---------------------------------------------------------------- oracles


def oracle_ap(tp_in_rank_order, num_gt, method):
    """AP by the definition, in Fractions, with plain loops (no numpy, no code under test)."""
    precisions, recalls = [], []
    cum = 0
    for rank, hit in enumerate(tp_in_rank_order, start=1):
        cum += bool(hit)
        precisions.append(Fraction(cum, rank))
        recalls.append(Fraction(cum, num_gt))
    if method in ("11point", "101point"):
        steps = 10 if method == "11point" else 100
        total = Fraction(0)
        for j in range(steps + 1):
            level = Fraction(j, steps)
            total += max([p for p, r in zip(precisions, recalls) if r >= level], default=Fraction(0))
        return total / (steps + 1)
    # all-point, as the VOC 2010 devkit's VOCap: sentinels, envelope, sum where recall changes
    mrec = [Fraction(0)] + recalls + [Fraction(1)]
    mpre = [Fraction(0)] + precisions + [Fraction(0)]
    for i in range(len(mpre) - 2, -1, -1):
        mpre[i] = max(mpre[i], mpre[i + 1])
    return sum(((mrec[i + 1] - mrec[i]) * mpre[i + 1] for i in range(len(mrec) - 1) if mrec[i + 1] != mrec[i]), Fraction(0))


def oracle_rank(scores):
    """Descending score, ties in file order: a stable sort on the negated score."""
    return sorted(range(len(scores)), key=lambda i: -scores[i])


def box_iou(a, b):
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(iw, 0) * max(ih, 0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def oracle_voc(dets, gts, threshold):
    """The devkit's loop: dets (image, score, box), gts (image, box, difficult) of one class.

    Returns the TP flags in rank order (ignored detections left out) and num_gt.
    """
    taken = [False] * len(gts)
    flags = []
    for i in oracle_rank([d[1] for d in dets]):
        image, _, box = dets[i]
        best, best_j = -1.0, None
        for j, (g_image, g_box, _) in enumerate(gts):
            if g_image == image:
                overlap = box_iou(box, g_box)
                if overlap > best:
                    best, best_j = overlap, j
        if best_j is None or best < threshold:
            flags.append(False)
        elif gts[best_j][2]:
            continue  # difficult: ignored
        elif taken[best_j]:
            flags.append(False)
        else:
            taken[best_j] = True
            flags.append(True)
    return flags, sum(1 for g in gts if not g[2])


# ---------------------------------------------------------------- mode A


@pytest.mark.parametrize(
    "method, expected",
    [
        # p_interp at 0, .1, …, 1 = 1,1,1,1,1, 4/7,4/7,4/7,4/7, 1/2,1/2 → (5 + 16/7 + 1)/11 = 58/77
        ("11point", Fraction(58, 77)),
        # (1/5)(1 + 1 + 4/7 + 4/7 + 1/2) = (1/5)(51/14) = 51/70
        ("allpoint", Fraction(51, 70)),
        # 41 levels 0..0.40 at 1, 40 levels 0.41..0.80 at 4/7, 20 levels at 1/2: (41 + 160/7 + 10)/101 = 517/707
        ("101point", Fraction(517, 707)),
    ],
)
def test_course_example(method, expected):
    result = interp_ap_ranked(COURSE_TP, 5, method=method)
    assert result.classes[0].ap_exact == expected
    assert result.map == pytest.approx(float(expected), abs=1e-15)


def test_recall_of_exactly_three_tenths_reaches_level_0_3():
    # three TPs of ten objects: recall 3/10 exactly; levels 0, .1, .2, .3 get precision 1,
    # .4 … 1 get 0, so AP = 4/11.  np.arange(0, 1.1, 0.1)[3] is 0.30000000000000004 > 0.3,
    # which a float comparison would miss (AP 3/11).
    result = interp_ap_ranked([1, 1, 1, 0], 10, method="11point")
    points = result.classes[0].points
    assert points[3].recall_exact == Fraction(3, 10) and points[3].precision == 1.0
    assert points[4].precision == 0.0
    assert result.classes[0].ap_exact == Fraction(4, 11)
    assert np.arange(0, 1.1, 0.1)[3] > 0.3  # the trap this guards against


@settings(max_examples=150, deadline=None)
@given(
    data=st.lists(st.tuples(st.booleans(), st.sampled_from([0.1, 0.2, 0.5, 0.7, 0.9, 1.0])), min_size=1, max_size=40),
    extra_gt=st.integers(0, 5),
    method=st.sampled_from(["11point", "allpoint", "101point"]),
)
def test_ranked_matches_fraction_oracle_with_tied_scores(data, extra_gt, method):
    tp = [t for t, _ in data]
    scores = [s for _, s in data]
    num_gt = sum(tp) + extra_gt
    if num_gt == 0:
        return
    expected = oracle_ap([tp[i] for i in oracle_rank(scores)], num_gt, method)
    result = interp_ap_ranked(tp, num_gt, scores=scores, method=method, exact=True)
    assert result.classes[0].ap_exact == expected
    assert result.classes[0].ap == pytest.approx(float(expected), abs=1e-12)
    assert 0.0 <= result.map <= 1.0


@settings(max_examples=60, deadline=None)
@given(n_tp=st.integers(1, 30), n_fp=st.integers(0, 30), method=st.sampled_from(["11point", "allpoint", "101point"]))
def test_all_true_positives_first_gives_one(n_tp, n_fp, method):
    result = interp_ap_ranked([1] * n_tp + [0] * n_fp, n_tp, method=method)
    assert result.classes[0].ap_exact == 1


def test_per_class_num_gt_and_missing_ground_truth_warning():
    classes = ["a", "a", "b", "b", "c"]
    result = interp_ap_ranked([1, 0, 0, 1, 0], {"a": 1, "b": 2, "c": 0}, classes=classes, method="11point")
    by_name = {c.name: c for c in result.classes}
    # a: TP then FP, num_gt 1: every level has p_interp 1 → AP 1
    assert by_name["a"].ap_exact == 1
    # b: FP, TP of 2 objects: recall 1/2 at precision 1/2; levels 0..0.5 → 1/2, rest 0 → (6/2)/11 = 3/11
    assert by_name["b"].ap_exact == Fraction(3, 11)
    assert by_name["c"].ap is None
    assert result.map_exact == (1 + Fraction(3, 11)) / 2
    assert any("'c'" in w and "no ground truth" in w for w in result.warnings)


def test_plain_num_gt_with_several_classes_is_an_error():
    with pytest.raises(ValueError, match="ambiguous"):
        interp_ap_ranked([1, 0], 3, classes=["a", "b"])


def test_num_gt_smaller_than_true_positives_is_an_error():
    with pytest.raises(ValueError, match="at least"):
        interp_ap_ranked(COURSE_TP, 4)


@pytest.mark.parametrize(
    "spec, expected",
    [("0.5", (0.5,)), ("0.5:0.95:0.05", tuple(np.linspace(0.5, 0.95, 10))), ("0.3:0.3:0.1", (0.3,))],
)
def test_iou_threshold_parsing(spec, expected):
    assert parse_iou_thresholds(spec) == pytest.approx(expected, abs=0)


@pytest.mark.parametrize("spec", ["0.5:0.95", "a", "0.9:0.5:0.05", "0.5:0.95:0", "1.5", "0", "0.5:0.9:0.3"])
def test_malformed_iou_ranges(spec):
    with pytest.raises(ValueError, match="--iou"):
        parse_iou_thresholds(spec)


# ---------------------------------------------------------------- mode B


def random_scene(rng: random.Random, formats_round=True):
    """Random boxes: several classes, images without ground truth, duplicates, difficult boxes."""
    classes = ["car", "person", "dog"]
    gts, dets = [], []
    for image in [f"im{k}" for k in range(rng.randint(1, 6))]:
        for _ in range(rng.randint(0, 4)):
            x, y = rng.randint(0, 40), rng.randint(0, 40)
            box = (x, y, x + rng.randint(1, 20), y + rng.randint(1, 20))
            gts.append((image, rng.choice(classes), box, rng.random() < 0.2))
        for _ in range(rng.randint(0, 6)):
            if gts and rng.random() < 0.6:
                _, cls, (x1, y1, x2, y2), _ = rng.choice(gts)  # near some object (maybe another image)
                jitter = [rng.randint(-3, 3) for _ in range(4)]
                box = (x1 + jitter[0], y1 + jitter[1], max(x2 + jitter[2], x1 + jitter[0] + 1), max(y2 + jitter[3], y1 + jitter[1] + 1))
            else:
                x, y = rng.randint(0, 40), rng.randint(0, 40)
                box, cls = (x, y, x + rng.randint(1, 20), y + rng.randint(1, 20)), rng.choice(classes)
            dets.append((image, cls, round(rng.choice([0.3, 0.5, 0.8, rng.random()]), 2), box))
    if not dets:
        dets.append(("im0", "car", 0.5, (0, 0, 5, 5)))
    return dets, gts


def from_xyxy(box, fmt):
    x1, y1, x2, y2 = box
    if fmt == "xyxy":
        return box
    if fmt == "xywh":
        return (x1, y1, x2 - x1, y2 - y1)
    return ((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1)


@pytest.mark.parametrize("seed", range(25))
@pytest.mark.parametrize("box_format", ["xyxy", "xywh", "cxcywh"])
def test_boxes_match_plain_loop_voc_oracle(seed, box_format):
    rng = random.Random(seed)
    dets, gts = random_scene(rng)
    threshold = rng.choice([0.3, 0.5, 0.7])
    method = rng.choice(["11point", "allpoint", "101point"])
    det_set = make_box_set(
        to_xyxy([from_xyxy(d[3], box_format) for d in dets], box_format), [d[0] for d in dets], [d[1] for d in dets], [d[2] for d in dets]
    )
    gt_set = make_box_set(
        to_xyxy([from_xyxy(g[2], box_format) for g in gts], box_format).reshape(-1, 4),
        [g[0] for g in gts],
        [g[1] for g in gts],
        difficult=[g[3] for g in gts],
    )
    result = interp_ap_boxes(det_set, gt_set, method=method, iou_thresholds=[threshold])
    for c in result.classes:
        flags, num_gt = oracle_voc(
            [(d[0], d[2], d[3]) for d in dets if d[1] == c.name], [(g[0], g[2], g[3]) for g in gts if g[1] == c.name], threshold
        )
        assert c.num_gt == num_gt
        assert c.table.tp.tolist() == flags
        if num_gt == 0:
            assert c.ap is None
        else:
            expected = oracle_ap(flags, num_gt, method)
            assert c.ap_exact == expected, (c.name, flags)


def test_sample_boxes_by_hand():
    """sample_inputs/interp_ap_boxes_*.csv, worked by hand.

    cat (num_gt 2; img2's first box is difficult): 0.9 IoU 1 → TP; 0.8 IoU 81/100 on the
    same box → duplicate FP; 0.7 on the difficult box → ignored; 0.6 → TP; 0.5 in img3
    (no cat there) → FP.  Precisions 1, 1/2, 2/3, 1/2 at recalls 1/2, 1/2, 1, 1:
    11-point AP = (6·1 + 5·2/3)/11 = 28/33.
    dog (num_gt 2): 0.95 TP, 0.85 FP, 0.6 FP, 0.4 TP (IoU 100/110): precisions 1, 1/2,
    1/3, 1/2: AP = (6·1 + 5·1/2)/11 = 17/22.  mAP = (28/33 + 17/22)/2 = 107/132.
    """
    from dlvcli.inputs.detections import load_box_csv
    from tests.conftest import SAMPLES

    dets = load_box_csv(str(SAMPLES / "interp_ap_boxes_detections.csv"), "xyxy", ground_truth=False)
    gts = load_box_csv(str(SAMPLES / "interp_ap_boxes_gt.csv"), "xyxy", ground_truth=True)
    result = interp_ap_boxes(dets, gts)
    by_name = {c.name: c for c in result.classes}
    assert by_name["cat"].ap_exact == Fraction(28, 33)
    assert by_name["cat"].num_ignored == 1
    assert by_name["dog"].ap_exact == Fraction(17, 22)
    assert result.map_exact == Fraction(107, 132)
    assert by_name["dog"].table.iou[3] == pytest.approx(100 / 110)


@pytest.mark.parametrize("seed", range(10))
def test_permuting_rows_does_not_change_ap(seed):
    rng = random.Random(100 + seed)
    dets, gts = random_scene(rng)
    dets = [(d[0], d[1], 0.001 * i + 0.0001 * rng.random(), d[3]) for i, d in enumerate(dets)]  # distinct scores

    def run(dets, gts):
        det_set = make_box_set([d[3] for d in dets], [d[0] for d in dets], [d[1] for d in dets], [d[2] for d in dets])
        gt_set = make_box_set(np.array([g[2] for g in gts], dtype=float).reshape(-1, 4), [g[0] for g in gts], [g[1] for g in gts], difficult=[g[3] for g in gts])
        return {c.name: c.ap for c in interp_ap_boxes(det_set, gt_set, method="allpoint").classes}

    before = run(dets, gts)
    rng.shuffle(dets)
    rng.shuffle(gts)
    assert run(dets, gts) == before


def test_several_iou_thresholds_average():
    # one detection with IoU 0.81 with its box: TP at 0.5..0.8 (AP 1), FP at 0.85..0.95 (AP 0)
    dets = make_box_set([(1, 1, 10, 10)], ["a"], scores=[0.9])
    gts = make_box_set([(0, 0, 10, 10)], ["a"])
    result = interp_ap_boxes(dets, gts, iou_thresholds=parse_iou_thresholds("0.5:0.95:0.05"))
    c = result.classes[0]
    assert c.ap_per_iou == (1, 1, 1, 1, 1, 1, 1, 0, 0, 0)
    assert c.ap_exact == Fraction(7, 10)


def test_plus_one_changes_iou_as_pixel_widths_say():
    # (0,0,9,9) and (5,0,14,9): continuous widths 9, overlap 4×9 → IoU 36/(81+81−36) = 36/126 = 2/7
    # with +1: widths 10, overlap 5×10 → 50/(100+100−50) = 1/3
    from dlvcli.core.boxes import iou

    assert iou(np.array([0, 0, 9, 9]), np.array([5, 0, 14, 9])) == pytest.approx(2 / 7)
    assert iou(np.array([0, 0, 9, 9]), np.array([5, 0, 14, 9]), plus_one=True) == pytest.approx(1 / 3)
