"""`dlv bptt --cell lstm|gru` read line by line (docs/conventions.md, "Shown numbers and widths").

* Every gate line puts its numbers where its formula's symbols stand, in the formula's
  order (``a_i = U_i x₁ + W_i h₀ + b_i = 0.5 · 1 + 0.1 · 0 + 0.1``): the numbers are
  compared, one by one, with U, x, W, h_(t−1), b, bh from the command line and an LSTM/GRU
  forward pass written here from torch's documented equations (a second implementation,
  sharing no code with dlv).
* Where ``tanh(c_t)`` or ``tanh²(c_t)`` is substituted, the number inside is c_t itself
  (not tanh c_t, which would read as a different c_t).
* Every substituted part has as many terms and factors as the formula it follows.
* At 60 and 80 columns no line is wider than the terminal, no equation line is broken
  inside a bracket pair, and every continuation line starts with ``=`` or an operator; the
  chains still compute as printed once their lines are joined (tests/worked_lines.py).
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

from dlvcli.cli import run

from worked_lines import chain_errors, shown_interval

SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
BOX = re.compile(r"[┏┃┡│└┗━─┌┐┘┬┴┼╇╋┳┻]")
NUMBER = r"\(?−?\d+(?:\.\d+)?(?:e−?\d+)?\)?"

# (cell, U, W, V, b, bh, x, y): the reviewer's runs and random ones (seeded below)
REVIEWER = [
    ("lstm", [[0.5], [0.4], [-0.3], [0.2]], [[0.1], [0.2], [0.3], [-0.4]], 1.2, [0.1, 0, 0.2, -0.1], None, [1, 0.5], [0.2, 0.1]),
    ("gru", [[0.5], [0.1], [-0.3]], [[0.4], [0.2], [0.1]], 1.2, [0.1, 0, 0.2], None, [1, 0.5], [0.2, 0.1]),
]


def random_runs(seed: int = 7, count: int = 4):
    rng = np.random.default_rng(seed)
    runs = []
    for k in range(count):
        cell = ("lstm", "gru")[k % 2]
        G = 4 if cell == "lstm" else 3
        # weights of size ~1.5 so that tanh(c) differs from c in the shown digits
        round2 = lambda a: np.round(a, 2).tolist()  # noqa: E731 (inputs as a student types them)
        runs.append((cell, round2(rng.normal(0, 1.5, (G, 1))), round2(rng.normal(0, 1.5, (G, 1))),
                     float(np.round(rng.normal(0, 1), 2)), round2(rng.normal(0, 1, G)),
                     round2(rng.normal(0, 1, G)) if k >= 2 else None, round2(rng.normal(0, 1, 3)), round2(rng.normal(0, 1, 3))))
    return runs


RUNS = REVIEWER + random_runs()


def argv_of(run_case) -> list[str]:
    cell, U, W, V, b, bh, x, y = run_case
    argv = ["bptt", "--cell", cell, "--U", json.dumps(U), "--W", json.dumps(W), "--V", str(V),
            "--x", ",".join(map(str, x)), "--y", ",".join(map(str, y))]
    if b is not None:
        argv += ["--b", ",".join(map(str, b))]
    if bh is not None:
        argv += ["--bh", ",".join(map(str, bh))]
    return argv


def render(argv, columns, monkeypatch, capsys) -> str:
    monkeypatch.setenv("COLUMNS", str(columns))
    monkeypatch.delenv("NO_COLOR", raising=False)
    code = run(argv)
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def sigmoid(v):
    return 1.0 / (1.0 + math.exp(-v))


def reference_forward(run_case):
    """Per step t (from 1): the gate pre-activations' pieces, the gates, c_t and h_t, written
    from torch.nn.LSTM / torch.nn.GRU's documented equations for a scalar input and state."""
    cell, U, W, V, b, bh, x, y = run_case
    G = len(U)
    b = b or [0.0] * G
    bh = bh or [0.0] * G
    h, c = 0.0, 0.0
    steps = []
    for xt in x:
        ux = [U[k][0] * xt + b[k] for k in range(G)]  # W_ih x + b_ih
        wh = [W[k][0] * h + bh[k] for k in range(G)]  # W_hh h + b_hh
        step = {"x": xt, "h_prev": h, "ux": ux, "wh": wh}
        if cell == "lstm":
            a = [ux[k] + wh[k] for k in range(G)]
            i, f, g, o = sigmoid(a[0]), sigmoid(a[1]), math.tanh(a[2]), sigmoid(a[3])
            c = f * c + i * g
            h = o * math.tanh(c)
            step.update(i=i, f=f, g=g, o=o, c=c)
        else:
            r, z = sigmoid(ux[0] + wh[0]), sigmoid(ux[1] + wh[1])
            n = math.tanh(ux[2] + r * wh[2])
            h = (1 - z) * n + z * h
            step.update(r=r, z=z, n=n)
        step["h"] = h
        steps.append(step)
    return steps


