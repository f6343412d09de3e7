"""``dlv grade``: a class's hand-in answers against a sheet: scores, a gradebook, feedback per student."""

import sys
from typing import Annotated, Any, Optional

from dlvcli.cli.common import prepare, shared_options
from dlvcli.cli.params import Argument, Command, Context, Option
from dlvcli.cli.sheets import AllowOutsideOption
from dlvcli.errors import InputError

HELP = """Grade a class's answers against a sheet: scores, and the mistake behind each wrong answer.

ANSWERS.csv has the columns student, problem (the problem's id, without the STUDENT/
prefix of a roster sheet), key (a dotted key of the problem's 'expect', or an element
of a list such as output_shape.0) and answer (a number, a fraction such as 15/22, or a
list such as [4, 4]; empty: not answered). A roster sheet (dlv generate --roster) gives
each student their own problems; a sheet without 'student' keys grades every student of
ANSWERS on every problem.

An answer is right when |answer − expected| ≤ max(tol, rtol·|expected|), with tol = 1e-9
and rtol = 5e-3 (hand-rounded answers pass) unless the sheet or the problem sets them;
fractions are compared by value (30/44 equals 15/22). A missing answer counts as wrong.
A wrong answer that equals what a known mistake gives (dividing by 10 instead of 11, log
base 10, the direct-convolution size, only the last BPTT term, …) is named.

--gradebook FILE.csv writes student,score,max_score; --feedback DIR writes one Markdown
file per student: each wrong answer, the mistake with an explanation, and the worked
solution of that student's problems. Exit status: 0 when every answer was graded, 2 when
a file is bad (an answer for an unknown student, problem or key; a sheet that cannot be
solved).

Examples:

  dlv grade sheet.yaml answers.csv

  dlv grade sheet.yaml answers.csv --gradebook grades.csv --feedback feedback/

  dlv grade sheet.yaml answers.csv --json
"""


def commands() -> tuple[Command, ...]:
    """This module's commands (the function below, with the shared options it takes)."""
    shared = shared_options("config", "output_format", "json_output", "digits", "debug")
    return (Command("grade", grade, help=HELP, shared=shared, no_args_is_help=True),)


def grade(
    ctx: Context,
    sheet_path: Annotated[Optional[str], Argument(metavar="SHEET", help="The sheet (YAML); - reads stdin.", show_default=False)] = None,
    answers: Annotated[Optional[str], Argument(metavar="ANSWERS.csv", help="The students' answers.", show_default=False)] = None,
    gradebook: Annotated[
        Optional[str], Option("--gradebook", metavar="FILE.csv", help="Write student,score,max_score (atomically).")
    ] = None,
    feedback: Annotated[
        Optional[str], Option("--feedback", metavar="DIR", help="Write one Markdown file per student into DIR (created if missing).")
    ] = None,
    allow_outside: AllowOutsideOption = False,
    **shared: Any,
) -> int:
    params, settings = prepare(ctx)
    from pathlib import Path

    from dlvcli.render import sheets as view
    from dlvcli.render.files import check_output_path, write_atomic
    from dlvcli.render.jsonout import json_document
    from dlvcli.sheets.grade import feedback_name, grade as grade_all, worked_solution
    from dlvcli.sheets.model import load_sheet

    if not params["sheet_path"]:
        raise InputError("missing SHEET (the problem sheet) and ANSWERS.csv (the students' answers)")
    if not params["answers"]:
        raise InputError("missing ANSWERS.csv: a CSV with columns student, problem, key, answer")
    if params["sheet_path"] == "-" and params["answers"] == "-":
        raise InputError("SHEET and ANSWERS cannot both be standard input")
    inputs = [params["sheet_path"], params["answers"]]
    if params["gradebook"]:
        check_output_path(params["gradebook"], inputs)  # before any work: a gradebook that cannot be written
    if params["feedback"]:
        folder = Path(params["feedback"])
        if folder.exists() and not folder.is_dir():
            raise InputError("is not a folder", file=params["feedback"], expected="a folder for the feedback files")
    sheet = load_sheet(params["sheet_path"], allow_outside=params["allow_outside"])
    root = ctx.parent
    grading = grade_all(root, sheet, params["answers"])

    if params["feedback"]:
        folder = Path(params["feedback"])
        folder.mkdir(parents=True, exist_ok=True)
        taken: set[str] = set()
        solutions: dict[str, str] = {}
        for student in grading.students:
            worked = []
            for graded in student.problems:
                if graded.id not in solutions:
                    solutions[graded.id] = worked_solution(root, sheet, graded.problem)
                worked.append((graded.short_id, graded.problem.command, solutions[graded.id]))
            text = view.feedback_markdown(student, sheet.label, worked)
            target = folder / feedback_name(student.student, taken)
            write_atomic(str(target), lambda tmp, text=text: Path(tmp).write_text(text, encoding="utf-8"), inputs)
    if params["gradebook"]:
        import csv

        def write_gradebook(tmp: str) -> None:
            with open(tmp, "w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(["student", "score", "max_score"])
                for student in grading.students:
                    writer.writerow([student.student, student.score, student.max_score])

        write_atomic(params["gradebook"], write_gradebook, inputs)

    if settings.format == "json":
        payload = view.grade_json(grading)
        inputs_json = {"sheet": params["sheet_path"], **{k: params[k] for k in ("answers", "gradebook", "feedback", "allow_outside")}}
        sys.stdout.write(json_document("grade", inputs_json, payload, []) + "\n")
    elif settings.format == "markdown":
        sys.stdout.write(view.grade_markdown(grading) + "\n")
    else:
        from dlvcli.render.output import stdout_console

        console = stdout_console()
        for renderable in view.grade_rich(grading):
            console.print(renderable)
    err_lines = []
    if params["gradebook"]:
        err_lines.append(f"gradebook written to {params['gradebook']}")
    if params["feedback"]:
        n = len(grading.students)
        err_lines.append(f"feedback for {n} student{'s' if n != 1 else ''} written to {params['feedback']}")
    for line in err_lines:
        sys.stderr.write(line + "\n")
    sys.stdout.flush()
    return 0
