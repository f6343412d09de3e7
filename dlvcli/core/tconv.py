"""Transposed convolution: output size, values by scattering, the matrix form, and solving for parameters.

The pieces compose the way the course works it by hand (docs/tconv.md)::

    tconv_output_size / tconv_shape → scatter_terms → conv_matrix → tconv
    tconv_output_size (per candidate)  → tconv_solve

Per axis, for an input of size H, kernel k, stride s, padding p, output padding op and
dilation d (PyTorch's ``ConvTranspose2d``)::

    H_out = (H − 1)·s − 2p + d·(k − 1) + op + 1

Each input element x[i] adds x[i]·K with its top-left tap at output position i·s − p;
tap j lands on o = i·s − p + j·d, and positions outside 0..H_out − 1 are cut off (that
is what the padding of a transposed convolution does).

The *matching direct convolution* (``conv2d`` with the same kernel, stride, padding and
dilation, applied to an H_out-sized image) computes z[i] = Σ_j w[i·s − p + j·d]·k[j].
Its matrix C (rows: the conv's outputs = the positions of x; columns: the conv's inputs
= the positions of y) has shape (C_in·H·W) × (C_out·H_out·W_out), and the transposed
convolution is exactly y = Cᵀ·vec(x).  For a 2×2 kernel on a 3×3 image C is 4×9 and
each row holds the kernel shifted: [k00, k01, 0, k10, k11, 0, 0, 0, 0], …

Shapes follow PyTorch without the batch axis: x is H×W or C_in×H×W, the kernel is
KH×KW or C_in×C_out×KH×KW (the ``ConvTranspose2d`` weight), the output C_out×H_out×W_out
(H_out×W_out when neither x nor the kernel has channels).

References: V. Dumoulin and F. Visin, "A guide to convolution arithmetic for deep
learning", arXiv:1603.07285 (2016), §4; ``torch.nn.ConvTranspose2d`` documentation.
"""

from __future__ import annotations

from dlvcli.core.display import WorkedSolution  # str() and Jupyter show the worked solution

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Sequence

import numpy as np

from dlvcli.core.steps import Step

AXES = ("H", "W")
# Dense C is built when it has at most this many entries (float64: 16 MB).
DENSE_MATRIX_LIMIT = 2_000_000
# Above the dense limit, y = Cᵀ·vec(x) is still checked with C in coordinate (sparse)
# form while the number of kernel placements is at most this.
SPARSE_MATRIX_LIMIT = 4_000_000
# The scatter is shown term by term (and run element by element) up to this many
# input elements (all channels) and placements (elements × C_out × KH × KW).
STEP_ELEMENT_LIMIT = 25
STEP_PLACEMENT_LIMIT = 5_000
# --exact: exact fractions are computed up to this many placements.
EXACT_PLACEMENT_LIMIT = 200_000
# --solve: at most this many assignments are listed.
SOLUTION_LIMIT = 1_000_000
# --solve: at most this many strides are looked at (a bound on the work, never reached when
# each stride looked at has a solution, which the search arranges)
STRIDE_SCAN_LIMIT = 4 * SOLUTION_LIMIT

Pair = tuple[int, int]


# --------------------------------------------------------------------------- checks


def _whole(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value):
            raise ValueError(f"{name} must be a whole number, got {value}")
        if float(value).is_integer():
            return int(value)
    raise ValueError(f"{name} must be a whole number, got {value!r}")


def as_pair(value: int | Sequence[int], name: str) -> Pair:
    """``3`` → (3, 3); ``(3, 4)`` → (3, 4), as ints (H axis first)."""
    if isinstance(value, (list, tuple, np.ndarray)):
        items = list(value)
        if len(items) != 2:
            raise ValueError(f"{name} must be one number or two (H, W), got {len(items)} values")
        return (_whole(items[0], name), _whole(items[1], name))
    n = _whole(value, name)
    return (n, n)


def _check_axis(size: int, kernel: int, stride: int, padding: int, output_padding: int, dilation: int, axis: str = "") -> None:
    where = f" ({axis} axis)" if axis else ""
    for name, value, low in (
        ("input size", size, 1),
        ("kernel size", kernel, 1),
        ("stride", stride, 1),
        ("dilation", dilation, 1),
        ("padding", padding, 0),
        ("output padding", output_padding, 0),
    ):
        if value < low:
            raise ValueError(f"{name}{where} is {value}: it must be a whole number ≥ {low}")
    if output_padding >= max(stride, dilation):
        raise ValueError(
            f"output padding{where} is {output_padding}, but it must be smaller than the stride ({stride}) "
            f"or the dilation ({dilation}): op < max(s, d) = {max(stride, dilation)}"
        )


# --------------------------------------------------------------------------- sizes


def tconv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0, output_padding: int = 0, dilation: int = 1) -> int:
    """Output size of a transposed convolution along one axis.

    .. math:: H_{out} = (H - 1)\\,s - 2p + d\\,(k - 1) + op + 1

    Raises ``ValueError`` when a parameter is out of range (sizes, kernel, stride and
    dilation ≥ 1, padding ≥ 0, 0 ≤ op < max(s, d)) or the padding leaves no output.

    >>> tconv_output_size(3, 3, stride=2)
    7
    >>> tconv_output_size(2, 2)
    3
    """
    size, kernel, stride, padding, output_padding, dilation = (
        _whole(v, n)
        for v, n in (
            (size, "input size"),
            (kernel, "kernel size"),
            (stride, "stride"),
            (padding, "padding"),
            (output_padding, "output padding"),
            (dilation, "dilation"),
        )
    )
    _check_axis(size, kernel, stride, padding, output_padding, dilation)
    out = _size_formula(size, kernel, stride, padding, output_padding, dilation)
    if out < 1:
        raise ValueError(_too_much_padding(size, kernel, stride, padding, output_padding, dilation, out))
    return out


