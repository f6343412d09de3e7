"""Time dlv's transposed convolution against PyTorch on the CPU, in the same run.

Problem: x 16×256×256 (batch 1), weight 16×16×3×3 (ConvTranspose2d layout), stride 2,
padding 0 → output 16×513×513.  dlv computes it directly (one matrix product per kernel
tap, added into strided slices: no matrix C is built); torch uses
``torch.nn.functional.conv_transpose2d``.  Both are timed in float32 and float64 with
the same inputs; the best and the median of --repeat runs (alternating dlv and torch) are reported.

    python benchmarks/bench_tconv.py            # needs torch (the 'reference' extra)
    python benchmarks/bench_tconv.py --repeat 20 --threads 1
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time


def timed_pair(first, second, repeat: int) -> tuple[list[float], list[float]]:
    """Run both after a warm-up, alternating, so that a change in machine load hits both alike."""
    first(), second()  # warm-up (allocations, torch kernel selection)
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for function, bucket in ((first, times[0]), (second, times[1])):
            start = time.perf_counter()
            function()
            bucket.append(time.perf_counter() - start)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256, help="input height and width [256]")
    parser.add_argument("--channels", type=int, default=16, help="input and output channels [16]")
    parser.add_argument("--kernel", type=int, default=3, help="kernel size [3]")
    parser.add_argument("--stride", type=int, default=2, help="stride [2]")
    parser.add_argument("--repeat", type=int, default=10, help="timed runs per case [10]")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's choice)")
    args = parser.parse_args(argv)

    import numpy as np

    from dlvcli.core.tconv import tconv, transposed_conv

    try:
        import torch
    except ImportError:
        print("torch is not installed: pip install -e '.[reference]' (the benchmark compares against it)", file=sys.stderr)
        return 2
    if args.threads:
        torch.set_num_threads(args.threads)

    rng = np.random.default_rng(0)
    c, n, k, s = args.channels, args.size, args.kernel, args.stride
    x64 = rng.standard_normal((c, n, n))
    w64 = rng.standard_normal((c, c, k, k))
    print(f"transposed convolution: x {c}×{n}×{n}, weight {c}×{c}×{k}×{k}, stride {s}, padding 0")
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), {os.cpu_count()} CPUs, {platform.machine()}"
    )
    print(f"best / median of {args.repeat} runs each (dlv and torch alternating) after a warm-up\n")
    print(f"{'dtype':8} {'dlv best':>10} {'dlv median':>11} {'torch best':>11} {'torch median':>13} {'dlv/torch':>10} {'max |Δ|':>10}")
    for dtype, torch_dtype in ((np.float32, torch.float32), (np.float64, torch.float64)):
        x = x64.astype(dtype)
        w = w64.astype(dtype)
        xt = torch.from_numpy(x)[None]
        wt = torch.from_numpy(w)

        def run_dlv():
            return transposed_conv(x, w, stride=s)

        def run_torch():
            with torch.no_grad():
                return torch.nn.functional.conv_transpose2d(xt, wt, stride=s)

        dlv_times, torch_times = timed_pair(run_dlv, run_torch, args.repeat)
        dlv_best, dlv_median = min(dlv_times), statistics.median(dlv_times)
        torch_best, torch_median = min(torch_times), statistics.median(torch_times)
        difference = float(np.max(np.abs(run_dlv() - run_torch()[0].numpy())))
        print(
            f"{np.dtype(dtype).name:8} {dlv_best * 1e3:8.1f} ms {dlv_median * 1e3:8.1f} ms {torch_best * 1e3:8.1f} ms "
            f"{torch_median * 1e3:10.1f} ms {dlv_median / torch_median:9.2f}× {difference:10.2e}"
        )

    # the library entry point the CLI uses (also decides that C is too large to build)
    start = time.perf_counter()
    result = tconv(x64, w64, stride=s)
    elapsed = time.perf_counter() - start
    rows, cols = result.matrix_shape
    print(
        f"\ndlvcli.tconv (float64, whole result object): {elapsed * 1e3:.1f} ms; output {'×'.join(map(str, result.output.shape))}; "
        f"C would be {rows}×{cols}: {result.matrix_mode}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
