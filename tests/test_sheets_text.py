"""The text of ``dlv solve`` and ``dlv grade`` at 60 and 80 columns (docs/conventions.md, "Shown numbers and widths").

* A problem's own error (no key to name: not a mapping, no id, an unknown option, a path
  outside the folder, an option the command rejects, …) is listed as
  ``error: SHEET, line N: …`` and said on stderr as ``error: problem 'ID': SHEET, line N: …``;
  N is the line of the fault, found here by the marker ``# <- here`` on that line of the
  sheet written below, not by dlv.
* ``dlv grade``'s wrong answers: every student id, problem id, key, mistake name and value
  is whole on some line (never ``conv_output_s`` / ``ize``) at 60, 80 and 120 columns, and
  no line is wider than the console.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import SAMPLES

# one problem per kind of error that has no key of ``expect``; "# <- here" marks the line the error must name
KEYLESS = """\
- 42  # <- here
- command: tconv  # <- here
  input: 3
  kernel: 3
- id: twice
  command: tconv
  input: 3
  kernel: 3
- id: twice  # <- here
  command: tconv
- id: no-command  # <- here
  input: 3
- id: bad-tol
  command: tconv
  input: 3
  kernel: 3
  tol: -1  # <- here
- id: bad-student
  command: tconv
  student: [1]  # <- here
- id: bad-expect
  command: tconv
  expect: 3  # <- here
- id: unknown-command
  command: tcon  # <- here
- id: unknown-option
  command: tconv
  input: 3
  kernl: 3  # <- here
- id: outside
  command: interp-ap
  file: ../outside.csv  # <- here
  num-gt: 1
- id: missing-file
  command: interp-ap
  file: nosuch.csv  # <- here
  num-gt: 1
- id: stdin-file
  command: interp-ap
  file: "-"  # <- here
  num-gt: 1
- id: not-a-number
  command: tconv
  input: 3
  kernel: 3
  stride: two  # <- here
- id: rejected
  command: tconv
  input: 3
  kernel: 3
  stride: 0  # <- here
