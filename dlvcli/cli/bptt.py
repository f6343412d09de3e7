"""``dlv bptt``: backpropagation through time for an RNN, term by term (docs/bptt.md)."""

import enum
from typing import Annotated, Any, Optional

from dlvcli.cli.common import prepare, shared_options
from dlvcli.cli.params import Command, Context, Option
from dlvcli.errors import InputError

HELP = """Backpropagation through time for an RNN (tanh or ReLU, LSTM, GRU), worked term by term.

The tanh RNN (numbers, or matrices of any compatible sizes; --activation relu for ReLU):

\b
  a_t = U x_t + W h_(t-1) + b     h_t = tanh(a_t)
  z_t = V h_t + c                 ŷ_t = z_t (half-sse) or softmax(z_t) (softmax-ce)
  E_t = ½‖ŷ_t − y_t‖² or −log ŷ_t[y_t]     E = Σ_t E_t

Prints the forward table, then for each t the terms k = 1..t of ∂E_t/∂W and ∂E_t/∂U
(the Jacobian chain ∂h_t/∂h_k and its norm), ∂E_t/∂V, the totals, the closed nested
form for scalar models, and why long-range terms vanish. Above 50 steps the terms are
summarised unless --full. --plot FILE.png draws ‖∂h_t/∂h_k‖ against t − k.

--cell lstm or --cell gru: the same for an LSTM or GRU in torch.nn.LSTM / torch.nn.GRU
layout, gate by gate; --compare-cells puts the four cells' ‖∂h_T/∂h_(T−d)‖ side by side.

--symbolic --T 3 prints the course's exercise in symbols: for each t (part a, b, c …)
∂E_t/∂W, ∂E_t/∂U, ∂E_t/∂V by the chain rule, written out and in closed nested form,
then the totals, the general formula and the vanishing-gradient bound; with numbers,
each line is followed by its substitution and value.

Examples:

\b
  dlv bptt --symbolic --T 3
  dlv bptt --symbolic --T 3 --t 2 --bias --truncate 2
  dlv bptt --symbolic -c sample_inputs/bptt_course.yaml --format markdown
  dlv bptt --U 0.5 --W 0.8 --V 1.2 --x 1,0.5,-1 --y 0.2,0.1,0.3
  dlv bptt -c sample_inputs/bptt_course.yaml --check
  dlv bptt -c sample_inputs/bptt_vector_softmax.yaml --truncate 2 --json
  dlv bptt --U '[[1],[0.5]]' --W '[[0.5,0],[0.2,0.5]]' --V '[[1,-1]]' \\
           --x 1,0,-1 --y 0.5,0,0.2 --plot decay.png
"""

PARAMS = "Model"


class Cell(str, enum.Enum):
    rnn = "rnn"
    lstm = "lstm"
    gru = "gru"


class Activation(str, enum.Enum):
    tanh = "tanh"
    relu = "relu"


class Loss(str, enum.Enum):
    half_sse = "half-sse"
    softmax_ce = "softmax-ce"


def commands() -> tuple[Command, ...]:
    """This module's commands (the functions below, with the shared options they take)."""
    return (
        # every shared option but --exact (tanh of a rational is irrational)
        Command("bptt", bptt, help=HELP, shared=shared_options("config", "output_format", "json_output", "digits", "plot", "debug")),
    )


def _matrix_option(name: str, text: str):
    return Option(f"--{name}", metavar="NUM|MATRIX", help=text, show_default=False, rich_help_panel=PARAMS)


