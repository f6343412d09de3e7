"""Tolerances of sheet checks: max(tol, rtol·|expected|), exact answers by value, bad expectations.

The numbers asserted here are worked by hand in the comments (fractions, or a power and a
logarithm), not taken from dlv.
"""

from __future__ import annotations

import math
import re

import pytest

from dlvcli.sheets.checks import DEFAULT_RTOL, DEFAULT_TOL, GRADE_RTOL, compare


def test_defaults_are_the_contracts():
    assert (DEFAULT_TOL, DEFAULT_RTOL, GRADE_RTOL) == (1e-9, 1e-6, 5e-3)


@pytest.mark.parametrize(
    "expected, got, tol, rtol, ok",
    [
        (4.18e-9, 0.0, 1e-9, 1e-6, False),  # |0 − 4.18e-9| > max(1e-9, 4.18e-15)
        (6.4e-10, 0.0, 1e-9, 1e-6, True),  # below the absolute floor
        (1000.0, 1000.0009, 1e-9, 1e-6, True),  # 9e-4 ≤ 1e-6 · 1000 = 1e-3
        (1000.0, 1000.0011, 1e-9, 1e-6, False),
        (0.7532, 58 / 77, 1e-9, 5e-3, True),  # a student's 4 digits: off by 4.7e-5 ≤ 3.8e-3
        (0.75, 58 / 77, 1e-9, 5e-3, True),  # off by 3.2e-3 ≤ 5e-3 · 0.75 = 3.75e-3
        (0.74, 58 / 77, 1e-9, 5e-3, False),  # off by 1.3e-2
    ],
)
def test_tolerance_is_the_larger_of_absolute_and_relative(expected, got, tol, rtol, ok):
    result = compare(expected, got, tol, rtol)
    assert result.ok is ok
    assert result.difference == pytest.approx(abs(got - expected), rel=1e-12)
    assert result.tolerance == pytest.approx(max(tol, rtol * abs(expected)), rel=1e-12)


@pytest.mark.parametrize(
    "expected, got, ok",
    [
        ("30/44", "15/22", True),  # the same fraction: 30/44 = (2·15)/(2·22)
        ("15/22", "30/44", True),
        ("58/77", "116/154", True),
        ("58/78", "58/77", False),  # exact answers take no tolerance (they differ by 1.7e-4 relative)
        ("29/39", "58/78", True),
        (" 3 ", "6/2", True),
        ("58/77", 58 / 77, True),  # a fraction against the float
        (0.7532467532, "58/77", True),  # a float against an exact string
    ],
)
def test_exact_answers_by_value(expected, got, ok):
    assert compare(expected, got, 1e-9, 5e-3).ok is ok


def test_exact_difference_is_exact():
    result = compare("58/78", "58/77")
    # 58/77 − 58/78 = 58/(77·78) = 58/6006
    assert result.difference == pytest.approx(58 / 6006, rel=1e-15) and result.tolerance == 0.0


@pytest.mark.parametrize(
    "expected, message",
    [
        (math.nan, "'.nan' is not a finite number"),
        (math.inf, "'.inf' is not a finite number"),
        (-math.inf, "'-.inf' is not a finite number"),
        ("1/0", "'1/0' divides by zero"),
        ("abc", "'abc' is not a number"),
        ("nan", "'nan' is not a finite number"),
        (True, "True is not a number"),
        ([1, math.nan], "'.nan' is not a finite number"),
    ],
)
def test_an_expectation_that_is_not_a_number_where_one_is_due_is_an_error(expected, message):
    got = [1.0, 2.0] if isinstance(expected, list) else 0.5
    result = compare(expected, got)
    assert not result.ok and result.error is not None and message in result.error


def test_a_string_answer_is_still_compared_as_a_string():
    assert compare("11point", "11point").ok and not compare("11point", "allpoint").ok
    assert compare("11point", "allpoint").error is None


def test_lists_report_their_worst_element():
    # [1, 2] against [1.0, 2.5]: the second element is 0.5 out with tolerance max(1e-9, 2e-6)
    result = compare([1, 2], [1.0, 2.5])
    assert not result.ok and result.difference == 0.5 and result.tolerance == pytest.approx(2e-6)


# ------------------------------------------------------------------ through dlv solve

FOCAL_SHEET = """\
- id: paper-p096-g5
  command: focal
  p: 0.96
  gamma: 5
  expect:
    rows.0.fl: {fl}
    rows.0.modulating_factor: {mf}
"""


def _fl() -> tuple[float, float]:
    # FL = (1 − 0.96)^5 · (−ln 0.96) = 1.024e-7 · 0.040822… ≈ 4.18e-9 (α absent: α_t = 1)
    factor = 0.04**5
    return factor * -math.log(0.96), factor


