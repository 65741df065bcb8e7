"""Engine exercises (lesson 14): a new operation for ``Value``, a backward pass that visits
nodes in the right order, and a custom ``torch.autograd.Function`` with two inputs.

Each check runs the student's code on small graphs and compares the gradients with the truth,
torch autograd in float64 cross-checked by a central difference
(:mod:`~autograd_lab.exercises.ground_truth`). A wrong
result is then compared with the same graphs run through the plausible buggy versions
(written out below), which names the mistake:

* ``a.grad += cos(a)`` without ``· out.grad``: ``missing_upstream_grad``
* ``a.grad = …`` instead of ``+=`` (a value used twice keeps only one share): ``grad_overwritten``
* ``-cos(a)``: ``sign_error``
* nodes visited breadth-first or inputs before outputs: ``wrong_order``
* a recursive topological sort on a deep chain: ``recursive_order``
* ``backward`` returning one gradient for two inputs: ``wrong_grad_count``
* ``backward_fixed`` calling the engine's own ``root.backward()``: ``root_backward_called``
"""

from __future__ import annotations

import contextlib
import math
import sys
from collections.abc import Callable, Iterator
from typing import Any

import torch

from autograd_lab.engine import Value
from autograd_lab.exercises import ground_truth
from autograd_lab.exercises.student_code import checks_function, guarded
from autograd_lab.verdict import (
    AnswerError,
    Verdict,
    as_number,
    close,
    never_raises,
    not_attempted,
    show_number,
    unanswered,
    wrong,
)

# --- 1. sin as a new operation ----------------------------------------------------------------
SIN_POINTS = (0.7, -1.2, 2.5)

#: Expressions built from ``sin`` and a leaf x: sin's output feeds another operation (so
#: out.grad is not 1), and the last one uses x through two sin nodes.
SIN_EXPRESSIONS: tuple[tuple[str, Callable], ...] = (
    ("3 * sin(x)", lambda sin, x: 3.0 * sin(x)),
    ("sin(x * x) + x", lambda sin, x: sin(x * x) + x),
    ("sin(x) * sin(x)", lambda sin, x: sin(x) * sin(x)),
)


def _sin_op(local: Callable[[float], float], upstream: bool, accumulate: bool) -> Callable:
    """A ``sin`` for Value, right or with one of the slips the check recognises."""

    def sin(a: Value) -> Value:
        out = Value(math.sin(a.data), (a,), "sin")

        def _backward() -> None:
            share = local(a.data) * (out.grad if upstream else 1.0)
            a.grad = a.grad + share if accumulate else share

        out._backward = _backward
        return out

    return sin


SIN_SLIPS: tuple[tuple[Callable, str, str], ...] = (
    (_sin_op(lambda a: -math.cos(a), True, True), "sign_error",
     "d sin(a)/da = cos(a), with a plus sign"),
    (_sin_op(math.cos, False, True), "missing_upstream_grad",
     "multiply the local derivative cos(a.data) by out.grad, the gradient arriving from above"),
    (_sin_op(math.cos, False, False), "missing_upstream_grad",
     "multiply the local derivative cos(a.data) by out.grad, the gradient arriving from above"),
    (_sin_op(math.cos, True, False), "grad_overwritten",
     "use a.grad += …, not a.grad = …: when a feeds two operations, each adds its share"),
)


def _engine_grad(sin: Callable, expression: Callable, x0: float) -> float:
    x = Value(x0)
    out = expression(sin, x)
    if not isinstance(out, Value):
        raise AnswerError(f"sin should return a Value, but it returned {type(out).__name__}")
    out.backward()
    return x.grad


@torch.enable_grad()  # the truth needs autograd even if the student turned it off
@checks_function("sin", "sin should be a function that takes a Value and returns a new Value")
def check_sin(sin: object) -> Verdict:
    """Check the student's ``sin(a: Value) -> Value``: its value and its ``_backward``."""
    for x0 in SIN_POINTS:
        a = Value(x0)
        out = sin(a)
        if not isinstance(out, Value):
            return wrong(f"sin should return a Value, but it returned {type(out).__name__}")
        if not close(out.data, math.sin(x0), rtol=1e-9, atol=1e-12):
            return wrong(f"sin(Value({x0})).data is {out.data:.4f}, but sin({x0}) = "
                         f"{math.sin(x0):.4f}; compute math.sin(a.data)")
        if a not in out._prev:
            return wrong("pass (a,) as the new Value's inputs, Value(…, (a,), 'sin'), so "
                         "backward() can find a")
    for label, expression in SIN_EXPRESSIONS:
        for x0 in SIN_POINTS:
            given = _engine_grad(sin, expression, x0)
            expected = ground_truth.partial(lambda x, e=expression: e(torch.sin, x), {"x": x0}, "x")
            if close(given, expected):
                continue
            if given == 0.0:
                return wrong("x.grad stayed 0: attach the closure with "
                             "out._backward = _backward before returning out")
            for slip, code, hint in SIN_SLIPS:
                if close(given, _engine_grad(slip, expression, x0)):
                    return wrong(f"for {label}: {hint}", code)
            return wrong(f"for {label} at x = {x0}, x.grad is {show_number(given)} but "
                         f"d/dx = {expected:.4f}; the local derivative is cos(a.data)")
    return Verdict(True, None, "Correct: d sin(a)/da = cos(a), times out.grad, added "
                   f"into a.grad (x.grad = {3 * math.cos(SIN_POINTS[0]):.4f} for "
                   f"3 * sin(x) at x = {SIN_POINTS[0]})")


