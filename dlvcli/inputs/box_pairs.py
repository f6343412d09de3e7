"""``box-compare``'s inputs: one box from an option (``--a 0,0,4,4``) and a CSV of box pairs."""

from __future__ import annotations

from typing import Any

from dlvcli.errors import InputError

LABEL_COLUMNS = ("label", "name", "id")


def parse_box(value: Any, box_format: str, what: str) -> list[float]:
    """Four numbers in ``box_format`` with a positive width and height, else InputError naming ``what``."""
    from dlvcli.core.boxes import BOX_COLUMNS
    from dlvcli.inputs.values import parse_vector

    names = BOX_COLUMNS[box_format]
    box = parse_vector(value, what)
    if len(box) != 4:
        raise InputError(f"{what} {str(value)!r}: {len(box)} number{'s' if len(box) != 1 else ''}, expected 4 ({','.join(names)})")
    problem = box_problem(box, box_format)
    if problem:
        raise InputError(f"{what} {','.join(f'{v:g}' for v in box)} ({box_format}): {problem}")
    return box


def box_problem(box: list[float], box_format: str) -> str | None:
    """Why ``box`` is degenerate (zero or negative width or height), or None."""
    if box_format == "xyxy":
        if not box[2] > box[0]:
            return f"x2 = {box[2]:g} is not greater than x1 = {box[0]:g} (zero or negative width; expected x1 < x2)"
        if not box[3] > box[1]:
            return f"y2 = {box[3]:g} is not greater than y1 = {box[1]:g} (zero or negative height; expected y1 < y2)"
        return None
    if not box[2] > 0:
        return f"w = {box[2]:g} (expected a width greater than 0)"
    if not box[3] > 0:
        return f"h = {box[3]:g} (expected a height greater than 0)"
    return None


def load_box_pairs(path: str, box_format: str | None) -> dict[str, Any]:
    """Read a CSV of pairs; the column names (a_x1… / a_x… / a_cx…, likewise b_) say each box's format.

    Returns ``{"a": [[…]], "b": [[…]], "a_format", "b_format", "labels"}``; raises InputError with
    the file, line and column of the first bad cell or degenerate box.
    """
    from dlvcli.core.boxes import BOX_COLUMNS, BOX_FORMATS
    from dlvcli.inputs.tables import header_listing, parse_float, read_csv

    table = read_csv(path, "box pairs")
    expected = "columns a_x1,a_y1,a_x2,a_y2,b_x1,b_y1,b_x2,b_y2 (or a_x,a_y,a_w,a_h / a_cx,a_cy,a_w,a_h, likewise b_)"
    formats = {}
    for prefix in ("a", "b"):
        found = [f for f in BOX_FORMATS if all(f"{prefix}_{c}" in table.header for c in BOX_COLUMNS[f])]
        if not found:
            present = [c for c in table.header if c.startswith(f"{prefix}_")]
            raise InputError(
                f"no complete set of box-{prefix} columns (found: {header_listing(tuple(present))})", file=path, line=1, expected=expected
            )
        if len(found) > 1:
            raise InputError(f"box {prefix} has columns of several formats ({', '.join(found)})", file=path, line=1, expected="one format per box")
        formats[prefix] = found[0]
        allowed = {f"{prefix}_{c}" for c in BOX_COLUMNS[found[0]]}
        for column in table.header:
            if column.startswith(f"{prefix}_") and column not in allowed:
                raise InputError(f"unexpected column {column!r} next to the {found[0]} columns of box {prefix}", file=path, line=1, column=column, expected=expected)
    if box_format is not None and box_format not in set(formats.values()):
        raise InputError(
            f"--box-format {box_format}, but the columns are {formats['a']} (a) and {formats['b']} (b)",
            file=path,
            line=1,
            expected="the column names say the format: leave out --box-format",
        )
    label_column = next((c for c in LABEL_COLUMNS if c in table.header), None)
    boxes: dict[str, list[list[float]]] = {"a": [], "b": []}
    labels: list[str] = []
    for line, row in zip(table.lines, table.rows):
        for prefix in ("a", "b"):
            names = [f"{prefix}_{c}" for c in BOX_COLUMNS[formats[prefix]]]
            box = [parse_float(table, line, name, row[table.index(name)]) for name in names]
            problem = box_problem(box, formats[prefix])
            if problem:
                bad = names[2] if ("x2" in problem or problem.startswith("w")) else names[3]
                raise table.error(line, bad, f"box {prefix}: {problem}")
            boxes[prefix].append(box)
        labels.append(f"line {line}" + (f", {row[table.index(label_column)]}" if label_column else ""))
    return {"a": boxes["a"], "b": boxes["b"], "a_format": formats["a"], "b_format": formats["b"], "labels": labels}
