"""CSV files: read with line numbers, check columns and cell values, name the place of a fault."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

from dlvcli.errors import InputError
from dlvcli.inputs.config import read_text

TRUE_WORDS = {"1", "true", "tp"}
FALSE_WORDS = {"0", "false", "fp"}


def header_listing(names: tuple[str, ...], shown: int = 20) -> str:
    """The header's names for a message: all of them, or the first ``shown`` and how many more."""
    if not names:
        return "none"
    if len(names) <= shown:
        return ", ".join(names)
    return ", ".join(names[:shown]) + f" and {len(names) - shown:,} more"


@dataclass(frozen=True)
class CsvTable:
    """A CSV file's header (names stripped and lower-cased) and data rows with their 1-based lines."""

    path: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    lines: tuple[int, ...]

    def has(self, name: str) -> bool:
        return name in self.header

    def index(self, name: str) -> int:
        return self.header.index(name)

    def require(self, names, what: str) -> None:
        missing = [n for n in names if n not in self.header]
        if missing:
            raise InputError(
                f"missing column{'s' if len(missing) > 1 else ''} {', '.join(repr(m) for m in missing)}",
                file=self.path,
                line=1,
                expected=f"{what} with columns {', '.join(names)} (found: {header_listing(self.header)})",
            )

    def cells(self, name: str):
        """(line, text) for every data row of column ``name``."""
        i = self.index(name)
        return ((line, row[i]) for line, row in zip(self.lines, self.rows))

    def error(self, line: int, column: str, message: str, expected: str | None = None) -> InputError:
        return InputError(message, file=self.path, line=line, column=column, expected=expected)


def read_csv(path: str, what: str) -> CsvTable:
    """Read a CSV file (``-`` for stdin) with a header line; CRLF and a UTF-8 BOM are fine."""
    text = read_text(path)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        records = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise InputError(f"malformed CSV: {exc}", file=path, line=reader.line_num) from None
    records = [(line, row) for line, row in records if any(cell.strip() for cell in row)]
    if not records:
        raise InputError("empty file", file=path, expected=f"a header line and rows of {what}")
    header_line, header = records[0]
    names = tuple(cell.strip().lower() for cell in header)
    seen: set[str] = set()  # a set, not names[:i]: a 100,000-column header is read in a blink
    for i, name in enumerate(names):
        if not name:
            raise InputError(f"empty column name in position {i + 1}", file=path, line=header_line)
        if name in seen:
            raise InputError(f"duplicate column {name!r} (position {i + 1})", file=path, line=header_line)
        seen.add(name)
    rows = []
    lines = []
    for line, row in records[1:]:
        if len(row) != len(names):
            raise InputError(
                f"{len(row)} fields, but the header has {len(names)}", file=path, line=line, expected=", ".join(names)
            )
        rows.append(tuple(cell.strip() for cell in row))
        lines.append(line)
    if not rows:
        raise InputError("no data rows after the header", file=path, line=header_line, expected=f"rows of {what}")
    return CsvTable(path, names, tuple(rows), tuple(lines))


def parse_float(table: CsvTable, line: int, column: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise table.error(line, column, f"{text!r} is not a number", "a number") from None
    if not math.isfinite(value):
        raise table.error(line, column, f"{text!r} is not a finite number", "a finite number")
    return value


def parse_flag(table: CsvTable, line: int, column: str, text: str, expected: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise table.error(line, column, f"{text!r} is not a valid value", expected)
