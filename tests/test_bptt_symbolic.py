"""``dlv bptt --symbolic``: the symbols equal the numbers.

Oracles: (1) dlv's numeric BPTT (``dlvcli.core.bptt``), (2) a complex-step finite
difference written here (f'(θ) = Im E(θ + iε)/ε with ε = 1e-20, the finite difference
whose error is O(ε²) with no cancellation, so it is good to ~1e-15), and (3) the
closed forms printed in docs/bptt.md / the course (typed in by hand below).
"""

from __future__ import annotations

import cmath
import itertools
import json
import math
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from dlvcli.core import bptt_symbolic as sym_core

GOLDEN = Path(__file__).parent / "golden"
STEP = 1e-20
PARAMS = ("W", "U", "V", "b", "c")


# --------------------------------------------------------------------------- the oracle: complex step


def step_loss(p: dict, x: list, y: list, t: int, K: int | None, loss: str, h_real: list) -> complex:
    """E_t of the scalar RNN with parameters p (complex allowed).

    Truncated (K): E_t runs steps t−K+1..t from the unperturbed h_(t−K), which is what
    truncated BPTT differentiates (a stop-gradient there).
    """
    start = 0 if K is None else max(0, t - K)
    h = h_real[start] if start > 0 else p["h0"]
    for k in range(start + 1, t + 1):
        h = cmath.tanh(p["U"] * x[k - 1] + p["W"] * h + p.get("b", 0))
    z = p["V"] * h + p.get("c", 0)
    if loss == "half-sse":
        return 0.5 * (z - y[t - 1]) ** 2
    # softmax over one output: −log(exp(z)/exp(z)) = 0 for every z
    return -cmath.log(cmath.exp(z) / cmath.exp(z))


def complex_step_gradient(p: dict, x, y, t, K, loss, name) -> float:
    h_real = [p["h0"]]
    for k in range(1, len(x) + 1):
        h_real.append(float(cmath.tanh(p["U"] * x[k - 1] + p["W"] * h_real[-1] + p.get("b", 0)).real))
    shifted = dict(p)
    shifted[name] = p[name] + 1j * STEP
    return step_loss(shifted, x, y, t, K, loss, h_real).imag / STEP


def evaluate_sympy(text: str, p: dict, x: list, y: list, T: int) -> float:
    """The JSON string with h_t replaced by tanh(U·x_t + W·h_(t−1) [+ b]), t = T..1, then numbers."""
    sympy = pytest.importorskip("sympy")
    names = ["U", "W", "V", "b", "c", "h0"] + [f"{s}{t}" for s in "xyh" for t in range(1, T + 1)]
    symbols = {n: sympy.Symbol(n) for n in names}
    expr = sympy.parse_expr(text, local_dict=symbols)
    numbers = {symbols[k]: v for k, v in p.items()}
    if T <= 3:  # literally: h_t → tanh(U·x_t + W·h_(t−1) [+ b]), t = T..1, then numbers
        for t in range(T, 0, -1):
            pre = symbols["U"] * symbols[f"x{t}"] + symbols["W"] * symbols[f"h{t - 1}"] + (symbols["b"] if "b" in p else 0)
            expr = expr.subs(symbols[f"h{t}"], sympy.tanh(pre))
    else:  # the same substitution done numerically (SymPy's nested subs takes seconds at T = 6)
        h = p["h0"]
        for t in range(1, T + 1):
            h = math.tanh(p["U"] * x[t - 1] + p["W"] * h + p.get("b", 0))
            numbers[symbols[f"h{t}"]] = h
    numbers.update({symbols[f"x{t}"]: x[t - 1] for t in range(1, T + 1)})
    numbers.update({symbols[f"y{t}"]: y[t - 1] for t in range(1, T + 1)})
    leftover = expr.free_symbols - set(numbers)
    assert not leftover, f"symbols outside the contract's list: {leftover}"
    return float(expr.subs(numbers).evalf(30))


CASES = [
    (T, bias, K, loss)
    for T, bias, K, loss in itertools.product(range(1, 7), (False, True), (None, 2), ("half-sse", "softmax-ce"))
    if not (K is not None and K >= T)
]


