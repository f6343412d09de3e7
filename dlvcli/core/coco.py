"""COCO box evaluation (docs/interp-ap.md, mode C): pycocotools' ``COCOeval`` for ``bbox``, vectorised.

The numbers are those of ``COCOeval(gt, dt, "bbox")`` followed by ``evaluate()``,
``accumulate()`` and ``summarize()``, to the last bit wherever the arithmetic allows
(the twelve summary numbers are reduced with the same numpy calls on an array equal to
``COCOeval.eval["precision"]``).  The rules reproduced, with where they live in
pycocotools' ``cocoeval.py``:

* **IoU** (``maskApi.c: bbIou``), boxes ``[x, y, w, h]``::

      w = min(x_d + w_d, x_g + w_g) − max(x_d, x_g)      (0 if w ≤ 0)
      h = min(y_d + h_d, y_g + h_g) − max(y_d, y_g)      (0 if h ≤ 0)
      IoU = w·h / (a_d + a_g − w·h),   or w·h / a_d for a crowd box (a = w·h of the box)

* **Per image and category** (``evaluateImg``): detections by descending score, ties in
  file order (``np.argsort(-score, kind="mergesort")``), at most ``max(maxDets) = 100``.
  A ground-truth box is *ignored* for area range ``[lo, hi]`` when it is crowd or its
  ``area`` field is outside ``[lo, hi]``; ignored boxes are placed after the others.
  Each detection in turn takes, among the boxes not yet taken (crowd boxes can be
  taken any number of times) with IoU ≥ min(t, 1 − 1e−10), the one with the highest
  IoU — the *last* such box on a tie — looking at non-ignored boxes first and at ignored
  ones only when no non-ignored box qualifies.  Matched to a non-ignored box → true
  positive; to an ignored box → ignored; unmatched → false positive, or ignored when
  the detection's own area ``w·h`` is outside the range.
* **Accumulation** (``accumulate``), per category, area range and ``maxDet``: the
  first ``maxDet`` detections of every image, merged by descending score (ties: image
  id, then rank in the image), cumulative TP and FP, ``recall = TP / n_gt``,
  ``precision = TP / (TP + FP + ε)`` (ε = ``np.spacing(1)``), the envelope
  ``p̂(i) = max_{j ≥ i} p(j)``, sampled at the 101 recall levels
  ``np.linspace(0, 1, 101)`` with ``searchsorted(recall, r, "left")`` (0 past the last
  detection).  A category with no non-ignored ground truth in the range gets −1.
* **Summary** (``summarize``): the mean of the entries > −1 of the selected slice.

How it is fast: no Python loop per detection.  Detections and ground truth are
grouped by (image, category) with stable sorts (16-bit radix passes for integer keys).
Most groups need no greedy choice at all: when no detection has IoU ≥ the lowest
threshold with two boxes of its group, a box goes to the first detection reaching the
threshold, a running maximum of integer threshold levels per box over all such
groups, area ranges and thresholds at once (``_match_simple``).  The other groups, stacked by their padded
number of ground-truth boxes, get their IoUs in one block per chunk, and the greedy
match runs over the detection's position within its group (at most 100 steps)
updating every group, every area range and every IoU threshold at once.
The accumulation visits only the matched (detection, area range, threshold) cells (a
few percent of them), every category, area range and threshold at once; both sorts by
score use one integer rank of the scores.  Memory is bounded by chunking (no all-pairs
IoU across images).

Reference: T.-Y. Lin et al., "Microsoft COCO: Common Objects in Context", ECCV 2014;
the evaluation code is ``pycocotools/cocoeval.py`` of github.com/cocodataset/cocoapi.
"""

from __future__ import annotations

from dlvcli.core.display import WorkedSolution  # str() and Jupyter show the worked solution

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

#: COCOeval's IoU thresholds 0.50:0.05:0.95, exactly as ``Params.setDetParams`` builds them.
COCO_IOU_THRESHOLDS = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)
#: The 101 recall levels, exactly as pycocotools builds them (floating point, not j/100).
RECALL_LEVELS = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)
#: Area ranges (label, lo, hi) on the annotation's ``area`` field, both ends inclusive.
AREA_RANGES = (
    ("all", 0.0, 1e5**2),
    ("small", 0.0, 32.0**2),
    ("medium", 32.0**2, 96.0**2),
    ("large", 96.0**2, 1e5**2),
)
#: Detections per image and category that count (COCOeval's ``maxDets``).
MAX_DETS = (1, 10, 100)
#: Names of the twelve summary numbers, in ``COCOeval.stats`` order.
SUMMARY_NAMES = (
    "ap", "ap50", "ap75", "ap_small", "ap_medium", "ap_large",
    "ar1", "ar10", "ar100", "ar_small", "ar_medium", "ar_large",
)  # fmt: skip
_EPS = np.spacing(1)
# Detection outcome codes while matching.
_UNMATCHED, _TP, _IGNORED = 0, 1, 2
# Work budgets (elements) that bound the memory of one matching chunk.
_PAIR_BUDGET = 1 << 20  # detection × padded-GT pairs in one IoU block
_STATE_BUDGET = 1 << 23  # groups × areas × thresholds × padded GT in the match state


@dataclass(frozen=True, eq=False)  # its arrays have no == that gives a bool
class CocoData:
    """A COCO ground-truth file and a results file, as arrays (built by ``dlvcli.inputs.coco``).

    Images and categories are given by their sorted ids; every other array refers to
    them by 0-based index.  Boxes are ``[x, y, w, h]`` as in the files, shape (N, 4).

    Ground truth (``gt_*``, file order): image index, category index, box, ``area``
    field, ``iscrowd`` flag and annotation ``id``.  Detections (``det_*``, file order,
    only those whose category is in ``category_ids``): image index, category index, box
    and score; ``det_entry`` is each one's 0-based entry in the results list.
    """

    image_ids: np.ndarray
    category_ids: np.ndarray
    category_names: tuple[str, ...]
    gt_image: np.ndarray
    gt_category: np.ndarray
    gt_bbox: np.ndarray
    gt_area: np.ndarray
    gt_iscrowd: np.ndarray
    gt_id: np.ndarray
    det_image: np.ndarray
    det_category: np.ndarray
    det_bbox: np.ndarray
    det_score: np.ndarray
    det_entry: np.ndarray | None = None
    gt_path: str | None = None
    results_path: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def num_images(self) -> int:
        return len(self.image_ids)

    @property
    def num_categories(self) -> int:
        return len(self.category_ids)


