"""``dlv generate COMMAND --count 10000`` for every command: target ≤ 10 s each.

Times one process per command (interpreter start-up and imports included) and, as the
reference measured in the same run, ``dlv generate COMMAND --count 1`` (start-up plus one
problem), so that the figures can be read on a slower or a busier machine as well:

    command      count 10000    count 1    per problem    vs the 10 s target

Run from the repo root:  python benchmarks/bench_generate.py [--count 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

COMMANDS = ("interp-ap", "bptt", "focal", "box-compare", "tconv")
TARGET_S = 10.0


def dlv_command() -> list[str]:
    found = shutil.which("dlv", path=str(Path(sys.executable).parent)) or shutil.which("dlv")
    return [found] if found else [sys.executable, "-m", "dlvcli"]


def best_time(args: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        times.append(time.perf_counter() - start)
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(args)} exited {result.returncode}: {result.stderr.strip()}")
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3, help="timing runs; the best is reported (default 3)")
    options = parser.parse_args()
    dlv = dlv_command()
    worst = 0.0
    print(f"{'command':<12} {'count ' + str(options.count):>12} {'count 1':>9} {'per problem':>12} {'of target':>10}")
    for command in COMMANDS:
        base = [*dlv, "generate", command, "--seed", "1"]
        many = best_time([*base, "--count", str(options.count)], options.repeat)
        one = best_time([*base, "--count", "1"], options.repeat)
        per = (many - one) / max(options.count - 1, 1)
        worst = max(worst, many)
        print(f"{command:<12} {many:10.2f} s {one:7.2f} s {1000 * per:9.3f} ms {many / TARGET_S:9.0%}")
    print(f"slowest: {worst:.2f} s, {worst / TARGET_S:.0%} of the {TARGET_S:g} s target")
    return 0 if worst <= TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
