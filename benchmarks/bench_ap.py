"""Time dlv's COCO evaluation (mode C) against pycocotools, faster-coco-eval, hotcoco and vernier.

Generates a synthetic COCO data set with a fixed seed (crowd boxes and tied scores
included) into a temporary directory, then runs, each in its own process so that
start-up, loading and peak memory are counted alike:

* pycocotools: ``COCO(gt)``, ``loadRes``, ``COCOeval(…, "bbox")``, ``evaluate``,
  ``accumulate``, ``summarize``;
* faster-coco-eval (when installed): the same with ``COCOeval_faster``;
* hotcoco (when installed, Rust): ``COCO(gt)``, ``load_res``, ``COCOeval(…, "bbox")``,
  ``evaluate``, ``accumulate``, ``summarize``;
* vernier (when installed, Rust): ``instance.Evaluator(parity_mode="strict").evaluate``
  on the two files' bytes;
* dlv, end to end: ``python -m dlvcli interp-ap RESULTS --gt GT --json`` (process start
  to answer).  When the installed CLI does not answer mode C yet, the Python API
  (``load_coco`` + ``evaluate_coco``) is timed in a subprocess instead, and marked so.

It checks that the twelve summary numbers agree with pycocotools' (to 1e-12) and prints
wall times, the ratios to dlv, and each process's peak resident memory (``wait4``).

    python benchmarks/bench_ap.py                         # 5,000 images × 100 × 80 classes
    python benchmarks/bench_ap.py --images 500            # a quick run
    python benchmarks/bench_ap.py --images 5000 --no-pycocotools --keep /tmp/coco_bench
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SUMMARY_NAMES = (
    "ap", "ap50", "ap75", "ap_small", "ap_medium", "ap_large",
    "ar1", "ar10", "ar100", "ar_small", "ar_medium", "ar_large",
)  # fmt: skip


# ------------------------------------------------------------------------ the data


def make_dataset(num_images: int, dets_per_image: int, num_classes: int, seed: int = 0, gt_per_image: float = 7.3):
    """A synthetic COCO annotation dict and results list, shaped like a detector's output.

    About ``gt_per_image`` boxes per image (Poisson) over one to four of the classes,
    sizes log-uniform from 4 to 400 pixels (small, medium and large areas), the
    ``area`` field below the box area as a segmentation's is, 2 % crowd boxes; the last
    class has no ground truth.  Each image has ``dets_per_image`` detections: 60 % jittered
    copies of its ground truth (mostly the right class), the rest clutter boxes of random
    classes; scores rounded to three decimals, so many are tied.
    """
    rng = np.random.default_rng(seed)
    image_ids = np.sort(rng.choice(np.arange(1, 20 * num_images), size=num_images, replace=False))
    classes = np.arange(1, num_classes + 1)
    gt_classes = classes[:-1] if num_classes > 1 else classes
    images = [{"id": int(i), "file_name": f"{int(i):012d}.jpg", "width": 640, "height": 480} for i in image_ids]

    n_gt = np.minimum(rng.poisson(gt_per_image, num_images), 60)
    total_gt = int(n_gt.sum())
    gt_image = np.repeat(np.arange(num_images), n_gt)
    # each image draws its ground truth from a few classes (Zipf-like popularity)
    popularity = 1.0 / np.arange(1, len(gt_classes) + 1)
    popularity /= popularity.sum()
    present = rng.choice(gt_classes, size=(num_images, 4), p=popularity)
    how_many = rng.integers(1, 5, num_images)
    pick = (rng.random(total_gt) * how_many[gt_image]).astype(int)
    gt_class = present[gt_image, pick]
    w = np.exp(rng.uniform(np.log(4), np.log(400), total_gt))
    h = np.clip(w * np.exp(rng.normal(0, 0.5, total_gt)), 2, 480)
    x = rng.uniform(0, 640 - np.minimum(w, 639))
    y = rng.uniform(0, 480 - np.minimum(h, 479))
    gt_box = np.round(np.stack([x, y, w, h], axis=1), 2)
    area = np.round(gt_box[:, 2] * gt_box[:, 3] * rng.uniform(0.55, 1.0, total_gt), 2)
    crowd = rng.random(total_gt) < 0.02
    annotations = [
        {
            "id": i + 1,
            "image_id": int(image_ids[gt_image[i]]),
            "category_id": int(gt_class[i]),
            "bbox": gt_box[i].tolist(),
            "area": float(area[i]),
            "iscrowd": int(crowd[i]),
        }
        for i in range(total_gt)
    ]

    total_det = num_images * dets_per_image
    det_image = np.repeat(np.arange(num_images), dets_per_image)
    gt_first = np.concatenate(([0], np.cumsum(n_gt)[:-1]))
    on_gt = (rng.random(total_det) < 0.6) & (n_gt[det_image] > 0)
    source = gt_first[det_image] + (rng.random(total_det) * np.maximum(n_gt[det_image], 1)).astype(int)
    source = np.minimum(source, max(total_gt - 1, 0))
    det_box = np.empty((total_det, 4))
    det_class = rng.choice(classes, total_det)
    if total_gt:
        base = gt_box[source[on_gt]]
        jitter = rng.normal(0, 0.12, (int(on_gt.sum()), 4)) * base[:, [2, 3, 2, 3]]
        jittered = base + jitter
        jittered[:, 2:] = np.maximum(jittered[:, 2:], 1.0)
        det_box[on_gt] = jittered
        right_class = rng.random(int(on_gt.sum())) < 0.9
        det_class[on_gt] = np.where(right_class, gt_class[source[on_gt]], det_class[on_gt])
    clutter = ~on_gt
    cw = np.exp(rng.uniform(np.log(4), np.log(300), int(clutter.sum())))
    ch = np.clip(cw * np.exp(rng.normal(0, 0.5, int(clutter.sum()))), 2, 480)
    det_box[clutter] = np.stack(
        [rng.uniform(0, 600, int(clutter.sum())), rng.uniform(0, 440, int(clutter.sum())), cw, ch], axis=1
    )
    det_box = np.round(det_box, 2)
    score = np.where(on_gt, rng.beta(4, 2, total_det), rng.beta(1, 4, total_det))
    score = np.round(score, 3)  # ties
    results = [
        {"image_id": int(image_ids[det_image[i]]), "category_id": int(det_class[i]), "bbox": det_box[i].tolist(), "score": float(score[i])}
        for i in range(total_det)
    ]
    categories = [{"id": int(c), "name": f"class{int(c)}", "supercategory": "thing"} for c in classes]
    return {"images": images, "annotations": annotations, "categories": categories}, results


# ------------------------------------------------------------------- the contenders

PYCOCOTOOLS = r"""
import contextlib, io, json, sys, time
t0 = time.perf_counter()
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
with contextlib.redirect_stdout(io.StringIO()):
    gt = COCO(sys.argv[1]); dt = gt.loadRes(sys.argv[2]); t1 = time.perf_counter()
    ev = COCOeval(gt, dt, "bbox"); ev.evaluate(); t2 = time.perf_counter()
    ev.accumulate(); t3 = time.perf_counter(); ev.summarize(); t4 = time.perf_counter()