def test_small_answers_are_checked(dlv, tmp_path):
    fl, mf = _fl()
    assert f"{fl:.3g}" == "4.18e-09"
    good = tmp_path / "good.yaml"
    good.write_text(FOCAL_SHEET.format(fl=repr(fl), mf=repr(mf)), encoding="utf-8")
    assert dlv("solve", good).code == 0
    tampered = tmp_path / "tampered.yaml"
    tampered.write_text(FOCAL_SHEET.format(fl="0", mf=repr(mf)), encoding="utf-8")
    r = dlv("solve", tampered, "--json")
    assert r.code == 3
    (check,) = [c for p in r.json()["problems"] for c in p["checks"] if not c["ok"]]
    assert check["key"] == "rows.0.fl" and check["difference"] == pytest.approx(fl) and check["tolerance"] == 1e-9


def test_tampered_generated_focal_sheet_exits_3(dlv, tmp_path):
    """A generated sheet whose small fl expectation is set to 0 no longer holds."""
    for seed in range(1, 40):
        text = dlv("generate", "focal", "--seed", seed, "--count", 5).stdout
        small = re.search(r"^    (rows\.\d+\.fl): (\d\.\d+e-0[6-9])$", text, flags=re.M)
        if small:
            break
    else:
        pytest.fail("no generated focal answer between 1e-9 and 1e-5")
    tampered = tmp_path / "focal.yaml"
    tampered.write_text(text.replace(small.group(0), f"    {small.group(1)}: 0"), encoding="utf-8")
    assert dlv("solve", tmp_path / "focal.yaml").code == 3
    original = tmp_path / "original.yaml"
    original.write_text(text, encoding="utf-8")
    assert dlv("solve", original).code == 0


def test_ap_exact_fraction_equal_by_value(dlv, tmp_path):
    # TP, FP, TP with 2 ground-truth objects: 11-point AP; recall 1/2 at precision 1, recall 1
    # at precision 2/3: levels 0..0.5 (6) at 1, 0.6..1 (5) at 2/3: (6 + 10/3)/11 = 28/33 = 56/66
    sheet = tmp_path / "ap.yaml"
    sheet.write_text(
        "- id: ap\n  command: interp-ap\n  tp: [1, 0, 1]\n  num-gt: 2\n  exact: true\n"
        "  expect:\n    classes.0.ap_exact: 56/66\n    map: 28/33\n",
        encoding="utf-8",
    )
    assert dlv("solve", sheet).code == 0
    assert dlv("solve", sheet.with_name("ap.yaml"), "--json").json()["problems"][0]["checks"][0]["ok"] is True


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", "'1/0'", "abc", "true"])
def test_non_finite_expectation_is_a_bad_sheet(dlv, tmp_path, value):
    sheet = tmp_path / "s.yaml"
    sheet.write_text(f"- id: q1\n  command: tconv\n  input: 3\n  kernel: 2\n  expect:\n    output_shape.0: {value}\n", encoding="utf-8")
    r = dlv("solve", sheet)
    assert r.code == 2
    assert re.search(rf"error: problem 'q1': .*line 6: expect key 'output_shape.0': the expected value .*(not|divides by zero)", r.stderr)


def test_failures_only(dlv, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    sheet = tmp_path / "s.yaml"
    # H_out = (3 − 1)·1 + (2 − 1) + 1 = 4
    sheet.write_text(
        "- id: right\n  command: tconv\n  input: 3\n  kernel: 2\n  expect:\n    output_shape: [4, 4]\n"
        "- id: wrong\n  command: tconv\n  input: 3\n  kernel: 2\n  expect:\n    output_shape.0: 4\n    output_shape.1: 5\n",
        encoding="utf-8",
    )
    r = dlv("solve", sheet, "--failures-only")
    assert r.code == 3
    body = [line for line in r.stdout.splitlines() if line.startswith("│")]
    assert len(body) == 1 and "wrong" in body[0] and "output_shape.1" in body[0]
    assert "│          1 │      5e−6 │" in body[0]  # |4 − 5| and max(1e-9, 1e-6 · 5), U+2212 in text
    full = dlv("solve", sheet).stdout  # without --failures-only: all checks, then the differing one again
    assert "Answers that differ" in full and full.count("output_shape.1") == 3  # two tables and the summary
    doc = dlv("solve", sheet, "--failures-only", "--json").json()
    assert [p["id"] for p in doc["problems"]] == ["wrong"]
    assert [c["key"] for c in doc["problems"][0]["checks"]] == ["output_shape.1"]
    assert doc["summary"]["checks"] == 3
    md = dlv("solve", sheet, "--failures-only", "--format", "markdown").stdout
    assert "| difference | tolerance |" in md and "| $1$ | $5 \\times 10^{-6}$ |" in md
