"""Solve a sheet's problems in this process, each by running its command as the CLI would.

A problem is an option mapping exactly like a ``--config`` file, so it goes through the
same merge (:func:`dlvcli.cli.common.apply_option_entries`): the command is given a
fresh click context (``--json``), the problem's keys are merged into it with their sheet
lines and paths taken relative to the sheet, and the command's JSON document, written to
a captured stdout, is parsed. Nothing about a command is duplicated here, so a sheet
answers exactly what ``dlv COMMAND -c problem.yaml --json`` would.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Iterable

import typer

from dlvcli.cli.common import INPUT_PATH_KEYS, apply_option_entries
from dlvcli.inputs.config import ConfigEntry
from dlvcli.sheets.checks import DEFAULT_RTOL, DEFAULT_TOL, check_all
from dlvcli.sheets.model import SHEET_COMMANDS, Problem, Sheet
from dlvcli.sheets.outcome import BAD, DIFFERS, FAULT, OK, Outcome


class ProblemError(ValueError):
    """A problem cannot be solved as written (a bad sheet: exit 2); the message names the place."""


class CommandFault(RuntimeError):
    """The command failed in a way that is not the sheet's fault (an internal error: exit 1)."""

    def __init__(self, message: str, traceback_text: str | None = None) -> None:
        super().__init__(message)
        self.traceback_text = traceback_text


def available_commands(root: typer.Context) -> list[str]:
    """The sheet commands this dlv has (a command appears once its module exists)."""
    group = root.command
    return [name for name in SHEET_COMMANDS if group.get_command(root, name) is not None]


# keys of a problem that name files: read (file, gt) or written (plot)
SHEET_PATH_KEYS = ("file", "gt", "plot")


def run_command(
    root: typer.Context,
    command: str,
    entries: Iterable[ConfigEntry],
    path: str,
    base: Path,
    args: list[str],
    capture: bool = True,
    confined: bool = False,
) -> str | None:
    """Run ``command`` with ``args`` plus the option ``entries`` (a --config merge from ``path``).

    Paths in the entries (``file``, ``gt``, ``plot``) are relative to ``base``; with
    ``confined`` each must stay inside ``base`` once ``..`` and symbolic links are resolved
    (a sheet is data a teacher receives from others), checked before anything is read.
    Returns what the command printed when ``capture`` (else it prints to the real stdout).
    ``ValueError`` (bad input, unknown key, missing file) propagates as it is; click usage
    errors become :class:`ProblemError`; anything else :class:`CommandFault`.
    """
    from dlvcli.cli import click_compat as click_exceptions

    entries = list(entries)
    cmd = root.command.get_command(root, command)
    if cmd is None:
        raise ProblemError(f"command {command!r} is not available in this dlv")
    buffer = io.StringIO()
    try:
        sub = cmd.make_context(command, list(args), parent=root)
        with sub:
            apply_option_entries(sub, entries, path, base)
            _sheet_paths(sub, entries, path, base, confined)
            _check_input_paths(sub, entries, path)
            with contextlib.redirect_stdout(buffer) if capture else contextlib.nullcontext():
                cmd.invoke(sub)
    except typer.Exit as exc:
        if exc.exit_code:
            raise CommandFault(f"the command stopped with exit code {exc.exit_code}") from None
    except click_exceptions.ClickException as exc:
        raise ProblemError(exc.format_message()) from None
    except (ValueError, BrokenPipeError):  # bad input; or stdout closed (dlv … | head): dlv.cli.run ends quietly
        raise
    except Exception as exc:
        import traceback

        raise CommandFault(f"internal error: {type(exc).__name__}: {exc}", traceback.format_exc()) from exc
    return buffer.getvalue() if capture else None


def _outside(target: Path, folder: Path) -> bool:
    return not target.resolve().is_relative_to(folder)


def _sheet_paths(ctx: typer.Context, entries: list[ConfigEntry], path: str, base: Path, confined: bool) -> None:
    """Take a problem's paths from the sheet's folder and, when ``confined``, keep them inside it."""
    folder = base.resolve()
    label = "<stdin>" if path == "-" else path
    for entry in entries:
        name = entry.key.replace("-", "_")
        value = ctx.params.get(name)
        if name not in SHEET_PATH_KEYS or not isinstance(value, str) or entry.value == "-":
            continue
        raw = entry.value if isinstance(entry.value, str) else json.dumps(entry.value)  # as the merge encodes it
        target = base / raw  # an absolute value stays as it is
        ctx.params[name] = str(target)
        if not confined:
            continue
        where = f"{label}, " + (f"line {entry.line}: " if entry.line else "") + f"key {entry.key!r}"
        hint = "; a sheet reads and writes only inside its own folder (--allow-outside lifts this)"
        if _outside(target, folder):
            raise ProblemError(f"{where}: {raw!r} leads outside the sheet's folder {str(folder)!r} (after resolving '..' and links){hint}")
        if name != "plot" and target.is_dir():
            # a folder of per-image text files: each file must stay inside too (a symlink may not)
            import os

            with os.scandir(target) as listing:
                for item in listing:
                    if item.is_symlink() and _outside(Path(item.path), folder):
                        raise ProblemError(f"{where}: {item.name!r} in {raw!r} links outside the sheet's folder{hint}")


