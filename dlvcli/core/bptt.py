"""Backpropagation through time for a tanh RNN, total, per step and term by term (docs/bptt.md).

The model, for t = 1..T (scalars, or vectors and matrices of independent sizes:
input I, hidden H, output O)::

    a_t = U x_t + W h_{t-1} + b        h_t = tanh(a_t)
    z_t = V h_t + c                     ŷ_t = z_t  (half-sse)  or  softmax(z_t)  (softmax-ce)
    E_t = ½‖ŷ_t − y_t‖²   or   −log ŷ_t[y_t]        E = Σ_t E_t

Shapes: U (H, I), W (H, H), V (O, H), b (H,), c (O,), h0 (H,), x (T, I),
y (T, O) for half-sse or (T,) class indices for softmax-ce.

For both losses ∂E_t/∂z_t = ŷ_t − y_t (y_t one-hot for softmax-ce).  With
g_t = ∂E_t/∂h_t = Vᵀ(ŷ_t − y_t) and D_k = diag(1 − h_k²)::

    ∂h_j/∂h_{j−1} = D_j W                    (the Jacobian of one step)
    ∂h_t/∂h_k     = D_t W · D_{t−1} W ⋯ D_{k+1} W   (= I for k = t)
    ∂E_t/∂a_k     = D_k (∂h_t/∂h_k)ᵀ g_t     (the error signal reaching step k)
    ∂E_t/∂W       = Σ_k ∂E_t/∂a_k · h_{k−1}ᵀ     ∂E_t/∂U = Σ_k ∂E_t/∂a_k · x_kᵀ
    ∂E_t/∂b       = Σ_k ∂E_t/∂a_k                ∂E_t/∂V = (ŷ_t − y_t) h_tᵀ,  ∂E_t/∂c = ŷ_t − y_t

with k = 1..t, or k = max(1, t−K+1)..t for truncated BPTT with window K (which
does not change V and c).  The totals come from one backward pass,
δ_t = D_t (g_t + Wᵀ δ_{t+1}), in O(T·H²) (O(T·K·H²) truncated); the per-step
gradients and the term-by-term table are computed only when asked for.

The pieces compose::

    make_model → forward → backward_totals                 (the answer)
                         → per_step_gradients, step_terms  (the worked solution)
                         → jacobian_decay                  (why it vanishes)
                         → finite_difference_check         (the check)
    bptt(...) runs them all and returns a :class:`BpttResult`.

Reference: Werbos, "Backpropagation through time: what it does and how to do it",
Proc. IEEE 78(10), 1990; Pascanu, Mikolov & Bengio, "On the difficulty of training
recurrent neural networks", ICML 2013 (the bound ‖∂h_t/∂h_k‖ ≤ (σ_max(W)·max|1 − h²|)^{t−k}).
"""

from __future__ import annotations

from dlvcli.core.display import WorkedSolution  # str() and Jupyter show the worked solution

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from dlvcli.core.expr import Expr, Group, Line, Num, Sym, juxtapose

LOSSES = ("half-sse", "softmax-ce")
PARAMETER_NAMES = ("U", "W", "V", "b", "c")
# Up to this many steps the term-by-term table is computed by default (docs/bptt.md).
TERMS_MAX_T = 50
# Work limits (multiply-adds) above which the optional parts are left out with a warning.
PER_STEP_BUDGET = 3e8
PER_STEP_MAX_NUMBERS = 5e6
TERMS_MAX_NUMBERS = 2e6
ALL_PAIRS_BUDGET = 5e7
ALL_PAIRS_MAX_T = 200
DECAY_ALL_DISTANCES_BUDGET = 3e7
CHECK_BUDGET = 2e9
VANISH_THRESHOLD = 1e-3


# --------------------------------------------------------------------------- model


@dataclass(frozen=True, eq=False)
class RnnModel:
    """Validated parameters in matrix form, and the shapes they were given in."""

    U: np.ndarray  # (H, I)
    W: np.ndarray  # (H, H)
    V: np.ndarray  # (O, H)
    b: np.ndarray | None  # (H,)
    c: np.ndarray | None  # (O,)
    h0: np.ndarray  # (H,)
    loss: str
    shapes: dict[str, tuple[int, ...]]

    @property
    def hidden_size(self) -> int:
        return self.W.shape[0]

    @property
    def input_size(self) -> int:
        return self.U.shape[1]

    @property
    def output_size(self) -> int:
        return self.V.shape[0]

    @property
    def is_scalar(self) -> bool:
        """U, W and V are plain numbers (input, hidden and output size 1)."""
        return all(self.shapes[name] == () for name in ("U", "W", "V"))

    def parameters(self) -> dict[str, np.ndarray]:
        """The parameters that take part, in matrix form (b and c only when given)."""
        out = {"U": self.U, "W": self.W, "V": self.V}
        if self.b is not None:
            out["b"] = self.b
        if self.c is not None:
            out["c"] = self.c
        return out

    def as_given(self, name: str, value: np.ndarray) -> np.ndarray:
        """``value`` (a gradient of parameter ``name``) in the shape the parameter was given."""
        return np.reshape(value, self.shapes[name])


