"""The reference manual (docs/, built with MkDocs) builds without warnings and documents every
option of every command, as sqlite-utils checks its own docs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from dlvcli.cli import COMMANDS, build_app, top_level_help
from tests.conftest import REPO

DOCS = REPO / "docs"
# command → its page in docs/
PAGES = {"interp-ap": "interp-ap", "bptt": "bptt", "focal": "focal", "box-compare": "box-compare",
         "tconv": "tconv", "solve": "sheets", "generate": "sheets", "grade": "sheets"}


def _options(command) -> list[str]:
    """Every option string of a click command (long and short, and --no-X forms), but --help."""
    names = []
    for param in command.params:
        if param.param_type_name != "option":
            continue
        names += [o for o in [*param.opts, *param.secondary_opts] if o not in ("--help", "-h")]
    return names


def _mentions(text: str, option: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text) is not None


def test_every_command_has_a_page():
    assert sorted({name for name, _, _ in COMMANDS}) == sorted(PAGES)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_every_option_is_in_the_commands_page(name):
    command = typer.main.get_command(build_app()).commands[name]
    page = (DOCS / f"{PAGES[name]}.md").read_text(encoding="utf-8")
    options = _options(command)
    assert "--debug" in options  # the command objects are what we think they are
    missing = [o for o in options if not _mentions(page, o)]
    assert not missing, f"docs/{PAGES[name]}.md does not mention {missing} (add them to its Options section)"


def test_top_level_options_are_documented():
    options = re.findall(r"^  (?:-h, )?(--[\w-]+)", top_level_help().split("Options:")[1].split("Commands:")[0], re.M)
    assert {"--version", "--install-completion", "--show-completion", "--help"} <= set(options)
    page = (DOCS / "conventions.md").read_text(encoding="utf-8")
    assert not [o for o in options if not _mentions(page, o)]


def test_every_page_is_in_the_nav():
    config = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    pages = {p.name for p in DOCS.glob("*.md")}
    assert pages == set(re.findall(r":\s*([\w-]+\.md)\s*$", config, re.M))


def test_mkdocs_build_strict(tmp_path):
    pytest.importorskip("mkdocs")
    mkdocs = shutil.which("mkdocs", path=str(Path(sys.executable).parent))
    argv = [mkdocs] if mkdocs else [sys.executable, "-m", "mkdocs"]
    done = subprocess.run(
        [*argv, "build", "--strict", "--quiet", "--site-dir", str(tmp_path / "site")],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert not [line for line in done.stderr.splitlines() if "WARNING" in line]
    assert (tmp_path / "site" / "focal" / "index.html").exists()


# docs/conventions.md, "Shown numbers and widths": a page, and optionally the heading meant
DOC_REFERENCE = re.compile(r'docs/([\w.-]+\.md)(?:, "([^"]+)")?')


def _code_files():
    for folder in ("dlvcli", "tests", "benchmarks"):
        yield from sorted((REPO / folder).rglob("*.py"))


def test_code_points_to_pages_and_headings_that_exist():
    """Comments cite the project's docs as the reference (not a file outside the repository):
    each cited page exists, and so does each cited heading."""
    missing = []
    for path in _code_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for page, heading in DOC_REFERENCE.findall(line):
                target = DOCS / page
                where = f"{path.relative_to(REPO)}:{number}"
                if not target.exists():
                    missing.append(f"{where}: docs/{page}")
                elif heading and not re.search(rf"^#+ {re.escape(heading)}\s*$", target.read_text(encoding="utf-8"), re.M):
                    missing.append(f'{where}: docs/{page}, "{heading}"')
    assert not missing, missing
    contract = "CONTRACT" + " §"  # a section of a file outside the repository
    assert not [p for p in _code_files() if contract in p.read_text(encoding="utf-8")]
