"""``dlv bptt --symbolic --format markdown``: every math segment renders with KaTeX.

KaTeX is found and run as in tests/test_worked_solution.py (``DLV_KATEX_DIR``: a folder
whose node_modules holds katex); the test is skipped when node or KaTeX is absent.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from test_worked_solution import katex_dir, katex_failures, math_segments

SAMPLES = Path(__file__).resolve().parent.parent / "sample_inputs"


@pytest.mark.parametrize("args", [
    ["--T", 3],
    ["-c", SAMPLES / "bptt_course.yaml"],
    ["--T", 4, "--bias", "--truncate", 2, "--loss", "softmax-ce"],
    ["--T", 3, "--hidden", 2, "--bias"],
    ["-c", SAMPLES / "bptt_vector_softmax.yaml"],
    ["--T", 3, "--t", 2],
])
def test_markdown_renders_with_katex(dlv, args):
    if katex_dir() is None:
        pytest.skip("node or katex not found (npm install katex into a folder named by DLV_KATEX_DIR)")
    out = dlv("bptt", "--symbolic", *args, "--format", "markdown")
    assert out.code == 0, out.stderr
    segments = math_segments(out.stdout)
    assert any(display and "\\begin{aligned}" in tex for tex, display in segments)
    # no $ left unpaired outside the segments found
    rest = re.sub(r"\$\$(.+?)\$\$", "", re.sub(r"`[^`]*`", "", out.stdout), flags=re.S)
    assert "$" not in re.sub(r"\$([^$]+?)\$", "", rest), "an unpaired $"
    assert katex_failures(segments) == []


def test_one_aligned_block_per_step(dlv):
    out = dlv("bptt", "--symbolic", "--T", 4, "--format", "markdown")
    for t in range(1, 5):
        section = out.stdout.split(f"$t = {t}$")[1].split("###")[0]
        assert section.count("\\begin{aligned}") == 1
