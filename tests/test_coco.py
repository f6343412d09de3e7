"""Mode C: COCO files, checked against pycocotools' COCOeval (the reference implementation).

The oracle is pycocotools itself (an optional dependency: these tests skip without it),
run on random synthetic data sets built to hit every rule of COCOeval: crowd boxes,
tied scores, images without detections, categories without ground truth, more than
100 detections in one image and category, areas on the small/medium/large boundaries,
and boxes whose IoU is exactly a threshold.  Hand-worked cases and loader errors need
no oracle.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json

import numpy as np
import pytest

from dlvcli.core.coco import COCO_IOU_THRESHOLDS, SUMMARY_NAMES, CocoData, coco_box_iou, evaluate_coco
from dlvcli.errors import InputError
from dlvcli.inputs.coco import coco_data, load_coco

# --------------------------------------------------------------------------- data


def synthetic_coco(seed: int, num_images: int = 40, num_categories: int = 6, crowded: bool = True):
    """A random (annotations, results) pair that exercises COCOeval's corner cases."""
    rng = np.random.default_rng(seed)
    image_ids = rng.choice(np.arange(1, 10 * num_images), size=num_images, replace=False).tolist()
    category_ids = sorted(rng.choice(np.arange(1, 5 * num_categories), size=num_categories, replace=False).tolist())
    no_gt_category = category_ids[-1]  # detections only
    gt_categories = category_ids[:-1]
    images = [{"id": i, "file_name": f"{i}.jpg", "width": 640, "height": 480} for i in image_ids]
    rng.shuffle(images)
    annotations = []
    results = []

    def box(scale):
        w = float(np.round(rng.uniform(0.3, 1.0) * scale, int(rng.integers(0, 3))))
        h = float(np.round(rng.uniform(0.3, 1.0) * scale, int(rng.integers(0, 3))))
        x = float(np.round(rng.uniform(0, 400), int(rng.integers(0, 3))))
        y = float(np.round(rng.uniform(0, 300), int(rng.integers(0, 3))))
        return [x, y, w, h]

    for image in image_ids:
        n_gt = int(rng.integers(0, 9)) if rng.random() > 0.1 else 0
        image_gts = []
        for _ in range(n_gt):
            scale = float(rng.choice([20.0, 50.0, 150.0, 300.0]))
            b = box(scale)
            area = b[2] * b[3] * float(rng.choice([1.0, rng.uniform(0.5, 1.0)]))
            if rng.random() < 0.08:
                area = float(rng.choice([1024, 9216, 1024.0, 9216.0]))  # on a range boundary
            ann = {
                "image_id": image,
                "category_id": int(rng.choice(gt_categories)),
                "bbox": b,
                "area": area,
                "iscrowd": int(crowded and rng.random() < 0.12),
            }
            annotations.append(ann)
            image_gts.append(ann)
            if rng.random() < 0.1:  # the same box twice: IoU ties between ground-truth boxes
                twin = dict(ann, bbox=list(b), iscrowd=int(crowded and rng.random() < 0.3))
                annotations.append(twin)
                image_gts.append(twin)
        # detections: jittered copies of the ground truth, exact copies, and clutter
        n_det = int(rng.integers(0, 25)) if rng.random() > 0.15 else 0
        for _ in range(n_det):
            if image_gts and rng.random() < 0.6:
                g = image_gts[int(rng.integers(len(image_gts)))]
                x, y, w, h = g["bbox"]
                if rng.random() < 0.2:
                    b = [x, y, w, h]
                else:
                    j = rng.normal(0, 0.15, 4) * [w, h, w, h]
                    b = [x + j[0], y + j[1], max(0.0, w + j[2]), max(0.0, h + j[3])]
                    b = [float(np.round(v, int(rng.integers(1, 4)))) for v in b]
                cat = g["category_id"] if rng.random() < 0.85 else int(rng.choice(category_ids))
            else:
                b = box(float(rng.choice([20.0, 60.0, 200.0])))
                cat = int(rng.choice(category_ids))
            score = float(np.round(rng.random(), 1))  # coarse: many ties
            results.append({"image_id": image, "category_id": cat, "bbox": b, "score": score})
        if rng.random() < 0.05:  # an image and category with more than 100 detections
            cat = int(rng.choice(gt_categories))
            for _ in range(int(rng.integers(101, 130))):
                b = box(float(rng.choice([20.0, 60.0, 200.0])))
                results.append({"image_id": image, "category_id": cat, "bbox": b, "score": float(np.round(rng.random(), 2))})
    # integer boxes whose IoU is exactly 0.5 / 0.75 with a ground-truth box
    image = image_ids[0]
    cat = gt_categories[0]
    annotations.append({"image_id": image, "category_id": cat, "bbox": [0, 0, 40, 30], "area": 1200, "iscrowd": 0})
    results.append({"image_id": image, "category_id": cat, "bbox": [0, 0, 20, 30], "score": 0.5})  # IoU 1/2
    results.append({"image_id": image, "category_id": cat, "bbox": [0, 0, 30, 30], "score": 0.5})  # IoU 3/4
    results.append({"image_id": image, "category_id": no_gt_category, "bbox": [1, 1, 5, 5], "score": 0.9})
    order = rng.permutation(len(annotations))
    annotations = [annotations[i] for i in order]
    for i, ann in enumerate(annotations):
        ann["id"] = i + 1
    rng.shuffle(results)
    categories = [{"id": c, "name": f"class{c}", "supercategory": "thing"} for c in category_ids]
    gt = {"images": images, "annotations": annotations, "categories": categories}
    return gt, results


def pycocotools_eval(gt: dict, results: list, **params):
    """COCOeval on in-memory data, with its prints silenced; returns the COCOeval object."""
    pytest.importorskip("pycocotools")
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = copy.deepcopy(gt)
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(copy.deepcopy(results))
        ev = COCOeval(coco_gt, coco_dt, "bbox")
        for key, value in params.items():
            setattr(ev.params, key, value)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev


