"""``dlv solve`` through the real entry point: the course sheet, wrong answers, bad sheets.

The expected values in ``sample_inputs/sheet.yaml`` were worked out without dlv; the
first tests here recompute them from their definitions (fractions, plain-Python loops,
central differences) so that the sheet cannot drift into agreeing with a bug.
"""

from __future__ import annotations

import json
import math
import shutil
from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from tests.conftest import SAMPLES

SHEET = SAMPLES / "sheet.yaml"


def sheet_problems() -> dict[str, dict]:
    return {p["id"]: p for p in yaml.safe_load(SHEET.read_text(encoding="utf-8"))}


# ------------------------------------------------------------ the sheet's answers, independently


def _ap_by_definition(tp: list[int], num_gt: int, method: str) -> Fraction:
    """Interpolated AP with exact fractions, straight from the definitions (docs/interp-ap.md)."""
    hits = 0
    points = []  # (recall, precision) at every rank
    for rank, t in enumerate(tp, start=1):
        hits += t
        points.append((Fraction(hits, num_gt), Fraction(hits, rank)))

    def envelope(r: Fraction) -> Fraction:
        return max((p for rec, p in points if rec >= r), default=Fraction(0))

    if method == "11point":
        return sum(envelope(Fraction(i, 10)) for i in range(11)) / 11
    area, previous = Fraction(0), Fraction(0)
    for recall in sorted({rec for rec, _ in points}):
        area += (recall - previous) * envelope(recall)
        previous = recall
    return area


def test_sheet_ap_answers_are_the_course_fractions():
    tp = [1, 1, 0, 0, 0, 1, 1, 0, 0, 1]  # the course's table: TP at ranks 1, 2, 6, 7, 10
    problems = sheet_problems()
    assert _ap_by_definition(tp, 5, "11point") == Fraction(58, 77)
    assert _ap_by_definition(tp, 5, "allpoint") == Fraction(51, 70)
    assert problems["ap-11point"]["expect"]["classes.0.ap_exact"] == "58/77"
    assert problems["ap-11point"]["expect"]["map"] == pytest.approx(58 / 77, abs=1e-15)
    assert problems["ap-allpoint"]["expect"]["map"] == pytest.approx(51 / 70, abs=1e-15)


def _bptt_loss(U: float, W: float, V: float, xs: list[float], ys: list[float], h0: float = 0.0) -> float:
    h, loss = h0, 0.0
    for x, y in zip(xs, ys):
        h = math.tanh(U * x + W * h)
        loss += 0.5 * (V * h - y) ** 2
    return loss


def test_sheet_bptt_answers_match_central_differences():
    p = sheet_problems()["bptt-course"]
    U, W, V, xs, ys = p["U"], p["W"], p["V"], p["x"], p["y"]
    expect = p["expect"]
    assert expect["loss"] == pytest.approx(_bptt_loss(U, W, V, xs, ys), abs=1e-14)
    assert expect["forward.0.h"] == pytest.approx(math.tanh(0.5), abs=1e-15)
    eps = 1e-6
    for name, args in (("U", (U, W, V)), ("W", (U, W, V)), ("V", (U, W, V))):
        i = "UWV".index(name)
        plus, minus = list(args), list(args)
        plus[i] += eps
        minus[i] -= eps
        numeric = (_bptt_loss(*plus, xs, ys) - _bptt_loss(*minus, xs, ys)) / (2 * eps)
        assert expect[f"grads.{name}"] == pytest.approx(numeric, abs=1e-8)


def test_sheet_focal_answers_are_the_papers():
    expect = sheet_problems()["focal-paper"]["expect"]
    ce = -math.log(0.9)
    assert expect["rows.0.ce"] == pytest.approx(ce, abs=1e-15)
    assert expect["rows.3.fl"] == pytest.approx(0.1**2 * ce, abs=1e-15)
    assert expect["rows.3.ratio"] == 100  # Lin et al.: "100× lower loss" at p_t = 0.9, γ = 2


def test_sheet_box_answers_by_formula():
    expect = sheet_problems()["box-course"]["expect"]
    v = 4 / math.pi**2 * (math.atan(4 / 4) - math.atan(2 / 4)) ** 2
    assert expect["pairs.0.giou"] == pytest.approx(-5 / 63, abs=1e-15)
    assert expect["pairs.1.diou"] == 35 / 64
    assert expect["pairs.2.diou"] == pytest.approx(-41 / 130, abs=1e-15)
    assert expect["pairs.2.ciou"] == pytest.approx(-41 / 130 - v / (1 + v) * v, abs=1e-14)


