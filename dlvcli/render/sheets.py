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


def _text_minus(text: str) -> str:
    """A shown number's minus is U+2212 in text (CONTRACT §8.1); user strings stay literal."""
    import re

    return re.sub(r"(?<![\w.])-(?=\d)|(?<=\de)-(?=\d)", "\u2212", text)


def _shown_row(row: Row) -> Row:
    numeric = row.mark != "error"
    if not numeric:
        return row
    return Row(row.id, row.command, row.key, _text_minus(row.expected), _text_minus(row.got), row.mark, row.ok)


HEADERS = (("id", "left"), ("command", "left"), ("key", "left"), ("expected", "right"), ("got", "right"), ("ok", "center"))


class _ChecksTable:
    """The table of checks; on a console too narrow for it (no cell is ever cut or folded),
    one block per problem: its id and command, then a line per check."""

    def __init__(self, table_rows: list[Row], title: str):
        self.rows = [_shown_row(r) for r in table_rows]
        self.title = title

    def _width(self) -> int:
        from rich.cells import cell_len

        cells = [[r.id, r.command, r.key, r.expected, r.got, r.mark] for r in self.rows]
        widths = [max([cell_len(h)] + [cell_len(c[i]) for c in cells]) + 2 for i, (h, _) in enumerate(HEADERS)]
        return sum(widths) + len(widths) + 1

    def __rich_console__(self, console, options):
        from rich.padding import Padding
        from rich.table import Table
        from rich.text import Text

        if self._width() <= options.max_width:
            table = Table(title=self.title, title_justify="left")
            for name, justify in HEADERS:
                table.add_column(name, justify=justify, no_wrap=True)
            for row in self.rows:
                style = "green" if row.ok else ("red" if row.mark != "error" else "bold red")
                table.add_row(row.id, row.command, row.key, row.expected, Text(row.got, style=None if row.ok else "red"), Text(row.mark, style=style))
            yield table
            return
        yield Text(self.title)
        last = None
        for row in self.rows:
            if (row.id, row.command) != last:
                last = (row.id, row.command)
                yield Text(f"{row.id} ({row.command})", style="bold")
            style = "green" if row.ok else ("red" if row.mark != "error" else "bold red")
            line = Text()
            line.append(row.mark, style=style)
            line.append(f" {row.key}: ")
            if row.mark == "error":
                line.append(row.got, style="red")
            elif row.ok and row.expected == row.got:
                line.append(row.got)
            else:
                line.append(f"got {row.got}, expected {row.expected}", style=None if row.ok else "red")
            yield Padding(line, (0, 0, 0, 2), expand=False)


def to_rich(outcomes: list[Outcome], title: str, sheet_label: str = "") -> list:
    from rich.text import Text

    failed = any(o.status != OK for o in outcomes)
    return [_ChecksTable(rows(outcomes, sheet_label), title), Text(summary_text(outcomes), style="red" if failed else "green")]


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_value(text: str) -> str:
    """A shown number (or list of numbers, or p/q) as inline math; other text as it is."""
    import re

    if re.fullmatch(r"[\[\]\d\s.,eE+\-/]+", text) and re.search(r"\d", text):
        return "$" + text.replace("[", "\\lbrack ").replace("]", "\\rbrack ") + "$"
    return _md(text)


def to_markdown(outcomes: list[Outcome], title: str, sheet_label: str = "") -> str:
    lines = [f"**{_md(title)}**", "", "| id | command | key | expected | got | ok |", "| --- | --- | --- | ---: | ---: | :---: |"]
    for row in rows(outcomes, sheet_label):
        expected, got = (_md_value(row.expected), _md_value(row.got)) if row.mark != "error" else (_md(row.expected), _md(row.got))
        lines.append("| " + " | ".join((_md(row.id), _md(row.command), f"`{row.key}`", expected, got, row.mark)) + " |")
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
