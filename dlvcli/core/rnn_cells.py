"""BPTT for one layer of PyTorch's recurrent cells: RNN (tanh or ReLU), LSTM and GRU.

The layout and equations are those of ``torch.nn.RNN``, ``torch.nn.LSTM`` and
``torch.nn.GRU`` with one layer, so a student can check every number against PyTorch.
With G gates (1 for the RNN, 4 for LSTM in the order i, f, g, o, 3 for GRU in the order
r, z, n), U = ``weight_ih`` is (G·H, I), W = ``weight_hh`` is (G·H, H), b = ``bias_ih``
and bh = ``bias_hh`` are (G·H,) and optional; then z_t = V h_t + c and the loss as for
the tanh RNN (``dlvcli.core.bptt``)::

    RNN   a_t = U x_t + b + W h_(t−1) + bh        h_t = tanh(a_t)  or  relu(a_t)
    LSTM  [a_i a_f a_g a_o] = U x_t + b + W h_(t−1) + bh
          i = σ(a_i)  f = σ(a_f)  g = tanh(a_g)  o = σ(a_o)
          c_t = f ⊙ c_(t−1) + i ⊙ g               h_t = o ⊙ tanh(c_t)
    GRU   [p_r p_z p_n] = U x_t + b               [q_r q_z q_n] = W h_(t−1) + bh
          r = σ(p_r + q_r)  z = σ(p_z + q_z)  n = tanh(p_n + r ⊙ q_n)
          h_t = (1 − z) ⊙ n + z ⊙ h_(t−1)

The backward pass runs gate by gate.  With δh_t = ∂E/∂h_t (through every later step)
and, for LSTM, δc_t = ∂E/∂c_t::

    LSTM  δc_t = δh_t ⊙ o ⊙ (1 − tanh² c_t) + δc_(t+1) ⊙ f_(t+1)   (carried through the forget gate)
          δa_i = δc_t ⊙ g ⊙ i(1 − i)     δa_f = δc_t ⊙ c_(t−1) ⊙ f(1 − f)
          δa_g = δc_t ⊙ i ⊙ (1 − g²)     δa_o = δh_t ⊙ tanh(c_t) ⊙ o(1 − o)
    GRU   δp_n = δh_t ⊙ (1 − z) ⊙ (1 − n²)     δq_n = δp_n ⊙ r
          δp_z = δq_z = δh_t ⊙ (h_(t−1) − n) ⊙ z(1 − z)
          δp_r = δq_r = δp_n ⊙ q_n ⊙ r(1 − r)
    δh_(t−1) = ∂E_(t−1)/∂h_(t−1) + Wᵀ δq_t (+ δh_t ⊙ z_t for GRU)

and step t contributes δp_t x_tᵀ to ∂E/∂U, δq_t h_(t−1)ᵀ to ∂E/∂W, δp_t to ∂E/∂b and
δq_t to ∂E/∂bh (δp = δq = δa for the RNN and LSTM).  Truncated BPTT with window K keeps,
of each E_t, only the path through steps t−K+1..t (the gradient of Σ_t E_t with the
state at t−K held fixed).

References: Hochreiter & Schmidhuber, "Long short-term memory", Neural Computation 9(8),
1997; Cho et al., "Learning phrase representations using RNN encoder-decoder", EMNLP
2014; Pascanu, Mikolov & Bengio, "On the difficulty of training recurrent neural
networks", ICML 2013 (gradient clipping by norm); the PyTorch documentation of
``torch.nn.LSTM`` and ``torch.nn.GRU``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dlvcli.core.display import WorkedSolution  # str() and Jupyter show the worked solution
from dlvcli.core.bptt import (
    GradientCheck, SequenceOutputs, _array, _dims, _output_losses, central_difference_check, check_truncate, prepare_sequences,
    spectral_norms,
)

CELLS = ("rnn", "lstm", "gru")
ACTIVATIONS = ("tanh", "relu")
GATES = {"rnn": ("a",), "lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}
COMPARED = (("rnn", "tanh"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh"))
# Finite differences: at most this many cell steps (entries × 2 × T, batched).
CHECK_BUDGET = 2e8
VANISH_THRESHOLD = 1e-3


def cell_label(cell: str, activation: str = "tanh") -> str:
    """'rnn-tanh', 'rnn-relu', 'lstm', 'gru'."""
    return f"rnn-{activation}" if cell == "rnn" else cell


# --------------------------------------------------------------------------- model


@dataclass(frozen=True, eq=False)
class CellModel:
    """Validated parameters of one recurrent layer (PyTorch layout) and the output layer."""

    cell: str
    activation: str
    U: np.ndarray  # (G·H, I)  weight_ih
    W: np.ndarray  # (G·H, H)  weight_hh
    V: np.ndarray  # (O, H)
    b: np.ndarray | None  # (G·H,)  bias_ih
    bh: np.ndarray | None  # (G·H,)  bias_hh
    c: np.ndarray | None  # (O,)
    h0: np.ndarray  # (H,)
    c0: np.ndarray | None  # (H,) LSTM only
    loss: str
    shapes: dict[str, tuple[int, ...]]

    @property
    def gates(self) -> tuple[str, ...]:
        return GATES[self.cell]

    @property
    def hidden_size(self) -> int:
        return self.W.shape[1]

    @property
    def input_size(self) -> int:
        return self.U.shape[1]

    @property
    def output_size(self) -> int:
        return self.V.shape[0]

    @property
    def label(self) -> str:
        return cell_label(self.cell, self.activation)

    def parameters(self) -> dict[str, np.ndarray]:
        """The parameters that take part (b, bh, c only when given), in matrix form."""
        out = {"U": self.U, "W": self.W, "V": self.V}
        for name in ("b", "bh", "c"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        return out

    def with_parameters(self, params: dict[str, np.ndarray]) -> "CellModel":
        import dataclasses

        return dataclasses.replace(self, **params)

    def as_given(self, name: str, value: np.ndarray) -> np.ndarray:
        return np.reshape(value, self.shapes[name])

    def gate_rows(self, gate: str) -> slice:
        """Rows of U, W, b, bh that belong to ``gate``."""
        H = self.hidden_size
        k = self.gates.index(gate)
        return slice(k * H, (k + 1) * H)


def make_cell_model(
    cell: str,
    U: Any,
    W: Any,
    V: Any,
    *,
    activation: str = "tanh",
    b: Any = None,
    bh: Any = None,
    c: Any = None,
    h0: Any = None,
    c0: Any = None,
    loss: str = "half-sse",
) -> CellModel:
    """Check shapes in PyTorch's layout and return a :class:`CellModel`.

    U is (G·H) × I and W is (G·H) × H (a list of G·H numbers is read as a column, so
    for H = 1 and I = 1 the weights can be lists of G numbers; for the RNN plain numbers
    work too); V is O × H (a list of H numbers is one row).  b and bh have G·H entries,
    c has O, h0 and c0 have H.  Raises ``ValueError`` naming the parameter that does
    not fit.
    """
    from dlvcli.core.bptt import LOSSES

    if cell not in CELLS:
        raise ValueError(f"cell {cell!r} is not known; expected one of {', '.join(CELLS)}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation {activation!r} is not known; expected one of {', '.join(ACTIVATIONS)}")
    if activation != "tanh" and cell != "rnn":
        raise ValueError(f"activation {activation} is for the rnn cell; {cell} has its own gate functions")
    if loss not in LOSSES:
        raise ValueError(f"loss {loss!r} is not known; expected one of {', '.join(LOSSES)}")
    if c0 is not None and cell != "lstm":
        raise ValueError(f"c0 is the LSTM cell state; the {cell} cell has none")
    G = len(GATES[cell])
    gate_names = ", ".join(GATES[cell])
    arrays = {"U": _array(U, "U"), "W": _array(W, "W"), "V": _array(V, "V")}
    shapes = {name: arr.shape for name, arr in arrays.items()}
    for name in ("U", "W", "V"):
        if arrays[name].ndim > 2:
            raise ValueError(f"{name} is {_dims(arrays[name])}, expected a matrix")
    Wm = arrays["W"].reshape(-1, 1) if arrays["W"].ndim < 2 else arrays["W"]
    H = Wm.shape[1]
    if Wm.shape[0] != G * H:
        raise ValueError(
            f"W is {_dims(Wm)}: for {cell} with hidden size {H}, weight_hh is {G * H}×{H}"
            + (f" (gates {gate_names} stacked)" if G > 1 else "")
        )
    Um = arrays["U"].reshape(-1, 1) if arrays["U"].ndim < 2 else arrays["U"]
    if Um.shape[0] != G * H:
        raise ValueError(
            f"U is {_dims(Um)} but W is {G * H}×{H}: weight_ih needs {G * H} rows"
            + (f" (gates {gate_names} stacked)" if G > 1 else "")
        )
    Vm = arrays["V"].reshape(1, -1) if arrays["V"].ndim < 2 else arrays["V"]
    if Vm.shape[1] != H:
        raise ValueError(f"V is {_dims(Vm)} but the hidden size is {H}: V needs {H} column(s) (output × hidden)")
    O = Vm.shape[0]

    def vector(value: Any, name: str, size: int, what: str) -> np.ndarray | None:
        if value is None:
            return None
        arr = _array(value, name)
        if arr.size != size or arr.ndim > 1 or (arr.ndim == 0 and size != 1):
            raise ValueError(f"{name} is {_dims(arr) if arr.ndim != 1 else f'a vector of length {arr.size}'}, "
                             f"expected a vector of length {size} ({what})")
        shapes[name] = arr.shape
        return arr.reshape(size).copy()

    bias_what = f"{G}·H: gates {gate_names}" if G > 1 else "the hidden size"
    bv = vector(b, "b", G * H, bias_what)
    bhv = vector(bh, "bh", G * H, bias_what)
    cv = vector(c, "c", O, "the output size")
    h0v = vector(h0, "h0", H, "the hidden size")
    if h0v is None:
        h0v, shapes["h0"] = np.zeros(H), (H,)
    c0v = None
    if cell == "lstm":
        c0v = vector(c0, "c0", H, "the hidden size")
        if c0v is None:
            c0v, shapes["c0"] = np.zeros(H), (H,)
    return CellModel(cell, activation, Um.copy(), Wm.copy(), Vm.copy(), bv, bhv, cv, h0v, c0v, loss, shapes)


# --------------------------------------------------------------------------- one step


def _sigmoid(a: np.ndarray) -> np.ndarray:
    # 0.5·(1 + tanh(a/2)) is σ without overflow for large |a|
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def cell_update(
    cell: str, activation: str, p: np.ndarray, q: np.ndarray, h_prev: np.ndarray, c_prev: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None, dict[str, np.ndarray]]:
    """One step of the cell from the input drive p = U x + b and the recurrent drive
    q = W h_(t−1) + bh (both (..., G·H)); any leading axes are batch axes.

    Returns (h_t, c_t or None, gates) with ``gates`` the gate values by name.
    """
    H = h_prev.shape[-1]
    if cell == "rnn":
        a = p + q
        h = np.tanh(a) if activation == "tanh" else np.maximum(a, 0.0)
        return h, None, {"a": h}
    if cell == "lstm":
        a = p + q
        i = _sigmoid(a[..., :H])
        f = _sigmoid(a[..., H : 2 * H])
        g = np.tanh(a[..., 2 * H : 3 * H])
        o = _sigmoid(a[..., 3 * H :])
        c = f * c_prev + i * g
        return o * np.tanh(c), c, {"i": i, "f": f, "g": g, "o": o}
    r = _sigmoid(p[..., :H] + q[..., :H])
    z = _sigmoid(p[..., H : 2 * H] + q[..., H : 2 * H])
    n = np.tanh(p[..., 2 * H :] + r * q[..., 2 * H :])
    return (1.0 - z) * n + z * h_prev, None, {"r": r, "z": z, "n": n}


# --------------------------------------------------------------------------- forward


@dataclass(frozen=True, eq=False)
class CellForward(SequenceOutputs):
    """The forward pass; row t−1 of each (T, ...) array is step t."""

    x: np.ndarray  # (T, I)
    y: np.ndarray  # (T, O) or (T,) class indices
    p: np.ndarray  # (T, G·H) U x_t + b
    q: np.ndarray  # (T, G·H) W h_(t−1) + bh
    pre: np.ndarray  # (T, G·H) each gate's pre-activation (GRU n: p_n + r ⊙ q_n)
    gates: dict[str, np.ndarray]  # name → (T, H)
    h: np.ndarray  # (T, H)
    h_prev: np.ndarray  # (T, H), row 0 = h0
    c: np.ndarray | None  # (T, H) LSTM cell state
    c_prev: np.ndarray | None  # (T, H), row 0 = c0
    z: np.ndarray  # (T, O)
    y_hat: np.ndarray  # (T, O)
    target: np.ndarray  # (T, O)
    losses: np.ndarray  # (T,)


def _drive(model: CellModel, x: np.ndarray) -> np.ndarray:
    p = x @ model.U.T
    if model.b is not None:
        p += model.b
    return p


def cell_forward(model: CellModel, x: np.ndarray, y: np.ndarray) -> CellForward:
    """Run the cell over x (T, I) from (h0, c0) and score the outputs against y."""
    T, H = x.shape[0], model.hidden_size
    p = _drive(model, x)
    q = np.empty_like(p)
    h = np.empty((T + 1, H))
    h[0] = model.h0
    lstm = model.cell == "lstm"
    c = np.empty((T + 1, H)) if lstm else None
    if lstm:
        c[0] = model.c0
    gates = {name: np.empty((T, H)) for name in model.gates}
    W, bh = model.W, model.bh
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(T):
            np.dot(W, h[t], out=q[t])
            if bh is not None:
                q[t] += bh
            h[t + 1], c_t, g = cell_update(model.cell, model.activation, p[t], q[t], h[t], c[t] if lstm else None)
            if lstm:
                c[t + 1] = c_t
            for name, value in g.items():
                gates[name][t] = value
        pre = p + q
        if model.cell == "gru":
            pre[:, 2 * H :] = p[:, 2 * H :] + gates["r"] * q[:, 2 * H :]
        z = h[1:] @ model.V.T
        if model.c is not None:
            z += model.c
        y_hat, target, losses = _output_losses(z, y, model.loss)
    return CellForward(
        x, y, p, q, pre, gates, h[1:], h[:-1], c[1:] if lstm else None, c[:-1] if lstm else None,
        z, y_hat, target, losses,
    )


# --------------------------------------------------------------------------- backward


@dataclass(frozen=True, eq=False)
class CellBackward:
    """The backward pass, row t−1 = step t.

    ``dh``/``dc``: δh_t, δc_t (∂E/∂h_t, ∂E/∂c_t through all later steps, or, truncated,
    summed over the windows that contain t); ``dp``/``dq``: the gradients of the input
    and recurrent drives (for the RNN and LSTM both equal the pre-activation gradient δa);
    ``local``: ∂E_t/∂h_t = Vᵀ(ŷ_t − y_t).
    """

    local: np.ndarray  # (T, H)
    dh: np.ndarray  # (T, H)
    dc: np.ndarray | None  # (T, H)
    dp: np.ndarray  # (T, G·H)
    dq: np.ndarray  # (T, G·H)


def _derivative_factors(model: CellModel, fwd: CellForward) -> dict[str, np.ndarray]:
    """The local derivatives each gate's gradient is multiplied by, for every t at once."""
    H = model.hidden_size
    gt = fwd.gates
    if model.cell == "rnn":
        slope = 1.0 - fwd.h**2 if model.activation == "tanh" else (fwd.pre > 0).astype(float)
        return {"slope": slope}
    if model.cell == "lstm":
        i, f, g, o = gt["i"], gt["f"], gt["g"], gt["o"]
        tc = np.tanh(fwd.c)
        return {
            "h_to_c": o * (1.0 - tc**2),  # ∂h_t/∂c_t
            "c_to": np.concatenate([g * i * (1 - i), fwd.c_prev * f * (1 - f), i * (1 - g**2)], axis=1),
            "h_to_o": tc * o * (1 - o),
            "f": f,
        }
    r, z, n = gt["r"], gt["z"], gt["n"]
    return {
        "n_pre": (1.0 - z) * (1.0 - n**2),  # ∂h_t/∂(p_n + r q_n)
        "z_pre": (fwd.h_prev - n) * z * (1 - z),
        "r_pre": fwd.q[:, 2 * H :] * r * (1 - r),  # times δp_n
        "r": r,
        "z": z,
    }