def test_sheet_tconv_answer_by_scattering():
    p = sheet_problems()["tconv-matrix"]
    x, k = p["x"], p["k"]
    out = [[0] * 3 for _ in range(3)]
    for i in range(2):
        for j in range(2):
            for a in range(2):
                for b in range(2):
                    out[i + a][j + b] += x[i][j] * k[a][b]
    assert p["expect"]["output"] == out


# ------------------------------------------------------------ dlv solve on the course sheet


def test_course_sheet_holds(dlv):
    r = dlv("solve", SHEET)
    assert r.code == 0, r.stdout + r.stderr
    assert "7 problems, 38 answers checked: all hold." in r.stdout
    assert "✗" not in r.stdout and r.stderr == ""


def test_course_sheet_json(dlv):
    r = dlv("solve", SHEET, "--json")
    assert r.code == 0 and r.stderr == ""
    doc = r.json()  # exactly one JSON document on stdout
    assert {"command", "dlv_version", "inputs", "warnings", "problems"} <= set(doc)
    assert doc["command"] == "solve" and doc["ok"] is True
    first = doc["problems"][0]
    assert set(first) >= {"id", "command", "ok", "result", "checks"}
    assert first["id"] == "ap-11point" and first["command"] == "interp-ap" and first["ok"] is True
    assert first["result"]["command"] == "interp-ap" and first["result"]["map_exact"] == "58/77"
    check = first["checks"][0]
    assert {k: check[k] for k in ("key", "expected", "got", "ok")} == {"key": "map", "expected": 0.7532467532467533, "got": 58 / 77, "ok": True}
    # the problem sets tol 1e-12 and keeps the default rtol 1e-6: max(1e-12, 1e-6 · 58/77)
    assert check["difference"] == abs(58 / 77 - 0.7532467532467533) and check["tolerance"] == pytest.approx(1e-6 * 58 / 77, rel=1e-12)
    assert [p["id"] for p in doc["problems"]] == list(sheet_problems())


def _copy_sheet(tmp_path: Path, text: str) -> Path:
    shutil.copy(SAMPLES / "interp_ap_course.csv", tmp_path / "interp_ap_course.csv")
    path = tmp_path / "sheet.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_one_wrong_answer_exits_3_naming_problem_and_key(dlv, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # wide enough that no cell folds
    text = SHEET.read_text(encoding="utf-8")
    wrong = text.replace("    grads.W: -0.14196270925963742\n", "    grads.W: -0.1419\n")
    assert wrong != text
    path = _copy_sheet(tmp_path, wrong)
    r = dlv("solve", path)
    assert r.code == 3
    assert "1 differs: problem 'bptt-course' key 'grads.W'" in r.stdout
    lines = r.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if "grads.W" in line)
    row = lines[at]
    # a table row names the problem; the stacked layout (narrower consoles) names it above
    problem = row if "│" in row else next(line for line in reversed(lines[:at]) if not line.startswith(" "))
    assert "bptt-course" in problem and "✗" in row and "−0.1419" in row  # the text minus is U+2212
    assert "−0.141962709259637" in row  # a differing value is shown at full precision
    # then again with the difference and the tolerance: max(1e-12 (the problem's tol), 1e-6 · 0.1419)
    detail = r.stdout.split("Answers that differ", 1)[1]
    row = next(line for line in detail.splitlines() if "grads.W" in line)
    def shown(x: float) -> str:  # 3 significant digits, the exponent as dlv writes it: 6.27e−5
        mantissa, exponent = f"{x:.2e}".split("e")
        return f"{mantissa}e{int(exponent)}".replace("-", "\u2212")

    assert shown(abs(-0.14196270925963742 + 0.1419)) in row and shown(1e-6 * 0.1419) in row
    doc = dlv("solve", path, "--json").json()
    bad = [(p["id"], c["key"]) for p in doc["problems"] for c in p["checks"] if not c["ok"]]
    assert bad == [("bptt-course", "grads.W")]
    assert doc["ok"] is False and doc["summary"]["differs"] == 1


def test_a_failing_problem_does_not_stop_the_others(dlv, tmp_path):
    sheet = tmp_path / "s.yaml"
    sheet.write_text(
        "- id: wrong\n  command: tconv\n  input: 3\n  kernel: 3\n  stride: 2\n  expect: {output_shape: [6, 6]}\n"
        "- id: broken\n  command: tconv\n  strides: 2\n"
        "- id: right\n  command: tconv\n  input: 3\n  kernel: 3\n  stride: 2\n  expect: {output_shape: [7, 7]}\n",
        encoding="utf-8",
    )
    r = dlv("solve", sheet, "--json")
    assert r.code == 2  # a bad problem outranks a wrong answer
    status = {p["id"]: p["status"] for p in r.json()["problems"]}
    assert status == {"wrong": "differs", "broken": "bad", "right": "ok"}


