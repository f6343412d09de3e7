"""The answers of a generated problem, computed with the core directly (``dlv generate``'s fast path).

``dlv generate --count 10000`` must take seconds, and running each problem through its
command (click context, option merge, the whole JSON document) costs about a millisecond.
The generators know exactly which options they set, so for those options this module calls
the same core function the command calls and returns the part of its JSON document that
the sheet expects (same keys, same numbers). ``tests/test_sheets_generate.py`` checks, for
hundreds of generated problems, that this equals what ``dlv COMMAND --json`` prints.

Each document also holds what the mistake catalogue (:mod:`dlvcli.sheets.mistakes`) reads
(the ranked TP flags, the focal rows' p_t and α_t, the boxes as xyxy, the tconv sizes, the
BPTT inputs and forward pass), so that ``dlv grade`` needs no full command run per problem
either. A problem with options these functions do not know is solved by the command itself.
"""

from __future__ import annotations

from typing import Any, Callable


def _interp_ap(options: dict[str, Any]) -> dict:
    from dlvcli.core.ap import interp_ap_ranked, rank_order

    tp = [bool(t) for t in options["tp"]]
    method = options.get("method", "11point")
    result = interp_ap_ranked(
        tp, int(options["num-gt"]), scores=options.get("score"), method=method, exact=True if options.get("exact") else None,
    )
    order = rank_order(options.get("score"), len(tp))
    entry = {"num_gt": int(options["num-gt"]), "ap": result.classes[0].ap, "ap_exact": result.classes[0].ap_exact,
             "ranked": [{"tp": int(tp[i])} for i in order.tolist()]}
    return {"method": method, "map": result.map, "classes": [entry]}


def _bptt(options: dict[str, Any]) -> dict:
    from dlvcli.core.bptt import bptt

    loss = options.get("loss", "half-sse")
    result = bptt(
        options["U"], options["W"], options["V"], options["x"], options["y"],
        b=options.get("b"), c=options.get("c"), h0=options.get("h0"), loss=loss,
        truncate=options.get("truncate"), terms=False, per_step=False, vanishing=False,
    )
    model, fwd = result.model, result.forward
    hidden_scalar = model.shapes["W"] == ()
    out_scalar = model.output_size == 1 and model.shapes["V"] == ()
    forward = [
        {
            "x": options["x"][i],
            "h": float(fwd.h[i][0]) if hidden_scalar else fwd.h[i],
            "y_hat": float(fwd.y_hat[i][0]) if out_scalar else fwd.y_hat[i],
            "y": int(fwd.y[i]) if loss == "softmax-ce" else options["y"][i],
        }
        for i in range(fwd.T)
    ]
    inputs = {name: options.get(name) for name in ("U", "W", "V", "b", "c", "x", "y")}
    inputs.update(h0=model.h0.reshape(model.shapes["h0"]).tolist(), loss=loss, truncate=options.get("truncate"))
    return {"inputs": inputs, "loss": result.loss, "forward": forward, "grads": dict(result.grads)}


def _focal(options: dict[str, Any]) -> dict:
    from dlvcli.core.focal import focal_terms

    gammas = [float(g) for g in (options["gamma"] if isinstance(options["gamma"], list) else [options["gamma"]])]
    alpha = None if options.get("alpha") is None else float(options["alpha"])
    target = options.get("target", 1)
    terms = focal_terms(target, p=options.get("p"), logit=options.get("logit"), gamma=gammas, alpha=alpha)
    ce, fl, factor = terms["ce"].tolist(), terms["fl"].tolist(), terms["modulating_factor"].tolist()
    p_t, alpha_t = terms["p_t"].tolist(), terms["alpha_t"].tolist()
    # the command's rows: prediction by prediction, each with every γ
    return {"rows": [{"p_t": p_t[i], "target": target, "gamma": g, "alpha": alpha, "alpha_t": alpha_t[i],
                      "ce": ce[i], "fl": fl[i][j], "modulating_factor": factor[i][j]}
                     for i in range(len(ce)) for j, g in enumerate(gammas)]}


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
    a_all, b_all = np.concatenate(a_rows), np.concatenate(b_rows)
    metrics = box_metrics(a_all, b_all)
    names = ("iou", "giou", "diou", "ciou", "l2")
    columns = {name: metrics[name].tolist() for name in names}
    columns["a"], columns["b"] = a_all.tolist(), b_all.tolist()
    documents, start = [], 0
    for n in counts:
        documents.append({"pairs": [{name: columns[name][i] for name in (*names, "a", "b")} for i in range(start, start + n)]})
        start += n
    return documents


def _box_compare(options: dict[str, Any]) -> dict:
    return _box_compare_all([options])[0]


def _tconv(options: dict[str, Any]) -> dict:
    import numpy as np

    from dlvcli.core.tconv import as_pair, transposed_conv

    x = np.asarray(options["x"], dtype=float)
    k = np.asarray(options["k"], dtype=float)
    settings = {name: options.get(name, default) for name, default in
                (("stride", 1), ("padding", 0), ("output-padding", 0), ("dilation", 1))}
    out = transposed_conv(x, k, *settings.values())
    inputs = {"input": list(x.shape[-2:]), "kernel": list(k.shape[-2:])}
    inputs.update({name.replace("-", "_"): list(as_pair(value, name)) for name, value in settings.items()})
    return {"inputs": inputs, "output_shape": list(out.shape), "output": out.tolist()}


