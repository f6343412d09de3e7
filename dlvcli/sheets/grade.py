"""``dlv grade``: students' hand-in answers against a sheet, a score each, the mistake behind a wrong answer.

ANSWERS is a CSV with the columns ``student``, ``problem`` (the problem's id without the
``STUDENT/`` prefix of a roster sheet, or the whole id), ``key`` (a dotted key of the
problem's ``expect``, or an element of a list-valued one such as ``output_shape.0``) and
``answer`` (a number, a fraction such as ``15/22``, or a list such as ``[4, 4]``; empty: no
answer). Other columns are ignored.

Students: those named by the sheet's ``student`` keys (a roster sheet: each grades against
their own problems, and problems without ``student`` are everyone's), else those of the
answers file (in order of appearance), each against every problem.

A check per expected key (or per element, where a student answered a list element by
element); it holds when ``|got − expected| ≤ max(tol, rtol·|expected|)``, with tol = 1e-9
and rtol = 5e-3 (students round) unless the sheet or the problem sets them; exact answers
compare by value. A key with no answer counts as wrong. For a wrong answer the problem is
solved (once) and every mistake of the catalogue (:mod:`dlvcli.sheets.mistakes`) computes
its wrong answer; the first that equals the student's, within the same tolerance, is named.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from dlvcli.errors import InputError
from dlvcli.sheets.checks import DEFAULT_TOL, GRADE_RTOL, KeyNotFound, NotANumber, compare, lookup, parse_number
from dlvcli.sheets.mistakes import Mistake, wrong_documents
from dlvcli.sheets.model import Problem, Sheet

MAX_ANSWERS = 1_000_000


@dataclass(frozen=True)
class Answer:
    value: Any  # a float, an exact "p/q" string, a list of those, or None (left empty)
    text: str
    line: int


@dataclass(frozen=True)
class GradedCheck:
    key: str
    expected: Any
    got: Any  # None: no answer
    ok: bool
    difference: float | None = None
    tolerance: float | None = None
    mistake: Mistake | None = None


@dataclass(frozen=True)
class GradedProblem:
    problem: Problem
    checks: tuple[GradedCheck, ...]

    @property
    def id(self) -> str:
        return self.problem.id

    @property
    def short_id(self) -> str:
        """The id without the ``STUDENT/`` prefix of a roster sheet."""
        student = self.problem.student
        return self.id[len(student) + 1 :] if student and self.id.startswith(student + "/") else self.id


@dataclass(frozen=True)
class StudentGrade:
    student: str
    problems: tuple[GradedProblem, ...]

    @property
    def score(self) -> int:
        return sum(c.ok for p in self.problems for c in p.checks)

    @property
    def max_score(self) -> int:
        return sum(len(p.checks) for p in self.problems)

    def wrong(self) -> list[tuple[GradedProblem, GradedCheck]]:
        return [(p, c) for p in self.problems for c in p.checks if not c.ok]


@dataclass(frozen=True)
class Grading:
    sheet: Sheet
    answers_path: str
    students: tuple[StudentGrade, ...]
    documents: dict[str, dict] = field(default_factory=dict)  # problem id → its solved JSON (those solved)


# ---------------------------------------------------------------------------- the answers file


def parse_answer(text: str, path: str, line: int) -> Any:
    """A hand-in answer: empty → None; a number → float; ``p/q`` → that string; ``[…]`` → a list."""
    text = text.strip()
    if not text:
        return None
    where = dict(file=path, line=line, column="answer")
    if text.startswith("["):
        try:
            value = json.loads(text)
        except ValueError:
            raise InputError(f"{text!r} is not a list", expected="a number, a fraction such as 15/22, or a list such as [4, 4]", **where) from None

        def walk(node: Any) -> Any:
            if isinstance(node, list):
                return [walk(v) for v in node]
            if isinstance(node, bool) or not isinstance(node, (int, float, str)):
                raise InputError(f"{text!r}: {node!r} is not a number", expected="numbers in the list", **where)
            return parse_answer(str(node), path, line)

        return walk(value)
    try:
        number = parse_number(text)
    except NotANumber as exc:
        raise InputError(str(exc), expected="a number, a fraction such as 15/22, or a list such as [4, 4]", **where) from None
    if "/" in text:
        return text.replace(" ", "")
    return float(number)


def load_answers(path: str) -> dict[tuple[str, str, str], Answer]:
    """(student, problem, key) → Answer, as written; a repeated triple is an error."""
    from dlvcli.inputs.tables import read_csv

    table = read_csv(path, "answers")
    table.require(["student", "problem", "key", "answer"], "an answers file")
    if len(table.rows) > MAX_ANSWERS:
        raise InputError(f"{len(table.rows)} answers", file=path, expected=f"at most {MAX_ANSWERS}")
    columns = [table.index(name) for name in ("student", "problem", "key", "answer")]
    answers: dict[tuple[str, str, str], Answer] = {}
    for line, row in zip(table.lines, table.rows):
        student, problem, key, text = (row[i].strip() if i < len(row) else "" for i in columns)
        for name, value in (("student", student), ("problem", problem), ("key", key)):
            if not value:
                raise InputError(f"empty {name}", file=path, line=line, column=name)
        triple = (student, problem, key)
        if triple in answers:
            raise InputError(f"a second answer for student {student!r}, problem {problem!r}, key {key!r}",
                             file=path, line=line, expected=f"one answer per key (the first is on line {answers[triple].line})")
        answers[triple] = Answer(parse_answer(text, path, line), text, line)
    return answers


# ---------------------------------------------------------------------------- matching answers to problems


def _students(sheet: Sheet, answers: dict[tuple[str, str, str], Answer]) -> list[str]:
    named = list(dict.fromkeys(p.student for p in sheet.problems if p.student is not None))
    if named:
        return named
    return list(dict.fromkeys(student for student, _, _ in answers))


def _problems_of(sheet: Sheet, student: str, roster: bool) -> list[Problem]:
    if not roster:
        return list(sheet.problems)
    return [p for p in sheet.problems if p.student in (None, student)]


def _leaf_keys(value: Any, key: str) -> list[tuple[str, Any]]:
    if isinstance(value, list):
        return [leaf for i, v in enumerate(value) for leaf in _leaf_keys(v, f"{key}.{i}")]
    return [(key, value)]


def check_expectations(sheet: Sheet) -> None:
    """The sheet must be gradable: no faulty problem, no expectation that is not a finite value."""
    for problem in sheet.problems:
        if problem.error:
            raise InputError(f"problem {problem.id!r}: {sheet.label}, {problem.error}")  # as dlv solve says it
        for expectation in problem.expect:
            for key, value in _leaf_keys(expectation.value, expectation.key):
                bad = None
                if isinstance(value, float) and not math.isfinite(value):
                    bad = f"{value} is not a finite number"
                elif isinstance(value, str):
                    try:
                        parse_number(value)
                    except NotANumber as exc:
                        text = value.strip().lower().lstrip("+-")
                        if "divides by zero" in str(exc) or text in ("nan", ".nan", "inf", ".inf", "infinity"):
                            bad = str(exc)
                if bad:
                    raise InputError(f"problem {problem.id!r}, expect key {key!r}: the expected value {bad}", file=sheet.path,
                                     line=expectation.line, expected="a finite number or a fraction")


def _match(sheet: Sheet, answers: dict, students: list[str], roster: bool, path: str) -> dict[tuple[str, str], dict[str, Answer]]:
    """(student, problem id) → {key: Answer}; an answer that fits no problem or key is an error."""
    problems_by_student = {s: {p.id: p for p in _problems_of(sheet, s, roster)} for s in students}
    matched: dict[tuple[str, str], dict[str, Answer]] = {}
    for (student, problem_name, key), answer in answers.items():
        if student not in problems_by_student:
            raise InputError(f"student {student!r} is not on the sheet", file=path, line=answer.line, column="student",
                             expected=f"one of: {', '.join(students[:20])}" + (" …" if len(students) > 20 else ""))
        own = problems_by_student[student]
        problem = own.get(f"{student}/{problem_name}") or own.get(problem_name)
        if problem is None:
            names = [GradedProblem(p, ()).short_id for p in own.values()]
            raise InputError(f"no problem {problem_name!r} for student {student!r}", file=path, line=answer.line, column="problem",
                             expected=f"one of: {', '.join(names)}")
        expected = {e.key: e.value for e in problem.expect}
        if key not in expected:
            base = next((k for k in expected if key.startswith(k + ".")), None)
            fits = False
            if base is not None:
                try:
                    fits = not isinstance(lookup({base: expected[base]}, key), list)
                except KeyNotFound:
                    fits = False
            if not fits:
                raise InputError(f"problem {problem.id!r} expects no key {key!r}", file=path, line=answer.line, column="key",
                                 expected=f"one of: {', '.join(expected) or '(none)'}")
        matched.setdefault((student, problem.id), {})[key] = answer
    return matched


# ---------------------------------------------------------------------------- grading


def grade(root, sheet: Sheet, answers_path: str, tol: float = DEFAULT_TOL, rtol: float = GRADE_RTOL) -> Grading:
    """Grade every student of the sheet (or of the answers file) on their problems."""
    from dlvcli.sheets.runner import check_command

    check_expectations(sheet)
    for problem in sheet.problems:
        check_command(root, sheet, problem)
    answers = load_answers(answers_path)
    documents: dict[str, dict] = {}
    for problem in sheet.problems:
        # solved once here, so that a problem dlv cannot solve (an unknown key, stride 0) is
        # the error it is in `dlv solve`, even where every answer to it is right
        solved(root, sheet, problem, documents)
    students = _students(sheet, answers)
    roster = any(p.student is not None for p in sheet.problems)
    matched = _match(sheet, answers, students, roster, answers_path)
    wrong_cache: dict[str, list[tuple[Mistake, dict]]] = {}

    def mistakes_of(problem: Problem) -> list[tuple[Mistake, dict]]:
        if problem.id not in wrong_cache:
            document = solved(root, sheet, problem, documents)
            wrong_cache[problem.id] = wrong_documents(problem.command, document)
        return wrong_cache[problem.id]

    graded_students = []
    for student in students:
        graded = []
        for problem in _problems_of(sheet, student, roster):
            given = matched.get((student, problem.id), {})
            p_tol, p_rtol = sheet.tolerances(problem, tol, rtol)
            checks = []
            for expectation in problem.expect:
                items = [(expectation.key, expectation.value)]
                if expectation.key not in given and any(k.startswith(expectation.key + ".") for k in given):
                    items = _leaf_keys(expectation.value, expectation.key)  # answered element by element
                for key, expected in items:
                    answer = given.get(key)
                    got = None if answer is None else answer.value
                    check = _check(key, expected, got, p_tol, p_rtol, lambda: mistakes_of(problem))
                    if check is None:
                        raise InputError(f"problem {problem.id!r}, expect key {key!r}: the expected value "
                                         f"{expected!r} is not a number, but an answer is one", file=sheet.path,
                                         line=expectation.line, expected="a finite number or a fraction")
                    checks.append(check)
            graded.append(GradedProblem(problem, tuple(checks)))
        graded_students.append(StudentGrade(student, tuple(graded)))
    return Grading(sheet, answers_path, tuple(graded_students), documents)


def _check(key: str, expected: Any, got: Any, tol: float, rtol: float, mistakes) -> GradedCheck | None:
    if got is None:
        return GradedCheck(key, expected, None, False)
    result = compare(expected, got, tol, rtol)
    if result.error:
        return None  # the expectation cannot be compared with a number: a bad sheet
    if result.ok:
        return GradedCheck(key, expected, got, True, result.difference, result.tolerance)
    found = None
    for mistake, wrong in mistakes():
        try:
            value = lookup(wrong, key)
        except KeyNotFound:
            continue
        if value is not None and compare(value, got, tol, rtol).ok and not compare(expected, value, tol, rtol).ok:
            found = mistake
            break
    return GradedCheck(key, expected, got, False, result.difference, result.tolerance, found)


def solved(root, sheet: Sheet, problem: Problem, documents: dict[str, dict]) -> dict:
    """The problem's JSON document (solved once, then kept in ``documents``)."""
    from dlvcli.sheets.runner import CommandFault, run_json

    if problem.id not in documents:
        from dlvcli.sheets.answers import fast_document

        # a generated problem's document straight from the core (the same values: tests/test_sheets_quality.py)
        fast = fast_document(problem.command, [(e.key, e.value) for e in problem.options])
        if fast is not None:
            documents[problem.id] = fast
            return fast
        try:
            documents[problem.id] = run_json(root, problem.command, problem.options, sheet.path, sheet.base, sheet.confined)
        except CommandFault:
            raise
        except ValueError as exc:
            from dlvcli.sheets.runner import located_error

            raise InputError(f"problem {problem.id!r}: {located_error(exc, sheet, problem)}") from None
    return documents[problem.id]


def worked_solution(root, sheet: Sheet, problem: Problem) -> str:
    """The problem's worked solution as the command's Markdown (run in this process)."""
    from dlvcli.sheets.runner import run_command

    try:
        text = run_command(root, problem.command, problem.options, sheet.path, sheet.base, ["--format", "markdown"],
                           confined=sheet.confined)
    except ValueError as exc:
        raise InputError(f"problem {problem.id!r}: {exc}") from None
    return text or ""


def feedback_name(student: str, taken: set[str]) -> str:
    """A safe file name for a student's feedback: letters, digits, '.', '_' and '-' kept, the rest '_'."""
    stem = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "_" for ch in student).lstrip(".") or "student"
    name, n = f"{stem}.md", 1
    while name.lower() in taken:
        n += 1
        name = f"{stem}-{n}.md"
    taken.add(name.lower())
    return name
