"""Seeded random problems for ``dlv generate`` and the byte-stable YAML they are printed as.

Every generator draws from a :class:`random.Random` (one stream seeded with the user's
seed; with a roster, one per student and problem, seeded by a hash of the three), only
through ``randint``, ``random``, ``choice``, ``shuffle`` and ``sample`` (whose results are
the same on every platform for a given seed), and its numbers are short decimals built
from integers. Expected answers come from solving the problems (:mod:`dlvcli.sheets.answers`)
and are written with 10 significant digits, so a difference in the last bit of a
floating-point result between two machines cannot change the printed sheet; the default
tolerance (max(1e-9, 1e-6·|expected|)) covers the rounding.

The problems are well-posed by construction: boxes have positive width and height,
a ranked table has at least one true positive and at least as many ground-truth objects,
a transposed convolution's output is at least 1×1, probabilities lie strictly in (0, 1).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any, Callable

# size options of `dlv generate` (their ranges are declared on the options): name → (commands, default)
SIZE_OPTIONS: dict[str, tuple[tuple[str, ...], int]] = {
    "detections": (("interp-ap",), 10),
    "steps": (("bptt",), 3),
    "hidden": (("bptt",), 1),
    "probs": (("focal",), 3),
    "boxes": (("box-compare",), 2),
    "size": (("tconv",), 3),
}

LARGE_ANSWER = 1000.0
SIGNIFICANT_DIGITS = 10


@dataclass
class Draft:
    """A generated problem before its answers are known.

    ``options`` are the command's options in the order printed; ``expect_keys(document)``
    picks the dotted keys to expect from the command's JSON.
    """

    id: str
    command: str
    options: list[tuple[str, Any]]
    expect_keys: Callable[[dict], list[str]]
    comment: str | None = None


def _decimal(rng: random.Random, low: int, high: int, scale: int = 10, nonzero: bool = False) -> float:
    """A number k/scale with integer k in [low, high] (so short decimals such as 0.3, −1.2)."""
    while True:
        k = rng.randint(low, high)
        if k or not nonzero:
            return k / scale


def _matrix(rng: random.Random, rows: int, cols: int, low: int, high: int, scale: int = 10) -> list[list[float]]:
    return [[_decimal(rng, low, high, scale) for _ in range(cols)] for _ in range(rows)]


# ---------------------------------------------------------------------------- generators
#
# Problems worth solving (docs/sheets.md): a tconv input and kernel are never 1×1 and are
# often not square; in every five box pairs at least four overlap (IoU > 0), the fifth
# may not (GIoU's case); truncate, when given, is 2 ≤ K < T; AP tables sometimes tie in
# score; focal problems take two or three γ and both targets; signs are mixed.


def _mixed(rng: random.Random, count: int, low: int, high: int, scale: int = 10) -> list[float]:
    """``count`` nonzero short decimals in [low, high]/scale with both signs when count ≥ 2."""
    while True:
        values = [_decimal(rng, low, high, scale, nonzero=True) for _ in range(count)]
        if count < 2 or (min(values) < 0 < max(values)):
            return values


def interp_ap(rng: random.Random, problem_id: str, sizes: dict[str, int]) -> Draft:
    """Mode A inline: ``detections`` TP/FP flags in rank order, or with scores (sometimes tied) in random order."""
    n = sizes["detections"]
    tp = [1 if rng.random() < 0.5 else 0 for _ in range(n)]
    if not any(tp):
        tp[rng.randint(0, n - 1)] = 1
    num_gt = sum(tp) + rng.randint(0, 2)
    options: list[tuple[str, Any]] = []
    if rng.random() < 0.5:
        digits = 2 if n <= 60 else 3 if n <= 600 else 4
        scores = sorted(rng.sample(range(1, 10**digits), n), reverse=True)  # rank i has the i-th score
        if n >= 3 and rng.random() < 0.4:  # a tie: two detections share a score (their order in the list decides)
            i = rng.randint(0, n - 2)
            scores[i + 1] = scores[i]
        order = list(range(n))
        rng.shuffle(order)  # the detections listed in random order
        options += [("tp", [tp[i] for i in order]), ("score", [scores[i] / 10**digits for i in order])]
    else:
        options.append(("tp", tp))
    method = rng.choice(["11point", "11point", "11point", "allpoint", "allpoint", "101point"])
    options += [("num-gt", num_gt), ("method", method), ("exact", True)]
    return Draft(
        id=problem_id,
        command="interp-ap",
        options=options,
        expect_keys=lambda doc: ["map", "classes.0.ap_exact"],
        comment=f"{n} detections, {sum(tp)} true positives, {num_gt} ground-truth objects",
    )


def bptt(rng: random.Random, problem_id: str, sizes: dict[str, int]) -> Draft:
    """A tanh RNN over ``steps`` time steps: scalars when ``hidden`` is 1, else n×n matrices."""
    steps, n = sizes["steps"], sizes["hidden"]
    options: list[tuple[str, Any]] = []
    if n == 1:
        loss = "half-sse"
        u, w, v = _mixed(rng, 3, -10, 10)
        options += [("U", u), ("W", w), ("V", v)]
        x: Any = _mixed(rng, steps, -10, 10)
        y: Any = _mixed(rng, steps, -10, 10)
        h0: Any = _decimal(rng, -5, 5, nonzero=True) if rng.random() < 0.3 else None
        biases = rng.random() < 0.25
        b: Any = _decimal(rng, -5, 5, nonzero=True) if biases else None
        c: Any = _decimal(rng, -5, 5, nonzero=True) if biases else None
    else:
        loss = rng.choice(["half-sse", "softmax-ce"])
        options += [("U", _matrix(rng, n, n, -10, 10)), ("W", _matrix(rng, n, n, -5, 5)), ("V", _matrix(rng, n, n, -10, 10))]
        x = _matrix(rng, steps, n, -10, 10)
        y = [rng.randint(0, n - 1) for _ in range(steps)] if loss == "softmax-ce" else _matrix(rng, steps, n, -10, 10)
        h0 = [_decimal(rng, -5, 5) for _ in range(n)] if rng.random() < 0.3 else None
        biases = rng.random() < 0.25
        b = [_decimal(rng, -5, 5) for _ in range(n)] if biases else None
        c = [_decimal(rng, -5, 5) for _ in range(n)] if biases else None
    options += [("x", x), ("y", y)]
    if h0 is not None:
        options.append(("h0", h0))
    if biases:
        options += [("b", b), ("c", c)]
    if loss != "half-sse":
        options.append(("loss", loss))
    if steps >= 3 and rng.random() < 0.25:
        options.append(("truncate", rng.randint(2, steps - 1)))  # K = 1 would leave only the last term
    names = ["U", "W", "V"] + (["b", "c"] if biases else [])
    return Draft(
        id=problem_id,
        command="bptt",
        options=options,
        expect_keys=lambda doc: ["loss"] + [f"grads.{name}" for name in names],
    )


def focal(rng: random.Random, problem_id: str, sizes: dict[str, int]) -> Draft:
    """``probs`` predictions (probabilities, or logits of both signs) for one target, two or three γ, sometimes α."""
    count = sizes["probs"]
    options: list[tuple[str, Any]] = []
    if rng.random() < 0.3:
        logits = [k / 10 for k in sorted(rng.sample(range(-40, 41), count))]
        if count >= 2 and not min(logits) < 0 < max(logits):
            logits[0] = -abs(logits[0]) or -0.5
            logits.sort()
        options.append(("logit", logits))
    else:
        options.append(("p", [k / 100 for k in sorted(rng.sample(range(1, 100), count))]))
    options.append(("target", rng.choice([0, 1])))
    options.append(("gamma", sorted(rng.sample([0, 0.5, 1, 2, 5], rng.choice([2, 2, 3])))))
    alpha = rng.choice([None, 0.25, 0.25, 0.5, 0.75])
    if alpha is not None:
        options.append(("alpha", alpha))

    def keys(doc: dict) -> list[str]:
        rows = doc.get("rows") or []
        return [f"rows.{i}.{name}" for i in range(len(rows)) for name in ("ce", "fl", "modulating_factor")]

    return Draft(id=problem_id, command="focal", options=options, expect_keys=keys)


def _box_text(box: list[float]) -> str:
    return ",".join(number_yaml(v) for v in box)


def box_compare(rng: random.Random, problem_id: str, sizes: dict[str, int]) -> Draft:
    """A reference box A and ``boxes`` boxes B (integer corners) that overlap it, bar at most one in five."""
    wa, ha = rng.randint(2, 6), rng.randint(2, 6)
    a = [rng.randint(-3, 6), rng.randint(-3, 6)]
    a += [a[0] + wa, a[1] + ha]
    bs = []
    for i in range(sizes["boxes"]):
        wb, hb = rng.randint(1, 6), rng.randint(1, 6)
        if i % 5 == 4 and rng.random() < 0.5:  # the fifth of five may miss A: IoU 0, GIoU < 0
            x1 = a[2] + rng.randint(0, 2) if rng.random() < 0.5 else a[0] - wb - rng.randint(0, 2)
            y1 = rng.randint(a[1] - hb + 1, a[3] - 1)
        else:  # the corner where B overlaps A by at least 1 on both axes
            x1 = rng.randint(a[0] - wb + 1, a[2] - 1)
            y1 = rng.randint(a[1] - hb + 1, a[3] - 1)
        bs.append([x1, y1, x1 + wb, y1 + hb])
    box_format = rng.choice(["xyxy", "xyxy", "xywh", "cxcywh"])

    def written(xyxy: list[int]) -> list[float]:
        x1, y1, x2, y2 = xyxy
        if box_format == "xywh":
            return [x1, y1, x2 - x1, y2 - y1]
        if box_format == "cxcywh":
            return [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1]
        return list(xyxy)

    options: list[tuple[str, Any]] = [("a", _box_text(written(a))), ("b", [_box_text(written(b)) for b in bs])]
    if box_format != "xyxy":
        options.append(("box-format", box_format))

    def keys(doc: dict) -> list[str]:
        return [f"pairs.{i}.{name}" for i in range(len(doc.get("pairs") or [])) for name in ("iou", "giou", "diou", "ciou", "l2")]

    return Draft(id=problem_id, command="box-compare", options=options, expect_keys=keys)


def _not_one_by_one(rng: random.Random, low: int, high: int) -> tuple[int, int]:
    while True:
        pair = rng.randint(low, high), rng.randint(low, high)
        if pair != (1, 1):
            return pair


def tconv(rng: random.Random, problem_id: str, sizes: dict[str, int]) -> Draft:
    """An H×W input (H, W ≤ ``size``, not 1×1) of small integers, a kernel up to 3×3 (not 1×1), stride, padding, output padding."""
    size = sizes["size"]
    height, width = _not_one_by_one(rng, 1, size) if rng.random() < 0.3 else (rng.randint(2, size),) * 2
    kh, kw = _not_one_by_one(rng, 1, 3) if rng.random() < 0.3 else (rng.randint(2, 3),) * 2
    stride = rng.randint(1, 3)
    dilation = 2 if rng.random() < 0.2 else 1
    output_padding = rng.randint(0, max(stride, dilation) - 1)
    # the output must be at least 1: 2p ≤ (H − 1)·s + d·(k − 1) + op on both axes
    room = min((height - 1) * stride + dilation * (kh - 1), (width - 1) * stride + dilation * (kw - 1)) + output_padding
    padding = rng.randint(0, min(2, room // 2))
    x = [[rng.randint(-3, 3) for _ in range(width)] for _ in range(height)]
    k = [[rng.randint(-2, 2) for _ in range(kw)] for _ in range(kh)]
    if not any(any(row) for row in k):
        k[0][0] = 1
    options: list[tuple[str, Any]] = [("x", x), ("k", k), ("stride", stride)]
    if padding:
        options.append(("padding", padding))
    if output_padding:
        options.append(("output-padding", output_padding))
    if dilation != 1:
        options.append(("dilation", dilation))
    return Draft(id=problem_id, command="tconv", options=options, expect_keys=lambda doc: ["output_shape", "output"])


GENERATORS: dict[str, Callable[[random.Random, str, dict[str, int]], Draft]] = {
    "interp-ap": interp_ap,
    "bptt": bptt,
    "focal": focal,
    "box-compare": box_compare,
    "tconv": tconv,
}


def drafts(command: str, seed: int, count: int, sizes: dict[str, int]) -> list[Draft]:
    """``count`` problems of ``command`` from one stream seeded with ``seed`` (ids ``COMMAND-sSEED-1``…)."""
    rng = random.Random(seed)
    make = GENERATORS[command]
    return [make(rng, f"{command}-s{seed}-{i + 1}", sizes) for i in range(count)]


def variant_seed(seed: int, student: str, problem: str) -> int:
    """The seed of one student's variant of one problem: a hash of (seed, student, problem) alone,
    so a student's problems do not depend on who else is on the roster, nor on its order."""
    import hashlib

    digest = hashlib.sha256(f"dlv-roster\0{seed}\0{student}\0{problem}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


def roster_drafts(command: str, seed: int, count: int, sizes: dict[str, int], students: list[str]) -> list[tuple[str, Draft]]:
    """For each student, ``count`` problems ``COMMAND-1``…, each drawn from its own :func:`variant_seed`.

    Returns (student, draft) pairs with draft ids ``STUDENT/COMMAND-i``.
    """
    make = GENERATORS[command]
    out = []
    for student in students:
        for i in range(count):
            problem = f"{command}-{i + 1}"
            out.append((student, make(random.Random(variant_seed(seed, student, problem)), f"{student}/{problem}", sizes)))
    return out


# ---------------------------------------------------------------------------- answers and YAML


def round_answer(value: Any) -> Any:
    """A JSON value with every float cut to 10 significant digits (what the sheet prints)."""
    if isinstance(value, float):
        return float(f"{value:.{SIGNIFICANT_DIGITS}g}")
    if isinstance(value, list):
        return [round_answer(v) for v in value]
    if isinstance(value, dict):
        return {k: round_answer(v) for k, v in value.items()}
    return value


def largest_number(value: Any) -> float:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return 0.0
    if isinstance(value, (int, float)):
        return abs(float(value))
    if isinstance(value, list):
        return max((largest_number(v) for v in value), default=0.0)
    if isinstance(value, dict):
        return max((largest_number(v) for v in value.values()), default=0.0)
    return 0.0


_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]*")
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n"}


