"""``dlv bptt --cell lstm|gru``, ``--activation relu``, ``--compare-cells``, ``--clip``.

Oracles: torch.nn.LSTM / GRU / RNN with autograd in float64 (skipped without torch),
central finite differences, the tanh-RNN core (``dlvcli.core.bptt``) as a second
algorithm for the rnn cell, and torch.nn.utils.clip_grad_norm_ for clipping.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from dlvcli.core.rnn_cells import GATES, cell_gradients

CELL_CASES = [("lstm", "tanh"), ("gru", "tanh"), ("rnn", "relu")]


def random_case(rng, cell: str, trial: int) -> dict:
    G = len(GATES[cell])
    H, I, O, T = (int(v) for v in (rng.integers(1, 4), rng.integers(1, 3), rng.integers(1, 4), rng.integers(1, 6)))
    loss = ("half-sse", "softmax-ce")[trial % 2]
    case = {
        "U": rng.normal(size=(G * H, I)), "W": rng.normal(size=(G * H, H)), "V": rng.normal(size=(O, H)),
        "x": rng.normal(size=(T, I)),
        "y": rng.normal(size=(T, O)) if loss == "half-sse" else rng.integers(0, O, size=T),
        "loss": loss,
        # with and without each bias, h0 and c0 given or left at zero
        "b": rng.normal(size=G * H) if trial % 3 else None,
        "bh": rng.normal(size=G * H) if trial % 4 else None,
        "c": rng.normal(size=O) if trial % 5 else None,
        "h0": rng.normal(size=H) if (trial // 2) % 2 else None,
        "c0": rng.normal(size=H) if cell == "lstm" and (trial // 3) % 2 else None,
    }
    return case


def torch_reference(torch, cell: str, activation: str, case: dict):
    """E and every gradient from torch.nn.{LSTM,GRU,RNN} (one layer) + autograd, float64."""
    U, W, V = case["U"], case["W"], case["V"]
    GH, I = U.shape
    H = W.shape[1]
    if cell == "lstm":
        net = torch.nn.LSTM(I, H, dtype=torch.float64)
    elif cell == "gru":
        net = torch.nn.GRU(I, H, dtype=torch.float64)
    else:
        net = torch.nn.RNN(I, H, nonlinearity=activation, dtype=torch.float64)
    zeros = np.zeros(GH)
    with torch.no_grad():
        net.weight_ih_l0.copy_(torch.from_numpy(U))
        net.weight_hh_l0.copy_(torch.from_numpy(W))
        net.bias_ih_l0.copy_(torch.from_numpy(case["b"] if case["b"] is not None else zeros))
        net.bias_hh_l0.copy_(torch.from_numpy(case["bh"] if case["bh"] is not None else zeros))
    Vt = torch.tensor(V, requires_grad=True)
    ct = torch.tensor(case["c"] if case["c"] is not None else np.zeros(V.shape[0]), requires_grad=True)
    x = torch.from_numpy(case["x"])[:, None, :]
    h0 = torch.from_numpy(case["h0"] if case["h0"] is not None else np.zeros(H))[None, None]
    if cell == "lstm":
        c0 = torch.from_numpy(case["c0"] if case["c0"] is not None else np.zeros(H))[None, None]
        out, _ = net(x, (h0, c0))
    else:
        out, _ = net(x, h0)
    z = out[:, 0] @ Vt.T + ct
    if case["loss"] == "half-sse":
        E = 0.5 * ((z - torch.from_numpy(case["y"])) ** 2).sum()
    else:
        E = torch.nn.functional.cross_entropy(z, torch.from_numpy(case["y"]), reduction="sum")
    E.backward()
    grads = {"U": net.weight_ih_l0.grad, "W": net.weight_hh_l0.grad, "V": Vt.grad,
             "b": net.bias_ih_l0.grad, "bh": net.bias_hh_l0.grad, "c": ct.grad}
    return float(E.detach()), {k: v.numpy() for k, v in grads.items()}


@pytest.mark.parametrize("cell,activation", CELL_CASES)
def test_gradients_equal_torch_autograd_on_50_random_cases(cell, activation):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng({"lstm": 1, "gru": 2, "rnn": 3}[cell])
    for trial in range(50):
        case = random_case(rng, cell, trial)
        E, grads = cell_gradients(
            cell, case["U"], case["W"], case["V"], case["x"], case["y"], activation=activation,
            b=case["b"], bh=case["bh"], c=case["c"], h0=case["h0"], c0=case["c0"], loss=case["loss"],
        )
        E_ref, ref = torch_reference(torch, cell, activation, case)
        assert abs(E - E_ref) <= 1e-10 * max(1.0, abs(E_ref)), (trial, E, E_ref)
        expected = {"U", "W", "V"} | {k for k in ("b", "bh", "c") if case[k] is not None}
        assert set(grads) == expected
        for name in expected:
            assert np.shape(grads[name]) == np.shape(case[name])
            np.testing.assert_allclose(grads[name], ref[name], rtol=0, atol=1e-10, err_msg=f"{cell} trial {trial} {name}")


@pytest.mark.parametrize("truncate", [None, 1, 2, 4])
def test_tanh_rnn_cell_matches_the_tanh_rnn_core(truncate):
    # second algorithm: the existing tanh-RNN BPTT (b and bh add up to its single b)
    from dlvcli.core.bptt import bptt_gradients

    rng = np.random.default_rng(7)
    U, W, V = rng.normal(size=(3, 2)), rng.normal(size=(3, 3)) * 0.6, rng.normal(size=(2, 3))
    b, bh, c = rng.normal(size=3), rng.normal(size=3), rng.normal(size=2)
    x, y = rng.normal(size=(6, 2)), rng.normal(size=(6, 2))
    E, g = cell_gradients("rnn", U, W, V, x, y, b=b, bh=bh, c=c, truncate=truncate)
    E_ref, ref = bptt_gradients(U, W, V, x, y, b=b + bh, c=c, truncate=truncate)
    assert E == pytest.approx(E_ref, rel=1e-14)
    for name in ("U", "W", "V", "c"):
        np.testing.assert_allclose(g[name], ref[name], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(g["b"], ref["b"], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(g["bh"], ref["b"], rtol=1e-12, atol=1e-14)


LSTM_ARGS = ["--cell", "lstm", "--U", "[[0.5],[0.4],[-0.3],[0.2]]", "--W", "[[0.1],[0.2],[0.3],[-0.4]]",
             "--V", "1.2", "--b", "0.1,0,0.2,-0.1", "--x", "1,0.5,-1", "--y", "0.2,0.1,0.3"]
GRU_ARGS = ["--cell", "gru", "--U", "[[0.5,0.1],[0.4,0.2],[-0.3,0.3],[0.2,0],[0.1,0.1],[0.3,-0.2]]",
            "--W", "[[0.1,0.2],[0.2,0.1],[0.3,-0.1],[-0.4,0.2],[0.1,0.5],[0.2,0.2]]", "--V", "[[1.2,-0.5],[0.1,0.2]]",
            "--bh", "0.1,0,0.2,-0.1,0,0", "--c", "0.1,0.2", "--x", "[[1,0],[0.5,1],[-1,0.5],[0.2,0.2]]",
            "--y", "0,1,1,0", "--loss", "softmax-ce"]
RELU_ARGS = ["--activation", "relu", "--U", "[[1],[0.5]]", "--W", "[[0.9,-0.2],[0.3,0.8]]", "--V", "[[1,-1]]",
             "--b", "0.1,0.2", "--h0", "0.5,-0.2", "--x", "1,0,-1,0.5", "--y", "0.5,0,0.2,0.1"]


@pytest.mark.parametrize("args", [LSTM_ARGS, GRU_ARGS, RELU_ARGS], ids=["lstm", "gru", "relu"])
@pytest.mark.parametrize("truncate", [None, "2"])
def test_finite_difference_check_passes_for_every_cell(dlv, args, truncate):
    extra = ["--truncate", truncate] if truncate else []
    result = dlv("bptt", *args, *extra, "--check", "--json")
    assert result.code == 0, result.stderr
    check = result.json()["gradient_check"]
    assert check["max_rel_error"] < 1e-6
    assert check["loss_checked"] == ("truncated" if truncate else "full")
    assert check["entries_checked"] == check["entries"]


def test_json_shapes_and_forward_gates(dlv):
    doc = dlv("bptt", *LSTM_ARGS, "--json").json()
    assert set(doc["grads"]) == {"U", "W", "V", "b"}
    assert np.shape(doc["grads"]["U"]) == (4, 1) and np.shape(doc["grads"]["W"]) == (4, 1)
    assert np.shape(doc["grads"]["b"]) == (4,)
    row = doc["forward"][0]
    assert {"t", "x", "i", "f", "g", "o", "c", "h", "y_hat", "y", "loss"} <= set(row)
    # c_1 = f ⊙ c_0 + i ⊙ g with c_0 = 0; h_1 = o ⊙ tanh(c_1): the forward equations by hand
    assert row["c"][0] == pytest.approx(row["i"][0] * row["g"][0], rel=1e-14)
    assert row["h"][0] == pytest.approx(row["o"][0] * np.tanh(row["c"][0]), rel=1e-14)
    gru = dlv("bptt", *GRU_ARGS, "--json").json()
    assert set(gru["grads"]) == {"U", "W", "V", "bh", "c"}
    assert {"r", "z", "n"} <= set(gru["forward"][0]) and "c" not in gru["forward"][0]
    # the per-step contributions add up to the totals
    total_W = np.sum([step["dW"] for step in gru["backward"]], axis=0)
    np.testing.assert_allclose(total_W, gru["grads"]["W"], rtol=1e-12, atol=1e-15)


def _torch_step(torch, cell: str, weights: dict):
    H = np.shape(weights["W"])[1]
    I = np.shape(weights["U"])[1]
    if cell == "lstm":
        net = torch.nn.LSTMCell(I, H, dtype=torch.float64)
    elif cell == "gru":
        net = torch.nn.GRUCell(I, H, dtype=torch.float64)
    else:
        net = torch.nn.RNNCell(I, H, nonlinearity=cell.split("-")[1], dtype=torch.float64)
    with torch.no_grad():
        net.weight_ih.copy_(torch.tensor(weights["U"], dtype=torch.float64))
        net.weight_hh.copy_(torch.tensor(weights["W"], dtype=torch.float64))
        net.bias_ih.copy_(torch.tensor(weights["b"], dtype=torch.float64))
        net.bias_hh.copy_(torch.tensor(weights["bh"], dtype=torch.float64))
    return net


def test_compare_cells_norms_equal_torch_autograd_jacobians(dlv):
    torch = pytest.importorskip("torch")
    T, H = 20, 4
    result = dlv("bptt", "--compare-cells", "--hidden", H, "--T", T, "--seed", 3, "--json")
    assert result.code == 0, result.stderr
    doc = result.json()
    assert [c["cell"] for c in doc["cells"]] == ["rnn-tanh", "rnn-relu", "lstm", "gru"]
    x = torch.tensor(doc["inputs"]["x"], dtype=torch.float64).reshape(T, 1)
    for entry in doc["cells"]:
        net = _torch_step(torch, entry["cell"], entry["weights"])
        lstm = entry["cell"] == "lstm"
        with torch.no_grad():  # the states h_0..h_T (and c) of the forward pass
            hs, cs = [torch.zeros(1, H, dtype=torch.float64)], [torch.zeros(1, H, dtype=torch.float64)]
            for t in range(T):
                if lstm:
                    h, c = net(x[t : t + 1], (hs[-1], cs[-1]))
                    cs.append(c)
                else:
                    h = net(x[t : t + 1], hs[-1])
                hs.append(h)
        for d in range(T):
            k = T - d

            def tail(h_k, c_k=None, out="h"):
                h = h_k[None]
                c = (cs[k] if c_k is None else c_k[None]) if lstm else None
                for t in range(k, T):
                    if lstm:
                        h, c = net(x[t : t + 1], (h, c))
                    else:
                        h = net(x[t : t + 1], h)
                return (h if out == "h" else c)[0]

            jac = torch.autograd.functional.jacobian(lambda h: tail(h), hs[k][0])
            expected = float(torch.linalg.matrix_norm(jac, ord=2))
            assert entry["jacobian_norms"][d] == pytest.approx(expected, rel=1e-9, abs=1e-300), (entry["cell"], d)
            if lstm:
                jac_c = torch.autograd.functional.jacobian(lambda c: tail(hs[k][0], c, out="c"), cs[k][0])
                assert entry["cell_norms"][d] == pytest.approx(float(torch.linalg.matrix_norm(jac_c, ord=2)), rel=1e-9)
        assert entry["summary"].startswith(entry["cell"] + ":")


def test_compare_cells_text_fits_and_plot_is_written(dlv, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    plot = tmp_path / "cells.png"
    result = dlv("bptt", "--compare-cells", "--hidden", 4, "--T", 20, "--plot", plot)
    assert result.code == 0, result.stderr
    assert plot.stat().st_size > 10_000
    from rich.cells import cell_len

    assert all(cell_len(line.rstrip()) <= 80 for line in result.stdout.splitlines())
    assert "…" not in result.stdout
    assert not re.search(r"(?<![\w/])-\d", result.stdout)  # minus signs are U+2212
    for label in ("rnn-tanh:", "rnn-relu:", "lstm:", "gru:"):
        assert label in result.stdout


def test_clip_matches_torch_clip_grad_norm(dlv):
    torch = pytest.importorskip("torch")
    doc = dlv("bptt", *GRU_ARGS, "--clip", "0.1", "--json").json()
    raw = doc["grads_unclipped"]
    tensors = [torch.tensor(np.asarray(v, dtype=float), requires_grad=True) for v in raw.values()]
    for t, v in zip(tensors, raw.values()):
        t.grad = torch.tensor(np.asarray(v, dtype=float))
    norm = float(torch.nn.utils.clip_grad_norm_(tensors, 0.1))
    clip = doc["clipped"]
    assert clip["norm_before"] == pytest.approx(norm, rel=1e-12)
    assert clip["norm_after"] == pytest.approx(0.1, rel=1e-12)
    assert clip["scale"] == pytest.approx(0.1 / norm, rel=1e-12)
    for t, name in zip(tensors, raw):  # torch divides by norm + 1e-6: equal to about 1e-5 relative
        np.testing.assert_allclose(doc["grads"][name], t.grad.numpy(), rtol=2e-5)
    unclipped = dlv("bptt", *GRU_ARGS, "--clip", "100", "--json").json()
    assert unclipped["clipped"]["scale"] == 1.0 and unclipped["grads"] == unclipped["grads_unclipped"]


def test_clip_on_the_tanh_rnn(dlv):
    args = ["--U", "0.5", "--W", "0.8", "--V", "1.2", "--x", "1,0.5,-1", "--y", "0.2,0.1,0.3"]
    plain = dlv("bptt", *args, "--json").json()["grads"]
    doc = dlv("bptt", *args, "--clip", "0.05", "--json").json()
    norm = float(np.sqrt(sum(np.sum(np.square(v)) for v in plain.values())))  # the global norm by hand
    assert doc["clipped"]["norm_before"] == pytest.approx(norm, rel=1e-12)
    for name, value in plain.items():
        assert doc["grads"][name] == pytest.approx(value * 0.05 / norm, rel=1e-12)
    text = dlv("bptt", *args, "--clip", "0.05")
    assert text.code == 0 and "Gradient clipping by global norm" in text.stdout


@pytest.mark.parametrize("args", [LSTM_ARGS, GRU_ARGS, RELU_ARGS], ids=["lstm", "gru", "relu"])
def test_text_and_markdown(dlv, args, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    text = dlv("bptt", *args, "--truncate", "2")
    assert text.code == 0, text.stderr
    assert "…" not in text.stdout
    assert "Backward pass, gate by gate" in text.stdout and "Totals" in text.stdout
    md = dlv("bptt", *args, "--format", "markdown").stdout
    # every piece of mathematics is inside $…$ and uses ASCII minus there
    assert md.count("$$") % 2 == 0
    for math_part in re.findall(r"\$\$(.+?)\$\$|\$(.+?)\$", md):
        body = math_part[0] or math_part[1]
        assert "−" not in body and body.count("{") == body.count("}")
    if "--cell" in args and args[args.index("--cell") + 1] == "lstm":
        assert "carried through the forget gate" in text.stdout and "δc" in text.stdout


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--cell", "lstm", "--activation", "relu"], "activation relu is for --cell rnn"),
        (["--cell", "gru", "--U", "[[1],[2]]", "--W", "1", "--V", "1", "--x", "1", "--y", "1"], "W is"),
        (["--cell", "gru", "--c0", "1", "--U", "[[1],[2],[3]]", "--W", "[[1],[2],[3]]", "--V", "1", "--x", "1", "--y", "1"], "c0"),
        (["--compare-cells", "--T", "5"], "--hidden"),
        (["--cell", "lstm", "--clip", "0", "--U", "[[1],[2],[3],[4]]", "--W", "[[1],[2],[3],[4]]", "--V", "1", "--x", "1",
          "--y", "1"], "--clip"),
    ],
)
def test_bad_input_exits_2_with_one_error_line(dlv, extra, message):
    result = dlv("bptt", *extra)
    assert result.code == 2
    assert result.stderr.startswith("error:") and message in result.stderr
    assert "Traceback" not in result.stderr
