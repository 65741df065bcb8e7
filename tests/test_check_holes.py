"""Answers that passed the exercise checks although the task forbids them (issue 30, point 14).

Each test feeds the check the answer a student would write and expects a named mistake; the
right answer written the asked way still passes, so the new rule is not a blanket refusal.
"""

from __future__ import annotations

import math

import torch

from autograd_lab.engine import Value
from autograd_lab.exercises import check_backward_order, check_gradient
from autograd_lab.exercises.higher_order_checks import (
    check_hvp,
    check_second_derivative,
    check_slope,
)
from autograd_lab.exercises.tensor_checks import check_clip_hook

#: The codes this file feeds (tests/test_exercises.py counts them as fed elsewhere).
HOLE_CODES = {"autograd_not_hand", "derivative_inside_outer", "degrees_not_radians",
              "hook_in_place", "root_backward_called", "hand_formula", "hessian_built",
              "gradient_times_v"}


# --- gradients_of_gradients -------------------------------------------------------------------
def _h(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return x**2 * torch.sin(y) + y**3


def hvp_by_autograd(p: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    (g,) = torch.autograd.grad(_h(p[0], p[1]), p, create_graph=True)
    (hv,) = torch.autograd.grad(g @ v, p)
    return hv


def test_second_derivative_by_hand_is_caught_and_by_autograd_passes() -> None:
    by_hand = check_second_derivative(lambda x: 2 * (1 - x**2) / (1 + x**2) ** 2)
    assert not by_hand.ok and by_hand.mistake == "hand_formula"

    def half_by_hand(x):  # autograd once, then the first derivative's formula differentiated
        (g,) = torch.autograd.grad(2 * x / (1 + x**2), x)
        return g

    assert check_second_derivative(half_by_hand).mistake == "hand_formula"

    def by_autograd(x):
        (g,) = torch.autograd.grad(torch.log(1 + x**2), x, create_graph=True)
        (g2,) = torch.autograd.grad(g, x)
        return g2

    assert check_second_derivative(by_autograd).ok


def test_slope_by_hand_is_caught() -> None:
    verdict = check_slope(lambda x: torch.exp(-(x**2)) * (1 - 2 * x**2))
    assert not verdict.ok and verdict.mistake == "hand_formula"
    assert check_slope(lambda x: torch.autograd.grad(x * torch.exp(-(x**2)), x)[0]).ok


def test_building_the_hessian_is_caught() -> None:
    def with_hessian(p, v):
        return torch.autograd.functional.hessian(lambda q: _h(q[0], q[1]), p) @ v

    def hessian_by_hand(p, v):
        x, y = p[0], p[1]
        H = torch.stack([torch.stack([2 * torch.sin(y), 2 * x * torch.cos(y)]),
                         torch.stack([2 * x * torch.cos(y), -(x**2) * torch.sin(y) + 6 * y])])
        return H @ v

    for answer in (with_hessian, hessian_by_hand):
        verdict = check_hvp(answer)
        assert not verdict.ok and verdict.mistake == "hessian_built", (answer.__name__, verdict)
    assert check_hvp(hvp_by_autograd).ok


def test_gradient_times_v_has_its_own_code() -> None:
    def grad_times_v(p, v):
        (g,) = torch.autograd.grad(_h(p[0], p[1]), p)
        return g * v

    verdict = check_hvp(grad_times_v)
    assert not verdict.ok and verdict.mistake == "gradient_times_v"
    assert "entry by entry" in verdict.message


# --- tensors_and_hooks ------------------------------------------------------------------------
def test_a_hook_that_clamps_in_place_is_caught() -> None:
    verdict = check_clip_hook(lambda g: g.clamp_(-1, 1))
    assert not verdict.ok and verdict.mistake == "hook_in_place"
    assert check_clip_hook(lambda g: g.clamp(-1, 1)).ok


# --- engine -----------------------------------------------------------------------------------
def test_calling_root_backward_is_caught() -> None:
    verdict = check_backward_order(lambda root: root.backward())
    assert not verdict.ok and verdict.mistake == "root_backward_called"

    def by_hand(root: Value) -> None:
        root.grad = 1.0
        for node in reversed(root.topological_order()):
            node._backward()

    assert check_backward_order(by_hand).ok


# --- chain_rule -------------------------------------------------------------------------------
def test_a_tensor_from_autograd_is_refused_where_a_hand_answer_is_asked() -> None:
    x = torch.tensor(2.0, requires_grad=True)
    torch.exp(torch.cos(x)).backward()
    verdict = check_gradient("exp_cos", "x", x.grad)
    assert not verdict.ok and verdict.mistake == "autograd_not_hand"
    assert check_gradient("exp_cos", "x", float(x.grad)).ok  # the same number as a float


def test_exp_of_minus_sin_and_degrees_have_their_own_codes() -> None:
    inside = check_gradient("exp_cos", "x", math.exp(-math.sin(2.0)))
    assert not inside.ok and inside.mistake == "derivative_inside_outer"
    r = math.radians(2.0)
    degrees = check_gradient("exp_cos", "x", math.exp(math.cos(r)) * -math.sin(r))
    assert not degrees.ok and degrees.mistake == "degrees_not_radians"
    truth = math.exp(math.cos(2.0)) * -math.sin(2.0)
    assert f"{truth:.4f}" not in inside.message and f"{truth:.4f}" not in degrees.message
