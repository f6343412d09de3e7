"""Output of ``dlv bptt --cell …``, ``--compare-cells`` and ``--clip``.

The worked solution is built once as a list of blocks (headings, prose, equations,
tables); rich text and Markdown are two printers of the same blocks, so they carry the
same steps and the same numbers.  Equations are written in a small text notation
(subscript digits, ⊙, ·, σ, −) and :func:`tex` turns that notation into LaTeX.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from dlvcli.core.bptt import subscript
from dlvcli.render.bptt import _clean  # the same JSON values as the tanh RNN's
from dlvcli.render.numbers import NumberStyle
from dlvcli.render.output import OutputSettings
from dlvcli.render.tables import Column, FitTable, shown_rows

MINUS = "−"
DETAIL_H = 8  # up to this hidden size the tables show vectors; above, norms and means
MATRIX_ENTRIES = 32  # the largest matrix printed entry by entry inside a table cell
WORKED_ALL_T = 5  # up to this T every step is worked in full


# --------------------------------------------------------------------------- numbers


class Num:
    """Numbers as every worked solution shows them (:class:`dlvcli.render.numbers.NumberStyle`:
    at least 3 significant digits, U+2212 minus, exact zero as 0, 0.5 not 0.5000), with the
    vector and matrix forms the cells' lines need.  A value the user gave follows the same
    rule (0.5 is shown as 0.5)."""

    def __init__(self, digits: int = 4):
        self.digits = digits
        self.style = NumberStyle(digits)

    def __call__(self, value: float) -> str:
        value = float(value)
        if not math.isfinite(value) and not math.isnan(value):
            return "∞" if value > 0 else f"{MINUS}∞"
        return self.style.num(value)

    def p(self, value: float) -> str:
        text = self(value)
        return f"({text})" if text.startswith(MINUS) else text

    def vec(self, v: np.ndarray) -> str:
        v = np.ravel(v)
        return self(v[0]) if v.size == 1 else "[" + ", ".join(self(e) for e in v) + "]"

    def pv(self, v: np.ndarray) -> str:
        """As :meth:`vec`, a negative single number in parentheses (inside products)."""
        v = np.ravel(v)
        return self.p(v[0]) if v.size == 1 else self.vec(v)

    def block(self, m: np.ndarray) -> str:
        """A vector as a column or a matrix as rows, right-aligned (a multi-line cell)."""
        m = np.asarray(m)
        m = m.reshape(-1, 1) if m.ndim <= 1 else m
        cells = [[self(e) for e in row] for row in m]
        width = max(len(c) for row in cells for c in row)
        return "\n".join(" ".join(c.rjust(width) for c in row) for row in cells)


_SUB = dict(zip("₀₁₂₃₄₅₆₇₈₉₊₋₍₎ₜₖ", "0123456789+-()tk"))
_TEX_WORDS = [
    ("tanh²", r"\tanh^{2} "), ("tanh", r"\tanh "), ("relu", r"\operatorname{relu}"), ("softmax", r"\operatorname{softmax}"),
    ("log", r"\log "), ("min", r"\min"), ("max", r"\max"), ("diag", r"\operatorname{diag}"),
]
_TEX_CHARS = {
    "δ": r"\delta ", "σ": r"\sigma", "⊙": r"\odot ", "·": r"\cdot ", MINUS: "-", "Σ": r"\sum ", "‖": r"\|",
    "ŷ": r"\hat{y}", "∂": r"\partial ", "×": r"\times ", "½": r"\tfrac{1}{2}", "²": "^{2}", "ᵀ": r"^{\top}",
    "√": r"\sqrt", "∞": r"\infty ", "≤": r"\le ", "→": r"\to ", "⋯": r"\cdots ", "≈": r"\approx ", "∈": r"\in ",
}


def tex(text: str) -> str:
    """The text notation of an equation as LaTeX (KaTeX): a mechanical translation."""
    text = re.sub(r"(\d(?:\.\d+)?)e([−-]?\d+)", lambda m: f"{m.group(1)}\\times 10^{{{m.group(2).replace(MINUS, '-')}}}", text)
    text = re.sub(r"_\(([^()]*)\)", lambda m: "_{" + m.group(1) + "}", text)
    text = re.sub(r"√(\w+)", r"√{\1}", text)
    for word, latex in _TEX_WORDS:
        text = text.replace(word, latex)
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch in _SUB:
            j = i
            while j < len(text) and text[j] in _SUB:
                j += 1
            out.append("_{" + "".join(_SUB[c] for c in text[i:j]) + "}")
            i = j
            continue
        out.append(_TEX_CHARS.get(ch, ch))
        i += 1
    return "".join(out).replace("[", r"\lbrack ").replace("]", r"\rbrack ").replace("   ", r"\quad ")


# --------------------------------------------------------------------------- blocks


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Prose:
    text: str  # words only (no formulas): printed as is in both formats
    items: bool = False  # a list "a, b, c": in text, broken after a comma first


@dataclass(frozen=True)
class Eq:
    """formula = substituted numbers = value (any of the later parts may be absent)."""

    parts: tuple[str, ...]
    label: str = ""  # words before the equation


@dataclass(frozen=True)
class Table:
    title: str
    headers: tuple[str, ...]  # text notation (a formula or a word)
    rows: tuple[tuple[str, ...], ...]  # cells already formatted (multi-line for vectors)


def eq(*parts: str, label: str = "") -> Eq:
    return Eq(tuple(p for p in parts if p), label)


def to_rich_blocks(blocks: Sequence[Any], leading_blank: bool = False) -> list:
    """The blocks as rich renderables.  Headings are preceded by an empty line except the
    first one of a document (``leading_blank`` when these blocks follow other output)."""
    from rich.padding import Padding
    from rich.text import Text

    out: list = []
    for block in blocks:
        if isinstance(block, Heading):
            if out or leading_blank:
                out.append(Text(""))
            out.append(Text(block.text, style="bold"))
        elif isinstance(block, Prose):
            out.append(_ProseLines(block.text, indent=2, items=block.items))
        elif isinstance(block, Eq):
            out.append(_EquationLines(block.parts, block.label, indent=2))
        elif isinstance(block, Table):
            if block.title:
                out.append(Padding(Text(block.title, style="bold"), (0, 0, 0, 2), expand=False))
            multi_line = any("\n" in cell for row in block.rows for cell in row)
            columns = [Column(block.headers[0], "left"), *block.headers[1:]]
            table = FitTable(columns, block.rows, lines=multi_line, split=None, stack="cells")
            out.append(Padding(table, (0, 0, 0, 2), expand=False))
    return out


# --------------------------------------------------------------------------- text layout
#
# An equation too long for the terminal is broken as the other commands break theirs
# (dlvcli.render.expr.wrap, dlvcli.render.bptt): at "=" first, each "= …" under the first
# "="; a part still too long is broken before an operator outside every bracket
# (+ and − before ⊙, · and /), the continuation under the part's first character.  A
# break inside brackets is taken only when no such operator fits; a piece with no
# break point at all stays whole (printed folded, never cut).

_ADDITIVE = ("+", MINUS)
_PRODUCT = ("⊙", "·", "/", "×")
_SEPARATOR = ",   "  # between equations written on one line


def _depth_scan(text: str):
    """(index, bracket depth before the character) for every character of ``text``."""
    depth = 0
    for i, ch in enumerate(text):
        if ch in ")]":
            depth = max(0, depth - 1)
        yield i, depth
        if ch in "([":
            depth += 1


def _split_top(text: str, sep: str) -> list[str]:
    """``text`` split at each ``sep`` that lies outside every bracket (and outside ‖…‖)."""
    pieces, start, norm_open = [], 0, False
    depths = dict(_depth_scan(text))
    i = 0
    while i < len(text):
        if text[i] == "‖":
            norm_open = not norm_open
        if depths[i] == 0 and not norm_open and text.startswith(sep, i) and i >= start:
            pieces.append(text[start:i])
            start = i + len(sep)
            i = start
            continue
        i += 1
    pieces.append(text[start:])
    return pieces


def _operator_breaks(text: str) -> list[tuple[int, int]]:
    """(position of the space before an operator, rank): rank 0 for + and − outside
    brackets, 1 for ⊙ · / × outside brackets, 2 + … inside brackets (the last resort)."""
    out, norm_open = [], False
    for i, depth in _depth_scan(text):
        ch = text[i]
        if ch == "‖":
            norm_open = not norm_open
        if ch != " " or i == 0 or i + 2 >= len(text) or text[i + 2] != " ":
            continue
        op = text[i + 1]
        level = depth + (1 if norm_open else 0)
        if op in _ADDITIVE:
            out.append((i, 2 * level))
        elif op in _PRODUCT:
            out.append((i, 2 * level + 1))
    return out


def break_expression(text: str, width: int, hang: int) -> list[str]:
    """``text`` (one side of an equation) in lines of at most ``width`` columns; lines after
    the first begin with ``hang`` spaces and an operator."""
    from rich.cells import cell_len

    lines: list[str] = []
    prefix, rest = "", text
    while cell_len(prefix) + cell_len(rest) > width:
        room = width - cell_len(prefix)
        breaks = [(rank, pos) for pos, rank in _operator_breaks(rest) if pos > 0]
        if not breaks:
            # a long vector [a, b, …]: after its commas, the items under the first one
            return lines + _break_list(prefix + rest, width)
        fitting = [(rank, pos) for rank, pos in breaks if cell_len(rest[:pos]) <= room]
        if fitting:
            # the best kind of break that fits (outside brackets before inside), the last one
            best = min(rank for rank, _ in fitting)
            cut = max(pos for rank, pos in fitting if rank == best)
        else:
            cut = min(pos for _, pos in breaks)
        lines.append(prefix + rest[:cut])
        rest = rest[cut + 1:]
        prefix = " " * hang
    lines.append(prefix + rest)
    return lines


def _break_list(line: str, width: int) -> list[str]:
    """``line`` broken after the commas of its outermost bracketed list (none: unchanged)."""
    from rich.cells import cell_len

    commas = [(depth, i) for i, depth in _depth_scan(line) if line[i] == "," and line[i + 1:i + 2] == " "]
    if not commas:
        return [line]
    least = min(d for d, _ in commas)
    cuts = [i for d, i in commas if d == least]
    opening = max(i for i, d in _depth_scan(line[:cuts[0]]) if line[i] in "([" and d == least - 1)
    hang = " " * (opening + 1)
    out, start = [], 0
    current_end = None
    for cut in cuts:
        if cell_len(line[start:cut + 1]) + (len(hang) if out else 0) > width and current_end is not None:
            out.append((hang if out else "") + line[start:current_end + 1])
            start = current_end + 2
        current_end = cut
    if current_end is not None and cell_len(line[start:]) + (len(hang) if out else 0) > width:
        out.append((hang if out else "") + line[start:current_end + 1])
        start = current_end + 2
    out.append((hang if out else "") + line[start:])
    return out


def equation_lines(text: str, width: int, indent: int = 0) -> list[str]:
    """One equation ``lhs = a = b = …`` in lines of at most ``width`` columns (where it can)."""
    from rich.cells import cell_len

    lead = " " * indent
    if cell_len(text) + indent <= width:
        return [lead + text]
    parts = _split_top(text, " = ")
    if len(parts) == 1:
        return break_expression(lead + text, width, indent + 4)
    lhs = parts[0]
    column = indent + cell_len(lhs) + 1  # where the first "=" stands
    if column > width // 2:  # a long left-hand side: continue under its start instead
        column = indent + 4
    lines: list[str] = []
    current = f"{lead}{lhs} = {parts[1]}"
    for part in parts[2:]:
        candidate = f"{current} = {part}"
        if cell_len(candidate) <= width:
            current = candidate
        else:
            lines.append(current)
            current = " " * column + "= " + part
    lines.append(current)
    out: list[str] = []
    for k, line in enumerate(lines):
        if cell_len(line) <= width:
            out.append(line)
        elif k == 0:
            out += break_expression(line, width, indent + cell_len(lhs) + 3 if column > indent + 4 else indent + 4)
        else:
            out += break_expression(line, width, column + 2)
    return out


def layout_equations(text: str, width: int, indent: int = 0) -> list[str]:
    """A line of one or more equations (``a = …,   b = …``): as one line when it fits, else
    as many equations per line as fit, each too long one broken by :func:`equation_lines`."""
    from rich.cells import cell_len

    if cell_len(text) + indent <= width:
        return [" " * indent + text]
    equations = _split_top(text, _SEPARATOR)
    out: list[str] = []
    current = ""
    for k, equation in enumerate(equations):
        piece = equation + ("," if k < len(equations) - 1 else "")
        if current and cell_len(current) + len(_SEPARATOR) - 1 + cell_len(piece) + indent <= width:
            current += _SEPARATOR[1:] + piece
            continue
        if current:
            out.append(" " * indent + current)
        current = ""
        if cell_len(piece) + indent <= width:
            current = piece
        else:
            out += equation_lines(piece, width, indent)
    if current:
        out.append(" " * indent + current)
    return out


def wrap_words(text: str, width: int, items: bool = False) -> list[str]:
    """Prose at spaces, never inside a formula (derivation.formula_pieces, the rule of every
    command's prose); ``items``: a list ``a, b, c`` broken after its commas first."""
    from dlvcli.render.derivation import formula_pieces, prose_lines

    width = max(20, width)
    if not items:
        return prose_lines(formula_pieces(text), width) or [""]
    out, current = [], ""
    for k, item in enumerate(text.split(", ")):
        piece = item + ("," if k < text.count(", ") else "")
        if current and len(current) + 1 + len(piece) <= width:
            current += " " + piece
            continue
        if current:
            out.append(current)
        if len(piece) <= width:
            current = piece
        else:
            *whole, current = wrap_words(piece, width)
            out += whole
    if current:
        out.append(current)
    return out


class _EquationLines:
    """An :class:`Eq` laid out to the console's width (a label too long to share the line
    goes on its own line, the equation under it)."""

    def __init__(self, parts: Sequence[str], label: str, indent: int):
        self.text, self.label, self.indent = " = ".join(parts), label, indent

    def lines(self, width: int) -> list[str]:
        from rich.cells import cell_len

        if self.label:
            joined = f"{self.label}: {self.text}"
            if cell_len(joined) + self.indent <= width or not self.text:
                return [" " * self.indent + joined]
            return [" " * self.indent + self.label + ":"] + layout_equations(self.text, width, self.indent + 2)
        return layout_equations(self.text, width, self.indent)

    def __rich_console__(self, console, options):
        from rich.text import Text

        for line in self.lines(options.max_width):
            yield Text(line, no_wrap=True, overflow="fold")  # fold, never crop: nothing may vanish


class _ProseLines:
    """Prose wrapped at spaces under its indent, without trailing spaces."""

    def __init__(self, text: str, indent: int, items: bool = False):
        self.text, self.indent, self.items = text, indent, items

    def __rich_console__(self, console, options):
        from rich.text import Text

        for line in wrap_words(self.text, options.max_width - self.indent, self.items):
            yield Text(" " * self.indent + line, no_wrap=True, overflow="fold")


def _tex_cell(cell: str) -> str:
    if cell in ("", "⋮"):
        return cell if cell else " "
    lines = cell.split("\n")
    if len(lines) == 1:
        return f"${tex(cell)}$"
    rows = [" & ".join(tex(e) for e in line.split()) for line in lines]
    return "$\\begin{bmatrix}" + " \\\\ ".join(rows) + "\\end{bmatrix}$"


def to_markdown_blocks(blocks: Sequence[Any]) -> str:
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            lines += ["", f"### {block.text}", ""]
        elif isinstance(block, Prose):
            lines += [block.text, ""]
        elif isinstance(block, Eq):
            label = f"{block.label}: " if block.label else ""
            lines += [f"{label}$${' = '.join(tex(p) for p in block.parts)}$$", ""]
        elif isinstance(block, Table):
            if block.title:
                lines += [f"**{block.title}**", ""]
            lines.append("| " + " | ".join(h if h in PLAIN_HEADERS else f"${tex(h)}$" for h in block.headers) + " |")
            lines.append("|" + "|".join(" --- " for _ in block.headers) + "|")
            for row in block.rows:
                first = row[0] if row[0] in ("", "⋮", "Σ") or row[0].isdigit() or row[0] in GATE_WORDS else _tex_cell(row[0])
                cells = [first or " "] + [_tex_cell(c) for c in row[1:]]
                lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
            lines.append("")
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(lines)


GATE_WORDS = ("i", "f", "g", "o", "r", "z", "n", "a", "V", "c", "U", "W", "b", "bh")
PLAIN_HEADERS = ("", "t", "d", "gate", "parameter", "value", "rel. error", "abs. error", "entries", "lstm cell",
                 "rnn-tanh", "rnn-relu", "lstm", "gru")


def _vector_cell(n: Num, v, detail: bool) -> str:
    """A vector as a column of its entries (small hidden sizes), else its norm."""
    v = np.ravel(v)
    return n.block(v) if detail else n(float(np.linalg.norm(v)))


def _per_t_table(title: str, headers, shown, cells) -> Table:
    """Rows ``t, *cells(t − 1)`` for each shown t, a row of ⋮ for the left-out middle."""
    rows = tuple(("⋮",) * len(headers) if t is None else (str(t), *cells(t - 1)) for t in shown)
    return Table(title, tuple(headers), rows)


# --------------------------------------------------------------------------- a cell run


GATE_FORMULAS = {
    "i": ("σ", "i"), "f": ("σ", "f"), "g": ("tanh", "g"), "o": ("σ", "o"), "r": ("σ", "r"), "z": ("σ", "z"), "n": ("tanh", "n"),
}
CELL_TITLES = {"rnn-tanh": "tanh RNN", "rnn-relu": "ReLU RNN", "lstm": "LSTM", "gru": "GRU"}
TORCH_NAMES = {"rnn": "torch.nn.RNN", "lstm": "torch.nn.LSTM", "gru": "torch.nn.GRU"}


@dataclass(frozen=True)
class CellView:
    """Renders a :class:`~dlvcli.core.rnn_cells.CellBpttResult`."""

    full: bool = False

    # ----------------------------------------------------------------- JSON
    def to_json(self, result, settings: OutputSettings) -> dict:
        model, fwd, back = result.model, result.forward, result.backward
        H = model.hidden_size
        scalar_h = model.shapes["W"] == ()
        x_scalar = len(result.sequence_shapes["x"]) == 1
        out_scalar = model.output_size == 1 and len(model.shapes["V"]) < 2
        y_scalar = model.loss == "softmax-ce" or len(result.sequence_shapes["y"]) == 1

        def hid(v):
            return float(v[0]) if scalar_h else v

        rows = []
        for i in range(fwd.T):
            row: dict[str, Any] = {"t": i + 1, "x": float(fwd.x[i, 0]) if x_scalar else fwd.x[i]}
            if model.cell == "rnn":
                row["a"] = hid(fwd.pre[i])
            else:
                for name in model.gates:
                    row[name] = fwd.gates[name][i]
                if model.cell == "lstm":
                    row["c"] = fwd.c[i]
            row["h"] = hid(fwd.h[i])
            row["y_hat"] = float(fwd.y_hat[i, 0]) if out_scalar else fwd.y_hat[i]
            row["y"] = int(fwd.y[i]) if model.loss == "softmax-ce" else (float(fwd.y[i, 0]) if y_scalar else fwd.y[i])
            row["loss"] = float(fwd.losses[i])
            rows.append(row)
        backward = []
        for i in range(fwd.T):
            item: dict[str, Any] = {"t": i + 1, "dE_dh_local": hid(back.local[i]), "dh": hid(back.dh[i])}
            if back.dc is not None:
                item["dc"] = back.dc[i]
            item["d_pre"] = {name: back.dp[i, model.gate_rows(name)] for name in model.gates} if model.cell != "rnn" \
                else hid(back.dp[i])
            if model.cell == "gru":
                item["d_q_n"] = back.dq[i, model.gate_rows("n")]
            item["dU"] = model.as_given("U", np.outer(back.dp[i], fwd.x[i]))
            item["dW"] = model.as_given("W", np.outer(back.dq[i], fwd.h_prev[i]))
            backward.append(item)
        payload: dict[str, Any] = {
            "T": fwd.T,
            "cell": model.cell,
            "activation": model.activation if model.cell == "rnn" else None,
            "loss": result.loss,
            "forward": rows,
            "grads": dict(result.grads),
            "backward": backward,
        }
        if result.clipping is not None:
            clip = result.clipping
            payload["clipped"] = {"norm_before": clip.norm_before, "norm_after": clip.norm_after, "scale": clip.scale,
                                  "max_norm": clip.max_norm}
            payload["grads_unclipped"] = {n: model.as_given(n, g) for n, g in result.grads_unclipped.items()}
        if result.jacobian_norms is not None:
            payload["jacobian_norms"] = result.jacobian_norms
            if result.cell_norms is not None:
                payload["cell_norms"] = result.cell_norms
        if result.gradient_check is not None:
            check = result.gradient_check
            body = {
                "max_rel_error": check.max_rel_error, "per_param": dict(check.per_param),
                "max_abs_error": dict(check.max_abs_error), "entries_checked": dict(check.entries_checked),
                "entries": dict(check.entries), "epsilon": check.epsilon,
                "loss_checked": "truncated" if check.truncated else "full",
            }
            if check.entries_checked == check.entries:
                body["numeric"] = {n: model.as_given(n, v) for n, v in check.numeric.items()}
            payload["gradient_check"] = body
        return _clean(payload)

    # ----------------------------------------------------------------- blocks
    def blocks(self, result, settings: OutputSettings) -> list:
        n = Num(settings.digits)
        model, fwd, back = result.model, result.forward, result.backward
        T, H, I, O = fwd.T, model.hidden_size, model.input_size, model.output_size
        detail = H <= DETAIL_H
        out: list = []
        label = model.label
        mode = "full BPTT" if result.truncate is None or result.truncate >= T else f"truncated BPTT (window K = {result.truncate})"
        out.append(Heading(f"Backpropagation through time: {CELL_TITLES[label]} ({TORCH_NAMES[model.cell]} layout)"))
        out.append(Prose(f"input size {I}, hidden size {H}, output size {O}, sequence length {T}, loss {model.loss}, {mode}",
                         items=True))
        out += self._equations(model)
        out += self._parameters(model, n)

        # forward
        out.append(Heading("Forward pass"))
        worked = self._worked_steps(T)
        for t in worked["forward"]:
            out += self._forward_step(model, fwd, t, n, detail)
        out += self._forward_tables(model, fwd, n, detail)
        if T <= 8:
            out.append(eq("E = " + " + ".join(f"E{subscript(t)}" for t in range(1, T + 1)),
                          " + ".join(n(v) for v in fwd.losses), n(result.loss)))
        else:
            out.append(eq("E = Σ_t E_t", n(result.loss)))

        # backward
        out.append(Heading("Backward pass, gate by gate"))
        out += self._backward_intro(model, result.truncate, T)
        for t in worked["backward"]:
            out += self._backward_step(model, fwd, back, t, n, detail, result.truncate)
        out += self._backward_tables(model, fwd, back, n, detail)
        out += self._contributions(model, fwd, back, n)
        out += self._totals(model, result.grads_unclipped, n, "Totals")
        if result.clipping is not None:
            out += clipping_blocks(result.clipping, n)
            out += self._totals(model, {k: np.reshape(v, np.shape(result.grads_unclipped[k]))
                                        for k, v in result.grads.items()}, n, "Clipped gradients")
        if result.gradient_check is not None:
            out += check_blocks(result.gradient_check, n)
        return out

    def _worked_steps(self, T: int) -> dict[str, list[int]]:
        if self.full or T <= WORKED_ALL_T:
            return {"forward": list(range(1, T + 1)), "backward": list(range(T, 0, -1))}
        return {"forward": [1, 2], "backward": [T, T - 1]}

    @staticmethod
    def _equations(model) -> list:
        b = " + b" if model.b is not None else ""
        bh = " + bh" if model.bh is not None else ""
        out = [Heading("Model")]
        if model.cell == "rnn":
            act = "tanh" if model.activation == "tanh" else "relu"
            out.append(eq(f"a_t = U x_t + W h_(t−1){b}{bh}"))
            out.append(eq(f"h_t = {act}(a_t)"))
        elif model.cell == "lstm":
            out.append(eq(f"[a_i, a_f, a_g, a_o] = U x_t + W h_(t−1){b}{bh}"))
            out.append(eq("i_t = σ(a_i),   f_t = σ(a_f),   g_t = tanh(a_g),   o_t = σ(a_o)"))
            out.append(eq("c_t = f_t ⊙ c_(t−1) + i_t ⊙ g_t,   h_t = o_t ⊙ tanh(c_t)"))
        else:
            out.append(eq(f"[p_r, p_z, p_n] = U x_t{b},   [q_r, q_z, q_n] = W h_(t−1){bh}"))
            out.append(eq("r_t = σ(p_r + q_r),   z_t = σ(p_z + q_z),   n_t = tanh(p_n + r_t ⊙ q_n)"))
            out.append(eq("h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_(t−1)"))
        c = " + c" if model.c is not None else ""
        if model.loss == "half-sse":
            out.append(eq(f"ŷ_t = V h_t{c},   E_t = ½‖ŷ_t − y_t‖²,   E = Σ_t E_t"))
        else:
            out.append(eq(f"ŷ_t = softmax(V h_t{c}),   E_t = −log ŷ_t[y_t],   E = Σ_t E_t"))
        if model.cell != "rnn":
            out.append(Prose(f"U and W stack the gates' rows in the order {', '.join(model.gates)} "
                             f"({len(model.gates)}H = {len(model.gates) * model.hidden_size} rows)."))
        return out

    @staticmethod
    def _parameters(model, n: Num) -> list:
        H, I = model.hidden_size, model.input_size
        out: list = []
        if H > 4 or I > 4:
            out.append(Prose(f"Parameters: U {model.U.shape[0]}×{I}, W {model.W.shape[0]}×{H}, V {model.V.shape[0]}×{H} "
                             "(too large to print here; JSON inputs carry them)."))
            return out
        headers = ["gate", "U", "W"] + [name for name in ("b", "bh") if getattr(model, name) is not None]
        rows = []
        for gate in model.gates:
            rows_of = model.gate_rows(gate)
            cells = [gate, n.block(model.U[rows_of]), n.block(model.W[rows_of])]
            for name in ("b", "bh"):
                value = getattr(model, name)
                if value is not None:
                    cells.append(n.block(value[rows_of]))
            rows.append(tuple(cells))
        out.append(Table("Parameters", tuple(headers), tuple(rows)))
        rest = [eq(f"V = {n.pv(model.V.ravel() if model.V.shape[0] == 1 else model.V[0])}")] if model.V.shape[0] == 1 else []
        if model.V.shape[0] > 1:
            out.append(Table("", ("", "V") + (("c",) if model.c is not None else ()),
                             (("",) + (n.block(model.V),) + ((n.block(model.c),) if model.c is not None else ()),)))
        else:
            out += rest
            if model.c is not None:
                out.append(eq(f"c = {n(model.c[0])}"))
        state = f"h₀ = {n.pv(model.h0)}"
        if model.c0 is not None:
            state += f",   c₀ = {n.pv(model.c0)}"
        out.append(eq(state))
        return out

    @staticmethod
    def _forward_step(model, fwd, t: int, n: Num, detail: bool) -> list:
        i = t - 1
        s, sp = subscript(t), subscript(t - 1)
        out: list = [Prose(f"Step {t}")]
        if not detail:
            return out + [Prose("hidden size above 8: the vectors are in the JSON output; the tables show norms")]
        pre = fwd.pre[i]
        if model.cell == "rnn":
            act = "tanh" if model.activation == "tanh" else "relu"
            out.append(eq(f"a{s} = U x{s} + W h{sp}" + (" + b" if model.b is not None else "") + (" + bh" if model.bh is not None else ""),
                          n.vec(pre)))
            out.append(eq(f"h{s} = {act}(a{s})", f"{act}({n.vec(pre)})", n.vec(fwd.h[i])))
        else:
            b, bh = (" + b" if model.b is not None else ""), (" + bh" if model.bh is not None else "")
            if model.U.shape[1] == 1 and model.W.shape[1] == 1:
                # a scalar input and hidden state: a line per gate with its numbers put in
                x_t, h_prev = fwd.x[i, 0], fwd.h_prev[i, 0]
                for k, gate in enumerate(model.gates):
                    # each number where its symbol stands: U_k x_t + W_k h_(t−1) + b_k (+ bh_k)
                    ux = f"{n.p(model.U[k, 0])} · {n.p(x_t)}"
                    wh = f"{n.p(model.W[k, 0])} · {n.p(h_prev)}"
                    bias = f" + {n.p(model.b[k])}" if b else ""
                    bias_h = f" + {n.p(model.bh[k])}" if bh else ""
                    b_k, bh_k = (f" + b_{gate}" if b else ""), (f" + bh_{gate}" if bh else "")
                    if model.cell == "lstm":
                        out.append(eq(f"a_{gate} = U_{gate} x{s} + W_{gate} h{sp}{b_k}{bh_k}",
                                      f"{ux} + {wh}{bias}{bias_h}", n(fwd.p[i, k] + fwd.q[i, k])))
                    else:
                        out.append(eq(f"p_{gate} = U_{gate} x{s}{b_k}", ux + bias, n(fwd.p[i, k])))
                        out.append(eq(f"q_{gate} = W_{gate} h{sp}{bh_k}", wh + bias_h, n(fwd.q[i, k])))
            elif model.cell == "lstm":
                out.append(eq(f"[a_i, a_f, a_g, a_o] = U x{s} + W h{sp}{b}{bh}", n.vec(fwd.p[i] + fwd.q[i])))
            else:
                out.append(eq(f"[p_r, p_z, p_n] = U x{s}{b}", n.vec(fwd.p[i])))
                out.append(eq(f"[q_r, q_z, q_n] = W h{sp}{bh}", n.vec(fwd.q[i])))
            for gate in model.gates:
                fn, _ = GATE_FORMULAS[gate]
                rows = model.gate_rows(gate)
                if model.cell == "gru" and gate == "n":
                    qn = fwd.q[i, rows]
                    inner = f"p_n + r{s} ⊙ q_n"
                    numbers = f"{n.pv(fwd.p[i, rows])} + {n.pv(fwd.gates['r'][i])} ⊙ {n.pv(qn)}"
                    out.append(eq(f"n{s} = tanh({inner})", f"tanh({numbers})", f"tanh({n.vec(pre[rows])})",
                                  n.vec(fwd.gates['n'][i])))
                    continue
                if model.cell == "lstm":
                    out.append(eq(f"{gate}{s} = {fn}(a_{gate})", f"{fn}({n.vec(pre[rows])})", n.vec(fwd.gates[gate][i])))
                else:
                    out.append(eq(f"{gate}{s} = {fn}(p_{gate} + q_{gate})",
                                  f"{fn}({n.pv(fwd.p[i, rows])} + {n.pv(fwd.q[i, rows])})",
                                  f"{fn}({n.vec(pre[rows])})", n.vec(fwd.gates[gate][i])))
            if model.cell == "lstm":
                g = fwd.gates
                out.append(eq(f"c{s} = f{s} ⊙ c{sp} + i{s} ⊙ g{s}",
                              f"{n.pv(g['f'][i])} ⊙ {n.pv(fwd.c_prev[i])} + {n.pv(g['i'][i])} ⊙ {n.pv(g['g'][i])}",
                              n.vec(fwd.c[i])))
                out.append(eq(f"h{s} = o{s} ⊙ tanh(c{s})", f"{n.pv(g['o'][i])} ⊙ tanh({n.vec(fwd.c[i])})", n.vec(fwd.h[i])))
            else:
                g = fwd.gates
                out.append(eq(f"h{s} = (1 − z{s}) ⊙ n{s} + z{s} ⊙ h{sp}",
                              f"(1 − {n.pv(g['z'][i])}) ⊙ {n.pv(g['n'][i])} + {n.pv(g['z'][i])} ⊙ {n.pv(fwd.h_prev[i])}",
                              n.vec(fwd.h[i])))
        c = " + c" if model.c is not None else ""
        # a scalar hidden state and output: the numbers put into V h (+ c) too
        product = (f"{n.pv(model.V[0, 0])} · {n.pv(fwd.h[i])}" + (f" + {n.pv(model.c[0])}" if model.c is not None else "")
                   if model.V.shape == (1, 1) else "")
        if model.loss == "half-sse":
            out.append(eq(f"ŷ{s} = V h{s}{c}", product, n.vec(fwd.z[i])))
            out.append(eq(f"E{s} = ½‖ŷ{s} − y{s}‖²", f"½‖{n.pv(fwd.y_hat[i])} − {n.pv(fwd.target[i])}‖²",
                          n(fwd.losses[i])))
        else:
            out.append(eq(f"V h{s}{c}", product, n.vec(fwd.z[i])))
            out.append(eq(f"ŷ{s} = softmax(V h{s}{c})", f"softmax({n.vec(fwd.z[i])})", n.vec(fwd.y_hat[i])))
            k = int(fwd.y[i])
            out.append(eq(f"E{s} = −log ŷ{s}[{k}]", f"−log {n(fwd.y_hat[i, k])}", n(fwd.losses[i])))
        return out

    def _forward_tables(self, model, fwd, n: Num, detail: bool) -> list:
        shown = shown_rows(fwd.T, self.full, first=1)

        def cell(v):
            return _vector_cell(n, v, detail)

        def mean(v):
            return n.block(v) if detail else n(float(np.mean(v)))

        def gate_cells(i):
            x = n.block(fwd.x[i]) if detail else n(float(np.linalg.norm(fwd.x[i])))
            return [x, cell(fwd.pre[i])] if model.cell == "rnn" else [x] + [mean(fwd.gates[g][i]) for g in model.gates]

        def state_cells(i):
            cells = ([cell(fwd.c[i])] if model.cell == "lstm" else []) + [cell(fwd.h[i]), cell(fwd.y_hat[i])]
            if detail:
                cells.append(str(int(fwd.y[i])) if model.loss == "softmax-ce" else n.block(fwd.y[i]))
            return cells + [n(fwd.losses[i])]

        gate_headers = ["t", "x_t"] + ([f"a_t" if model.cell == "rnn" else f"{g}_t" for g in model.gates] if detail
                                       else ["‖a_t‖"] if model.cell == "rnn" else [f"mean {g}_t" for g in model.gates])
        state_headers = ["t"] + (["c_t"] if model.cell == "lstm" else []) + ["h_t", "ŷ_t", "y_t", "E_t"]
        if not detail:
            state_headers = ["t"] + (["‖c_t‖"] if model.cell == "lstm" else []) + ["‖h_t‖", "‖ŷ_t‖", "E_t"]
        return [_per_t_table("Gates" if model.cell != "rnn" else "Pre-activations", gate_headers, shown, gate_cells),
                _per_t_table("States and losses", state_headers, shown, state_cells)]

    @staticmethod
    def _backward_intro(model, truncate, T) -> list:
        out = [eq("∂E_t/∂h_t = Vᵀ(ŷ_t − y_t)", label="each step's own error")]
        if model.cell == "rnn":
            slope = "(1 − h_t²)" if model.activation == "tanh" else "[a_t > 0]"
            out.append(eq("δh_t = ∂E_t/∂h_t + Wᵀ δa_(t+1)"))
            out.append(eq(f"δa_t = δh_t ⊙ {slope}"))
        elif model.cell == "lstm":
            out.append(eq("δh_t = ∂E_t/∂h_t + Wᵀ δa_(t+1)"))
            out.append(eq("δc_t = δh_t ⊙ o_t ⊙ (1 − tanh²(c_t)) + δc_(t+1) ⊙ f_(t+1)", label="carried through the forget gate"))
            out.append(eq("δa_i = δc_t ⊙ g_t ⊙ i_t(1 − i_t),   δa_f = δc_t ⊙ c_(t−1) ⊙ f_t(1 − f_t)"))
            out.append(eq("δa_g = δc_t ⊙ i_t ⊙ (1 − g_t²),   δa_o = δh_t ⊙ tanh(c_t) ⊙ o_t(1 − o_t)"))
        else:
            out.append(eq("δh_t = ∂E_t/∂h_t + Wᵀ δq_(t+1) + δh_(t+1) ⊙ z_(t+1)"))
            out.append(eq("δp_n = δh_t ⊙ (1 − z_t) ⊙ (1 − n_t²),   δq_n = δp_n ⊙ r_t"))
            out.append(eq("δp_z = δq_z = δh_t ⊙ (h_(t−1) − n_t) ⊙ z_t(1 − z_t)"))
            out.append(eq("δp_r = δq_r = δp_n ⊙ q_n ⊙ r_t(1 − r_t)"))
        drive = "δa_t" if model.cell != "gru" else "δp_t"
        rec = "δa_t" if model.cell != "gru" else "δq_t"
        out.append(eq(f"ΔU_t = {drive} x_tᵀ,   ΔW_t = {rec} h_(t−1)ᵀ", label="step t's contribution"))
        out.append(eq("∂E/∂U = Σ_t ΔU_t,   ∂E/∂W = Σ_t ΔW_t"))
        if truncate is not None and truncate < T:
            out.append(Prose(f"Truncated (K = {truncate}): each E_t sends its signal back through at most {truncate} steps; "
                             "δh, δc and the gate gradients below are the sums over the windows that contain step t."))
        return out

    @staticmethod
    def _backward_step(model, fwd, back, t: int, n: Num, detail: bool, truncate) -> list:
        i, T = t - 1, fwd.T
        s, sn, sp = subscript(t), subscript(t + 1), subscript(t - 1)
        out: list = [Prose(f"Step {t}")]
        if not detail:
            return out
        full = truncate is None or truncate >= T
        out.append(eq(f"∂E{s}/∂h{s} = Vᵀ(ŷ{s} − y{s})", n.vec(back.local[i])))
        if full:
            if t == T:
                out.append(eq(f"δh{s} = ∂E{s}/∂h{s}", n.vec(back.dh[i])))
            else:
                if model.cell == "gru":
                    # a number for each of the three terms: Wᵀ δq_(t+1), then δh_(t+1) ⊙ z_(t+1) as a product
                    recurrent = back.dq[i + 1] @ model.W
                    out.append(eq(f"δh{s} = ∂E{s}/∂h{s} + Wᵀ δq{sn} + δh{sn} ⊙ z{sn}",
                                  f"{n.pv(back.local[i])} + {n.pv(recurrent)} + {n.pv(back.dh[i + 1])} ⊙ "
                                  f"{n.pv(fwd.gates['z'][i + 1])}", n.vec(back.dh[i])))
                else:
                    carried = back.dh[i] - back.local[i]
                    out.append(eq(f"δh{s} = ∂E{s}/∂h{s} + Wᵀ δa{sn}",
                                  f"{n.pv(back.local[i])} + {n.pv(carried)}", n.vec(back.dh[i])))
        else:
            out.append(eq(f"δh{s}", n.vec(back.dh[i]), label="summed over the windows"))
        g = fwd.gates
        if model.cell == "rnn":
            slope = (1 - fwd.h[i] ** 2) if model.activation == "tanh" else (fwd.pre[i] > 0).astype(float)
            factor = f"(1 − h{s}²)" if model.activation == "tanh" else f"[a{s} > 0]"
            out.append(eq(f"δa{s} = δh{s} ⊙ {factor}", f"{n.pv(back.dh[i])} ⊙ {n.pv(slope)}", n.vec(back.dp[i])))
        elif model.cell == "lstm":
            # c_t itself is put into tanh (the value the forward pass shows), not tanh(c_t)
            tanh_c = f"tanh({n.vec(fwd.c[i])})"
            if full:
                if t == T:
                    out.append(eq(f"δc{s} = δh{s} ⊙ o{s} ⊙ (1 − tanh²(c{s}))",
                                  f"{n.pv(back.dh[i])} ⊙ {n.pv(g['o'][i])} ⊙ (1 − tanh²({n.vec(fwd.c[i])}))",
                                  n.vec(back.dc[i])))
                else:
                    out.append(eq(f"δc{s} = δh{s} ⊙ o{s} ⊙ (1 − tanh²(c{s})) + δc{sn} ⊙ f{sn}",
                                  f"{n.pv(back.dh[i])} ⊙ {n.pv(g['o'][i])} ⊙ (1 − tanh²({n.vec(fwd.c[i])})) + "
                                  f"{n.pv(back.dc[i + 1])} ⊙ {n.pv(g['f'][i + 1])}", n.vec(back.dc[i])))
            else:
                out.append(eq(f"δc{s}", n.vec(back.dc[i]), label="summed over the windows"))
            rows = {k: model.gate_rows(k) for k in model.gates}
            dc = back.dc[i]
            if full:
                out.append(eq(f"δa_i = δc{s} ⊙ g{s} ⊙ i{s}(1 − i{s})",
                              f"{n.pv(dc)} ⊙ {n.pv(g['g'][i])} ⊙ {n.pv(g['i'][i])}(1 − {n.pv(g['i'][i])})",
                              n.vec(back.dp[i, rows['i']])))
                out.append(eq(f"δa_f = δc{s} ⊙ c{sp} ⊙ f{s}(1 − f{s})",
                              f"{n.pv(dc)} ⊙ {n.pv(fwd.c_prev[i])} ⊙ {n.pv(g['f'][i])}(1 − {n.pv(g['f'][i])})",
                              n.vec(back.dp[i, rows['f']])))
                out.append(eq(f"δa_g = δc{s} ⊙ i{s} ⊙ (1 − g{s}²)",
                              f"{n.pv(dc)} ⊙ {n.pv(g['i'][i])} ⊙ (1 − {n.pv(g['g'][i])}²)", n.vec(back.dp[i, rows['g']])))
                out.append(eq(f"δa_o = δh{s} ⊙ tanh(c{s}) ⊙ o{s}(1 − o{s})",
                              f"{n.pv(back.dh[i])} ⊙ {tanh_c} ⊙ {n.pv(g['o'][i])}(1 − {n.pv(g['o'][i])})",
                              n.vec(back.dp[i, rows['o']])))
            else:
                for k in model.gates:
                    out.append(eq(f"δa_{k}", n.vec(back.dp[i, rows[k]]), label="summed over the windows"))
        else:
            rows = {k: model.gate_rows(k) for k in model.gates}
            if full:
                out.append(eq(f"δp_n = δh{s} ⊙ (1 − z{s}) ⊙ (1 − n{s}²)",
                              f"{n.pv(back.dh[i])} ⊙ (1 − {n.pv(g['z'][i])}) ⊙ (1 − {n.pv(g['n'][i])}²)",
                              n.vec(back.dp[i, rows['n']])))
                out.append(eq(f"δq_n = δp_n ⊙ r{s}", f"{n.pv(back.dp[i, rows['n']])} ⊙ {n.pv(g['r'][i])}",
                              n.vec(back.dq[i, rows['n']])))
                out.append(eq(f"δp_z = δh{s} ⊙ (h{sp} − n{s}) ⊙ z{s}(1 − z{s})",
                              f"{n.pv(back.dh[i])} ⊙ ({n.pv(fwd.h_prev[i])} − {n.pv(g['n'][i])}) ⊙ "
                              f"{n.pv(g['z'][i])}(1 − {n.pv(g['z'][i])})", n.vec(back.dp[i, rows['z']])))
                out.append(eq(f"δp_r = δp_n ⊙ q_n ⊙ r{s}(1 − r{s})",
                              f"{n.pv(back.dp[i, rows['n']])} ⊙ {n.pv(fwd.q[i, rows['n']])} ⊙ "
                              f"{n.pv(g['r'][i])}(1 − {n.pv(g['r'][i])})", n.vec(back.dp[i, rows['r']])))
            else:
                for k in model.gates:
                    out.append(eq(f"δp_{k}", n.vec(back.dp[i, rows[k]]), label="summed over the windows"))
                out.append(eq("δq_n", n.vec(back.dq[i, rows["n"]]), label="summed over the windows"))
        return out

    def _backward_tables(self, model, fwd, back, n: Num, detail: bool) -> list:
        shown = shown_rows(fwd.T, self.full, first=1)

        def cell(v):
            return _vector_cell(n, v, detail)

        def signal_cells(i):
            extra = back.dc if model.cell == "lstm" else back.dp if model.cell == "rnn" else None
            return [cell(back.local[i]), cell(back.dh[i])] + ([cell(extra[i])] if extra is not None else [])

        def gate_cells(i):
            cells = [cell(back.dp[i, model.gate_rows(k)]) for k in model.gates]
            return cells + ([cell(back.dq[i, model.gate_rows("n")])] if model.cell == "gru" else [])

        wrap = (lambda s: s) if detail else (lambda s: f"‖{s}‖")
        headers = ["t", wrap("∂E_t/∂h_t"), wrap("δh_t")] + ([wrap("δc_t")] if model.cell == "lstm" else [])
        if model.cell == "rnn":
            headers.append(wrap("δa_t"))
        out = [_per_t_table("Error signals", headers, shown, signal_cells)]
        if model.cell == "rnn":
            return out
        prefix = "δa" if model.cell == "lstm" else "δp"
        headers = ["t"] + [wrap(f"{prefix}_{k}") for k in model.gates] + ([wrap("δq_n")] if model.cell == "gru" else [])
        out.append(_per_t_table("Gradients of the gates' pre-activations", headers, shown, gate_cells))
        return out

    def _contributions(self, model, fwd, back, n: Num) -> list:
        shown = shown_rows(fwd.T, self.full, first=1)
        GH, I, H = model.U.shape[0], model.input_size, model.hidden_size
        as_matrix = GH * H <= MATRIX_ENTRIES and GH * I <= MATRIX_ENTRIES
        headers = ("t", "ΔU_t", "ΔW_t") if as_matrix else ("t", "‖ΔU_t‖", "‖ΔW_t‖")

        def cells(i):
            dU, dW = np.outer(back.dp[i], fwd.x[i]), np.outer(back.dq[i], fwd.h_prev[i])
            return [n.block(dU), n.block(dW)] if as_matrix else [n(float(np.linalg.norm(dU))), n(float(np.linalg.norm(dW)))]

        title = "Each step's contribution to ∂E/∂U and ∂E/∂W" + ("" if as_matrix else " (Frobenius norms)")
        return [_per_t_table(title, headers, shown, cells)]

    @staticmethod
    def _totals(model, grads: dict, n: Num, title: str) -> list:
        H, I = model.hidden_size, model.input_size
        out: list = []
        gated = [k for k in ("U", "W", "b", "bh") if k in grads]
        if model.U.shape[0] * max(H, I) <= 4 * MATRIX_ENTRIES:
            rows = []
            for gate in model.gates:
                r = model.gate_rows(gate)
                rows.append((gate,) + tuple(n.block(np.asarray(grads[k]).reshape(model.U.shape[0], -1)[r]
                                                    if k in ("U", "W") else np.ravel(grads[k])[r]) for k in gated))
            out.append(Table(title, ("gate",) + tuple(f"∂E/∂{k}" for k in gated), tuple(rows)))
        else:
            rows = tuple((k, n(float(np.linalg.norm(grads[k])))) for k in gated)
            out.append(Table(f"{title} (Frobenius norms; the JSON has every entry)", ("parameter", "‖∂E/∂θ‖"), rows))
        rest = [k for k in ("V", "c") if k in grads]
        if rest:
            out.append(Table("", ("parameter", "value"), tuple((f"∂E/∂{k}", n.block(np.asarray(grads[k]))) for k in rest)
                             if np.size(grads["V"]) <= MATRIX_ENTRIES else
                             tuple((f"‖∂E/∂{k}‖", n(float(np.linalg.norm(grads[k])))) for k in rest)))
        return out

    # ----------------------------------------------------------------- printers
    def to_rich(self, result, settings: OutputSettings) -> list:
        return to_rich_blocks(self.blocks(result, settings))

    def to_markdown(self, result, settings: OutputSettings) -> str:
        return to_markdown_blocks(self.blocks(result, settings))

    def draw(self, result, figure) -> None:
        ax = figure.add_subplot(1, 1, 1)
        d = np.arange(result.T)
        _log_line(ax, d, result.jacobian_norms, f"‖∂h_T/∂h_(T−d)‖ ({result.model.label})", "C0")
        if result.cell_norms is not None:
            _log_line(ax, d, result.cell_norms, "‖∂c_T/∂c_(T−d)‖ (cell path)", "C1")
        ax.set_yscale("log")
        _distance_axis(ax, "distance d")
        ax.set_ylabel("spectral norm")
        ax.set_title(f"How far back the gradient reaches: {result.model.label}, T = {result.T}")
        ax.legend()
        ax.grid(True, which="both", alpha=0.3)


def _distance_axis(ax, label: str) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.set_xlabel(label)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # d is a whole number of steps


def _log_line(ax, d, values, label, color) -> None:
    values = np.asarray(values, dtype=float)
    keep = np.isfinite(values) & (values > 0)
    zeros = np.flatnonzero(values == 0)
    if zeros.size:  # a log axis cannot show 0: say where the line stops and why
        label += f" (exactly 0 from d = {int(d[zeros[0]])})"
    ax.plot(d[keep], values[keep], "o-" if len(d) <= 60 else "-", ms=3, color=color, label=label)


def clipping_blocks(clip, n: Num) -> list:
    out = [Heading(f"Gradient clipping by global norm (NORM = {n(clip.max_norm)})")]
    out.append(eq("‖g‖ = √(Σ_θ ‖∂E/∂θ‖²)", n(clip.norm_before)))
    if clip.scale == 1.0:
        out.append(eq("scale = min(1, NORM / ‖g‖)", f"min(1, {n(clip.max_norm)} / {n(clip.norm_before)})", "1"))
        out.append(Prose("The norm is within the limit: the gradients are unchanged."))
    else:
        out.append(eq("scale = min(1, NORM / ‖g‖)", f"{n(clip.max_norm)} / {n(clip.norm_before)}", n(clip.scale)))
        out.append(eq("g ← scale · g,   ‖g‖ after", n(clip.norm_after)))
    return out


def check_blocks(check, n: Num) -> list:
    rows = tuple((name, n(err), n(check.max_abs_error[name]), f"{check.entries_checked[name]} of {check.entries[name]}")
                 for name, err in check.per_param.items())
    return [
        Heading("Finite-difference check"),
        Prose(f"central differences with step ε·max(1, |θ|), ε = {n(check.epsilon)}"
              + ("; the loss checked is the truncated (stop-gradient) one" if check.truncated else "")),
        Table("", ("parameter", "rel. error", "abs. error", "entries"), rows),
        eq("max relative error", n(check.max_rel_error)),
    ]


# --------------------------------------------------------------------------- --clip on the tanh RNN


@dataclass(frozen=True)
class ClippedView:
    """Wraps the tanh RNN's view: JSON ``grads`` become the clipped ones and ``clipped``
    is added; text and Markdown gain the clipping step and the clipped gradients."""

    inner: Any
    clipping: Any
    clipped: dict

    def to_json(self, result, settings):
        payload = self.inner.to_json(result, settings)
        payload["grads_unclipped"] = payload.get("grads")
        payload["grads"] = {k: np.asarray(v).tolist() if np.ndim(v) else float(v) for k, v in self.clipped.items()}
        c = self.clipping
        payload["clipped"] = {"norm_before": c.norm_before, "norm_after": c.norm_after, "scale": c.scale, "max_norm": c.max_norm}
        return payload

    def _blocks(self, settings) -> list:
        n = Num(settings.digits)
        rows = tuple((f"∂E/∂{k}", n.block(np.asarray(v))) for k, v in self.clipped.items())
        return clipping_blocks(self.clipping, n) + [Table("Clipped gradients", ("parameter", "value"), rows)]

    def to_rich(self, result, settings):
        return list(self.inner.to_rich(result, settings)) + to_rich_blocks(self._blocks(settings), leading_blank=True)

    def to_markdown(self, result, settings):
        return self.inner.to_markdown(result, settings).rstrip() + "\n\n" + to_markdown_blocks(self._blocks(settings))

    def draw(self, result, figure):
        self.inner.draw(result, figure)


# --------------------------------------------------------------------------- --compare-cells


def describe(cell, T: int, threshold: float, n: Num, reference=None) -> str:
    """One sentence on what the norms of one cell show, from the numbers themselves."""
    norms = cell.jacobian_norms
    last = float(norms[-1])
    d_last = T - 1
    if T == 1:
        return f"{cell.label}: with T = 1 there is no earlier step to reach."
    trend = (f"falls to {n(last)} at d = {d_last}" if last < 1 else f"grows to {n(last)} at d = {d_last}")
    rate = f"about {n(cell.per_step_factor)}× per step"
    if last == 0:
        # every unit blocked (ReLU): a per-step factor of 0× says nothing a reader can use
        first_zero = next(d for d, v in enumerate(norms) if float(v) == 0)
        trend, rate = f"is exactly 0 from d = {first_zero} on", "no gradient path left"
    if cell.distance_below is not None:
        verdict = f"it vanishes (below {n(threshold)} from d = {cell.distance_below})"
    elif cell.distance_above is not None:
        verdict = f"it explodes (above {n(1 / threshold)} from d = {cell.distance_above})"
    elif last < 1:
        verdict = f"it shrinks but stays above {n(threshold)} within T"
    else:
        verdict = "it neither vanishes nor explodes within T"
    if cell.label == "rnn-tanh":
        why = f"σ_max(W) = {n(cell.sigma_max_W)} times a mean tanh slope 1 − h² of {n(cell.mean_slope)}"
    elif cell.label == "rnn-relu":
        why = (f"σ_max(W) = {n(cell.sigma_max_W)} with {100 * cell.active_share:.1f}% of the units active "
               "(ReLU passes the gradient unchanged where a > 0 and blocks it elsewhere)")
    elif cell.label == "lstm":
        cell_last = float(cell.cell_norms[-1])
        compare = "more slowly than" if cell_last > last else "no more slowly than"
        cell_factor = cell_last ** (1.0 / d_last) if math.isfinite(cell_last) else math.inf
        why = (f"the cell path ‖∂c_T/∂c_(T−d)‖ reaches {n(cell_last)} at d = {d_last} ({n(cell_factor)}× per step), "
               f"{compare} the hidden path: it is scaled by the forget gate alone (mean f = {n(cell.mean_forget)})")
    else:
        why = (f"the update gate passes z ⊙ h_(t−1) straight through (mean z = {n(cell.mean_update)})")
    if reference is not None and reference is not cell and cell.label in ("lstm", "gru"):
        speed = "slower" if cell.per_step_factor > reference.per_step_factor else "faster"
        why += f", and the hidden path decays {speed} than rnn-tanh's {n(reference.per_step_factor)}× per step"
    return f"{cell.label}: ‖∂h_T/∂h_(T−d)‖ {trend}, {rate}; {verdict}; {why}."


@dataclass(frozen=True)
class CompareView:
    """Renders a :class:`~dlvcli.core.rnn_cells.CompareCellsResult`."""

    def to_json(self, result, settings: OutputSettings) -> dict:
        n = Num(settings.digits)
        cells = []
        for cell in result.cells:
            m = cell.model
            item: dict[str, Any] = {
                "cell": cell.label,
                "weights": {"U": m.U, "W": m.W, "b": m.b, "bh": m.bh},
                "jacobian_norms": cell.jacobian_norms,
            }
            if cell.cell_norms is not None:
                item["cell_norms"] = cell.cell_norms
            item.update({
                "sigma_max_w": cell.sigma_max_W, "per_step_factor": cell.per_step_factor,
                "distance_below": cell.distance_below, "distance_above": cell.distance_above,
                "summary": describe(cell, result.T, result.threshold, n, result.cells[0]),
            })
            cells.append(item)
        return _clean({
            "T": result.T, "hidden": result.hidden_size, "input_size": result.input_size, "seed": result.seed,
            "threshold": result.threshold,
            "cells": cells,
        })

    def blocks(self, result, settings: OutputSettings) -> list:
        n = Num(settings.digits)
        T, H = result.T, result.hidden_size
        out: list = [
            Heading(f"Vanishing and exploding gradients: four cells, T = {T}, hidden size {H}"),
            Prose(f"One input sequence x_t drawn from N(0, 1) (input size {result.input_size}, seed {result.seed}), "
                  f"every weight uniform in ±1/√H = ±{n(1 / math.sqrt(H))} as PyTorch initialises them, h0 = c0 = 0. "
                  "Norms are spectral norms of the Jacobians, each perturbing only the state at T − d "
                  "(for the LSTM the other half of the state is held)."),
            eq("‖∂h_T/∂h_(T−d)‖ = ‖J_T J_(T−1) ⋯ J_(T−d+1)‖,   J_t = ∂s_t/∂s_(t−1)"),
        ]
        labels = [c.label for c in result.cells]
        headers = ("d",) + tuple(labels) + (("lstm cell",) if any(c.cell_norms is not None for c in result.cells) else ())
        rows = []
        for d in shown_rows(T, False, first=1):
            if d is None:
                rows.append(("⋮",) * len(headers))
                continue
            k = d - 1
            cells = [str(k)] + [n(c.jacobian_norms[k]) for c in result.cells]
            cells += [n(c.cell_norms[k]) for c in result.cells if c.cell_norms is not None]
            rows.append(tuple(cells))
        out.append(Table("‖∂h_T/∂h_(T−d)‖ by cell (lstm cell: ‖∂c_T/∂c_(T−d)‖)", headers, tuple(rows)))
        out.append(Heading("What the numbers show"))
        for cell in result.cells:
            out.append(Prose(describe(cell, T, result.threshold, n, result.cells[0])))
        return out

    def to_rich(self, result, settings):
        return to_rich_blocks(self.blocks(result, settings))

    def to_markdown(self, result, settings):
        return to_markdown_blocks(self.blocks(result, settings))

    def draw(self, result, figure) -> None:
        ax = figure.add_subplot(1, 1, 1)
        d = np.arange(result.T)
        for k, cell in enumerate(result.cells):
            _log_line(ax, d, cell.jacobian_norms, f"{cell.label}: ‖∂h_T/∂h_(T−d)‖", f"C{k}")
            if cell.cell_norms is not None:
                values = np.asarray(cell.cell_norms, dtype=float)
                keep = np.isfinite(values) & (values > 0)
                ax.plot(d[keep], values[keep], "--", color=f"C{k}", label=f"{cell.label}: ‖∂c_T/∂c_(T−d)‖")
        ax.axhline(result.threshold, color="0.3", lw=0.8, ls=":", label=f"{result.threshold:g} (vanished below)")
        ax.set_yscale("log")
        _distance_axis(ax, "distance d = T − k")
        ax.set_ylabel("spectral norm (log scale)")
        ax.set_title(f"Gradient reach by cell: hidden size {result.hidden_size}, T = {result.T}, seed {result.seed}")
        ax.legend(fontsize=8)
        ax.grid(True, which="both", alpha=0.3)
