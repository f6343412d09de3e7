"""``--compare`` rows for other tools' conventions, against re-implementations of those tools' code.

Each oracle below is written from the tool's own source, line for line in its idiom
(not from dlv's functions):

* py-faster-rcnn ``lib/datasets/voc_eval.py``, ``voc_ap(rec, prec, use_07_metric=True)``;
* Padilla's Object-Detection-Metrics ``lib/Evaluator.py``, ``ElevenPointInterpolatedAP``;
* Ultralytics ``ultralytics/utils/metrics.py``, ``compute_ap`` (method ``"interp"``) on the
  curves of ``ap_per_class``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlvcli.core.ap import FLOAT_11_LEVELS, compare_conventions, interp_ap_ranked


def voc_eval_07(tp: np.ndarray, npos: int) -> float:
    """py-faster-rcnn: cumulative sums, rec = tp / npos, prec = tp / max(tp + fp, eps), 11 float levels."""
    fp = np.cumsum(1 - tp).astype(float)
    tp = np.cumsum(tp).astype(float)
    rec = tp / float(npos)
    prec = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    ap = 0.0
    for t in np.arange(0.0, 1.1, 0.1):
        if np.sum(rec >= t) == 0:
            p = 0
        else:
            p = np.max(prec[rec >= t])
        ap = ap + p / 11.0
    return ap


def padilla_eleven_point(tp: np.ndarray, npos: int) -> float:
    """Padilla: recallValues = linspace(0, 1, 11) reversed, max precision at recall ≥ r."""
    acc_tp = np.cumsum(tp)
    acc_fp = np.cumsum(1 - tp)
    rec = acc_tp / npos
    prec = np.divide(acc_tp, (acc_fp + acc_tp))
    mrec = [e for e in rec]
    mpre = [e for e in prec]
    recall_values = list(np.linspace(0, 1, 11)[::-1])
    rho_interp = []
    for r in recall_values:
        arg_greater = np.argwhere(np.array(mrec) >= r)
        pmax = 0
        if arg_greater.size != 0:
            pmax = max(mpre[arg_greater.min():])
        rho_interp.append(pmax)
    return sum(rho_interp) / 11


def ultralytics_ap(tp: np.ndarray, n_l: int) -> float:
    """Ultralytics ap_per_class (one class, one IoU) then compute_ap(recall, precision), method 'interp'."""
    eps = 1e-16
    if len(tp) == 0 or n_l == 0:
        return 0.0  # `if n_p == 0 or n_l == 0: continue`: the class keeps AP 0
    fpc = (1 - tp).cumsum(0)
    tpc = tp.cumsum(0)
    recall = tpc / (n_l + eps)
    precision = tpc / (tpc + fpc)
    mrec = np.concatenate(([0.0], recall, [1.0]))
    mpre = np.concatenate(([1.0], precision, [0.0]))
    mpre = np.flip(np.maximum.accumulate(np.flip(mpre)))
    x = np.linspace(0, 1, 101)
    trapezoid = getattr(np, "trapezoid", None) or np.trapz
    return float(trapezoid(np.interp(x, mrec, mpre), x))


ranked_lists = st.lists(st.booleans(), min_size=0, max_size=40).flatmap(
    lambda flags: st.tuples(st.just(flags), st.integers(min_value=max(1, sum(flags)), max_value=max(1, sum(flags)) + 12))
)


@settings(max_examples=150, deadline=None)
@given(ranked_lists)
def test_11point_float_equals_voc_eval_and_padilla(case):
    flags, num_gt = case
    tp = np.array(flags, dtype=float)
    ours = interp_ap_ranked(flags, num_gt, method="11point-float").map
    assert ours == pytest.approx(voc_eval_07(tp, num_gt), abs=1e-12)
    assert ours == pytest.approx(padilla_eleven_point(tp, num_gt), abs=1e-12)


@settings(max_examples=150, deadline=None)
@given(ranked_lists)
def test_101point_interp_equals_ultralytics(case):
    flags, num_gt = case
    ours = interp_ap_ranked(flags, num_gt, method="101point-interp").map
    assert ours == pytest.approx(ultralytics_ap(np.array(flags, dtype=float), num_gt), abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 9), min_size=1, max_size=12).flatmap(lambda tens: st.tuples(st.just(tens), st.randoms())))
def test_recalls_on_tenths_hit_the_float_levels(case):
    # num_gt = 10 and true positives at chosen ranks: recalls land exactly on the tenths, where
    # the float levels 0.30000000000000004, 0.6000000000000001, 0.7000000000000001 bite
    gaps, rnd = case
    flags = []
    for g in gaps[:10]:
        flags += [False] * (g - 1) + [True]
    tp = np.array(flags, dtype=float)
    ours = interp_ap_ranked(flags, 10, method="11point-float").map
    assert ours == pytest.approx(voc_eval_07(tp, 10), abs=1e-12)


def test_float_levels_are_numpys():
    assert FLOAT_11_LEVELS.tolist() == np.arange(0, 1.1, 0.1).tolist()
    assert FLOAT_11_LEVELS[3] == 0.30000000000000004 and 3 / 10 < FLOAT_11_LEVELS[3]


def test_hand_worked_float_level():
    # TP at ranks 1, 3, 4, 6, 8, 9 of 9, num_gt = 10.  Exact tenths: level 0.3 is reached at rank 4
    # (3/4 = 0.75) and level 0.6 at rank 9 (6/9).  As floats, 3/10 = 0.3 < 0.30000000000000004, so
    # level 0.3 takes the envelope at rank 6 (4/6), and 6/10 < 0.6000000000000001 leaves level 0.6
    # with no recall: 0.  Exact: (1 + 1 + 0.75 + 0.75 + 2/3 + 2/3 + 2/3 + 0·4)/11 = 5.5/11 = 1/2;
    # float: (1 + 1 + 0.75 + 2/3 + 2/3 + 2/3 + 0·5)/11 = 4.75/11 = 19/44.
    flags = [1, 0, 1, 1, 0, 1, 0, 1, 1]
    assert interp_ap_ranked(flags, 10, method="11point").map_exact == pytest.approx(0.5)
    assert interp_ap_ranked(flags, 10, method="11point-float").map == pytest.approx(19 / 44, abs=1e-15)

    def compute(method, plus_one, reverse):
        return interp_ap_ranked(flags, 10, method=method)

    rows = {r.method: r for r in compare_conventions(compute, method="11point", with_plus_one=False) if r.ties == "file-order"}
    text = " ".join(rows["11point-float"].explanation)
    assert "recall 3/10 = 0.3 is below the float level 0.30000000000000004" in text
    assert "recall 6/10 = 0.6 is below the float level 0.6000000000000001" in text
    assert rows["11point-float"].tool.startswith("py-faster-rcnn")
    assert "Ultralytics" in rows["101point-interp"].tool
    assert rows["11point"].explanation == () and rows["11point"].differs_because == ()


def test_the_compare_table_has_one_rule_for_its_ap_column(dlv, tmp_path, monkeypatch):
    # 9 detections, 10 objects; the envelope is 1 up to recall 0.1, 0.75 up to 0.3, 2/3 up
    # to 0.6, then 0.  11point: (2·1 + 2·0.75 + 3·2/3)/11 = 1/2; allpoint: 0.1·(1 + 2·0.75 +
    # 3·2/3) = 0.45; 101point: (11·1 + 20·0.75 + 30·2/3)/101 = 46/101 = 0.4554…; the column
    # shows all three with 4 decimals
    monkeypatch.setenv("COLUMNS", "80")
    path = tmp_path / "d.csv"
    path.write_text("tp,score\n1,0.9\n0,0.8\n1,0.7\n1,0.6\n0,0.5\n1,0.4\n0,0.3\n1,0.2\n1,0.1\n")
    text = dlv("interp-ap", path, "--num-gt", "10", "--compare", "--summary").stdout
    rows = [line.split("│") for line in text.splitlines() if line.startswith("│ 11point ") or line.startswith("│ allpoint ")
            or line.startswith("│ 101point ")]
    assert {row[4].strip() for row in rows} == {"0.5000", "0.4500", "0.4554"}