def _step_back(model: CellModel, fac: dict, rows: np.ndarray | slice, dh: np.ndarray, dc: np.ndarray | None):
    """Gate gradients at the steps ``rows`` (vectorised) from δh, δc there.

    Returns (dp, dq, dh_prev, dc_prev): the drive gradients, and what reaches h_(t−1),
    c_(t−1) through this step (without the local ∂E_(t−1)/∂h_(t−1)).
    """
    H = model.hidden_size
    if model.cell == "rnn":
        da = dh * fac["slope"][rows]
        return da, da, da @ model.W, None
    if model.cell == "lstm":
        dc_total = dc + dh * fac["h_to_c"][rows]
        da = np.empty(dh.shape[:-1] + (4 * H,))
        da[..., : 3 * H] = np.tile(dc_total, 3) * fac["c_to"][rows]
        da[..., 3 * H :] = dh * fac["h_to_o"][rows]
        return da, da, da @ model.W, dc_total * fac["f"][rows]
    dpn = dh * fac["n_pre"][rows]
    dpz = dh * fac["z_pre"][rows]
    dpr = dpn * fac["r_pre"][rows]
    dp = np.concatenate([dpr, dpz, dpn], axis=-1)
    dq = np.concatenate([dpr, dpz, dpn * fac["r"][rows]], axis=-1)
    return dp, dq, dq @ model.W + dh * fac["z"][rows], None


