"""``dlv focal`` through the real entry point: JSON keys (docs/focal.md), text, config, samples, errors."""

from __future__ import annotations

import math

import pytest

from tests.conftest import SAMPLES

ROW_KEYS = {"p_t", "target", "gamma", "alpha", "alpha_t", "ce", "fl", "modulating_factor", "ratio", "dfl_dlogit"}
DATASET_KEYS = {"gamma", "n", "ce_mean", "fl_mean", "easy_share_ce", "easy_share_fl"}
ENVELOPE = {"command", "dlv_version", "inputs", "warnings"}


def test_json_keys_and_the_papers_ratio(dlv):
    r = dlv("focal", "--p", "0.9", "--json")
    assert r.code == 0 and r.stderr == ""
    doc = r.json()
    assert set(doc) == ENVELOPE | {"rows"} and doc["command"] == "focal"
    assert [row["gamma"] for row in doc["rows"]] == [0, 0.5, 1, 2, 5]
    for row in doc["rows"]:
        assert set(row) == ROW_KEYS
        assert row["alpha"] is None and row["alpha_t"] == 1 and row["target"] == 1 and row["p_t"] == 0.9
    assert doc["rows"][0]["fl"] == doc["rows"][0]["ce"] == -math.log(0.9)
    assert doc["rows"][3]["ratio"] == pytest.approx(100, rel=1e-12)
    assert doc["inputs"] == {"file": None, "p": [0.9], "logit": None, "target": 1, "gamma": [0, 0.5, 1, 2, 5], "alpha": None}
    assert doc["warnings"] == []


def test_text_is_a_worked_solution(dlv):
    r = dlv("focal", "--p", "0.9", "--gamma", "0", "--gamma", "2")
    assert r.code == 0, r.stderr
    out = r.stdout
    for piece in ("p_t = p  (target 1) = 0.9", "CE = −ln p_t = −ln 0.9 = 0.1054", "(1 − p_t)^γ = (1 − 0.9)^2 = 0.01",
                  "= 100", "∂FL/∂z", "identical to the last bit"):
        assert piece in out, piece


def test_logits_negative_target_alpha(dlv):
    doc = dlv("focal", "--logit", "-2", "--logit", "0,3", "--target", "0", "--alpha", "0.25", "--gamma", "2", "--json").json()
    assert len(doc["rows"]) == 3 and doc["inputs"]["logit"] == [-2, 0, 3]
    for z, row in zip((-2, 0, 3), doc["rows"]):
        p_t = 1 / (1 + math.exp(z))  # 1 − σ(z) for a negative
        assert row["p_t"] == pytest.approx(p_t, rel=1e-14) and row["alpha_t"] == 0.75 and row["alpha"] == 0.25
        assert row["fl"] == pytest.approx(0.75 * (1 - p_t) ** 2 * -math.log(p_t), rel=1e-12)


def test_huge_logits_stay_finite_and_an_infinite_ratio_is_null_with_a_warning(dlv):
    r = dlv("focal", "--logit", "1000", "--logit", "-1000", "--gamma", "2", "--json")
    assert r.code == 0
    doc = r.json()
    right, wrong = doc["rows"]
    assert right["ce"] == 0 and right["fl"] == 0 and right["ratio"] is None and right["dfl_dlogit"] == 0
    assert wrong["ce"] == 1000 and wrong["dfl_dlogit"] == -1
    assert any("rows.0.ratio" in w for w in doc["warnings"])


def test_dataset_mode(dlv):
    r = dlv("focal", SAMPLES / "focal_dataset.csv", "--gamma", "0", "--gamma", "2", "--json")
    assert r.code == 0, r.stderr
    doc = r.json()
    assert set(doc) == ENVELOPE | {"rows", "dataset"}
    assert [set(d) for d in doc["dataset"]] == [DATASET_KEYS] * 2
    n = doc["dataset"][0]["n"]
    assert len(doc["rows"]) == 2 * n
    ce = [row["ce"] for row in doc["rows"][::2]]
    assert doc["dataset"][0]["ce_mean"] == pytest.approx(sum(ce) / n, rel=1e-12)
    assert doc["dataset"][1]["easy_share_fl"] < doc["dataset"][1]["easy_share_ce"]
    text = dlv("focal", SAMPLES / "focal_dataset.csv").stdout
    assert "easy share of FL" in text and "of the focal loss at γ = 2" in text


