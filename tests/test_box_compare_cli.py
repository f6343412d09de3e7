"""``dlv box-compare`` through the real entry point: JSON keys (docs/box-compare.md), text, config, samples, errors."""

from __future__ import annotations

import math

import pytest

from tests.conftest import SAMPLES

PAIR_KEYS = {"a", "b", "enclosing", "intersection", "union", "iou", "giou", "diou", "ciou", "l1", "l2", "l1_cxcywh", "l2_cxcywh"}
ENVELOPE = {"command", "dlv_version", "inputs", "warnings"}


def test_json_has_exactly_the_contract_keys(dlv):
    r = dlv("box-compare", "--a", "0,0,4,4", "--b", "2,2,6,6", "--b", "0,0,4,4", "--json")
    assert r.code == 0 and r.stderr == ""
    doc = r.json()
    assert set(doc) == ENVELOPE | {"pairs"} and doc["command"] == "box-compare"
    assert [set(p) for p in doc["pairs"]] == [PAIR_KEYS, PAIR_KEYS]
    first, same = doc["pairs"]
    # I = 4, U = 28 (hand-worked in test_box_compare_core), C = (0,0,6,6)
    assert first["a"] == [0, 0, 4, 4] and first["b"] == [2, 2, 6, 6] and first["enclosing"] == [0, 0, 6, 6]
    assert (first["intersection"], first["union"]) == (4, 28) and first["iou"] == pytest.approx(1 / 7)
    assert first["giou"] == pytest.approx(-5 / 63) and first["l1"] == 8 and first["l2"] == 4
    assert same["iou"] == same["giou"] == same["diou"] == same["ciou"] == 1 and same["l2"] == 0
    assert doc["inputs"]["a"] == [0, 0, 4, 4] and doc["inputs"]["b"] == [[2, 2, 6, 6], [0, 0, 4, 4]]
    assert doc["inputs"]["box_format"] == "xyxy"


def test_exact_adds_fractions(dlv):
    doc = dlv("box-compare", "--a", "0,0,4,4", "--b", "2,2,6,6", "--exact", "--json").json()
    pair = doc["pairs"][0]
    assert pair["iou_exact"] == "1/7" and pair["giou_exact"] == "-5/63" and pair["diou_exact"] == "2/63"
    assert pair["l2_exact"] == "4" and pair["l2_cxcywh_exact"] is None  # √8 is irrational
    text = dlv("box-compare", "--a", "0,0,4,4", "--b", "2,2,6,6", "--exact").stdout
    assert "IoU = I / U = 4 / 28 = 1/7 ≈ 0.1429" in text


def test_text_shows_each_measure_with_numbers(dlv):
    r = dlv("box-compare", "--a", "0,0,4,4", "--b", "2,2,6,6")
    assert r.code == 0, r.stderr
    for piece in ("U = |A| + |B| − I = 16 + 16 − 4 = 28", "IoU = I / U = 4 / 28 = 0.1429", "GIoU = IoU − (|C| − U) / |C|",
                  "DIoU = IoU − ρ² / c² = 0.1429 − 8 / 72 = 0.0317", "v = (4/π²)", "α = v / ((1 − IoU) + v)", "CIoU = DIoU − α · v",
                  "L1 = Σᵢ |aᵢ − bᵢ|", "√16", "L2 of (cx,cy,w,h)", "√8 = 2.8284"):
        assert piece in r.stdout, piece


def test_xywh_format(dlv):
    doc = dlv("box-compare", "--box-format", "xywh", "--a", "0,0,4,4", "--b", "2,2,4,4", "--json").json()
    assert doc["pairs"][0]["b"] == [2, 2, 6, 6] and doc["pairs"][0]["iou"] == pytest.approx(1 / 7)


@pytest.mark.parametrize("flag, metric", [("--same-l2", "l2"), ("--same-l1", "l1")])
def test_same_distance_rows_all_have_distance_r_and_different_iou(dlv, flag, metric):
    r = dlv("box-compare", "--a", "0,0,4,3", flag, "1.25", "--n", "12", "--json")
    assert r.code == 0, r.stderr
    doc = r.json()
    pairs = doc["pairs"]
    assert len(pairs) == 12 and all(set(p) == PAIR_KEYS for p in pairs)
    assert all(abs(p[metric] - 1.25) <= 1e-12 for p in pairs)
    ious = [p["iou"] for p in pairs]
    assert ious == sorted(ious, reverse=True) and len(set(ious)) > 1
    assert doc["same_distance"]["iou_spread"] == pytest.approx(max(ious) - min(ious))
    assert doc["inputs"][metric.replace("l", "same_l")] == 1.25 and doc["inputs"]["n"] == 12


def test_same_l2_text_states_the_spread(dlv):
    r = dlv("box-compare", "--a", "0,0,4,3", "--same-l2", "1")
    assert r.code == 0
    assert "Sorted by IoU" in r.stdout
    assert "Same L2 distance 1, different overlap: IoU from 0.6292 (θ = 225°) to 0.8 (θ = 0°), a spread of 0.1708." in r.stdout


def test_csv_of_pairs(dlv):
    r = dlv("box-compare", SAMPLES / "box_compare_pairs.csv", "--json")
    assert r.code == 0, r.stderr
    pairs = r.json()["pairs"]
    assert len(pairs) == 6 and pairs[0]["iou"] == 1 and pairs[4]["giou"] == pytest.approx(-0.68)
    # the column names say the format: a in xywh, b in cxcywh
    doc = dlv("box-compare", SAMPLES / "box_compare_pairs_xywh.csv", "--json").json()
    assert doc["pairs"][0]["a"] == doc["pairs"][0]["b"] == [10, 20, 40, 60]
    assert doc["inputs"]["box_format"] == "a: xywh, b: cxcywh"