def _size_formula(size: int, kernel: int, stride: int, padding: int, output_padding: int, dilation: int) -> int:
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def _too_much_padding(size, kernel, stride, padding, output_padding, dilation, out, axis: str = "") -> str:
    where = f" ({axis} axis)" if axis else ""
    room = (size - 1) * stride + dilation * (kernel - 1) + output_padding
    return (
        f"padding {padding}{where} is too large: H_out = (H − 1)·s − 2p + d·(k − 1) + op + 1 = "
        f"{_substituted(size, kernel, stride, padding, output_padding, dilation)} = {out}, "
        f"but the output must be at least 1, so 2p ≤ {room} (p ≤ {room // 2})"
    )


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Output size of the direct convolution along one axis (PyTorch ``Conv2d``).

    .. math:: H_{out} = \\left\\lfloor \\frac{H + 2p - d\\,(k - 1) - 1}{s} \\right\\rfloor + 1

    Returns 0 or less when the kernel does not fit (no output).

    >>> conv_output_size(7, 3, stride=2)
    3
    >>> conv_output_size(8, 3, stride=2)
    3
    """
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def _substituted(size, kernel, stride, padding, output_padding, dilation) -> str:
    return f"({size} − 1)·{stride} − 2·{padding} + {dilation}·({kernel} − 1) + {output_padding} + 1"


@dataclass(frozen=True)
class AxisShape:
    """The size arithmetic along one axis, with the direct-convolution companion check."""

    axis: str
    size: int
    kernel: int
    stride: int
    padding: int
    output_padding: int
    dilation: int
    output: int
    conv_size: int  # what the direct conv with the same parameters maps `output` back to

    @property
    def step(self) -> Step:
        return Step(
            label=f"{self.axis}_out",
            formula=f"{self.axis}_out = ({self.axis} − 1)·s − 2p + d·(k − 1) + op + 1",
            substituted=_substituted(self.size, self.kernel, self.stride, self.padding, self.output_padding, self.dilation),
            value=self.output,
            latex=(
                f"{self.axis}_{{out}} = ({self.axis} - 1)\\,s - 2p + d\\,(k - 1) + op + 1 = "
                f"({self.size} - 1)\\cdot {self.stride} - 2\\cdot {self.padding} + {self.dilation}\\cdot({self.kernel} - 1) "
                f"+ {self.output_padding} + 1 = {self.output}"
            ),
        )

    @property
    def text(self) -> str:
        """``H_out = (3 − 1)·2 − 2·0 + 1·(3 − 1) + 0 + 1 = 7`` (the JSON ``steps`` entry)."""
        return f"{self.axis}_out = {self.step.substituted} = {self.output}"

    @property
    def conv_numerator(self) -> int:
        return self.output + 2 * self.padding - self.dilation * (self.kernel - 1) - 1

    @property
    def round_trip(self) -> bool:
        return self.conv_size == self.size

    @property
    def companion(self) -> Step:
        """The direct convolution with the same parameters, applied to the output size."""
        return companion_step(self.axis, self.size, self.output, self.kernel, self.stride, self.padding, self.output_padding, self.dilation)

    @property
    def companion_text(self) -> str:
        """``⌊(7 + 2·0 − 1·(3 − 1) − 1)/2⌋ + 1 = ⌊4/2⌋ + 1 = 3 ✓ (…)``."""
        return f"{self.companion.substituted} {companion_note(self.size, self.output, self.stride, self.output_padding, self.dilation)}"


def companion_step(axis: str, size: int, output: int, kernel: int, stride: int, padding: int, output_padding: int, dilation: int) -> Step:
    """conv(H_out) = ⌊(H_out + 2p − d(k − 1) − 1)/s⌋ + 1, the direct convolution applied to the output size.

    (H_out + 2p − d(k − 1) − 1) = (H − 1)·s + op, so conv(H_out) = H + ⌊op/s⌋: the
    round trip holds exactly when op < s (see :func:`companion_note`).
    """
    numerator = output + 2 * padding - dilation * (kernel - 1) - 1
    back = numerator // stride + 1
    return Step(
        label=f"conv({axis}_out)",
        formula=f"{axis} = ⌊({axis}_out + 2p − d·(k − 1) − 1)/s⌋ + 1",
        substituted=f"⌊({output} + 2·{padding} − {dilation}·({kernel} − 1) − 1)/{stride}⌋ + 1 = ⌊{numerator}/{stride}⌋ + 1",
        value=back,
        latex=(
            f"\\left\\lfloor \\frac{{{output} + 2\\cdot {padding} - {dilation}\\cdot({kernel} - 1) - 1}}{{{stride}}} \\right\\rfloor + 1 "
            f"= \\lfloor {numerator}/{stride} \\rfloor + 1 = {back}"
        ),
    )


def companion_note(size: int, output: int, stride: int, output_padding: int, dilation: int) -> str:
    """Why the direct convolution does or does not map the output size back to the input size."""
    back = size + output_padding // stride
    if back == size:
        if stride == 1:
            return f"= {size} ✓"
        low = output - output_padding
        # the sizes low .. low + stride − 1, listed only when there are few (a stride may be huge)
        if stride > 4:
            listed = f"{low} up to {low + stride - 1}"
        else:
            sizes = list(range(low, low + stride))
            listed = ", ".join(map(str, sizes[:-1])) + f" and {sizes[-1]}"
        return (
            f"= {size} ✓ (floor division maps each of the sizes {listed} to {size}; "
            f"the output padding {output_padding} picks {output})"
        )
    return (
        f"= {back} ≠ {size} ✗: floor division gives H + ⌊op/s⌋ = {size} + ⌊{output_padding}/{stride}⌋ = {back}; "
        f"output padding {output_padding} ≥ stride {stride} is allowed only because the dilation {dilation} is larger, "
        f"and then the direct convolution does not map {output} back to {size}"
    )


@dataclass(frozen=True, eq=False)
class TconvShape(WorkedSolution):
    """Sizes along both axes (H first); ``matrix_taps`` is C in symbols when asked for.

    ``matrix_taps[r, c]`` is the kernel tap a·KW + b that C holds there, −1 for 0 (see
    :func:`conv_matrix_taps`); None when not asked for or larger than
    ``DENSE_MATRIX_LIMIT`` entries (``matrix_shape`` is always set).
    """

    axes: tuple[AxisShape, AxisShape]
    matrix_taps: np.ndarray | None = None
    warnings: tuple[str, ...] = ()

    @property
    def matrix_shape(self) -> Pair:
        h, w = self.input_size
        h_out, w_out = self.output_size
        return (h * w, h_out * w_out)

    def _get(self, name: str) -> Pair:
        return (getattr(self.axes[0], name), getattr(self.axes[1], name))

    @property
    def input_size(self) -> Pair:
        return self._get("size")

    @property
    def output_size(self) -> Pair:
        return self._get("output")

    @property
    def kernel(self) -> Pair:
        return self._get("kernel")

    @property
    def stride(self) -> Pair:
        return self._get("stride")

    @property
    def padding(self) -> Pair:
        return self._get("padding")

    @property
    def output_padding(self) -> Pair:
        return self._get("output_padding")

    @property
    def dilation(self) -> Pair:
        return self._get("dilation")

    @property
    def square(self) -> bool:
        a, b = self.axes
        return (a.size, a.kernel, a.stride, a.padding, a.output_padding, a.dilation) == (
            b.size,
            b.kernel,
            b.stride,
            b.padding,
            b.output_padding,
            b.dilation,
        )

    @property
    def steps(self) -> tuple[str, ...]:
        """The substituted formula per axis (the JSON ``steps``)."""
        return tuple(a.text for a in self.axes)


def tconv_shape(
    input_size: int | Sequence[int],
    kernel: int | Sequence[int],
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    output_padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    *,
    symbolic_matrix: bool = False,
) -> TconvShape:
    """The output size along each axis; each argument is one number or (H, W).

    With ``symbolic_matrix`` the result also holds C with kernel symbols
    (``matrix_taps``), for showing the matrix form without kernel values.

    >>> tconv_shape(3, 3, stride=2).output_size
    (7, 7)
    >>> tconv_shape((2, 4), (2, 3)).steps
    ('H_out = (2 − 1)·1 − 2·0 + 1·(2 − 1) + 0 + 1 = 3', 'W_out = (4 − 1)·1 − 2·0 + 1·(3 − 1) + 0 + 1 = 6')
    """
    sizes = as_pair(input_size, "input size")
    kernels = as_pair(kernel, "kernel size")
    strides = as_pair(stride, "stride")
    paddings = as_pair(padding, "padding")
    ops = as_pair(output_padding, "output padding")
    dilations = as_pair(dilation, "dilation")
    axes = []
    for a, axis in enumerate(AXES):
        h, k, s, p, op, d = sizes[a], kernels[a], strides[a], paddings[a], ops[a], dilations[a]
        _check_axis(h, k, s, p, op, d, axis)
        out = _size_formula(h, k, s, p, op, d)
        if out < 1:
            raise ValueError(_too_much_padding(h, k, s, p, op, d, out, axis))
        axes.append(AxisShape(axis, h, k, s, p, op, d, out, conv_output_size(out, k, s, p, d)))
    shape = TconvShape((axes[0], axes[1]))
    if symbolic_matrix:
        n_rows, n_cols = shape.matrix_shape
        if n_rows * n_cols <= DENSE_MATRIX_LIMIT:
            taps = conv_matrix_taps(kernels, sizes, strides, paddings, ops, dilations)
            return TconvShape(shape.axes, taps)
        return TconvShape(shape.axes, None, (f"--show-matrix: C is {n_rows}×{n_cols}, too large to build, so it is not shown (JSON 'matrix' is null)",))
    return shape


# --------------------------------------------------------------------------- arrays


def as_channels(x: Any, k: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    """x → (C_in, H, W) and k → (C_in, C_out, KH, KW) float arrays; True when neither had channels.

    x is 2-D (H×W) or 3-D (C_in×H×W); k is 2-D (KH×KW) or 4-D (C_in×C_out×KH×KW, the
    PyTorch ``ConvTranspose2d`` weight).  Raises ``ValueError`` naming the rule broken.
    """
    xa = np.asarray(x)
    ka = np.asarray(k)
    for name, a in (("x", xa), ("k", ka)):
        if a.dtype == object or not np.issubdtype(a.dtype, np.number):
            raise ValueError(f"{name} must be a rectangular array of numbers")
        if a.size == 0:
            raise ValueError(f"{name} is empty")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} contains a value that is not finite (NaN or infinity)")
    if xa.ndim not in (2, 3):
        raise ValueError(f"x has {xa.ndim} dimension(s), expected 2 (H×W) or 3 (C_in×H×W)")
    if ka.ndim not in (2, 4):
        raise ValueError(
            f"k has {ka.ndim} dimension(s), expected 2 (KH×KW) or 4 (C_in×C_out×KH×KW, as PyTorch's ConvTranspose2d weight)"
        )
    plain = xa.ndim == 2 and ka.ndim == 2
    dtype = np.result_type(xa.dtype, ka.dtype, np.float32)
    x3 = (xa[None] if xa.ndim == 2 else xa).astype(dtype, copy=False)
    k4 = (ka[None, None] if ka.ndim == 2 else ka).astype(dtype, copy=False)
    if x3.shape[0] != k4.shape[0]:
        raise ValueError(
            f"channel mismatch: x has {x3.shape[0]} input channel(s) (C_in×H×W = {'×'.join(map(str, x3.shape))}) "
            f"but k has {k4.shape[0]} (C_in×C_out×KH×KW = {'×'.join(map(str, k4.shape))}); "
            "the first axis of k must equal the channel axis of x"
        )
    return x3, k4, plain


def _pairs(stride, padding, output_padding, dilation) -> tuple[Pair, Pair, Pair, Pair]:
    return (
        as_pair(stride, "stride"),
        as_pair(padding, "padding"),
        as_pair(output_padding, "output padding"),
        as_pair(dilation, "dilation"),
    )


def transposed_conv(x: Any, k: Any, stride=1, padding=0, output_padding=0, dilation=1) -> np.ndarray:
    """The transposed convolution, vectorised: ``conv_transpose2d`` without the batch axis.

    For each kernel tap (a, b) one matrix product gives every input element's
    contribution k[:, :, a, b]ᵀ·x, added into the output at rows a·d + i·s (a strided
    slice); the padding is then cut from both sides.  No matrix C is built, so this is
    the path for large inputs.  The dtype follows the inputs (at least float32).

    x: H×W or C_in×H×W; k: KH×KW or C_in×C_out×KH×KW.  Returns C_out×H_out×W_out, or
    H_out×W_out when neither input had channels.
    """
    x3, k4, plain = as_channels(x, k)
    (s1, s2), (p1, p2), (op1, op2), (d1, d2) = _pairs(stride, padding, output_padding, dilation)
    c_in, h, w = x3.shape
    _, c_out, kh, kw = k4.shape
    shape = tconv_shape((h, w), (kh, kw), (s1, s2), (p1, p2), (op1, op2), (d1, d2))
    h_out, w_out = shape.output_size
    full_h = (h - 1) * s1 + d1 * (kh - 1) + 1 + op1
    full_w = (w - 1) * s2 + d2 * (kw - 1) + 1 + op2
    full = np.zeros((c_out, full_h, full_w), dtype=x3.dtype)
    flat = x3.reshape(c_in, h * w)
    buffer = np.empty((c_out, h * w), dtype=x3.dtype)
    for a in range(kh):
        for b in range(kw):
            np.matmul(k4[:, :, a, b].T, flat, out=buffer)
            full[:, a * d1 : a * d1 + (h - 1) * s1 + 1 : s1, b * d2 : b * d2 + (w - 1) * s2 + 1 : s2] += buffer.reshape(c_out, h, w)
    out = full[:, p1 : p1 + h_out, p2 : p2 + w_out]
    return np.ascontiguousarray(out[0] if plain else out)


@dataclass(frozen=True, eq=False)
class ScatterTerm:
    """One input element times the kernel, placed with its top-left tap at (i·s − p, j·s − p).

    ``rows``/``cols`` are the output positions of the kernel's taps (i·s − p + a·d),
    some possibly outside the output (cut off by the padding); ``patch`` is
    value·k[channel] (C_out×KH×KW).
    """

    channel: int
    row: int
    col: int
    value: float
    rows: tuple[int, ...]
    cols: tuple[int, ...]
    patch: np.ndarray
    value_exact: Fraction | None = None
    patch_exact: Any = None  # nested lists of Fraction, C_out×KH×KW


def scatter_terms(x: Any, k: Any, stride=1, padding=0, output_padding=0, dilation=1) -> tuple[ScatterTerm, ...]:
    """Every input element's contribution, by the definition (a loop over the elements).

    Channels are summed in the output, so with C_in > 1 each output channel receives
    one term per input channel and position.
    """
    x3, k4, _ = as_channels(x, k)
    (s1, s2), (p1, p2), _, (d1, d2) = _pairs(stride, padding, output_padding, dilation)
    c_in, h, w = x3.shape
    _, _, kh, kw = k4.shape
    terms = []
    for c in range(c_in):
        for i in range(h):
            for j in range(w):
                value = x3[c, i, j]
                terms.append(
                    ScatterTerm(
                        channel=c,
                        row=i,
                        col=j,
                        value=float(value),
                        rows=tuple(i * s1 - p1 + a * d1 for a in range(kh)),
                        cols=tuple(j * s2 - p2 + b * d2 for b in range(kw)),
                        patch=value * k4[c],
                    )
                )
    return tuple(terms)


def sum_terms(terms: Sequence[ScatterTerm], c_out: int, output_size: Pair, exact: bool = False) -> np.ndarray:
    """Add the placed patches into a C_out×H_out×W_out array (object array of Fractions when ``exact``)."""
    h_out, w_out = output_size
    if exact:
        out = np.empty((c_out, h_out, w_out), dtype=object)
        out[...] = Fraction(0)
    else:
        dtype = terms[0].patch.dtype if terms else float
        out = np.zeros((c_out, h_out, w_out), dtype=dtype)
    for t in terms:
        patch = np.array(t.patch_exact, dtype=object) if exact else t.patch
        for a, r in enumerate(t.rows):
            if not 0 <= r < h_out:
                continue
            for b, q in enumerate(t.cols):
                if 0 <= q < w_out:
                    out[:, r, q] += patch[:, a, b]
    return out


# --------------------------------------------------------------------------- matrix


@dataclass(frozen=True, eq=False)
class MatrixEntries:
    """C in coordinate form: C[rows[n], cols[n]] = values[n] (each (row, col) at most once)."""

    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray
    taps: np.ndarray  # flat index into the kernel C_in×C_out×KH×KW that each entry holds
    shape: Pair


def conv_matrix_entries(k: Any, input_size: int | Sequence[int], stride=1, padding=0, output_padding=0, dilation=1) -> MatrixEntries:
    """The nonzero pattern of C, the matrix of the matching direct convolution.

    ``input_size`` is the size of the transposed convolution's input (= the direct
    convolution's output).  Row (c, i, j) of C is a conv output = input element x[c, i, j];
    column (o, r, q) a conv input = output element y[o, r, q]; the entry is
    k[c, o, a, b] where r = i·s − p + a·d and q = j·s − p + b·d.
    """
    ka = np.asarray(k)
    k4 = ka[None, None] if ka.ndim == 2 else ka
    if k4.ndim != 4:
        raise ValueError(f"k has {ka.ndim} dimension(s), expected 2 (KH×KW) or 4 (C_in×C_out×KH×KW)")
    c_in, c_out, kh, kw = k4.shape
    (s1, s2), (p1, p2), (op1, op2), (d1, d2) = _pairs(stride, padding, output_padding, dilation)
    # the index arithmetic below is int64: sizes alone may be huge, values need them < 2^31
    if max(abs(int(v)) for v in (s1, s2, p1, p2, op1, op2, d1, d2)) > 2**31:
        raise ValueError("stride, padding and dilation above 2^31 work for sizes only; with values (--x, --k) they must be ≤ 2147483648")
    h, w = as_pair(input_size, "input size")
    h_out, w_out = tconv_shape((h, w), (kh, kw), (s1, s2), (p1, p2), (op1, op2), (d1, d2)).output_size
    ci = np.arange(c_in).reshape(-1, 1, 1, 1, 1, 1)
    i1 = np.arange(h).reshape(1, -1, 1, 1, 1, 1)
    i2 = np.arange(w).reshape(1, 1, -1, 1, 1, 1)
    co = np.arange(c_out).reshape(1, 1, 1, -1, 1, 1)
    a = np.arange(kh).reshape(1, 1, 1, 1, -1, 1)
    b = np.arange(kw).reshape(1, 1, 1, 1, 1, -1)
    r = i1 * s1 - p1 + a * d1
    q = i2 * s2 - p2 + b * d2
    full = (c_in, h, w, c_out, kh, kw)
    keep = np.broadcast_to((r >= 0) & (r < h_out) & (q >= 0) & (q < w_out), full)
    rows = np.broadcast_to((ci * h + i1) * w + i2, full)[keep]
    cols = np.broadcast_to((co * h_out + r) * w_out + q, full)[keep]
    taps = np.broadcast_to(((ci * c_out + co) * kh + a) * kw + b, full)[keep]
    return MatrixEntries(rows, cols, k4.reshape(-1)[taps], taps, (c_in * h * w, c_out * h_out * w_out))


def conv_matrix(k: Any, input_size: int | Sequence[int], stride=1, padding=0, output_padding=0, dilation=1) -> np.ndarray:
    """The dense matrix C of the matching direct convolution, (C_in·H·W) × (C_out·H_out·W_out).

    y = Cᵀ·vec(x) is the transposed convolution (vec in row-major order: channel, row,
    column).  A 2×2 kernel on a 2×2 input (the conv on 3×3) gives a 4×9 C whose rows
    are the shifted kernel:

    >>> conv_matrix([[1, 2], [3, 4]], 2).astype(int)
    array([[1, 2, 0, 3, 4, 0, 0, 0, 0],
           [0, 1, 2, 0, 3, 4, 0, 0, 0],
           [0, 0, 0, 1, 2, 0, 3, 4, 0],
           [0, 0, 0, 0, 1, 2, 0, 3, 4]])
    """
    entries = conv_matrix_entries(k, input_size, stride, padding, output_padding, dilation)
    n_rows, n_cols = entries.shape
    if n_rows * n_cols > 50 * DENSE_MATRIX_LIMIT:
        raise ValueError(
            f"C would be {n_rows}×{n_cols} = {n_rows * n_cols} entries, too large to build densely; "
            "use conv_matrix_entries (coordinate form) or transposed_conv"
        )
    dense = np.zeros(entries.shape, dtype=np.result_type(entries.values.dtype, np.float32))
    dense[entries.rows, entries.cols] = entries.values
    return dense


def conv_matrix_taps(kernel: int | Sequence[int], input_size: int | Sequence[int], stride=1, padding=0, output_padding=0, dilation=1) -> np.ndarray:
    """C with symbols: the kernel tap (a·KW + b) each entry holds, −1 where C is 0.

    For showing C with k00, k01, … when no kernel values are given (one channel).
    """
    kh, kw = as_pair(kernel, "kernel size")
    entries = conv_matrix_entries(np.zeros((kh, kw)), input_size, stride, padding, output_padding, dilation)
    taps = np.full(entries.shape, -1, dtype=np.int64)
    taps[entries.rows, entries.cols] = entries.taps
    return taps


# --------------------------------------------------------------------------- result


@dataclass(frozen=True, eq=False)
class TconvResult(WorkedSolution):
    """A transposed convolution with values, computed by scattering and as y = Cᵀ·vec(x).

    ``x`` is C_in×H×W and ``k`` C_in×C_out×KH×KW (channel axes added when absent;
    ``plain`` says neither input had them); ``output`` is C_out×H_out×W_out.
    ``matrix_mode`` is ``"dense"`` (C built: ``matrix``), ``"sparse"`` (the product
    checked with C in coordinate form, not stored) or ``"skipped"`` (too large).
    """

    shape: TconvShape
    x: np.ndarray
    k: np.ndarray
    plain: bool
    output: np.ndarray
    terms: tuple[ScatterTerm, ...]
    scatter_method: str  # "terms" (element by element) or "vectorised" (per kernel tap)
    matrix_shape: Pair
    matrix_mode: str
    matrix: np.ndarray | None
    matrix_output: np.ndarray | None
    max_difference: float | None
    x_ndim: int  # as given: 2 (H×W) or 3 (C_in×H×W)
    k_ndim: int  # as given: 2 (KH×KW) or 4
    output_exact: Any = None  # C_out×H_out×W_out object array of Fraction, or None
    x_exact: Any = None
    k_exact: Any = None
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def input_shape(self) -> list[int]:
        return list(self.x.shape[1:]) if self.x_ndim == 2 else list(self.x.shape)

    @property
    def output_shape(self) -> list[int]:
        return list(self.output.shape[1:]) if self.plain else list(self.output.shape)

    @property
    def agree(self) -> bool | None:
        if self.matrix_output is None:
            return None
        # an entry that overflows (inf, or inf − inf = NaN) in one form may not in the other,
        # the sums running in another order (1e308 + 1e308 − 1e308): compared where both are
        # finite; the overflow itself is a warning of the result
        finite = np.isfinite(self.output) & np.isfinite(self.matrix_output)
        a, b = self.output[finite], self.matrix_output[finite]
        if a.size == 0:
            return True
        return bool(np.allclose(a, b, rtol=1e-9, atol=1e-9 * (1 + float(np.max(np.abs(a))))))

    @property
    def steps(self) -> tuple[str, ...]:
        return self.shape.steps


def _exact_array(values: Any, floats: np.ndarray) -> np.ndarray:
    """Fractions for each entry: the given exact values, or the decimal each float prints as."""
    if values is not None:
        arr = np.empty(floats.shape, dtype=object)
        flat = np.asarray(values, dtype=object).reshape(-1)
        arr.reshape(-1)[:] = [v if isinstance(v, Fraction) else Fraction(repr(float(v))) for v in flat]
        return arr
    arr = np.empty(floats.shape, dtype=object)
    arr.reshape(-1)[:] = [Fraction(repr(float(v))) for v in floats.reshape(-1)]
    return arr


def tconv(
    x: Any,
    k: Any,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    output_padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    *,
    exact: bool = False,
    x_exact: Any = None,
    k_exact: Any = None,
) -> TconvResult:
    """A transposed convolution computed twice: by scattering and as y = Cᵀ·vec(x).

    Small inputs are scattered element by element (the terms are kept for the worked
    solution); larger ones per kernel tap (:func:`transposed_conv`).  C is built densely
    when it has at most ``DENSE_MATRIX_LIMIT`` entries, used in coordinate form up to
    ``SPARSE_MATRIX_LIMIT`` placements, and not at all beyond (a large input, say
    64×512×512, never builds C).  With ``exact`` the output is also computed in
    fractions (``x_exact``/``k_exact`` give the exact inputs; else each float's decimal).

    >>> r = tconv([[1, 2], [3, 4]], [[1, 1], [1, 1]])
    >>> r.output[0].astype(int).tolist(), r.matrix_shape, r.agree  # output is C_out×H_out×W_out
    ([[1, 3, 2], [4, 10, 6], [3, 7, 4]], (4, 9), True)
    """
    x_arr, k_arr = np.asarray(x), np.asarray(k)
    x3, k4, plain = as_channels(x_arr, k_arr)
    (s, p, op, d) = _pairs(stride, padding, output_padding, dilation)
    c_in, h, w = x3.shape
    _, c_out, kh, kw = k4.shape
    shape = tconv_shape((h, w), (kh, kw), s, p, op, d)
    h_out, w_out = shape.output_size
    placements = c_in * h * w * c_out * kh * kw
    warnings: list[str] = []

    terms: tuple[ScatterTerm, ...] = ()
    if c_in * h * w <= STEP_ELEMENT_LIMIT and placements <= STEP_PLACEMENT_LIMIT:
        terms = scatter_terms(x3, k4, s, p, op, d)
        output = sum_terms(terms, c_out, (h_out, w_out))
        method = "terms"
    else:
        output = transposed_conv(x3, k4, s, p, op, d)
        method = "vectorised"

    output_exact = xe = ke = None
    if exact:
        if placements <= EXACT_PLACEMENT_LIMIT:
            xe = _exact_array(x_exact, x3)
            ke = _exact_array(k_exact, k4)
            exact_terms = []
            for t in terms or scatter_terms(x3, k4, s, p, op, d):
                v = xe[t.channel, t.row, t.col]
                exact_terms.append(
                    ScatterTerm(t.channel, t.row, t.col, t.value, t.rows, t.cols, t.patch, v, (v * ke[t.channel]).tolist())
                )
            if terms:
                terms = tuple(exact_terms)
            output_exact = sum_terms(exact_terms, c_out, (h_out, w_out), exact=True)
        else:
            warnings.append(f"--exact: {placements} kernel placements are too many for exact fractions; decimals shown")

    n_rows, n_cols = c_in * h * w, c_out * h_out * w_out
    matrix = matrix_output = None
    difference = None
    if n_rows * n_cols <= DENSE_MATRIX_LIMIT:
        matrix = conv_matrix(k4, (h, w), s, p, op, d)
        matrix_output = (matrix.T @ x3.reshape(-1)).reshape(c_out, h_out, w_out)
        mode = "dense"
    elif placements <= SPARSE_MATRIX_LIMIT:
        entries = conv_matrix_entries(k4, (h, w), s, p, op, d)
        flat_x = x3.reshape(-1)
        matrix_output = np.bincount(entries.cols, weights=entries.values * flat_x[entries.rows], minlength=n_cols)
        matrix_output = matrix_output.reshape(c_out, h_out, w_out)
        mode = "sparse"
    else:
        mode = "skipped"
    if matrix_output is not None:
        both = np.isfinite(output) & np.isfinite(matrix_output)
        difference = float(np.max(np.abs(output - matrix_output)[both], initial=0.0))
    not_finite = ~np.isfinite(output) if matrix_output is None else ~(np.isfinite(output) & np.isfinite(matrix_output))
    overflowed = int(np.count_nonzero(not_finite))
    if overflowed:
        warnings.append(
            f"{overflowed} output value{'s' if overflowed > 1 else ''} overflowed (not finite): the products of x and k, "
            "or their sums, are too large for floating point"
            + ("; the exact fractions are shown" if output_exact is not None else "")
        )

    result = TconvResult(
        shape=shape,
        x=x3,
        k=k4,
        plain=plain,
        output=output,
        terms=terms,
        scatter_method=method,
        matrix_shape=(n_rows, n_cols),
        matrix_mode=mode,
        matrix=matrix,
        matrix_output=matrix_output,
        max_difference=difference,
        output_exact=output_exact,
        x_exact=xe,
        k_exact=ke,
        warnings=tuple(warnings),
        x_ndim=x_arr.ndim,
        k_ndim=k_arr.ndim,
    )
    if result.agree is False:
        raise RuntimeError(f"scatter and matrix forms disagree by {difference} (a bug in dlv)")
    return result


# --------------------------------------------------------------------------- solve


@dataclass(frozen=True)
class Solution:
    """One assignment of (kernel, stride, padding, output padding, dilation) giving the output size."""

    kernel: int
    stride: int
    padding: int
    output_padding: int
    dilation: int
    conv_size: int  # what the direct conv with these parameters maps the output size back to
    input_size: int
    output_size: int
    axis: str | None = None  # "H"/"W" when the axes were solved separately

    @property
    def round_trip(self) -> bool:
        return self.conv_size == self.input_size

    @property
    def companion(self) -> Step:
        return companion_step(
            self.axis or "H", self.input_size, self.output_size, self.kernel, self.stride, self.padding, self.output_padding, self.dilation
        )

    @property
    def companion_note(self) -> str:
        return companion_note(self.input_size, self.output_size, self.stride, self.output_padding, self.dilation)


@dataclass(frozen=True)
class SolveResult(WorkedSolution):
    """Every assignment of the unknown parameters that gives ``output_size`` from ``input_size``.

    ``unknown`` names the parameters searched; ``given`` the fixed ones (per axis).
    ``square`` says both axes are the same problem, in which case ``solutions`` holds
    one axis's assignments with ``axis`` None; otherwise each axis's, labelled.
    """

    input_size: Pair
    output_size: Pair
    unknown: tuple[str, ...]
    given: dict
    square: bool
    solutions: tuple[Solution, ...]
    bounds: tuple[str, ...]
    warnings: tuple[str, ...] = ()

    def equation(self, axis: int = 0) -> str:
        """The size equation with the given parameters substituted and the unknowns as symbols."""
        def term(name: str, symbol: str) -> str:
            value = self.given[name]
            return symbol if value is None else str(value[axis])

        k, s, p, op, d = (term(n, sym) for n, sym in zip((*PARAMETERS, "dilation"), ("k", "s", "p", "op", "d")))
        twice_p = "2p" if p == "p" else f"2·{p}"
        return f"({self.input_size[axis]} − 1)·{s} − {twice_p} + {d}·({k} − 1) + {op} + 1 = {self.output_size[axis]}"

    @property
    def steps(self) -> tuple[str, ...]:
        """The size equation per axis (once when both axes are the same problem)."""
        axes = (0,) if self.square else (0, 1)
        return tuple(f"{AXES[a]}_out = ({AXES[a]} − 1)·s − 2p + d·(k − 1) + op + 1: {self.equation(a)}" for a in axes)


PARAMETERS = ("kernel", "stride", "padding", "output_padding")


def solve_axis(
    input_size: int,
    output_size: int,
    kernel: int | None = None,
    stride: int | None = None,
    padding: int | None = None,
    output_padding: int | None = None,
    dilation: int = 1,
    axis: str | None = None,
    limit: int = SOLUTION_LIMIT,
) -> tuple[Solution, ...]:
    """All (kernel, stride, padding, output padding) with H_out = (H − 1)·s − 2p + d(k − 1) + op + 1.

    None marks an unknown.  Search space (docs/tconv.md): kernel 1..2·H_out, stride
    1..H_out, padding ≥ 0, 0 ≤ op < max(s, d); dilation fixed.  For each (k, s) the
    padding and output padding follow from 2p − op = (H − 1)·s + d(k − 1) + 1 − H_out,
    so the enumeration is exact without a bound on p.  Sorted by kernel, stride,
    padding, output padding.
    """
    h, n, d = int(input_size), int(output_size), int(dilation)
    where = f" ({axis} axis)" if axis else ""
    if h < 1:
        raise ValueError(f"input size{where} is {h}: it must be a whole number ≥ 1")
    if n < 1:
        raise ValueError(f"output size{where} is {n}: it must be a whole number ≥ 1")
    if d < 1:
        raise ValueError(f"dilation{where} is {d}: it must be a whole number ≥ 1")
    if kernel is not None and not 1 <= kernel <= 2 * n:
        raise ValueError(f"kernel {kernel}{where} is larger than allowed: --solve takes kernel 1..2·H_out = 1..{2 * n}")
    if stride is not None and not 1 <= stride <= n:
        raise ValueError(f"stride {stride}{where} is larger than allowed: --solve takes stride 1..H_out = 1..{n}")
    if padding is not None and padding < 0:
        raise ValueError(f"padding {padding}{where} is negative: it must be ≥ 0")
    if output_padding is not None and output_padding < 0:
        raise ValueError(f"output padding {output_padding}{where} is negative: it must be ≥ 0")
    if output_padding is not None and stride is not None and output_padding >= max(stride, d):
        raise ValueError(
            f"output padding {output_padding}{where} must be smaller than the stride ({stride}) or the dilation ({d}): "
            f"op < max(s, d) = {max(stride, d)}"
        )
    found = _solve_axis_search(h, n, d, kernel, stride, padding, output_padding, where, limit)
    found.sort()
    return tuple(
        Solution(kv, sv, pv, ov, d, conv_output_size(n, kv, sv, pv, d), h, n, axis) for kv, sv, pv, ov in found
    )


def _first_true(low: int, high: int, predicate) -> int:
    """The smallest s in [low, high] with ``predicate(s)`` (false, …, false, true, …), or high + 1."""
    while low <= high:
        middle = (low + high) // 2
        if predicate(middle):
            high = middle - 1
        else:
            low = middle + 1
    return low


def _solve_axis_search(
    h: int, n: int, d: int, kernel: int | None, stride: int | None, padding: int | None, output_padding: int | None, where: str,
    budget: int = SOLUTION_LIMIT,
) -> list[tuple[int, int, int, int]]:
    """Every (k, s, p, op) for :func:`solve_axis`, in work proportional to the number found.

    With q = (H − 1)·s + d·(k − 1) + 1 − H_out the size equation is 2p − op = q, so for a
    stride s the values of q that have a solution form a range (op < L = max(s, d)):

    ===========================  ==================================  ===================
    given                        q                                   (p, op) per q
    ===========================  ==================================  ===================
    neither p nor op             q ≥ 1 − L                           op ≡ q (mod 2)
    op                           q ≥ −op, q + op even, op < L        one
    p                            2p − L < q ≤ 2p                     one: op = 2p − q
    both                         q = 2p − op, op < L                 one
    ===========================  ==================================  ===================

    q grows with k in steps of d, so each stride has a window of kernels, whose ends
    do not grow with s: the strides with a non-empty window are one interval, found
    by bisection, and no stride without a solution is looked at (with p and op both
    given, only the strides that make (q − (H − 1)·s − 1 + H_out)/d whole are taken).
    Huge sizes (H_out = 10¹²) therefore cost nothing unless they have many answers,
    and more than ``SOLUTION_LIMIT`` answers raise ``ValueError`` before they are built.
    """
    k_min, k_max = (1, 2 * n) if kernel is None else (kernel, kernel)
    s_min, s_max = (1, n) if stride is None else (stride, stride)
    c = 1 - n  # q = (h − 1)·s + d·(k − 1) + c

    def too_many() -> ValueError:
        both = " (both axes together)" if budget < SOLUTION_LIMIT else ""
        return ValueError(
            f"more than {SOLUTION_LIMIT} assignments give output {n}{where}{both}; give more of --kernel, --stride, "
            "--padding, --output-padding"
        )

    def q_range(s: int) -> tuple[int | None, int | None] | None:
        """(lowest, highest) q with a solution at stride s (None: no bound), or None: none at all."""
        limit = max(s, d)
        if output_padding is not None and output_padding >= limit:
            return None
        if padding is None:
            return (1 - limit, None) if output_padding is None else (-output_padding, None)
        if output_padding is None:
            return (2 * padding - limit + 1, 2 * padding)
        return (2 * padding - output_padding, 2 * padding - output_padding)

    def window(s: int) -> tuple[int, int] | None:
        """The kernels whose q is in range at stride s, unclipped (the high end may be None)."""
        bounds = q_range(s)
        if bounds is None:
            return None
        base = (h - 1) * s + c
        low = -((base - bounds[0]) // d) + 1  # ⌈(q_low − base)/d⌉ + 1
        high = None if bounds[1] is None else (bounds[1] - base) // d + 1
        return low, high

    # the strides whose window meets [k_min, k_max]: q_range is not None and the low end
    # ≤ k_max (both hold from some stride on), and the high end ≥ k_min (up to some stride)
    def starts(s: int) -> bool:
        w = window(s)
        return w is not None and w[0] <= k_max

    def ends(s: int) -> bool:
        w = window(s)
        return w is not None and w[1] is not None and w[1] < k_min

    first = _first_true(s_min, s_max, starts)
    last = _first_true(first, s_max, ends) - 1
    step = 1
    if padding is not None and output_padding is not None and first <= last:
        # k − 1 = (q − (h − 1)·s − c)/d must be whole: (h − 1)·s ≡ q − c (mod d)
        q = 2 * padding - output_padding
        g = math.gcd(h - 1, d)
        if (q - c) % g:
            return []
        step = d // g
        if step > 1:
            residue = ((q - c) // g) * pow((h - 1) // g, -1, step) % step
            first += (residue - first) % step
    elif padding is None and output_padding is not None and (h - 1) % 2 == 0 and (d % 2 == 0 or k_min == k_max):
        # q + op even: its parity is the same at every stride, so check one
        if first <= last and ((h - 1) * first + d * (k_max - 1) + c + output_padding) % 2:
            return []

    # every stride looked at has a solution when p is given, and when neither p nor op is
    # (except s = 1 with d = 1, where op = 0 needs an even q): count them before listing
    # With op given and no p, the parity of q + op decides: fixed at every stride when
    # (h − 1) is even and so is d (or k is given), alternating when (h − 1) is odd.
    strides = len(range(first, last + 1, step))
    if padding is not None:
        guaranteed = strides
    elif output_padding is None:
        guaranteed = strides - 1
    elif d % 2 == 0 or k_min == k_max:
        guaranteed = strides if (h - 1) % 2 == 0 else strides // 2
    else:
        guaranteed = 0
    if guaranteed > budget:
        raise too_many()

    found: list[tuple[int, int, int, int]] = []
    scanned = 0
    for s in range(first, last + 1, step):
        scanned += 1
        if scanned > STRIDE_SCAN_LIMIT:
            raise ValueError(
                f"the search for output {n}{where} is too large (more than {STRIDE_SCAN_LIMIT} strides); "
                "give more of --kernel, --stride, --padding, --output-padding"
            )
        low, high = window(s)
        low, high = max(low, k_min), k_max if high is None else min(high, k_max)
        if low > high:
            continue
        limit = max(s, d)
        base = (h - 1) * s + c
        if padding is None and output_padding is None:
            # every kernel of the window has a solution, except with L = 1 (op = 0 only) an odd q
            at_least = (high - low + 1) // 2 if limit == 1 else high - low + 1
        elif padding is None:
            # q + op must be even: all kernels when d is even (or one kernel), else every other one
            if d % 2 == 0 or low == high:
                at_least = (high - low + 1) if (base + d * (low - 1) + output_padding) % 2 == 0 else 0
            else:
                at_least = (high - low + 1) // 2
        else:
            at_least = high - low + 1
        if len(found) + at_least > budget:
            raise too_many()
        for k in range(low, high + 1):
            q = base + d * (k - 1)
            if padding is not None:
                op = 2 * padding - q if output_padding is None else output_padding
                if 0 <= op < limit and q + op == 2 * padding:
                    found.append((k, s, padding, op))
            elif output_padding is not None:
                if q + output_padding >= 0 and (q + output_padding) % 2 == 0:
                    found.append((k, s, (q + output_padding) // 2, output_padding))
            else:
                first_op = max(0, -q)
                first_op += (q + first_op) % 2
                count = max(0, (limit - first_op + 1) // 2)
                if len(found) + count > budget:
                    raise too_many()
                found.extend((k, s, (q + op) // 2, op) for op in range(first_op, limit, 2))
    return found


def tconv_solve(
    input_size: int | Sequence[int],
    output_size: int | Sequence[int],
    kernel: int | Sequence[int] | None = None,
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] | None = None,
    output_padding: int | Sequence[int] | None = None,
    dilation: int | Sequence[int] = 1,
) -> SolveResult:
    """Every assignment of the parameters left as None that maps ``input_size`` to ``output_size``.

    Each argument is one number or (H, W).  When both axes pose the same problem the
    solutions are listed once; otherwise per axis (``Solution.axis``).

    >>> [(s.kernel, s.stride) for s in tconv_solve(3, 7, padding=0, output_padding=0).solutions]
    [(1, 3), (3, 2), (5, 1)]
    """
    sizes = as_pair(input_size, "input size")
    outs = as_pair(output_size, "output size")
    given = {
        "kernel": None if kernel is None else as_pair(kernel, "kernel size"),
        "stride": None if stride is None else as_pair(stride, "stride"),
        "padding": None if padding is None else as_pair(padding, "padding"),
        "output_padding": None if output_padding is None else as_pair(output_padding, "output padding"),
        "dilation": as_pair(dilation, "dilation"),
    }
    unknown = tuple(name for name in PARAMETERS if given[name] is None)

    def axis_args(a: int) -> tuple:
        return (sizes[a], outs[a]) + tuple(None if given[n] is None else given[n][a] for n in PARAMETERS) + (given["dilation"][a],)

    square = axis_args(0) == axis_args(1)
    if square:
        solutions = solve_axis(*axis_args(0))
    else:
        first = solve_axis(*axis_args(0), axis="H")
        # at most SOLUTION_LIMIT in all, not per axis (2 million rows of JSON is gigabytes)
        solutions = first + solve_axis(*axis_args(1), axis="W", limit=SOLUTION_LIMIT - len(first))
    bounds = []
    for a in (0,) if square else (0, 1):
        n = outs[a]
        ranges = {
            "kernel": f"kernel 1..2·H_out = 1..{2 * n}",
            "stride": f"stride 1..H_out = 1..{n}",
            "padding": "padding ≥ 0 (any that leaves the output ≥ 1)",
            "output_padding": "0 ≤ output padding < max(stride, dilation)",
        }
        searched = [ranges[name] for name in unknown] or ["nothing: every parameter is given, so this checks them"]
        bounds.append(", ".join(searched) + f"; dilation {given['dilation'][a]}")
    return SolveResult(sizes, outs, unknown, given, square, solutions, tuple(bounds))
