"""Time dlv's LSTM and GRU BPTT totals against torch autograd (CPU, float64), same run.

The problem: one layer, T = 10,000 steps, hidden size 64 (input 32, output 16), both
biases, output bias c, loss half-sse.  Each contender computes E and every gradient;
the best of ``--repeats`` runs is reported and the gradients are compared, so the
times are for the same answer.

* dlv: ``dlvcli.core.rnn_cells.cell_gradients`` (numpy; one forward loop, one backward loop).
* torch autograd (loop): the cell written step by step with tensors that require grad
  (what a student would write), then ``loss.backward()``.
* torch.nn.LSTM / torch.nn.GRU: torch's own layer, then ``loss.backward()``.

    python benchmarks/bench_bptt_cells.py                 # lstm and gru, T = 10000, hidden 64
    python benchmarks/bench_bptt_cells.py --cell lstm --T 2000 --repeats 3
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from dlvcli.core.rnn_cells import GATES, cell_gradients


def make_problem(cell: str, T: int, H: int, I: int, O: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    G = len(GATES[cell])
    k = 1 / np.sqrt(H)
    return {
        "U": rng.uniform(-k, k, size=(G * H, I)), "W": rng.uniform(-k, k, size=(G * H, H)),
        "V": rng.normal(scale=k, size=(O, H)), "b": rng.uniform(-k, k, size=G * H),
        "bh": rng.uniform(-k, k, size=G * H), "c": rng.normal(scale=0.1, size=O),
        "x": rng.normal(size=(T, I)), "y": rng.normal(size=(T, O)),
    }


def best_of(fn, repeats: int):
    best, out = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def dlv_totals(cell: str, p: dict):
    return cell_gradients(cell, p["U"], p["W"], p["V"], p["x"], p["y"], b=p["b"], bh=p["bh"], c=p["c"])


def torch_loop_totals(cell: str, p: dict, torch):
    leaves = {k: torch.tensor(p[k], dtype=torch.float64, requires_grad=True) for k in ("U", "W", "V", "b", "bh", "c")}
    x, y = torch.tensor(p["x"]), torch.tensor(p["y"])
    H = p["W"].shape[1]
    drive = (x @ leaves["U"].T + leaves["b"]).unbind(0)
    W, bh = leaves["W"], leaves["bh"]
    h = torch.zeros(H, dtype=torch.float64)
    c = torch.zeros(H, dtype=torch.float64)
    hs = []
    for p_t in drive:
        q = W @ h + bh
        if cell == "lstm":
            i, f, g, o = (p_t + q).chunk(4)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
        else:
            pr, pz, pn = p_t.chunk(3)
            qr, qz, qn = q.chunk(3)
            r, z = torch.sigmoid(pr + qr), torch.sigmoid(pz + qz)
            h = (1 - z) * torch.tanh(pn + r * qn) + z * h
        hs.append(h)
    out = torch.stack(hs) @ leaves["V"].T + leaves["c"]
    loss = 0.5 * ((out - y) ** 2).sum()
    loss.backward()
    return float(loss.detach()), {k: v.grad.numpy() for k, v in leaves.items()}


def torch_layer_totals(cell: str, p: dict, torch):
    GH, I = p["U"].shape
    H = p["W"].shape[1]
    net = (torch.nn.LSTM if cell == "lstm" else torch.nn.GRU)(I, H, dtype=torch.float64)
    with torch.no_grad():
        for name, key in (("weight_ih_l0", "U"), ("weight_hh_l0", "W"), ("bias_ih_l0", "b"), ("bias_hh_l0", "bh")):
            getattr(net, name).copy_(torch.from_numpy(p[key]))
    V = torch.tensor(p["V"], requires_grad=True)
    c = torch.tensor(p["c"], requires_grad=True)
    hs, _ = net(torch.from_numpy(p["x"])[:, None, :])
    out = hs[:, 0] @ V.T + c
    loss = 0.5 * ((out - torch.from_numpy(p["y"])) ** 2).sum()
    loss.backward()
    grads = {"U": net.weight_ih_l0.grad, "W": net.weight_hh_l0.grad, "V": V.grad, "b": net.bias_ih_l0.grad,
             "bh": net.bias_hh_l0.grad, "c": c.grad}
    return float(loss.detach()), {k: v.numpy() for k, v in grads.items()}


def max_rel_diff(a: dict, b: dict) -> float:
    return max(float(np.max(np.abs(a[k] - b[k])) / np.max(np.abs(a[k]))) for k in a)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cell", choices=("lstm", "gru", "both"), default="both")
    parser.add_argument("--T", type=int, default=10_000)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--input", type=int, default=32)
    parser.add_argument("--output", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        torch = None
    print(f"BPTT totals, T = {args.T}, hidden {args.hidden}, input {args.input}, output {args.output}, float64, "
          f"best of {args.repeats}")
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}"
          + (f", torch {torch.__version__} with {torch.get_num_threads()} thread(s)" if torch else ", no torch"))
    for cell in (("lstm", "gru") if args.cell == "both" else (args.cell,)):
        p = make_problem(cell, args.T, args.hidden, args.input, args.output)
        dlv_time, (dlv_loss, dlv_grads) = best_of(lambda: dlv_totals(cell, p), args.repeats)
        print(f"{cell}:")
        print(f"  dlv (numpy)              {dlv_time * 1e3:9.1f} ms")
        if torch is None:
            continue
        for name, fn in (("torch autograd (loop)", torch_loop_totals), (f"torch.nn.{cell.upper()}", torch_layer_totals)):
            seconds, (loss, grads) = best_of(lambda: fn(cell, p, torch), args.repeats)
            print(f"  {name:<24} {seconds * 1e3:9.1f} ms   torch/dlv = {seconds / dlv_time:5.2f}×"
                  f"   (loss differs by {abs(loss - dlv_loss) / abs(dlv_loss):.1e}, gradients by "
                  f"{max_rel_diff(dlv_grads, grads):.1e})")


if __name__ == "__main__":
    main()
