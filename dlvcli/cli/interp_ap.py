"""``dlv interp-ap``: interpolated average precision with the worked solution (docs/interp-ap.md)."""

import enum
from typing import Annotated, Any, Optional

from dlvcli.cli.common import prepare, shared_options
from dlvcli.cli.params import Argument, Command, Context, Option
from dlvcli.errors import InputError

HELP = """Interpolated average precision (11-point, all-point or 101-point), step by step.

Three inputs, chosen from what is given:

A. a ranked table: FILE is a CSV with a 'tp' column (1/0, true/false, TP/FP), optional
'score' and 'class' columns; or the table inline, --tp 1,1,0,... with optional
--score 0.9,0.8,... (no FILE); the number of ground-truth objects is --num-gt N (or
--num-gt CLASS=N once per class).

B. boxes: FILE is a CSV of detections (image, score, box columns, optional class) and
--gt GT.csv the ground truth (image, box columns, optional class and difficult);
matched PASCAL VOC style at --iou.

C. COCO files: --gt instances.json and FILE a COCO results list.

Examples:

  dlv interp-ap sample_inputs/interp_ap_course.csv --num-gt 5

  dlv interp-ap detections.csv --num-gt 5 --method allpoint --exact

  dlv interp-ap --tp 1,1,0,0,0,1,1,0,0,1 --num-gt 5

  dlv interp-ap dets.csv --gt gt.csv --iou 0.5:0.95:0.05 --json
"""


class Method(str, enum.Enum):
    point11 = "11point"
    allpoint = "allpoint"
    point101 = "101point"


class BoxFormat(str, enum.Enum):
    xyxy = "xyxy"
    xywh = "xywh"
    cxcywh = "cxcywh"


def commands() -> tuple[Command, ...]:
    """This module's commands (the functions below, with the shared options they take)."""
    return (
        Command("interp-ap", interp_ap, help=HELP, shared=shared_options()),
    )


