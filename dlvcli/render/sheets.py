"""``dlv solve`` results: the table of checks (rich, Markdown), the JSON document, the summary."""

from __future__ import annotations

from dataclasses import dataclass

from dlvcli.render.output import OutputSettings
from dlvcli.sheets.outcome import BAD, DIFFERS, FAULT, OK, Outcome, describe, describe_full

def _small(x: float | None) -> str:
    """A difference or a tolerance: 3 significant digits (the sign of the difference is not needed)."""
    if x is None:
        return ""
    if x == 0:
        return "0"
    text = f"{x:.3g}"
    if "e" in text:  # 6.27e-05 → 6.27e-5, 1.5e+07 → 1.5e7: exponents as NumberStyle writes them
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def _shape(value) -> str:
    """``4×3`` for a list of four lists of three; ``4`` for a list of four; ``""`` for a single value."""
    if not isinstance(value, list):
        return ""
    inner = {_shape(v) for v in value}
    return f"{len(value)}×{inner.pop()}" if len(inner) == 1 and "" not in inner else str(len(value))


def mismatch(expected, got) -> str:
    """Why a value differs where no difference can be computed: ``shape 4×3, expected 3×3``."""
    shapes = _shape(got), _shape(expected)
    if shapes[0] == shapes[1]:
        return "not comparable as numbers"

    def said(shape: str, first: bool) -> str:
        if not shape:
            return "a single value"
        if "×" in shape:
            return f"shape {shape}" if first else shape
        return f"{shape} item{'s' if shape != '1' else ''}"

    return f"{said(shapes[0], True)}, expected {said(shapes[1], '×' not in shapes[0])}"


@dataclass(frozen=True)
class Row:
    id: str
    command: str
    key: str
    expected: str
    got: str
    mark: str  # ✓, ✗ or "error"
    ok: bool
    difference: str = ""
    tolerance: str = ""
    has_key: bool = True  # False: a row of the problem itself: its error (no id, an unknown option, …), or "solved"
    index: int = 0  # the problem's place in the sheet (two problems may share an id: a duplicate)
    message: str = ""  # an error's line in the listing, after "error: " (the sheet, the line, the key)


def rows(outcomes: list[Outcome], sheet_label: str = "", failures_only: bool = False) -> list[Row]:
    """One row per expectation; a problem without expectations or with an error gets one row.

    A differing check shows the value found at full precision, the difference and the
    tolerance it was checked with; ``failures_only`` leaves out what holds.
    """
    table: list[Row] = []
    for outcome in outcomes:
        problem = outcome.problem
        command = problem.command or "—"
        if outcome.status in (BAD, FAULT) and not outcome.checks:
            # the whole message, with the sheet and the line, as stderr gives it after "problem 'q2': "
            table.append(Row(problem.id, command, "—", "—", outcome.error or "", "error", False, has_key=False, index=problem.index))
            continue
        if not outcome.checks and not failures_only:
            table.append(Row(problem.id, command, "(no expect)", "—", "solved", "✓", True, has_key=False, index=problem.index))
        for check in outcome.checks:
            if check.ok and failures_only:
                continue
            if check.error:
                reason = "no such key" if check.missing else "bad expected value"
                line = next((e.line for e in problem.expect if e.key == check.key and e.line), None)
                where = ", ".join(([sheet_label] if sheet_label else []) + ([f"line {line}"] if line else []))
                message = (f"{where}: " if where else "") + f"expect key {check.key!r}: {reason}"
                table.append(Row(problem.id, command, check.key, describe(check.expected), reason, "error", False, index=problem.index,
                                 message=message))
            elif check.ok:
                table.append(Row(problem.id, command, check.key, describe(check.expected), describe(check.got), "✓", True, index=problem.index))
            else:
                # a differing value is shown in full, so that it never looks equal to the expected one
                difference = _small(check.difference) if check.difference is not None else mismatch(check.expected, check.got)
                table.append(Row(problem.id, command, check.key, describe(check.expected), describe_full(check.got), "✗", False,
                                 difference, _small(check.tolerance), index=problem.index))
    return table


