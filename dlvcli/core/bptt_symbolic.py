"""BPTT in symbols: ∂E_t/∂θ for the tanh RNN as the course derives it, part by part.

The model is the one of :mod:`dlvcli.core.bptt`::

    a_t = U x_t + W h_{t-1} + b     h_t = tanh(a_t)     z_t = V h_t + c
    ŷ_t = z_t (half-sse) or softmax(z_t) (softmax-ce),  ∂E_t/∂z_t = ŷ_t − y_t

For each step t and parameter θ this module builds the derivation a student writes,
as expression trees (not strings), so that one tree gives the text, the LaTeX and the
SymPy-syntax string (printers in :mod:`dlvcli.render.bptt_symbolic`), and the same tree
can be evaluated with numbers (:func:`evaluate`) — the tests check that every printed
form equals the numeric gradient.

Scalar model (U, W, V numbers), θ = W (for U read x_k for h_{k−1}, for b read 1)::

    ∂E_t/∂W = Σ_{k} ∂E_t/∂ŷ_t · ∂ŷ_t/∂h_t · (Π_{j=k+1..t} ∂h_j/∂h_{j−1}) · ∂⁺h_k/∂W
            = (ŷ_t − y_t)·V·( Σ_k (1 − h_t²)W ⋯ (1 − h_{k+1}²)W · (1 − h_k²)·h_{k−1} )
            = (ŷ_t − y_t)·V·(1 − h_t²)·[h_{t−1} + W(1 − h_{t−1}²)·(h_{t−2} + …)]   (closed, nested)

with k = 1..t, or k = max(1, t−K+1)..t for truncated BPTT (window K).  Matrix model:
D_j = diag(1 − h_j²), ∂h_j/∂h_{j−1} = D_j W, and ∂E_t/∂W = Σ_k δ_k h_{k−1}ᵀ with
δ_t = D_t Vᵀ(ŷ_t − y_t), δ_k = D_k Wᵀ δ_{k+1} (a sum of outer products).

Pure Python: nothing here imports numpy (or SymPy) at module level, so the symbols
alone cost no more than the CLI's start-up; :func:`evaluate` imports numpy only for
matrices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

LOSSES = ("half-sse", "softmax-ce")
PART_LETTERS = "abcdefghijklmnopqrstuvwxyz"

_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def subscript(n: int) -> str:
    """12 → '₁₂'."""
    return str(n).translate(_SUB)


# --------------------------------------------------------------------------- expression nodes


class Expr:
    """A node of an expression tree (immutable)."""


@dataclass(frozen=True)
class Sym(Expr):
    """A symbol: ``name`` with an optional subscript (a step number or an index text such as 'k−1').

    ``key`` names its value in an environment (``h3``, ``W``); a symbol without a value of
    its own (ŷ_t, δ_k) has a ``definition`` that the evaluator and the SymPy printer use.
    ``given``: a value the user supplies (shown compactly), as opposed to a computed one.
    ``kind``: 'scalar', 'vector' or 'matrix' (how the LaTeX/text printers may decorate it).
    """

    name: str
    sub: int | str | None = None
    key: str | None = None
    definition: Expr | None = None
    given: bool = False
    hat: bool = False
    sup: str | None = None  # a superscript label, e.g. '(3)' in δ_k^(3)


@dataclass(frozen=True)
class Const(Expr):
    value: float
    text: str


@dataclass(frozen=True)
class Add(Expr):
    terms: tuple[Expr, ...]


@dataclass(frozen=True)
class Sub(Expr):
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Mul(Expr):
    """A product; ``joins[i]`` goes between factors i and i+1: '·' or '' (juxtaposition)."""

    factors: tuple[Expr, ...]
    joins: tuple[str, ...]


@dataclass(frozen=True)
class Pow(Expr):
    base: Expr
    exponent: int


@dataclass(frozen=True)
class Paren(Expr):
    """Explicit grouping as the textbook writes it: '(' or '['."""

    body: Expr
    bracket: str = "("


@dataclass(frozen=True)
class Func(Expr):
    """tanh(·) (elementwise) or diag(·) (a vector as a diagonal matrix)."""

    name: str
    arg: Expr


@dataclass(frozen=True)
class Transpose(Expr):
    body: Expr


@dataclass(frozen=True)
class Deriv(Expr):
    """A partial derivative written as a fraction, ∂num/∂den (∂⁺ for the immediate one).

    ``meaning`` is what it equals in this model; the evaluator and the substituting
    printers use it.  ``transpose``: written (∂num/∂den)ᵀ.
    """

    num: Sym
    den: Sym
    meaning: Expr | None = None
    plus: bool = False
    transpose: bool = False


@dataclass(frozen=True)
class BigOp(Expr):
    """Σ or Π over an index: display only (the body holds symbolic subscripts)."""

    op: str  # 'sum' | 'prod'
    var: str
    low: str
    high: str
    body: Expr


def mul(*factors: Expr, join: str = "·") -> Mul:
    return Mul(tuple(factors), tuple(join for _ in factors[1:]))


def add(*terms: Expr) -> Expr:
    return terms[0] if len(terms) == 1 else Add(tuple(terms))


def symbols_in(expr: Expr) -> set[str]:
    """The environment keys an expression needs (definitions followed)."""
    found: set[str] = set()

    def walk(e: Expr) -> None:
        if isinstance(e, Sym):
            if e.definition is not None:
                walk(e.definition)
            elif e.key:
                found.add(e.key)
        elif isinstance(e, Deriv):
            if e.meaning is not None:
                walk(e.meaning)
        elif isinstance(e, (Add,)):
            for t in e.terms:
                walk(t)
        elif isinstance(e, Mul):
            for f in e.factors:
                walk(f)
        elif isinstance(e, Sub):
            walk(e.left)
            walk(e.right)
        elif isinstance(e, (Pow,)):
            walk(e.base)
        elif isinstance(e, (Paren, Func, Transpose)):
            walk(e.body if not isinstance(e, Func) else e.arg)
        elif isinstance(e, BigOp):
            raise ValueError("a Σ/Π over an index has no value of its own")

    walk(expr)
    return found


# --------------------------------------------------------------------------- evaluation


def evaluate(expr: Expr, env: Mapping[str, Any]) -> Any:
    """The value of ``expr`` with the symbols' values in ``env`` (key → float or array).

    Scalars evaluate with floats.  In the matrix case vectors are columns (H × 1 numpy
    arrays), a product of two arrays is the matrix product, 1 − v and v² are elementwise,
    diag(v) is the diagonal matrix.
    """
    if isinstance(expr, Sym):
        if expr.key is not None and expr.key in env:
            return env[expr.key]
        if expr.definition is not None:
            return evaluate(expr.definition, env)
        raise KeyError(f"no value for symbol {expr.key or expr.name}")
    if isinstance(expr, Const):
        return expr.value
    if isinstance(expr, Add):
        total = evaluate(expr.terms[0], env)
        for term in expr.terms[1:]:
            total = total + evaluate(term, env)
        return total
    if isinstance(expr, Sub):
        return evaluate(expr.left, env) - evaluate(expr.right, env)
    if isinstance(expr, Mul):
        value = evaluate(expr.factors[0], env)
        for factor in expr.factors[1:]:
            other = evaluate(factor, env)
            if getattr(value, "ndim", 0) == 2 and getattr(other, "ndim", 0) == 2:
                value = value @ other
            else:
                value = value * other
        return value
    if isinstance(expr, Pow):
        return evaluate(expr.base, env) ** expr.exponent
    if isinstance(expr, Paren):
        return evaluate(expr.body, env)
    if isinstance(expr, Transpose):
        value = evaluate(expr.body, env)
        return value.T if getattr(value, "ndim", 0) == 2 else value
    if isinstance(expr, Func):
        value = evaluate(expr.arg, env)
        if expr.name == "tanh":
            if getattr(value, "ndim", 0):
                import numpy as np

                return np.tanh(value)
            return math.tanh(value)
        if expr.name == "diag":
            if getattr(value, "ndim", 0):
                import numpy as np

                return np.diag(np.ravel(value))
            return value
        raise ValueError(f"unknown function {expr.name}")
    if isinstance(expr, Deriv):
        if expr.meaning is None:
            raise ValueError("a derivative without a meaning has no value")
        value = evaluate(expr.meaning, env)
        return value.T if expr.transpose and getattr(value, "ndim", 0) == 2 else value
    if isinstance(expr, BigOp):
        raise ValueError("a Σ/Π over an index has no value of its own")
    raise TypeError(f"not an expression: {expr!r}")


# --------------------------------------------------------------------------- the model's symbols


@dataclass(frozen=True)
class Model:
    """Which model the symbols describe."""

    T: int
    loss: str = "half-sse"
    bias: bool = False  # b and c take part
    truncate: int | None = None
    matrix: bool = False

    def window_start(self, t: int) -> int:
        return 1 if self.truncate is None else max(1, t - self.truncate + 1)


class Symbols:
    """The symbols of one model: h_t, x_t, y_t, ŷ_t, U, W, V, b, c, and the derivative leaves."""

    def __init__(self, model: Model):
        self.m = model
        self.U = Sym("U", key="U", given=True)
        self.W = Sym("W", key="W", given=True)
        self.V = Sym("V", key="V", given=True)
        self.b = Sym("b", key="b", given=True)
        self.c = Sym("c", key="c", given=True)
        self.one = Const(1.0, "1")

    def h(self, k: int | str) -> Sym:
        if isinstance(k, int):
            return Sym("h", k, key=f"h{k}", given=(k == 0))
        return Sym("h", k)

    def x(self, k: int | str) -> Sym:
        return Sym("x", k, key=f"x{k}" if isinstance(k, int) else None, given=True)

    def y(self, t: int | str) -> Sym:
        return Sym("y", t, key=f"y{t}" if isinstance(t, int) else None, given=True)

    def z_def(self, t: int) -> Expr:
        z: Expr = mul(self.V, self.h(t), join="*")
        return Add((z, self.c)) if self.m.bias else z

    def yhat(self, t: int | str) -> Sym:
        if not isinstance(t, int):
            return Sym("y", t, hat=True)
        if self.m.loss == "half-sse":
            definition: Expr = self.z_def(t)
        else:
            # softmax over the outputs; with one output (the scalar model) exp(z)/exp(z) = 1
            ez = Func("exp", Paren(self.z_def(t)))
            definition = Paren(Mul((ez, ez), ("/",)))
        return Sym("y", t, key=f"yhat{t}", hat=True, definition=None if self.m.matrix else definition)

    def target(self, t: int | str) -> Expr:
        """y_t, or for softmax-ce with one output the one-hot entry 1."""
        if self.m.loss == "softmax-ce" and not self.m.matrix:
            return self.one
        return self.y(t)

    def error(self, t: int | str) -> Paren:
        """(ŷ_t − y_t) = ∂E_t/∂z_t."""
        return Paren(Sub(self.yhat(t), self.target(t)))

    def slope(self, j: int | str) -> Expr:
        """1 − h_j² (scalar, in parentheses) or diag(1 − h_j²)."""
        inner = Sub(self.one, Pow(self.h(j), 2))
        return Func("diag", inner) if self.m.matrix else Paren(inner)

    def immediate_input(self, param: str, k: int | str) -> Expr:
        """What ∂a_k/∂θ multiplies: h_(k−1) for W, x_k for U, 1 for b."""
        if param == "W":
            return self.h(k - 1 if isinstance(k, int) else _minus_one(k))
        if param == "U":
            return self.x(k)
        return self.one

    # derivative leaves, each with its meaning in this model
    def out_name(self) -> str:
        return "y" if self.m.loss == "half-sse" else "z"

    def dE_dout(self, t: int | str) -> Deriv:
        out = Sym("y", t, hat=True) if self.m.loss == "half-sse" else Sym("z", t)
        return Deriv(Sym("E", t), out, self.error(t) if isinstance(t, int) else None)

    def dout_dh(self, t: int | str) -> Deriv:
        out = Sym("y", t, hat=True) if self.m.loss == "half-sse" else Sym("z", t)
        return Deriv(out, self.h(t), self.V if isinstance(t, int) else None, transpose=self.m.matrix)

    def jac(self, j: int | str) -> Deriv:
        """∂h_j/∂h_(j−1) = (1 − h_j²)·W."""
        meaning = mul(self.slope(j), self.W, join="") if isinstance(j, int) else None
        prev = j - 1 if isinstance(j, int) else _minus_one(j)
        return Deriv(self.h(j), self.h(prev), meaning)

    def immediate(self, param: str, k: int | str) -> Deriv:
        """∂⁺h_k/∂θ = (1 − h_k²)·h_(k−1) (θ = W), ·x_k (U), ·1 (b)."""
        meaning = mul(self.slope(k), self.immediate_input(param, k)) if isinstance(k, int) else None
        return Deriv(self.h(k), Sym(param), meaning, plus=True)


def _minus_one(index: str) -> str:
    return f"{index}−1"


# --------------------------------------------------------------------------- derivations


@dataclass(frozen=True)
class Form:
    """One right-hand side of a derivation, with what it is (for the reader)."""

    expr: Expr
    note: str
    numeric: bool = True  # can be evaluated (no Σ/Π over an index)


@dataclass(frozen=True)
class Derivation:
    """lhs = forms[0] = forms[1] = …; ``closed`` is the form the JSON carries.

    ``where``: auxiliary definitions shown with it (the δ recursion in the matrix case).
    """

    lhs: Expr
    forms: tuple[Form, ...]
    closed: Expr
    where: tuple[tuple[Expr, Expr], ...] = ()


@dataclass(frozen=True)
class StepDerivation:
    t: int
    part: str  # 'a' for t = 1, …
    params: dict[str, Derivation]


@dataclass(frozen=True)
class SymbolicBptt:
    """The whole symbolic derivation: the parts, the totals, the general formula, the bound."""

    model: Model
    steps: tuple[StepDerivation, ...]  # the t asked for
    all_steps: tuple[StepDerivation, ...]  # every t = 1..T (the totals use them)
    totals: dict[str, Derivation]
    general: tuple[Derivation, ...]
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def param_names(self) -> tuple[str, ...]:
        return ("W", "U", "V") + (("b", "c") if self.model.bias else ())


def _lhs(t: int | str, param: str) -> Deriv:
    return Deriv(Sym("E", t), Sym(param))


def _scalar_param(s: Symbols, t: int, param: str) -> Derivation:
    """∂E_t/∂θ for θ ∈ {W, U, b} in the scalar model: chain rule, expanded, written out, nested."""
    m = s.m
    k0 = m.window_start(t)
    ks = list(range(t, k0 - 1, -1))  # the k = t term first, as the course writes it
    general = Mul((s.dE_dout(t), s.dout_dh(t), BigOp("sum", "k", str(k0), str(t), mul(
        Paren(BigOp("prod", "j", "k+1", str(t), s.jac("j"))), s.immediate(param, "k"),
    ))), ("·", "·"))

    def chain(k: int) -> Expr:
        factors = [s.jac(j) for j in range(t, k, -1)] + [s.immediate(param, k)]
        return factors[0] if len(factors) == 1 else mul(*factors)

    one_term = len(ks) == 1
    sum_of = (lambda *terms: add(*terms)) if one_term else (lambda *terms: Paren(add(*terms)))
    expanded = mul(s.dE_dout(t), s.dout_dh(t), sum_of(*(chain(k) for k in ks)))

    def written(k: int) -> Expr:
        jacs = [mul(s.slope(j), s.W, join="") for j in range(t, k, -1)]
        return mul(*jacs, s.slope(k), s.immediate_input(param, k))

    written_out = mul(s.error(t), s.V, sum_of(*(written(k) for k in ks)))

    # nested: S_(k0) = in(k0); S_k = in(k) + W(1 − h_(k−1)²)·(S_(k−1))
    nested: Expr = s.immediate_input(param, k0)
    for k in range(k0 + 1, t + 1):
        inner = Paren(nested) if k - 1 > k0 else nested
        nested = Add((s.immediate_input(param, k), Mul((s.W, s.slope(k - 1), inner), ("", "·"))))
    if t > k0:
        nested = Paren(nested, "[")
    closed = mul(s.error(t), s.V, s.slope(t), nested)
    forms = (
        Form(general, "chain rule, Jacobian product", numeric=False),
        Form(expanded, "the sum written out"),
        *(() if one_term else (Form(written_out, "each factor written out"),)),
        Form(closed, "closed (nested) form"),
    )
    return Derivation(_lhs(t, param), forms, closed)


def _output_param(s: Symbols, t: int, param: str) -> Derivation:
    """∂E_t/∂V = ∂E_t/∂ŷ_t·∂ŷ_t/∂V = (ŷ_t − y_t)·h_t(ᵀ); ∂E_t/∂c = ŷ_t − y_t."""
    out = Sym("y", t, hat=True) if s.m.loss == "half-sse" else Sym("z", t)
    h = Transpose(s.h(t)) if s.m.matrix else s.h(t)
    if param == "V":
        chain = mul(s.dE_dout(t), Deriv(out, Sym("V"), h))
        closed: Expr = mul(s.error(t), h, join="" if s.m.matrix else "·")
    else:
        chain = mul(s.dE_dout(t), Deriv(out, Sym("c"), s.one))
        closed = s.error(t).body
    return Derivation(_lhs(t, param), (Form(chain, "chain rule"), Form(closed, "closed form")), closed)


def _delta(s: Symbols, t: int, k: int) -> Sym:
    """δ_k^(t) = ∂E_t/∂a_k (matrix case), with its definition by the backward recursion."""
    if k == t:
        definition: Expr = Mul((s.slope(t), Transpose(s.V), s.error(t)), ("·", ""))
    else:
        definition = Mul((s.slope(k), Transpose(s.W), _delta(s, t, k + 1)), ("·", ""))
    return Sym("δ", k, key=None, definition=definition, sup=f"({t})")


def _matrix_param(s: Symbols, t: int, param: str) -> Derivation:
    """∂E_t/∂θ (θ ∈ W, U, b) for matrices: a sum of outer products δ_k·h_(k−1)ᵀ."""
    m = s.m
    k0 = m.window_start(t)
    ks = list(range(t, k0 - 1, -1))

    def right(k: int | str) -> Expr | None:
        inp = s.immediate_input(param, k)
        return None if param == "b" else Transpose(inp)

    # general: Σ_k diag(1 − h_k²)·(Π_j ∂h_j/∂h_(j−1))ᵀ·(∂ŷ_t/∂h_t)ᵀ·∂E_t/∂ŷ_t·h_(k−1)ᵀ
    prod = Paren(BigOp("prod", "j", "k+1", str(t), s.jac("j")))
    body_factors: list[Expr] = [s.slope("k"), Transpose(prod), Transpose(s.V), s.error(t)]
    joins = ["·", "·", ""]
    if param != "b":
        body_factors.append(right("k"))
        joins.append("")
    general = BigOp("sum", "k", str(k0), str(t), Mul(tuple(body_factors), tuple(joins)))

    def written(k: int) -> Expr:
        factors: list[Expr] = [s.slope(k)]
        joins: list[str] = []
        for j in range(k + 1, t + 1):
            factors += [Transpose(s.W), s.slope(j)]
            joins += ["·", "·"]
        factors += [Transpose(s.V), s.error(t)]
        joins += ["·", ""]
        if param != "b":
            factors.append(right(k))
            joins.append("")
        return Mul(tuple(factors), tuple(joins))

    written_out = add(*(written(k) for k in ks))

    def outer(k: int) -> Expr:
        d = _delta(s, t, k)
        return d if param == "b" else Mul((d, right(k)), ("",))

    closed_sum = add(*(outer(k) for k in ks))
    where = tuple((Sym("δ", k, sup=f"({t})"), _delta(s, t, k).definition) for k in ks)
    forms = (
        Form(general, "chain rule, Jacobian product (transposed)", numeric=False),
        Form(written_out, "each factor written out"),
        Form(closed_sum, "outer products of the backward signals δ"),
    )
    return Derivation(_lhs(t, param), forms, written_out, where)


def derive(
    T: int,
    *,
    loss: str = "half-sse",
    bias: bool = False,
    truncate: int | None = None,
    matrix: bool = False,
    steps: tuple[int, ...] | None = None,
) -> SymbolicBptt:
    """The symbolic derivation of every ∂E_t/∂θ for t in ``steps`` (default 1..T).

    Raises ``ValueError`` for T < 1, an unknown loss, K < 1, or a step outside 1..T.
    """
    if not isinstance(T, int) or T < 1:
        raise ValueError(f"T {T!r}: expected a whole number ≥ 1")
    if loss not in LOSSES:
        raise ValueError(f"loss {loss!r} is not known; expected one of {', '.join(LOSSES)}")
    if truncate is not None and truncate < 1:
        raise ValueError(f"truncate {truncate}: expected a whole number K ≥ 1")
    chosen = tuple(range(1, T + 1)) if not steps else tuple(sorted(set(steps)))
    for t in chosen:
        if not 1 <= t <= T:
            raise ValueError(f"--t {t}: expected a step from 1 to T = {T}")
    model = Model(T, loss, bias, truncate, matrix)
    s = Symbols(model)
    names = ("W", "U", "V") + (("b", "c") if bias else ())
    inner = _matrix_param if matrix else _scalar_param
    every = []
    for t in range(1, T + 1):
        params = {}
        for name in names:
            params[name] = _output_param(s, t, name) if name in ("V", "c") else inner(s, t, name)
        every.append(StepDerivation(t, PART_LETTERS[t - 1] if t <= len(PART_LETTERS) else str(t), params))
    totals = {}
    for name in names:
        per_t = tuple(Deriv(Sym("E", t), Sym(name), every[t - 1].params[name].closed) for t in range(1, T + 1))
        closed_sum = add(*(step.params[name].closed for step in every))
        forms = (
            Form(BigOp("sum", "t", "1", str(T), _lhs("t", name)), "sum over the steps", numeric=False),
            Form(add(*per_t), "the parts"),
            Form(closed_sum, "the closed forms added"),
        )
        totals[name] = Derivation(Deriv(Sym("E"), Sym(name)), forms, closed_sum)
    warnings = []
    if loss == "softmax-ce" and not matrix:
        warnings.append("softmax over a single output is always 1: ŷ_t − 1 = 0, so every gradient is 0 "
                        "(give --hidden H or matrices with several outputs for a meaningful softmax)")
    return SymbolicBptt(model, tuple(every[t - 1] for t in chosen), tuple(every), totals,
                        _general(s), tuple(warnings))


def _general(s: Symbols) -> tuple[Derivation, ...]:
    """∂E_t/∂W for any t (index symbols), and ∂E/∂W = Σ_t ∂E_t/∂W."""
    m = s.m
    low = "1" if m.truncate is None else f"max(1, t−{m.truncate - 1})" if m.truncate > 1 else "t"
    out = []
    for param in ("W", "U") + (("b",) if m.bias else ()):
        chain = Mul((s.dE_dout("t"), s.dout_dh("t"), BigOp("sum", "k", low, "t", mul(
            Paren(BigOp("prod", "j", "k+1", "t", s.jac("j"))), s.immediate(param, "k"),
        ))), ("·", "·"))
        if m.matrix:
            factors = [s.slope("k"), Transpose(Paren(BigOp("prod", "j", "k+1", "t", mul(s.slope("j"), s.W, join="")))),
                       Transpose(s.V), s.error("t")]
            joins = ["·", "·", ""]
            if param != "b":
                factors.append(Transpose(s.immediate_input(param, "k")))
                joins.append("")
            written: Expr = BigOp("sum", "k", low, "t", Mul(tuple(factors), tuple(joins)))
        else:
            written = mul(s.error("t"), s.V, BigOp("sum", "k", low, "t", mul(
                Paren(BigOp("prod", "j", "k+1", "t", mul(s.slope("j"), s.W, join=""))),
                s.slope("k"), s.immediate_input(param, "k"),
            )))
        total = BigOp("sum", "t", "1", "T", _lhs("t", param))
        out.append(Derivation(_lhs("t", param), (Form(chain, "chain rule", False), Form(written, "written out", False)), written))
        out.append(Derivation(Deriv(Sym("E"), Sym(param)), (Form(total, "sum over the steps", False),), total))
    h = Transpose(s.h("t")) if m.matrix else s.h("t")
    v_sum = BigOp("sum", "t", "1", "T", mul(s.error("t"), h, join="" if m.matrix else "·"))
    out.append(Derivation(Deriv(Sym("E"), Sym("V")), (Form(v_sum, "no sum over k: V acts at step t only", False),), v_sum))
    if m.bias:
        c_sum = BigOp("sum", "t", "1", "T", s.error("t"))
        out.append(Derivation(Deriv(Sym("E"), Sym("c")), (Form(c_sum, "no sum over k", False),), c_sum))
    return tuple(out)


# --------------------------------------------------------------------------- numbers


def values_from_result(result: Any) -> dict[str, Any]:
    """Symbol values (key → number, or column array for matrices) from a numeric BpttResult."""
    import numpy as np

    model, fwd = result.model, result.forward
    scalar = model.is_scalar
    env: dict[str, Any] = {}

    def put(key: str, value: Any, column: bool = True) -> None:
        arr = np.asarray(value, dtype=float)
        if scalar:
            env[key] = float(arr.reshape(-1)[0])
        else:
            env[key] = arr.reshape(-1, 1) if column else np.atleast_2d(arr)

    put("U", model.U, column=False)
    put("W", model.W, column=False)
    put("V", model.V, column=False)
    if model.b is not None:
        put("b", model.b)
    if model.c is not None:
        put("c", model.c)
    put("h0", model.h0)
    for i in range(fwd.T):
        t = i + 1
        put(f"h{t}", fwd.h[i])
        put(f"x{t}", fwd.x[i])
        put(f"yhat{t}", fwd.y_hat[i])
        if model.loss == "softmax-ce":
            if scalar:
                env[f"y{t}"] = float(fwd.y[i])
            else:
                put(f"y{t}", fwd.target[i])  # the one-hot vector
        else:
            put(f"y{t}", fwd.y[i])
    return env
