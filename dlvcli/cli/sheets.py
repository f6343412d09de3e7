"""``dlv solve`` and ``dlv generate``: problem sheets for grading (docs/sheets.md)."""

import os
import sys
from typing import Annotated, Any, Optional

from dlvcli.cli.common import prepare, shared_options
from dlvcli.cli.params import Argument, Command, Context, Option
from dlvcli.errors import InputError

AllowOutsideOption = Annotated[
    bool,
    Option(
        "--allow-outside",
        help="Let the sheet's problems read and write files outside the sheet's folder (off: a sheet received from "
        "others cannot reach your files).",
    ),
]

SOLVE_HELP = """Solve every problem of a sheet in one process and check the expected answers.

A sheet is a YAML list of problems. Each has an 'id', a 'command' (interp-ap, bptt,
focal, box-compare or tconv), that command's options as keys (as in its --config file,
'file' for the positional argument; paths relative to the sheet's folder) and
optionally 'expect': dotted keys of the command's JSON output (list indices as numbers,
e.g. classes.0.ap) with the expected values (a number, a fraction such as "58/77", a
string, or a list compared element by element). A number holds when
|got − expected| ≤ max(tol, rtol·|expected|), with tol = 1e-9 and rtol = 1e-6 unless the
problem (or a sheet written as {tol:, rtol:, problems: [...]}) sets them; exact
answers such as "30/44" and "15/22" are compared by value.

Paths are relative to the sheet's folder (the current folder for a sheet read from
stdin), and a problem may read or write only inside that folder (after resolving '..'
and symbolic links) unless --allow-outside is given.

Prints a table (id, command, key, expected, got, ok; and for every answer that
differs, the difference and the tolerance). Exit status: 0 when every
expectation holds, 3 when an answer differs, 2 when the sheet is bad (unknown command
or option, missing file, an expect key the command does not produce), 1 on an internal
error. One failing problem does not stop the others.

Examples:

  dlv solve sample_inputs/sheet.yaml

  dlv solve sample_inputs/sheet.yaml --show ap-11point

  dlv solve my-sheet.yaml --failures-only

  dlv generate bptt --seed 7 | dlv solve - --json
"""

GENERATE_HELP = """Print a sheet of random, well-posed problems with their answers under 'expect'.

The same seed prints the same bytes on any machine, so a seed is all a student needs to
get their own variant. Sizes per command: --detections (interp-ap), --steps and
--hidden (bptt), --probs (focal), --boxes (box-compare), --size (tconv).

interp-ap problems carry their ranked table inline (tp, score), so no data files are
needed. With --roster ROSTER.csv (a 'student' column) each student gets their own
variant of every problem, ids STUDENT/COMMAND-i, with 'student: ID'; a student's
variant depends only on (seed, student, problem), so adding students to the roster
changes no one else's. Grade the hand-in answers with 'dlv grade'.

Examples:

  dlv generate bptt --seed 7 --count 3 --steps 4 > bptt-7.yaml

  dlv generate focal --seed 1 | dlv solve -

  dlv generate interp-ap --seed 3 --detections 12 | dlv solve -

  dlv generate tconv --seed 2026 --count 2 --roster class.csv > tconv-sheet.yaml
"""


def commands() -> tuple[Command, ...]:
    """This module's commands (the functions below, with the shared options they take)."""
    return (
        Command("solve", solve, help=SOLVE_HELP, no_args_is_help=True,
                shared=shared_options("config", "output_format", "json_output", "digits", "debug")),
        Command("generate", generate, help=GENERATE_HELP, no_args_is_help=True, shared=shared_options("config", "debug")),
    )