def counts(outcomes: list[Outcome]) -> dict[str, int]:
    checks = [c for o in outcomes for c in o.checks]
    return {
        "problems": len(outcomes),
        "ok": sum(o.status == OK for o in outcomes),
        "differs": sum(o.status == DIFFERS for o in outcomes),
        "bad": sum(o.status == BAD for o in outcomes),
        "fault": sum(o.status == FAULT for o in outcomes),
        "checks": len(checks),
        "checks_failed": sum(not c.ok for c in checks),
    }


def summary_text(outcomes: list[Outcome]) -> str:
    """One sentence: how many answers hold, and which problem and key differ."""
    n = counts(outcomes)
    problems = f"{n['problems']} problem{'s' if n['problems'] != 1 else ''}"
    answers = f"{n['checks']} answer{'s' if n['checks'] != 1 else ''} checked"
    parts = []
    differing = [(o.problem.id, c.key) for o in outcomes for c in o.checks if not c.ok and not c.error]
    if differing:
        named = "; ".join(f"problem {pid!r} key {key!r}" for pid, key in differing[:10])
        more = f" and {len(differing) - 10} more" if len(differing) > 10 else ""
        parts.append(f"{len(differing)} differ{'s' if len(differing) == 1 else ''}: {named}{more}")
    broken = [o.problem.id for o in outcomes if o.status in (BAD, FAULT)]
    if broken:
        parts.append(f"{len(broken)} problem{'s' if len(broken) != 1 else ''} with errors: {', '.join(repr(b) for b in broken)}")
    if not parts:
        return f"{problems}, {answers}: all hold."
    return f"{problems}, {answers}: " + "; ".join(parts) + "."


def _text_minus(text: str) -> str:
    """A shown number's minus is U+2212 in text (docs/conventions.md); user strings stay literal."""
    import re

    return re.sub(r"(?<![\w.])-(?=\d)|(?<=\de)-(?=\d)", "\u2212", text)


def _shown_row(row: Row) -> Row:
    numeric = row.mark != "error"
    if not numeric:
        return row
    return Row(row.id, row.command, row.key, _text_minus(row.expected), _text_minus(row.got), row.mark, row.ok,
               _text_minus(row.difference), _text_minus(row.tolerance), row.has_key, row.index, row.message)


def _indented(text, indent: int = 2):
    """A line of the listing, two spaces in, wrapped (at spaces) under itself."""
    from rich.padding import Padding

    return Padding(text, (0, 0, 0, indent), expand=False)


HEADERS = (("id", "left"), ("command", "left"), ("key", "left"), ("expected", "right"), ("got", "right"), ("ok", "center"))
# --failures-only: what differs, with the difference and the tolerance
FAILURE_HEADERS = (("id", "left"), ("key", "left"), ("expected", "right"), ("got", "right"), ("difference", "right"), ("tolerance", "right"))
DIFFERENCE_HEADERS = (("id", "left"), ("key", "left"), ("difference", "right"), ("tolerance", "right"))


