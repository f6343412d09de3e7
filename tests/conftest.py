"""Shared fixtures: run dlv through its real entry point and capture what it prints."""

from __future__ import annotations

import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from dlvcli.cli import run

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_inputs"


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self) -> dict:
        return json.loads(self.stdout)


@pytest.fixture
def dlv(capsys, monkeypatch):
    """``dlv("interp-ap", path, "--json")`` → CliResult(code, stdout, stderr)."""

    def call(*args, stdin: str | bytes | None = None) -> CliResult:
        if stdin is not None:
            data = stdin.encode() if isinstance(stdin, str) else stdin
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
        code = run([str(a) for a in args])
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return call
