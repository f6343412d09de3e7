"""The worked solution on the page (docs/conventions.md, "Shown numbers and widths").

For every sample in sample_inputs/ (and a batch of generated problems of each command):
every printed chain ``A = B = C`` computes within the rounding of its shown digits, no
non-zero number is rounded below 3 significant digits, nothing is cut (``…``) at 60, 80
or 120 columns, the text at 80 and 120 columns equals its golden file, Markdown carries
every number the text shows, and every Markdown math segment renders with KaTeX.

Golden files: ``DLV_UPDATE_GOLDEN=1 pytest tests/test_worked_solution.py`` rewrites them
(then read the diff as a student would).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dlvcli.cli import run

from worked_lines import chain_errors, shown_number_errors

REPO = Path(__file__).resolve().parent.parent
S = "sample_inputs/"
GOLDEN = REPO / "tests" / "golden"

# (id, argv): every sample as the docs show it, and the variants a student reaches for
CASES = [
    ("interp_ap_course_csv", ["interp-ap", S + "interp_ap_course.csv", "--num-gt", "5"]),
    ("interp_ap_course_exact", ["interp-ap", S + "interp_ap_course.csv", "--num-gt", "5", "--exact"]),
    ("interp_ap_course_allpoint", ["interp-ap", S + "interp_ap_course.csv", "--num-gt", "5", "--method", "allpoint"]),
    ("interp_ap_course_101", ["interp-ap", S + "interp_ap_course.csv", "--num-gt", "5", "--method", "101point", "--summary"]),
    ("interp_ap_course_compare", ["interp-ap", S + "interp_ap_course.csv", "--num-gt", "5", "--compare"]),
    ("interp_ap_course_yaml", ["interp-ap", "-c", S + "interp_ap_course.yaml"]),
    ("interp_ap_boxes", ["interp-ap", "-c", S + "interp_ap_boxes.yaml"]),
    ("interp_ap_coco", ["interp-ap", "-c", S + "interp_ap_coco.yaml"]),
    ("bptt_course", ["bptt", "-c", S + "bptt_course.yaml"]),
    ("bptt_vector_softmax", ["bptt", "-c", S + "bptt_vector_softmax.yaml"]),
    ("bptt_course_check", ["bptt", "-c", S + "bptt_course.yaml", "--check"]),
    ("bptt_symbolic_T3", ["bptt", "--symbolic", "--T", "3"]),
    ("bptt_symbolic_course", ["bptt", "--symbolic", "-c", S + "bptt_course.yaml"]),
    ("bptt_compare_cells", ["bptt", "--compare-cells", "--hidden", "4", "--T", "8", "--seed", "0"]),
    ("bptt_lstm", ["bptt", "--cell", "lstm", "--U", "[[0.5],[0.1],[-0.3],[0.2]]", "--W", "[[0.4],[0.2],[0.1],[-0.5]]", "--V", "1.5", "--x", "1,0.5,-1", "--y", "0.2,0.1,0.3"]),
    ("bptt_gru", ["bptt", "--cell", "gru", "--U", "[[0.5],[0.1],[-0.3]]", "--W", "[[0.4],[0.2],[0.1]]", "--V", "1.5", "--x", "1,0.5,-1", "--y", "0.2,0.1,0.3"]),
    # the reviewer's runs: both biases' places, W_k and b_k equal for gate i (0.1), --clip
    ("bptt_lstm_bias_clip", ["bptt", "--cell", "lstm", "--U", "[[0.5],[0.4],[-0.3],[0.2]]", "--W", "[[0.1],[0.2],[0.3],[-0.4]]", "--V", "1.2", "--b", "0.1,0,0.2,-0.1", "--x", "1,0.5", "--y", "0.2,0.1", "--clip", "0.1"]),
    ("bptt_gru_bias_clip", ["bptt", "--cell", "gru", "--U", "[[0.5],[0.1],[-0.3]]", "--W", "[[0.4],[0.2],[0.1]]", "--V", "1.2", "--b", "0.1,0,0.2", "--x", "1,0.5", "--y", "0.2,0.1", "--clip", "0.1"]),
    ("focal_paper", ["focal", "-c", S + "focal_paper.yaml"]),
    ("focal_p09_g2", ["focal", "--p", "0.9", "--gamma", "2"]),
    ("focal_logits", ["focal", "-c", S + "focal_logits.yaml"]),
    ("focal_dataset", ["focal", "-c", S + "focal_dataset.yaml"]),
    ("focal_dataset_csv", ["focal", S + "focal_dataset.csv"]),
    ("focal_softmax", ["focal", "-c", S + "focal_softmax.yaml"]),
    ("box_compare_course", ["box-compare", "-c", S + "box_compare_course.yaml"]),
    ("box_compare_course_exact", ["box-compare", "-c", S + "box_compare_course.yaml", "--exact"]),
    ("box_compare_same_l2", ["box-compare", "-c", S + "box_compare_same_l2.yaml"]),
    ("box_compare_same_l1", ["box-compare", "-c", S + "box_compare_same_l1.yaml"]),
    ("box_compare_pairs", ["box-compare", S + "box_compare_pairs.csv"]),
    ("box_compare_pairs_xywh", ["box-compare", S + "box_compare_pairs_xywh.csv"]),
    ("tconv_course_3x3", ["tconv", "-c", S + "tconv_course_3x3.yaml"]),
    ("tconv_course_3x3_solve", ["tconv", "-c", S + "tconv_course_3x3_solve.yaml"]),
    ("tconv_matrix_2x2", ["tconv", "-c", S + "tconv_matrix_2x2.yaml", "--show-matrix"]),
    ("solve_sheet", ["solve", S + "sheet.yaml"]),
]

# Commands whose layout is still being reworked: their checks are expected to fail until
# the entry is removed.  (Empty when every command follows the rules.)
NOT_YET: set[str] = set()


def _mark(case_id: str, argv: list[str]):
    marks = []
    if argv[0] in NOT_YET:
        marks.append(pytest.mark.xfail(reason=f"{argv[0]}: layout being reworked", strict=False))
    return pytest.param(argv, id=case_id, marks=marks)


PARAMS = [_mark(i, a) for i, a in CASES]
# no golden text: the finite-difference errors it prints (1.04e−11) are in the last bits of
# numpy's tanh, which may differ by a unit between CPUs
NO_GOLDEN = {"bptt_course_check"}
GOLDEN_PARAMS = [_mark(i, a) for i, a in CASES if i not in NO_GOLDEN]


def render(argv: list[str], columns: int, monkeypatch, capsys, fmt: str = "text") -> str:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("COLUMNS", str(columns))
    monkeypatch.delenv("NO_COLOR", raising=False)
    code = run([*argv, "--format", fmt])
    out, err = capsys.readouterr()
    assert code in (0, 3), (argv, code, err)
    return out


@pytest.mark.parametrize("argv", PARAMS)
def test_every_chain_computes_as_printed(argv, monkeypatch, capsys):
    text = render(argv, 200, monkeypatch, capsys)
    assert chain_errors(text) == []
    assert shown_number_errors(text) == []


@pytest.mark.parametrize("argv", PARAMS)
@pytest.mark.parametrize("columns", [60, 80, 120])
def test_nothing_is_cut(argv, columns, monkeypatch, capsys):
    text = render(argv, columns, monkeypatch, capsys)
    assert "…" not in text
    too_wide = [line for line in text.splitlines() if len(line.rstrip()) > columns]
    assert too_wide == []


@pytest.mark.parametrize("argv", GOLDEN_PARAMS)
@pytest.mark.parametrize("columns", [80, 120])
def test_golden_text(argv, columns, monkeypatch, capsys, request):
    case_id = request.node.callspec.id.split("-")[-1]
    text = render(argv, columns, monkeypatch, capsys)
    text = "\n".join(line.rstrip() for line in text.splitlines()) + "\n"
    path = GOLDEN / f"{case_id}.{columns}.txt"
    if os.environ.get("DLV_UPDATE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"no golden file {path.name}: run with DLV_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _numbers_in_text(text: str) -> set[str]:
    return set(NUMBER.findall(text))


def _numbers_in_markdown(md: str) -> set[str]:
    # \tfrac{58}{77} and \frac{a}{b} carry a and b; "10^{-3}" the 3
    return set(NUMBER.findall(md))


@pytest.mark.parametrize("argv", PARAMS)
def test_markdown_carries_every_number_of_the_text(argv, monkeypatch, capsys):
    text = render(argv, 200, monkeypatch, capsys)
    md = render(argv, 200, monkeypatch, capsys, fmt="markdown")
    missing = _numbers_in_text(text) - _numbers_in_markdown(md)
    assert sorted(missing) == []


# ----------------------------------------------------------------------------- KaTeX


def katex_dir() -> Path | None:
    """A folder whose node_modules holds katex: $DLV_KATEX_DIR, or one found by node."""
    if shutil.which("node") is None:
        return None
    for candidate in filter(None, [os.environ.get("DLV_KATEX_DIR"), str(REPO), str(Path.home() / ".cache" / "dlv-katex")]):
        if (Path(candidate) / "node_modules" / "katex").is_dir():
            return Path(candidate)
    return None


def math_segments(md: str) -> list[tuple[str, bool]]:
    """Every $$…$$ (display) and $…$ (inline) segment, outside code spans and blocks."""
    md = re.sub(r"```.*?```", "", md, flags=re.S)
    md = re.sub(r"`[^`\n]*`", "", md)
    out = [(m.group(1), True) for m in re.finditer(r"\$\$(.+?)\$\$", md, flags=re.S)]
    md = re.sub(r"\$\$(.+?)\$\$", "", md, flags=re.S)
    out += [(m.group(1), False) for m in re.finditer(r"(?<![\\$])\$([^$\n]+?)\$", md)]
    return out


KATEX_SCRIPT = r"""
const katex = require('katex');
let data = ''; process.stdin.on('data', c => data += c);
process.stdin.on('end', () => {
  const bad = [];
  for (const [tex, display] of JSON.parse(data)) {
    try { katex.renderToString(tex, {throwOnError: true, displayMode: display, strict: 'error'}); }
    catch (e) { bad.push([tex.slice(0, 200), String(e.message).slice(0, 200)]); }
  }
  process.stdout.write(JSON.stringify(bad));
});
"""


def katex_failures(segments: list[tuple[str, bool]]) -> list:
    import json

    folder = katex_dir()
    if folder is None:
        pytest.skip("node or katex not found (npm install katex into a folder named by DLV_KATEX_DIR)")
    done = subprocess.run(["node", "-e", KATEX_SCRIPT], input=json.dumps(segments), capture_output=True, text=True, cwd=folder, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("argv", PARAMS)
def test_markdown_math_renders_with_katex(argv, monkeypatch, capsys):
    if katex_dir() is None:
        pytest.skip("node or katex not found")
    md = render(argv, 200, monkeypatch, capsys, fmt="markdown")
    segments = math_segments(md)
    assert segments, "no math in the Markdown"
    assert katex_failures(segments) == []


# ----------------------------------------------------------------------------- generated problems

GENERATED = ["bptt", "focal", "box-compare", "tconv", "interp-ap"]
OPTION_KEYS_SKIPPED = {"id", "command", "expect", "tol", "rtol", "student"}


def generated_argvs(command: str, tmp_path: Path, monkeypatch, capsys, count: int = 6):
    monkeypatch.chdir(tmp_path)
    extra = ["--data-dir", str(tmp_path / "data")] if command == "interp-ap" else []
    code = run(["generate", command, "--seed", "11", "--count", str(count), *extra])
    sheet_text, err = capsys.readouterr()
    if code != 0 and extra:
        code = run(["generate", command, "--seed", "11", "--count", str(count)])
        sheet_text, err = capsys.readouterr()
    assert code == 0, err
    sheet = yaml.safe_load(sheet_text)
    problems = sheet["problems"] if isinstance(sheet, dict) else sheet
    for i, problem in enumerate(problems):
        config = {k: v for k, v in problem.items() if k not in OPTION_KEYS_SKIPPED}
        path = tmp_path / f"problem{i}.yaml"
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        yield [command, "-c", str(path)]


@pytest.mark.parametrize(
    "command",
    [pytest.param(c, marks=[pytest.mark.xfail(reason="layout being reworked", strict=False)] if c in NOT_YET else []) for c in GENERATED],
)
def test_generated_problems_compute_as_printed(command, tmp_path, monkeypatch, capsys):
    for argv in list(generated_argvs(command, tmp_path, monkeypatch, capsys)):
        monkeypatch.setenv("COLUMNS", "200")
        code = run([*argv, "--format", "text"])
        text, err = capsys.readouterr()
        assert code == 0, (argv, err)
        assert chain_errors(text) == [], argv
        assert shown_number_errors(text) == [], argv
        assert "…" not in text


# ----------------------------------------------------------------------------- the checker itself


def test_the_checker_fails_on_the_old_focal_line():
    # today's main printed this for `dlv focal --p 0.9 --gamma 2` (FL = 0.0010536 shown as 0.0011)
    old = "    CE / FL            CE / FL = 1 / (α_t (1 − p_t)^γ) = 0.1054 / 0.0011 = 100"
    assert shown_number_errors(old)
    # with FL rounded to 0.0011 the ratio is 95.8, not 100: a chain that states 95.8 would pass
    assert chain_errors("0.1054 / 0.00110 = 95.82") == []
    assert chain_errors("0.1054 / 0.00110 = 100") != []


def test_the_checker_reads_fractions_powers_and_functions():
    assert chain_errors("AP = 58/77 ≈ 0.7532") == []
    assert chain_errors("AP = 58/77 ≈ 0.7632") != []
    assert chain_errors("FL = −1 · (1 − 0.9)² ln 0.9 = 0.001054") == []
    assert chain_errors("FL = −1 · (1 − 0.9)² ln 0.9 = 0.001154") != []
    assert chain_errors("x = max(0.5, 0.25) = 0.5") == []
    assert chain_errors("y = √(3² + 4²) = 5") == []
    assert chain_errors("y = √(3² + 4²) = 6") != []
    assert shown_number_errors("a = −0.0710 − 0.3") == []
    assert shown_number_errors("a = -0.0710 − 0.3") != []
    assert shown_number_errors("z = 0.0000") != []


# ----------------------------------------------------------------------------- minus signs, columns


@pytest.mark.parametrize("argv", PARAMS)
def test_minus_is_one_character_per_medium(argv, monkeypatch, capsys):
    """U+2212 in text, ``-`` inside LaTeX (docs/conventions.md, "Shown numbers and widths")."""
    md = render(argv, 200, monkeypatch, capsys, fmt="markdown")
    in_math = [tex for tex, _ in math_segments(md) if "\u2212" in tex]
    assert in_math == []
    text = render(argv, 200, monkeypatch, capsys)
    # an ASCII hyphen right before a digit, not part of a word, a flag or a range such as 1-2;
    # or the sign of an exponent (4.8e-06)
    ascii_minus = re.findall(r"(?<![\w\-.)])-\d[\d.]*|(?<=\de)-\d+", text)
    assert ascii_minus == []


# a value from 1e−3 up to 1e6 never needs scientific notation: 1.000e0 or 3.162e−1 in a
# table means a column rule forced it (the focal "Across γ" column showed 1.000e0 … 1.000e−5)
NEEDLESS_SCIENTIFIC = re.compile(r"\d\.\d+e(?:\u2212[0-3]|[0-5])\b")


@pytest.mark.parametrize("argv", PARAMS)
def test_no_value_in_scientific_notation_without_need(argv, monkeypatch, capsys):
    text = render(argv, 200, monkeypatch, capsys)
    assert NEEDLESS_SCIENTIFIC.findall(text) == []


def test_compare_cells_names_its_threshold_and_no_zero_rate(monkeypatch, capsys):
    """'stays above the threshold' named no threshold, and a dead ReLU read 'about 0× per step'."""
    text = render(["bptt", "--compare-cells", "--hidden", "4", "--T", "8", "--seed", "0"], 200, monkeypatch, capsys)
    assert "the threshold" not in text and " 0× per step" not in text
    assert "stays above 0.001 within T" in text  # the default threshold, 1e−3 of the nearest term