@pytest.mark.parametrize("T,bias,K,loss", CASES)
def test_every_json_expression_equals_dlv_and_complex_step(dlv, T, bias, K, loss):
    from dlvcli.core.bptt import bptt as numeric

    rng = random.Random(1000 * T + 10 * bias + (K or 0) + (loss == "softmax-ce"))
    p = {name: rng.uniform(-1.2, 1.2) for name in ("U", "W", "V")}
    p["h0"] = rng.uniform(-0.5, 0.5)
    if bias:
        p["b"], p["c"] = rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5)
    x = [rng.uniform(-1, 1) for _ in range(T)]
    y = [rng.uniform(-1, 1) for _ in range(T)] if loss == "half-sse" else [0] * T

    args = ["bptt", "--symbolic", "--T", T, "--loss", loss, "--json"] + (["--bias"] if bias else [])
    args += ["--truncate", K] if K else []
    out = dlv(*args)
    assert out.code == 0, out.stderr
    doc = out.json()
    assert [row["t"] for row in doc["symbolic"]] == list(range(1, T + 1))

    result = numeric(p["U"], p["W"], p["V"], x, y, b=p.get("b"), c=p.get("c"), h0=p["h0"], loss=loss, truncate=K)
    names = [n for n in PARAMS if n in p]
    for row in doc["symbolic"]:
        t = row["t"]
        assert set(row) == {"t"} | {f"d{n}" for n in names}
        step = result.per_step[t - 1]
        for name in names:
            got = evaluate_sympy(row[f"d{name}"], p, x, y, T)
            dlv_value = float(getattr(step, f"d{name}").ravel()[0])
            fd = complex_step_gradient(p, x, y, t, K, loss, name)
            assert got == pytest.approx(dlv_value, abs=1e-10), (t, name, row[f"d{name}"])
            assert got == pytest.approx(fd, abs=1e-10), (t, name, row[f"d{name}"])
    for name in names:
        got = evaluate_sympy(doc["symbolic_total"][f"d{name}"], p, x, y, T)
        fd = sum(complex_step_gradient(p, x, y, t, K, loss, name) for t in range(1, T + 1))
        assert got == pytest.approx(float(result.grads[name]), abs=1e-10)
        assert got == pytest.approx(fd, abs=1e-10)


# --------------------------------------------------------------------------- matrix form


@pytest.mark.parametrize("loss,bias,K", [("half-sse", True, None), ("softmax-ce", True, 2), ("softmax-ce", False, None)])
def test_matrix_trees_evaluate_to_dlv_gradients(loss, bias, K):
    """The matrix form's trees (the text form in JSON, and the δ outer-product form) as numbers."""
    np = pytest.importorskip("numpy")
    from dlvcli.core.bptt import bptt as numeric

    rng = np.random.default_rng(7)
    H, I, O, T = 3, 2, 3, 4
    U, W, V = rng.normal(size=(H, I)), rng.normal(size=(H, H)) * 0.6, rng.normal(size=(O, H))
    b, c = (rng.normal(size=H), rng.normal(size=O)) if bias else (None, None)
    x = rng.normal(size=(T, I))
    y = rng.integers(0, O, size=T).tolist() if loss == "softmax-ce" else rng.normal(size=(T, O))
    result = numeric(U, W, V, x, y, b=b, c=c, h0=rng.normal(size=H), loss=loss, truncate=K)
    env = sym_core.values_from_result(result)
    derivation = sym_core.derive(T, loss=loss, bias=bias, truncate=K, matrix=True)
    for step in derivation.steps:
        for name, der in step.params.items():
            want = np.reshape(getattr(result.per_step[step.t - 1], f"d{name}"), -1)
            for form in [f for f in der.forms if f.numeric]:
                got = np.reshape(sym_core.evaluate(form.expr, env), -1)
                np.testing.assert_allclose(got, want, atol=1e-12, err_msg=f"t={step.t} {name} {form.note}")
    for name, der in derivation.totals.items():
        got = np.reshape(sym_core.evaluate(der.closed, env), -1)
        np.testing.assert_allclose(got, np.reshape(result.grads_matrix[name], -1), atol=1e-12)


def test_matrix_form_is_named_in_json(dlv):
    out = dlv("bptt", "--symbolic", "--T", 2, "--hidden", 3, "--json")
    doc = out.json()
    assert doc["symbolic_form"] == "matrix"
    assert doc["symbolic"][1]["dW"] == "diag(1 − h₂²)·Vᵀ(ŷ₂ − y₂)h₁ᵀ + diag(1 − h₁²)·Wᵀ·diag(1 − h₂²)·Vᵀ(ŷ₂ − y₂)h₀ᵀ"


# --------------------------------------------------------------------------- the printed forms


def closed_forms(text: str) -> list[str]:
    """The last line of each ∂E_t/∂W block (its closed form) in the text output."""
    lines = text.splitlines()
    found = []
    for i, line in enumerate(lines):
        if line.strip().startswith("∂E") and line.strip().endswith("/∂W") and "_t" not in line and "∂E/" not in line:
            j = i + 1
            while j < len(lines) and lines[j].startswith("    ="):
                j += 1
            found.append(lines[j - 1].strip()[2:])
    return found


def test_closed_forms_match_the_contract_character_for_character(dlv):
    out = dlv("bptt", "--symbolic", "--T", 3)
    assert out.code == 0
    forms = closed_forms(out.stdout)
    assert forms == (GOLDEN / "bptt_symbolic_closed_T3.txt").read_text(encoding="utf-8").splitlines()
    # docs/bptt.md, typed in by hand from the page:
    assert forms[2] == "(ŷ₃ − y₃)·V·(1 − h₃²)·[h₂ + W(1 − h₂²)·(h₁ + W(1 − h₁²)·h₀)]"