def test_tolerances_per_problem(dlv, tmp_path):
    sheet = tmp_path / "s.yaml"
    sheet.write_text(
        "- id: loose\n  command: box-compare\n  a: [0, 0, 4, 4]\n  b: [2, 2, 6, 6]\n  expect: {pairs.0.iou: 0.14}\n  tol: 0.01\n"
        "- id: relative\n  command: box-compare\n  a: [0, 0, 4, 4]\n  b: [2, 2, 6, 6]\n  expect: {pairs.0.union: 28.1}\n  rtol: 0.01\n"
        "- id: fraction\n  command: box-compare\n  a: [0, 0, 4, 4]\n  b: [2, 2, 6, 6]\n  expect: {pairs.0.iou: 1/7, pairs.0.giou: -5/63}\n",
        encoding="utf-8",
    )
    r = dlv("solve", sheet)
    assert r.code == 0, r.stdout + r.stderr


def test_sheet_from_stdin_takes_paths_from_the_current_folder(dlv, monkeypatch):
    monkeypatch.chdir(SAMPLES)
    text = "- id: q\n  command: interp-ap\n  file: interp_ap_course.csv\n  num-gt: 5\n  expect: {map: 58/77}\n"
    r = dlv("solve", "-", stdin=text)
    assert r.code == 0, r.stderr
    assert "<stdin>: 1 problem" in r.stdout


def test_show_prints_the_worked_solution(dlv):
    r = dlv("solve", SHEET, "--show", "ap-11point")
    assert r.code == 0
    assert "58/77 ≈ 0.7532" in r.stdout and "p_interp(r)" in r.stdout  # interp-ap's own derivation
    assert "1 problem, 5 answers checked: all hold." in r.stdout
    assert "bptt-course" not in r.stdout


def test_show_markdown_and_digits(dlv):
    r = dlv("solve", SHEET, "--show", "focal-paper", "--format", "markdown", "--digits", "6")
    assert r.code == 0
    assert r.stdout.startswith("### Problem `focal-paper` (focal)")
    assert "0.105361" in r.stdout and "| focal-paper | focal | `rows.3.ratio` | $100$ | $100$ | ✓ |" in r.stdout  # numbers as math (§8.1)


def test_show_unknown_id_is_an_error(dlv):
    r = dlv("solve", SHEET, "--show", "q99")
    assert r.code == 2
    assert r.stderr.startswith("error:") and "q99" in r.stderr and "ap-11point" in r.stderr