def cell_backward(model: CellModel, fwd: CellForward, truncate: int | None = None) -> CellBackward:
    """δh_t, δc_t and the gate gradients at every step: one backward pass, O(T·G·H²);
    with a window K, K passes each vectorised over all t, O(T·K·G·H²)."""
    T, H = fwd.T, model.hidden_size
    G = len(model.gates)
    lstm = model.cell == "lstm"
    with np.errstate(over="ignore", invalid="ignore"):
        local = fwd.output_error @ model.V
        fac = _derivative_factors(model, fwd)
        if truncate is None or truncate >= T:
            dh = np.empty((T, H))
            dc = np.empty((T, H)) if lstm else None
            dp = np.empty((T, G * H))
            dq = np.empty((T, G * H)) if model.cell == "gru" else dp
            carry_h = np.zeros(H)
            carry_c = np.zeros(H) if lstm else None
            W = model.W
            if model.cell == "lstm":
                h_to_c, c_to, h_to_o, f = fac["h_to_c"], fac["c_to"], fac["h_to_o"], fac["f"]
                for t in range(T - 1, -1, -1):
                    d_h = dh[t]
                    np.add(local[t], carry_h, out=d_h)
                    d_c = dc[t]
                    np.multiply(d_h, h_to_c[t], out=d_c)
                    d_c += carry_c
                    row = dp[t]
                    np.multiply(c_to[t, :H], d_c, out=row[:H])
                    np.multiply(c_to[t, H : 2 * H], d_c, out=row[H : 2 * H])
                    np.multiply(c_to[t, 2 * H :], d_c, out=row[2 * H : 3 * H])
                    np.multiply(h_to_o[t], d_h, out=row[3 * H :])
                    np.dot(row, W, out=carry_h)
                    np.multiply(d_c, f[t], out=carry_c)
            else:
                for t in range(T - 1, -1, -1):
                    dh[t] = local[t] + carry_h
                    p_t, q_t, carry_h, _ = _step_back(model, fac, t, dh[t], None)
                    dp[t] = p_t
                    if dq is not dp:
                        dq[t] = q_t
            return CellBackward(local, dh, dc, dp, dq)
        # truncated: lag d = 0..K−1; sig_h[k] is what E_(k+d) sends to step k (0-based rows)
        dh = local.copy()
        dc = np.zeros((T, H)) if lstm else None
        sig_h, sig_c = local.copy(), (np.zeros((T, H)) if lstm else None)
        dp_sum = np.zeros((T, G * H))
        dq_sum = np.zeros((T, G * H))
        for d in range(truncate):
            n = T - d  # steps k = 0..n−1 receive from E_(k+d)
            rows = slice(0, n)
            dp_k, dq_k, back_h, back_c = _step_back(model, fac, rows, sig_h, sig_c)
            dp_sum[:n] += dp_k
            dq_sum[:n] += dq_k
            if lstm:
                # δc_k as the backward pass of this window sees it: through o, plus what came from k+1
                dc[:n] += sig_c + sig_h * fac["h_to_c"][rows]
            if d + 1 < truncate and n > 1:
                sig_h = back_h[1:]  # reaches h_(k−1): row k−1 now receives from E_(k−1+d+1)
                sig_c = back_c[1:] if lstm else None
                dh[: n - 1] += sig_h
        return CellBackward(local, dh, dc, dp_sum, dq_sum)


