"""``dlv grade``: a class of 30 with their own variants of every command, graded and explained.

The answers file is written here: right answers (some rounded by hand to 4 significant
digits, some fractions not in lowest terms), missing answers, and each of the ten mistakes
of the contract made by some student. The wrong values are computed in this file from the
problem's inputs (fractions for AP, logarithms for focal loss, areas for boxes, the
size formula for tconv, plain-Python loops for BPTT), never by dlv's catalogue; the
expected scores are counted here too.
"""

from __future__ import annotations

import csv
import json
import math
from fractions import Fraction

import numpy as np
import pytest
import yaml

COMMANDS = ("interp-ap", "bptt", "focal", "box-compare", "tconv")
STUDENTS = [f"s{i:02d}" for i in range(1, 31)]
SEED = 2026


# ---------------------------------------------------------------------------- independent answers


def _ranked_tp(problem: dict) -> list[int]:
    tp = [int(t) for t in problem["tp"]]
    if "score" not in problem:
        return tp
    order = sorted(range(len(tp)), key=lambda i: -problem["score"][i])  # stable: ties keep list order
    return [tp[i] for i in order]


def _points(tp: list[int], num_gt: int) -> list[tuple[Fraction, Fraction, float]]:
    hits, out = 0, []
    for rank, t in enumerate(tp, start=1):
        hits += t
        out.append((Fraction(hits, num_gt), Fraction(hits, rank), hits / num_gt))
    return out


def ap_values(problem: dict) -> dict[str, Fraction]:
    """The 11-point AP and the four 11-point mistakes of the contract, by definition."""
    points = _points(_ranked_tp(problem), problem["num-gt"])
    envelope = [max((p for r, p, _ in points if r >= Fraction(j, 10)), default=Fraction(0)) for j in range(11)]
    floats = np.arange(0, 1.1, 0.1)
    float_env = [max((p for _, p, rf in points if rf >= level), default=Fraction(0)) for level in floats]
    first = [next((p for r, p, _ in points if r >= Fraction(j, 10)), Fraction(0)) for j in range(11)]
    area, previous = Fraction(0), Fraction(0)
    for recall in sorted({r for r, _, _ in points}):
        area += (recall - previous) * max(p for r, p, _ in points if r >= recall)
        previous = recall
    return {
        "right": sum(envelope) / 11,
        "allpoint_instead_of_11point": area,
        "divided_by_10": sum(envelope) / 10,
        "float_recall_levels": sum(float_env) / 11,
        "no_interpolation": sum(first) / 11,
    }


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def focal_rows(problem: dict) -> list[dict]:
    """Per (prediction, γ): p_t, α_t, FL and the two focal mistakes (log base 10; α for a negative)."""
    ps = problem["p"] if "p" in problem else [_sigmoid(z) for z in problem["logit"]]
    target, alpha = problem["target"], problem.get("alpha")
    rows = []
    for p in ps:
        p_t = p if target == 1 else 1 - p
        alpha_t = 1.0 if alpha is None else (alpha if target == 1 else 1 - alpha)
        for g in problem["gamma"]:
            factor = (1 - p_t) ** g
            rows.append({
                "fl": alpha_t * factor * -math.log(p_t),
                "log10": alpha_t * factor * -math.log10(p_t),
                "alpha_not_flipped": None if alpha is None or target == 1 else alpha * factor * -math.log(p_t),
            })
    return rows


def _xyxy(text: str, fmt: str) -> list[float]:
    v = [float(t) for t in text.split(",")]
    if fmt == "xywh":
        return [v[0], v[1], v[0] + v[2], v[1] + v[3]]
    if fmt == "cxcywh":
        return [v[0] - v[2] / 2, v[1] - v[3] / 2, v[0] + v[2] / 2, v[1] + v[3] / 2]
    return v


def box_pairs(problem: dict) -> list[dict]:
    fmt = problem.get("box-format", "xyxy")
    a = _xyxy(problem["a"], fmt)
    out = []
    for text in problem["b"]:
        b = _xyxy(text, fmt)
        inter = max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
        areas = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])
        out.append({"iou": inter / (areas - inter), "union_as_sum": inter / areas})
    return out