def solve(
    ctx: Context,
    file: Annotated[
        Optional[str], Argument(metavar="SHEET", help="The sheet (YAML list of problems); - reads stdin.", show_default=False)
    ] = None,
    show: Annotated[
        Optional[str], Option("--show", metavar="ID", help="Print this problem's worked solution (and its checks).")
    ] = None,
    failures_only: Annotated[
        bool, Option("--failures-only", help="List only the answers that differ (and problems with errors).")
    ] = False,
    allow_outside: AllowOutsideOption = False,
    **shared: Any,
) -> int:
    params, settings = prepare(ctx)
    from dlvcli.render import sheets as view
    from dlvcli.render.jsonout import json_document
    from dlvcli.render.output import stderr_console
    from dlvcli.sheets.model import load_sheet
    from dlvcli.sheets.outcome import DIFFERS, EXIT_CODES, FAULT, OK, worst_status
    from dlvcli.sheets.runner import show_problem, solve_sheet

    path = params["file"]
    if not path:
        raise InputError("missing SHEET (a YAML list of problems); give its path, or - for standard input")
    sheet = load_sheet(path, allow_outside=params["allow_outside"])
    root = ctx.parent
    problem = None
    if params["show"] is not None:
        problem = sheet.find(str(params["show"]))
        if problem is None:
            ids = ", ".join(p.id for p in sheet.problems)
            raise InputError(f"--show {params['show']}: no problem with that id", file=path, expected=f"one of: {ids}")
    outcomes = solve_sheet(root, sheet, only=problem.id if problem else None)
    status = worst_status(outcomes)

    err = stderr_console()
    for outcome in outcomes:
        if outcome.error:
            sys.stderr.write(f"error: {outcome.message}\n")
            if outcome.status == FAULT:
                show_traceback = shared["debug"] or os.environ.get("DLV_DEBUG", "") not in ("", "0")
                if show_traceback and outcome.traceback:
                    sys.stderr.write(outcome.traceback)
                else:
                    sys.stderr.write("This is a bug in dlv. Run again with --debug (or DLV_DEBUG=1) for the traceback.\n")

    title = f"{sheet.label}: {len(outcomes)} problem{'s' if len(outcomes) != 1 else ''}"
    if settings.format == "json":
        payload = view.to_json(outcomes, sheet.label, params["failures_only"])
        inputs = {"file": path, "show": params["show"], "failures_only": params["failures_only"], "allow_outside": params["allow_outside"]}
        sys.stdout.write(json_document("solve", inputs, payload, []) + "\n")
    else:
        from rich.text import Text

        for outcome in outcomes:
            for message in (outcome.result or {}).get("warnings") or []:
                err.print(Text.assemble(("warning:", "yellow"), f" problem {outcome.problem.id!r}: {message}"))
        if problem is not None and outcomes[0].status in (OK, DIFFERS):
            args = ["--format", settings.format]
            source = ctx.get_parameter_source("digits")
            if settings.digits != 4 or (source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")):
                args += ["--digits", str(settings.digits)]
            view.show_heading(problem.id, problem.command, settings)
            show_problem(root, sheet, problem, args)
            sys.stdout.write("\n")
        view.print_outcomes(outcomes, title, settings, sheet.label, params["failures_only"])
    sys.stdout.flush()
    return EXIT_CODES[status]


def generate(
    ctx: Context,
    command: Annotated[
        Optional[str],
        Argument(metavar="COMMAND", help="interp-ap, bptt, focal, box-compare or tconv.", show_default=False),
    ] = None,
    seed: Annotated[Optional[int], Option("--seed", metavar="N", help="Random seed: the same seed prints the same sheet.", show_default=False)] = None,
    count: Annotated[int, Option("--count", min=1, max=10000, metavar="K", help="How many problems (per student with --roster).")] = 5,
    roster: Annotated[
        Optional[str],
        Option("--roster", metavar="ROSTER.csv", help="A CSV with a 'student' column: one variant per student (ids STUDENT/PROBLEM)."),
    ] = None,
    detections: Annotated[Optional[int], Option("--detections", metavar="N", min=1, max=1000, help="interp-ap: detections per ranked table [default: 10].", show_default=False)] = None,
    steps: Annotated[Optional[int], Option("--steps", metavar="N", min=1, max=100, help="bptt: time steps T [default: 3].", show_default=False)] = None,
    hidden: Annotated[Optional[int], Option("--hidden", metavar="N", min=1, max=8, help="bptt: hidden size; 1 gives scalars [default: 1].", show_default=False)] = None,
    probs: Annotated[Optional[int], Option("--probs", metavar="N", min=1, max=20, help="focal: predictions per problem [default: 3].", show_default=False)] = None,
    boxes: Annotated[Optional[int], Option("--boxes", metavar="N", min=1, max=50, help="box-compare: boxes B per reference box A [default: 2].", show_default=False)] = None,
    size: Annotated[Optional[int], Option("--size", metavar="N", min=2, max=10, help="tconv: largest input height/width [default: 3].", show_default=False)] = None,
    data_dir: Annotated[
        Optional[str], Option("--data-dir", metavar="DIR", help="Not needed any more (interp-ap problems carry their table inline); ignored.")
    ] = None,
    **shared: Any,
) -> None:
    params, _ = prepare(ctx)
    from pathlib import Path

    from dlvcli.inputs.config import ConfigEntry
    from dlvcli.sheets import generate as gen
    from dlvcli.sheets.answers import fast_documents
    from dlvcli.sheets.checks import lookup
    from dlvcli.sheets.model import SHEET_COMMANDS
    from dlvcli.sheets.runner import CommandFault, available_commands, run_json

    name = params["command"]
    if not name:
        raise InputError(f"missing COMMAND (expected one of: {', '.join(SHEET_COMMANDS)})")
    if name not in SHEET_COMMANDS:
        raise InputError(f"unknown command {name!r}", expected=f"one of: {', '.join(SHEET_COMMANDS)}")
    root = ctx.parent
    if name not in available_commands(root):
        raise InputError(f"command {name!r} is not available in this dlv, so its answers cannot be computed")
    if params["seed"] is None:
        raise InputError("missing --seed N (the same seed prints the same sheet)")
    sizes = {}
    for option, (commands, default) in gen.SIZE_OPTIONS.items():
        given = params[option]
        if given is not None and name not in commands:
            raise InputError(f"--{option} is for {', '.join(commands)}, not {name}")
        if name in commands:
            sizes[option] = default if given is None else given
    if params["data_dir"] is not None:
        sys.stderr.write("warning: --data-dir is not needed: interp-ap problems carry their ranked table inline (tp, score)\n")

    if params["roster"]:
        students = read_roster(params["roster"])
        if len(students) * params["count"] > MAX_ROSTER_PROBLEMS:
            raise InputError(
                f"{len(students)} students × --count {params['count']} = {len(students) * params['count']} problems",
                file=params["roster"], expected=f"at most {MAX_ROSTER_PROBLEMS} in one sheet",
            )
        pairs = gen.roster_drafts(name, params["seed"], params["count"], sizes, students)
    else:
        pairs = [(None, draft) for draft in gen.drafts(name, params["seed"], params["count"], sizes)]

    problems = []
    documents = fast_documents(name, [draft.options for _, draft in pairs])
    for (student, draft), document in zip(pairs, documents):
        try:
            if document is None:
                entries = [ConfigEntry(key, value, None) for key, value in draft.options]
                document = run_json(root, name, entries, "<generated>", Path("."))
            expect = [(key, gen.round_answer(lookup(document, key))) for key in draft.expect_keys(document)]
        except (ValueError, LookupError, CommandFault) as exc:
            # a generated problem must be well-posed: failing to solve it is dlv's fault
            raise RuntimeError(f"generated problem {draft.id!r} could not be solved: {exc}") from exc
        problems.append(gen.GeneratedProblem(draft.id, name, draft.options, expect, comment=draft.comment, student=student))
    call = [f"dlv generate {name} --seed {params['seed']} --count {params['count']}"]
    call += [f"--{option} {value}" for option, value in sizes.items()]
    if params["roster"]:
        call.append(f"--roster {params['roster']}")
    header = [
        " ".join(call),
        "A dlv problem sheet: the answers are under 'expect'. Check them with: dlv solve SHEET.yaml",
    ]
    if params["roster"]:
        header.append("One variant per student: grade hand-in answers with: dlv grade SHEET.yaml ANSWERS.csv")
    sys.stdout.write(gen.sheet_yaml(problems, header))
    sys.stdout.flush()


MAX_ROSTER_PROBLEMS = 100_000


def read_roster(path: str) -> list[str]:
    """The student ids of a roster CSV (its 'student' column; other columns are ignored), in file order."""
    from dlvcli.inputs.tables import read_csv

    table = read_csv(path, "roster")
    table.require(["student"], "a roster")
    students: list[str] = []
    seen: dict[str, int] = {}
    for line, text in table.cells("student"):
        student = text.strip()
        if not student:
            raise InputError("empty student id", file=path, line=line, column="student", expected="an id such as s01")
        if student in seen:
            raise InputError(f"student {student!r} is already on line {seen[student]}", file=path, line=line, column="student",
                             expected="each student once")
        seen[student] = line
        students.append(student)
    if not students:
        raise InputError("the roster has no students", file=path, expected="a 'student' column with one id per line")
    return students
