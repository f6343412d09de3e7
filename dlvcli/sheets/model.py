"""A problem sheet (docs/sheets.md): a YAML list of problems, each an option mapping plus ``expect``.

::

    - id: ap-11point               # unique; named in every message about this problem
      command: interp-ap           # one of dlv's commands
      file: interp_ap_course.csv   # the command's options, as in its --config file;
      num-gt: 5                    #   paths relative to the sheet's folder
      expect:                      # dotted keys of the command's JSON → expected values
        map: 0.7532467532
        classes.0.ap_exact: "58/77"
      tol: 1e-9                    # absolute tolerance; rtol: relative (defaults: the command's)

A sheet may also be a mapping ``{tol:, rtol:, problems: [...]}`` whose tolerances apply to
every problem that does not set its own. A problem generated for one student of a roster
has ``student: ID``.

A fault of the sheet as a whole (not YAML, not a list) raises :class:`InputError`. A fault
of one problem (no id, a duplicate id, a bad ``expect`` or ``tol``) is recorded in that
problem's ``error`` so that the other problems are still solved.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlvcli.errors import InputError
from dlvcli.inputs.config import ConfigEntry, load_yaml, read_text
from dlvcli.inputs.config import _yaml_error as yaml_error

RESERVED_KEYS = ("id", "command", "expect", "tol", "rtol", "student")
SHEET_KEYS = ("problems", "tol", "rtol")  # of a sheet written as a mapping
# the commands a sheet may name (docs/sheets.md); solve and generate are not among them
SHEET_COMMANDS = ("interp-ap", "bptt", "focal", "box-compare", "tconv")


@dataclass(frozen=True)
class Expectation:
    key: str
    value: Any
    line: int | None


@dataclass(frozen=True)
class Problem:
    """One problem of a sheet: which command, its options (with their lines) and what to expect."""

    id: str
    command: str | None
    index: int  # 1-based position in the sheet
    line: int  # the line where the problem starts
    options: tuple[ConfigEntry, ...] = ()
    expect: tuple[Expectation, ...] = ()
    tol: float | None = None  # None: the sheet's, else the command's default
    rtol: float | None = None
    student: str | None = None  # the roster's student this variant is for
    error: str | None = None  # a fault found while reading the sheet
    key_lines: dict[str, int] = field(default_factory=dict)

    def where(self, key: str | None = None) -> str:
        """``line N`` of ``key`` in this problem (or of the problem itself)."""
        return f"line {self.key_lines.get(key, self.line) if key else self.line}"


@dataclass(frozen=True)
class Sheet:
    path: str  # as given ("-" for standard input)
    base: Path  # relative paths in problems are taken from here
    problems: tuple[Problem, ...]
    tol: float | None = None  # the sheet's own defaults (a sheet written as a mapping)
    rtol: float | None = None
    confined: bool = True  # problems read and write only inside ``base`` (``--allow-outside`` lifts it)

    @property
    def label(self) -> str:
        return "<stdin>" if self.path == "-" else self.path

    def find(self, problem_id: str) -> Problem | None:
        return next((p for p in self.problems if p.id == problem_id), None)

    def tolerances(self, problem: Problem, tol: float, rtol: float) -> tuple[float, float]:
        """(tol, rtol) for ``problem``: its own, else the sheet's, else the given defaults."""
        return (
            next(v for v in (problem.tol, self.tol, tol) if v is not None),
            next(v for v in (problem.rtol, self.rtol, rtol) if v is not None),
        )


def _lines(mapping_node: Any) -> dict[str, int]:
    lines: dict[str, int] = {}
    for key_node, _ in getattr(mapping_node, "value", ()):
        lines.setdefault(str(key_node.value), key_node.start_mark.line + 1)
    return lines