def reference_per_category(ev) -> list[float | None]:
    """Per-category AP from COCOeval's precision array (area all, maxDets 100), as detectron2 does."""
    precision = ev.eval["precision"][:, :, :, 0, -1]
    out = []
    for k in range(precision.shape[2]):
        p = precision[:, :, k]
        p = p[p > -1]
        out.append(float(np.mean(p)) if p.size else None)
    return out


def assert_matches_pycocotools(gt, results, iou_thresholds=None, only_categories=None):
    params = {}
    if iou_thresholds is not None:
        params["iouThrs"] = np.asarray(iou_thresholds, dtype=float)
    if only_categories is not None:
        params["catIds"] = list(only_categories)
    ev = pycocotools_eval(gt, results, **params)
    ours = evaluate_coco(coco_data(gt, results), iou_thresholds=iou_thresholds, only_categories=only_categories)
    for name, theirs, mine, raw in zip(SUMMARY_NAMES, ev.stats, [getattr(ours, n) for n in SUMMARY_NAMES], ours.stats):
        assert raw == pytest.approx(theirs, abs=1e-12), name
        if theirs == -1:
            assert mine is None, name
        else:
            assert mine == pytest.approx(theirs, abs=1e-12), name
    reference = reference_per_category(ev)
    assert [c.category_id for c in ours.categories] == sorted(ev.params.catIds)
    for category, expected in zip(ours.categories, reference):
        if expected is None:
            assert category.ap is None
        else:
            assert category.ap == pytest.approx(expected, abs=1e-12), category.category_id
    # the whole precision and recall arrays, entry by entry
    np.testing.assert_allclose(ours.precision, ev.eval["precision"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.recall, ev.eval["recall"], rtol=0, atol=1e-12)
    return ours, ev


# ------------------------------------------------------------------ against pycocotools


@pytest.mark.parametrize("seed", range(12))
def test_random_datasets_match_pycocotools(seed):
    gt, results = synthetic_coco(seed)
    ours, ev = assert_matches_pycocotools(gt, results)
    assert ours.stats == tuple(float(s) for s in ev.stats)  # bit for bit, in fact


def test_larger_dataset_matches_pycocotools():
    gt, results = synthetic_coco(100, num_images=300, num_categories=12)
    assert_matches_pycocotools(gt, results)


def test_single_threshold_and_category_subset_match_pycocotools():
    gt, results = synthetic_coco(7)
    cats = [c["id"] for c in gt["categories"]][:3]
    ours, _ = assert_matches_pycocotools(gt, results, iou_thresholds=[0.5], only_categories=cats)
    assert ours.ap75 is None and ours.ap50 is not None  # 0.75 was not evaluated: −1 in COCOeval
    assert ours.iou_thresholds == (0.5,)


@pytest.mark.parametrize("thresholds", [[0.75, 0.5, 0.6, 0.5], [0.9, 0.3, 0.95]])
def test_unsorted_and_repeated_thresholds_match_pycocotools(thresholds):
    # the matching compares each IoU with the thresholds in sorted order; the arrays keep the given order
    gt, results = synthetic_coco(9)
    assert_matches_pycocotools(gt, results, iou_thresholds=thresholds)


def test_crowd_heavy_dataset_matches_pycocotools():
    # every other box crowd, detections piled on them: crowd regions swallow many detections
    gt, results = synthetic_coco(3, num_images=30)
    for i, ann in enumerate(gt["annotations"]):
        ann["iscrowd"] = i % 2
    assert_matches_pycocotools(gt, results)


def test_annotation_id_zero_quirk_matches_pycocotools():
    # pycocotools marks "no match" with id 0, so a match to the annotation with id 0 counts as unmatched
    gt, results = synthetic_coco(5)
    for ann in gt["annotations"]:
        ann["id"] -= 1
    data = coco_data(gt, results)
    assert any("id 0" in w for w in data.warnings)
    assert_matches_pycocotools(gt, results)


def test_string_image_ids_match_pycocotools():
    gt, results = synthetic_coco(9, num_images=15)
    for image in gt["images"]:
        image["id"] = f"img{image['id']}"
    for ann in gt["annotations"] + results:
        ann["image_id"] = f"img{ann['image_id']}"
    assert_matches_pycocotools(gt, results)


def test_pr_curves_and_per_iou():
    gt, results = synthetic_coco(2)
    ours, ev = assert_matches_pycocotools(gt, results)
    p = ev.eval["precision"]
    assert set(ours.pr_curves) == {0.5, 0.75}
    np.testing.assert_array_equal(ours.pr_curves[0.5], p[0, :, :, 0, 2].T)
    np.testing.assert_array_equal(ours.pr_curves[0.75], p[5, :, :, 0, 2].T)
    assert ours.pr_curves[0.5].shape == (len(gt["categories"]), 101)
    for k, category in enumerate(ours.categories):
        if category.ap is not None:
            assert category.ap_per_iou == pytest.approx([float(np.mean(p[t, :, k, 0, 2])) for t in range(10)], abs=1e-12)
            assert category.ap == pytest.approx(np.mean(category.ap_per_iou), abs=1e-12)


def test_chunked_matching_gives_the_same_arrays(monkeypatch):
    # tiny work budgets force many chunks per bucket: the answer must not change
    import dlvcli.core.coco as core

    gt, results = synthetic_coco(11, num_images=60)
    data = coco_data(gt, results)
    whole = evaluate_coco(data)
    monkeypatch.setattr(core, "_PAIR_BUDGET", 16)
    monkeypatch.setattr(core, "_STATE_BUDGET", 64)
    chunked = evaluate_coco(data)
    assert chunked.stats == whole.stats
    np.testing.assert_array_equal(chunked.precision, whole.precision)
    np.testing.assert_array_equal(chunked.recall, whole.recall)


def test_progress_reaches_one():
    gt, results = synthetic_coco(6)
    seen = []
    evaluate_coco(coco_data(gt, results), progress=seen.append)
    assert seen and seen[-1] == 1.0
    assert all(0 <= a <= b <= 1 for a, b in zip(seen, seen[1:]))


def test_doctests():
    import doctest

    import dlvcli.core.coco as core

    assert doctest.testmod(core).failed == 0


# ----------------------------------------------------------------- hand-worked cases


def tiny(gt_boxes, det_boxes, scores, crowd=None, areas=None, image_of_det=None, num_images=1):
    n_gt = len(gt_boxes)
    return CocoData(
        image_ids=np.arange(1, num_images + 1),
        category_ids=np.array([1]),
        category_names=("thing",),
        gt_image=np.zeros(n_gt, dtype=np.int64),
        gt_category=np.zeros(n_gt, dtype=np.int64),
        gt_bbox=np.array(gt_boxes, dtype=float).reshape(-1, 4),
        gt_area=np.array(areas if areas is not None else [b[2] * b[3] for b in gt_boxes], dtype=float),
        gt_iscrowd=np.array(crowd if crowd is not None else [False] * n_gt, dtype=bool),
        gt_id=np.arange(1, n_gt + 1),
        det_image=np.array(image_of_det if image_of_det is not None else [0] * len(det_boxes), dtype=np.int64),
        det_category=np.zeros(len(det_boxes), dtype=np.int64),
        det_bbox=np.array(det_boxes, dtype=float).reshape(-1, 4),
        det_score=np.array(scores, dtype=float),
    )


def test_iou_formula_and_crowd():
    # 40×30 box against a 20×30 box inside it: intersection 600, union 1200 → 1/2;
    # against a crowd box the union is the detection's own area 600 → 1.
    iou = coco_box_iou([[0, 0, 20, 30]], [[0, 0, 40, 30], [0, 0, 40, 30]], [False, True])
    assert iou.tolist() == [[0.5, 1.0]]
    assert coco_box_iou([[0, 0, 10, 10]], [[10, 0, 10, 10]]).tolist() == [[0.0]]  # touching: no overlap


def test_one_perfect_and_one_duplicate():
    # GT one box; detections: exact copy (score .9) then a duplicate (score .8).
    # precision at recall 1 is 1 (rank 1), so every sampled level is 1 → AP 1; AR 1.
    # (COCOeval's precision is TP / (TP + FP + ε), so "1" is 1/(1 + 2⁻⁵²): compare to 1e-12.)
    one = pytest.approx(1.0, abs=1e-12)
    r = evaluate_coco(tiny([[0, 0, 10, 10]], [[0, 0, 10, 10], [0, 0, 10, 10]], [0.9, 0.8]))
    assert r.ap == one and r.ar1 == 1.0 and r.ar100 == 1.0
    # Reversed scores: the duplicate ranks first and is the TP: same numbers.
    # With the perfect one second and a miss first: precision 1/2 at recall 1 → AP 1/2.
    r = evaluate_coco(tiny([[0, 0, 10, 10]], [[50, 50, 10, 10], [0, 0, 10, 10]], [0.9, 0.8]))
    assert r.ap == pytest.approx(0.5, abs=1e-12)
    assert r.ar1 == 0.0 and r.ar10 == 1.0
    assert r.ap_small == pytest.approx(0.5, abs=1e-12) and r.ap_medium is None and r.ap_large is None


def test_tied_scores_keep_file_order():
    # Two detections with the same score, only the second overlaps: file order ranks the miss first.
    r = evaluate_coco(tiny([[0, 0, 10, 10]], [[50, 50, 10, 10], [0, 0, 10, 10]], [0.5, 0.5]))
    assert r.ap == pytest.approx(0.5, abs=1e-12)
    r = evaluate_coco(tiny([[0, 0, 10, 10]], [[0, 0, 10, 10], [50, 50, 10, 10]], [0.5, 0.5]))
    assert r.ap == pytest.approx(1.0, abs=1e-12)


def test_detection_on_crowd_is_ignored():
    # The only non-crowd box is matched by the first detection; the second lies on a crowd
    # region: ignored, not a false positive, so precision stays 1 → AP 1.
    r = evaluate_coco(tiny([[0, 0, 10, 10], [100, 100, 50, 50]], [[0, 0, 10, 10], [110, 110, 10, 10]], [0.5, 0.9], crowd=[False, True]))
    assert r.ap == pytest.approx(1.0, abs=1e-12)
    assert r.categories[0].num_gt == 1 and r.categories[0].num_crowd == 1


def test_no_ground_truth_category_is_none_with_warning():
    data = tiny([], [[0, 0, 10, 10]], [0.9])
    r = evaluate_coco(data)
    assert r.ap is None and r.ar100 is None and r.categories[0].ap is None
    assert r.stats[0] == -1
    assert any("no ground truth" in w for w in r.warnings)


def test_empty_results_give_zero():
    gt, _ = synthetic_coco(1)
    r = evaluate_coco(coco_data(gt, []))
    assert r.ap == 0.0 and r.ar100 == 0.0
    assert any("empty" in w for w in r.warnings)


def test_only_categories_by_name_and_unknown():
    gt, results = synthetic_coco(4)
    name = gt["categories"][1]["name"]
    r = evaluate_coco(coco_data(gt, results), only_categories=[name])
    assert [c.name for c in r.categories] == [name]
    with pytest.raises(ValueError, match="neither a category id nor a name"):
        evaluate_coco(coco_data(gt, results), only_categories=["no-such-class"])


def test_bad_thresholds():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        evaluate_coco(tiny([[0, 0, 1, 1]], [], []), iou_thresholds=[1.5])


def test_default_thresholds_are_cocos():
    assert COCO_IOU_THRESHOLDS.tolist() == np.linspace(0.5, 0.95, 10).tolist()


# ------------------------------------------------------------------------- loading


@pytest.fixture
def files(tmp_path):
    def write(gt, results, raw_results: str | None = None):
        g = tmp_path / "gt.json"
        d = tmp_path / "dets.json"
        g.write_text(json.dumps(gt))
        d.write_text(raw_results if raw_results is not None else json.dumps(results))
        return str(g), str(d)

    return write


def small_files():
    gt = {
        "images": [{"id": 1}, {"id": 2}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 3, "bbox": [0, 0, 10, 10], "area": 100, "iscrowd": 0},
            {"id": 2, "image_id": 2, "category_id": 3, "bbox": [5, 5, 10, 10], "area": 100, "iscrowd": 0},
        ],
        "categories": [{"id": 3, "name": "cat"}],
    }
    results = [
        {"image_id": 1, "category_id": 3, "bbox": [0, 0, 10, 10], "score": 0.9},
        {"image_id": 2, "category_id": 3, "bbox": [0, 0, 10, 10], "score": 0.8},
    ]
    return gt, results


