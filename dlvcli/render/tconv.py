"""``tconv`` results as a worked solution (rich, Markdown), as JSON, and as heat maps.

Three results arrive here: :class:`TconvShape` (sizes only, optionally C in kernel
symbols), :class:`TconvResult` (values, scatter and matrix form) and
:class:`SolveResult` (``--solve``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable

import numpy as np

from dlvcli.core.tconv import AxisShape, ScatterTerm, SolveResult, TconvResult, TconvShape, companion_note
from dlvcli.core.expr import Line, Mul, Num, Sym
from dlvcli.render.expr import latex_line, text_line, wrap
from dlvcli.render.numbers import MINUS, NumberStyle, fraction_text, latex_fraction
from dlvcli.render.output import OutputSettings

# Largest matrix printed in full (rows, columns); larger ones show this corner.
SHOW_ROWS, SHOW_COLS = 16, 16
# At most this many channel slices are printed per array (one when it is large).
SHOW_SLICES = 4
# A large matrix shows at most this top-left corner.
CORNER = 8
# Solutions listed in text/markdown (JSON lists all).
SHOW_SOLUTIONS = 200
# Scatter terms are drawn as separate output canvases up to this many terms and cells.
CANVAS_TERMS, CANVAS_CELLS = 9, 49

Formatter = Callable[..., str]


def _dims(shape) -> str:
    return "×".join(str(int(n)) for n in shape)


def _latex_dims(shape) -> str:
    return " \\times ".join(str(int(n)) for n in shape)


def _pair_text(pair) -> str:
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]}×{pair[1]}"


def _parameters_text(shape: TconvShape) -> str:
    return (
        f"kernel {_pair_text(shape.kernel)}, stride {_pair_text(shape.stride)}, padding {_pair_text(shape.padding)}, "
        f"output padding {_pair_text(shape.output_padding)}, dilation {_pair_text(shape.dilation)}"
    )


def _exact_of(value: float) -> Fraction | None:
    """The decimal a float prints as, as a fraction; None for inf/NaN (an overflowed output)."""
    value = float(value)
    return Fraction(repr(value)) if math.isfinite(value) else None


def _formatter(settings: OutputSettings, *arrays: np.ndarray) -> Formatter:
    """Numbers as whole numbers when every input is whole, fractions with --exact, else --digits."""
    style = settings.style
    integral = all(a.size == 0 or (np.all(a == np.round(a)) and float(np.max(np.abs(a))) < 1e15) for a in arrays)

    def fmt(value: Any, exact: Fraction | None = None) -> str:
        if settings.exact:
            exact = exact if exact is not None else _exact_of(value)
            return style.num(value) if exact is None else fraction_text(exact)
        if integral:
            return style.num(int(round(float(value))))
        return style.num(float(value))

    return fmt


def _x_label(c: int, i: int, j: int, channels: bool) -> str:
    return f"x[{c},{i},{j}]" if channels else f"x[{i},{j}]"


def _y_label(o: int, r: int, q: int, channels: bool) -> str:
    return f"y[{o},{r},{q}]" if channels else f"y[{r},{q}]"


def _labels(c: int, h: int, w: int, name: str, channels: bool) -> list[str]:
    make = _x_label if name == "x" else _y_label
    return [make(a, i, j, channels) for a in range(c) for i in range(h) for j in range(w)]


def _tap_symbol(tap: int, kw: int, kh: int) -> str:
    a, b = divmod(int(tap), kw)
    return f"k{a}{b}" if kh <= 10 and kw <= 10 else f"k[{a},{b}]"


# --------------------------------------------------------------------------- rich helpers


def _console_width() -> int:
    from dlvcli.render.output import stdout_console

    return stdout_console().width


def _matrix_table(
    cells: list[list[str]],
    title: str,
    row_labels: list[str] | None = None,
    col_labels: list[str] | None = None,
    max_rows: int = SHOW_ROWS,
    max_cols: int = SHOW_COLS,
):
    """A rich table of a 2-D array of strings, with index labels; cut to a corner when large."""
    from rich import box
    from rich.table import Table

    n_rows, n_cols = len(cells), len(cells[0]) if cells else 0
    row_labels = row_labels or [str(i) for i in range(n_rows)]
    col_labels = col_labels or [str(j) for j in range(n_cols)]
    cut_rows, cut_cols = n_rows > max_rows, n_cols > max_cols
    show_r = range(min(n_rows, max_rows))
    show_c = range(min(n_cols, max_cols))
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False, padding=(0, 1))
    table.add_column("", style="dim", justify="right")
    for j in show_c:
        table.add_column(col_labels[j], justify="right", no_wrap=True)
    if cut_cols:
        table.add_column("⋯", justify="center")
    for i in show_r:
        row = [cells[i][j] for j in show_c]
        table.add_row(row_labels[i], *row, *(["⋯"] if cut_cols else []))
    if cut_rows:
        table.add_row("⋮", *(["⋮"] * len(show_c)), *(["⋯"] if cut_cols else []))
    return table


def _estimated_width(cells: list[list[str]], row_labels: list[str], col_labels: list[str]) -> int:
    widths = [max(len(col_labels[j]), *(len(row[j]) for row in cells)) for j in range(len(col_labels))]
    return max(len(s) for s in row_labels) + 2 + sum(w + 2 for w in widths)


def _array_cells(a2: np.ndarray, fmt: Formatter, exact: Any = None) -> list[list[str]]:
    if exact is not None:
        return [[fmt(a2[i, j], exact[i][j]) for j in range(a2.shape[1])] for i in range(a2.shape[0])]
    return [[fmt(v) for v in row] for row in a2.tolist()]


def _slices(array: np.ndarray, name: str, exact: Any = None):
    """(title suffix, 2-D slice, exact slice) for each channel slice of a 2-, 3- or 4-D array."""
    if array.ndim == 2:
        yield name, array, exact
        return
    index_sets = list(np.ndindex(*array.shape[:-2]))
    for index in index_sets:
        sub_exact = None
        if exact is not None:
            sub_exact = exact[index]
        yield f"{name}[{','.join(map(str, index))}]", array[index], sub_exact


# --------------------------------------------------------------------------- view


@dataclass(frozen=True)
class TconvView:
    """Renders a tconv result; ``show_matrix`` prints C and Cᵀ."""

    show_matrix: bool = False

    # ------------------------------------------------------------------ JSON
    def to_json(self, result: Any, settings: OutputSettings) -> dict:
        if isinstance(result, SolveResult):
            return _solve_json(result)
        if isinstance(result, TconvShape):
            body: dict = {
                "input_shape": list(result.input_size),
                "output_shape": list(result.output_size),
                "steps": list(result.steps),
                "companion": [_companion_text(a) for a in result.axes],
            }
            if self.show_matrix:
                body["matrix_shape"] = list(result.matrix_shape)
                if result.matrix_taps is not None:
                    kh, kw = result.kernel
                    body["matrix"] = [[("0" if t < 0 else _tap_symbol(t, kw, kh)) for t in row] for row in result.matrix_taps.tolist()]
                else:
                    body["matrix"] = None
            return body
        r: TconvResult = result
        body = {
            "input_shape": r.input_shape,
            "output_shape": r.output_shape,
            "steps": list(r.steps),
            "companion": [_companion_text(a) for a in r.shape.axes],
            "output": _squeeze(r.output, r.plain).tolist(),
        }
        if r.output_exact is not None:
            body["output_exact"] = _squeeze(np.vectorize(fraction_text, otypes=[object])(r.output_exact), r.plain).tolist()
        body["matrix_form"] = {
            "shape": list(r.matrix_shape),
            "mode": r.matrix_mode,
            "max_abs_difference": r.max_difference,
        }
        if self.show_matrix:
            body["matrix"] = None if r.matrix is None else r.matrix.tolist()
        return body

    # ------------------------------------------------------------------ text
    def to_rich(self, result: Any, settings: OutputSettings) -> list:
        if isinstance(result, SolveResult):
            return _solve_rich(result, settings)
        if isinstance(result, TconvShape):
            out = _shape_rich(result, f"Transposed convolution: input {_dims(result.input_size)}, {_parameters_text(result)}")
            if self.show_matrix:
                out += _symbolic_matrix_rich(result)
            else:
                out += _matrix_hint(result.matrix_shape)
            from rich.text import Text

            out.append(Text(f"Output size: {_dims(result.output_size)}", style="bold"))
            return out
        return _values_rich(result, settings, self.show_matrix)

    # ------------------------------------------------------------------ markdown
    def to_markdown(self, result: Any, settings: OutputSettings) -> str:
        if isinstance(result, SolveResult):
            return _solve_markdown(result, settings)
        if isinstance(result, TconvShape):
            lines = [f"## Transposed convolution: input {_dims(result.input_size)}", "", _parameters_text(result).capitalize() + ".", ""]
            lines += _shape_markdown(result)
            if self.show_matrix:
                lines += _symbolic_matrix_markdown(result)
            else:
                rows, cols = result.matrix_shape
                lines += ["", f"As a matrix: $y = C^\\top \\mathrm{{vec}}(x)$ with $C$ ({rows}×{cols}) the direct convolution's matrix (`--show-matrix` prints it)."]
            lines += ["", f"**Output size: {_dims(result.output_size)}**"]
            return "\n".join(lines)
        return _values_markdown(result, settings, self.show_matrix)

    # ------------------------------------------------------------------ plot
    def draw(self, result: Any, figure) -> None:
        _draw(result, figure)


def _squeeze(array: np.ndarray, plain: bool) -> np.ndarray:
    return array[0] if plain else array


def _companion_text(a: AxisShape) -> str:
    return f"{a.axis} = ⌊({a.axis}_out + 2p − d·(k − 1) − 1)/s⌋ + 1 = {a.companion_text}"


# --------------------------------------------------------------------------- sizes


def _axis_rows(shape: TconvShape) -> list[tuple[str, AxisShape]]:
    if shape.square:
        return [("H, W", shape.axes[0])]
    return [(a.axis, a) for a in shape.axes]


def _size_line(a: AxisShape) -> Line:
    """``H_out = (3 − 1) · 2 − 2 · 0 + 1 · (3 − 1) + 0 + 1 = 7``: the output size with the numbers put in."""
    substituted = (
        Mul((Num(a.size) - Num(1), Num(a.stride)))
        - Mul((Num(2), Num(a.padding)))
        + Mul((Num(a.dilation), Num(a.kernel) - Num(1)))
        + Num(a.output_padding)
        + Num(1)
    )
    return Line(Sym(f"{a.axis}_out", f"{a.axis}_{{out}}"), None, substituted, a.output)


def _shape_rich(shape: TconvShape, title: str) -> list:
    from rich.padding import Padding
    from rich.text import Text

    from dlvcli.render.tables import heading

    width = _console_width()
    out: list = [heading(title, width)]
    out.append(Text("\n".join(wrap("Output size per axis:  H_out = (H − 1)·s − 2p + d·(k − 1) + op + 1", width, indent=23))))
    style = NumberStyle()
    for label, a in _axis_rows(shape):
        out.append(Text("\n".join(wrap(f"  {label}: " + text_line(_size_line(a), style), width, indent=6))))
    out.append(Text("Check with the direct convolution (same kernel, stride, padding, dilation), applied to the output size:"))
    out.append(Text("  H = ⌊(H_out + 2p − d·(k − 1) − 1)/s⌋ + 1"))
    for label, a in _axis_rows(shape):
        # the chain wraps at its operators; the note after it (in brackets) wraps as prose, indented
        chain, _, note = a.companion_text.partition(" (")
        style = None if a.round_trip else "yellow"
        out.append(Text("\n".join(wrap(f"  {label}: {chain}", width, indent=6)), style=style))
        if note:
            out.append(Padding(Text("(" + note, style=style), (0, 0, 0, 6)))
    return out


def _shape_markdown(shape: TconvShape) -> list[str]:
    lines = ["Output size per axis: $H_{out} = (H - 1)\\,s - 2p + d\\,(k - 1) + op + 1$", ""]
    for label, a in _axis_rows(shape):
        lines.append(f"- {label}: ${latex_line(_size_line(a), NumberStyle())}$")
    lines += [
        "",
        "Check with the direct convolution (same kernel, stride, padding, dilation) applied to the output size, "
        "$H = \\lfloor (H_{out} + 2p - d\\,(k - 1) - 1)/s \\rfloor + 1$:",
        "",
    ]
    for label, a in _axis_rows(shape):
        note = companion_note(a.size, a.output, a.stride, a.output_padding, a.dilation).split(" ", 2)
        lines.append(f"- {label}: ${a.companion.latex}$ {' '.join(note[2:]) if len(note) > 2 else ''}".rstrip())
    return lines


def _matrix_hint(matrix_shape) -> list:
    from rich.text import Text

    rows, cols = matrix_shape
    return [Text(f"As a matrix: y = Cᵀ·vec(x) with C ({rows}×{cols}) the direct convolution's matrix (--show-matrix prints it).")]


def _c_labels(c_in: int, h: int, w: int, c_out: int, h_out: int, w_out: int, channels: bool) -> tuple[list[str], list[str]]:
    return _labels(c_in, h, w, "x", channels), _labels(c_out, h_out, w_out, "y", channels)


def _fit_matrix(cells, row_labels, col_labels, title: str) -> list:
    """C or Cᵀ as a table with its row labels; split into column blocks (labels repeated)
    when it is wider than the screen, a note when it has more than 100 rows."""
    from rich import box
    from rich.text import Text

    from dlvcli.render.tables import Column, fitted_table

    if len(cells) > 100:
        return [Text(f"{title}: {len(cells)}×{len(col_labels)} is too large to print; --json prints it, --plot draws it.")]
    columns = [Column("", style="dim")] + [Column(label) for label in col_labels]
    rows = [[label, *row] for label, row in zip(row_labels, cells)]
    return [fitted_table(title, columns, rows, box=box.SIMPLE_HEAD)]


def _symbolic_matrix_rich(shape: TconvShape) -> list:
    from dlvcli.render.tables import heading
    from rich.text import Text

    rows, cols = shape.matrix_shape
    out: list = [heading("Matrix form: y = Cᵀ·vec(x)", _console_width())]
    out.append(Text(_c_explanation(rows, cols)))
    if shape.matrix_taps is None:
        out.append(Text(f"C is {rows}×{cols}: too large to build; not shown."))
        return out
    kh, kw = shape.kernel
    h, w = shape.input_size
    h_out, w_out = shape.output_size
    cells = [["0" if t < 0 else _tap_symbol(t, kw, kh) for t in row] for row in shape.matrix_taps.tolist()]
    row_labels, col_labels = _c_labels(1, h, w, 1, h_out, w_out, False)
    out += _fit_matrix(cells, row_labels, col_labels, f"C ({rows}×{cols})")
    transposed = [list(col) for col in zip(*cells)]
    out += _fit_matrix(transposed, col_labels, row_labels, f"Cᵀ ({cols}×{rows}): y = Cᵀ·vec(x)")
    return out


def _c_explanation(rows: int, cols: int) -> str:
    return (
        f"C ({rows}×{cols}) is the matrix of the direct convolution with the same kernel, stride, padding and dilation: "
        "rows are its outputs (the positions of x), columns its inputs (the positions of y); each row holds the kernel, "
        "shifted by the stride. The transposed convolution is y = Cᵀ·vec(x), vec in row-major order."
    )


# --------------------------------------------------------------------------- values: text


def _term_adds(term: ScatterTerm, fmt: Formatter, channels: bool) -> str:
    parts = []
    for o in range(term.patch.shape[0]):
        exact = term.patch_exact[o] if term.patch_exact is not None else None
        rows = ["[" + ", ".join(fmt(term.patch[o, a, b], None if exact is None else exact[a][b]) for b in range(term.patch.shape[2])) + "]" for a in range(term.patch.shape[1])]
        text = "[" + ", ".join(rows) + "]"
        parts.append(f"y[{o}] += {text}" if channels else text)
    return "\n".join(parts)


def _term_adds_latex(term: ScatterTerm, fmt: Formatter, settings: OutputSettings, channels: bool) -> str:
    parts = []
    for o in range(term.patch.shape[0]):
        exact = term.patch_exact[o] if term.patch_exact is not None else None
        matrix = _latex_matrix(term.patch[o], fmt, exact, settings.exact)
        parts.append(f"$y_{{{o}}} \\mathrel{{+}}= {matrix}$" if channels else f"${matrix}$")
    return ", ".join(parts)


def _int(value: int) -> str:
    return str(int(value)).replace("-", MINUS)


def _positions(values: tuple[int, ...], limit: int) -> str:
    inside = [v for v in values if 0 <= v < limit]
    if len(values) > 1 and all(b - a == 1 for a, b in zip(values, values[1:])):
        text = f"{_int(values[0])} to {_int(values[-1])}" if len(values) > 3 else ",".join(map(_int, values))
    else:
        text = ",".join(map(_int, values))
    if len(inside) < len(values):
        text += " (kept " + (",".join(map(_int, inside)) if inside else "none") + ")"
    return text


def _values_rich(r: TconvResult, settings: OutputSettings, show_matrix: bool) -> list:
    from rich.columns import Columns
    from dlvcli.render.tables import heading
    from rich.text import Text

    fmt = _formatter(settings, r.x, r.k)  # products and sums: whole when x and k are
    fmt_x, fmt_k = _formatter(settings, r.x), _formatter(settings, r.k)
    channels = not r.plain
    shape = r.shape
    c_in, h, w = r.x.shape
    _, c_out, kh, kw = r.k.shape
    h_out, w_out = shape.output_size
    out = _shape_rich(
        shape,
        f"Transposed convolution: x {_dims(r.input_shape)}, k {_dims(r.k.shape if r.k_ndim == 4 else r.k.shape[2:])}, "
        + _parameters_text(shape).split(", ", 1)[1],
    )

    # inputs
    out.append(heading("Input and kernel", _console_width()))
    tables = []
    x_view = r.x if r.x_ndim == 3 else r.x[0]
    x_exact = None if r.x_exact is None else (r.x_exact if r.x_ndim == 3 else r.x_exact[0])
    tables += _slice_tables(x_view, "x", fmt_x, x_exact)
    k_view = r.k if r.k_ndim == 4 else r.k[0, 0]
    k_exact = None if r.k_exact is None else (r.k_exact if r.k_ndim == 4 else r.k_exact[0, 0])
    tables += _slice_tables(k_view, "k", fmt_k, k_exact)
    out.append(Columns(tables, padding=(0, 4)))
    if channels:
        out.append(Text("k is C_in×C_out×KH×KW (PyTorch's ConvTranspose2d weight): y[o] = Σ_c x[c] scattered with k[c,o]."))

    # scatter
    out.append(heading("By scattering", _console_width()))
    s1, s2 = shape.stride
    p1, p2 = shape.padding
    d1, d2 = shape.dilation
    out.append(Text("Each input element multiplies the whole kernel; kernel tap (a, b) of element x[i,j] lands on output"))
    # the position on a line of its own, broken at "=" if need be, never inside a coordinate
    position = f"  (i·s − p + a·d, j·s − p + b·d) = (i·{s1} − {p1} + a·{d1}, j·{s2} − {p2} + b·{d2});"
    out.append(Text("\n".join(wrap(position, _console_width(), indent=4))))
    out.append(Text(f"positions outside rows 0 to {h_out - 1} and columns 0 to {w_out - 1} are cut off (padding), "
                    "and overlapping placements add up."))
    if r.terms:
        out.append(Text("top-left = (i·s − p, j·s − p): where the copy of the kernel for x[i,j] starts"))
        out += _terms_table(r, fmt, channels)
        if not channels and len(r.terms) <= CANVAS_TERMS and h_out * w_out <= CANVAS_CELLS:
            out.append(Columns(_canvases(r, fmt), padding=(0, 3)))
    else:
        out.append(
            Text(
                f"{c_in * h * w} input elements are too many to list: computed per kernel tap instead "
                "(for each (a, b): y[:, a·d + i·s − p, b·d + j·s − p] += k[:, :, a, b]ᵀ·x[:, i, j] for all i, j at once)."
            )
        )
    out.append(Text("Output = the sum of all placed blocks:"))
    y_exact = None
    if r.output_exact is not None:
        y_exact = r.output_exact[0] if r.plain else r.output_exact
    out.append(Columns(_slice_tables(_squeeze(r.output, r.plain), "y", fmt, y_exact), padding=(0, 4)))

    # matrix form
    out.append(heading("As a matrix product: y = Cᵀ·vec(x)", _console_width()))
    rows, cols = r.matrix_shape
    out.append(Text(_c_explanation(rows, cols)))
    if r.matrix is not None:
        row_labels, col_labels = _c_labels(c_in, h, w, c_out, h_out, w_out, channels)
        if show_matrix:
            c_cells = _array_cells(r.matrix, fmt_k)
            out += _fit_matrix(c_cells, row_labels, col_labels, f"C ({rows}×{cols})")
            out += _fit_matrix([list(c) for c in zip(*c_cells)], col_labels, row_labels, f"Cᵀ ({cols}×{rows})")
        else:
            out.append(Text("(--show-matrix prints C and Cᵀ.)", style="dim"))
        if rows <= 16 and cols <= 64:
            vec = ", ".join(fmt_x(v) for v in r.x.reshape(-1))
            prod = _product_text(r, fmt)
            width = _console_width()
            out.append(Text("\n".join(wrap(f"vec(x) = [{vec}]ᵀ", width, indent=4))))
            out.append(Text("\n".join(wrap(f"Cᵀ·vec(x) = [{prod}]ᵀ → reshaped to {_dims(r.output_shape)}", width, indent=4))))
    elif r.matrix_mode == "sparse":
        out.append(
            Text(
                f"C is {rows}×{cols}: too large to build densely, so it is not shown; Cᵀ·vec(x) was computed with C in "
                "coordinate form (its nonzero entries only)."
            )
        )
    else:
        out.append(
            Text(
                f"C would be {rows}×{cols}: too large to build (dense or sparse), so the matrix is not shown and the "
                "values above were computed directly (vectorised scatter)."
            )
        )
    if r.max_difference is not None:
        out.append(
            Text(
                f"Scatter and Cᵀ·vec(x) agree: max |difference| = {_difference(r.max_difference, settings)}",
                style="green" if r.agree else "red",
            )
        )
    out.append(Text(f"Output: {_dims(r.output_shape)}", style="bold"))
    return out


def _product_text(r: TconvResult, fmt: Formatter) -> str:
    """Cᵀ·vec(x) as a list; with --exact the exact sums (equal to the product, which is checked in floats)."""
    if r.output_exact is not None:
        return ", ".join(fmt(v, e) for v, e in zip(r.matrix_output.reshape(-1), r.output_exact.reshape(-1)))
    return ", ".join(fmt(v) for v in r.matrix_output.reshape(-1))


def _difference(value: float, settings: OutputSettings) -> str:
    return settings.style.num(value)


def _slice_tables(array: np.ndarray, name: str, fmt: Formatter, exact: Any = None) -> list:
    """One table per channel slice; a large slice shows its top-left corner (what fits) and min/max/mean."""
    from rich.text import Text

    slices = list(_slices(array, name, exact))
    h, w = array.shape[-2:]
    cell = max(len(fmt(array.min())), len(fmt(array.max())), 1)
    if exact is not None:
        cell = max(cell, *(len(c) for row in _array_cells(slices[0][1][:4, :4], fmt, np.asarray(slices[0][2])[:4, :4]) for c in row))
    fit = max(3, (_console_width() - len(str(h)) - 4) // (cell + 2))
    full = h <= SHOW_ROWS and w <= min(SHOW_COLS, fit)
    rows, cols = (h, w) if full else (min(h, CORNER), min(w, CORNER, fit))
    shown = slices[:SHOW_SLICES] if full else slices[:1]
    tables: list = []
    for title, a2, e2 in shown:
        corner_exact = None if e2 is None else np.asarray(e2)[:rows, :cols]
        cells = _array_cells(a2[:rows, :cols], fmt, corner_exact)
        suffix = "" if full else f", top-left {rows}×{cols}"
        table = _matrix_table(cells, f"{title} ({_dims(a2.shape)}{suffix})", max_rows=rows, max_cols=cols)
        if not full:
            table.caption = f"min {fmt(a2.min())}, max {fmt(a2.max())}, mean {NumberStyle().num(float(a2.mean()))}"
        tables.append(table)
    if len(slices) > len(shown):
        tables.append(Text(f"{len(slices) - len(shown)} more slice(s) of {name} not shown (--json has all values)"))
    return tables


def _terms_table(r: TconvResult, fmt: Formatter, channels: bool) -> list:
    from rich import box

    from dlvcli.render.tables import Column, fitted_table

    h_out, w_out = r.shape.output_size
    columns = [
        Column("element", "left"),
        Column("value"),
        Column("top-left"),
        Column("rows", "left"),
        Column("columns", "left"),
        Column("adds value·k" + ("[c]" if channels else ""), "left"),
    ]
    rows = [
        [
            _x_label(t.channel, t.row, t.col, channels),
            fmt(t.value, t.value_exact),
            f"({_int(t.rows[0])}, {_int(t.cols[0])})",
            _positions(t.rows, h_out),
            _positions(t.cols, w_out),
            _term_adds(t, fmt, channels),
        ]
        for t in r.terms
    ]
    return [fitted_table("Scatter terms", columns, rows, box=box.SIMPLE_HEAD)]


def _canvases(r: TconvResult, fmt: Formatter) -> list:
    """Each term as its own H_out×W_out picture (single channel): what it adds where."""
    h_out, w_out = r.shape.output_size
    tables = []
    for t in r.terms:
        cells = [["·"] * w_out for _ in range(h_out)]
        exact = t.patch_exact[0] if t.patch_exact is not None else None
        for a, row in enumerate(t.rows):
            for b, col in enumerate(t.cols):
                if 0 <= row < h_out and 0 <= col < w_out:
                    cells[row][col] = fmt(t.patch[0, a, b], None if exact is None else exact[a][b])
        tables.append(_matrix_table(cells, f"{_x_label(0, t.row, t.col, False)}·k"))
    return tables


# --------------------------------------------------------------------------- values: markdown


def _latex_matrix(a2: np.ndarray, fmt: Formatter, exact: Any = None, latex_exact: bool = False) -> str:
    rows = []
    for i in range(a2.shape[0]):
        cells = []
        for j in range(a2.shape[1]):
            e = None if exact is None else exact[i][j]
            e = e if e is not None or not latex_exact else _exact_of(a2[i, j])
            if latex_exact and e is not None:
                cells.append(latex_fraction(e))
            else:
                cells.append(fmt(a2[i, j], e).replace(MINUS, "-"))
        rows.append(" & ".join(cells))
    return "\\begin{bmatrix} " + " \\\\ ".join(rows) + " \\end{bmatrix}"


def _md_slices(array: np.ndarray, name: str, fmt: Formatter, settings: OutputSettings, exact: Any = None) -> list[str]:
    lines = []
    slices = list(_slices(array, name, exact))
    for title, a2, e2 in slices[:SHOW_SLICES]:
        if a2.shape[0] <= SHOW_ROWS and a2.shape[1] <= SHOW_COLS:
            lines.append(f"- ${title.replace('[', '_{').replace(']', '}')} = {_latex_matrix(a2, fmt, e2, settings.exact)}$")
        else:
            lines.append(f"- {title}: {_dims(a2.shape)} (min {fmt(a2.min())}, max {fmt(a2.max())}; too large to print, see `--json`)")
    if len(slices) > SHOW_SLICES:
        lines.append(f"- {len(slices) - SHOW_SLICES} more slices of {name} not shown (see `--json`)")
    return lines


def _md_table(cells: list[list[str]], row_labels: list[str], col_labels: list[str]) -> list[str]:
    lines = ["| | " + " | ".join(f"`{c}`" for c in col_labels) + " |", "|---|" + "---:|" * len(col_labels)]
    for label, row in zip(row_labels, cells):
        lines.append(f"| `{label}` | " + " | ".join(row) + " |")
    return lines


def _values_markdown(r: TconvResult, settings: OutputSettings, show_matrix: bool) -> str:
    fmt = _formatter(settings, r.x, r.k)
    channels = not r.plain
    shape = r.shape
    c_in, h, w = r.x.shape
    _, c_out, kh, kw = r.k.shape
    h_out, w_out = shape.output_size
    lines = [
        f"## Transposed convolution: x {_dims(r.input_shape)}, k {_dims(r.k.shape if r.k_ndim == 4 else r.k.shape[2:])}",
        "",
        _parameters_text(shape).capitalize() + ".",
        "",
    ]
    lines += _shape_markdown(shape)
    lines += ["", "### Input and kernel", ""]
    x_view = r.x if r.x_ndim == 3 else r.x[0]
    x_exact = None if r.x_exact is None else (r.x_exact if r.x_ndim == 3 else r.x_exact[0])
    k_view = r.k if r.k_ndim == 4 else r.k[0, 0]
    k_exact = None if r.k_exact is None else (r.k_exact if r.k_ndim == 4 else r.k_exact[0, 0])
    lines += _md_slices(x_view, "x", fmt, settings, x_exact)
    lines += _md_slices(k_view, "k", fmt, settings, k_exact)
    s1, s2 = shape.stride
    p1, p2 = shape.padding
    d1, d2 = shape.dilation
    lines += [
        "",
        "### By scattering",
        "",
        "Each input element multiplies the whole kernel; tap $(a, b)$ of $x_{i,j}$ lands on output "
        f"$(i\\cdot {s1} - {p1} + a\\cdot {d1},\\; j\\cdot {s2} - {p2} + b\\cdot {d2})$; positions outside the "
        f"${h_out} \\times {w_out}$ output are cut off, overlapping placements add up.",
        "",
    ]
    if r.terms:
        for t in r.terms:
            where = f"rows {_positions(t.rows, h_out)}, columns {_positions(t.cols, w_out)}"
            label = _x_label(t.channel, t.row, t.col, channels)
            value = fmt(t.value, t.value_exact).replace(MINUS, "-")
            lines.append(f"- `{label}` $= {value}$ adds ${value}\\cdot k$ at {where}: {_term_adds_latex(t, fmt, settings, channels)}")
    else:
        lines.append(f"{c_in * h * w} input elements: computed per kernel tap (vectorised), not listed.")
    y_exact = None if r.output_exact is None else (r.output_exact[0] if r.plain else r.output_exact)
    lines += ["", "Output, the sum of the placed blocks:", ""]
    lines += _md_slices(_squeeze(r.output, r.plain), "y", fmt, settings, y_exact)
    rows, cols = r.matrix_shape
    lines += ["", "### As a matrix product: $y = C^\\top \\mathrm{vec}(x)$", "", _c_explanation(rows, cols), ""]
    if r.matrix is not None:
        if show_matrix:
            row_labels, col_labels = _c_labels(c_in, h, w, c_out, h_out, w_out, channels)
            if cols <= 64 and rows <= 64:
                c_cells = _array_cells(r.matrix, fmt)
                lines += [f"$C$ ({rows}×{cols}):", ""] + _md_table(c_cells, row_labels, col_labels)
                lines += ["", f"$C^\\top$ ({cols}×{rows}):", ""] + _md_table([list(c) for c in zip(*c_cells)], col_labels, row_labels)
            else:
                lines.append(f"$C$ is {rows}×{cols}: too large for a table (see `--json`).")
            lines.append("")
        if rows <= 16 and cols <= 64:
            vec = ", ".join(fmt(v) for v in r.x.reshape(-1))
            prod = _product_text(r, fmt)
            vec, prod = vec.replace(MINUS, "-"), prod.replace(MINUS, "-")
            lines.append(f"$\\mathrm{{vec}}(x) = [{vec}]^\\top$, $C^\\top \\mathrm{{vec}}(x) = [{prod}]^\\top$, reshaped to ${_latex_dims(r.output_shape)}$.")
            lines.append("")
    elif r.matrix_mode == "sparse":
        lines += [f"$C$ is {rows}×{cols}: not built densely and not shown; the product used its nonzero entries only.", ""]
    else:
        lines += [f"$C$ would be {rows}×{cols}: too large to build, not shown; the values were computed directly.", ""]
    if r.max_difference is not None:
        lines.append(f"Scatter and $C^\\top \\mathrm{{vec}}(x)$ agree: max $|\\Delta| = {_difference(r.max_difference, settings)}$.")
    lines += ["", f"**Output: {_dims(r.output_shape)}**"]
    return "\n".join(lines)


def _symbolic_matrix_markdown(shape: TconvShape) -> list[str]:
    rows, cols = shape.matrix_shape
    lines = ["", "### Matrix form: $y = C^\\top \\mathrm{vec}(x)$", "", _c_explanation(rows, cols), ""]
    if shape.matrix_taps is None or cols > 64 or rows > 64:
        lines.append(f"$C$ is {rows}×{cols}: too large to print.")
        return lines
    kh, kw = shape.kernel
    h, w = shape.input_size
    h_out, w_out = shape.output_size
    cells = [["0" if t < 0 else f"$k_{{{divmod(t, kw)[0]}{divmod(t, kw)[1]}}}$" for t in row] for row in shape.matrix_taps.tolist()]
    row_labels, col_labels = _c_labels(1, h, w, 1, h_out, w_out, False)
    lines += [f"$C$ ({rows}×{cols}):", ""] + _md_table(cells, row_labels, col_labels)
    lines += ["", f"$C^\\top$ ({cols}×{rows}):", ""] + _md_table([list(c) for c in zip(*cells)], col_labels, row_labels)
    return lines


# --------------------------------------------------------------------------- solve


def _solve_json(r: SolveResult) -> dict:
    solutions = []
    for s in r.solutions:
        entry = {
            "kernel": s.kernel,
            "stride": s.stride,
            "padding": s.padding,
            "output_padding": s.output_padding,
            "dilation": s.dilation,
            "conv_size": s.conv_size,
            "round_trip": s.round_trip,
        }
        if s.axis is not None:
            entry = {"axis": s.axis, **entry}
        solutions.append(entry)
    return {
        "input_shape": list(r.input_size),
        "output_shape": list(r.output_size),
        "steps": list(r.steps),
        "unknown": list(r.unknown),
        "solutions": solutions,
    }


def _given_text(r: SolveResult, a: int) -> str:
    parts = []
    for name in ("kernel", "stride", "padding", "output_padding", "dilation"):
        value = r.given[name]
        if value is not None:
            parts.append(f"{name.replace('_', ' ')} {value[a]}")
    return ", ".join(parts) if parts else "nothing"


def _solution_formula(s) -> str:
    return f"({s.input_size} − 1)·{s.stride} − 2·{s.padding} + {s.dilation}·({s.kernel} − 1) + {s.output_padding} + 1 = {s.output_size}"


def _solve_groups(r: SolveResult):
    if r.square:
        yield "", 0, list(r.solutions)
    else:
        for a, axis in enumerate(("H", "W")):
            yield axis, a, [s for s in r.solutions if s.axis == axis]


def _solve_rich(r: SolveResult, settings: OutputSettings) -> list:
    from rich import box
    from dlvcli.render.tables import heading
    from rich.table import Table
    from rich.text import Text

    from rich.cells import cell_len

    unknown = ", ".join(u.replace("_", " ") for u in r.unknown) or "nothing (checking the given values)"
    out: list = [heading(f"Solve for {unknown}: input {_dims(r.input_size)} → output {_dims(r.output_size)}", _console_width())]
    for axis, a, solutions in _solve_groups(r):
        prefix = f"{axis} axis: " if axis else ""
        n = r.output_size[a]
        v = axis or "H"
        formula = f"{prefix}{v}_out = ({v} − 1)·s − 2p + d·(k − 1) + op + 1"
        width = _console_width()
        if cell_len(f"{formula}  →  {r.equation(a)}") <= width:
            out.append(Text(f"{formula}  →  {r.equation(a)}"))
        else:  # the formula, then the numbers put in, on a line of their own
            out.append(Text(formula))
            out.append(Text("\n".join(wrap(f"  →  {r.equation(a)}", width, indent=7))))
        out.append(Text(f"  given: {_given_text(r, a)}", style="dim"))
        out.append(Text(f"  searched: {r.bounds[a if not r.square else 0]}", style="dim"))
        if not solutions:
            out.append(Text(f"  No assignment in that range gives {n}.", style="yellow"))
            continue
        table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
        for name in ("#", "k", "s", "p", "op"):
            table.add_column(name, justify="right", no_wrap=True, min_width=2)
        table.add_column("H_out", justify="right")
        table.add_column("conv back", justify="right", no_wrap=True)
        for i, s in enumerate(solutions[:SHOW_SOLUTIONS], start=1):
            numerator = s.output_size + 2 * s.padding - s.dilation * (s.kernel - 1) - 1
            back = f"⌊{numerator}/{s.stride}⌋ + 1 = {s.conv_size} " + ("✓" if s.round_trip else "✗")
            table.add_row(
                str(i), str(s.kernel), str(s.stride), str(s.padding), str(s.output_padding),
                _solution_formula(s), back, style=None if s.round_trip else "yellow",
            )
        out.append(table)
        if len(solutions) > SHOW_SOLUTIONS:
            out.append(Text(f"{len(solutions) - SHOW_SOLUTIONS} more not shown (--json lists all {len(solutions)})."))
        out.append(Text(f"{len(solutions)} assignment(s).", style="bold"))
        out.append(Text("k kernel, s stride, p padding, op output padding; conv back is the direct convolution "
                        "with the same parameters applied to H_out:"))
        out.append(Text("  conv back = ⌊(H_out + 2p − d·(k − 1) − 1)/s⌋ + 1"))
        out += [Text(line) for line in _companion_notes(solutions)]
    return out


def _companion_notes(solutions, markdown: bool = False) -> list[str]:
    if markdown:
        back = "$\\lfloor ((H - 1)\\,s + op)/s \\rfloor + 1 = H + \\lfloor op/s \\rfloor$"
    else:
        back = "⌊((H − 1)·s + op)/s⌋ + 1 = H + ⌊op/s⌋"
    if markdown:
        lines = [f"Since $H_{{out}} + 2p - d\\,(k - 1) - 1 = (H - 1)\\,s + op$, the direct convolution gives {back}: "
                 "H exactly when op < s."]
    else:  # the two equations on lines of their own: prose wrapping would break them anywhere
        lines = ["The direct convolution gives back H exactly when op < s, since",
                 "  H_out + 2p − d·(k − 1) − 1 = (H − 1)·s + op,",
                 "  so " + back]
    if any(s.stride > 1 for s in solutions):
        lines.append(
            "With stride s > 1 the floor division sends s different sizes to the same H, so the direct convolution "
            "cannot tell them apart: the output padding op picks which of them the transposed convolution produces."
        )
    failing = [s for s in solutions if not s.round_trip]
    if failing:
        lines.append(
            f"✗ ({len(failing)} row(s)): op ≥ s, allowed only because the dilation is larger than op; there the "
            "direct convolution gives H + ⌊op/s⌋ ≠ H, so it does not map this output size back to the input size."
        )
    return lines


def _solve_markdown(r: SolveResult, settings: OutputSettings) -> str:
    unknown = ", ".join(u.replace("_", " ") for u in r.unknown) or "nothing (checking the given values)"
    lines = [f"## Solve for {unknown}: input {_dims(r.input_size)} → output {_dims(r.output_size)}", ""]
    for axis, a, solutions in _solve_groups(r):
        h, n = r.input_size[a], r.output_size[a]
        equation = r.equation(a).replace("−", "-").replace("·", "\\cdot ")
        v = axis or "H"
        lines.append(f"{axis + ' axis: ' if axis else ''}${v}_{{out}} = ({v} - 1)\\,s - 2p + d\\,(k - 1) + op + 1$, so ${equation}$")
        lines += ["", f"Given: {_given_text(r, a)}. Searched: {r.bounds[a if not r.square else 0]}.", ""]
        if not solutions:
            lines += [f"No assignment in that range gives {n}.", ""]
            continue
        lines += ["| # | kernel | stride | padding | output padding | dilation | $H_{out}$ | conv back |", "|---:|---:|---:|---:|---:|---:|---|---|"]
        for i, s in enumerate(solutions[:SHOW_SOLUTIONS], start=1):
            numerator = s.output_size + 2 * s.padding - s.dilation * (s.kernel - 1) - 1
            formula = _solution_formula(s).replace("−", "-").replace("·", "\\cdot ")
            back = f"$\\lfloor {numerator}/{s.stride} \\rfloor + 1 = {s.conv_size}$ " + ("✓" if s.round_trip else "✗")
            lines.append(f"| {i} | {s.kernel} | {s.stride} | {s.padding} | {s.output_padding} | {s.dilation} | ${formula}$ | {back} |")
        if len(solutions) > SHOW_SOLUTIONS:
            lines.append(f"\n{len(solutions) - SHOW_SOLUTIONS} more not shown (`--json` lists all {len(solutions)}).")
        lines += ["", f"**{len(solutions)} assignment(s).**", ""]
        lines += ["", "conv back: the direct convolution with the same parameters applied to $H_{out}$, $\\lfloor (H_{out} + 2p - d\\,(k - 1) - 1)/s \\rfloor + 1$.", ""]
        lines += [line.replace("⌊op/s⌋", "$\\lfloor op/s \\rfloor$") + "\n" for line in _companion_notes(solutions, markdown=True)]
        lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------- plot


def _draw(result: Any, figure) -> None:
    """Heat maps of x, k, the output and C (first channel slices when there are channels)."""
    r: TconvResult = result
    axes = figure.subplots(2, 2)
    panels = [
        (axes[0, 0], r.x[0], f"input x{'[0]' if r.x_ndim == 3 else ''} ({_dims(r.x.shape[1:])})"),
        (axes[0, 1], r.k[0, 0], f"kernel k{'[0,0]' if r.k_ndim == 4 else ''} ({_dims(r.k.shape[2:])})"),
        (axes[1, 0], r.output[0], f"output y{'' if r.plain else '[0]'} ({_dims(r.output.shape[1:])})"),
    ]
    for ax, data, title in panels:
        _heat(figure, ax, data, title)
    ax = axes[1, 1]
    rows, cols = r.matrix_shape
    if r.matrix is not None:
        _heat(figure, ax, r.matrix, f"C ({rows}×{cols}); y = Cᵀ·vec(x)", annotate=rows <= 8 and cols <= 16)
        ax.set_xlabel("y position (conv input)")
        ax.set_ylabel("x position (conv output)")
    elif r.matrix_mode == "sparse":
        from dlvcli.core.tconv import conv_matrix_entries

        shape = r.shape
        entries = conv_matrix_entries(r.k, shape.input_size, shape.stride, shape.padding, shape.output_padding, shape.dilation)
        points = ax.scatter(entries.cols, entries.rows, c=entries.values, s=0.2, marker="s", linewidths=0, cmap="viridis")
        ax.set_xlim(-0.5, cols - 0.5)
        ax.set_ylim(rows - 0.5, -0.5)
        ax.set_title(f"C ({rows}×{cols}, nonzero entries); y = Cᵀ·vec(x)", fontsize=9)
        ax.set_xlabel("y position (conv input)")
        ax.set_ylabel("x position (conv output)")
        figure.colorbar(points, ax=ax, shrink=0.8)
    else:
        ax.axis("off")
        ax.text(0.5, 0.5, f"C ({rows}×{cols})\nnot built: too large", ha="center", va="center")
    figure.suptitle(f"Transposed convolution, {_parameters_text(r.shape)}", fontsize=9)


def _heat(figure, ax, data: np.ndarray, title: str, annotate: bool = True) -> None:
    # overflowed entries (inf, NaN) are left blank; the colour scale comes from the finite
    # ones, rescaled when they are huge (matplotlib's colour-bar ticks overflow near 1e308)
    finite = data[np.isfinite(data)]
    shown = np.ma.masked_invalid(data)
    largest = float(np.max(np.abs(finite))) if finite.size else 0.0
    if largest > 1e100:
        exponent = math.floor(math.log10(largest))
        shown = shown / 10.0**exponent
        title += f" (colour scale in units of 1e{exponent})"
    image = ax.imshow(shown, cmap="viridis", interpolation="nearest", aspect="equal" if data.shape[1] <= 4 * data.shape[0] else "auto")
    ax.set_title(title, fontsize=9)
    if finite.size:
        figure.colorbar(image, ax=ax, shrink=0.8)
    if annotate and data.shape[0] <= 8 and data.shape[1] <= 16:
        middle = (float(finite.min()) / 2 + float(finite.max()) / 2) if finite.size else 0.0
        for (i, j), v in np.ndenumerate(data):
            ax.text(j, i, f"{v:.3g}", ha="center", va="center", fontsize=7, color="white" if math.isfinite(v) and v < middle else "black")
    ax.set_xticks(range(data.shape[1]) if data.shape[1] <= 12 else [])
    ax.set_yticks(range(data.shape[0]) if data.shape[0] <= 12 else [])
