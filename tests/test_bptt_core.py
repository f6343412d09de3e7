"""dlvcli.core.bptt against independent oracles: plain-loop finite differences, a
hand-worked 3-step example, and the algebraic identities between terms, steps and totals."""

from __future__ import annotations

import math

import numpy as np

from dlvcli.core.expr import evaluate
from dlvcli.render.bptt import CompactTextPrinter
from dlvcli.render.expr import line_parts
from dlvcli.render.numbers import NumberStyle
import pytest

from dlvcli.core import bptt as core
from dlvcli.core.bptt import bptt, bptt_gradients

# --------------------------------------------------------------------------- the oracle
# A by-the-definition forward pass with plain Python loops over t and over units (no
# shared code with dlvcli.core.bptt), and central differences of it.


def _as_matrix(value, rows, cols):
    return [[float(v) for v in row] for row in np.reshape(np.asarray(value, dtype=float), (rows, cols))]


def oracle_step_loss(params, x_t, h_prev, y_t, loss):
    """One step from h_prev: returns (h_t, E_t)."""
    U, W, V, b, c = params["U"], params["W"], params["V"], params.get("b"), params.get("c")
    H, O = len(W), len(V)
    h = []
    for i in range(H):
        a = sum(U[i][j] * x_t[j] for j in range(len(x_t))) + sum(W[i][j] * h_prev[j] for j in range(H))
        if b is not None:
            a += b[i]
        h.append(math.tanh(a))
    z = [sum(V[o][j] * h[j] for j in range(H)) + (c[o] if c is not None else 0.0) for o in range(O)]
    if loss == "half-sse":
        return h, 0.5 * sum((z[o] - y_t[o]) ** 2 for o in range(O))
    top = max(z)
    return h, -(z[int(y_t)] - top - math.log(sum(math.exp(v - top) for v in z)))


def oracle_loss(params, xs, ys, h0, loss, truncate=None, frozen=None):
    """E = Σ_t E_t.  With ``truncate=K`` each E_t restarts at step t−K+1 from the hidden
    state ``frozen[t−K]`` of the unperturbed run (the gradient is stopped there)."""
    T = len(xs)
    if truncate is None:
        h, total = list(h0), 0.0
        for t in range(T):
            h, e = oracle_step_loss(params, xs[t], h, ys[t], loss)
            total += e
        return total
    total = 0.0
    for t in range(1, T + 1):  # E_t on its own window
        start = max(0, t - truncate)
        h = list(frozen[start])
        for s in range(start + 1, t + 1):
            h, e = oracle_step_loss(params, xs[s - 1], h, ys[s - 1], loss)
        total += e
    return total


def oracle_hidden_states(params, xs, ys, h0, loss):
    states = [list(h0)]
    for t in range(len(xs)):
        h, _ = oracle_step_loss(params, xs[t], states[-1], ys[t], loss)
        states.append(h)
    return states


def oracle_gradients(spec, eps=1e-5):
    """Central differences of the oracle loss for every parameter entry."""
    H, I, O = spec["H"], spec["I"], spec["O"]
    shapes = {"U": (H, I), "W": (H, H), "V": (O, H), "b": (1, H), "c": (1, O)}
    params = {name: _as_matrix(spec[name], *shapes[name]) for name in ("U", "W", "V")}
    for name in ("b", "c"):
        if spec.get(name) is not None:
            params[name] = [float(v) for v in np.ravel(spec[name])]
    xs = [list(np.ravel(np.atleast_1d(v))) for v in spec["x"]]
    ys = spec["y"] if spec["loss"] == "softmax-ce" else [list(np.ravel(np.atleast_1d(v))) for v in spec["y"]]
    h0 = [float(v) for v in np.ravel(spec.get("h0", np.zeros(H)) if spec.get("h0") is not None else np.zeros(H))]
    frozen = oracle_hidden_states(params, xs, ys, h0, spec["loss"])
    grads = {}
    for name, value in params.items():
        flat = name in ("b", "c")
        entries = [(i, None) for i in range(len(value))] if flat else [(i, j) for i in range(len(value)) for j in range(len(value[0]))]
        g = np.zeros(len(value)) if flat else np.zeros((len(value), len(value[0])))
        for i, j in entries:
            original = value[i] if flat else value[i][j]
            step = eps * max(1.0, abs(original))
            out = []
            for sign in (1, -1):
                if flat:
                    value[i] = original + sign * step
                else:
                    value[i][j] = original + sign * step
                out.append(oracle_loss(params, xs, ys, h0, spec["loss"], spec.get("truncate"), frozen))
            if flat:
                value[i] = original
                g[i] = (out[0] - out[1]) / (2 * step)
            else:
                value[i][j] = original
                g[i, j] = (out[0] - out[1]) / (2 * step)
        grads[name] = g
    return grads


