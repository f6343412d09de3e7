"""``dlv tconv``: transposed convolution — output size, values, the matrix form, solving (docs/tconv.md)."""

from typing import Annotated, Any, Optional

from dlvcli.cli.common import prepare, shared_options
from dlvcli.cli.params import Command, Context, Option
from dlvcli.errors import InputError

HELP = """Transposed convolution (PyTorch ConvTranspose2d), step by step.

Output size per axis: H_out = (H − 1)·s − 2p + d·(k − 1) + op + 1, with the numbers
substituted, and the direct convolution with the same parameters as a check
(⌊(H_out + 2p − d·(k − 1) − 1)/s⌋ + 1 gives H back when op < s).

With values --x (H×W or C_in×H×W) and --k (KH×KW, or C_in×C_out×KH×KW as the
ConvTranspose2d weight): the output by scattering (each x element times the kernel,
placed at stride offsets) and again as y = Cᵀ·vec(x), C being the matrix of the
matching direct convolution (2×2 kernel, 2×2 input: C is 4×9). --show-matrix prints C
and Cᵀ (with kernel symbols k00, k01, … when no --k is given).

--solve --output H_out: every value of the options left out (kernel 1..2·H_out,
stride 1..H_out, padding ≥ 0, output padding < max(stride, dilation); dilation is 1
unless given) that gives that size.

Sizes and parameters are one number or AxB (H, then W): --input 3 or --input 3x4.

Examples:

  dlv tconv --input 3 --kernel 3 --stride 2

  dlv tconv --x '[[1,2],[3,4]]' --k '[[1,0],[0,1]]' --show-matrix

  dlv tconv --input 3 --output 7 --padding 0 --output-padding 0 --solve

  dlv tconv -c sample_inputs/tconv_matrix_2x2.yaml --json
"""

PARAMETERS = "Parameters"
# with --x/--k the output values are computed (and printed) only up to this many (32 MB of floats;
# the JSON of that many is already 20 MB)
OUTPUT_VALUE_LIMIT = 4_000_000
VALUES = "Values"
SOLVE = "Solving for parameters"


def commands() -> tuple[Command, ...]:
    """This module's commands (the functions below, with the shared options they take)."""
    return (
        Command("tconv", tconv, help=HELP, shared=shared_options()),
    )


