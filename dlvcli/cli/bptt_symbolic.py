"""``dlv bptt --symbolic``: parse what was given, derive, render (called from :mod:`dlvcli.cli.bptt`).

Without numbers only the pure-Python symbol builder runs (no numpy); with U, W, V, x
and y given, the numeric core runs as for plain ``dlv bptt`` and its values are
substituted into each symbolic line.
"""

from __future__ import annotations

from typing import Any, Callable

from dlvcli.errors import InputError

NUMBER_KEYS = ("U", "W", "V", "x", "y")


def run_symbolic(params: dict, settings, parse: Callable[[str, Any], Any]) -> None:
    from dlvcli.core.bptt_symbolic import derive
    from dlvcli.render.bptt_symbolic import SymbolicResult, SymbolicView
    from dlvcli.render.output import emit

    if not params.get("symbolic"):
        used = [flag for flag, key in (("--t", "steps"), ("--bias", "bias")) if params.get(key)]
        raise InputError(f"{' and '.join(used)} only apply with --symbolic; add --symbolic")
    loss = params["loss"]
    K = params["truncate"]
    if K is not None and K < 1:
        raise InputError(f"--truncate {K}: expected a whole number K ≥ 1 (leave it out for full BPTT)")
    steps = tuple(params.get("steps") or ())
    given = [name for name in NUMBER_KEYS if params.get(name) is not None]
    hidden = params.get("hidden")
    numeric = None
    values = None
    bias = bool(params["bias"]) or params.get("b") is not None or params.get("c") is not None

    if given:
        missing = [name for name in NUMBER_KEYS if params.get(name) is None]
        if missing:
            raise InputError(
                f"--symbolic with numbers needs all of --U, --W, --V, --x, --y; missing {', '.join('--' + m for m in missing)} "
                "(or give none of them for the symbols alone, with --T)"
            )
        numeric = _numeric(params, parse, bias)
        T = numeric.T
        if params.get("T") is not None and params["T"] != T:
            raise InputError(f"--T {params['T']} but --x has {T} steps: expected the same length (or leave --T out)")
        matrix = not numeric.model.is_scalar
        if hidden is not None and hidden != numeric.model.hidden_size:
            raise InputError(f"--hidden {hidden} but W is {numeric.model.hidden_size}×{numeric.model.hidden_size}")
    else:
        if params.get("T") is None:
            raise InputError("--symbolic needs --T N (the sequence length), or numbers --U --W --V --x --y")
        T = params["T"]
        for name in ("b", "c", "h0"):
            if params.get(name) is not None:
                raise InputError(f"--{name} was given without --U, --W, --V, --x, --y: give all the numbers, or none")
        matrix = hidden is not None and hidden > 1
    if T > 26:
        raise InputError(f"--symbolic writes every term out: T = {T} is too long to read (expected T ≤ 26, parts a–z)")
    for t in steps:
        if t > T:
            raise InputError(f"--t {t}: expected a step from 1 to T = {T}")
    derivation = derive(T, loss=loss, bias=bias, truncate=K, matrix=matrix, steps=steps or None)
    if numeric is not None:
        from dlvcli.core.bptt_symbolic import values_from_result

        values = values_from_result(numeric)
    result = SymbolicResult(derivation, numeric, values, full=bool(params.get("full")))
    inputs: dict[str, Any] = {
        "symbolic": True, "T": T, "t": list(steps) or None, "bias": bias, "hidden": hidden,
        "loss": loss, "truncate": K,
    }
    for name in ("U", "W", "V", "b", "c", "h0", "x", "y"):
        if params.get(name) is not None:
            inputs[name] = parse(name, params[name])
    emit("bptt", inputs, result, SymbolicView(steps_only=bool(steps)), settings)


def _numeric(params: dict, parse: Callable[[str, Any], Any], bias: bool):
    """The numeric run of plain ``dlv bptt`` (per-step gradients and their terms)."""
    import numpy as np

    from dlvcli.core.bptt import bptt as compute

    values = {name: parse(name, params[name]) for name in NUMBER_KEYS}
    b = parse("b", params["b"]) if params.get("b") is not None else None
    c = parse("c", params["c"]) if params.get("c") is not None else None
    h0 = parse("h0", params["h0"]) if params.get("h0") is not None else None
    if bias:  # --bias without --b/--c: zero biases, so that their gradients are reported
        W = np.asarray(values["W"], dtype=float)
        V = np.asarray(values["V"], dtype=float)
        if b is None:
            b = 0.0 if W.ndim == 0 else [0.0] * W.shape[0]
        if c is None:
            c = 0.0 if V.ndim == 0 else [0.0] * V.shape[0]
    return compute(
        values["U"], values["W"], values["V"], values["x"], values["y"], b=b, c=c, h0=h0,
        loss=params["loss"], truncate=params["truncate"], check=bool(params.get("check")), terms=True,
    )
