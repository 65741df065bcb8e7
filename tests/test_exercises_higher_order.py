"""The lesson 09 exercise checks (``autograd_lab.exercises.higher_order_checks``): the teacher
solutions
pass, each recognised mistake is fed as a student would write it and named by its code, and no
check raises. Truth is recomputed here independently: the closed-form derivatives in float64
math, torch autograd in float64, and central differences.
"""

from __future__ import annotations

import math

import pytest
import torch

from autograd_lab.exercises import MISTAKES, check_hvp, check_second_derivative, check_slope
from autograd_lab.exercises import higher_order_checks as ho

NEW_CODES = (
    "accumulated_not_returned",
    "missing_create_graph",
    "missing_retain_graph",
    "first_derivative_only",
)


# --- the teacher's solutions -------------------------------------------------------------------
def slope_solution(x):
    (g,) = torch.autograd.grad(x * torch.exp(-(x**2)), x)
    return g


def second_solution(x):
    (d1,) = torch.autograd.grad(torch.log(1 + x**2), x, create_graph=True)
    (d2,) = torch.autograd.grad(d1, x)
    return d2


def hvp_solution(p, v):
    h = p[0] ** 2 * torch.sin(p[1]) + p[1] ** 3
    (g,) = torch.autograd.grad(h, p, create_graph=True)
    (hv,) = torch.autograd.grad(g @ v, p)
    return hv


def test_new_codes_are_registered() -> None:
    for code in NEW_CODES:
        assert code in MISTAKES


# --- the truth the checks use agrees with closed forms ----------------------------------------
@pytest.mark.parametrize("x0", [*ho.SLOPE_X, 0.0, 2.5])
def test_slope_truth_is_the_closed_form(x0: float) -> None:
    assert ho.first_derivative(ho.f_slope, x0) == pytest.approx(
        math.exp(-(x0**2)) * (1 - 2 * x0**2), rel=1e-12, abs=1e-14
    )


@pytest.mark.parametrize("x0", [*ho.SECOND_X, 1.0, 3.0])
def test_second_derivative_truth_is_the_closed_form(x0: float) -> None:
    closed = 2 * (1 - x0**2) / (1 + x0**2) ** 2
    autograd = ho.second_derivative_truth(ho.g_second, x0)
    assert autograd == pytest.approx(closed, rel=1e-12, abs=1e-14)
    # and a central difference of the closed-form first derivative agrees
    d1 = lambda t: 2 * t / (1 + t**2)  # noqa: E731
    h = 1e-5
    assert (d1(x0 + h) - d1(x0 - h)) / (2 * h) == pytest.approx(closed, rel=1e-7, abs=1e-8)


@pytest.mark.parametrize(("p", "v"), ho.HVP_CASES)
def test_hvp_truth_is_the_hessian_times_v(p, v) -> None:
    x, y = p
    hessian = [
        [2 * math.sin(y), 2 * x * math.cos(y)],
        [2 * x * math.cos(y), -(x**2) * math.sin(y) + 6 * y],
    ]
    expected = [hessian[i][0] * v[0] + hessian[i][1] * v[1] for i in range(2)]
    assert ho.hvp_truth(p, v) == pytest.approx(expected, rel=1e-12, abs=1e-14)
    full = torch.autograd.functional.hessian(
        lambda q: q[0] ** 2 * torch.sin(q[1]) + q[1] ** 3, torch.tensor(p, dtype=torch.float64)
    )
    assert (full @ torch.tensor(v, dtype=torch.float64)).tolist() == pytest.approx(expected)


# --- correct answers ----------------------------------------------------------------------------
def test_teacher_solutions_pass() -> None:
    for verdict in (
        check_slope(slope_solution),
        check_second_derivative(second_solution),
        check_hvp(hvp_solution),
    ):
        assert verdict.ok and verdict.mistake is None, verdict
        assert repr(verdict).startswith("✓ Correct")


def test_correct_verdict_shows_the_true_value() -> None:
    x0 = ho.SLOPE_X[0]
    expected = math.exp(-(x0**2)) * (1 - 2 * x0**2)
    assert f"{expected:.4f}" in check_slope(slope_solution).message
    x0 = ho.SECOND_X[0]
    expected = 2 * (1 - x0**2) / (1 + x0**2) ** 2
    assert f"{expected:.4f}" in check_second_derivative(second_solution).message


def test_float32_and_float_returns_are_accepted() -> None:
    def slope_float(x):
        return slope_solution(x).item()

    def hvp_tuple(p, v):
        hv = hvp_solution(p, v)
        return (hv[0], hv[1])

    assert check_slope(slope_float).ok
    assert check_hvp(hvp_tuple).ok


# --- each mistake, as a student would write it --------------------------------------------------
def test_slope_from_backward_is_accumulated_not_returned() -> None:
    def slope(x):
        (x * torch.exp(-(x**2))).backward()
        return x.grad

    verdict = check_slope(slope)
    assert not verdict.ok and verdict.mistake == "accumulated_not_returned", verdict
    assert "torch.autograd.grad" in verdict.message


def test_second_derivative_by_two_backwards_is_accumulated_not_returned() -> None:
    def second(x):
        torch.log(1 + x**2).backward(create_graph=True)
        x.grad.backward()  # adds g'' onto the g' already in x.grad
        return x.grad

    verdict = check_second_derivative(second)
    assert verdict.mistake == "accumulated_not_returned", verdict
    assert "already held the first derivative" in verdict.message


