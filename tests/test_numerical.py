"""numerical_derivative: steps that cannot work are refused; float32 functions are reported."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

from autograd_lab import numerical_derivative


def test_issue_step_too_small_for_x_is_refused_not_zero():
    assert (3.0 + 1e-20) - (3.0 - 1e-20) == 0.0  # why the old answer was 0.0
    with pytest.raises(ValueError, match=r"h=1e-20 is too small for x=3: .* e\.g\. h=3e-06"):
        numerical_derivative(lambda t: t**2, 3.0, h=1e-20)
    with pytest.raises(ValueError, match="too small for x=1e\\+10"):
        numerical_derivative(lambda t: t**2, 1e10)  # the default h no longer moves x


@pytest.mark.parametrize("h", [0.0, -1e-6, math.nan, math.inf])
def test_non_positive_or_non_finite_step(h):
    with pytest.raises(ValueError, match="h must be a small positive number such as 1e-6"):
        numerical_derivative(math.sin, 1.0, h=h)


def test_non_finite_x():
    with pytest.raises(ValueError, match="x must be a finite number"):
        numerical_derivative(math.sin, math.inf)


@pytest.mark.parametrize("x, h", [(0.0, 1e-20), (3.0, 1e-13), (1e7, 1e-6), (-2.0, 1e-3)])
def test_small_but_workable_steps_still_answer(x, h):
    # the truth: d/dx sin(x) = cos(x); a step that still moves x gives it to a few digits
    assert numerical_derivative(math.sin, x, h=h) == pytest.approx(math.cos(x), abs=2e-2)


@pytest.mark.parametrize("f", [lambda t: torch.tensor(t, dtype=torch.float32) ** 2,
                               lambda t: np.float32(t) ** 2,
                               lambda t: torch.tensor(t, dtype=torch.float16) ** 2])
def test_float32_function_is_reported(f):
    with pytest.warns(UserWarning, match=r"f returned (float32|float16) values, so rounding "
                      r"swamps the step h=1e-06 .* compute f in float64"):
        estimate = numerical_derivative(f, 3.0)
    assert abs(estimate - 6.0) > 0.01  # the warning is about a real error (5.72 in float32)


def test_float64_function_is_not_reported():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        estimate = numerical_derivative(lambda t: torch.tensor(t, dtype=torch.float64) ** 2, 3.0)
        assert numerical_derivative(lambda t: np.float64(t) ** 2, 3.0) == pytest.approx(6.0)
    assert estimate == pytest.approx(6.0, rel=1e-8)
