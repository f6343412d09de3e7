"""dlv's own command-line parser (dlvcli/cli/params.py) against typer's reading of the same line.

``Command.parse`` reads plain command lines without importing typer (start-up); whatever it
reads must be what typer reads: the same ``ctx.params`` in the same order, the same
parameter sources and the same keyword arguments for the command's function.  Where it
gives up (None), typer reads the line, so giving up is always safe; reading a line typer
refuses, or reading it differently, is the fault these tests look for.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlvcli.cli import QUICK_MODULES

typer = pytest.importorskip("typer")


def quick_commands():
    found = []
    for name, module in QUICK_MODULES.items():
        for command in importlib.import_module(f"dlvcli.cli.{module}").commands():
            if command.name == name:
                found.append(command)
    return found


COMMANDS = {command.name: command for command in quick_commands()}


def typer_reading(command, args: list[str]):
    """(ctx.params as a list of items, sources, keyword arguments) as typer gives them to the
    function, or None when typer refuses the line."""
    from dlvcli.cli import click_compat

    seen = {}

    def spy(ctx, **keywords):
        seen["params"] = list(ctx.params.items())
        seen["sources"] = {name: ctx.get_parameter_source(name).name for name in ctx.params}
        seen["keywords"] = keywords

    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None,
                      context_settings={"help_option_names": ["-h", "--help"]})
    app.callback()(lambda: None)
    command.add_to(app, function=spy)
    try:
        app(args=[command.name, *args], standalone_mode=False, prog_name="dlv")
    except (click_compat.ClickException, click_compat.Abort):
        return None
    return seen or None  # --help prints and calls nothing


def quick_reading(command, args: list[str]):
    ctx = command.parse(args)
    if ctx is None:
        return None
    return {
        "params": list(ctx.params.items()),
        "sources": {name: ctx.get_parameter_source(name).name for name in ctx.params},
        "keywords": command.keywords(ctx),
    }


def _nan_equal(value):
    """``value`` with each float NaN replaced by a marker: ``--clip nan`` is read as NaN by
    both readers, and NaN != NaN would make equal readings differ."""
    if isinstance(value, float) and value != value:
        return "NaN"
    if isinstance(value, dict):
        return {k: _nan_equal(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_nan_equal(v) for v in value)
    return value


def assert_same_reading(command, args: list[str]) -> bool:
    """Compare the readers on ``args``; True when dlv's parser read the line itself."""
    quick = quick_reading(command, args)
    if quick is None:
        return False
    assert _nan_equal(typer_reading(command, args)) == _nan_equal(quick), args
    return True


# ---------------------------------------------------------------- command lines people type

EVERYDAY = [
    ["interp-ap", "sample_inputs/interp_ap_course.csv", "--num-gt", "5"],
    ["interp-ap", "d.csv", "--num-gt", "5", "--method", "allpoint", "--exact"],
    ["interp-ap", "d.csv", "--gt", "g.csv", "--iou", "0.5:0.95:0.05", "--class", "cat", "--class", "dog", "--json"],
    ["interp-ap", "--tp", "1,0,1", "--num-gt=4", "-f", "markdown", "--digits", "6"],
    ["focal", "--p", "0.9", "--json"],
    ["focal", "--logit", "-3", "--logit", "0", "--logit", "3", "--target", "0", "--alpha", "0.25"],
    ["focal", "sample_inputs/focal_dataset.csv", "--plot", "focal.png"],
    ["focal", "--classes", "3", "--logits", "2,0.3,-1", "--target", "0", "--gamma", "2"],
    ["bptt", "-c", "sample_inputs/bptt_course.yaml", "--check"],
    ["bptt", "--symbolic", "--T", "3", "--t", "2", "--bias", "--truncate", "2"],
    ["bptt", "--U", "0.5", "--W", "0.8", "--V", "1.2", "--x", "1,0.5,-1", "--y", "0.2,0.1,0.3", "--cell", "lstm"],
    ["box-compare", "--a", "0,0,4,3", "--b", "1,1,5,4", "--b", "0,0,2,2", "--box-format", "xyxy"],
    ["box-compare", "--a", "0,0,4,3", "--same-l2", "1", "--n", "8", "--format=json"],
    ["tconv", "--x", "[[1,2],[3,4]]", "--k", "[[1,0],[0,1]]", "--stride", "2", "--show-matrix"],
    ["tconv", "--input", "3", "--kernel", "3", "--solve", "--output", "7"],
]