def _tolerance(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{name}: expected a number ≥ 0, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{name}: expected a number ≥ 0, got {value!r}") from None
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{name}: expected a finite number ≥ 0, got {value!r}")
    return number


def parse_problem(raw: Any, node: Any, index: int, seen_ids: set[str]) -> Problem:
    """One list item of the sheet → a :class:`Problem` (its faults in ``error``, never raised)."""
    line = node.start_mark.line + 1 if node is not None else 1
    if not isinstance(raw, dict):
        return Problem(id=f"#{index}", command=None, index=index, line=line,
                       error=f"line {line}: expected a mapping with id, command, options and expect, got a {type(raw).__name__}")
    key_lines = _lines(node)
    raw = {str(k): v for k, v in raw.items()}
    problem_id = raw.get("id")
    base = dict(index=index, line=line, key_lines=key_lines)
    if problem_id is None or isinstance(problem_id, (dict, list)) or str(problem_id).strip() == "":
        return Problem(id=f"#{index}", command=_text(raw.get("command")), **base,
                       error=f"line {line}: no 'id' (expected a short unique name, e.g. id: q1)")
    problem_id = str(problem_id).strip()
    if problem_id in seen_ids:
        return Problem(id=problem_id, command=_text(raw.get("command")), **base,
                       error=f"line {key_lines.get('id', line)}: key 'id': {problem_id!r} is already the id of an earlier problem (ids must be unique)")
    seen_ids.add(problem_id)
    command = raw.get("command")
    if command is None:
        return Problem(id=problem_id, command=None, **base,
                       error=f"line {line}: no 'command' (expected one of: {', '.join(SHEET_COMMANDS)})")
    command = _text(command)
    try:
        tol = _tolerance(raw["tol"], "tol") if "tol" in raw else None
        rtol = _tolerance(raw["rtol"], "rtol") if "rtol" in raw else None
    except ValueError as exc:
        name = str(exc).split(":")[0]
        return Problem(id=problem_id, command=command, **base, error=f"line {key_lines.get(name, line)}: key {name!r}: {str(exc).split(': ', 1)[1]}")
    student = raw.get("student")
    if student is not None and (isinstance(student, (dict, list, bool)) or str(student).strip() == ""):
        return Problem(id=problem_id, command=command, **base,
                       error=f"line {key_lines.get('student', line)}: key 'student': expected a student id, got {student!r}")
    student = None if student is None else str(student).strip()
    expect_raw = raw.get("expect")
    expectations: list[Expectation] = []
    if expect_raw is not None:
        if not isinstance(expect_raw, dict):
            return Problem(id=problem_id, command=command, **base,
                           error=f"line {key_lines.get('expect', line)}: key 'expect': expected a mapping of dotted JSON keys "
                           f"to values (e.g. classes.0.ap: 0.75), got a {type(expect_raw).__name__}")
        expect_node = next((v for k, v in node.value if str(k.value) == "expect"), None)
        expect_lines = _lines(expect_node)
        expectations = [Expectation(str(k), v, expect_lines.get(str(k))) for k, v in expect_raw.items()]
    options = tuple(
        ConfigEntry(key, value, key_lines.get(key, line)) for key, value in raw.items() if key not in RESERVED_KEYS
    )
    return Problem(id=problem_id, command=command, options=options, expect=tuple(expectations), tol=tol, rtol=rtol,
                   student=student, **base)


def _text(value: Any) -> str | None:
    return None if value is None else str(value).strip()


def parse_yaml(text: str, path: str) -> tuple[Any, Any]:
    """(value, node) of a YAML document, parsed once, with the same checks as a --config file
    (no non-JSON values, bounded nesting and aliases: sheets come from others)."""
    return load_yaml(text, path)


def _sheet_mapping(value: dict, node: Any, path: str) -> tuple[list, Any, float | None, float | None]:
    """A sheet written as a mapping: its problems (and their nodes) and its own tolerances."""
    lines = _lines(node)
    for key in value:
        if str(key) not in SHEET_KEYS:
            raise InputError(f"unknown key {str(key)!r} in the sheet", file=path, line=lines.get(str(key)),
                             expected=f"one of: {', '.join(SHEET_KEYS)} (or a plain YAML list of problems)")
    tolerances = []
    for name in ("tol", "rtol"):
        try:
            tolerances.append(_tolerance(value[name], name) if name in value else None)
        except ValueError as exc:
            raise InputError(f"key {name!r}: {str(exc).split(': ', 1)[1]}", file=path, line=lines.get(name)) from None
    problems = value.get("problems")
    if not isinstance(problems, list):
        raise InputError("key 'problems': expected a YAML list of problems", file=path, line=lines.get("problems", 1))
    problems_node = next((v for k, v in node.value if str(k.value) == "problems"), None)
    return problems, problems_node, tolerances[0], tolerances[1]


def load_sheet(path: str, allow_outside: bool = False) -> Sheet:
    """Read a sheet file (``-``: standard input). Raises InputError when it is not a list of problems.

    The sheet's folder (the current folder for standard input) is where its relative paths
    start, and, unless the caller allows otherwise, the only folder its problems may use.
    """
    text = read_text(path)
    value, node = parse_yaml(text, path)
    if value is None:
        raise InputError("the sheet is empty", file=path, expected="a YAML list of problems (- id: …, command: …)")
    tol = rtol = None
    if isinstance(value, dict) and "problems" in value:
        value, node, tol, rtol = _sheet_mapping(value, node, path)
    if not isinstance(value, list):
        raise InputError(
            f"a sheet is a YAML list of problems, got a {type(value).__name__}",
            file=path,
            line=1,
            expected="items starting with '- id: …'",
        )
    if not value:
        raise InputError("the sheet has no problems", file=path, expected="a YAML list of problems (- id: …, command: …)")
    seen: set[str] = set()
    items = list(getattr(node, "value", []))
    problems = tuple(parse_problem(raw, items[i] if i < len(items) else None, i + 1, seen) for i, raw in enumerate(value))
    base = Path(path).parent if path != "-" else Path(".")
    return Sheet(path=path, base=base, problems=problems, tol=tol, rtol=rtol, confined=not allow_outside)