def random_spec(seed, *, scalar, loss, biases, truncate, T=6):
    rng = np.random.default_rng(seed)
    if scalar:
        H, I = 1, 1
        O = 1 if loss == "half-sse" else 3
    else:
        H, I, O = 4, 3, 3
    spec = {"H": H, "I": I, "O": O, "loss": loss, "truncate": truncate}
    if scalar and loss == "half-sse":
        spec.update(U=float(rng.normal()), W=float(rng.uniform(-1.2, 1.2)), V=float(rng.normal()))
        spec["x"] = list(rng.normal(size=T))
        spec["y"] = list(rng.normal(size=T))
    else:
        spec.update(
            U=rng.normal(scale=0.8, size=(H, I)),
            W=rng.normal(scale=0.6, size=(H, H)),
            V=rng.normal(scale=0.9, size=(O, H)),
        )
        spec["x"] = rng.normal(size=(T, I)) if I > 1 else list(rng.normal(size=T))
        spec["y"] = list(rng.integers(0, O, size=T)) if loss == "softmax-ce" else rng.normal(size=(T, O))
    if biases:
        spec["b"] = rng.normal(scale=0.5, size=H) if H > 1 else float(rng.normal(scale=0.5))
        spec["c"] = rng.normal(scale=0.5, size=O) if O > 1 else float(rng.normal(scale=0.5))
        spec["h0"] = rng.normal(scale=0.5, size=H) if H > 1 else float(rng.normal(scale=0.5))
    return spec


def run(spec, **kw):
    return bptt(
        spec["U"], spec["W"], spec["V"], spec["x"], spec["y"], b=spec.get("b"), c=spec.get("c"),
        h0=spec.get("h0"), loss=spec["loss"], truncate=spec.get("truncate"), **kw,
    )


def rel_error(analytic, numeric):
    """max |a − n| / max(|a|, |n|) entry by entry, entries below 1e-4 measured against 1e-4."""
    a, n = np.ravel(analytic), np.ravel(numeric)
    return float(np.max(np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), 1e-4)))


CASES = [
    (scalar, loss, biases, truncate)
    for scalar in (True, False)
    for loss in ("half-sse", "softmax-ce")
    for biases in (False, True)
    for truncate in (None, 1, 3)
]


@pytest.mark.parametrize("seed,scalar,loss,biases,truncate", [(i, *case) for i, case in enumerate(CASES)])
def test_gradients_equal_central_differences(seed, scalar, loss, biases, truncate):
    spec = random_spec(100 + seed, scalar=scalar, loss=loss, biases=biases, truncate=truncate)
    result = run(spec, vanishing=False)
    numeric = oracle_gradients(spec)
    assert set(result.grads_matrix) == set(numeric)
    for name, expected in numeric.items():
        assert rel_error(result.grads_matrix[name], expected) < 1e-6, name


def test_truncation_at_or_beyond_T_is_full_bptt():
    spec = random_spec(3, scalar=False, loss="half-sse", biases=True, truncate=None)
    full = run(spec, vanishing=False)
    for K in (6, 7, 100):
        spec["truncate"] = K
        cut = run(spec, vanishing=False)
        for name in full.grads_matrix:
            np.testing.assert_allclose(cut.grads_matrix[name], full.grads_matrix[name], rtol=1e-12, atol=1e-14)


