"""The mistake catalogue, each entry against a computation by hand (or by torch with one twist).

Every wrong value asserted here is worked in the test: fractions for AP, a logarithm for
focal loss, areas for boxes, the size formula for tconv, plain-Python loops (and torch with
a detached recurrence or a straight-through tanh) for BPTT.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from dlvcli.sheets.checks import lookup
from dlvcli.sheets.mistakes import CATALOGUE, FIXED_NAMES, by_name
from tests.conftest import SAMPLES

COURSE_TP = "1,1,0,0,0,1,1,0,0,1"  # TP at ranks 1, 2, 6, 7, 10; 5 objects


def doc(dlv, *args) -> dict:
    r = dlv(*args, "--json")
    assert r.code == 0, r.stderr
    return r.json()


def wrong(name: str, document: dict, key: str):
    return lookup(by_name(name).wrong(document), key)


def test_the_catalogue_has_the_contracts_names_and_more():
    names = [m.name for m in CATALOGUE]
    assert set(FIXED_NAMES) <= set(names) and len(names) == len(set(names)) > len(FIXED_NAMES)
    assert all(m.explanation.endswith(".") and m.explanation.count(". ") <= 1 for m in CATALOGUE)


# ---------------------------------------------------------------------------- interp-ap


def test_ap_mistakes_on_the_course_table(dlv):
    document = doc(dlv, "interp-ap", "--tp", COURSE_TP, "--num-gt", 5, "--exact")
    # precisions by rank: 1, 1, 2/3, 1/2, 2/5, 1/2, 4/7, 1/2, 4/9, 1/2; recall 1/5 per TP
    # all-point: the course's 51/70
    assert wrong("allpoint_instead_of_11point", document, "classes.0.ap_exact") == "51/70"
    assert wrong("allpoint_instead_of_11point", document, "map") == pytest.approx(51 / 70)
    # the eleven interpolated precisions: 1 ×5 (levels 0–0.4), 4/7 ×4 (0.5–0.8), 1/2 ×2: sum 58/7; /10
    assert Fraction(wrong("divided_by_10", document, "classes.0.ap_exact")) == Fraction(58, 7) / 10
    # first rank reaching each level: 1 (levels 0–0.2, rank 1), 1 (0.3, 0.4, rank 2), 1/2 (0.5, 0.6, rank 6),
    # 4/7 (0.7, 0.8, rank 7), 1/2 (0.9, 1, rank 10): (3 + 2 + 1 + 8/7 + 1)/11 = 57/77
    assert wrong("no_interpolation", document, "classes.0.ap_exact") == "57/77"
    allpoint = doc(dlv, "interp-ap", "--tp", COURSE_TP, "--num-gt", 5, "--exact", "--method", "allpoint")
    assert wrong("11point_instead_of_allpoint", allpoint, "classes.0.ap_exact") == "58/77"
    assert by_name("allpoint_instead_of_11point").wrong(allpoint) is None  # not for an all-point problem


def test_float_recall_levels():
    import numpy as np

    # the third TP at rank 3 reaches recall 3/5 = 0.6 with precision 1, but the float level
    # np.arange(0, 1.1, 0.1)[6] is 0.6000000000000001 > 0.6
    assert np.arange(0, 1.1, 0.1)[6] > 3 / 5
    document = {"method": "11point", "classes": [{"num_gt": 5, "ranked": [{"tp": t} for t in (1, 1, 1, 0, 0, 1, 0, 0, 1, 0)]}]}
    # exact levels: 0–0.6 at 1 (7 levels), 0.7–0.8 at 4/6, 0.9–1 at 5/9: (7 + 4/3 + 10/9)/11 = 85/99
    # float levels: level 0.6 needs recall 0.8: 2/3 instead of 1: (6 + 2/3 + 4/3 + 10/9)/11 = 82/99
    assert wrong("float_recall_levels", document, "classes.0.ap_exact") == "82/99"


# ---------------------------------------------------------------------------- focal


def test_focal_mistakes(dlv):
    positive = doc(dlv, "focal", "--p", "0.9", "--gamma", "2")
    # ln → log10: CE = −log10 0.9, FL = 0.1² · (−log10 0.9)
    assert wrong("log10", positive, "rows.0.ce") == pytest.approx(-math.log10(0.9), rel=1e-12)
    assert wrong("log10", positive, "rows.0.fl") == pytest.approx(0.01 * -math.log10(0.9), rel=1e-12)
    assert by_name("alpha_not_flipped").wrong(positive) is None  # no α, no negative

    negative = doc(dlv, "focal", "--p", "0.3", "--target", "0", "--gamma", "2", "--alpha", "0.25")
    # p_t = 0.7, α_t = 0.75; α not flipped: 0.25 · 0.3² · (−ln 0.7)
    assert wrong("alpha_not_flipped", negative, "rows.0.fl") == pytest.approx(0.25 * 0.09 * -math.log(0.7), rel=1e-12)
    # p used as p_t: CE = −ln 0.3, factor (1 − 0.3)² = 0.49, FL = 0.75 · 0.49 · (−ln 0.3)
    assert wrong("p_not_flipped", negative, "rows.0.ce") == pytest.approx(-math.log(0.3), rel=1e-12)
    assert wrong("p_not_flipped", negative, "rows.0.modulating_factor") == pytest.approx(0.49, rel=1e-12)
    assert wrong("p_not_flipped", negative, "rows.0.fl") == pytest.approx(0.75 * 0.49 * -math.log(0.3), rel=1e-12)
    # no modulating factor: α_t · CE = 0.75 · (−ln 0.7)
    assert wrong("modulating_factor_left_out", negative, "rows.0.fl") == pytest.approx(0.75 * -math.log(0.7), rel=1e-12)


# ---------------------------------------------------------------------------- box-compare


def test_box_mistakes(dlv):
    document = doc(dlv, "box-compare", "--a", "0,0,2,2", "--b", "1,1,3,3")
    # |A ∩ B| = 1, |A| + |B| = 8 (the right IoU is 1/7)
    assert wrong("union_as_sum", document, "pairs.0.iou") == pytest.approx(1 / 8, rel=1e-12)
    # +1 pixels: A and B 3×3 = 9 each, intersection (2 − 1 + 1)² = 4, union 14
    assert wrong("plus_one_pixels", document, "pairs.0.iou") == pytest.approx(4 / 14, rel=1e-12)


# ---------------------------------------------------------------------------- tconv


def test_tconv_mistakes(dlv):
    document = doc(dlv, "tconv", "--input", "3", "--kernel", "2", "--stride", "2", "--padding", "1")
    # right: (3 − 1)·2 − 2 + (2 − 1) + 1 = 4
    assert document["output_shape"] == [4, 4]
    # direct convolution: ⌊(3 + 2 − 1 − 1)/2⌋ + 1 = 2
    assert wrong("conv_output_size", document, "output_shape") == [2, 2]
    assert wrong("conv_output_size", document, "output_shape.1") == 2
    # padding added: (3 − 1)·2 + 2 + 1 + 1 = 8
    assert wrong("padding_added", document, "output_shape") == [8, 8]


# ---------------------------------------------------------------------------- bptt


def _scalar_rnn(U, W, V, x, y, h0=0.0):
    h = [h0]
    for xt in x:
        h.append(math.tanh(U * xt + W * h[-1]))
    e = [V * h[t + 1] - y[t] for t in range(len(x))]  # ∂E_t/∂ŷ_t for half-sse
    return h, e


def _scalar_grads(U, W, V, x, y, derivative=True, last_only=False, truncate=None):
    """∂E/∂W and ∂E/∂U by the chain rule term by term, with the twists of the mistakes."""
    h, e = _scalar_rnn(U, W, V, x, y)
    dW = dU = 0.0
    for t in range(len(x)):
        start = t if last_only else (0 if truncate is None else max(0, t - truncate + 1))
        for k in range(start, t + 1):
            chain = e[t] * V
            for j in range(t, k, -1):  # ∂h_j/∂h_{j−1} = (1 − h_j²)·W
                chain *= ((1 - h[j + 1] ** 2) if derivative else 1.0) * W
            chain *= (1 - h[k + 1] ** 2) if derivative else 1.0
            dW += chain * h[k]
            dU += chain * x[k]
    return dW, dU


COURSE = dict(U=0.5, W=0.8, V=1.2, x=[1, 0.5, -1], y=[0.2, 0.1, 0.3])


def test_bptt_scalar_mistakes(dlv):
    document = doc(dlv, "bptt", "-c", SAMPLES / "bptt_course.yaml")
    right_w, right_u = _scalar_grads(**COURSE)
    assert document["grads"]["W"] == pytest.approx(right_w, rel=1e-12)  # the loops are right
    last_w, last_u = _scalar_grads(**COURSE, last_only=True)
    assert wrong("last_term_only", document, "grads.W") == pytest.approx(last_w, rel=1e-12)
    assert wrong("last_term_only", document, "grads.U") == pytest.approx(last_u, rel=1e-12)
    flat_w, flat_u = _scalar_grads(**COURSE, derivative=False)
    assert wrong("missing_tanh_derivative", document, "grads.W") == pytest.approx(flat_w, rel=1e-12)
    assert wrong("missing_tanh_derivative", document, "grads.U") == pytest.approx(flat_u, rel=1e-12)
    assert wrong("sign_flipped", document, "grads.W") == pytest.approx(-right_w, rel=1e-12)
    assert len({round(v, 12) for v in (right_w, last_w, flat_w)}) == 3


def test_bptt_missing_derivative_with_truncation(dlv, tmp_path):
    config = tmp_path / "rnn.yaml"
    config.write_text("U: 0.5\nW: -0.8\nV: 1.2\nx: [1, 0.5, -1, 0.3]\ny: [0.2, -0.1, 0.3, 0.5]\ntruncate: 2\n", encoding="utf-8")
    document = doc(dlv, "bptt", "-c", config)
    args = dict(U=0.5, W=-0.8, V=1.2, x=[1, 0.5, -1, 0.3], y=[0.2, -0.1, 0.3, 0.5])
    assert document["grads"]["W"] == pytest.approx(_scalar_grads(**args, truncate=2)[0], rel=1e-12)
    flat_w, flat_u = _scalar_grads(**args, derivative=False, truncate=2)
    assert wrong("missing_tanh_derivative", document, "grads.W") == pytest.approx(flat_w, rel=1e-12)
    assert wrong("missing_tanh_derivative", document, "grads.U") == pytest.approx(flat_u, rel=1e-12)


def test_bptt_vector_mistakes_against_torch(dlv):
    """Matrices and softmax-ce: torch with the recurrence detached (last term only) or a
    straight-through tanh (forward tanh, derivative 1) gives the wrong gradients."""
    torch = pytest.importorskip("torch")
    import yaml

    config = yaml.safe_load((SAMPLES / "bptt_vector_softmax.yaml").read_text(encoding="utf-8"))
    document = doc(dlv, "bptt", "-c", SAMPLES / "bptt_vector_softmax.yaml")

    def grads(twist: str):
        p = {k: torch.tensor(config[k], dtype=torch.float64, requires_grad=True) for k in ("U", "W", "V", "b", "c")}
        h = torch.zeros(3, dtype=torch.float64)
        loss = 0
        for x, y in zip(config["x"], config["y"]):
            previous = h.detach() if twist == "last" else h
            a = p["U"] @ torch.tensor(x, dtype=torch.float64) + p["W"] @ previous + p["b"]
            h = a + (torch.tanh(a) - a).detach() if twist == "flat" else torch.tanh(a)
            z = p["V"] @ h + p["c"]
            loss = loss - torch.log_softmax(z, dim=0)[y]
        loss.backward()
        return {k: v.grad.numpy() for k, v in p.items()}

    import numpy as np

    assert np.allclose(document["grads"]["W"], grads("none")["W"], rtol=1e-12, atol=1e-14)
    last, flat = grads("last"), grads("flat")
    for name in ("U", "W", "b"):
        assert np.allclose(wrong("last_term_only", document, f"grads.{name}"), last[name], rtol=1e-10, atol=1e-14)
        assert np.allclose(wrong("missing_tanh_derivative", document, f"grads.{name}"), flat[name], rtol=1e-10, atol=1e-14)
