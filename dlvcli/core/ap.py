"""Interpolated average precision, from a ranked TP/FP list or from matched boxes.

The pieces compose as a student computes them by hand (docs/interp-ap.md)::

    rank_order → cumulative_counts → precision_recall → precision_envelope
               → interpolated_points → average_precision

precision = cumTP / rank, recall = cumTP / num_gt.

* ``11point``: AP = 1/11 · Σ_{r ∈ {0, 0.1, …, 1}} p_interp(r), with
  p_interp(r) = max_{r' ≥ r} p(r') (0 if no recall reaches r).  PASCAL VOC 2007.
* ``101point``: the same at r ∈ {0, 0.01, …, 1} (COCO).
* ``allpoint``: Σ_i (r_i − r_{i−1}) · p_interp(r_i) over the recalls where recall
  changes: the area under the monotone envelope (PASCAL VOC 2010+).

Recall levels are exact fractions j/10 or j/100, compared in integers
(``L·cumTP ≥ j·num_gt``), so that a recall of exactly 3/10 reaches the 0.3 level.
Every sampled precision is cumTP[i]/rank[i] for a known rank i, which gives the
exact answer as a :class:`fractions.Fraction` from the same indices as the float one.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Sequence

import numpy as np

from dlvcli.core.display import WorkedSolution  # str() and Jupyter show the worked solution

METHODS = ("11point", "allpoint", "101point")
#: Conventions of widely used tools, computed for ``--compare`` (not offered as ``--method``):
#: ``11point-float`` compares the float recall cumTP/num_gt with the float levels
#: ``np.linspace(0, 1, 11)`` (py-faster-rcnn ``voc_eval``, Padilla's Object-Detection-Metrics);
#: ``101point-interp`` is Ultralytics' ``compute_ap`` (envelope of ``[1, precision…, 0]`` over
#: ``[0, recall…, 1]``, ``np.interp`` at 101 levels, trapezoid rule).
TOOL_METHODS = ("11point-float", "101point-interp")
COMPARE_METHODS = METHODS + TOOL_METHODS
#: Who uses each convention (the ``"tool"`` field of ``--compare``).
METHOD_TOOLS = {
    "11point": "PASCAL VOC 2007 definition, exact tenths (textbooks)",
    "allpoint": "PASCAL VOC 2010+ devkit; voc_eval(use_07_metric=False)",
    "101point": "COCO definition at exact hundredths (mode C: pycocotools)",
    "11point-float": "py-faster-rcnn voc_eval(use_07_metric=True); Padilla's Object-Detection-Metrics",
    "101point-interp": "Ultralytics YOLO (compute_ap, default 'interp')",
}
#: The levels of ``11point-float``: the same floats as ``np.arange(0, 1.1, 0.1)``.
FLOAT_11_LEVELS = np.linspace(0.0, 1.0, 11)
#: The 101 sample points of ``101point-interp`` (Ultralytics' ``np.linspace(0, 1, 101)``).
INTERP_101_LEVELS = np.linspace(0.0, 1.0, 101)
LEVEL_DENOMINATORS = {"11point": 10, "101point": 100}
# Above this many ranked rows the exact fraction is not computed unless asked for:
# the common denominator of an all-point sum grows with every distinct rank.
EXACT_ROW_LIMIT = 5000


def rank_order(scores: Sequence[float] | np.ndarray | None, count: int | None = None) -> np.ndarray:
    """Indices that rank detections by descending score; ties keep file order (stable sort).

    Without scores, file order is the rank.
    """
    if scores is None:
        return np.arange(count or 0)
    s = np.asarray(scores, dtype=float)
    return np.argsort(-s, kind="stable")


def cumulative_counts(tp: Sequence[bool] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative true and false positives at each rank: (cum_tp, cum_fp), int arrays."""
    t = np.asarray(tp, dtype=bool)
    cum_tp = np.cumsum(t, dtype=np.int64)
    cum_fp = np.arange(1, len(t) + 1, dtype=np.int64) - cum_tp
    return cum_tp, cum_fp


def precision_recall(cum_tp: np.ndarray, num_gt: int) -> tuple[np.ndarray, np.ndarray]:
    """precision = cumTP / rank, recall = cumTP / num_gt (NaN recall when num_gt = 0)."""
    ranks = np.arange(1, len(cum_tp) + 1)
    precision = cum_tp / ranks
    # (no np.errstate: nothing divides by zero here, and entering it costs more than the division)
    recall = cum_tp / num_gt if num_gt > 0 else np.full(len(cum_tp), np.nan)
    return precision, recall


