"""Softmax focal loss, ``dlv focal --classes K`` (docs/focal.md).

References: torch autograd in float64 (skips without torch), central finite differences,
a plain-Python log-sum-exp for the cross-entropy, and today's binary (sigmoid) form of
``dlv focal --logit z`` for K = 2 with logits (0, z).
"""

from __future__ import annotations

import io
import json
import math
import os
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import pytest

from dlvcli.cli import run
from dlvcli.core.focal import focal
from dlvcli.core.focal_softmax import softmax_focal

from worked_lines import chain_errors, shown_number_errors

REPO = Path(__file__).resolve().parent.parent
GAMMAS = [0.0, 0.5, 1.0, 2.0, 5.0]


def _random_cases(count: int, seed: int):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        k = int(rng.integers(2, 11))
        z = rng.normal(0.0, float(rng.choice([0.5, 2.0, 6.0])), k)
        t = int(rng.integers(k))
        gamma = float(rng.choice([0.0, 0.5, 1.0, 2.0, 5.0, rng.uniform(0, 6)]))
        alpha = rng.uniform(0, 1, k) if rng.random() < 0.5 else None
        yield z, t, gamma, alpha


def _scalar_ce(z, t) -> float:
    """−(z_t − logsumexp(z)) one number at a time: logsumexp(z) = m + ln(1 + s) with m the largest
    logit and s = Σ_{j ≠ argmax} exp(z_j − m) added left to right; CE = (m − z_t) + ln(1 + s).

    numpy's scalar exp/log1p, not the math module's: the two libraries round about 5 % of
    results differently in the last bit, and the claim is the formula's bits, not libm's.
    """
    z = [float(v) for v in z]
    top = max(range(len(z)), key=lambda j: z[j])
    m = z[top]
    s = 0.0
    for j, v in enumerate(z):
        if j != top:
            s += float(np.exp(np.float64(v - m)))
    return (m - z[t]) + float(np.log1p(np.float64(s)))


# --------------------------------------------------------------------------- must show 3


def test_gamma_zero_without_alpha_is_softmax_cross_entropy_to_the_last_bit():
    for z, t, _, _ in _random_cases(200, seed=1):
        row = softmax_focal([z], target=t, gamma=[0]).rows[0]
        assert row.fl == row.ce  # FL is CE, not approximately
        assert row.fl == _scalar_ce([float(v) for v in z], t)  # bit for bit
        # and the gradient is the cross-entropy one, p − onehot(t) (p_t − 1 written as −Σ_{j≠t} p_j,
        # since 1 − p_t in floats cancels digits away when p_t is near 1)
        expected = np.array(row.prediction.p)
        expected[t] = -math.fsum(np.delete(expected, t))
        assert np.allclose(row.dfl_dlogits, expected, rtol=1e-14, atol=1e-300)


def test_gamma_zero_equals_torch_cross_entropy():
    torch = pytest.importorskip("torch")
    for z, t, _, _ in _random_cases(100, seed=2):
        row = softmax_focal([z], target=t, gamma=[0]).rows[0]
        ce = torch.nn.functional.cross_entropy(torch.tensor(z, dtype=torch.float64)[None], torch.tensor([t])).item()
        # torch computes logsumexp(z) − z_t without log1p: it loses digits when p_t is near 1
        assert row.fl == pytest.approx(ce, rel=1e-10, abs=1e-300)


def test_gradient_equals_torch_autograd_float64():
    torch = pytest.importorskip("torch")
    worst = 0.0
    for z, t, gamma, alpha in _random_cases(200, seed=3):
        row = softmax_focal([z], target=t, gamma=[gamma], alpha=alpha).rows[0]
        zt = torch.tensor(z, dtype=torch.float64, requires_grad=True)
        log_p_t = torch.log_softmax(zt, dim=0)[t]
        alpha_t = 1.0 if alpha is None else float(alpha[t])
        loss = -alpha_t * (1 - log_p_t.exp()) ** gamma * log_p_t
        loss.backward()
        assert row.fl == pytest.approx(loss.item(), rel=1e-12, abs=1e-12)
        error = float(np.max(np.abs(np.array(row.dfl_dlogits) - zt.grad.numpy())))
        worst = max(worst, error)
        assert error <= 1e-12, (z, t, gamma, alpha)
    assert worst < 1e-12