def test_stdin_and_logit_column(dlv):
    r = dlv("focal", "-", "--gamma", "2", "--json", stdin="id,target,logit\na,1,2\nb,0,-3\n")
    assert r.code == 0, r.stderr
    assert [row["target"] for row in r.json()["rows"]] == [1, 0]


def test_markdown_has_latex(dlv):
    r = dlv("focal", "--p", "0.9", "--gamma", "2", "--format", "markdown")
    assert r.code == 0
    # the LaTeX comes from the same expression tree as the text (dlvcli.render.expr.LatexPrinter)
    assert r"\mathrm{FL} = \alpha_t \cdot {\left(1 - p_t\right)}^{\gamma} \cdot \mathrm{CE} = 1 \cdot 0.01 \cdot 0.1054 = 0.00105$" in r.stdout
    assert "| 2 |" in r.stdout


def test_config_and_command_line_override(dlv):
    doc = dlv("focal", "-c", SAMPLES / "focal_paper.yaml", "--gamma", "1", "--json").json()
    assert len(doc["rows"]) == 1 and doc["rows"][0]["ratio"] == pytest.approx(10)


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("focal_*.yaml")) + sorted(SAMPLES.glob("focal_*.csv")), ids=lambda p: p.name)
def test_every_sample_runs(dlv, path):
    r = dlv("focal", "-c", path) if path.suffix == ".yaml" else dlv("focal", path)
    assert r.code == 0, r.stderr
    assert "FL" in r.stdout


def test_plot(dlv, tmp_path):
    target = tmp_path / "focal.png"
    r = dlv("focal", "--p", "0.9", "--plot", target)
    assert r.code == 0 and target.stat().st_size > 1000 and "Plot written" in r.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["--p", "1.5"], "outside (0, 1)"),
        (["--p", "0"], "outside (0, 1)"),
        (["--p", "1"], "outside (0, 1)"),
        (["--p", "nan"], "not a finite number"),
        (["--logit", "inf"], "not a finite number"),
        (["--p", "0.9", "--gamma", "-1"], "γ ≥ 0"),
        (["--p", "0.9", "--alpha", "1.5"], "α in [0, 1]"),
        (["--p", "0.9", "--alpha", "-0.1"], "α in [0, 1]"),
        (["--p", "0.9", "--target", "2"], "--target"),
        (["--p", "0.9", "--logit", "1"], "not both"),
        ([], "missing predictions"),
    ],
)
def test_bad_input_exits_2(dlv, args, message):
    r = dlv("focal", *args)
    assert r.code == 2
    assert r.stderr.startswith("error:") and message in r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""


@pytest.mark.parametrize(
    "content, message",
    [
        ("target,p\n1,0.5\n0,1.0\n", "line 3, column 'p'"),
        ("target,p\n1,0.5\n2,0.3\n", "line 3, column 'target'"),
        ("target,logit\n1,nan\n", "line 2, column 'logit'"),
        ("target,p\n1,0.5,7\n", "line 2: 3 fields"),
        ("target\n1\n", "missing column 'p' or 'logit'"),
    ],
)
def test_bad_dataset_names_the_place(dlv, tmp_path, content, message):
    path = tmp_path / "data.csv"
    path.write_text(content)
    r = dlv("focal", path)
    assert r.code == 2 and r.stderr.startswith("error:") and message in r.stderr and "Traceback" not in r.stderr


def test_the_full_precision_statement_uses_the_text_minus(dlv):
    # p = sigmoid(−30) ≈ 9.36e−14 with target 0: CE = −ln(1 − p) ≈ 9.36e−14, printed at full
    # precision; its exponent's sign is U+2212 like every other minus in text
    text = dlv("focal", "--logit", "-30", "--target", "0", "--gamma", "0").stdout
    statement = next(line for line in text.splitlines() if line.startswith("γ = 0 without α"))
    assert "e\u221214" in statement and "e-" not in statement
