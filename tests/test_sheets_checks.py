"""The pure parts of problem sheets: dotted-key lookup, tolerant comparison, the YAML writer."""

from __future__ import annotations

import math
import random

import pytest
import yaml

from dlvcli.sheets.checks import KeyNotFound, check_all, lookup, matches, numbers_close
from dlvcli.sheets.generate import number_yaml, round_answer, sheet_yaml, value_yaml, GeneratedProblem

DOC = {
    "map": 0.75,
    "classes": [{"ap": 0.5, "ranked": [{"tp": 1}, {"tp": 0}]}, {"ap": None}],
    "grads": {"W": [[1.0, 2.0], [3.0, 4.0]]},
    "ok": True,
}


@pytest.mark.parametrize(
    "key, value",
    [
        ("map", 0.75),
        ("classes.0.ap", 0.5),
        ("classes.0.ranked.1.tp", 0),
        ("classes.-1.ap", None),
        ("grads.W.1", [3.0, 4.0]),
        ("grads.W.1.0", 3.0),
        ("ok", True),
    ],
)
def test_lookup_follows_dotted_keys_and_list_indices(key, value):
    assert lookup(DOC, key) == value


@pytest.mark.parametrize(
    "key, message",
    [
        ("mAP", r"no key 'mAP' in the output \(it has: map, classes, grads, ok\)"),
        ("classes.2.ap", r"index 2 is out of range: classes is a list of 2"),
        ("classes.first", r"classes is a list of 2: expected an index 0..1, got 'first'"),
        ("map.value", r"map is a single value \(0.75\), it has no 'value'"),
        ("classes..ap", r"not a dotted key"),
    ],
)
def test_lookup_says_where_the_key_stops(key, message):
    with pytest.raises(KeyNotFound, match=message):
        lookup(DOC, key)


def test_tolerances_absolute_or_relative():
    assert numbers_close(1.0, 1.0 + 9e-7)  # default tol 1e-6
    assert not numbers_close(1.0, 1.0 + 2e-6)
    assert numbers_close(1e6, 1e6 + 0.5, tol=0, rtol=1e-6)  # 0.5 ≤ 1e-6·1e6
    assert not numbers_close(1e6, 1e6 + 2, tol=1e-6, rtol=1e-6)
    assert numbers_close(0.0, 1e-9, tol=1e-6, rtol=1e-9)  # either tolerance is enough
    assert numbers_close(math.inf, math.inf) and not numbers_close(math.inf, 1e308)


@pytest.mark.parametrize(
    "expected, got, ok",
    [
        (0.7532, 58 / 77, False),  # off by 4.7e-5
        (0.75324675, 58 / 77, True),
        ("58/77", 58 / 77, True),  # a fraction, as worked by hand
        ("58/77", 0.75, False),
        ("58/77", "58/77", True),
        ("0.5", 0.5, True),
        (5, 5.0, True),
        ([1, 2], [1.0, 2.0000001], True),
        ([1, 2], [1.0, 2.0, 3.0], False),
        ([[1, 2], [3, 4]], [[1, 2], [3, 5]], False),
        ({"recall": 0.5}, {"recall": 0.5}, True),
        ({"recall": 0.5}, {"recall": 0.5, "precision": 1}, False),
        (None, None, True),
        (None, 0.0, False),
        (0, None, False),
        (True, True, True),
        (True, 1, False),  # a boolean is not a number
        (1, True, False),
        ("11point", "11point", True),
        ("11point", "allpoint", False),
        ("abc", 1.0, False),
    ],
)
def test_matches(expected, got, ok):
    assert matches(expected, got) is ok


def test_check_all_marks_a_missing_key_as_an_error_not_a_difference():
    checks = check_all(DOC, [("map", 0.75), ("classes.0.ap", 0.6), ("classes.0.apx", 1)])
    assert [c.ok for c in checks] == [True, False, False]
    assert checks[1].error is None and checks[1].got == 0.5
    assert "no key 'apx' in classes.0" in checks[2].error


@pytest.mark.parametrize("value", [0.3, -1.25, 1e-7, 2.5e-12, 1.5e20, 123456789012.0, 58 / 77, -0.0, 0.0, 7, -3])
def test_numbers_read_back_as_written(value):
    text = number_yaml(value)
    back = yaml.safe_load(text)
    assert isinstance(back, (int, float)) and not isinstance(back, bool)
    assert back == round_answer(float(value)) or back == value


def test_random_numbers_read_back_as_written():
    rng = random.Random(0)
    for _ in range(2000):
        value = rng.uniform(-1, 1) * 10 ** rng.randint(-12, 12)
        assert yaml.safe_load(number_yaml(value)) == round_answer(value)


@pytest.mark.parametrize(
    "value",
    ["11point", "half-sse", "58/77", "yes", "no", "on", "null", "1e5", "0x10", "a: b", "x #y", "ünïcode", "", "-", "2,3,4,5", "3.5,5,5,2"],
)
def test_strings_stay_strings(value):
    assert yaml.safe_load(f"k: {value_yaml(value)}") == {"k": value}


def test_sheet_yaml_reads_back():
    problem = GeneratedProblem(
        "p-1", "bptt", [("U", 0.5), ("x", [1, 0.5, -1]), ("b", ["1,2", "3,4"]), ("exact", True)], [("grads.W", [[1e-9, 2.0]]), ("classes.0.ap_exact", "1/4")], student="s 1"
    )
    text = sheet_yaml([problem], ["header"])
    assert yaml.safe_load(text) == [
        {
            "id": "p-1",
            "student": "s 1",
            "command": "bptt",
            "U": 0.5,
            "x": [1, 0.5, -1],
            "b": ["1,2", "3,4"],
            "exact": True,
            "expect": {"grads.W": [[1e-9, 2]], "classes.0.ap_exact": "1/4"},
        }
    ]