"""
KEYLESS_IDS = ["#1", "#2", "twice", "no-command", "bad-tol", "bad-student", "bad-expect", "unknown-command",
               "unknown-option", "outside", "missing-file", "stdin-file", "not-a-number", "rejected"]


def _marked_lines(text: str) -> list[int]:
    return [n for n, line in enumerate(text.splitlines(), start=1) if line.endswith("# <- here")]


@pytest.fixture
def keyless_sheet(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the sheet named as a user names it: sheets/bad.yaml
    folder = tmp_path / "sheets"
    folder.mkdir()
    (tmp_path / "outside.csv").write_text("score,tp\n0.9,1\n", encoding="utf-8")
    (folder / "bad.yaml").write_text(KEYLESS, encoding="utf-8")
    return Path("sheets") / "bad.yaml"


@pytest.mark.parametrize("columns", [60, 80])
def test_an_error_without_a_key_is_one_well_formed_error_line(dlv, keyless_sheet, monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    r = dlv("solve", keyless_sheet)
    assert r.code == 2
    label = str(keyless_sheet)
    lines = _marked_lines(KEYLESS)
    assert len(lines) == len(KEYLESS_IDS)  # the duplicate's first problem is fine: 13 bad ones, #1 … rejected
    said = r.stderr.splitlines()
    for problem_id, line in zip(KEYLESS_IDS, lines):
        # stderr: one line per problem, with the sheet and the line of the fault
        assert f"error: problem {problem_id!r}: {label}, line {line}: " in said[KEYLESS_IDS.index(problem_id)]
    assert len(said) == len(KEYLESS_IDS)
    # the listing: under the problem's heading, "error: SHEET, line N: …"
    out = r.stdout.splitlines()
    assert not any("—:" in line for line in out)
    assert all(len(line.rstrip()) <= columns for line in out)
    errors = [line.strip() for line in out if line.strip().startswith("error")]
    assert len(errors) == len(KEYLESS_IDS)
    assert all(re.match(rf"error: {re.escape(label)}, line \d+: ", e) for e in errors), errors
    headings = [line for line in out if not line.startswith(" ")]
    for problem_id in KEYLESS_IDS:
        assert any(h == problem_id or h.startswith(problem_id + " (") for h in headings), problem_id
    # the first problem of the duplicated id is solved (no expect) and listed as such, under its own heading
    assert "  ✓ solved (no expect)" in [line.rstrip() for line in out]
    assert sum(h.startswith("twice (") for h in headings) == 2


def test_an_option_the_command_rejects_names_the_sheets_key_and_line(dlv, keyless_sheet):
    r = dlv("solve", keyless_sheet, "--json")
    problems = {p["id"]: p for p in r.json()["problems"]}
    line = _marked_lines(KEYLESS)[-1]
    # stride: 0 → the command's own check (--stride '0': 0 is below 1), said of the sheet's key
    assert problems["rejected"]["error"].startswith(f"{keyless_sheet}, line {line}: key 'stride': 0 is below 1")


def test_markdown_of_an_error_without_a_key(dlv, keyless_sheet):
    md = dlv("solve", keyless_sheet, "--format", "markdown").stdout
    row = next(line for line in md.splitlines() if line.startswith("| unknown-option |"))
    cells = [c.strip() for c in row.strip("|").split(" | ")]
    assert cells[2] == "—" and cells[4].startswith(f"{keyless_sheet}, line ") and cells[5] == "error"


# ---------------------------------------------------------------------------- dlv grade

ROSTER = "student,name\nada,A\nbob,B\ncyd,C\na_student_with_a_rather_long_id.2026,D\n"
ANSWERS = """\
student,problem,key,answer
ada,interp-ap-1,map,0.4158
bob,interp-ap-1,map,0.55
bob,interp-ap-1,classes.0.ap_exact,11/20
bob,tconv-1,output_shape,"[2, 2]"
cyd,interp-ap-1,map,0.5455
cyd,tconv-1,output,"[[-2, 0, 2], [4, 0, 0], [-6, -2, -4], [1, 1, 1]]"
a_student_with_a_rather_long_id.2026,tconv-1,output_shape,"[-3, 3]"
"""


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    import contextlib
    import io

    from dlvcli.cli import run

    folder = tmp_path_factory.mktemp("week")
    (folder / "roster.csv").write_text(ROSTER, encoding="utf-8")
    parts = []
    for command in ("interp-ap", "tconv"):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert run(["generate", command, "--seed", "2026", "--count", "1", "--roster", str(folder / "roster.csv")]) == 0
        parts.append(out.getvalue())
    (folder / "week.yaml").write_text("".join(parts), encoding="utf-8")
    (folder / "answers.csv").write_text(ANSWERS, encoding="utf-8")
    return folder


def _shown(value) -> str:
    from dlvcli.sheets.outcome import describe

    return re.sub(r"(?<![\w.])-(?=\d)", "\u2212", describe(value))  # a shown number's minus is U+2212


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_grade_never_breaks_an_id_a_key_a_name_or_a_number(dlv, week, monkeypatch, columns):
    r = dlv("grade", week / "week.yaml", week / "answers.csv", "--json")
    assert r.code == 0, r.stderr
    wrong = [(s["student"], p["id"].split("/", 1)[1], c) for s in r.json()["students"] for p in s["problems"]
             for c in p["checks"] if not c["ok"] and c["got"] is not None]
    names = {c["mistake"]["name"] for _, _, c in wrong if c["mistake"]}
    assert {"divided_by_10", "conv_output_size", "11point_instead_of_allpoint"} <= names  # the long ones are there
    monkeypatch.setenv("COLUMNS", str(columns))
    r = dlv("grade", week / "week.yaml", week / "answers.csv")
    assert r.code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert all(len(line.rstrip()) <= columns for line in lines) and "…" not in r.stdout
    for student, problem, check in wrong:
        # a list may wrap at the spaces after its commas: its numbers are checked one by one below
        words = [student, problem, check["key"]] + [_shown(v) for v in (check["expected"], check["got"]) if not isinstance(v, list)]
        if check["mistake"]:
            words.append(check["mistake"]["name"])
        for word in words:
            # whole on some line, not as the start of a longer word (a cut "conv_output_s")
            assert any(re.search(rf"(?<![\w.]){re.escape(word)}(?![\w])", line) for line in lines), (columns, word)
        # each number of a list answer whole too (a stacked line wraps a long list at its spaces)
        for number in re.findall(r"[−\d./]+", _shown(check["got"]) + " " + _shown(check["expected"])):
            assert any(re.search(rf"(?<![\d.−]){re.escape(number)}(?![\d.])", line) for line in lines), number
    scores = {"ada", "bob", "cyd", "a_student_with_a_rather_long_id.2026"}
    assert all(any(re.search(rf"(?<![\w.]){re.escape(s)}(?![\w.])", line) for line in lines) for s in scores)


def test_grade_markdown_escapes_a_bar(dlv, tmp_path):
    sheet = tmp_path / "s.yaml"
    sheet.write_text("- id: a|b\n  command: tconv\n  input: 3\n  kernel: 3\n  expect:\n    output_shape: [5, 5]\n", encoding="utf-8")
    answers = tmp_path / "a.csv"
    answers.write_text('student,problem,key,answer\nx|y,a|b,output_shape,"[4, 4]"\n', encoding="utf-8")
    md = dlv("grade", sheet, answers, "--format", "markdown").stdout
    row = next(line for line in md.splitlines() if "output_shape" in line)
    assert row.startswith(r"| x\|y | a\|b | `output_shape` |")


def test_the_sample_sheet_reads_whole_at_60_columns(dlv, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    r = dlv("solve", SAMPLES / "sheet.yaml")
    assert r.code == 0 and all(len(line.rstrip()) <= 60 for line in r.stdout.splitlines())
    assert "—:" not in r.stdout and "…" not in r.stdout


def test_a_list_of_another_shape_shows_no_difference_of_0(dlv, tmp_path, monkeypatch):
    # tconv of a 3×3 input with a 3×3 kernel, stride 1: (3 − 1)·1 + 3 = 5, so output_shape is [5, 5]: two items
    sheet = tmp_path / "s.yaml"
    sheet.write_text("- id: t\n  command: tconv\n  input: 3\n  kernel: 3\n  expect:\n    output_shape: [5, 5, 1]\n"
                     "    output_shape.0: 5\n", encoding="utf-8")
    check = dlv("solve", sheet, "--json").json()["problems"][0]["checks"][0]
    assert check["ok"] is False and check["difference"] is None and check["tolerance"] is None  # not "difference 0"
    monkeypatch.setenv("COLUMNS", "80")
    out = dlv("solve", sheet).stdout.splitlines()
    assert out[0] == f"{sheet}: 1 problem"  # a long path is the title's own line, not folded to the table's width
    differ = out[out.index("Answers that differ"):]
    assert any(re.fullmatch(r"│ t +│ output_shape +│ +2 items, expected 3 items │ +│", line) for line in differ), differ
    monkeypatch.setenv("COLUMNS", "60")
    monkeypatch.chdir(tmp_path)
    out = dlv("solve", "s.yaml", "--failures-only").stdout.splitlines()
    assert all(len(line) <= 60 for line in out)
    # the listing wraps at spaces: read back as one line
    assert "✗ output_shape: got [5, 5], expected [5, 5, 1] (2 items, expected 3 items)" in " ".join(line.strip() for line in out)


def test_feedback_says_the_shape_of_a_wrong_list(dlv, tmp_path):
    sheet = tmp_path / "s.yaml"
    sheet.write_text("- id: t\n  command: tconv\n  input: 3\n  kernel: 3\n  expect:\n    output_shape: [5, 5]\n", encoding="utf-8")
    answers = tmp_path / "a.csv"
    answers.write_text('student,problem,key,answer\nada,t,output_shape,"[[5, 5], [5, 5]]"\n', encoding="utf-8")
    assert dlv("grade", sheet, answers, "--feedback", tmp_path / "fb").code == 0
    text = (tmp_path / "fb" / "ada.md").read_text(encoding="utf-8")
    assert "Your answer [[5, 5], [5, 5]], expected [5, 5] (shape 2×2, expected 2 items)." in text


def test_show_heading_keeps_a_long_id_whole(dlv, tmp_path, monkeypatch):
    long_id = "a-problem-with-a-really-quite-long-identifier-for-week-three"
    sheet = tmp_path / "s.yaml"
    sheet.write_text(f"- id: {long_id}\n  command: tconv\n  input: 3\n  kernel: 3\n", encoding="utf-8")
    monkeypatch.setenv("COLUMNS", "60")
    out = dlv("solve", sheet, "--show", long_id).stdout
    head = out.split("Transposed convolution")[0]  # rich's Rule would cut it: "problem a-problem-with-…-for… ─"
    assert "…" not in head and long_id in head.splitlines()
