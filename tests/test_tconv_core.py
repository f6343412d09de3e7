"""dlvcli.core.tconv against oracles: a brute-force scatter, the matrix form, torch, hand-worked cases."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlvcli.core.tconv import (
    conv_matrix,
    conv_matrix_taps,
    conv_output_size,
    scatter_terms,
    sum_terms,
    tconv,
    tconv_output_size,
    tconv_shape,
    tconv_solve,
    transposed_conv,
)

# --------------------------------------------------------------------------- oracles


def brute_force_size(size: int, kernel: int, stride: int, padding: int, output_padding: int, dilation: int) -> int:
    """Output size by placing every tap: the full scatter spans 0..max(i·s + a·d); padding cuts p
    from each end, output padding adds op at the far end.  No use of the closed formula."""
    reached = {i * stride + a * dilation for i in range(size) for a in range(kernel)}
    full = max(reached) + 1
    return full - 2 * padding + output_padding


def brute_force_tconv(x3: np.ndarray, k4: np.ndarray, s, p, op, d) -> np.ndarray:
    """conv_transpose2d by the definition: six nested loops over a dict canvas, then cropped."""
    c_in, h, w = x3.shape
    _, c_out, kh, kw = k4.shape
    h_out = brute_force_size(h, kh, s[0], p[0], op[0], d[0])
    w_out = brute_force_size(w, kw, s[1], p[1], op[1], d[1])
    y = np.zeros((c_out, h_out, w_out))
    for c, i, j, o, a, b in itertools.product(range(c_in), range(h), range(w), range(c_out), range(kh), range(kw)):
        r = i * s[0] - p[0] + a * d[0]
        q = j * s[1] - p[1] + b * d[1]
        if 0 <= r < h_out and 0 <= q < w_out:
            y[o, r, q] += x3[c, i, j] * k4[c, o, a, b]
    return y


def random_case(rng: np.random.Generator):
    """Random sizes and parameters (square or not), valid by construction."""
    while True:
        h, w = (int(v) for v in rng.integers(1, 5, 2))
        kh, kw = (int(v) for v in rng.integers(1, 4, 2))
        s = tuple(int(v) for v in rng.integers(1, 4, 2))
        d = tuple(int(v) for v in rng.integers(1, 3, 2))
        op = tuple(int(rng.integers(0, max(s[a], d[a]))) for a in range(2))
        p = tuple(int(v) for v in rng.integers(0, 3, 2))
        if all(brute_force_size(n, k, s[a], p[a], op[a], d[a]) >= 1 for a, (n, k) in enumerate(((h, kh), (w, kw)))):
            return (h, w), (kh, kw), s, p, op, d


# --------------------------------------------------------------------------- sizes


def test_output_size_equals_formula_and_brute_force_scatter():
    rng = np.random.default_rng(5)
    checked = 0
    for _ in range(600):
        h, k, s, d = (int(v) for v in (rng.integers(1, 9), rng.integers(1, 6), rng.integers(1, 5), rng.integers(1, 4)))
        op = int(rng.integers(0, max(s, d)))
        p = int(rng.integers(0, 4))
        formula = (h - 1) * s - 2 * p + d * (k - 1) + op + 1
        if formula < 1:
            with pytest.raises(ValueError, match="output must be at least 1"):
                tconv_output_size(h, k, s, p, op, d)
            continue
        assert tconv_output_size(h, k, s, p, op, d) == formula == brute_force_size(h, k, s, p, op, d)
        checked += 1
    assert checked > 400


def test_shape_steps_substitute_the_numbers():
    shape = tconv_shape(3, 3, stride=2)
    assert shape.output_size == (7, 7)
    assert shape.steps == ("H_out = (3 − 1)·2 − 2·0 + 1·(3 − 1) + 0 + 1 = 7", "W_out = (3 − 1)·2 − 2·0 + 1·(3 − 1) + 0 + 1 = 7")
    rect = tconv_shape((2, 4), (2, 3), stride=(1, 2), padding=(0, 1), output_padding=(0, 1))
    # W: (4 − 1)·2 − 2·1 + 1·(3 − 1) + 1 + 1 = 8
    assert rect.output_size == (3, 8)
    assert not rect.square


def test_companion_conv_maps_back_unless_op_reaches_stride():
    # op < s: conv(H_out) = H.  s = 2, op = 1: H_out = 8, ⌊(8 − 2 − 1)/2⌋ + 1 = 3.
    assert tconv_shape(3, 3, stride=2, output_padding=1).axes[0].conv_size == 3
    # d = 3 > s = 1 allows op = 2; then conv gives H + ⌊2/1⌋ = 5 ≠ 3.
    axis = tconv_shape(3, 3, stride=1, padding=2, output_padding=2, dilation=3).axes[0]
    assert axis.output == 7 and axis.conv_size == 5 and not axis.round_trip
    assert "≠ 3" in axis.companion_text and "floor division" in axis.companion_text
    for h, k, s, p, d in itertools.product(range(1, 5), range(1, 4), range(1, 4), range(3), range(1, 3)):
        for op in range(max(s, d)):
            n = (h - 1) * s - 2 * p + d * (k - 1) + op + 1
            if n >= 1:
                assert conv_output_size(n, k, s, p, d) == h + op // s


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((3, 3, 2, 0, 2, 1), r"smaller than the stride \(2\) or the dilation \(1\): op < max\(s, d\) = 2"),
        ((3, 3, 1, 0, 1, 1), r"op < max\(s, d\) = 1"),
        ((-3, 2, 1, 0, 0, 1), r"input size is -3: it must be a whole number ≥ 1"),
        ((3, 0, 1, 0, 0, 1), r"kernel size is 0"),
        ((3, 2, 0, 0, 0, 1), r"stride is 0"),
        ((3, 2, 1, -1, 0, 1), r"padding is -1: it must be a whole number ≥ 0"),
        ((2, 1, 1, 2, 0, 1), r"padding 2 is too large.*2p ≤ 1"),
        ((2.5, 1, 1, 0, 0, 1), r"whole number"),
        ((float("nan"), 1, 1, 0, 0, 1), r"whole number"),
    ],
)
def test_size_errors_state_the_rule(args, message):
    with pytest.raises(ValueError, match=message):
        tconv_output_size(*args)


# --------------------------------------------------------------------------- values


def test_course_matrix_example_hand_worked():
    """2×2 kernel on a 2×2 input, stride 1: C is 4×9, each row the kernel shifted.

    With k = [[1, 2], [3, 4]] the row of x[0,0] is [k00, k01, 0, k10, k11, 0, 0, 0, 0]
    = [1, 2, 0, 3, 4, 0, 0, 0, 0]; x[0,1] shifts it one column, x[1,0] one row of the
    3×3 (three columns), x[1,1] both.  With x = [[5, 6], [7, 8]] by hand:
      y00 = 5·1 = 5            y01 = 5·2 + 6·1 = 16                 y02 = 6·2 = 12
      y10 = 5·3 + 7·1 = 22     y11 = 5·4 + 6·3 + 7·2 + 8·1 = 60     y12 = 6·4 + 8·2 = 40
      y20 = 7·3 = 21           y21 = 7·4 + 8·3 = 52                 y22 = 8·4 = 32
    """
    k00, k01, k10, k11 = 1, 2, 3, 4
    expected_c = np.array(
        [
            [k00, k01, 0, k10, k11, 0, 0, 0, 0],
            [0, k00, k01, 0, k10, k11, 0, 0, 0],
            [0, 0, 0, k00, k01, 0, k10, k11, 0],
            [0, 0, 0, 0, k00, k01, 0, k10, k11],
        ]
    )
    expected_y = np.array([[5, 16, 12], [22, 60, 40], [21, 52, 32]])
    result = tconv([[5, 6], [7, 8]], [[k00, k01], [k10, k11]])
    assert result.matrix_shape == (4, 9)
    np.testing.assert_array_equal(result.matrix, expected_c)
    np.testing.assert_array_equal(result.output[0], expected_y)
    np.testing.assert_array_equal(result.matrix_output[0], expected_y)
    assert result.output_shape == [3, 3] and result.input_shape == [2, 2]
    assert [t.rows for t in result.terms] == [(0, 1), (0, 1), (1, 2), (1, 2)]
    # symbols: tap a·KW + b, −1 for 0
    taps = conv_matrix_taps(2, 2)
    assert taps[0].tolist() == [0, 1, -1, 2, 3, -1, -1, -1, -1]
    assert taps[3].tolist() == [-1, -1, -1, -1, 0, 1, -1, 2, 3]


def test_course_3x3_stride_2():
    # 3×3 input, 3×3 kernel, stride 2: 7×7; the centre x element covers rows/cols 2..4.
    x = np.zeros((3, 3))
    x[1, 1] = 1
    k = np.arange(1, 10).reshape(3, 3)
    y = transposed_conv(x, k, stride=2)
    assert y.shape == (7, 7)
    np.testing.assert_array_equal(y[2:5, 2:5], k)
    assert y.sum() == k.sum()


def _all_parameter_cases():
    for s, p, d in itertools.product((1, 2, 3), (0, 1, 2), (1, 2)):
        for op in range(max(s, d)):
            yield s, p, op, d


def test_scatter_and_matrix_agree_for_every_parameter_combination():
    """Every (stride, padding, output padding, dilation) incl. op ≥ s allowed by d > s, with channels."""
    rng = np.random.default_rng(11)
    cases = 0
    for s, p, op, d in _all_parameter_cases():
        for (h, w), (kh, kw), (c_in, c_out) in (((3, 2), (2, 3), (1, 1)), ((2, 3), (3, 2), (2, 3))):
            if (h - 1) * s - 2 * p + d * (kh - 1) + op + 1 < 1 or (w - 1) * s - 2 * p + d * (kw - 1) + op + 1 < 1:
                continue
            x = rng.normal(size=(c_in, h, w))
            k = rng.normal(size=(c_in, c_out, kh, kw))
            result = tconv(x, k, s, p, op, d)
            expected = brute_force_tconv(x, k, (s, s), (p, p), (op, op), (d, d))
            np.testing.assert_allclose(result.output, expected, atol=1e-12)
            np.testing.assert_allclose(result.matrix_output, expected, atol=1e-12)
            np.testing.assert_allclose(transposed_conv(x, k, s, p, op, d), expected, atol=1e-12)
            c = conv_matrix(k, (h, w), s, p, op, d)
            np.testing.assert_allclose(c.T @ x.reshape(-1), expected.reshape(-1), atol=1e-12)
            cases += 1
    assert cases > 50


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_scatter_matrix_and_brute_force_agree_on_random_inputs(seed):
    rng = np.random.default_rng(seed)
    (h, w), (kh, kw), s, p, op, d = random_case(rng)
    c_in, c_out = (int(v) for v in rng.integers(1, 3, 2))
    x = rng.normal(size=(c_in, h, w))
    k = rng.normal(size=(c_in, c_out, kh, kw))
    result = tconv(x, k, s, p, op, d)
    expected = brute_force_tconv(x, k, s, p, op, d)
    np.testing.assert_allclose(result.output, expected, atol=1e-12)
    np.testing.assert_allclose(result.matrix_output, expected, atol=1e-12)
    assert result.agree
    # the scattered terms add up to the output
    terms = scatter_terms(x, k, s, p, op, d)
    np.testing.assert_allclose(sum_terms(terms, c_out, result.shape.output_size), expected, atol=1e-12)


def test_equals_torch_conv_transpose2d():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    for _ in range(120):
        (h, w), (kh, kw), s, p, op, d = random_case(rng)
        c_in, c_out = (int(v) for v in rng.integers(1, 4, 2))
        x = rng.normal(size=(c_in, h, w))
        k = rng.normal(size=(c_in, c_out, kh, kw))
        expected = torch.nn.functional.conv_transpose2d(
            torch.from_numpy(x)[None], torch.from_numpy(k), None, s, p, op, 1, d
        )[0].numpy()
        np.testing.assert_allclose(tconv(x, k, s, p, op, d).output, expected, atol=1e-10)
        np.testing.assert_allclose(transposed_conv(x, k, s, p, op, d), expected, atol=1e-10)


def test_vectorised_path_equals_torch_on_a_larger_input():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x = rng.normal(size=(8, 30, 26))
    k = rng.normal(size=(8, 5, 3, 4))
    result = tconv(x, k, stride=(2, 3), padding=(1, 2), output_padding=(1, 0), dilation=(1, 2))
    assert result.scatter_method == "vectorised" and result.matrix_mode == "sparse"
    expected = torch.nn.functional.conv_transpose2d(
        torch.from_numpy(x)[None], torch.from_numpy(k), None, (2, 3), (1, 2), (1, 0), 1, (1, 2)
    )[0].numpy()
    np.testing.assert_allclose(result.output, expected, atol=1e-10)
    np.testing.assert_allclose(result.matrix_output, expected, atol=1e-10)


def test_large_input_builds_no_matrix():
    """512×512 with 64 channels: C would be 16.7M × 66M; it is neither built nor used."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 512, 512), dtype=np.float32)
    k = rng.standard_normal((64, 1, 3, 3), dtype=np.float32)
    result = tconv(x, k, stride=2, padding=1, output_padding=1)
    assert result.matrix is None and result.matrix_output is None and result.matrix_mode == "skipped"
    assert result.matrix_shape == (64 * 512 * 512, 1024 * 1024)
    assert result.output.shape == (1, 1024, 1024) and result.terms == ()
    # spot-check one output element by the definition: y[0, 5, 7] (odd row/col: taps a = 0..2)
    value = sum(
        float(x[c, i, j]) * float(k[c, 0, a, b])
        for c in range(64)
        for i in range(512)
        for a in range(3)
        if i * 2 - 1 + a == 5
        for j in range(512)
        for b in range(3)
        if j * 2 - 1 + b == 7
    )
    assert result.output[0, 5, 7] == pytest.approx(value, rel=1e-4, abs=1e-3)


