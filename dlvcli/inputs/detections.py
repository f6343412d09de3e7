"""Detection files for ``dlv interp-ap``: the ranked TP table (mode A) and box CSVs (mode B)."""

from __future__ import annotations

from dataclasses import dataclass

from dlvcli.errors import InputError
from dlvcli.inputs.tables import CsvTable, parse_flag, parse_float, read_csv

BOX_COLUMNS = {
    "xyxy": ("x1", "y1", "x2", "y2"),
    "xywh": ("x", "y", "w", "h"),
    "cxcywh": ("cx", "cy", "w", "h"),
}


@dataclass(frozen=True)
class RankedInput:
    """Mode A: one row per detection in file order."""

    tp: list[bool]
    scores: list[float] | None
    classes: list[str] | None


def load_ranked(path: str) -> RankedInput:
    """Read a CSV with a ``tp`` column and optional ``score`` and ``class`` columns."""
    table = read_csv(path, "ranked detections")
    table.require(["tp"], "a ranked detection table")
    tp = [parse_flag(table, line, "tp", text, "1/0, true/false or TP/FP") for line, text in table.cells("tp")]
    scores = [parse_float(table, line, "score", text) for line, text in table.cells("score")] if table.has("score") else None
    classes = _classes(table) if table.has("class") else None
    return RankedInput(tp, scores, classes)


def _classes(table: CsvTable) -> list[str]:
    labels = []
    for line, text in table.cells("class"):
        if not text:
            raise table.error(line, "class", "empty class name", "a class name")
        labels.append(text)
    return labels


def _boxes(table: CsvTable, box_format: str) -> list[tuple[float, float, float, float]]:
    columns = BOX_COLUMNS[box_format]
    if not all(table.has(c) for c in columns):
        others = [f for f, cols in BOX_COLUMNS.items() if f != box_format and all(table.has(c) for c in cols)]
        hint = f"; the file has {others[0]} columns, try --box-format {others[0]}" if others else ""
        missing = [c for c in columns if not table.has(c)]
        raise InputError(
            f"missing box column{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))} for --box-format {box_format}{hint}",
            file=table.path,
            line=1,
            expected=f"columns {', '.join(columns)}",
        )
    idx = [table.index(c) for c in columns]
    boxes = []
    for line, row in zip(table.lines, table.rows):
        a, b, c, d = (parse_float(table, line, name, row[i]) for name, i in zip(columns, idx))
        if box_format == "xyxy":
            if c < a:
                raise table.error(line, "x2", f"x2 = {c:g} is less than x1 = {a:g}", "x1 ≤ x2")
            if d < b:
                raise table.error(line, "y2", f"y2 = {d:g} is less than y1 = {b:g}", "y1 ≤ y2")
        else:
            if c < 0:
                raise table.error(line, "w", f"negative width {c:g}", "w ≥ 0")
            if d < 0:
                raise table.error(line, "h", f"negative height {d:g}", "h ≥ 0")
        boxes.append((a, b, c, d))
    return boxes


def _images(table: CsvTable) -> list[str]:
    images = []
    for line, text in table.cells("image"):
        if not text:
            raise table.error(line, "image", "empty image name", "an image name")
        images.append(text)
    return images


def load_box_csv(path: str, box_format: str, *, ground_truth: bool):
    """Read detections (``image, score, <box>, [class]``) or ground truth (``image, <box>, [class], [difficult]``).

    Returns a :class:`dlvcli.core.matching.BoxSet` with xyxy boxes.
    """
    from dlvcli.core.boxes import to_xyxy
    from dlvcli.core.matching import make_box_set

    what = "ground-truth boxes" if ground_truth else "detections"
    table = read_csv(path, what)
    table.require(["image"] + ([] if ground_truth else ["score"]), what)
    boxes = _boxes(table, box_format)
    images = _images(table)
    labels = _classes(table) if table.has("class") else None
    scores = None if ground_truth else [parse_float(table, line, "score", t) for line, t in table.cells("score")]
    difficult = None
    if ground_truth and table.has("difficult"):
        difficult = [
            parse_flag(table, line, "difficult", t or "0", "1/0 or true/false") for line, t in table.cells("difficult")
        ]
    return make_box_set(to_xyxy(boxes, box_format) if boxes else [], images, labels, scores, difficult)
