"""Shared pieces of a worked solution on the page: derivation lines and tables that re-flow.

A command's core returns :class:`dlvcli.core.expr.Line` objects (a label, the formula as
a tree, the same tree with numbers, the value); this module prints them

* as text: :class:`Derivation`, a rich renderable that puts the labels in a column and
  breaks each line at operators (``=`` first) to the terminal's width, or puts the label
  on a line of its own when the terminal is too narrow for both (60 columns);
* as Markdown: :func:`markdown_items`, one list item per line with the LaTeX of the same
  tree, so text and Markdown cannot disagree.

Tables that fit the terminal are :class:`dlvcli.render.tables.FitTable`.

``number_formatter`` gives ``fmt(value, exact=None)`` for table cells (NumberStyle.num).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from dlvcli.render.numbers import NumberStyle

if TYPE_CHECKING:
    from dlvcli.core.expr import Line
# dlvcli.render.expr (and the core's expression classes) only where lines are printed:
# a --json run, which uses table_column, does not load them

# below this many columns for the formula beside the label, the label goes on its own line
MIN_FORMULA_WIDTH = 44
MAX_LABEL_WIDTH = 24


def number_formatter(style: NumberStyle, latex: bool = False) -> Callable[..., str]:
    """``fmt(value, exact=None)``: a number as the document shows it (``NumberStyle.num``)."""
    style = style.for_latex() if latex else style

    def fmt(value: Any, exact=None) -> str:
        return style.num(value, exact)

    return fmt


def table_column(style: NumberStyle, values: Sequence[Any], exacts: Sequence[Any] | None = None) -> list[str]:
    """One rule per column (docs/conventions.md, "Shown numbers and widths"), with as few
    decimals as the column needs: a whole number (an area, a ratio of 100) is shown as one,
    a column whose every entry is a short decimal (0.01, 0.09) is not padded to 0.0100, and
    the other entries share the decimals the most demanding one needs.  A column spanning
    many orders of magnitude (1 down to 1e−5) shows each entry as the worked lines above it
    do (``1``, ``0.3162``, ``1.000e−5``) rather than ``1.000e0``; a column all of whose
    entries need scientific notation uses it throughout."""
    import math

    from dlvcli.render.numbers import decimals_needed, format_fixed, needs_scientific, shortest_decimals

    exacts = list(exacts) if exacts is not None else [None] * len(values)
    if style.exact and all(e is not None for e in exacts):
        return style.column(values, exacts)
    floats = [float(v) for v in values if v is not None and not isinstance(v, bool)]
    finite = [f for f in floats if math.isfinite(f) and f != 0]
    if not finite or all(needs_scientific(f) for f in finite):
        return style.column(values, exacts)
    if any(needs_scientific(f) for f in finite):
        return [style.num(v, e) for v, e in zip(values, exacts)]
    decimals = max(decimals_needed(f, style.digits) for f in finite)
    shortest = max(shortest_decimals(f, decimals)[1] for f in finite)
    out = []
    for v in values:
        f = None if v is None else float(v)
        if f is None or not math.isfinite(f) or f == 0:
            out.append(style.num(v))
        elif shortest_decimals(f, decimals)[1] == 0:
            out.append(format_fixed(f, 0, latex=style.latex))  # a whole number, as in the text
        else:
            out.append(format_fixed(f, shortest, latex=style.latex))
    return out


def _parts(line: Line, style: NumberStyle, latex: bool) -> list[str]:
    from dlvcli.render.expr import LatexPrinter, TextPrinter, line_parts

    printer = LatexPrinter(style) if latex else TextPrinter(style)
    parts = line_parts(line, printer)
    if line.value is not None and style.exact and line.exact is not None and line.exact.denominator != 1:
        # a fraction is followed by its decimal value: 4 / 28 = 1/7 ≈ 0.1429
        approx = LatexPrinter(replace(style, exact=False)) if latex else TextPrinter(replace(style, exact=False))
        parts[-1] += (r" \approx " if latex else " ≈ ") + line_parts(replace(line, lhs=None, formula=None, parts=(), substituted=None), approx)[-1]
    # the same thing twice in a row (a substitution that is already the value) is said once
    out: list[str] = []
    for part in parts:
        if not out or part != out[-1]:
            out.append(part)
    return out


def line_text(line: Line, style: NumberStyle) -> str:
    """``lhs = formula = … = substituted = value`` in text (U+2212 minus), with the note after it."""
    text = " = ".join(_parts(line, style, latex=False))
    return f"{text}  {line.note}" if line.note else text


def line_latex(line: Line, style: NumberStyle) -> str:
    """The same line in LaTeX (``-`` minus, ``\\frac``), without the ``$`` delimiters and
    without the note (plain text: :func:`markdown_items` writes it after the math)."""
    return " = ".join(_parts(line, style, latex=True))


def fit(text: str, width: int, indent: int = 4) -> list[str]:
    """:func:`dlvcli.render.expr.wrap` at operators, then any piece still wider than
    ``width`` (a long tuple such as C = (min(…), …)) broken after its outermost commas
    (never inside min(60, 60)), so that no line is wider than ``width`` unless a single
    item is.  A short left-hand side stays on the line of the tuple it names."""
    from rich.cells import cell_len

    from dlvcli.render.expr import wrap

    out: list[str] = []
    for piece in wrap(text, width, indent=indent):
        if cell_len(piece) <= width:
            out.append(piece)
            continue
        lead = " " * (len(piece) - len(piece.lstrip()))
        body = piece.strip()
        hang = max(len(lead), indent) + 2
        if out and body.startswith("= ") and cell_len(out[-1]) + 1 + cell_len(_outer_items(body)[0]) + 2 <= width // 2:
            # "C" alone above "= (min(…), …)": write "C = (min(…), …" and hang the rest under it
            previous = out.pop()
            hang = len(previous) + 3
            lead, body = "", previous + " " + body
        items = _outer_items(body)
        current = lead + items[0]
        for item in items[1:]:
            if cell_len(current) + 2 + cell_len(item) <= width:
                current += ", " + item
            else:
                out.append(current + ",")
                current = " " * hang + item
        out.append(current)
    return out


def _outer_items(text: str) -> list[str]:
    """``text`` split at its ", " of the least bracket depth: the items of the outermost tuple."""
    depth, cuts = 0, []
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and text[i + 1:i + 2] == " ":
            cuts.append((depth, i))
    if not cuts:
        return [text]
    least = min(d for d, _ in cuts)
    items, start = [], 0
    for d, i in cuts:
        if d == least:
            items.append(text[start:i])
            start = i + 2
    items.append(text[start:])
    return items



class Derivation:
    """Labelled derivation lines as a rich renderable that fits the console's width."""

    def __init__(self, lines: Sequence[Line], style: NumberStyle, indent: int = 2):
        self.lines = tuple(lines)
        self.style = style
        self.indent = indent

    def text_lines(self, width: int) -> list[tuple[str, bool]]:
        """(text, is_label) rows for a console ``width`` columns wide."""
        from rich.cells import cell_len

        labels = [line.label for line in self.lines]
        label_width = min(MAX_LABEL_WIDTH, max((cell_len(x) for x in labels), default=0))
        column = self.indent + label_width + 2
        side_by_side = width - column >= MIN_FORMULA_WIDTH
        rows: list[tuple[str, bool]] = []
        for line in self.lines:
            text = line_text(line, self.style)
            label = line.label
            if side_by_side and cell_len(label) <= label_width:
                pieces = fit(text, width - column, indent=4)
                head = " " * self.indent + label + " " * (label_width - cell_len(label) + 2)
                rows.append((head + pieces[0], True))
                rows += [(" " * column + p, False) for p in pieces[1:]]
            else:
                if label:
                    rows.append((" " * self.indent + label, True))
                inner = self.indent + 2
                rows += [(" " * inner + p, False) for p in fit(text, width - inner, indent=4)]
        return rows

    def __rich_console__(self, console, options):
        from rich.text import Text

        width = options.max_width
        for text, labelled in self.text_lines(width):
            out = Text(text, no_wrap=True, overflow="fold")  # fold, never crop: nothing may vanish
            if labelled:
                label_end = len(text) - len(text.lstrip()) + len(text.strip().split("  ")[0])
                out.stylize("bold", 0, label_end)
            yield out