def test_truncation_changes_U_W_b_but_not_V_c():
    spec = random_spec(4, scalar=False, loss="softmax-ce", biases=True, truncate=None)
    full = run(spec, vanishing=False)
    spec["truncate"] = 2
    cut = run(spec, vanishing=False)
    for name in ("V", "c"):
        np.testing.assert_allclose(cut.grads_matrix[name], full.grads_matrix[name], rtol=1e-13)
    for name in ("U", "W", "b"):
        assert not np.allclose(cut.grads_matrix[name], full.grads_matrix[name])


@pytest.mark.parametrize("scalar", [True, False])
@pytest.mark.parametrize("truncate", [None, 2])
def test_terms_sum_to_steps_and_steps_sum_to_totals(scalar, truncate):
    spec = random_spec(7, scalar=scalar, loss="half-sse", biases=True, truncate=truncate, T=7)
    result = run(spec)
    assert result.has_terms
    for row in result.per_step:
        first = 1 if truncate is None else max(1, row.t - truncate + 1)
        assert [term.k for term in row.terms] == list(range(first, row.t + 1))
        for name in ("dW", "dU", "db"):
            np.testing.assert_allclose(sum(getattr(term, name) for term in row.terms), getattr(row, name), rtol=1e-12, atol=1e-15)
    attr = {"U": "dU", "W": "dW", "V": "dV", "b": "db", "c": "dc"}
    for name, total in result.grads_matrix.items():
        np.testing.assert_allclose(sum(getattr(row, attr[name]) for row in result.per_step), total, rtol=1e-12, atol=1e-15)


def test_per_step_by_lag_equals_a_backward_pass_per_step():
    """The vectorised per-step gradients against one plain backward loop for each t."""
    spec = random_spec(8, scalar=False, loss="softmax-ce", biases=True, truncate=None, T=6)
    result = run(spec)
    model, fwd = result.model, result.forward
    for t in range(1, fwd.T + 1):
        dW = np.zeros_like(model.W)
        dh = model.V.T @ fwd.output_error[t - 1]
        for k in range(t, 0, -1):
            da = (1 - fwd.h[k - 1] ** 2) * dh
            dW += np.outer(da, fwd.h_prev[k - 1])
            dh = model.W.T @ da
        np.testing.assert_allclose(result.per_step[t - 1].dW, dW, rtol=1e-12, atol=1e-15)


def test_jacobian_norm_is_the_spectral_norm_of_the_explicit_product():
    spec = random_spec(9, scalar=False, loss="half-sse", biases=False, truncate=None, T=5)
    result = run(spec)
    fwd, W = result.forward, result.model.W
    for term in result.per_step[4].terms:  # t = 5
        product = np.eye(W.shape[0])
        for j in range(5, term.k, -1):  # ∂h_5/∂h_k = Π_{j=5..k+1} diag(1 − h_j²) W
            product = product @ (np.diag(1 - fwd.h[j - 1] ** 2) @ W)
        assert term.jacobian_norm == pytest.approx(np.linalg.svd(product, compute_uv=False)[0], rel=1e-12)
    assert result.per_step[4].terms[-1].jacobian_norm == 1.0  # k = t
    # the all-pairs table of the vanishing section agrees with every term's norm
    for row in result.per_step:
        for term in row.terms:
            assert result.vanishing.pair_norms[row.t - 1, term.k - 1] == pytest.approx(term.jacobian_norm, rel=1e-12)