print(json.dumps({"stats": [float(s) for s in ev.stats],
                  "phases": {"load": t1 - t0, "evaluate": t2 - t1, "accumulate": t3 - t2, "summarize": t4 - t3}}))
"""

FASTER_COCO_EVAL = r"""
import contextlib, io, json, sys, time
t0 = time.perf_counter()
from faster_coco_eval import COCO, COCOeval_faster
with contextlib.redirect_stdout(io.StringIO()):
    gt = COCO(sys.argv[1]); dt = gt.loadRes(sys.argv[2]); t1 = time.perf_counter()
    ev = COCOeval_faster(gt, dt, "bbox"); ev.evaluate(); t2 = time.perf_counter()
    ev.accumulate(); t3 = time.perf_counter(); ev.summarize(); t4 = time.perf_counter()
print(json.dumps({"stats": [float(s) for s in ev.stats],
                  "phases": {"load": t1 - t0, "evaluate": t2 - t1, "accumulate": t3 - t2, "summarize": t4 - t3}}))
"""

HOTCOCO = r"""
import contextlib, io, json, sys, time
t0 = time.perf_counter()
import hotcoco
with contextlib.redirect_stdout(io.StringIO()):
    gt = hotcoco.COCO(sys.argv[1]); dt = gt.load_res(sys.argv[2]); t1 = time.perf_counter()
    ev = hotcoco.COCOeval(gt, dt, "bbox"); ev.evaluate(); t2 = time.perf_counter()
    ev.accumulate(); t3 = time.perf_counter(); ev.summarize(); t4 = time.perf_counter()