def _array(value: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a number or a rectangular list of numbers, got {value!r}") from None
    if arr.size == 0:
        raise ValueError(f"{name}: empty, expected numbers")
    bad = np.argwhere(~np.isfinite(arr))
    if len(bad):
        where = "" if arr.ndim == 0 else "[" + "][".join(str(int(i)) for i in bad[0]) + "]"
        raise ValueError(f"{name}{where} is {arr[tuple(bad[0])]}, expected a finite number")
    return arr


def _dims(arr: np.ndarray) -> str:
    return "×".join(str(n) for n in arr.shape) if arr.ndim else "a number"


def make_model(
    U: Any,
    W: Any,
    V: Any,
    *,
    b: Any = None,
    c: Any = None,
    h0: Any = None,
    loss: str = "half-sse",
) -> RnnModel:
    """Check the parameters' shapes against each other and return an :class:`RnnModel`.

    U, W, V are numbers (a scalar RNN) or matrices: U is hidden × input, W hidden ×
    hidden, V output × hidden.  b (length hidden), c (length output) and h0 (length
    hidden, default zeros) are numbers or vectors.  Raises ``ValueError`` naming the
    parameter whose shape does not fit.
    """
    if loss not in LOSSES:
        raise ValueError(f"loss {loss!r} is not known; expected one of {', '.join(LOSSES)}")
    arrays = {"U": _array(U, "U"), "W": _array(W, "W"), "V": _array(V, "V")}
    for name, what in (("U", "hidden × input"), ("W", "hidden × hidden"), ("V", "output × hidden")):
        if arrays[name].ndim not in (0, 2):
            raise ValueError(
                f"{name} is a list of {arrays[name].size} numbers, expected a number or a matrix ({what}), "
                f"e.g. [[1], [2]] for a column"
            )
    Wm = np.atleast_2d(arrays["W"])
    if Wm.shape[0] != Wm.shape[1]:
        raise ValueError(f"W is {_dims(Wm)}, expected a square matrix (hidden × hidden)")
    H = Wm.shape[0]
    Um = np.atleast_2d(arrays["U"])
    if Um.shape[0] != H:
        raise ValueError(f"U is {_dims(Um)} but W is {H}×{H}: U needs {H} row(s) (hidden × input)")
    Vm = np.atleast_2d(arrays["V"])
    if Vm.shape[1] != H:
        raise ValueError(f"V is {_dims(Vm)} but W is {H}×{H}: V needs {H} column(s) (output × hidden)")
    O = Vm.shape[0]
    shapes = {name: arr.shape for name, arr in arrays.items()}

    def vector(value: Any, name: str, size: int, what: str) -> tuple[np.ndarray, tuple[int, ...]]:
        arr = _array(value, name)
        if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] != size) or (arr.ndim == 0 and size != 1):
            raise ValueError(f"{name} is {_dims(arr) if arr.ndim != 1 else f'a vector of length {arr.shape[0]}'}, "
                             f"expected {'a number or ' if size == 1 else ''}a vector of length {size} ({what})")
        return arr.reshape(size).copy(), arr.shape

    bv = cv = None
    if b is not None:
        bv, shapes["b"] = vector(b, "b", H, "the hidden size")
    if c is not None:
        cv, shapes["c"] = vector(c, "c", O, "the output size")
    if h0 is None:
        h0v = np.zeros(H)
        shapes["h0"] = () if shapes["W"] == () else (H,)
    else:
        h0v, shapes["h0"] = vector(h0, "h0", H, "the hidden size")
    return RnnModel(Um.copy(), Wm.copy(), Vm.copy(), bv, cv, h0v, loss, shapes)


def prepare_sequences(model: RnnModel, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray, dict[str, tuple]]:
    """Validate the sequences: x → (T, I) floats; y → (T, O) floats, or (T,) class indices.

    Returns (x, y, shapes) where shapes records how x and y were given (for output).
    """
    I, O = model.input_size, model.output_size
    xa = _array(x, "x")
    if xa.ndim == 0:
        xa = xa.reshape(1)
    if xa.ndim == 1:
        if I != 1:
            raise ValueError(
                f"x is a list of {xa.shape[0]} numbers, but U is {model.hidden_size}×{I}: give x as a list of "
                f"T vectors of length {I}, e.g. [[...], [...]]"
            )
        x_shape: tuple = (xa.shape[0],)
        xm = xa.reshape(-1, 1)
    elif xa.ndim == 2:
        if xa.shape[1] != I:
            raise ValueError(f"x has vectors of length {xa.shape[1]}, but U is {model.hidden_size}×{I}: expected length {I}")
        x_shape, xm = xa.shape, xa
    else:
        raise ValueError(f"x is {_dims(xa)}, expected a list of numbers or a list of vectors")
    T = xm.shape[0]

    if model.loss == "softmax-ce":
        ya = _array(y, "y")
        if ya.ndim == 0:
            ya = ya.reshape(1)
        if ya.ndim != 1:
            raise ValueError(f"y is {_dims(ya)}; for softmax-ce, expected one class index per step (0-based)")
        if ya.shape[0] != T:
            raise ValueError(f"x has {T} steps but y has {ya.shape[0]}: expected one target per step")
        for i, v in enumerate(ya):
            if v != int(v):
                raise ValueError(f"y[{i}] is {v}, expected a whole-number class index 0..{O - 1}")
            if not 0 <= v < O:
                raise ValueError(
                    f"y[{i}] is class {int(v)}, out of range: V has {O} output(s), so classes are 0..{O - 1}"
                )
        return xm.copy(), ya.astype(np.int64), {"x": x_shape, "y": (T,)}

    ya = _array(y, "y")
    if ya.ndim == 0:
        ya = ya.reshape(1)
    if ya.ndim == 1:
        if O != 1:
            raise ValueError(
                f"y is a list of {ya.shape[0]} numbers, but V has {O} outputs: give y as a list of T vectors of length {O}"
            )
        y_shape: tuple = (ya.shape[0],)
        ym = ya.reshape(-1, 1)
    elif ya.ndim == 2:
        if ya.shape[1] != O:
            raise ValueError(f"y has vectors of length {ya.shape[1]}, but V has {O} output(s): expected length {O}")
        y_shape, ym = ya.shape, ya
    else:
        raise ValueError(f"y is {_dims(ya)}, expected a list of numbers or a list of vectors")
    if ym.shape[0] != T:
        raise ValueError(f"x has {T} steps but y has {ym.shape[0]}: expected one target per step")
    return xm.copy(), ym.copy(), {"x": x_shape, "y": y_shape}


