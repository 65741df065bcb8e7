"""The lesson-11 exercise checks: each mistake, written the way a student would write it, is
named by its code; right answers pass; odd answers never raise.

Expected gradients are written out here in closed form with ``math`` (independently of the
checks' torch truth), and the right answers below are checked against them too.
"""

from __future__ import annotations

import math

import pytest
import torch

from autograd_lab.engine import Value
from autograd_lab.exercises import (
    MISTAKES,
    Verdict,
    check_backward_order,
    check_sin,
    check_x_exp_y,
)
from autograd_lab.exercises import engine_checks as checks


# --- sin, right and with each slip -------------------------------------------------------------
def make_sin(body: str):
    """A student's ``sin`` whose closure runs ``body`` (a statement about a.grad)."""

    def sin(a):
        out = Value(math.sin(a.data), (a,), "sin")

        def _backward():
            scope = {"a": a, "out": out, "math": math}
            exec(body, scope)  # noqa: S102 - the test's own fixed statements

        out._backward = _backward
        return out

    return sin


def sin_right(a):
    out = Value(math.sin(a.data), (a,), "sin")

    def _backward():
        a.grad += math.cos(a.data) * out.grad

    out._backward = _backward
    return out


def sin_unattached(a):
    out = Value(math.sin(a.data), (a,), "sin")

    def _backward():
        a.grad += math.cos(a.data) * out.grad

    return out  # forgot out._backward = _backward


def test_right_sin_matches_the_closed_form() -> None:
    for x0 in checks.SIN_POINTS:
        x = Value(x0)
        (sin_right(x) * sin_right(x)).backward()
        assert x.grad == pytest.approx(2 * math.sin(x0) * math.cos(x0), rel=1e-12)
    verdict = check_sin(sin_right)
    assert verdict.ok and verdict.mistake is None, verdict
    assert f"{3 * math.cos(0.7):.4f}" in verdict.message


# --- backward order, right and with each slip --------------------------------------------------
def backward_right(root):
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
        elif node not in seen:
            seen.add(node)
            stack.append((node, True))
            stack.extend((child, False) for child in node._prev)
    root.grad = 1.0
    for node in reversed(order):
        node._backward()


def backward_breadth_first(root):  # the notebook's buggy version
    root.grad = 1.0
    queue, seen = [root], {root}
    for node in queue:
        node._backward()
        for child in node._prev:
            if child not in seen:
                seen.add(child)
                queue.append(child)


def backward_not_reversed(root):
    backward_recursive(root, reverse=False)


def backward_recursive(root, reverse=True):
    order, seen = [], set()

    def visit(node):
        if node not in seen:
            seen.add(node)
            for child in node._prev:
                visit(child)
            order.append(node)

    visit(root)
    root.grad = 1.0
    for node in reversed(order) if reverse else order:
        node._backward()


def backward_unseeded(root):
    order = root.topological_order()
    for node in reversed(order):
        node._backward()


def test_right_backward_matches_the_closed_form() -> None:
    x, y = Value(0.8), Value(-0.6)
    backward_right(checks._graph_shared(x, y))
    a = 0.8 * -0.6
    t = math.tanh(a)
    dL_da = t + a * (1 - t * t)  # d(a·tanh a)/da
    assert (x.grad, y.grad) == pytest.approx((dL_da * -0.6 + 1, dL_da * 0.8), rel=1e-12)
    verdict = check_backward_order(backward_right)
    assert verdict.ok, verdict
    # the engine's own root.backward() is what the exercise forbids (tests/test_check_holes.py)
    assert check_backward_order(lambda root: root.backward()).mistake == "root_backward_called"