def _check_input_paths(ctx: typer.Context, entries: list[ConfigEntry], path: str) -> None:
    """Input files named by the problem must exist; standard input belongs to the sheet."""
    lines = {entry.key.replace("-", "_"): entry.line for entry in entries}
    for name in INPUT_PATH_KEYS:
        value = ctx.params.get(name)
        if name not in lines or not isinstance(value, str):
            continue
        where = f"{'<stdin>' if path == '-' else path}, " + (f"line {lines[name]}: " if lines[name] else "")
        if value == "-":
            raise ProblemError(f"{where}key {name!r}: '-' (standard input) cannot be used in a sheet; give a file path")
        if not Path(value).exists():
            raise ProblemError(f"{where}key {name!r}: no such file: {value}")


def run_json(
    root: typer.Context, command: str, entries: Iterable[ConfigEntry], path: str, base: Path, confined: bool = False
) -> dict:
    """The command's JSON document for these options (see :func:`run_command`)."""
    text = run_command(root, command, entries, path, base, ["--json"], confined=confined)
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        raise CommandFault(f"the command did not print one JSON document (got {text[:60]!r})") from None
    if not isinstance(document, dict):
        raise CommandFault("the command's JSON is not an object")
    return document


def check_command(root: typer.Context, sheet: Sheet, problem: Problem) -> None:
    """Raise ProblemError when the problem names no command dlv has."""
    where = f"{sheet.label}, {problem.where('command')}: key 'command'"
    if problem.command not in SHEET_COMMANDS:
        raise ProblemError(f"{where}: unknown command {problem.command!r} (expected one of: {', '.join(SHEET_COMMANDS)})")
    if root.command.get_command(root, problem.command) is None:
        have = ", ".join(available_commands(root)) or "none"
        raise ProblemError(f"{where}: command {problem.command!r} is not available in this dlv (available: {have})")


def located_error(exc: ValueError, sheet: Sheet, problem: Problem) -> str:
    """The message of a problem's bad input, naming the sheet and the line where it lies.

    Faults of the sheet and of its data files already name their place; a command's own check
    of an option (``--stride '0': 0 is below 1; …``) names the flag, which in a sheet is the
    key ``stride`` on its line: ``sheet.yaml, line 5: key 'stride': 0 is below 1; …``.
    Anything else is placed on the problem's first line.
    """
    import re

    from dlvcli.errors import InputError

    message = str(exc)
    if message.startswith(sheet.label + ", ") or (isinstance(exc, InputError) and exc.file is not None):
        return message
    flag = re.match(r"--([\w-]+)(?: '[^'\n]*')?: (.+)", message, re.S)
    if flag:
        key = next((k for k in problem.key_lines if k.replace("_", "-") == flag.group(1)), None)
        if key is not None:
            return f"{sheet.label}, {problem.where(key)}: key {key!r}: {flag.group(2)}"
    return f"{sheet.label}, {problem.where()}: {message}"


def solve_problem(
    root: typer.Context, sheet: Sheet, problem: Problem, tol: float = DEFAULT_TOL, rtol: float = DEFAULT_RTOL
) -> Outcome:
    """Solve one problem and compare its expectations; never raises for a fault of the problem.

    ``tol``/``rtol`` are the defaults for a problem (and sheet) that sets none.
    """
    if problem.error:
        return Outcome(problem, BAD, error=f"{sheet.label}, {problem.error}")
    try:
        check_command(root, sheet, problem)
        document = run_json(root, problem.command, problem.options, sheet.path, sheet.base, sheet.confined)
    except CommandFault as exc:
        return Outcome(problem, FAULT, error=str(exc), traceback=exc.traceback_text)
    except ValueError as exc:  # ProblemError, InputError, the core's argument checks
        return Outcome(problem, BAD, error=located_error(exc, sheet, problem))
    tol, rtol = sheet.tolerances(problem, tol, rtol)
    checks = tuple(check_all(document, [(e.key, e.value) for e in problem.expect], tol, rtol))
    bad = [(c, e) for c, e in zip(checks, problem.expect) if c.error]
    if bad:
        messages = [
            f"{sheet.label}, " + (f"line {e.line}: " if e.line else "") + f"expect key {c.key!r}: "
            + (f"{problem.command} gives no such value: {c.error}" if c.missing else f"the expected value {c.error}")
            for c, e in bad
        ]
        return Outcome(problem, BAD, result=document, checks=checks, error="; ".join(messages))
    status = OK if all(c.ok for c in checks) else DIFFERS
    return Outcome(problem, status, result=document, checks=checks)


def solve_sheet(root: typer.Context, sheet: Sheet, only: str | None = None) -> list[Outcome]:
    """Every problem's outcome in sheet order (or only the problem with id ``only``)."""
    problems = [p for p in sheet.problems if only is None or p.id == only]
    return [solve_problem(root, sheet, problem) for problem in problems]


def show_problem(root: typer.Context, sheet: Sheet, problem: Problem, args: list[str]) -> None:
    """Print the problem's worked solution: its command run with ``args`` (text or markdown)."""
    check_command(root, sheet, problem)
    run_command(root, problem.command, problem.options, sheet.path, sheet.base, args, capture=False, confined=sheet.confined)