class _ChecksTable:
    """A table of checks with the columns ``headers`` (attributes of :class:`Row`); on a console
    too narrow for it (no cell is ever cut or folded), one block per problem: its id and
    command, then a line per check."""

    def __init__(self, table_rows: list[Row], title: str, headers=HEADERS):
        self.rows = [_shown_row(r) for r in table_rows]
        self.title = title
        self.headers = headers

    def _cells(self, row: Row) -> list[str]:
        return [row.mark if name == "ok" else getattr(row, name) for name, _ in self.headers]

    def _width(self) -> int:
        from rich.cells import cell_len

        cells = [self._cells(r) for r in self.rows]
        widths = [max([cell_len(h)] + [cell_len(c[i]) for c in cells]) + 2 for i, (h, _) in enumerate(self.headers)]
        return sum(widths) + len(widths) + 1

    def __rich_console__(self, console, options):
        from rich.table import Table
        from rich.text import Text

        if self._width() <= options.max_width:
            # the title on its own line: as the table's title rich would fold a long path to the table's width
            yield Text(self.title, style="italic")
            table = Table()
            for name, justify in self.headers:
                table.add_column(name, justify=justify, no_wrap=True)
            for row in self.rows:
                style = "green" if row.ok else ("red" if row.mark != "error" else "bold red")
                cells = []
                for (name, _), text in zip(self.headers, self._cells(row)):
                    if name == "ok":
                        cells.append(Text(text, style=style))
                    elif name == "got":
                        cells.append(Text(text, style=None if row.ok else "red"))
                    else:
                        cells.append(text)
                table.add_row(*cells)
            yield table
            return
        yield Text(self.title)
        last = None
        for row in self.rows:
            if (row.index, row.id, row.command) != last:
                last = (row.index, row.id, row.command)
                # a problem without a (readable) command is named by its id alone
                yield Text(row.id if row.command == "—" else f"{row.id} ({row.command})", style="bold")
            style = "green" if row.ok else ("red" if row.mark != "error" else "bold red")
            line = Text()
            if not row.has_key:
                if row.mark == "error":
                    # the problem's own error: `error: bad.yaml, line 11: unknown key …` (no key to name)
                    line.append("error:", style=style)
                    line.append(" " + row.got, style="red")
                else:
                    line.append(row.mark, style=style)
                    line.append(" solved (no expect)")
                yield _indented(line)
                continue
            if row.mark == "error":
                # an expectation that cannot be checked: `error: bad.yaml, line 17: expect key 'x': no such key`
                line.append("error:", style=style)
                line.append(" " + (row.message or f"expect key {row.key!r}: {row.got}"), style="red")
                yield _indented(line)
                continue
            line.append(row.mark, style=style)
            line.append(f" {row.key}: ")
            if row.ok and row.expected == row.got:
                line.append(row.got)
            else:
                line.append(f"got {row.got}, expected {row.expected}", style=None if row.ok else "red")
            if row.difference and row.tolerance:
                line.append(f" (difference {row.difference}, tolerance {row.tolerance})")
            elif row.difference:
                line.append(f" ({row.difference})")  # no number to subtract: a list of another shape
            yield _indented(line)


def to_rich(outcomes: list[Outcome], title: str, sheet_label: str = "", failures_only: bool = False) -> list:
    """The checks table; then the answers that differ again, with their difference and tolerance.

    With ``failures_only`` one table of what differs (id, key, expected, got, difference, tolerance).
    """
    from rich.text import Text

    listed = rows(outcomes, sheet_label, failures_only)
    if failures_only:
        out = [_ChecksTable(listed, f"{title}: what differs", FAILURE_HEADERS)]
    else:
        out = [_ChecksTable(listed, title)]
        differing = [row for row in listed if row.difference]
        if differing:
            out.append(_ChecksTable(differing, "Answers that differ", DIFFERENCE_HEADERS))
    failed = any(o.status != OK for o in outcomes)
    return [*out, Text(summary_text(outcomes), style="red" if failed else "green")]


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_value(text: str) -> str:
    """A shown number (or list of numbers, or p/q) as inline math; other text as it is."""
    import re

    if re.fullmatch(r"[\[\]\d\s.,eE+\-/]+", text) and re.search(r"\d", text):
        # 6.27e-5 as 6.27 \times 10^{-5}, as NumberStyle writes LaTeX
        text = re.sub(r"(\d)[eE]([+-]?)0*(\d+)", lambda m: f"{m.group(1)} \\times 10^{{{m.group(2).replace('+', '')}{m.group(3)}}}", text)
        return "$" + text.replace("[", "\\lbrack ").replace("]", "\\rbrack ") + "$"
    return _md(text)


