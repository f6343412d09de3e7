"""Fast paths (JSON rows, whole-array cleaning, focal rows) give what the slow paths they replace give."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from dlvcli.render.jsonout import PlainRows, json_document


@pytest.mark.parametrize(
    "rows",
    [
        [{"a": 1.5, "b": 2, "c": None, "d": "x|y", "e": True}],
        [{"a": math.inf, "b": 1}, {"a": math.nan, "b": 2}],  # non-finite: nulls named by their path
        [{"a": np.float64(0.25), "b": np.int64(3)}],  # numpy values the encoder refuses or writes as floats
    ],
)
def test_plain_rows_write_what_a_plain_list_writes(rows):
    plain = json_document("focal", {"gamma": [2]}, {"rows": [dict(r) for r in rows]}, ["w"])
    fast = json_document("focal", {"gamma": [2]}, {"rows": PlainRows(dict(r) for r in rows)}, ["w"])
    assert fast == plain
    doc = json.loads(fast)
    if any(isinstance(r["a"], float) and not math.isfinite(r["a"]) for r in rows):
        assert doc["rows"][0]["a"] is None and "rows.0.a is inf (not finite), written as null" in doc["warnings"]
        assert "rows.1.a is nan (not finite), written as null" in doc["warnings"]


def _clean_by_element(value):
    """bptt's JSON cleaning one element at a time (the reference for the whole-array path)."""
    if isinstance(value, np.ndarray):
        return _clean_by_element(value.tolist()) if value.ndim else _clean_by_element(float(value))
    if isinstance(value, list):
        return [_clean_by_element(v) for v in value]
    if isinstance(value, float):
        return value + 0.0 if math.isfinite(value) else None
    return value


@pytest.mark.parametrize(
    "array",
    [
        np.array([[1.5, -0.0], [2.0, 3.25]]),
        np.array([[math.inf, -0.0], [math.nan, -2.5]]),
        np.array([1.0, -math.inf], dtype=np.float32),
        np.arange(6).reshape(2, 3),
        np.array([True, False]),
        np.array(-0.0),
    ],
)
def test_bptt_clean_of_a_whole_array_matches_element_by_element(array):
    from dlvcli.render.bptt import _clean

    got, want = _clean(array), _clean_by_element(array)
    assert json.dumps(got) == json.dumps(want)
    assert [type(x) for x in np.ravel(np.array(got, dtype=object))] == [type(x) for x in np.ravel(np.array(want, dtype=object))]


def test_focal_rows_are_the_dataclass_rows():
    import dataclasses

    from dlvcli.core.focal import FocalRow, Prediction, focal

    result = focal([0.9, 0.2, 0.6], target=[1, 0, 1], gamma=[0, 2], alpha=0.25)
    for row in result.rows:
        rebuilt = FocalRow(**{f.name: getattr(row, f.name) for f in dataclasses.fields(FocalRow)})
        assert row == rebuilt and repr(row) == repr(rebuilt) and hash(row) == hash(rebuilt)
        with pytest.raises(dataclasses.FrozenInstanceError):
            row.ce = 0.0
    for pred in result.predictions:
        assert pred == Prediction(**{f.name: getattr(pred, f.name) for f in dataclasses.fields(Prediction)})
    assert [p.target for p in result.predictions] == [1, 0, 1] and [p.p for p in result.predictions] == [0.9, 0.2, 0.6]