def check_truncate(truncate: Any) -> int | None:
    """None (full BPTT) or a whole number K ≥ 1."""
    if truncate is None:
        return None
    if isinstance(truncate, bool) or not float(truncate).is_integer():
        raise ValueError(f"truncate is {truncate!r}, expected a whole number K ≥ 1")
    K = int(truncate)
    if K < 1:
        raise ValueError(f"truncate is {K}, expected a whole number K ≥ 1 (K = 1 keeps only the k = t term)")
    return K


# --------------------------------------------------------------------------- forward


class SequenceOutputs:
    """What every recurrent cell's forward pass has in common: inputs ``x`` (T, I), outputs
    ``y_hat`` against ``target`` (T, O), one loss per step ``losses`` (T,)."""

    x: np.ndarray
    y_hat: np.ndarray
    target: np.ndarray
    losses: np.ndarray

    @property
    def T(self) -> int:
        return self.x.shape[0]

    @property
    def loss(self) -> float:
        return float(self.losses.sum())

    @property
    def output_error(self) -> np.ndarray:
        """∂E_t/∂z_t = ŷ_t − y_t for both losses, (T, O)."""
        return self.y_hat - self.target


@dataclass(frozen=True, eq=False)
class Forward(SequenceOutputs):
    """The forward pass of the tanh RNN; row t−1 of each array is step t."""

    x: np.ndarray  # (T, I)
    y: np.ndarray  # (T, O) targets, or (T,) class indices
    a: np.ndarray  # (T, H)
    h: np.ndarray  # (T, H)
    h_prev: np.ndarray  # (T, H): h_{t−1}, row 0 is h0
    z: np.ndarray  # (T, O)
    y_hat: np.ndarray  # (T, O)
    target: np.ndarray  # (T, O): y, or one-hot(y) for softmax-ce
    losses: np.ndarray  # (T,)

    @property
    def local_slope(self) -> np.ndarray:
        """1 − h_t², the derivative of tanh at a_t, (T, H)."""
        return 1.0 - self.h * self.h


def _softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def _output_losses(z: np.ndarray, y: np.ndarray, loss: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ŷ, target, E_t) from the logits z (T, O)."""
    if loss == "half-sse":
        diff = z - y
        return z, y, 0.5 * np.einsum("to,to->t", diff, diff)
    y_hat = _softmax(z)
    target = np.zeros_like(z)
    target[np.arange(len(y)), y] = 1.0
    top = z.max(axis=1)
    log_sum = top + np.log(np.exp(z - top[:, None]).sum(axis=1))
    return y_hat, target, log_sum - z[np.arange(len(y)), y]


def forward(model: RnnModel, x: np.ndarray, y: np.ndarray) -> Forward:
    """Run the RNN over x (T, I) and score it against y."""
    T, H = x.shape[0], model.hidden_size
    drive = x @ model.U.T  # U x_t for every t at once
    if model.b is not None:
        drive += model.b
    a = np.empty((T, H))
    h = np.empty((T + 1, H))
    h[0] = model.h0
    W = model.W
    for t in range(T):
        np.dot(W, h[t], out=a[t])
        a[t] += drive[t]
        np.tanh(a[t], out=h[t + 1])
    z = h[1:] @ model.V.T
    if model.c is not None:
        z += model.c
    with np.errstate(over="ignore", invalid="ignore"):
        y_hat, target, losses = _output_losses(z, y, model.loss)
    return Forward(x, y, a, h[1:], h[:-1], z, y_hat, target, losses)


# --------------------------------------------------------------------------- backward


def error_signals(model: RnnModel, fwd: Forward, truncate: int | None = None) -> np.ndarray:
    """A[k] = Σ_t ∂E_t/∂a_k over the t whose sum includes k (T, H).

    Without truncation this is one backward pass, δ_k = D_k (g_k + Wᵀ δ_{k+1}),
    O(T·H²).  With a window K it runs over the lags d = 0..K−1, each lag vectorised
    over all steps: Γ_0 = D ⊙ g, Γ_d[k] = D_k ⊙ Wᵀ Γ_{d−1}[k+1]; A = Σ_d Γ_d, O(T·K·H²).
    """
    T = fwd.T
    D = fwd.local_slope
    G = fwd.output_error @ model.V  # row t: g_tᵀ = (ŷ_t − y_t)ᵀ V
    W = model.W
    with np.errstate(over="ignore", invalid="ignore"):
        if truncate is None or truncate >= T:
            delta = np.empty((T + 1, model.hidden_size))
            delta[T] = 0.0  # δ_{T+1} = 0
            for t in range(T - 1, -1, -1):
                row = delta[t]
                np.dot(delta[t + 1], W, out=row)  # (Wᵀ δ_{t+1})ᵀ
                row += G[t]
                row *= D[t]
            return delta[:T]
        total = D * G
        lag = total.copy()
        for d in range(1, truncate):
            lag = D[: T - d] * (lag[1:] @ W)
            total[: T - d] += lag
        return total


def backward_totals(model: RnnModel, fwd: Forward, truncate: int | None = None) -> dict[str, np.ndarray]:
    """dE/dU, dE/dW, dE/dV (and dE/db, dE/dc when the model has them), in matrix form."""
    with np.errstate(over="ignore", invalid="ignore"):
        A = error_signals(model, fwd, truncate)
        E = fwd.output_error
        grads = {"U": A.T @ fwd.x, "W": A.T @ fwd.h_prev, "V": E.T @ fwd.h}
        if model.b is not None:
            grads["b"] = A.sum(axis=0)
        if model.c is not None:
            grads["c"] = E.sum(axis=0)
    return grads


def bptt_gradients(
    U: Any, W: Any, V: Any, x: Any, y: Any, *, b: Any = None, c: Any = None, h0: Any = None,
    loss: str = "half-sse", truncate: int | None = None,
) -> tuple[float, dict[str, np.ndarray]]:
    """The loss E and its gradients only (no derivation): the fast path, O(T·H²).

    Gradients are returned in the shapes the parameters were given in.
    """
    model = make_model(U, W, V, b=b, c=c, h0=h0, loss=loss)
    xs, ys, _ = prepare_sequences(model, x, y)
    fwd = forward(model, xs, ys)
    grads = backward_totals(model, fwd, check_truncate(truncate))
    return fwd.loss, {name: model.as_given(name, g) for name, g in grads.items()}


def window_start(t: int, truncate: int | None) -> int:
    """The first k (1-based) in E_t's sum: 1, or max(1, t − K + 1) with truncation."""
    return 1 if truncate is None else max(1, t - truncate + 1)


