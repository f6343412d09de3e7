"""Time dlv's BPTT totals against torch autograd (CPU, float64) in the same run.

The problem: a tanh RNN with T = 10,000 steps, hidden size 64 (input 32, output 16),
biases b and c, loss half-sse.  Each contender computes the loss and dE/dU, dE/dW,
dE/dV, dE/db, dE/dc; the best of ``--repeats`` runs is reported, and the gradients are
compared with each other so that the times are for the same answer.

* dlv: ``dlvcli.core.bptt.bptt_gradients`` (numpy; one forward loop, one backward loop).
* torch autograd: the same recurrence written step by step with tensors that require
  grad, then ``loss.backward()`` (what a student would write).
* torch.nn.RNN: torch's fused tanh RNN (C++ loop over time) with the output layer and
  loss in torch, then ``loss.backward()`` (torch's fastest CPU path for this model).

Run from the repository root::

    python benchmarks/bench_bptt.py            # T = 10000, hidden 64
    python benchmarks/bench_bptt.py --T 2000 --hidden 128 --repeats 3

torch is optional: without it only dlv's time is printed.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from dlvcli.core.bptt import bptt_gradients


def make_problem(T: int, H: int, I: int, O: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "U": rng.normal(scale=1 / np.sqrt(I), size=(H, I)),
        "W": rng.normal(scale=0.9 / np.sqrt(H), size=(H, H)),
        "V": rng.normal(scale=1 / np.sqrt(H), size=(O, H)),
        "b": rng.normal(scale=0.1, size=H),
        "c": rng.normal(scale=0.1, size=O),
        "x": rng.normal(size=(T, I)),
        "y": rng.normal(size=(T, O)),
    }


def best_of(fn, repeats: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def dlv_totals(p: dict):
    return bptt_gradients(p["U"], p["W"], p["V"], p["x"], p["y"], b=p["b"], c=p["c"])


def torch_autograd_totals(p: dict, torch):
    leaves = {k: torch.tensor(p[k], dtype=torch.float64, requires_grad=True) for k in ("U", "W", "V", "b", "c")}
    x = torch.tensor(p["x"], dtype=torch.float64)
    y = torch.tensor(p["y"], dtype=torch.float64)
    # U x_t + b for every t at once; unbind (not drive[t]) so that the backward pass does
    # not build a full-size zero gradient per step
    drive = (x @ leaves["U"].T + leaves["b"]).unbind(0)
    h = torch.zeros(leaves["W"].shape[0], dtype=torch.float64)
    hs = []
    W = leaves["W"]
    for drive_t in drive:
        h = torch.tanh(drive_t + W @ h)
        hs.append(h)
    z = torch.stack(hs) @ leaves["V"].T + leaves["c"]
    loss = 0.5 * ((z - y) ** 2).sum()
    loss.backward()
    return float(loss.detach()), {k: v.grad.numpy() for k, v in leaves.items()}


def torch_rnn_totals(p: dict, torch):
    H, I = p["U"].shape
    rnn = torch.nn.RNN(I, H, nonlinearity="tanh", bias=True, batch_first=False, dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(p["U"]))
        rnn.weight_hh_l0.copy_(torch.from_numpy(p["W"]))
        rnn.bias_ih_l0.copy_(torch.from_numpy(p["b"]))
        rnn.bias_hh_l0.zero_()
    V = torch.tensor(p["V"], dtype=torch.float64, requires_grad=True)
    c = torch.tensor(p["c"], dtype=torch.float64, requires_grad=True)
    x = torch.tensor(p["x"], dtype=torch.float64)[:, None, :]
    y = torch.tensor(p["y"], dtype=torch.float64)
    hs, _ = rnn(x)
    z = hs[:, 0, :] @ V.T + c
    loss = 0.5 * ((z - y) ** 2).sum()
    loss.backward()
    grads = {"U": rnn.weight_ih_l0.grad, "W": rnn.weight_hh_l0.grad, "V": V.grad, "b": rnn.bias_ih_l0.grad, "c": c.grad}
    return float(loss.detach()), {k: v.numpy() for k, v in grads.items()}


def max_rel_diff(a: dict, b: dict) -> float:
    return max(float(np.max(np.abs(a[k] - b[k])) / np.max(np.abs(a[k]))) for k in a)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--T", type=int, default=10_000)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--input", type=int, default=32)
    parser.add_argument("--output", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    p = make_problem(args.T, args.hidden, args.input, args.output)
    print(f"BPTT totals, T = {args.T}, hidden {args.hidden}, input {args.input}, output {args.output}, float64, "
          f"best of {args.repeats}")
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}")
    dlv_time, (dlv_loss, dlv_grads) = best_of(lambda: dlv_totals(p), args.repeats)
    print(f"  dlv (numpy)              {dlv_time * 1e3:9.1f} ms")
    try:
        import torch
    except ImportError:
        print("  torch is not installed: no comparison (pip install torch)")
        return
    print(f"  torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    rows = [
        ("torch autograd (loop)", lambda: torch_autograd_totals(p, torch)),
        ("torch.nn.RNN (fused)", lambda: torch_rnn_totals(p, torch)),
    ]
    for name, fn in rows:
        seconds, (loss, grads) = best_of(fn, args.repeats)
        agree = max_rel_diff(dlv_grads, grads)
        print(f"  {name:<24} {seconds * 1e3:9.1f} ms   torch/dlv = {seconds / dlv_time:5.2f}×"
              f"   (loss differs by {abs(loss - dlv_loss) / abs(dlv_loss):.1e}, gradients by {agree:.1e})")


if __name__ == "__main__":
    main()
