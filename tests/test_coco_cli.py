"""Mode C options through the CLI: --max-dets, --area-rng, per-class stats, --f1 (JSON keys, docs/interp-ap.md), errors."""

from __future__ import annotations

import json

import pytest

from dlvcli.core.coco import evaluate_coco
from dlvcli.inputs.coco import coco_data
from test_coco import synthetic_coco


@pytest.fixture
def coco_files(tmp_path):
    gt, results = synthetic_coco(3, num_images=25)
    g, d = tmp_path / "gt.json", tmp_path / "dets.json"
    g.write_text(json.dumps(gt))
    d.write_text(json.dumps(results))
    return g, d, gt, results


def test_json_keys_follow_max_dets_and_area_names(dlv, coco_files):
    g, d, gt, results = coco_files
    r = dlv("interp-ap", d, "--gt", g, "--max-dets", "1,10,300", "--area-rng", "tiny=0:600", "--area-rng", "big=600:1e10", "--f1", "--json")
    assert r.code == 0, r.stderr
    doc = r.json()
    names = ["ap", "ap50", "ap75", "ap_tiny", "ap_big", "ar1", "ar10", "ar300", "ar_tiny", "ar_big"]
    assert list(doc["coco"]) == names
    # the same numbers as the library call with the same parameters (itself checked against pycocotools)
    direct = evaluate_coco(coco_data(gt, results), max_dets=(1, 10, 300), area_ranges=[("tiny", 0, 600), ("big", 600, 1e10)], f1=True)
    assert doc["coco"] == direct.summary
    for entry, category in zip(doc["classes"], direct.categories):
        assert list(entry["stats"]) == names
        assert list(entry["stats"].values()) == list(category.stats)
        assert entry["f1"]["iou"] == 0.5
        if category.f1 is None:
            assert entry["f1"]["best"] is None
        else:
            assert entry["f1"]["best"] == {"score": category.f1.score, "precision": category.f1.precision, "recall": category.f1.recall, "f1": category.f1.f1}


def test_default_stats_keys_and_no_f1_without_flag(dlv, coco_files):
    g, d, _, _ = coco_files
    doc = dlv("interp-ap", d, "--gt", g, "--json").json()
    assert list(doc["classes"][0]["stats"]) == list(doc["coco"]) and len(doc["coco"]) == 12
    assert "f1" not in doc["classes"][0]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--max-dets", "10,1,100"], "three increasing"),
        (["--max-dets", "1,10"], "three increasing"),
        (["--max-dets", "a,b,c"], "whole numbers"),
        (["--area-rng", "tiny"], "NAME=LO:HI"),
        (["--area-rng", "all=0:5"], "'all' is always there"),
        (["--area-rng", "t=5:1"], "0 ≤ LO ≤ HI"),
        (["--area-rng", "t=0:1", "--area-rng", "t=1:2"], "given twice"),
        (["--f1", "--iou", "0.75"], "IoU 0.5"),
    ],
)
def test_bad_mode_c_options(dlv, coco_files, args, message):
    g, d, _, _ = coco_files
    r = dlv("interp-ap", d, "--gt", g, *args)
    assert r.code == 2 and r.stderr.startswith("error:") and message in r.stderr, r.stderr


def test_mode_c_options_refused_elsewhere(dlv):
    r = dlv("interp-ap", "-", "--num-gt", "1", "--f1", stdin="tp\n1\n")
    assert r.code == 2 and "COCO files only" in r.stderr


def test_text_tables_fit_80_columns(dlv, coco_files, monkeypatch):
    g, d, _, _ = coco_files
    monkeypatch.setenv("COLUMNS", "80")
    r = dlv("interp-ap", d, "--gt", g, "--f1", "--area-rng", "tiny=0:600", "--area-rng", "mid=600:5000", "--area-rng", "big=5000:1e10")
    assert r.code == 0
    assert max(len(line) for line in r.stdout.splitlines()) <= 80
    assert "…" not in r.stdout.replace("0, 0.01, …, 1", "") and "ar_big" in r.stdout and "Best F1" in r.stdout


@pytest.mark.parametrize("columns", ["60", "80"])
def test_headers_and_titles_are_whole_at_60_and_80_columns(dlv, coco_files, monkeypatch, columns):
    # at 60 columns the best-F1 table used to squeeze "P = TP/(TP+FP)" to "TP/(TP+F…",
    # and the per-category title wrapped inside its own parenthesis, "(— =" / "no ground truth"
    g, d, _, _ = coco_files
    monkeypatch.setenv("COLUMNS", columns)
    out = dlv("interp-ap", d, "--gt", g, "--f1").stdout
    assert "…" not in out and max(len(line) for line in out.splitlines()) <= int(columns)
    for header in ("P = TP/(TP+FP)", "R = TP/num_gt", "F1 = 2PR/(P+R)", "Per-category COCOeval summary (part 1 of"):
        assert header in out, header
    assert "Best F1 per category (IoU 0.5, area all, maxDets 100)" in out
