"""Forward- and reverse-mode exercises (lesson 13): a JVP written with ``forward_ad``, the mode
to pick for given shapes, and one column of a Jacobian.

The truth is ``torch.func.jacrev`` in float64 (J, then J·v and vᵀJ from it), cross-checked
in tests against a central difference. Slips the checks name:

* the function's value (the primal) where the tangent J·v was asked: ``value_not_gradient``
* vᵀJ (a row, what reverse mode gives) where J·v (a column) was asked: ``row_not_column``
* forward mode picked where reverse mode needs fewer passes, or the other way: ``mode_swapped``
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from autograd_lab.exercises.student_code import checks_function, guarded
from autograd_lab.verdict import (
    Verdict,
    never_raises,
    not_attempted,
    unanswered,
    wrong,
)

__all__ = ["COLUMN_FUNCTION", "COLUMN_POINT", "SHAPES", "check_jacobian_column", "check_jvp",
           "check_mode_choice"]


def _f_square(x: torch.Tensor) -> torch.Tensor:
    return torch.stack([x[0] ** 2 * x[1], x[0] + torch.sin(x[1]), x[1] * x[2]])


def _f_mix(x: torch.Tensor) -> torch.Tensor:
    return torch.tanh(x) * x.sum()


JVP_CASES: tuple[tuple[str, Callable, tuple[float, ...], tuple[float, ...]], ...] = (
    ("f(x) = (x0²·x1, x0 + sin x1, x1·x2)", _f_square, (1.0, 2.0, -0.5), (1.0, 0.0, 0.0)),
    ("f(x) = (x0²·x1, x0 + sin x1, x1·x2)", _f_square, (0.3, -1.2, 2.0), (0.5, -1.0, 2.0)),
    ("f(x) = tanh(x)·Σx", _f_mix, (0.2, -0.7, 1.1), (1.0, 2.0, -1.0)),
)


def _t(values: tuple[float, ...]) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and torch.allclose(a, b, rtol=1e-7, atol=1e-10)


def _as_tensor(value: object) -> torch.Tensor | None:
    try:
        return torch.as_tensor(value, dtype=torch.float64).detach()
    except (TypeError, ValueError, RuntimeError):
        return None


@checks_function("jvp", "jvp should be a function jvp(f, x, v) that returns J·v as a tensor")
def check_jvp(jvp: object) -> Verdict:
    """Check the student's ``jvp(f, x, v)``: the tangent of ``f`` at ``x`` along ``v``."""
    for label, f, x0, v0 in JVP_CASES:
        x, v = _t(x0), _t(v0)
        J = torch.func.jacrev(f)(x)
        given = _as_tensor(jvp(f, x.clone(), v.clone()))
        if given is None:
            return wrong("jvp should return a tensor: fwAD.unpack_dual(out).tangent")
        if _close(given, J @ v):
            continue
        if _close(given, f(x)):
            return wrong("that is f(x), the value: the tangent is "
                         "fwAD.unpack_dual(out).tangent, not .primal", "value_not_gradient")
        if _close(given, v @ J):
            return wrong("that is vᵀJ, a reverse-mode product; forward mode gives J·v: "
                         "make x a dual number with tangent v", "row_not_column")
        return wrong(f"for {label} at x = {x0} along v = {v0}, J·v is "
                     f"{[round(t, 4) for t in (J @ v).tolist()]}, but jvp gave "
                     f"{[round(t, 4) for t in given.flatten().tolist()][:6]}")
    return Verdict(True, None, "Correct: one forward pass with a dual number gives J·v")


#: (inputs n, outputs m) -> the mode with fewer passes for the whole Jacobian.
SHAPES: dict[str, tuple[int, int]] = {
    "loss of a network with 1,000,000 weights": (1_000_000, 1),
    "3 inputs, 500 outputs": (3, 500),
    "200 inputs, 2 outputs": (200, 2),
    "2 inputs, 10,000 outputs": (2, 10_000),
}


@guarded("mode_for")
@never_raises()
def check_mode_choice(mode_for: object) -> Verdict:
    """Check the student's dict ``{situation: "forward" or "reverse"}`` for :data:`SHAPES`."""
    if unanswered(mode_for):
        return not_attempted("mode_for")
    if not isinstance(mode_for, dict):
        return wrong('mode_for should be a dict such as {"3 inputs, 500 outputs": "forward"}')
    missing = [k for k in SHAPES if k not in mode_for]
    if missing:
        return wrong(f'mode_for has no answer for "{missing[0]}"; keep the keys as given')
    for situation, (n, m) in SHAPES.items():
        answer = str(mode_for[situation]).strip().lower()
        if answer not in ("forward", "reverse"):
            return wrong(f'answer "forward" or "reverse" for "{situation}", not {answer!r}')
        right = "forward" if n < m else "reverse"
        if answer != right:
            return wrong(f'for "{situation}": the whole Jacobian takes n = {n:,} forward '
                         f"passes or m = {m:,} reverse passes; pick the smaller count",
                         "mode_swapped")
    return Verdict(True, None, "Correct: forward mode when inputs are fewer than outputs, "
                   "reverse mode otherwise (a loss: always reverse)")


def COLUMN_FUNCTION(x: torch.Tensor) -> torch.Tensor:  # noqa: N802 - a constant of the exercise
    """The exercise's function: f(x) = (x0·x1·x2, x0² + x2, sin(x1))."""
    return torch.stack([x[0] * x[1] * x[2], x[0] ** 2 + x[2], torch.sin(x[1])])


COLUMN_POINT = (1.0, 2.0, 3.0)
COLUMN_INDEX = 1  # the second column: how every output moves with x1


@guarded("column")
@never_raises()
def check_jacobian_column(column: object) -> Verdict:
    """Check the student's second column of J of :func:`COLUMN_FUNCTION` at
    :data:`COLUMN_POINT` (three numbers: ∂f_i/∂x1)."""
    if unanswered(column):
        return not_attempted("column")
    given = _as_tensor(column)
    if given is None or given.numel() != 3:
        return wrong("column should be three numbers, one per output: (∂f0/∂x1, ∂f1/∂x1, "
                     "∂f2/∂x1)", "wrong_shape")
    given = given.flatten()
    J = torch.func.jacrev(COLUMN_FUNCTION)(_t(COLUMN_POINT))
    if _close(given, J[:, COLUMN_INDEX]):
        return Verdict(True, None, "Correct: J·e1, one forward pass with tangent (0, 1, 0)")
    if _close(given, J[COLUMN_INDEX, :]):
        return wrong("that is the second row (∂f1/∂x0, ∂f1/∂x1, ∂f1/∂x2); a column holds "
                     "one input's effect on every output", "row_not_column")
    return wrong("each entry is ∂f_i/∂x1 at x = (1, 2, 3): differentiate each output with "
                 "respect to x1 only, or run a JVP with tangent (0, 1, 0)")
