"""Generated problems worth solving (docs/sheets.md), and the fast answers equal the commands'.

Over 200 generated problems per command: no 1×1 tconv input or kernel; box pairs overlap
(IoU > 0) in at least four of five; truncate, when present, is 2 ≤ K < T. The IoU is
recomputed here from the integer corners (intersection of intervals), not by dlv.
"""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
import yaml

from dlvcli.sheets import generate as gen
from dlvcli.sheets.answers import fast_documents
from dlvcli.sheets.checks import lookup

COUNT = 200


def sheet(dlv, command: str, *extra) -> list[dict]:
    r = dlv("generate", command, "--seed", 11, "--count", COUNT, *extra)
    assert r.code == 0, r.stderr
    return yaml.safe_load(r.stdout)


def _xyxy(text: str, fmt: str) -> tuple[Fraction, ...]:
    v = [Fraction(t) for t in text.split(",")]
    if fmt == "xywh":
        return v[0], v[1], v[0] + v[2], v[1] + v[3]
    if fmt == "cxcywh":
        return v[0] - v[2] / 2, v[1] - v[3] / 2, v[0] + v[2] / 2, v[1] + v[3] / 2
    return tuple(v)


def _iou(a, b) -> Fraction:
    w = max(Fraction(0), min(a[2], b[2]) - max(a[0], b[0]))
    h = max(Fraction(0), min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    area = lambda r: (r[2] - r[0]) * (r[3] - r[1])  # noqa: E731
    return inter / (area(a) + area(b) - inter)


def test_tconv_never_one_by_one_and_often_not_square(dlv):
    problems = sheet(dlv, "tconv") + sheet(dlv, "tconv", "--size", "2")
    shapes = [((len(p["x"]), len(p["x"][0])), (len(p["k"]), len(p["k"][0]))) for p in problems]
    assert all(x != (1, 1) and k != (1, 1) for x, k in shapes)
    assert sum(x[0] != x[1] for x, _ in shapes) >= 20 and sum(k[0] != k[1] for _, k in shapes) >= 20


@pytest.mark.parametrize("boxes", ["2", "5"])
def test_box_pairs_overlap_in_four_of_five(dlv, boxes):
    problems = sheet(dlv, "box-compare", "--boxes", boxes)
    ious = []
    for p in problems:
        fmt = p.get("box-format", "xyxy")
        a = _xyxy(p["a"], fmt)
        row = [_iou(a, _xyxy(b, fmt)) for b in p["b"]]
        # within a problem, every five consecutive pairs have at most one IoU 0
        for start in range(0, len(row), 5):
            assert sum(v == 0 for v in row[start : start + 5]) <= 1
        ious += row
        assert [float(v) for v in row] == pytest.approx([p["expect"][f"pairs.{i}.iou"] for i in range(len(row))], rel=1e-9)
    assert sum(v > 0 for v in ious) >= 0.8 * len(ious)
    if boxes == "5":
        assert any(v == 0 for v in ious)  # GIoU's case appears too


def test_truncate_is_at_least_2_and_less_than_T(dlv):
    problems = sheet(dlv, "bptt", "--steps", "5") + sheet(dlv, "bptt", "--steps", "3")
    truncated = [(p["truncate"], len(p["x"])) for p in problems if "truncate" in p]
    assert truncated and all(2 <= k < T for k, T in truncated)
    # mixed signs in every scalar sequence of two or more steps
    assert all(min(p["x"]) < 0 < max(p["x"]) for p in problems)


def test_variety_in_ap_and_focal(dlv):
    ap = sheet(dlv, "interp-ap")
    assert all(len(p["tp"]) == 10 and any(p["tp"]) and p["num-gt"] >= sum(p["tp"]) for p in ap)
    assert sum(len(set(p["score"])) < len(p["score"]) for p in ap if "score" in p) >= 10  # ties in scores
    assert {p["method"] for p in ap} == {"11point", "allpoint", "101point"}
    focal = sheet(dlv, "focal")
    assert {len(p["gamma"]) for p in focal} == {2, 3} and {p["target"] for p in focal} == {0, 1}
    assert any(min(p["logit"]) < 0 < max(p["logit"]) for p in focal if "logit" in p)


@pytest.mark.parametrize("command, extra", [
    ("interp-ap", {}), ("bptt", {}), ("bptt", {"steps": 4, "hidden": 2}), ("focal", {}),
    ("box-compare", {"boxes": 5}), ("tconv", {"size": 4}),
])
def test_fast_answers_equal_the_commands_json(dlv, tmp_path, command, extra):
    """generate computes answers with the core directly; they must be what the command prints."""
    sizes = {option: default for option, (commands, default) in gen.SIZE_OPTIONS.items() if command in commands}
    sizes.update(extra)
    drafts = gen.drafts(command, 5, 40, sizes)
    fast = fast_documents(command, [d.options for d in drafts])
    for draft, document in zip(drafts, fast):
        assert document is not None
        config = tmp_path / "p.yaml"
        config.write_text(yaml.safe_dump(dict(draft.options)), encoding="utf-8")
        full = dlv(command, "-c", config, "--json")
        assert full.code == 0, full.stderr
        reference = json.loads(full.stdout)
        for key in draft.expect_keys(reference):
            assert lookup(document, key) == lookup(reference, key), (draft.id, key)
        # and everything else it holds (what the mistakes read): the same values at the same keys
        for key, value in _leaves(document):
            assert lookup(reference, key) == value, (draft.id, key)


def _leaves(node, prefix=""):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(node, list) and node and isinstance(node[0], dict):
        for i, v in enumerate(node):
            yield from _leaves(v, f"{prefix}.{i}")
    else:
        yield prefix, node
