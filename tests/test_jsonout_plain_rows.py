"""PlainRows (rows handed to the JSON encoder as they are) write the same document as plain lists."""

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
