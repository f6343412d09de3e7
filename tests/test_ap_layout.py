"""interp-ap and tconv text layout: tables that fit 60-80 columns, long tables abbreviated,
101-point levels summarised, the all-FP case, and the AP plot's envelope from recall 0.

Expected numbers are worked by hand in the comments; the layout checks read the printed
text as a student would (every rank present, nothing wider than the terminal).
"""

from __future__ import annotations

import re

import pytest

from conftest import SAMPLES

COURSE = SAMPLES / "interp_ap_course.csv"


def _table_rows(text: str) -> list[list[str]]:
    """The cells of every body row of every box-drawn table (│ … │ lines)."""
    return [[c.strip() for c in line.strip().strip("│").split("│")] for line in text.splitlines() if line.strip().startswith("│")]


def test_boxes_table_splits_at_60_columns_and_keeps_every_rank(dlv, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    out = dlv("interp-ap", "-c", SAMPLES / "interp_ap_boxes.yaml").stdout
    assert all(len(line.rstrip()) <= 60 for line in out.splitlines())
    assert "…" not in out
    assert "Ranked detections (part 1 of 2)" in out and "Ranked detections (part 2 of 2)" in out
    # cat: ranks 1-4 are TP, FP, TP, FP (sample comment); precision 1/1, 1/2, 2/3, 2/4 appears in part 2
    assert "2/3 = 0.6667" in out and "2/4 = 0.5000" in out
    ranks_seen = [row[0] for row in _table_rows(out) if row and row[0].isdigit()]
    assert ranks_seen.count("1") >= 2  # rank is repeated in each part


def test_precision_column_in_markdown_has_the_fraction(dlv):
    md = dlv("interp-ap", COURSE, "--num-gt", "5", "--format", "markdown").stdout
    # rank 7: cumTP 4 (TP at ranks 1, 2, 6, 7) → 4/7 = 0.5714
    assert r"$\frac{4}{7} = 0.5714$" in md
    text = dlv("interp-ap", COURSE, "--num-gt", "5").stdout
    assert "4/7 = 0.5714" in text


def test_one_number_rule_per_column(dlv):
    text = dlv("interp-ap", COURSE, "--num-gt", "5").stdout
    precision = [row[4].split(" = ")[1] for row in _table_rows(text) if len(row) == 6]
    # 1/1, 2/2, 2/3, 2/4 …: all with 4 decimals, not 1 / 0.6667 / 0.5
    assert precision[:4] == ["1.0000", "1.0000", "0.6667", "0.5000"]
    assert len({len(p.split(".")[1]) for p in precision}) == 1


def test_ap_sum_wraps_with_an_indent(dlv, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    text = dlv("interp-ap", COURSE, "--num-gt", "5").stdout
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.rstrip() == "AP = 1/11 · Σ_r p_interp(r)")
    continuation = lines[start + 1 :]
    # 1/11 · (1 + 1 + 1 + 1 + 1 + 4/7·4 + 0.5·2) = 58/77 (ranks 1, 2 reach recall ≤ 0.4 at p = 1, …)
    assert len(continuation) >= 3 and all(line.startswith("   ") for line in continuation)
    assert continuation[0].startswith("   = 1/11 · (1 + 1")
    assert continuation[-1].strip() == "= 58/77 ≈ 0.7532"


def test_101point_summary_summarises_the_levels(dlv):
    out = dlv("interp-ap", COURSE, "--num-gt", "5", "--method", "101point", "--summary").stdout
    rows = [row for row in _table_rows(out) if len(row) == 4]
    # levels 0-0.2 reach rank 1 (p = 1), 0.21-0.4 rank 2 (p = 1), 0.41-0.8 rank 7 (4/7),
    # 0.81-1 rank 10 (0.5): 21 + 20 + 40 + 20 = 101 levels in 4 rows
    assert [(r[1], r[3]) for r in rows] == [("21", "1"), ("20", "2"), ("40", "7"), ("20", "10")]
    assert sum(int(r[1]) for r in rows) == 101
    # (21 + 20 + 40·4/7 + 20·0.5)/101 = 517/707
    assert "517/707 ≈ 0.7313" in out
    full = dlv("interp-ap", COURSE, "--num-gt", "5", "--method", "101point", "--full").stdout
    assert len([row for row in _table_rows(full) if len(row) == 3]) == 101


def test_all_false_positives_print_no_empty_table(dlv, tmp_path):
    path = tmp_path / "fp.csv"
    path.write_text("score,tp\n0.9,0\n0.8,0\n0.7,0\n", encoding="utf-8")
    out = dlv("interp-ap", path, "--num-gt", "2", "--method", "allpoint").stdout
    assert "Envelope at each recall reached" not in out
    assert "No detection is a true positive" in out
    assert re.search(r"AP = .* = 0\s+\(no true positive\)", out)


def test_long_table_is_abbreviated_unless_full(dlv, tmp_path):
    path = tmp_path / "long.csv"
    flags = [1 if i % 3 == 0 else 0 for i in range(60)]
    path.write_text("tp\n" + "".join(f"{f}\n" for f in flags), encoding="utf-8")
    out = dlv("interp-ap", path, "--num-gt", "30").stdout
    ranks = [int(row[0]) for row in _table_rows(out) if len(row) == 6 and row[0].isdigit()]
    assert ranks == list(range(1, 11)) + list(range(51, 61))
    assert "40 of 60 rows left out" in out and "--full shows all" in out
    full = dlv("interp-ap", path, "--num-gt", "30", "--full").stdout
    ranks = [int(row[0]) for row in _table_rows(full) if len(row) == 6 and row[0].isdigit()]
    assert ranks == list(range(1, 61))
    # rank 60: 20 TPs (ranks 1, 4, …, 58) → 20/60, recall 20/30
    assert "20/60 = 0.3333" in full and "20/30 = 0.6667" in full


def test_envelope_of_the_plot_starts_at_recall_zero():
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    from dlvcli.core.ap import interp_ap_ranked
    from dlvcli.render.ap import ApView

    # the course table: p_interp(0) = 1 (rank 1), recall 0.2 at rank 1
    result = interp_ap_ranked([1, 1, 0, 0, 0, 1, 1, 0, 0, 1], 5, method="11point")
    figure = Figure()
    ApView().draw(result, figure)
    (envelope,) = [line for line in figure.axes[0].get_lines() if "envelope" in line.get_label()]
    assert envelope.get_xdata()[0] == 0.0 and envelope.get_ydata()[0] == 1.0


def test_tconv_matrix_keeps_row_labels_in_column_blocks(dlv, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    out = dlv("tconv", "-c", SAMPLES / "tconv_matrix_2x2.yaml").stdout
    assert all(len(line.rstrip()) <= 60 for line in out.splitlines()) and "…" not in out
    assert "C (4×9) (part 1 of 2)" in out
    # row x[0,0] of C is the kernel [[1, 2], [3, 4]] placed at the top left of the 3×3
    # output: [k00, k01, 0, k10, k11, 0, 0, 0, 0] (sample comment)
    c_section = out[out.index("C (4×9) (part 1 of 2)") : out.index("Cᵀ (9×4)")]
    parts = [line.split()[1:] for line in c_section.splitlines() if line.strip().startswith("x[0,0]")]
    c_row = [cell for part in parts[:2] for cell in part]
    assert c_row == ["1", "2", "0", "3", "4", "0", "0", "0", "0"]
