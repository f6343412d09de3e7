"""``dlv interp-ap --tp … [--score …]``: the ranked table inline (mode A without a file)."""

from __future__ import annotations

import pytest

from tests.conftest import SAMPLES

COURSE_TP = "1,1,0,0,0,1,1,0,0,1"  # the course's table: TP at ranks 1, 2, 6, 7, 10


def test_inline_table_equals_the_file(dlv):
    inline = dlv("interp-ap", "--tp", COURSE_TP, "--num-gt", 5, "--exact", "--json")
    assert inline.code == 0 and inline.stderr == ""
    # the course's answer: 11-point AP 58/77 (worked in tests/test_sheets.py by definition)
    assert inline.json()["map_exact"] == "58/77"
    from_file = dlv("interp-ap", SAMPLES / "interp_ap_course.csv", "--num-gt", 5, "--exact", "--json").json()
    assert inline.json()["classes"] == from_file["classes"]
    assert inline.json()["inputs"]["tp"] == [1, 1, 0, 0, 0, 1, 1, 0, 0, 1]


@pytest.mark.parametrize("words", ["TP,TP,FP", "true,true,false", "1, 1, 0", "[1, 1, 0]", "[true, true, false]"])
def test_tp_words(dlv, words):
    # TP, TP, FP with 2 objects: recall reaches 1 at rank 2 with precision 1, so AP = 1
    r = dlv("interp-ap", "--tp", words, "--num-gt", 2, "--exact", "--json")
    assert r.code == 0, r.stderr
    assert r.json()["map_exact"] == "1"


def test_scores_rank_the_rows(dlv):
    # scores 0.2, 0.9, 0.5 rank the rows as 2, 3, 1: FP, TP, TP. With 2 objects: precision 0, 1/2,
    # 2/3 at recall 0, 1/2, 1; the envelope is 2/3 at both recalls, so all-point AP =
    # (1/2 − 0)·2/3 + (1 − 1/2)·2/3 = 2/3
    r = dlv("interp-ap", "--tp", "1,0,1", "--score", "0.2,0.9,0.5", "--num-gt", 2, "--method", "allpoint", "--exact", "--json")
    assert r.code == 0, r.stderr
    assert [row["tp"] for row in r.json()["classes"][0]["ranked"]] == [0, 1, 1]
    assert r.json()["map_exact"] == "2/3"


def test_from_a_config_file(dlv, tmp_path):
    config = tmp_path / "ap.yaml"
    config.write_text("tp: [1, 1, 0, 0, 0, 1, 1, 0, 0, 1]\nnum-gt: 5\nmethod: allpoint\nexact: true\n", encoding="utf-8")
    # the course's all-point AP: 51/70
    assert dlv("interp-ap", "-c", config, "--json").json()["map_exact"] == "51/70"


@pytest.mark.parametrize(
    "args, message",
    [
        ([SAMPLES / "interp_ap_course.csv", "--tp", "1,0", "--num-gt", 2], "either as FILE or as --tp, not both"),
        (["--tp", "1,0,1", "--score", "0.9,0.8", "--num-gt", 2], "--score: 2 scores for 3 detections in --tp"),
        (["--tp", "1,maybe", "--num-gt", 2], "--tp, item 2: 'maybe' is not a valid value"),
        (["--tp", "", "--num-gt", 2], "--tp: empty"),
        (["--score", "0.9", "--num-gt", 2], "--score goes with --tp"),
        (["--tp", "1,0", "--score", "0.9,nan", "--num-gt", 2], "--score, item 2"),
    ],
)
def test_inline_errors(dlv, args, message):
    r = dlv("interp-ap", *args)
    assert r.code == 2 and r.stdout == ""
    assert r.stderr.startswith("error: ") and message in r.stderr