FAST: dict[str, tuple[frozenset[str], Callable[[dict[str, Any]], dict]]] = {
    "interp-ap": (frozenset({"tp", "score", "num-gt", "method", "exact"}), _interp_ap),
    "bptt": (frozenset({"U", "W", "V", "x", "y", "b", "c", "h0", "loss", "truncate"}), _bptt),
    "focal": (frozenset({"p", "logit", "target", "gamma", "alpha"}), _focal),
    "box-compare": (frozenset({"a", "b", "box-format"}), _box_compare),
    "tconv": (frozenset({"x", "k", "stride", "padding", "output-padding", "dilation"}), _tconv),
}


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _numbers(v: Any, depth: int) -> bool:
    """A number (depth 0), or a non-empty list (of lists …) of numbers ``depth`` deep at most."""
    if _number(v):
        return True
    return depth > 0 and isinstance(v, list) and bool(v) and all(_numbers(x, depth - 1) for x in v)


def _well_formed(command: str, o: dict[str, Any]) -> bool:
    """Values of the types the generators write (anything else goes through the command itself)."""
    if command == "interp-ap":
        return (isinstance(o.get("tp"), list) and bool(o["tp"]) and all(t in (0, 1) for t in o["tp"])
                and (o.get("score") is None or (isinstance(o["score"], list) and len(o["score"]) == len(o["tp"])
                                                 and all(_number(v) for v in o["score"])))
                and isinstance(o.get("num-gt"), int) and not isinstance(o["num-gt"], bool) and o["num-gt"] >= sum(o["tp"]) > 0
                and o.get("method", "11point") in ("11point", "allpoint", "101point") and isinstance(o.get("exact", False), bool))
    if command == "bptt":
        return (all(_numbers(o.get(k), 2) for k in ("U", "W", "V")) and isinstance(o.get("x"), list) and isinstance(o.get("y"), list)
                and all(o.get(k) is None or _numbers(o[k], 1) for k in ("b", "c", "h0"))
                and o.get("loss", "half-sse") in ("half-sse", "softmax-ce")
                and (o.get("truncate") is None or (isinstance(o["truncate"], int) and not isinstance(o["truncate"], bool))))
    if command == "focal":
        values = o.get("p") if "p" in o else o.get("logit")
        gammas = o["gamma"] if isinstance(o.get("gamma"), list) else [o.get("gamma")]
        return (("p" in o) != ("logit" in o) and isinstance(values, list) and all(_number(v) for v in values)
                and o.get("target", 1) in (0, 1) and not isinstance(o.get("target", 1), bool)
                and all(_number(g) for g in gammas) and (o.get("alpha") is None or _number(o["alpha"])))
    if command == "box-compare":
        boxes = o["b"] if isinstance(o.get("b"), list) else [o.get("b")]
        return (all(isinstance(t, str) and len(t.split(",")) == 4 for t in [o.get("a"), *boxes])
                and o.get("box-format", "xyxy") in ("xyxy", "xywh", "cxcywh"))
    if command == "tconv":
        return (_numbers(o.get("x"), 2) and _numbers(o.get("k"), 2) and isinstance(o["x"], list) and isinstance(o["k"], list)
                and all(isinstance(r, list) for r in o["x"] + o["k"])
                and all(isinstance(o.get(k, 1), int) and not isinstance(o.get(k, 1), bool)
                        for k in ("stride", "padding", "output-padding", "dilation")))
    return False


def fast_document(command: str, options: list[tuple[str, Any]]) -> dict | None:
    """The expected part of ``command``'s JSON for these options, or None when they are not all known here
    (or not of the generators' types, or rejected by the core: the command itself then says why)."""
    return fast_documents(command, [options])[0]


def fast_documents(command: str, problems: list[list[tuple[str, Any]]]) -> list[dict | None]:
    """:func:`fast_document` for many problems (box-compare's in one vectorised call)."""
    from dlvcli.render.jsonout import json_safe

    known, compute = FAST.get(command, (frozenset(), None))
    mappings = [dict(options) for options in problems]
    usable = [compute is not None and set(m) <= known and _well_formed(command, m) for m in mappings]

    def safe(m: dict) -> dict | None:
        try:
            return json_safe(compute(m), "", [])
        except (ValueError, TypeError, KeyError, IndexError, ArithmeticError):
            return None

    if command == "box-compare" and any(usable):
        try:
            batch = iter(_box_compare_all([m for m, ok in zip(mappings, usable) if ok]))
            return [json_safe(next(batch), "", []) if ok else None for ok in usable]
        except (ValueError, TypeError, KeyError, IndexError, ArithmeticError):
            return [safe(m) if ok else None for m, ok in zip(mappings, usable)]
    return [safe(m) if ok else None for m, ok in zip(mappings, usable)]