@dataclass(frozen=True)
class CocoCategory:
    """One category's result (area ``all``, ``maxDets`` 100).

    ``ap`` is the mean over thresholds and recall levels of the interpolated precision
    (None without ground truth); ``ap_per_iou`` the mean over recall levels per
    threshold.  ``num_gt`` counts non-crowd boxes, ``num_crowd`` crowd ones;
    ``num_detections`` counts the category's entries in the results file,
    ``num_evaluated`` those within the first 100 of their image.
    """

    category_id: int | str
    name: str
    num_gt: int
    num_crowd: int
    num_detections: int
    num_evaluated: int
    ap: float | None
    ap_per_iou: tuple[float | None, ...]
    recall: float | None
    stats: tuple[float | None, ...] = ()
    f1: "BestF1 | None" = None
    f1_evaluated: bool = False


@dataclass(frozen=True)
class BestF1:
    """The score threshold that maximises F1 for one category (IoU 0.5, area all, largest maxDets).

    Detections COCOeval ignores (matched to a crowd or out-of-range box) are left out;
    at each distinct score s every detection with score ≥ s counts:
    precision = TP / (TP + FP), recall = TP / num_gt, F1 = 2·P·R / (P + R) (0 when both
    are 0).  On a tie the highest score wins.  ``tp`` and ``fp`` are the counts at s.
    """

    score: float
    precision: float
    recall: float
    f1: float
    tp: int
    fp: int
    num_gt: int


def summary_spec(area_labels: Sequence[str], max_dets: Sequence[int]) -> tuple[tuple[str, bool, float | None, str, int], ...]:
    """The summary lines (name, is_ap, IoU or None, area label, maxDets) as ``COCOeval.summarize`` lists them.

    With the default areas and ``maxDets`` these are the twelve of :data:`SUMMARY_NAMES`;
    other area ranges give ``ap_NAME``/``ar_NAME`` in their place, and other ``maxDets``
    ``arN`` for each N (``ap*`` and the area lines use the largest, as COCOeval does).
    """
    big = max_dets[-1]
    spec = [("ap", True, None, "all", big), ("ap50", True, 0.5, "all", big), ("ap75", True, 0.75, "all", big)]
    spec += [(f"ap_{label}", True, None, label, big) for label in area_labels[1:]]
    spec += [(f"ar{m}", False, None, "all", m) for m in max_dets]
    spec += [(f"ar_{label}", False, None, label, big) for label in area_labels[1:]]
    return tuple(spec)


@dataclass(frozen=True, eq=False)  # its arrays have no == that gives a bool
class CocoResult(WorkedSolution):
    """COCOeval for boxes: the twelve summary numbers, per-category AP, and the arrays.

    ``stats`` is ``COCOeval.stats`` (−1 where undefined); the twelve named fields are
    the same numbers with None for −1.  ``precision`` has shape (T, R, K, A, M) and
    ``recall`` (T, K, A, M), equal to ``COCOeval.eval["precision"]`` and
    ``["recall"]`` (axes: IoU thresholds, recall levels, categories, area ranges
    ``all/small/medium/large``, maxDets ``1/10/100``).  ``pr_curves`` maps the IoU
    thresholds 0.5 and 0.75 (those of them that were evaluated) to the interpolated
    precision at ``recall_levels`` per category, shape (K, R): the PR plot.
    ``warnings`` includes the loader's.
    """

    ap: float | None
    ap50: float | None
    ap75: float | None
    ap_small: float | None
    ap_medium: float | None
    ap_large: float | None
    ar1: float | None
    ar10: float | None
    ar100: float | None
    ar_small: float | None
    ar_medium: float | None
    ar_large: float | None
    stats: tuple[float, ...]
    categories: tuple[CocoCategory, ...]
    iou_thresholds: tuple[float, ...]
    recall_levels: np.ndarray
    precision: np.ndarray = field(repr=False)
    recall: np.ndarray = field(repr=False)
    pr_curves: dict = field(repr=False, compare=False, default_factory=dict)
    area_ranges: tuple = AREA_RANGES
    max_dets: tuple[int, ...] = MAX_DETS
    num_images: int = 0
    warnings: tuple[str, ...] = ()
    summary_names: tuple[str, ...] = SUMMARY_NAMES

    @property
    def summary(self) -> dict[str, float | None]:
        """The summary numbers by name (``ap`` … ``ar_large``, or as renamed), None where COCOeval gives −1."""
        return {name: (None if value == -1 else value) for name, value in zip(self.summary_names, self.stats)}

    @property
    def map(self) -> float | None:
        """COCO's AP (the mean over categories with ground truth, thresholds and recall levels)."""
        return self.ap


# ----------------------------------------------------------------------------- IoU


def coco_box_iou(det_boxes, gt_boxes, gt_iscrowd=None) -> np.ndarray:
    """IoU of detections (N, 4) with ground-truth boxes (M, 4), ``[x, y, w, h]``: shape (N, M).

    The arithmetic of pycocotools' ``bbIou`` operation for operation (so the floats are
    identical): for a crowd box the union is the detection's own area.  Broadcasts over
    leading axes as well: ``det_boxes[..., None, :]`` against ``gt_boxes[..., None, :, :]``.
    """
    d = np.asarray(det_boxes, dtype=float)
    g = np.asarray(gt_boxes, dtype=float)
    if d.ndim == 2 and g.ndim == 2:
        d = d[:, None, :]
        g = g[None, :, :]
        crowd = None if gt_iscrowd is None else np.asarray(gt_iscrowd, dtype=bool)[None, :]
    else:
        crowd = None if gt_iscrowd is None else np.asarray(gt_iscrowd, dtype=bool)
    return _iou(d[..., 0], d[..., 1], d[..., 2], d[..., 3], g[..., 0], g[..., 1], g[..., 2], g[..., 3], crowd)


