"""Bounded time on moderate input (issue 12, Must show 2): the whole `dlv` process, per case.

    python benchmarks/bench_limits.py [--runs 3] [--only NAME]

Generates each input in a temporary folder, runs the installed ``dlv`` on it (stdout to a
file, so the rendering is timed too), and prints one row per case: the median wall time
over --runs runs, the target, whether it is met, and the ratio to ``python -c "import
numpy"`` measured in the same run (the start-up every command pays), so the figures can
be read on a slower machine.  The CPU seconds of each run are shown too: on a machine
shared with other work the wall time is inflated, the CPU time much less.  The exit code of every run must be the one stated (0, or 2
where the input is meant to be refused).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def dlv_command() -> list[str]:
    script = Path(sys.executable).with_name("dlv")
    return [str(script)] if script.exists() else [sys.executable, "-m", "dlvcli"]


def write_ranked(path: Path, rows: int, classes: int = 0) -> None:
    rng = random.Random(1)
    lines = ["tp,score" + (",class" if classes else "")]
    for i in range(rows):
        cls = f",c{i % classes}" if classes else ""
        lines.append(f"{rng.random() < 0.4:d},{rng.random():.6f}{cls}")
    path.write_text("\n".join(lines) + "\n")


def write_boxes(folder: Path, classes: int) -> tuple[Path, Path]:
    """One image per class, one ground-truth box and two detections (one hit, one miss) each."""
    dets, gts = ["image,score,x1,y1,x2,y2,class"], ["image,x1,y1,x2,y2,class"]
    for c in range(classes):
        gts.append(f"im{c},0,0,10,10,c{c}")
        dets.append(f"im{c},0.9,1,1,10,10,c{c}")
        dets.append(f"im{c},0.3,20,20,30,30,c{c}")
    (folder / "dets.csv").write_text("\n".join(dets) + "\n")
    (folder / "gt.csv").write_text("\n".join(gts) + "\n")
    return folder / "dets.csv", folder / "gt.csv"


def cases(folder: Path) -> list[tuple[str, list[str], float, int]]:
    """(name, dlv arguments, target seconds, expected exit code)."""
    million = folder / "million.csv"
    write_ranked(million, 1_000_000)
    ranked_classes = folder / "ranked_classes.csv"
    write_ranked(ranked_classes, 40_000, classes=20_000)
    counts = folder / "num_gt.yaml"
    counts.write_text("num-gt:\n" + "".join(f"  c{c}: 3\n" for c in range(20_000)))
    dets, gts = write_boxes(folder, 20_000)

    rng = random.Random(2)
    tconv = folder / "tconv.yaml"
    tconv.write_text(
        "x: " + json.dumps([[round(rng.uniform(-1, 1), 3) for _ in range(400)] for _ in range(400)]) + "\nk: [[1, 0.5], [0.25, -1]]\nstride: 2\n"
    )
    hidden = 200
    bptt = folder / "bptt.yaml"
    bptt.write_text(
        json.dumps(
            {
                "W": [[round(rng.gauss(0, 0.05), 4) for _ in range(hidden)] for _ in range(hidden)],
                "U": [[round(rng.gauss(0, 0.1), 4)] for _ in range(hidden)],
                "V": [[round(rng.gauss(0, 0.1), 4) for _ in range(hidden)]],
                "x": [round(rng.uniform(-1, 1), 3) for _ in range(50)],
                "y": [round(rng.uniform(-1, 1), 3) for _ in range(50)],
            }
        )
    )
    focal = folder / "focal.csv"
    focal.write_text("target,p\n" + "".join(f"{rng.random() < 0.3:d},{rng.uniform(0.001, 0.999):.4f}\n" for _ in range(200_000)))
    wide = folder / "wide.csv"
    wide.write_text(",".join(f"c{i}" for i in range(100_000)) + "\n" + ",".join("1" for _ in range(100_000)) + "\n")
    wide_dup = folder / "wide_dup.csv"
    wide_dup.write_text(",".join(["tp", "score"] + [f"c{i}" for i in range(99_998)] + ["tp"]) + "\n")
    plot = folder / "boxes.png"
    return [
        ("interp-ap 10^6 rows --json --summary", ["interp-ap", str(million), "--num-gt", "500000", "--json", "--summary"], 5.0, 0),
        ("interp-ap mode A, 20,000 classes --json", ["interp-ap", str(ranked_classes), "-c", str(counts), "--json"], 5.0, 0),
        ("interp-ap mode B, 20,000 classes --json", ["interp-ap", str(dets), "--gt", str(gts), "--json"], 5.0, 0),
        ("interp-ap mode A, 20,000 classes (text)", ["interp-ap", str(ranked_classes), "-c", str(counts)], 5.0, 0),
        ("interp-ap mode B, 20,000 classes (text)", ["interp-ap", str(dets), "--gt", str(gts)], 5.0, 0),
        ("interp-ap mode A, 20,000 classes --summary", ["interp-ap", str(ranked_classes), "-c", str(counts), "--summary"], 5.0, 0),
        ("interp-ap mode B, 20,000 classes Markdown", ["interp-ap", str(dets), "--gt", str(gts), "--format", "markdown"], 5.0, 0),
        ("tconv 400×400 x in a config --json", ["tconv", "-c", str(tconv), "--json"], 2.0, 0),
        ("tconv 400×400 x in a config (text)", ["tconv", "-c", str(tconv)], 2.0, 0),
        ("bptt 200×200 W, T = 50 --json", ["bptt", "-c", str(bptt), "--json"], 5.0, 0),
        ("bptt 200×200 W, T = 50 (text)", ["bptt", "-c", str(bptt)], 5.0, 0),
        ("box-compare --n 1000 --plot", ["box-compare", "--a", "0,0,2,2", "--same-l2", "1", "--n", "1000", "--plot", str(plot)], 5.0, 0),
        ("focal 200,000-row CSV --gamma 2 (text)", ["focal", str(focal), "--gamma", "2"], 3.0, 0),
        ("focal 200,000-row CSV --gamma 2 --json", ["focal", str(focal), "--gamma", "2", "--json"], 3.0, 0),
        ("focal 200,000-row CSV, default γ (refused)", ["focal", str(focal)], 3.0, 2),
        ("100,000-column CSV (interp-ap)", ["interp-ap", str(wide), "--num-gt", "1"], 2.0, 2),
        ("100,000-column CSV, a repeated name", ["interp-ap", str(wide_dup), "--num-gt", "1"], 2.0, 2),
        ("100,000-column CSV (focal)", ["focal", str(wide)], 2.0, 2),
    ]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], out: Path) -> tuple[float, int, str, float]:
    """(wall seconds, exit code, stderr, CPU seconds of the child: the figure a busy machine inflates least)."""
    cpu = _children_cpu()
    start = time.perf_counter()
    with out.open("wb") as sink:
        done = subprocess.run(argv, stdout=sink, stderr=subprocess.PIPE, check=False)
    return time.perf_counter() - start, done.returncode, done.stderr.decode(errors="replace"), _children_cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", help="run only the cases whose name contains this")
    args = parser.parse_args()
    dlv = dlv_command()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        reference = statistics.median(timed([sys.executable, "-c", "import numpy"], folder / "ref.out")[0] for _ in range(args.runs))
        rows, failed = [], False
        for name, argv, target, expected in cases(folder):
            if args.only and args.only not in name:
                continue
            runs = [timed(dlv + argv, folder / "out.txt") for _ in range(args.runs)]
            seconds = statistics.median(t for t, _, _, _ in runs)
            cpu = statistics.median(c for _, _, _, c in runs)
            codes = {code for _, code, _, _ in runs}
            ok = seconds <= target and codes == {expected}
            failed |= not ok
            note = "" if codes == {expected} else f"  exit {sorted(codes)} (want {expected}): {runs[0][2].strip()[:120]}"
            rows.append((name, seconds, cpu, target, ok, seconds / reference, note))
        width = max(len(r[0]) for r in rows)
        print(f"reference: python -c 'import numpy' = {reference:.3f} s (median of {args.runs})")
        print(f"{'case':<{width}}  {'seconds':>8}  {'cpu s':>6}  {'target':>6}  {'ok':<3}  {'× ref':>6}")
        for name, seconds, cpu, target, ok, ratio, note in rows:
            print(f"{name:<{width}}  {seconds:8.2f}  {cpu:6.2f}  {target:6.1f}  {'yes' if ok else 'NO':<3}  {ratio:6.1f}{note}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
