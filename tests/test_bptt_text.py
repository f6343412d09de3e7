"""``dlv bptt`` (tanh RNN) as text at 60-100 columns: a split table draws no row that is empty
beside its key, and no sentence is broken inside a formula (docs/bptt.md; docs/conventions.md,
"Shown numbers and widths").

The reviewer's lines this catches (today's main at 80 columns):
``  │       Σ │          │                          │`` in the first part of t = 2's table;
``… relative error of a parameter = max`` / ``|analytic − numeric| / its largest …``;
``… (bound^31 = 0.7972^31 = 0.000888 <`` / ``0.001, while bound^30 = 0.00111) …``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dlvcli.cli import run
from dlvcli.render.derivation import Math, prose_lines, prose_markdown, prose_text, prose_words

REPO = Path(__file__).resolve().parent.parent
S = "sample_inputs/"
SCALAR = ["--U", "0.5", "--W", "0.8", "--V", "1.2", "--x", "1,0.5,-1", "--y", "0.2,0.1,0.3"]
CASES = {
    "course_check": ["bptt", "-c", S + "bptt_course.yaml", "--check"],
    "vector_softmax_check": ["bptt", "-c", S + "bptt_vector_softmax.yaml", "--check"],
    # biases, truncation (its own backward-intro line and check note)
    "bias_truncate_check": ["bptt", *SCALAR, "--b", "0.1", "--c", "-0.2", "--truncate", "2", "--check"],
    # a growing Jacobian: the "explode" sentences
    "explode": ["bptt", "--U", "0.5", "--W", "1.5", "--V", "1", "--x", "0.01,0,0,0,0", "--y", "0,0,0,0,0"],
    "vector_truncate": ["bptt", "-c", S + "bptt_vector_softmax.yaml", "--truncate", "2"],
}
WIDTHS = [60, 80, 100]
# a line of prose or a formula never ends in the middle of a formula
BAD_ENDINGS = ("max", "<", "=", "−", "+", "·", "(", "[", "{", "≤", "≥", "/")


def render(argv, columns, monkeypatch, capsys, fmt="text") -> str:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("COLUMNS", str(columns))
    code = run([*argv, "--format", fmt])
    out, err = capsys.readouterr()
    assert code == 0, (argv, err)
    return out


def table_rows(text: str) -> list[list[list[str]]]:
    """Each body row of each boxed table: its lines, each a list of the cells' texts."""
    rows, current = [], []
    for line in text.splitlines():
        body = line.strip()
        if body.startswith("│"):
            current.append([cell.strip() for cell in body.strip("│").split("│")])
        elif current:
            rows.append(current)
            current = []
    if current:
        rows.append(current)
    return rows


@pytest.mark.parametrize("columns", WIDTHS)
@pytest.mark.parametrize("case", CASES)
def test_no_row_is_only_its_key(case, columns, monkeypatch, capsys):
    text = render(CASES[case], columns, monkeypatch, capsys)
    empty = [row for row in table_rows(text) if all(not any(cells[1:]) for cells in row)]
    assert empty == []


@pytest.mark.parametrize("columns", WIDTHS)
@pytest.mark.parametrize("case", CASES)
def test_no_line_stops_inside_a_formula(case, columns, monkeypatch, capsys):
    text = render(CASES[case], columns, monkeypatch, capsys)
    lines = text.splitlines()
    assert [line for line in lines if line.rstrip().endswith(BAD_ENDINGS)] == []
    assert [line for line in lines if line != line.rstrip()] == []  # no padding to the full width
    assert max(len(line) for line in lines) <= columns


def test_the_reviewers_formulas_stay_on_one_line(monkeypatch, capsys):
    for columns in WIDTHS:
        lines = render(CASES["course_check"], columns, monkeypatch, capsys).splitlines()
        for formula in ("bound^31 = 0.7972^31 = 0.000888 < 0.001", "bound^30 = 0.00111", "max |a − n| / max(|a|, |n|)",
                        "ε = 4.81e−6·max(1, |θ_i|)", "max(1 − h²) = 0.9965", "(E(θ + ε) − E(θ − ε)) / 2ε"):
            assert any(formula in line for line in lines), (columns, formula)


