"""Gradients as values and gradients of gradients (lesson 09): the student writes functions
that call ``torch.autograd.grad``; each check calls them on float64 leaves it makes itself and
looks both at what comes back and at what the code did to the leaves' ``.grad``.

The functions and what a correct answer returns:

* ``slope(x)``: ``df/dx`` of ``f(x) = x·exp(-x²)``, returned by ``torch.autograd.grad``;
  ``x.grad`` stays None.
* ``second_derivative(x)``: ``d²g/dx²`` of ``g(x) = log(1 + x²)``, the gradient of the first
  derivative, which must be computed with ``create_graph=True``.
* ``hvp(p, v)``: the Hessian-vector product ``H·v`` of ``h(x, y) = x²·sin(y) + y³`` at
  ``p = (x, y)``, the gradient of the scalar ``∇h · v``.

The truth is torch autograd in float64, cross-checked by central differences (of ``f``; of
the first derivative for the second derivative; of the gradient along ``v`` for ``H·v``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import torch

from autograd_lab.exercises import ground_truth
from autograd_lab.exercises.differentiation_count import DifferentiationCount
from autograd_lab.exercises.student_code import checks_function
from autograd_lab.verdict import (
    AnswerError,
    Verdict,
    as_number,
    close,
    explain_error,
    not_attempted,
    show_number,
    wrong,
)

#: Points each check calls the student's function at (the notebook does not show them).
SLOPE_X = (0.7, -1.3)
SECOND_X = (0.5, -1.7)
HVP_CASES = (((1.2, 0.4), (0.5, -2.0)), ((-0.6, 1.1), (1.0, 0.3)))

ACCUMULATED_HINT = (
    "your function called backward(), which adds the gradient into {leaf}.grad; this "
    "exercise asks for torch.autograd.grad, which returns the gradient and leaves .grad alone"
)
CREATE_GRAPH_HINT = (
    "the first derivative you differentiated has no grad_fn, so autograd cannot differentiate "
    "it again: the call that computes it needs create_graph=True"
)
RETAIN_GRAPH_HINT = (
    "your code went backward through the same graph twice, and the first call had already "
    "freed it; compute the first derivative once, with create_graph=True, and differentiate that"
)
HAND_FORMULA_HINT = (
    "{name} gives the right number without asking autograd for it{times}; this exercise "
    "asks for torch.autograd.grad to do the differentiating, not a formula by hand"
)
HESSIAN_BUILT_HINT = (
    "hvp gives H·v, but not as the gradient of ∇h · v at p: building the Hessian (or "
    "calling a library's hessian / hvp) is what this exercise asks you to avoid; use two "
    "torch.autograd.grad calls at p"
)
GRAD_TIMES_V_HINT = (
    "that is the gradient ∇h multiplied by v entry by entry; H·v is the gradient of the one "
    "number ∇h · v (a dot product, summed), differentiated once more"
)
TUPLE_HINT = (
    "torch.autograd.grad returns a tuple with one gradient per input; unpack it, "
    "e.g. (g,) = torch.autograd.grad(...)"
)


def f_slope(x: torch.Tensor) -> torch.Tensor:
    """``f(x) = x·exp(-x²)``; ``df/dx = exp(-x²)·(1 - 2x²)``."""
    return x * torch.exp(-(x**2))


def g_second(x: torch.Tensor) -> torch.Tensor:
    """``g(x) = log(1 + x²)``; ``g' = 2x/(1 + x²)``, ``g'' = 2(1 - x²)/(1 + x²)²``."""
    return torch.log(1 + x**2)