def to_markdown(outcomes: list[Outcome], title: str, sheet_label: str = "", failures_only: bool = False) -> str:
    listed = rows(outcomes, sheet_label, failures_only)
    differing = any(row.difference for row in listed)
    header = "| id | command | key | expected | got | ok |" + (" difference | tolerance |" if differing else "")
    rule = "| --- | --- | --- | ---: | ---: | :---: |" + (" ---: | ---: |" if differing else "")
    lines = [f"**{_md(title)}**", "", header, rule]
    for row in listed:
        expected, got = (_md_value(row.expected), _md_value(row.got)) if row.mark != "error" else (_md(row.expected), _md(row.got))
        cells = [_md(row.id), _md(row.command), f"`{_md(row.key)}`" if row.has_key else _md(row.key), expected, got, row.mark]
        if differing:
            cells += [_md_value(row.difference) if row.difference else "", _md_value(row.tolerance) if row.tolerance else ""]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", summary_text(outcomes)]
    return "\n".join(lines)


def check_json(check) -> dict:
    entry = {"key": check.key, "expected": check.expected, "got": check.got, "ok": check.ok,
             "difference": check.difference, "tolerance": check.tolerance}
    if check.error:
        entry["error"] = check.error
    return entry


def problem_json(outcome: Outcome, failures_only: bool = False) -> dict:
    problem = outcome.problem
    entry: dict = {
        "id": problem.id,
        "command": problem.command,
        "ok": outcome.ok,
        "status": outcome.status,
        "result": outcome.result,
        "checks": [check_json(c) for c in outcome.checks if not (failures_only and c.ok)],
    }
    if problem.student is not None:
        entry["student"] = problem.student
    if outcome.error:
        entry["error"] = outcome.error
    return entry


def to_json(outcomes: list[Outcome], sheet_label: str, failures_only: bool = False) -> dict:
    """The command's keys of ``dlv solve --json`` (the envelope is added by jsonout).

    ``failures_only``: problems that hold are left out, and so are the checks that hold
    (``summary`` still counts them all).
    """
    return {
        "sheet": sheet_label,
        "ok": all(o.ok for o in outcomes),
        "summary": counts(outcomes),
        "problems": [problem_json(o, failures_only) for o in outcomes if not (failures_only and o.ok)],
    }


def print_outcomes(
    outcomes: list[Outcome], title: str, settings: OutputSettings, sheet_label: str = "", failures_only: bool = False
) -> None:
    """Print the table (text) or Markdown on stdout."""
    import sys

    if settings.format == "markdown":
        sys.stdout.write(to_markdown(outcomes, title, sheet_label, failures_only) + "\n")
        return
    from dlvcli.render.output import stdout_console

    console = stdout_console()
    for renderable in to_rich(outcomes, title, sheet_label, failures_only):
        console.print(renderable)


def show_heading(problem_id: str, command: str, settings: OutputSettings) -> None:
    """The line above a problem's worked solution (``--show``)."""
    import sys

    if settings.format == "markdown":
        sys.stdout.write(f"### Problem `{problem_id}` ({command})\n\n")
        return
    from dlvcli.render.output import stdout_console
    from dlvcli.render.tables import heading

    console = stdout_console()
    console.print(heading(f"problem {problem_id} ({command})", console.width))  # a long id is not cut on the rule


# ---------------------------------------------------------------------------- dlv grade


def _answer_text(value) -> str:
    return "—" if value is None else describe(value)


def grade_json(grading) -> dict:
    """The keys of ``dlv grade --json`` (the envelope is added by jsonout)."""
    students = []
    for s in grading.students:
        problems = []
        for p in s.problems:
            checks = []
            for c in p.checks:
                mistake = None if c.mistake is None else {"name": c.mistake.name, "explanation": c.mistake.explanation}
                checks.append({"key": c.key, "expected": c.expected, "got": c.got, "ok": c.ok, "mistake": mistake,
                               "difference": c.difference, "tolerance": c.tolerance})
            problems.append({"id": p.id, "checks": checks})
        students.append({"student": s.student, "score": s.score, "max_score": s.max_score, "problems": problems})
    wrong = [c for s in grading.students for _, c in s.wrong()]
    return {
        "sheet": grading.sheet.label,
        "answers": grading.answers_path,
        "summary": {
            "students": len(grading.students),
            "checks": sum(s.max_score for s in grading.students),
            "right": sum(s.score for s in grading.students),
            "wrong": sum(c.got is not None for c in wrong),
            "missing": sum(c.got is None for c in wrong),
            "mistakes_named": sum(c.mistake is not None for c in wrong),
        },
        "students": students,
    }


