"""Focal loss against cross-entropy for a binary (sigmoid) classifier (CONTRACT §4).

.. math::

    p_t = p \\text{ (target 1)},\\; 1 - p \\text{ (target 0)}, \\qquad
    \\alpha_t = \\alpha \\text{ (target 1)},\\; 1 - \\alpha \\text{ (target 0)},\\; 1 \\text{ without } \\alpha

    CE(p_t) = -\\ln p_t, \\qquad FL(p_t) = -\\alpha_t (1 - p_t)^\\gamma \\ln p_t

Reference: Lin, Goyal, Girshick, He, Dollár, "Focal Loss for Dense Object Detection",
ICCV 2017 (figure 1: γ ∈ {0, 0.5, 1, 2, 5}; at p_t = 0.9 and γ = 2 the loss is 100× lower).

From a logit z the computation never forms sigmoid(z) and then its log: with the
signed logit s = z (target 1) or −z (target 0), p_t = σ(s), and

    CE = softplus(−s) = ln(1 + e^(−s)),   ln(1 − p_t) = −softplus(s),

so logits of any size give finite losses and gradients.
"""

from __future__ import annotations

from dlvcli.core.display import WorkedSolution  # str() and Jupyter show the worked solution

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from dlvcli.core.steps import Step

DEFAULT_GAMMAS = (0.0, 0.5, 1.0, 2.0, 5.0)
# --exact: (1 − p_t)^γ is shown as a fraction while its numerator and denominator stay
# below this many bits (about 1200 digits); beyond, the decimal value is shown
EXACT_BITS_LIMIT = 4096


# --------------------------------------------------------------------------- vectorised pieces


def softplus(x) -> np.ndarray:
    """softplus(x) = ln(1 + eˣ), without overflow for any finite x."""
    return np.logaddexp(0.0, np.asarray(x, dtype=float))


def check_probabilities(p, what: str = "p") -> np.ndarray:
    """``p`` as floats after checking every value is finite and strictly between 0 and 1."""
    p = np.asarray(p, dtype=float)
    bad = ~(np.isfinite(p) & (p > 0) & (p < 1))
    if bad.any():
        value = p.reshape(-1)[int(np.argmax(bad.reshape(-1)))]
        raise ValueError(
            f"{what} = {value:g} is outside (0, 1): expected a probability strictly between 0 and 1 "
            "(ln p_t is infinite at 0; for a prediction of 0 or 1 give the logit instead)"
        )
    return p


def check_targets(target) -> np.ndarray:
    t = np.asarray(target)
    if t.dtype == bool:
        return t.astype(int)
    flat = np.asarray(t, dtype=float).reshape(-1)
    bad = ~np.isin(flat, (0.0, 1.0))
    if bad.any():
        raise ValueError(f"target = {flat[int(np.argmax(bad))]:g}: expected 0 (negative) or 1 (positive)")
    return np.asarray(t, dtype=float).astype(int)


def check_gammas(gamma) -> np.ndarray:
    g = np.atleast_1d(np.asarray(gamma, dtype=float))
    if g.ndim != 1 or len(g) == 0:
        raise ValueError("gamma: expected one or more numbers ≥ 0")
    bad = ~(np.isfinite(g) & (g >= 0))
    if bad.any():
        raise ValueError(f"gamma = {g[int(np.argmax(bad))]:g}: expected a focusing parameter γ ≥ 0 (finite)")
    return g


def check_alpha(alpha) -> float | None:
    if alpha is None:
        return None
    a = float(alpha)
    if not (math.isfinite(a) and 0 <= a <= 1):
        raise ValueError(f"alpha = {a:g}: expected a class weight α in [0, 1]")
    return a