def test_solve_reads_its_options_from_config(dlv, tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text(f"file: {SHEET}\nshow: tconv-size\n", encoding="utf-8")
    r = dlv("solve", "-c", config)
    assert r.code == 0 and "Output size: 7×7" in r.stdout


# ------------------------------------------------------------ bad sheets: exit 2, problem id and key named

BAD_PROBLEMS = [
    ("- id: q1\n  command: interp-apx\n  file: x.csv\n", "problem 'q1'", "unknown command 'interp-apx'", "key 'command'"),
    ("- id: q2\n  command: tconv\n  input: 3\n  kernl: 3\n", "problem 'q2'", "unknown key 'kernl'", "bad.yaml, line 9"),
    ("- id: q3\n  command: interp-ap\n  file: nowhere.csv\n  num-gt: 5\n", "problem 'q3'", "no such file", "key 'file'"),
    (
        "- id: q4\n  command: tconv\n  input: 3\n  kernel: 3\n  expect:\n    output_shape: [5, 5]\n    output_size: 5\n",
        "problem 'q4'",
        "expect key 'output_size'",
        "bad.yaml, line 12",
    ),
    ("- id: q5\n  command: tconv\n  input: 3\n  kernel: 3\n  expect:\n    output_shape.2: 5\n", "problem 'q5'", "index 2 is out of range", "output_shape.2"),
    ("- id: q6\n  command: interp-ap\n  file: '-'\n  num-gt: 5\n", "problem 'q6'", "standard input", "key 'file'"),
    ("- id: q7\n  command: tconv\n  input: 3\n  kernel: 3\n  tol: -1\n", "problem 'q7'", "key 'tol'", "≥ 0"),
    ("- id: q8\n  command: tconv\n  expect: [output_shape]\n", "problem 'q8'", "key 'expect'", "mapping"),
    ("- command: tconv\n  input: 3\n", "problem '#2'", "no 'id'", "bad.yaml, line 6"),
    ("- id: q10\n  command: tconv\n  input: 0\n", "problem 'q10'", "input", ""),  # the command's own input check
    ("- id: q11\n  input: 3\n", "problem 'q11'", "no 'command'", ""),
    ("- id: q12\n  command: tconv\n  input: 3\n  kernel: 3\n  show-matrix: maybe\n", "problem 'q12'", "show-matrix", "true or false"),
]


@pytest.mark.parametrize("text, who, what, where", BAD_PROBLEMS, ids=[f"q{i + 1}" for i in range(len(BAD_PROBLEMS))])
def test_bad_problem_exits_2_naming_id_and_key(dlv, tmp_path, text, who, what, where):
    sheet = tmp_path / "bad.yaml"
    # the good problem takes lines 1–5, so the bad one starts at line 6
    good = "- id: fine\n  command: tconv\n  input: 2\n  kernel: 2\n  expect: {output_shape: [3, 3]}\n"
    sheet.write_text(good + text, encoding="utf-8")
    r = dlv("solve", sheet)
    assert r.code == 2, r.stdout + r.stderr
    assert r.stderr.startswith("error: "), r.stderr
    message = r.stderr.splitlines()[0]
    assert who in message and what in message and where in message, message
    assert "Traceback" not in r.stderr
    doc = dlv("solve", sheet, "--json").json()
    assert doc["problems"][0]["ok"] is True  # the good problem was still solved
    assert doc["problems"][1]["ok"] is False and doc["problems"][1]["id"] == who.split()[-1].strip("'")


def test_duplicate_ids(dlv, tmp_path):
    sheet = tmp_path / "dup.yaml"
    sheet.write_text("- id: a\n  command: tconv\n  input: 2\n  kernel: 2\n- id: a\n  command: tconv\n  input: 2\n  kernel: 2\n")
    r = dlv("solve", sheet)
    assert r.code == 2 and "problem 'a'" in r.stderr and "line 5: key 'id'" in r.stderr and "unique" in r.stderr


@pytest.mark.parametrize(
    "text, message",
    [
        ("id: q1\ncommand: tconv\n", "a sheet is a YAML list of problems, got a dict"),
        ("- id: [\n", "invalid YAML"),
        ("", "the sheet is empty"),
        ("[]\n", "the sheet has no problems"),
    ],
)
def test_sheet_that_is_not_a_list_of_problems(dlv, tmp_path, text, message):
    sheet = tmp_path / "s.yaml"
    sheet.write_text(text, encoding="utf-8")
    r = dlv("solve", sheet)
    assert r.code == 2 and r.stdout == ""
    assert r.stderr.startswith(f"error: {sheet}") and message in r.stderr


def test_missing_sheet_file(dlv, tmp_path):
    r = dlv("solve", tmp_path / "none.yaml")
    assert r.code == 2 and "no such file" in r.stderr


def test_json_stdout_is_one_document_even_when_problems_fail(dlv, tmp_path):
    sheet = tmp_path / "s.yaml"
    sheet.write_text(
        "- id: a\n  command: nope\n- id: b\n  command: tconv\n  input: 2\n  kernel: 2\n  expect: {output_shape: [4, 4]}\n", encoding="utf-8"
    )
    r = dlv("solve", sheet, "--json")
    assert r.code == 2
    doc = json.loads(r.stdout)
    assert doc["summary"] == {"problems": 2, "ok": 0, "differs": 1, "bad": 1, "fault": 0, "checks": 1, "checks_failed": 1}
    assert doc["problems"][0]["error"].startswith(f"{sheet}, line 2: key 'command'")
    # the worst element differs by 1; its tolerance is max(1e-9, 1e-6 · 4)
    assert doc["problems"][1]["checks"] == [
        {"key": "output_shape", "expected": [4, 4], "got": [3, 3], "ok": False, "difference": 1.0, "tolerance": 4e-6}
    ]


def test_internal_fault_in_one_problem_exits_1_and_the_rest_are_solved(dlv, tmp_path, monkeypatch):
    import dlvcli.core.tconv as core

    sheet = tmp_path / "s.yaml"
    sheet.write_text(
        "- id: boxes\n  command: box-compare\n  a: [0, 0, 4, 4]\n  b: [2, 2, 6, 6]\n  expect: {pairs.0.iou: 1/7}\n"
        "- id: conv\n  command: tconv\n  x: [[1]]\n  k: [[1]]\n",
        encoding="utf-8",
    )
    names = [n for n in dir(core) if callable(getattr(core, n)) and not n.startswith("_")]

    def broken(*args, **kwargs):
        raise ZeroDivisionError("simulated")

    for name in names:  # whatever tconv calls in its core fails
        monkeypatch.setattr(core, name, broken)
    r = dlv("solve", sheet, "--json")
    assert r.code == 1
    doc = r.json()
    assert [p["status"] for p in doc["problems"]] == ["ok", "fault"]
    assert "internal error: ZeroDivisionError: simulated" in r.stderr and "Traceback" not in r.stderr
    r = dlv("solve", sheet, "--debug")
    assert r.code == 1 and "Traceback" in r.stderr
