"""The top-level help, printed without typer, agrees with the commands' own help."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from dlvcli.cli import COMMANDS


def test_top_level_help_lists_every_command(dlv):
    r = dlv("--help")
    assert r.code == 0
    text = " ".join(r.stdout.split())  # summaries wrap at the terminal's width, at most 80
    for name, _, summary in COMMANDS:
        assert f"  {name} " in r.stdout and f"{name} {summary}" in text
    assert max(len(line) for line in r.stdout.splitlines()) <= 80
    assert dlv().stdout == r.stdout  # a bare `dlv` prints the same


@pytest.mark.parametrize("name, module, summary", COMMANDS)
def test_summary_is_the_first_line_of_the_commands_help(dlv, name, module, summary):
    r = dlv(name, "--help")
    assert r.code == 0
    text = " ".join(r.stdout.split())  # click re-wraps the paragraph
    assert summary in text
    assert "Example" in r.stdout or "example" in r.stdout


def test_help_imports_no_typer_numpy_or_matplotlib():
    code = (
        "import sys, json, contextlib, io\n"
        "from dlvcli.cli import run\n"
        "with contextlib.redirect_stdout(io.StringIO()): run(['--help'])\n"
        "print(json.dumps(sorted(m for m in ('typer', 'numpy', 'matplotlib') if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_version(dlv):
    import dlvcli

    assert dlv("--version").stdout.strip() == f"dlv {dlvcli.__version__}"