def focal_terms(target, *, p=None, logit=None, gamma=DEFAULT_GAMMAS, alpha: float | None = None) -> dict[str, np.ndarray]:
    """Every quantity of the worked solution, vectorised over predictions (N,) × γ values (G,).

    Give ``p`` (probabilities of the positive class, shape (N,)) or ``logit`` (shape (N,));
    ``target`` is 0/1, shape (N,) or a scalar.  Returns arrays: ``p_t``, ``one_minus_p_t``,
    ``alpha_t``, ``ce`` (each (N,)), and ``modulating_factor``, ``fl``, ``ratio``,
    ``dfl_dlogit`` (each (N, G)), with

    * modulating factor (1 − p_t)^γ; FL = α_t · (1 − p_t)^γ · CE;
    * ratio = CE/FL = 1 / (α_t (1 − p_t)^γ) (how much the loss is turned down);
    * ∂FL/∂z = ±α_t (1 − p_t)^γ (γ p_t ln p_t − (1 − p_t)), + for target 1, − for target 0
      (the derivative through p = σ(z); at γ = 0 without α it is p − y, the CE gradient).
    """
    if (p is None) == (logit is None):
        raise ValueError("give the predictions as p or as logit (one of them)")
    gammas = check_gammas(gamma)
    alpha = check_alpha(alpha)
    if p is not None:
        values = check_probabilities(np.atleast_1d(np.asarray(p, dtype=float)))
    else:
        values = np.atleast_1d(np.asarray(logit, dtype=float))
        if not np.all(np.isfinite(values)):
            raise ValueError("logit: every value must be a finite number")
    target = np.broadcast_to(check_targets(target), values.shape)
    positive = target == 1
    g = gammas[None, :]
    if p is not None:
        p_t = np.where(positive, values, 1.0 - values)
        one_minus_p_t = np.where(positive, 1.0 - values, values)
        ce = np.where(positive, -np.log(values), -np.log1p(-values))
        with np.errstate(under="ignore"):
            modulating = one_minus_p_t[:, None] ** g
    else:
        s = np.where(positive, values, -values)
        ce = softplus(-s)  # −ln σ(s)
        log_one_minus = -softplus(s)  # ln(1 − σ(s))
        with np.errstate(under="ignore"):
            p_t = np.exp(-ce)
            one_minus_p_t = np.exp(log_one_minus)
            modulating = np.exp(g * log_one_minus[:, None])
    if alpha is None:
        alpha_t = np.ones_like(p_t)
    else:
        alpha_t = np.where(positive, alpha, 1.0 - alpha)
    weight = alpha_t[:, None] * modulating
    fl = weight * ce[:, None]
    with np.errstate(divide="ignore", over="ignore"):
        ratio = 1.0 / weight
    sign = np.where(positive, 1.0, -1.0)[:, None]
    dfl = sign * weight * (-g * p_t[:, None] * ce[:, None] - one_minus_p_t[:, None]) + 0.0  # + 0.0: no −0
    return {
        "p_t": p_t,
        "one_minus_p_t": one_minus_p_t,
        "alpha_t": alpha_t,
        "ce": ce,
        "modulating_factor": modulating,
        "fl": fl,
        "ratio": ratio,
        "dfl_dlogit": dfl,
    }


def cross_entropy(target, *, p=None, logit=None) -> np.ndarray:
    """CE = −ln p_t per prediction, shape (N,)."""
    return focal_terms(target, p=p, logit=logit, gamma=(0.0,))["ce"]


def focal_loss(target, *, p=None, logit=None, gamma: float = 2.0, alpha: float | None = None) -> np.ndarray:
    """FL = −α_t (1 − p_t)^γ ln p_t per prediction, shape (N,)."""
    return focal_terms(target, p=p, logit=logit, gamma=(gamma,), alpha=alpha)["fl"][:, 0]


# --------------------------------------------------------------------------- result objects

Formatter = Callable[..., str]


def _plain_format(value: Any, exact: Fraction | None = None) -> str:
    return f"{float(value):.6g}"