def cell_gradients_from(model: CellModel, fwd: CellForward, back: CellBackward) -> dict[str, np.ndarray]:
    """The totals in matrix form from the gate gradients of every step."""
    grads = {
        "U": back.dp.T @ fwd.x,
        "W": back.dq.T @ fwd.h_prev,
        "V": fwd.output_error.T @ fwd.h,
    }
    if model.b is not None:
        grads["b"] = back.dp.sum(axis=0)
    if model.bh is not None:
        grads["bh"] = back.dq.sum(axis=0)
    if model.c is not None:
        grads["c"] = fwd.output_error.sum(axis=0)
    return grads


def cell_gradients(
    cell: str, U: Any, W: Any, V: Any, x: Any, y: Any, *, activation: str = "tanh", b: Any = None, bh: Any = None,
    c: Any = None, h0: Any = None, c0: Any = None, loss: str = "half-sse", truncate: int | None = None,
) -> tuple[float, dict[str, np.ndarray]]:
    """The loss and its gradients only (the fast path), in the shapes the parameters were given in."""
    model = make_cell_model(cell, U, W, V, activation=activation, b=b, bh=bh, c=c, h0=h0, c0=c0, loss=loss)
    xs, ys, _ = prepare_sequences(model, x, y)
    fwd = cell_forward(model, xs, ys)
    with np.errstate(over="ignore", invalid="ignore"):
        grads = cell_gradients_from(model, fwd, cell_backward(model, fwd, check_truncate(truncate)))
    return fwd.loss, {name: model.as_given(name, g) for name, g in grads.items()}


