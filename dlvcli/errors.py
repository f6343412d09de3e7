"""The one error type for bad input.

Loaders raise :class:`InputError` naming the place of the fault; the core raises
plain ``ValueError`` for arguments that break its invariants.  The CLI turns both
into ``error: ...`` on stderr and exit code 2, in one place (``dlvcli.cli.app``).
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad user input, with where it is (file, 1-based line, column) and what was expected."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: str | int | None = None,
        expected: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.expected = expected
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.file is not None:
            where.append("<stdin>" if self.file == "-" else str(self.file))
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column!r}" if isinstance(self.column, str) else f"column {self.column}")
        text = (", ".join(where) + ": " if where else "") + self.message
        if self.expected:
            text += f" (expected {self.expected})"
        return text
