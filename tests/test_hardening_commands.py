"""Hostile input for focal, box-compare, tconv, bptt, solve and generate (issue 8).

The properties of ``tests/test_hardening.py`` (which covers interp-ap), through the real
entry point ``dlvcli.cli.run``, for every generated input:

* the exit code is 0 or 2 (``dlv solve`` may also say 3: an answer differs), never 1
  and never a traceback;
* with 2, stderr starts ``error:``;
* in --json mode stdout is one JSON document (and nothing when the input is refused);
* a failed --plot leaves no file behind, not even a temporary one;
* no call takes long (huge sizes are refused or answered by formula, never enumerated).

Most examples start from a valid call and break one or two things in it (a value, a
column name, a line ending, a truncated file), so that the checks deep inside each
command are reached, not only the first parser.  Then inputs that are valid but
extreme must give finite, correct answers or a clear warning: p = 1 − 1e-12 and logits
of ±1000 in focal, boxes near 1e9 (and 1e±308) in box-compare, a 1×1 tconv input, a
100000×100000 tconv input (shape only), tanh saturation and exploding gradients in bptt.
"""

from __future__ import annotations

import io
import json
import math
import os
import signal
import string
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlvcli.cli import run

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

# DLV_FUZZ_EXAMPLES=500 DLV_FUZZ_RANDOM=1 pytest tests/test_hardening_commands.py: a longer hunt
# with fresh examples; by default a fixed seed, so CI sees the same examples every run
EXAMPLES = int(os.environ.get("DLV_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("DLV_FUZZ_RANDOM"),
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
FEW = settings(FUZZ, max_examples=max(EXAMPLES * 3 // 8, 1))

SLOW_CALL = 15.0  # seconds: a hang or a runaway enumeration shows up here, not as a stuck CI job

# --------------------------------------------------------------------------- values, good and bad

NON_FINITE = ["nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e309", "-1e400"]
EXTREME = ["1e308", "-1e308", "1e-320", "5e-324", "-0.0", "0", "1e9", "-1e9", "2.2250738585072014e-308"]
JUNK = ["", " ", "x", "ß", "猫", "\ufeff1", "1,", ",", "[", "]", "[[1],[2,3]]", "[]", "[[]]", "{}", "null", "true", "1e",
        "--", "0x10", "½", "1 2", "'1'", "\x00", "1\n2", "٣", "+-1"]  # fmt: skip
BAD = st.sampled_from(NON_FINITE + EXTREME + JUNK) | st.text(max_size=5)
CELLS = st.sampled_from(NON_FINITE + EXTREME + JUNK) | st.text(alphabet=string.printable, max_size=6)


def num(low: float, high: float, **kwargs) -> st.SearchStrategy[str]:
    return st.floats(low, high, allow_nan=False, allow_infinity=False, **kwargs).map(repr)


def good_or_bad(good: st.SearchStrategy, bad: st.SearchStrategy = BAD) -> st.SearchStrategy:
    """Mostly ``good`` (three branches of four), sometimes something hostile."""
    return st.one_of(good, good, good, bad)


def fresh(tmp_path: Path) -> Path:
    """A new folder per example: tmp_path is shared by all examples of a hypothesis test."""
    return Path(tempfile.mkdtemp(dir=tmp_path))


def json_mode(argv: list[str]) -> bool:
    return "--json" in argv or any(a == "--format" and b == "json" for a, b in zip(argv, argv[1:]))


class Hang(Exception):
    pass


def _interrupt(signum, frame):
    raise Hang(f"a call ran for more than {2 * SLOW_CALL:g} s")


def check(capsys, argv, plot=None, codes=(0, 2)):
    argv = [str(a) for a in argv]
    start = time.monotonic()
    # a call that hangs is interrupted (dlv then reports an internal error, which fails below)
    previous = signal.signal(signal.SIGALRM, _interrupt)
    signal.setitimer(signal.ITIMER_REAL, 2 * SLOW_CALL)
    try:
        code = run(argv)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    elapsed = time.monotonic() - start
    out, err = capsys.readouterr()
    assert code in codes, (argv, code, err)
    assert "Traceback" not in err and "internal error" not in err, (argv, err)
    assert elapsed < SLOW_CALL, (argv, elapsed)
    if code == 2:
        assert err.startswith("error:"), (argv, err)
    if json_mode(argv):
        if out.strip():
            json.loads(out)
            assert out.count("\n") == 1, (argv, out[:200])
        if code == 2 and argv[0] != "solve":  # solve reports its problems' faults in its document
            assert out == "", (argv, out[:200])
    if plot is not None and code != 0:
        plot = Path(plot)
        assert not plot.is_file(), (argv, "a failed --plot left its file")
        folder = plot.parent
        leftovers = [p.name for p in folder.iterdir() if p.name.startswith(".")] if folder.is_dir() else []
        assert not leftovers, (argv, leftovers)
    return code, out, err


def stdin_bytes(monkeypatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


def encode(text: str, newline: str = "\n", bom: bool = False, cut: int | None = None) -> bytes:
    """The file's bytes: CRLF or LF, an optional BOM, optionally truncated (mid-line, mid-character)."""
    data = (("\ufeff" if bom else "") + text.replace("\n", newline)).encode()
    return data if cut is None else data[:cut]


LAYOUT = st.fixed_dictionaries(
    {
        "newline": st.sampled_from(["\n", "\r\n", "\r"]),
        "bom": st.booleans(),
        "cut": st.none() | st.none() | st.integers(min_value=0, max_value=120),
    }
)


def table(header: list[str], rows: list[list[str]]) -> str:
    return "\n".join(",".join(r) for r in [header, *rows]) + "\n"


def mangle_header(header: list[str], how: str) -> list[str]:
    header = list(header)
    if how == "drop" and header:
        header.pop()
    elif how == "rename" and header:
        header[0] = header[0] + "_"
    elif how == "duplicate" and header:
        header.append(header[0])
    elif how == "upper":
        header = [h.upper() for h in header]
    elif how == "spaces":
        header = [f" {h} " for h in header]
    elif how == "unicode":
        header.append("ünïcode猫")
    elif how == "empty" and header:
        header[-1] = ""
    return header


HEADER_MANGLES = st.sampled_from(["none", "none", "none", "drop", "rename", "duplicate", "upper", "spaces", "unicode", "empty"])
FORMATS = st.sampled_from([["--json"], ["--json"], ["--format", "json"], ["--format", "markdown"], [], ["--json", "--exact"], ["--exact"]])


# --------------------------------------------------------------------------- random bytes everywhere


@FUZZ
@given(data=st.binary(max_size=160), command=st.sampled_from(["focal", "box-compare", "bptt", "tconv", "solve"]))
def test_random_bytes_on_stdin_in_files_and_configs(tmp_path, capsys, monkeypatch, data, command):
    codes = (0, 2, 3) if command == "solve" else (0, 2)
    folder = fresh(tmp_path)
    path = folder / "in.csv"
    path.write_bytes(data)
    if command in ("focal", "box-compare", "solve"):
        stdin_bytes(monkeypatch, data)
        check(capsys, [command, "-", "--json"], codes=codes)
        check(capsys, [command, path, "--json"], codes=codes)
    config = folder / "c.yaml"
    config.write_bytes(data)
    check(capsys, [command, "-c", config, "--json"], codes=codes)
    stdin_bytes(monkeypatch, data)
    check(capsys, [command, "-c", "-", "--json"], codes=codes)


# --------------------------------------------------------------------------- YAML configs: valid ones, then broken

YAML_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(),
    st.sampled_from(NON_FINITE + EXTREME + JUNK),
    st.text(max_size=4),
)
YAML_VALUES = st.recursive(
    YAML_LEAVES,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(st.text(max_size=3), children, max_size=2)),
    max_leaves=8,
)
VALID_CONFIGS = {
    "focal": {"p": [0.9, 0.6], "gamma": [0, 2], "alpha": 0.25, "target": 1},
    "box-compare": {"a": [0, 0, 4, 4], "b": [[2, 2, 6, 6], [1, 1, 4, 4]], "box-format": "xyxy"},
    "tconv": {"x": [[1, 2], [3, 4]], "k": [[1, 0], [0, 1]], "stride": 2, "padding": 0, "show-matrix": True},
    "bptt": {"U": 0.5, "W": 0.8, "V": 1.2, "h0": 0, "x": [1, 0.5, -1], "y": [0.2, 0.1, 0.3], "loss": "half-sse"},
}
EXTRA_KEYS = ["digits", "exact", "format", "json", "plot", "file", "config", "ünï", "P", "Gamma", "n", "same-l2", "solve",
              "output", "truncate", "check", "debug", "u"]  # fmt: skip


@FUZZ
@given(command=st.sampled_from(sorted(VALID_CONFIGS)), data=st.data())
def test_configs_with_hostile_values(tmp_path, capsys, command, data):
    mapping = dict(VALID_CONFIGS[command])
    for key in data.draw(st.lists(st.sampled_from(sorted(mapping) + EXTRA_KEYS), max_size=3, unique=True)):
        mapping[key] = data.draw(YAML_VALUES)
    for key in data.draw(st.lists(st.sampled_from(sorted(mapping)), max_size=1)):
        del mapping[key]
    try:
        text = yaml.safe_dump(mapping, allow_unicode=True)
    except yaml.YAMLError:
        return
    if data.draw(st.booleans()):  # a key twice, a tab, a stray colon
        text += data.draw(st.sampled_from(["p: 0.5\n", "\tx: 1\n", "a: [1, 2\n", ": :\n", "- 1\n", "U: &a [1]\nW: *a\n"]))
    layout = data.draw(LAYOUT)
    config = fresh(tmp_path) / "c.yaml"
    config.write_bytes(encode(text, **layout))
    check(capsys, [command, "-c", config, *data.draw(FORMATS)])


# --------------------------------------------------------------------------- how a valid call is broken

# how many things are broken in an example: none (the valid call, so that rendering, plots
# and the extreme-but-valid numbers are reached), one, or two
BREAKS = st.sampled_from([0, 0, 1, 1, 2])
FILE_BREAKS = ["cell", "cell", "header", "cut", "ragged", "blank-lines", "cr", "nul", "option"]


def break_file(draw, header: list[str], rows: list[list[str]], what: str) -> tuple[list[str], list[list[str]], dict]:
    """Apply one break ``what`` to a CSV (header, rows); returns them and extra layout changes."""
    layout: dict = {}
    if what == "cell" and any(rows):
        row = draw(st.sampled_from([i for i, r in enumerate(rows) if r]))
        rows[row][draw(st.integers(0, len(rows[row]) - 1))] = draw(CELLS)
    elif what == "header":
        header = mangle_header(header, draw(HEADER_MANGLES.filter(lambda m: m != "none")))
    elif what == "cut":
        layout["cut"] = draw(st.integers(0, 100))
    elif what == "ragged" and rows:
        row = draw(st.integers(0, len(rows) - 1))
        rows[row] = rows[row][:-1] if draw(st.booleans()) else rows[row] + ["1"]
    elif what == "nul" and rows and rows[0]:
        rows[0][0] = rows[0][0] + "\x00"
    elif what == "blank-lines":
        rows = [[] if draw(st.integers(0, 2)) == 0 else r for r in rows] + [[""]]
    elif what == "cr":
        layout["newline"] = "\r"
    return header, rows, layout


def encode_table(draw, header, rows, breaks: list[str]) -> bytes:
    layout = {"newline": draw(st.sampled_from(["\n", "\r\n"])), "bom": draw(st.booleans()), "cut": None}
    for what in breaks:
        header, rows, extra = break_file(draw, header, rows, what)
        layout.update(extra)
    return encode(table(header, rows), **layout)


# --------------------------------------------------------------------------- focal

PROBABILITIES = st.one_of(num(1e-6, 1 - 1e-6), st.sampled_from(["0.9", "0.5", repr(1 - 1e-12), "1e-12", "1e-300", "5e-324"]))
LOGITS = st.one_of(num(-30, 30), st.sampled_from(["0", "1000", "-1000", "1e308", "-1e308", "-0.0", "745", "-746"]))
GAMMAS = st.one_of(num(0, 6), st.sampled_from(["0", "2", "5", "1e308", "1e-320", "-0.0", "1000"]))


@FUZZ
@given(data=st.data(), column=st.sampled_from(["p", "logit"]), breaks=BREAKS, fmt=FORMATS)
def test_focal_data_sets(tmp_path, capsys, monkeypatch, data, column, breaks, fmt):
    draw = data.draw
    values = PROBABILITIES if column == "p" else LOGITS
    rows = [[draw(st.sampled_from(["0", "1", "1.0", "0.0"])), draw(values)] for _ in range(draw(st.integers(1, 6)))]
    header = ["target", column]
    if draw(st.booleans()):
        header.append(draw(st.sampled_from(["id", "note", "猫"])))
        rows = [r + [draw(st.sampled_from(["a", "猫", '"x,y"', ""]))] for r in rows]
    broken = draw(st.lists(st.sampled_from(FILE_BREAKS), min_size=breaks, max_size=breaks))
    options = []
    for gamma in draw(st.lists(GAMMAS, max_size=2)):
        options += ["--gamma", gamma]
    if draw(st.booleans()):
        options += ["--alpha", draw(num(0, 1))]
    if "option" in broken:
        options += draw(st.sampled_from([["--gamma", "nan"], ["--gamma", "-1"], ["--alpha", "1.5"], ["--target", "1"],
                                         ["--p", "0.5"], ["--logit", "1"], ["--alpha", "inf"]]))  # fmt: skip
    folder = fresh(tmp_path)
    path = folder / "d.csv"
    path.write_bytes(encode_table(draw, header, rows, broken))
    source = path
    if draw(st.integers(0, 3)) == 0:
        stdin_bytes(monkeypatch, path.read_bytes())
        source = "-"
    plot = draw(st.sampled_from([None, None, None, "f.svg", "f.png", "f.gif"]))
    target = folder / plot if plot else None
    check(capsys, ["focal", source, *options, *fmt] + (["--plot", target] if target else []), plot=target)


@FUZZ
@given(
    data=st.data(),
    kind=st.sampled_from(["--p", "--logit"]),
    breaks=BREAKS,
    comma=st.booleans(),
    fmt=FORMATS,
)
def test_focal_options(capsys, data, kind, breaks, comma, fmt):
    draw = data.draw
    values = draw(st.lists(PROBABILITIES if kind == "--p" else LOGITS, min_size=1, max_size=3))
    gammas = draw(st.lists(GAMMAS, max_size=2))
    alpha = draw(st.none() | num(0, 1) | st.sampled_from(["0", "1", "-0.0"]))
    target = draw(st.sampled_from([None, "0", "1"]))
    for what in draw(st.lists(st.sampled_from(["value", "gamma", "alpha", "target", "both"]), min_size=breaks, max_size=breaks)):
        if what == "value":
            values[draw(st.integers(0, len(values) - 1))] = draw(BAD | st.sampled_from(["0", "1", "-0.5", "1.5"]))
        elif what == "gamma":
            gammas.append(draw(BAD | st.sampled_from(["-1", "-1e-320"])))
        elif what == "alpha":
            alpha = draw(BAD | st.sampled_from(["1.0000001", "-1e-300", "2"]))
        elif what == "target":
            target = draw(st.sampled_from(["2", "-1", "x", "1.0", "", "0x1"]))
        else:
            kind = "--p --logit"
    argv = ["focal"]
    flags = kind.split()
    if comma:
        argv += [flags[0], ",".join(values)]
    else:
        for value in values:
            argv += [flags[0], value]
    argv += ["--logit", "1"] if len(flags) > 1 else []
    for gamma in gammas:
        argv += ["--gamma", gamma]
    if alpha is not None:
        argv += ["--alpha", alpha]
    if target is not None:
        argv += ["--target", target]
    check(capsys, argv + fmt)


# --------------------------------------------------------------------------- box-compare

BOX_COLUMNS = {"xyxy": ["x1", "y1", "x2", "y2"], "xywh": ["x", "y", "w", "h"], "cxcywh": ["cx", "cy", "w", "h"]}
SCALES = st.sampled_from([1.0, 1.0, 1.0, 0.1, 1e9, 1e-300, 1e300, 1e-320, 2.0**1000])


@st.composite
def boxes(draw, box_format: str, scale: float | None = None) -> list[str]:
    """A valid box (positive width and height) in ``box_format``, at some scale."""
    scale = draw(SCALES) if scale is None else scale
    x, y = draw(st.integers(-20, 20)) * scale, draw(st.integers(-20, 20)) * scale
    w, h = draw(st.integers(1, 20)) * scale, draw(st.integers(1, 20)) * scale
    if box_format == "xyxy":
        values = [x, y, x + w, y + h]
    elif box_format == "xywh":
        values = [x, y, w, h]
    else:
        values = [x + w / 2, y + h / 2, w, h]
    return [repr(v) for v in values]


@FUZZ
@given(
    data=st.data(),
    a_fmt=st.sampled_from(sorted(BOX_COLUMNS)),
    b_fmt=st.sampled_from(sorted(BOX_COLUMNS)),
    breaks=BREAKS,
    fmt=FORMATS,
)
def test_box_compare_tables(tmp_path, capsys, monkeypatch, data, a_fmt, b_fmt, breaks, fmt):
    draw = data.draw
    header = [f"a_{c}" for c in BOX_COLUMNS[a_fmt]] + [f"b_{c}" for c in BOX_COLUMNS[b_fmt]]
    scale = draw(SCALES)
    rows = [draw(boxes(a_fmt, scale)) + draw(boxes(b_fmt, scale)) for _ in range(draw(st.integers(1, 4)))]
    label = draw(st.sampled_from([None, None, "label", "name", "id"]))
    if label:
        header = [label] + header
        rows = [[draw(st.sampled_from(["p1", "猫", "", '"a,b"', "[red]x[/]"]))] + r for r in rows]
    broken = draw(st.lists(st.sampled_from(FILE_BREAKS + ["degenerate", "other-format"]), min_size=breaks, max_size=breaks))
    if "degenerate" in broken:  # x2 = x1 or a negative width
        row = rows[0][-8:]
        row[2] = row[0] if a_fmt == "xyxy" else draw(st.sampled_from(["0", "-1", "-0.0"]))
        rows[0][-8:] = row
    box_format = draw(st.sampled_from([None, None, a_fmt, "xyxy", "yolo"])) if "other-format" in broken else None
    folder = fresh(tmp_path)
    path = folder / "pairs.csv"
    path.write_bytes(encode_table(draw, header, rows, broken))
    source = path
    if draw(st.integers(0, 3)) == 0:
        stdin_bytes(monkeypatch, path.read_bytes())
        source = "-"
    target = folder / "boxes.png" if draw(st.integers(0, 3)) == 0 else None
    argv = ["box-compare", source, *fmt] + (["--plot", target] if target else [])
    if box_format:
        argv += ["--box-format", box_format]
    if "option" in broken:
        argv += draw(st.sampled_from([["--a", "0,0,1,1"], ["--same-l2", "1"], ["--n", "3"], ["--b", "0,0,1,1"]]))
    check(capsys, argv, plot=target)


@FUZZ
@given(
    data=st.data(),
    box_format=st.sampled_from(["xyxy", "xywh", "cxcywh"]),
    same=st.sampled_from([None, None, "--same-l2", "--same-l1"]),
    breaks=BREAKS,
    fmt=FORMATS,
)
def test_box_compare_options(capsys, data, box_format, same, breaks, fmt):
    draw = data.draw
    scale = draw(SCALES)
    a = draw(boxes(box_format, scale))
    bs = [draw(boxes(box_format, scale)) for _ in range(draw(st.integers(1, 3)))]
    radius = draw(st.sampled_from(["1", "0.5", "2", "0.999", "1e-12", "1e-320"]))
    n = draw(st.sampled_from([None, "1", "3", "12", "360"])) if same else None
    for what in draw(st.lists(st.sampled_from(["a", "b", "radius", "n", "count", "mix"]), min_size=breaks, max_size=breaks)):
        if what == "a":
            a[draw(st.integers(0, 3))] = draw(CELLS)
        elif what == "b" and bs:
            bs[0] = draw(st.sampled_from([bs[0][:3], bs[0] + ["1"], ["[" + ",".join(bs[0]) + "]"], [a[0], a[1], a[0], a[1]]]))
        elif what == "radius":
            radius = draw(BAD | st.sampled_from(["0", "-1", "1e308", "100"]))
        elif what == "n":
            n = draw(st.sampled_from(["0", "-2", "1001", "99999999999999999999", "x", "1.5"]))
        elif what == "count":
            bs = []
        else:
            same = draw(st.sampled_from(["--same-l2 --same-l1", "--same-l2 --b", None]))
    argv = ["box-compare", "--a", ",".join(a), "--box-format", box_format]
    flags = (same or "").split()
    if flags:
        argv += [flags[0], radius]
        if len(flags) > 1:
            argv += [flags[1], radius if flags[1] != "--b" else ",".join(bs[0]) if bs else "1,1,2,2"]
    else:
        for b in bs:
            argv += ["--b", ",".join(b)]
    if n is not None:
        argv += ["--n", n]
    check(capsys, argv + fmt)


# --------------------------------------------------------------------------- tconv

SIZES = st.sampled_from(["1", "2", "3", "2x3", "3x1", "5"])
BAD_SIZES = st.sampled_from(
    ["0", "-1", "-3x2", "100000x100000", "1e308", "99999999999999999999", "1e9x1", "3x", "x3", "2x3x4", "3.5", "nan", "inf",
     "[2, 3]", "[]", "3×4", " 3 ", "1_000", "9" * 400, "2,3", "[2,3,4]", "", "0x0"]
)  # fmt: skip


@FUZZ
@given(data=st.data(), breaks=BREAKS, show_matrix=st.booleans(), fmt=FORMATS)
def test_tconv_sizes(capsys, data, breaks, show_matrix, fmt):
    draw = data.draw
    options = {
        "--input": draw(SIZES),
        "--kernel": draw(SIZES),
        "--stride": draw(st.none() | SIZES),
        "--padding": draw(st.none() | st.sampled_from(["0", "1", "0x1"])),
        "--output-padding": draw(st.none() | st.sampled_from(["0"])),
        "--dilation": draw(st.none() | st.sampled_from(["1", "2", "1x3"])),
    }
    for flag in draw(st.lists(st.sampled_from(sorted(options)), min_size=breaks, max_size=breaks)):
        options[flag] = draw(st.none() | BAD_SIZES)
    argv = ["tconv"]
    for flag, value in options.items():
        if value is not None:
            argv += [flag, value]
    if show_matrix:
        argv.append("--show-matrix")
    check(capsys, argv + fmt)


MATRIX_VALUES = st.one_of(st.integers(-9, 9).map(str), num(-10, 10), st.sampled_from(EXTREME + ["1e200"]))


def literal(draw, shape: list[int]) -> str:
    if not shape:
        return draw(MATRIX_VALUES)
    return "[" + ",".join(literal(draw, shape[1:]) for _ in range(shape[0])) + "]"


def break_literal(draw, text: str) -> str:
    """One fault in a nested-list literal: a non-finite or junk entry, a ragged row, an empty list, a cut."""
    how = draw(st.sampled_from(["entry", "ragged", "empty", "cut", "scalar", "yaml"]))
    if how == "entry":
        return text.replace("[", "[" + draw(st.sampled_from(NON_FINITE + ['"x"', "null", "true", "'1'", "1e999"])) + ",", 1)
    if how == "ragged":
        i = text.rfind(",")
        return text[:i] + "]," + "[" + text[i + 1 :] if i > 0 else "[[1],[2,3]]"
    if how == "empty":
        return draw(st.sampled_from(["[]", "[[]]", "[[[]]]", ""]))
    if how == "cut":
        return text[: draw(st.integers(0, max(len(text) - 1, 0)))]
    if how == "scalar":
        return draw(st.sampled_from(["1", "1,2,3", "x"]))
    return draw(st.sampled_from(["{a: 1}", "[1, 2", "- 1\n- 2", "[[1, 2], [3, .inf]]", "!!python/object:os.system 1"]))


@FUZZ
@given(
    data=st.data(),
    channels=st.sampled_from([None, None, (1, 1), (2, 3)]),
    breaks=BREAKS,
    show_matrix=st.booleans(),
    fmt=FORMATS,
)
def test_tconv_values(tmp_path, capsys, data, channels, breaks, show_matrix, fmt):
    draw = data.draw
    h, w, kh, kw = (draw(st.integers(1, 3)) for _ in range(4))
    if channels is None:
        x, k = literal(draw, [h, w]), literal(draw, [kh, kw])
    else:
        c_in, c_out = channels
        x, k = literal(draw, [c_in, h, w]), literal(draw, [c_in, c_out, kh, kw])
    options = {
        "--stride": draw(st.none() | st.sampled_from(["1", "2", "2x1", "3"])),
        "--padding": draw(st.none() | st.sampled_from(["0", "1"])),
        "--dilation": draw(st.none() | st.sampled_from(["1", "2"])),
        "--input": draw(st.none() | st.just(f"{h}x{w}")),
    }
    for what in draw(st.lists(st.sampled_from(["x", "k", "x", "k", "input", "kernel", "padding", "channels", "output", "huge"]), min_size=breaks, max_size=breaks)):
        if what == "x":
            x = break_literal(draw, x)
        elif what == "k":
            k = break_literal(draw, k)
        elif what == "input":
            options["--input"] = draw(st.sampled_from([f"{h + 1}x{w}", "1", "0", "100000x100000"]))
        elif what == "kernel":
            options["--kernel"] = draw(st.sampled_from([f"{kh}x{kw + 1}", "7"]))
        elif what == "padding":
            options["--padding"] = draw(st.sampled_from(["5", "100", "99999999999999999999"]))
        elif what == "huge":  # an output of 10¹² values from a 2×2 input
            options[draw(st.sampled_from(["--stride", "--dilation"]))] = draw(st.sampled_from(["1000000", "3000x1", "99999999999999999999"]))
        elif what == "channels":
            k = literal(draw, [draw(st.integers(2, 3)), 1, kh, kw])  # C_in of k ≠ C_in of x
        else:
            options["--output"] = "7"
    argv = ["tconv", "--x", x, "--k", k]
    for flag, value in options.items():
        if value is not None:
            argv += [flag, value]
    if show_matrix:
        argv.append("--show-matrix")
    target = fresh(tmp_path) / draw(st.sampled_from(["t.png", "t.svg"])) if draw(st.integers(0, 4)) == 0 else None
    if target:
        argv += ["--plot", target]
    check(capsys, argv + fmt, plot=target)


@FUZZ
@given(
    size=st.sampled_from(["1", "3", "3x2", "7", "1000", "100000", "99999999999999999999"]),
    output=st.sampled_from(["1", "7", "7x4", "8", "1000", "100000", "1000000000", "1000000000000", "0", "-3"]),
    kernel=st.sampled_from([None, None, "1", "3", "4", "1000000"]),
    stride=st.sampled_from([None, None, "1", "2", "1000000"]),
    padding=st.sampled_from([None, None, "0", "1", "1000000000"]),
    output_padding=st.sampled_from([None, None, "0", "1"]),
    dilation=st.sampled_from([None, None, "1", "2", "3", "1000000000000"]),
)
def test_tconv_solve_is_quick_for_any_size(capsys, size, output, kernel, stride, padding, output_padding, dilation):
    argv = ["tconv", "--solve", "--input", size, "--output", output, "--json"]
    for flag, value in (("--kernel", kernel), ("--stride", stride), ("--padding", padding),
                        ("--output-padding", output_padding), ("--dilation", dilation)):  # fmt: skip
        if value is not None:
            argv += [flag, value]
    code, out, err = check(capsys, argv)
    if code == 0:
        doc = json.loads(out)
        for solution in doc["solutions"][:50]:  # each listed assignment gives the size asked for
            k, s, p, op, d = (solution[name] for name in ("kernel", "stride", "padding", "output_padding", "dilation"))
            for axis in (0, 1) if "axis" not in solution else ("HW".index(solution["axis"]),):
                h = doc["input_shape"][axis]
                assert (h - 1) * s - 2 * p + d * (k - 1) + op + 1 == doc["output_shape"][axis], solution


# --------------------------------------------------------------------------- bptt (when the command is there)

BPTT = Path(__file__).resolve().parent.parent / "dlvcli" / "cli" / "bptt.py"
needs_bptt = pytest.mark.skipif(not BPTT.exists(), reason="dlv bptt is not there yet")
WEIGHTS = st.one_of(num(-2, 2), st.sampled_from(["0", "0.5", "50", "-30", "100", "1e150", "-0.0"]))


@needs_bptt
@FUZZ
@given(
    data=st.data(),
    hidden=st.sampled_from([1, 1, 2]),
    steps=st.sampled_from([1, 2, 3, 3, 51]),
    loss=st.sampled_from([None, "half-sse", "softmax-ce"]),
    breaks=BREAKS,
    extras=st.lists(st.sampled_from([["--check"], ["--full"], ["--truncate", "1"], ["--truncate", "2"]]), max_size=2),
    fmt=FORMATS,
)
def test_bptt_options(capsys, data, hidden, steps, loss, breaks, extras, fmt):
    draw = data.draw
    outputs = 2 if loss == "softmax-ce" else hidden

    def matrix(rows: int, cols: int) -> str:
        if rows == cols == 1 and draw(st.booleans()):
            return draw(WEIGHTS)
        return literal_of(draw, rows, cols)

    options = {
        "--U": matrix(hidden, 1),
        "--W": matrix(hidden, hidden),
        "--V": matrix(outputs, hidden),
        "--x": ",".join(draw(WEIGHTS) for _ in range(steps)),
        "--y": ",".join(draw(st.sampled_from(["0", "1"])) if loss == "softmax-ce" else draw(WEIGHTS) for _ in range(steps))
        if outputs == 1 or loss == "softmax-ce"
        else "[" + ",".join(literal_of(draw, 1, outputs)[1:-1] for _ in range(steps)) + "]",
    }
    if draw(st.booleans()):
        options["--h0"] = "0" if hidden == 1 else "[" + ",".join(draw(WEIGHTS) for _ in range(hidden)) + "]"
    for what in draw(st.lists(st.sampled_from(["value", "shape", "y", "truncate", "drop", "loss"]), min_size=breaks, max_size=breaks)):
        flag = draw(st.sampled_from(sorted(options)))
        if what == "value":
            options[flag] = break_literal(draw, options[flag]) if "[" in options[flag] else draw(BAD)
        elif what == "shape":
            options[flag] = literal_of(draw, hidden + 1, 2)
        elif what == "y":
            options["--y"] = draw(st.sampled_from(["2", "-1", "0.5", "1," * steps + "1", "[[1,2]]"]))
        elif what == "truncate":
            extras = extras + [["--truncate", draw(st.sampled_from(["0", "-1", "x", "99999999999999999999"]))]]
        elif what == "drop":
            options.pop(flag)
        else:
            loss = draw(st.sampled_from(["mse", "softmax-ce", "half-sse"]))
    argv = ["bptt"]
    for flag, value in options.items():
        argv += [flag, value]
    if loss:
        argv += ["--loss", loss]
    check(capsys, argv + sum(extras, []) + fmt)


def literal_of(draw, rows: int, cols: int) -> str:
    return "[" + ",".join("[" + ",".join(draw(WEIGHTS) for _ in range(cols)) + "]" for _ in range(rows)) + "]"


# --------------------------------------------------------------------------- solve and generate

PROBLEMS = [
    {"id": "focal", "command": "focal", "p": 0.9, "gamma": 2, "expect": {"rows.0.fl": 0.001053605156578264}},
    {"id": "boxes", "command": "box-compare", "a": [0, 0, 4, 4], "b": [2, 2, 6, 6], "expect": {"pairs.0.iou": 0.14285714285714285}},
    {"id": "tconv", "command": "tconv", "input": 3, "kernel": 3, "stride": 2, "expect": {"output_shape": [7, 7]}},
    {"id": "bptt", "command": "bptt", "U": 0.5, "W": 0.8, "V": 1.2, "x": [1, 0.5], "y": [0.2, 0.1], "expect": {"T": 2}},
    {"id": "ap", "command": "interp-ap", "file": "ranked.csv", "num-gt": 5, "expect": {"map": 0.7532467532467533}},
    {"id": "focal-data", "command": "focal", "file": "focal.csv", "gamma": [0, 2], "expect": {"dataset.0.n": 2}},
]
EXPECT_KEYS = ["rows.0.fl", "pairs.0.iou", "output_shape", "output_shape.0", "x.y.z", "rows.99.ce", "", "0", "warnings", "map", "T",
               "classes.0.ap", "rows.-1.ce", "inputs.p.0", "command", "dlv_version"]  # fmt: skip
RANKED = "tp\n1\n1\n0\n0\n0\n1\n1\n0\n0\n1\n"
FOCAL_CSV = "target,p\n1,0.9\n0,0.2\n"


@st.composite
def sheets(draw) -> str:
    problems = []
    for i in range(draw(st.integers(1, 4))):
        problem = dict(draw(st.sampled_from(PROBLEMS)))
        problem["expect"] = dict(problem["expect"])
        problem["id"] = f"{problem['id']}{i}"
        problems.append(problem)
    for _ in range(draw(BREAKS)):
        i = draw(st.integers(0, len(problems) - 1))
        problem = problems[i]
        if isinstance(problem, dict):
            what = draw(st.sampled_from(["value", "key", "drop", "expect", "expect-value", "tol", "id", "command", "item", "file"]))
            options = sorted(k for k in problem if k not in ("id", "command", "expect"))
            if what == "value" and options:
                problem[draw(st.sampled_from(options))] = draw(YAML_VALUES)
            elif what == "key":
                problem[draw(st.sampled_from(EXTRA_KEYS + ["gt", "Expect"]))] = draw(YAML_VALUES)
            elif what == "drop" and problem:
                problem.pop(draw(st.sampled_from(sorted(problem))))
            elif what == "expect":
                problem["expect"] = draw(st.dictionaries(st.sampled_from(EXPECT_KEYS), YAML_VALUES, max_size=2) | YAML_VALUES)
            elif what == "expect-value" and isinstance(problem.get("expect"), dict) and problem["expect"]:
                key = next(iter(problem["expect"]))
                problem["expect"][key] = draw(YAML_VALUES | st.sampled_from(["58/77", "1/0", "nan", "inf", "0x1"]))
            elif what == "tol":
                problem[draw(st.sampled_from(["tol", "rtol"]))] = draw(YAML_VALUES)
            elif what == "id":
                problem["id"] = draw(st.sampled_from(["focal0", "", None, "ünï", 7, [1], "a b", "boxes1"]))
            elif what == "command":
                problem["command"] = draw(st.sampled_from(["solve", "generate", "nope", None, 3, "FOCAL", " focal", "interp_ap"]))
            elif what == "file":
                problem["file"] = draw(st.sampled_from(["-", "sub", "missing.csv", "../ranked.csv", "/", "sheet.yaml", "ranked.csv"]))
            elif what == "item":
                problem = draw(YAML_VALUES)
        problems[i] = problem
    document = problems if draw(st.integers(0, 9)) else draw(YAML_VALUES)
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


@FUZZ
@given(
    sheet=sheets(),
    breaks=st.lists(st.sampled_from(["cut", "cr", "tab", "dup-key", "anchor"]), max_size=1),
    fmt=st.sampled_from([["--json"], ["--json"], [], ["--format", "markdown"]]),
    show=st.sampled_from([None, None, None, "first", "nope", ""]),
    from_stdin=st.booleans(),
    data=st.data(),
)
def test_solve_hostile_sheets(tmp_path, capsys, monkeypatch, sheet, breaks, fmt, show, from_stdin, data):
    folder = fresh(tmp_path)
    monkeypatch.chdir(folder)
    (folder / "ranked.csv").write_text(RANKED)
    (folder / "focal.csv").write_text(FOCAL_CSV)
    (folder / "sub").mkdir()
    layout = {"newline": "\n", "bom": data.draw(st.booleans()), "cut": None}
    for what in breaks:
        if what == "cut":
            layout["cut"] = data.draw(st.integers(0, len(sheet.encode())))
        elif what == "cr":
            layout["newline"] = "\r"
        elif what == "tab":
            sheet = sheet.replace("  ", "\t", 1)
        elif what == "dup-key":
            sheet = sheet.replace("  command:", "  command: focal\n  command:", 1)
        else:
            sheet = "- &p {id: a, command: focal, p: 0.5}\n- *p\n" + sheet
    data_bytes = encode(sheet, **layout)
    path = folder / "sheet.yaml"
    path.write_bytes(data_bytes)
    if from_stdin:
        stdin_bytes(monkeypatch, data_bytes)
    if show == "first":  # the first problem's id, when the sheet has one
        try:
            first = yaml.safe_load(sheet)
        except yaml.YAMLError:
            first = None
        show = str(first[0]["id"]) if isinstance(first, list) and first and isinstance(first[0], dict) and "id" in first[0] else "q"
    argv = ["solve", "-" if from_stdin else path, *fmt] + (["--show", show] if show is not None else [])
    check(capsys, argv, codes=(0, 2, 3))


def test_solve_valid_sheet_holds(tmp_path, capsys, monkeypatch):
    """The templates the sheet fuzzing starts from are right: unbroken, they all hold."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ranked.csv").write_text(RANKED)
    (tmp_path / "focal.csv").write_text(FOCAL_CSV)
    (tmp_path / "sheet.yaml").write_text(yaml.safe_dump(PROBLEMS, sort_keys=False))
    code, out, err = check(capsys, ["solve", "sheet.yaml", "--json"], codes=(0,))
    assert [p["ok"] for p in json.loads(out)["problems"]] == [True] * len(PROBLEMS)


SIZE_OPTIONS = {
    "focal": ("--probs", ["1", "3", "20"]),
    "box-compare": ("--boxes", ["1", "2", "50"]),
    "tconv": ("--size", ["1", "3", "10"]),
    "bptt": ("--steps", ["1", "3"]),
    "interp-ap": ("--detections", ["1", "10"]),
}


@FEW
@given(
    command=st.sampled_from(sorted(SIZE_OPTIONS)),
    seed=st.integers(0, 10**6),
    count=st.sampled_from(["1", "2"]),
    size=st.booleans(),
    breaks=st.lists(st.sampled_from(["command", "seed", "count", "size", "data-dir"]), max_size=1),
    data=st.data(),
)
def test_generate_round_trip(tmp_path, capsys, monkeypatch, command, seed, count, size, breaks, data):
    folder = fresh(tmp_path)
    monkeypatch.chdir(folder)
    (folder / "file").write_text("not a folder")
    option, values = SIZE_OPTIONS[command]
    seed = str(seed)
    data_dir = "data" if command == "interp-ap" else None
    extra = [option, values[int(seed) % len(values)]] if size else []
    for what in breaks:
        if what == "command":
            command = data.draw(st.sampled_from(["solve", "", "FOCAL", "猫", "generate", "interp_ap"]))
        elif what == "seed":
            seed = data.draw(st.sampled_from(["-1", "99999999999999999999", "x", "1.5", ""]))
        elif what == "count":
            count = data.draw(st.sampled_from(["0", "-1", "10001", "x"]))
        elif what == "size":
            extra = data.draw(st.sampled_from([[option, "0"], [option, "100000"], ["--hidden", "9"], ["--probs", "2"], ["--size", "-1"]]))
        else:
            data_dir = data.draw(st.sampled_from(["file", "", "missing/deeper", "data"]))
    argv = ["generate", command, "--seed", seed, "--count", count, *extra]
    if data_dir is not None:
        argv += ["--data-dir", data_dir]
    code, out, _ = check(capsys, argv)
    if code == 0:
        # what generate prints is a sheet that dlv solve reads and that holds
        (folder / "generated.yaml").write_text(out, encoding="utf-8")
        check(capsys, ["solve", "generated.yaml", "--json"], codes=(0,))


# --------------------------------------------------------------------------- files that are not files, plots that cannot be written


@pytest.mark.parametrize(
    "argv",
    [
        ["focal", "{dir}"],
        ["focal", "-c", "{dir}"],
        ["box-compare", "{dir}"],
        ["box-compare", "-c", "{dir}"],
        ["tconv", "-c", "{dir}"],
        ["bptt", "-c", "{dir}"],
        ["solve", "{dir}"],
        ["solve", "{sheet_with_dir}"],
        ["focal", "{missing}"],
        ["box-compare", "{missing}"],
        ["solve", "{missing}"],
        ["tconv", "-c", "{missing}"],
        ["focal", "{empty}"],
        ["box-compare", "{empty}"],
        ["solve", "{empty}"],
        ["focal", "{header_only}"],
        ["box-compare", "{header_only}"],
        ["focal", "--p", "0.5", "--p"],
        ["focal", "--p", "0.5", "--gamma"],
        ["focal", "--p", "0.5", "--target", "2"],
        ["focal", "--p", "0.5", "--logit", "1"],
        ["focal", "{good_csv}", "--p", "0.5"],
        ["box-compare"],
        ["box-compare", "--a", "0,0,4,4"],
        ["box-compare", "--a", "0,0,4,4", "--same-l2", "1", "--same-l1", "1"],
        ["box-compare", "--a", "0,0,4,4", "--b", "1,1,2,2", "--n", "3"],
        ["box-compare", "--a", "0,0,4,4", "--same-l2", "1", "--n", "100000000"],
        ["tconv"],
        ["tconv", "--solve"],
        ["tconv", "--x", "[[1]]"],
        ["tconv", "--input", "3", "--kernel", "3", "--plot", "{dir}/t.png"],
        ["tconv", "--solve", "--input", "3", "--output", "7", "--x", "[[1]]", "--k", "[[1]]"],
        ["bptt"],
        ["generate", "focal"],
        ["generate", "focal", "--seed", "1", "--detections", "3"],
        ["generate", "tconv", "--seed", "1", "--size", "1"],  # (interp-ap needs no --data-dir since §8.5)
        ["focal", "--digits", "99", "--p", "0.5"],
        ["box-compare", "--format", "yaml"],
        ["no-such-command"],
    ],
)
def test_usage_errors(tmp_path, capsys, argv):
    (tmp_path / "d").mkdir()
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "header.csv").write_text("target,p\n")
    (tmp_path / "good.csv").write_text("target,p\n1,0.9\n")
    (tmp_path / "sheet.yaml").write_text(f"- id: q\n  command: focal\n  file: {tmp_path / 'd'}\n")
    names = {"dir": tmp_path / "d", "missing": tmp_path / "nope.csv", "empty": tmp_path / "empty", "header_only": tmp_path / "header.csv",
             "good_csv": tmp_path / "good.csv", "sheet_with_dir": tmp_path / "sheet.yaml"}  # fmt: skip
    argv = [a.format(**names) for a in argv]
    code, _, err = check(capsys, argv)
    assert code == 2, err


GOOD = {
    "focal": ["focal", "--p", "0.9", "--gamma", "2"],
    "box-compare": ["box-compare", "--a", "0,0,4,4", "--b", "2,2,6,6"],
    "tconv": ["tconv", "--x", "[[1,2],[3,4]]", "--k", "[[1,0],[0,1]]"],
    "bptt": ["bptt", "--U", "0.5", "--W", "0.8", "--V", "1.2", "--x", "1,0.5", "--y", "0.2,0.1"],
}
PLOT_TARGETS = ["folder", "missing-folder", "suffix", "no-suffix", "input-file", "config-file", "trailing-slash", "same-name-as-folder"]


@pytest.mark.parametrize("command", sorted(GOOD))
@pytest.mark.parametrize("where", PLOT_TARGETS)
def test_plot_to_a_bad_path_leaves_nothing(tmp_path, capsys, command, where):
    if command == "bptt" and not BPTT.exists():
        pytest.skip("dlv bptt is not there yet")
    config = tmp_path / "c.yaml"
    config.write_text("digits: 3\n")
    argv = list(GOOD[command]) + ["-c", config]
    data = tmp_path / "data.csv"
    target = {
        "folder": tmp_path / "plots.png",
        "missing-folder": tmp_path / "nope" / "p.png",
        "suffix": tmp_path / "p.jpg",
        "no-suffix": tmp_path / "p",
        "input-file": data,
        "config-file": config,
        "trailing-slash": str(tmp_path / "p.png") + "/",
        "same-name-as-folder": tmp_path / "plots.png" / "",
    }[where]
    if where in ("folder", "same-name-as-folder"):
        (tmp_path / "plots.png").mkdir()
    if where == "input-file":
        if command == "box-compare":
            data.write_text("a_x1,a_y1,a_x2,a_y2,b_x1,b_y1,b_x2,b_y2\n0,0,4,4,2,2,6,6\n")
            argv = ["box-compare", data]
        elif command == "focal":
            data.write_text("target,p\n1,0.9\n")
            argv = ["focal", data]
        else:  # the plot named like the --config file
            data = config
            target = config
    contents = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    names = {p.name for p in tmp_path.iterdir()}
    existing = where in ("input-file", "config-file")  # its content must stay, checked below
    code, _, err = check(capsys, argv + ["--plot", target], plot=None if existing else Path(str(target).rstrip("/")))
    assert code == 2, err
    assert {p.name for p in tmp_path.iterdir()} == names, "a failed --plot left a file"
    assert contents == {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}, "an input file was overwritten"


@pytest.mark.parametrize("command", ["focal", "box-compare", "tconv"])
def test_plot_failing_while_drawing_leaves_nothing(tmp_path, capsys, monkeypatch, command):
    """An error inside matplotlib's savefig: no file, no temporary file (write_atomic)."""
    import matplotlib.figure

    def broken(self, *args, **kwargs):
        raise ValueError("cannot draw")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", broken)
    plot = tmp_path / "p.png"
    code, _, err = check(capsys, [*GOOD[command], "--plot", plot, "--json"], plot=plot)
    assert code == 2 and list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- extreme but valid: finite, correct answers


def json_of(capsys, argv) -> dict:
    code, out, err = check(capsys, [*argv, "--json"])
    assert code == 0, err
    return json.loads(out)


def test_focal_p_one_minus_1e12_is_finite_and_correct(capsys):
    p = 1 - 1e-12
    doc = json_of(capsys, ["focal", "--p", repr(p), "--gamma", "0", "--gamma", "2"])
    ce0, fl2 = doc["rows"]
    # CE = −ln p = −log1p(p − 1) ≈ 1e-12 (p − 1 is exact in floating point): not 0, not rounded away
    ce = -math.log1p(p - 1)
    assert ce0["ce"] == pytest.approx(ce, rel=1e-12) and ce0["fl"] == ce0["ce"]
    # γ = 2: FL = (1 − p)²·CE ≈ 1e-36, finite and positive; CE/FL = 1/(1 − p)² ≈ 1e24
    assert fl2["fl"] == pytest.approx((1 - p) ** 2 * ce, rel=1e-9)
    assert fl2["ratio"] == pytest.approx(1 / (1 - p) ** 2, rel=1e-9)
    assert all(math.isfinite(v) for row in doc["rows"] for v in row.values() if isinstance(v, float))
    assert doc["warnings"] == []
    # as a negative: p_t = 1 − p ≈ 1e-12, CE = −ln(1 − p) ≈ 27.63
    doc = json_of(capsys, ["focal", "--p", repr(p), "--target", "0", "--gamma", "2"])
    assert doc["rows"][0]["ce"] == pytest.approx(-math.log(1 - p), rel=1e-12)
    assert doc["rows"][0]["fl"] == pytest.approx(p**2 * -math.log(1 - p), rel=1e-12)


@pytest.mark.parametrize("target", [0, 1])
def test_focal_logits_of_1000(capsys, target):
    doc = json_of(capsys, ["focal", "--logit", "1000", "--logit", "-1000", "--target", str(target), "--gamma", "0", "--gamma", "2"])
    rows = {(r["gamma"], i // 2): r for i, r in enumerate(doc["rows"])}
    right, wrong = (0, 1) if target == 1 else (1, 0)  # which logit is confidently right
    for gamma in (0.0, 2.0):
        good, bad = rows[(gamma, right)], rows[(gamma, wrong)]
        # right by a margin of 1000: CE = ln(1 + e^−1000) underflows to 0; p_t = 1
        assert good["p_t"] == 1.0 and good["ce"] == 0.0 and good["fl"] == 0.0
        # wrong by 1000: CE = softplus(1000) = 1000 exactly, FL = (1 − e^−1000)^γ·1000 = 1000
        assert bad["ce"] == 1000.0 and bad["fl"] == 1000.0
        assert bad["dfl_dlogit"] == (-1.0 if target == 1 else 1.0)  # γ p_t ln p_t → 0: ∓(1 − p_t)
    for row in doc["rows"]:
        for key in ("p_t", "ce", "fl", "modulating_factor", "dfl_dlogit"):
            assert row[key] is not None and math.isfinite(row[key]), (key, row)
        if row["ratio"] is None:  # CE/FL = 0/0 or x/0: null, and said in the warnings
            assert any("ratio" in w for w in doc["warnings"]), doc["warnings"]


def test_focal_rows_do_not_multiply_without_bound(tmp_path, capsys):
    """A row per (prediction, γ): 6000 predictions and a config of 2000 γ values would be 12 million
    rows (gigabytes of JSON); refused at once, while 6000 × 5 is answered."""
    data = tmp_path / "d.csv"
    data.write_text("target,p\n" + "1,0.9\n0,0.2\n" * 3000)
    config = tmp_path / "c.yaml"
    for gammas, code, words in ((2000, 2, "at most 100"), (100, 2, "rows"), (5, 0, "")):
        config.write_text("gamma: [" + ", ".join(["2"] * gammas) + "]\n")
        start = time.monotonic()
        got, out, err = check(capsys, ["focal", data, "-c", config, "--json"])
        assert got == code and words in err, err
        assert time.monotonic() - start < 10
    assert len(json.loads(out)["rows"]) == 6000 * 5


@pytest.mark.parametrize("fmt", ["xyxy", "xywh", "cxcywh"])
def test_boxes_near_1e9_keep_the_iou(capsys, fmt):
    """A = [0,0,4,4], B = [2,2,6,6] moved by 1e9: I = 4, U = 28, IoU 1/7, C 6×6 so GIoU 1/7 − 8/36,
    ρ² = 8, c² = 72 so DIoU 1/7 − 1/9 (hand-worked; exact at 1e9: integers below 2**53)."""
    shift = 1_000_000_000
    a, b = {
        "xyxy": ([shift, shift, shift + 4, shift + 4], [shift + 2, shift + 2, shift + 6, shift + 6]),
        "xywh": ([shift, shift, 4, 4], [shift + 2, shift + 2, 4, 4]),
        "cxcywh": ([shift + 2, shift + 2, 4, 4], [shift + 4, shift + 4, 4, 4]),
    }[fmt]
    for exact in ([], ["--exact"]):
        doc = json_of(capsys, ["box-compare", "--a", ",".join(map(str, a)), "--b", ",".join(map(str, b)), "--box-format", fmt, *exact])
        pair = doc["pairs"][0]
        assert pair["intersection"] == 4 and pair["union"] == 28
        assert pair["iou"] == pytest.approx(1 / 7, rel=1e-12)
        assert pair["giou"] == pytest.approx(1 / 7 - 8 / 36, rel=1e-12)
        assert pair["diou"] == pytest.approx(1 / 7 - 8 / 72, rel=1e-12)
        assert pair["ciou"] == pair["diou"]  # same aspect ratio: v = 0
        assert pair["l1"] == 8 and pair["l2"] == 4
        assert doc["warnings"] == []


@pytest.mark.parametrize("scale", [1e-320, 1e-300, 1e300, 2.0**1000])
def test_iou_does_not_depend_on_the_scale(capsys, scale):
    """IoU, GIoU, DIoU, CIoU are scale-free: boxes of 1e-320 or 1e300 give the numbers of [0,0,4,4]
    vs [2,2,6,6], even where areas underflow to 0 or overflow (then null and a warning)."""
    a = ",".join(repr(v * scale) for v in (0, 0, 4, 4))
    b = ",".join(repr(v * scale) for v in (2, 2, 6, 6))
    pair = json_of(capsys, ["box-compare", "--a", a, "--b", b])["pairs"][0]
    assert pair["iou"] == pytest.approx(1 / 7, rel=1e-6)  # 1e-320 is subnormal: a few digits only
    assert pair["giou"] == pytest.approx(1 / 7 - 8 / 36, rel=1e-6)
    assert pair["diou"] == pytest.approx(1 / 7 - 1 / 9, rel=1e-6)


def test_boxes_too_large_for_floats_warn_and_render(tmp_path, capsys):
    """Coordinates near ±1e308 overflow the areas: nulls and a warning in every format, a plot, never a crash."""
    for fmt in (["--json"], [], ["--format", "markdown"], ["--exact"], ["--json", "--exact"]):
        plot = tmp_path / f"b{len(fmt)}{fmt[-1] if fmt else ''}.png"
        code, out, err = check(capsys, ["box-compare", "--a", "-1e308,-1e308,1e308,1e308", "--b", "0,0,1,1", *fmt, "--plot", plot])
        assert code == 0, err
        assert plot.is_file()
        if "--json" in fmt:
            pair = json.loads(out)["pairs"][0]
            assert pair["union"] is None and json.loads(out)["warnings"]
            assert pair["iou"] == pytest.approx(1 / 4e616, abs=1e-300)  # 1 / (2e308)²: 0 in floating point
        else:
            assert "warning:" in err


def test_same_distance_below_float_resolution_is_not_claimed(capsys):
    """R = 1e-320 cannot move a corner at 4: dlv must not claim every L2 is R without a warning."""
    doc = json_of(capsys, ["box-compare", "--a", "0,0,4,4", "--same-l2", "1e-320"])
    assert any("not exactly R" in w for w in doc["warnings"]), doc["warnings"]
    doc = json_of(capsys, ["box-compare", "--a", "1000000000,1000000000,1000000004,1000000003", "--same-l2", "1"])
    assert doc["warnings"] == []  # R = 1 at 1e9 is resolved to 1e-7: fine
    assert all(p["l2"] == pytest.approx(1, rel=1e-6) for p in doc["pairs"])


def test_same_distance_count_is_bounded(tmp_path, capsys):
    code, _, err = check(capsys, ["box-compare", "--a", "0,0,4,4", "--same-l2", "1", "--n", "100000000", "--json"])
    assert code == 2 and "--n" in err
    config = tmp_path / "c.yaml"  # a --config value does not go through the option's range: checked too
    config.write_text("a: [0, 0, 4, 4]\nsame-l2: 1\nn: 100000000\n")
    code, _, err = check(capsys, ["box-compare", "-c", config, "--json"])
    assert code == 2 and "--n" in err


@pytest.mark.parametrize(
    "args, shape",
    [
        (["--stride", "1"], [1, 1]),
        (["--stride", "3"], [1, 1]),
        (["--stride", "2", "--output-padding", "1"], [2, 2]),
        (["--stride", "1", "--padding", "0"], [1, 1]),
    ],
)
def test_tconv_one_by_one(capsys, args, shape):
    """A 1×1 input times a 1×1 kernel is one product, 5·(−0.5); output padding adds a zero row and column."""
    doc = json_of(capsys, ["tconv", "--x", "[[5]]", "--k", "[[-0.5]]", *args, "--show-matrix"])
    assert doc["input_shape"] == [1, 1] and doc["output_shape"] == shape
    assert doc["output"][0][0] == -2.5
    assert sum(v for row in doc["output"] for v in row) == -2.5
    assert doc["matrix_form"]["max_abs_difference"] == 0.0 and doc["warnings"] == []
    code, out, err = check(capsys, ["tconv", "--x", "[[5]]", "--k", "[[-0.5]]", *args, "--exact"])
    assert code == 0 and "-5/2" in out


def test_tconv_one_by_one_that_overflows_warns(tmp_path, capsys):
    """1e308·1e308 is inf and 1e308·1e308 − 1e308·1e308 is NaN: a warning, nulls, a plot; never exit 1."""
    for fmt in (["--json"], [], ["--exact"], ["--format", "markdown", "--exact"], ["--format", "markdown"]):
        plot = tmp_path / f"t{len(fmt)}{fmt[-1] if fmt else ''}.png"
        code, out, err = check(capsys, ["tconv", "--x", "[[1e308, 1e308]]", "--k", "[[1e308, -1e308]]", *fmt, "--plot", plot])
        assert code == 0, err
        assert plot.is_file()
        if "--json" in fmt:
            doc = json.loads(out)
            assert doc["output"] == [[None, None, None]] and any("overflow" in w for w in doc["warnings"])
        else:
            assert "warning:" in err and "overflow" in err


def test_tconv_huge_input_is_shape_only_and_fast(capsys):
    start = time.monotonic()
    doc = json_of(capsys, ["tconv", "--input", "100000x100000", "--kernel", "3", "--stride", "2", "--show-matrix"])
    assert time.monotonic() - start < 5
    assert doc["output_shape"] == [2 * 99999 + 3, 2 * 99999 + 3]  # (H − 1)·2 + (3 − 1) + 1
    assert doc["matrix"] is None and doc["warnings"]
    code, out, _ = check(capsys, ["tconv", "--input", "100000x100000", "--kernel", "3", "--show-matrix"])
    assert code == 0 and "100002" in out


@pytest.mark.parametrize("option", [["--stride", "1000000"], ["--dilation", "1000000"], ["--stride", "3000", "--output-padding", "2999"]])
def test_tconv_values_for_a_huge_output_are_refused_before_allocating(capsys, option):
    """A 2×2 input with stride 10⁶ asks for 10¹² output values (8 TB): exit 2 at once, not a MemoryError."""
    start = time.monotonic()
    code, _, err = check(capsys, ["tconv", "--x", "[[1,2],[3,4]]", "--k", "[[1,2],[3,4]]", *option, "--json"])
    assert code == 2 and "values" in err and time.monotonic() - start < 5
    code, out, _ = check(capsys, ["tconv", "--input", "2", "--kernel", "2", *option, "--json"])  # the size alone is fine
    assert code == 0 and json.loads(out)["output_shape"][0] > 1000


def test_tconv_sizes_are_whole_numbers_read_exactly(capsys):
    """A size beyond 2**53 is the integer typed, not rounded through a float (99…9 would become 1e20)."""
    doc = json_of(capsys, ["tconv", "--input", "99999999999999999999", "--kernel", "1"])
    assert doc["input_shape"] == [99999999999999999999] * 2
    assert doc["output_shape"] == [99999999999999999999] * 2


@pytest.mark.parametrize(
    "args, first",
    [
        # H = 100000, H_out = 10¹², k = 1, p = op = 0: s = (10¹² − 1)/99999 is not whole: no answer
        (["--input", "100000", "--output", "1000000000000", "--kernel", "1", "--padding", "0", "--output-padding", "0"], None),
        # H = 100001: s = (10¹² − 1)/100000 is not whole either; H = 2: s = 10¹² − 1
        (["--input", "2", "--output", "1000000000000", "--kernel", "1", "--padding", "0", "--output-padding", "0"],
         {"kernel": 1, "stride": 999999999999, "padding": 0, "output_padding": 0}),
        # H_out = 10⁹ with stride 1, p = op = 0: k = H_out − H + 1, exactly one
        (["--input", "5", "--output", "1000000000", "--stride", "1", "--padding", "0", "--output-padding", "0"],
         {"kernel": 999999996, "stride": 1, "padding": 0, "output_padding": 0}),
    ],
)  # fmt: skip
def test_tconv_solve_with_huge_sizes_answers_by_formula(capsys, args, first):
    start = time.monotonic()
    doc = json_of(capsys, ["tconv", "--solve", *args])
    assert time.monotonic() - start < 5
    solutions = doc["solutions"]
    if first is None:
        assert solutions == []
    else:
        assert len(solutions) == 1
        got = {key: solutions[0][key] for key in first}
        assert {k: v[0] if isinstance(v, list) else v for k, v in got.items()} == first


def test_tconv_solve_with_too_many_answers_is_refused_at_once(capsys):
    for output in ("1000000", "1000000000", "1000000000000"):
        start = time.monotonic()
        code, _, err = check(capsys, ["tconv", "--solve", "--input", "3", "--output", output, "--json"])
        assert code == 2 and "more than" in err
        assert time.monotonic() - start < 5


@needs_bptt
def test_bptt_saturation_and_explosion_are_finite_or_warned(capsys):
    """tanh saturates at U = 100 (h = ±1, gradients ≈ 0); W = 50 over 60 steps explodes the
    Jacobian products: finite numbers, or nulls named in the warnings, never exit 1."""
    xs = ",".join(["1", "-1"] * 30)
    ys = ",".join(["0.5"] * 60)
    for U, W in (("100", "0.5"), ("0.5", "50"), ("1e300", "1e300")):
        code, out, err = check(capsys, ["bptt", "--U", U, "--W", W, "--V", "1.2", "--x", xs, "--y", ys, "--json"])
        assert code == 0, err
        doc = json.loads(out)
        numbers = list(flatten(doc["grads"])) + list(flatten(doc["forward"]))
        assert all(v is None or math.isfinite(v) for v in numbers), (U, W)
        if None in numbers:
            assert doc["warnings"], (U, W)


def flatten(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from flatten(item)
    elif isinstance(value, list):
        for item in value:
            yield from flatten(item)
    elif value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        yield value
