"""Interpolated average precision, from a ranked TP/FP list or from matched boxes.

The pieces compose as a student computes them by hand (CONTRACT §2)::

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

METHODS = ("11point", "allpoint", "101point")
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
    """The points the AP of ``method`` averages or sums (see the module docstring)."""
    if method not in METHODS:
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


def average_precision(points: Sequence[InterpolatedPoint], method: str, exact: bool = True) -> tuple[float, Fraction | None]:
    """AP from the sampled points: their mean (11/101 point) or the envelope's area (all point)."""
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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class APResult:
    """Per-class AP and their mean (CONTRACT §2).  ``mode`` is ``ranked`` or ``boxes``."""

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
    points = interpolated_points(table.cum_tp, num_gt, method)
    want_exact = len(table) <= EXACT_ROW_LIMIT if exact is None else exact
    ap, ap_exact = average_precision(points, method, exact=want_exact)
    return ClassAP(name, num_gt, table, points, ap, ap_exact, **extra)


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
    if method not in METHODS:
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
    from dlvcli.core.matching import match_detections_voc

    _check_method(method)
    thresholds = tuple(float(t) for t in iou_thresholds)
    if not thresholds:
        raise ValueError("at least one IoU threshold is needed")
    names = sorted(set(detections.labels.tolist()) | set(ground_truth.labels.tolist()), key=lambda x: (x is None, str(x)))
    names = restrict_classes(names, only_classes)
    det_rows_of, gt_rows_of = rows_by_label(detections.labels), rows_by_label(ground_truth.labels)
    no_rows = np.zeros(0, dtype=np.intp)
    results = []
    for name in names:
        det_rows = det_rows_of.get(name, no_rows)
        gt_rows = gt_rows_of.get(name, no_rows)
        num_gt = int((~ground_truth.difficult[gt_rows]).sum())
        per_threshold = []
        first = None
        for threshold in thresholds:
            match = match_detections_voc(
                detections.boxes[det_rows],
                detections.scores[det_rows],
                detections.images[det_rows],
                ground_truth.boxes[gt_rows],
                ground_truth.images[gt_rows],
                ground_truth.difficult[gt_rows],
                threshold,
                plus_one=plus_one,
            )
            keep = ~match.ignored
            tp = match.tp[keep]
            rank_rows = det_rows[match.order[keep]]
            matched_gt = np.full(len(tp), -1, dtype=np.int64)
            matched_gt[tp] = ground_truth.rows[gt_rows[match.best_gt[keep][tp]]]
            table = ranked_table(
                tp,
                num_gt,
                detections.scores[rank_rows],
                image=detections.images[rank_rows],
                iou=match.best_iou[keep],
                matched_gt=matched_gt,
                source_row=detections.rows[rank_rows],
            )
            result = class_ap(name, table, num_gt, method, num_ignored=int(match.ignored.sum()))
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
    """One line of ``--compare``: the AP (mAP over classes) under one set of conventions."""

    method: str
    plus_one: bool | None
    ties: str  # "file-order" or "reversed"
    ap: float | None
    differs_because: tuple[str, ...] = ()


def compare_conventions(compute, *, method: str, with_plus_one: bool) -> tuple[ConventionRow, ...]:
    """AP under every convention that makes tools disagree.

    ``compute(method, plus_one, reverse_ties) -> float | None`` evaluates one set;
    rows whose AP differs from the run's own (``method``, no +1, file-order ties) name
    the conventions that changed.
    """
    plus_ones = (False, True) if with_plus_one else (False,)
    aps = {
        (m, plus_one, reverse): compute(m, plus_one, reverse)
        for m in METHODS
        for plus_one in plus_ones
        for reverse in (False, True)
    }
    baseline = aps[(method, False, False)]
    rows = []
    for (m, plus_one, reverse), ap in aps.items():
        reasons: list[str] = []
        if ap != baseline:
            # a convention is a reason when undoing it alone changes this row's AP
            changes = [
                ("method " + m, (method, plus_one, reverse)),
                ("+1 pixel widths", (m, False, reverse)),
                ("tied scores ranked in reverse file order", (m, plus_one, False)),
            ]
            active = [c for c, flag in zip(changes, (m != method, plus_one, reverse)) if flag]
            reasons = [name for name, undone in active if aps[undone] != ap] or [name for name, _ in active]
        rows.append(ConventionRow(m, plus_one, "reversed" if reverse else "file-order", ap, tuple(reasons)))
    return tuple(rows)
