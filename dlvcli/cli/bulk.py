"""Fewer garbage-collector passes while a command builds many objects.

Python's cyclic collector runs after every 700 allocations and, now and then, walks
every object alive.  A command that builds 200,000 result rows (focal) or 20,000 class
results (interp-ap) spent a quarter of its CPU time in those walks (3.9 s against 2.9 s
with the collector off, focal on 200,000 rows), and start-up alone makes 25,000-30,000
objects (numpy's, rich's) that the default would scan over and over (≈ 5-9 ms of a 0.2 s
run).  Raising the thresholds keeps the collector (cycles are still freed) and makes the
walks rare.  The entry point (``dlvcli.cli.main``) and every command (``prepare``) call it.
"""

from __future__ import annotations

import gc


def fewer_collections() -> None:
    gc.set_threshold(100_000, 50, 1000)


def one_blas_thread() -> None:
    """Run numpy's BLAS/LAPACK on one thread unless the user chose otherwise (before numpy loads).

    bptt's spectral norms call LAPACK on stacks of small (200×200) matrices, where a second
    OpenBLAS thread costs more than it gives: 200×200 W, T = 50 took 3.5 s of CPU and 3.6 s
    of wall time with two threads, 2.0 s and 2.3 s with one, on the 2-core development
    machine.  An environment variable set by the user wins; once numpy is loaded this does
    nothing (its thread pool is already made).
    """
    import os
    import sys

    if "numpy" in sys.modules:
        return
    for name in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
