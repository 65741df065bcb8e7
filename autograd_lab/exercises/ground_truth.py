"""Ground truth for the checks: torch autograd in float64, cross-checked by central differences.

Every correct answer (and every plausible wrong one) is computed here from a torch function
of float64 scalars, never typed in: ``df/dv`` comes from ``torch.autograd.grad`` and must agree
with ``(f(v + h) - f(v - h)) / 2h`` before a check trusts it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import torch

ScalarFn = Callable[..., torch.Tensor]

#: Central-difference step and the agreement autograd and the difference must reach.
H = 1e-6
AGREE_RTOL = 1e-6
AGREE_ATOL = 1e-8


class TruthError(AssertionError):
    """Autograd and the finite difference disagree: a bug in an exercise definition."""


def tensors(values: Mapping[str, float], requires_grad: bool = False) -> dict[str, torch.Tensor]:
    """float64 scalar tensors for ``values`` (leaves when ``requires_grad``)."""
    return {
        name: torch.tensor(float(v), dtype=torch.float64, requires_grad=requires_grad)
        for name, v in values.items()
    }


def value(fn: ScalarFn, values: Mapping[str, float]) -> float:
    """``fn(**values)`` in float64, as a Python float."""
    with torch.inference_mode(False), torch.no_grad():
        return float(fn(**tensors(values)))


def autograd_partial(fn: ScalarFn, values: Mapping[str, float], wrt: str) -> float:
    """``d fn / d wrt`` by torch autograd in float64 (gradients on, whatever the caller's mode)."""
    with torch.inference_mode(False), torch.enable_grad():
        leaves = tensors(values, requires_grad=True)
        (grad,) = torch.autograd.grad(fn(**leaves), leaves[wrt], allow_unused=True)
    return 0.0 if grad is None else float(grad)


def finite_difference(fn: ScalarFn, values: Mapping[str, float], wrt: str, h: float = H) -> float:
    """Central difference ``(f(v + h) - f(v - h)) / 2h`` in float64."""
    plus, minus = dict(values), dict(values)
    plus[wrt] = float(values[wrt]) + h
    minus[wrt] = float(values[wrt]) - h
    return (value(fn, plus) - value(fn, minus)) / (2 * h)


def partial(fn: ScalarFn, values: Mapping[str, float], wrt: str) -> float:
    """``d fn / d wrt``: autograd, after checking it against the central difference."""
    exact = autograd_partial(fn, values, wrt)
    approx = finite_difference(fn, values, wrt)
    if not math.isclose(exact, approx, rel_tol=AGREE_RTOL, abs_tol=AGREE_ATOL):
        raise TruthError(
            f"autograd says d/d{wrt} = {exact!r} but the finite difference says {approx!r}"
        )
    return exact
