"""Every terminal example of README.md and docs/*.md is what dlv prints today, at COLUMNS=80.

The rule (also in docs/DEVELOPING.md, "Examples in the docs"):

* Every fenced block says what it is.  ```console is a terminal session and is run here;
  ```yaml, ```csv, ```json, ```markdown and ```python show a file or code, ```bash shows
  commands to type without their output, and ```text is an illustration that no session can
  reproduce (a benchmark's timings with the `$ python benchmarks/…` line that made them, a
  folder tree).  A `$ dlv` prompt outside ```console, a block without a language, or a fence
  left open fails the test.
* In a session, `$ ` starts a command (a line ending in `\\` goes on on the next one) and the
  lines up to the next `$ ` are all it prints: standard error and standard output, one after
  the other in either order (dlv writes its `warning:` and `error:` lines before its output
  and its notes on the files it wrote after it).  Trailing spaces and trailing blank lines do
  not count; nothing shown means it prints nothing.  A line `…` alone stands for one or more
  lines left out: the lines before the first `…` are the output's first lines, those after
  the last `…` its last lines, and each run of lines between two `…` comes in that order in
  between.  The README's wording also holds: "The first N of M lines" / "the first N lines"
  before a block means the lines shown are the first ones, "the last line of M" the last
  ones; M is checked.
* Output that is one JSON document is compared as JSON (parsed, equal to what dlv prints); a
  command ending in the comment `# selected keys` shows an object with some of the top-level
  keys, each equal to dlv's.
* A command exits 0 unless what it shows has an `error:` line or the next command is
  `echo $?`, which prints the exit status.
* The commands run in-process (the `dlv` fixture), with COLUMNS=80 unless a `COLUMNS=N`
  prefix sets another width, in a scratch folder holding a copy of sample_inputs/ and, at its
  top, the files of tests/doc_inputs/ (inputs too long to write out in a page, such as a CSV
  of sixty classes; the text before the example names them).  That folder is also HOME, and
  its path is printed as /home/you (so only where dlv does not wrap the line: the real path
  is longer).  Each README block has its own folder; a page of docs/ has one for all its
  blocks, run in order, so a later block can read what an earlier one wrote.
* Besides `dlv` a session knows only what it takes to show inputs and make them from the page
  itself: `cat FILE`, `cat > FILE <<'EOF'` (a here-document: the lines up to `EOF` become
  the file), `printf '…'`, `sed -n A,Bp FILE`, `sed 's/OLD/NEW/' FILE`, `echo $?`, pipes,
  and `>`/`>>` into a file or /dev/null.  Anything else fails, so no example slips out of
  the check by running another program.
* A ```python block of `>>>` lines is run as a doctest.

The docs' examples drifted once (output from before the worked-solution rework, pasted at
other widths, abridged with "…" inside lines); this keeps them from doing it again.
"""

from __future__ import annotations

import doctest
import json
import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import REPO

LANGUAGES = {"console", "text", "yaml", "csv", "json", "markdown", "python", "bash"}
FENCE = re.compile(r"^(?P<indent>[ ]*)```(?P<lang>[\w-]*)[ ]*\n(?P<body>.*?)^(?P=indent)```[ ]*$", re.S | re.M)
LEFT_OUT = "…"
HOME = "/home/you"  # how the scratch folder's path is printed in the docs
DLV_PROMPT = re.compile(r"^\$ ([A-Z_]+=\S* )*dlv\b|^\$ .*\| *([A-Z_]+=\S* )*dlv\b")


@dataclass(frozen=True)
class Block:
    page: str  # "README.md", "docs/focal.md"
    line: int  # of the opening fence
    lang: str
    lines: tuple[str, ...]
    before: str  # the three lines of text before the fence

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def blocks(page: str) -> list[Block]:
    text = (REPO / page).read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        indent = len(match["indent"])
        body = [line[indent:] if line[:indent].strip() == "" else line for line in match["body"].split("\n")]
        if body and body[-1] == "":
            body.pop()
        line = text.count("\n", 0, match.start()) + 1
        before = "\n".join(text[: match.start()].split("\n")[-4:])
        found.append(Block(page, line, match["lang"], tuple(body), before))
    return found


PAGES = ["README.md", *sorted(f"docs/{p.name}" for p in (REPO / "docs").glob("*.md"))]
BLOCKS = {page: blocks(page) for page in PAGES}


# --- running a session ----------------------------------------------------------------


@dataclass
class Command:
    text: str  # as written, without "$ " (continuation lines joined)
    stdin: str | None  # a here-document's lines
    shown: list[str]
    line: int


