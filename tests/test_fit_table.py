"""render.tables.FitTable: the one table that fits the terminal (split, stack, never cut).

The column groups below are worked by hand from the width rule of a boxed rich table:
1 for the left rule, then each column's widest cell + 3 (a space either side and a rule).
"""

from __future__ import annotations

import io

import pytest

from dlvcli.render.tables import FitTable


def render(table: FitTable, width: int) -> list[str]:
    from rich.console import Console

    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None, markup=False, highlight=False).print(table)
    return [line.rstrip() for line in buffer.getvalue().splitlines()]


# key "k" (width 1) and columns a-d (width 1) and e (width 20): costs 4, 4·4 = 16 and 23,
# so the whole table is 1 + 4 + 16 + 23 = 44 wide and a table of k and e alone 28.
NARROW_AND_WIDE = (["k", "a", "b", "c", "d", "e"], [["1", "1", "2", "3", "4", "x" * 20]])


@pytest.mark.parametrize(
    ("split", "stack", "room", "groups"),
    [
        # 44 fits 44: one table
        ("greedy", "keys", 44, [[0, 1, 2, 3, 4, 5]]),
        # at 40: k a b c d = 21, + e = 44 > 40, so e starts a second table (5 + 23 = 28 ≤ 40)
        ("greedy", "keys", 40, [[0, 1, 2, 3, 4], [0, 5]]),
        # even: 5 columns in 2 tables, 3 + 2: k a b c = 17 and k d e = 32, both ≤ 40
        ("even", None, 40, [[0, 1, 2, 3], [0, 4, 5]]),
        # narrow: the narrowest limit that keeps 2 tables is 28 (k e); greedy at 28 is 4 + 1
        ("narrow", "cells", 40, [[0, 1, 2, 3, 4], [0, 5]]),
        # at 27, k e (28) does not fit: stacked, unless the layout never stacks
        ("greedy", "keys", 27, None),
        ("narrow", "cells", 27, None),
        ("even", None, 27, [[0, 1, 2, 3, 4], [0, 5]]),
        (None, "cells", 40, None),
    ],
)
def test_column_groups(split, stack, room, groups):
    header, rows = NARROW_AND_WIDE
    assert FitTable(header, rows, split=split, stack=stack).groups(room) == groups


def test_split_repeats_the_key_and_labels_the_parts():
    # k (1) and four columns of 10: 1 + 4 + 4·13 = 57; at 56 greedy fills k a b c (44),
    # and k d (18) is the second table
    header = ["k", "a", "b", "c", "d"]
    rows = [["1", *["0123456789"] * 4], ["2", *["9876543210"] * 4]]
    assert max(len(line) for line in render(FitTable(header, rows, title="T"), 57)) == 57
    lines = render(FitTable(header, rows, title="T"), 56)
    assert [line for line in lines if line.startswith("T")] == ["T (1/2)", "T (2/2)"]
    assert sum("┃ k ┃" in line for line in lines) == 2
    assert sorted({len(line) for line in lines if line.startswith("┏")}) == [18, 44]
    assert sum(line.count("0123456789") for line in lines) == 4  # every cell once, whole


def test_a_part_draws_no_row_that_is_empty_beside_the_keys():
    # as bptt's step table: the Σ row has cells in the last two columns only.  k (1) and three
    # columns of 10: 1 + 4 + 3·13 = 44; at 40 greedy fills k a b (31) and k c (18)
    header = ["k", "a", "b", "c"]
    ten = "0123456789"
    rows = [["1", ten, ten, ten], ["2", ten, ten, ten], ["Σ", "", "", "s"]]
    whole = render(FitTable(header, rows, lines=True), 44)
    assert sum(line.startswith("│ Σ") for line in whole) == 1  # one table: the row as it is
    for lines in (True, False):
        split = render(FitTable(header, rows, lines=lines, parts=None), 40)
        first, second = "\n".join(split).split("┏")[1:]
        assert "Σ" not in first and "│ 2 │" in first.splitlines()[-2]  # row 2, then the bottom rule
        assert "│ Σ │          s │" in second
        # drawn directly (no rules between rows) or by rich (rules): the same rows either way
        assert sum(line.startswith("├") for line in first.splitlines()) == (1 if lines else 0)
    # a section rule that ended a left-out row's section moves to the row before it
    rows = [["1", ten, ten, ten], ["Σ", "", "", "s"], ["2", ten, ten, ten]]
    first = "\n".join(render(FitTable(header, rows, sections=[1], parts=None), 40)).split("┏")[1]
    body = [line[:5] for line in first.splitlines() if line.startswith(("│", "├"))]
    assert body == ["│ 1 │", "├───┼", "│ 2 │"]


def test_stacked_cells_keep_a_vector_under_its_header():
    # t (1) and h_t (5: "−0.25"): 1 + 4 + 8 = 13 > 10, so the row is stacked
    table = FitTable(["t", "h_t"], [["1", "0.5\n−0.25"], ["⋮", "⋮"]], split=None, stack="cells")
    assert render(table, 10) == ["t = 1", "  h_t:", "    0.5", "    −0.25", "⋮"]
    assert render(table, 13)[1] == "┃ t ┃   h_t ┃"


def test_stacked_keys_are_one_bold_line_then_header_value_lines():
    # # (1) and v (5: "1 + 2"): 1 + 4 + 8 = 13 > 12: stacked as "# 1" then "v: 1 + 2"
    table = FitTable(["#", "v"], [["1", "1 + 2"]])
    assert render(table, 12) == ["# 1", "  v: 1 + 2"]
    assert render(table, 13)[3] == "│ 1 │ 1 + 2 │"