# --- 2. the order of the backward pass ----------------------------------------------------------
def _graph_shared(x: Value | torch.Tensor, y: Value | torch.Tensor):
    """L = a · tanh(a) + x with a = x·y: a is reached from L directly and through tanh."""
    a = x * y
    return a * a.tanh() + x


def _graph_diamond(x: Value | torch.Tensor, y: Value | torch.Tensor):
    """L = (u + v)·u with u = sigmoid(x + y), v = 2·u·y: paths of three lengths reach u."""
    u = (x + y).sigmoid()
    v = 2.0 * u * y
    return (u + v) * u


ORDER_GRAPHS = (("a * tanh(a) + x", _graph_shared, (0.8, -0.6)),
                ("(u + v) * u", _graph_diamond, (0.3, 1.4)))
DEEP_CHAIN = 5_000


def _breadth_first(root: Value) -> None:
    """The buggy order of the exercise: nearest nodes first."""
    root.grad = 1.0
    queue, seen = [root], {root}
    for node in queue:
        node._backward()
        for child in node._prev:
            if child not in seen:
                seen.add(child)
                queue.append(child)


def _inputs_first(root: Value) -> None:
    """Topological order not reversed: every node passes its gradient on before it has one."""
    root.grad = 1.0
    for node in root.topological_order():
        node._backward()


#: A function nested this deep in itself while the student's backward runs is recursion.
RECURSION_DEPTH = 50


class _RecursionWatch:
    """A ``sys.setprofile`` function: how deep each function is nested in itself.

    Detects recursion itself, not its depth, so a recursive sort passes for none after a
    ``sys.setrecursionlimit(20000)`` that lets it survive the deep chain.
    """

    def __init__(self) -> None:
        self.active: dict[object, int] = {}
        self.deepest = 0

    def __call__(self, frame: Any, event: str, arg: object) -> None:
        if event == "call":
            depth = self.active.get(frame.f_code, 0) + 1
            self.active[frame.f_code] = depth
            self.deepest = max(self.deepest, depth)
        elif event == "return":
            self.active[frame.f_code] = self.active.get(frame.f_code, 1) - 1

    @contextlib.contextmanager
    def watching(self) -> Iterator[_RecursionWatch]:
        previous = sys.getprofile()
        sys.setprofile(self)
        try:
            yield self
        finally:
            sys.setprofile(previous)


class RootBackwardCalled(Exception):
    """Raised when the student's backward_fixed calls the engine's own ``root.backward()``."""


class _RootWithoutBackward(Value):
    """A Value whose ``backward()`` the exercise forbids: the check turns the graph's output
    into one (same slots, so only the class changes) before handing it to the student."""

    __slots__ = ()

    def backward(self) -> None:
        raise RootBackwardCalled


def _without_backward(root: Value) -> Value:
    """``root`` itself, the graph unchanged, with ``root.backward()`` raising
    :class:`RootBackwardCalled`."""
    root.__class__ = _RootWithoutBackward
    return root


ROOT_BACKWARD_HINT = (
    "backward_fixed calls root.backward(), the engine's own backward pass, which the exercise "
    "asks you not to use; visit the nodes yourself and call each node's _backward"
)


def _run_order(backward: Callable, graph: Callable, point: tuple[float, float]):
    x, y = Value(point[0]), Value(point[1])
    backward(_without_backward(graph(x, y)))
    return x.grad, y.grad