def test_load_coco_round_trip(files):
    gt, results = small_files()
    data = load_coco(*files(gt, results))
    assert data.image_ids.tolist() == [1, 2] and data.category_names == ("cat",)
    assert data.det_bbox.shape == (2, 4) and data.gt_area.tolist() == [100.0, 100.0]
    r = evaluate_coco(data)
    assert r.categories[0].num_gt == 2 and r.categories[0].num_detections == 2


def test_unknown_image_id(files):
    gt, results = small_files()
    results.append({"image_id": 99, "category_id": 3, "bbox": [0, 0, 1, 1], "score": 0.1})
    with pytest.raises(InputError, match=r"dets\.json: entry 2: image_id 99 is not among the images"):
        load_coco(*files(gt, results))


def test_negative_width(files):
    gt, results = small_files()
    results[1]["bbox"] = [0, 0, -3, 10]
    with pytest.raises(InputError, match=r"dets\.json: entry 1: 'bbox' \[0, 0, -3, 10\] has a negative width"):
        load_coco(*files(gt, results))


def test_missing_score(files):
    gt, results = small_files()
    del results[0]["score"]
    with pytest.raises(InputError, match=r"dets\.json: entry 0: missing 'score'"):
        load_coco(*files(gt, results))


@pytest.mark.parametrize("key", ["bbox", "category_id", "image_id"])
def test_missing_fields(files, key):
    gt, results = small_files()
    del results[1][key]
    with pytest.raises(InputError, match=rf"entry 1: missing '{key}'"):
        load_coco(*files(gt, results))