def test_builder_rows_may_be_short_and_none_rows_are_dots():
    table = FitTable(split="narrow", stack="cells", parts=None)
    table.add_column("θ")
    table.add_column("value", justify="right")
    table.add_row("W", "0.5")
    table.add_row("U")
    lines = render(table, 40)
    assert lines[3] == "│ W │   0.5 │"
    assert lines[4] == "│ U │       │"


@pytest.mark.parametrize("stack", ["cells", "keys"])
def test_a_stacked_cell_wider_than_the_terminal_loses_nothing(stack):
    # a two-line (vector) cell whose lines are 51 wide, at 40 columns: every entry is still
    # printed (wrapped), none cropped
    entry = "−0.123456789"
    cell = "\n".join([" ".join([entry] * 4)] * 2)
    lines = render(FitTable(["t", "v"], [["1", cell]], split=None, stack=stack), 40)
    assert all(len(line) <= 40 for line in lines)
    assert "".join(lines).count(entry) == 8


# --- tables drawn directly (render.tables._DrawnTable) against rich's own Table ---------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from dlvcli.render.tables import Column, _DrawnTable  # noqa: E402

# digits, letters, the characters dlv prints in cells (U+2212 minus, ⋮, ·, ≈) and wide ones
CELL_TEXT = st.text(alphabet="0123456789./ abcxyzé−⋮·≈猫", max_size=8)
TITLE = st.text(alphabet="abc ()/猫", max_size=30)


def rich_and_drawn(table: FitTable, width: int, colour: bool) -> tuple[str, str, bool]:
    """The table printed as FitTable prints it, and as rich prints FitTable's own Table for
    the same columns, and whether the direct drawing was used."""
    from rich.console import Console

    def console(buffer):
        return Console(file=buffer, width=width, force_terminal=colour, color_system="standard" if colour else None,
                       markup=False, highlight=False, emoji=False, soft_wrap=False)

    shown = list(range(len(table.columns)))
    fits = table._width(table._widths(), shown) <= width
    drawn, reference = io.StringIO(), io.StringIO()
    console(drawn).print(table)
    parts = list(table.__rich_console__(console(io.StringIO()), console(io.StringIO()).options))
    used = any(isinstance(part, _DrawnTable) for part in parts)
    if table.title:
        from rich.text import Text

        console(reference).print(Text(table.title, style=table.title_style))
    console(reference).print(table._table(shown, fits))
    return drawn.getvalue(), reference.getvalue(), used


@settings(max_examples=150, deadline=None)
@given(
    headers=st.lists(st.text(alphabet="abcpr_/()猫 ", min_size=1, max_size=10), min_size=1, max_size=4),
    cells=st.lists(st.lists(CELL_TEXT, min_size=4, max_size=4), min_size=1, max_size=5),
    justify=st.lists(st.sampled_from(["left", "right"]), min_size=4, max_size=4),
    column_styles=st.lists(st.sampled_from([None, "dim", "bold"]), min_size=4, max_size=4),
    row_styles=st.lists(st.sampled_from([None, "dim", "bold"]), min_size=5, max_size=5),
    ellipsis_row=st.booleans(),
    title=TITLE,
    colour=st.booleans(),
)
def test_a_drawn_table_is_what_rich_draws(headers, cells, justify, column_styles, row_styles, ellipsis_row, title, colour):
    columns = [Column(h, j, s) for h, j, s in zip(headers, justify, column_styles)]
    rows = [row[: len(columns)] for row in cells] + ([None] if ellipsis_row else [])
    table = FitTable(columns, rows, title=title, row_styles=row_styles[: len(rows)])
    width = table._width(table._widths(), range(len(columns)))  # exactly as wide as the console
    drawn, reference, _ = rich_and_drawn(table, max(width, 1), colour)
    assert drawn == reference


def test_the_direct_drawing_is_used_for_plain_tables_and_not_otherwise():
    rows = [["1", "1/1 = 1.0000"], ["2", "−0.5"], None]
    assert rich_and_drawn(FitTable(["rank", "precision"], rows, title="Ranked detections"), 80, True)[2]
    # styles for the rows of numbers only: the ⋮ row is drawn all the same, unstyled
    drawn, reference, used = rich_and_drawn(FitTable(["rank", "p"], rows, row_styles=["dim", None]), 80, True)
    assert used and drawn == reference and drawn.count("⋮") == 2
    # a cell of two lines, a cell with a space at its end, a table with rules between rows:
    # rich lays them out
    for table in (FitTable(["t", "h"], [["1", "0.5\n−0.25"]]), FitTable(["t", "h"], [["1", "0.5 "]]),
                  FitTable(["t", "h"], [["1", "2"]], lines=True)):
        drawn, reference, used = rich_and_drawn(table, 80, False)
        assert not used and drawn == reference


def test_a_title_is_a_line_above_its_table_never_padded_or_wrapped_to_it():
    # as rich's table title it would be wrapped at the table's 9 columns ("| t | h |"), mid-phrase
    table = FitTable(["t", "h"], [["1", "2"]], title="Per-category summary (— = no ground truth)")
    lines = render(table, 80)
    assert lines[0] == "Per-category summary (— = no ground truth)" and lines[1].startswith("┏")
    buffer = io.StringIO()
    from rich.console import Console

    Console(file=buffer, width=80, color_system=None).print(FitTable(["rank", "precision"], [["1", "1/1 = 1.0000"]], title="Ranked"))
    assert buffer.getvalue().splitlines()[0] == "Ranked"  # not padded to the table's width with spaces
