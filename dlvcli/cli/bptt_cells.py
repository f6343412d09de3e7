"""``dlv bptt --cell lstm|gru``, ``--activation relu``, ``--compare-cells`` and ``--clip``:
the parts of ``dlv bptt`` that go beyond the tanh RNN (called from ``dlvcli.cli.bptt``)."""

from typing import Any, Callable

from dlvcli.errors import InputError


def _check_clip(clip: float | None) -> None:
    import math

    if clip is not None and not (math.isfinite(clip) and clip > 0):
        raise InputError(f"--clip {clip}: expected a positive number (the largest global gradient norm)")


def model_values(params: dict, parse: Callable[[str, str], Any], optional: tuple[str, ...]) -> dict[str, Any]:
    """The model's values parsed: U, W, V, x, y (each required) and the ``optional`` ones (None when not given)."""
    values: dict[str, Any] = {}
    for name in ("U", "W", "V", "x", "y") + optional:
        raw = params.get(name)
        if raw is None:
            if name not in optional:
                raise InputError(f"missing --{name}; give it on the command line or as '{name}' in --config")
            values[name] = None
        else:
            values[name] = parse(name, raw)
    return values


def run_cell(params: dict, settings, parse: Callable[[str, str], Any], places: dict) -> None:
    """An RNN (tanh/ReLU), LSTM or GRU in PyTorch's layout, worked gate by gate."""
    from dlvcli.core.rnn_cells import cell_bptt
    from dlvcli.render.output import emit
    from dlvcli.render.rnn_cells import CellView

    if params["cell"] != "rnn" and params["activation"] != "tanh":
        raise InputError(f"--activation {params['activation']} is for --cell rnn; {params['cell']} has its own gate functions")
    K = params["truncate"]
    if K is not None and K < 1:
        raise InputError(f"--truncate {K}: expected a whole number K ≥ 1 (leave it out for full BPTT)")
    _check_clip(params.get("clip"))
    values = model_values(params, parse, optional=("b", "bh", "c", "h0", "c0"))
    try:
        result = cell_bptt(
            params["cell"], values["U"], values["W"], values["V"], values["x"], values["y"],
            activation=params["activation"], b=values["b"], bh=values["bh"], c=values["c"], h0=values["h0"],
            c0=values["c0"], loss=params["loss"], truncate=K, check=params["check"], clip=params.get("clip"),
            decay=settings.plot is not None,
        )
    except InputError:
        raise
    except ValueError as exc:  # the core names the parameter first: point at its line in --config
        import re

        blamed = re.match(r"\w+", str(exc))
        where = places.get(blamed.group(0)) if blamed else None
        if where:
            raise InputError(str(exc), **where) from None
        raise
    model = result.model
    inputs = {name: values[name] for name in ("U", "W", "V", "b", "bh", "c", "x", "y")}
    inputs["h0"] = model.h0.tolist()
    if model.c0 is not None:
        inputs["c0"] = model.c0.tolist()
    if params["loss"] == "softmax-ce" and isinstance(inputs["y"], list):
        inputs["y"] = [int(v) if isinstance(v, float) and v.is_integer() else v for v in inputs["y"]]
    inputs.update({"cell": params["cell"], "activation": params["activation"], "loss": params["loss"],
                   "truncate": K, "check": params["check"], "clip": params.get("clip"), "full": params["full"]})
    emit("bptt", inputs, result, CellView(full=params["full"]), settings)


def run_compare(params: dict, settings) -> None:
    """rnn-tanh, rnn-relu, lstm and gru on one random sequence: ‖∂h_T/∂h_(T−d)‖ side by side."""
    from dlvcli.core.rnn_cells import compare_cells
    from dlvcli.render.output import emit
    from dlvcli.render.rnn_cells import CompareView

    given = [f"--{name}" for name in ("U", "W", "V", "x", "y", "b", "bh", "c", "h0", "c0") if params.get(name) is not None]
    if given:
        raise InputError(f"--compare-cells draws its own weights and inputs; leave out {', '.join(given)}")
    missing = [flag for flag, name in (("--hidden", "hidden"), ("--T", "T")) if params.get(name) is None]
    if missing:
        raise InputError(f"--compare-cells needs {' and '.join(missing)} (e.g. --hidden 4 --T 20 --seed 0)")
    result = compare_cells(params["hidden"], params["T"], params["seed"], params["input_size"])
    inputs = {"compare_cells": True, "hidden": params["hidden"], "T": params["T"], "seed": params["seed"],
              "input_size": params["input_size"],
              "x": (result.x if result.input_size > 1 else result.x[:, 0]).tolist()}
    emit("bptt", inputs, result, CompareView(), settings)


def clipped_view(view: Any, grads: dict, clip: float) -> Any:
    """The tanh RNN's view with its gradients clipped by global norm."""
    from dlvcli.core.rnn_cells import clip_by_global_norm
    from dlvcli.render.rnn_cells import ClippedView

    _check_clip(clip)
    clipped, clipping = clip_by_global_norm(grads, clip)
    return ClippedView(view, clipping, clipped)