def session(block: Block) -> list[Command]:
    commands: list[Command] = []
    lines = list(block.lines)
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.startswith("$ "):
            assert commands, f"{block.where}: a console block starts with '$ COMMAND'"
            commands[-1].shown.append(line)
            i += 1
            continue
        start = i
        text = line[2:]
        while text.endswith("\\"):
            i += 1
            text = text[:-1].rstrip() + " " + lines[i].strip()
        i += 1
        stdin = None
        heredoc = re.search(r"<<\s*'?(\w+)'?", text)
        if heredoc:
            end = lines.index(heredoc[1], i)
            stdin = "".join(f"{row}\n" for row in lines[i:end])
            text = text[: heredoc.start()].rstrip()
            i = end + 1
        commands.append(Command(text, stdin, [], block.line + 1 + start))
    return commands


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str


class Shell:
    """The little shell the docs' sessions use (see the module's docstring)."""

    def __init__(self, dlv, folder: Path, monkeypatch):
        self.dlv, self.folder, self.monkeypatch = dlv, folder, monkeypatch
        self.status = 0

    def run(self, command: Command) -> Ran:
        words = shlex.split(command.text, comments=True)
        target, append = None, False
        for redirect in (">>", ">"):
            if redirect in words:
                k = words.index(redirect)
                target, append, words = words[k + 1], redirect == ">>", words[:k]
                break
        data, errors, code = command.stdin, "", 0
        stages = [[]]
        for word in words:
            if word == "|":
                stages.append([])
            else:
                stages[-1].append(word)
        for stage in stages:
            ran = self.stage(stage, data, command)
            data, errors, code = ran.stdout, errors + ran.stderr, ran.code
        self.status = code
        if target == "/dev/null":
            data = ""
        elif target is not None:
            path = self.folder / target
            with path.open("a" if append else "w", encoding="utf-8") as out:
                out.write(data)
            data = ""
        return Ran(code, data, errors)

    def stage(self, words: list[str], stdin: str | None, command: Command) -> Ran:
        env = {}
        while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
            name, value = words.pop(0).split("=", 1)
            env[name] = value
        program, args = words[0], words[1:]
        if program == "dlv":
            with self.monkeypatch.context() as patch:
                for name, value in env.items():
                    patch.setenv(name, value)
                result = self.dlv(*args, stdin="" if stdin is None else stdin)
            return Ran(result.code, result.stdout, result.stderr)
        assert not env, f"line {command.line}: VAR=value before {program}"
        if program == "cat" and args:
            return Ran(0, "".join((self.folder / a).read_text(encoding="utf-8") for a in args), "")
        if program == "cat":
            return Ran(0, stdin or "", "")
        if program == "printf":
            return Ran(0, args[0].encode().decode("unicode_escape"), "")
        if program == "echo" and args == ["$?"]:
            return Ran(0, f"{self.status}\n", "")
        if program == "sed" and len(args) == 2 and args[0].startswith("s"):  # sed 's/OLD/NEW/' FILE
            old, new = re.fullmatch(r"s(.)(.*?)\1(.*?)\1", args[0]).groups()[1:]
            rows = (self.folder / args[1]).read_text(encoding="utf-8").splitlines(keepends=True)
            return Ran(0, "".join(re.sub(old, lambda _: new, row, count=1) for row in rows), "")
        if program == "sed" and len(args) == 3 and args[0] == "-n":
            first, last = map(int, re.fullmatch(r"(\d+),(\d+)p", args[1]).groups())
            rows = (self.folder / args[2]).read_text(encoding="utf-8").splitlines(keepends=True)
            return Ran(0, "".join(rows[first - 1 : last]), "")
        raise AssertionError(f"line {command.line}: the docs' sessions cannot run {program!r} ({command.text})")


def _lines(text: str) -> list[str]:
    rows = [row.rstrip() for row in text.split("\n")]
    while rows and rows[-1] == "":
        rows.pop()
    return rows


def _as_json(rows: list[str]):
    if not rows or rows[0][:1] not in "{[":
        return None
    try:
        return json.loads("\n".join(rows))
    except ValueError:
        return None


def _in_order(shown: list[str], printed: list[str]) -> bool:
    """Do the runs of `shown` between `…` lines appear in `printed` as the rule says?"""
    parts = [[]]
    for row in shown:
        if row == LEFT_OUT:
            parts.append([])
        else:
            parts[-1].append(row)
    if len(parts) == 1:
        return printed == shown
    first, middle, last = parts[0], parts[1:-1], parts[-1]
    if printed[: len(first)] != first:
        return False
    end = len(printed) - len(last)
    if printed[end:] != last:
        return False
    position = len(first) + 1  # a `…` is at least one line
    for run in middle:
        for start in range(position, end - len(run)):
            if printed[start : start + len(run)] == run:
                position = start + len(run) + 1
                break
        else:
            return False
    return position <= end


def _shows(shown: list[str], printed: list[str], before: str, last: bool) -> bool:
    if re.search(r"[Tt]he first \d+ (?:of \d+ )?lines", before) and last and shown:
        return printed[: len(shown)] == shown
    if re.search(r"last line of \d+", before) and last and shown:
        return printed[-len(shown) :] == shown
    return _in_order(shown, printed)