def markdown_items(lines: Sequence[Line], style: NumberStyle) -> list[str]:
    """One Markdown list item per line: ``- label: $formula = numbers = value$``."""
    out = []
    for line in lines:
        label = f"{escape_markdown(line.label)}: " if line.label else ""
        note = f" {escape_markdown(line.note)}" if line.note else ""
        out.append(f"- {label}${line_latex(line, style)}${note}")
    return out


def escape_markdown(text: str) -> str:
    """User or note text in Markdown: ``|`` would end a table cell, ``_``/``*`` start emphasis."""
    return text.replace("\\", "\\\\").replace("|", r"\|").replace("_", r"\_").replace("*", r"\*")


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(escape_markdown(h) if "$" not in h else h for h in header) + " |", "|" + "---:|" * len(header)]
    out += ["| " + " | ".join(escape_markdown(c) for c in row) + " |" for row in rows]
    return out


class Heading:
    """A rule with a title (``Pair 1: … ───``); when the title is too long for the width, the
    title is printed whole on its own (wrapped at spaces) instead of being cut with ``…``."""

    def __init__(self, title: str, bold: bool = False, dim_rule: bool = False):
        self.title = title
        self.bold = bold
        self.dim_rule = dim_rule

    def __rich_console__(self, console, options):
        from rich.cells import cell_len
        from rich.rule import Rule
        from rich.text import Text

        text = Text(self.title, style="bold" if self.bold else "")
        if cell_len(self.title) + 4 <= options.max_width:
            yield Rule(text, align="left", style="dim" if self.dim_rule else "rule.line")
        else:
            yield text