@pytest.mark.parametrize("truncate", [None, 1, 2])
@pytest.mark.parametrize("param,attr", [("W", "dW"), ("U", "dU"), ("b", "db")])
def test_closed_nested_form_evaluates_to_the_step_gradient(truncate, param, attr):
    spec = random_spec(10, scalar=True, loss="half-sse", biases=True, truncate=truncate, T=5)
    result = run(spec)
    for row in result.per_step:
        line = result.nested(row.t, param)
        assert line.value == pytest.approx(float(np.ravel(getattr(row, attr))[0]), rel=1e-12, abs=1e-15)
        # the substituted tree, evaluated at full precision, is the same number
        assert evaluate(line.substituted) == pytest.approx(line.value, rel=1e-12, abs=1e-15)
        # the printed numbers (6 decimals), read back as Python, give the same value
        printed = line_parts(line, CompactTextPrinter(NumberStyle(digits=6)))[2]
        expression = printed.replace("·", "*").replace("−", "-").replace("²", "**2").replace("[", "(").replace("]", ")")
        assert eval(expression) == pytest.approx(line.value, rel=1e-5, abs=1e-9)  # noqa: S307 - our own digits


def _text(line) -> str:
    parts = line_parts(line, CompactTextPrinter(NumberStyle()))
    return f"{parts[0]} = {parts[1]}"


def test_closed_nested_form_matches_the_contract_example():
    result = bptt(0.5, 0.8, 1.2, [1, 0.5, -1], [0.2, 0.1, 0.3])
    assert _text(result.nested(3, "W")) == (
        "∂E₃/∂W = (ŷ₃ − y₃)·V·(1 − h₃²)·[h₂ + W(1 − h₂²)·(h₁ + W(1 − h₁²)·h₀)]"
    )
    truncated = bptt(0.5, 0.8, 1.2, [1, 0.5, -1], [0.2, 0.1, 0.3], truncate=2)
    assert _text(truncated.nested(3, "U")) == "∂E₃/∂U = (ŷ₃ − y₃)·V·(1 − h₃²)·[x₃ + W(1 − h₂²)·x₂]"


