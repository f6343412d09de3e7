"""Lines of prose that carry formulas break between words, never inside a formula
(render.derivation.formula_pieces / as_prose; docs/conventions.md, "Shown numbers and widths")."""

from __future__ import annotations

import shlex

import pytest
from rich.cells import cell_len

from conftest import REPO
from dlvcli.render.derivation import Math, formula_pieces, prose_lines


def _units(text: str) -> list[str]:
    """The pieces a line may not break inside, as strings (formulas and prose words)."""
    return [p.text if isinstance(p, Math) else p for p in formula_pieces(text) if not (isinstance(p, str) and p.isspace())]


@pytest.mark.parametrize(
    ("text", "kept_whole"),
    [
        # operators hold their operands; prose words around them are free
        ("γ = 0 with α = 0.25 is α-balanced cross-entropy: FL = α_t · CE",
         ["γ = 0", "α = 0.25", "FL = α_t · CE"]),
        # a prefix and the bracket after it, a function's brackets with their commas
        ("the area under the step envelope, Σ (rᵢ − rᵢ₋₁)·p_interp(rᵢ) over the recalls",
         ["Σ (rᵢ − rᵢ₋₁)·p_interp(rᵢ)", "envelope,"]),
        ("of np.linspace(0, 1, 101) of the envelope", ["np.linspace(0, 1, 101)"]),
        # the reviewer's break, "= max" / "|analytic − numeric|": a function and its bars
        ("relative error = max |a − n| / max(|a|, |n|) over its entries",
         ["error = max |a − n| / max(|a|, |n|)"]),
        # a short parenthesis is kept whole; a long one is prose, and may break inside
        ("by descending score (the first 100), take greedily", ["(the first 100),", "take"]),
        ("the box (crowd boxes: IoU against the detection's own area, matched any number of times) here",
         ["(crowd", "boxes:", "IoU", "times)"]),
        ("the order r, z, n (3H = 3 rows).", ["(3H = 3 rows)."]),
        # brackets that do not balance: only the operators join
        ("a smiley :) and x = 1", [":)", "x = 1"]),
    ],
)
def test_formulas_are_kept_whole_and_prose_words_are_not(text, kept_whole):
    units = _units(text)
    for unit in kept_whole:
        assert unit in units, (unit, units)
    assert " ".join(units) == " ".join(text.split())  # nothing lost, nothing added


def test_a_sentence_wraps_between_its_formulas():
    text = "The bound falls below 0.001 at d = 31 (bound^31 = 0.7972^31 = 0.000888 < 0.001), so terms more than 30 steps back"
    for width in range(30, 90):
        lines = prose_lines(formula_pieces(text), width)
        assert " ".join(" ".join(lines).split()) == text  # a formula wider than the line hangs its "= …" parts
        assert not any(line.endswith(("=", "<")) for line in lines), lines
        assert all(cell_len(line) <= width for line in lines)


COMMANDS = [
    "interp-ap sample_inputs/interp_ap_course.csv --num-gt 5 --compare",
    "interp-ap -c sample_inputs/interp_ap_coco.yaml",
    "bptt -c sample_inputs/bptt_course.yaml --check",
    "bptt -c sample_inputs/bptt_vector_softmax.yaml",
    "bptt --compare-cells --hidden 4 --T 8 --seed 0",
    "focal -c sample_inputs/focal_paper.yaml",
    "focal -c sample_inputs/focal_dataset.yaml",
    "focal -c sample_inputs/focal_softmax.yaml",
    "focal -c sample_inputs/focal_logits.yaml",
    "box-compare -c sample_inputs/box_compare_course.yaml",
    "box-compare -c sample_inputs/box_compare_same_l2.yaml",
    "tconv -c sample_inputs/tconv_course_3x3_solve.yaml",
]


@pytest.mark.parametrize("columns", ["60", "80"])
@pytest.mark.parametrize("command", COMMANDS)
def test_no_line_ends_inside_a_formula(dlv, monkeypatch, command, columns):
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("COLUMNS", columns)
    result = dlv(*shlex.split(command))
    assert result.code == 0, result.stderr
    for line in result.stdout.splitlines():
        assert cell_len(line.rstrip()) <= int(columns), line
        # "·" is left out: tconv's matrices print a zero entry as "·"
        assert not line.rstrip().endswith(("(", " −", " +", " =", " <", " ≥", " ≤", " max", " ⊙")), line


def test_text_into_a_pipe_has_no_trailing_spaces(dlv, monkeypatch):
    # rich pads tconv's tables and wrapped headers with spaces to the console's width
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("COLUMNS", "80")
    for command in ("tconv -c sample_inputs/tconv_matrix_2x2.yaml", "tconv -c sample_inputs/tconv_course_3x3_solve.yaml",
                    "interp-ap sample_inputs/interp_ap_course.csv --num-gt 5 --compare"):
        out = dlv(*shlex.split(command)).stdout
        assert out and not [line for line in out.splitlines() if line != line.rstrip(" ")], command


def test_the_stream_keeps_a_line_written_in_pieces():
    import io

    from dlvcli.render.output import NoTrailingSpaces

    buffer = io.StringIO()
    stream = NoTrailingSpaces(buffer)
    for piece in ("a  ", "b   \nc", " \n", "  d"):
        stream.write(piece)
    stream.flush()
    assert buffer.getvalue() == "a  b\nc\n  d"
