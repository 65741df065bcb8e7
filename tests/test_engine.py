"""autograd_lab.engine.Value against torch autograd in float64 and central differences.

Every operation is one row of ``OPS``, written once and applied both to Values and to float64
tensors (they share the operator syntax and the method names), so a generated expression is
the same computation in both engines. A test checks that the rows cover every ``_op`` the
engine can produce.
"""

from __future__ import annotations

import gc
import math
import sys

import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import autograd_lab
from autograd_lab.engine import Value
from tests.tiers import examples

# name -> (arity, function applied to Values or tensors alike). Domains are kept valid by the
# row itself (log and fractional powers of c*c + 0.5 > 0, division by d*d + 0.5), never by
# filtering, so every generated expression can be evaluated.
OPS = {
    "+": (2, lambda a, b: a + b),
    "-": (2, lambda a, b: a - b),
    "*": (2, lambda a, b: a * b),
    "/": (2, lambda a, b: a / (b * b + 0.5)),
    "radd": (1, lambda a: 3.0 + a),
    "rsub": (1, lambda a: 1.0 - a),
    "rmul": (1, lambda a: 2.0 * a),
    "rdiv": (1, lambda a: 1.0 / (a * a + 0.5)),
    "neg": (1, lambda a: -a),
    "**3": (1, lambda a: a**3),
    "**1.5": (1, lambda a: (a * a + 0.5) ** 1.5),
    "**-1": (1, lambda a: (a * a + 0.5) ** -1),
    "exp": (1, lambda a: a.exp()),
    "log": (1, lambda a: (a * a + 0.5).log()),
    "tanh": (1, lambda a: a.tanh()),
    "sigmoid": (1, lambda a: a.sigmoid()),
    "relu": (1, lambda a: a.relu()),
    # torch tensors have no .softplus(); threshold=inf keeps torch's exact log(1 + eᵃ)
    "softplus": (1, lambda a: a.softplus() if isinstance(a, Value)
                 else torch.nn.functional.softplus(a, threshold=math.inf)),
}
NAMES = ("x", "y", "z")
TOL = dict(rel=1e-9, abs=1e-12)


def evaluate(tree, env, const):
    """``tree`` is a variable name, a float constant (made a leaf by ``const``), or
    ``(op, child, ...)``."""
    if isinstance(tree, str):
        return env[tree]
    if isinstance(tree, float):
        return const(tree)
    op, *children = tree
    return OPS[op][1](*(evaluate(c, env, const) for c in children))


def _torch_const(c: float) -> torch.Tensor:
    return torch.tensor(c, dtype=torch.float64)


def engine_run(tree, values):
    leaves = {n: Value(v) for n, v in values.items()}
    out = evaluate(tree, leaves, Value)
    out.backward()
    return out.data, {n: leaf.grad for n, leaf in leaves.items()}


def torch_run(tree, values):
    leaves = {n: torch.tensor(v, dtype=torch.float64, requires_grad=True)
              for n, v in values.items()}
    out = evaluate(tree, leaves, _torch_const)
    grads = {n: 0.0 for n in values}
    if out.requires_grad:
        used = [n for n in values]
        got = torch.autograd.grad(out, [leaves[n] for n in used], allow_unused=True)
        grads = {n: (0.0 if g is None else g.item()) for n, g in zip(used, got, strict=True)}
    return out.item(), grads


def _expression(children):
    unary = [op for op, (arity, _) in OPS.items() if arity == 1]
    binary = [op for op, (arity, _) in OPS.items() if arity == 2]
    return st.one_of(
        st.tuples(st.sampled_from(unary), children),
        st.tuples(st.sampled_from(binary), children, children),
    )


LEAF = st.one_of(st.sampled_from(NAMES), st.sampled_from(NAMES),
                 st.floats(-2.0, 2.0, allow_nan=False).map(float))
EXPRESSIONS = st.recursive(LEAF, _expression, max_leaves=10)
VALUES = st.fixed_dictionaries({n: st.floats(-2.0, 2.0, allow_nan=False) for n in NAMES})
PROPERTY = settings(max_examples=examples(400), deadline=None,
                    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])