def interp_ap(
    ctx: Context,
    file: Annotated[
        Optional[str], Argument(metavar="FILE", help="Detections: CSV (or COCO results JSON); - reads stdin.", show_default=False)
    ] = None,
    num_gt: Annotated[
        Optional[list[str]],
        Option("--num-gt", metavar="N|CLASS=N", help="Ground-truth objects (mode A); repeat CLASS=N per class."),
    ] = None,
    gt: Annotated[
        Optional[str], Option("--gt", metavar="GT", help="Ground truth: box CSV (mode B) or COCO instances JSON (mode C).")
    ] = None,
    method: Annotated[
        Optional[Method], Option("--method", help="11point (default in A/B), allpoint, or 101point (default in C).", show_default=False)
    ] = None,
    iou: Annotated[
        Optional[str], Option("--iou", metavar="T|START:STOP:STEP", help="IoU threshold or range for matching [default: 0.5].")
    ] = None,
    box_format: Annotated[BoxFormat, Option("--box-format", help="Box columns: xyxy (x1,y1,x2,y2), xywh, cxcywh.")] = BoxFormat.xyxy,
    class_names: Annotated[Optional[list[str]], Option("--class", metavar="NAME", help="Only this class (repeatable); restricts the mAP too.")] = None,
    summary: Annotated[bool, Option("--summary", help="Leave out the per-detection rows.")] = False,
    full: Annotated[bool, Option("--full", help="Print every row of a table longer than 50 rows (else its first and last 10), and with more than 50 classes the worked solution of each (else one row per class).")] = False,
    plus_one: Annotated[bool, Option("--plus-one", help="PASCAL VOC devkit pixels: width = x2 − x1 + 1.")] = False,
    compare: Annotated[bool, Option("--compare", help="Tabulate the conventions that make AP tools disagree.")] = False,
    # mode C (COCO files) only
    max_dets: Annotated[
        Optional[str], Option("--max-dets", metavar="A,B,C", help="COCO: maxDets, three increasing numbers [default: 1,10,100].")
    ] = None,
    area_rng: Annotated[
        Optional[list[str]],
        Option("--area-rng", metavar="NAME=LO:HI", help="COCO: an area range (repeatable; replaces small/medium/large)."),
    ] = None,
    f1: Annotated[bool, Option("--f1", help="COCO: the score threshold of best F1 per class (IoU 0.5).")] = False,
    tp: Annotated[
        Optional[str], Option("--tp", metavar="1,0,...", help="Mode A inline (no FILE): TP/FP per rank, 1/0, TP/FP or true/false.")
    ] = None,
    score: Annotated[
        Optional[str], Option("--score", metavar="S1,S2,...", help="With --tp: a score per detection (rows are ranked by it).")
    ] = None,
    **shared: Any,
) -> None:
    params, settings = prepare(ctx)
    import dataclasses

    path = params["file"]
    inline = _inline_table(params, path)
    if not path and inline is None:
        raise InputError("missing FILE (the detections); give it as the argument or as 'file' in --config, or the table as --tp")
    extra_warnings = []
    inputs = dict(params)
    inputs["class"] = inputs.pop("class_names") or None
    if params["gt"] and _is_coco(params["gt"], path):
        _coco(params, settings, inputs)  # before the imports below, which mode C does not need (≈ 0.05 s)
        return
    from dlvcli.core.ap import compare_conventions, interp_ap_boxes, interp_ap_ranked, parse_iou_thresholds
    from dlvcli.render import ap as view
    from dlvcli.render.output import emit
    for flag, given in (("--max-dets", params.get("max_dets")), ("--area-rng", params.get("area_rng")), ("--f1", params.get("f1"))):
        if given:
            raise InputError(f"{flag} applies to COCO files only (mode C: --gt instances.json)")
    if params["gt"]:
        if params["num_gt"]:
            raise InputError("--num-gt is for a ranked table; with --gt the ground truth is counted from the file")
        from dlvcli.inputs.detections import load_boxes

        method_name = params["method"] or "11point"
        thresholds = parse_iou_thresholds("0.5" if params["iou"] is None else params["iou"])
        detections = load_boxes(path, params["box_format"], ground_truth=False)
        ground_truth = load_boxes(params["gt"], params["box_format"], ground_truth=True)
        if (detections.labels[0] is None) != (ground_truth.labels[0] is None) if len(detections) and len(ground_truth) else False:
            raise InputError("one file has a 'class' column and the other does not; give both or neither", file=params["gt"])
        result = interp_ap_boxes(
            detections,
            ground_truth,
            method=method_name,
            iou_thresholds=thresholds,
            plus_one=params["plus_one"],
            only_classes=params["class_names"],
        )
        if params["compare"]:
            from dlvcli.core.matching import reversed_rows

            def evaluate(method, plus_one, reverse):
                dets = reversed_rows(detections) if reverse else detections
                return interp_ap_boxes(
                    dets, ground_truth, method=method, iou_thresholds=thresholds, plus_one=plus_one, only_classes=params["class_names"]
                )

            result = dataclasses.replace(result, compare=compare_conventions(evaluate, method=method_name, with_plus_one=True))
    else:
        from dlvcli.inputs.detections import load_ranked

        method_name = params["method"] or "11point"
        if params["iou"] is not None:
            parse_iou_thresholds(params["iou"])  # junk is refused even where it has no effect
        for flag, given in (("--iou", params["iou"] is not None), ("--plus-one", params["plus_one"])):
            if given:
                extra_warnings.append(f"{flag} has no effect on a ranked table (it applies to boxes)")
        if not params["num_gt"]:
            raise InputError("missing --num-gt: the number of ground-truth objects (N, or CLASS=N per class)")
        ranked = inline or load_ranked(path)
        if inline is not None:
            inputs["tp"] = [int(t) for t in ranked.tp]
            inputs["score"] = ranked.scores
        counts = parse_num_gt(params["num_gt"])
        if isinstance(counts, dict) and ranked.classes is None:
            raise InputError("--num-gt CLASS=N needs a 'class' column in the file", file=path, line=1)
        result = interp_ap_ranked(
            ranked.tp,
            counts,
            scores=ranked.scores,
            classes=ranked.classes,
            method=method_name,
            only_classes=params["class_names"],
            exact=True if settings.exact else None,
        )
        if params["compare"]:
            flip = slice(None, None, -1)

            def evaluate(method, plus_one, reverse):
                pick = flip if reverse and ranked.scores is not None else slice(None)  # no score: no ties
                return interp_ap_ranked(
                    ranked.tp[pick],
                    counts,
                    scores=None if ranked.scores is None else ranked.scores[pick],
                    classes=None if ranked.classes is None else ranked.classes[pick],
                    method=method,
                    only_classes=params["class_names"],
                )

            result = dataclasses.replace(result, compare=compare_conventions(evaluate, method=method_name, with_plus_one=False))
        inputs["num_gt"] = counts
        thresholds = None
    inputs["method"] = method_name
    inputs["iou_thresholds"] = list(thresholds) if thresholds else None
    if extra_warnings:
        result = dataclasses.replace(result, warnings=tuple(extra_warnings) + result.warnings)
    emit("interp-ap", inputs, result, view.ApView(summary=params["summary"], full=params.get("full", False)), settings)