# --------------------------------------------------------------------------- clipping


@dataclass(frozen=True)
class Clipping:
    """Gradient clipping by global norm: g ← g · min(1, NORM / ‖g‖), ‖g‖ over every parameter."""

    max_norm: float
    norm_before: float
    norm_after: float
    scale: float


def clip_by_global_norm(grads: dict[str, np.ndarray], max_norm: float) -> tuple[dict[str, np.ndarray], Clipping]:
    """Scale every gradient by min(1, max_norm / ‖g‖₂), ‖g‖₂ the norm of all entries together.

    Like ``torch.nn.utils.clip_grad_norm_`` except that dlv uses max_norm/‖g‖ exactly
    (torch divides by ‖g‖ + 1e−6).
    """
    if not (isinstance(max_norm, (int, float)) and math.isfinite(max_norm) and max_norm > 0):
        raise ValueError(f"clip {max_norm!r}: expected a positive number (the largest global gradient norm)")
    flat = np.concatenate([np.ravel(np.asarray(g, dtype=float)) for g in grads.values()])
    with np.errstate(over="ignore", invalid="ignore"):
        norm = float(np.linalg.norm(flat))
    if not math.isfinite(norm):
        raise ValueError("clip: the gradient is not finite (it overflowed), so it has no norm to clip to")
    scale = 1.0 if norm <= max_norm else max_norm / norm
    clipped = {name: np.asarray(g, dtype=float) * scale for name, g in grads.items()}
    after = float(np.linalg.norm(np.concatenate([np.ravel(g) for g in clipped.values()])))
    return clipped, Clipping(float(max_norm), norm, after, float(scale))


# --------------------------------------------------------------------------- Jacobians