def test_second_derivative_without_create_graph() -> None:
    def second(x):
        (d1,) = torch.autograd.grad(torch.log(1 + x**2), x)
        (d2,) = torch.autograd.grad(d1, x)
        return d2

    verdict = check_second_derivative(second)
    assert verdict.mistake == "missing_create_graph", verdict


def test_second_derivative_with_retain_graph_instead_of_create_graph() -> None:
    def second(x):
        (d1,) = torch.autograd.grad(torch.log(1 + x**2), x, retain_graph=True)
        (d2,) = torch.autograd.grad(d1, x)
        return d2

    assert check_second_derivative(second).mistake == "missing_create_graph"


def test_second_derivative_through_a_freed_graph() -> None:
    def second(x):
        g = torch.log(1 + x**2)
        torch.autograd.grad(g, x)  # frees g's graph
        (d1,) = torch.autograd.grad(g, x, create_graph=True)
        (d2,) = torch.autograd.grad(d1, x)
        return d2

    verdict = check_second_derivative(second)
    assert verdict.mistake == "missing_retain_graph", verdict


def test_second_derivative_that_stops_at_the_first() -> None:
    def second(x):
        (d1,) = torch.autograd.grad(torch.log(1 + x**2), x, create_graph=True)
        return d1

    verdict = check_second_derivative(second)
    assert verdict.mistake == "first_derivative_only", verdict


def test_hvp_without_create_graph() -> None:
    def hvp(p, v):
        h = p[0] ** 2 * torch.sin(p[1]) + p[1] ** 3
        (g,) = torch.autograd.grad(h, p)
        return torch.autograd.grad(g @ v, p)[0]

    assert check_hvp(hvp).mistake == "missing_create_graph"


def test_hvp_that_returns_the_gradient_or_the_dot_product() -> None:
    def gradient(p, v):
        h = p[0] ** 2 * torch.sin(p[1]) + p[1] ** 3
        return torch.autograd.grad(h, p)[0]

    def dot(p, v):
        return gradient(p, v) @ v

    assert check_hvp(gradient).mistake == "first_derivative_only"
    assert check_hvp(dot).mistake == "first_derivative_only"


def test_hvp_from_backward_is_accumulated_not_returned() -> None:
    def hvp(p, v):
        h = p[0] ** 2 * torch.sin(p[1]) + p[1] ** 3
        (g,) = torch.autograd.grad(h, p, create_graph=True)
        (g @ v).backward()
        return p.grad

    assert check_hvp(hvp).mistake == "accumulated_not_returned"


def test_hvp_that_ignores_v_gets_a_hint_without_the_answer() -> None:
    def hvp(p, v):
        h = p[0] ** 2 * torch.sin(p[1]) + p[1] ** 3
        (g,) = torch.autograd.grad(h, p, create_graph=True)
        return torch.autograd.grad(g.sum(), p)[0]

    verdict = check_hvp(hvp)
    assert not verdict.ok and "does not depend on v" in verdict.message


def test_unpacking_slips_are_named() -> None:
    def slope(x):
        return torch.autograd.grad(x * torch.exp(-(x**2)), x)  # the tuple itself

    verdict = check_slope(slope)
    assert not verdict.ok and "tuple" in verdict.message


# --- never raises -------------------------------------------------------------------------------
@pytest.mark.parametrize("check", [check_slope, check_second_derivative, check_hvp])
@pytest.mark.parametrize(
    "answer",
    [..., None, 3.0, "slope", lambda *a: ..., lambda *a: None, lambda *a: 1 / 0,
     lambda *a: float("nan"), lambda *a: "text", lambda *a: torch.zeros(3)],
)
def test_checks_never_raise(check, answer) -> None:
    verdict = check(answer)
    assert not verdict.ok
    assert isinstance(repr(verdict), str) and "\n" not in repr(verdict)
    if answer is ... or answer is None:
        assert verdict.mistake == "not_attempted"


# --- issue 28: torch's own hvp pair, and NumPy arrays -----------------------------------------
def test_hvp_returning_torchs_value_and_product_pair_is_named() -> None:
    def hvp_functional(p, v):
        return torch.autograd.functional.hvp(lambda q: ho.h_hvp(q[0], q[1]), p, v)

    value, product = hvp_functional(torch.tensor([1.2, 0.4], dtype=torch.float64),
                                    torch.tensor([0.5, -2.0], dtype=torch.float64))
    assert product.tolist() == pytest.approx(ho.hvp_truth((1.2, 0.4), (0.5, -2.0)))
    verdict = check_hvp(hvp_functional)
    assert not verdict.ok
    assert "return only the product H·v" in verdict.message
    assert "should be one number" not in verdict.message


def test_a_numpy_array_of_the_right_numbers_passes_like_a_tensor() -> None:
    def hvp_numpy(p, v):
        return hvp_solution(p, v).detach().numpy()

    assert check_hvp(hvp_numpy).ok

    def hvp_wrong_numpy(p, v):
        return hvp_solution(p, v).detach().numpy() * 2

    assert not check_hvp(hvp_wrong_numpy).ok