@pytest.mark.parametrize("argv", EVERYDAY, ids=[" ".join(a) for a in EVERYDAY])
def test_everyday_command_lines_are_read_without_typer_and_as_typer_reads_them(argv):
    assert assert_same_reading(COMMANDS[argv[0]], argv[1:]), "dlv's parser gave this line to typer"


TYPERS_OWN = [
    ["focal", "--help"],
    ["focal", "-h"],
    ["focal", "--pp", "3"],  # misspelt: typer says "Possible options"
    ["bptt", "--u", "1"],  # wrong case: the case hint
    ["focal", "--target", "x"],  # not a whole number
    ["focal", "--target", "-1"],  # below its range
    ["interp-ap", "--method", "11-point"],  # not a choice
    ["interp-ap", "a.csv", "b.csv"],  # an extra argument
    ["interp-ap", "--", "a.csv"],
    ["focal", "--json=1"],  # a flag with a value
    ["focal", "--p"],  # a missing value
    ["focal", "-cfile.yaml"],  # bundled short option
    ["tconv", "-3"],
]


@pytest.mark.parametrize("argv", TYPERS_OWN, ids=[" ".join(a) for a in TYPERS_OWN])
def test_help_and_mistakes_go_to_typer(argv):
    assert COMMANDS[argv[0]].parse(argv[1:]) is None


# ---------------------------------------------------------------- any command line

WORDS = st.sampled_from(["0", "1", "-1", "2.5", "x", "", "-", "--", "--json", "-c", "a=b", "1e3", " 7", "5_0", "١", "nan", "text", "json"])
JUNK = st.sampled_from(["--help", "-h", "--", "--nope", "-x", "-cfile", "--digits=", "--json=yes", "--no-json", "-"])


@st.composite
def command_lines(draw, command):
    """Tokens built from the command's own parameters (valid and invalid values, both
    spellings, positional arguments), with some junk typer has to judge."""
    tokens: list[str] = []
    for _ in range(draw(st.integers(0, 6))):
        choice = draw(st.integers(0, 9))
        if choice == 0:
            tokens.append(draw(JUNK))
            continue
        p = draw(st.sampled_from(command.parameters))
        if p.kind == "argument":
            tokens.append(draw(WORDS))
            continue
        name = draw(st.sampled_from(p.opts))
        if p.flag:
            tokens.append(name)
            continue
        if p.choices is not None:
            value = draw(st.one_of(st.sampled_from(sorted(p.choices)), WORDS))
        elif p.item is int:
            low = (p.min if p.min is not None else -5) - 2
            high = (p.max if p.max is not None else low + 10) + 2
            value = draw(st.one_of(st.integers(low, high).map(str), WORDS))
        else:
            value = draw(WORDS)
        if draw(st.booleans()) and name.startswith("--"):
            tokens.append(f"{name}={value}")
        else:
            tokens += [name, value]
    return tokens


@pytest.mark.parametrize("name", sorted(COMMANDS))
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_command_line_is_read_as_typer_reads_it_or_left_to_typer(name, data):
    command = COMMANDS[name]
    assert_same_reading(command, data.draw(command_lines(command)))


def test_the_quick_path_does_not_import_typer():
    code = (
        "import sys, io; from dlvcli.cli import run; sys.stdout = io.StringIO(); "
        "code = run(['focal', '--p', '0.9', '--json']); sys.stdout = sys.__stdout__; "
        "print(code, 'typer' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["0", "False"]
