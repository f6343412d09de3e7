"""Tables that re-flow instead of truncating (docs/conventions.md, "Shown numbers and widths").

rich shrinks a table that is wider than the terminal by cutting cells (``0.…``) or by
squeezing a column to nothing.  ``fitted_tables`` measures the cells first and, when the
whole table does not fit, splits its columns into blocks, each repeating the key columns
(a rank, a row label), so every number keeps all its digits at any width from 60 up.
``shown_rows`` abbreviates a long table as bptt does: the first and last rows, with a
line saying how many are left out and that ``--full`` shows them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dlvcli.render.numbers import decimals_needed, format_fixed, needs_scientific, shortest_decimals

# A table longer than this shows its first and last HEAD_ROWS rows unless --full.
LONG_TABLE = 50
HEAD_ROWS = 10


@dataclass(frozen=True)
class Column:
    header: str
    justify: str = "right"


def shown_rows(n: int, full: bool) -> list[int | None]:
    """0-based rows of a table of ``n`` rows; None marks the left-out middle."""
    if full or n <= LONG_TABLE:
        return list(range(n))
    return list(range(HEAD_ROWS)) + [None] + list(range(n - HEAD_ROWS, n))


def left_out_note(n: int) -> str:
    return f"{n - 2 * HEAD_ROWS:,} of {n:,} rows left out (the first and last {HEAD_ROWS} are shown); --full shows all."


def _cell_len(text: str) -> int:
    from rich.cells import cell_len

    return max((cell_len(part) for part in text.split("\n")), default=0)


def column_blocks(widths: list[int], key: int, room: int, per_column: int = 3, frame: int = 1) -> list[list[int]]:
    """Indices of the non-key columns in each block so that key + block fits ``room``.

    A column costs its width plus ``per_column`` (padding and a border line); a block
    always takes at least one column, however wide."""
    key_width = frame + sum(w + per_column for w in widths[:key])
    blocks: list[list[int]] = []
    current: list[int] = []
    used = key_width
    for j in range(key, len(widths)):
        cost = widths[j] + per_column
        if current and used + cost > room:
            blocks.append(current)
            current, used = [], key_width
        current.append(j)
        used += cost
    if current or not blocks:
        blocks.append(current)
    if len(blocks) > 1:
        # the same number of blocks, as even as they fit (4 + 4 rather than 7 + 1)
        rest = list(range(key, len(widths)))
        size = -(-len(rest) // len(blocks))
        even = [rest[i : i + size] for i in range(0, len(rest), size)]
        if len(even) == len(blocks) and all(key_width + sum(widths[j] + per_column for j in block) <= room for block in even):
            return even
    return blocks


def fitted_tables(
    title: str,
    columns: list[Column],
    rows: list[list[str] | None],
    width: int,
    key: int = 1,
    row_styles: list[str | None] | None = None,
    box=None,
    header_style: str = "bold",
    show_header: bool = True,
    key_style: str | None = None,
) -> list:
    """One rich Table when it fits ``width``, else several, each with the key columns.

    ``rows`` may hold None for a left-out middle (a row of ``⋮``)."""
    from rich import box as boxes
    from rich.table import Table

    box = boxes.HEAVY_HEAD if box is None else box
    widths = [_cell_len(c.header) for c in columns]
    for row in rows:
        if row is None:
            continue
        for j, cell in enumerate(row):
            widths[j] = max(widths[j], _cell_len(cell))
    edge = 2 if box is not None else 0
    per_column = 3 if box is not None else 2
    blocks = column_blocks(widths, key, width, per_column=per_column, frame=edge - 1 if edge else 0)
    tables = []
    for b, block in enumerate(blocks):
        shown = list(range(key)) + block
        fits = edge + sum(widths[j] + per_column for j in shown) - (1 if box is not None else 0) <= width
        part = "" if len(blocks) == 1 else f" (part {b + 1} of {len(blocks)})"
        if fits and len(rows) > LONG_TABLE and box is boxes.HEAVY_HEAD:
            # rich lays out every cell of every row; a --full table of 10,000 rows would take
            # tens of seconds, so long tables are drawn here, line by line, in the same style
            tables.append(_LongTable(title + part, [columns[j] for j in shown], [widths[j] for j in shown], rows, row_styles, shown))
            continue
        table = Table(
            title=(title + part) if title or part else None,
            title_justify="left",
            header_style=header_style,
            box=box,
            show_header=show_header,
            pad_edge=box is not None,
            padding=(0, 1),
        )
        for j in shown:
            table.add_column(columns[j].header, justify=columns[j].justify, no_wrap=fits, style=key_style if j < key else None)
        for i, row in enumerate(rows):
            if row is None:
                table.add_row(*["⋮"] * len(shown))
                continue
            style = row_styles[i] if row_styles else None
            table.add_row(*(row[j] for j in shown), style=style)
        tables.append(table)
    return tables


def column_texts(values, style, exacts=None) -> list[str]:
    """One rule for a table column: the fewest decimals that show every entry (≥ --digits
    where an entry needs them, ≥ 3 significant digits), the same for all; exact zeros ``0``.

    ``0.2, 0.4, 1.0`` when every entry is a tenth; ``1.0000, 0.5714, 0.5000`` otherwise."""
    values = [float(v) for v in values]
    if style.exact and exacts is not None and all(e is not None for e in exacts):
        return [style.num(v, e) for v, e in zip(values, exacts)]
    floats = [v for v in values if math.isfinite(v) and v != 0]
    if not floats or any(needs_scientific(v) for v in floats):
        return style.column(values)
    decimals = max(shortest_decimals(v, decimals_needed(v, style.digits))[1] for v in floats)
    return ["0" if v == 0 else (style.num(v) if not math.isfinite(v) else format_fixed(v, decimals)) for v in values]


def heading(title: str, width: int):
    """A section rule with its title; when the rule would cut it, the part before ": " on
    the rule and the rest below it (or the bold title alone)."""
    from rich.rule import Rule
    from rich.text import Text

    if len(title) + 6 <= width:
        return Rule(Text(title, style="bold"), align="left")
    head, colon, rest = title.partition(": ")
    if colon and len(head) + 6 <= width:
        # "Transposed convolution" on the rule, the details on the line below
        from rich.console import Group

        return Group(Rule(Text(head, style="bold"), align="left"), Text(rest))
    return Text(title, style="bold")


class _LongTable:
    """A HEAVY_HEAD table of single-line cells drawn directly (for tables of many rows)."""

    def __init__(self, title, columns, widths, rows, row_styles, shown):
        self.title, self.columns, self.widths = title, columns, widths
        self.rows, self.row_styles, self.shown = rows, row_styles, shown

    def _line(self, cells) -> str:
        out = []
        for cell, column, w in zip(cells, self.columns, self.widths):
            pad = w - _cell_len(cell)
            out.append(" " + (" " * pad + cell if column.justify == "right" else cell + " " * pad) + " ")
        return "│" + "│".join(out) + "│"

    def __rich_console__(self, console, options):
        from rich.segment import Segment
        from rich.style import Style

        bold, dim = Style(bold=True), Style(dim=True)
        if self.title:
            yield Segment(self.title)
            yield Segment.line()
        bars = ["━" * (w + 2) for w in self.widths]
        yield Segment("┏" + "┳".join(bars) + "┓")
        yield Segment.line()
        yield Segment("┃")
        for column, w in zip(self.columns, self.widths):
            pad = w - _cell_len(column.header)
            text = " " * pad + column.header if column.justify == "right" else column.header + " " * pad
            yield Segment(f" {text} ", bold)
            yield Segment("┃")
        yield Segment.line()
        yield Segment("┡" + "╇".join(bars) + "┩")
        yield Segment.line()
        for i, row in enumerate(self.rows):
            cells = ["⋮"] * len(self.shown) if row is None else [row[j] for j in self.shown]
            style = self.row_styles[i] if self.row_styles and row is not None else None
            yield Segment(self._line(cells), dim if style == "dim" else None)
            yield Segment.line()
        yield Segment("└" + "┴".join("─" * (w + 2) for w in self.widths) + "┘")
        yield Segment.line()