def conv_size(problem: dict) -> list[int]:
    """The direct convolution's output size ⌊(H + 2p − d(k − 1) − 1)/s⌋ + 1 on each axis."""
    sizes = (len(problem["x"]), len(problem["x"][0])), (len(problem["k"]), len(problem["k"][0]))
    s, p, d = problem["stride"], problem.get("padding", 0), problem.get("dilation", 1)
    return [(sizes[0][i] + 2 * p - d * (sizes[1][i] - 1) - 1) // s + 1 for i in range(2)]


def bptt_grads(problem: dict, derivative: bool = True, last_only: bool = False) -> tuple[float, float]:
    """∂E/∂W, ∂E/∂U of the scalar tanh RNN (half-sse) term by term, with the mistakes' twists."""
    U, W, V = problem["U"], problem["W"], problem["V"]
    b, c = problem.get("b", 0.0), problem.get("c", 0.0)
    x, y, K = problem["x"], problem["y"], problem.get("truncate")
    h = [problem.get("h0", 0.0)]
    for xt in x:
        h.append(math.tanh(U * xt + W * h[-1] + b))
    dW = dU = 0.0
    for t in range(len(x)):
        e = V * h[t + 1] + c - y[t]
        start = t if last_only else (0 if K is None else max(0, t - K + 1))
        for k in range(start, t + 1):
            chain = e * V
            for j in range(t, k, -1):
                chain *= ((1 - h[j + 1] ** 2) if derivative else 1.0) * W
            chain *= (1 - h[k + 1] ** 2) if derivative else 1.0
            dW += chain * h[k]
            dU += chain * x[k]
    return dW, dU


# ---------------------------------------------------------------------------- the class


def _round4(value):
    if isinstance(value, list):
        return [_round4(v) for v in value]
    return float(f"{value:.4g}")


def _text(value) -> str:
    if isinstance(value, list):
        return json.dumps(value)
    return value if isinstance(value, str) else repr(value)


def _far(a: float, b: float) -> bool:
    """Apart by more than the grading tolerance (5e-3 relative) twice over."""
    return abs(a - b) > 2 * 5e-3 * max(abs(a), abs(b)) + 1e-9


def _distinct(value: float, others: list[float]) -> bool:
    return all(_far(value, o) for o in others)


@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    from dlvcli.cli import run
    import contextlib
    import io

    folder = tmp_path_factory.mktemp("class")
    roster = folder / "roster.csv"
    roster.write_text("student,name\n" + "".join(f"{s},Student {s}\n" for s in STUDENTS), encoding="utf-8")
    parts = []
    for command in COMMANDS:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert run(["generate", command, "--seed", str(SEED), "--count", "1", "--roster", str(roster)]) == 0
        parts.append(out.getvalue())
    sheet = folder / "sheet.yaml"
    sheet.write_text("\n".join(parts), encoding="utf-8")
    problems = {p["id"]: p for p in yaml.safe_load(sheet.read_text(encoding="utf-8"))}
    return folder, sheet, problems


def _plan(problems: dict) -> dict[tuple[str, str], tuple[str, object]]:
    """(student, full key) → (mistake name, wrong value): each contract mistake made by one student."""
    plan: dict[tuple[str, str], tuple[str, object]] = {}
    used: set[str] = set()

    def assign(name: str, command: str, candidates):
        for student in STUDENTS:
            if student in used:
                continue
            found = candidates(problems[f"{student}/{command}-1"])
            if found is not None:
                key, value = found
                plan[(student, f"{command}-1:{key}")] = (name, value)
                used.add(student)
                return
        pytest.fail(f"no student's variant tells {name} apart")

    def ap(name):
        def pick(p):
            if p["method"] != "11point":
                return None
            values = ap_values(p)
            others = [float(v) for k, v in values.items() if k != name]
            return ("classes.0.ap_exact", str(values[name])) if _distinct(float(values[name]), others) else None
        return pick

    for name in ("allpoint_instead_of_11point", "divided_by_10", "float_recall_levels", "no_interpolation"):
        assign(name, "interp-ap", ap(name))

    def focal(name):
        def pick(p):
            for i, row in enumerate(focal_rows(p)):
                value = row[name]
                others = [row["fl"]] + [row[k] for k in ("log10", "alpha_not_flipped") if k != name and row[k] is not None]
                if value is not None and _distinct(value, others):
                    return f"rows.{i}.fl", value
            return None
        return pick

    assign("log10", "focal", focal("log10"))
    assign("alpha_not_flipped", "focal", focal("alpha_not_flipped"))

    def boxes(p):
        for i, pair in enumerate(box_pairs(p)):
            if pair["iou"] > 0 and _far(pair["iou"], pair["union_as_sum"]):
                return f"pairs.{i}.iou", pair["union_as_sum"]
        return None

    assign("union_as_sum", "box-compare", boxes)

    def tconv(p):
        size = conv_size(p)
        right = p["expect"]["output_shape"]
        return ("output_shape", size) if min(size) >= 1 and size != right else None

    assign("conv_output_size", "tconv", tconv)

    def bptt(name):
        def pick(p):
            right = bptt_grads(p)
            twisted = bptt_grads(p, last_only=True) if name == "last_term_only" else bptt_grads(p, derivative=False)
            other = bptt_grads(p, derivative=False) if name == "last_term_only" else bptt_grads(p, last_only=True)
            key = 0 if name == "last_term_only" else 1  # W for one, U for the other
            if _distinct(twisted[key], [right[key], other[key], -right[key]]):
                return ("grads.W", twisted[0]) if key == 0 else ("grads.U", twisted[1])
            return None
        return pick

    assign("last_term_only", "bptt", bptt("last_term_only"))
    assign("missing_tanh_derivative", "bptt", bptt("missing_tanh_derivative"))
    return plan


def test_a_class_graded_with_its_mistakes_named(classroom, dlv):
    folder, sheet, problems = classroom
    plan = _plan(problems)
    assert len({name for name, _ in plan.values()}) == 10

    rows, expected_scores, kinds = [], {}, {}
    for n, student in enumerate(STUDENTS):
        score = max_score = 0
        for command in COMMANDS:
            problem = problems[f"{student}/{command}-1"]
            short = f"{command}-1"
            name = f"{student}/{short}" if n % 5 == 4 else short  # some give the whole id
            for i, (key, value) in enumerate(problem["expect"].items()):
                max_score += 1
                planned = plan.get((student, f"{short}:{key}"))
                if planned is not None:
                    rows.append((student, name, key, _text(planned[1])))
                    kinds[(student, short, key)] = ("mistake", planned[0])
                elif n % 7 == 3 and i == 0:
                    kinds[(student, short, key)] = ("missing", None)  # no row at all
                elif n % 3 == 0 and not isinstance(value, str):
                    rows.append((student, name, key, _text(_round4(value))))  # rounded by hand
                    kinds[(student, short, key)] = ("rounded", None)
                    score += 1
                elif isinstance(value, str) and n % 4 == 1:
                    f = Fraction(value)
                    rows.append((student, name, key, f"{2 * f.numerator}/{2 * f.denominator}"))  # not in lowest terms
                    kinds[(student, short, key)] = ("right", None)
                    score += 1
                else:
                    rows.append((student, name, key, _text(value)))
                    kinds[(student, short, key)] = ("right", None)
                    score += 1
        expected_scores[student] = (score, max_score)
    answers = folder / "answers.csv"
    with open(answers, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "problem", "key", "answer", "note"])
        writer.writerows([*row, ""] for row in rows)

    gradebook = folder / "grades.csv"
    r = dlv("grade", sheet, answers, "--json", "--gradebook", gradebook, "--feedback", folder / "feedback")
    assert r.code == 0, r.stderr
    doc = r.json()
    assert doc["command"] == "grade" and [s["student"] for s in doc["students"]] == STUDENTS

    named = {}
    for s in doc["students"]:
        assert (s["score"], s["max_score"]) == expected_scores[s["student"]]
        for p in s["problems"]:
            short = p["id"].split("/", 1)[1]
            for c in p["checks"]:
                kind, mistake = kinds[(s["student"], short, c["key"])]
                if kind in ("right", "rounded"):
                    assert c["ok"] is True, (s["student"], short, c)
                elif kind == "missing":
                    assert c["ok"] is False and c["got"] is None and c["mistake"] is None
                else:
                    assert c["ok"] is False and c["mistake"] is not None, (s["student"], short, c)
                    named[mistake] = c["mistake"]["name"]
                    assert c["mistake"]["explanation"]
    assert named == {name: name for name, _ in plan.values()}  # every mistake named correctly
    assert sum(kind == "rounded" for kind, _ in kinds.values()) >= 100

    with open(gradebook, encoding="utf-8", newline="") as handle:
        book = list(csv.DictReader(handle))
    assert [(b["student"], int(b["score"]), int(b["max_score"])) for b in book] == [
        (s, *expected_scores[s]) for s in STUDENTS
    ]
    # the feedback of a student with a named mistake: the mistake and their worked solutions
    (student, _), (name, _) = next(iter(plan.items()))
    text = (folder / "feedback" / f"{student}.md").read_text(encoding="utf-8")
    assert f"`{name}`" in text and "## Worked solutions" in text
    assert all(f"### Problem {c}-1 ({c})" in text for c in COMMANDS)
    assert len(list((folder / "feedback").iterdir())) == 30


