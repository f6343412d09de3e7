"""Paired timing of dlv against hotcoco (and, optionally, another dlv checkout), in rotated order.

On a shared machine single runs of ``bench_ap.py`` move by ±30 %.  This runs the same
commands as ``bench_ap.py`` (dlv's CLI end to end, hotcoco's load/evaluate/accumulate/
summarize) round after round, the order rotated each round, and reports medians of
wall and CPU time and the median of the per-round ratios to hotcoco.

    python benchmarks/bench_ap.py --no-pycocotools --keep /tmp/coco_bench   # makes the files
    python benchmarks/bench_ap_paired.py /tmp/coco_bench --rounds 8
    python benchmarks/bench_ap_paired.py /tmp/coco_bench --before /path/to/other/checkout
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_ap import HOTCOCO  # noqa: E402


def run(argv: list[str], cwd: str, dlv: bool) -> tuple[float, float, int]:
    """Wall s, CPU s (user + system, wait4) and peak RSS MiB of one run."""
    env = dict(os.environ, PYTHONPATH=cwd)
    if dlv:  # as bench_ap.run_child(source_tree=True): bytecode cached, out of the source tree
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "dlv_bench_pycache")
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(argv)} (in {cwd})")
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss >> 10


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", help="folder with instances.json and results.json (bench_ap.py --keep DIR)")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--before", metavar="CHECKOUT", help="another dlv source tree to time beside this one")
    args = parser.parse_args(argv)
    gt, res = str(Path(args.dir) / "instances.json"), str(Path(args.dir) / "results.json")
    python = sys.executable
    dlv = [python, "-m", "dlvcli", "interp-ap", res, "--gt", gt, "--json"]
    tools = {"hotcoco": ([python, "-c", HOTCOCO, gt, res], tempfile.gettempdir(), False)}
    if args.before:
        tools["dlv (before)"] = (dlv, str(Path(args.before).resolve()), True)
    tools["dlv"] = (dlv, str(REPO), True)
    for command in tools.values():
        run(*command)  # warm-up: page cache, bytecode
    names = list(tools)
    runs: dict[str, list] = {name: [] for name in names}
    for i in range(args.rounds):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            runs[name].append(run(*tools[name]))
    print(f"{args.rounds} rounds, order rotated; medians (min)")
    for name, rs in runs.items():
        wall, cpu = [r[0] for r in rs], [r[1] for r in rs]
        print(f"{name:13s} wall {statistics.median(wall):.3f} (min {min(wall):.3f})  CPU {statistics.median(cpu):.3f} "
              f"(min {min(cpu):.3f})  peak RSS {max(r[2] for r in rs)} MiB")  # fmt: skip
    for name in names[1:]:
        wall = statistics.median(a[0] / b[0] for a, b in zip(runs[name], runs["hotcoco"]))
        cpu = statistics.median(a[1] / b[1] for a, b in zip(runs[name], runs["hotcoco"]))
        print(f"{name} ÷ hotcoco, per round: wall median {wall:.2f}, CPU median {cpu:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
