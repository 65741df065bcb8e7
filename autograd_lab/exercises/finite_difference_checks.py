"""Lesson 01's exercises: a first ``x.grad`` (:data:`CUBIC_QUANTITIES`, the row ``cubic`` of
``gradient_table.EXERCISES``: ``dy/dx`` of ``y = x³ - 2x`` at 2) and the central difference a
student writes, ``central_difference(f, x, h)``.

A correct answer returns ``(f(x + h) - f(x - h)) / 2h``. The check calls it on functions and
points it does not show (Python floats, ``math`` functions) and compares with that formula,
which it first checks against the exact derivative (the truth: within ``h²`` of it). Named
slips: the one-sided ``(f(x + h) - f(x)) / h`` (``one_sided_difference``) and the central
difference divided by ``h`` instead of ``2h`` (``step_not_doubled``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from autograd_lab.exercises import ground_truth
from autograd_lab.exercises.quantity import Quantity, WrongAnswer
from autograd_lab.exercises.student_code import checks_function
from autograd_lab.verdict import Verdict, as_number, close, wrong

CUBIC = {"x": 2.0}


def _cubic(x: torch.Tensor) -> torch.Tensor:
    return x**3 - 2 * x


#: ``check_gradient("cubic", "x", dy_dx)``: the truth by autograd (cross-checked), two slips.
CUBIC_QUANTITIES = {
    "x": Quantity(
        "dy/dx",
        "dy_dx",
        lambda: ground_truth.partial(_cubic, CUBIC, "x"),
        (
            WrongAnswer("value_not_gradient",
                        "that is y itself at x = 2, not its slope; x.grad holds dy/dx",
                        lambda: ground_truth.value(_cubic, CUBIC),
                        "after y.backward(), read x.grad"),
            WrongAnswer("missing_chain_factor",
                        "the -2x term has a derivative too: differentiate every term of y",
                        lambda: 3 * CUBIC["x"] ** 2, "d/dx (-2x) = -2"),
        ),
    )
}

#: (name, f, its exact derivative, x, h): the cases the check runs.
CASES: tuple[tuple[str, Callable[[float], float], Callable[[float], float], float, float], ...] = (
    ("x**3", lambda t: t**3, lambda t: 3 * t**2, 2.0, 1e-2),
    ("sin", math.sin, math.cos, 1.0, 1e-3),
    ("exp", math.exp, math.exp, -0.5, 1e-4),
)


def central(f: Callable[[float], float], x: float, h: float) -> float:
    """``(f(x + h) - f(x - h)) / 2h``."""
    return (f(x + h) - f(x - h)) / (2 * h)


@checks_function(
    "central_difference",
    "central_difference should be a function of (f, x, h) that returns a number",
)
def check_central_difference(central_difference: object) -> Verdict:
    """Check ``central_difference(f, x, h)`` on three functions. Never raises."""
    for name, f, derivative, x, h in CASES:
        expected = central(f, x, h)
        if abs(expected - derivative(x)) > 10 * h * h * max(1.0, abs(derivative(x))):
            raise ArithmeticError(f"the central difference of {name} is not within h² of f'")
        given = as_number(central_difference(f, x, h), f"central_difference({name}, {x}, {h})")
        if close(given, expected, rtol=1e-9, atol=1e-12):
            continue
        if close(given, (f(x + h) - f(x)) / h, rtol=1e-9, atol=1e-12):
            return wrong("that is the one-sided difference, which steps to one side only; "
                         "the central one steps h to each side of x", "one_sided_difference")
        if close(given, 2 * expected, rtol=1e-9, atol=1e-12):
            return wrong("f(x + h) and f(x - h) are 2h apart, so divide their difference by "
                         "2h, not h", "step_not_doubled")
        return wrong(f"for f = {name} at x = {x}, h = {h} the result {given:.6f} is not the "
                     f"central difference (f(x + h) - f(x - h)) / 2h")
    return Verdict(True, None, "Correct: (f(x + h) - f(x - h)) / 2h, within h² of the derivative")
