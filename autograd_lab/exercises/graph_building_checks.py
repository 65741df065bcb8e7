"""Lesson 12's exercise: gradients through Python control flow.

The student predicts ``x.grad`` for code whose graph depends on the data:

1. ``bend(x) = x³ if x > 1 else 4x`` at ``x = 0.5``: only the branch that ran is in the
   graph. Named slip: the other branch's derivative (``path_not_taken``).
2. ``triple_until(x)``: ``y = x``, then ``y = 3y`` while ``y < 5``, at ``x = 0.7``
   (0.7 → 2.1 → 6.3): one factor 3 per multiplication that ran.

The truth is torch autograd on the same Python code (float64), cross-checked by a central
difference (the step never crosses a branch point).
"""

from __future__ import annotations

import torch

from autograd_lab.exercises import ground_truth
from autograd_lab.exercises.student_code import guarded
from autograd_lab.prediction import within_precision
from autograd_lab.verdict import (
    AnswerError,
    Verdict,
    as_number,
    correct,
    not_attempted,
    unanswered,
    wrong,
)

BEND_X = 0.5
TRIPLE_X = 0.7


def bend(x: torch.Tensor) -> torch.Tensor:
    return x**3 if x > 1 else 4 * x


def triple_until(x: torch.Tensor) -> torch.Tensor:
    y = x
    while y < 5:
        y = 3 * y
    return y


def _number(answer: object, name: str) -> float | Verdict:
    if unanswered(answer):
        return not_attempted(name)
    try:
        return as_number(answer, name)
    except AnswerError as exc:
        return wrong(str(exc))


@guarded("bend_grad")
def check_bend_grad(bend_grad: object) -> Verdict:
    """Check ``x.grad`` of :func:`bend` at BEND_X. Never raises."""
    given = _number(bend_grad, "bend_grad")
    if isinstance(given, Verdict):
        return given
    expected = ground_truth.partial(bend, {"x": BEND_X}, "x")
    if within_precision(given, expected):
        return correct("x.grad", expected)
    if within_precision(given, 3 * BEND_X**2):
        return wrong("that is the derivative of the branch that did not run; at this x the "
                     "if takes the other branch, and only the code that ran is in the graph",
                     "path_not_taken")
    return wrong("find which branch runs at this x, then differentiate that branch alone")


@guarded("loop_grad")
def check_loop_grad(loop_grad: object) -> Verdict:
    """Check ``x.grad`` of :func:`triple_until` at TRIPLE_X. Never raises."""
    given = _number(loop_grad, "loop_grad")
    if isinstance(given, Verdict):
        return given
    expected = ground_truth.partial(triple_until, {"x": TRIPLE_X}, "x")
    if within_precision(given, expected):
        return correct("x.grad", expected)
    return wrong("count how many multiplications actually ran for this x (follow y step by "
                 "step); each one multiplies the gradient by 3")