def test_course_example_by_hand():
    """U = 0.5, W = 0.8, V = 1.2, h0 = 0, x = 1, 0.5, −1, y = 0.2, 0.1, 0.3; E = Σ ½(ŷ_t − y_t)².

    Forward, by the formulas (values to 6 places for the reader):
      h1 = tanh(0.5·1 + 0.8·0)          = tanh(0.5)       ≈ 0.462117
      h2 = tanh(0.5·0.5 + 0.8·h1)       = tanh(0.619694)  ≈ 0.550915
      h3 = tanh(0.5·(−1) + 0.8·h2)      = tanh(−0.059268) ≈ −0.059199
      ŷ = 1.2·h: 0.554541, 0.661098, −0.071039;  e = ŷ − y: 0.354541, 0.561098, −0.371039
      E = ½(0.354541² + 0.561098² + 0.371039²) ≈ ½(0.125699 + 0.314831 + 0.137670) ≈ 0.289100
    Backward, with s_t = 1 − h_t² (0.786447, 0.696494, 0.996496):
      ∂E/∂V = Σ e_t·h_t = 0.163839 + 0.309117 + 0.021965 ≈ 0.494921
      ∂E1/∂W = e1·V·s1·h0 = 0
      ∂E2/∂W = e2·V·s2·[h1 + W·s1·h0] = 0.561098·1.2·0.696494·0.462117 ≈ 0.216715
      ∂E3/∂W = e3·V·s3·[h2 + W·s2·(h1 + W·s1·h0)]
             = −0.371039·1.2·0.996496·(0.550915 + 0.8·0.696494·0.462117) ≈ −0.358677
      ∂E/∂W ≈ 0 + 0.216715 − 0.358677 = −0.141963
      ∂E/∂U = e1·V·s1·x1 + e2·V·s2·(x2 + W·s1·x1) + e3·V·s3·(x3 + W·s2·(x2 + W·s1·x1))
            ≈ 0.334593 + 0.529531 + 0.164536 = 1.028660
    """
    U, W, V, x, y = 0.5, 0.8, 1.2, [1.0, 0.5, -1.0], [0.2, 0.1, 0.3]
    h0 = 0.0
    h1 = math.tanh(U * x[0] + W * h0)
    h2 = math.tanh(U * x[1] + W * h1)
    h3 = math.tanh(U * x[2] + W * h2)
    e1, e2, e3 = V * h1 - y[0], V * h2 - y[1], V * h3 - y[2]
    s1, s2, s3 = 1 - h1**2, 1 - h2**2, 1 - h3**2
    E = 0.5 * (e1**2 + e2**2 + e3**2)
    dV = e1 * h1 + e2 * h2 + e3 * h3
    dW_steps = [e1 * V * s1 * h0, e2 * V * s2 * (h1 + W * s1 * h0), e3 * V * s3 * (h2 + W * s2 * (h1 + W * s1 * h0))]
    dU_steps = [e1 * V * s1 * x[0], e2 * V * s2 * (x[1] + W * s1 * x[0]), e3 * V * s3 * (x[2] + W * s2 * (x[1] + W * s1 * x[0]))]
    # the rounded values in the docstring, as a check on the check
    assert (h1, h2, h3) == pytest.approx((0.462117, 0.550915, -0.059199), abs=1e-6)
    assert (E, dV, sum(dW_steps), sum(dU_steps)) == pytest.approx((0.289100, 0.494921, -0.141963, 1.028660), abs=1e-6)

    result = bptt(U, W, V, x, y, h0=h0)
    assert result.loss == pytest.approx(E, rel=1e-14)
    np.testing.assert_allclose(result.forward.h[:, 0], [h1, h2, h3], rtol=1e-14)
    assert float(result.grads["V"]) == pytest.approx(dV, rel=1e-13)
    assert float(result.grads["W"]) == pytest.approx(sum(dW_steps), rel=1e-13)
    assert float(result.grads["U"]) == pytest.approx(sum(dU_steps), rel=1e-13)
    assert result.grads["W"].shape == ()  # a number in, a number out
    for row, dw, du in zip(result.per_step, dW_steps, dU_steps):
        assert float(row.dW[0, 0]) == pytest.approx(dw, rel=1e-13, abs=1e-16)
        assert float(row.dU[0, 0]) == pytest.approx(du, rel=1e-13)
    # term k = 2 of ∂E3/∂W is e3·V·s3·W·s2·h1, and its Jacobian factor is |s3·W| = |∂h3/∂h2|
    term = result.per_step[2].terms[1]
    assert term.k == 2
    assert float(term.dW[0, 0]) == pytest.approx(e3 * V * s3 * W * s2 * h1, rel=1e-13)
    assert term.jacobian_norm == pytest.approx(abs(s3 * W), rel=1e-13)
    assert result.per_step[2].terms[0].jacobian_norm == pytest.approx(abs(s3 * W * s2 * W), rel=1e-13)


def test_course_example_truncated_by_hand():
    """K = 1 keeps only k = t: ∂E/∂W = Σ_t e_t·V·s_t·h_(t−1), ∂E/∂U = Σ_t e_t·V·s_t·x_t."""
    U, W, V, x, y = 0.5, 0.8, 1.2, [1.0, 0.5, -1.0], [0.2, 0.1, 0.3]
    h = [0.0]
    for xt in x:
        h.append(math.tanh(U * xt + W * h[-1]))
    e = [V * h[t] - y[t - 1] for t in (1, 2, 3)]
    s = [1 - h[t] ** 2 for t in (1, 2, 3)]
    dW = sum(e[i] * V * s[i] * h[i] for i in range(3))
    dU = sum(e[i] * V * s[i] * x[i] for i in range(3))
    result = bptt(U, W, V, x, y, truncate=1)
    assert float(result.grads["W"]) == pytest.approx(dW, rel=1e-13)
    assert float(result.grads["U"]) == pytest.approx(dU, rel=1e-13)


