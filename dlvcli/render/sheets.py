"""``dlv solve`` results: the table of checks (rich, Markdown), the JSON document, the summary."""

from __future__ import annotations

from dataclasses import dataclass

from dlvcli.render.output import OutputSettings
from dlvcli.sheets.outcome import BAD, DIFFERS, FAULT, OK, Outcome, describe, describe_full

MAX_CELL = 48


def _cell(text: str, limit: int = MAX_CELL) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Row:
    id: str
    command: str
    key: str
    expected: str
    got: str
    mark: str  # ✓, ✗ or "error"
    ok: bool


def _short_error(error: str, sheet_label: str) -> str:
    """The reason without the sheet's name (the table names the problem; stderr has it all)."""
    if error.startswith(sheet_label + ", "):
        error = error[len(sheet_label) + 2 :]
    return _cell(error, 72)


def rows(outcomes: list[Outcome], sheet_label: str = "") -> list[Row]:
    """One row per expectation; a problem without expectations or with an error gets one row."""
    table: list[Row] = []
    for outcome in outcomes:
        problem = outcome.problem
        command = problem.command or "—"
        if outcome.status in (BAD, FAULT) and not outcome.checks:
            table.append(Row(problem.id, command, "—", "—", _short_error(outcome.error or "", sheet_label), "error", False))
            continue
        if not outcome.checks:
            table.append(Row(problem.id, command, "(no expect)", "—", "solved", "✓", True))
        for check in outcome.checks:
            if check.error:
                table.append(Row(problem.id, command, check.key, _cell(describe(check.expected)), "no such key", "error", False))
            else:
                # a differing value is shown in full, so that it never looks equal to the expected one
                got = describe(check.got) if check.ok else describe_full(check.got)
                table.append(Row(problem.id, command, check.key, _cell(describe(check.expected)), _cell(got), "✓" if check.ok else "✗", check.ok))
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


def to_rich(outcomes: list[Outcome], title: str, sheet_label: str = "") -> list:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, title_justify="left")
    for name, justify, wrap in (
        ("id", "left", False),
        ("command", "left", False),
        ("key", "left", False),
        ("expected", "right", True),
        ("got", "right", True),
        ("ok", "center", False),
    ):
        table.add_column(name, justify=justify, overflow="fold", no_wrap=not wrap)
    for row in rows(outcomes, sheet_label):
        style = "green" if row.ok else ("red" if row.mark != "error" else "bold red")
        table.add_row(row.id, row.command, row.key, row.expected, Text(row.got, style=None if row.ok else "red"), Text(row.mark, style=style))
    failed = any(o.status != OK for o in outcomes)
    return [table, Text(summary_text(outcomes), style="red" if failed else "green")]


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(outcomes: list[Outcome], title: str, sheet_label: str = "") -> str:
    lines = [f"**{_md(title)}**", "", "| id | command | key | expected | got | ok |", "| --- | --- | --- | ---: | ---: | :---: |"]
    for row in rows(outcomes, sheet_label):
        lines.append("| " + " | ".join(_md(v) for v in (row.id, row.command, f"`{row.key}`", row.expected, row.got, row.mark)) + " |")
    lines += ["", summary_text(outcomes)]
    return "\n".join(lines)


def problem_json(outcome: Outcome) -> dict:
    problem = outcome.problem
    entry: dict = {
        "id": problem.id,
        "command": problem.command,
        "ok": outcome.ok,
        "status": outcome.status,
        "result": outcome.result,
        "checks": [
            {"key": c.key, "expected": c.expected, "got": c.got, "ok": c.ok, **({"error": c.error} if c.error else {})}
            for c in outcome.checks
        ],
    }
    if outcome.error:
        entry["error"] = outcome.error
    return entry


def to_json(outcomes: list[Outcome], sheet_label: str) -> dict:
    """The command's keys of ``dlv solve --json`` (the envelope is added by jsonout)."""
    return {
        "sheet": sheet_label,
        "ok": all(o.ok for o in outcomes),
        "summary": counts(outcomes),
        "problems": [problem_json(o) for o in outcomes],
    }


def print_outcomes(outcomes: list[Outcome], title: str, settings: OutputSettings, sheet_label: str = "") -> None:
    """Print the table (text) or Markdown on stdout."""
    import sys

    if settings.format == "markdown":
        sys.stdout.write(to_markdown(outcomes, title, sheet_label) + "\n")
        return
    from dlvcli.render.output import stdout_console

    console = stdout_console()
    for renderable in to_rich(outcomes, title, sheet_label):
        console.print(renderable)


def show_heading(problem_id: str, command: str, settings: OutputSettings) -> None:
    """The line above a problem's worked solution (``--show``)."""
    import sys

    if settings.format == "markdown":
        sys.stdout.write(f"### Problem `{problem_id}` ({command})\n\n")
        return
    from rich.rule import Rule

    from dlvcli.render.output import stdout_console

    stdout_console().print(Rule(f"problem {problem_id} ({command})", align="left"))