def test_exact_fractions():
    # 0.1 · 0.3 = 3/100 exactly, where floats give 0.030000000000000002
    result = tconv([[0.1]], [[0.3, 0.5]], exact=True)
    assert result.output_exact[0].tolist() == [[Fraction(3, 100), Fraction(1, 20)]]


@pytest.mark.parametrize(
    ("x", "k", "message"),
    [
        (np.ones((2, 3, 3)), np.ones((3, 1, 2, 2)), r"channel mismatch: x has 2 input channel"),
        (np.ones(3), np.ones((2, 2)), r"x has 1 dimension"),
        (np.ones((2, 2)), np.ones((1, 2, 2)), r"k has 3 dimension"),
        ([[1.0, float("nan")]], [[1.0]], r"not finite"),
    ],
)
def test_value_errors_state_the_rule(x, k, message):
    with pytest.raises(ValueError, match=message):
        tconv(x, k)


# --------------------------------------------------------------------------- solve


def brute_force_solutions(h, n, kernel=None, stride=None, padding=None, output_padding=None, dilation=1):
    """Every (k, s, p, op) in the docs/tconv.md bounds, sizes by the brute-force scatter."""
    found = set()
    for k in range(1, 2 * n + 1):
        for s in range(1, n + 1):
            for op in range(max(s, dilation)):
                # p beyond this leaves no output at all, so the range is complete
                for p in range(0, ((h - 1) * s + dilation * (k - 1) + op) // 2 + 1):
                    given = (kernel, stride, padding, output_padding)
                    if any(g is not None and g != v for g, v in zip(given, (k, s, p, op))):
                        continue
                    if brute_force_size(h, k, s, p, op, dilation) == n:
                        found.add((k, s, p, op, dilation))
    return found


@pytest.mark.parametrize(
    "problem",
    [
        dict(h=3, n=7),
        dict(h=3, n=7, padding=0, output_padding=0),
        dict(h=2, n=5, kernel=3),
        dict(h=4, n=8, stride=2),
        dict(h=3, n=6, dilation=2),
        dict(h=1, n=4),
        dict(h=5, n=3, dilation=3, output_padding=2),
        dict(h=3, n=7, kernel=3, stride=2, padding=0, output_padding=0),
    ],
)
def test_solve_is_complete(problem):
    h, n = problem.pop("h"), problem.pop("n")
    result = tconv_solve(h, n, **problem)
    got = {(s.kernel, s.stride, s.padding, s.output_padding, s.dilation) for s in result.solutions}
    assert got == brute_force_solutions(h, n, **problem)
    assert len(got) == len(result.solutions)
    for s in result.solutions:
        assert s.conv_size == conv_output_size(n, s.kernel, s.stride, s.padding, s.dilation)


def test_solve_course_example_and_rectangles():
    result = tconv_solve(3, 7, padding=0, output_padding=0)
    assert [(s.kernel, s.stride) for s in result.solutions] == [(1, 3), (3, 2), (5, 1)]
    assert result.square and result.unknown == ("kernel", "stride")
    rect = tconv_solve((3, 2), (7, 4), padding=0, output_padding=0)
    assert not rect.square
    assert {(s.axis, s.kernel, s.stride) for s in rect.solutions} == {
        ("H", 1, 3), ("H", 3, 2), ("H", 5, 1), ("W", 1, 3), ("W", 2, 2), ("W", 3, 1),
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(kernel=15), r"kernel 15 is larger than allowed: --solve takes kernel 1..2·H_out = 1..14"),
        (dict(stride=8), r"stride 8 is larger than allowed: --solve takes stride 1..H_out = 1..7"),
        (dict(stride=2, output_padding=2), r"op < max\(s, d\) = 2"),
        (dict(padding=-1), r"padding -1 is negative"),
    ],
)
def test_solve_errors_state_the_rule(kwargs, message):
    with pytest.raises(ValueError, match=message):
        tconv_solve(3, 7, **kwargs)