@dataclass(frozen=True, eq=False)
class StepGradient:
    """∂E_t/∂θ for one step t (matrix form), and its terms when computed."""

    t: int
    dU: np.ndarray
    dW: np.ndarray
    dV: np.ndarray
    db: np.ndarray | None
    dc: np.ndarray | None
    terms: tuple["Term", ...] | None = None


@dataclass(frozen=True, eq=False)
class Term:
    """Term k of ∂E_t/∂W = Σ_k ∂E_t/∂h_t · (∂h_t/∂h_k) · ∂⁺h_k/∂W (likewise U, b)."""

    t: int
    k: int
    jacobian: np.ndarray  # ∂h_t/∂h_k (H, H)
    jacobian_norm: float  # its spectral norm (1 for k = t)
    signal: np.ndarray  # ∂E_t/∂a_k = D_k (∂h_t/∂h_k)ᵀ g_t, (H,)
    dW: np.ndarray  # signal ⊗ h_{k−1}
    dU: np.ndarray  # signal ⊗ x_k
    db: np.ndarray  # signal


def per_step_gradients(model: RnnModel, fwd: Forward, truncate: int | None = None) -> list[StepGradient]:
    """∂E_t/∂θ for every t, vectorised over t (one loop over the lag t − k).

    Cost O(T·min(T, K)·H·(H + I)) time and O(T·H·(H + I)) memory.
    """
    T = fwd.T
    D = fwd.local_slope
    E = fwd.output_error
    G = E @ model.V
    W = model.W
    lags = T if truncate is None else min(T, truncate)
    with np.errstate(over="ignore", invalid="ignore"):
        lag = D * G  # indexed by k: ∂E_{k+d}/∂a_k
        dW = np.einsum("ti,tj->tij", lag, fwd.h_prev)
        dU = np.einsum("ti,tj->tij", lag, fwd.x)
        db = lag.copy()
        for d in range(1, lags):
            lag = D[: T - d] * (lag[1:] @ W)
            dW[d:] += np.einsum("ki,kj->kij", lag, fwd.h_prev[: T - d])
            dU[d:] += np.einsum("ki,kj->kij", lag, fwd.x[: T - d])
            db[d:] += lag
        dV = np.einsum("to,th->toh", E, fwd.h)
    return [
        StepGradient(
            t + 1, dU[t], dW[t], dV[t], db[t] if model.b is not None else None, E[t] if model.c is not None else None
        )
        for t in range(T)
    ]


def spectral_norms(matrices: np.ndarray) -> np.ndarray:
    """Largest singular value of each matrix in a stack (…, H, H)."""
    matrices = np.asarray(matrices)
    if matrices.shape[-1] == 1 and matrices.shape[-2] == 1:
        return np.abs(matrices[..., 0, 0])
    out = np.full(matrices.shape[:-2], np.inf)
    finite = np.isfinite(matrices).all(axis=(-2, -1))
    if finite.any():
        # σ_max = sqrt(λ_max(AᵀA)): eigvalsh of the Gram matrix is about twice as fast as an
        # SVD and as accurate for the largest singular value (relative error ~ machine ε).
        # Each matrix is scaled to max |a_ij| = 1 first so that AᵀA neither overflows nor
        # underflows (Jacobian products reach 1e-200 and 1e+150).
        sub = matrices[finite]
        scale = np.abs(sub).max(axis=(-2, -1))
        safe = np.where(scale > 0, scale, 1.0)[..., None, None]
        scaled = sub / safe
        gram = np.swapaxes(scaled, -1, -2) @ scaled if scaled.shape[-2] >= scaled.shape[-1] else scaled @ np.swapaxes(scaled, -1, -2)
        largest = np.linalg.eigvalsh(gram)[..., -1]
        out[finite] = np.sqrt(np.maximum(largest, 0.0)) * scale
    return out


def step_terms(model: RnnModel, fwd: Forward, t: int, truncate: int | None = None) -> tuple[Term, ...]:
    """The terms of E_t's sums, k = window start..t in order (t is 1-based)."""
    D = fwd.local_slope
    g = fwd.output_error[t - 1] @ model.V
    W = model.W
    H = model.hidden_size
    jac = np.eye(H)
    rows = []
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        for k in range(t, window_start(t, truncate) - 1, -1):
            signal = D[k - 1] * (jac.T @ g)
            rows.append((k, jac.copy(), signal))
            jac = jac @ (D[k - 1][:, None] * W)  # ∂h_t/∂h_{k−1} = ∂h_t/∂h_k · D_k W
        rows.reverse()
        norms = spectral_norms(np.array([r[1] for r in rows]))
        return tuple(
            Term(
                t, k, jac_k, float(norm), signal,
                np.outer(signal, fwd.h_prev[k - 1]), np.outer(signal, fwd.x[k - 1]), signal,
            )
            for (k, jac_k, signal), norm in zip(rows, norms)
        )


# --------------------------------------------------------------------------- closed form