def _inline_table(params: dict, path: str | None):
    """The ranked table given as --tp [--score] (mode A without a file), or None."""
    if params["tp"] is None:
        if params["score"] is not None:
            raise InputError("--score goes with --tp (the ranked table inline); with FILE give a 'score' column")
        return None
    if path:
        raise InputError("give the ranked table either as FILE or as --tp, not both")
    if params["gt"]:
        raise InputError("--tp is a ranked table (mode A); with --gt give the detections as FILE")
    from dlvcli.inputs.ranked_inline import parse_inline_ranked

    return parse_inline_ranked(params["tp"], params["score"])


# The largest count a float holds exactly (recall = TP / num_gt is a float); numpy's
# int64 would overflow at 2^63.
MAX_NUM_GT = 2**53


def parse_num_gt(values: list[str]) -> int | dict[str, int]:
    """``--num-gt 5`` → 5; ``--num-gt cat=3 --num-gt dog=2`` → {'cat': 3, 'dog': 2}."""
    plain = [v for v in values if "=" not in str(v)]
    per_class = [v for v in values if "=" in str(v)]
    if plain and per_class or len(plain) > 1:
        raise InputError("--num-gt: give one number N, or CLASS=N once per class, not a mix")

    def count(text: str, name: str) -> int:
        where = f" {name}" if name else ""
        try:
            n = int(str(text).strip())
        except ValueError:
            raise InputError(f"--num-gt{where}: {text!r} is not a whole number") from None
        if n < 0:
            raise InputError(f"--num-gt{where}: {n} is negative, expected a count ≥ 0")
        if n > MAX_NUM_GT:
            raise InputError(f"--num-gt{where}: {n} is too large, expected a count ≤ {MAX_NUM_GT} (2^53)")
        return n

    if plain:
        return count(plain[0], "")
    counts: dict[str, int] = {}
    for item in per_class:
        name, _, number = str(item).rpartition("=")  # the count has no "=", a class name may
        name = name.strip()
        if not name:
            raise InputError(f"--num-gt {item!r}: empty class name, expected CLASS=N")
        if name in counts:
            raise InputError(f"--num-gt: class {name!r} given twice")
        counts[name] = count(number, name)
    return counts


def _is_coco(gt: str, path: str) -> bool:
    """Mode C when the ground truth (or the detections) is a .json file."""
    return gt.lower().endswith(".json") or (path != "-" and path.lower().endswith(".json"))