def _finite_and_moderate(value, grads) -> bool:
    return all(math.isfinite(v) and abs(v) < 1e8 for v in [value, *grads.values()])


# --- the table covers the engine ------------------------------------------------------------
def test_rows_cover_every_operation_of_the_engine() -> None:
    x, y = Value(0.7), Value(-0.3)
    produced = {
        (x + y)._op, (x - y)._op, (x * y)._op, (x / y)._op, (2 + x)._op, (2 - x)._op,
        (2 * x)._op, (2 / x)._op, (-x)._op, (x**3)._op, x.exp()._op, x.log()._op,
        x.tanh()._op, x.sigmoid()._op, x.relu()._op, x.softplus()._op,
    }
    tested = set()
    for arity, fn in OPS.values():
        out = fn(*([Value(0.7)] * arity))
        for node in out.topological_order():
            tested.add(node._op)
    # ** writes its exponent into the name; compare the family
    family = {op if not op.startswith("**") else "**" for op in produced}
    assert family - {op if not op.startswith("**") else "**" for op in tested} == set()
    assert {"+", "-", "*", "/", "neg", "**", "exp", "log", "tanh", "sigmoid", "relu",
            "softplus"} == family


# --- against torch float64 ------------------------------------------------------------------
@pytest.mark.parametrize("op", sorted(OPS))
@settings(max_examples=examples(30), deadline=None)
@given(values=VALUES)
def test_each_operation_matches_torch(op: str, values) -> None:
    arity = OPS[op][0]
    tree = (op, *NAMES[:arity])
    value, grads = engine_run(tree, values)
    t_value, t_grads = torch_run(tree, values)
    assume(_finite_and_moderate(t_value, t_grads))
    assert value == pytest.approx(t_value, **TOL)
    for name in NAMES:
        assert grads[name] == pytest.approx(t_grads[name], **TOL), name


@PROPERTY
@given(tree=EXPRESSIONS, values=VALUES)
def test_random_expressions_match_torch(tree, values) -> None:
    t_value, t_grads = torch_run(tree, values)
    assume(_finite_and_moderate(t_value, t_grads))
    value, grads = engine_run(tree, values)
    assert value == pytest.approx(t_value, **TOL)
    for name in NAMES:
        assert grads[name] == pytest.approx(t_grads[name], rel=1e-8, abs=1e-9), (name, tree)


def test_reused_variable_gets_every_path() -> None:
    # f = x*y + x**2 * y.tanh() - x/y with x and y used in several places
    tree = ("-", ("+", ("*", "x", "y"), ("*", ("**3", "x"), ("tanh", "y"))), ("/", "x", "y"))
    values = {"x": 1.3, "y": -0.4, "z": 0.0}
    value, grads = engine_run(tree, values)
    t_value, t_grads = torch_run(tree, values)
    assert value == pytest.approx(t_value, **TOL)
    assert grads == pytest.approx(t_grads, **TOL)
    assert grads["x"] != 0 and grads["y"] != 0


def central_difference(tree, values, name, h=1e-6):
    plus, minus = dict(values), dict(values)
    plus[name] += h
    minus[name] -= h
    f = lambda v: evaluate(tree, {n: Value(a) for n, a in v.items()}, Value)  # noqa: E731
    return (f(plus).data - f(minus).data) / (2 * h)


@pytest.mark.parametrize("op", sorted(OPS))
def test_each_operation_matches_a_finite_difference(op: str) -> None:
    arity = OPS[op][0]
    tree = (op, *NAMES[:arity])
    values = {"x": 0.8, "y": -1.1, "z": 0.0}  # away from relu's corner
    _, grads = engine_run(tree, values)
    for name in NAMES[:arity]:
        assert grads[name] == pytest.approx(central_difference(tree, values, name),
                                            rel=1e-6, abs=1e-7)


