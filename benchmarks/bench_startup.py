"""Start-up time of dlv against bare Python, measured in the same run (issue 8 targets).

    python benchmarks/bench_startup.py [--runs 15]

Prints the median wall time of each command over --runs runs and the ratios:
``dlv --help`` / ``python -c pass`` (target ≤ 4×), and against ``python -c "import numpy"``
(issue 17: target ≤ 1.3× for both) ``dlv focal --p 0.9 --json`` and the text worked solution
``dlv interp-ap sample_inputs/interp_ap_course.csv --num-gt 5``.  Run it from the repository
root (the sample file's path is relative), with the Python of an environment installed as the
README says (``pip install .``): an editable install's import hook slows ``python -c pass`` and
``import numpy`` as much as dlv, and the ratios look better than a user's.  dlvcli's .pyc files are compiled first (see
``compile_bytecode``); ``--no-compile`` measures without.  ``--importtime`` prints, for each dlv command, the
modules that take longest to import (``python -X importtime``, self + children).
``--vs OTHER_DLV`` times the same dlv commands against another installation's ``dlv`` script
(say, an earlier commit ``pip install``-ed in a second environment), in turn: steadier than
comparing two runs' ratios, which move by ±0.05 between runs on a shared machine.
"""

from __future__ import annotations

import argparse
import resource
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


def medians(argv: list[str], reference: list[str], runs: int) -> tuple[float, float, float, float, float]:
    """Median wall and CPU (user + system) seconds of ``argv`` and ``reference``, run in turn,
    and the ratio of their fastest CPU times.

    Alternating the two keeps a change in the machine's load from favouring either; CPU time
    is the steadier figure on a shared machine (wall time includes waiting for a core).  Other
    work only ever adds time, so the fastest runs' ratio is the steadiest of the three (on 2
    shared cores the median ratio of one command moved by ±0.2 between runs of this script).
    """
    subprocess.run(argv, capture_output=True)  # warm the file cache
    subprocess.run(reference, capture_output=True)
    samples: dict[int, tuple[list[float], list[float]]] = {0: ([], []), 1: ([], [])}
    for _ in range(runs):
        for which, command in enumerate((argv, reference)):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(command, capture_output=True, check=False)
            wall = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            samples[which][0].append(wall)
            samples[which][1].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    (t_wall, t_cpu), (r_wall, r_cpu) = ((statistics.median(w), statistics.median(c)) for w, c in samples.values())
    best_cpu_ratio = min(samples[0][1]) / min(samples[1][1])
    return t_wall, r_wall, t_cpu, r_cpu, best_cpu_ratio


def compile_bytecode() -> None:
    """Compile dlvcli's .pyc files, as ``pip install .`` does.

    An editable install run with PYTHONDONTWRITEBYTECODE=1 (as on the project's machines)
    would otherwise compile every dlv module from source on every run, while numpy and
    typer, installed normally, load their .pyc files: an unfair ≈ 50 ms against dlv.
    """
    import compileall

    import dlvcli

    compileall.compile_dir(str(Path(dlvcli.__file__).parent), quiet=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--importtime", action="store_true", help="print the slowest imports of each command instead")
    parser.add_argument("--no-compile", action="store_true", help="measure without compiling dlvcli's .pyc files first")
    parser.add_argument("--vs", metavar="OTHER_DLV", help="another environment's dlv script: time each dlv command against it instead")
    args = parser.parse_args()
    if not args.no_compile:
        compile_bytecode()
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
    if args.vs:
        print(f"{'command':36} {'this wall s':>11} {'other wall s':>12}  {'wall ratio':>10}  {'CPU ratio':>9}  {'best CPU':>8}")
        for name, argv, *_ in pairs[1:]:
            other = [args.vs, *argv[len(dlv):]]
            t, r, t_cpu, r_cpu, best = medians(argv, other, args.runs)
            print(f"{name:36} {t:11.3f} {r:12.3f}  {t / r:10.3f}  {t_cpu / r_cpu:9.3f}  {best:8.3f}")
        print(f"(medians of {args.runs} alternating runs of this environment's dlv and {args.vs})")
        return
    print(f"{'command':36} {'wall s':>7}   {'reference':26} {'wall s':>7}  {'ratio':>6}  {'CPU ratio':>9}  {'best CPU':>8}  target")
    for name, argv, ref_name, ref_argv, target in pairs:
        t, r, t_cpu, r_cpu, best = medians(argv, ref_argv, args.runs)
        ratio = t / r
        verdict = "ok" if ratio <= target else "OVER"
        print(f"{name:36} {t:7.3f}   {ref_name:26} {r:7.3f}  {ratio:6.2f}  {t_cpu / r_cpu:9.2f}  {best:8.2f}  ≤ {target:g}× {verdict}")
    print(f"(medians of {args.runs} alternating runs; CPU = user + system time of the process;")
    print(" best CPU = fastest CPU time of the command / fastest of the reference; the verdict is the wall ratio's)")


if __name__ == "__main__":
    main()
