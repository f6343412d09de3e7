"""Start-up time of dlv against bare Python, measured in the same run (issue 8 targets).

    python benchmarks/bench_startup.py [--runs 15]

Prints the median wall time of each command over --runs runs and the ratios:
``dlv --help`` / ``python -c pass`` (target ≤ 4×), and against ``python -c "import numpy"``
(issue 17: target ≤ 1.3× for both) ``dlv focal --p 0.9 --json`` and the text worked solution
``dlv interp-ap sample_inputs/interp_ap_course.csv --num-gt 5``.  Run it from the repository
root (the sample file's path is relative).  ``--importtime`` prints, for each dlv command, the
modules that take longest to import (``python -X importtime``, self + children).
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


NUMPY = [sys.executable, "-c", "import numpy"]
COURSE = Path("sample_inputs") / "interp_ap_course.csv"


def slowest_imports(dlv_args: list[str], top: int = 12) -> list[str]:
    """``python -X importtime`` of dlv with these arguments: the top-level imports by cumulative time."""
    code = "import sys; from dlvcli.cli import run; sys.exit(run(sys.argv[1:]))"
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code, *dlv_args], capture_output=True, text=True)
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative_us, raw_name = line[len("import time:"):].split("|")
        depth = (len(raw_name) - len(raw_name.lstrip()) - 1) // 2
        if depth == 0:  # imported by dlv itself, not by another package
            rows.append((int(cumulative_us), raw_name.strip()))
    rows.sort(reverse=True)
    return [f"{us / 1000:7.1f} ms  {name}" for us, name in rows[:top]]


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
    parser.add_argument("--importtime", action="store_true", help="print the slowest imports of each command instead")
    args = parser.parse_args()
    dlv = dlv_command()
    pairs = [
        ("dlv --help", dlv + ["--help"], "python -c pass", [sys.executable, "-c", "pass"], 4.0),
        ("dlv focal --p 0.9 --json", dlv + ["focal", "--p", "0.9", "--json"], "python -c 'import numpy'", NUMPY, 1.3),
        ("dlv interp-ap course.csv --num-gt 5", dlv + ["interp-ap", str(COURSE), "--num-gt", "5"], "python -c 'import numpy'", NUMPY, 1.3),
    ]
    if args.importtime:
        for name, argv, *_ in pairs:
            print(f"{name}: slowest imports (cumulative µs)")
            for line in slowest_imports(argv[1:] if argv[0].endswith("dlv") else argv[3:]):
                print("   ", line)
        return
    print(f"{'command':34} {'median s':>9}   {'reference':26} {'median s':>9}  {'ratio':>6}  target")
    for name, argv, ref_name, ref_argv, target in pairs:
        t = median_seconds(argv, args.runs)
        r = median_seconds(ref_argv, args.runs)
        ratio = t / r
        verdict = "ok" if ratio <= target else "OVER"
        print(f"{name:34} {t:9.3f}   {ref_name:26} {r:9.3f}  {ratio:6.2f}  ≤ {target:g}× {verdict}")


if __name__ == "__main__":
    main()