def numbers(text: str) -> list[str]:
    return [m.strip("()") for m in re.findall(NUMBER, text)]


def stands_for(shown: str, value: float) -> bool:
    """The shown number is ``value`` rounded to its digits (tests/worked_lines.py's rule)."""
    interval = shown_interval(shown)
    tol = 1e-12 * max(1.0, abs(value))
    return interval.lo - tol <= value <= interval.hi + tol


def step_of(lines: list[str], forward: bool):
    """(t, line) for every line of the forward (or backward) pass, t from its "Step t" line."""
    section = "Forward pass" if forward else "Backward pass"
    t, inside = None, False
    for line in lines:
        if line.startswith(("Forward pass", "Backward pass", "Gradient clipping")):
            inside = line.startswith(section)
            continue
        m = re.fullmatch(r"\s+Step (\d+)", line)
        if inside and m:
            t = int(m.group(1))
        elif inside and t is not None:
            yield t, line


# ----------------------------------------------------------------------------- substitution


@pytest.mark.parametrize("run_case", RUNS, ids=[f"{r[0]}-{k}" for k, r in enumerate(RUNS)])
def test_gate_lines_put_each_number_where_its_symbol_stands(run_case, monkeypatch, capsys):
    cell, U, W, V, b, bh, x, y = run_case
    text = render(argv_of(run_case), 200, monkeypatch, capsys)
    steps = reference_forward(run_case)
    gates = "ifgo" if cell == "lstm" else "rzn"
    seen = set()
    for t, line in step_of(text.splitlines(), forward=True):
        s, sp = str(t).translate(SUB), str(t - 1).translate(SUB)
        ref = steps[t - 1]
        for k, g in enumerate(gates):
            bias = (f" + b_{g}" if b is not None else "")
            bias_h = (f" + bh_{g}" if bh is not None else "")
            if cell == "lstm":
                formula = f"a_{g} = U_{g} x{s} + W_{g} h{sp}{bias}{bias_h} = "
                expected = [U[k][0], x[t - 1], W[k][0], ref["h_prev"]] + ([b[k]] if b else []) + ([bh[k]] if bh else [])
                shape = r"N · N \+ N · N" + (r" \+ N" if b else "") + (r" \+ N" if bh else "")
            elif line.strip().startswith(f"p_{g} ="):
                formula = f"p_{g} = U_{g} x{s}{bias} = "
                expected, shape = [U[k][0], x[t - 1]] + ([b[k]] if b else []), r"N · N" + (r" \+ N" if b else "")
            elif line.strip().startswith(f"q_{g} ="):
                formula = f"q_{g} = W_{g} h{sp}{bias_h} = "
                expected, shape = [W[k][0], ref["h_prev"]] + ([bh[k]] if bh else []), r"N · N" + (r" \+ N" if bh else "")
            elif g in "rz" and line.strip().startswith(f"{g}{s} ="):
                formula = f"{g}{s} = σ(p_{g} + q_{g}) = "
                expected, shape = [ref["ux"][k], ref["wh"][k]], r"σ\(N \+ N\)"
            elif g == "n" and line.strip().startswith(f"n{s} ="):
                formula = f"n{s} = tanh(p_n + r{s} ⊙ q_n) = "
                expected, shape = [ref["ux"][2], ref["r"], ref["wh"][2]], r"tanh\(N \+ N ⊙ N\)"
            else:
                continue
            if not line.strip().startswith(formula.split(" = ")[0] + " ="):
                continue
            assert line.strip().startswith(formula), f"formula's terms out of order: {line.strip()}"
            substituted = line.strip()[len(formula):].split(" = ")[0]
            assert re.fullmatch(shape.replace("N", NUMBER), substituted), f"{substituted!r} is not {shape}: {line.strip()}"
            shown = numbers(substituted)
            assert len(shown) == len(expected)
            for got, want in zip(shown, expected):
                assert stands_for(got, want), f"{got} put in where {want:.6g} stands: {line.strip()}"
            seen.add((t, line.strip().split(" =")[0]))
    lines_per_step = 4 if cell == "lstm" else 9
    assert len(seen) == lines_per_step * len(x)


