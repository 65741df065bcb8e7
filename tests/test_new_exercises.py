"""The exercises for lessons 01, 03, 05 and 12 (issue 30, point 15): right answers pass, each
named slip gets its code, and the truths are computed here independently (closed forms, a
graph read from torch, a finite difference)."""

from __future__ import annotations

import math

import pytest
import torch

from autograd_lab.exercises import (
    MISTAKES,
    check_bend_grad,
    check_bias_grad,
    check_central_difference,
    check_gradient,
    check_graph_nodes,
    check_loop_grad,
    check_vjp,
)
from autograd_lab.exercises.vector_product_checks import BATCH, BIAS

#: The codes this file feeds (tests/test_exercises.py counts them as fed elsewhere).
NEW_EXERCISE_CODES = {"value_not_gradient", "one_sided_difference", "step_not_doubled",
                      "tensor_not_node", "forward_order", "jv_not_vtj", "bias_not_summed",
                      "path_not_taken"}

# --- closed forms, written out here ---------------------------------------------------------
CUBIC_GRAD = 3 * 2.0**2 - 2  # d(x³ - 2x)/dx at 2
VJP = [1 * -1.0 + 3 * 2 * 2.0, 1 * 2.0 + 3 * 1]  # v = (1, 3); J = [[x1, x0], [2x0, 1]] at (2, -1)
JV = [-1.0 * 1 + 2.0 * 3, 2 * 2.0 * 1 + 1 * 3]
BIAS_GRAD = [sum(2 * (row[j] + BIAS[j]) for row in BATCH) for j in range(3)]


def central(f, x, h):
    return (f(x + h) - f(x - h)) / (2 * h)


def test_truths_agree_with_a_finite_difference() -> None:
    assert central(lambda t: t**3 - 2 * t, 2.0, 1e-6) == pytest.approx(CUBIC_GRAD, rel=1e-8)
    b = torch.tensor(BIAS, dtype=torch.float64, requires_grad=True)
    ((torch.tensor(BATCH, dtype=torch.float64) + b) ** 2).sum().backward()
    assert b.grad.tolist() == pytest.approx(BIAS_GRAD, rel=1e-12)


def test_right_answers_pass() -> None:
    assert check_gradient("cubic", "x", CUBIC_GRAD).ok
    assert check_central_difference(central).ok
    assert check_graph_nodes("AddBackward0", ["ExpBackward0", "AccumulateGrad"]).ok
    assert check_vjp(VJP).ok and check_vjp(torch.tensor(VJP)).ok
    assert check_bias_grad(BIAS_GRAD).ok
    assert check_bend_grad(4.0).ok  # the else branch, 4x, ran at x = 0.5
    assert check_loop_grad(9.0).ok  # 0.7 -> 2.1 -> 6.3: two multiplications by 3


def test_the_graph_answer_is_what_torch_builds() -> None:
    w, b = torch.tensor(0.5, requires_grad=True), torch.tensor(-1.0, requires_grad=True)
    y = torch.exp(w * torch.tensor(2.0)) + b
    names = [type(fn).__name__ for fn, _ in y.grad_fn.next_functions]
    assert (type(y.grad_fn).__name__, names) == ("AddBackward0", ["ExpBackward0", "AccumulateGrad"])


CASES = [
    ("value_not_gradient", lambda: check_gradient("cubic", "x", 2.0**3 - 2 * 2.0)),
    ("one_sided_difference",
     lambda: check_central_difference(lambda f, x, h: (f(x + h) - f(x)) / h)),
    ("step_not_doubled",
     lambda: check_central_difference(lambda f, x, h: (f(x + h) - f(x - h)) / h)),
    ("tensor_not_node", lambda: check_graph_nodes("AddBackward0", ["ExpBackward0", "b"])),
    ("forward_order", lambda: check_graph_nodes("MulBackward0", ["AccumulateGrad"])),
    ("jv_not_vtj", lambda: check_vjp(JV)),
    ("bias_not_summed",
     lambda: check_bias_grad([2 * (BATCH[0][j] + BIAS[j]) for j in range(3)])),
    ("path_not_taken", lambda: check_bend_grad(3 * 0.5**2)),
]


@pytest.mark.parametrize(("code", "run"), CASES, ids=[c for c, _ in CASES])
def test_each_slip_is_named(code: str, run) -> None:
    verdict = run()
    assert not verdict.ok and verdict.mistake == code, verdict
    assert "\n" not in repr(verdict)


def test_every_new_code_is_fed_and_registered() -> None:
    assert {code for code, _ in CASES} == NEW_EXERCISE_CODES <= set(MISTAKES)


@pytest.mark.parametrize("answer", [..., None, "x", [1.0], float("nan"), object()])
def test_odd_answers_never_raise(answer) -> None:
    for check in (check_vjp, check_bias_grad, check_bend_grad, check_loop_grad,
                  check_central_difference):
        verdict = check(answer)
        assert not verdict.ok and "\n" not in repr(verdict)
    assert not check_graph_nodes(answer, answer).ok


def test_a_loop_count_off_by_one_is_wrong_without_giving_the_answer() -> None:
    verdict = check_loop_grad(27.0)
    assert not verdict.ok and "9" not in verdict.message and math.isfinite(27.0)