def test_softmax_gradient_of_the_output_is_yhat_minus_onehot():
    result = bptt([[1.0], [0.5]], [[0.5, 0.1], [0.0, 0.3]], [[1, 0], [0, 1], [1, 1]], [1.0, -1.0], [2, 0], loss="softmax-ce")
    z = result.forward.z[0]
    p = np.exp(z) / np.exp(z).sum()
    np.testing.assert_allclose(result.forward.y_hat[0], p, rtol=1e-14)
    np.testing.assert_allclose(result.forward.output_error[0], p - np.array([0, 0, 1]), rtol=1e-14)
    assert result.forward.losses[0] == pytest.approx(-math.log(p[2]), rel=1e-14)


def test_the_built_in_check_reports_a_tiny_error():
    spec = random_spec(11, scalar=False, loss="softmax-ce", biases=True, truncate=2)
    result = run(spec, check=True)
    check = result.gradient_check
    assert check.truncated
    assert set(check.per_param) == {"U", "W", "V", "b", "c"}
    assert check.max_rel_error < 1e-6
    assert check.entries_checked == check.entries


def test_the_check_samples_entries_when_the_model_is_big():
    spec = random_spec(12, scalar=False, loss="half-sse", biases=False, truncate=None)
    model = core.make_model(spec["U"], spec["W"], spec["V"])
    xs, ys, _ = core.prepare_sequences(model, spec["x"], spec["y"])
    fwd = core.forward(model, xs, ys)
    grads = core.backward_totals(model, fwd)
    check = core.finite_difference_check(model, fwd, grads, budget=1)
    assert all(n >= 1 for n in check.entries_checked.values())
    assert sum(check.entries_checked.values()) < sum(check.entries.values())
    assert check.max_rel_error < 1e-6


def test_vanishing_summary():
    result = bptt(0.5, 0.8, 1.2, [1, 0.5, -1] * 20, [0.2, 0.1, 0.3] * 20)
    van = result.vanishing
    slope = 1 - result.forward.h[:, 0] ** 2
    assert van.sigma_max_W == pytest.approx(0.8)
    assert van.max_slope == pytest.approx(slope.max())
    assert van.bound == pytest.approx(0.8 * slope.max())
    assert van.bound**van.bound_distance < 1e-3 <= van.bound ** (van.bound_distance - 1)
    norms = van.norms_from_last
    assert norms[0] == 1.0
    assert np.all(norms[1:] <= van.bound ** van.distances[1:] * (1 + 1e-12))  # the bound holds
    d = van.distance_below
    assert norms[d] < 1e-3 <= norms[d - 1]
    # the all-pairs table agrees with the last-step measurement
    T = result.T
    np.testing.assert_allclose(van.pair_norms[T - 1, T - 1 :: -1], norms, rtol=1e-12)


def test_exploding_gradient_warns_and_gives_non_finite_values():
    # h stays 0 (U = 0, h0 = 0), so every Jacobian is W = 3 and ∂h_T/∂h_k = 3^(T−k) overflows.
    result = bptt(0.0, 3.0, 1.0, [0.0] * 800, [1.0] * 800, per_step=False)
    assert not np.isfinite(result.grads["W"])
    assert any("overflow" in w for w in result.warnings)
    assert result.vanishing.overflow_distance is not None


def test_long_sequences_leave_out_terms_and_fit_the_budget():
    rng = np.random.default_rng(0)
    T = 120
    result = bptt(rng.normal(size=(3, 2)), 0.5 * rng.normal(size=(3, 3)), rng.normal(size=(2, 3)), rng.normal(size=(T, 2)), rng.normal(size=(T, 2)))
    assert result.per_step is not None and not result.has_terms
    full = bptt(rng.normal(size=(3, 2)), 0.5 * rng.normal(size=(3, 3)), rng.normal(size=(2, 3)), rng.normal(size=(T, 2)), rng.normal(size=(T, 2)), terms=True)
    assert full.has_terms


