"""How much one ``dlv solve`` process saves over one ``dlv`` process per problem.

Builds a sheet of 200 generated problems (40 for each of the five commands, with
``dlv generate``), then times

* ``dlv solve SHEET --json``: all 200 problems in one process, and
* 20 separate ``dlv COMMAND -c PROBLEM.yaml --json`` invocations of 20 of the same
  problems (4 per command), the way a grading script without ``solve`` would do it.

Both include the start-up of the Python interpreter and dlv's imports: that start-up is
what the single process pays once instead of per problem.

Run from the repo root:  python benchmarks/bench_solve.py [--per-command 40] [--separate 20]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

COMMANDS = ("interp-ap", "bptt", "focal", "box-compare", "tconv")
SHEET_KEYS = ("id", "command", "expect", "tol", "rtol")


def dlv_command() -> list[str]:
    found = shutil.which("dlv", path=str(Path(sys.executable).parent)) or shutil.which("dlv")
    return [found] if found else [sys.executable, "-m", "dlvcli"]


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-command", type=int, default=40, help="problems per command in the sheet (default 40: 200 in all)")
    parser.add_argument("--separate", type=int, default=20, help="separate dlv invocations to time (default 20)")
    parser.add_argument("--repeat", type=int, default=3, help="timing runs; the best is reported (default 3)")
    options = parser.parse_args()
    dlv = dlv_command()
    with tempfile.TemporaryDirectory(prefix="dlv-bench-") as folder:
        work = Path(folder)
        parts = []
        for command in COMMANDS:
            args = [*dlv, "generate", command, "--seed", "1", "--count", str(options.per_command)]
            result = run(args, work)
            if result.returncode != 0:
                print(f"skipping {command}: {result.stderr.strip()}", file=sys.stderr)
                continue
            parts.append(result.stdout)
        sheet = work / "sheet.yaml"
        sheet.write_text("\n".join(parts), encoding="utf-8")
        problems = yaml.safe_load(sheet.read_text(encoding="utf-8"))

        # the same problems as separate config files, a few of each command
        by_command: dict[str, list[dict]] = {}
        for problem in problems:
            by_command.setdefault(problem["command"], []).append(problem)
        chosen: list[dict] = []
        while len(chosen) < options.separate and any(by_command.values()):
            for queue in by_command.values():
                if queue and len(chosen) < options.separate:
                    chosen.append(queue.pop(0))
        configs = []
        for problem in chosen:
            path = work / f"{problem['id']}.yaml"
            path.write_text(yaml.safe_dump({k: v for k, v in problem.items() if k not in SHEET_KEYS}, sort_keys=False), encoding="utf-8")
            configs.append((problem["command"], path))

        one_times, separate_times = [], []
        for _ in range(options.repeat):
            start = time.perf_counter()
            solved = run([*dlv, "solve", str(sheet), "--json"], work)
            one_times.append(time.perf_counter() - start)
            if solved.returncode != 0:
                print(solved.stderr, file=sys.stderr)
                print(f"dlv solve exited {solved.returncode}", file=sys.stderr)
                return 1
            start = time.perf_counter()
            for command, path in configs:
                result = run([*dlv, command, "-c", str(path), "--json"], work)
                if result.returncode != 0:
                    print(result.stderr, file=sys.stderr)
                    return 1
            separate_times.append(time.perf_counter() - start)

    one, separate = min(one_times), min(separate_times)
    n, m = len(problems), len(configs)
    print(f"dlv solve, one process, {n} problems:       {one:7.2f} s   ({1000 * one / n:6.1f} ms per problem)")
    print(f"dlv COMMAND -c, {m} separate processes:    {separate:7.2f} s   ({1000 * separate / m:6.1f} ms per problem)")
    print(f"per problem, one process is {separate / m / (one / n):.0f}× faster; "
          f"{n} problems in one process take {one / separate:.2f}× the time of {m} separate runs")
    return 0 if one < separate else 1


if __name__ == "__main__":
    sys.exit(main())