@pytest.mark.parametrize("run_case", [r for r in RUNS if r[0] == "lstm"], ids=lambda r: "lstm")
def test_tanh_of_c_substitutes_c_itself(run_case, monkeypatch, capsys):
    text = render(argv_of(run_case), 200, monkeypatch, capsys)
    steps = reference_forward(run_case)
    checked = 0
    lines = text.splitlines()
    for forward in (True, False):
        for t, line in step_of(lines, forward):
            s = str(t).translate(SUB)
            if not re.match(rf"\s*(h{s}|δc{s}|δa_o) = ", line):
                continue
            for inside in re.findall(rf"tanh²?\(({NUMBER})\)", line.split(" = ", 2)[-1]):
                c = steps[t - 1]["c"]
                inside = inside.strip("()")
                assert stands_for(inside, c), f"tanh({inside}) but c{s} = {c:.6g}: {line.strip()}"
                if abs(math.tanh(c) - c) > 1e-3:  # the test tells c from tanh c here
                    assert not stands_for(inside, math.tanh(c))
                checked += 1
    # per step: h_t, δc_t and δa_o each substitute c_t once
    assert checked == 3 * len(run_case[6])


def _top_terms(text: str) -> list[int]:
    """The factor count of each term of ``text`` outside brackets and ‖…‖: terms split at
    " + " and " − ", factors at " ⊙ ", " · " and at a space between two symbols (U_i x₁)."""
    terms, depth, norm, factors = [], 0, False, 1
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "‖":
            norm = not norm
        elif depth == 0 and not norm and text[i:i + 3] in (" + ", " − "):
            terms.append(factors)
            factors = 1
            i += 3
            continue
        elif depth == 0 and not norm and text[i:i + 3] in (" ⊙ ", " · "):
            factors += 1
            i += 3
            continue
        elif depth == 0 and not norm and ch == " ":
            factors += 1  # side by side: a product
        i += 1
    return terms + [factors]


def _same_terms(formula: str, substituted: str) -> bool:
    """As many terms, each with as many factors, or put in as its value (one number: Wᵀ δa₂)."""
    f, s = _top_terms(formula), _top_terms(substituted)
    return len(f) == len(s) and all(a == b or b == 1 for a, b in zip(f, s))


@pytest.mark.parametrize("run_case", RUNS, ids=[f"{r[0]}-{k}" for k, r in enumerate(RUNS)])
def test_each_substitution_has_the_formulas_terms(run_case, monkeypatch, capsys):
    text = render(argv_of(run_case), 200, monkeypatch, capsys)
    compared = 0
    for line in text.splitlines():
        if BOX.search(line) or ":" in line or " = " not in line:
            continue
        for equation in line.strip().split(",   "):
            parts = equation.split(" = ")
            # lhs = formula = numbers [= …] = value: the formula against the numbers put in
            if len(parts) >= 4 or (len(parts) == 3 and not re.search(r"\d", parts[1]) and re.search(r"[⊙·+]", parts[2])):
                formula, substituted = parts[1], parts[2]
                symbols_left = re.sub(r"tanh²?|σ", "", substituted)
                if re.search(r"\d", formula) or re.search(r"[^\W\d]", symbols_left):
                    continue  # not formula = numbers
                assert _same_terms(formula, substituted), equation
                compared += 1
    assert compared >= 10