def test_csv_from_stdin(dlv):
    r = dlv("box-compare", "-", "--json", stdin="a_x1,a_y1,a_x2,a_y2,b_x1,b_y1,b_x2,b_y2\n0,0,4,4,2,2,6,6\n")
    assert r.code == 0 and r.json()["pairs"][0]["union"] == 28


def test_yaml_flat_b_is_one_box(dlv, tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("a: [0, 0, 4, 4]\nb: [2, 2, 6, 6]\n")
    doc = dlv("box-compare", "-c", config, "--json").json()
    assert len(doc["pairs"]) == 1 and doc["pairs"][0]["iou"] == pytest.approx(1 / 7)


@pytest.mark.parametrize(
    "path", sorted(SAMPLES.glob("box_compare_*.yaml")) + sorted(SAMPLES.glob("box_compare_*.csv")), ids=lambda p: p.name
)
def test_every_sample_runs(dlv, path):
    r = dlv("box-compare", "-c", path) if path.suffix == ".yaml" else dlv("box-compare", path)
    assert r.code == 0, r.stderr
    assert "IoU" in r.stdout


def test_markdown(dlv):
    r = dlv("box-compare", "--a", "0,0,4,4", "--b", "2,2,6,6", "--format", "markdown")
    assert r.code == 0
    assert r"$\mathrm{IoU} = \frac{I}{U} = \frac{4}{28} = 0.1429$" in r.stdout  # LatexPrinter of the same tree


def test_plot(dlv, tmp_path):
    target = tmp_path / "boxes.svg"
    r = dlv("box-compare", "--a", "0,0,4,3", "--same-l2", "1", "--plot", target)
    assert r.code == 0 and target.read_text().startswith("<?xml") and "IoU" in target.read_text()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--a", "0,0,4,4", "--b", "3,0,1,4"], "x2 = 1 is not greater than x1 = 3"),
        (["--a", "0,0,4,4", "--b", "0,0,4,0"], "zero or negative height"),
        (["--a", "1,1,1,1", "--b", "0,0,4,4"], "zero or negative width"),
        (["--box-format", "xywh", "--a", "0,0,4,4", "--b", "0,0,0,4"], "w = 0"),
        (["--a", "0,0,4", "--b", "0,0,4,4"], "3 numbers, expected 4"),
        (["--a", "0,0,4,4", "--b", "nan,0,4,4"], "not a finite number"),
        (["--a", "0,0,4,3", "--same-l2", "3"], "largest R allowed is just under 3"),
        (["--a", "0,0,4,3", "--same-l1", "0"], "greater than 0"),
        (["--a", "0,0,4,4", "--same-l2", "1", "--b", "1,1,2,2"], "leave out --b"),
        (["--a", "0,0,4,4", "--b", "1,1,2,2", "--n", "3"], "--n goes with"),
        (["--a", "0,0,4,4"], "missing --b"),
        (["--a", "0,0,4,4", "--b", "1,1,2,2", "--box-format", "xyz"], "Invalid value"),
    ],
)
def test_bad_input_exits_2(dlv, args, message):
    r = dlv("box-compare", *args)
    assert r.code == 2, r.stdout
    assert r.stderr.startswith("error:") and message in r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""


@pytest.mark.parametrize(
    "content, message",
    [
        # a row with three numbers under an eight-column header
        ("a_x1,a_y1,a_x2,a_y2,b_x1,b_y1,b_x2,b_y2\n0,0,4,4,1,1,2,2\n0,0,4\n", "line 3: 3 fields"),
        # a header with three box columns only
        ("a_x1,a_y1,a_x2\n0,0,4\n", "no complete set of box-a columns"),
        ("a_x1,a_y1,a_x2,a_y2,b_x1,b_y1,b_x2,b_y2\n0,0,4,4,3,1,2,2\n", "line 2, column 'b_x2'"),
        ("a_x1,a_y1,a_x2,a_y2,b_x1,b_y1,b_x2,b_y2\n0,0,4,4,nan,1,2,2\n", "line 2, column 'b_x1'"),
        ("a_x,a_y,a_w,a_h,b_x,b_y,b_w,b_h\n0,0,4,4,1,1,0,2\n", "line 2, column 'b_w'"),
        ("a_x1,a_y1,a_x2,a_y2,b_x1,b_y1,b_x2,b_y2,b_w\n0,0,4,4,1,1,2,2,1\n", "unexpected column 'b_w'"),
    ],
)
def test_bad_csv_names_the_place(dlv, tmp_path, content, message):
    path = tmp_path / "pairs.csv"
    path.write_text(content)
    r = dlv("box-compare", path)
    assert r.code == 2 and r.stderr.startswith("error:") and message in r.stderr and "Traceback" not in r.stderr


def test_box_format_that_contradicts_the_columns(dlv):
    r = dlv("box-compare", SAMPLES / "box_compare_pairs.csv", "--box-format", "cxcywh")
    assert r.code == 2 and "the column names say the format" in r.stderr


def test_huge_coordinates_warn_instead_of_failing(dlv):
    r = dlv("box-compare", "--a", "0,0,1e200,1e200", "--b", "0,0,2e200,2e200", "--json")
    assert r.code == 0
    doc = r.json()
    assert doc["pairs"][0]["union"] is None and doc["warnings"]
    assert not math.isnan(doc["pairs"][0]["l1"])