def _iou(dx, dy, dw, dh, gx, gy, gw, gh, crowd) -> np.ndarray:
    w = np.minimum(dw + dx, gw + gx) - np.maximum(dx, gx)
    h = np.minimum(dh + dy, gh + gy) - np.maximum(dy, gy)
    inter = w * h
    det_area = dw * dh
    union = (det_area + gw * gh) - inter
    if crowd is not None:
        union = np.where(crowd, det_area, union)
    overlap = (w > 0) & (h > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(overlap, inter / np.where(overlap, union, 1.0), 0.0)


# ------------------------------------------------------------------------ grouping


def _group_bounds(sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For a sorted key array: the distinct keys, where each run starts, and its length."""
    if len(sorted_keys) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    change = np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1
    starts = np.concatenate(([0], change)).astype(np.int64)
    counts = np.diff(np.concatenate((starts, [len(sorted_keys)])))
    return sorted_keys[starts], starts, counts


def _stable_order(*keys: np.ndarray) -> np.ndarray:
    """Indices sorting by the keys (first key primary), ties in input order."""
    n = len(keys[0])
    order = None  # None: the identity (no gather needed for the first key sorted)

    def then(step: np.ndarray) -> np.ndarray:
        return step if order is None else order[step]

    for key in reversed(keys):
        if order is not None:
            key = key[order]
        if key.dtype.kind in "iu" and n:
            # integers: numpy's stable sort is a radix sort for 16-bit keys (several times
            # faster than its merge sort), so sort by 16-bit digits, least significant first
            low_value, span = int(key.min()), int(key.max()) - int(key.min())
            if span < 1 << 8:  # one pass of numpy's 8-bit radix sort, about twice as fast as a 16-bit one
                order = then(np.argsort((key - low_value).astype(np.uint8), kind="stable"))
                continue
            if span < 1 << 32:
                key = key.astype(np.int64) - low_value
                if span >= 1 << 16:
                    low = np.argsort((key & 0xFFFF).astype(np.uint16), kind="stable")
                    order, key = then(low), key[low] >> 16
                order = then(np.argsort(key.astype(np.uint16), kind="stable"))
                continue
        order = then(np.argsort(key, kind="stable"))
    return np.arange(n) if order is None else order


def _descending_rank(values: np.ndarray) -> np.ndarray:
    """Dense rank of each value, largest first (0 for the largest; equal values, ±0 and all NaNs share one).

    Sorting by this integer key with :func:`_stable_order` (radix passes) gives the order
    of ``np.argsort(-values, kind="stable")`` — ties in input order, NaN last — for
    about half the cost of a stable float sort, and it is computed once for both of the
    evaluation's sorts by score.  The values are ordered by numpy's fast unstable sort;
    only the distinct values' ranks come from it, so its tie order does not matter.
    """
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    key = -values
    order = np.argsort(key)
    ordered = key[order]
    new_value = ordered[1:] != ordered[:-1]
    nan = np.isnan(ordered)
    if nan.any():
        new_value &= ~(nan[1:] & nan[:-1])  # every NaN is one value, after all numbers (as argsort puts them)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.concatenate(([0], np.cumsum(new_value)))
    return rank


# ------------------------------------------------------------------------- matching


@dataclass
class _Groups:
    """(image, category) groups present among detections, joined with the ground truth."""

    det_start: np.ndarray
    det_count: np.ndarray
    gt_start: np.ndarray
    gt_count: np.ndarray


def _match_all(
    det_bbox: np.ndarray,
    gt_bbox: np.ndarray,
    gt_crowd: np.ndarray,
    gt_ignored: np.ndarray,
    gt_id_zero: np.ndarray,
    groups: _Groups,
    thresholds: np.ndarray,
    outcome: np.ndarray,
    progress: Callable[[int], None] | None = None,
) -> None:
    """The greedy match of every group with ground truth, written into ``outcome`` (N, A, T).

    Arrays are in evaluation order (detections by image, category, rank; ground truth by
    image, category, file order).  ``gt_ignored`` has shape (A, G_total).
    """
    has_gt = groups.gt_count > 0
    if not has_gt.any():
        return
    simple = _match_simple(det_bbox, gt_bbox, gt_crowd, gt_ignored, gt_id_zero, groups, has_gt, thresholds, outcome)
    if progress is not None:
        progress(int(groups.det_count[simple].sum()))
    has_gt &= ~simple
    if not has_gt.any():
        return
    det_start = groups.det_start[has_gt]
    det_count = groups.det_count[has_gt]
    gt_start = groups.gt_start[has_gt]
    gt_count = groups.gt_count[has_gt]
    padded = 1 << np.ceil(np.log2(gt_count)).astype(np.int64)
    # Buckets of equal padded size; inside one, groups by descending detection count so
    # that the groups still active at position p are a prefix.
    order = _stable_order(padded, -det_count)
    padded, det_start, det_count, gt_start, gt_count = (a[order] for a in (padded, det_start, det_count, gt_start, gt_count))
    _, bucket_starts, bucket_sizes = _group_bounds(padded)
    for b0, bn in zip(bucket_starts.tolist(), bucket_sizes.tolist()):
        width = int(padded[b0])
        pos = b0
        end = b0 + bn
        while pos < end:
            # a chunk: consecutive groups within the budgets
            pairs = np.cumsum(det_count[pos:end]) * width
            n_pairs = int(np.searchsorted(pairs, _PAIR_BUDGET, side="right"))
            n_state = max(1, _STATE_BUDGET // (width * outcome.shape[1] * outcome.shape[2]))
            n = max(1, min(n_pairs, n_state, end - pos))
            sl = slice(pos, pos + n)
            _match_chunk(
                det_bbox, gt_bbox, gt_crowd, gt_ignored, gt_id_zero,
                det_start[sl], det_count[sl], gt_start[sl], gt_count[sl], width, thresholds, outcome,
            )  # fmt: skip
            if progress is not None:
                progress(int(det_count[sl].sum()))
            pos += n


def _match_simple(det_bbox, gt_bbox, gt_crowd, gt_ignored, gt_id_zero, groups, has_gt, thresholds, outcome) -> np.ndarray:
    """Match, in closed form, the groups where no detection has two candidate boxes; return which groups those are.

    A *candidate* of a detection is a box of its group with IoU ≥ the lowest threshold.
    When every detection of a group has at most one, the greedy match needs no choice:
    at threshold t a box is taken by the first detection (by rank) whose IoU with it is
    ≥ t, and each later one with IoU ≥ t finds it taken and stays unmatched — unless
    the box is crowd, which matches every such detection.  Whether the box is ignored in
    an area range then only labels the match (ignored, or a true positive).  That is a
    cumulative count per box, for all groups, area ranges and thresholds at once; the
    other groups (boxes overlapping each other by ≥ the lowest threshold around one
    detection) go through :func:`_match_chunk`.  All (detection, box) pairs are formed,
    in slices of about ``_PAIR_BUDGET`` pairs.
    """
    thr = np.minimum(thresholds, 1 - 1e-10)
    lowest = float(thr.min())
    sorted_thr = np.sort(thr)
    position = np.argsort(np.argsort(thr, kind="stable"), kind="stable")  # of each threshold in sorted_thr
    simple = np.zeros(len(groups.det_start), dtype=bool)
    # per box, the terms of _iou that do not depend on the pair (the same operations, so the same floats)
    dx, dy, dw, dh = (np.ascontiguousarray(c) for c in det_bbox.T)
    dx2, dy2, d_area = dw + dx, dh + dy, dw * dh
    gx, gy, gw, gh = (np.ascontiguousarray(c) for c in gt_bbox.T)
    gx2, gy2, g_area = gw + gx, gh + gy, gw * gh
    chosen = np.flatnonzero(has_gt)
    pairs_per_group = groups.det_count[chosen] * groups.gt_count[chosen]
    bounds = np.searchsorted(np.cumsum(pairs_per_group), np.arange(1, 1 + int(pairs_per_group.sum()) // _PAIR_BUDGET) * _PAIR_BUDGET)
    for part in np.split(chosen, bounds):
        if len(part) == 0:
            continue
        dc, gc = groups.det_count[part], groups.gt_count[part]
        # every (detection, box) pair of these groups, in (detection, box) order: each
        # detection repeated once per box of its group, and the boxes of the group beside it
        first_det = np.cumsum(dc) - dc
        det_local = np.arange(int(dc.sum()))
        det_of = np.repeat(groups.det_start[part] - first_det, dc) + det_local  # the groups' detections
        boxes_of = np.repeat(gc, dc)
        first_pair = np.cumsum(boxes_of) - boxes_of
        det = np.repeat(det_of, boxes_of)
        gt = np.arange(int(boxes_of.sum())) + np.repeat(np.repeat(groups.gt_start[part], dc) - first_pair, boxes_of)
        group_of = np.repeat(np.arange(len(part)), dc)  # by detection; for pairs, looked up once they are few
        # _iou, step by step, dividing only where the boxes overlap (IoU 0 is never a candidate
        # unless the lowest threshold is 0, when every pair is one)
        w = np.minimum(dx2[det], gx2[gt]) - np.maximum(dx[det], gx[gt])
        if lowest > 0:  # most pairs do not overlap in x: drop them before computing h
            hit = np.flatnonzero(w > 0)
            det, gt, w = det[hit], gt[hit], w[hit]
        h = np.minimum(dy2[det], gy2[gt]) - np.maximum(dy[det], gy[gt])
        overlap = (w > 0) & (h > 0)
        if lowest > 0:
            hit = np.flatnonzero(overlap)
            det, gt, w, h = det[hit], gt[hit], w[hit], h[hit]
            overlap = np.ones(len(hit), dtype=bool)
        inter = w * h
        union = np.where(gt_crowd[gt], d_area[det], (d_area[det] + g_area[gt]) - inter)
        with np.errstate(divide="ignore", invalid="ignore"):
            iou = np.where(overlap, inter / np.where(overlap, union, 1.0), 0.0)
        candidate = iou >= lowest
        det, gt, iou = det[candidate], gt[candidate], iou[candidate]
        pair_group = group_of[np.searchsorted(det_of, det)]  # det_of is increasing
        # a detection with two candidates makes its group "not simple"
        twice = np.flatnonzero(det[1:] == det[:-1])  # pairs are in (detection, box) order
        is_simple = np.ones(len(part), dtype=bool)
        is_simple[pair_group[twice]] = False
        keep = is_simple[pair_group]
        det, gt, iou = det[keep], gt[keep], iou[keep]
        simple[part[is_simple]] = True
        if len(det) == 0:
            continue
        # by box, then rank (detections are in rank order within a group)
        order = _stable_order(gt)
        det, gt, iou = det[order], gt[order], iou[order]
        _, starts, counts = _group_bounds(gt)
        # iou ≥ thr[t] ⟺ position[t] < level (level: how many thresholds are ≤ iou); the box
        # goes at thr[t] to the first detection reaching it, i.e. where every earlier
        # detection on the box has a level ≤ position[t]: a running maximum of the levels
        # within each box (offset by box, so one accumulate serves all boxes)
        level = np.searchsorted(sorted_thr, iou, side="right")
        box_base = np.repeat(np.arange(len(starts), dtype=np.int64) * (len(thr) + 1), counts)
        running = np.maximum.accumulate(level + box_base)
        earlier = np.empty_like(running)
        earlier[1:] = running[:-1]
        earlier[starts] = box_base[starts]
        earlier -= box_base  # the best level among the box's earlier detections (0 for the first)
        matched = (position[None, :] < level[:, None]) & ((position[None, :] >= earlier[:, None]) | gt_crowd[gt][:, None])
        label = np.where(gt_ignored[:, gt].T, np.int8(_IGNORED), np.where(gt_id_zero[gt], np.int8(_UNMATCHED), np.int8(_TP))[:, None])  # (P, A)
        outcome[det] = label[:, :, None] * matched[:, None, :].view(np.int8)  # _UNMATCHED is 0
    return simple


def _match_chunk(
    det_bbox, gt_bbox, gt_crowd, gt_ignored, gt_id_zero,
    det_start, det_count, gt_start, gt_count, width, thresholds, outcome,
) -> None:  # fmt: skip
    """Greedy matching for groups sharing a padded ground-truth count ``width``.

    Groups are sorted by descending detection count.  Detection rows are laid out
    position-major (all groups' first detections, then all second ones, …) so that
    position p is a contiguous block of the first ``active[p]`` groups.  Per-slot
    arrays are slot-major, (width, groups, …): the best box is then an elementwise
    maximum over ``width`` contiguous slabs.

    The choice of a box is one number per (group, area range, threshold): the largest
    *key* among the eligible slots (not taken, or crowd; IoU ≥ threshold), where a
    slot's key is its IoU's position 1…width in a stable ascending sort of the
    detection's row (highest IoU wins; on a tie the later box, as pycocotools' ``>=``
    scan), plus ``width`` for a non-ignored box (non-ignored boxes are tried first).
    The key decodes back to the slot, so no argmax is needed.
    """
    n = len(det_start)
    num_areas, num_thr = outcome.shape[1], outcome.shape[2]
    max_count = int(det_count[0])
    # active[p] = number of groups with more than p detections (det_count is descending)
    active = np.searchsorted(-det_count, -np.arange(max_count), side="left")
    offsets = np.concatenate(([0], np.cumsum(active)))
    total = int(offsets[-1])
    row_group = np.arange(total) - np.repeat(offsets[:-1], active)
    row_det = det_start[row_group] + np.repeat(np.arange(max_count), active)

    # ground truth of each group, padded to ``width``: slot-major (width, n)
    slot = np.arange(width)
    valid = slot[:, None] < gt_count[None, :]
    gt_index = np.where(valid, gt_start[None, :] + slot[:, None], 0)
    crowd = gt_crowd[gt_index] & valid
    zero_id = gt_id_zero[gt_index] & valid
    key_dtype = np.uint16 if 2 * width < np.iinfo(np.uint16).max else np.uint32
    preferred = (~gt_ignored[:, gt_index]).transpose(1, 2, 0).astype(key_dtype) * key_dtype(width)  # (width, n, A)

    # IoU block (width, total); padding −1 never reaches a threshold
    d = det_bbox[row_det]
    g = gt_bbox[gt_index[:, row_group]]
    iou = _iou(d[:, 0], d[:, 1], d[:, 2], d[:, 3], g[..., 0], g[..., 1], g[..., 2], g[..., 3], crowd[:, row_group])
    iou[~valid[:, row_group]] = -1.0
    order = np.argsort(iou, axis=0, kind="stable")  # order[r, row]: the slot with the r-th smallest IoU
    rank = np.empty((width, total), dtype=key_dtype)
    np.put_along_axis(rank, order, np.arange(1, width + 1, dtype=key_dtype)[:, None], axis=0)

    thr = np.minimum(thresholds, 1 - 1e-10)
    available = np.ones((width, n, num_areas, num_thr), dtype=bool)  # not taken (crowd boxes never are)
    cells = n * num_areas * num_thr
    flat_available = available.reshape(-1)
    for p in range(max_count):
        n_p = int(active[p])
        rows = slice(int(offsets[p]), int(offsets[p + 1]))
        group = np.arange(n_p)[:, None, None]
        ge = iou[:, rows, None] >= thr  # (width, n_p, T)
        key = rank[:, rows, None] + preferred[:, :n_p]  # (width, n_p, A)
        value = key[:, :, :, None] * ge[:, :, None, :]  # (width, n_p, A, T)
        value *= available[:, :n_p]
        top = value.max(axis=0).astype(np.int64)  # (n_p, A, T)
        hit = top > 0
        is_tp = top > width
        position = np.maximum(top - 1 - width * is_tp, 0)
        chosen = order[:, rows][position, group]  # the slot each detection takes
        kind = np.where(is_tp, _TP, np.where(hit, _IGNORED, _UNMATCHED)).astype(np.int8)
        if zero_id[:, :n_p].any():
            kind[is_tp & zero_id[chosen, group]] = _UNMATCHED
        taken = np.flatnonzero(hit & ~crowd[chosen, group])
        flat_available[chosen.reshape(-1)[taken] * cells + taken] = False
        outcome[row_det[rows]] = kind


# --------------------------------------------------------------------- accumulation


def _accumulate(
    outcome: np.ndarray,
    in_range: np.ndarray,
    category: np.ndarray,
    rank: np.ndarray,
    num_categories: int,
    num_gt: np.ndarray,
    thresholds: np.ndarray,
    max_dets: Sequence[int],
    all_precision: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """COCOeval's ``accumulate``: precision (T, R, K, A, M) and recall (T, K, A, M).

    With ``all_precision`` False the precision of every ``maxDets`` but the largest is
    left NaN where it would be defined (−1 stays −1; no summary number reads it; recall
    is computed for all of them).

    In accumulation order (category, descending score, image, rank): ``outcome``
    (N, A, T) holds the match, 1 for a true positive, 2 for a detection matched to an
    ignored box, 0 for none; ``in_range`` (A, N) whether the detection's own area is in
    the range (an unmatched detection is a false positive there, ignored elsewhere);
    ``num_gt`` (K, A) counts the non-ignored ground truth.

    Only the true positives are visited: precision rises only at a true positive, so the
    envelope max_{j ≥ i} p(j) at the first detection reaching c true positives is the
    largest precision among the c-th and later true positives, and every recall level's
    ``searchsorted`` lands on such a detection (or on the first one, for recall 0).  The
    c-th true positive of its category, with (TP + FP)(i) = n detections not ignored up
    to it, has precision c / (n + ε), the very division pycocotools does.  Matched
    detections are a few percent of the (detection, area, threshold) cells, so the
    counts are taken over them alone, for every area range, threshold and category at
    once: n = c + (in-range detections so far) − (matched in-range detections so far),
    the first count a cumulative sum per area range over the detections.
    """
    num_det, num_areas, num_thr = outcome.shape
    num_levels = len(RECALL_LEVELS)
    num_m = len(max_dets)
    num_cols = num_areas * num_thr
    num_rows = num_cols * num_categories  # one row per (area, threshold, category)
    precision = -np.ones((num_thr, num_levels, num_categories, num_areas, num_m))
    recall = -np.ones((num_thr, num_categories, num_areas, num_m))
    defined = (num_gt > 0).T  # (A, K)
    if not defined.any():
        return precision, recall
    # the recall levels: per (category, area) with ground truth, the true-positive count
    # whose recall first reaches each level (float division as pycocotools), as the
    # 0-based position ``at`` and the count ``enough``
    at = np.zeros((num_areas, num_categories, num_levels), dtype=np.int64)
    enough = np.ones((num_areas, num_categories, num_levels), dtype=np.int64)
    levels_of: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for a, k in zip(*np.nonzero(defined)):
        n_gt = int(num_gt[k, a])
        if n_gt not in levels_of:
            needed = np.searchsorted(np.arange(n_gt + 1) / n_gt, RECALL_LEVELS, side="left")
            levels_of[n_gt] = (np.maximum(needed - 1, 0), np.maximum(needed, 1))
        at[a, k], enough[a, k] = levels_of[n_gt]
    row_at = np.broadcast_to(at[:, None], (num_areas, num_thr, num_categories, num_levels)).reshape(num_rows, num_levels)
    row_enough = np.broadcast_to(enough[:, None], (num_areas, num_thr, num_categories, num_levels)).reshape(num_rows, num_levels)
    row_n_gt = np.broadcast_to(num_gt.T[:, None], (num_areas, num_thr, num_categories)).reshape(num_rows)
    row_defined = row_n_gt > 0

    # the matched cells, by (area, threshold) column, then detection; a row is (column, category)
    flat = np.flatnonzero(outcome.reshape(-1) != 0)  # (a bool array's nonzero is three times faster than int8's)
    flat = flat[_stable_order(flat % num_cols)]
    all_tp = outcome.reshape(-1)[flat] == _TP
    all_det, col = np.divmod(flat, num_cols)
    del flat
    all_area = col // num_thr
    all_row = col * num_categories + category[all_det]
    del col
    cat_first = np.searchsorted(category, np.arange(num_categories + 1), side="left")
    row_first = np.broadcast_to(cat_first[:-1], (num_cols, num_categories)).reshape(-1)  # each row's first detection

    def column_rows(values: np.ndarray) -> np.ndarray:
        """A (A·T·K,) row array → (T, K, A) for precision and recall's layout."""
        return values.reshape(num_areas, num_thr, num_categories).transpose(1, 2, 0)

    for m in range(num_m):
        largest = m == num_m - 1
        if not largest and not all_precision:
            continue  # recall only: from the largest maxDets' true positives, below
        if largest:
            det, row, area, is_tp, counted = all_det, all_row, all_area, all_tp, in_range
        else:  # only the detections within the first max_det of their image count
            sel = rank[all_det] < max_dets[m]
            det, row, area, is_tp = all_det[sel], all_row[sel], all_area[sel], all_tp[sel]
            counted = in_range & (rank < max_dets[m])[None, :]
        # n at a true positive = c (true positives so far in its row) + the false positives so
        # far: in-range detections of the category so far, less the matched in-range ones
        cum_in = np.zeros((num_areas, num_det + 1), dtype=np.int32 if num_det < 2**31 else np.int64)
        np.cumsum(counted, axis=1, out=cum_in[:, 1:])
        matched_in = np.cumsum(counted[area, det], dtype=np.int64)
        matched_in_before = np.concatenate(([0], matched_in))[np.searchsorted(row, np.arange(num_rows))]
        tp = np.flatnonzero(is_tp)
        tp_row, tp_det, tp_area = row[tp], det[tp], area[tp]
        n_tp = np.bincount(tp_row, minlength=num_rows)
        tp_before = np.concatenate(([0], np.cumsum(n_tp)))
        c = np.arange(1, len(tp) + 1) - tp_before[tp_row]
        in_so_far = cum_in[tp_area, tp_det + 1].astype(np.int64) - cum_in[tp_area, row_first[tp_row]]
        n = c + (in_so_far - (matched_in[tp] - matched_in_before[tp_row]))
        del cum_in, matched_in
        values = _sampled_envelope(c / (n + _EPS), tp_before, n_tp, row_at, row_enough)  # (rows, R)
        recall[:, :, :, m] = column_rows(np.where(row_defined, n_tp / np.maximum(row_n_gt, 1), -1.0))
        values[~row_defined] = -1.0
        precision[:, :, :, :, m] = values.reshape(num_areas, num_thr, num_categories, num_levels).transpose(1, 3, 2, 0)
        if largest and not all_precision:
            # the smaller maxDets' recall: these true positives within the first max_det of their image
            tp_rank = rank[tp_det]
            for small, max_det in enumerate(max_dets[:-1]):
                n_small = np.bincount(tp_row[tp_rank < max_det], minlength=num_rows)
                recall[:, :, :, small] = column_rows(np.where(row_defined, n_small / np.maximum(row_n_gt, 1), -1.0))
                precision[:, :, :, :, small] = np.where(column_rows(row_defined)[:, None], np.nan, -1.0)
    return precision, recall


def _sampled_envelope(precision_tp, tp_before, n_tp, at, enough) -> np.ndarray:
    """Per row, the envelope max_{j ≥ at} p(j) of its true positives' precisions at each recall level (rows, R).

    Row r's true positives are ``precision_tp[tp_before[r] : tp_before[r] + n_tp[r]]``
    in order; 0 where a row has fewer than ``enough`` true positives (the level is never
    reached).  The levels' positions ``tp_before[r] + at[r, l]`` are non-decreasing, so
    one ``maximum.reduceat`` gives the maximum between consecutive ones (each row's end
    is a breakpoint too), and a reverse running maximum over each row's levels turns
    those into suffix maxima.
    """
    num_rows, num_levels = at.shape
    values = np.zeros((num_rows, num_levels))
    reached = n_tp[:, None] >= enough  # a prefix of the levels in each row
    if len(precision_tp) == 0 or not reached.any():
        return values
    rows, cols = np.nonzero(reached)
    starts = tp_before[rows] + at[rows, cols]
    # breakpoints: every reached level, then its row's end (that block is discarded)
    last = np.flatnonzero(np.append(rows[1:] != rows[:-1], True))
    ends = tp_before[rows[last]] + n_tp[rows[last]]
    points = np.empty(len(starts) + len(ends), dtype=np.int64)
    is_level = np.ones(len(points), dtype=bool)
    where_end = last + np.arange(1, len(last) + 1)  # each end right after its row's last level
    is_level[where_end] = False
    points[is_level] = starts
    points[where_end] = ends
    padded = np.append(precision_tp, 0.0)  # an end can be the array's end
    values[rows, cols] = np.maximum.reduceat(padded, points)[is_level]
    values = np.maximum.accumulate(values[:, ::-1], axis=1)[:, ::-1]
    values[~reached] = 0.0
    return values


def _summarize(precision, recall, thresholds, is_ap, iou, area, max_det, area_labels, max_dets) -> float:
    """One line of ``COCOeval.summarize``: the mean of the entries > −1 (−1 if none)."""
    aind = [i for i, label in enumerate(area_labels) if label == area]
    mind = [i for i, m in enumerate(max_dets) if m == max_det]
    if is_ap:
        s = precision
        if iou is not None:
            s = s[np.where(iou == thresholds)[0]]
        s = s[:, :, :, aind, mind]
    else:
        s = recall
        if iou is not None:
            s = s[np.where(iou == thresholds)[0]]
        s = s[:, :, aind, mind]
    if len(s[s > -1]) == 0:
        return -1.0
    return float(np.mean(s[s > -1]))


# ------------------------------------------------------------------------- the API


def _resolve_categories(data: CocoData, only_categories) -> np.ndarray:
    """Indices of the categories to evaluate (all, or those named by id or name)."""
    if not only_categories:
        return np.arange(data.num_categories)
    ids = [str(c) for c in data.category_ids.tolist()]
    by_id = {c: i for i, c in enumerate(ids)}
    by_name: dict[str, int] = {}
    for i, name in enumerate(data.category_names):
        by_name.setdefault(name, i)
    chosen = []
    for item in only_categories:
        key = str(item)
        if key in by_id:
            chosen.append(by_id[key])
        elif key in by_name:
            chosen.append(by_name[key])
        else:
            shown = ", ".join(f"{c} ({n})" for c, n in list(zip(ids, data.category_names))[:12])
            more = " …" if len(ids) > 12 else ""
            raise ValueError(f"--class {item!r} is neither a category id nor a name in the annotations (categories: {shown}{more})")
    return np.unique(np.array(chosen, dtype=np.int64))


def evaluate_coco(
    data: CocoData,
    iou_thresholds: Sequence[float] | None = None,
    only_categories: Sequence[int | str] | None = None,
    progress: Callable[[float], None] | None = None,
    *,
    max_dets: Sequence[int] = MAX_DETS,
    area_ranges: Sequence[tuple[str, float, float]] | None = None,
    f1: bool = False,
    all_precision: bool = True,
) -> CocoResult:
    """Evaluate COCO box detections as pycocotools' ``COCOeval(..., "bbox")`` does.

    Parameters
    ----------
    data : CocoData
        From :func:`dlvcli.inputs.coco.load_coco` (or built directly).
    iou_thresholds : sequence of float, optional
        Default ``np.linspace(0.5, 0.95, 10)`` (COCO's 0.50:0.05:0.95).  ``ap50`` and
        ``ap75`` are None unless 0.5 and 0.75 are among them (as in COCOeval).
    only_categories : sequence of category ids or names, optional
        Evaluate these categories only (COCOeval's ``params.catIds``).
    progress : callable, optional
        Called with the fraction of work done (0 … 1) as the evaluation goes.
    max_dets : three increasing ints, optional
        COCOeval's ``params.maxDets`` (default 1, 10, 100); the summary's ``arN`` follow
        them and everything else uses the largest.
    area_ranges : sequence of (label, lo, hi), optional
        Replace small/medium/large (``params.areaRng``/``areaRngLbl`` after ``all``, which
        is always first); the summary's ``ap_LABEL``/``ar_LABEL`` follow the labels.
    f1 : bool
        Also find each category's best-F1 score threshold (:class:`BestF1`, IoU 0.5).
    all_precision : bool
        False leaves ``precision[..., m]`` NaN (where not −1) for every ``maxDets`` but the largest: no
        summary number, per-category figure or curve reads them, and skipping them
        saves about a fifth of the time (the CLI does so; recall is always complete).

    Returns
    -------
    CocoResult

    Examples
    --------
    >>> import numpy as np
    >>> data = CocoData(np.array([1]), np.array([1]), ("cat",), np.array([0]), np.array([0]),
    ...     np.array([[0., 0., 10., 10.]]), np.array([100.]), np.array([False]), np.array([1]),
    ...     np.array([0, 0]), np.array([0, 0]), np.array([[0., 0., 10., 10.], [0., 0., 10., 5.]]),
    ...     np.array([0.9, 0.8]))
    >>> result = evaluate_coco(data)     # the first detection is a perfect match, the second a duplicate
    >>> result.ap, result.ar100          # precision TP / (TP + FP + ε) = 1 / (1 + 2⁻⁵²)
    (0.9999999999999998, 1.0)
    """
    thresholds = COCO_IOU_THRESHOLDS.copy() if iou_thresholds is None else np.asarray(iou_thresholds, dtype=float).ravel()
    if thresholds.size == 0:
        raise ValueError("at least one IoU threshold is needed")
    if not np.all(np.isfinite(thresholds)) or np.any(thresholds < 0) or np.any(thresholds > 1):
        raise ValueError(f"IoU thresholds must lie in [0, 1], got {thresholds.tolist()}")
    max_dets = tuple(int(m) for m in max_dets)
    if len(max_dets) != 3 or not all(a < b for a, b in zip((0,) + max_dets, max_dets)):
        raise ValueError(f"maxDets must be three increasing positive numbers, got {list(max_dets)}")
    ranges = AREA_RANGES if area_ranges is None else (AREA_RANGES[0],) + tuple((str(n), float(a), float(b)) for n, a, b in area_ranges)
    labels = [r[0] for r in ranges]
    if len(set(labels)) != len(labels):
        raise ValueError(f"area range labels must be distinct (and not 'all'), got {labels[1:]}")
    if f1 and not np.any(thresholds == 0.5):
        raise ValueError("the best-F1 threshold is found at IoU 0.5, which is not among the IoU thresholds")
    selected = _resolve_categories(data, only_categories)
    num_cat = len(selected)
    num_areas = len(ranges)
    num_thr = len(thresholds)
    max_keep = max_dets[-1]

    # category index → position among the selected (−1 when not selected)
    cat_map = np.full(data.num_categories, -1, dtype=np.int64)
    cat_map[selected] = np.arange(num_cat)
    det_cat_all = cat_map[np.asarray(data.det_category, dtype=np.int64)] if len(data.det_category) else np.zeros(0, np.int64)
    gt_cat_all = cat_map[np.asarray(data.gt_category, dtype=np.int64)] if len(data.gt_category) else np.zeros(0, np.int64)
    det_keep = np.flatnonzero(det_cat_all >= 0)
    gt_keep = np.flatnonzero(gt_cat_all >= 0)

    # ---- detections: group by (image, category), rank by score (stable), keep 100
    det_img = np.asarray(data.det_image, dtype=np.int64)[det_keep]
    det_cat = det_cat_all[det_keep]
    det_score = np.asarray(data.det_score, dtype=float)[det_keep]
    det_group = det_img * num_cat + det_cat
    score_rank = _descending_rank(det_score)  # the key of both sorts by score
    order = _stable_order(det_group, score_rank)
    det_group = det_group[order]
    keys, starts, counts = _group_bounds(det_group)
    rank = np.arange(len(det_group)) - np.repeat(starts, counts)
    keep = rank < max_keep
    order = order[keep]
    rank = rank[keep]
    det_group = det_group[keep]
    det_keys, det_starts, det_counts = _group_bounds(det_group)
    det_index = det_keep[order]
    det_bbox = np.asarray(data.det_bbox, dtype=float)[det_index].reshape(-1, 4)
    det_score = det_score[order]
    score_rank = score_rank[order]
    det_img = det_img[order]
    det_cat = det_cat[order]
    num_detections_in_file = np.bincount(det_cat_all[det_keep], minlength=num_cat)

    # ---- ground truth: group by (image, category), file order inside
    gt_img = np.asarray(data.gt_image, dtype=np.int64)[gt_keep]
    gt_cat = gt_cat_all[gt_keep]
    gt_group = gt_img * num_cat + gt_cat
    gorder = _stable_order(gt_group)
    gt_index = gt_keep[gorder]
    gt_group = gt_group[gorder]
    gt_cat = gt_cat[gorder]
    gt_bbox = np.asarray(data.gt_bbox, dtype=float)[gt_index].reshape(-1, 4)
    gt_area = np.asarray(data.gt_area, dtype=float)[gt_index]
    gt_crowd = np.asarray(data.gt_iscrowd, dtype=bool)[gt_index]
    gt_id_zero = np.asarray(data.gt_id)[gt_index] == 0
    gt_keys, gt_starts, gt_counts = _group_bounds(gt_group)

    lo = np.array([r[1] for r in ranges])
    hi = np.array([r[2] for r in ranges])
    gt_ignored = gt_crowd[None, :] | (gt_area[None, :] < lo[:, None]) | (gt_area[None, :] > hi[:, None])  # (A, G)
    det_area = det_bbox[:, 2] * det_bbox[:, 3]
    det_out_of_range = (det_area[None, :] < lo[:, None]) | (det_area[None, :] > hi[:, None])  # (A, N)

    # join detection groups with ground-truth groups
    if len(gt_keys):
        pos = np.minimum(np.searchsorted(gt_keys, det_keys), len(gt_keys) - 1)
        found = gt_keys[pos] == det_keys
        groups = _Groups(det_starts, det_counts, np.where(found, gt_starts[pos], 0), np.where(found, gt_counts[pos], 0))
    else:
        groups = _Groups(det_starts, det_counts, np.zeros_like(det_starts), np.zeros_like(det_counts))

    total_work = max(1, int(det_counts[groups.gt_count > 0].sum()))
    done = [0]

    def step(count: int) -> None:
        done[0] += count
        if progress is not None:
            progress(min(1.0, 0.9 * done[0] / total_work))

    outcome = np.zeros((len(det_group), num_areas, num_thr), dtype=np.int8)
    _match_all(det_bbox, gt_bbox, gt_crowd, gt_ignored, gt_id_zero, groups, thresholds, outcome, step)

    # accumulation order: category, descending score, image, rank (COCOeval's two stable sorts)
    acc = _stable_order(det_cat, score_rank)
    status = outcome[acc]
    del outcome  # (20 MB at full size: less memory, fewer fresh pages for the accumulation)
    in_range = ~det_out_of_range[:, acc]  # (A, N): an unmatched detection outside its range is ignored, not a false positive
    num_gt = np.zeros((num_cat, num_areas), dtype=np.int64)
    for a in range(num_areas):
        num_gt[:, a] = np.bincount(gt_cat[~gt_ignored[a]], minlength=num_cat)
    precision, recall = _accumulate(status, in_range, det_cat[acc], rank[acc], num_cat, num_gt, thresholds, max_dets, all_precision)
    if progress is not None:
        progress(1.0)

    spec = summary_spec(labels, max_dets)
    stats = tuple(_summarize(precision, recall, thresholds, is_ap, iou, area, md, labels, max_dets) for _, is_ap, iou, area, md in spec)
    by_name = dict(zip((line[0] for line in spec), stats))
    named = {name: (None if by_name.get(name, -1) == -1 else by_name[name]) for name in SUMMARY_NAMES}
    best_f1 = _best_f1(status, in_range, det_cat[acc], det_score[acc], num_gt[:, 0], int(np.flatnonzero(thresholds == 0.5)[0]), num_cat) if f1 else None

    # per category, area "all", the largest maxDets
    m100 = len(max_dets) - 1
    num_crowd = np.bincount(gt_cat[gt_crowd], minlength=num_cat)
    num_evaluated = np.bincount(det_cat, minlength=num_cat)
    categories = []
    warnings = list(data.warnings)
    for k, c in enumerate(selected.tolist()):
        block = precision[:, :, k, 0, m100]
        if num_gt[k, 0] > 0:
            ap = float(np.mean(block[block > -1]))
            per_iou = tuple(float(np.mean(row)) for row in block)
            rec = float(np.mean(recall[:, k, 0, m100]))
        else:
            ap, per_iou, rec = None, tuple(None for _ in thresholds), None
            warnings.append(
                f"category {data.category_ids[c]!s} ({data.category_names[c]!r}) has no ground truth "
                "(no non-crowd annotation): its AP is undefined (null) and left out of the mean"
            )
        categories.append(
            CocoCategory(
                data.category_ids[c].item(),
                data.category_names[c],
                int(num_gt[k, 0]),
                int(num_crowd[k]),
                int(num_detections_in_file[k]),
                int(num_evaluated[k]),
                ap,
                per_iou,
                rec,
                tuple(
                    None if v == -1 else v
                    for v in (
                        _summarize(precision[:, :, k : k + 1], recall[:, k : k + 1], thresholds, is_ap, iou, area, md, labels, max_dets)
                        for _, is_ap, iou, area, md in spec
                    )
                ),
                None if best_f1 is None else best_f1[k],
                f1,
            )
        )
    pr_curves = {}
    for t in (0.5, 0.75):
        hits = np.flatnonzero(thresholds == t)
        if len(hits):
            pr_curves[t] = precision[hits[0], :, :, 0, m100].T.copy()
    return CocoResult(
        **named,
        stats=stats,
        categories=tuple(categories),
        iou_thresholds=tuple(float(t) for t in thresholds),
        recall_levels=RECALL_LEVELS.copy(),
        precision=precision,
        recall=recall,
        pr_curves=pr_curves,
        area_ranges=tuple(ranges),
        max_dets=max_dets,
        num_images=data.num_images,
        warnings=tuple(warnings),
        summary_names=tuple(line[0] for line in spec),
    )


def _best_f1(outcome, in_range, category, score, num_gt, t50, num_categories) -> list["BestF1 | None"]:
    """Per category: the :class:`BestF1` over its detections in accumulation order (None without ground truth or detections).

    ``outcome`` and ``in_range`` as for :func:`_accumulate`.
    """
    out: list[BestF1 | None] = [None] * num_categories
    status = outcome[:, 0, t50].copy()
    status[(status == _UNMATCHED) & ~in_range[0]] = _IGNORED
    _, starts, counts = _group_bounds(category)
    for start, count in zip(starts.tolist(), counts.tolist()):
        k = int(category[start])
        n_gt = int(num_gt[k])
        s = status[start : start + count]
        keep = s != _IGNORED
        scores = score[start : start + count][keep]
        if n_gt == 0 or len(scores) == 0:
            continue
        tp = np.cumsum(s[keep] == _TP)
        fp = np.arange(1, len(tp) + 1) - tp
        # the last detection of each run of equal scores: everything with score ≥ s counts
        last = np.flatnonzero(np.append(scores[1:] != scores[:-1], True))
        tp, fp = tp[last], fp[last]
        precision = tp / (tp + fp)
        recall = tp / n_gt
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(tp > 0, 2 * precision * recall / (precision + recall), 0.0)
        i = int(np.argmax(f))
        out[k] = BestF1(float(scores[last[i]]), float(precision[i]), float(recall[i]), float(f[i]), int(tp[i]), int(fp[i]), n_gt)
    return out