def test_malformed_json_line_and_column(files):
    gt, _ = small_files()
    raw = '[\n  {"image_id": 1, "category_id": 3, "bbox": [0, 0, 1, 1], "score": 0.5},\n  {"image_id": 1,, }\n]'
    # line 3 is '  {"image_id": 1,, }': the second comma is its 18th character
    with pytest.raises(InputError, match=r"dets\.json, line 3, column 18: invalid JSON") as info:
        load_coco(*files(gt, None, raw_results=raw))
    assert info.value.line == 3 and info.value.column == 18


def test_non_finite_score(files):
    gt, _ = small_files()
    raw = '[{"image_id": 1, "category_id": 3, "bbox": [0, 0, 1, 1], "score": 0.5}, {"image_id": 1, "category_id": 3, "bbox": [0, 0, 1, 1], "score": NaN}]'
    with pytest.raises(InputError, match=r"entry 1: 'score' is nan, expected a finite number"):
        load_coco(*files(gt, None, raw_results=raw))


def test_non_finite_box(files):
    gt, _ = small_files()
    raw = '[{"image_id": 1, "category_id": 3, "bbox": [0, Infinity, 1, 1], "score": 0.5}]'
    with pytest.raises(InputError, match=r"entry 0: 'bbox' .* not finite"):
        load_coco(*files(gt, None, raw_results=raw))


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"image_id": 1, "category_id": 3, "bbox": [0, 0, 1], "score": 0.5}, r"entry 0: 'bbox' is a list"),
        ({"image_id": 1, "category_id": 3, "bbox": [0, 0, "1", 1], "score": 0.5}, r"entry 0: 'bbox' holds the string '1'"),
        ({"image_id": 1, "category_id": 3, "bbox": [0, None, 1, 1], "score": 0.5}, r"entry 0: 'bbox' holds null"),
        ({"image_id": 1, "category_id": 3, "bbox": [0, [1], 1, 1], "score": 0.5}, r"entry 0: 'bbox' holds a list"),
        ({"image_id": 1, "category_id": 3, "bbox": {"x": 1}, "score": 0.5}, r"entry 0: 'bbox' is an object"),
        ({"image_id": 1, "category_id": 3, "bbox": [0, 0, 1, 1], "score": "high"}, r"entry 0: 'score' is the string 'high'"),
        ({"image_id": 1.5, "category_id": 3, "bbox": [0, 0, 1, 1], "score": 0.5}, r"entry 0: 'image_id' is the number 1.5"),
        ([1, 2], r"entry 0: expected a JSON object, got a list"),
    ],
)
def test_bad_entries(files, entry, message):
    gt, _ = small_files()
    with pytest.raises(InputError, match=message):
        load_coco(*files(gt, [entry]))


def test_results_must_be_a_list(files):
    gt, results = small_files()
    with pytest.raises(InputError, match=r"dets\.json: the top level is an object.*expected a COCO results list"):
        load_coco(*files(gt, {"annotations": results}))


