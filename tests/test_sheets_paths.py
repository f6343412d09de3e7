"""A sheet reads and writes only inside its own folder (after ``..`` and symbolic links).

Sheets are data a teacher receives from others: ``file: ../../private/grades.csv`` must not
be read (its rows would appear in ``result``), ``../../../../etc/passwd`` must not leak into
an error message, ``plot: ../../x.png`` or an absolute ``plot`` must not write outside.
Each is exit 2 naming the problem and the key, unless ``--allow-outside``.

``PATH_ESCAPES`` is the hypothesis strategy of escaping paths (``..`` chains, absolute
paths, symbolic links leading out) for the fuzz suite; ``DLV_FUZZ_EXAMPLES`` and
``DLV_FUZZ_RANDOM`` set its size and randomness as in ``tests/test_hardening_commands.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlvcli.cli import run
from tests.conftest import SAMPLES

SECRET = "s3cr3t-marker"  # in every file outside the sheet's folder: it must never be printed
PRIVATE_CSV = f"tp,score,class\n1,0.9,{SECRET}\n0,0.8,{SECRET}\n"  # read, the class name would be shown
COURSE = (SAMPLES / "interp_ap_course.csv").read_text(encoding="utf-8")


def _tree(root: Path) -> Path:
    """root/private/grades.csv (outside) and root/course/sheets/ (the sheet's folder) with a good CSV,
    a symlink leading out and a folder holding such a link. Returns the sheet's folder."""
    (root / "private").mkdir()
    (root / "private" / "grades.csv").write_text(PRIVATE_CSV, encoding="utf-8")
    (root / "private" / "gt.csv").write_text(f"image,x1,y1,x2,y2\n{SECRET},0,0,1,1\n", encoding="utf-8")
    folder = root / "course" / "sheets"
    folder.mkdir(parents=True)
    (folder / "course.csv").write_text(COURSE, encoding="utf-8")
    (folder / "link.csv").symlink_to(root / "private" / "grades.csv")
    (folder / "link.png").symlink_to(root / "private" / "out.png")  # dangling, leading out: a plot must not follow it
    (folder / "dets").mkdir()
    (folder / "dets" / "img1.txt").symlink_to(root / "private" / "grades.csv")
    (folder / "data").mkdir()
    (folder / "data" / "in.csv").write_text(COURSE, encoding="utf-8")
    return folder


def _problem(key: str, value: str) -> str:
    """An interp-ap problem whose ``key`` is ``value`` (the rest valid)."""
    lines = ["- id: q1", "  command: interp-ap"]
    if key == "file":
        lines += [f"  file: {value!r}", "  num-gt: 5"]
    elif key == "gt":
        lines += ["  file: course.csv", f"  gt: {value!r}"]
    else:
        lines += ["  file: course.csv", "  num-gt: 5", f"  {key}: {value!r}"]
    return "\n".join(lines) + "\n"


def _files_outside(root: Path, folder: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file() and not p.resolve().is_relative_to(folder.resolve())}


def _run(*args) -> tuple[int, str, str]:
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    "key, value",
    [
        ("file", "../../private/grades.csv"),
        ("file", "../../../../../../../../etc/passwd"),
        ("file", "/etc/passwd"),
        ("file", "link.csv"),  # a symbolic link leading out
        ("file", "data/../../../private/grades.csv"),
        ("gt", "../../private/gt.csv"),
        ("plot", "../../x.png"),
        ("plot", "/tmp/dlv-outside-plot.png"),
    ],
)
def test_paths_leaving_the_sheets_folder_are_refused(tmp_path, key, value):
    folder = _tree(tmp_path)
    before = _files_outside(tmp_path, folder)
    sheet = folder / "sheet.yaml"
    sheet.write_text(_problem(key, value), encoding="utf-8")
    code, out, err = _run("solve", sheet, "--json")
    assert code == 2
    assert err.startswith("error: problem 'q1': ") and f"key {key!r}" in err and "outside the sheet's folder" in err
    assert SECRET not in out + err and "root:" not in out + err  # nothing of the file is shown
    assert _files_outside(tmp_path, folder) == before and not Path("/tmp/dlv-outside-plot.png").exists()


def test_a_folder_of_text_files_with_a_link_leading_out_is_refused(tmp_path):
    folder = _tree(tmp_path)
    sheet = folder / "sheet.yaml"
    sheet.write_text("- id: q1\n  command: interp-ap\n  file: dets\n  gt: dets\n", encoding="utf-8")
    code, out, err = _run("solve", sheet)
    assert code == 2 and "'img1.txt' in 'dets' links outside" in err and SECRET not in out + err


