"""``dlv focal``: focal loss against cross-entropy, step by step (CONTRACT §4)."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from dlvcli.cli.common import (
    ConfigOption,
    DebugOption,
    DigitsOption,
    ExactOption,
    FormatOption,
    JsonOption,
    OutputFormat,
    PlotOption,
    prepare,
)
from dlvcli.errors import InputError

HELP = """Focal loss FL(p_t) = −α_t (1 − p_t)^γ ln p_t against cross-entropy CE = −ln p_t.

For every prediction and every γ: p_t from p and the target, α_t, the modulating factor
(1 − p_t)^γ, CE, FL, the ratio CE/FL (how much the loss is turned down) and ∂FL/∂z for
the sigmoid logit z, each as formula → numbers → value; then a table across γ. γ = 0
without --alpha is cross-entropy, to the last bit.

Predictions: --p P (repeatable, or comma-separated; the probability of the positive class)
or --logit Z (p = sigmoid(Z), stable for logits of any size), with --target 0|1.
Or FILE, a CSV with a 'target' column and a 'p' or 'logit' column: a whole data set, with
mean CE and FL per γ and the share of each coming from easy examples (p_t > 0.5); - reads
stdin.

Examples:

  dlv focal --p 0.9 --gamma 2

  dlv focal --logit -3 --logit 0 --logit 3 --target 0 --alpha 0.25

  dlv focal sample_inputs/focal_dataset.csv --plot focal.png
"""


# every prediction gets a row per γ: the γ values, and rows in all, are bounded so that a
# config listing thousands of γ for a big data set cannot take gigabytes
MAX_GAMMAS = 100
MAX_ROWS = 500_000


def register(app: typer.Typer) -> None:
    app.command("focal", help=HELP, no_args_is_help=False)(focal)


def focal(
    ctx: typer.Context,
    file: Annotated[
        Optional[str],
        typer.Argument(metavar="FILE", help="CSV of predictions: 'target' and 'p' or 'logit' columns; - reads stdin.", show_default=False),
    ] = None,
    p: Annotated[
        Optional[list[str]], typer.Option("--p", metavar="P", help="Predicted probability of the positive class, in (0, 1) (repeatable).")
    ] = None,
    logit: Annotated[Optional[list[str]], typer.Option("--logit", metavar="Z", help="Sigmoid logit z, p = 1/(1 + e^−z) (repeatable).")] = None,
    target: Annotated[
        Optional[int],
        typer.Option("--target", min=0, max=1, metavar="0|1", help="The true class of --p/--logit: 1 (p_t = p) or 0 (p_t = 1 − p). [default: 1]", show_default=False),
    ] = None,
    gamma: Annotated[
        Optional[list[str]],
        typer.Option("--gamma", metavar="G", help="Focusing parameter γ ≥ 0 (repeatable, at most 100). [default: 0, 0.5, 1, 2, 5]", show_default=False),
    ] = None,
    alpha: Annotated[
        Optional[str], typer.Option("--alpha", metavar="A", help="Class weight α in [0, 1]: α_t = α for target 1, 1 − α for target 0. [default: none, α_t = 1]", show_default=False)
    ] = None,
    config: ConfigOption = None,
    output_format: FormatOption = OutputFormat.text,
    json_output: JsonOption = False,
    digits: DigitsOption = 4,
    exact: ExactOption = False,
    plot: PlotOption = None,
    debug: DebugOption = False,
) -> None:
    params, settings = prepare(ctx)
    from fractions import Fraction

    from dlvcli.core.focal import DEFAULT_GAMMAS
    from dlvcli.core.focal import focal as compute
    from dlvcli.inputs.values import parse_number
    from dlvcli.render import focal as view
    from dlvcli.render.output import emit

    # + 0.0: a γ or α typed as -0.0 is 0 (and shows as 0, not −0)
    gammas = [g + 0.0 for g in _numbers(params["gamma"], "--gamma")] if params["gamma"] else list(DEFAULT_GAMMAS)
    for g in gammas:
        if g < 0:
            raise InputError(f"--gamma {g:g}: expected a focusing parameter γ ≥ 0")
    if len(gammas) > MAX_GAMMAS:
        raise InputError(f"--gamma: {len(gammas)} values, expected at most {MAX_GAMMAS} (every prediction gets a row per γ)")
    alpha_value = None
    if params["alpha"] is not None:
        alpha_value = parse_number(params["alpha"], "--alpha") + 0.0
        if not 0 <= alpha_value <= 1:
            raise InputError(f"--alpha {alpha_value:g}: expected a class weight α in [0, 1]")
    inputs: dict[str, Any] = {"file": params["file"], "p": None, "logit": None, "target": None, "gamma": gammas, "alpha": alpha_value}

    if params["file"] is not None:
        if params["p"] or params["logit"]:
            raise InputError("give the predictions either in FILE (target and p or logit columns) or with --p/--logit, not both")
        if params["target"] is not None:
            raise InputError("--target goes with --p/--logit; with FILE the 'target' column gives the targets")
        data = load_predictions(params["file"])
        _check_rows(len(data["target"]), len(gammas))
        result = compute(data["p"], logit=data["logit"], target=data["target"], gamma=gammas, alpha=alpha_value, dataset=True)
    else:
        if params["p"] and params["logit"]:
            raise InputError("give the predictions with --p or with --logit, not both")
        if not params["p"] and not params["logit"]:
            raise InputError("missing predictions: give --p P or --logit Z (repeatable), or FILE, a CSV of a data set")
        target_value = 1 if params["target"] is None else params["target"]
        inputs["target"] = target_value
        if params["p"]:
            probabilities = _numbers(params["p"], "--p")
            for value in probabilities:
                if not 0 < value < 1:
                    raise InputError(
                        f"--p {value:g}: outside (0, 1), expected a probability strictly between 0 and 1 "
                        "(ln p_t is infinite at 0 and 1; give a logit for extreme predictions)"
                    )
            inputs["p"] = probabilities
            _check_rows(len(probabilities), len(gammas))
            p_exact = [Fraction(repr(v)) for v in probabilities] if settings.exact else None
            result = compute(probabilities, target=target_value, gamma=gammas, alpha=alpha_value, p_exact=p_exact)
        else:
            logits = _numbers(params["logit"], "--logit")
            _check_rows(len(logits), len(gammas))
            inputs["logit"] = logits
            result = compute(logit=logits, target=target_value, gamma=gammas, alpha=alpha_value)
    emit("focal", inputs, result, view, settings)


def _check_rows(predictions: int, gammas: int) -> None:
    """One row per (prediction, γ): refuse a product that would take gigabytes (20 000 rows × 2000 γ)."""
    if predictions * gammas > MAX_ROWS:
        raise InputError(
            f"{predictions} predictions × {gammas} γ values = {predictions * gammas} rows, more than the {MAX_ROWS} "
            "dlv lists (expected fewer --gamma values or fewer predictions)"
        )


def _numbers(values: list[Any], flag: str) -> list[float]:
    """Repeated options, each one number or a comma-separated list (``--p 0.9,0.6``)."""
    from dlvcli.inputs.values import parse_vector

    numbers: list[float] = []
    for value in values:
        numbers += parse_vector(value, f"{flag} {value}")
    return numbers


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
