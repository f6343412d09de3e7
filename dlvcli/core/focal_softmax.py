"""Softmax (multi-class) focal loss with per-class α (docs/focal.md).

For one prediction with logits z ∈ ℝ^K and target class t (0-based):

.. math::

    p = \\operatorname{softmax}(z), \\quad p_t = p_t, \\quad \\alpha_t = \\alpha[t] \\;(1 \\text{ without } \\alpha)

    FL = -\\alpha_t (1 - p_t)^\\gamma \\ln p_t, \\qquad CE = -\\ln p_t

The gradient with respect to the logits.  With dp_t/dz_j = p_t (δ_tj − p_j) and

    dFL/dp_t = α_t [γ (1 − p_t)^(γ−1) ln p_t − (1 − p_t)^γ / p_t],

the chain rule gives

    ∂FL/∂z_j = A (δ_tj − p_j),   A = p_t dFL/dp_t = α_t [γ (1 − p_t)^(γ−1) p_t ln p_t − (1 − p_t)^γ].

At γ = 0 without α, A = −1 and ∂FL/∂z = p − onehot(t), the cross-entropy gradient.

Computed stably: ln p = z − logsumexp(z) (the maximum logit shifted out), ln(1 − p_t) as the
logsumexp of the other logits minus logsumexp(z) (no cancellation in 1 − p_t when p_t is
near 1), and, for j ≠ t, ∂FL/∂z_j = −q_j ∂FL/∂z_t with q_j = p_j / (1 − p_t) the softmax of
the other logits, so that (1 − p_t)^(γ−1), infinite for γ < 1 as p_t → 1, is never formed.
∂FL/∂z_t = A (1 − p_t) = α_t (1 − p_t)^γ (γ p_t ln p_t − (1 − p_t)) is the binary form's
expression: with K = 2 and logits (0, z) this is ``dlv focal --logit z``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from dlvcli.core.display import WorkedSolution  # str() and Jupyter show the worked solution
from dlvcli.core.focal import DEFAULT_GAMMAS, check_gammas

# --probs must sum to 1 within this (a probability vector typed with rounded digits does not)
PROBS_SUM_TOLERANCE = 1e-9


# --------------------------------------------------------------------------- checks


def _vectors(values, name: str, what: str) -> np.ndarray:
    """``values`` as an (N, K) float array (one vector is N = 1), N ≥ 1, K ≥ 2."""
    v = np.asarray(values, dtype=float)
    if v.ndim == 1:
        v = v[None, :]
    if v.ndim != 2 or v.shape[1] < 2 or v.shape[0] < 1:
        raise ValueError(f"{name}: expected one or more vectors of K ≥ 2 {what}, got shape {v.shape}")
    return v


def check_logits(logits) -> np.ndarray:
    """``logits`` as an (N, K) float array, K ≥ 2, every value finite."""
    z = _vectors(logits, "logits", "numbers")
    if not np.all(np.isfinite(z)):
        raise ValueError("logits: every value must be a finite number")
    return z


def check_probs(probs) -> np.ndarray:
    """``probs`` as an (N, K) float array: each value in (0, 1], each vector summing to 1 within 1e-9."""
    p = _vectors(probs, "probs", "probabilities")
    for i, row in enumerate(p):
        bad = ~(np.isfinite(row) & (row > 0) & (row <= 1))
        if bad.any():
            j = int(np.argmax(bad))
            raise ValueError(
                f"probs, prediction {i + 1}, class {j}: {row[j]:g} is outside (0, 1] "
                "(ln p_t is infinite at 0; give logits for extreme predictions)"
            )
        total = math.fsum(row)
        if abs(total - 1.0) > PROBS_SUM_TOLERANCE:
            raise ValueError(f"probs, prediction {i + 1}: the probabilities sum to {total!r}, expected 1 (within {PROBS_SUM_TOLERANCE:g})")
    return p


def check_class_targets(target, n: int, k: int) -> np.ndarray:
    """One class index in 0..K−1 per prediction (a scalar applies to all)."""
    t = np.asarray(target)
    flat = np.broadcast_to(np.asarray(t, dtype=float), (n,)) if t.ndim == 0 else np.asarray(t, dtype=float).reshape(-1)
    if flat.shape != (n,):
        raise ValueError(f"target: expected one class per prediction ({n}), got {flat.size}")
    bad = ~(np.isfinite(flat) & (flat == np.round(flat)) & (flat >= 0) & (flat <= k - 1))
    if bad.any():
        raise ValueError(f"target = {flat[int(np.argmax(bad))]:g}: expected a class index 0..{k - 1}")
    return flat.astype(int)


def check_class_alpha(alpha, k: int) -> np.ndarray | None:
    """Per-class weights α_0..α_(K−1), each in [0, 1], or None."""
    if alpha is None:
        return None
    a = np.atleast_1d(np.asarray(alpha, dtype=float))
    if a.shape != (k,):
        raise ValueError(f"alpha: {a.size} value(s), expected one weight per class (K = {k})")
    bad = ~(np.isfinite(a) & (a >= 0) & (a <= 1))
    if bad.any():
        raise ValueError(f"alpha, class {int(np.argmax(bad))}: {a[int(np.argmax(bad))]:g}, expected a class weight in [0, 1]")
    return a


def _logsumexp(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """ln Σ exp(z) with the maximum shifted out (finite for any finite z)."""
    m = np.max(z, axis=axis, keepdims=True)
    with np.errstate(under="ignore"):
        return (m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))).squeeze(axis)


# --------------------------------------------------------------------------- vectorised terms


def softmax_focal_terms(target, *, logits=None, probs=None, gamma=DEFAULT_GAMMAS, alpha=None) -> dict[str, np.ndarray]:
    """Every quantity of the worked solution, over N predictions × K classes × G values of γ.

    Give ``logits`` (N, K) or ``probs`` (N, K; each row sums to 1); ``target`` is a class index
    per prediction (or one for all); ``alpha`` a weight per class or None.

    Returns (N,) arrays ``p_t``, ``log_p_t``, ``one_minus_p_t``, ``alpha_t``, ``ce``; (N, K)
    arrays ``p``, ``log_p``; (N, G) arrays ``modulating_factor``, ``fl``, ``ratio``, ``a``
    (A = p_t ∂FL/∂p_t; not finite where (1 − p_t)^(γ−1) overflows), ``dfl_dzt``; and the
    (N, G, K) array ``dfl_dlogits``.  With logits also ``shift`` (max z), ``exp_shifted``
    (exp(z − max z)), ``sum_exp``, ``logsumexp``.
    """
    if (logits is None) == (probs is None):
        raise ValueError("give the predictions as logits or as probs (one of them)")
    gammas = check_gammas(gamma)
    out: dict[str, np.ndarray] = {}
    if logits is not None:
        z = check_logits(logits)
        n, k = z.shape
        t = check_class_targets(target, n, k)
        rows = np.arange(n)
        top = np.argmax(z, axis=1)
        shift = z[rows, top]
        with np.errstate(under="ignore"):
            exp_shifted = np.exp(z - shift[:, None])
        # S = 1 + s with s = Σ_{j ≠ argmax} exp(z_j − m), added left to right (as a student adds
        # the terms); ln S = log1p(s) keeps the digits of a small s that 1 + s would round away
        rest = exp_shifted.copy()
        rest[rows, top] = 0.0
        s_rest = np.cumsum(rest, axis=1)[:, -1]
        log_sum = np.log1p(s_rest)
        sum_exp = 1.0 + s_rest
        lse = shift + log_sum
        # ln p_j = (z_j − m) − ln S: the shift first, so that ln p_t of the top class is −log1p(s) exactly
        log_p = (z - shift[:, None]) - log_sum[:, None]
        p = exp_shifted / sum_exp[:, None]
        others = np.ones((n, k), dtype=bool)
        others[rows, t] = False
        z_others = z[others].reshape(n, k - 1)
        log_one_minus = _logsumexp(z_others) - lse  # ln(1 − p_t) = ln Σ_{j≠t} p_j
        # q_j = p_j / (1 − p_t), the softmax of the other logits
        with np.errstate(under="ignore"):
            q_others = np.exp(z_others - _logsumexp(z_others)[:, None])
        log_p_t = log_p[rows, t]
        ce = -log_p_t
        out.update(shift=shift, exp_shifted=exp_shifted, sum_exp=sum_exp, logsumexp=lse)
    else:
        p = check_probs(probs)
        n, k = p.shape
        t = check_class_targets(target, n, k)
        rows = np.arange(n)
        log_p = np.log(p)
        others = np.ones((n, k), dtype=bool)
        others[rows, t] = False
        p_others = p[others].reshape(n, k - 1)
        one_minus_sum = p_others.sum(axis=1)  # Σ_{j≠t} p_j: no cancellation when p_t is near 1
        log_one_minus = np.log(one_minus_sum)
        q_others = p_others / one_minus_sum[:, None]
        log_p_t = log_p[rows, t]
        ce = -log_p_t
    p_t = p[rows, t]
    with np.errstate(under="ignore"):
        one_minus = np.exp(log_one_minus)
    a_class = check_class_alpha(alpha, k)
    alpha_t = np.ones(n) if a_class is None else a_class[t]
    g = gammas[None, :]
    with np.errstate(under="ignore"):
        modulating = np.exp(g * log_one_minus[:, None])  # exactly 1 at γ = 0
    weight = alpha_t[:, None] * modulating
    fl = weight * ce[:, None]  # at γ = 0 without α: 1.0 · CE, CE to the last bit
    with np.errstate(divide="ignore", over="ignore"):
        ratio = 1.0 / weight
    # ∂FL/∂z_t = α_t (1 − p_t)^γ (γ p_t ln p_t − (1 − p_t))
    dfl_dzt = weight * (g * (p_t * log_p_t)[:, None] - one_minus[:, None]) + 0.0
    dfl = np.empty((n, len(gammas), k))
    dfl[rows, :, t] = dfl_dzt
    # ∂FL/∂z_j = −q_j ∂FL/∂z_t for j ≠ t (the gradient sums to 0: softmax ignores a shift of z)
    other_grads = -q_others[:, None, :] * dfl_dzt[:, :, None] + 0.0
    for i in range(n):
        dfl[i][:, others[i]] = other_grads[i]
    # A = α_t [γ (1 − p_t)^(γ−1) p_t ln p_t − (1 − p_t)^γ], shown in the derivation
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        power = np.exp((g - 1.0) * log_one_minus[:, None])
        first = np.where(g == 0, 0.0, g * power * (p_t * log_p_t)[:, None])
        a = alpha_t[:, None] * (first - modulating)
    out.update(
        target=t,
        p=p,
        log_p=log_p,
        p_t=p_t,
        log_p_t=log_p_t,
        one_minus_p_t=one_minus,
        alpha_t=alpha_t,
        ce=ce,
        modulating_factor=modulating,
        fl=fl,
        ratio=ratio,
        a=a,
        dfl_dzt=dfl_dzt,
        dfl_dlogits=dfl,
    )
    return out


def softmax_focal_loss(logits, target, *, gamma: float = 2.0, alpha=None) -> np.ndarray:
    """FL per prediction, shape (N,)."""
    return softmax_focal_terms(target, logits=logits, gamma=(gamma,), alpha=alpha)["fl"][:, 0]


# --------------------------------------------------------------------------- result objects


@dataclass(frozen=True)
class SoftmaxPrediction:
    """One prediction with the γ-independent part of its worked solution.

    ``logits`` or ``probs`` as given; with logits, ``shift`` = max z, ``exp_shifted`` =
    exp(z_j − shift), ``sum_exp`` = Σ exp(z_k − shift), ``logsumexp`` = shift + ln sum_exp.
    """

    target: int
    logits: tuple[float, ...] | None
    probs_given: tuple[float, ...] | None
    p: tuple[float, ...]
    log_p: tuple[float, ...]
    p_t: float
    log_p_t: float
    one_minus_p_t: float
    alpha_t: float
    ce: float
    shift: float | None = None
    exp_shifted: tuple[float, ...] | None = None
    sum_exp: float | None = None
    logsumexp: float | None = None

    @property
    def classes(self) -> int:
        return len(self.p)


@dataclass(frozen=True)
class SoftmaxFocalRow:
    """FL and ∂FL/∂z for one (prediction, γ): the numbers of a JSON row."""

    prediction: SoftmaxPrediction
    gamma: float
    modulating_factor: float
    fl: float
    ratio: float
    a: float  # A = p_t ∂FL/∂p_t (may be infinite where (1 − p_t)^(γ−1) overflows)
    dfl_dlogits: tuple[float, ...]

    @property
    def target(self) -> int:
        return self.prediction.target

    @property
    def p_t(self) -> float:
        return self.prediction.p_t

    @property
    def alpha_t(self) -> float:
        return self.prediction.alpha_t

    @property
    def ce(self) -> float:
        return self.prediction.ce


@dataclass(frozen=True)
class SoftmaxFocalResult(WorkedSolution):
    """Rows per (prediction, γ), prediction-major."""

    classes: int
    predictions: tuple[SoftmaxPrediction, ...]
    gammas: tuple[float, ...]
    alpha: tuple[float, ...] | None
    rows: tuple[SoftmaxFocalRow, ...]
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def rows_for(self, index: int) -> tuple[SoftmaxFocalRow, ...]:
        g = len(self.gammas)
        return self.rows[index * g : (index + 1) * g]


def _floats(values) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


def softmax_focal(
    logits=None,
    *,
    probs=None,
    target=0,
    gamma: Sequence[float] | float = DEFAULT_GAMMAS,
    alpha: Sequence[float] | None = None,
) -> SoftmaxFocalResult:
    """Softmax focal loss and its gradient for every prediction and every γ (docs/focal.md).

    Parameters
    ----------
    logits : array-like, shape (N, K) or (K,)
        Logits z (p = softmax(z)); any finite size.  Or ``probs``.
    probs : array-like, shape (N, K) or (K,)
        Class probabilities, each in (0, 1], each row summing to 1 within 1e-9; the gradient is
        then with respect to logits z with softmax(z) = p (z = ln p + const).
    target : the true class (0-based), one for all predictions or one per prediction
    gamma : focusing parameters γ ≥ 0 (default 0, 0.5, 1, 2, 5)
    alpha : per-class weights α_0..α_(K−1) in [0, 1], or None (α_t = 1)

    >>> r = softmax_focal([[0.0, 0.0]], target=1, gamma=[0])
    >>> r.rows[0].dfl_dlogits
    (0.5, -0.5)
    """
    gammas = check_gammas(gamma)
    terms = softmax_focal_terms(target, logits=logits, probs=probs, gamma=gammas, alpha=alpha)
    n, k = terms["p"].shape
    a_class = check_class_alpha(alpha, k)
    given = check_logits(logits) if logits is not None else check_probs(probs)
    predictions = []
    for i in range(n):
        extra = {}
        if logits is not None:
            extra = dict(
                shift=float(terms["shift"][i]),
                exp_shifted=_floats(terms["exp_shifted"][i]),
                sum_exp=float(terms["sum_exp"][i]),
                logsumexp=float(terms["logsumexp"][i]),
            )
        predictions.append(
            SoftmaxPrediction(
                target=int(terms["target"][i]),
                logits=_floats(given[i]) if logits is not None else None,
                probs_given=_floats(given[i]) if probs is not None else None,
                p=_floats(terms["p"][i]),
                log_p=_floats(terms["log_p"][i]),
                p_t=float(terms["p_t"][i]),
                log_p_t=float(terms["log_p_t"][i]),
                one_minus_p_t=float(terms["one_minus_p_t"][i]),
                alpha_t=float(terms["alpha_t"][i]),
                ce=float(terms["ce"][i]),
                **extra,
            )
        )
    rows = []
    warnings = []
    for i, pred in enumerate(predictions):
        for j, g in enumerate(gammas):
            row = SoftmaxFocalRow(
                prediction=pred,
                gamma=float(g),
                modulating_factor=float(terms["modulating_factor"][i, j]),
                fl=float(terms["fl"][i, j]),
                ratio=float(terms["ratio"][i, j]),
                a=float(terms["a"][i, j]),
                dfl_dlogits=_floats(terms["dfl_dlogits"][i, j]),
            )
            rows.append(row)
            if not math.isfinite(row.ratio):
                why = "α_t = 0" if pred.alpha_t == 0 else "(1 − p_t)^γ underflows to 0"
                warnings.append(f"prediction {i + 1}, γ = {g:g}: CE/FL is infinite ({why}): FL is turned down beyond what a float can show")
    return SoftmaxFocalResult(
        classes=k,
        predictions=tuple(predictions),
        gammas=tuple(float(g) for g in gammas),
        alpha=None if a_class is None else _floats(a_class),
        rows=tuple(rows),
        warnings=tuple(dict.fromkeys(warnings)),
    )