def tconv(
    ctx: Context,
    input_size: Annotated[
        Optional[str],
        Option("--input", metavar="H|HxW", help="Input size (taken from --x when given).", rich_help_panel=PARAMETERS),
    ] = None,
    kernel: Annotated[
        Optional[str],
        Option("--kernel", metavar="K|KHxKW", help="Kernel size (taken from --k when given).", rich_help_panel=PARAMETERS),
    ] = None,
    stride: Annotated[
        Optional[str], Option("--stride", metavar="S|AxB", help="Stride [default: 1].", rich_help_panel=PARAMETERS)
    ] = None,
    padding: Annotated[
        Optional[str],
        Option("--padding", metavar="P|AxB", help="Padding cut from each side of the output [default: 0].", rich_help_panel=PARAMETERS),
    ] = None,
    output_padding: Annotated[
        Optional[str],
        Option(
            "--output-padding",
            metavar="OP|AxB",
            help="Extra rows/columns at the bottom/right, 0 ≤ op < max(stride, dilation) [default: 0].",
            rich_help_panel=PARAMETERS,
        ),
    ] = None,
    dilation: Annotated[
        Optional[str],
        Option("--dilation", metavar="D|AxB", help="Spacing between kernel taps [default: 1].", rich_help_panel=PARAMETERS),
    ] = None,
    x: Annotated[
        Optional[str],
        Option("--x", metavar="MATRIX", help="Input values: H×W or C_in×H×W, e.g. '[[1,2],[3,4]]'.", rich_help_panel=VALUES),
    ] = None,
    k: Annotated[
        Optional[str],
        Option(
            "--k",
            metavar="MATRIX",
            help="Kernel values: KH×KW, or C_in×C_out×KH×KW (PyTorch ConvTranspose2d weight).",
            rich_help_panel=VALUES,
        ),
    ] = None,
    show_matrix: Annotated[
        bool, Option("--show-matrix", help="Print C (the direct convolution's matrix) and Cᵀ with row/column labels.", rich_help_panel=VALUES)
    ] = False,
    solve: Annotated[
        bool,
        Option("--solve", help="Find every value of the parameters left out that gives --output.", rich_help_panel=SOLVE),
    ] = False,
    output: Annotated[
        Optional[str], Option("--output", metavar="H_out|HxW", help="Target output size for --solve.", rich_help_panel=SOLVE)
    ] = None,
    **shared: Any,
) -> None:
    params, settings = prepare(ctx)
    from dlvcli.render.output import emit
    from dlvcli.render.tconv import TconvView

    given = {
        "stride": parse_pair(params["stride"], "--stride", low=1),
        "padding": parse_pair(params["padding"], "--padding", low=0),
        "output_padding": parse_pair(params["output_padding"], "--output-padding", low=0),
        "dilation": parse_pair(params["dilation"], "--dilation", low=1),
    }
    size = parse_pair(params["input_size"], "--input", low=1)
    kernel_size = parse_pair(params["kernel"], "--kernel", low=1)
    target = parse_pair(params["output"], "--output", low=1)
    inputs: dict[str, Any] = {"input": size, "kernel": kernel_size, **given, "x": None, "k": None}
    inputs.update(show_matrix=params["show_matrix"], solve=params["solve"], output=target)
    view = TconvView(show_matrix=params["show_matrix"])

    if params["solve"]:
        from dlvcli.core.tconv import tconv_solve

        for flag, value in (("--x", params["x"]), ("--k", params["k"]), ("--plot", settings.plot)):
            if value is not None:
                raise InputError(f"{flag} does not go with --solve: --solve works on sizes only (leave out {flag})")
        if params["show_matrix"]:
            raise InputError("--show-matrix does not go with --solve: the matrix needs every parameter fixed")
        if size is None:
            raise InputError("missing --input: --solve needs the input size H (or HxW)")
        if target is None:
            raise InputError("missing --output: --solve needs the output size H_out (or HxW) to solve for")
        result = tconv_solve(
            size,
            target,
            kernel=kernel_size,
            stride=given["stride"],
            padding=given["padding"],
            output_padding=given["output_padding"],
            dilation=given["dilation"] or (1, 1),
        )
        inputs["dilation"] = list(given["dilation"] or (1, 1))
        emit("tconv", inputs, result, view, settings)
        return

    if target is not None:
        raise InputError("--output is the target size for --solve; add --solve (or leave out --output)")
    resolved = {
        "stride": given["stride"] or (1, 1),
        "padding": given["padding"] or (0, 0),
        "output_padding": given["output_padding"] or (0, 0),
        "dilation": given["dilation"] or (1, 1),
    }
    inputs.update({name: list(value) for name, value in resolved.items()})

    if (params["x"] is None) != (params["k"] is None):
        missing, present = ("--k", "--x") if params["k"] is None else ("--x", "--k")
        raise InputError(f"missing {missing}: values need both --x and --k ({present} was given)")

    if params["x"] is None:
        from dlvcli.core.tconv import tconv_shape

        if settings.plot:
            raise InputError("--plot draws x, k, the output and C: give the values --x and --k")
        if size is None:
            raise InputError("missing --input: give the input size H (or HxW), or the values --x and --k")
        if kernel_size is None:
            raise InputError("missing --kernel: give the kernel size K (or KHxKW), or the values --x and --k")
        result = tconv_shape(size, kernel_size, symbolic_matrix=params["show_matrix"], **resolved)
        emit("tconv", inputs, result, view, settings)
        return

    from dlvcli.core.tconv import tconv as compute
    from dlvcli.inputs.values import parse_nested

    x_values = parse_nested(params["x"], "--x")
    k_values = parse_nested(params["k"], "--k")
    x_array = check_array(x_values, "--x", (2, 3), "H×W (a matrix) or C_in×H×W")
    k_array = check_array(k_values, "--k", (2, 4), "KH×KW (a matrix) or C_in×C_out×KH×KW (PyTorch's ConvTranspose2d weight)")
    x_hw = tuple(x_array.shape[-2:])
    k_hw = tuple(k_array.shape[-2:])
    if size is not None and tuple(size) != x_hw:
        raise InputError(f"--input {size[0]}x{size[1]} does not match --x, which is {x_hw[0]}×{x_hw[1]} (H×W); leave out --input or fix it")
    if kernel_size is not None and tuple(kernel_size) != k_hw:
        raise InputError(f"--kernel {kernel_size[0]}x{kernel_size[1]} does not match --k, which is {k_hw[0]}×{k_hw[1]} (KH×KW)")
    if x_array.ndim == 3 and k_array.ndim == 2 and x_array.shape[0] != 1:
        raise InputError(
            f"channel mismatch: --x has {x_array.shape[0]} channels but --k is a single KH×KW kernel (1 input channel); "
            "give --k as C_in×C_out×KH×KW"
        )
    inputs.update(input=list(x_hw), kernel=list(k_hw), x=x_values, k=k_values)
    from dlvcli.core.tconv import tconv_shape

    out_h, out_w = tconv_shape(x_hw, k_hw, **resolved).output_size
    channels = k_array.shape[1] if k_array.ndim == 4 else 1
    if channels * out_h * out_w > OUTPUT_VALUE_LIMIT:
        # a 2×2 x with --stride 1000000 asks for a 10¹²-value output (terabytes): refuse before allocating
        raise InputError(
            f"the output would be {channels}×{out_h}×{out_w} = {channels * out_h * out_w} values, more than the "
            f"{OUTPUT_VALUE_LIMIT} dlv computes (expected a smaller --stride, --dilation or --output-padding; "
            "leave out --x and --k for the output size alone)"
        )
    result = compute(x_array, k_array, exact=settings.exact, **resolved)
    if params["show_matrix"] and result.matrix is None:
        import dataclasses

        rows, cols = result.matrix_shape
        note = f"--show-matrix: C is {rows}×{cols}, too large to build, so it is not shown (JSON 'matrix' is null)"
        result = dataclasses.replace(result, warnings=result.warnings + (note,))
    emit("tconv", inputs, result, view, settings)