@dataclass(frozen=True)
class Prediction:
    """One prediction as given: ``p`` or ``logit``, with its target; ``p_exact`` when p was a typed decimal."""

    target: int
    p: float | None = None
    logit: float | None = None
    p_exact: Fraction | None = None


@dataclass(frozen=True)
class FocalRow:
    """CE and FL for one (prediction, γ) pair: the numbers of CONTRACT §4's ``rows``."""

    prediction: Prediction
    gamma: float
    alpha: float | None
    p_t: float
    one_minus_p_t: float
    alpha_t: float
    ce: float
    fl: float
    modulating_factor: float
    ratio: float
    dfl_dlogit: float

    @property
    def target(self) -> int:
        return self.prediction.target

    @property
    def p_t_exact(self) -> Fraction | None:
        x = self.prediction.p_exact
        return None if x is None else (x if self.target == 1 else 1 - x)

    @property
    def alpha_t_exact(self) -> Fraction | None:
        if self.alpha is None:
            return Fraction(1)
        a = Fraction(repr(self.alpha))
        return a if self.target == 1 else 1 - a

    @property
    def modulating_factor_exact(self) -> Fraction | None:
        """(1 − p_t)^γ as a fraction for a whole γ, unless it would be too long to show
        (γ = 1e308 would take forever to compute, γ = 10⁶ has millions of digits): then None."""
        pt = self.p_t_exact
        if pt is None or self.gamma != int(self.gamma):
            return None
        base = 1 - pt
        bits = max(base.numerator.bit_length(), base.denominator.bit_length())
        if bits * int(self.gamma) > EXACT_BITS_LIMIT:
            return None
        return base ** int(self.gamma)

    def steps(
        self, fmt: Formatter = _plain_format, latex: bool = False, *, shared: bool = True, gamma_terms: bool = True
    ) -> tuple[Step, ...]:
        """The worked solution: p_t, α_t, CE (``shared``: they do not depend on γ), then the
        ``gamma_terms``: modulating factor, FL, CE/FL, ∂FL/∂z.

        ``fmt(value, exact=None)`` formats a number; with ``latex`` formulas and numbers are LaTeX.
        """
        pred = self.prediction
        mul = r" \cdot " if latex else " · "
        minus = " - " if latex else " − "

        def n(value: float, exact: Fraction | None = None) -> str:
            text = fmt(value, exact)
            return f"({text})" if text.startswith("-") or "/" in text or "frac" in text else text

        ln = r"\ln" if latex else "ln"
        steps: list[Step] = []

        def add(label: str, formula: str, numbers: str, value: Any, exact: Fraction | None = None) -> None:
            steps.append(Step(label, formula, numbers, value, exact, latex=formula if latex else ""))

        if shared:
            positive = self.target == 1
            if pred.logit is not None:
                # e^(−z) for a positive, e^(z) for a negative: the exponent is −s with s = ±z
                exponent = fmt(-pred.logit if positive else pred.logit)
                if latex:
                    head = r"p_t = \sigma(z) = \frac{1}{1 + e^{-z}}" if positive else r"p_t = 1 - \sigma(z) = \frac{1}{1 + e^{z}}"
                    add("p_t", head, rf"\frac{{1}}{{1 + e^{{{exponent}}}}}", self.p_t)
                    head = r"CE = -\ln \sigma(z) = \ln(1 + e^{-z})" if positive else r"CE = -\ln(1 - \sigma(z)) = \ln(1 + e^{z})"
                    add("CE (softplus)", head, rf"\ln(1 + e^{{{exponent}}})", self.ce)
                else:
                    head = "p_t = σ(z) = 1 / (1 + e^(−z))" if positive else "p_t = 1 − σ(z) = 1 / (1 + e^(z))"
                    add("p_t", head, f"1 / (1 + e^({exponent}))", self.p_t)
                    head = "CE = −ln σ(z) = ln(1 + e^(−z))" if positive else "CE = −ln(1 − σ(z)) = ln(1 + e^(z))"
                    add("CE (softplus)", head, f"ln(1 + e^({exponent}))", self.ce)
            else:
                if positive:
                    head = r"p_t = p \quad (\text{target } 1)" if latex else "p_t = p  (target 1)"
                    add("p_t", head, fmt(pred.p, pred.p_exact), self.p_t, self.p_t_exact)
                else:
                    head = r"p_t = 1 - p \quad (\text{target } 0)" if latex else "p_t = 1 − p  (target 0)"
                    add("p_t", head, f"1{minus}{n(pred.p, pred.p_exact)}", self.p_t, self.p_t_exact)
                add("CE", r"CE = -\ln p_t" if latex else "CE = −ln p_t", f"-{ln} {n(self.p_t, self.p_t_exact)}" if latex else f"−ln {n(self.p_t, self.p_t_exact)}", self.ce)
            if self.alpha is None:
                add("α_t", r"\alpha_t = 1 \quad (\text{no } \alpha)" if latex else "α_t = 1  (no α)", "", None)
            elif positive:
                head = r"\alpha_t = \alpha \quad (\text{target } 1)" if latex else "α_t = α  (target 1)"
                add("α_t", head, fmt(self.alpha), self.alpha_t, self.alpha_t_exact)
            else:
                head = r"\alpha_t = 1 - \alpha \quad (\text{target } 0)" if latex else "α_t = 1 − α  (target 0)"
                add("α_t", head, f"1{minus}{fmt(self.alpha)}", self.alpha_t, self.alpha_t_exact)

        if not gamma_terms:
            return tuple(steps)
        g = fmt(self.gamma)
        mod_formula = rf"(1 - p_t)^\gamma" if latex else "(1 − p_t)^γ"
        mod_numbers = (rf"(1 - {n(self.p_t, self.p_t_exact)})^{{{g}}}" if latex else f"(1 − {n(self.p_t, self.p_t_exact)})^{g}")
        add("modulating factor", mod_formula, mod_numbers, self.modulating_factor, self.modulating_factor_exact)
        add(
            "FL",
            rf"FL = \alpha_t \cdot (1 - p_t)^\gamma \cdot CE" if latex else "FL = α_t · (1 − p_t)^γ · CE",
            f"{n(self.alpha_t, self.alpha_t_exact)}{mul}{n(self.modulating_factor, self.modulating_factor_exact)}{mul}{n(self.ce)}",
            self.fl,
        )
        add(
            "CE / FL",
            rf"\frac{{CE}}{{FL}} = \frac{{1}}{{\alpha_t (1 - p_t)^\gamma}}" if latex else "CE / FL = 1 / (α_t (1 − p_t)^γ)",
            (rf"\frac{{{fmt(self.ce)}}}{{{fmt(self.fl)}}}" if latex else f"{n(self.ce)} / {n(self.fl)}")
            if self.fl > 0 and math.isfinite(self.ratio)
            else (rf"\frac{{1}}{{{fmt(self.alpha_t)} \cdot {fmt(self.modulating_factor)}}}" if latex
                  else f"1 / ({n(self.alpha_t)} · {n(self.modulating_factor)})"),
            self.ratio,
        )
        sign = "+" if self.target == 1 else "−"
        sign_l = "+" if self.target == 1 else "-"
        add(
            "∂FL/∂z",
            (rf"\frac{{\partial FL}}{{\partial z}} = {sign_l}\alpha_t (1 - p_t)^\gamma (\gamma p_t \ln p_t - (1 - p_t)), \; \ln p_t = -CE" if latex
             else f"∂FL/∂z = {sign}α_t (1 − p_t)^γ (γ p_t ln p_t − (1 − p_t)),  ln p_t = −CE"),
            f"{sign_l if latex else sign}{n(self.alpha_t)}{mul}{n(self.modulating_factor)}{mul}"
            f"({n(self.gamma)}{mul}{n(self.p_t)}{mul}{n(-self.ce)}{minus}{n(self.one_minus_p_t)})",
            self.dfl_dlogit,
        )
        return tuple(steps)


