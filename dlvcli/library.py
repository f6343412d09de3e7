"""Library entry points that take what a notebook has at hand (lists, file paths).

The other commands' core functions take plain values already and are exported from
``dlvcli`` as they are (``dlvcli.focal``, ``dlvcli.bptt``, ``dlvcli.box_compare``,
``dlvcli.tconv``); ``interp_ap`` picks the mode from its arguments as the command does.
Every result displays as its worked solution (docs/notebook.md).
"""

from __future__ import annotations

from collections.abc import Sequence


def interp_ap(
    tp: Sequence[bool] | None = None,
    num_gt: int | dict[str, int] | None = None,
    *,
    scores: Sequence[float] | None = None,
    classes: Sequence[str] | None = None,
    method: str | None = None,
    only_classes: Sequence[str] | None = None,
    exact: bool | None = None,
    file: str | None = None,
    gt: str | None = None,
    box_format: str = "xyxy",
    iou_thresholds: Sequence[float] | str | None = None,
    plus_one: bool = False,
):
    """Interpolated AP as ``dlv interp-ap`` computes it (docs/interp-ap.md).

    * Mode A, a ranked table: ``tp`` (1/0 per detection, optional ``scores`` and
      ``classes``) or ``file`` (a CSV with a ``tp`` column), and ``num_gt``.
    * Mode B, boxes: ``file`` (detections CSV) and ``gt`` (ground-truth CSV).
    * Mode C, COCO: ``file`` (results JSON) and ``gt`` (instances JSON); 101 points.

    >>> interp_ap([1, 1, 0, 0, 0, 1, 1, 0, 0, 1], num_gt=5).map_exact
    Fraction(58, 77)
    """
    from dlvcli.core.ap import interp_ap_boxes, interp_ap_ranked, parse_iou_thresholds

    if isinstance(iou_thresholds, str):  # "0.5" or "0.5:0.95:0.05", as --iou takes it
        iou_thresholds = parse_iou_thresholds(iou_thresholds)

    if gt is not None:
        if file is None:
            raise ValueError("gt needs file, the detections")
        if gt.lower().endswith(".json") or file.lower().endswith(".json"):
            from dlvcli.core.coco import evaluate_coco
            from dlvcli.inputs.coco import load_coco

            if method not in (None, "101point"):
                raise ValueError("COCO files are evaluated as COCOeval does, with method '101point'")
            return evaluate_coco(load_coco(gt, file), iou_thresholds, only_classes)
        from dlvcli.inputs.detections import load_boxes

        return interp_ap_boxes(
            load_boxes(file, box_format, ground_truth=False),
            load_boxes(gt, box_format, ground_truth=True),
            method=method or "11point",
            iou_thresholds=tuple(iou_thresholds or (0.5,)),
            plus_one=plus_one,
            only_classes=only_classes,
        )
    if num_gt is None:
        raise ValueError("num_gt is missing: the number of ground-truth objects (or a dict class → count)")
    if file is not None:
        if tp is not None:
            raise ValueError("give tp or file, not both")
        from dlvcli.inputs.detections import load_ranked

        ranked = load_ranked(file)
        tp, scores, classes = ranked.tp, ranked.scores, ranked.classes
    if tp is None:
        raise ValueError("tp is missing: 1/0 (TP/FP) per detection, or file, a CSV with a 'tp' column")
    return interp_ap_ranked(
        tp, num_gt, scores=scores, classes=classes, method=method or "11point", only_classes=only_classes, exact=exact
    )