# --------------------------------------------------------------------------- prose with formulas


class Math:
    """A formula inside a sentence (:class:`Prose`): its text, and its LaTeX for Markdown.

    A line of prose breaks between the words around it, never inside it; only a formula
    wider than a whole line is broken, at its operators (``=`` first, as :func:`fit` does)."""

    __slots__ = ("text", "tex")

    def __init__(self, text: str, tex: str | None = None):
        self.text, self.tex = text, tex  # tex None: written in Markdown as the text (a phrase kept whole)

    def __repr__(self) -> str:
        return f"Math({self.text!r})"


_KEEP = "\x00"  # a space inside a formula while the sentence is cut into words


def prose_words(pieces) -> list[tuple[str, str]]:
    """(space before, word) pairs: prose breaks at its spaces, a formula (:class:`Math`) is one
    word, with the punctuation written against it (``(d = 31``, ``0.001),``)."""
    import re

    joined = "".join(p.text.replace(" ", _KEEP) if isinstance(p, Math) else p for p in pieces)
    out, space = [], ""
    for part in re.split(r"( +)", joined):
        if not part:
            continue
        if part.startswith(" "):
            space = part
        else:
            out.append((space, part.replace(_KEEP, " ")))
            space = ""
    return out


def prose_lines(pieces, width: int) -> list[str]:
    """A sentence of prose and formulas in lines of at most ``width`` columns (unless one
    word is wider): greedy, breaking at the spaces of the prose only."""
    from rich.cells import cell_len

    lines: list[str] = []
    current = ""
    for space, word in prose_words(pieces):
        if current and cell_len(current) + cell_len(space) + cell_len(word) <= width:
            current += space + word
            continue
        if current:
            lines.append(current)
        current = word
        if cell_len(word) > width:
            # a formula longer than a line: at its operators, continued under a hang
            *whole, current = fit(word, width, indent=4)
            lines += whole
    if current:
        lines.append(current)
    return lines


def prose_text(pieces) -> str:
    """The sentence on one line (for tests and plain text)."""
    return "".join(p.text if isinstance(p, Math) else p for p in pieces)


def prose_markdown(pieces) -> str:
    """The same sentence in Markdown: the prose escaped, each formula as ``$…$``."""
    return "".join(f"${p.tex}$" if isinstance(p, Math) and p.tex is not None else escape_markdown(getattr(p, "text", p)) for p in pieces)