# ----------------------------------------------------------------------------- layout


_rng = np.random.default_rng(3)
# hidden size 2 (vectors in the lines), truncation (labelled lines), --clip and --check
LSTM_H2 = ("lstm", np.round(_rng.normal(0, 1, (8, 1)), 2).tolist(), np.round(_rng.normal(0, 1, (8, 2)), 2).tolist(),
           None, None, None, [1, -0.5, 0.3], None)
LAYOUT_RUNS = [argv_of(r) for r in RUNS[:4]] + [
    argv_of(RUNS[0]) + ["--truncate", "1", "--clip", "0.1"],
    argv_of(RUNS[1]) + ["--truncate", "1", "--check"],
    ["bptt", "--cell", "lstm", "--U", json.dumps(LSTM_H2[1]), "--W", json.dumps(LSTM_H2[2]),
     "--V", "[[0.5,-1.0]]", "--x", "1,-0.5,0.3", "--y", "0.2,0.1,0.3"],
]


def layout_errors(text: str, width: int) -> list[str]:
    errors = []
    head_indent = None
    previous = ""
    for line in text.splitlines():
        if not line.strip() or BOX.search(line):
            head_indent, previous = None, line
            continue
        if len(line) > width:
            errors.append(f"wider than {width}: {line!r}")
        indent = len(line) - len(line.lstrip())
        body = line.strip()
        if indent == 0:  # a heading
            head_indent, previous = None, line
            continue
        continuation = head_indent is not None and indent > head_indent and not previous.rstrip().endswith(":")
        if continuation and previous.rstrip().endswith(","):
            previous = line  # the rest of a long vector, under its first entry
            continue
        if continuation:
            if not re.match(r"(=|[+−⊙·/×]) ", body):
                errors.append(f"a continuation that starts with neither = nor an operator: {line!r}")
        else:
            head_indent = indent
        is_equation = " = " in body or body.startswith("= ") or continuation
        if is_equation:
            depth = 0
            for ch in body:
                depth += (ch in "([") - (ch in ")]")
                if depth < 0:
                    errors.append(f"closes a bracket opened on an earlier line: {line!r}")
                    break
            if depth > 0 and not body.endswith(","):  # a long vector may go on after a comma
                errors.append(f"ends inside an open bracket: {line!r}")
        previous = line
    return errors


@pytest.mark.parametrize("columns", [60, 80])
@pytest.mark.parametrize("argv", LAYOUT_RUNS, ids=[f"run{k}" for k in range(len(LAYOUT_RUNS))])
def test_lines_break_at_equals_then_operators(argv, columns, monkeypatch, capsys):
    text = render(argv, columns, monkeypatch, capsys)
    assert layout_errors(text, columns) == []
    assert not text.startswith("\n"), "the output starts with an empty line"
    assert all(line == line.rstrip() for line in text.splitlines() if not BOX.search(line)), "trailing spaces"
    assert chain_errors(text) == []  # the broken lines, joined again, still compute


def test_layout_check_fails_on_the_old_wrapping():
    # the lines as rich's word wrap printed them before (docs/bptt.md, 80 columns)
    old = ("  δa_o = δh₂ ⊙ tanh(c₂) ⊙ o₂(1 − o₂) = (−0.1286) ⊙ (−0.0119) ⊙ 0.5034(1 −\n"
           "  0.5034) = 0.000384\n")
    assert layout_errors(old, 80)
    new = ("  δa_o = δh₂ ⊙ tanh(c₂) ⊙ o₂(1 − o₂)\n"
           "       = (−0.1286) ⊙ tanh(−0.0119) ⊙ 0.5034(1 − 0.5034) = 0.000384\n")
    assert layout_errors(new, 80) == []


def test_the_header_breaks_after_a_comma(monkeypatch, capsys):
    text = render(argv_of(RUNS[0]), 60, monkeypatch, capsys)
    header = text.splitlines()[1:3]
    assert header[0].endswith(","), header
    assert " ".join(h.strip() for h in header) == \
        "input size 1, hidden size 1, output size 1, sequence length 2, loss half-sse, full BPTT"
