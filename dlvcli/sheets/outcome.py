"""What solving one problem gave, and how a value is shown in a table or message."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable

from dlvcli.sheets.checks import Check
from dlvcli.sheets.model import Problem

# outcome of a problem, from best to worst; the exit code of a sheet follows the worst
OK, DIFFERS, BAD, FAULT = "ok", "differs", "bad", "fault"
EXIT_CODES = {OK: 0, DIFFERS: 3, BAD: 2, FAULT: 1}
_RANK = {OK: 0, DIFFERS: 1, BAD: 2, FAULT: 3}


@dataclass(frozen=True)
class Outcome:
    """``status``: ok (every expectation holds), differs (an answer differs: exit 3), bad (the
    problem cannot be solved as written: exit 2) or fault (an internal error: exit 1)."""

    problem: Problem
    status: str
    result: dict | None = None
    checks: tuple[Check, ...] = ()
    error: str | None = None
    traceback: str | None = None  # of an internal error, shown with --debug

    @property
    def ok(self) -> bool:
        return self.status == OK

    @property
    def message(self) -> str | None:
        """The error naming the problem: ``problem 'q3': sheet.yaml, line 12: …``."""
        return None if self.error is None else f"problem {self.problem.id!r}: {self.error}"


def worst_status(outcomes: Iterable[Outcome]) -> str:
    return max((o.status for o in outcomes), key=_RANK.__getitem__, default=OK)


def describe(value: Any) -> str:
    """A compact one-line text for a value in a table or message (floats to 10 significant digits)."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float):
        return f"{value:.10g}"
    if isinstance(value, list):
        return "[" + ", ".join(describe(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {describe(v)}" for k, v in value.items()) + "}"
    return str(value)


def describe_full(value: Any) -> str:
    """Like :func:`describe` with floats at full precision (shortest round-trip form)."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(describe_full(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {describe_full(v)}" for k, v in value.items()) + "}"
    return describe(value)