def test_exact_answers_compare_by_value(dlv, tmp_path):
    # TP, FP, TP, FP with 2 objects, 11-point: levels 0–0.5 at 1, 0.6–1 at 2/3: (6 + 10/3)/11 = 28/33
    sheet = tmp_path / "s.yaml"
    sheet.write_text("- id: q\n  command: interp-ap\n  tp: [1, 0, 1, 0]\n  num-gt: 2\n  exact: true\n"
                     "  expect:\n    classes.0.ap_exact: 28/33\n", encoding="utf-8")
    answers = tmp_path / "a.csv"
    answers.write_text("student,problem,key,answer\nana,q,classes.0.ap_exact,56/66\nben,q,classes.0.ap_exact,0.8485\n"
                       "cy,q,classes.0.ap_exact,28/34\n", encoding="utf-8")
    doc = dlv("grade", sheet, answers, "--json").json()
    assert [s["score"] for s in doc["students"]] == [1, 1, 0]


@pytest.mark.parametrize(
    "answers, message",
    [
        ("student,problem,answer\nana,q,4\n", "missing column 'key'"),
        ("student,problem,key,answer\nzed,q,output_shape,\"[4, 4]\"\n", "student 'zed' is not on the sheet"),
        ("student,problem,key,answer\nana,q9,output_shape,\"[4, 4]\"\n", "no problem 'q9' for student 'ana'"),
        ("student,problem,key,answer\nana,q,shape,\"[4, 4]\"\n", "expects no key 'shape'"),
        ("student,problem,key,answer\nana,q,output_shape,four\n", "line 2, column 'answer'"),
        ("student,problem,key,answer\nana,q,output_shape.0,1/0\n", "divides by zero"),
        ("student,problem,key,answer\nana,q,output_shape,\"[4,4]\"\nana,q,output_shape,4\n", "a second answer"),
    ],
)
def test_bad_answers_files(dlv, tmp_path, answers, message):
    sheet = tmp_path / "s.yaml"
    sheet.write_text("- id: q\n  student: ana\n  command: tconv\n  input: 3\n  kernel: 2\n  expect:\n    output_shape: [4, 4]\n",
                     encoding="utf-8")
    path = tmp_path / "a.csv"
    path.write_text(answers, encoding="utf-8")
    r = dlv("grade", sheet, path, "--gradebook", tmp_path / "g.csv")
    assert r.code == 2 and r.stderr.startswith("error: ") and message in r.stderr, r.stderr
    assert not (tmp_path / "g.csv").exists()


