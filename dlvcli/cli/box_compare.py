"""``dlv box-compare``: IoU, GIoU, DIoU, CIoU against L1/L2 distances, step by step (docs/box-compare.md)."""

import enum
from typing import Annotated, Any, Optional

from dlvcli.cli.common import prepare, shared_options
from dlvcli.cli.params import Argument, Command, Context, Option
from dlvcli.errors import InputError

HELP = """Compare boxes: IoU, GIoU, DIoU, CIoU against L1/L2 distances, step by step.

For each pair (A = the reference, e.g. ground truth; B = a prediction): intersection,
union, IoU, the smallest enclosing box C, GIoU = IoU − (|C| − U)/|C|, DIoU = IoU − ρ²/c²,
CIoU = DIoU − αv (Zheng et al. 2020, with v and α shown), and the L1 and L2 distances
between the corner vectors (x1,y1,x2,y2) and the centre-size vectors (cx,cy,w,h).

Boxes come from --a and --b (repeatable) in --box-format, or from FILE: a CSV of pairs
with columns a_x1,a_y1,a_x2,a_y2,b_x1,b_y1,b_x2,b_y2 (or a_x,a_y,a_w,a_h / a_cx,a_cy,a_w,a_h
and likewise for b: the column names say the format); an optional label, name or id
column names the pairs; - reads stdin.

--same-l2 R (with --a and --n N, default 8) builds N boxes that share A's top-left corner
and have their bottom-right corner on the circle of radius R around A's: all have L2 = R,
yet their IoU differs. --same-l1 R does the same on the L1 diamond.

Examples:

  dlv box-compare --a 0,0,4,4 --b 2,2,6,6 --b 1,1,5,5

  dlv box-compare --a 0,0,4,3 --same-l2 1 --n 8 --plot same_l2.png

  dlv box-compare sample_inputs/box_compare_pairs.csv --json
"""


class BoxFormat(str, enum.Enum):
    xyxy = "xyxy"
    xywh = "xywh"
    cxcywh = "cxcywh"


MAX_SAME_N = 1000  # --same-l2/--same-l1 boxes: one per 0.36°; every one gets a worked solution


def commands() -> tuple[Command, ...]:
    """This module's commands (the functions below, with the shared options they take)."""
    return (
        Command("box-compare", box_compare, help=HELP, shared=shared_options()),
    )


def box_compare(
    ctx: Context,
    file: Annotated[
        Optional[str],
        Argument(metavar="FILE", help="CSV of box pairs (a_x1,…,b_y2 or the xywh/cxcywh names); - reads stdin.", show_default=False),
    ] = None,
    a: Annotated[Optional[str], Option("--a", metavar="X1,Y1,X2,Y2", help="The reference box A (e.g. ground truth), in --box-format.")] = None,
    b: Annotated[
        Optional[list[str]], Option("--b", metavar="X1,Y1,X2,Y2", help="A box to compare with A (repeatable), in --box-format.")
    ] = None,
    box_format: Annotated[
        Optional[BoxFormat],
        Option("--box-format", help="How --a/--b are written: xyxy (x1,y1,x2,y2), xywh (top-left x,y,w,h), cxcywh (cx,cy,w,h). [default: xyxy]", show_default=False),
    ] = None,
    same_l2: Annotated[
        Optional[str], Option("--same-l2", metavar="R", help="Make N boxes at L2 distance R from A (corner on a circle) and compare their IoU.")
    ] = None,
    same_l1: Annotated[Optional[str], Option("--same-l1", metavar="R", help="Like --same-l2, on the L1 diamond of radius R.")] = None,
    n: Annotated[
        Optional[int],
        Option("--n", min=1, max=MAX_SAME_N, metavar="N", help=f"How many boxes --same-l2/--same-l1 make, 1..{MAX_SAME_N}. [default: 8]", show_default=False),
    ] = None,
    **shared: Any,
) -> None:
    params, settings = prepare(ctx)
    from dlvcli.core.box_compare import box_compare as compare
    from dlvcli.core.box_compare import same_distance_boxes
    from dlvcli.inputs.box_pairs import load_box_pairs, parse_box
    from dlvcli.inputs.values import parse_number
    from dlvcli.render import box_compare as view
    from dlvcli.render.output import emit

    path = params["file"]
    fmt_name = params["box_format"] or "xyxy"
    inputs: dict[str, Any] = {
        "file": path,
        "a": None,
        "b": None,
        "box_format": fmt_name,
        "same_l2": None,
        "same_l1": None,
        "n": None,
    }
    warnings: list[str] = []
    same = [(flag, key) for flag, key in (("--same-l2", "same_l2"), ("--same-l1", "same_l1")) if params[key] is not None]
    if len(same) > 1:
        raise InputError("give --same-l2 or --same-l1, not both")
    if params["n"] is not None and not same:
        raise InputError("--n goes with --same-l2 or --same-l1 (it is the number of boxes they make)")

    if path is not None:
        if params["a"] is not None or params["b"] or same:
            raise InputError("give the pairs either in FILE or with --a/--b/--same-l2/--same-l1, not both")
        pairs = load_box_pairs(path, params["box_format"])
        inputs["box_format"] = pairs["a_format"] if pairs["a_format"] == pairs["b_format"] else f"a: {pairs['a_format']}, b: {pairs['b_format']}"
        result = compare(
            pairs["a"], pairs["b"], pairs["a_format"], b_format=pairs["b_format"], exact=settings.exact, labels=pairs["labels"]
        )
    else:
        if params["a"] is None:
            raise InputError("missing --a (the reference box), or give FILE, a CSV of pairs")
        box_a = parse_box(params["a"], fmt_name, "--a")
        inputs["a"] = box_a
        if same:
            flag, key = same[0]
            if params["b"]:
                raise InputError(f"{flag} makes the boxes B itself; leave out --b")
            radius = parse_number(params[key], flag)
            if radius <= 0:
                raise InputError(f"{flag} {radius:g}: expected a distance R greater than 0")
            count = params["n"] if params["n"] is not None else 8
            inputs[key] = radius
            inputs["n"] = count
            if settings.exact:
                warnings.append(f"--exact has no effect with {flag}: the boxes lie on a curve, their corners are not exact fractions")
            result = same_distance_boxes(box_a, radius, n=count, metric=key[-2:], box_format=fmt_name)
        else:
            if not params["b"]:
                raise InputError("missing --b: give one or more boxes to compare with --a (or --same-l2 R)")
            values = list(params["b"])
            if len(values) == 4 and all(_is_single_number(v) for v in values):
                values = [",".join(str(v).strip() for v in values)]  # YAML `b: [1, 2, 3, 4]`: one box
            boxes = [parse_box(v, fmt_name, f"--b #{i + 1}" if len(values) > 1 else "--b") for i, v in enumerate(values)]
            inputs["b"] = boxes
            result = compare(box_a, boxes, fmt_name, exact=settings.exact)
    if warnings:
        import dataclasses

        result = dataclasses.replace(result, warnings=tuple(warnings) + result.warnings)
    emit("box-compare", inputs, result, view, settings)


def _is_single_number(value: Any) -> bool:
    text = str(value).strip()
    try:
        float(text)
    except ValueError:
        return False
    return True