def test_t2_prints_part_b_only(dlv):
    out = dlv("bptt", "--symbolic", "--T", 3, "--t", 2)
    assert out.code == 0
    assert out.stdout.lstrip().startswith("(b) t = 2")
    for other in ("(a)", "(c)", "Totals", "general formula", "vanish", "∂E₁/∂", "∂E₃/∂"):
        assert other not in out.stdout
    assert "(ŷ₂ − y₂)·V·(1 − h₂²)·[h₁ + W(1 − h₁²)·h₀]" in out.stdout
    doc = dlv("bptt", "--symbolic", "--T", 3, "--t", 2, "--json").json()
    assert [row["t"] for row in doc["symbolic"]] == [2]


def test_truncation_shows_in_the_sums(dlv):
    out = dlv("bptt", "--symbolic", "--T", 3, "--truncate", 2, "--t", 3)
    assert "Σ_(k=2..3)" in out.stdout
    assert "(ŷ₃ − y₃)·V·(1 − h₃²)·[h₂ + W(1 − h₂²)·h₁]" in out.stdout


@pytest.mark.parametrize("columns", [60, 80])
def test_text_fits_the_terminal(dlv, monkeypatch, columns):
    from rich.cells import cell_len

    monkeypatch.setenv("COLUMNS", str(columns))
    for extra in ([], ["-c", Path(__file__).parent.parent / "sample_inputs" / "bptt_course.yaml"], ["--hidden", 3],
                  ["--bias", "--truncate", 3]):
        args = ["bptt", "--symbolic", "--T", 6] if not extra or extra[0] != "-c" else ["bptt", "--symbolic"]
        out = dlv(*args, *extra)
        assert out.code == 0, out.stderr
        wide = [line for line in out.stdout.splitlines() if cell_len(line.rstrip()) > columns]
        assert not wide, wide[:3]
        assert "…" not in out.stdout


def test_numbers_follow_each_line(dlv):
    """With numbers: the closed form, its substitution, then dlv's value (the course's ∂E₃/∂W)."""
    path = Path(__file__).parent.parent / "sample_inputs" / "bptt_course.yaml"
    out = dlv("bptt", "--symbolic", "-c", path, "--t", 3)
    lines = [line.strip() for line in out.stdout.splitlines()]
    i = lines.index("= (ŷ₃ − y₃)·V·(1 − h₃²)·[h₂ + W(1 − h₂²)·(h₁ + W(1 − h₁²)·h₀)]")
    assert lines[i + 1].startswith("= (−0.0710 − 0.3)·1.2·(1 − (−0.0592)²)·[0.5509")
    # the value: dlv's numeric ∂E₃/∂W for the course (−0.358687…, as plain `dlv bptt` prints it)
    assert "= −0.3587" in lines[i + 1:i + 4]


@pytest.mark.parametrize("args,needle", [
    (["--symbolic"], "--T"),
    (["--symbolic", "--T", 3, "--t", 4], "--t 4"),
    (["--T", 3, "--t", 2], "--symbolic"),
    (["--symbolic", "--T", 3, "--U", 0.5], "missing"),
    (["--symbolic", "--U", 0.5, "--W", 0.8, "--V", 1, "--x", "1,2", "--y", "0,0", "--T", 3], "--T 3"),
])
def test_bad_input_exits_2(dlv, args, needle):
    out = dlv("bptt", *args)
    assert out.code == 2
    assert out.stderr.startswith("error:") and needle in out.stderr
    assert "Traceback" not in out.stderr


def test_sympy_is_never_imported():
    """Start-up stays as it is: neither --help, numeric bptt nor --symbolic imports sympy."""
    sample = Path(__file__).parent.parent / "sample_inputs" / "bptt_course.yaml"
    code = (
        "import sys, io, contextlib\n"
        "from dlvcli.cli import run\n"
        "for argv in (['--help'], ['bptt', '--help'], ['bptt', '-c', sys.argv[1]], ['bptt', '--symbolic', '--T', '3']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        try: run(argv)\n"
        "        except SystemExit: pass\n"
        "    assert 'sympy' not in sys.modules, argv\n"
        "print('numpy' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(sample)], capture_output=True, text=True, env=dict(os.environ))
    assert done.returncode == 0, done.stderr


def test_symbols_alone_need_no_numpy():
    code = (
        "import sys, io, contextlib\nfrom dlvcli.cli import run\n"
        "with contextlib.redirect_stdout(io.StringIO()): run(['bptt', '--symbolic', '--T', '3', '--json'])\n"
        "assert 'numpy' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_json_strings_use_only_the_contract_symbols(dlv):
    doc = dlv("bptt", "--symbolic", "--T", 4, "--bias", "--json").json()
    allowed = {"U", "W", "V", "b", "c", "h0", "tanh"} | {f"{s}{t}" for s in "xyh" for t in range(1, 5)}
    import re

    for row in doc["symbolic"] + [doc["symbolic_total"]]:
        for key, text in row.items():
            if key != "t":
                assert set(re.findall(r"[A-Za-z_]\w*", text)) <= allowed, text
    json.dumps(doc)
