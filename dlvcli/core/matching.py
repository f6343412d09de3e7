"""PASCAL VOC matching of detections to ground-truth boxes (docs/interp-ap.md, mode B).

Per class, detections in descending score order (ties keep file order) each find the
ground-truth box of their image with the highest IoU (the first on a tie), taken or
not.  Then: IoU below the threshold, or no ground truth in the image → false positive;
that box is ``difficult`` → ignored (no rank); already taken → false positive
(duplicate); otherwise → true positive, and the box is taken.

Because the best box does not depend on what is taken, "taken" reduces to: the first
candidate detection (in rank order) of each box is its true positive.  That makes the
whole match one vectorised pass per image, with no loop over detections.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dlvcli.core.ap import rank_order
from dlvcli.core.boxes import iou, pairwise_iou


@dataclass(frozen=True, eq=False)  # its arrays have no == that gives a bool
class BoxSet:
    """Boxes loaded from a file: xyxy ``boxes`` (N, 4) and per-box image, class and row.

    ``rows`` is each box's 0-based data row in its file; ``scores`` is set for
    detections, ``difficult`` for ground truth (all False for detections).
    """

    boxes: np.ndarray
    images: np.ndarray
    labels: np.ndarray
    rows: np.ndarray
    scores: np.ndarray | None = None
    difficult: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.boxes)


def make_box_set(boxes, images, labels=None, scores=None, difficult=None, rows=None) -> BoxSet:
    boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
    n = len(boxes)
    return BoxSet(
        boxes,
        np.asarray(list(images), dtype=object),
        np.asarray(list(labels) if labels is not None else [None] * n, dtype=object),
        np.arange(n) if rows is None else np.asarray(rows, dtype=np.int64),
        None if scores is None else np.asarray(scores, dtype=float),
        np.zeros(n, dtype=bool) if difficult is None else np.asarray(difficult, dtype=bool),
    )


def reversed_rows(boxes: BoxSet) -> BoxSet:
    """The same boxes in reverse file order (so that tied scores rank the other way round)."""
    flip = slice(None, None, -1)
    return BoxSet(
        boxes.boxes[flip], boxes.images[flip], boxes.labels[flip], boxes.rows[flip],
        None if boxes.scores is None else boxes.scores[flip], None if boxes.difficult is None else boxes.difficult[flip],
    )


@dataclass(frozen=True, eq=False)  # its arrays have no == that gives a bool
class VOCMatch:
    """Outcome per detection, in rank order.

    ``order[i]`` is the input index of the detection at rank i (ignored ones
    included); ``best_gt`` indexes the ground-truth arrays given (−1: none in image);
    ``best_iou`` is NaN when the image has no ground truth.
    """

    order: np.ndarray
    tp: np.ndarray
    ignored: np.ndarray
    best_iou: np.ndarray
    best_gt: np.ndarray


def best_ground_truth(det_boxes, det_images, gt_boxes, gt_images, plus_one: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """For each detection, the highest IoU with a ground-truth box of its image and that box's index."""
    n = len(det_boxes)
    best_iou = np.full(n, np.nan)
    best_gt = np.full(n, -1, dtype=np.int64)
    if n == 0 or len(gt_boxes) == 0:
        return best_iou, best_gt
    gt_images = np.asarray(gt_images, dtype=object)
    det_images = np.asarray(det_images, dtype=object)
    gt_keys, gt_inverse = np.unique(gt_images.astype(str), return_inverse=True)
    det_keys, det_inverse = np.unique(det_images.astype(str), return_inverse=True)
    gt_groups = np.split(np.argsort(gt_inverse, kind="stable"), np.cumsum(np.bincount(gt_inverse))[:-1])
    gt_index = {key: gt_groups[i] for i, key in enumerate(gt_keys)}
    det_groups = np.split(np.argsort(det_inverse, kind="stable"), np.cumsum(np.bincount(det_inverse))[:-1])
    for i, key in enumerate(det_keys):
        g = gt_index.get(key)
        if g is None:
            continue
        d = det_groups[i]
        overlaps = pairwise_iou(det_boxes[d], gt_boxes[g], plus_one)
        j = np.argmax(overlaps, axis=1)  # first index on a tie, as the devkit's max
        best_gt[d] = g[j]
        best_iou[d] = overlaps[np.arange(len(d)), j]
    return best_iou, best_gt


