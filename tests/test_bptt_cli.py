"""``dlv bptt`` through the real entry point: samples, JSON keys (docs/bptt.md), errors."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parent.parent / "sample_inputs"

COURSE = SAMPLES / "bptt_course.yaml"
VECTOR = SAMPLES / "bptt_vector_softmax.yaml"
COURSE_ARGS = ["--U", "0.5", "--W", "0.8", "--V", "1.2", "--x", "1,0.5,-1", "--y", "0.2,0.1,0.3"]


@pytest.mark.parametrize("sample", sorted(SAMPLES.glob("bptt_*.yaml")), ids=lambda p: p.name)
def test_every_sample_runs(dlv, sample):
    result = dlv("bptt", "-c", sample)
    assert result.code == 0, result.stderr
    assert "Forward pass" in result.stdout and "Totals" in result.stdout
    assert result.stderr == ""


def test_course_sample_text_is_a_worked_solution(dlv):
    result = dlv("bptt", "-c", COURSE)
    out = result.stdout
    assert result.code == 0
    # forward: formula with the numbers substituted
    assert "0.5 · 1 + 0.8 · 0 = 0.5 " in out
    # the closed nested form, symbolic and with numbers
    assert "∂E₃/∂W = (ŷ₃ − y₃)·V·(1 − h₃²)·[h₂ + W(1 − h₂²)·(h₁ + W(1 − h₁²)·h₀)]" in out
    assert "= (−0.0710 − 0.3)·1.2·(1 − (−0.0592)²)·[0.5509 + 0.8·(1 − 0.5509²)·" in out
    # the totals, and the vanishing section
    assert "−0.1420" in out and "1.0287" in out and "0.4949" in out
    assert "Why long-range terms vanish" in out and "0.7972" in out


def test_check_reports_the_max_relative_error_and_exits_0(dlv):
    text = dlv("bptt", "-c", COURSE, "--check")
    assert text.code == 0
    line = next(line for line in text.stdout.splitlines() if "max relative error" in line)
    assert float(line.split("=")[1].replace("\u2212", "-")) < 1e-6  # the text minus is U+2212
    js = dlv("bptt", "-c", VECTOR, "--check", "--truncate", "2", "--json")
    assert js.code == 0
    check = js.json()["gradient_check"]
    assert check["max_rel_error"] < 1e-6
    assert set(check["per_param"]) == {"U", "W", "V", "b", "c"}
    assert check["max_rel_error"] == max(check["per_param"].values())
    assert check["loss_checked"] == "truncated"


def test_json_carries_every_key_of_the_contract(dlv):
    result = dlv("bptt", "-c", VECTOR, "--check", "--json")
    assert result.code == 0 and result.stderr == ""
    doc = result.json()
    assert doc["command"] == "bptt" and isinstance(doc["dlv_version"], str) and doc["warnings"] == []
    for key in ("U", "W", "V", "b", "c", "x", "y", "h0", "loss", "truncate"):
        assert key in doc["inputs"]
    assert doc["inputs"]["h0"] == [0.0, 0.0, 0.0]  # the resolved default
    assert doc["inputs"]["y"] == [0, 2, 1, 1]
    for key in ("T", "forward", "loss", "grads", "per_step", "gradient_check"):
        assert key in doc
    assert doc["T"] == 4
    assert [row["t"] for row in doc["forward"]] == [1, 2, 3, 4]
    for row in doc["forward"]:
        assert set(row) == {"t", "x", "a", "h", "y_hat", "y", "loss"}
        assert len(row["h"]) == 3 and len(row["y_hat"]) == 3 and isinstance(row["y"], int)
    assert math.isclose(doc["loss"], sum(row["loss"] for row in doc["forward"]), rel_tol=1e-12)
    # gradients in the parameters' shapes
    grads = doc["grads"]
    assert set(grads) == {"U", "W", "V", "b", "c"}
    assert _shape(grads["U"]) == (3, 2) and _shape(grads["W"]) == (3, 3) and _shape(grads["V"]) == (3, 3)
    assert _shape(grads["b"]) == (3,) and _shape(grads["c"]) == (3,)
    for step in doc["per_step"]:
        assert {"t", "dU", "dW", "dV", "terms"} <= set(step)
        assert [term["k"] for term in step["terms"]] == list(range(1, step["t"] + 1))
        for term in step["terms"]:
            assert {"k", "dW", "dU", "jacobian_norm"} <= set(term)
        assert step["terms"][-1]["jacobian_norm"] == 1.0
    assert {"max_rel_error", "per_param"} <= set(doc["gradient_check"])


def test_json_numbers_are_full_precision_and_sum_up(dlv):
    doc = dlv("bptt", *COURSE_ARGS, "--json").json()
    assert doc["grads"]["W"] == pytest.approx(-0.14196270925963736, rel=1e-12)
    assert isinstance(doc["grads"]["U"], float)  # a number in, a number out
    assert sum(s["dW"] for s in doc["per_step"]) == pytest.approx(doc["grads"]["W"], rel=1e-12)
    for step in doc["per_step"]:
        assert sum(term["dU"] for term in step["terms"]) == pytest.approx(step["dU"], rel=1e-12)
    assert "gradient_check" not in doc
    assert "b" not in doc["grads"] and "c" not in doc["grads"]


def test_biases_add_their_gradients(dlv):
    doc = dlv("bptt", *COURSE_ARGS, "--b", "0.1", "--c", "-0.2", "--h0", "0.3", "--json").json()
    assert set(doc["grads"]) == {"U", "W", "V", "b", "c"}
    assert doc["inputs"]["h0"] == 0.3
    assert doc["forward"][0]["a"] == pytest.approx(0.5 * 1 + 0.8 * 0.3 + 0.1)


def test_truncation_limits_the_terms(dlv):
    doc = dlv("bptt", *COURSE_ARGS, "--truncate", "2", "--json").json()
    assert doc["inputs"]["truncate"] == 2
    assert [term["k"] for term in doc["per_step"][2]["terms"]] == [2, 3]


def test_long_sequences_are_summarised_unless_full(dlv):
    x = ",".join(["1", "0.5", "-1"] * 20)
    y = ",".join(["0.2", "0.1", "0.3"] * 20)
    args = ["bptt", "--U", "0.5", "--W", "0.8", "--V", "1.2", "--x", x, "--y", y]
    short = dlv(*args, "--json").json()
    assert short["T"] == 60
    assert len(short["per_step"]) == 60 and all("terms" not in s for s in short["per_step"])
    full = dlv(*args, "--json", "--full").json()
    assert all(len(s["terms"]) == s["t"] for s in full["per_step"])
    text = dlv(*args)
    assert "Per-step gradients" in text.stdout and "--full prints every term" in text.stdout
    assert "⋮" in text.stdout


def test_markdown_has_latex_and_the_closed_form(dlv):
    result = dlv("bptt", "-c", COURSE, "--format", "markdown")
    assert result.code == 0
    assert "$a_t = U x_t + W h_{t-1}" in result.stdout
    assert "\\dfrac{\\partial E_{3}}{\\partial W} = (\\hat y_{3} - y_{3})" in result.stdout
    assert "### Why long-range terms vanish" in result.stdout


def test_plot_is_written(dlv, tmp_path):
    target = tmp_path / "decay.png"
    result = dlv("bptt", "-c", VECTOR, "--plot", target)
    assert result.code == 0
    assert target.stat().st_size > 1000
    assert "decay.png" in result.stdout


def test_exploding_gradient_warns_and_writes_null(dlv):
    zeros = ",".join(["0"] * 800)
    ones = ",".join(["1"] * 800)
    result = dlv("bptt", "--U", "0", "--W", "3", "--V", "1", "--x", zeros, "--y", ones, "--json")
    assert result.code == 0
    doc = result.json()
    assert doc["grads"]["W"] is None
    assert any(w.startswith("grads.W") for w in doc["warnings"])
    assert any("overflows" in w for w in doc["warnings"])
    assert len(doc["warnings"]) < 10  # one line per group, not one per number


def test_exact_is_not_an_option_of_bptt(dlv):
    # tanh of a rational number is irrational (docs/conventions.md: --exact is "where every input is
    # rational"), so bptt does not offer --exact: a usage error, not a warning that it does nothing
    assert "--exact" not in dlv("bptt", "--help").stdout
    result = dlv("bptt", "-c", COURSE, "--exact")
    assert result.code == 2 and result.stderr.startswith("error:") and "--exact" in result.stderr


def test_an_option_in_the_wrong_case_points_to_the_right_one(dlv):
    result = dlv("bptt", "--u", "0.5")
    assert result.code == 2
    assert "Did you mean --U?" in result.stderr


def test_command_line_overrides_the_config(dlv):
    doc = dlv("bptt", "-c", COURSE, "--W", "0.5", "--json").json()
    assert doc["inputs"]["W"] == 0.5 and doc["inputs"]["U"] == 0.5


@pytest.mark.parametrize(
    "args,message",
    [
        (["--U", "[[1],[2]]", "--W", "0.8", "--V", "1", "--x", "1", "--y", "1"], "U is 2×1 but W is 1×1"),
        (["--U", "0.5", "--W", "0.8", "--V", "1.2", "--x", "1,0.5,-1", "--y", "0.2,0.1"], "x has 3 steps but y has 2"),
        (
            ["-c", str(VECTOR), "--y", "0,3,1,1"],
            "y[1] is class 3, out of range: V has 3 output(s), so classes are 0..2",
        ),
        (["--U", "0.5", "--W", "[[0.8, a]]", "--V", "1", "--x", "1", "--y", "1"], "--W[0][1]: expected a number, got 'a'"),
        (["-c", str(COURSE), "--truncate", "0"], "--truncate 0: expected a whole number K ≥ 1"),
        (["-c", str(COURSE), "--x", "1,nan,2", "--y", "1,2,3"], "--x[1]: nan is not a finite number"),
        (["--W", "0.8", "--V", "1", "--x", "1", "--y", "1"], "missing --U"),
        (["-c", str(COURSE), "--loss", "mse"], "Invalid value for '--loss'"),
    ],
)
def test_bad_input_exits_2_with_a_message(dlv, args, message):
    result = dlv("bptt", *args)
    assert result.code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error:")
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_config_file_names_file_and_line(dlv, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("U: 0.5\nW: [[0.8, x]]\nV: 1\nx: [1]\ny: [1]\n")
    result = dlv("bptt", "-c", bad)
    assert result.code == 2
    assert result.stderr.startswith(f"error: {bad}, line 2: W[0][1]: expected a number, got 'x'")
    shapes = tmp_path / "shapes.yaml"
    shapes.write_text("U: 0.5\nW: 0.8\nV: [[1, 2]]\nx: [1]\ny: [1]\n")
    result = dlv("bptt", "-c", shapes)
    assert result.code == 2
    assert f"{shapes}, line 3: V is 1×2 but W is 1×1" in result.stderr
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("U: 0.5\nW: 0.8\nV: 1\nx: [1]\ny: [1]\nwindow: 3\n")
    result = dlv("bptt", "-c", unknown)
    assert result.code == 2 and "line 6: unknown key 'window'" in result.stderr


def test_help_documents_the_options(dlv):
    result = dlv("bptt", "--help")
    assert result.code == 0
    for option in ("--U", "--W", "--V", "--b", "--c", "--x", "--y", "--h0", "--loss", "--truncate", "--check", "--full", "--plot"):
        assert option in result.stdout
    assert "dlv bptt -c sample_inputs/bptt_course.yaml" in result.stdout


def _shape(value):
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        value = value[0]
    return tuple(shape)


@pytest.mark.parametrize(
    "x, W, heading",
    [
        # h stays 0, slope 1: ‖∂h_t/∂h_k‖ = 3^(t−k), growing: the heading says explode
        ("0,0,0,0,0,0", 3.0, "explode"),
        # h₁ = 0 gives a slope of 1, so the bound is 1.2 ≥ 1, but the saturated steps after
        # it (tanh 6 ≈ 1, slope ≈ 2.5e−5) make the measured norms vanish
        ("0,6,6,6,6,6", 1.2, "vanish"),
    ],
)
def test_plot_title_follows_the_measured_heading(x, W, heading):
    """The plot's verdict is the section heading's (measured norms first), not the bound's alone."""
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    from dlvcli.core.bptt import bptt
    from dlvcli.render.bptt import BpttView, _vanishing_title

    xs = [float(v) for v in x.split(",")]
    result = bptt(0.5 if heading == "vanish" else 0.0, W, 1.0, xs, [0.1] * len(xs))
    assert _vanishing_title(result).endswith(heading)
    figure = Figure()
    BpttView().draw(result, figure)
    title = figure.axes[0].get_title()
    assert title.endswith("(exploding)" if heading == "explode" else "(vanishing)"), title
    bound = result.vanishing.bound
    assert (bound >= 1) if heading == "vanish" else (bound > 1)


def test_a_cells_config_fault_names_its_line(dlv, tmp_path):
    # the LSTM path re-raises the core's shape check at the line of the parameter it names
    bad = tmp_path / "lstm.yaml"
    bad.write_text("cell: lstm\nU: [[1],[1],[1],[1]]\nW: [[0.5],[0.5],[0.5],[0.5]]\nV: [[1, 2]]\nx: [1, 0]\ny: [0.5, 0]\n")
    result = dlv("bptt", "-c", bad)
    assert result.code == 2
    assert result.stderr.startswith(f"error: {bad}, line 4: V is 1×2")