def _wrong_rows(grading) -> list[tuple[str, str, str, str, str, str]]:
    """One row per answer given and wrong (missing answers are counted, not listed)."""
    rows = []
    for s in grading.students:
        for p, c in s.wrong():
            if c.got is not None:
                rows.append((s.student, p.short_id, c.key, describe(c.expected), describe(c.got), c.mistake.name if c.mistake else "—"))
    return rows


def _counts(student) -> tuple[int, int, int]:
    wrong = student.wrong()
    return (sum(c.got is not None for _, c in wrong), sum(c.got is None for _, c in wrong),
            sum(c.mistake is not None for _, c in wrong))


def grade_summary(grading) -> str:
    n = grade_json(grading)["summary"]
    return (f"{n['students']} student{'s' if n['students'] != 1 else ''}, {n['checks']} answer{'s' if n['checks'] != 1 else ''} due: {n['right']} right, "
            f"{n['wrong']} wrong ({n['mistakes_named']} with a known mistake), {n['missing']} missing.")


SCORE_COLUMNS = ("student", "score", "of", "wrong", "missing", "known mistakes")
WRONG_COLUMNS = ("student", "problem", "key", "expected", "answer", "mistake")
_RIGHT = (3, 4)  # expected, answer: numbers


def grade_rich(grading) -> list:
    from rich.text import Text

    from dlvcli.render.tables import Column, FitTable

    columns = [Column(name, "left" if name == "student" else "right") for name in SCORE_COLUMNS]
    rows = []
    for s in grading.students:
        wrong, missing, named = _counts(s)
        rows.append([s.student, str(s.score), str(s.max_score), str(wrong), str(missing), str(named)])
    # too narrow (a long student id): the columns split into tables that repeat the student, never a cut id
    out = [FitTable(columns, rows, title=f"{grading.sheet.label}: scores", keys=1, split="greedy", stack="keys")]
    wrong_rows = _wrong_rows(grading)
    if wrong_rows:
        out.append(_WrongAnswers(wrong_rows))
    out.append(Text(grade_summary(grading)))
    return out


class _WrongAnswers:
    """The wrong answers: one table when it fits the console, else a block per student and
    problem with a line per wrong answer (``map: answer 0.55, expected 0.5; known mistake:
    divided_by_10``), wrapped at spaces only. No id, key, mistake name or number is ever
    broken inside a word (docs/conventions.md, "Shown numbers and widths"); a table that
    fits is drawn directly (fast for thousands of rows), and so are the blocks."""

    def __init__(self, rows: list[tuple[str, ...]]):
        # a shown number's minus is U+2212 (the key and the ids are user text: as given)
        self.rows = [(st, pr, key, _text_minus(exp), _text_minus(ans), mis) for st, pr, key, exp, ans, mis in rows]

    def _fits(self, room: int) -> bool:
        from rich.cells import cell_len

        widths = [max([cell_len(h)] + [cell_len(r[i]) for r in self.rows]) for i, h in enumerate(WRONG_COLUMNS)]
        return 1 + sum(w + 3 for w in widths) <= room  # rich's default box: a rule and a space either side of each cell

    def __rich_console__(self, console, options):
        from rich.text import Text

        from dlvcli.render.tables import Column, FitTable

        if self._fits(options.max_width):
            columns = [Column(name, "right" if i in _RIGHT else "left", "red" if name == "answer" else None)
                       for i, name in enumerate(WRONG_COLUMNS)]
            yield FitTable(columns, [list(r) for r in self.rows], title="Wrong answers", keys=1, split=None, stack=None)
            return
        yield Text("Wrong answers", style="italic")
        last = None
        for student, problem, key, expected, answer, mistake in self.rows:
            if (student, problem) != last:
                last = (student, problem)
                yield Text(f"student {student}, problem {problem}", style="bold")
            line = Text(f"{key}: answer ")
            line.append(answer, style="red")
            line.append(f", expected {expected}")
            if mistake != "—":
                line.append(f"; known mistake: {mistake}")
            yield _indented(line)