def test_per_step_left_out_beyond_the_budget(monkeypatch):
    monkeypatch.setattr(core, "PER_STEP_BUDGET", 10)
    result = bptt(0.5, 0.8, 1.2, [1.0] * 60, [0.0] * 60)
    assert result.per_step is None
    assert any("per-step gradients were left out" in w for w in result.warnings)


def test_fast_path_returns_gradients_in_the_given_shapes():
    loss, grads = bptt_gradients([[0.5]], 0.8, 1.2, [1, 0.5, -1], [0.2, 0.1, 0.3], b=0.1, c=[0.0])
    assert grads["U"].shape == (1, 1) and grads["W"].shape == () and grads["b"].shape == () and grads["c"].shape == (1,)
    assert loss > 0


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(U=[[1, 2]], W=[[1, 0], [0, 1]], V=[[1, 1]]), r"U is 1×2 but W is 2×2"),
        (dict(U=[[1], [2]], W=[[1, 0, 0], [0, 1, 0]], V=[[1, 1]]), r"W is 2×3, expected a square matrix"),
        (dict(U=[[1], [2]], W=[[1, 0], [0, 1]], V=[[1, 1, 1]]), r"V is 1×3 but W is 2×2"),
        (dict(U=[1, 2], W=0.5, V=1.0), r"U is a list of 2 numbers"),
        (dict(x=[1, 2, 3], y=[1, 2]), r"x has 3 steps but y has 2"),
        (dict(x=[[1, 2], [3, 4]]), r"x has vectors of length 2"),
        (dict(truncate=0), r"truncate is 0, expected a whole number K ≥ 1"),
        (dict(x=[1.0, float("nan")]), r"x\[1\] is nan, expected a finite number"),
        (dict(W=float("inf")), r"W is inf"),
        (dict(b=[1, 2]), r"b is a vector of length 2, expected a number or a vector of length 1"),
        (dict(h0=[0, 0]), r"h0 is a vector of length 2"),
        (dict(loss="mse"), r"loss 'mse' is not known"),
        (dict(U=[["a"]]), r"U: expected a number"),
    ],
)
def test_bad_input_raises_value_error(kwargs, match):
    args = dict(U=0.5, W=0.8, V=1.2, x=[1, 0.5], y=[0.2, 0.1])
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        bptt(args.pop("U"), args.pop("W"), args.pop("V"), args.pop("x"), args.pop("y"), **args)


@pytest.mark.parametrize(
    "y,match",
    [([0, 3], r"y\[1\] is class 3, out of range: V has 3 output\(s\), so classes are 0..2"), ([0, 1.5], r"y\[1\] is 1.5, expected a whole-number class index")],
)
def test_bad_class_index(y, match):
    with pytest.raises(ValueError, match=match):
        bptt([[1.0], [0.5]], [[0.5, 0.1], [0.0, 0.3]], [[1, 0], [0, 1], [1, 1]], [1.0, -1.0], y, loss="softmax-ce")


def test_library_export_and_doctest():
    import doctest

    failures, _ = doctest.testmod(core)
    assert failures == 0


def test_agrees_with_torch_autograd():
    torch = pytest.importorskip("torch")
    spec = random_spec(13, scalar=False, loss="softmax-ce", biases=True, truncate=None, T=9)
    result = run(spec, vanishing=False)
    p = {k: torch.tensor(np.asarray(spec[k], dtype=float), requires_grad=True) for k in ("U", "W", "V", "b", "c")}
    h = torch.tensor(np.asarray(spec["h0"], dtype=float))
    x = torch.tensor(np.asarray(spec["x"], dtype=float))
    total = 0
    for t in range(len(spec["y"])):
        h = torch.tanh(p["U"] @ x[t] + p["W"] @ h + p["b"])
        z = p["V"] @ h + p["c"]
        total = total - torch.log_softmax(z, dim=0)[int(spec["y"][t])]
    total.backward()
    assert result.loss == pytest.approx(total.item(), rel=1e-12)
    for name in p:
        np.testing.assert_allclose(result.grads_matrix[name], p[name].grad.numpy(), rtol=1e-10, atol=1e-13)