def parse_pair(value: Any, option: str, low: int) -> tuple[int, int] | None:
    """``3`` → (3, 3); ``3x4`` (or ``3×4``, ``3,4``, ``[3, 4]``) → (3, 4); None stays None."""
    if value is None:
        return None
    rule = f"expected a whole number ≥ {low} or AxB (H then W), e.g. 3 or 3x4"
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    for separator in ("x", "X", "×", ","):
        if separator in text:
            parts = [p.strip() for p in text.split(separator)]
            break
    else:
        parts = [text]
    if len(parts) not in (1, 2):
        raise InputError(f"{option} {value!r}: {rule}")
    numbers = []
    for part in parts:
        if part.lstrip("+-").isascii() and part.lstrip("+-").isdigit() and len(part) <= 300:
            number = int(part)  # exactly as typed: through a float, 99999999999999999999 would become 1e20
        else:
            try:
                real = float(part)
            except ValueError:
                raise InputError(f"{option} {value!r}: {part!r} is not a number; {rule}") from None
            if real != real or real in (float("inf"), float("-inf")):
                raise InputError(f"{option} {value!r}: {part} is not a finite number; {rule}")
            if not real.is_integer():
                raise InputError(f"{option} {value!r}: {part} is not a whole number; {rule}")
            number = int(real)
        if number < low:
            raise InputError(f"{option} {value!r}: {number} is below {low}; {rule}")
        numbers.append(number)
    return (numbers[0], numbers[-1])


def check_array(values: Any, option: str, ndims: tuple[int, ...], expected: str):
    """A parsed nested list as a numpy array of one of the allowed dimensions."""
    import numpy as np

    array = np.asarray(values, dtype=float)
    if array.ndim not in ndims:
        raise InputError(f"{option} has {array.ndim} dimension(s) (shape {'×'.join(map(str, array.shape)) or 'scalar'}), expected {expected}")
    return array
