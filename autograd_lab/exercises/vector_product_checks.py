"""Lesson 05's exercise: a vector-Jacobian product by hand, and a broadcast bias's gradient.

1. ``f(x) = [x₀x₁, x₀² + x₁]`` at ``x = (2, -1)`` and ``v = (1, 3)``: the student gives
   ``vᵀJ``, what ``f(x).backward(gradient=v)`` leaves in ``x.grad``. Named slip: ``J·v``
   (``jv_not_vtj``).
2. ``L = Σ (X + b)²`` for a 4×3 batch ``X`` and a bias ``b`` of 3 entries, broadcast over the
   batch: the student gives ``b.grad``. Named slips: one example's gradient only
   (``bias_not_summed``), the batch mean (``wrong_reduction``).

The truth is torch autograd in float64, cross-checked by central differences.
"""

from __future__ import annotations

from typing import Any

import torch

from autograd_lab.exercises.student_code import guarded
from autograd_lab.exercises.tensor_checks import as_tensor, jacobian_truth
from autograd_lab.prediction import within_precision
from autograd_lab.verdict import AnswerError, Verdict, not_attempted, unanswered, wrong

VJP_X = (2.0, -1.0)
VJP_V = (1.0, 3.0)
BATCH = ((1.0, 0.0, -2.0), (0.5, 1.5, 1.0), (-1.0, 2.0, 0.0), (3.0, -0.5, 1.0))
BIAS = (0.5, -1.0, 2.0)


def _same(given: torch.Tensor, expected: torch.Tensor) -> bool:
    """Same shape, every entry right to 4 decimal places."""
    return given.shape == expected.shape and all(
        within_precision(g, e) for g, e in zip(given.tolist(), expected.tolist(), strict=True)
    )


def _rows(t: torch.Tensor) -> str:
    return "[" + ", ".join(f"{v:.4f}" for v in t.tolist()) + "]"


def vjp_fn(x: torch.Tensor) -> torch.Tensor:
    """``f(x) = [x₀x₁, x₀² + x₁]``."""
    return torch.stack([x[0] * x[1], x[0] ** 2 + x[1]])


def _f64(values: Any) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


def _vector(answer: Any, name: str, size: int) -> torch.Tensor:
    given = as_tensor(answer, name).reshape(-1)
    if given.numel() != size:
        raise AnswerError(f"{name} should hold {size} numbers, one per entry of x, not "
                          f"{given.numel()}")
    return given


@guarded("vjp")
def check_vjp(vjp: object) -> Verdict:
    """Check ``vᵀJ`` for :func:`vjp_fn` at VJP_X with VJP_V. Never raises."""
    if unanswered(vjp):
        return not_attempted("vjp")
    try:
        given = _vector(vjp, "vjp", 2)
    except AnswerError as exc:
        return wrong(str(exc))
    J = jacobian_truth(vjp_fn, _f64(VJP_X))  # noqa: N806 - J is the Jacobian's usual name
    v = _f64(VJP_V)
    expected = v @ J
    if _same(given, expected):
        return Verdict(True, None, f"Correct: vᵀJ = {_rows(expected)}")
    if _same(given, J @ v):
        return wrong("that is J·v, the Jacobian times v as a column; backward computes vᵀJ: "
                     "each row of J times its entry of v, the rows added", "jv_not_vtj")
    return wrong("vᵀJ has entry j = Σᵢ vᵢ ∂fᵢ/∂xⱼ; write out J first, one row per output")


def bias_truth() -> torch.Tensor:
    """``∂L/∂b`` for ``L = Σ (X + b)²``: torch autograd (float64), cross-checked."""
    X = _f64(BATCH)  # noqa: N806 - a batch is usually X
    return jacobian_truth(lambda b: ((X + b) ** 2).sum(), _f64(BIAS))


@guarded("b_grad")
def check_bias_grad(b_grad: object) -> Verdict:
    """Check ``b.grad`` for a bias broadcast over BATCH. Never raises."""
    if unanswered(b_grad):
        return not_attempted("b_grad")
    try:
        given = _vector(b_grad, "b_grad", len(BIAS))
    except AnswerError as exc:
        return wrong(str(exc))
    expected = bias_truth()
    if _same(given, expected):
        return Verdict(True, None, f"Correct: b.grad = {_rows(expected)}")
    per_example = 2 * (_f64(BATCH) + _f64(BIAS))
    if any(_same(given, row) for row in per_example):
        return wrong("that is the gradient from one example; b is added to every row of the "
                     "batch, so its gradient sums over all of them", "bias_not_summed")
    if _same(given, expected / len(BATCH)):
        return wrong("that is the mean over the batch; L is a sum, and a broadcast bias gets "
                     "the sum of its gradients", "wrong_reduction")
    return wrong("∂L/∂bⱼ = Σ over the batch of 2(Xᵢⱼ + bⱼ)")
