"""Hostile input, second round (issue 12): YAML that is not JSON, markup-like user text,
bounded --iou ranges, files written with the right mode and never over an input,
signals, closed and full standard output, and no matplotlib noise on success.

Through the real entry point (``dlvcli.cli.run``), and through the installed ``dlv``
for what needs a process (signals, a closed stdout, HOME).  Properties, for every
generated input: exit 0 or 2, never 1, no traceback, an ``error:`` line with 2.

DLV_FUZZ_EXAMPLES=600 DLV_FUZZ_RANDOM=1 pytest tests/test_hardening*.py: a longer hunt.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlvcli.cli import run

EXAMPLES = int(os.environ.get("DLV_FUZZ_EXAMPLES", "30"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("DLV_FUZZ_RANDOM"),
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
DLV = Path(sys.executable).with_name("dlv")
REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_inputs"


def check(capsys, argv, codes=(0, 2), within=10.0):
    start = time.monotonic()
    code = run([str(a) for a in argv])
    elapsed = time.monotonic() - start
    out, err = capsys.readouterr()
    assert code in codes, (argv, code, err)
    assert "Traceback" not in err and "internal error" not in err, (argv, err)
    assert elapsed < within, (argv, elapsed)
    if code == 2:
        assert err.startswith("error:"), (argv, err)
    return code, out, err


def installed_dlv(*args, **kwargs) -> subprocess.CompletedProcess:
    if not DLV.exists():
        pytest.skip("dlv is not installed next to this Python")
    return subprocess.run([str(DLV), *map(str, args)], capture_output=True, timeout=60, **kwargs)


# --------------------------------------------------------------------------- YAML that is not JSON

RANKED = "tp,score\n1,0.9\n0,0.8\n1,0.7\n"

BILLION_LAUGHS = textwrap.dedent(
    """\
    gamma: &a9
      - &a8 [&a7 [&a6 [&a5 [&a4 [&a3 [&a2 [&a1 [&a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol], *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0], *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1], *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2], *a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3], *a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4], *a5, *a5, *a5, *a5, *a5, *a5, *a5, *a5], *a6, *a6, *a6, *a6, *a6, *a6, *a6, *a6], *a7, *a7, *a7, *a7, *a7, *a7, *a7, *a7]
    """
)


@pytest.mark.parametrize(
    "command, text, key, line, words",
    [
        ("interp-ap", "num-gt: 2001-12-14\n", "num-gt", 1, "date"),
        ("interp-ap", "method: 11point\nnum-gt: 2001-12-14t21:59:43.10-05:00\n", "num-gt", 2, "date"),
        ("focal", "p: 0.9\ngamma: !!set {a, b}\n", "gamma", 2, "set"),
        ("focal", "p: 0.9\ngamma: [1, !!binary aGVsbG8=]\n", "gamma", 2, "binary"),
        ("focal", "gamma: !!omap [{a: 1}]\n", "gamma", 1, "ordered map"),
        ("focal", "gamma: !!python/tuple [1, 2]\n", "gamma", 1, "python/tuple"),
        ("focal", "gamma: !mine 3\n", "gamma", 1, "!mine"),
        ("focal", "p: 0.9\ngamma: &a [1, *a]\n", "gamma", 2, "contains itself"),
        ("focal", "p: 0.9\n" + BILLION_LAUGHS, "gamma", 3, "aliases"),  # line 3: where the aliases are
        ("tconv", "k: [[1]]\nx:\n" + "".join(" " * (i + 1) + "-\n" for i in range(150)) + "\n", "x", None, "levels deep"),
        ("interp-ap", "num-gt: 1" + "0" * 5000 + "\n", "num-gt", 1, "digits"),
    ],
)
def test_yaml_that_is_not_json_is_refused_naming_key_and_line(tmp_path, capsys, command, text, key, line, words):
    config = tmp_path / "c.yaml"
    config.write_text(text)
    data = tmp_path / "d.csv"
    data.write_text(RANKED)
    argv = [command, data, "-c", config] if command == "interp-ap" else [command, "-c", config]
    code, _, err = check(capsys, argv, codes=(2,), within=5.0)
    assert f"key {key!r}" in err and words in err, err
    if line is not None:
        assert f"line {line}" in err, err


def test_deep_flow_nesting_is_refused_by_the_parser(tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text("k: [[1]]\nx: " + "[" * 2000 + "1" + "]" * 2000 + "\n")
    code, _, err = check(capsys, ["tconv", "-c", config], codes=(2,))
    assert "c.yaml, line 2" in err


@pytest.mark.parametrize("option", ["--x", "--k"])
def test_deep_lists_on_the_command_line(capsys, option):
    deep = "[" * 2000 + "1" + "]" * 2000
    argv = ["tconv", "--x", "[[1,2],[3,4]]", "--k", "[[1]]"]
    argv[argv.index(option) + 1] = deep
    code, _, err = check(capsys, argv, codes=(2,))
    assert option in err and "levels deep" in err


def test_yaml_literals_on_the_command_line_are_checked_too(capsys):
    code, _, err = check(capsys, ["tconv", "--x", "[[1, 2001-01-01]]", "--k", "[[1]]"], codes=(2,))
    assert "--x" in err and "date" in err
    # an alias that copies a row is still a plain value: 2×2 input, 1×1 kernel of 2 → x·2
    code, out, _ = check(capsys, ["tconv", "--x", "[&r [1, 2], *r]", "--k", "[[2]]", "--json"], codes=(0,))
    assert json.loads(out)["output"] == [[2.0, 4.0], [2.0, 4.0]]


SCALARS = st.sampled_from(
    ["1", "0.5", "-3", "2001-12-14", "2001-12-14 21:59:43.10 -5", "!!binary aGVsbG8=", "!!str 3", "!!float 1",
     "!!int '7'", "!custom x", "!!python/none ''", "~", "null", ".nan", ".inf", "yes", "'quoted'", "[]", "{}",
     "!!timestamp 2001-01-01", "1_000", "0x1f", "0o17", "!!set {a}", "!!omap [{a: 1}]", "!!pairs [{a: 1}]"]
)  # fmt: skip


@st.composite
def yaml_values(draw, depth=0):
    kind = draw(st.sampled_from(["scalar", "scalar", "flow", "block", "anchor"] if depth < 4 else ["scalar"]))
    if kind == "scalar":
        return draw(SCALARS)
    if kind == "flow":
        return "[" + ", ".join(draw(st.lists(yaml_values(depth + 1), max_size=3))) + "]"
    if kind == "block":
        items = draw(st.lists(yaml_values(depth + 1), min_size=1, max_size=3))
        return "\n" + "\n".join(" " * (2 * depth + 2) + "- " + item.replace("\n", "\n" + " " * (2 * depth + 4)) for item in items)
    inner = draw(yaml_values(depth + 1))
    return f"&a{depth} {inner}" if not inner.startswith("\n") else inner


@FUZZ
@given(
    command=st.sampled_from(["focal", "tconv", "box-compare", "bptt", "interp-ap"]),
    entries=st.lists(
        st.tuples(st.sampled_from(["gamma", "p", "x", "k", "a", "b", "num-gt", "W", "U", "iou", "digits", "stride"]), yaml_values()),
        min_size=1,
        max_size=3,
        unique_by=lambda e: e[0],
    ),
    alias=st.booleans(),
    deep=st.sampled_from([0, 0, 0, 50, 101, 1200]),
)
def test_yaml_types_tags_aliases_and_depth(tmp_path, capsys, command, entries, alias, deep):
    lines = [f"{key}: {value}" for key, value in entries]
    if alias and any("&a" in v for _, v in entries):
        anchor = next(v for _, v in entries if "&a" in v).split("&a", 1)[1].split()[0]
        lines.append(f"extra: [*a{anchor}, *a{anchor}]")
    if deep:
        lines.append("x: " + "[" * deep + "1" + "]" * deep)
    config = Path(tmp_path) / "c.yaml"
    config.write_text("\n".join(lines) + "\n")
    check(capsys, [command, "-c", config, "--json"])


# --------------------------------------------------------------------------- markup-like user text

MARKUP = st.sampled_from(
    ["[/]", "[bold red]x", "[link=http://x]y[/link]", "[[x]]", "\\[b]", "[/bold]", "x[", "]x", ":smile:", "[red]",
     "a|b", "*x*", "`x`", "$x$", "<b>x</b>", "[b]猫[/b]", "[", "]", "[#ff0000]c", "% s", "{0}", "\\"]
)  # fmt: skip


@FUZZ
@given(names=st.lists(MARKUP, min_size=1, max_size=3, unique=True), fmt=st.sampled_from(["text", "markdown"]))
def test_markup_like_class_names_print_literally(tmp_path, capsys, names, fmt):
    table = Path(tmp_path) / "d.csv"
    quoted = [name.replace('"', '""') for name in names]
    table.write_text("tp,score,class\n" + "".join(f'1,0.{9 - i},"{q}"\n0,0.{8 - i},"{q}"\n' for i, q in enumerate(quoted)))
    counts = [f"--num-gt={name}=2" for name in names]
    code, out, _ = check(capsys, ["interp-ap", table, *counts, "--format", fmt, "--summary"], codes=(0,))
    for name in names:  # (in a Markdown table cell `|` is escaped; in a heading it is not)
        assert name in out or (fmt == "markdown" and name.replace("|", "\\|") in out), (name, out[:600])


@FUZZ
@given(image=MARKUP, category=MARKUP)
def test_markup_like_image_and_category_names(tmp_path, capsys, image, category):
    folder = Path(tmp_path)
    q_image, q_cat = image.replace('"', '""'), category.replace('"', '""')
    (folder / "d.csv").write_text(f'image,class,score,x1,y1,x2,y2\n"{q_image}","{q_cat}",0.9,0,0,10,10\n')
    (folder / "g.csv").write_text(f'image,class,x1,y1,x2,y2\n"{q_image}","{q_cat}",0,0,10,10\n')
    code, out, _ = check(capsys, ["interp-ap", folder / "d.csv", "--gt", folder / "g.csv"], codes=(0,))
    assert category in out and image in out
    instances = {
        "images": [{"id": 1, "width": 100, "height": 100}],
        "categories": [{"id": 1, "name": category}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "area": 100, "iscrowd": 0}],
    }
    (folder / "gt.json").write_text(json.dumps(instances))
    (folder / "res.json").write_text(json.dumps([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.9}]))
    code, out, _ = check(capsys, ["interp-ap", folder / "res.json", "--gt", folder / "gt.json"], codes=(0,))
    assert category in out


# --------------------------------------------------------------------------- --iou and --num-gt bounds


@pytest.mark.parametrize(
    "iou, words",
    [
        ("0.5:0.95:1e-320", "at most 1,000"),
        ("0.5:0.95:1e-300", "at most 1,000"),
        ("0.5:0.95:0.000001", "450,001 thresholds"),
        ("0.1:1:0.0009", "1,001 thresholds"),
        ("", "empty"),
        ("  ", "empty"),
    ],
)
@pytest.mark.parametrize("mode", ["boxes", "coco"])
def test_iou_ranges_are_bounded(capsys, iou, words, mode):
    if mode == "boxes":
        argv = ["interp-ap", SAMPLES / "interp_ap_boxes_detections.csv", "--gt", SAMPLES / "interp_ap_boxes_gt.csv"]
    else:
        argv = ["interp-ap", SAMPLES / "coco_results.json", "--gt", SAMPLES / "coco_instances.json"]
    code, _, err = check(capsys, [*argv, "--iou", iou, "--json"], codes=(2,), within=5.0)
    assert "--iou" in err and words in err, err


def test_a_thousand_thresholds_are_allowed(capsys):
    # 0.001:1:0.001 is exactly 1000 thresholds (the limit); mode B evaluates each
    argv = ["interp-ap", SAMPLES / "interp_ap_boxes_detections.csv", "--gt", SAMPLES / "interp_ap_boxes_gt.csv"]
    code, out, _ = check(capsys, [*argv, "--iou", "0.001:1:0.001", "--json", "--summary"], codes=(0,))
    assert len(json.loads(out)["inputs"]["iou_thresholds"]) == 1000


@pytest.mark.parametrize("value", ["9223372036854775808", "cat=9223372036854775808", "9007199254740993"])
def test_num_gt_beyond_two_to_the_53_is_refused(tmp_path, capsys, value):
    table = tmp_path / "d.csv"
    table.write_text("tp,class\n1,cat\n" if "=" in value else RANKED)
    code, _, err = check(capsys, ["interp-ap", table, "--num-gt", value], codes=(2,))
    assert "--num-gt" in err and "too large" in err


def test_csv_header_check_names_a_late_duplicate(tmp_path, capsys):
    table = tmp_path / "wide.csv"
    names = ["tp", "score"] + [f"c{i}" for i in range(20_000)] + ["tp"]
    table.write_text(",".join(names) + "\n" + ",".join("1" for _ in names) + "\n")
    code, _, err = check(capsys, ["interp-ap", table, "--num-gt", "1"], codes=(2,))
    assert "duplicate column 'tp' (position 20003)" in err
    table.write_text(",".join(f"c{i}" for i in range(20_000)) + "\n" + ",".join("1" for _ in range(20_000)) + "\n")
    code, _, err = check(capsys, ["interp-ap", table, "--num-gt", "1"], codes=(2,))
    assert "missing column 'tp'" in err and "and 19,980 more" in err and len(err) < 1000


# --------------------------------------------------------------------------- files written


def _ranked(tmp_path: Path) -> Path:
    table = tmp_path / "d.csv"
    table.write_text(RANKED)
    return table


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_plot_honours_the_umask(tmp_path, capsys, umask, mode):
    previous = os.umask(umask)
    try:
        check(capsys, ["interp-ap", _ranked(tmp_path), "--num-gt", "3", "--plot", tmp_path / "p.png"], codes=(0,))
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "p.png").stat().st_mode) == mode


def test_a_replaced_file_keeps_its_mode(tmp_path, capsys):
    plot = tmp_path / "p.png"
    plot.write_bytes(b"old")
    plot.chmod(0o640)
    check(capsys, ["interp-ap", _ranked(tmp_path), "--num-gt", "3", "--plot", plot], codes=(0,))
    assert plot.read_bytes()[:4] == b"\x89PNG" and stat.S_IMODE(plot.stat().st_mode) == 0o640


@pytest.mark.parametrize("where", ["missing/p.png", "d.csv/p.png", "/proc/dlv-cannot-write-here.png"])
def test_plot_where_nothing_can_be_written_is_refused_before_computing(tmp_path, capsys, monkeypatch, where):
    import dlvcli.core.ap

    def must_not_run(*args, **kwargs):
        raise AssertionError("computed before checking --plot")

    monkeypatch.setattr(dlvcli.core.ap, "interp_ap_ranked", must_not_run)
    table = _ranked(tmp_path)
    plot = where if where.startswith("/") else tmp_path / where
    code, _, err = check(capsys, ["interp-ap", table, "--num-gt", "3", "--plot", plot], codes=(2,))
    assert str(plot) in err


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root writes into a read-only folder")
def test_plot_into_a_read_only_folder(tmp_path, capsys):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        code, _, err = check(capsys, ["interp-ap", _ranked(tmp_path), "--num-gt", "3", "--plot", folder / "p.png"], codes=(2,))
    finally:
        folder.chmod(0o755)
    assert "cannot write" in err


def test_plot_never_replaces_a_file_inside_an_input_folder(tmp_path, capsys):
    dets, gts = tmp_path / "dets", tmp_path / "gts"
    dets.mkdir(), gts.mkdir()
    (dets / "img1.txt").write_text("cat 0.9 0 0 10 10\n")
    (dets / "img1.png").write_text("cat 0.8 0 0 9 9\n")  # an input file that happens to end in .png
    (gts / "img1.txt").write_text("cat 0 0 10 10\n")
    (gts / "img1.png").write_text("cat 0 0 9 9\n")
    for target in (dets / "img1.png", gts / "img1.png"):
        before = target.read_bytes()
        code, _, err = check(capsys, ["interp-ap", dets, "--gt", gts, "--plot", target], codes=(2,))
        assert "input file" in err and target.read_bytes() == before


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_during_a_write_leave_no_temporary_file(tmp_path, signum):
    script = textwrap.dedent(
        f"""
        import sys, time
        from dlvcli.render.files import write_atomic
        def slow(tmp):
            open(tmp, "w").write("half")
            print("writing", flush=True)
            time.sleep(30)
        write_atomic({str(tmp_path / 'out.txt')!r}, slow)
        """
    )
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout.readline().strip() == b"writing"
    process.send_signal(signum)
    _, err = process.communicate(timeout=30)
    assert process.returncode == -signum, err  # ended by the signal, as without dlv's handler
    assert list(tmp_path.iterdir()) == [], list(tmp_path.iterdir())


# --------------------------------------------------------------------------- signals and streams


@pytest.mark.parametrize("delay", [0.02, 0.05, 0.15, 0.4])
def test_ctrl_c_at_any_time_is_130_without_a_traceback(delay):
    """SIGINT at ``delay`` seconds after dlv's own code starts (its imports, then reading stdin).

    Python's start-up before that (the site module) is not dlv's: the clock starts when
    ``-X importtime`` reports that ``dlvcli.cli`` is imported, so a loaded machine cannot
    move the signal into the interpreter's start-up.
    """
    if not DLV.exists():
        pytest.skip("dlv is not installed next to this Python")
    env = dict(os.environ, PYTHONPROFILEIMPORTTIME="1")
    # stdin stays open, so the command is still running (importing, then reading) when SIGINT comes
    process = subprocess.Popen([str(DLV), "interp-ap", "-", "--num-gt", "3"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)  # fmt: skip
    for line in process.stderr:
        if line.rstrip().endswith(b"| dlvcli.cli"):
            break
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    messages = [line for line in err.decode().splitlines() if not line.startswith("import time:")]
    assert process.returncode == 130, (delay, process.returncode, messages)
    assert messages == ["error: interrupted"], messages


@pytest.mark.parametrize("argv", [["--help"], ["interp-ap", "--help"], ["focal", "--p", "0.9"], ["focal", "--p", "0.9", "--json"]])
def test_a_full_standard_output_is_an_error(argv):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    if not DLV.exists():
        pytest.skip("dlv is not installed next to this Python")
    with open("/dev/full", "w") as full:
        done = subprocess.run([str(DLV), *argv], stdout=full, stderr=subprocess.PIPE, timeout=60)
    assert done.returncode == 2 and done.stderr.decode() == "error: cannot write to standard output: No space left on device\n"


@pytest.mark.parametrize("argv", [["--help"], ["focal", "--p", "0.9"]])
def test_a_closed_standard_output_is_an_error(argv):
    if not DLV.exists():
        pytest.skip("dlv is not installed next to this Python")
    done = subprocess.run(["sh", "-c", '"$0" "$@" >&-', str(DLV), *argv], capture_output=True, timeout=60)
    assert done.returncode == 2 and done.stderr.decode().startswith("error: cannot write to standard output"), done.stderr


# --------------------------------------------------------------------------- quiet on success


def test_a_degenerate_plot_prints_no_matplotlib_warning(tmp_path, capsys):
    code, _, err = check(capsys, ["box-compare", "--a", "0,0,2,2", "--same-l2", "1", "--n", "50", "--plot", tmp_path / "x.png"], codes=(0,))
    assert err == ""


def test_an_unwritable_home_gives_no_cache_warnings(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")}
    env["HOME"] = "/proc/dlv-no-such-home"
    done = installed_dlv("focal", "--p", "0.9", "--plot", tmp_path / "f.png", env=env)
    assert done.returncode == 0 and done.stderr == b"", done.stderr
    assert (tmp_path / "f.png").stat().st_size > 0
