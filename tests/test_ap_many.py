"""interp-ap with many classes: one row per class above 50 (text, Markdown), and mode B's
all-classes-at-once matching, checked against the per-class matcher it replaces."""

from __future__ import annotations

import re

import numpy as np
import pytest

from dlvcli.core.ap import interp_ap_boxes
from dlvcli.core.matching import make_box_set, match_detections_voc


def _table_rows(text: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip().strip("│").split("│")] for line in text.splitlines() if line.strip().startswith("│")]


def _many_classes(tmp_path, n: int):
    """n classes c00…, each 1 ground-truth object and 1 detection: a TP for even k, an FP for odd k.

    By hand: a TP at rank 1 with num_gt 1 reaches recall 1 at precision 1/1, so all 11
    levels have p_interp 1 and AP = 1; an FP never reaches a level above 0, AP = 0.
    mAP = (number of even k) / n."""
    path = tmp_path / "many.csv"
    path.write_text("tp,score,class\n" + "".join(f"{1 - k % 2},0.5,c{k:02d}\n" for k in range(n)), encoding="utf-8")
    counts = tmp_path / "num_gt.yaml"
    counts.write_text("num-gt:\n" + "".join(f"  c{k:02d}: 1\n" for k in range(n)), encoding="utf-8")
    return path, counts


def test_many_classes_give_one_row_each_at_80_columns(dlv, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    path, counts = _many_classes(tmp_path, 60)
    out = dlv("interp-ap", path, "-c", counts).stdout
    assert all(len(line.rstrip()) <= 80 for line in out.splitlines()) and "…" not in out
    rows = [r for r in _table_rows(out) if len(r) == 4]
    assert [r[0] for r in rows] == [f"c{k:02d}" for k in range(60)]
    assert all(r[1:] == ["1", "1", "1" if k % 2 == 0 else "0"] for k, r in enumerate(rows))
    assert "60 classes: one row each; --full shows the worked solution of every class" in " ".join(out.split())
    assert "num_gt = 1, detections = 1" not in out  # no per-class section
    # 30 of the 60 classes have AP 1: mAP = 30/60 = 1/2
    assert "mAP = 1/60 · Σ_c AP_c = 1/2 ≈ 0.5" in out
    assert "sum of the AP column over the 60 classes with ground truth" in out


def test_many_classes_full_and_class_show_the_worked_solutions(dlv, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    path, counts = _many_classes(tmp_path, 60)
    full = dlv("interp-ap", path, "-c", counts, "--full").stdout
    assert full.count("num_gt = 1, detections = 1") == 60
    assert "AP per class" not in full
    one = dlv("interp-ap", path, "-c", counts, "--class", "c07").stdout
    assert "class c07" in one and "AP per class" not in one
    # c07 is odd: an FP, AP 0
    assert "= 1/11 · (0 + 0 + 0 + 0 + 0 + 0 + 0 + 0 + 0 + 0 + 0)" in one


def test_many_classes_in_markdown(dlv, tmp_path):
    path, counts = _many_classes(tmp_path, 51)
    md = dlv("interp-ap", path, "-c", counts, "--format", "markdown").stdout
    rows = [line for line in md.splitlines() if re.match(r"\| c\d\d \|", line)]
    assert len(rows) == 51 and rows[1] == "| c01 | 1 | 1 | 0 |"
    assert "51 classes: one row each" in md
    # 26 even classes of 51: mAP = 26/51
    assert r"\frac{1}{51} \cdot \sum_c AP_c = " in md and "0.5098" in md


def test_fifty_classes_keep_their_sections(dlv, tmp_path):
    path, counts = _many_classes(tmp_path, 50)
    out = dlv("interp-ap", path, "-c", counts).stdout
    assert out.count("num_gt = 1, detections = 1") == 50 and "AP per class" not in out


@pytest.mark.parametrize("seed", range(6))
def test_boxes_matched_together_equal_the_per_class_matcher(seed):
    """interp_ap_boxes matches all classes in one pass; match_detections_voc per class is the reference."""
    rng = np.random.default_rng(seed)
    n_det, n_gt = int(rng.integers(0, 60)), int(rng.integers(0, 40))
    classes, images = ["a", "b|c", "d"], ["i0", "i1", "i2"]

    def boxes(n):
        corner = rng.integers(0, 6, size=(n, 2)).astype(float)  # a small grid: many ties and equal IoUs
        return np.concatenate([corner, corner + rng.integers(1, 4, size=(n, 2))], axis=1)

    dets = make_box_set(boxes(n_det), rng.choice(images, n_det), rng.choice(classes, n_det), scores=rng.integers(0, 4, n_det) / 4)
    gts = make_box_set(boxes(n_gt), rng.choice(images, n_gt), rng.choice(classes, n_gt), difficult=rng.random(n_gt) < 0.2)
    thresholds = (0.3, 0.5)
    plus_one = bool(seed % 2)
    result = interp_ap_boxes(dets, gts, iou_thresholds=thresholds, plus_one=plus_one, method="allpoint")
    for c in result.classes:
        d = np.flatnonzero(dets.labels == c.name)
        g = np.flatnonzero(gts.labels == c.name)
        match = match_detections_voc(dets.boxes[d], dets.scores[d], dets.images[d], gts.boxes[g], gts.images[g], gts.difficult[g], thresholds[0], plus_one=plus_one)
        keep = ~match.ignored
        assert c.num_ignored == int(match.ignored.sum())
        assert c.num_gt == int((~gts.difficult[g]).sum())
        assert c.table.tp.tolist() == match.tp[keep].tolist()
        assert c.table.source_row.tolist() == d[match.order[keep]].tolist()
        np.testing.assert_array_equal(c.table.iou, match.best_iou[keep])
        expected_gt = [int(g[j]) if hit else -1 for hit, j in zip(match.tp[keep], match.best_gt[keep])]
        assert c.table.matched_gt.tolist() == expected_gt
