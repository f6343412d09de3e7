"""``dlv interp-ap`` through the real entry point: output, JSON keys, config, errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import SAMPLES

COURSE = str(SAMPLES / "interp_ap_course.csv")


def test_course_example_text_shows_the_worked_solution(dlv):
    r = dlv("interp-ap", COURSE, "--num-gt", "5")
    assert r.code == 0, r.stderr
    assert "58/77 ≈ 0.7532" in r.stdout
    assert "4/7 = 0.5714" in r.stdout  # the ranked table's precision at rank 7
    assert "p_interp(r)" in r.stdout and "AP = 1/11" in r.stdout


@pytest.mark.parametrize("method, exact, value", [("allpoint", "51/70", 0.7286), ("101point", "517/707", 0.7313)])
def test_other_methods(dlv, method, exact, value):
    r = dlv("interp-ap", COURSE, "--num-gt", "5", "--method", method)
    assert r.code == 0
    assert f"{exact} ≈ {value:.4f}" in r.stdout


def test_exact_json(dlv):
    r = dlv("interp-ap", COURSE, "--num-gt", "5", "--exact", "--json")
    assert r.code == 0 and r.stderr == ""
    doc = r.json()
    assert doc["command"] == "interp-ap"
    assert {"dlv_version", "inputs", "warnings", "method", "iou_thresholds", "map", "classes"} <= set(doc)
    assert doc["map_exact"] == "58/77"
    cls = doc["classes"][0]
    assert cls["ap_exact"] == "58/77" and cls["class"] is None and cls["num_gt"] == 5 and cls["num_detections"] == 10
    row = cls["ranked"][6]
    assert row == {**row, "rank": 7, "score": None, "tp": 1, "cum_tp": 4, "cum_fp": 3}
    assert row["precision"] == pytest.approx(4 / 7) and row["recall"] == pytest.approx(0.8)
    assert len(cls["interpolated"]) == 11 and cls["interpolated"][5]["precision"] == pytest.approx(4 / 7)
    assert doc["inputs"]["num_gt"] == 5 and doc["inputs"]["method"] == "11point"


def test_summary_leaves_out_rows(dlv):
    doc = dlv("interp-ap", COURSE, "--num-gt", "5", "--summary", "--json").json()
    assert "ranked" not in doc["classes"][0]


def test_config_file_and_command_line_override(dlv):
    r = dlv("interp-ap", "-c", SAMPLES / "interp_ap_course.yaml", "--json")
    assert r.json()["map"] == pytest.approx(58 / 77)
    r = dlv("interp-ap", "-c", SAMPLES / "interp_ap_course.yaml", "--method", "allpoint", "--json")
    assert r.json()["map"] == pytest.approx(51 / 70)


def test_unknown_config_key_is_an_error(dlv, tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("num-gt: 5\nnum-gts: 4\n")
    r = dlv("interp-ap", COURSE, "-c", config)
    assert r.code == 2
    assert r.stderr.startswith("error:") and "line 2" in r.stderr and "num-gts" in r.stderr


def test_stdin_and_class_column(dlv):
    csv = "class,score,tp\ncat,0.9,1\ndog,0.8,FP\ncat,0.7,false\ndog,0.6,true\n"
    r = dlv("interp-ap", "-", "--num-gt", "cat=1", "--num-gt", "dog=2", "--exact", "--json", stdin=csv)
    assert r.code == 0, r.stderr
    doc = r.json()
    by = {c["class"]: c for c in doc["classes"]}
    # cat: TP first, num_gt 1 → 1; dog: FP then TP of 2 → p 1/2 at r 1/2: 11-point (6·½)/11 = 3/11
    assert by["cat"]["ap_exact"] == "1" and by["dog"]["ap_exact"] == "3/11"
    assert doc["map_exact"] == "7/11"


def test_class_restriction(dlv):
    csv = "class,tp\ncat,1\ndog,0\n"
    doc = dlv("interp-ap", "-", "--num-gt", "cat=1", "--num-gt", "dog=1", "--class", "dog", "--json", stdin=csv).json()
    assert [c["class"] for c in doc["classes"]] == ["dog"] and doc["map"] == 0.0


def test_class_without_ground_truth_is_null_with_a_warning(dlv):
    csv = "class,tp\ncat,1\ndog,0\n"
    doc = dlv("interp-ap", "-", "--num-gt", "cat=1", "--num-gt", "dog=0", "--json", stdin=csv).json()
    by = {c["class"]: c for c in doc["classes"]}
    assert by["dog"]["ap"] is None and doc["map"] == 1.0
    assert any("dog" in w for w in doc["warnings"])


def test_boxes_mode_json(dlv):
    r = dlv("interp-ap", "-c", SAMPLES / "interp_ap_boxes.yaml", "--json", "--exact")
    assert r.code == 0, r.stderr
    doc = r.json()
    assert doc["map_exact"] == "107/132" and doc["iou_thresholds"] == [0.5]
    cat = {c["class"]: c for c in doc["classes"]}["cat"]
    assert cat["num_ignored"] == 1 and cat["num_detections"] == 4
    first = cat["ranked"][0]
    assert first["image"] == "img1" and first["iou"] == 1.0 and first["matched_gt"] == 0
    assert cat["ranked"][1]["matched_gt"] is None  # the duplicate


def test_boxes_iou_range(dlv):
    doc = dlv("interp-ap", "-c", SAMPLES / "interp_ap_boxes.yaml", "--iou", "0.5:0.95:0.05", "--json").json()
    assert len(doc["iou_thresholds"]) == 10
    assert all(len(c["ap_per_iou"]) == 10 for c in doc["classes"])


def test_markdown(dlv):
    r = dlv("interp-ap", COURSE, "--num-gt", "5", "--format", "markdown", "--exact")
    assert r.code == 0
    assert "\\tfrac{58}{77}" in r.stdout and "| rank |" in r.stdout


def test_plot_is_written(dlv, tmp_path):
    out = tmp_path / "pr.png"
    r = dlv("interp-ap", COURSE, "--num-gt", "5", "--plot", out)
    assert r.code == 0 and out.stat().st_size > 1000
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left


def test_plot_never_overwrites_an_input(dlv, tmp_path):
    csv = tmp_path / "d.csv"
    csv.write_text("tp\n1\n")
    r = dlv("interp-ap", csv, "--num-gt", "1", "--plot", tmp_path / "d.png")
    assert r.code == 0
    r = dlv("interp-ap", csv, "--num-gt", "1", "--plot", csv)
    assert r.code == 2 and csv.read_text() == "tp\n1\n"


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "content, args, needles",
    [
        ("score,label\n0.9,1\n", ["--num-gt", "1"], ["missing column 'tp'", "line 1"]),
        ("tp\n1\nmaybe\n", ["--num-gt", "2"], ["line 3", "'tp'", "maybe", "TP/FP"]),
        ("tp,score\n1,high\n", ["--num-gt", "1"], ["line 2", "'score'", "not a number"]),
        ("tp,score\n1,nan\n", ["--num-gt", "1"], ["line 2", "'score'", "finite"]),
        ("tp\n1\n1\n", ["--num-gt", "1"], ["2 true positives"]),
        ("tp\n1\n", [], ["missing --num-gt"]),
        ("", ["--num-gt", "1"], ["empty file"]),
        ("tp\n1\n", ["--num-gt", "x"], ["--num-gt", "whole number"]),
        ("tp\n1,2\n", ["--num-gt", "1"], ["line 2", "2 fields"]),
    ],
)
def test_bad_ranked_input(dlv, tmp_path, content, args, needles):
    path = tmp_path / "d.csv"
    path.write_text(content)
    r = dlv("interp-ap", path, *args)
    assert r.code == 2
    assert r.stderr.startswith("error:") and "Traceback" not in r.stderr
    for needle in needles:
        assert needle in r.stderr


def test_bad_boxes(dlv, tmp_path):
    dets = tmp_path / "d.csv"
    dets.write_text("image,score,x1,y1,x2,y2\na,0.5,10,0,5,5\n")
    gt = tmp_path / "g.csv"
    gt.write_text("image,x1,y1,x2,y2\na,0,0,5,5\n")
    r = dlv("interp-ap", dets, "--gt", gt)
    assert r.code == 2 and "line 2" in r.stderr and "'x2'" in r.stderr and "less than x1" in r.stderr


@pytest.mark.parametrize("spec", ["0.5:0.95", "0.9:0.5:0.05", "abc"])
def test_malformed_iou_range_cli(dlv, spec):
    r = dlv("interp-ap", "-c", SAMPLES / "interp_ap_boxes.yaml", "--iou", spec)
    assert r.code == 2 and r.stderr.startswith("error:") and "--iou" in r.stderr


def test_missing_file_and_unknown_option(dlv):
    r = dlv("interp-ap", "no/such.csv", "--num-gt", "1")
    assert r.code == 2 and "no/such.csv" in r.stderr and "no such file" in r.stderr
    r = dlv("interp-ap", COURSE, "--num-gt", "5", "--bogus")
    assert r.code == 2 and r.stderr.startswith("error:")


def test_help_imports_neither_numpy_nor_matplotlib():
    code = (
        "import sys, contextlib, io\n"
        "from dlvcli.cli import run\n"
        "with contextlib.redirect_stdout(io.StringIO()): run(['--help'])\n"
        "with contextlib.redirect_stdout(io.StringIO()): run(['interp-ap', '--help'])\n"
        "print(json.dumps(sorted(m for m in ('numpy', 'matplotlib') if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", "import json\n" + code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_installed_entry_point_stdin_and_closed_pipe():
    """The real `python -m dlvcli` process: stdin, exit codes, and `| head -1` ending quietly."""
    rows = "tp,score\n" + "".join(f"{i % 2},{1 - i / 5000}\n" for i in range(5000))
    proc = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {sys.executable} -m dlvcli interp-ap - --num-gt 5000 | head -1"],
        input=rows, capture_output=True, text=True,
    )
    assert proc.stderr == "" and proc.stdout.strip()
    assert proc.returncode == 0  # with pipefail: dlv itself ended with 0
    proc = subprocess.run([sys.executable, "-m", "dlvcli", "interp-ap", "-", "--num-gt", "1"], input="tp\nx\n", capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.startswith("error: <stdin>, line 2")


def test_compare_rows_equal_separate_runs(dlv, tmp_path):
    rows = "tp,score\n1,0.9\n0,0.8\n1,0.8\n0,0.5\n"
    doc = dlv("interp-ap", "-", "--num-gt", "3", "--compare", "--json", stdin=rows).json()
    compare = doc["compare"]
    assert len(compare) == 10 and set(compare[0]) == {"method", "plus_one", "ties", "ap", "tool"}
    assert {r["method"] for r in compare} == {"11point", "allpoint", "101point", "11point-float", "101point-interp"}
    reversed_file = tmp_path / "rev.csv"
    reversed_file.write_text("tp,score\n0,0.5\n1,0.8\n0,0.8\n1,0.9\n")  # same rows, reverse file order
    for row in compare:
        if row["method"] not in ("11point", "allpoint", "101point"):
            continue  # the tools' conventions are checked against their code in test_ap_tools.py
        source = reversed_file if row["ties"] == "reversed" else None
        args = [source or "-", "--num-gt", "3", "--method", row["method"], "--json"]
        again = dlv("interp-ap", *args, stdin=None if source else rows).json()
        assert again["map"] == row["ap"], row


def test_compare_in_boxes_mode_covers_plus_one(dlv):
    doc = dlv("interp-ap", "-c", SAMPLES / "interp_ap_boxes.yaml", "--compare", "--json", "--summary").json()
    assert len(doc["compare"]) == 20
    assert {(r["plus_one"], r["ties"]) for r in doc["compare"]} == {(p, t) for p in (False, True) for t in ("file-order", "reversed")}


def test_plus_one_flips_a_match(dlv, tmp_path):
    # det (0,0,9,9) vs gt (5,0,14,9): continuous IoU = 4·9 / (81 + 81 − 36) = 2/7 ≈ 0.286 < 0.3 → FP, AP 0;
    # with +1 widths: 5·10 / (100 + 100 − 50) = 1/3 ≥ 0.3 → TP, AP 1.
    dets = tmp_path / "d.csv"
    dets.write_text("image,score,x1,y1,x2,y2\na,0.9,0,0,9,9\n")
    gts = tmp_path / "g.csv"
    gts.write_text("image,x1,y1,x2,y2\na,5,0,14,9\n")
    plain = dlv("interp-ap", dets, "--gt", gts, "--iou", "0.3", "--json").json()
    assert plain["map"] == 0.0 and plain["classes"][0]["ranked"][0]["iou"] == pytest.approx(2 / 7)
    plus = dlv("interp-ap", dets, "--gt", gts, "--iou", "0.3", "--plus-one", "--json").json()
    assert plus["map"] == 1.0 and plus["classes"][0]["ranked"][0]["iou"] == pytest.approx(1 / 3)


def test_per_image_text_folders_equal_csv(dlv, tmp_path):
    import csv

    det_dir, gt_dir = tmp_path / "dets", tmp_path / "gts"
    det_dir.mkdir()
    gt_dir.mkdir()
    with open(SAMPLES / "interp_ap_boxes_detections.csv") as f:
        for row in csv.DictReader(f):
            with open(det_dir / f"{row['image']}.txt", "a") as out:
                out.write(f"{row['class']} {row['score']} {row['x1']} {row['y1']} {row['x2']} {row['y2']}\n")
    with open(SAMPLES / "interp_ap_boxes_gt.csv") as f:
        for row in csv.DictReader(f):
            with open(gt_dir / f"{row['image']}.txt", "a") as out:
                flag = " difficult" if row["difficult"] == "1" else ""
                out.write(f"{row['class']} {row['x1']} {row['y1']} {row['x2']} {row['y2']}{flag}\n")
    from_csv = dlv("interp-ap", "-c", SAMPLES / "interp_ap_boxes.yaml", "--json", "--summary").json()
    from_dirs = dlv("interp-ap", det_dir, "--gt", gt_dir, "--json", "--summary").json()
    assert from_dirs["map"] == from_csv["map"]
    assert [c["ap"] for c in from_dirs["classes"]] == [c["ap"] for c in from_csv["classes"]]


def test_coco_files_equal_pycocotools(dlv):
    pytest.importorskip("pycocotools")
    import contextlib
    import io

    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    gt, res = str(SAMPLES / "coco_instances.json"), str(SAMPLES / "coco_results.json")
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(gt)
        evaluation = COCOeval(coco, coco.loadRes(res), "bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    doc = dlv("interp-ap", "-c", SAMPLES / "interp_ap_coco.yaml", "--json").json()
    names = ["ap", "ap50", "ap75", "ap_small", "ap_medium", "ap_large", "ar1", "ar10", "ar100", "ar_small", "ar_medium", "ar_large"]
    for name, value in zip(names, evaluation.stats):
        assert doc["coco"][name] == (None if value == -1 else pytest.approx(value, abs=1e-12)), name
    assert doc["method"] == "101point" and len(doc["iou_thresholds"]) == 10
    assert {c["name"] for c in doc["classes"]} == {"cat", "dog"}
    assert any("ap_large" in w for w in doc["warnings"])