# --- the custom Function, right and with each slip ---------------------------------------------
def make_function(backward):
    class XExpY(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x * torch.exp(y)

        @staticmethod
        def backward(ctx, grad_output):
            x, y = ctx.saved_tensors
            return backward(grad_output, x, y)

    return XExpY


XExpYRight = make_function(lambda g, x, y: (g * torch.exp(y), g * x * torch.exp(y)))


def test_right_function_matches_the_closed_form_and_gradcheck() -> None:
    x = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    y = torch.tensor(-0.3, dtype=torch.float64, requires_grad=True)
    XExpYRight.apply(x, y).backward()
    assert (x.grad.item(), y.grad.item()) == pytest.approx(
        (math.exp(-0.3), 0.5 * math.exp(-0.3)), rel=1e-12)
    assert torch.autograd.gradcheck(XExpYRight.apply, (x, y))
    verdict = check_x_exp_y(XExpYRight)
    assert verdict.ok, verdict
    assert f"{math.exp(-0.3):.4f}" in verdict.message


def test_right_answers_pass_under_no_grad_too() -> None:
    with torch.no_grad():
        assert check_x_exp_y(XExpYRight).ok
        assert check_sin(sin_right).ok
        assert check_backward_order(backward_right).ok
        assert not torch.is_grad_enabled()


# --- every code ------------------------------------------------------------------------------
CASES = [
    ("sign_error", lambda: check_sin(make_sin("a.grad += -math.cos(a.data) * out.grad"))),
    ("missing_upstream_grad", lambda: check_sin(make_sin("a.grad += math.cos(a.data)"))),
    ("missing_upstream_grad", lambda: check_sin(make_sin("a.grad = math.cos(a.data)"))),
    ("grad_overwritten", lambda: check_sin(make_sin("a.grad = math.cos(a.data) * out.grad"))),
    ("wrong_order", lambda: check_backward_order(backward_breadth_first)),
    ("wrong_order", lambda: check_backward_order(backward_not_reversed)),
    ("recursive_order", lambda: check_backward_order(backward_recursive)),
    ("wrong_grad_count", lambda: check_x_exp_y(make_function(lambda g, x, y: g * torch.exp(y)))),
    ("missing_upstream_grad",
     lambda: check_x_exp_y(make_function(lambda g, x, y: (torch.exp(y), x * torch.exp(y))))),
    ("not_attempted", lambda: check_sin(...)),
    ("not_attempted", lambda: check_backward_order(...)),
    ("not_attempted", lambda: check_x_exp_y(None)),
]


@pytest.mark.parametrize(("code", "run"), CASES)
def test_mistake_is_named(code: str, run) -> None:
    verdict = run()
    assert isinstance(verdict, Verdict) and not verdict.ok
    assert verdict.mistake == code, verdict
    assert "\n" not in repr(verdict)


def test_every_engine_code_is_fed_and_registered() -> None:
    engine_codes = {"missing_upstream_grad", "grad_overwritten", "wrong_order",
                    "recursive_order", "wrong_grad_count"}
    fed = {code for code, _ in CASES}
    assert engine_codes <= fed and engine_codes <= set(MISTAKES)


@pytest.mark.parametrize(
    ("run", "words"),
    [
        (lambda: check_sin(sin_unattached), "out._backward = _backward"),
        (lambda: check_sin(lambda a: math.sin(a.data)), "should return a Value"),
        (lambda: check_sin(lambda a: Value(math.cos(a.data), (a,))), "math.sin(a.data)"),
        (lambda: check_sin(lambda a: Value(math.sin(a.data))), "inputs"),
        (lambda: check_sin(make_sin("a.grad += math.cos(out.data) * out.grad")), "cos(a.data)"),
        (lambda: check_backward_order(backward_unseeded), "root.grad = 1.0"),
        (lambda: check_x_exp_y(make_function(lambda g, x, y: (g * x * torch.exp(y),
                                                              g * torch.exp(y)))), "swapped"),
        (lambda: check_x_exp_y(make_function(lambda g, x, y: (g, g))), "backward gives"),
    ],
)
def test_other_slips_get_a_hint_without_a_code(run, words: str) -> None:
    verdict = run()
    assert not verdict.ok and verdict.mistake is None, verdict
    assert words in verdict.message, verdict


def _raises(*_args):
    raise ValueError("boom")


@pytest.mark.parametrize("answer", [1.0, "sin", [1, 2], _raises, lambda *a: None, object()])
def test_odd_answers_never_raise(answer) -> None:
    for check in (check_sin, check_backward_order, check_x_exp_y):
        verdict = check(answer)
        assert isinstance(verdict, Verdict) and not verdict.ok, (check, answer)


def test_recursion_is_found_even_with_a_raised_recursion_limit() -> None:
    import sys

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(20_000)  # what a student does after a RecursionError
    try:
        assert recursive_grad_on_the_deep_chain() == pytest.approx(1.0001**checks.DEEP_CHAIN)
        verdict = check_backward_order(backward_recursive)
    finally:
        sys.setrecursionlimit(limit)
    assert not verdict.ok and verdict.mistake == "recursive_order", verdict
    assert "recursion" in verdict.message
    assert check_backward_order(backward_right).ok  # an explicit stack still passes


def recursive_grad_on_the_deep_chain() -> float:
    """x.grad from the recursive version on the check's deep chain (it survives at 20,000)."""
    x = Value(1.0)
    y = x
    for _ in range(checks.DEEP_CHAIN):
        y = y * 1.0001
    backward_recursive(y)
    return x.grad