def step_jacobians(model: CellModel, fwd: CellForward) -> np.ndarray:
    """The one-step Jacobians of the state, (T, S, S): S = H, or 2H for LSTM with the
    state (h, c); row t−1 is ∂(h_t, c_t)/∂(h_(t−1), c_(t−1))."""
    H = model.hidden_size
    W = model.W
    Wg = [W[k * H : (k + 1) * H] for k in range(len(model.gates))]
    fac = _derivative_factors(model, fwd)
    if model.cell == "rnn":
        return fac["slope"][:, :, None] * W[None]
    if model.cell == "gru":
        r = fac["r"]
        dr = (r * (1 - r))[:, :, None] * Wg[0]
        dn_pre = r[:, :, None] * Wg[2] + fwd.q[:, 2 * H :, None] * dr  # ∂(p_n + r ⊙ q_n)/∂h
        return fac["n_pre"][:, :, None] * dn_pre + fac["z_pre"][:, :, None] * Wg[1] + \
            np.einsum("ti,ij->tij", fac["z"], np.eye(H))
    c_to = fac["c_to"]
    dc_dh = sum(c_to[:, k * H : (k + 1) * H, None] * Wg[k] for k in range(3))
    dc_dc = np.einsum("ti,ij->tij", fac["f"], np.eye(H))
    dh_dh = fac["h_to_o"][:, :, None] * Wg[3] + fac["h_to_c"][:, :, None] * dc_dh
    dh_dc = fac["h_to_c"][:, :, None] * dc_dc
    top = np.concatenate([dh_dh, dh_dc], axis=2)
    bottom = np.concatenate([dc_dh, dc_dc], axis=2)
    return np.concatenate([top, bottom], axis=1)


def jacobian_norms_from_last(model: CellModel, fwd: CellForward) -> tuple[np.ndarray, np.ndarray | None]:
    """‖∂h_T/∂h_(T−d)‖₂ for d = 0..T−1 (for LSTM with c_(T−d) held), and for LSTM
    ‖∂c_T/∂c_(T−d)‖₂ (h_(T−d) held); spectral norms of the product of step Jacobians."""
    T, H = fwd.T, model.hidden_size
    steps = step_jacobians(model, fwd)
    S = steps.shape[1]
    prods = np.empty((T, S, S))
    prod = np.eye(S)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        for d in range(T):
            prods[d] = prod  # ∂s_T/∂s_(T−d)
            prod = prod @ steps[T - 1 - d]
        h_norms = spectral_norms(prods[:, :H, :H])
        c_norms = spectral_norms(prods[:, H:, H:]) if model.cell == "lstm" else None
    return h_norms, c_norms


# --------------------------------------------------------------------------- finite differences


# the cells report their check in the tanh RNN's form (same fields)
CellCheck = GradientCheck


def _batched_loss(model: CellModel, fwd: CellForward, batch: dict[str, np.ndarray], truncate: int | None) -> np.ndarray:
    """E for n parameter sets (each batch[name] has a leading axis n).  Truncated: the
    stop-gradient loss whose windows start from the unperturbed state at t−K."""
    U, W, V = batch["U"], batch["W"], batch["V"]
    b, bh, c = batch.get("b"), batch.get("bh"), batch.get("c")
    n, T, H = U.shape[0], fwd.T, model.hidden_size
    x = fwd.x
    lstm = model.cell == "lstm"

    def scores(hs: np.ndarray, y: np.ndarray) -> np.ndarray:
        z = np.einsum("noh,n...h->n...o", V, hs)
        if c is not None:
            z = z + c.reshape((n,) + (1,) * (hs.ndim - 2) + (-1,))
        return _step_losses(model.loss, z, y)

    if truncate is None or truncate >= T:
        h = np.broadcast_to(model.h0, (n, H)).copy()
        cs = np.broadcast_to(model.c0, (n, H)).copy() if lstm else None
        p_all = np.einsum("ngi,ti->tng", U, x)
        if b is not None:
            p_all += b
        hs = np.empty((n, T, H))
        for t in range(T):
            q = np.einsum("ngh,nh->ng", W, h)
            if bh is not None:
                q += bh
            h, cs, _ = cell_update(model.cell, model.activation, p_all[t], q, h, cs)
            hs[:, t] = h
        return scores(hs, fwd.y[None]).sum(axis=1)
    K = truncate
    h_all = np.concatenate([model.h0[None], fwd.h])
    starts = np.maximum(np.arange(1, T + 1) - K, 0)
    h = np.broadcast_to(h_all[starts], (n, T, H)).copy()
    if lstm:
        c_all = np.concatenate([model.c0[None], fwd.c])
        cs = np.broadcast_to(c_all[starts], (n, T, H)).copy()
    else:
        cs = None
    for j in range(K):
        s = np.arange(1, T + 1) - K + 1 + j  # the step each window takes now (1-based)
        active = s >= 1
        p = np.einsum("ngi,ti->ntg", U, x[s[active] - 1])
        if b is not None:
            p += b[:, None, :]
        q = np.einsum("ngh,nth->ntg", W, h[:, active])
        if bh is not None:
            q += bh[:, None, :]
        h_new, c_new, _ = cell_update(model.cell, model.activation, p, q, h[:, active], cs[:, active] if lstm else None)
        h[:, active] = h_new
        if lstm:
            cs[:, active] = c_new
    return scores(h, fwd.y[None]).sum(axis=1)