def test_gradient_equals_central_finite_differences():
    h = 1e-5
    for z, t, gamma, alpha in _random_cases(60, seed=4):
        row = softmax_focal([z], target=t, gamma=[gamma], alpha=alpha).rows[0]
        for j in range(len(z)):
            up, down = z.copy(), z.copy()
            up[j] += h
            down[j] -= h
            f_up = softmax_focal([up], target=t, gamma=[gamma], alpha=alpha).rows[0].fl
            f_down = softmax_focal([down], target=t, gamma=[gamma], alpha=alpha).rows[0].fl
            # error of the difference: h² f‴/6 from the step, ~1e-16 |FL| / h from rounding
            assert row.dfl_dlogits[j] == pytest.approx((f_up - f_down) / (2 * h), rel=1e-6, abs=1e-9 * max(1.0, row.fl))


@pytest.mark.parametrize("z", [-40.0, -3.0, -0.7, 0.0, 0.25, 1.5, 5.0, 40.0, 700.0, -700.0])
@pytest.mark.parametrize("target", [0, 1])
def test_two_classes_with_logits_0_z_is_the_sigmoid_form(z, target):
    alpha_binary = 0.25
    binary = focal(logit=[z], target=target, gamma=GAMMAS).rows
    softmax = softmax_focal([[0.0, z]], target=target, gamma=GAMMAS).rows
    # the binary α weighs class 1 by α and class 0 by 1 − α: per class (1 − α, α)
    binary_a = focal(logit=[z], target=target, gamma=GAMMAS, alpha=alpha_binary).rows
    softmax_a = softmax_focal([[0.0, z]], target=target, gamma=GAMMAS, alpha=[1 - alpha_binary, alpha_binary]).rows
    for b, s in list(zip(binary, softmax)) + list(zip(binary_a, softmax_a)):
        assert s.fl == pytest.approx(b.fl, rel=1e-12, abs=1e-12)
        assert s.dfl_dlogits[1] == pytest.approx(b.dfl_dlogit, rel=1e-12, abs=1e-12)  # z_1 = z
        assert s.dfl_dlogits[0] == pytest.approx(-b.dfl_dlogit, rel=1e-12, abs=1e-12)  # the gradient sums to 0
        assert s.p_t == pytest.approx(b.p_t, rel=1e-12, abs=1e-300)


def test_large_logits_stay_finite():
    result = softmax_focal([[1000.0, -1000.0, 0.0], [-1e6, 1e6, 3.0]], target=0, gamma=GAMMAS)
    for row in result.rows:
        assert math.isfinite(row.fl) and all(math.isfinite(g) for g in row.dfl_dlogits)
    # the first is right (p_t = 1 in floats, 1 − p_t = e^−1000 + …): losses tiny, not NaN
    assert result.rows[0].ce == pytest.approx(math.exp(-1000) + math.exp(-2000), abs=1e-300)
    # the second is wrong by 10⁶: CE = 2·10⁶ exactly as the logit gap says
    assert result.rows_for(1)[0].ce == pytest.approx(2e6, rel=1e-15)


def test_probs_give_the_same_as_their_logs():
    rng = np.random.default_rng(5)
    for _ in range(30):
        k = int(rng.integers(2, 6))
        z = rng.normal(0, 2, k)
        p = np.exp(z - z.max())
        p /= p.sum()
        t = int(rng.integers(k))
        a = softmax_focal(probs=[p], target=t, gamma=GAMMAS).rows
        b = softmax_focal([np.log(p)], target=t, gamma=GAMMAS).rows
        for x, y in zip(a, b):
            assert x.fl == pytest.approx(y.fl, rel=1e-12, abs=1e-14)
            assert np.allclose(x.dfl_dlogits, y.dfl_dlogits, rtol=1e-11, atol=1e-14)


# --------------------------------------------------------------------------- the command


def _run(args, columns=80):
    out, err = io.StringIO(), io.StringIO()
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(columns)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            code = run(args)
    finally:
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old
    return code, out.getvalue(), err.getvalue()


CASES = [
    ["-c", "sample_inputs/focal_softmax.yaml"],
    ["--classes", "3", "--logits", "2,0.3,-1", "--target", "0"],
    ["--logits", "1000,-1000,0,3", "--logits", "0.1,0.2,0.3,0.4", "--target", "3", "--gamma", "0.5", "--gamma", "2"],
    ["--probs", "0.7,0.2,0.1", "--target", "2", "--alpha", "0.5,0.25,0.25"],
    ["--classes", "2", "--logits", "0,1.5", "--target", "1", "--gamma", "2"],
]