def test_allow_outside_lifts_the_confinement(tmp_path):
    folder = _tree(tmp_path)
    sheet = folder / "sheet.yaml"
    sheet.write_text(_problem("file", "../../private/grades.csv").replace("num-gt: 5", "num-gt: 1"), encoding="utf-8")
    code, out, err = _run("solve", sheet, "--allow-outside", "--json")
    assert code == 0, err
    assert SECRET in out  # what confinement keeps out of sight


def test_paths_inside_are_fine_and_plot_is_relative_to_the_sheet(tmp_path, monkeypatch):
    folder = _tree(tmp_path)
    monkeypatch.chdir(tmp_path)  # not the sheet's folder
    sheet = folder / "sheet.yaml"
    sheet.write_text(_problem("plot", "data/../pr.png").replace("course.csv", "data/../data/in.csv"), encoding="utf-8")
    code, out, err = _run("solve", sheet)
    assert code == 0, err
    assert (folder / "pr.png").is_file() and not (tmp_path / "pr.png").exists()


def test_sheet_from_stdin_has_the_current_folder(tmp_path):
    """Through the installed program: a sheet on stdin may use the current folder, nothing above."""
    folder = _tree(tmp_path)
    good = _problem("file", "course.csv")
    bad = _problem("file", "../../private/grades.csv")
    dlv = [sys.executable, "-m", "dlvcli"]
    ok = subprocess.run([*dlv, "solve", "-"], input=good, capture_output=True, text=True, cwd=folder)
    assert ok.returncode == 0, ok.stderr
    refused = subprocess.run([*dlv, "solve", "-"], input=bad, capture_output=True, text=True, cwd=folder)
    assert refused.returncode == 2 and "error: problem 'q1': <stdin>, line 3: key 'file'" in refused.stderr
    assert SECRET not in refused.stdout + refused.stderr


# ------------------------------------------------------------------ fuzz: generated escapes

EXAMPLES = int(os.environ.get("DLV_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=max(EXAMPLES // 3, 5),
    deadline=None,
    derandomize=not os.environ.get("DLV_FUZZ_RANDOM"),
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

INSIDE = st.sampled_from(["", "data/", "data/../", "./", "dets/../data/"])
TARGETS = st.sampled_from(["private/grades.csv", "private/gt.csv", "private/new.png", "etc/passwd", "x.png"])


@st.composite
def path_escapes(draw) -> str:
    """A path from the sheet's folder (root/course/sheets) that leads outside it."""
    kind = draw(st.sampled_from(["dotdot", "absolute", "symlink", "dotdot-deep"]))
    if kind == "dotdot":  # exactly up to root/ from wherever the prefix leads
        prefix = draw(INSIDE)
        depth = len([p for p in os.path.normpath(prefix or ".").split("/") if p not in ("", ".")])
        return prefix + "../" * (depth + 2) + draw(TARGETS)
    if kind == "dotdot-deep":
        return draw(INSIDE) + "../" * draw(st.integers(3, 12)) + draw(TARGETS)
    if kind == "absolute":
        return draw(st.sampled_from(["/etc/passwd", "/etc/hostname", "/tmp/dlv-fuzz-outside.png", "{root}/private/grades.csv"]))
    # the links live in the sheet's folder itself: reach it by a prefix that leads back there
    top = draw(st.sampled_from(["", "./", "data/../", "dets/../"]))
    return top + draw(st.sampled_from(["link.csv", "linkdir/grades.csv", "linkdir/../sheets/link.csv"]))


PATH_ESCAPES = path_escapes()


@FUZZ
@given(key=st.sampled_from(["file", "gt", "plot"]), value=PATH_ESCAPES, fmt=st.sampled_from([[], ["--json"], ["--format", "markdown"]]))
def test_generated_escapes_are_refused(key, value, fmt):
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        folder = _tree(root)
        (folder / "linkdir").symlink_to(root / "private", target_is_directory=True)
        value = value.replace("{root}", str(root))
        if key == "plot" and not value.endswith(".png"):
            value = value.replace("link.csv", "link.png").replace("grades.csv", "new.png")
            value += "" if value.endswith(".png") else ".png"
        before = _files_outside(root, folder)
        sheet = folder / "sheet.yaml"
        sheet.write_text(_problem(key, value), encoding="utf-8")
        code, out, err = _run("solve", sheet, *fmt)
        assert code == 2, (value, err)
        assert err.startswith("error: problem 'q1': ") and f"key {key!r}" in err
        assert SECRET not in out + err and "root:x" not in out + err
        assert _files_outside(root, folder) == before
        assert not Path("/tmp/dlv-fuzz-outside.png").exists()
