"""``dlv tconv`` through the real entry point: samples, JSON keys, text, errors (docs/tconv.md)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import SAMPLES

from tests.test_tconv_core import brute_force_solutions

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.mark.parametrize("sample", sorted(p.name for p in SAMPLES.glob("tconv_*.yaml")))
def test_every_sample_runs(dlv, sample):
    text = dlv("tconv", "-c", SAMPLES / sample)
    assert text.code == 0, text.stderr
    assert text.stderr == ""
    doc = dlv("tconv", "-c", SAMPLES / sample, "--json").json()
    assert doc["command"] == "tconv" and doc["warnings"] == []
    assert {"input_shape", "output_shape", "steps"} <= doc.keys()


def test_samples_exist():
    names = {p.name for p in SAMPLES.glob("tconv_*.yaml")}
    assert {"tconv_course_3x3.yaml", "tconv_matrix_2x2.yaml"} <= names


def test_course_3x3_sizes(dlv):
    doc = dlv("tconv", "-c", SAMPLES / "tconv_course_3x3.yaml", "--json").json()
    assert doc["input_shape"] == [3, 3] and doc["output_shape"] == [7, 7]
    assert doc["steps"] == ["H_out = (3 − 1)·2 − 2·0 + 1·(3 − 1) + 0 + 1 = 7", "W_out = (3 − 1)·2 − 2·0 + 1·(3 − 1) + 0 + 1 = 7"]
    assert doc["inputs"]["stride"] == [2, 2] and doc["inputs"]["output_padding"] == [0, 0]


def test_matrix_example_json(dlv):
    """The 2×2-kernel example: C is 4×9 with rows [k00, k01, 0, k10, k11, 0, 0, 0, 0] shifted.

    k = [[1, 2], [3, 4]], x = [[5, 6], [7, 8]]; hand-worked in test_tconv_core.
    """
    result = dlv("tconv", "-c", SAMPLES / "tconv_matrix_2x2.yaml", "--json")
    assert result.code == 0 and result.stderr == ""
    doc = result.json()
    assert doc["matrix"] == [
        [1, 2, 0, 3, 4, 0, 0, 0, 0],
        [0, 1, 2, 0, 3, 4, 0, 0, 0],
        [0, 0, 0, 1, 2, 0, 3, 4, 0],
        [0, 0, 0, 0, 1, 2, 0, 3, 4],
    ]
    assert doc["output"] == [[5, 16, 12], [22, 60, 40], [21, 52, 32]]
    assert doc["input_shape"] == [2, 2] and doc["output_shape"] == [3, 3]
    assert doc["matrix_form"] == {"shape": [4, 9], "mode": "dense", "max_abs_difference": 0.0}


def test_matrix_example_text_shows_c_and_its_transpose(dlv):
    out = dlv("tconv", "-c", SAMPLES / "tconv_matrix_2x2.yaml").stdout
    assert "C (4×9)" in out and "Cᵀ (9×4)" in out
    rows = [line.split() for line in out.splitlines() if line.strip().startswith("x[0,0]")]
    assert ["x[0,0]", "1", "2", "0", "3", "4", "0", "0", "0", "0"] in rows
    assert "Cᵀ·vec(x) = [5, 16, 12, 22, 60, 40, 21, 52, 32]ᵀ → reshaped to 3×3" in out
    assert "agree: max |difference| = 0" in out
    assert "Output: 3×3" in out


def test_symbolic_matrix_without_values(dlv):
    doc = dlv("tconv", "--input", "2", "--kernel", "2", "--show-matrix", "--json").json()
    assert doc["matrix"][0] == ["k00", "k01", "0", "k10", "k11", "0", "0", "0", "0"]
    assert doc["matrix"][3] == ["0", "0", "0", "0", "k00", "k01", "0", "k10", "k11"]
    text = dlv("tconv", "--input", "2", "--kernel", "2", "--show-matrix").stdout
    assert any(line.split() == ["x[0,0]", "k00", "k01", "0", "k10", "k11", "0", "0", "0", "0"] for line in text.splitlines())


def test_channels_follow_pytorch_weight_layout(dlv):
    torch = pytest.importorskip("torch")
    x = [[[1, 2], [3, 4]], [[0, 1], [1, 0]]]
    k = [[[[1, 0], [0, 1]], [[1, 1], [1, 1]], [[0, 2], [2, 0]]], [[[2, 0], [0, 2]], [[0, 1], [1, 0]], [[1, 1], [0, 0]]]]
    args = ["--x", json.dumps(x), "--k", json.dumps(k), "--stride", "2", "--padding", "1", "--output-padding", "1"]
    doc = dlv("tconv", *args, "--json").json()
    expected = torch.nn.functional.conv_transpose2d(
        torch.tensor(x, dtype=torch.float64)[None], torch.tensor(k, dtype=torch.float64), stride=2, padding=1, output_padding=1
    )[0]
    assert doc["output"] == expected.tolist()
    assert doc["input_shape"] == [2, 2, 2] and doc["output_shape"] == [3, 3, 3]


def test_rectangular_parameters(dlv):
    doc = dlv("tconv", "--input", "2x4", "--kernel", "2x3", "--stride", "1x2", "--padding", "0x1", "--output-padding", "0x1", "--json").json()
    assert doc["output_shape"] == [3, 8]
    assert doc["steps"][1] == "W_out = (4 − 1)·2 − 2·1 + 1·(3 − 1) + 1 + 1 = 8"


def test_solve_json_is_complete(dlv):
    result = dlv("tconv", "--solve", "--input", "3", "--output", "6", "--json")
    assert result.code == 0 and result.stderr == ""
    doc = result.json()
    got = {(s["kernel"], s["stride"], s["padding"], s["output_padding"], s["dilation"]) for s in doc["solutions"]}
    assert got == brute_force_solutions(3, 6)
    assert set(doc["solutions"][0]) >= {"kernel", "stride", "padding", "output_padding", "dilation"}
    assert doc["inputs"]["kernel"] is None and doc["inputs"]["dilation"] == [1, 1]


def test_solve_course_sample_text(dlv):
    out = dlv("tconv", "-c", SAMPLES / "tconv_course_3x3_solve.yaml").stdout
    assert "(3 − 1)·s − 2·0 + 1·(k − 1) + 0 + 1 = 7" in out
    assert "3 assignment(s)." in out
    assert "(3 − 1)·2 − 2·0 + 1·(3 − 1) + 0 + 1 = 7" in out and "⌊4/2⌋ + 1 = 3 ✓" in out


def test_solve_explains_when_the_conv_does_not_map_back(dlv):
    out = dlv("tconv", "--solve", "--input", "3", "--output", "7", "--kernel", "3", "--dilation", "3").stdout
    assert "⌊4/1⌋ + 1 = 5 ✗" in out
    assert "H + ⌊op/s⌋ ≠ H" in " ".join(out.split())  # the sentence may wrap


def test_markdown_has_latex(dlv):
    out = dlv("tconv", "-c", SAMPLES / "tconv_matrix_2x2.yaml", "--format", "markdown").stdout
    assert "$H_{out} = (H - 1)\\,s - 2p + d\\,(k - 1) + op + 1$" in out
    assert "\\begin{bmatrix} 5 & 16 & 12 \\\\ 22 & 60 & 40 \\\\ 21 & 52 & 32 \\end{bmatrix}" in out
    assert "| `x[0,0]` | 1 | 2 | 0 | 3 | 4 | 0 | 0 | 0 | 0 |" in out


def test_exact_output(dlv):
    doc = dlv("tconv", "--x", "[[0.1]]", "--k", "[[0.3, 0.5]]", "--exact", "--json").json()
    assert doc["output_exact"] == [["3/100", "1/20"]]
    assert "3/100" in dlv("tconv", "--x", "[[0.1]]", "--k", "[[0.3, 0.5]]", "--exact").stdout


def test_large_input_says_matrix_not_shown(dlv):
    import numpy as np

    x = np.arange(3 * 40 * 40).reshape(3, 40, 40) % 7
    k = np.ones((3, 16, 3, 3))
    out = dlv("tconv", "--x", json.dumps(x.tolist()), "--k", json.dumps(k.tolist()), "--stride", "2", "--show-matrix")
    assert out.code == 0
    assert "not shown" in out.stdout and "too large" in out.stdout


def test_plot_written(dlv, tmp_path):
    target = tmp_path / "tconv.png"
    result = dlv("tconv", "-c", SAMPLES / "tconv_matrix_2x2.yaml", "--plot", target)
    assert result.code == 0 and target.stat().st_size > 1000
    assert f"Plot written to {target}" in result.stdout


def test_help_documents_options(dlv):
    out = dlv("tconv", "--help").stdout
    for option in ("--input", "--kernel", "--stride", "--padding", "--output-padding", "--dilation", "--x", "--k",
                   "--show-matrix", "--solve", "--output", "--plot", "--json"):
        assert option in out
    assert "dlv tconv --input 3 --kernel 3 --stride 2" in out


@pytest.mark.parametrize(
    ("args", "rule"),
    [
        (["--input", "3", "--kernel", "3", "--stride", "2", "--output-padding", "2"], "op < max(s, d) = 2"),
        (["--input", "3", "--kernel", "3", "--stride", "2", "--output-padding", "3", "--dilation", "3"], "op < max(s, d) = 3"),
        (["--solve", "--input", "3", "--output", "7", "--kernel", "15"], "kernel 1..2·H_out = 1..14"),
        (["--solve", "--input", "3", "--output", "7", "--stride", "8"], "stride 1..H_out = 1..7"),
        (["--x", "[[1,2],[3]]", "--k", "[[1]]"], "ragged rows"),
        (["--x", "[[[1,2],[3,4]],[[1,2],[3,4]]]", "--k", "[[[[1]]],[[[1]]],[[[1]]]]"], "channel mismatch"),
        (["--x", "[[[1,2],[3,4]],[[1,2],[3,4]]]", "--k", "[[1]]"], "channel mismatch"),
        (["--input", "-3", "--kernel", "2"], "≥ 1"),
        (["--input", "3", "--kernel", "2", "--padding", "-1"], "≥ 0"),
        (["--input", "nan", "--kernel", "2"], "not a finite number"),
        (["--x", "[[1, .nan]]", "--k", "[[1]]"], "not a finite number"),
        (["--x", "[[1, 2]]", "--k", "[[inf]]"], "not a finite number"),
        (["--input", "2", "--kernel", "1", "--padding", "2"], "output must be at least 1"),
        (["--input", "3", "--kernel", "2", "--stride", "1.5"], "whole number"),
        (["--input", "3", "--kernel", "3", "--output", "7"], "add --solve"),
        (["--x", "[[1]]"], "missing --k"),
        (["--kernel", "3"], "missing --input"),
        (["--x", "[1, 2]", "--k", "[[1]]"], "expected H×W"),
        (["--x", "[[1, 2]]", "--k", "[[1]]", "--input", "3"], "does not match --x"),
        (["--input", "3", "--kernel", "2", "--plot", "out.png"], "give the values --x and --k"),
    ],
)
def test_bad_input_exits_2_with_the_rule(dlv, args, rule):
    result = dlv("tconv", *args)
    assert result.code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error:")
    assert rule in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_yaml_key_exits_2(dlv, tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("input: 3\nkernel: 2\nstrides: 2\n")
    result = dlv("tconv", "-c", config)
    assert result.code == 2 and "unknown key 'strides'" in result.stderr


def test_huge_stride_in_sizes_alone_is_answered(dlv):
    # found by the fuzz suite: stride 1e308 with sizes alone listed range(low, low + stride)
    result = dlv("tconv", "--input", "1", "--kernel", "1", "--stride", "1e308", "--dilation", "1e308", "--json")
    assert result.code == 0, result.stderr
    # H_out = (1 − 1)·s − 0 + d·(1 − 1) + 0 + 1 = 1 whatever s and d are
    assert result.json()["output_shape"] == [1, 1]
