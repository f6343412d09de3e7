"""Start-up time of dlv against bare Python, measured in the same run (issue 8 targets).

    python benchmarks/bench_startup.py [--runs 15]

Prints the median wall time of each command over --runs runs and the ratios:
``dlv --help`` / ``python -c pass`` (target ≤ 4×) and
``dlv focal --p 0.9 --json`` / ``python -c "import numpy"`` (target ≤ 1.5×).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path


def dlv_command() -> list[str]:
    script = Path(sys.executable).with_name("dlv")
    return [str(script)] if script.exists() else [sys.executable, "-m", "dlvcli"]


def median_seconds(argv: list[str], runs: int) -> float:
    subprocess.run(argv, capture_output=True)  # warm the file cache
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    dlv = dlv_command()
    pairs = [
        ("dlv --help", dlv + ["--help"], "python -c pass", [sys.executable, "-c", "pass"], 4.0),
        ("dlv focal --p 0.9 --json", dlv + ["focal", "--p", "0.9", "--json"], "python -c 'import numpy'", [sys.executable, "-c", "import numpy"], 1.5),
    ]
    print(f"{'command':34} {'median s':>9}   {'reference':26} {'median s':>9}  {'ratio':>6}  target")
    for name, argv, ref_name, ref_argv, target in pairs:
        t = median_seconds(argv, args.runs)
        r = median_seconds(ref_argv, args.runs)
        ratio = t / r
        verdict = "ok" if ratio <= target else "OVER"
        print(f"{name:34} {t:9.3f}   {ref_name:26} {r:9.3f}  {ratio:6.2f}  ≤ {target:g}× {verdict}")


if __name__ == "__main__":
    main()
