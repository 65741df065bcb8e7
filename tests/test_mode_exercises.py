"""Lesson 13's forward/reverse-mode exercise checks: right answers pass, each slip named.
The truth (jacrev) is itself checked against a central difference here."""

from __future__ import annotations

import torch
import torch.autograd.forward_ad as fwAD

from autograd_lab.exercises import check_jacobian_column, check_jvp, check_mode_choice
from autograd_lab.exercises.mode_checks import COLUMN_FUNCTION, COLUMN_POINT, SHAPES


def right_jvp(f, x, v):
    with fwAD.dual_level():
        return fwAD.unpack_dual(f(fwAD.make_dual(x, v))).tangent


def primal_jvp(f, x, v):
    with fwAD.dual_level():
        return fwAD.unpack_dual(f(fwAD.make_dual(x, v))).primal


def vjp_instead(f, x, v):
    _, pullback = torch.func.vjp(f, x)
    return pullback(v)[0]


def test_jvp() -> None:
    assert check_jvp(right_jvp).ok
    assert check_jvp(primal_jvp).mistake == "value_not_gradient"
    assert check_jvp(vjp_instead).mistake == "row_not_column"
    assert not check_jvp(lambda f, x, v: "nope").ok
    assert check_jvp(...).mistake == "not_attempted"


def test_mode_choice() -> None:
    right = {k: ("forward" if n < m else "reverse") for k, (n, m) in SHAPES.items()}
    assert right["loss of a network with 1,000,000 weights"] == "reverse"
    assert check_mode_choice(right).ok
    swapped = dict(right, **{"3 inputs, 500 outputs": "reverse"})
    assert check_mode_choice(swapped).mistake == "mode_swapped"
    assert not check_mode_choice({"3 inputs, 500 outputs": "forward"}).ok
    assert not check_mode_choice(dict(right, **{"200 inputs, 2 outputs": "sideways"})).ok


def test_jacobian_column_against_a_finite_difference() -> None:
    x = torch.tensor(COLUMN_POINT, dtype=torch.float64)
    h = 1e-6
    e1 = torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64)
    column = (COLUMN_FUNCTION(x + h * e1) - COLUMN_FUNCTION(x - h * e1)) / (2 * h)
    # by hand: f = (x0 x1 x2, x0² + x2, sin x1): ∂/∂x1 = (x0 x2, 0, cos x1) = (3, 0, cos 2)
    assert torch.allclose(column, torch.tensor([3.0, 0.0, torch.cos(torch.tensor(2.0)).item()],
                                               dtype=torch.float64), atol=1e-6)
    assert check_jacobian_column(column.tolist()).ok
    row = torch.func.jacrev(COLUMN_FUNCTION)(x)[1]
    assert check_jacobian_column(row).mistake == "row_not_column"
    assert check_jacobian_column([1.0, 2.0]).mistake == "wrong_shape"
    assert not check_jacobian_column([3.0, 1.0, 0.0]).ok