def precision_envelope(precision: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The monotone envelope p_env[i] = max_{j ≥ i} precision[j], and for each i the j attaining it.

    Precisions are ratios of integers below ~1e7, so float comparisons order them
    exactly and the index names the exact fraction.
    """
    n = len(precision)
    if n == 0:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    reversed_p = precision[::-1]
    running = np.maximum.accumulate(reversed_p)
    # index (in reversed order) of the latest position where the running max was set
    setter = np.where(reversed_p >= running, np.arange(n), 0)
    setter = np.maximum.accumulate(setter)
    envelope = running[::-1].copy()
    argmax = (n - 1 - setter)[::-1].copy()
    return envelope, argmax


@dataclass(frozen=True)
class InterpolatedPoint:
    """One sampled point of the envelope: recall level r and p_interp(r).

    ``rank`` is the 1-based rank whose precision is p_interp(r) (None when no recall
    reaches r, and p_interp(r) = 0).
    """

    recall: float
    recall_exact: Fraction
    precision: float
    precision_exact: Fraction
    rank: int | None


def interpolated_points(cum_tp: np.ndarray, num_gt: int, method: str) -> tuple[InterpolatedPoint, ...]:
    """The points the AP of ``method`` averages or sums (see the module docstring).

    ``11point-float``: level j is the float ``np.linspace(0, 1, 11)[j]`` (``recall`` of the
    point; ``recall_exact`` is j/10, its name) reached where the float recall cumTP/num_gt
    is ≥ it.  ``101point-interp``: the 101 values of :func:`interp_101_values`
    (``precision_exact`` is the float's exact binary value, ``rank`` None).
    """
    if method not in COMPARE_METHODS:
        raise ValueError(f"unknown method {method!r}, expected one of {', '.join(METHODS)}")
    if num_gt <= 0:
        return ()
    cum_tp = np.asarray(cum_tp, dtype=np.int64)
    precision, _ = precision_recall(cum_tp, num_gt)
    envelope, argmax = precision_envelope(precision)
    n = len(cum_tp)

    def points(levels, firsts: np.ndarray) -> tuple[InterpolatedPoint, ...]:
        # plain Python numbers from the start: per-element numpy indexing costs more than the point
        firsts_list = firsts.tolist()
        used = [i for i in firsts_list if i < n]
        setters = argmax[used].tolist() if used else []
        heights = envelope[used].tolist() if used else []
        hits = cum_tp[argmax[used]].tolist() if used else []
        out = []
        k = 0
        for (level, level_float), first_index in zip(levels, firsts_list):
            if first_index >= n:
                out.append(InterpolatedPoint(level_float, level, 0.0, Fraction(0), None))
                continue
            j = setters[k]
            out.append(InterpolatedPoint(level_float, level, heights[k], Fraction(hits[k], j + 1), j + 1))
            k += 1
        return tuple(out)

    if method == "101point-interp":
        values = interp_101_values(cum_tp, num_gt)
        return tuple(InterpolatedPoint(float(x), Fraction(j, 100), float(v), Fraction(float(v)), None) for j, (x, v) in enumerate(zip(INTERP_101_LEVELS, values)))
    if method == "11point-float":
        recall = cum_tp / num_gt  # the float division the tools do
        firsts = np.searchsorted(recall, FLOAT_11_LEVELS, side="left")
        return points(((Fraction(j, 10), float(FLOAT_11_LEVELS[j])) for j in range(11)), firsts)
    if method == "allpoint":
        # first rank at which recall reaches k/num_gt, for each k reached
        reached = int(cum_tp[-1]) if n else 0
        firsts = np.searchsorted(cum_tp, np.arange(1, reached + 1), side="left")
        return points(((Fraction(k + 1, num_gt), (k + 1) / num_gt) for k in range(reached)), firsts)

    denominator = LEVEL_DENOMINATORS[method]
    # recall ≥ j/L  ⇔  L·cumTP ≥ j·num_gt, exactly in integers
    firsts = np.searchsorted(denominator * cum_tp, np.arange(denominator + 1) * num_gt, side="left")
    return points(_recall_levels(denominator), firsts)


@functools.lru_cache(maxsize=None)
def _recall_levels(denominator: int) -> tuple[tuple[Fraction, float], ...]:
    """The levels j/L, j = 0..L, exact and as floats (the same for every class)."""
    return tuple((Fraction(j, denominator), float(Fraction(j, denominator))) for j in range(denominator + 1))


def interp_101_values(cum_tp: np.ndarray, num_gt: int) -> np.ndarray:
    """Ultralytics' interpolated precision at ``np.linspace(0, 1, 101)``, shape (101,).

    ``mrec = [0, recall…, 1]``, ``mpre`` the envelope of ``[1, precision…, 0]``; at each
    level x the value ``np.interp(x, mrec, mpre)`` gives: with j the last index where
    ``mrec[j] ≤ x``, ``mpre[j]`` when ``mrec[j] = x`` (or j is the last point), otherwise
    the straight line from point j to point j + 1 (numpy's own arithmetic, slope first).
    So at x = 1 it reads the appended 0, and between two recalls it falls linearly.
    Without detections all 101 values are 0 (Ultralytics skips such a class: AP 0).
    """
    cum_tp = np.asarray(cum_tp, dtype=np.int64)
    if len(cum_tp) == 0:
        return np.zeros(len(INTERP_101_LEVELS))  # ap_per_class skips a class without predictions: AP 0
    precision, recall = precision_recall(cum_tp, num_gt)
    mrec = np.concatenate(([0.0], recall, [1.0]))
    envelope, _ = precision_envelope(np.concatenate(([1.0], precision, [0.0])))
    x = INTERP_101_LEVELS
    j = np.searchsorted(mrec, x, side="right") - 1
    last = len(mrec) - 1
    k = np.minimum(j + 1, last)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (envelope[k] - envelope[j]) / (mrec[k] - mrec[j])
        line = slope * (x - mrec[j]) + envelope[j]
    return np.where((j == last) | (mrec[j] == x), envelope[j], line)


def average_precision(points: Sequence[InterpolatedPoint], method: str, exact: bool = True) -> tuple[float, Fraction | None]:
    """AP from the sampled points: their mean (11/101 point) or the envelope's area (all point).

    ``101point-interp``: the trapezoid rule over the 101 levels, as ``np.trapezoid``
    computes it: Σ Δx · (y_i + y_{i+1}) / 2 (no exact fraction).
    """
    if method == "101point-interp":
        x = np.array([p.recall for p in points])
        y = np.array([p.precision for p in points])
        return float(np.add.reduce(np.diff(x) * (y[1:] + y[:-1]) / 2.0)), None
    if method == "allpoint":
        recalls = np.array([0.0] + [p.recall for p in points])
        precisions = np.array([p.precision for p in points])
        value = float(np.sum(np.diff(recalls) * precisions)) if len(points) else 0.0
        if not exact:
            return value, None
        total = Fraction(0)
        previous = Fraction(0)
        for p in points:
            total += (p.recall_exact - previous) * p.precision_exact
            previous = p.recall_exact
        return float(total), total
    value = float(np.mean([p.precision for p in points])) if points else 0.0
    if not exact:
        return value, None
    total = fraction_sum([p.precision_exact for p in points]) / len(points)
    return float(total), total


def fraction_sum(fractions: Sequence[Fraction]) -> Fraction:
    """Σ fractions over their least common denominator: one reduction instead of one per term."""
    if not fractions:
        return Fraction(0)
    common = math.lcm(*(f.denominator for f in fractions))
    return Fraction(sum(f.numerator * (common // f.denominator) for f in fractions), common)


@dataclass(frozen=True, eq=False)  # its arrays have no == that gives a bool
class RankedTable:
    """Detections of one class in rank order with their running counts.

    ``image``, ``iou`` and ``matched_gt`` are filled from box matching (mode B);
    ``matched_gt`` is the 0-based ground-truth data row, −1 when not matched.
    """

    tp: np.ndarray
    score: np.ndarray | None
    cum_tp: np.ndarray
    cum_fp: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    image: np.ndarray | None = None
    iou: np.ndarray | None = None
    matched_gt: np.ndarray | None = None
    source_row: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.tp)


def ranked_table(tp, num_gt: int, score=None, **extra) -> RankedTable:
    """Build the ranked table from TP flags already in rank order."""
    t = np.asarray(tp, dtype=bool)
    cum_tp, cum_fp = cumulative_counts(t)
    precision, recall = precision_recall(cum_tp, num_gt)
    return RankedTable(t, None if score is None else np.asarray(score, dtype=float), cum_tp, cum_fp, precision, recall, **extra)


@dataclass(frozen=True, eq=False)  # its arrays have no == that gives a bool
class ClassAP:
    """AP of one class.  ``ap`` is None when the class has no ground truth."""

    name: str | None
    num_gt: int
    table: RankedTable
    points: tuple[InterpolatedPoint, ...]
    ap: float | None
    ap_exact: Fraction | None
    num_ignored: int = 0
    ap_per_iou: tuple[float | None, ...] | None = None

    @property
    def num_detections(self) -> int:
        return len(self.table)


@dataclass(frozen=True, eq=False)  # its arrays have no == that gives a bool
class APResult(WorkedSolution):
    """Per-class AP and their mean (docs/interp-ap.md).  ``mode`` is ``ranked`` or ``boxes``."""

    mode: str
    method: str
    classes: tuple[ClassAP, ...]
    map: float | None
    map_exact: Fraction | None
    iou_thresholds: tuple[float, ...] = ()
    plus_one: bool = False
    warnings: tuple[str, ...] = field(default_factory=tuple)
    compare: tuple["ConventionRow", ...] = ()


def class_ap(name, table: RankedTable, num_gt: int, method: str, exact: bool | None = None, **extra) -> ClassAP:
    """AP of one class from its ranked table; exact fractions unless the table is long."""
    if num_gt <= 0:
        return ClassAP(name, num_gt, table, (), None, None, **extra)
    want_exact = len(table) <= EXACT_ROW_LIMIT if exact is None else exact
    if len(table) <= _SHARED_TABLE_ROWS:
        points, ap, ap_exact = _shared_points_and_ap(np.asarray(table.cum_tp, dtype=np.int64).tobytes(), num_gt, method, want_exact)
    else:
        points = interpolated_points(table.cum_tp, num_gt, method)
        ap, ap_exact = average_precision(points, method, exact=want_exact)
    return ClassAP(name, num_gt, table, points, ap, ap_exact, **extra)


# Classes with a short table often share it (1 or 2 detections, the same num_gt): their
# points and AP are computed once.  Points and fractions are immutable, so sharing them is
# safe; with 20,000 such classes building 220,000 points and fractions was half the run.
_SHARED_TABLE_ROWS = 32


@functools.lru_cache(maxsize=4096)
def _shared_points_and_ap(cum_tp: bytes, num_gt: int, method: str, exact: bool):
    points = interpolated_points(np.frombuffer(cum_tp, dtype=np.int64), num_gt, method)
    return (points, *average_precision(points, method, exact=exact))


def mean_ap(classes: Sequence[ClassAP]) -> tuple[float | None, Fraction | None, list[str]]:
    """mAP over the classes that have ground truth, and warnings for those that have none."""
    warnings = []
    scored = []
    for c in classes:
        if c.ap is None:
            label = "the data" if c.name is None else f"class {c.name!r}"
            warnings.append(f"{label} has no ground truth (num_gt = 0): its AP is undefined (null) and left out of the mAP")
        else:
            scored.append(c)
    if not scored:
        return None, None, warnings
    value = float(np.mean([c.ap for c in scored]))
    if all(c.ap_exact is not None for c in scored):
        exact = fraction_sum([c.ap_exact for c in scored]) / len(scored)
        return float(exact), exact, warnings
    return value, None, warnings


def rows_by_label(labels) -> dict:
    """label → the indices of its rows, in order: one pass, not a scan of every row per class."""
    rows_of: dict = {}
    for row, label in enumerate(np.asarray(labels, dtype=object).tolist()):
        rows_of.setdefault(label, []).append(row)
    return {label: np.asarray(rows, dtype=np.intp) for label, rows in rows_of.items()}


def restrict_classes(names: list, only_classes: Sequence[str] | None) -> list:
    """The classes of ``names`` that ``--class`` asks for (all without it); unknown ones are an error."""
    if not only_classes:
        return list(names)
    unknown = [c for c in only_classes if c not in names]
    if unknown:
        raise ValueError(f"--class {unknown[0]!r} is not in the data (classes: {', '.join(map(str, names))})")
    return [n for n in names if n in set(only_classes)]


def _check_method(method: str) -> None:
    if method not in COMPARE_METHODS:
        raise ValueError(f"unknown method {method!r}, expected one of {', '.join(METHODS)}")


def interp_ap_ranked(
    tp: Sequence[bool],
    num_gt: int | dict[str, int],
    *,
    scores: Sequence[float] | None = None,
    classes: Sequence[str] | None = None,
    method: str = "11point",
    only_classes: Sequence[str] | None = None,
    exact: bool | None = None,
) -> APResult:
    """Mode A: AP from TP/FP flags (file order, or ranked by ``scores``), per class.

    ``num_gt`` is one count, or a mapping class → count when ``classes`` is given.

    >>> r = interp_ap_ranked([1, 1, 0, 0, 0, 1, 1, 0, 0, 1], num_gt=5)
    >>> r.classes[0].ap_exact, interp_ap_ranked([1, 1, 0, 0, 0, 1, 1, 0, 0, 1], 5, method="allpoint").map_exact
    (Fraction(58, 77), Fraction(51, 70))
    """
    _check_method(method)
    flags = np.asarray(tp, dtype=bool)
    if scores is not None and len(scores) != len(flags):
        raise ValueError(f"{len(scores)} scores for {len(flags)} detections")
    if classes is None:
        names: list = [None]
        labels = np.array([None] * len(flags), dtype=object)
    else:
        if len(classes) != len(flags):
            raise ValueError(f"{len(classes)} class labels for {len(flags)} detections")
        labels = np.asarray(list(classes), dtype=object)
        names = sorted(set(labels.tolist()) | (set(num_gt) if isinstance(num_gt, dict) else set()))
    if isinstance(num_gt, dict):
        counts = dict(num_gt)
        if classes is None:
            raise ValueError("--num-gt CLASS=N needs a 'class' column in the file")
    else:
        if classes is not None and len(names) > 1:
            raise ValueError(
                f"a single --num-gt {num_gt} is ambiguous with {len(names)} classes ({', '.join(map(str, names))}); "
                "give --num-gt CLASS=N once per class"
            )
        counts = {name: int(num_gt) for name in names}
    names = restrict_classes(names, only_classes)

    all_scores = None if scores is None else np.asarray(scores, dtype=float)  # once, not once per class
    rows_of = rows_by_label(labels) if classes is not None else {}
    results = []
    for name in names:
        if name not in counts:
            raise ValueError(f"no --num-gt for class {name!r}; give --num-gt {name}=N")
        rows = rows_of.get(name, np.zeros(0, dtype=np.intp)) if classes is not None else np.arange(len(flags))
        class_scores = None if all_scores is None else all_scores[rows]
        order = rows[rank_order(class_scores, len(rows))]
        n_gt = counts[name]
        if n_gt < 0:
            raise ValueError(f"--num-gt must be ≥ 0, got {n_gt}")
        n_tp = int(flags[order].sum())
        if n_tp > n_gt:
            label = "" if name is None else f" for class {name!r}"
            raise ValueError(f"--num-gt{label} is {n_gt} but the file has {n_tp} true positives; num_gt must be at least that")
        table = ranked_table(flags[order], n_gt, None if all_scores is None else all_scores[order], source_row=order)
        results.append(class_ap(name, table, n_gt, method, exact))
    m, m_exact, warnings = mean_ap(results)
    return APResult("ranked", method, tuple(results), m, m_exact, warnings=tuple(warnings))


# A range of IoU thresholds is evaluated once per threshold: 0.5:0.95:0.000001 would be
# 450,001 matchings (and gigabytes in mode C).
MAX_IOU_THRESHOLDS = 1000


def parse_iou_thresholds(spec: str | float | Sequence[float]) -> tuple[float, ...]:
    """``0.5`` → (0.5,); ``0.5:0.95:0.05`` → the ten COCO thresholds (as numpy.linspace gives them)."""
    if isinstance(spec, (int, float)):
        values = (float(spec),)
    elif isinstance(spec, str):
        if not spec.strip():
            raise ValueError("--iou is empty: expected a number like 0.5 or a range start:stop:step like 0.5:0.95:0.05")
        parts = spec.strip().split(":")
        try:
            numbers = [float(p) for p in parts]
        except ValueError:
            raise ValueError(f"--iou {spec!r}: expected a number like 0.5 or a range start:stop:step like 0.5:0.95:0.05") from None
        if len(numbers) == 1:
            values = (numbers[0],)
        elif len(numbers) == 3:
            start, stop, step = numbers
            if not (step > 0 and stop >= start) or not all(np.isfinite(numbers)):
                raise ValueError(f"--iou {spec!r}: a range needs step > 0 and stop ≥ start (start:stop:step)")
            steps = (stop - start) / step  # inf for a step of 1e-320
            if not steps < MAX_IOU_THRESHOLDS:
                raise ValueError(
                    f"--iou {spec!r}: the range gives {'more than ' + format(MAX_IOU_THRESHOLDS, ',') if not np.isfinite(steps) or steps > 1e15 else format(int(round(steps)) + 1, ',')} "
                    f"thresholds, expected at most {MAX_IOU_THRESHOLDS:,} (a larger step)"
                )
            count = int(np.round(steps)) + 1
            if abs(start + (count - 1) * step - stop) > 1e-9 * max(1.0, abs(stop)):
                raise ValueError(f"--iou {spec!r}: the step does not divide stop − start into whole steps")
            values = tuple(float(v) for v in np.linspace(start, stop, count))
        else:
            raise ValueError(f"--iou {spec!r}: expected a number like 0.5 or a range start:stop:step like 0.5:0.95:0.05")
    else:
        values = tuple(float(v) for v in spec)
        if len(values) > MAX_IOU_THRESHOLDS:
            raise ValueError(f"--iou: {len(values):,} thresholds, expected at most {MAX_IOU_THRESHOLDS:,}")
    for v in values:
        if not (0 < v <= 1):
            raise ValueError(f"--iou threshold {v} is outside (0, 1]")
    return values


def interp_ap_boxes(
    detections,
    ground_truth,
    *,
    method: str = "11point",
    iou_thresholds: Sequence[float] = (0.5,),
    plus_one: bool = False,
    only_classes: Sequence[str] | None = None,
) -> APResult:
    """Mode B: match boxes PASCAL VOC style per class and threshold, then AP per class.

    ``detections`` and ``ground_truth`` are :class:`dlvcli.core.matching.BoxSet`.
    With several thresholds a class's AP is the mean over them; its ranked table and
    points are those of the first threshold.
    """
    from dlvcli.core.matching import best_ground_truth_grouped

    _check_method(method)
    thresholds = tuple(float(t) for t in iou_thresholds)
    if not thresholds:
        raise ValueError("at least one IoU threshold is needed")
    every_name = sorted(set(detections.labels.tolist()) | set(ground_truth.labels.tolist()), key=lambda x: (x is None, str(x)))
    names = restrict_classes(every_name, only_classes)
    # All classes are matched together (a group is one class in one image: a detection is
    # compared with the boxes of its own class and image only), then sliced per class; this
    # is match_detections_voc for every class at once (tests compare the two).
    class_code = {name: k for k, name in enumerate(every_name)}
    det_class = np.fromiter((class_code[x] for x in detections.labels.tolist()), dtype=np.int64, count=len(detections))
    gt_class = np.fromiter((class_code[x] for x in ground_truth.labels.tolist()), dtype=np.int64, count=len(ground_truth))
    group_code: dict = {}
    det_group = np.fromiter(
        (group_code.setdefault((c, str(i)), len(group_code)) for c, i in zip(det_class.tolist(), detections.images.tolist())),
        dtype=np.int64, count=len(detections),
    )
    gt_group = np.fromiter(
        (group_code.setdefault((c, str(i)), len(group_code)) for c, i in zip(gt_class.tolist(), ground_truth.images.tolist())),
        dtype=np.int64, count=len(ground_truth),
    )
    best_iou_all, best_gt_all = best_ground_truth_grouped(detections.boxes, det_group, ground_truth.boxes, gt_group, plus_one)
    # rank order within each class: descending score, ties in file order (lexsort is stable)
    order_all = np.lexsort((-detections.scores, det_class)) if len(detections) else np.zeros(0, dtype=np.intp)
    class_end = np.cumsum(np.bincount(det_class, minlength=len(every_name)))
    class_start = class_end - np.bincount(det_class, minlength=len(every_name))
    counted_gt = np.bincount(gt_class[~ground_truth.difficult], minlength=len(every_name))
    iou_ranked = best_iou_all[order_all]
    gt_ranked = best_gt_all[order_all]
    has_gt = gt_ranked >= 0
    matches = []
    for threshold in thresholds:
        hit = has_gt & (np.where(has_gt, iou_ranked, -1.0) >= threshold)
        ignored = np.zeros(len(order_all), dtype=bool)
        ignored[hit] = ground_truth.difficult[gt_ranked[hit]]
        candidates = np.flatnonzero(hit & ~ignored)
        tp_all = np.zeros(len(order_all), dtype=bool)
        # the first candidate (in rank order) of each box is its true positive; a box
        # belongs to one class, so ranking the classes one after another changes nothing
        _, first_of_box = np.unique(gt_ranked[candidates], return_index=True)
        tp_all[candidates[first_of_box]] = True
        matches.append((tp_all, ignored))
    results = []
    for name in names:
        k = class_code[name]
        ranks = slice(int(class_start[k]), int(class_end[k]))
        num_gt = int(counted_gt[k])
        per_threshold = []
        first = None
        for tp_all, ignored_all in matches:
            ignored = ignored_all[ranks]
            keep = ~ignored
            tp = tp_all[ranks][keep]
            rank_rows = order_all[ranks][keep]
            matched_gt = np.full(len(tp), -1, dtype=np.int64)
            matched_gt[tp] = ground_truth.rows[gt_ranked[ranks][keep][tp]]
            table = ranked_table(
                tp,
                num_gt,
                detections.scores[rank_rows],
                image=detections.images[rank_rows],
                iou=iou_ranked[ranks][keep],
                matched_gt=matched_gt,
                source_row=detections.rows[rank_rows],
            )
            result = class_ap(name, table, num_gt, method, num_ignored=int(ignored.sum()))
            per_threshold.append(result)
            if first is None:
                first = result
        if num_gt > 0 and len(thresholds) > 1:
            aps = tuple(r.ap for r in per_threshold)
            exacts = [r.ap_exact for r in per_threshold]
            ap_exact = sum(exacts, Fraction(0)) / len(exacts) if all(e is not None for e in exacts) else None
            ap = float(ap_exact) if ap_exact is not None else float(np.mean(aps))
            first = ClassAP(name, num_gt, first.table, first.points, ap, ap_exact, first.num_ignored, aps)
        elif len(thresholds) > 1:
            first = ClassAP(name, num_gt, first.table, first.points, None, None, first.num_ignored, tuple(None for _ in thresholds))
        results.append(first)
    m, m_exact, warnings = mean_ap(results)
    return APResult("boxes", method, tuple(results), m, m_exact, thresholds, plus_one, tuple(warnings))


@dataclass(frozen=True)
class ConventionRow:
    """One line of ``--compare``: the AP (mAP over classes) under one set of conventions.

    ``differs_because`` names the conventions that change this row's AP from the run's
    own; ``explanation`` says, with the numbers of one class, why a row whose method
    differs gets another AP (filled for the rows with the run's own +1 and tie order).
    """

    method: str
    plus_one: bool | None
    ties: str  # "file-order" or "reversed"
    ap: float | None
    differs_because: tuple[str, ...] = ()
    tool: str = ""
    explanation: tuple[str, ...] = ()


#: What each convention computes, for the explanations.
METHOD_DEFINITIONS = {
    "11point": "the mean of p_interp at the 11 levels 0, 0.1, 0.2 up to 1 (recall compared exactly)",
    "101point": "the mean of p_interp at the 101 levels 0, 0.01, 0.02 up to 1",
    "allpoint": "the area under the step envelope, Σ (rᵢ − rᵢ₋₁)·p_interp(rᵢ) over the recalls reached",
    "11point-float": "the mean of max precision at float recall cumTP/num_gt ≥ each float level of np.linspace(0, 1, 11)",
    "101point-interp": (
        "the trapezoid rule over np.linspace(0, 1, 101) of the envelope of 1, the precisions, 0 "
        "over 0, the recalls, 1, joined by straight lines (np.interp)"
    ),
}


def _g(value: float) -> str:
    """A number in an explanation: 4 significant digits, trailing zeros dropped."""
    return "0" if value == 0 else f"{value:.4g}"


def _float_level_notes(c: ClassAP, num_gt: int) -> list[str]:
    """Levels where the float comparison of 11point-float samples another precision than exact tenths."""
    notes = []
    cum_tp = c.table.cum_tp
    exact = interpolated_points(cum_tp, num_gt, "11point")
    floats = interpolated_points(cum_tp, num_gt, "11point-float")
    for j, (e, f) in enumerate(zip(exact, floats)):
        if e.precision == f.precision:
            continue
        level = float(FLOAT_11_LEVELS[j])
        if e.rank is not None and (f.rank is None or f.rank > e.rank):
            k = int(cum_tp[e.rank - 1])
            taken = "0 (no recall reaches it)" if f.rank is None else f"{_g(f.precision)} (rank {f.rank})"
            notes.append(
                f"recall {k}/{num_gt} = {k / num_gt!r} is below the float level {level!r}, so level {j / 10:g} takes "
                f"the precision of the next recall: p_interp = {taken} instead of {_g(e.precision)} (rank {e.rank})"
            )
        else:
            k = int(cum_tp[f.rank - 1])
            notes.append(
                f"recall {k}/{num_gt} = {k / num_gt!r} reaches the float level {level!r}, so level {j / 10:g} takes "
                f"p_interp = {_g(f.precision)} (rank {f.rank}) instead of {_g(e.precision)}"
            )
    return notes


def _interp_notes(c: ClassAP, num_gt: int) -> list[str]:
    """Where Ultralytics' straight lines depart most from the step envelope, and its end points."""
    cum_tp = c.table.cum_tp
    if len(cum_tp) == 0:
        return ["no detections: Ultralytics skips the class, AP 0"]
    precision, recall = precision_recall(cum_tp, num_gt)
    envelope, _ = precision_envelope(precision)
    line = interp_101_values(cum_tp, num_gt)
    x = INTERP_101_LEVELS
    first = np.searchsorted(recall, x, side="left")  # the step envelope at x: the first rank with recall ≥ x
    step = np.where(first < len(recall), envelope[np.minimum(first, len(recall) - 1)], 0.0)
    notes = []
    inner = np.arange(1, len(x) - 1)
    gap = np.abs(line[inner] - step[inner])
    if gap.max() > 0:
        i = int(inner[np.argmax(gap)])
        mrec = np.concatenate(([0.0], recall, [1.0]))
        mpre, _ = precision_envelope(np.concatenate(([1.0], precision, [0.0])))
        j = int(np.searchsorted(mrec, x[i], side="right") - 1)  # mrec[j] is the recall at rank j
        if mrec[j] == x[i]:
            first_rank = int(np.searchsorted(recall, x[i], side="left")) + 1
            notes.append(
                f"recall {x[i]:.2f} is reached at ranks {first_rank} to {j}: np.interp reads the envelope at the last of "
                f"them, {_g(line[i])}, where p_interp({x[i]:.2f}) takes the first, {_g(step[i])}"
            )
        else:
            notes.append(
                f"at recall {x[i]:.2f} the straight line from ({_g(mrec[j])}, {_g(mpre[j])}) to ({_g(mrec[j + 1])}, {_g(mpre[j + 1])}) "
                f"reads {_g(line[i])} where the step envelope p_interp({x[i]:.2f}) is {_g(step[i])}"
            )
    if step[0] != line[0]:
        notes.append(f"at recall 0 it starts from the appended precision 1, where p_interp(0) is {_g(step[0])}")
    if step[-1] != line[-1]:
        notes.append(f"at recall 1 it reads the appended precision 0, though recall 1 is reached with p_interp(1) = {_g(step[-1])}")
    notes.append(f"the trapezoid rule then sums 100 intervals of width 0.01 (half weight for the two ends): AP = {_g(c.ap)}")
    return notes


def _explain(row_method: str, chosen_method: str, row, chosen) -> tuple[str, ...]:
    """Why ``row`` (an APResult under ``row_method``) differs from ``chosen``, with one class's numbers."""
    if not hasattr(row, "classes") or not hasattr(chosen, "classes"):
        return ()
    for c_row, c_chosen in zip(row.classes, chosen.classes):
        if c_row.ap is None or c_chosen.ap is None or c_row.ap == c_chosen.ap:
            continue
        label = "" if c_row.name is None else f"class {c_row.name}: "
        lines = [
            f"{label}{row_method} is {METHOD_DEFINITIONS[row_method]}: AP = {_g(c_row.ap)}, "
            f"where {chosen_method} gives {_g(c_chosen.ap)}"
        ]
        if row_method == "11point-float":
            lines += _float_level_notes(c_row, c_row.num_gt)
        elif row_method == "101point-interp":
            lines += _interp_notes(c_row, c_row.num_gt)
        return tuple(lines)
    return ()


def compare_conventions(compute, *, method: str, with_plus_one: bool) -> tuple[ConventionRow, ...]:
    """AP under every convention that makes tools disagree.

    ``compute(method, plus_one, reverse_ties)`` evaluates one set and returns its
    :class:`APResult` (or just the mAP, a float or None); rows whose AP differs from the
    run's own (``method``, no +1, file-order ties) name the conventions that changed, and
    rows of another method at the run's own +1 and tie order explain the difference.
    Methods are :data:`COMPARE_METHODS`: the three of ``--method`` and the tools'
    :data:`TOOL_METHODS`.
    """
    plus_ones = (False, True) if with_plus_one else (False,)
    results = {
        (m, plus_one, reverse): compute(m, plus_one, reverse)
        for m in COMPARE_METHODS
        for plus_one in plus_ones
        for reverse in (False, True)
    }
    aps = {key: getattr(value, "map", value) for key, value in results.items()}
    baseline = aps[(method, False, False)]
    rows = []
    for (m, plus_one, reverse), ap in aps.items():
        reasons: list[str] = []
        explanation: tuple[str, ...] = ()
        if ap != baseline:
            # a convention is a reason when undoing it alone changes this row's AP
            changes = [
                ("method " + m, (method, plus_one, reverse)),
                ("+1 pixel widths", (m, False, reverse)),
                ("tied scores ranked in reverse file order", (m, plus_one, False)),
            ]
            active = [c for c, flag in zip(changes, (m != method, plus_one, reverse)) if flag]
            reasons = [name for name, undone in active if aps[undone] != ap] or [name for name, _ in active]
            if m != method and not plus_one and not reverse:
                explanation = _explain(m, method, results[(m, False, False)], results[(method, False, False)])
        rows.append(ConventionRow(m, plus_one, "reversed" if reverse else "file-order", ap, tuple(reasons), METHOD_TOOLS[m], explanation))
    return tuple(rows)