def match_detections_voc(
    det_boxes,
    det_scores,
    det_images,
    gt_boxes,
    gt_images,
    gt_difficult=None,
    iou_threshold: float = 0.5,
    *,
    plus_one: bool = False,
) -> VOCMatch:
    """Match one class's detections to its ground truth, PASCAL VOC style (see module docstring).

    Boxes are xyxy arrays; a detection matches when IoU ≥ ``iou_threshold``.
    """
    det_boxes = np.asarray(det_boxes, dtype=float).reshape(-1, 4)
    gt_boxes = np.asarray(gt_boxes, dtype=float).reshape(-1, 4)
    difficult = np.zeros(len(gt_boxes), dtype=bool) if gt_difficult is None else np.asarray(gt_difficult, dtype=bool)
    order = rank_order(det_scores, len(det_boxes))
    best_iou, best_gt = best_ground_truth(det_boxes, det_images, gt_boxes, gt_images, plus_one)
    iou_ranked = best_iou[order]
    gt_ranked = best_gt[order]
    has_gt = gt_ranked >= 0
    hit = has_gt & (np.where(has_gt, iou_ranked, -1.0) >= iou_threshold)
    ignored = np.zeros(len(order), dtype=bool)
    ignored[hit] = difficult[gt_ranked[hit]]
    candidates = np.flatnonzero(hit & ~ignored)
    tp = np.zeros(len(order), dtype=bool)
    _, first = np.unique(gt_ranked[candidates], return_index=True)
    tp[candidates[first]] = True
    return VOCMatch(order, tp, ignored, iou_ranked, gt_ranked)


# Pairs of boxes compared at once by best_ground_truth_grouped (bounds the memory: ~30 MB a pass).
_PAIRS_PER_PASS = 1 << 20


def best_ground_truth_grouped(det_boxes, det_groups, gt_boxes, gt_groups, plus_one: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """:func:`best_ground_truth` for many groups at once (a group: one class in one image).

    ``det_groups`` and ``gt_groups`` are integer codes; a detection is compared with the
    ground-truth boxes of its own group only.  The returned index is into ``gt_boxes``;
    on a tie the first box in file order wins, as with ``np.argmax`` per image.  One
    vectorised pass over all (detection, box) pairs instead of one call per class: with
    20,000 classes the calls, not the arithmetic, were the cost.
    """
    det_boxes = np.asarray(det_boxes, dtype=float).reshape(-1, 4)
    gt_boxes = np.asarray(gt_boxes, dtype=float).reshape(-1, 4)
    det_groups = np.asarray(det_groups, dtype=np.int64)
    gt_groups = np.asarray(gt_groups, dtype=np.int64)
    n = len(det_boxes)
    best_iou = np.full(n, np.nan)
    best_gt = np.full(n, -1, dtype=np.int64)
    if n == 0 or len(gt_boxes) == 0:
        return best_iou, best_gt
    size = int(max(det_groups.max(), gt_groups.max())) + 1
    gt_order = np.argsort(gt_groups, kind="stable")  # file order within a group
    gt_count = np.bincount(gt_groups, minlength=size)
    gt_start = np.cumsum(gt_count) - gt_count
    pairs_of = gt_count[det_groups]
    ends = np.cumsum(pairs_of)
    lo = 0
    while lo < n:
        # detections lo..hi-1: at most _PAIRS_PER_PASS pairs (at least one detection)
        before = ends[lo - 1] if lo else 0
        hi = max(lo + 1, int(np.searchsorted(ends, before + _PAIRS_PER_PASS, side="right")))
        dets = np.arange(lo, hi)
        counts = pairs_of[lo:hi]
        lo = hi
        total = int(counts.sum())
        if total == 0:
            continue
        first_pair = np.cumsum(counts) - counts
        pair_det = np.repeat(dets, counts)
        within = np.arange(total) - np.repeat(first_pair, counts)
        pair_gt = gt_order[np.repeat(gt_start[det_groups[dets]], counts) + within]
        overlaps = iou(det_boxes[pair_det], gt_boxes[pair_gt], plus_one)
        some = counts > 0
        starts = first_pair[some]
        top = np.repeat(np.maximum.reduceat(overlaps, starts), counts[some])
        # np.argmax: the first maximum, or the first NaN when there is one
        best = np.where(np.isnan(top), np.isnan(overlaps), overlaps == top)
        first = np.minimum.reduceat(np.where(best, np.arange(total), total), starts)
        best_gt[dets[some]] = pair_gt[first]
        best_iou[dets[some]] = overlaps[first]
    return best_iou, best_gt