@torch.enable_grad()  # the truth needs autograd even if the student turned it off
@checks_function(
    "backward_fixed",
    "backward_fixed should be a function that takes the output Value",
)
def check_backward_order(backward_fixed: object) -> Verdict:
    """Check the student's ``backward_fixed(root)``: leaf gradients on shared-node graphs and
    on a chain deeper than Python's recursion limit."""
    for label, graph, point in ORDER_GRAPHS:
        try:
            given = _run_order(backward_fixed, graph, point)
        except RootBackwardCalled:
            return wrong(ROOT_BACKWARD_HINT, "root_backward_called")
        values = {"x": point[0], "y": point[1]}
        expected = tuple(ground_truth.partial(graph, values, v) for v in ("x", "y"))
        if all(close(g, e) for g, e in zip(given, expected, strict=True)):
            continue
        if given == (0.0, 0.0):
            return wrong("every gradient stayed 0: start with root.grad = 1.0 (dL/dL = 1)")
        for slip in (_breadth_first, _inputs_first):
            if all(close(g, s) for g, s in zip(given, _run_order(slip, graph, point),
                                               strict=True)):
                return wrong(
                    f"for L = {label}, a node passed its gradient on before every node "
                    "that uses it had added its share; call _backward in reverse "
                    "topological order", "wrong_order")
        return wrong(f"for L = {label}, (dL/dx, dL/dy) = ({show_number(given[0])}, "
                     f"{show_number(given[1])}) but should be ({expected[0]:.4f}, "
                     f"{expected[1]:.4f})")
    x = Value(1.0)
    y = x
    for _ in range(DEEP_CHAIN):
        y = y * 1.0001
    try:
        with _RecursionWatch().watching() as watch:
            backward_fixed(_without_backward(y))
    except RootBackwardCalled:
        return wrong(ROOT_BACKWARD_HINT, "root_backward_called")
    except RecursionError:
        return wrong(f"a chain of {DEEP_CHAIN:,} operations raised RecursionError: find "
                     "the order with an explicit stack instead of recursion",
                     "recursive_order")
    if watch.deepest >= RECURSION_DEPTH:
        return wrong(f"on a chain of {DEEP_CHAIN:,} operations a function called itself "
                     f"{watch.deepest:,} deep (recursion, which a raised recursion limit only "
                     "hides): find the order with an explicit stack", "recursive_order")
    if not close(x.grad, 1.0001**DEEP_CHAIN, rtol=1e-9, atol=0.0):
        return wrong(f"on a chain of {DEEP_CHAIN:,} multiplications by 1.0001, x.grad is "
                     f"{x.grad:.4f} but should be 1.0001**{DEEP_CHAIN} = "
                     f"{1.0001**DEEP_CHAIN:.4f}")
    return Verdict(True, None, f"Correct: reverse topological order, {DEEP_CHAIN:,} "
                   "operations deep without recursion")


# --- 3. a custom autograd.Function with two inputs ------------------------------------------------
FUNCTION_POINTS = ((0.5, -0.3), (-1.5, 0.8))
UPSTREAM = 2.5  # dL/df for L = 2.5·f, so a backward that ignores grad_output is caught


def _x_exp_y(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return x * torch.exp(y)


@torch.enable_grad()  # the truth needs autograd even if the student turned it off
@guarded("XExpY")
@never_raises()
def check_x_exp_y(function: object) -> Verdict:
    """Check the student's ``torch.autograd.Function`` for f(x, y) = x·eʸ."""
    if unanswered(function):
        return not_attempted("XExpY")
    if not callable(getattr(function, "apply", None)):
        return wrong("XExpY should be a class derived from torch.autograd.Function "
                     "(with forward and backward), used as XExpY.apply(x, y)")
    for x0, y0 in FUNCTION_POINTS:
        values = {"x": x0, "y": y0}
        x, y = ground_truth.tensors(values, requires_grad=True).values()
        out = function.apply(x, y)
        f = as_number(out, "XExpY.apply(x, y)")
        if not close(f, ground_truth.value(_x_exp_y, values), rtol=1e-9, atol=1e-12):
            return wrong(f"forward gives {f:.4f} at x = {x0}, y = {y0}, but "
                         f"x·e^y = {ground_truth.value(_x_exp_y, values):.4f}")
        try:
            grads = torch.autograd.grad(UPSTREAM * out, (x, y), allow_unused=True)
        except RuntimeError as exc:
            if "incorrect number of gradients" in str(exc):
                return wrong("backward must return one gradient per input of forward "
                             "(here two: dL/dx and dL/dy, in that order)",
                             "wrong_grad_count")
            raise
        given = [0.0 if g is None else as_number(g, "a gradient from backward")
                 for g in grads]
        expected = [UPSTREAM * ground_truth.partial(_x_exp_y, values, v) for v in ("x", "y")]
        if all(close(g, e) for g, e in zip(given, expected, strict=True)):
            continue
        if all(close(g, e / UPSTREAM) for g, e in zip(given, expected, strict=True)):
            return wrong("multiply each local derivative by grad_output, the gradient "
                         "arriving from above", "missing_upstream_grad")
        if all(close(g, e) for g, e in zip(given, reversed(expected), strict=True)):
            return wrong("the two gradients are swapped: return dL/dx first, then dL/dy, "
                         "in the order of forward's inputs")
        return wrong(f"at x = {x0}, y = {y0} with L = {UPSTREAM}·f, backward gives "
                     f"({show_number(given[0])}, {show_number(given[1])}) but (dL/dx, dL/dy) = "
                     f"({expected[0]:.4f}, {expected[1]:.4f})")
    x0, y0 = FUNCTION_POINTS[0]
    return Verdict(True, None, f"Correct: df/dx = e^y = {math.exp(y0):.4f}, df/dy = x·e^y = "
                   f"{x0 * math.exp(y0):.4f} at x = {x0}, y = {y0}")
