"""Results display as their worked solution (docs/notebook.md).

The reference for each document is the CLI itself: ``_repr_markdown_()`` of a result must be
byte for byte what ``dlv COMMAND --format markdown`` prints for the same inputs, and
``str(result)`` what ``dlv COMMAND`` prints as text into a pipe (120 columns).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

import dlvcli
from tests.conftest import SAMPLES

COURSE = str(SAMPLES / "interp_ap_course.csv")
# (CLI arguments, the same inputs as a library call)
CASES = {
    "interp-ap ranked (file)": (["interp-ap", COURSE, "--num-gt", "5"], lambda: dlvcli.interp_ap(file=COURSE, num_gt=5)),
    "interp-ap ranked (list)": (
        ["interp-ap", "-", "--num-gt", "5"],
        lambda: dlvcli.interp_ap(tp=[1, 1, 0, 0, 0, 1, 1, 0, 0, 1], num_gt=5),
    ),
    "interp-ap boxes": (
        ["interp-ap", SAMPLES / "interp_ap_boxes_detections.csv", "--gt", SAMPLES / "interp_ap_boxes_gt.csv"],
        lambda: dlvcli.interp_ap(file=str(SAMPLES / "interp_ap_boxes_detections.csv"), gt=str(SAMPLES / "interp_ap_boxes_gt.csv")),
    ),
    "interp-ap coco": (
        ["interp-ap", SAMPLES / "coco_results.json", "--gt", SAMPLES / "coco_instances.json"],
        lambda: dlvcli.interp_ap(file=str(SAMPLES / "coco_results.json"), gt=str(SAMPLES / "coco_instances.json")),
    ),
    "bptt": (
        ["bptt", "--U", "0.5", "--W", "0.8", "--V", "1.2", "--x", "1,0.5,-1", "--y", "0.2,0.1,0.3"],
        lambda: dlvcli.bptt(0.5, 0.8, 1.2, [1, 0.5, -1], [0.2, 0.1, 0.3]),
    ),
    "focal": (["focal", "--p", "0.9", "--gamma", "2"], lambda: dlvcli.focal(p=0.9, gamma=2)),
    "focal softmax": (
        ["focal", "--logits", "2,0.3,-1", "--target", "0", "--gamma", "2"],
        lambda: __import__("dlvcli.core.focal_softmax", fromlist=["x"]).softmax_focal([[2, 0.3, -1]], target=0, gamma=[2]),
    ),
    "bptt compare-cells": (
        ["bptt", "--compare-cells", "--hidden", "3", "--T", "6", "--seed", "1"],
        lambda: __import__("dlvcli.core.rnn_cells", fromlist=["x"]).compare_cells(3, 6, 1),
    ),
    "box-compare": (
        ["box-compare", "--a", "0,0,10,10", "--b", "5,5,15,15", "--b", "2,0,12,10"],
        lambda: dlvcli.box_compare([0, 0, 10, 10], [[5, 5, 15, 15], [2, 0, 12, 10]]),
    ),
    "tconv values": (
        ["tconv", "--x", "[[1,2],[3,4]]", "--k", "[[1,0],[0,1]]", "--stride", "2"],
        lambda: dlvcli.tconv([[1, 2], [3, 4]], [[1, 0], [0, 1]], stride=2),
    ),
    "tconv size": (["tconv", "--input", "3", "--kernel", "3", "--stride", "2"], lambda: dlvcli.tconv_shape(3, 3, stride=2)),
    "tconv solve": (
        ["tconv", "--input", "3", "--output", "7", "--padding", "0", "--output-padding", "0", "--solve"],
        lambda: dlvcli.tconv_solve(3, 7, padding=0, output_padding=0),
    ),
}
STDIN = {"interp-ap ranked (list)": "tp\n1\n1\n0\n0\n0\n1\n1\n0\n0\n1\n"}


@pytest.fixture
def pipe_width(monkeypatch):
    # text into a pipe is 120 columns unless COLUMNS says otherwise (render.output.stdout_console)
    monkeypatch.delenv("COLUMNS", raising=False)


@pytest.mark.parametrize("case", CASES)
def test_repr_markdown_is_the_markdown_output(case, dlv):
    args, call = CASES[case]
    cli = dlv(*args, "--format", "markdown", stdin=STDIN.get(case))
    assert cli.code == 0, cli.stderr
    markdown = call()._repr_markdown_()
    assert markdown == cli.stdout
    assert "$" in markdown  # the document carries its math


@pytest.mark.parametrize("case", CASES)
def test_str_is_the_text_output(case, dlv, pipe_width):
    args, call = CASES[case]
    cli = dlv(*args, stdin=STDIN.get(case))
    assert cli.code == 0, cli.stderr
    assert str(call()) == cli.stdout


def test_output_options_as_keywords(dlv, pipe_width):
    """--digits, --exact and a view flag (--summary) become keywords of markdown() and text()."""
    result = dlvcli.interp_ap(file=COURSE, num_gt=5, method="allpoint", exact=True)
    args = ["interp-ap", COURSE, "--num-gt", "5", "--method", "allpoint", "--exact", "--digits", "6", "--summary"]
    assert result.markdown(digits=6, exact=True, summary=True) == dlv(*args, "--format", "markdown").stdout
    assert result.text(digits=6, exact=True, summary=True) == dlv(*args).stdout
    shape = dlvcli.tconv_shape(2, 2, symbolic_matrix=True)
    assert shape.markdown(show_matrix=True) == dlv("tconv", "--input", "2", "--kernel", "2", "--show-matrix", "--format", "markdown").stdout


def test_not_a_view_option():
    with pytest.raises(TypeError, match="no view options"):
        dlvcli.focal(p=0.9).markdown(summary=True)


def test_computing_a_result_imports_no_renderer():
    """The core stays free of rich and dlvcli.render until a result is displayed."""
    code = (
        "import sys, dlvcli\n"
        "r = dlvcli.focal(p=0.9, gamma=2)\n"
        "assert not [m for m in sys.modules if m == 'rich' or m.startswith('dlvcli.render')], sorted(sys.modules)\n"
        "r._repr_markdown_()\n"
        "assert 'dlvcli.render.focal' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