def _step_losses(loss: str, z: np.ndarray, y: np.ndarray) -> np.ndarray:
    if loss == "half-sse":
        diff = z - y
        return 0.5 * np.einsum("...o,...o->...", diff, diff)
    top = z.max(axis=-1, keepdims=True)
    log_sum = top[..., 0] + np.log(np.exp(z - top).sum(axis=-1))
    picked = np.take_along_axis(z, np.broadcast_to(y, z.shape[:-1])[..., None], axis=-1)[..., 0]
    return log_sum - picked


def cell_finite_difference_check(
    model: CellModel, fwd: CellForward, grads: dict[str, np.ndarray], truncate: int | None = None,
    *, budget: float = CHECK_BUDGET, seed: int = 0,
) -> CellCheck:
    """Central differences (E(θ + s) − E(θ − s)) / 2s with s = ε·max(1, |θ_i|),
    ε = (u·max(1, |E|))^(1/3); every entry when the work fits ``budget`` (entries × 2 ×
    T × window cell steps), else the largest-gradient entry and a seeded sample."""
    params = model.parameters()
    T = fwd.T
    truncated = truncate is not None and truncate < T
    G, H, I, O = len(model.gates), model.hidden_size, model.input_size, model.output_size
    return central_difference_check(
        params, grads, fwd.loss, lambda batch: _batched_loss(model, fwd, batch, truncate),
        per_eval=max(1, T * (truncate if truncated else 1) * (G * H * (H + I) + O * H)),
        size_per_set=sum(p.size for p in params.values()) + T * H * 4,
        truncated=truncated, budget=budget, seed=seed,
    )


# --------------------------------------------------------------------------- the whole thing


@dataclass(frozen=True, eq=False)
class CellBpttResult(WorkedSolution):
    """Everything ``dlv bptt --cell …`` shows.  ``grads`` are in the shapes given (clipped
    when ``clipping`` is set; ``grads_unclipped`` are the raw ones, matrix form)."""

    model: CellModel
    forward: CellForward
    backward: CellBackward
    truncate: int | None
    loss: float
    grads: dict[str, np.ndarray]
    grads_unclipped: dict[str, np.ndarray]
    clipping: Clipping | None
    gradient_check: CellCheck | None
    jacobian_norms: np.ndarray | None  # ‖∂h_T/∂h_(T−d)‖, d = 0..T−1 (when asked for)
    cell_norms: np.ndarray | None
    sequence_shapes: dict[str, tuple]
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def T(self) -> int:
        return self.forward.T


def cell_bptt(
    cell: str, U: Any, W: Any, V: Any, x: Any, y: Any, *, activation: str = "tanh", b: Any = None, bh: Any = None,
    c: Any = None, h0: Any = None, c0: Any = None, loss: str = "half-sse", truncate: int | None = None,
    check: bool = False, clip: float | None = None, decay: bool = False,
) -> CellBpttResult:
    """Forward pass, gate-by-gate backward pass, totals, optional check, clipping and decay.

    >>> r = cell_bptt("lstm", [[0.5], [0.4], [0.3], [0.2]], [[0.1], [0.2], [0.3], [0.4]], 1.0, [1, -1], [0.5, 0.2])
    >>> sorted(r.grads)
    ['U', 'V', 'W']
    """
    model = make_cell_model(cell, U, W, V, activation=activation, b=b, bh=bh, c=c, h0=h0, c0=c0, loss=loss)
    xs, ys, seq_shapes = prepare_sequences(model, x, y)
    K = check_truncate(truncate)
    warnings: list[str] = []
    fwd = cell_forward(model, xs, ys)
    if loss == "softmax-ce" and model.output_size == 1:
        warnings.append("softmax over a single output is always 1: the loss and every gradient are 0")
    back = cell_backward(model, fwd, K)
    with np.errstate(over="ignore", invalid="ignore"):
        grads_m = cell_gradients_from(model, fwd, back)
    if not math.isfinite(fwd.loss):
        warnings.append("loss is not finite (an overflow); written as null in JSON")
    for name, g in grads_m.items():
        bad = int(np.size(g) - np.count_nonzero(np.isfinite(g)))
        if bad:
            warnings.append(f"grads.{name}: {bad} of {np.size(g)} values are not finite (an exploding gradient); "
                            "written as null in JSON")
    clipping = None
    shown = grads_m
    if clip is not None:
        shown, clipping = clip_by_global_norm(grads_m, clip)
    checked = cell_finite_difference_check(model, fwd, grads_m, K) if check else None
    if checked is not None and sum(checked.entries_checked.values()) < sum(checked.entries.values()):
        warnings.append(
            f"the finite-difference check covered {sum(checked.entries_checked.values())} of "
            f"{sum(checked.entries.values())} parameter entries (the rest would take too long)"
        )
    h_norms = c_norms = None
    if decay:
        h_norms, c_norms = jacobian_norms_from_last(model, fwd)
    return CellBpttResult(
        model, fwd, back, K, fwd.loss, {n: model.as_given(n, g) for n, g in shown.items()}, grads_m, clipping,
        checked, h_norms, c_norms, seq_shapes, tuple(warnings),
    )


