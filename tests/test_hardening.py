"""Hostile input through the real entry point (issue 8).

Properties, for every input: the exit code is 0 or 2 (never 1, never a traceback);
with 2, stderr starts ``error:``; in --json mode stdout is empty or one JSON document;
a failed --plot leaves no file behind.
"""

from __future__ import annotations

import json
import os
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlvcli.cli import run

FUZZ = settings(
    max_examples=int(os.environ.get("DLV_FUZZ_EXAMPLES", "40")),
    deadline=None,
    derandomize=not os.environ.get("DLV_FUZZ_RANDOM"),  # a fixed seed unless asked: CI sees the same examples
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

CELLS = st.one_of(
    st.sampled_from(["1", "0", "TP", "fp", "true", "nan", "inf", "-inf", "1e308", "-0.0", "", " ", "NaN", "1e-320", "ß", "猫", "\ufeff1", "-1", "2"]),
    st.text(alphabet=string.printable, max_size=6),
)


def check(capsys, argv, plot=None):
    code = run([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert code in (0, 2), (argv, code, err)
    assert "Traceback" not in err
    if code == 2:
        assert err.startswith("error:"), err
    if "--json" in argv and out.strip():
        json.loads(out)
        assert out.count("\n") == 1
    if plot is not None and code != 0:
        assert not plot.exists()
        assert not [p for p in plot.parent.iterdir() if p.name.startswith(".")]
    return code, out, err


@FUZZ
@given(
    header=st.lists(st.sampled_from(["tp", "score", "class", "TP", "Score", "x", "tp ", "", "tp"]), min_size=1, max_size=4),
    rows=st.lists(st.lists(CELLS, min_size=0, max_size=5), max_size=6),
    newline=st.sampled_from(["\n", "\r\n"]),
    bom=st.booleans(),
    num_gt=st.sampled_from(["3", "0", "-1", "x", "a=2", "1e9", "99999999999999999999"]),
)
def test_ranked_tables(tmp_path, capsys, header, rows, newline, bom, num_gt):
    text = newline.join([",".join(header)] + [",".join(r) for r in rows]) + newline
    path = tmp_path / "d.csv"
    path.write_bytes((("\ufeff" if bom else "") + text).encode())
    plot = tmp_path / "out.png"
    plot.unlink(missing_ok=True)  # tmp_path is shared by the examples: an earlier one may have made it
    check(capsys, ["interp-ap", path, "--num-gt", num_gt, "--json", "--plot", plot], plot=plot)


@FUZZ
@given(data=st.binary(max_size=200))
def test_random_bytes_on_stdin_and_in_files(tmp_path, capsys, monkeypatch, data):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    check(capsys, ["interp-ap", "-", "--num-gt", "2", "--json"])
    path = tmp_path / "g.csv"
    path.write_bytes(data)
    check(capsys, ["interp-ap", path, "--gt", path, "--json"])
    config = tmp_path / "c.yaml"
    config.write_bytes(data)
    check(capsys, ["interp-ap", "-c", config, "--json"])


@FUZZ
@given(
    values=st.lists(st.sampled_from(["0", "5", "-3", "1e9", "1e308", "nan", "inf", "-0.0", "x", "", "12.5"]), min_size=4, max_size=4),
    fmt=st.sampled_from(["xyxy", "xywh", "cxcywh"]),
    iou=st.sampled_from(["0.5", "0.5:0.95:0.05", "0", "1.5", "nan", "0.5:0.4:0.1", "::", "0.5:0.95:0.0"]),
)
def test_boxes(tmp_path, capsys, values, fmt, iou):
    names = {"xyxy": "x1,y1,x2,y2", "xywh": "x,y,w,h", "cxcywh": "cx,cy,w,h"}[fmt]
    dets = tmp_path / "d.csv"
    dets.write_text(f"image,score,{names}\nimg,0.5,{','.join(values)}\nimg,0.5,0,0,1,1\n")
    gts = tmp_path / "g.csv"
    gts.write_text(f"image,{names},difficult\nimg,{','.join(values)},0\nother,0,0,1,1,1\n")
    check(capsys, ["interp-ap", dets, "--gt", gts, "--box-format", fmt, "--iou", iou, "--json"])


@pytest.mark.parametrize(
    "argv",
    [
        ["interp-ap"],
        ["interp-ap", "."],
        ["interp-ap", ".", "--gt", "."],
        ["no-such-command"],
        ["interp-ap", "--digits", "-1"],
        ["interp-ap", "--format", "yaml"],
    ],
)
def test_usage_errors(capsys, argv):
    code, _, err = check(capsys, argv)
    assert code == 2


def test_config_with_duplicate_and_unicode_keys(tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text("num-gt: 5\nnum-gt: 6\n")
    check(capsys, ["interp-ap", "-c", config])
    config.write_text("ünïcode: 1\n")
    code, _, err = check(capsys, ["interp-ap", "-c", config])
    assert code == 2 and "ünïcode" in err
