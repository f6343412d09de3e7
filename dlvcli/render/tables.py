"""Tables that re-flow instead of truncating (docs/conventions.md, "Shown numbers and widths").

rich shrinks a table that is wider than the terminal by cutting cells (``0.…``) or by
squeezing a column to nothing.  :class:`FitTable`, the table of every command whose tables can be wide, measures
the cells first and, when the whole table does not fit, splits its columns into several
tables that each repeat the key columns (a rank, t, a row label), or stacks each row as
lines, so every number keeps all its digits at any width from 60 up.  ``shown_rows``
abbreviates a long table: the first and last rows, with a line (``left_out_note``)
saying how many are left out and that ``--full`` shows them.
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
    style: str | None = None  # the column's cells (dim row labels, a bold result column)


def shown_rows(n: int, full: bool, first: int = 0) -> list[int | None]:
    """Rows ``first .. first + n − 1`` of a table of ``n`` rows, the first and last
    HEAD_ROWS only when it is longer than LONG_TABLE (unless ``full``); None marks the
    left-out middle."""
    if full or n <= LONG_TABLE:
        return list(range(first, first + n))
    return list(range(first, first + HEAD_ROWS)) + [None] + list(range(first + n - HEAD_ROWS, first + n))


def left_out_note(n: int) -> str:
    return f"{n - 2 * HEAD_ROWS:,} of {n:,} rows left out (the first and last {HEAD_ROWS} are shown); --full shows all."


def _cell_len(text: str) -> int:
    """The width of a cell: its longest line (a vector cell has one line per entry)."""
    from rich.cells import cell_len

    return max((cell_len(part) for part in text.split("\n")), default=0)


class FitTable:
    """A table whose cells are never cut: one rich Table when it fits the console, else
    its columns split into several tables that each repeat the ``keys`` leading columns
    (a rank, t, a row label), else each row stacked as lines.

    ``columns`` are :class:`Column` s or header strings (right-aligned); a row is a list of
    cells (a cell may have several lines: a vector as a column) or None for a row of ``⋮``.
    The layout, one per kind of output (each command keeps the look it has always had):

    * ``split``: how the columns are shared out when they do not fit: ``"greedy"`` (fill
      each table in turn), ``"even"`` (the same number of tables with as many columns each
      as fit: 4 + 4 rather than 7 + 1), ``"narrow"`` (the same number of tables, each as
      narrow as it can be), or None (never split: stack instead);
    * ``stack``: when one column beside the keys does not fit: ``"keys"`` (a bold line of
      the key cells, then ``header: cell`` lines broken at operators), ``"cells"`` (``key
      header = cell``, then ``header: cell``, a multi-line cell under its header), or None
      (the column takes a table of its own and rich wraps its cells);
    * the title: a line above each table, wrapped at the terminal's width (as rich's table
      title it would be padded to the table's width, and wrapped at it in the middle of a
      phrase); ``parts`` is the label a split adds to it (``" ({k}/{n})"``), None for the
      title on the first table only;
    * a table that fits, of single-line cells in rich's default box, is drawn by
      :class:`_DrawnTable` exactly as rich would draw it: rich lays out every cell of every row,
      the larger part of a short worked solution's time after start-up, and tens of seconds
      for ``--full`` with 10,000 rows.
    """

    def __init__(self, columns=(), rows=(), *, title: str = "", keys: int = 1, row_styles=None, sections=(),
                 lines: bool = False, box=None, split: str | None = "greedy", stack: str | None = "keys",
                 title_style: str = "italic", parts: str | None = " ({k}/{n})"):
        self.columns = [c if isinstance(c, Column) else Column(c) for c in columns]
        self.rows = [None if r is None else list(r) for r in rows]
        self.row_styles = list(row_styles) if row_styles is not None else [None] * len(self.rows)
        self.title, self.keys, self.sections, self.lines, self.box = title, keys, set(sections), lines, box
        self.split, self.stack, self.parts = split, stack, parts
        self.title_style = title_style

    def add_column(self, header: str, justify: str = "left", style: str | None = None) -> None:
        """As rich's ``Table.add_column`` (left-aligned unless told)."""
        self.columns.append(Column(header, justify, style))

    def add_row(self, *cells: str, style: str | None = None) -> None:
        self.rows.append(list(cells))
        self.row_styles.append(style)

    def _cells(self, row, shown) -> list[str]:
        return ["⋮"] * len(shown) if row is None else [row[j] if j < len(row) else "" for j in shown]

    def _widths(self) -> list[int]:
        widths = [_cell_len(c.header) for c in self.columns]
        for row in self.rows:
            for j, cell in enumerate(row or ()):
                widths[j] = max(widths[j], _cell_len(cell))
        return widths

    @staticmethod
    def _width(widths, shown) -> int:
        """A boxed table's width: each column's cells, one space either side, and a rule."""
        return 1 + sum(widths[j] + 3 for j in shown)

    def _greedy(self, widths, room: int) -> list[list[int]] | None:
        """The non-key columns of each table, filled in turn; None when one column beside the
        keys does not fit (and rows are stacked instead)."""
        keys = list(range(self.keys))
        groups: list[list[int]] = []
        current: list[int] = []
        for j in range(self.keys, len(widths)):
            if current and self._width(widths, keys + current + [j]) > room:
                groups.append(current)
                current = []
            if not current and self._width(widths, keys + [j]) > room and self.stack:
                return None
            current.append(j)
        if current or not groups:
            groups.append(current)
        return groups

    def groups(self, room: int, widths: list[int] | None = None) -> list[list[int]] | None:
        """The columns of each table for ``room`` columns (keys first); None: stack the rows."""
        widths = widths or self._widths()
        keys = list(range(self.keys))
        everything = list(range(len(widths)))
        if self._width(widths, everything) <= room:
            return [everything]
        if self.split is None:
            return None if self.stack else [everything]
        best = self._greedy(widths, room)
        if best is None:
            return None
        if self.split == "even" and len(best) > 1:
            rest = everything[self.keys:]
            size = -(-len(rest) // len(best))
            even = [rest[i : i + size] for i in range(0, len(rest), size)]
            if len(even) == len(best) and all(self._width(widths, keys + g) <= room for g in even):
                best = even
        elif self.split == "narrow":
            for limit in range(room - 1, 0, -1):
                narrower = self._greedy(widths, limit)
                if narrower is None or len(narrower) > len(best):
                    break
                best = narrower
        return [keys + g for g in best]

    def _title(self, k: int, n: int) -> str:
        if n == 1:
            return self.title
        if self.parts is None:
            return self.title if k == 0 else ""
        return (self.title + self.parts.format(k=k + 1, n=n)).strip()

    def _kept_rows(self, shown: list[int], parts: int) -> list[int]:
        """The rows a table of the columns ``shown`` draws: in a part of a split (``parts`` > 1),
        not a row whose cells beside the keys are all empty there (a Σ row whose sums are in
        another part's columns): it would say nothing the other parts do not."""
        rest = [j for j in shown if j >= self.keys]
        if parts <= 1 or not rest:
            return list(range(len(self.rows)))
        return [i for i, row in enumerate(self.rows) if row is None or any(self._cells(row, rest))]

    def _section_ends(self, kept: list[int]) -> set[int]:
        """The positions among ``kept`` after which a section rule is drawn: a rule that ended
        a left-out row's section moves to the kept row before it; none is drawn after the last."""
        ends = set()
        for position, (i, following) in enumerate(zip(kept, kept[1:])):
            if any(j in self.sections for j in range(i, following)):
                ends.add(position)
        return ends

    def _table(self, shown: list[int], fits: bool, kept: list[int] | None = None):
        """rich's Table of these columns (the rows ``kept``, all by default), without the title."""
        from rich import box
        from rich.table import Table

        kept = list(range(len(self.rows))) if kept is None else kept
        sections = self.sections if len(kept) == len(self.rows) else self._section_ends(kept)
        table = Table(header_style="bold", box=self.box or box.HEAVY_HEAD, show_lines=self.lines, padding=(0, 1))
        for j in shown:
            column = self.columns[j]
            table.add_column(column.header, justify=column.justify, style=column.style, no_wrap=fits)
        for position, i in enumerate(kept):
            row = self.rows[i]
            table.add_row(*self._cells(row, shown), style=None if row is None else self.row_styles[i], end_section=position in sections)
        return table

    def _drawable(self, shown: list[int], options, kept: list[int]) -> bool:
        """Whether :class:`_DrawnTable` draws these columns (the rows ``kept``) as rich would: a
        table that fits, with rich's default box and nothing it would re-flow (a cell of
        several lines or with spaces at either end, a tab)."""
        if self.box is not None or self.lines or self.sections or not kept or options.ascii_only or options.legacy_windows:
            return False
        rows = [self.rows[i] for i in kept]
        texts = [self.columns[j].header for j in shown] + [cell for row in rows if row is not None for cell in self._cells(row, shown)]
        return all("\n" not in text and "\t" not in text and text == text.strip() for text in texts)

    def __rich_measure__(self, console, options):
        from rich.measure import Measurement

        widths = self._widths()
        groups = self.groups(options.max_width, widths)
        # split: as wide as its widest part, not as the whole table it is not drawn as
        full = self._width(widths, range(len(self.columns))) if groups is None else max(self._width(widths, g) for g in groups)
        width = min(full, options.max_width)
        return Measurement(width, width)

    def __rich_console__(self, console, options):
        from rich.text import Text

        room = options.max_width
        widths = self._widths()
        groups = self.groups(room, widths)
        if groups is None:
            yield from self._stacked(room)
            return
        for k, shown in enumerate(groups):
            title = self._title(k, len(groups))
            width = self._width(widths, shown)
            kept = self._kept_rows(shown, len(groups))
            if title:
                yield Text(title, style=self.title_style)
            if width <= room and self._drawable(shown, options, kept):
                yield _DrawnTable(self, [widths[j] for j in shown], shown, kept)
            else:
                yield self._table(shown, width <= room, kept)

    def _stacked(self, room: int):
        from rich.padding import Padding
        from rich.text import Text

        from dlvcli.render.derivation import fit

        headers = [c.header for c in self.columns]
        if self.title:
            yield Text(self.title, style=self.title_style)
        for row in self.rows:
            row = self._cells(row, range(len(headers)))
            if self.stack == "keys":
                keys = ", ".join(f"{headers[j]} {row[j]}".strip() for j in range(self.keys) if row[j])
                if keys:
                    yield Text(keys, style="bold")
                for j in range(self.keys, len(headers)):
                    first, *more = row[j].split("\n")  # a vector cell: its further lines under the first
                    for text in [f"{headers[j]}: {first}", *("  " + line for line in more)]:
                        for piece in fit(text, room - 2, indent=4):
                            # folded, never cropped, where one item is wider than the line
                            yield Text("  " + piece, overflow="fold")
                continue
            head = row[0]
            yield Text(head if head in ("⋮", "Σ", "") else f"{headers[0]} = {head}", style="bold")
            for header, cell in zip(headers[1:], row[1:]):
                if cell in ("", "⋮"):
                    continue
                if "\n" in cell:
                    yield Padding(Text(f"{header}:"), (0, 0, 0, 2), expand=False)
                    # wrapped at spaces (folded inside a word) where a line is too wide: never cropped
                    yield Padding(Text(cell, overflow="fold"), (0, 0, 0, 4), expand=False)
                else:
                    yield Padding(Text(f"{header}: {cell}"), (0, 0, 0, 2), expand=False)


def fitted_table(title: str, columns, rows, keys: int = 1, **options) -> FitTable:
    """A :class:`FitTable` as interp-ap, COCO and tconv print it: the title in italics,
    ``(part k of n)`` on each part of a split, even parts, never stacked."""
    return FitTable(columns, rows, title=title, keys=keys, split="even", stack=None,
                    parts=" (part {k} of {n})", **options)


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


class _DrawnTable:
    """The rich Table that :meth:`FitTable._table` would make, drawn directly: the same
    segments, with the same styles, for a table :meth:`FitTable._drawable` accepts
    (tests/test_fit_table.py compares the two, plain and in colour)."""

    def __init__(self, table: FitTable, widths: list[int], shown: list[int], kept: list[int]):
        self.table, self.widths, self.shown, self.kept = table, widths, shown, kept
        self.columns = [table.columns[j] for j in shown]

    def _cell(self, text: str, column: Column, width: int, style):
        from rich.segment import Segment

        pad = " " * (width - _cell_len(text))
        yield Segment(" ", style)
        yield Segment(pad + text if column.justify == "right" else text + pad, style)
        yield Segment(" ", style)

    def __rich_console__(self, console, options):
        from rich.segment import Segment

        get_style = console.get_style
        line, table = Segment.line(), self.table
        bars = ["━" * (w + 2) for w in self.widths]
        yield Segment("┏" + "┳".join(bars) + "┓")
        yield line
        bold = get_style("bold")
        yield Segment("┃")
        for column, w in zip(self.columns, self.widths):
            yield from self._cell(column.header, column, w, bold)
            yield Segment("┃")
        yield line
        yield Segment("┡" + "╇".join(bars) + "┩")
        yield line
        column_styles = [get_style(column.style or "") for column in self.columns]
        for i in self.kept:
            row = table.rows[i]
            style = get_style("" if row is None else table.row_styles[i] or "")
            yield Segment("│")
            for text, column, w, column_style in zip(table._cells(row, self.shown), self.columns, self.widths, column_styles):
                yield from self._cell(text, column, w, column_style + style)
                yield Segment("│")
            yield line
        yield Segment("└" + "┴".join("─" * (w + 2) for w in self.widths) + "┘")
        yield line