def test_ground_truth_errors(files):
    gt, results = small_files()
    bad = copy.deepcopy(gt)
    del bad["categories"]
    with pytest.raises(InputError, match=r"gt\.json: no 'categories' list"):
        load_coco(*files(bad, results))
    bad = copy.deepcopy(gt)
    bad["annotations"][1]["image_id"] = 7
    with pytest.raises(InputError, match=r"gt\.json: annotations entry 1: image_id 7 is not in 'images'"):
        load_coco(*files(bad, results))
    bad = copy.deepcopy(gt)
    bad["annotations"][1]["id"] = 1
    with pytest.raises(InputError, match=r"annotations entry 1: duplicate id 1 \(also annotations entry 0\)"):
        load_coco(*files(bad, results))
    bad = copy.deepcopy(gt)
    bad["annotations"][0]["bbox"] = [0, 0, 10, -1]
    with pytest.raises(InputError, match=r"annotations entry 0: 'bbox' .* negative height"):
        load_coco(*files(bad, results))
    bad = copy.deepcopy(gt)
    bad["annotations"][0]["iscrowd"] = 2
    with pytest.raises(InputError, match=r"annotations entry 0: 'iscrowd' is the number 2"):
        load_coco(*files(bad, results))


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_coco(str(tmp_path / "nope.json"), str(tmp_path / "nope2.json"))


def test_unknown_category_is_left_out_with_warning(files):
    gt, results = small_files()
    results.append({"image_id": 1, "category_id": 42, "bbox": [0, 0, 1, 1], "score": 0.1})
    data = load_coco(*files(gt, results))
    assert len(data.det_score) == 2
    assert any("category_id not in the categories" in w and "entry 2" in w for w in data.warnings)


def test_missing_area_falls_back_to_box_area(files):
    gt, results = small_files()
    del gt["annotations"][0]["area"]
    data = load_coco(*files(gt, results))
    assert data.gt_area.tolist() == [100.0, 100.0]
    assert any("without 'area'" in w for w in data.warnings)


def test_stdlib_json_fallback(files, monkeypatch):
    # the loader works without orjson (the optional speed-up)
    import builtins

    real_import = builtins.__import__

    def no_orjson(name, *args, **kwargs):
        if name == "orjson":
            raise ImportError
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_orjson)
    gt, results = small_files()
    data = load_coco(*files(gt, results))
    assert len(data.det_score) == 2


# ------------------------------------------- maxDets, area ranges, per-category stats, F1


def reference_summary(ev, k=None) -> list[float]:
    """COCOeval.summarize's lines, written out here, on the whole arrays or on category k's slice.

    The line list follows summarize's ``_summarizeDets`` with the given maxDets and area
    labels (AP at the largest maxDets for all, 0.5, 0.75 and each area; AR at each maxDets;
    AR per area at the largest), each the mean of the entries > −1 of its slice.
    """
    p = ev.params
    precision = ev.eval["precision"]
    recall = ev.eval["recall"]
    if k is not None:
        precision = precision[:, :, k : k + 1]
        recall = recall[:, k : k + 1]

    def line(ap, iou=None, area="all", max_det=p.maxDets[-1]):
        a = [i for i, lbl in enumerate(p.areaRngLbl) if lbl == area]
        m = [i for i, md in enumerate(p.maxDets) if md == max_det]
        s = precision if ap else recall
        if iou is not None:
            s = s[np.where(iou == p.iouThrs)[0]]
        s = s[:, :, :, a, m] if ap else s[:, :, a, m]
        return -1.0 if len(s[s > -1]) == 0 else float(np.mean(s[s > -1]))

    areas = p.areaRngLbl[1:]
    return (
        [line(True), line(True, 0.5), line(True, 0.75)]
        + [line(True, area=a) for a in areas]
        + [line(False, max_det=m) for m in p.maxDets]
        + [line(False, area=a) for a in areas]
    )