class Prose:
    """A paragraph of prose that carries formulas, wrapped to the console's width at the
    words of its prose (never inside a formula), each line under ``indent``; no trailing
    spaces.  ``lead`` replaces the first line's indent (a bullet: ``"    • "``)."""

    def __init__(self, *pieces, indent: int = 2, style: str = "", lead: str | None = None):
        self.pieces, self.indent, self.style, self.lead = pieces, indent, style, lead

    def __rich_console__(self, console, options):
        from rich.text import Text

        for k, line in enumerate(prose_lines(self.pieces, max(20, options.max_width - self.indent))):
            start = self.lead if k == 0 and self.lead is not None else " " * self.indent
            yield Text.assemble(start, (line, self.style), no_wrap=True, overflow="fold")

    def __rich_measure__(self, console, options):
        from rich.cells import cell_len
        from rich.measure import Measurement

        width = min(options.max_width, self.indent + cell_len(prose_text(self.pieces)))
        return Measurement(min(width, 20), width)


# A space next to an operator (``a = b``, ``1 − h``) or after a prefix (``Σ (…)``) is inside
# a formula.
_OPERATORS = set("=≈<>≤≥≠+−·⊙×/→")
_PREFIXES = set("ΣΠ√")
_FUNCTIONS = {"max", "min", "ln", "log", "exp", "tanh", "σ"}  # ``max |a − n|``: the function and its argument
_OPENING, _CLOSING, _BARS = "([{", ")]}", "|‖"


SHORT_GROUP = 24  # a parenthesis of at most this many characters, "(3H = 3 rows)", is kept whole


def _joined_spans(text: str) -> list[tuple[int, int]]:
    """The (start, end) spans of ``text`` a line may not break inside: a function's brackets
    (``max(1, |θ_i|)``: the bracket follows a character), a short parenthesis, a pair of bars
    (``|a − n|``, ``‖J‖``); none when the brackets do not balance."""
    spans, stack = [], []
    bars: dict[str, int] = {}
    for i, c in enumerate(text):
        if c in _OPENING:
            stack.append((i, i > 0 and not text[i - 1].isspace() and text[i - 1] not in _OPENING))
        elif c in _CLOSING:
            if not stack:
                return []
            start, function = stack.pop()
            if function or i - start + 1 <= SHORT_GROUP:
                spans.append((start, i))
        elif c in _BARS:
            if c in bars:
                spans.append((bars.pop(c), i))
            else:
                bars[c] = i
    return [] if stack or bars else spans


def formula_pieces(text: str) -> list:
    """A plain sentence cut into prose words and formulas (:class:`Math`) for :class:`Prose`,
    by how formulas are written: a space next to an operator (``AP = 0.7286,``, ``1 − h``),
    after a prefix (``Σ (…)``) or a function (``max |a − n|``), inside a function's brackets
    (``np.linspace(0, 1, 101)``), a short parenthesis or a pair of bars is part of a formula;
    every other space is prose, where a line may break (``(the first 100), take``)."""
    import re

    inside = [False] * len(text)  # a character strictly inside a span kept whole
    for a, b in _joined_spans(text):
        inside[a + 1 : b] = [True] * (b - a - 1)
    tokens = re.findall(r" +|[^ ]+", text)
    pieces: list = []
    current, in_formula, at = "", False, 0
    for k, token in enumerate(tokens):
        start, at = at, at + len(token)
        if token[0] != " ":
            current += token
            continue
        previous = tokens[k - 1] if k else ""
        following = tokens[k + 1] if k + 1 < len(tokens) else ""
        join = (
            inside[start]
            or previous[-1:] in _OPERATORS or previous[-1:] in _PREFIXES or previous in _FUNCTIONS
            or following[:1] in _OPERATORS or following[:1] in _BARS
        )
        if join and current:
            current += token
            in_formula = True
            continue
        if current:
            pieces.append(Math(current) if in_formula else current)
        pieces.append(token)
        current, in_formula = "", False
    if current:
        pieces.append(Math(current) if in_formula else current)
    return pieces


def as_prose(renderable):
    """A line of plain text (a rich ``Text`` of one style) as :class:`Prose` wrapped by
    :func:`formula_pieces`, its leading spaces the indent of every line; anything else as it
    is.  rich would break such a line at any space, inside ``(1 − h_j²)`` or ``x < 0.001``."""
    from rich.text import Text

    if type(renderable) is not Text or renderable.spans or renderable.no_wrap or renderable.overflow == "fold":
        return renderable
    plain = renderable.plain
    body = plain.lstrip(" ")
    if not body or "\n" in plain or "\t" in plain:
        return renderable
    return Prose(*formula_pieces(body.rstrip(" ")), indent=len(plain) - len(body), style=renderable.style or "")