def check_command(command: Command, ran: Ran, folder: Path, before: str, last: bool, where: str) -> None:
    shown = [row.rstrip() for row in command.shown]
    while shown and shown[-1] == "":
        shown.pop()
    label = f"{where} (line {command.line}): $ {command.text}"
    # dlv writes warnings and errors before its output, and notes on the files it wrote after it
    orders = [_lines((first + second).replace(str(folder), HOME)) for first, second in
              ((ran.stderr, ran.stdout), (ran.stdout, ran.stderr))]
    printed = orders[0]
    expected_json, printed_json = _as_json(shown), _as_json(printed)
    if expected_json is not None and printed_json is not None:
        if command.text.rstrip().endswith("# selected keys"):
            assert isinstance(expected_json, dict), label
            assert expected_json == {key: printed_json.get(key, "<missing>") for key in expected_json}, label
        else:
            assert expected_json == printed_json, label
        return
    assert any(_shows(shown, rows, before, last) for rows in orders), f"{label}\nprinted:\n" + "\n".join(printed)
    total = re.search(r"first \d+ of (\d+) lines|last line of (\d+)", before) if last else None
    if total is not None:
        count = int(next(filter(None, total.groups())))
        assert len(printed) == count, f"{label}: {len(printed)} lines, the text before it says {count}"


def run_blocks(selected: list[Block], folder: Path, dlv, monkeypatch) -> None:
    shell = Shell(dlv, folder, monkeypatch)
    for block in selected:
        commands = session(block)
        for k, command in enumerate(commands):
            ran = shell.run(command)
            following = commands[k + 1].text.strip() if k + 1 < len(commands) else ""
            if ran.code != 0 and following != "echo $?":
                assert any(row.startswith("error:") for row in command.shown), (
                    f"{block.where} (line {command.line}): $ {command.text} exited {ran.code}: {ran.stderr}"
                )
            check_command(command, ran, folder, block.before, k + 1 == len(commands), block.where)


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    shutil.copytree(REPO / "sample_inputs", tmp_path / "sample_inputs")
    shutil.copytree(REPO / "tests" / "doc_inputs", tmp_path, dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


# --- the tests --------------------------------------------------------------------------


def test_every_block_says_what_it_is():
    problems = []
    for page, found in BLOCKS.items():
        for block in found:
            if block.lang not in LANGUAGES:
                problems.append(f"{block.where}: ```{block.lang} (say what it is: {', '.join(sorted(LANGUAGES))})")
            if any(row.lstrip().startswith("```") for row in block.lines):
                problems.append(f"{block.where}: a fence inside the block (one left open?)")
            if block.lang != "console" and any(DLV_PROMPT.search(row) for row in block.lines):
                problems.append(f"{block.where}: '$ dlv' in a ```{block.lang} block (a dlv session is ```console)")
    assert not problems, "\n".join(problems)


README_EXAMPLES = [b for b in BLOCKS["README.md"] if b.lang == "console"]


def test_the_readme_has_an_example_per_command():
    shown = {shlex.split(c.text)[1] for b in README_EXAMPLES for c in session(b)}
    assert {"interp-ap", "focal", "tconv", "box-compare", "bptt", "generate", "solve"} <= shown


@pytest.mark.parametrize("block", README_EXAMPLES, ids=[session(b)[0].text for b in README_EXAMPLES])
def test_a_readme_example_is_what_dlv_prints(block, dlv, scratch, monkeypatch):
    run_blocks([block], scratch, dlv, monkeypatch)


DOC_PAGES = [p for p in PAGES if p != "README.md" and any(b.lang == "console" for b in BLOCKS[p])]


@pytest.mark.parametrize("page", DOC_PAGES)
def test_a_docs_page_shows_what_dlv_prints(page, dlv, scratch, monkeypatch):
    run_blocks([b for b in BLOCKS[page] if b.lang == "console"], scratch, dlv, monkeypatch)


DOCTESTS = [b for page in PAGES for b in BLOCKS[page] if b.lang == "python" and any(r.startswith(">>> ") for r in b.lines)]


@pytest.mark.parametrize("block", DOCTESTS, ids=[b.where for b in DOCTESTS])
def test_a_python_example_runs_as_shown(block):
    test = doctest.DocTestParser().get_doctest("\n".join(block.lines) + "\n", {}, block.where, block.page, block.line)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0, block.where


def test_the_rule_reads_left_out_lines():
    printed = ["a", "b", "c", "d", "e"]
    assert _in_order(["a", LEFT_OUT, "e"], printed)
    assert _in_order(["a", "b", LEFT_OUT, "d", LEFT_OUT], printed)
    assert _in_order([LEFT_OUT, "e"], printed)
    assert not _in_order(["a", LEFT_OUT, "b", "c", "d", "e"], printed)  # … is at least one line
    assert not _in_order(["a", LEFT_OUT, "d", "c", LEFT_OUT], printed)  # in order
    assert not _in_order(["a", "b"], printed)  # no … : the whole output
    assert not _in_order(["b", LEFT_OUT], printed)  # the first lines are the first
