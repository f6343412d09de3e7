"""``focal``'s data-set file: a CSV of predictions with 'target' and 'p' or 'logit' columns."""

from __future__ import annotations

from typing import Any

from dlvcli.errors import InputError


def load_predictions(path: str) -> dict[str, Any]:
    """A data set: CSV with 'target' (0/1) and 'p' (in (0, 1)) or 'logit' columns; other columns are ignored.

    Returns ``{"target": [...], "p": [...] or None, "logit": [...] or None}``; raises InputError
    naming the file, line and column of the first bad cell.
    """
    from dlvcli.inputs.tables import header_listing, parse_float, read_csv

    table = read_csv(path, "predictions")
    has_p, has_logit = table.has("p"), table.has("logit")
    if has_p and has_logit:
        raise InputError("both 'p' and 'logit' columns", file=path, line=1, expected="one of them: p (a probability) or logit")
    if not has_p and not has_logit:
        raise InputError(
            "missing column 'p' or 'logit'",
            file=path,
            line=1,
            expected=f"columns target and p (a probability) or logit (found: {header_listing(table.header)})",
        )
    table.require(["target"], "a data set")
    targets = []
    for line, text in table.cells("target"):
        value = parse_float(table, line, "target", text)
        if value not in (0.0, 1.0):
            raise table.error(line, "target", f"{text!r} is not a class", "0 (negative) or 1 (positive)")
        targets.append(int(value))
    column = "p" if has_p else "logit"
    values = []
    for line, text in table.cells(column):
        value = parse_float(table, line, column, text)
        if column == "p" and not 0 < value < 1:
            raise table.error(line, "p", f"{text} is outside (0, 1)", "a probability strictly between 0 and 1 (or use a logit column)")
        values.append(value)
    return {"target": targets, "p": values if has_p else None, "logit": None if has_p else values}
