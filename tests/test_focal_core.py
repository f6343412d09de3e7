"""dlvcli.core.focal against independent sources: plain-Python formulas, the paper, finite differences."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlvcli.core.focal import DEFAULT_GAMMAS, focal, focal_loss, focal_terms

probabilities = st.floats(min_value=1e-12, max_value=1 - 1e-12, allow_nan=False)
gammas = st.floats(min_value=0, max_value=10, allow_nan=False)
alphas = st.one_of(st.none(), st.floats(min_value=0, max_value=1, allow_nan=False))
targets = st.sampled_from([0, 1])
logits = st.floats(min_value=-30, max_value=30, allow_nan=False)


def by_definition(p: float, target: int, gamma: float, alpha: float | None) -> tuple[float, float]:
    """(CE, FL) straight from the paper's definitions, with Python floats."""
    p_t = p if target == 1 else 1 - p
    alpha_t = 1.0 if alpha is None else (alpha if target == 1 else 1 - alpha)
    ce = -math.log(p_t)
    return ce, alpha_t * (1 - p_t) ** gamma * ce


# --------------------------------------------------------------------------- γ = 0 is CE


@given(p=probabilities, target=targets)
def test_gamma_zero_without_alpha_is_cross_entropy_to_the_last_bit(p, target):
    row = focal([p], target=target, gamma=[0]).rows[0]
    assert row.fl == row.ce  # bit for bit, not approximately
    assert row.modulating_factor == 1.0 and row.alpha_t == 1.0
    # and CE itself is −ln p_t computed independently (log1p keeps 1 − p exact for a negative)
    expected = -math.log(p) if target == 1 else -math.log1p(-p)
    assert row.ce == pytest.approx(expected, rel=1e-15, abs=0)


@given(z=st.floats(min_value=-700, max_value=700, allow_nan=False), target=targets)
def test_gamma_zero_from_a_logit_is_cross_entropy_to_the_last_bit(z, target):
    row = focal(logit=[z], target=target, gamma=[0]).rows[0]
    assert row.fl == row.ce
    # CE of a logit is softplus(∓z) = ln(1 + e^(∓z)), computed here by another route
    s = z if target == 1 else -z
    expected = max(-s, 0.0) + math.log1p(math.exp(-abs(s)))
    assert row.ce == pytest.approx(expected, rel=1e-13, abs=1e-300)


# --------------------------------------------------------------------------- FL ≤ CE


@given(p=probabilities, target=targets, gamma=gammas, alpha=alphas)
def test_focal_loss_never_exceeds_cross_entropy(p, target, gamma, alpha):
    row = focal([p], target=target, gamma=[gamma], alpha=alpha).rows[0]
    assert 0 <= row.fl <= row.ce


@given(p=st.floats(min_value=1e-6, max_value=1 - 1e-6), target=targets, gamma=gammas, alpha=alphas)
def test_matches_the_definition(p, target, gamma, alpha):
    ce, fl = by_definition(p, target, gamma, alpha)
    row = focal([p], target=target, gamma=[gamma], alpha=alpha).rows[0]
    assert row.ce == pytest.approx(ce, rel=1e-12)
    assert row.fl == pytest.approx(fl, rel=1e-9, abs=1e-300)


# --------------------------------------------------------------------------- the paper's numbers


def test_paper_figure_ratio_100_at_pt_09_gamma_2():
    # Lin et al. 2017, §3.2: "with γ = 2, an example classified with p_t = 0.9 would have
    # 100× lower loss compared with CE": CE/FL = 1/(1 − 0.9)² = 100.
    row = focal([0.9], gamma=[2]).rows[0]
    assert row.ratio == pytest.approx(100, rel=1e-12)
    assert row.ce / row.fl == pytest.approx(100, rel=1e-12)
    assert row.ce == pytest.approx(-math.log(0.9), rel=1e-15)
    # and "with p_t ≈ 0.968 it would have 1000× lower loss": (1 − 0.968)⁻² ≈ 977
    assert focal([0.968], gamma=[2]).rows[0].ratio == pytest.approx(1 / 0.032**2, rel=1e-9)