def number_yaml(value: float | int) -> str:
    """A number as YAML reads it back: 10 significant digits, exponents with a '.' (``1.0e-07``)."""
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, int):
        return str(value)
    text = f"{value:.{SIGNIFICANT_DIGITS}g}"
    if text in ("nan", "inf", "-inf"):
        raise ValueError(f"{value} is not a finite number")
    if text == "-0":
        return "0"
    if "e" in text:
        mantissa, exponent = text.split("e")
        if "." not in mantissa:
            mantissa += ".0"
        text = f"{mantissa}e{exponent}"
    return text


def value_yaml(value: Any) -> str:
    """A YAML flow value: numbers, strings (quoted when they could read as something else), lists."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return number_yaml(value)
    if isinstance(value, str):
        if _PLAIN.fullmatch(value) and value.lower() not in _YAML_WORDS:
            return value
        import json

        return json.dumps(value, ensure_ascii=True)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(value_yaml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{value_yaml(str(k))}: {value_yaml(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} in a sheet")


@dataclass(frozen=True)
class GeneratedProblem:
    id: str
    command: str
    options: list[tuple[str, Any]]
    expect: list[tuple[str, Any]]
    comment: str | None = None
    student: str | None = None


def sheet_yaml(problems: list[GeneratedProblem], header: list[str]) -> str:
    """The sheet as YAML text, written by hand so that the bytes depend on nothing but the values."""
    lines = [f"# {text}" for text in header]
    for problem in problems:
        lines.append("")
        if problem.comment:
            lines.append(f"# {problem.comment}")
        lines.append(f"- id: {value_yaml(problem.id)}")
        if problem.student is not None:
            lines.append(f"  student: {value_yaml(problem.student)}")
        lines.append(f"  command: {problem.command}")
        for key, value in problem.options:
            lines.append(f"  {key}: {value_yaml(value)}")
        lines.append("  expect:")
        for key, value in problem.expect:
            lines.append(f"    {key}: {value_yaml(value)}")
    return "\n".join(lines) + "\n"