def test_elements_of_a_list_answered_one_by_one(dlv, tmp_path):
    sheet = tmp_path / "s.yaml"
    # H_out = (3 − 1)·1 + (2 − 1) + 1 = 4 on both axes
    sheet.write_text("- id: q\n  command: tconv\n  input: 3\n  kernel: 2\n  expect:\n    output_shape: [4, 4]\n", encoding="utf-8")
    answers = tmp_path / "a.csv"
    answers.write_text("student,problem,key,answer\nana,q,output_shape.0,4\nana,q,output_shape.1,5\nben,q,output_shape,\"[4, 4]\"\n",
                       encoding="utf-8")
    doc = dlv("grade", sheet, answers, "--json").json()
    ana, ben = doc["students"]
    assert [(c["key"], c["ok"]) for c in ana["problems"][0]["checks"]] == [("output_shape.0", True), ("output_shape.1", False)]
    assert (ana["score"], ana["max_score"], ben["score"], ben["max_score"]) == (1, 2, 1, 1)


def test_a_hand_written_problem_with_a_file_is_solved_by_its_command(dlv, tmp_path):
    """Not a generated problem (a CSV file): the mistakes are found from the command's own JSON."""
    import shutil

    from tests.conftest import SAMPLES

    shutil.copy(SAMPLES / "interp_ap_course.csv", tmp_path / "course.csv")
    sheet = tmp_path / "s.yaml"
    # the course's table: 11-point AP 58/77, all-point 51/70 (its published figures)
    sheet.write_text("- id: q\n  command: interp-ap\n  file: course.csv\n  num-gt: 5\n  exact: true\n"
                     "  expect:\n    classes.0.ap_exact: 58/77\n", encoding="utf-8")
    answers = tmp_path / "a.csv"
    answers.write_text("student,problem,key,answer\nana,q,classes.0.ap_exact,51/70\nben,q,classes.0.ap_exact,0.7286\n", encoding="utf-8")
    doc = dlv("grade", sheet, answers, "--json").json()
    names = [s["problems"][0]["checks"][0]["mistake"]["name"] for s in doc["students"]]
    assert names == ["allpoint_instead_of_11point"] * 2