@dataclass(frozen=True)
class DatasetSummary:
    """Means over a data set for one γ, and the share of each loss that easy examples (p_t > 0.5) carry."""

    gamma: float
    n: int
    n_easy: int
    ce_sum: float
    fl_sum: float
    ce_easy_sum: float
    fl_easy_sum: float
    ce_mean: float
    fl_mean: float
    easy_share_ce: float
    easy_share_fl: float

    def steps(self, fmt: Formatter = _plain_format, latex: bool = False, *, ce: bool = True, fl: bool = True) -> tuple[Step, ...]:
        """Mean CE and FL over the n examples, and the share of each that the easy ones (p_t > 0.5) carry.

        ``ce``/``fl`` choose the CE steps (the same for every γ) and the FL steps.
        """
        sums = [
            ("mean CE", r"\overline{CE} = \frac{1}{n} \sum_i CE_i", "mean CE = (1/n) Σᵢ CE_i", self.ce_sum, self.ce_mean),
            ("mean FL", r"\overline{FL} = \frac{1}{n} \sum_i FL_i", "mean FL = (1/n) Σᵢ FL_i", self.fl_sum, self.fl_mean),
        ]
        keep = {"CE": ce, "FL": fl}
        steps = []
        for label, tex, text, total, mean in sums:
            if not keep[label[-2:]]:
                continue
            numbers = rf"\frac{{{fmt(total)}}}{{{self.n}}}" if latex else f"{fmt(total)} / {self.n}"
            steps.append(Step(label, tex if latex else text, numbers, mean, latex=tex if latex else ""))
        shares = [
            ("easy share of CE", "CE", self.ce_easy_sum, self.ce_sum, self.easy_share_ce),
            ("easy share of FL", "FL", self.fl_easy_sum, self.fl_sum, self.easy_share_fl),
        ]
        for label, name, part, total, share in shares:
            if not keep[name]:
                continue
            tex = rf"\frac{{\sum_{{p_t > 0.5}} {name}_i}}{{\sum_i {name}_i}}"
            text = f"Σ_(p_t > 0.5) {name}_i / Σᵢ {name}_i"
            numbers = rf"\frac{{{fmt(part)}}}{{{fmt(total)}}}" if latex else f"{fmt(part)} / {fmt(total)}"
            steps.append(Step(label, tex if latex else text, numbers, share, latex=tex if latex else ""))
        return tuple(steps)