def subscript(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋"))


def indexed(name: str, latex: str, n: int) -> Sym:
    """A symbol with a subscript: ``h₃`` in text, ``h_{3}`` in LaTeX."""
    return Sym(f"{name}{subscript(n)}", f"{latex}_{{{n}}}")


def partial(of: str, wrt: str, of_latex: str | None = None, wrt_latex: str | None = None) -> Sym:
    """∂E₃/∂W as one symbol: the left-hand side of a derivation line."""
    return Sym(f"∂{of}/∂{wrt}", f"\\dfrac{{\\partial {of_latex or of}}}{{\\partial {wrt_latex or wrt}}}")


def one_minus_square(h: Expr) -> Group:
    """(1 − h²), the derivative of tanh at the step whose state is h."""
    return Group(1 - h ** Num(2))


def nested_form(model: RnnModel, fwd: Forward, t: int, param: str, truncate: int | None = None) -> Line:
    """The closed nested expression of ∂E_t/∂param for a scalar model (param: W, U or b).

    ∂E_t/∂W = (ŷ_t − y_t)·V·(1 − h_t²)·S_t with S_k = h_{k−1} + W(1 − h_{k−1}²)·S_{k−1}
    and S at the window start = h_{k−1}; for U the inputs are x_k, for b they are 1.
    Returned as a :class:`~dlvcli.core.expr.Line`: the formula in symbols, the same tree
    with the numbers substituted, and the value evaluated from the nesting itself
    (innermost first), a second route to the same number as the sum of the terms.
    """
    if not model.is_scalar:
        raise ValueError("the closed nested form is for scalar models (U, W, V numbers)")
    if param not in ("W", "U", "b"):
        raise ValueError(f"param must be W, U or b, got {param!r}")
    W, V = float(model.W[0, 0]), float(model.V[0, 0])
    h = np.concatenate([model.h0, fwd.h[:, 0]])  # h[0] = h0, h[t] = h_t
    x = fwd.x[:, 0]
    e = float(fwd.output_error[t - 1, 0])
    values: dict[str, float] = {"W": W, "V": V}
    for k in range(0, t + 1):
        values[f"h{subscript(k)}"] = float(h[k])
    for k in range(1, t + 1):
        values[f"x{subscript(k)}"] = float(x[k - 1])

    def symbol_in(k: int) -> Expr:
        return {"W": lambda: indexed("h", "h", k - 1), "U": lambda: indexed("x", "x", k), "b": lambda: Num(1)}[param]()

    def value_in(k: int) -> float:
        return {"W": float(h[k - 1]), "U": float(x[k - 1]), "b": 1.0}[param]

    first = window_start(t, truncate)
    inner: Expr = symbol_in(first)
    value = value_in(first)
    for k in range(first + 1, t + 1):
        carried = Group(inner) if k - 1 > first else inner
        inner = symbol_in(k) + juxtapose(Sym("W"), one_minus_square(indexed("h", "h", k - 1))) * carried
        value = value_in(k) + W * (1.0 - h[k - 1] ** 2) * value
    if t > first:
        inner = Group(inner, "[]")
    y_hat = indexed("ŷ", "\\hat y", t)
    if model.loss == "half-sse":
        target: Expr = indexed("y", "y", t)
        values[target.name] = float(fwd.target[t - 1, 0])
    else:
        target = Num(1)
    values[y_hat.name] = float(fwd.y_hat[t - 1, 0])
    formula = Group(y_hat - target) * Sym("V") * one_minus_square(indexed("h", "h", t)) * inner
    substituted = _subs_numbers(formula, values)
    total = e * V * (1.0 - h[t] ** 2) * value
    return Line(partial(f"E{subscript(t)}", param, f"E_{{{t}}}"), formula, substituted, float(total))


def _subs_numbers(expr: Expr, values: dict[str, float]) -> Expr:
    """``expr`` with every symbol replaced by its number; (1 − h²) keeps the square visible."""
    return expr.subs({name: Num(v) for name, v in values.items()})


# --------------------------------------------------------------------------- why it vanishes


@dataclass(frozen=True, eq=False)
class Vanishing:
    """How fast ‖∂h_t/∂h_k‖ decays with the distance t − k in this run."""

    sigma_max_W: float  # largest singular value of W
    max_slope: float  # max over t and units of 1 − h_t²
    bound: float  # σ_max(W) · max(1 − h²): ‖∂h_t/∂h_k‖ ≤ bound^{t−k}
    bound_distance: int | None  # smallest d with bound^d < threshold (None if bound ≥ 1)
    distances: np.ndarray  # d values measured from the last step T
    norms_from_last: np.ndarray  # ‖∂h_T/∂h_{T−d}‖ at those d
    distance_below: int | None  # first d with ‖∂h_T/∂h_{T−d}‖ < threshold (None: never within T − 1)
    pair_norms: np.ndarray | None  # (T, T): [t−1, k−1] = ‖∂h_t/∂h_k‖ for k ≤ t, NaN above; None when too big
    threshold: float = VANISH_THRESHOLD
    overflow_distance: int | None = None  # first d at which the product overflowed


def jacobian_decay(model: RnnModel, fwd: Forward, threshold: float = VANISH_THRESHOLD) -> Vanishing:
    """σ_max(W), max(1 − h²), their product (the per-step bound), and the measured decay.

    ‖∂h_T/∂h_{T−d}‖ is measured for every d = 0..T−1 when that is cheap (T·H³ small),
    else at every d up to 128 and at logarithmically spaced d beyond; the first d below
    ``threshold`` is always exact (every d is screened with the Frobenius norm, which
    bounds the spectral norm within a factor √H).
    """
    T, H = fwd.T, model.hidden_size
    sigma = float(spectral_norms(model.W[None])[0])
    slope = fwd.local_slope
    max_slope = float(slope.max())
    bound = sigma * max_slope
    if bound < 1 and bound > 0:
        bound_distance: int | None = int(math.floor(math.log(threshold) / math.log(bound))) + 1
        while bound_distance > 1 and bound ** (bound_distance - 1) < threshold:
            bound_distance -= 1
    elif bound == 0:
        bound_distance = 1
    else:
        bound_distance = None

    every = T * H**3 <= DECAY_ALL_DISTANCES_BUDGET
    sample = set(range(min(T, 129)))
    if not every:
        sample |= {int(d) for d in np.unique(np.geomspace(128, max(T - 1, 128), 300).astype(int)) if d < T}
    distances: list[int] = []
    mats: list[np.ndarray] = []
    below: int | None = None
    overflow: int | None = None
    jac = np.eye(H)
    screen = threshold * math.sqrt(H)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        for d in range(T):
            if not np.isfinite(jac).all():
                overflow = d
                break
            if every or d in sample:
                distances.append(d)
                mats.append(jac.copy())
            if below is None:
                fro = float(np.sqrt(np.vdot(jac, jac)))
                if fro < screen and float(spectral_norms(jac[None])[0]) < threshold:
                    below = d
            if not jac.any():  # underflowed to zero: every further product is zero
                zeros = [e for e in (range(d + 1, T) if every else sorted(s for s in sample if s > d))]
                distances.extend(zeros)
                mats.extend(np.zeros((H, H)) for _ in zeros)
                break
            k = T - d  # ∂h_T/∂h_{k−1} = ∂h_T/∂h_k · D_k W
            if k >= 2:
                jac = jac @ (slope[k - 1][:, None] * model.W)
        norms = spectral_norms(np.array(mats)) if mats else np.zeros(0)
        if overflow is not None:
            tail = [d for d in (range(overflow, T) if every else sorted(s for s in sample if s >= overflow))]
            distances.extend(tail)
            norms = np.concatenate([norms, np.full(len(tail), np.inf)])

    pair_norms = None
    if T <= ALL_PAIRS_MAX_T and T * T * H**3 / 2 <= ALL_PAIRS_BUDGET:
        # one lag d at a time, all t at once: J_{t,t−d} = J_{t,t−d+1} · D_{t−d+1} W
        pair_norms = np.full((T, T), np.nan)
        np.fill_diagonal(pair_norms, 1.0)
        jac = np.broadcast_to(np.eye(H), (T, H, H)).copy()  # row t−1: ∂h_t/∂h_{t−d}
        rows = np.arange(T)
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            for d in range(1, T):
                jac = jac[1:] @ (slope[1 : T - d + 1][:, :, None] * model.W)
                pair_norms[rows[d:], rows[d:] - d] = spectral_norms(jac)
    return Vanishing(
        sigma, max_slope, bound, bound_distance, np.array(distances, dtype=np.int64), norms, below, pair_norms,
        threshold, overflow,
    )


# --------------------------------------------------------------------------- finite differences


@dataclass(frozen=True, eq=False)
class GradientCheck:
    """Central finite differences against the analytic gradient.

    Per parameter, relative error = max_i |analytic_i − numeric_i| / max(max_i |analytic_i|,
    max_i |numeric_i|) (0 when both are zero), over the entries checked.
    """

    max_rel_error: float
    per_param: dict[str, float]
    max_abs_error: dict[str, float]
    entries_checked: dict[str, int]
    entries: dict[str, int]
    numeric: dict[str, np.ndarray]  # matrix form; NaN where an entry was not checked
    epsilon: float
    truncated: bool


def _step_losses(model: RnnModel, z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """E_t for logits z (..., O) and targets y (..., O) or class indices (...)."""
    if model.loss == "half-sse":
        diff = z - y
        return 0.5 * np.einsum("...o,...o->...", diff, diff)
    top = z.max(axis=-1, keepdims=True)
    log_sum = top[..., 0] + np.log(np.exp(z - top).sum(axis=-1))
    picked = np.take_along_axis(z, np.broadcast_to(y, z.shape[:-1])[..., None], axis=-1)[..., 0]
    return log_sum - picked


def _batched_loss(
    model: RnnModel, fwd: Forward, params: dict[str, np.ndarray], truncate: int | None
) -> np.ndarray:
    """E for a batch of parameter sets (each params[name] has a leading batch axis n).

    With truncation, E is the stop-gradient loss Σ_t E_t where E_t runs steps
    t−K+1..t from the fixed h_{t−K} of the unperturbed run: its gradient is the
    truncated BPTT gradient, so finite differences can check it.
    """
    U, W, V = params["U"], params["W"], params["V"]
    b, c = params.get("b"), params.get("c")
    n, T, H = U.shape[0], fwd.T, model.hidden_size
    x = fwd.x
    if truncate is None or truncate >= T:
        h = np.broadcast_to(model.h0, (n, H)).copy()
        total = np.zeros(n)
        drive = np.einsum("nhi,ti->tnh", U, x)
        if b is not None:
            drive += b
        for t in range(T):
            h = np.tanh(drive[t] + np.einsum("nhj,nj->nh", W, h))
            z = np.einsum("noh,nh->no", V, h)
            if c is not None:
                z += c
            total += _step_losses(model, z, fwd.y[t])
        return total
    K = truncate
    h_all = np.concatenate([model.h0[None], fwd.h])  # unperturbed h_0..h_T
    starts = np.maximum(np.arange(1, T + 1) - K, 0)
    hs = np.broadcast_to(h_all[starts], (n, T, H)).copy()  # window of E_t, t = 1..T
    for j in range(K):
        s = np.arange(1, T + 1) - K + 1 + j  # the step each window takes now (1-based)
        active = s >= 1
        a = np.einsum("nhi,ti->nth", U, x[s[active] - 1]) + np.einsum("nhj,ntj->nth", W, hs[:, active])
        if b is not None:
            a += b[:, None, :]
        hs[:, active] = np.tanh(a)
    z = np.einsum("noh,nth->nto", V, hs)
    if c is not None:
        z += c[:, None, :]
    return _step_losses(model, z, fwd.y[None]).sum(axis=1)


def finite_difference_check(
    model: RnnModel,
    fwd: Forward,
    grads: dict[str, np.ndarray],
    truncate: int | None = None,
    *,
    epsilon: float | None = None,
    budget: float = CHECK_BUDGET,
    seed: int = 0,
) -> GradientCheck:
    """Compare ``grads`` (matrix form) with central differences (E(θ+ε) − E(θ−ε)) / 2ε.

    The step is ε·max(1, |θ_i|) with ε = (u·max(1, |E|))^{1/3} (u the float64 unit
    roundoff), which balances the O(ε²) truncation error against the roundoff of E,
    unless ``epsilon`` is given.  Every entry is checked when the work (multiply-adds)
    fits ``budget``; otherwise an equal share of entries per parameter, always
    including the entry with the largest analytic gradient, the rest drawn with ``seed``.
    All perturbations run as one batch through the sequence.
    """
    params = model.parameters()
    T, H, I, O = fwd.T, model.hidden_size, model.input_size, model.output_size
    truncated = truncate is not None and truncate < T
    return central_difference_check(
        params, grads, fwd.loss, lambda batch: _batched_loss(model, fwd, batch, truncate),
        per_eval=max(1, T * (min(T, truncate) if truncated else 1) * H * (H + I + O)),
        size_per_set=sum(p.size for p in params.values()) + (T * H if truncated else H),
        truncated=truncated, epsilon=epsilon, budget=budget, seed=seed,
    )


def central_difference_check(
    params: dict[str, np.ndarray],
    grads: dict[str, np.ndarray],
    loss: float,
    batched_loss,
    *,
    per_eval: int,
    size_per_set: int,
    truncated: bool,
    epsilon: float | None = None,
    budget: float = CHECK_BUDGET,
    seed: int = 0,
) -> GradientCheck:
    """The check behind :func:`finite_difference_check`, for any model (the RNN cells use it too).

    ``batched_loss(batch)`` gives E for 2m parameter sets at once (each ``batch[name]`` has a
    leading axis 2m: m sets stepped up, then the same m stepped down); ``per_eval`` is the
    work of one evaluation (for the budget) and ``size_per_set`` the numbers one set holds
    (for the batch size).
    """
    total_entries = sum(p.size for p in params.values())
    affordable = max(int(budget // (2 * per_eval)), len(params))
    rng = np.random.default_rng(seed)
    chosen: dict[str, np.ndarray] = {}
    for name, p in params.items():
        if total_entries <= affordable:
            chosen[name] = np.arange(p.size)
        else:
            m = max(1, min(p.size, affordable // len(params)))
            top = int(np.argmax(np.abs(np.nan_to_num(grads[name])).ravel()))
            rest = rng.permutation(np.delete(np.arange(p.size), top))[: m - 1]
            chosen[name] = np.sort(np.concatenate([[top], rest]).astype(np.int64))
    if epsilon is None:
        loss = loss if math.isfinite(loss) else 1.0
        epsilon = float((np.finfo(float).eps / 2 * max(1.0, abs(loss))) ** (1 / 3))

    # one flat list of perturbations: (parameter, flat index, step)
    entries = [(name, int(i)) for name in params for i in chosen[name]]
    chunk = max(1, int(4e6 // (2 * size_per_set)))
    values = {name: np.full(p.size, np.nan) for name, p in params.items()}
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        for start in range(0, len(entries), chunk):
            part = entries[start : start + chunk]
            m = len(part)
            batch = {}
            steps = np.empty(m)
            for name, p in params.items():
                rows = [r for r, (which, _) in enumerate(part) if which == name]
                if not rows:
                    batch[name] = np.broadcast_to(p, (2 * m, *p.shape))
                    continue
                stack = np.broadcast_to(p.ravel(), (2 * m, p.size)).copy()
                for r in rows:
                    i = part[r][1]
                    steps[r] = epsilon * max(1.0, abs(float(p.ravel()[i])))
                    stack[r, i] += steps[r]
                    stack[m + r, i] -= steps[r]
                batch[name] = stack.reshape(2 * m, *p.shape)
            losses = batched_loss(batch)
            for r, (name, i) in enumerate(part):
                values[name][i] = (losses[r] - losses[m + r]) / (2 * steps[r])

    numeric, per_param, abs_err = {}, {}, {}
    for name, p in params.items():
        numeric[name] = values[name].reshape(p.shape)
        analytic = grads[name].ravel()[chosen[name]]
        approx = values[name][chosen[name]]
        with np.errstate(invalid="ignore"):
            err = float(np.max(np.abs(analytic - approx)))
        scale = max(float(np.max(np.abs(analytic))), float(np.max(np.abs(approx))))
        abs_err[name] = err
        if not (math.isfinite(err) and math.isfinite(scale)):
            per_param[name] = math.inf
        else:
            per_param[name] = 0.0 if err == 0 else err / scale
    return GradientCheck(
        max(per_param.values()), per_param, abs_err, {k: int(len(v)) for k, v in chosen.items()},
        {k: int(v.size) for k, v in params.items()}, numeric, epsilon, truncated,
    )


# --------------------------------------------------------------------------- the whole thing


@dataclass(frozen=True, eq=False)
class BpttResult(WorkedSolution):
    """Everything ``dlv bptt`` shows: forward pass, loss, gradients, derivation, checks.

    ``grads`` are in the shapes the parameters were given in (a number for a number);
    ``per_step`` is None when it was not computed (too large, or not asked for);
    ``per_step[i].terms`` is None unless the term table was computed.
    """

    model: RnnModel
    forward: Forward
    truncate: int | None
    loss: float
    grads: dict[str, np.ndarray]
    grads_matrix: dict[str, np.ndarray]
    per_step: tuple[StepGradient, ...] | None
    vanishing: Vanishing | None
    gradient_check: GradientCheck | None
    sequence_shapes: dict[str, tuple]
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def T(self) -> int:
        return self.forward.T

    @property
    def has_terms(self) -> bool:
        return bool(self.per_step) and self.per_step[0].terms is not None

    def nested(self, t: int, param: str) -> Line:
        """:func:`nested_form` for step t (1-based): a derivation line as an expression tree."""
        return nested_form(self.model, self.forward, t, param, self.truncate)


def _warn_nonfinite(warnings: list[str], label: str, values: np.ndarray, why: str) -> None:
    """Name a group of non-finite values once (JSON writes each of them as null)."""
    values = np.asarray(values, dtype=float)
    bad = int(values.size - np.count_nonzero(np.isfinite(values)))
    if bad:
        warnings.append(f"{label}: {bad} of {values.size} values are not finite ({why}); written as null in JSON")


def bptt(
    U: Any,
    W: Any,
    V: Any,
    x: Sequence | np.ndarray,
    y: Sequence | np.ndarray,
    *,
    b: Any = None,
    c: Any = None,
    h0: Any = None,
    loss: str = "half-sse",
    truncate: int | None = None,
    check: bool = False,
    terms: bool | None = None,
    per_step: bool | None = None,
    vanishing: bool = True,
) -> BpttResult:
    """Backpropagation through time for the tanh RNN of docs/bptt.md.

    Parameters are numbers (a scalar RNN) or matrices: U hidden × input, W hidden ×
    hidden, V output × hidden; b, c, h0 numbers or vectors.  x is a list of T numbers
    (input size 1) or T vectors; y likewise (half-sse), or T class indices 0..O−1
    (softmax-ce).  ``truncate=K`` sums each E_t's U, W, b terms over k = max(1, t−K+1)..t.

    ``terms`` (default: T ≤ 50) computes the term-by-term table; ``per_step`` (default:
    when affordable) the per-step gradients; ``check`` runs central finite differences.

    >>> r = bptt(0.5, 0.8, 1.2, [1, 0.5, -1], [0.2, 0.1, 0.3])
    >>> round(float(r.grads["W"]), 6)
    -0.141963
    """
    model = make_model(U, W, V, b=b, c=c, h0=h0, loss=loss)
    xs, ys, seq_shapes = prepare_sequences(model, x, y)
    K = check_truncate(truncate)
    warnings: list[str] = []
    fwd = forward(model, xs, ys)
    T, H, I, O = fwd.T, model.hidden_size, model.input_size, model.output_size
    if loss == "softmax-ce" and O == 1:
        warnings.append("softmax over a single output is always 1: the loss and every gradient are 0")
    grads_m = backward_totals(model, fwd, K)
    grads = {name: model.as_given(name, g) for name, g in grads_m.items()}
    for label, values in (("forward.a", fwd.a), ("forward.y_hat", fwd.y_hat), ("forward.loss", fwd.losses)):
        _warn_nonfinite(warnings, label, values, "an overflow in the forward pass")
    if not math.isfinite(fwd.loss):
        warnings.append("loss is not finite (an overflow); written as null in JSON")
    for name, g in grads_m.items():
        _warn_nonfinite(warnings, f"grads.{name}", g, "the gradient overflowed: an exploding gradient")

    lags = T if K is None else min(T, K)
    want_terms = (T <= TERMS_MAX_T) if terms is None else bool(terms)
    term_numbers = T * lags * H * (H + I + 2)
    if want_terms and term_numbers > TERMS_MAX_NUMBERS:
        warnings.append(
            f"the term-by-term table was left out: {T} steps × {lags} terms × {H}×{H} matrices is "
            f"{term_numbers:.3g} numbers (limit {TERMS_MAX_NUMBERS:.0e})"
        )
        want_terms = False
    steps_cost = T * lags * H * (H + I)
    steps_numbers = T * H * (H + I) + T * O * H
    want_steps = want_terms or (per_step if per_step is not None else True)
    if want_steps and per_step is None and not want_terms and (
        steps_cost > PER_STEP_BUDGET or steps_numbers > PER_STEP_MAX_NUMBERS
    ):
        warnings.append(
            f"per-step gradients were left out: {T} steps of {H}×{H} gradients cost about {steps_cost:.3g} "
            f"operations and {steps_numbers:.3g} numbers (limits {PER_STEP_BUDGET:.0e} and {PER_STEP_MAX_NUMBERS:.0e}); "
            "the totals are exact"
        )
        want_steps = False
    steps: tuple[StepGradient, ...] | None = None
    if want_steps:
        rows = per_step_gradients(model, fwd, K)
        if want_terms:
            rows = [dataclasses.replace(row, terms=step_terms(model, fwd, row.t, K)) for row in rows]
        steps = tuple(rows)
        for attr in ("dU", "dW", "dV", "db", "dc"):
            if getattr(rows[0], attr) is not None:
                values = np.array([getattr(r, attr) for r in rows])
                _warn_nonfinite(warnings, f"per_step[].{attr}", values, "an overflow")
        if want_terms:
            for attr in ("dU", "dW", "jacobian_norm"):
                flat = np.concatenate([np.ravel(getattr(term, attr)) for r in rows for term in r.terms])
                _warn_nonfinite(warnings, f"per_step[].terms[].{attr}", flat, "an overflow")

    decay = jacobian_decay(model, fwd) if vanishing else None
    if decay is not None and decay.overflow_distance is not None:
        warnings.append(
            f"vanishing.jacobian_norms: ‖∂h_T/∂h_k‖ overflows from distance T − k = {decay.overflow_distance} on "
            "(an exploding gradient); written as null in JSON"
        )

    checked = None
    if check:
        checked = finite_difference_check(model, fwd, grads_m, K)
        if sum(checked.entries_checked.values()) < sum(checked.entries.values()):
            warnings.append(
                f"the finite-difference check covered {sum(checked.entries_checked.values())} of "
                f"{sum(checked.entries.values())} parameter entries (the rest would take too long)"
            )
        if not math.isfinite(checked.max_rel_error):
            warnings.append("the finite-difference check met a non-finite value")
    return BpttResult(model, fwd, K, fwd.loss, grads, grads_m, steps, decay, checked, seq_shapes, tuple(warnings))