def test_lesson_expression_manual_engine_torch_and_finite_difference_agree() -> None:
    # L = (a*b + a).tanh() at a = 0.5, b = -1.5: dL/da = (1 - L²)(b + 1), dL/db = (1 - L²)a
    a, b = Value(0.5), Value(-1.5)
    L = (a * b + a).tanh()
    L.backward()
    t = math.tanh(0.5 * -1.5 + 0.5)
    manual = {"a": (1 - t * t) * (-1.5 + 1), "b": (1 - t * t) * 0.5}
    tree = ("tanh", ("+", ("*", "x", "y"), "x"))
    values = {"x": 0.5, "y": -1.5, "z": 0.0}
    _, t_grads = torch_run(tree, values)
    assert a.grad == pytest.approx(manual["a"], **TOL) == t_grads["x"]
    assert b.grad == pytest.approx(manual["b"], **TOL) == t_grads["y"]
    assert a.grad == pytest.approx(central_difference(tree, values, "x"), rel=1e-7)
    assert b.grad == pytest.approx(central_difference(tree, values, "y"), rel=1e-7)


# --- deep chains ------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [10_000, 100_000])
def test_deep_chain_needs_no_recursion(n: int) -> None:
    assert sys.getrecursionlimit() < n
    c = 1 + 1 / n
    x = Value(0.5)
    y = x
    for _ in range(n):
        y = y * c
    y.backward()
    assert x.grad == pytest.approx(c**n, rel=1e-10)  # d(x·cⁿ)/dx = cⁿ ≈ e
    assert len(y.topological_order()) == 2 * n + 1  # x, n constants, n products
    del x, y
    gc.collect()  # freeing a deep graph must not crash either


def test_deep_mixed_chain_matches_torch() -> None:
    n = 10_000
    x = Value(0.3)
    tx = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    y, ty = x, tx
    for i in range(n):
        step = OPS[("tanh", "rmul", "radd", "sigmoid")[i % 4]][1]
        y, ty = step(y), step(ty)
    y.backward()
    ty.backward()
    assert y.data == pytest.approx(ty.item(), **TOL)
    assert x.grad == pytest.approx(tx.grad.item(), rel=1e-9, abs=1e-300)


# --- accumulation ----------------------------------------------------------------------------
def test_second_backward_adds_like_torch() -> None:
    x, y = Value(2.0), Value(-0.5)
    mid = x * y
    out = (mid + x).exp()
    tx = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    ty = torch.tensor(-0.5, dtype=torch.float64, requires_grad=True)
    t_out = (tx * ty + tx).exp()
    out.backward()
    t_out.backward(retain_graph=True)
    first = (x.grad, y.grad, mid.grad)
    assert (x.grad, y.grad) == pytest.approx((tx.grad.item(), ty.grad.item()), **TOL)
    out.backward()
    t_out.backward()
    assert (x.grad, y.grad) == pytest.approx((tx.grad.item(), ty.grad.item()), **TOL)
    assert (x.grad, y.grad) == pytest.approx((2 * first[0], 2 * first[1]), **TOL)
    assert mid.grad == first[2]  # an intermediate holds this call's gradient, not a sum
    assert out.grad == 1.0


def test_backward_on_a_leaf_and_two_outputs_sharing_a_leaf() -> None:
    x = Value(3.0)
    x.backward()
    x.backward()
    assert x.grad == 2.0  # dx/dx = 1, twice
    x = Value(3.0)
    (x * x).backward()
    (4 * x).backward()
    assert x.grad == 6.0 + 4.0


def test_grad_is_zero_until_backward_and_unused_leaves_stay_zero() -> None:
    x, unused = Value(1.0), Value(5.0)
    y = x * 2
    assert x.grad == 0.0 and y.grad == 0.0 and isinstance(x.grad, float)
    y.backward()
    assert unused.grad == 0.0 and x.grad == 2.0


# --- the interface ---------------------------------------------------------------------------
def test_public_api_and_graph_attributes() -> None:
    assert autograd_lab.Value is Value
    x = Value(2)
    assert isinstance(x.data, float) and x.data == 2.0
    y = x * 3.0
    assert y._op == "*" and isinstance(y._prev, tuple) and y._prev[0] is x
    assert all(isinstance(p, Value) for p in y._prev)
    assert x._prev == () and x._op == ""
    assert repr(y) == "Value(data=6, grad=0, op='*')"
    y.backward()
    assert repr(x) == "Value(data=2, grad=3)"
    assert repr(Value(0.1 + 0.2)) == "Value(data=0.3, grad=0)"