def test_the_split_part_without_sums_has_no_sigma_row(monkeypatch, capsys):
    # at 80 columns t = 2's table splits into (k, ∂h₂/∂h_k, ∂E₂/∂a_k) and the two term columns;
    # the Σ row (Σ_k = 0.2167, Σ_k = 0.5295: 0.2167 + 0 and 0.2345 + 0.2951 by hand) is in the second only
    text = render(CASES["course_check"], 80, monkeypatch, capsys)
    step2 = text.split("t = 2 ")[1].split("t = 3 ")[0]
    first, second = step2.split("term of ∂E₂/∂W")
    assert "Σ" not in first.split("∂E₂/∂a_k")[1]
    assert "Σ_k = 0.2167" in second and "Σ_k = 0.5295" in second


SENTENCE = ("The bound falls below 0.001 at ", Math("d = 31", "d = 31"), " (",
            Math("bound^31 = 0.7972^31 = 0.000888 < 0.001", "x"), ", while ", Math("bound^30 = 0.00111", "y"),
            "), so terms more than 30 steps back are guaranteed below 0.001 of the nearest term.")


@pytest.mark.parametrize("width", range(41, 121, 3))  # 41: the longest word, "(bound^31 … < 0.001,", fits a line
def test_prose_breaks_between_words_only(width):
    lines = prose_lines(SENTENCE, width)
    # nothing lost or added: the lines joined at single spaces are the sentence
    assert " ".join(lines) == prose_text(SENTENCE)
    for piece in SENTENCE:
        if isinstance(piece, Math) and len(piece.text) <= width:
            assert any(piece.text in line for line in lines), (width, piece.text)
    # each line is whole words (a formula is one), and full: the next word would not have fitted
    words = [word for _, word in prose_words(SENTENCE)]
    start = 0
    for line in lines:
        end = next(j for j in range(start + 1, len(words) + 1) if " ".join(words[start:j]) == line)
        if end < len(words):
            assert len(line) + 1 + len(words[end]) > width
        start = end
    assert start == len(words)
    assert all(len(line) <= width for line in lines)


def test_a_formula_wider_than_the_line_breaks_at_its_equals():
    lines = prose_lines(("so ", Math("bound^31 = 0.7972^31 = 0.000888 < 0.001", ""), " here"), 24)
    assert lines == ["so", "bound^31 = 0.7972^31", "    = 0.000888 < 0.001", "here"]


def test_markdown_of_a_sentence_puts_formulas_in_math():
    assert prose_markdown(("at ", Math("d = 31", "d = 31"), " (a_b)")) == r"at $d = 31$ (a\_b)"


def test_markdown_carries_the_sentences_of_the_text(monkeypatch, capsys):
    md = render(CASES["bias_truncate_check"], 200, monkeypatch, capsys, fmt="markdown")
    assert "on the truncated loss (each $E_t$ run from the fixed $h_{t-K}$, whose gradient is the truncated sum)" in md
    assert r"per parameter, $\text{relative error} = \max |a - n| \,/\, \max(|a|, |n|)$ over its entries" in md
    assert r"falls below 0.001 at $d = 30$ ($\text{bound}^{30} = 0.7882^{30} = 0.000793 < 0.001$" in md


SYMBOLIC = {
    "T3": ["bptt", "--symbolic", "--T", "3"],
    "course": ["bptt", "--symbolic", "-c", S + "bptt_course.yaml"],
    "bias_truncate": ["bptt", "--symbolic", "--T", "3", "--bias", "--truncate", "2"],
    "matrix_softmax": ["bptt", "--symbolic", "-c", S + "bptt_vector_softmax.yaml"],
}


@pytest.mark.parametrize("columns", WIDTHS)
@pytest.mark.parametrize("case", SYMBOLIC)
def test_symbolic_prose_stops_between_words(case, columns, monkeypatch, capsys):
    """--symbolic's model lines and its vanishing argument (prose, indented 2; its displayed
    formulas, indented 4, wrap at operators by their own rule, after ·)."""
    lines = render(SYMBOLIC[case], columns, monkeypatch, capsys).splitlines()
    header = lines[1:lines.index("")]
    argument = lines[next(i for i, line in enumerate(lines) if line.startswith("Why long-range")) + 1:]
    prose = header + [line for line in argument if line.startswith("  ") and not line.startswith("    ")]
    assert [line for line in prose if line.rstrip().endswith(BAD_ENDINGS)] == []
    text = "\n".join(prose)
    for formula in ("(1 − h_j²)·|W| > 1", "∂E_t/∂ŷ_t = ŷ_t − y_t", "k = max(1, t − 1)..t", "(1 − h_(j,i)²) ≤ 1",
                    "∂E_t/∂z_t = ŷ_t − y_t"):
        if formula.replace(" ", "") in text.replace(" ", "").replace("\n", ""):  # the run says it
            assert any(formula in line for line in prose), (columns, formula)