# --------------------------------------------------------------------------- comparing cells


@dataclass(frozen=True, eq=False)
class ComparedCell:
    """One cell of ``--compare-cells``: its weights, the norms, and what they show."""

    label: str  # rnn-tanh, rnn-relu, lstm, gru
    model: CellModel
    forward: CellForward
    jacobian_norms: np.ndarray  # (T,)
    cell_norms: np.ndarray | None  # (T,) LSTM
    sigma_max_W: float  # largest singular value of weight_hh (all gates stacked)
    mean_forget: float | None  # LSTM: mean of f_t over t and units
    mean_update: float | None  # GRU: mean of z_t
    active_share: float | None  # ReLU: share of units with a_t > 0
    mean_slope: float | None  # RNN: mean of the activation's derivative
    per_step_factor: float  # (norm at d = T−1) ^ (1/(T−1)): the average shrink/growth per step
    distance_below: int | None  # first d with norm < threshold
    distance_above: int | None  # first d with norm > 1/threshold


@dataclass(frozen=True, eq=False)
class CompareCellsResult(WorkedSolution):
    hidden_size: int
    input_size: int
    T: int
    seed: int
    x: np.ndarray  # (T, I)
    cells: tuple[ComparedCell, ...]
    threshold: float = VANISH_THRESHOLD
    warnings: tuple[str, ...] = field(default_factory=tuple)


def pytorch_init_weights(rng: np.random.Generator, cell: str, H: int, I: int) -> dict[str, np.ndarray]:
    """U, W, b, bh drawn uniform(−1/√H, 1/√H), in that order, as ``torch.nn.RNN/LSTM/GRU.reset_parameters``."""
    G = len(GATES[cell])
    k = 1.0 / math.sqrt(H)
    return {
        "U": rng.uniform(-k, k, size=(G * H, I)),
        "W": rng.uniform(-k, k, size=(G * H, H)),
        "b": rng.uniform(-k, k, size=G * H),
        "bh": rng.uniform(-k, k, size=G * H),
    }


def _first(mask: np.ndarray) -> int | None:
    hits = np.flatnonzero(mask)
    return int(hits[0]) if hits.size else None


def compare_cells(hidden: int, T: int, seed: int, input_size: int = 1, threshold: float = VANISH_THRESHOLD) -> CompareCellsResult:
    """One input sequence x_t ~ N(0, 1) (drawn first from ``numpy.random.default_rng(seed)``)
    through rnn-tanh, rnn-relu, lstm and gru, each with its own weights drawn next in that
    order (:func:`pytorch_init_weights`), h0 = c0 = 0; the norms of ∂h_T/∂h_(T−d)."""
    for name, value in (("hidden", hidden), ("T", T), ("input_size", input_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} is {value!r}, expected a whole number ≥ 1")
    if T * hidden**3 * 8 > 4e9:
        raise ValueError(f"T = {T} with hidden size {hidden} is too large to compare (T·H³ above {4e9 / 8:.0e})")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, input_size))
    cells = []
    for cell, activation in COMPARED:
        w = pytorch_init_weights(rng, cell, hidden, input_size)
        model = make_cell_model(cell, w["U"], w["W"], np.zeros((1, hidden)), activation=activation,
                                b=w["b"], bh=w["bh"])
        fwd = cell_forward(model, x, np.zeros((T, 1)))
        h_norms, c_norms = jacobian_norms_from_last(model, fwd)
        last = float(h_norms[-1])
        factor = last ** (1.0 / (T - 1)) if T > 1 and math.isfinite(last) else (math.inf if T > 1 else 1.0)
        slope = None
        if cell == "rnn":
            slope = float(np.mean(1 - fwd.h**2)) if activation == "tanh" else float(np.mean(fwd.pre > 0))
        cells.append(ComparedCell(
            cell_label(cell, activation), model, fwd, h_norms, c_norms,
            float(spectral_norms(model.W[None])[0]),
            float(fwd.gates["f"].mean()) if cell == "lstm" else None,
            float(fwd.gates["z"].mean()) if cell == "gru" else None,
            float(np.mean(fwd.pre > 0)) if activation == "relu" else None,
            slope, float(factor),
            _first(h_norms < threshold), _first(h_norms > 1 / threshold),
        ))
    return CompareCellsResult(hidden, input_size, T, seed, x, tuple(cells), threshold)