def _coco(params: dict, settings, inputs: dict) -> None:
    """Mode C: pycocotools' COCOeval numbers for boxes."""
    import sys

    from dlvcli.core.coco import evaluate_coco
    from dlvcli.inputs.coco import load_coco, reuse_freed_memory
    from dlvcli.render.coco import CocoView
    from dlvcli.render.output import emit

    method = params["method"] or "101point"
    if method != "101point":
        raise InputError(f"--method {method}: COCO files are evaluated as COCOeval does, with 101 recall points (--method 101point)")
    for flag in ("num_gt", "plus_one", "compare"):
        if params[flag]:
            raise InputError(f"--{flag.replace('_', '-')} does not apply to COCO files (mode C)")
    thresholds = None
    if params["iou"] is not None:
        from dlvcli.core.ap import parse_iou_thresholds  # (only here: dlvcli.core.ap takes ≈ 0.03 s to import)

        thresholds = parse_iou_thresholds(params["iou"])
    max_dets = parse_max_dets(params.get("max_dets"))
    area_ranges = parse_area_ranges(params.get("area_rng"))
    if params.get("f1") and thresholds is not None and 0.5 not in thresholds:
        raise InputError("--f1 finds the best threshold at IoU 0.5; give --iou with 0.5 among the thresholds")
    coco_options = {"max_dets": max_dets, "area_ranges": area_ranges, "f1": bool(params.get("f1")), "all_precision": False}
    reuse_freed_memory()  # a CLI run owns its process: trade some peak memory for less page-faulting
    data = load_coco(params["gt"], params["file"], split=True)
    only = None
    if params["class_names"]:
        only = [int(c) if str(c).lstrip("-").isdigit() else c for c in params["class_names"]]
    if sys.stderr.isatty():
        from rich.progress import Progress

        from dlvcli.render.output import stderr_console

        with Progress(transient=True, console=stderr_console()) as bar:
            task = bar.add_task("evaluating", total=1.0)
            result = evaluate_coco(data, thresholds, only, progress=lambda f: bar.update(task, completed=f), **coco_options)
    else:
        result = evaluate_coco(data, thresholds, only, **coco_options)
    import dataclasses

    undefined = [name for name, value in result.summary.items() if value is None]
    if undefined:
        note = f"COCOeval gives −1 (no ground truth in range) for {', '.join(undefined)}: written as null"
        result = dataclasses.replace(result, warnings=tuple(result.warnings) + (note,))
    inputs["method"] = method
    inputs["iou_thresholds"] = list(result.iou_thresholds)
    inputs["max_dets"] = list(result.max_dets)
    inputs["area_rng"] = [{"name": n, "lo": lo, "hi": hi} for n, lo, hi in result.area_ranges]
    emit("interp-ap", inputs, result, CocoView(), settings)


def parse_max_dets(text: str | None) -> tuple[int, int, int]:
    """``--max-dets 1,10,300`` → (1, 10, 300): three increasing whole numbers ≥ 1."""
    if text is None:
        return (1, 10, 100)
    parts = [p.strip() for p in str(text).split(",")]
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        raise InputError(f"--max-dets {text!r}: expected three whole numbers like 1,10,100") from None
    if len(values) != 3 or not (0 < values[0] < values[1] < values[2]):
        raise InputError(f"--max-dets {text!r}: expected three increasing numbers ≥ 1, like 1,10,100")
    return values  # type: ignore[return-value]


def parse_area_ranges(items: list[str] | None) -> list[tuple[str, float, float]] | None:
    """``--area-rng tiny=0:1024`` (repeatable) → [("tiny", 0.0, 1024.0)]; None keeps small/medium/large."""
    if not items:
        return None
    import math
    import re

    ranges = []
    for item in items:
        name, eq, bounds = str(item).partition("=")
        name = name.strip()
        lo_text, colon, hi_text = bounds.partition(":")
        if not eq or not colon or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise InputError(f"--area-rng {item!r}: expected NAME=LO:HI, NAME a word (letters, digits, _), e.g. tiny=0:256")
        if name == "all":
            raise InputError(f"--area-rng {item!r}: 'all' is always there (0 to 1e10); give the other ranges")
        if name in (r[0] for r in ranges):
            raise InputError(f"--area-rng: {name!r} given twice")
        try:
            lo, hi = float(lo_text), float(hi_text)
        except ValueError:
            raise InputError(f"--area-rng {item!r}: LO and HI must be numbers (areas in pixels², e.g. 0:1024)") from None
        if math.isnan(lo) or math.isnan(hi) or lo < 0 or hi < lo:
            raise InputError(f"--area-rng {item!r}: expected 0 ≤ LO ≤ HI")
        ranges.append((name, lo, hi))
    return ranges