@pytest.mark.parametrize("seed", range(4))
def test_per_category_stats_with_max_dets_and_area_ranges_match_pycocotools(seed):
    gt, results = synthetic_coco(20 + seed, num_images=50)
    ranges = [("tiny", 0.0, 600.0), ("big", 600.0, 1e10)]
    ev = pycocotools_eval(
        gt, results, maxDets=[1, 10, 300], areaRng=[[0, 1e10]] + [[lo, hi] for _, lo, hi in ranges], areaRngLbl=["all", "tiny", "big"]
    )
    ours = evaluate_coco(coco_data(gt, results), max_dets=(1, 10, 300), area_ranges=ranges)
    assert ours.summary_names == ("ap", "ap50", "ap75", "ap_tiny", "ap_big", "ar1", "ar10", "ar300", "ar_tiny", "ar_big")
    np.testing.assert_allclose(ours.precision, ev.eval["precision"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.recall, ev.eval["recall"], rtol=0, atol=1e-12)
    # ap50, ap75 and the three AR lines are the same lines in pycocotools' own stats; its stats[0]
    # calls _summarize(1) with the default maxDets=100, which is not among [1, 10, 300]: −1
    assert [ours.stats[i] for i in (1, 2, 5, 6, 7)] == pytest.approx([ev.stats[i] for i in (1, 2, 6, 7, 8)], abs=1e-12)
    assert ev.stats[0] == -1 and ours.stats[0] > 0
    assert list(ours.stats) == pytest.approx(reference_summary(ev), abs=1e-12)
    assert any(c["iscrowd"] for c in gt["annotations"])
    for k, category in enumerate(ours.categories):
        expected = [None if v == -1 else v for v in reference_summary(ev, k)]
        assert len(category.stats) == len(expected)
        for mine, theirs in zip(category.stats, expected):
            assert (mine is None) == (theirs is None), category.category_id
            if theirs is not None:
                assert mine == pytest.approx(theirs, abs=1e-12), category.category_id


def test_default_per_category_stats_match_pycocotools_slices():
    gt, results = synthetic_coco(31)
    ours, ev = assert_matches_pycocotools(gt, results)
    assert ours.summary_names == SUMMARY_NAMES
    for k, category in enumerate(ours.categories):
        expected = [None if v == -1 else v for v in reference_summary(ev, k)]
        assert [None if e is None else pytest.approx(e, abs=1e-12) for e in expected] == list(category.stats)


def test_bad_max_dets_and_area_labels():
    data = tiny([[0, 0, 1, 1]], [], [])
    with pytest.raises(ValueError, match="three increasing"):
        evaluate_coco(data, max_dets=(10, 1, 100))
    with pytest.raises(ValueError, match="distinct"):
        evaluate_coco(data, area_ranges=[("all", 0, 1)])


def brute_force_f1(ev, k) -> tuple | None:
    """Scan every threshold s over category k's detections as COCOeval matched them (IoU 0.5, area all).

    From pycocotools' per-image results (evalImgs): a detection counts when not ignored
    (dtIgnore false); at threshold s, TP = matched detections with score ≥ s, FP = the
    others with score ≥ s; F1 = 2PR/(P+R); the best F1, the highest s on a tie.
    """
    p = ev.params
    cat = p.catIds[k]
    t = int(np.flatnonzero(np.isclose(p.iouThrs, 0.5))[0])
    dets = []
    n_gt = 0
    for e in ev.evalImgs:
        if e is None or e["category_id"] != cat or e["aRng"] != p.areaRng[0]:
            continue
        n_gt += int(np.sum(~np.asarray(e["gtIgnore"], dtype=bool)))
        for j, score in enumerate(e["dtScores"]):
            if not e["dtIgnore"][t][j]:
                dets.append((score, e["dtMatches"][t][j] > 0))
    if n_gt == 0 or not dets:
        return None
    best = None
    for s in sorted({d[0] for d in dets}, reverse=True):
        tp = sum(1 for score, m in dets if score >= s and m)
        fp = sum(1 for score, m in dets if score >= s and not m)
        prec, rec = tp / (tp + fp), tp / n_gt
        f = 0.0 if tp == 0 else 2 * prec * rec / (prec + rec)
        if best is None or f > best[3]:
            best = (s, prec, rec, f)
    return best


@pytest.mark.parametrize("seed", [0, 8])
def test_best_f1_equals_a_brute_force_scan(seed):
    gt, results = synthetic_coco(seed)
    ev = pycocotools_eval(gt, results)
    ours = evaluate_coco(coco_data(gt, results), f1=True)
    seen = 0
    for k, category in enumerate(ours.categories):
        expected = brute_force_f1(ev, k)
        if expected is None:
            assert category.f1 is None
            continue
        seen += 1
        got = category.f1
        assert (got.score, got.precision, got.recall, got.f1) == pytest.approx(expected, abs=1e-12), category.category_id
    assert seen >= 3


def test_best_f1_needs_iou_half():
    with pytest.raises(ValueError, match="IoU 0.5"):
        evaluate_coco(tiny([[0, 0, 1, 1]], [], []), iou_thresholds=[0.75], f1=True)


# ------------------------------------------------------------------- speed shortcuts


@pytest.mark.parametrize("seed", [3, 41])
def test_summary_only_precision_matches_pycocotools(seed):
    # The CLI passes all_precision=False: the precision of the smaller maxDets is skipped
    # (NaN); everything printed must still equal COCOeval's, and recall stays complete.
    gt, results = synthetic_coco(seed, num_images=60)
    ev = pycocotools_eval(gt, results, maxDets=[1, 10, 300])
    ours = evaluate_coco(coco_data(gt, results), max_dets=(1, 10, 300), all_precision=False)
    skipped, theirs = ours.precision[..., :-1], ev.eval["precision"][..., :-1]
    assert (np.isnan(skipped) == (theirs != -1)).all()  # −1 (no ground truth in range) stays −1
    assert (skipped[theirs == -1] == -1).all()
    np.testing.assert_allclose(ours.precision[..., -1], ev.eval["precision"][..., -1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.recall, ev.eval["recall"], rtol=0, atol=1e-12)
    assert list(ours.stats) == pytest.approx(reference_summary(ev), abs=1e-12)
    full = evaluate_coco(coco_data(gt, results), max_dets=(1, 10, 300))
    assert ours.stats == full.stats
    assert [c.stats for c in ours.categories] == [c.stats for c in full.categories]
    assert [c.ap_per_iou for c in ours.categories] == [c.ap_per_iou for c in full.categories]


@pytest.mark.parametrize("span", [3, 70_000, 5_000_000_000])
def test_stable_order_equals_lexsort(span):
    # _stable_order sorts integer keys by 16-bit radix passes; np.lexsort (stable, last
    # key primary) is the independent reference, on keys with many ties and negative values.
    from dlvcli.core.coco import _stable_order

    rng = np.random.default_rng(span)
    primary = rng.integers(-span, span, 5000)
    secondary = np.round(rng.random(5000), 2)  # float key: ties
    np.testing.assert_array_equal(_stable_order(primary, -secondary), np.lexsort((-secondary, primary)))
    small = rng.integers(0, 4, 5000).astype(np.int8)
    np.testing.assert_array_equal(_stable_order(small, primary), np.lexsort((primary, small)))


def test_descending_rank_sorts_as_a_stable_argsort_of_minus_the_values():
    # The reference is numpy's stable argsort / lexsort of -values (ties in input order,
    # NaN last), on values with many ties, both zeros and NaNs.
    from dlvcli.core.coco import _descending_rank, _stable_order

    rng = np.random.default_rng(11)
    values = np.round(rng.random(4000), 2)
    values[::97] = 0.0
    values[::89] = -0.0
    values[::301] = np.nan
    for v in (values, np.round(rng.random(70_000), 6), np.array([0.5]), np.zeros(0)):
        np.testing.assert_array_equal(_stable_order(_descending_rank(v)), np.argsort(-v, kind="stable"))
    group = rng.integers(0, 300, len(values))
    np.testing.assert_array_equal(_stable_order(group, _descending_rank(values)), np.lexsort((-values, group)))


def test_sorted_unique_equals_np_unique():
    from dlvcli.inputs.coco import _sorted_unique

    rng = np.random.default_rng(5)
    for values in (rng.integers(-5, 5, 50), np.array(["b", "a", "b", "c"]), np.array([7]), np.zeros(0, dtype=np.int64)):
        np.testing.assert_array_equal(_sorted_unique(values), np.unique(values))


# ------------------------------------------------- the results file read in two halves


def _same_data(a, b):
    for name in ("image_ids", "category_ids", "gt_image", "gt_category", "gt_bbox", "gt_area", "gt_iscrowd", "gt_id",
                 "det_image", "det_category", "det_bbox", "det_score", "det_entry"):  # fmt: skip
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and x.shape == y.shape, name
        np.testing.assert_array_equal(x, y, err_msg=name)
    assert a.category_names == b.category_names and a.warnings == b.warnings


def _record_answers(monkeypatch, loader, name: str) -> list[bool]:
    """Wrap the loader's fast path ``name``; the list records, per file, whether it answered
    (columns) or left the file to the reference path (None)."""
    answered = []
    original = getattr(loader, name)

    def spy(path):
        columns = original(path)
        answered.append(columns is not None)
        return columns

    monkeypatch.setattr(loader, name, spy)
    return answered


@pytest.fixture
def split_always(monkeypatch):
    """Split every results file (the CLI splits only large ones, and only without msgspec); record whether the split answered."""
    import dlvcli.inputs.coco as loader

    monkeypatch.setattr(loader, "_typed_results", lambda path: None)  # as without msgspec
    monkeypatch.setattr(loader, "SPLIT_MIN_BYTES", 0)
    return _record_answers(monkeypatch, loader, "_split_results")


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
@pytest.mark.parametrize("seed", [0, 1])
def test_split_reading_equals_one_piece(files, split_always, seed):
    # The reference is the ordinary one-piece parse of the same file.
    gt, results = synthetic_coco(seed)
    results.append({"image_id": results[0]["image_id"], "category_id": 12345, "bbox": [0, 0, 1, 1], "score": 0.5})  # unknown class: a warning
    paths = files(gt, results)
    _same_data(load_coco(*paths, split=True), load_coco(*paths))
    assert split_always == [True]


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_split_reading_survives_odd_layouts(files, split_always):
    gt, results = small_files()
    results = results * 20
    # an extra string field holding "}, {" right at the middle, and odd whitespace
    middle = len(results) // 2
    results[middle] = dict(results[middle], note="a }, { b", tags=[{"x": 1}, {"y": 2}])
    raw = json.dumps(results, indent="\t ", separators=(" ,", ":\n"))
    paths = files(gt, None, raw_results=raw)
    _same_data(load_coco(*paths, split=True), load_coco(*paths))
    # string image ids in the second half only: one-piece reading reports it, the split defers to it
    gt2 = copy.deepcopy(gt)
    mixed = [dict(r) for r in results]
    for r in mixed[middle + 2 :]:
        r["image_id"] = str(r["image_id"])
    paths = files(gt2, mixed)
    with pytest.raises(InputError) as one_piece:
        load_coco(*paths)
    with pytest.raises(InputError) as split:
        load_coco(*paths, split=True)
    assert str(split.value) == str(one_piece.value)


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
@pytest.mark.parametrize(
    "fault",
    [
        lambda rs: rs[-2].update(image_id=99),  # unknown image, second half
        lambda rs: rs[1].update(image_id=99),  # unknown image, first half
        lambda rs: rs[-1].update(bbox=[0, 0, -1, 1]),  # negative width
        lambda rs: rs[-3].pop("score"),  # missing key
        lambda rs: rs[-3].update(score="high"),  # wrong type
        lambda rs: rs[-4].update(score=float("nan")),  # NaN literal (orjson rejects it; json reads it)
    ],
)
def test_split_reading_reports_errors_as_one_piece_does(files, split_always, fault):
    gt, results = small_files()
    results = [dict(r) for r in results * 10]
    fault(results)
    paths = files(gt, results)
    with pytest.raises(InputError) as one_piece:
        load_coco(*paths)
    with pytest.raises(InputError) as split:
        load_coco(*paths, split=True)
    assert str(split.value) == str(one_piece.value)
    assert "entry" in str(split.value)


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
@pytest.mark.parametrize("inside", ["string", "nested list"])
def test_split_cut_inside_an_entry_gives_up(files, split_always, inside):
    # Pad the first half so that the first "}, {" after the middle of the text is the one
    # inside the middle entry (checked below); the halves then do not parse, the split
    # gives up, and the one-piece reading (the reference) answers.
    import re

    import dlvcli.inputs.coco as loader

    gt, results = small_files()
    results = [dict(r) for r in results * 20]
    middle = len(results) // 2
    extra = {"note": "a }, { b"} if inside == "string" else {"tags": [{"x": 1}, {"y": 2}]}
    results[middle] = dict(results[middle], **extra)
    text = json.dumps(results)
    marker = text.index("a }, { b" if inside == "string" else '{"x": 1}, {"y": 2}')
    # a "pad" string in the first or the last entry puts the middle of the text 2 characters before the marker
    k = len(', "pad": ""')
    need = len(text) - 2 * marker - k + 4
    if need >= 0:
        results[0] = dict(results[0], pad="p" * need)
    else:
        results[-1] = dict(results[-1], pad="p" * (2 * marker - 4 - len(text) - k))
    text = json.dumps(results)
    cut = re.compile(r"\}[ \t\n\r]*,[ \t\n\r]*\{").search(text, len(text) // 2).start()
    marker = text.index("a }, { b" if inside == "string" else '{"x": 1}, {"y": 2}')
    assert marker < cut < marker + 12  # the cut is inside the middle entry
    paths = files(gt, None, raw_results=text)
    assert loader._split_results(paths[1]) is None
    _same_data(load_coco(*paths, split=True), load_coco(*paths))


# ------------------------------------------- the results file decoded by msgspec (typed)


@pytest.fixture
def typed_always(monkeypatch):
    """Decode every results file with msgspec (the loader does so from 1 MiB); record whether it answered."""
    pytest.importorskip("msgspec")
    import dlvcli.inputs.coco as loader

    monkeypatch.setattr(loader, "TYPED_MIN_BYTES", 0)
    return _record_answers(monkeypatch, loader, "_typed_results")


def _ordinary(paths, monkeypatch):
    """load_coco without the typed decode: the reference (orjson or json, then the checks)."""
    import dlvcli.inputs.coco as loader

    with monkeypatch.context() as m:
        m.setattr(loader, "_typed_results", lambda path: None)
        return load_coco(*paths)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_typed_reading_equals_ordinary(files, typed_always, monkeypatch, seed):
    gt, results = synthetic_coco(seed)
    results.append({"image_id": results[0]["image_id"], "category_id": 12345, "bbox": [0, 0, 1, 1], "score": 0.5})  # unknown class: a warning
    rng = np.random.default_rng(seed)
    for r in results[::7]:  # full-precision floats, integers, extra fields: the same numbers either way
        r["bbox"] = [float(v) for v in rng.random(4) * 300]
        r["score"] = float(rng.random()) if rng.random() < 0.5 else int(rng.integers(0, 2))
        r["segmentation"] = [[1.5, 2, 3, 4]]
    paths = files(gt, results)
    _same_data(load_coco(*paths), _ordinary(paths, monkeypatch))
    assert typed_always == [True]


def test_typed_reading_takes_a_byte_order_mark_and_odd_layout(files, typed_always, monkeypatch):
    gt, results = small_files()
    raw = "\ufeff" + json.dumps(results * 5, indent="\t ", separators=(" ,", ":\n"))
    paths = files(gt, None, raw_results=raw)
    _same_data(load_coco(*paths), _ordinary(paths, monkeypatch))
    assert typed_always == [True]


@pytest.mark.parametrize(
    "raw_entry",
    [
        '{"image_id": 99, "category_id": 3, "bbox": [0, 0, 1, 1], "score": 0.5}',  # unknown image (checked after decoding)
        '{"image_id": 1, "category_id": 3, "bbox": [0, 0, -1, 1], "score": 0.5}',  # negative width
        '{"image_id": 1, "category_id": 3, "bbox": [0, 0, 1, 1]}',  # missing key
        '{"image_id": 1, "category_id": 3, "bbox": [0, 0, 1, 1], "score": "high"}',  # wrong type
        '{"image_id": true, "category_id": 3, "bbox": [0, 0, 1, 1], "score": 0.5}',  # a boolean id
        '{"image_id": 1.0, "category_id": 3, "bbox": [0, 0, 1, 1], "score": 0.5}',  # a float id
        '{"image_id": 1, "category_id": 3, "bbox": [0, 0, 1, 1], "score": NaN}',  # NaN literal (json reads it)
        '{"image_id": 1, "category_id": 3, "bbox": [0, Infinity, 1, 1], "score": 0.5}',
        '{"image_id": 1, "category_id": 3, "bbox": [0, 0, 1, 1], "score": 1e400}',  # out of range: infinity
        '{"image_id": 1, "category_id": 3, "bbox": [0, 0, 1], "score": 0.5}',  # three numbers
        '{"image_id": 1, "category_id": 3, "bbox": [0, 0, 1, 1, 1], "score": 0.5}',  # five
        '{"image_id": 1, "category_id": 3, "bbox": null, "score": 0.5}',
        '{"image_id": 18446744073709551616, "category_id": 3, "bbox": [0, 0, 1, 1], "score": 0.5}',  # beyond int64
        '{"image_id": 9223372036854775808, "category_id": 3, "bbox": [0, 0, 1, 1], "score": 0.5}',  # 2**63
        '{"image_id": "1", "category_id": 3, "bbox": [0, 0, 1, 1], "score": 0.5}',  # a string id among integers
        '[1, 2]',  # not an object
        '{"image_id": 1,, "category_id": 3}',  # malformed: line and column
    ],
)
def test_typed_reading_reports_errors_as_the_ordinary_path_does(files, typed_always, monkeypatch, raw_entry):
    gt, results = small_files()
    raw = "[\n" + ",\n".join([json.dumps(r) for r in results * 3] + [raw_entry] + [json.dumps(results[0])]) + "\n]"
    paths = files(gt, None, raw_results=raw)
    with pytest.raises(InputError) as ordinary:
        _ordinary(paths, monkeypatch)
    with pytest.raises(InputError) as typed:
        load_coco(*paths)
    assert str(typed.value) == str(ordinary.value)
    assert "entry 6" in str(typed.value) or "line 8" in str(typed.value)
    assert typed_always == [False] or "image_id 99" in str(typed.value)  # decoded, then the same check


@pytest.mark.parametrize(
    "raw",
    [
        '{"annotations": []}',  # the top level is an object
        '[{"image_id": 1, "category_id": 3, "bbox": [0, 0, 1, 1], "score": 0.5, "note": "\xff"}]',  # not UTF-8
    ],
)
def test_typed_reading_defers_whole_file_faults(files, typed_always, monkeypatch, raw):
    gt, _ = small_files()
    paths = files(gt, None)
    with open(paths[1], "wb") as handle:
        handle.write(raw.encode("latin-1"))
    with pytest.raises(InputError) as ordinary:
        _ordinary(paths, monkeypatch)
    with pytest.raises(InputError) as typed:
        load_coco(*paths)
    assert str(typed.value) == str(ordinary.value)
    assert typed_always == [False]


def test_typed_reading_leaves_string_ids_to_the_ordinary_path(files, typed_always, monkeypatch):
    gt, results = small_files()
    gt = copy.deepcopy(gt)
    for section, key in (("images", "id"), ("annotations", "image_id")):
        for e in gt[section]:
            e[key] = f"img{e[key]}"
    results = [dict(r, image_id=f"img{r['image_id']}") for r in results]
    paths = files(gt, results)
    _same_data(load_coco(*paths), _ordinary(paths, monkeypatch))
    assert typed_always == [False]