def grade_markdown(grading) -> str:
    lines = [f"**{_md(grading.sheet.label)}: scores**", "", "| " + " | ".join(SCORE_COLUMNS) + " |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for s in grading.students:
        lines.append("| " + " | ".join([_md(s.student), str(s.score), str(s.max_score), *map(str, _counts(s))]) + " |")
    rows = _wrong_rows(grading)
    if rows:
        lines += ["", "**Wrong answers**", "", "| " + " | ".join(WRONG_COLUMNS) + " |", "| --- | --- | --- | ---: | ---: | --- |"]
        for student, problem, key, expected, answer, mistake in rows:
            # numbers as math, as dlv solve --format markdown writes them (its minus is "-" inside LaTeX)
            lines.append(f"| {_md(student)} | {_md(problem)} | `{_md(key)}` | {_md_value(expected)} | {_md_value(answer)} | {_md(mistake)} |")
    lines += ["", grade_summary(grading)]
    return "\n".join(lines)


def _demoted(markdown: str) -> str:
    """The command's Markdown under the problem's heading: its headings two levels deeper (at most ######)."""
    out, fenced = [], False
    for line in markdown.split("\n"):
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("#"):
            marks = len(line) - len(line.lstrip("#"))
            line = "#" * min(marks + 2, 6) + line[marks:]
        out.append(line)
    return "\n".join(out)


def feedback_markdown(student_grade, sheet_label: str, solutions: list[tuple[str, str, str]]) -> str:
    """One student's feedback: the score, each wrong check with the mistake if known, then the
    worked solution of each of their problems (``solutions``: (short id, command, Markdown))."""
    s = student_grade
    lines = [f"# Feedback for {_md(s.student)}", "", f"Sheet `{_md(sheet_label)}`: **{s.score} of {s.max_score}** answers right.", ""]
    wrong = [(p, c) for p, c in s.wrong() if c.got is not None]
    missing = [(p, c) for p, c in s.wrong() if c.got is None]
    if wrong:
        lines += ["## Answers to look at again", ""]
        for p, c in wrong:
            lines.append(f"### {_md(p.short_id)}: `{_md(c.key)}`")
            lines.append("")
            if c.tolerance == 0:
                detail = " (an exact answer must equal it)"
            elif c.difference is not None:
                detail = f" (off by {_small(c.difference)}; accepted within {_small(c.tolerance)})"
            else:
                detail = f" ({mismatch(c.expected, c.got)})"
            # in prose a shown number's minus is U+2212, as in text
            lines.append(f"Your answer {_md(_text_minus(describe(c.got)))}, expected {_md(_text_minus(describe(c.expected)))}{_text_minus(detail)}.")
            if c.mistake is not None:
                lines += ["", f"Likely mistake, `{c.mistake.name}`: {_md(c.mistake.explanation)}"]
            lines.append("")
    if missing:
        lines += ["## Not answered", ""]
        lines += [f"* {_md(p.short_id)}: `{_md(c.key)}` (expected {_md(_text_minus(describe(c.expected)))})" for p, c in missing]
        lines.append("")
    if not wrong and not missing:
        lines += ["Every answer is right.", ""]
    lines += ["## Worked solutions", ""]
    for short_id, command, markdown in solutions:
        lines += [f"### Problem {_md(short_id)} ({command})", "", _demoted(markdown.rstrip()), ""]
    return "\n".join(lines).rstrip() + "\n"
