"""The catalogue of known mistakes: for a wrong answer, the slip that produces it.

Each :class:`Mistake` is a function from a problem's solved JSON document (what
``dlv COMMAND --json`` prints: its ``inputs`` and results) to the *wrong* document a
student who makes that mistake would write: the same keys, wrong values, for the keys the
mistake changes. ``dlv grade`` looks a wrong answer's key up in each of the command's
wrong documents and names the first mistake whose value equals the answer within the
check's tolerance.

The wrong values come from the core's own functions with one thing changed (log base 10,
α not flipped, the all-point method, ``truncate=1``, the direct-convolution size …) or,
where the core has no such option, from a small formula written here (float recall
levels, no interpolation, the missing tanh derivative). ``tests/test_sheets_mistakes.py``
checks each against a computation by hand.

The first ten names (``FIXED_NAMES``, listed in docs/sheets.md) are part of the interface; more may be added.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable


@dataclass(frozen=True)
class Mistake:
    """A named slip: ``wrong(document)`` → the wrong document (a dict with the keys it changes), or None
    when the mistake does not apply to this problem (or would give the right answer anyway)."""

    name: str
    command: str
    explanation: str  # one sentence, shown in the feedback
    wrong: Callable[[dict], dict | None]


# ---------------------------------------------------------------------------- interp-ap


def _ranked_classes(document: dict) -> list[tuple[list[int], int]] | None:
    """(TP flags in rank order, num_gt) per class, from the ranked rows of the document."""
    classes = document.get("classes") or []
    out = []
    for entry in classes:
        rows = entry.get("ranked")
        if rows is None:
            return None
        out.append(([int(r["tp"]) for r in rows], int(entry["num_gt"])))
    return out or None


def _ap_document(per_class: list[Fraction | float | None]) -> dict:
    """A wrong interp-ap document: per-class ``ap`` (and ``ap_exact`` for fractions) and their mean ``map``."""
    classes = []
    for value in per_class:
        entry: dict[str, Any] = {"ap": None if value is None else float(value)}
        if isinstance(value, Fraction):
            entry["ap_exact"] = str(value)
        classes.append(entry)
    valid = [v for v in per_class if v is not None]
    document: dict[str, Any] = {"classes": classes, "map": float(sum(valid) / len(valid)) if valid else None}
    if valid and all(isinstance(v, Fraction) for v in valid):
        document["map_exact"] = str(sum(valid, Fraction(0)) / len(valid))
    return document


def _per_class(document: dict, method: str, ap: Callable[[list[int], int], Fraction | float]) -> dict | None:
    if document.get("method") != method:
        return None
    classes = _ranked_classes(document)
    if classes is None:
        return None
    return _ap_document([ap(tp, num_gt) if num_gt > 0 else None for tp, num_gt in classes])


def _core_ap(tp: list[int], num_gt: int, method: str) -> Fraction:
    from dlvcli.core.ap import interp_ap_ranked

    return interp_ap_ranked([bool(t) for t in tp], num_gt, method=method, exact=True).classes[0].ap_exact


def _eleven_precisions(tp: list[int], num_gt: int) -> list[Fraction]:
    from dlvcli.core.ap import cumulative_counts, interpolated_points

    cum_tp, _ = cumulative_counts([bool(t) for t in tp])
    return [p.precision_exact for p in interpolated_points(cum_tp, num_gt, "11point")]


def _float_levels(tp: list[int], num_gt: int) -> Fraction:
    """11-point AP with the levels np.arange(0, 1.1, 0.1) compared with the float recall."""
    import numpy as np

    levels = np.arange(0, 1.1, 0.1)
    hits, points = 0, []
    for rank, t in enumerate(tp, start=1):
        hits += t
        points.append((hits / num_gt, Fraction(hits, rank)))
    total = sum((max((p for r, p in points if r >= level), default=Fraction(0)) for level in levels), Fraction(0))
    return total / 11


def _first_rank_precision(tp: list[int], num_gt: int) -> Fraction:
    """Mean over the eleven levels of the precision at the first rank whose recall reaches the level."""
    total = Fraction(0)
    for level in range(11):
        hits = 0
        for rank, t in enumerate(tp, start=1):
            hits += t
            if 10 * hits >= level * num_gt:  # recall ≥ level/10, exactly
                total += Fraction(hits, rank)
                break
    return total / 11


INTERP_AP = (
    Mistake(
        "allpoint_instead_of_11point", "interp-ap",
        "This is the all-point AP (the area under the precision envelope), but the problem asks for the "
        "11-point AP: the mean of the interpolated precision at recall 0, 0.1, …, 1.",
        lambda doc: _per_class(doc, "11point", lambda tp, n: _core_ap(tp, n, "allpoint")),
    ),
    Mistake(
        "divided_by_10", "interp-ap",
        "The eleven interpolated precisions (recall 0, 0.1, …, 1) were summed and divided by 10; there are "
        "eleven levels, so the sum is divided by 11.",
        lambda doc: _per_class(doc, "11point", lambda tp, n: sum(_eleven_precisions(tp, n), Fraction(0)) / 10),
    ),
    Mistake(
        "float_recall_levels", "interp-ap",
        "The recall levels were the floats of np.arange(0, 1.1, 0.1) compared with the float recall, so a recall "
        "of exactly 0.3, 0.6 or 0.7 misses its level (0.30000000000000004 > 0.3); the levels are exact tenths.",
        lambda doc: _per_class(doc, "11point", _float_levels),
    ),
    Mistake(
        "no_interpolation", "interp-ap",
        "At each recall level the precision of the first rank reaching it was taken; the interpolated "
        "precision is the largest precision at any recall at or above the level.",
        lambda doc: _per_class(doc, "11point", _first_rank_precision),
    ),
    Mistake(
        "11point_instead_of_allpoint", "interp-ap",
        "This is the 11-point AP, but the problem asks for the all-point AP: the area under the precision "
        "envelope, summed where the recall changes.",
        lambda doc: _per_class(doc, "allpoint", lambda tp, n: _core_ap(tp, n, "11point")),
    ),
)


# ---------------------------------------------------------------------------- focal


def _focal_rows(document: dict, row_value: Callable[[dict], dict | None]) -> dict | None:
    rows = document.get("rows")
    if not rows:
        return None
    wrong = [row_value(row) or {} for row in rows]
    return {"rows": wrong} if any(wrong) else None


def _log10(row: dict) -> dict:
    # FL and CE with log base 10: the natural-log values divided by ln 10
    return {name: row[name] / math.log(10) for name in ("ce", "fl") if row.get(name) is not None}


def _alpha_not_flipped(row: dict) -> dict | None:
    if row.get("alpha") is None or row.get("target") != 0 or row["alpha"] == 0.5:
        return None
    from dlvcli.core.focal import focal_loss

    # target 1 with p = p_t: the same p_t, but α_t = α
    fl = focal_loss(1, p=[row["p_t"]], gamma=row["gamma"], alpha=row["alpha"])
    return {"fl": float(fl[0])}


def _p_not_flipped(row: dict) -> dict | None:
    if row.get("target") != 0:
        return None
    from dlvcli.core.focal import focal_terms

    # the probability p of the positive class used as p_t for a negative: p_t' = 1 − p_t
    terms = focal_terms(1, p=[1 - row["p_t"]], gamma=[row["gamma"]])
    return {
        "ce": float(terms["ce"][0]),
        "fl": float(row["alpha_t"] * terms["fl"][0][0]),
        "modulating_factor": float(terms["modulating_factor"][0][0]),
    }


def _gamma_ignored(row: dict) -> dict | None:
    if not row.get("gamma") or row.get("ce") is None:
        return None
    return {"fl": row["alpha_t"] * row["ce"]}  # FL without the modulating factor (1 − p_t)^γ


FOCAL = (
    Mistake(
        "log10", "focal",
        "The logarithm was taken to base 10; cross-entropy and focal loss use the natural logarithm (ln).",
        lambda doc: _focal_rows(doc, _log10),
    ),
    Mistake(
        "alpha_not_flipped", "focal",
        "α was used as the weight of a negative example too; for a negative (target 0) the weight is α_t = 1 − α.",
        lambda doc: _focal_rows(doc, _alpha_not_flipped),
    ),
    Mistake(
        "p_not_flipped", "focal",
        "For a negative example (target 0) p was used as p_t; p_t is the probability of the true class, 1 − p.",
        lambda doc: _focal_rows(doc, _p_not_flipped),
    ),
    Mistake(
        "modulating_factor_left_out", "focal",
        "The modulating factor (1 − p_t)^γ was left out, which gives the (α-weighted) cross-entropy, not the focal loss.",
        lambda doc: _focal_rows(doc, _gamma_ignored),
    ),
)


# ---------------------------------------------------------------------------- box-compare


def _pairs(document: dict, pair_value: Callable[[list[float], list[float]], dict]) -> dict | None:
    pairs = document.get("pairs")
    if not pairs:
        return None
    return {"pairs": [pair_value(p["a"], p["b"]) for p in pairs]}


def _union_as_sum(a: list[float], b: list[float]) -> dict:
    from dlvcli.core.boxes import intersection_union

    inter, union = intersection_union([a], [b])
    # |A| + |B| = |A ∪ B| + |A ∩ B|
    return {"iou": float(inter[0] / (union[0] + inter[0]))}


def _plus_one(a: list[float], b: list[float]) -> dict:
    from dlvcli.core.boxes import iou

    return {"iou": float(iou([a], [b], plus_one=True)[0])}


BOX_COMPARE = (
    Mistake(
        "union_as_sum", "box-compare",
        "The union was taken as |A| + |B|, which counts the intersection twice: |A ∪ B| = |A| + |B| − |A ∩ B|.",
        lambda doc: _pairs(doc, _union_as_sum),
    ),
    Mistake(
        "plus_one_pixels", "box-compare",
        "Widths and heights were counted as x2 − x1 + 1 (the old PASCAL VOC pixel convention); here coordinates "
        "are continuous and the width is x2 − x1.",
        lambda doc: _pairs(doc, _plus_one),
    ),
)


# ---------------------------------------------------------------------------- tconv


def _tconv_shape(document: dict, axis_size: Callable[[int, int, int, int, int, int], int]) -> dict | None:
    inputs = document.get("inputs") or {}
    shape = document.get("output_shape")
    if not shape or inputs.get("input") is None or inputs.get("kernel") is None:
        return None
    sizes = [
        axis_size(inputs["input"][i], inputs["kernel"][i], inputs["stride"][i], inputs["padding"][i],
                  inputs["output_padding"][i], inputs["dilation"][i])
        for i in range(2)
    ]
    if min(sizes) < 1:
        return None
    return {"output_shape": list(shape[:-2]) + sizes}


def _conv_size(size: int, kernel: int, stride: int, padding: int, output_padding: int, dilation: int) -> int:
    from dlvcli.core.tconv import conv_output_size

    return conv_output_size(size, kernel, stride, padding, dilation)


def _padding_added(size: int, kernel: int, stride: int, padding: int, output_padding: int, dilation: int) -> int:
    return (size - 1) * stride + 2 * padding + dilation * (kernel - 1) + output_padding + 1


TCONV = (
    Mistake(
        "conv_output_size", "tconv",
        "This is the output size of the direct convolution, ⌊(H + 2p − d(k − 1) − 1)/s⌋ + 1; a transposed "
        "convolution gives H_out = (H − 1)·s − 2p + d(k − 1) + op + 1.",
        lambda doc: _tconv_shape(doc, _conv_size),
    ),
    Mistake(
        "padding_added", "tconv",
        "The padding was added (+2p); in a transposed convolution it is taken off the output: − 2p.",
        lambda doc: _tconv_shape(doc, _padding_added) if any(doc.get("inputs", {}).get("padding") or [0]) else None,
    ),
)


# ---------------------------------------------------------------------------- bptt


def _as_given(value, like):
    import numpy as np

    return np.reshape(np.asarray(value, dtype=float), np.shape(like)).tolist()


def _bptt_arrays(document: dict):
    """(U, W, V, x (T, I), h (T+1, H) with h[0] = h0, e (T, O) = ∂E_t/∂z_t, truncate) from the document."""
    import numpy as np

    inputs, forward = document["inputs"], document["forward"]
    W = np.atleast_2d(np.asarray(inputs["W"], dtype=float))
    U = np.asarray(inputs["U"], dtype=float).reshape(W.shape[0], -1)
    V = np.asarray(inputs["V"], dtype=float).reshape(-1, W.shape[0])
    x = np.asarray([np.atleast_1d(np.asarray(r["x"], dtype=float)) for r in forward])
    h = np.asarray([np.asarray(inputs["h0"], dtype=float).reshape(-1)] + [np.atleast_1d(np.asarray(r["h"], dtype=float)) for r in forward])
    y_hat = np.asarray([np.atleast_1d(np.asarray(r["y_hat"], dtype=float)) for r in forward])
    if inputs.get("loss") == "softmax-ce":
        target = np.zeros_like(y_hat)
        target[np.arange(len(forward)), [int(r["y"]) for r in forward]] = 1.0
    else:
        target = np.asarray([np.atleast_1d(np.asarray(r["y"], dtype=float)) for r in forward])
    return U, W, V, x, h, y_hat - target, inputs.get("truncate")


def _no_tanh_derivative(document: dict) -> dict | None:
    """∂E/∂U, ∂E/∂W, ∂E/∂b with every (1 − h²) factor left out (the same windows as the problem's truncate)."""
    import numpy as np

    grads = document.get("grads") or {}
    try:
        U, W, V, x, h, e, K = _bptt_arrays(document)
    except (KeyError, TypeError, ValueError):
        return None
    T = len(x)
    dU, dW, db = np.zeros_like(U), np.zeros_like(W), np.zeros(W.shape[0])
    for t in range(T):  # E_t's sum over k = max(1, t − K + 1)..t, walking back from k = t
        g = V.T @ e[t]
        start = 0 if K is None else max(0, t - K + 1)
        for k in range(t, start - 1, -1):
            dU += np.outer(g, x[k])
            dW += np.outer(g, h[k])  # h[k] is h_{k−1}: h[0] = h0
            db += g
            g = W.T @ g  # ∂h_k/∂h_{k−1} without diag(1 − h_k²)
    wrong = {"U": _as_given(dU, grads["U"]), "W": _as_given(dW, grads["W"])}
    if "b" in grads and grads["b"] is not None:
        wrong["b"] = _as_given(db, grads["b"])
    return {"grads": wrong}


def _last_term_only(document: dict) -> dict | None:
    if document.get("inputs", {}).get("truncate") == 1:
        return None  # then that is the right answer
    from dlvcli.core.bptt import bptt

    inputs = document["inputs"]
    y = inputs["y"]
    result = bptt(inputs["U"], inputs["W"], inputs["V"], inputs["x"], y, b=inputs.get("b"), c=inputs.get("c"),
                  h0=inputs.get("h0"), loss=inputs.get("loss", "half-sse"), truncate=1, terms=False, per_step=False,
                  vanishing=False)
    grads = document.get("grads") or {}
    names = [n for n in ("U", "W", "b") if grads.get(n) is not None]
    return {"grads": {n: _as_given(result.grads[n], grads[n]) for n in names}}


def _sign_flipped(document: dict) -> dict | None:
    import numpy as np

    grads = document.get("grads") or {}
    return {"grads": {n: (-np.asarray(v, dtype=float)).tolist() for n, v in grads.items() if v is not None}}


BPTT = (
    Mistake(
        "last_term_only", "bptt",
        "Only the k = t term of each ∂E_t/∂W (and ∂E_t/∂U) was kept; through time, E_t depends on W at every "
        "earlier step too, so the terms k = 1..t are summed.",
        _last_term_only,
    ),
    Mistake(
        "missing_tanh_derivative", "bptt",
        "The tanh derivative (1 − h²) was left out; every step back through h_t = tanh(a_t) multiplies by it.",
        _no_tanh_derivative,
    ),
    Mistake(
        "sign_flipped", "bptt",
        "The sign is flipped: ∂E_t/∂ŷ_t is ŷ_t − y_t, not y_t − ŷ_t.",
        _sign_flipped,
    ),
)

CATALOGUE: tuple[Mistake, ...] = INTERP_AP + FOCAL + BOX_COMPARE + TCONV + BPTT
# the names the interface fixes (docs/sheets.md): grading scripts may rely on them
FIXED_NAMES = (
    "allpoint_instead_of_11point", "divided_by_10", "float_recall_levels", "no_interpolation", "log10",
    "alpha_not_flipped", "union_as_sum", "conv_output_size", "last_term_only", "missing_tanh_derivative",
)


def for_command(command: str) -> tuple[Mistake, ...]:
    return tuple(m for m in CATALOGUE if m.command == command)


def by_name(name: str) -> Mistake:
    return next(m for m in CATALOGUE if m.name == name)


def wrong_documents(command: str, document: dict) -> list[tuple[Mistake, dict]]:
    """Every applicable mistake of ``command`` with its wrong document for this solved problem."""
    out = []
    for mistake in for_command(command):
        try:
            wrong = mistake.wrong(document)
        except (ArithmeticError, ValueError, KeyError, TypeError, IndexError):
            wrong = None  # the mistake cannot be made on this problem
        if wrong:
            out.append((mistake, wrong))
    return out
