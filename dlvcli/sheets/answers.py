"""The answers of a generated problem, computed with the core directly (``dlv generate``'s fast path).

``dlv generate --count 10000`` must take seconds, and running each problem through its
command (click context, option merge, the whole JSON document) costs about a millisecond.
The generators know exactly which options they set, so for those options this module calls
the same core function the command calls and returns the part of its JSON document that
the sheet expects (same keys, same numbers). ``tests/test_sheets_generate.py`` checks, for
hundreds of generated problems, that this equals what ``dlv COMMAND --json`` prints.

A problem with options these functions do not know is solved by the command itself.
"""

from __future__ import annotations

from typing import Any, Callable


def _interp_ap(options: dict[str, Any]) -> dict:
    from dlvcli.core.ap import interp_ap_ranked

    result = interp_ap_ranked(
        [bool(t) for t in options["tp"]], int(options["num-gt"]), scores=options.get("score"),
        method=options.get("method", "11point"), exact=True if options.get("exact") else None,
    )
    entry = {"ap": result.classes[0].ap, "ap_exact": result.classes[0].ap_exact}
    return {"map": result.map, "classes": [entry]}


def _bptt(options: dict[str, Any]) -> dict:
    from dlvcli.core.bptt import bptt

    result = bptt(
        options["U"], options["W"], options["V"], options["x"], options["y"],
        b=options.get("b"), c=options.get("c"), h0=options.get("h0"), loss=options.get("loss", "half-sse"),
        truncate=options.get("truncate"), terms=False, per_step=False, vanishing=False,
    )
    return {"loss": result.loss, "grads": dict(result.grads)}


def _focal(options: dict[str, Any]) -> dict:
    from dlvcli.core.focal import focal_terms

    gammas = options["gamma"] if isinstance(options["gamma"], list) else [options["gamma"]]
    terms = focal_terms(
        options.get("target", 1), p=options.get("p"), logit=options.get("logit"),
        gamma=[float(g) for g in gammas], alpha=None if options.get("alpha") is None else float(options["alpha"]),
    )
    ce, fl, factor = terms["ce"].tolist(), terms["fl"].tolist(), terms["modulating_factor"].tolist()
    # the command's rows: prediction by prediction, each with every γ
    return {"rows": [{"ce": ce[i], "fl": fl[i][j], "modulating_factor": factor[i][j]}
                     for i in range(len(ce)) for j in range(len(gammas))]}


def _box_compare_all(problems: list[dict[str, Any]]) -> list[dict]:
    """Every problem's pairs in one vectorised call (numpy's per-call cost dominates tiny arrays)."""
    import numpy as np

    from dlvcli.core.box_compare import box_metrics
    from dlvcli.core.boxes import to_xyxy

    def boxes(texts: list[str]) -> np.ndarray:
        return np.array([[float(v) for v in text.split(",")] for text in texts])

    a_rows, b_rows, counts = [], [], []
    for options in problems:
        fmt = options.get("box-format", "xyxy")
        b = options["b"] if isinstance(options["b"], list) else [options["b"]]
        a_rows.append(np.repeat(to_xyxy(boxes([options["a"]]), fmt), len(b), axis=0))
        b_rows.append(to_xyxy(boxes(b), fmt))
        counts.append(len(b))
    metrics = box_metrics(np.concatenate(a_rows), np.concatenate(b_rows))
    names = ("iou", "giou", "diou", "ciou", "l2")
    columns = {name: metrics[name].tolist() for name in names}
    documents, start = [], 0
    for n in counts:
        documents.append({"pairs": [{name: columns[name][i] for name in names} for i in range(start, start + n)]})
        start += n
    return documents


def _box_compare(options: dict[str, Any]) -> dict:
    return _box_compare_all([options])[0]


def _tconv(options: dict[str, Any]) -> dict:
    import numpy as np

    from dlvcli.core.tconv import transposed_conv

    x = np.asarray(options["x"], dtype=float)
    k = np.asarray(options["k"], dtype=float)
    out = transposed_conv(
        x, k, options.get("stride", 1), options.get("padding", 0), options.get("output-padding", 0), options.get("dilation", 1)
    )
    return {"output_shape": list(out.shape), "output": out.tolist()}


FAST: dict[str, tuple[frozenset[str], Callable[[dict[str, Any]], dict]]] = {
    "interp-ap": (frozenset({"tp", "score", "num-gt", "method", "exact"}), _interp_ap),
    "bptt": (frozenset({"U", "W", "V", "x", "y", "b", "c", "h0", "loss", "truncate"}), _bptt),
    "focal": (frozenset({"p", "logit", "target", "gamma", "alpha"}), _focal),
    "box-compare": (frozenset({"a", "b", "box-format"}), _box_compare),
    "tconv": (frozenset({"x", "k", "stride", "padding", "output-padding", "dilation"}), _tconv),
}


def fast_document(command: str, options: list[tuple[str, Any]]) -> dict | None:
    """The expected part of ``command``'s JSON for these options, or None when they are not all known here."""
    return fast_documents(command, [options])[0]


def fast_documents(command: str, problems: list[list[tuple[str, Any]]]) -> list[dict | None]:
    """:func:`fast_document` for many problems (box-compare's in one vectorised call)."""
    from dlvcli.render.jsonout import json_safe

    known, compute = FAST.get(command, (frozenset(), None))
    mappings = [dict(options) for options in problems]
    usable = [compute is not None and set(m) <= known for m in mappings]
    if command == "box-compare" and any(usable):
        batch = iter(_box_compare_all([m for m, ok in zip(mappings, usable) if ok]))
        return [json_safe(next(batch), "", []) if ok else None for ok in usable]
    return [json_safe(compute(m), "", []) if ok else None for m, ok in zip(mappings, usable)]