print(json.dumps({"stats": [float(s) for s in ev.stats],
                  "phases": {"load": t1 - t0, "evaluate": t2 - t1, "accumulate": t3 - t2, "summarize": t4 - t3}}))
"""

VERNIER = r"""
import json, sys, time
t0 = time.perf_counter()
from vernier.instance import Evaluator
gt = open(sys.argv[1], "rb").read(); dt = open(sys.argv[2], "rb").read(); t1 = time.perf_counter()
summary = Evaluator(parity_mode="strict").evaluate(gt, dt); t2 = time.perf_counter()
print(json.dumps({"stats": [float(s) for s in summary.stats], "phases": {"read": t1 - t0, "evaluate": t2 - t1}}))
"""

DLV_API = r"""
import json, sys, time
t0 = time.perf_counter()
from dlvcli.inputs.coco import load_coco
from dlvcli.core.coco import evaluate_coco
t1 = time.perf_counter()
data = load_coco(sys.argv[2], sys.argv[1]); t2 = time.perf_counter()
result = evaluate_coco(data); t3 = time.perf_counter()
print(json.dumps({"coco": result.summary, "phases": {"import": t1 - t0, "load": t2 - t1, "evaluate": t3 - t2}}))
"""


def run_child(argv: list[str], source_tree: bool = False) -> tuple[float, float, int, str, str, int]:
    """Run a process; return (wall s, CPU s (user + system), peak RSS in KiB, stdout, stderr, exit code).

    The pipes are drained by threads and the child reaped with ``os.wait4``, which gives
    that one child's resource usage (``communicate`` would reap it and lose it).
    """
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    # ``source_tree`` (dlv): bytecode as an installed package has it.  With
    # PYTHONDONTWRITEBYTECODE set (as on some shared machines) dlv, run from its source tree,
    # would compile its modules on every run (≈ 0.05 s) while the other tools' installed
    # modules come compiled.  The cache goes to a folder of its own, out of the source tree;
    # the first (untimed) dlv run fills it.
    if source_tree:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "dlv_bench_pycache")
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=REPO)
    buffers = {}

    def drain(stream, key):
        buffers[key] = stream.read()

    threads = [threading.Thread(target=drain, args=(proc.stdout, "out")), threading.Thread(target=drain, args=(proc.stderr, "err"))]
    for t in threads:
        t.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    for t in threads:
        t.join()
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, int(usage.ru_maxrss), buffers["out"].decode(), buffers["err"].decode(), code


def have(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def measure_json(results_path: Path) -> dict[str, float]:
    """Parse time of the results file: the standard library and orjson (if installed), GC on and paused."""
    import gc

    text = results_path.read_text()
    parsers = {"json": json.loads}
    if have("orjson"):
        import orjson

        parsers["orjson"] = orjson.loads
    times = {}
    for name, loads in parsers.items():
        for paused in (False, True):
            if paused:
                gc.disable()
            start = time.perf_counter()
            value = loads(text)
            times[f"{name}{' (GC paused)' if paused else ''}"] = time.perf_counter() - start
            gc.enable()
            del value
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=5000, help="number of images (default 5000)")
    parser.add_argument("--dets", type=int, default=100, help="detections per image (default 100)")
    parser.add_argument("--classes", type=int, default=80, help="number of categories (default 80)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--no-pycocotools", action="store_true", help="skip pycocotools (slow at full size)")
    parser.add_argument("--no-faster", action="store_true", help="skip faster-coco-eval")
    parser.add_argument("--no-hotcoco", action="store_true", help="skip hotcoco")
    parser.add_argument("--no-vernier", action="store_true", help="skip vernier")
    parser.add_argument("--api", action="store_true", help="time dlv's Python API in a subprocess, not the CLI")
    parser.add_argument("--keep", metavar="DIR", help="write the data set into DIR and keep it")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each tool but pycocotools; the fastest counts (default 3)")
    parser.add_argument("--prepare-only", action="store_true", help=argparse.SUPPRESS)  # the data set, in a child (below)
    args = parser.parse_args(argv)

    python = sys.executable
    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="dlv_bench_"))
    workdir.mkdir(parents=True, exist_ok=True)
    gt_path = workdir / "instances.json"
    res_path = workdir / "results.json"
    if args.prepare_only:
        t0 = time.perf_counter()
        gt, results = make_dataset(args.images, args.dets, args.classes, args.seed)
        gt_path.write_text(json.dumps(gt))
        res_path.write_text(json.dumps(results))
        n_crowd = sum(a["iscrowd"] for a in gt["annotations"])
        print(
            f"data set: {args.images} images × {args.dets} detections × {args.classes} classes, seed {args.seed}: "
            f"{len(results)} detections, {len(gt['annotations'])} ground-truth boxes ({n_crowd} crowd); "
            f"results file {res_path.stat().st_size / 2**20:.1f} MiB (generated in {time.perf_counter() - t0:.1f} s, in {workdir})"
        )
        del gt, results
        parse = measure_json(res_path)
        print("parse results JSON: " + ", ".join(f"{k} {v:.2f} s" for k, v in parse.items()))
        return 0
    # The data set is made (and the JSON parse timed) in a child process: the children below
    # are started with vfork, and a child's peak RSS (wait4's ru_maxrss) includes the peak of
    # the process it was forked from, so a parent that once held the data set in memory would
    # lend every tool its own ≈ 460 MiB.
    prepare = [python, str(Path(__file__).resolve()), "--prepare-only", "--keep", str(workdir),
               "--images", str(args.images), "--dets", str(args.dets), "--classes", str(args.classes), "--seed", str(args.seed)]  # fmt: skip
    subprocess.run(prepare, check=True)
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, {os.cpu_count()} CPUs")

    rows = []
    if not args.no_pycocotools and have("pycocotools"):
        rows.append(("pycocotools", [python, "-c", PYCOCOTOOLS, str(gt_path), str(res_path)], "stats"))
    if not args.no_faster and have("faster_coco_eval"):
        rows.append(("faster-coco-eval", [python, "-c", FASTER_COCO_EVAL, str(gt_path), str(res_path)], "stats"))
    if not args.no_hotcoco and have("hotcoco"):
        rows.append(("hotcoco", [python, "-c", HOTCOCO, str(gt_path), str(res_path)], "stats"))
    if not args.no_vernier and have("vernier"):
        rows.append(("vernier", [python, "-c", VERNIER, str(gt_path), str(res_path)], "stats"))

    # dlv: the CLI end to end, or the API when the CLI does not answer mode C (yet)
    dlv_label = "dlv (CLI)"
    dlv_cmd = [python, "-m", "dlvcli", "interp-ap", str(res_path), "--gt", str(gt_path), "--json"]
    if not args.api:
        _, _, _, out, err, code = run_child(dlv_cmd, source_tree=True)
        try:
            ok = code == 0 and "coco" in json.loads(out)
        except ValueError:
            ok = False
        if not ok:
            last = err.strip().splitlines()[-1] if err.strip() else "no coco block"
            print(f"note: `dlv interp-ap … --gt … --json` did not answer mode C (exit {code}: {last}); timing the Python API instead")
            args.api = True
    if args.api:
        dlv_label = "dlv (API in a subprocess: load_coco + evaluate_coco)"
        dlv_cmd = [python, "-c", DLV_API, str(res_path), str(gt_path)]
    rows.append((dlv_label, dlv_cmd, "coco"))

    measured = {}
    print(f"{'':<22} {'wall s':>8} {'CPU s':>8} {'peak RSS MiB':>13}   (best of {args.repeat} by wall time; pycocotools once)")
    for label, cmd, key in rows:
        runs = []
        for _ in range(1 if label == "pycocotools" else args.repeat):
            runs.append(run_child(cmd, source_tree=label.startswith("dlv")))
            if runs[-1][5] != 0:
                break
        wall, cpu, rss, out, err, code = min(runs, key=lambda r: r[0])
        if code != 0:
            print(f"{label}: failed (exit {code})\n{err}")
            continue
        payload = json.loads(out.strip().splitlines()[-1])
        stats = payload[key]
        if isinstance(stats, dict):
            stats = [(-1.0 if stats[n] is None else stats[n]) for n in SUMMARY_NAMES]
        measured[label] = (wall, cpu, rss, stats)
        phases = payload.get("phases")
        detail = f"   ({', '.join(f'{k} {v:.2f} s' for k, v in phases.items())})" if phases else ""
        print(f"{label:<22} {wall:8.3f} {cpu:8.2f} {rss / 1024:13.0f}{detail}")

    dlv = next((v for k, v in measured.items() if k.startswith("dlv")), None)
    reference = measured.get("pycocotools")
    agree = True
    if dlv and reference:
        diff = max(abs(a - b) for a, b in zip(dlv[3], reference[3]))
        agree = diff <= 1e-12
        print(f"twelve numbers, dlv vs pycocotools: max |difference| = {diff:.3g} → {'agree' if agree else 'DISAGREE'}")
    for other in ("faster-coco-eval", "hotcoco", "vernier"):
        if other in measured and (reference or dlv):
            against, name = (reference, "pycocotools") if reference else (dlv, "dlv")
            diff = max(abs(a - b) for a, b in zip(measured[other][3], against[3]))
            print(f"twelve numbers, {other} vs {name}: max |difference| = {diff:.3g}")
    if dlv:
        print("stats: " + ", ".join(f"{n} {v:.4f}" for n, v in zip(SUMMARY_NAMES, dlv[3])))
        for label, (wall, cpu, rss, _) in measured.items():
            if not label.startswith("dlv"):
                print(
                    f"{label}: {wall / dlv[0]:.2f}× dlv's wall time, {cpu / dlv[1]:.2f}× its CPU time, "
                    f"{rss / dlv[2]:.2f}× its peak memory (dlv: {dlv[0] / wall:.2f}× its wall time)"
                )
    if dlv:
        # the same figures as a Markdown table, for docs/interp-ap.md
        print("\n| tool | wall s | CPU s | peak RSS MiB | dlv's wall time ÷ this | dlv's CPU time ÷ this |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for label, (wall, cpu, rss, _) in measured.items():
            name = f"**{label}**" if label.startswith("dlv") else label
            print(f"| {name} | {wall:.2f} | {cpu:.2f} | {rss / 1024:,.0f} | {dlv[0] / wall:.2f} | {dlv[1] / cpu:.2f} |")
    if not args.keep:
        for p in (gt_path, res_path):
            p.unlink(missing_ok=True)
        workdir.rmdir()
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