def test_reflected_forms_and_unary_minus() -> None:
    v = Value(4.0)
    assert (2 * v).data == 8.0 and (1 - v).data == -3.0 and (1 / v).data == 0.25
    assert (3 + v).data == 7.0 and (-v).data == -4.0 and (v - 1).data == 3.0
    assert (v / 2).data == 2.0 and (v**0.5).data == 2.0


def test_numbers_of_every_kind_are_accepted() -> None:
    import numpy as np

    for number in (2, 2.0, np.float32(2.0), np.int64(2), np.float64(2.0)):
        assert Value(number).data == 2.0 and type(Value(number).data) is float


def test_pow_at_zero_matches_torch() -> None:
    for n in (0, 0.5, 2):
        x = Value(0.0)
        (x**n).backward()
        t = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
        (t**n).backward()
        assert x.grad == t.grad.item(), n


def test_sigmoid_and_exp_at_large_inputs() -> None:
    assert Value(-1000.0).sigmoid().data == 0.0
    assert Value(1000.0).sigmoid().data == 1.0
    assert Value(1000.0).exp().data == math.inf  # as torch: inf, not an OverflowError


# --- bad input: one sentence each ------------------------------------------------------------
def _one_sentence(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and len(text) <= 160, text
    assert text.endswith("."), text
    return text


@pytest.mark.parametrize(
    ("make", "kind", "words"),
    [
        (lambda: Value("2.0"), TypeError, ["Value(data)", "real number", "str"]),
        (lambda: Value(None), TypeError, ["Value(data)", "NoneType"]),
        (lambda: Value([1.0, 2.0]), TypeError, ["Value(data)", "list"]),
        (lambda: Value(True), TypeError, ["Value(data)", "bool"]),
        (lambda: Value(torch.tensor(2.0)), TypeError, ["Tensor", ".item()"]),
        (lambda: Value("x" * 500), TypeError, ["..."]),
        (lambda: Value(2.0) + "1", TypeError, ["+", "str"]),
        (lambda: Value(2.0) * None, TypeError, ["*", "NoneType"]),
        (lambda: Value(2.0) ** Value(3.0), TypeError, ["**", "number exponent", "Value"]),
        (lambda: 2.0 ** Value(3.0), TypeError, ["**", "number exponent"]),
        (lambda: Value(2.0) ** "2", TypeError, ["exponent", "str"]),
        (lambda: Value(10**400), OverflowError, ["Value(data)", "1.8e308", "..."]),
        (lambda: Value(2.0) ** 10**400, OverflowError, ["exponent", "1.8e308"]),
    ],
)
def test_bad_input_gets_one_sentence(make, kind, words) -> None:
    with pytest.raises(kind) as info:
        make()
    text = _one_sentence(info.value)
    for word in words:
        assert word in text, (word, text)
    if "..." in words:
        assert len(text) < 120


# --- extreme values: float arithmetic as torch's float64, never an exception --------------------
EXTREMES = (0.0, -0.0, 1e-200, -1e-200, 1e-160, 2.0, -8.0, 710.0, -1000.0, 1e154, 1e200,
            -1e200, 1e308, math.inf, -math.inf, math.nan)
# every operation of the engine with no domain guard, as one row each: Value and tensor alike
RAW = {
    "+": (2, lambda a, b: a + b),
    "-": (2, lambda a, b: a - b),
    "*": (2, lambda a, b: a * b),
    "/": (2, lambda a, b: a / b),
    "radd": (1, lambda a: 3.0 + a),
    "rsub": (1, lambda a: 1.0 - a),
    "rmul": (1, lambda a: 2.0 * a),
    "rdiv": (1, lambda a: 1.0 / a),
    "neg": (1, lambda a: -a),
    "exp": (1, lambda a: a.exp()),
    "log": (1, lambda a: a.log()),
    "tanh": (1, lambda a: a.tanh()),
    "sigmoid": (1, lambda a: a.sigmoid()),
    "relu": (1, lambda a: a.relu()),
    **{f"**{n:g}": (1, lambda a, n=n: a**n) for n in (-2.0, -1.0, 0.0, 1 / 3, 0.5, 2.0, 3.0)},
}


def _same_float(got: float, want: float) -> bool:
    """Equal as torch's float64 would print it: nan is nan, infinities match in sign, finite
    numbers agree to a few units in the last place."""
    if math.isnan(want) or math.isnan(got):
        return math.isnan(want) and math.isnan(got)
    if math.isinf(want) or math.isinf(got):
        return got == want
    return got == pytest.approx(want, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("op", sorted(RAW))
def test_each_operation_at_extreme_values_matches_torch(op: str) -> None:
    import itertools

    arity, fn = RAW[op]
    for inputs in itertools.product(EXTREMES, repeat=arity):
        leaves = [Value(v) for v in inputs]
        out = fn(*leaves)  # never raises: inf and nan, as floats do
        out.backward()
        tensors = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in inputs]
        t_out = fn(*tensors)
        t_out.backward()
        where = (op, inputs)
        assert _same_float(out.data, t_out.item()), (where, out.data, t_out.item())
        for leaf, t in zip(leaves, tensors, strict=True):
            assert _same_float(leaf.grad, t.grad.item()), (where, leaf.grad, t.grad.item())


def test_the_red_team_inputs_give_torchs_infinities() -> None:
    w, x = Value(2.0), Value(1e-200)
    L = w * 3 + 1 / x
    L.backward()  # was a ZeroDivisionError with w.grad already 3
    assert (w.grad, x.grad) == (3.0, -math.inf)
    x = Value(1e-200)
    (x**-1).backward()  # was an OverflowError
    assert x.grad == -math.inf
    assert (Value(1e200) ** 2).data == math.inf  # was OverflowError (34, 'Numerical result ...')
    assert Value(0.0).log().data == -math.inf and math.isnan(Value(-1.0).log().data)
    assert Value(1000.0).exp().data == math.inf and (Value(1.0) / 0).data == math.inf


def test_an_interrupted_backward_puts_every_grad_back() -> None:
    w, x = Value(2.0), Value(0.5)
    L = w * 3 + (x * w).tanh()
    L.backward()
    before = [node.grad for node in L.topological_order()]
    calls = []

    def interrupted() -> None:  # the last step of the walk: w*3 and x*w have already run
        calls.append(1)
        raise KeyboardInterrupt

    order = L.topological_order()
    # the walk reaches a leaf last: by then w*3, x*w and tanh have added into w and x
    first_leaf = next(node for node in reversed(order) if not node._prev)
    first_leaf._backward = interrupted
    with pytest.raises(KeyboardInterrupt):
        L.backward()
    assert calls
    assert [node.grad for node in order] == before



def test_free_graph_lets_a_dropped_graph_go_without_the_garbage_collector() -> None:
    """Each ``_backward`` closure refers back to its node, so a dropped graph is a reference
    cycle that stays until the garbage collector runs; after ``free_graph`` it goes the
    moment it is dropped, with every value and ``.grad`` kept. Counted by the references to
    an intermediate value this test holds, with the collector off."""

    def graph() -> tuple[Value, Value, Value]:
        x = Value(0.7)
        mid = x * x + x
        return x, mid, (mid.tanh() * mid).exp()

    t = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    m = t * t + t
    (torch.tanh(m) * m).exp().backward()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        x, mid, out = graph()
        out.backward()
        held = sys.getrefcount(mid)
        del out  # the cycle keeps the whole graph: nothing lets go of mid
        assert sys.getrefcount(mid) == held > 2
        x, mid, out = graph()
        out.backward()
        out.free_graph()
        value = out.data
        del out
        assert sys.getrefcount(mid) == 2  # this test's name and getrefcount's argument only
    finally:
        if was_enabled:
            gc.enable()
    assert x.grad == pytest.approx(t.grad.item(), rel=1e-12)
    assert value == pytest.approx(math.exp(math.tanh(m.item()) * m.item()), rel=1e-12)