@pytest.mark.parametrize(
    ("option", "message"),
    [("input-size: 3", "line 3: unknown key 'input-size'"), ("input: 3\n  stride: 0", "line 4: key 'stride': 0 is below 1")],
)
def test_a_problem_dlv_cannot_solve_is_an_error_even_when_every_answer_is_right(dlv, tmp_path, option, message):
    # the answer [5, 5] is the sheet's own expect, so nothing ever needed the problem solved;
    # `dlv solve` rejects the sheet, and so must grade
    sheet = tmp_path / "s.yaml"
    sheet.write_text(f"- id: q\n  command: tconv\n  {option}\n  kernel: 3\n  expect:\n    output_shape: [5, 5]\n", encoding="utf-8")
    answers = tmp_path / "a.csv"
    answers.write_text('student,problem,key,answer\nana,q,output_shape,"[5, 5]"\n', encoding="utf-8")
    for command in (["solve", sheet], ["grade", sheet, answers]):
        r = dlv(*command)
        assert r.code == 2 and message in r.stdout + r.stderr, (command, r.stdout, r.stderr)
    assert not (tmp_path / "grades.csv").exists()


@pytest.mark.parametrize("value", [".nan", ".inf", "'1/0'", "abc"])
def test_a_bad_expectation_is_a_bad_sheet(dlv, tmp_path, value):
    sheet = tmp_path / "s.yaml"
    sheet.write_text(f"- id: q\n  command: tconv\n  input: 3\n  kernel: 2\n  expect:\n    output_shape.0: {value}\n", encoding="utf-8")
    answers = tmp_path / "a.csv"
    answers.write_text("student,problem,key,answer\nana,q,output_shape.0,4\n", encoding="utf-8")
    r = dlv("grade", sheet, answers)
    assert r.code == 2 and r.stdout == "" and "expect key 'output_shape.0'" in r.stderr, r.stderr
