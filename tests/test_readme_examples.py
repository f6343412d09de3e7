"""The README's console examples are what dlv prints today, at COLUMNS=80.

Each ```console block is run command by command in a scratch copy of sample_inputs/: the
lines shown must be the output's first lines, or its last lines where the text before the
block says it shows "the last line" (trailing spaces aside).  The docs' examples drifted
once (they showed output from before the worked-solution rework); this keeps the front page
from doing the same.
"""

from __future__ import annotations

import re
import shlex
import shutil

import pytest

from conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"((?:[^\n]*\n){0,3})```console\n(.*?)```", re.S)


def examples() -> list[tuple[str, list[tuple[str, list[str]]], bool, int | None]]:
    """(first command, [(command, lines shown)], shows the last lines?, total lines the text
    says the output has: "The first 9 of 42 lines", "the last line of 49")."""
    found = []
    for before, body in BLOCK.findall(README):
        lines = body.rstrip("\n").split("\n")
        starts = [i for i, line in enumerate(lines) if line.startswith("$ ")]
        commands = [(lines[i][2:], lines[i + 1:(starts[k + 1] if k + 1 < len(starts) else len(lines))]) for k, i in enumerate(starts)]
        total = re.search(r"first \d+ of (\d+) lines|last line of (\d+)", before)
        found.append((commands[0][0], commands, "last line" in before, int(next(filter(None, total.groups()))) if total else None))
    return found


EXAMPLES = examples()


def test_the_readme_has_an_example_per_command():
    shown = {command.split()[1] for _, commands, _, _ in EXAMPLES for command, _ in commands}
    assert {"interp-ap", "focal", "tconv", "box-compare", "bptt", "generate", "solve"} <= shown


@pytest.mark.parametrize(("first", "commands", "tail", "total"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_a_readme_example_is_what_dlv_prints(first, commands, tail, total, dlv, tmp_path, monkeypatch):
    shutil.copytree(REPO / "sample_inputs", tmp_path / "sample_inputs")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "80")
    for command, shown in commands:
        words = shlex.split(command)
        assert words[0] == "dlv", command
        target = None
        if ">" in words:  # dlv generate … > sheet.yaml
            target = words[words.index(">") + 1]
            words = words[: words.index(">")]
        result = dlv(*words[1:])
        assert result.code == 0, (command, result.stderr)
        if target:
            (tmp_path / target).write_text(result.stdout, encoding="utf-8")
        printed = [line.rstrip() for line in result.stdout.rstrip("\n").split("\n")]
        if shown:
            assert (printed[-len(shown):] if tail else printed[: len(shown)]) == shown, command
            if total is not None and command == commands[-1][0]:
                assert len(printed) == total, f"{command}: {len(printed)} lines, the README says {total}"
