"""Whole-process time of ``interp-ap`` text output on a 10,000-row ranked CSV (issue 12 targets).

    python benchmarks/bench_ap_text.py [--rows 10000] [--runs 3]

Writes a ranked CSV (score, tp; about one detection in three a TP, seeded) to a temporary
folder and times, as a user runs them at an 80-column terminal:

* ``dlv interp-ap FILE --num-gt N`` (long tables abbreviated: first and last rows),
  target ≤ 2 s;
* the same with ``--full`` (every row), target ≤ 5 s;
* ``python -c "import numpy"`` in the same run, as the floor every dlv command pays.

Prints the median of --runs runs, the ratio to the target and to the numpy floor.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def dlv_command() -> list[str]:
    script = Path(sys.executable).with_name("dlv")
    return [str(script)] if script.exists() else [sys.executable, "-m", "dlvcli"]


def median_seconds(argv: list[str], runs: int, env: dict) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, env=env, check=False)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.decode()[:500]}")
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(12)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ranked.csv"
        scores = sorted((rng.random() for _ in range(args.rows)), reverse=True)
        flags = [1 if rng.random() < 1 / 3 else 0 for _ in scores]
        path.write_text("score,tp\n" + "".join(f"{s:.6f},{t}\n" for s, t in zip(scores, flags)), encoding="utf-8")
        num_gt = sum(flags) + 10
        env = {**os.environ, "COLUMNS": "80"}
        dlv = dlv_command()
        floor = median_seconds([sys.executable, "-c", "import numpy"], args.runs, env)
        cases = [
            ("text (abbreviated)", [*dlv, "interp-ap", str(path), "--num-gt", str(num_gt)], 2.0),
            ("text --full", [*dlv, "interp-ap", str(path), "--num-gt", str(num_gt), "--full"], 5.0),
        ]
        print(f"{args.rows} ranked rows, median of {args.runs} runs, COLUMNS=80")
        print(f"  python -c 'import numpy'      {floor:6.3f} s")
        for name, argv, target in cases:
            seconds = median_seconds(argv, args.runs, env)
            print(f"  {name:<28}  {seconds:6.3f} s   target ≤ {target:g} s: {seconds / target:5.2f}× of it, {seconds / floor:5.1f}× numpy import")


if __name__ == "__main__":
    main()