@pytest.mark.parametrize("args", CASES)
def test_every_line_computes_as_printed_and_nothing_is_cut(args, monkeypatch):
    monkeypatch.chdir(REPO)
    for columns in (60, 80, 200):
        code, text, err = _run(["focal", *args], columns)
        assert code == 0, err
        assert chain_errors(text) == []
        assert shown_number_errors(text) == []
        assert "…" not in text
        assert [line for line in text.splitlines() if len(line.rstrip()) > columns] == []


def test_the_checker_sees_the_gradient_lines(monkeypatch):
    monkeypatch.chdir(REPO)
    code, text, _ = _run(["focal", "--classes", "3", "--logits", "2,0.3,-1", "--target", "0", "--gamma", "2"], 200)
    lines = [line for line in text.splitlines() if "∂FL/∂z_1 = A (0 − p_1)" in line]
    assert lines and chain_errors(lines[0]) == []
    # a wrong stated value on the same line is caught
    broken = lines[0].rsplit("= ", 1)[0] + "= 0.0248"
    assert chain_errors(broken) != []


def test_json_rows_carry_the_gradient_vector(monkeypatch):
    monkeypatch.chdir(REPO)
    code, out, _ = _run(["focal", "-c", "sample_inputs/focal_softmax.yaml", "--json"])
    assert code == 0
    doc = json.loads(out)
    assert doc["command"] == "focal" and doc["inputs"]["classes"] == 3
    assert len(doc["rows"]) == 2 * 2  # two predictions × two γ
    for row in doc["rows"]:
        assert len(row["dfl_dlogits"]) == 3
        for key in ("p_t", "target", "gamma", "alpha", "alpha_t", "ce", "fl", "modulating_factor", "ratio"):
            assert key in row
    # the first prediction at γ = 0 against a Python log-softmax: CE and α-weighted FL
    first = doc["rows"][0]
    assert first["ce"] == _scalar_ce([2.0, 0.3, -1.0], 0)
    assert first["fl"] == pytest.approx(0.25 * first["ce"], rel=1e-15)


@pytest.mark.parametrize(
    "args, named",
    [
        (["--classes", "3", "--logits", "1,2", "--target", "0"], "--logits"),
        (["--logits", "1,2,3", "--logits", "1,2", "--target", "0"], "--logits"),
        (["--probs", "0.5,0.4", "--target", "0"], "--probs"),
        (["--probs", "0.5,0.5,0", "--target", "0"], "--probs"),
        (["--probs", "1.2,-0.2", "--target", "0"], "--probs"),
        (["--classes", "3", "--logits", "1,2,3", "--target", "3"], "--target"),
        (["--classes", "3", "--logits", "1,2,3"], "--target"),
        (["--classes", "3", "--p", "0.9"], "--p"),
        (["--classes", "3", "--logit", "0.9"], "--logit"),
        (["--classes", "3", "--logits", "1,2,3", "--target", "0", "--alpha", "0.2,0.8"], "--alpha"),
        (["--classes", "3", "--logits", "1,2,3", "--target", "0", "--alpha", "0.2,0.8,1.5"], "--alpha"),
        (["--classes", "3", "--logits", "1,2,nan", "--target", "0"], "--logits"),
        (["--logits", "1,2", "--probs", "0.5,0.5", "--target", "0"], "--probs"),
        (["--classes", "1", "--logits", "1", "--target", "0"], "--classes"),
        (["--p", "0.9", "--target", "2"], "--target"),
    ],
)
def test_bad_input_is_an_error_naming_the_option(args, named):
    code, out, err = _run(["focal", *args])
    assert code == 2
    assert err.startswith("error:") and named in err
    assert "Traceback" not in err and out == ""


# --------------------------------------------------------------------------- Markdown and KaTeX


def test_markdown_carries_the_steps_and_renders_with_katex(monkeypatch):
    from test_worked_solution import katex_dir, katex_failures, math_segments

    monkeypatch.chdir(REPO)
    code, text, _ = _run(["focal", "-c", "sample_inputs/focal_softmax.yaml"], 200)
    code_md, md, _ = _run(["focal", "-c", "sample_inputs/focal_softmax.yaml", "--format", "markdown"], 200)
    assert code == code_md == 0
    import re

    numbers = re.compile(r"\d+(?:\.\d+)?")
    assert sorted(set(numbers.findall(text)) - set(numbers.findall(md))) == []
    if katex_dir() is None:
        pytest.skip("node or katex not found")
    segments = math_segments(md)
    assert len(segments) > 40
    assert katex_failures(segments) == []
