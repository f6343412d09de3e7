"""``dlv grade`` of 40 students × 10 problems: target ≤ 3 s.

Builds a roster of 40 students, a sheet with two problems of each of the five commands per
student (``dlv generate --roster``, 400 problems), and an answers file where every student
answers every key: 60 % right (rounded by hand to 4 significant digits), 40 % wrong (the
expected value × 1.1, so that each wrong answer makes dlv solve the problem and try every
mistake of the catalogue: the slow path). Times, best of --repeat runs, one process each:

* ``dlv grade SHEET ANSWERS --gradebook G.csv`` (the target),
* the same with ``--feedback DIR`` (a worked solution per problem: informational),
* the reference measured in the same run: ``dlv solve SHEET --json`` (every problem solved once).

Run from the repo root:  python benchmarks/bench_grade.py [--students 40] [--repeat 3]
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

COMMANDS = ("interp-ap", "bptt", "focal", "box-compare", "tconv")
TARGET_S = 3.0


def dlv_command() -> list[str]:
    found = shutil.which("dlv", path=str(Path(sys.executable).parent)) or shutil.which("dlv")
    return [found] if found else [sys.executable, "-m", "dlvcli"]


def timed(args: list[str], repeat: int, codes=(0,)) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        result = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        best = min(best, time.perf_counter() - start)
        if result.returncode not in codes:
            raise SystemExit(f"{' '.join(map(str, args))} exited {result.returncode}: {result.stderr.strip()[:500]}")
    return best


def answer_text(value, wrong: bool) -> str:
    if isinstance(value, list):
        return json.dumps([json.loads(answer_text(v, wrong)) for v in value])
    if isinstance(value, str):  # an exact fraction
        from fractions import Fraction

        number = float(Fraction(value)) * (1.1 if wrong else 1.0)
        return repr(float(f"{number:.4g}"))
    number = value * 1.1 + (0.5 if wrong and value == 0 else 0) if wrong else value
    return repr(float(f"{number:.4g}"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--per-command", type=int, default=2, help="problems per command per student (default 2: 10 in all)")
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    dlv = dlv_command()
    with tempfile.TemporaryDirectory(prefix="dlv-bench-grade-") as folder:
        work = Path(folder)
        roster = work / "roster.csv"
        roster.write_text("student\n" + "".join(f"st{i:03d}\n" for i in range(options.students)), encoding="utf-8")
        parts = []
        for command in COMMANDS:
            result = subprocess.run([*dlv, "generate", command, "--seed", "1", "--count", str(options.per_command), "--roster", str(roster)],
                                    capture_output=True, text=True, check=True)
            parts.append(result.stdout)
        sheet = work / "sheet.yaml"
        sheet.write_text("\n".join(parts), encoding="utf-8")
        problems = yaml.safe_load(sheet.read_text(encoding="utf-8"))
        rows, n = [], 0
        for problem in problems:
            for key, value in problem["expect"].items():
                n += 1
                rows.append([problem["student"], problem["id"].split("/", 1)[1], key, answer_text(value, wrong=n % 5 in (1, 3))])
        answers = work / "answers.csv"
        with open(answers, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["student", "problem", "key", "answer"])
            writer.writerows(rows)
        grade = timed([*dlv, "grade", sheet, answers, "--gradebook", work / "grades.csv"], options.repeat)
        feedback = timed([*dlv, "grade", sheet, answers, "--gradebook", work / "grades.csv", "--feedback", work / "fb"], options.repeat)
        solve = timed([*dlv, "solve", sheet, "--json"], options.repeat)
    students, per = options.students, options.per_command * len(COMMANDS)
    print(f"{students} students × {per} problems ({len(problems)} problems, {len(rows)} answers, 40 % wrong)")
    print(f"dlv grade --gradebook:            {grade:6.2f} s   ({grade / TARGET_S:.0%} of the {TARGET_S:g} s target)")
    print(f"dlv grade --gradebook --feedback: {feedback:6.2f} s")
    print(f"reference, dlv solve (all solved): {solve:6.2f} s   (grade takes {grade / solve:.2f}× of it)")
    return 0 if grade <= TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