def bptt(
    ctx: Context,
    U: Annotated[Optional[str], _matrix_option("U", "Input weights: a number, or a matrix hidden × input, e.g. '[[1],[0.5]]'.")] = None,
    W: Annotated[Optional[str], _matrix_option("W", "Recurrent weights: a number, or a matrix hidden × hidden.")] = None,
    V: Annotated[Optional[str], _matrix_option("V", "Output weights: a number, or a matrix output × hidden.")] = None,
    b: Annotated[
        Optional[str],
        Option("--b", metavar="NUM|VECTOR", help="Hidden bias (optional; its gradient is reported when given).", rich_help_panel=PARAMS),
    ] = None,
    c: Annotated[
        Optional[str],
        Option("--c", metavar="NUM|VECTOR", help="Output bias (optional; its gradient is reported when given).", rich_help_panel=PARAMS),
    ] = None,
    x: Annotated[
        Optional[str],
        Option("--x", metavar="SEQUENCE", help="Inputs x_1..x_T: '1,0.5,-1', or a list of vectors '[[1,0],[0,1]]'.", rich_help_panel=PARAMS),
    ] = None,
    y: Annotated[
        Optional[str],
        Option(
            "--y",
            metavar="SEQUENCE",
            help="Targets y_1..y_T: numbers or vectors (half-sse), or 0-based class indices (softmax-ce).",
            rich_help_panel=PARAMS,
        ),
    ] = None,
    h0: Annotated[
        Optional[str], Option("--h0", metavar="NUM|VECTOR", help="Initial hidden state [default: zeros].", rich_help_panel=PARAMS)
    ] = None,
    bh: Annotated[
        Optional[str],
        Option("--bh", metavar="NUM|VECTOR", help="Recurrent bias bias_hh (lstm, gru, rnn; optional).", rich_help_panel=PARAMS),
    ] = None,
    c0: Annotated[
        Optional[str], Option("--c0", metavar="NUM|VECTOR", help="Initial LSTM cell state [default: zeros].", rich_help_panel=PARAMS)
    ] = None,
    cell: Annotated[
        Cell, Option("--cell", help="rnn, or lstm / gru in torch.nn.LSTM / torch.nn.GRU layout (U = weight_ih, W = weight_hh).")
    ] = Cell.rnn,
    activation: Annotated[Activation, Option("--activation", help="The rnn cell's activation.")] = Activation.tanh,
    compare_cells: Annotated[
        bool,
        Option("--compare-cells", help="‖∂h_T/∂h_(T−d)‖ for rnn-tanh, rnn-relu, lstm, gru side by side (--hidden, --T, --seed)."),
    ] = False,
    T: Annotated[Optional[int], Option("--T", min=1, help="Sequence length, when no --x is given (--symbolic, --compare-cells).")] = None,
    hidden: Annotated[Optional[int], Option("--hidden", min=1, help="Hidden size H, when no matrices are given.")] = None,
    seed: Annotated[int, Option("--seed", help="Random seed of --compare-cells (numpy's default_rng).")] = 0,
    input_size: Annotated[int, Option("--input-size", min=1, help="Input size of --compare-cells.")] = 1,
    clip: Annotated[
        Optional[float],
        Option("--clip", metavar="NORM", help="Clip the gradients by global norm: g ← g·min(1, NORM/‖g‖).", show_default=False),
    ] = None,
    loss: Annotated[Loss, Option("--loss", help="half-sse: ½‖ŷ − y‖² with ŷ = z; softmax-ce: −log softmax(z)[y].")] = Loss.half_sse,
    truncate: Annotated[
        Optional[int],
        Option(
            "--truncate",
            metavar="K",
            help="Truncated BPTT: E_t's sums for U, W, b run over k = max(1, t−K+1)..t (V, c unaffected).",
            show_default=False,
        ),
    ] = None,
    check: Annotated[bool, Option("--check", help="Compare with central finite differences; report the max relative error.")] = False,
    full: Annotated[bool, Option("--full", help="Print (and put in JSON) every term even when T > 50.")] = False,
    symbolic: Annotated[
        bool,
        Option("--symbolic", help="The derivation in symbols, part by part (with numbers too when U, W, V, x, y are given)."),
    ] = False,
    steps: Annotated[
        Optional[list[int]],
        Option("--t", min=1, metavar="K", help="--symbolic: only part t = K (repeatable), e.g. --t 2 for part (b).", show_default=False),
    ] = None,
    bias: Annotated[bool, Option("--bias", help="--symbolic: include the biases b and c (zeros unless --b/--c are given).")] = False,
    **shared: Any,
) -> None:
    params, settings = prepare(ctx)
    from dlvcli.cli.bulk import one_blas_thread

    one_blas_thread()  # small matrices: a second BLAS thread slows them (dlvcli/cli/bulk.py)
    if params["symbolic"] or params["steps"] or params["bias"]:  # before numpy: symbols alone need none
        from dlvcli.cli.bptt_symbolic import run_symbolic

        symbolic_places = _config_places(ctx)
        return run_symbolic(params, settings, lambda name, raw: _parse(name, raw, symbolic_places))
    from dlvcli.core.bptt import bptt as compute
    from dlvcli.render.bptt import BpttView
    from dlvcli.render.output import emit

    places = _config_places(ctx)
    from dlvcli.cli import bptt_cells

    if params["compare_cells"]:
        return bptt_cells.run_compare(params, settings)
    if params["cell"] != "rnn" or params["activation"] != "tanh" or params.get("bh") is not None or params.get("c0") is not None:
        return bptt_cells.run_cell(params, settings, lambda name, raw: _parse(name, raw, places), places)

    values = bptt_cells.model_values(params, lambda name, raw: _parse(name, raw, places), optional=("b", "c", "h0"))
    K = params["truncate"]
    if K is not None and K < 1:
        name = "truncate" if "truncate" in places else "--truncate"
        raise InputError(
            f"{name} {K}: expected a whole number K ≥ 1 (K = 1 keeps only the k = t term; leave it out for full BPTT)",
            **places.get("truncate", {}),
        )
    with bptt_cells.config_lines(places):
        result = compute(
            values["U"], values["W"], values["V"], values["x"], values["y"],
            b=values["b"], c=values["c"], h0=values["h0"], loss=params["loss"], truncate=K,
            check=params["check"], terms=True if params["full"] else None,
        )
    model = result.model
    inputs = {
        "U": values["U"], "W": values["W"], "V": values["V"], "b": values["b"], "c": values["c"],
        "h0": model.h0.reshape(model.shapes["h0"]).tolist(),
        "x": values["x"], "y": _targets_json(values["y"], params["loss"]),
        "loss": params["loss"], "truncate": K, "check": params["check"], "full": params["full"],
    }
    view = BpttView(full=params["full"])
    if params.get("clip") is not None:
        view = bptt_cells.clipped_view(view, result.grads, params["clip"])
        inputs["clip"] = params["clip"]
    emit("bptt", inputs, result, view, settings)


def _config_places(ctx: Context) -> dict[str, dict]:
    """For options that came from the --config file: {name: {'file': path, 'line': n}}."""
    path = ctx.params.get("config")
    if not path or path == "-":
        return {}
    from dlvcli.inputs.config import load_option_file

    places = {}
    for entry in load_option_file(path):
        name = entry.key.replace("-", "_")
        source = ctx.get_parameter_source(name)
        if source is None or source.name in ("DEFAULT", "DEFAULT_MAP"):
            places[name] = {"file": path, "line": entry.line}
    return places


def _parse(name: str, raw: str, places: dict[str, dict]) -> Any:
    from dlvcli.inputs.values import parse_nested

    where = places.get(name)
    try:
        return parse_nested(raw, name if where else f"--{name}")
    except InputError as exc:
        if where:
            raise InputError(exc.message, expected=exc.expected, **where) from None
        raise


def _targets_json(y: Any, loss: str) -> Any:
    """Class indices as integers in the JSON inputs (they were parsed as floats)."""
    if loss != "softmax-ce":
        return y
    if isinstance(y, list):
        return [int(v) if isinstance(v, float) and v.is_integer() else v for v in y]
    return int(y) if isinstance(y, float) and y.is_integer() else y
