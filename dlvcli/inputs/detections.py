"""Detection files for ``dlv interp-ap``: the ranked TP table (mode A) and box CSVs (mode B)."""

from __future__ import annotations

from dataclasses import dataclass

from dlvcli.errors import InputError
from dlvcli.inputs.tables import CsvTable, parse_flag, parse_float, read_csv

# Beyond this, width × height overflows float64 and IoU becomes NaN.
MAX_COORDINATE = 1e150

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
        for name, value in zip(columns, (a, b, c, d)):
            if abs(value) > MAX_COORDINATE:
                raise table.error(line, name, f"{value:g} is too large: box areas would overflow", f"|value| ≤ {MAX_COORDINATE:g}")
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


def load_box_dir(path: str, box_format: str, *, ground_truth: bool):
    """Read a folder with one text file per image (the image is the file name without extension).

    Detections: ``class score <box>`` per line; ground truth: ``class <box> [difficult]``
    (the layout many detection-metric tools read).  Blank lines are skipped.
    """
    from pathlib import Path

    from dlvcli.core.boxes import to_xyxy
    from dlvcli.core.matching import make_box_set
    from dlvcli.inputs.config import read_text

    folder = Path(path)
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise InputError("folder has no files", file=path, expected="one text file per image")
    names = BOX_COLUMNS[box_format]
    layout = ("class", *names, "[difficult]") if ground_truth else ("class", "score", *names)
    boxes, images, labels, scores, difficult = [], [], [], [], []
    for file in files:
        for line_number, line in enumerate(read_text(str(file)).splitlines(), start=1):
            fields = line.split()
            if not fields:
                continue
            expected_count = (5, 6) if ground_truth else (6,)
            if len(fields) not in expected_count:
                raise InputError(
                    f"{len(fields)} fields", file=str(file), line=line_number, expected=f"{' '.join(layout)} separated by spaces"
                )
            offset = 1 if ground_truth else 2
            values = []
            for column, text in zip(("score",) * (offset - 1) + names, fields[1 : offset + 4]):
                try:
                    value = float(text)
                except ValueError:
                    raise InputError(f"{text!r} is not a number", file=str(file), line=line_number, column=column) from None
                if value != value or abs(value) > MAX_COORDINATE:
                    raise InputError(f"{text!r} is not a finite number", file=str(file), line=line_number, column=column)
                values.append(value)
            box = values[-4:]
            if box_format == "xyxy" and (box[2] < box[0] or box[3] < box[1]):
                raise InputError("x2 < x1 or y2 < y1", file=str(file), line=line_number, expected="x1 ≤ x2 and y1 ≤ y2")
            if box_format != "xyxy" and (box[2] < 0 or box[3] < 0):
                raise InputError("negative width or height", file=str(file), line=line_number, expected="w, h ≥ 0")
            boxes.append(box)
            images.append(file.stem)
            labels.append(fields[0])
            if not ground_truth:
                scores.append(values[0])
            else:
                flag = fields[5].lower() if len(fields) == 6 else "0"
                if flag not in ("0", "1", "difficult", "true", "false"):
                    raise InputError(f"{fields[5]!r} is not a difficult flag", file=str(file), line=line_number, expected="difficult or 1/0")
                difficult.append(flag in ("1", "difficult", "true"))
    return make_box_set(
        to_xyxy(boxes, box_format) if boxes else [], images, labels, None if ground_truth else scores, difficult if ground_truth else None
    )


def load_boxes(path: str, box_format: str, *, ground_truth: bool):
    """A box CSV file, or a folder of per-image text files."""
    from pathlib import Path

    if path != "-" and Path(path).is_dir():
        return load_box_dir(path, box_format, ground_truth=ground_truth)
    return load_box_csv(path, box_format, ground_truth=ground_truth)
