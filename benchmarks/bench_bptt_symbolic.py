"""Time ``dlv bptt --symbolic --T 3`` against today's numeric ``dlv bptt -c sample_inputs/bptt_course.yaml``.

Both run as a user runs them: a fresh ``dlv`` process each time (start-up included),
output to a pipe.  The best of ``--repeats`` runs of each is reported, and the ratio
symbolic / numeric (target: ≤ 1.5).  Run from the repository root::

    python benchmarks/bench_bptt_symbolic.py [--repeats 15]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DLV = [sys.executable, "-m", "dlvcli"]


def best_of(args: list[str], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(DLV + args, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    opts = parser.parse_args()
    runs = {
        "numeric  dlv bptt -c sample_inputs/bptt_course.yaml": ["bptt", "-c", "sample_inputs/bptt_course.yaml"],
        "symbolic dlv bptt --symbolic --T 3": ["bptt", "--symbolic", "--T", "3"],
        "symbolic dlv bptt --symbolic --T 3 --json": ["bptt", "--symbolic", "--T", "3", "--json"],
        "symbolic dlv bptt --symbolic -c …course.yaml": ["bptt", "--symbolic", "-c", "sample_inputs/bptt_course.yaml"],
    }
    times = {}
    for label, args in runs.items():
        best_of(args, 2)  # warm the file cache
    for label, args in runs.items():
        times[label] = best_of(args, opts.repeats)
    reference = next(iter(times.values()))
    for label, seconds in times.items():
        print(f"{label:50s} {seconds * 1000:7.1f} ms   ratio {seconds / reference:5.2f}")
    print(f"target: --symbolic --T 3 ≤ 1.5 × numeric; measured {times['symbolic dlv bptt --symbolic --T 3'] / reference:.2f}")


if __name__ == "__main__":
    main()