def h_hvp(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``h(x, y) = x²·sin(y) + y³``; ``H = [[2 sin y, 2x cos y], [2x cos y, -x² sin y + 6y]]``."""
    return x**2 * torch.sin(y) + y**3


# --- truth ------------------------------------------------------------------------------------
def _leaf(value: float) -> torch.Tensor:
    return torch.tensor(float(value), dtype=torch.float64, requires_grad=True)


def first_derivative(fn: Callable[[torch.Tensor], torch.Tensor], x0: float) -> float:
    """``fn'(x0)`` by autograd in float64, checked against a central difference."""
    return ground_truth.partial(fn, {"x": x0}, "x")


def second_derivative_truth(fn: Callable[[torch.Tensor], torch.Tensor], x0: float) -> float:
    """``fn''(x0)``: autograd through ``create_graph=True``, checked against a central
    difference of the first derivative ``(fn'(x0 + h) - fn'(x0 - h)) / 2h``."""
    x = _leaf(x0)
    (d1,) = torch.autograd.grad(fn(x), x, create_graph=True)
    (d2,) = torch.autograd.grad(d1, x)
    exact = float(d2)

    def slope_at(t: float) -> float:
        leaf = _leaf(t)
        (g,) = torch.autograd.grad(fn(leaf), leaf)
        return float(g)

    approx = (slope_at(x0 + 1e-5) - slope_at(x0 - 1e-5)) / 2e-5
    if not math.isclose(exact, approx, rel_tol=1e-6, abs_tol=1e-7):
        raise ground_truth.TruthError(f"autograd says f'' = {exact!r}, the difference {approx!r}")
    return exact


def _gradient(p: tuple[float, float], create_graph: bool = False) -> tuple[torch.Tensor, ...]:
    x, y = _leaf(p[0]), _leaf(p[1])
    return (x, y, *torch.autograd.grad(h_hvp(x, y), (x, y), create_graph=create_graph))


def gradient_truth(p: tuple[float, float]) -> tuple[float, float]:
    """``∇h(p)`` by autograd in float64."""
    _, _, gx, gy = _gradient(p)
    return float(gx), float(gy)


def hvp_truth(p: tuple[float, float], v: tuple[float, float]) -> tuple[float, float]:
    """``H(p)·v`` as the gradient of ``∇h · v``, checked against the central difference of
    the gradient along ``v``: ``(∇h(p + εv) - ∇h(p - εv)) / 2ε``."""
    x, y, gx, gy = _gradient(p, create_graph=True)
    hx, hy = torch.autograd.grad(gx * v[0] + gy * v[1], (x, y))
    eps = 1e-5
    plus = gradient_truth((p[0] + eps * v[0], p[1] + eps * v[1]))
    minus = gradient_truth((p[0] - eps * v[0], p[1] - eps * v[1]))
    for exact, a, b in zip((float(hx), float(hy)), plus, minus, strict=True):
        if not math.isclose(exact, (a - b) / (2 * eps), rel_tol=1e-6, abs_tol=1e-7):
            raise ground_truth.TruthError(
                f"H·v by autograd {exact!r} disagrees with the difference")
    return float(hx), float(hy)


# --- calling the student's function -----------------------------------------------------------
#: Errors autograd raises for the usual slips: (text in the error, hint, mistake code).
GRAPH_ERRORS: tuple[tuple[str, str, str | None], ...] = (
    ("does not require grad and does not have a grad_fn", CREATE_GRAPH_HINT,
     "missing_create_graph"),
    ("backward through the graph a second time", RETAIN_GRAPH_HINT, "missing_retain_graph"),
    (
        "appears to not have been used in the graph",
        "you differentiated something that is not connected to the input (a number turned "
        "back into a tensor, or .detach(), cuts the link); keep it a tensor with a grad_fn",
        None,
    ),
)


def _run(
    fn: Callable[..., Any], name: str, *args: torch.Tensor
) -> tuple[Any, Verdict | None, int]:
    """``fn(*args)`` with warnings silenced (backward(create_graph=True) warns): the result,
    the Verdict to give instead of checking it if it raised or is still ``...``, and how many
    times the code differentiated with respect to ``args[0]`` (:mod:`differentiation_count`)."""
    with warnings.catch_warnings(), DifferentiationCount(args[0]) as count:
        warnings.simplefilter("ignore")
        try:
            result = fn(*args)
        except Exception as exc:  # noqa: BLE001 - reported as a Verdict
            return None, explain_error(name, exc, GRAPH_ERRORS), count.at_leaf
    return result, not_attempted(name) if result is Ellipsis else None, count.at_leaf


def _run_at_leaf(
    fn: Callable[..., Any], name: str, x0: float
) -> tuple[torch.Tensor, Any, Verdict | None, int]:
    """:func:`_run` on a fresh float64 leaf ``x = x0``: ``(x, result, Verdict or None,
    differentiations at x)``."""
    x = _leaf(x0)
    return (x, *_run(fn, name, x))


def _unchecked(leaf: torch.Tensor, leaf_name: str, result: Any, none_hint: str) -> Verdict | None:
    """The Verdict before any value is compared: backward() filled ``leaf.grad`` (the answer
    was accumulated, not returned), or the function returned None (``none_hint``)."""
    if leaf.grad is not None:
        return wrong(ACCUMULATED_HINT.format(leaf=leaf_name), "accumulated_not_returned")
    if result is None:
        return wrong(none_hint)
    return None


def _number(result: Any, name: str) -> float:
    if isinstance(result, tuple | list) and len(result) == 1:
        raise AnswerError(TUPLE_HINT)
    return as_number(result, name)


def _is_pair_of_tensors(result: Any) -> bool:
    """True for ``torch.autograd.functional.hvp``'s ``(h(p), H·v)``: a value, then a vector."""
    return (isinstance(result, tuple | list) and len(result) == 2
            and all(isinstance(part, torch.Tensor) for part in result)
            and result[0].numel() == 1 and result[1].numel() == 2)


def _pair(result: Any, name: str) -> tuple[float, float]:
    if isinstance(result, tuple | list) and len(result) == 1:
        raise AnswerError(TUPLE_HINT)
    if not isinstance(result, torch.Tensor | tuple | list) and hasattr(result, "__array__"):
        try:  # a NumPy array (or another array-like) of the same numbers counts as the tensor
            result = torch.as_tensor(result, dtype=torch.float64)
        except Exception:  # noqa: BLE001 - not numbers: refused below
            pass
    if isinstance(result, tuple | list) and len(result) == 2:
        first, second = result
    elif isinstance(result, torch.Tensor) and result.numel() == 2:
        first, second = result.reshape(-1)
    elif isinstance(result, torch.Tensor) and result.numel() == 1:
        raise AnswerError(
            f"{name} returned one number; H·v has one entry per variable, (x, y): return both"
        )
    else:
        raise AnswerError(f"{name} should return the two entries of H·v, as a tensor of shape [2]")
    return as_number(first, f"{name}(...)[0]"), as_number(second, f"{name}(...)[1]")


# --- the checks -------------------------------------------------------------------------------
@checks_function("slope", "slope should be a function that takes the tensor x and returns df/dx")
def check_slope(slope: object) -> Verdict:
    """``slope(x)`` returns ``df/dx`` of ``f(x) = x·exp(-x²)`` with ``torch.autograd.grad``."""
    for x0 in SLOPE_X:
        x, result, stop, differentiations = _run_at_leaf(slope, "slope", x0)
        none_hint = "slope returned None; return the gradient torch.autograd.grad gives"
        stop = stop or _unchecked(x, "x", result, none_hint)
        if stop is not None:
            return stop
        given = _number(result, f"slope({x0})")
        if close(given, first_derivative(f_slope, x0)):
            if differentiations == 0:
                return wrong(HAND_FORMULA_HINT.format(name="slope", times=""), "hand_formula")
            continue
        if close(given, ground_truth.value(f_slope, {"x": x0})):
            return wrong(f"slope({x0}) returned f(x) itself, not its derivative")
        return wrong(f"slope({x0}) returned {show_number(given)}, which is not df/dx")
    x0 = SLOPE_X[0]
    value = first_derivative(f_slope, x0)
    return Verdict(True, None, f"Correct: df/dx = {value:.4f} at x = {x0}")


@checks_function(
    "second_derivative",
    "second_derivative should be a function that takes x and returns d²g/dx²",
)
def check_second_derivative(second_derivative: object) -> Verdict:
    """``second_derivative(x)`` returns ``d²g/dx²`` of ``g(x) = log(1 + x²)``."""
    for x0 in SECOND_X:
        x, result, stop, differentiations = _run_at_leaf(
            second_derivative, "second_derivative", x0
        )
        if stop is not None:
            return stop
        if result is None:
            return wrong("second_derivative returned None; return d²g/dx² as a tensor")
        given = _number(result, f"second_derivative({x0})")
        expected = second_derivative_truth(g_second, x0)
        first = first_derivative(g_second, x0)
        if x.grad is not None:
            hint = ACCUMULATED_HINT.format(leaf="x")
            if close(given, first + expected):
                hint += (" (here x.grad already held the first derivative, and the second "
                         "backward() added onto it)")
            return wrong(hint, "accumulated_not_returned")
        if close(given, expected):
            if differentiations < 2:
                times = " twice" if differentiations == 0 else " a second time"
                return wrong(HAND_FORMULA_HINT.format(name="second_derivative", times=times),
                             "hand_formula")
            continue
        if close(given, first):
            return wrong(
                "that is the first derivative dg/dx; differentiate it once more",
                "first_derivative_only",
            )
        return wrong(f"second_derivative({x0}) returned {show_number(given)}, which is not d²g/dx²")
    x0 = SECOND_X[0]
    value = second_derivative_truth(g_second, x0)
    return Verdict(True, None, f"Correct: d²g/dx² = {value:.4f} at x = {x0}")


@checks_function("hvp", "hvp should be a function that takes the tensors p and v and returns H·v")
def check_hvp(hvp: object) -> Verdict:
    """``hvp(p, v)`` returns ``H·v`` for ``h(x, y) = x²·sin(y) + y³`` at ``p = (x, y)``."""
    for p0, v0 in HVP_CASES:
        p = torch.tensor(p0, dtype=torch.float64, requires_grad=True)
        v = torch.tensor(v0, dtype=torch.float64)
        result, stop, differentiations = _run(hvp, "hvp", p, v)
        none_hint = "hvp returned None; return H·v as a tensor of shape [2]"
        stop = stop or _unchecked(p, "p", result, none_hint)
        if stop is not None:
            return stop
        gradient = gradient_truth(p0)
        if _is_pair_of_tensors(result):
            return wrong(
                "hvp returned a pair (h(p), H·v), as torch.autograd.functional.hvp does; "
                "return only the product H·v"
            )
        if isinstance(result, torch.Tensor) and result.numel() == 1:
            g_dot_v = gradient[0] * v0[0] + gradient[1] * v0[1]
            if close(as_number(result, "hvp(p, v)"), g_dot_v):
                return wrong(
                    "that is ∇h · v, one number; H·v is its gradient with respect to p",
                    "first_derivative_only",
                )
        given = _pair(result, "hvp")
        expected = hvp_truth(p0, v0)
        if all(close(a, b) for a, b in zip(given, expected, strict=True)):
            if differentiations < 2:
                return wrong(HESSIAN_BUILT_HINT, "hessian_built")
            continue
        grad_times_v = (gradient[0] * v0[0], gradient[1] * v0[1])
        if all(close(a, b) for a, b in zip(given, grad_times_v, strict=True)):
            return wrong(GRAD_TIMES_V_HINT, "gradient_times_v")
        if all(close(a, b) for a, b in zip(given, gradient, strict=True)):
            return wrong(
                "that is the gradient ∇h; H·v is the gradient of ∇h · v",
                "first_derivative_only",
            )
        if all(close(a, b) for a, b in zip(given, hvp_truth(p0, (1.0, 1.0)), strict=True)):
            return wrong("your result does not depend on v: multiply the gradient by v")
        return wrong(
            f"hvp returned ({show_number(given[0])}, {show_number(given[1])}), which is not "
            f"H·v at a point the check chose"
        )
    p0, v0 = HVP_CASES[0]
    hx, hy = hvp_truth(p0, v0)
    return Verdict(True, None, f"Correct: H·v = ({hx:.4f}, {hy:.4f}) at p = {p0}, v = {v0}")