def test_default_gammas_are_the_papers():
    assert DEFAULT_GAMMAS == (0, 0.5, 1, 2, 5)
    assert [r.gamma for r in focal([0.5]).rows] == [0, 0.5, 1, 2, 5]


def test_alpha_weights_positives_and_negatives():
    # α = 0.25 (the paper's choice with γ = 2): α_t = 0.25 for a positive, 0.75 for a negative
    pos = focal([0.9], target=1, gamma=[2], alpha=0.25).rows[0]
    neg = focal([0.1], target=0, gamma=[2], alpha=0.25).rows[0]
    assert pos.alpha_t == 0.25 and neg.alpha_t == 0.75
    assert pos.p_t == 0.9 and neg.p_t == pytest.approx(0.9)
    assert neg.fl == pytest.approx(3 * pos.fl, rel=1e-12)


def test_exact_p_t_and_modulating_factor():
    row = focal([0.9], gamma=[2], p_exact=[Fraction(9, 10)]).rows[0]
    assert row.p_t_exact == Fraction(9, 10)
    assert row.modulating_factor_exact == Fraction(1, 100)  # (1 − 9/10)² by hand
    neg = focal([0.3], target=0, gamma=[0.5], p_exact=[Fraction(3, 10)]).rows[0]
    assert neg.p_t_exact == Fraction(7, 10) and neg.modulating_factor_exact is None  # γ not whole


# --------------------------------------------------------------------------- the gradient


@settings(max_examples=150)
@given(z=logits, target=targets, gamma=st.floats(min_value=0, max_value=5), alpha=alphas)
def test_gradient_equals_central_finite_difference(z, target, gamma, alpha):
    h = 1e-5 * max(1.0, abs(z))

    def fl(x: float) -> float:
        return float(focal_loss(target, logit=[x], gamma=gamma, alpha=alpha)[0])

    numeric = (fl(z + h) - fl(z - h)) / (2 * h)
    analytic = focal(logit=[z], target=target, gamma=[gamma], alpha=alpha).rows[0].dfl_dlogit
    assert analytic == pytest.approx(numeric, rel=1e-5, abs=1e-9)


@given(z=logits, target=targets)
def test_gradient_at_gamma_zero_is_sigmoid_minus_target(z, target):
    # ∂CE/∂z = σ(z) − y, the textbook gradient of binary cross-entropy
    sigmoid = 1 / (1 + math.exp(-z))
    row = focal(logit=[z], target=target, gamma=[0]).rows[0]
    assert row.dfl_dlogit == pytest.approx(sigmoid - target, rel=1e-12, abs=1e-15)


