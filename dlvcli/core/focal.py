"""Focal loss against cross-entropy for a binary (sigmoid) classifier (docs/focal.md).

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
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from dlvcli.core.expr import Line

# dlvcli.core.expr (the worked solution's lines) is imported by the lines() methods only:
# --json needs none of it (≈ 6 ms of start-up: its node classes are a dozen dataclasses)

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

@dataclass(frozen=True)
class Prediction:
    """One prediction as given: ``p`` or ``logit``, with its target; ``p_exact`` when p was a typed decimal."""

    target: int
    p: float | None = None
    logit: float | None = None
    p_exact: Fraction | None = None


@dataclass(frozen=True)
class FocalRow:
    """CE and FL for one (prediction, γ) pair: the numbers of docs/focal.md's ``rows``."""

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

    def lines(self, *, shared: bool = True, gamma_terms: bool = True) -> tuple[Line, ...]:
        """The worked solution as expression lines (formula, numbers, value): p_t, α_t, CE
        (``shared``: they do not depend on γ), then the ``gamma_terms``: modulating factor,
        FL, CE/FL, ∂FL/∂z.  The numbers are this row's; ``dlvcli.render.derivation`` prints them."""
        from dlvcli.core.expr import Div, Group, Line, Neg, Note, Num, Pow, exp, juxtapose, ln
        from dlvcli.core.focal_symbols import ALPHA, ALPHA_T, CE, DFL_DZ, FL, GAMMA, MODULATING, P, P_T, SIGMA_Z, Z

        pred = self.prediction
        positive = self.target == 1
        out: list[Line] = []
        pt_num = Num(self.p_t, self.p_t_exact)
        if pred.logit is not None:
            # 1 − p_t from its own softplus, not 1 − (a rounded p_t): exact digits near p_t = 1
            one_minus = Num(self.one_minus_p_t)
            ln_pt = Neg(Num(self.ce))  # ln p_t = −CE, shown on its own line
        else:
            one_minus = 1 - pt_num  # (1 − 0.9)^2, as a student writes it
            ln_pt = ln(pt_num)
        if shared:
            if pred.logit is not None:
                s = -pred.logit if positive else pred.logit  # e^(−z) for a positive, e^(z) for a negative
                e_arg = Neg(Z) if positive else Z
                head = SIGMA_Z if positive else 1 - SIGMA_Z
                out.append(Line(P_T, head, Div(Num(1), 1 + exp(Num(s))), self.p_t, label="p_t", parts=(Div(Num(1), 1 + exp(e_arg)),)))
                head = Neg(ln(SIGMA_Z)) if positive else Neg(ln(1 - SIGMA_Z))
                out.append(Line(CE, head, ln(1 + exp(Num(s))), self.ce, label="CE (softplus)", parts=(ln(1 + exp(e_arg)),)))
                complement_arg = Z if positive else Neg(Z)
                out.append(Line(1 - P_T, Div(Num(1), 1 + exp(complement_arg)), Div(Num(1), 1 + exp(Num(-s))),
                                self.one_minus_p_t, label="1 − p_t"))
                out.append(Line(ln(P_T), Neg(CE), ln_pt, None, label="ln p_t"))
            else:
                if positive:
                    out.append(Line(P_T, Note(P, "target 1"), None, self.p_t, self.p_t_exact, label="p_t"))
                else:
                    out.append(Line(P_T, Note(1 - P, "target 0"), 1 - Num(pred.p, pred.p_exact), self.p_t, self.p_t_exact, label="p_t"))
                out.append(Line(CE, Neg(ln(P_T)), Neg(ln(pt_num)), self.ce, label="CE"))
            if self.alpha is None:
                out.append(Line(ALPHA_T, Note(Num(1), "no α", r"\text{no } \alpha"), label="α_t"))
            elif positive:
                out.append(Line(ALPHA_T, Note(ALPHA, "target 1"), None, self.alpha_t, self.alpha_t_exact, label="α_t"))
            else:
                out.append(Line(ALPHA_T, Note(1 - ALPHA, "target 0"), 1 - Num(self.alpha, Fraction(repr(self.alpha))),
                                self.alpha_t, self.alpha_t_exact, label="α_t"))
        if not gamma_terms:
            return tuple(out)
        gamma = Num(self.gamma, Fraction(repr(self.gamma)) if self.gamma == int(self.gamma) else None)
        alpha_t = Num(self.alpha_t, self.alpha_t_exact)
        modulating = Num(self.modulating_factor, self.modulating_factor_exact)
        out.append(Line(None, MODULATING, Pow(one_minus, gamma), self.modulating_factor, self.modulating_factor_exact,
                        label="modulating factor"))
        out.append(Line(FL, ALPHA_T * MODULATING * CE, alpha_t * modulating * Num(self.ce), self.fl, label="FL"))
        out.append(Line(Div(CE, FL), Div(Num(1), juxtapose(ALPHA_T, MODULATING)), Div(Num(1), alpha_t * modulating),
                        self.ratio, label="CE / FL"))
        inner = Group(juxtapose(GAMMA, P_T, ln(P_T)) - Group(1 - P_T))
        inner_numbers = Group(gamma * pt_num * ln_pt - one_minus)
        formula = juxtapose(ALPHA_T, MODULATING, inner)
        numbers = alpha_t * modulating * inner_numbers
        if not positive:
            formula, numbers = Neg(formula), Neg(numbers)
        out.append(Line(DFL_DZ, formula, numbers, self.dfl_dlogit, label="∂FL/∂z"))
        return tuple(out)


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

    def lines(self, *, ce: bool = True, fl: bool = True) -> tuple[Line, ...]:
        """Mean CE and FL over the n examples, and the share of each that the easy ones (p_t > 0.5) carry.

        ``ce``/``fl`` choose the CE lines (the same for every γ) and the FL lines.
        """
        from dlvcli.core.expr import Div, Line, Num, Sym

        out = []
        keep = {"CE": ce, "FL": fl}
        n = Sym("n")
        for name, total, mean in (("CE", self.ce_sum, self.ce_mean), ("FL", self.fl_sum, self.fl_mean)):
            if keep[name]:
                formula = Div(Sym(f"Σᵢ {name}_i", rf"\sum_i \mathrm{{{name}}}_i"), n)
                out.append(Line(Sym(f"mean {name}", rf"\overline{{\mathrm{{{name}}}}}"), formula, Div(Num(total), Num(self.n)),
                                mean, label=f"mean {name}"))
        for name, part, total, share in (("CE", self.ce_easy_sum, self.ce_sum, self.easy_share_ce),
                                         ("FL", self.fl_easy_sum, self.fl_sum, self.easy_share_fl)):
            if keep[name]:
                formula = Div(Sym(f"Σ_(p_t > 0.5) {name}_i", rf"\sum_{{p_t > 0.5}} \mathrm{{{name}}}_i"),
                              Sym(f"Σᵢ {name}_i", rf"\sum_i \mathrm{{{name}}}_i"))
                value = None if share != share else share
                out.append(Line(None, formula, Div(Num(part), Num(total)), value, label=f"easy share of {name}"))
        return tuple(out)


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
    """Focal loss and cross-entropy for every prediction and every γ (docs/focal.md).

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
    # plain Python numbers once (.tolist()), not one numpy scalar per element: 200,000 rows;
    # the frozen dataclasses are filled through __dict__ (see the rows below)
    given_list = given.tolist()
    new_object = object.__new__
    predictions = []
    for i, (t, v) in enumerate(zip(targets.tolist(), given_list)):
        pred = new_object(Prediction)
        pred.__dict__.update(
            target=int(t),
            p=v if p is not None else None,
            logit=v if logit is not None else None,
            p_exact=None if p_exact is None or p is None else p_exact[i],
        )
        predictions.append(pred)
    predictions = tuple(predictions)
    per_prediction = [np.asarray(terms[k], dtype=float).reshape(len(given)).tolist() for k in ("p_t", "one_minus_p_t", "alpha_t", "ce")]
    per_gamma = [np.asarray(terms[k], dtype=float).reshape(len(given), len(gammas)).tolist() for k in ("fl", "modulating_factor", "ratio", "dfl_dlogit")]
    gamma_floats = [float(g) for g in gammas]
    rows = []
    warnings = []
    # FocalRow is frozen: its __init__ sets each of 11 fields through object.__setattr__,
    # 0.4 s for 200,000 rows; filling __dict__ gives the same object (it has no
    # __post_init__; tests compare the rows with FocalRow(...)) in a quarter of the time.
    new_row = new_object
    for i, pred in enumerate(predictions):
        p_t, one_minus_p_t, alpha_t, ce = (column[i] for column in per_prediction)
        fl, modulating, ratio, slope = (column[i] for column in per_gamma)
        for j, g in enumerate(gammas):
            row = new_row(FocalRow)
            row.__dict__.update(
                prediction=pred,
                gamma=gamma_floats[j],
                alpha=alpha,
                p_t=p_t,
                one_minus_p_t=one_minus_p_t,
                alpha_t=alpha_t,
                ce=ce,
                fl=fl[j],
                modulating_factor=modulating[j],
                ratio=ratio[j],
                dfl_dlogit=slope[j],
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
