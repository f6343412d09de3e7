"""``dlv bptt --symbolic --format markdown``: every math segment renders with KaTeX.

KaTeX is found through ``DLV_KATEX`` (the folder of the ``katex`` npm package) or at
``/tmp/katex/node_modules/katex`` (``cd /tmp/katex && npm install katex``); the test is
skipped when node or KaTeX is absent.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parent.parent / "sample_inputs"
KATEX_PLACES = [os.environ.get("DLV_KATEX", ""), "/tmp/katex/node_modules/katex"]

RENDER = r"""
const katex = require(process.argv[1]);
const segments = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const failures = [];
for (const [tex, display] of segments) {
  try { katex.renderToString(tex, {displayMode: display, throwOnError: true, strict: 'error'}); }
  catch (e) { failures.push([tex.slice(0, 200), String(e.message).slice(0, 300)]); }
}
console.log(JSON.stringify(failures));
"""


def katex_path() -> str:
    node = shutil.which("node")
    found = next((p for p in KATEX_PLACES if p and (Path(p) / "package.json").exists()), None)
    if not node or not found:
        pytest.skip("node or KaTeX not found (set DLV_KATEX to the katex package folder)")
    return found


def math_segments(markdown: str) -> list[tuple[str, bool]]:
    """($$…$$ display blocks, then $…$ inline pieces) outside code spans."""
    text = re.sub(r"`[^`]*`", "", markdown)
    segments = [(m.group(1), True) for m in re.finditer(r"\$\$(.+?)\$\$", text, flags=re.S)]
    rest = re.sub(r"\$\$(.+?)\$\$", "", text, flags=re.S)
    segments += [(m.group(1), False) for m in re.finditer(r"\$([^$]+?)\$", rest)]
    assert "$" not in re.sub(r"\$([^$]+?)\$", "", rest), "an unpaired $"
    return segments


@pytest.mark.parametrize("args", [
    ["--T", 3],
    ["-c", SAMPLES / "bptt_course.yaml"],
    ["--T", 4, "--bias", "--truncate", 2, "--loss", "softmax-ce"],
    ["--T", 3, "--hidden", 2, "--bias"],
    ["-c", SAMPLES / "bptt_vector_softmax.yaml"],
    ["--T", 3, "--t", 2],
])
def test_markdown_renders_with_katex(dlv, args):
    katex = katex_path()
    out = dlv("bptt", "--symbolic", *args, "--format", "markdown")
    assert out.code == 0, out.stderr
    segments = math_segments(out.stdout)
    assert any(display and "\\begin{aligned}" in tex for tex, display in segments)
    done = subprocess.run(["node", "-e", RENDER, katex], input=json.dumps(segments), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_one_aligned_block_per_step(dlv):
    out = dlv("bptt", "--symbolic", "--T", 4, "--format", "markdown")
    for t in range(1, 5):
        section = out.stdout.split(f"$t = {t}$")[1].split("###")[0]
        assert section.count("\\begin{aligned}") == 1