@dataclass(frozen=True)
class FocalResult(WorkedSolution):
    """Rows per (prediction, γ) in prediction-major order, and the data-set summary per γ if asked."""

    predictions: tuple[Prediction, ...]
    gammas: tuple[float, ...]
    alpha: float | None
    rows: tuple[FocalRow, ...]
    dataset: tuple[DatasetSummary, ...] | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def rows_for(self, index: int) -> tuple[FocalRow, ...]:
        """The rows (one per γ) of prediction ``index``."""
        g = len(self.gammas)
        return self.rows[index * g : (index + 1) * g]


def _share(part: float, total: float) -> float:
    return part / total if total > 0 else math.nan


def focal(
    p=None,
    *,
    logit=None,
    target=1,
    gamma: Sequence[float] | float = DEFAULT_GAMMAS,
    alpha: float | None = None,
    dataset: bool = False,
    p_exact: Sequence[Fraction | None] | None = None,
) -> FocalResult:
    """Focal loss and cross-entropy for every prediction and every γ (CONTRACT §4).

    Parameters
    ----------
    p : array-like, shape (N,)
        Predicted probabilities of the positive class, each in (0, 1).  Or ``logit``.
    logit : array-like, shape (N,)
        Sigmoid logits z (p = σ(z)); any finite size.
    target : 0, 1, or array-like of 0/1, shape (N,)
    gamma : the focusing parameters γ ≥ 0 (default 0, 0.5, 1, 2, 5 as in the paper's figure 1)
    alpha : the class weight α in [0, 1], or None (α_t = 1)
    dataset : also summarise over the predictions: mean CE and FL, easy-example shares
    p_exact : the typed values of ``p`` as fractions (for ``--exact``), else None

    >>> r = focal([0.9], gamma=[2])
    >>> round(r.rows[0].ratio, 9)
    100.0
    """
    gammas = check_gammas(gamma)
    terms = focal_terms(target, p=p, logit=logit, gamma=gammas, alpha=alpha)
    alpha = check_alpha(alpha)
    given = np.atleast_1d(np.asarray(p if p is not None else logit, dtype=float))
    targets = np.broadcast_to(check_targets(target), given.shape)
    if p_exact is not None and len(p_exact) != len(given):
        raise ValueError("p_exact: one entry per prediction expected")
    predictions = tuple(
        Prediction(
            int(targets[i]),
            p=float(given[i]) if p is not None else None,
            logit=float(given[i]) if logit is not None else None,
            p_exact=None if p_exact is None or p is None else p_exact[i],
        )
        for i in range(len(given))
    )
    rows = []
    warnings = []
    for i, pred in enumerate(predictions):
        for j, g in enumerate(gammas):
            row = FocalRow(
                prediction=pred,
                gamma=float(g),
                alpha=alpha,
                p_t=float(terms["p_t"][i]),
                one_minus_p_t=float(terms["one_minus_p_t"][i]),
                alpha_t=float(terms["alpha_t"][i]),
                ce=float(terms["ce"][i]),
                fl=float(terms["fl"][i, j]),
                modulating_factor=float(terms["modulating_factor"][i, j]),
                ratio=float(terms["ratio"][i, j]),
                dfl_dlogit=float(terms["dfl_dlogit"][i, j]),
            )
            rows.append(row)
            if not math.isfinite(row.ratio) and not dataset:
                why = "α_t = 0" if row.alpha_t == 0 else "(1 − p_t)^γ underflows to 0"
                warnings.append(
                    f"prediction {i + 1}, γ = {g:g}: CE/FL is infinite ({why}): FL is turned down beyond what a float can show"
                )
    summary = None
    if dataset:
        infinite = sum(1 for row in rows if not math.isfinite(row.ratio))
        if infinite:
            warnings.append(f"{infinite} row(s) have an infinite CE/FL (α_t = 0, or (1 − p_t)^γ underflows to 0)")
        easy = terms["p_t"] > 0.5
        n = len(given)
        ce = terms["ce"]
        summary = []
        for j, g in enumerate(gammas):
            fl = terms["fl"][:, j]
            ce_sum, fl_sum = float(np.sum(ce)), float(np.sum(fl))
            ce_easy, fl_easy = float(np.sum(ce[easy])), float(np.sum(fl[easy]))
            item = DatasetSummary(
                gamma=float(g),
                n=n,
                n_easy=int(np.sum(easy)),
                ce_sum=ce_sum,
                fl_sum=fl_sum,
                ce_easy_sum=ce_easy,
                fl_easy_sum=fl_easy,
                ce_mean=ce_sum / n,
                fl_mean=fl_sum / n,
                easy_share_ce=_share(ce_easy, ce_sum),
                easy_share_fl=_share(fl_easy, fl_sum),
            )
            summary.append(item)
            for name, total in (("CE", ce_sum), ("FL", fl_sum)):
                if not total > 0:
                    warnings.append(f"γ = {g:g}: the total {name} is 0, so the easy-example share of {name} is undefined")
    return FocalResult(predictions, tuple(float(g) for g in gammas), alpha, tuple(rows), None if summary is None else tuple(summary), tuple(dict.fromkeys(warnings)))
