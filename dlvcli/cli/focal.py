"""``dlv focal``: focal loss against cross-entropy, step by step (docs/focal.md)."""

import math
from typing import Annotated, Any, Optional

from dlvcli.cli.common import prepare, shared_options
from dlvcli.cli.params import Argument, Command, Context, Option
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

Softmax (multi-class) form: --logits Z1,…,ZK (repeatable, one vector per prediction; p =
softmax(z), computed with logsumexp) or --probs P1,…,PK, with --target CLASS (0-based),
--classes K (optional: the vectors' length) and --alpha A1,…,AK (one weight per class):
p, p_t, the factor, FL and the gradient ∂FL/∂z_j = A (δ_tj − p_j) for every class j.

Examples:

  dlv focal --p 0.9 --gamma 2

  dlv focal --logit -3 --logit 0 --logit 3 --target 0 --alpha 0.25

  dlv focal sample_inputs/focal_dataset.csv --plot focal.png

  dlv focal --classes 3 --logits 2,0.3,-1 --target 0 --gamma 2
"""


# every prediction gets a row per γ: the γ values, and rows in all, are bounded so that a
# config listing thousands of γ for a big data set cannot take gigabytes
MAX_GAMMAS = 100
MAX_ROWS = 500_000


def commands() -> tuple[Command, ...]:
    """This module's commands (the functions below, with the shared options they take)."""
    return (
        Command("focal", focal, help=HELP, shared=shared_options()),
    )


def focal(
    ctx: Context,
    file: Annotated[
        Optional[str],
        Argument(metavar="FILE", help="CSV of predictions: 'target' and 'p' or 'logit' columns; - reads stdin.", show_default=False),
    ] = None,
    p: Annotated[
        Optional[list[str]], Option("--p", metavar="P", help="Predicted probability of the positive class, in (0, 1) (repeatable).")
    ] = None,
    logit: Annotated[Optional[list[str]], Option("--logit", metavar="Z", help="Sigmoid logit z, p = 1/(1 + e^−z) (repeatable).")] = None,
    target: Annotated[
        Optional[int],
        Option(
            "--target",
            min=0,
            metavar="CLASS",
            help="The true class: with --p/--logit 1 (p_t = p) or 0 (p_t = 1 − p) [default: 1]; with --logits/--probs 0..K−1 (required).",
            show_default=False,
        ),
    ] = None,
    classes: Annotated[
        Optional[int],
        Option("--classes", min=2, metavar="K", help="Softmax focal loss over K classes (with --logits or --probs). [default: the vectors' length]", show_default=False),
    ] = None,
    logits: Annotated[
        Optional[list[str]],
        Option("--logits", metavar="Z1,…,ZK", help="Softmax logits of one prediction, p = softmax(z) (repeatable: one vector per prediction).", show_default=False),
    ] = None,
    probs: Annotated[
        Optional[list[str]],
        Option("--probs", metavar="P1,…,PK", help="Class probabilities of one prediction, each in (0, 1], summing to 1 (repeatable).", show_default=False),
    ] = None,
    gamma: Annotated[
        Optional[list[str]],
        Option("--gamma", metavar="G", help="Focusing parameter γ ≥ 0 (repeatable, at most 100). [default: 0, 0.5, 1, 2, 5]", show_default=False),
    ] = None,
    alpha: Annotated[
        Optional[str],
        Option(
            "--alpha",
            metavar="A",
            help="Class weight α in [0, 1]: α_t = α for target 1, 1 − α for target 0; with --classes K one weight per class, A1,…,AK (α_t = A_t). [default: none, α_t = 1]",
            show_default=False,
        ),
    ] = None,
    **shared: Any,
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
    if params["classes"] is not None or params["logits"] or params["probs"]:
        # the softmax (multi-class) form, docs/focal.md
        if settings.plot:
            raise InputError("--plot draws the binary form's curves; it is not available with --classes/--logits/--probs")
        result, inputs = _softmax_focal(params, gammas)
        from dlvcli.render import focal_softmax

        emit("focal", inputs, result, focal_softmax, settings)
        return
    if params["target"] is not None and params["target"] not in (0, 1):
        raise InputError(f"--target {params['target']}: expected 0 or 1 with --p/--logit (or give --classes K with --logits/--probs)")
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
        from dlvcli.inputs.predictions import load_predictions

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


def _softmax_focal(params: dict[str, Any], gammas: list[float]):
    """``--classes K --logits …|--probs … --target CLASS``: parse, check, compute (docs/focal.md)."""
    from dlvcli.core.focal_softmax import PROBS_SUM_TOLERANCE, softmax_focal

    if params["p"] or params["logit"]:
        raise InputError("--p/--logit give a binary (sigmoid) prediction; with --classes/--logits/--probs give the vectors with --logits or --probs")
    if params["file"] is not None:
        raise InputError("FILE is a binary data set (target and p or logit columns); with --classes give the predictions with --logits or --probs")
    if params["logits"] and params["probs"]:
        raise InputError("give the predictions with --logits or with --probs, not both")
    if not params["logits"] and not params["probs"]:
        raise InputError("--classes K: missing predictions, expected --logits Z1,…,ZK or --probs P1,…,PK (repeatable, one vector per prediction)")
    flag = "--logits" if params["logits"] else "--probs"
    vectors = [_vector(value, flag) for value in (params["logits"] or params["probs"])]
    k = params["classes"] if params["classes"] is not None else len(vectors[0])
    for value, vector in zip(params["logits"] or params["probs"], vectors):
        if len(vector) != k:
            source = f"--classes {k}" if params["classes"] is not None else "the first vector"
            raise InputError(f"{flag} {value}: {len(vector)} value(s), expected K = {k} (from {source})")
    if k < 2:
        raise InputError(f"{flag} {vectors[0]}: expected K ≥ 2 classes")
    if flag == "--probs":
        for value, vector in zip(params["probs"], vectors):
            for j, x in enumerate(vector):
                if not 0 < x <= 1:
                    raise InputError(f"--probs {value}: class {j} has {x:g}, expected a probability in (0, 1] (give --logits for extreme predictions)")
            total = math.fsum(vector)
            if abs(total - 1) > PROBS_SUM_TOLERANCE:
                raise InputError(f"--probs {value}: the probabilities sum to {total!r}, expected 1 (within {PROBS_SUM_TOLERANCE:g})")
    if params["target"] is None:
        raise InputError(f"missing --target CLASS: the true class of the prediction(s), 0..{k - 1}")
    if not 0 <= params["target"] <= k - 1:
        raise InputError(f"--target {params['target']}: expected a class index 0..{k - 1} (K = {k})")
    alpha = None
    if params["alpha"] is not None:
        alpha = [a + 0.0 for a in _vector(params["alpha"], "--alpha")]
        if len(alpha) != k:
            raise InputError(f"--alpha {params['alpha']}: {len(alpha)} value(s), expected one weight per class (K = {k}), A1,…,AK")
        for j, a in enumerate(alpha):
            if not 0 <= a <= 1:
                raise InputError(f"--alpha {params['alpha']}: class {j} has {a:g}, expected a class weight in [0, 1]")
    _check_rows(len(vectors) * k, len(gammas))
    inputs: dict[str, Any] = {
        "file": None,
        "p": None,
        "logit": None,
        "classes": k,
        "logits": vectors if flag == "--logits" else None,
        "probs": vectors if flag == "--probs" else None,
        "target": params["target"],
        "gamma": gammas,
        "alpha": alpha,
    }
    given = {"logits": vectors} if flag == "--logits" else {"probs": vectors}
    return softmax_focal(**given, target=params["target"], gamma=gammas, alpha=alpha), inputs


def _vector(value: Any, flag: str) -> list[float]:
    from dlvcli.inputs.values import parse_vector

    return parse_vector(value, f"{flag} {value}")


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