def test_gradient_agrees_with_torch_autograd():
    torch = pytest.importorskip("torch")
    z = torch.tensor([-4.0, -0.5, 0.0, 1.5, 6.0], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([1.0, 0.0, 1.0, 0.0, 1.0], dtype=torch.float64)
    gamma, alpha = 2.0, 0.25
    # torchvision.ops.sigmoid_focal_loss's formula, written out in torch
    p = torch.sigmoid(z)
    ce = torch.nn.functional.binary_cross_entropy_with_logits(z, y, reduction="none")
    p_t = p * y + (1 - p) * (1 - y)
    loss = (alpha * y + (1 - alpha) * (1 - y)) * ce * (1 - p_t) ** gamma
    loss.sum().backward()
    terms = focal_terms(y.numpy().astype(int), logit=z.detach().numpy(), gamma=[gamma], alpha=alpha)
    np.testing.assert_allclose(terms["fl"][:, 0], loss.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(terms["dfl_dlogit"][:, 0], z.grad.numpy(), rtol=1e-10)


# --------------------------------------------------------------------------- numerical stability


@pytest.mark.parametrize("z", [1000.0, -1000.0, 1e6, -1e6, 745.0, -745.0, 37.0])
@pytest.mark.parametrize("target", [0, 1])
def test_huge_logits_give_finite_losses_and_gradients(z, target):
    result = focal(logit=[z], target=target)
    for row in result.rows:
        for value in (row.p_t, row.ce, row.fl, row.modulating_factor, row.dfl_dlogit):
            assert math.isfinite(value)
        assert 0 <= row.fl <= row.ce
    wrong_side = (z < 0) == (target == 1)
    row = result.rows[0]
    if wrong_side:  # confidently wrong: CE ≈ |z|, gradient ±1
        assert row.ce == pytest.approx(abs(z), rel=1e-12)
        assert abs(row.dfl_dlogit) == pytest.approx(1.0)


def test_probability_one_minus_1e12_is_fine():
    p = 1 - 1e-12
    pos, neg = focal([p], target=1, gamma=[2]).rows[0], focal([p], target=0, gamma=[2]).rows[0]
    assert pos.ce == pytest.approx(1e-12, rel=1e-3) and pos.fl >= 0
    assert neg.ce == pytest.approx(-math.log(1 - p), rel=1e-12)  # ≈ 27.63
    assert all(math.isfinite(v) for v in (pos.ratio, pos.dfl_dlogit, neg.ratio, neg.dfl_dlogit))


def test_underflowing_modulating_factor_gives_infinite_ratio_and_a_warning():
    result = focal(logit=[1000.0], gamma=[2])
    assert result.rows[0].ratio == math.inf
    assert any("CE/FL" in w for w in result.warnings)


# --------------------------------------------------------------------------- data-set mode


def test_dataset_means_equal_a_plain_loop():
    rng = np.random.default_rng(3)
    p = rng.uniform(0.001, 0.999, 200).tolist()
    t = rng.integers(0, 2, 200).tolist()
    gamma_values, alpha = [0, 1, 2, 5], 0.25
    result = focal(p, target=t, gamma=gamma_values, alpha=alpha, dataset=True)
    for summary, g in zip(result.dataset, gamma_values):
        ce_sum = fl_sum = ce_easy = fl_easy = 0.0
        n_easy = 0
        for pi, ti in zip(p, t):
            ce, fl = by_definition(pi, ti, g, alpha)
            p_t = pi if ti == 1 else 1 - pi
            ce_sum += ce
            fl_sum += fl
            if p_t > 0.5:
                ce_easy += ce
                fl_easy += fl
                n_easy += 1
        assert summary.n == 200 and summary.n_easy == n_easy
        assert summary.ce_mean == pytest.approx(ce_sum / 200, rel=1e-12)
        assert summary.fl_mean == pytest.approx(fl_sum / 200, rel=1e-12)
        assert summary.easy_share_ce == pytest.approx(ce_easy / ce_sum, rel=1e-12)
        assert summary.easy_share_fl == pytest.approx(fl_easy / fl_sum, rel=1e-12)


def test_focal_loss_turns_down_the_easy_share():
    # 99 easy negatives (p = 0.05) and one hard positive (p = 0.3): by hand, the easy ones carry
    # 99·(−ln 0.95) = 5.078 of CE against −ln 0.3 = 1.204 (81 %), but at γ = 2 only
    # 99·0.05²·0.0513 = 0.0127 of FL against 0.7²·1.204 = 0.590 (2 %)
    result = focal([0.05] * 99 + [0.3], target=[0] * 99 + [1], gamma=[0, 2], dataset=True)
    ce_share, fl_share = result.dataset[1].easy_share_ce, result.dataset[1].easy_share_fl
    assert ce_share == pytest.approx(0.808, abs=1e-3)
    assert fl_share == pytest.approx(0.0210, abs=1e-3)


# --------------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"p": [1.5]}, r"outside \(0, 1\)"),
        ({"p": [0.0]}, r"outside \(0, 1\)"),
        ({"p": [float("nan")]}, r"outside \(0, 1\)"),
        ({"p": [0.5], "gamma": [-1]}, "γ ≥ 0"),
        ({"p": [0.5], "alpha": 1.5}, r"\[0, 1\]"),
        ({"p": [0.5], "target": 2}, "0 .* or 1"),
        ({"logit": [float("inf")]}, "finite"),
        ({}, "p or as logit"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        focal(**kwargs)
