"""Tensor exercises (lessons 10 and 11): a weight matrix's gradient, a Jacobian, a gradient
hook that clips, and a target that must be detached.

The truth is torch autograd in float64, every entry cross-checked by a central difference
``(f(v + h·e) - f(v - h·e)) / 2h`` along that entry's direction ``e``:

* ``L = Σ_i ((W x)_i - t_i)²`` with ``W`` of shape 2×3: ``dL/dW_ij = 2((W x)_i - t_i) · x_j``,
  so ``dL/dW = 2 (W x - t) xᵀ`` has W's shape (a gradient always has its parameter's shape);
* ``f(x) = [x₀x₁, x₀² - x₁, sin x₀]``: the Jacobian ``J_ij = ∂f_i/∂x_j`` is 3×2 (one row per
  output, one column per input);
* a hook ``h(grad)`` registered with ``u.register_hook`` replaces ``dL/du`` by what it returns
  (None keeps it unchanged), so clipping ``dL/du`` to [-1, 1] gives
  ``x.grad = clamp(dL/du, -1, 1) · du/dx``;
* a detached target ``T = r + γ·w·x'`` is a constant to autograd:
  ``d/dw (w x - T)² = 2(w x - T) · x``, not ``2(w x - T)(x - γ x')``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from autograd_lab.exercises.student_code import checks_function, guarded
from autograd_lab.prediction import within_precision
from autograd_lab.tensor_input import as_dtype
from autograd_lab.verdict import (
    AnswerError,
    Verdict,
    close,
    never_raises,
    not_attempted,
    raised,
    show_number,
    unanswered,
    wrong,
)

TensorFn = Callable[[torch.Tensor], torch.Tensor]
H = 1e-6
AGREE = 1e-6


class TruthError(AssertionError):
    """Autograd and the finite difference disagree: a bug in an exercise definition."""


def _f64(values: Any) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


def numerical_jacobian(fn: TensorFn, at: torch.Tensor, h: float = H) -> torch.Tensor:
    """Central differences in float64: entry ``[*out, *in]`` is ``∂fn_out/∂at_in``."""
    at = at.detach().to(torch.float64)
    with torch.no_grad():
        out_shape = fn(at).shape
        columns = []
        for index in range(at.numel()):
            step = torch.zeros(at.numel(), dtype=torch.float64)
            step[index] = h
            step = step.reshape(at.shape)
            columns.append(((fn(at + step) - fn(at - step)) / (2 * h)).reshape(-1))
    return torch.stack(columns, dim=-1).reshape(tuple(out_shape) + tuple(at.shape))


def jacobian_truth(fn: TensorFn, at: torch.Tensor) -> torch.Tensor:
    """``torch.autograd.functional.jacobian`` in float64, after agreeing with the difference."""
    exact = torch.autograd.functional.jacobian(fn, at.detach().to(torch.float64))
    approx = numerical_jacobian(fn, at)
    if not torch.allclose(exact, approx, rtol=AGREE, atol=AGREE):
        raise TruthError(f"autograd gives {exact.tolist()} but the difference {approx.tolist()}")
    return exact


def as_tensor(answer: Any, name: str) -> torch.Tensor:
    """A student's tensor, nested list or NumPy array as float64; AnswerError otherwise."""
    try:
        value = as_dtype(answer, torch.float64)
    except Exception as exc:  # noqa: BLE001 - any odd object is "not a tensor"
        kind = type(answer).__name__
        raise AnswerError(
            f"{name} should be a tensor (or a rectangular nested list of numbers), not this {kind}"
        ) from exc
    if not torch.isfinite(value).all():
        raise AnswerError(f"{name} holds inf or nan; check for a division by zero")
    return value


def _same(given: torch.Tensor, expected: torch.Tensor) -> bool:
    """Same shape, and every entry right to 4 decimal places (``within_precision``)."""
    return given.shape == expected.shape and all(
        within_precision(g, e)
        for g, e in zip(given.reshape(-1).tolist(), expected.reshape(-1).tolist(), strict=True)
    )


def _shape(t: torch.Tensor) -> str:
    return str(tuple(t.shape))


def _first_wrong(given: torch.Tensor, expected: torch.Tensor) -> str:
    """``[1, 2]``: the index of the first entry that differs (never its true value)."""
    flat_g, flat_e = given.reshape(-1).tolist(), expected.reshape(-1).tolist()
    for flat, (g, e) in enumerate(zip(flat_g, flat_e, strict=True)):
        if not within_precision(g, e):
            index = [int(i) for i in torch.unravel_index(torch.tensor(flat), expected.shape)]
            return str(index)
    return "[]"


# --- 1. dL/dW for a 2×3 weight -----------------------------------------------------------------
WEIGHT_W = ((0.5, -1.0, 2.0), (1.5, 0.0, -0.5))
WEIGHT_X = (1.0, -2.0, 0.5)
WEIGHT_T = (1.0, -1.0)


def weight_loss(weight: torch.Tensor) -> torch.Tensor:
    """``L = Σ_i ((W x)_i - t_i)²`` for the exercise's x and t."""
    x = _f64(WEIGHT_X).to(weight.dtype)
    t = _f64(WEIGHT_T).to(weight.dtype)
    return ((weight @ x - t) ** 2).sum()


def weight_grad_truth() -> torch.Tensor:
    """dL/dW (2×3) by autograd in float64, cross-checked entry by entry."""
    return jacobian_truth(weight_loss, _f64(WEIGHT_W))


@guarded("grad_W")
@never_raises(limit=120)
def check_weight_grad(grad_W: object) -> Verdict:  # noqa: N803 - W is the matrix's name
    """Check a hand-derived ``dL/dW`` (same shape as W). Never raises."""
    if unanswered(grad_W):
        return not_attempted("grad_W")
    given = as_tensor(grad_W, "grad_W")
    expected = weight_grad_truth()
    if given.shape != expected.shape:
        return wrong(
            f"grad_W has shape {_shape(given)} but W has shape {_shape(expected)}; a "
            f"gradient always has the shape of the tensor it belongs to (one entry per "
            f"weight)",
            "wrong_shape",
        )
    if _same(given, expected):
        return Verdict(True, None, f"Correct: dL/dW = {_rows(expected)}")
    if _same(given, 0.5 * expected):
        return wrong(
            "every entry is half of dL/dW: a factor is missing from the derivative of the "
            "square (the outer link of the chain)",
            "missing_chain_factor",
        )
    if _same(given, -expected):
        return wrong(
            "the size of every entry is right but the sign is wrong; check the sign of the "
            "error (W x - t)",
            "sign_error",
        )
    return wrong(
        f"grad_W differs from dL/dW at entry {_first_wrong(given, expected)}; write "
        f"dL/dW_ij for one entry first, then see which row and column it uses"
    )


def _rows(t: torch.Tensor) -> str:
    if t.dim() == 1:
        return "[" + ", ".join(f"{v:.4f}" for v in t.tolist()) + "]"
    return "[" + ", ".join(_rows(row) for row in t) + "]"


# --- 2. the Jacobian of f(x) = [x0*x1, x0**2 - x1, sin(x0)] ------------------------------------
JACOBIAN_X = (1.5, -2.0)


def jacobian_fn(x: torch.Tensor) -> torch.Tensor:
    """``f(x) = [x₀x₁, x₀² - x₁, sin x₀]``: 2 inputs, 3 outputs."""
    return torch.stack([x[0] * x[1], x[0] ** 2 - x[1], torch.sin(x[0])])


@guarded("J")
@never_raises(limit=120)
def check_jacobian(J: object) -> Verdict:  # noqa: N803 - J is the Jacobian's usual name
    """Check a hand Jacobian of :func:`jacobian_fn` at JACOBIAN_X (3×2). Never raises."""
    if unanswered(J):
        return not_attempted("J")
    given = as_tensor(J, "J")
    expected = jacobian_truth(jacobian_fn, _f64(JACOBIAN_X))
    if given.shape != expected.shape:
        hint = (
            "; it looks transposed: row i holds the derivatives of output f_i"
            if given.shape == expected.T.shape
            else ""
        )
        return wrong(
            f"J has shape {_shape(given)} but f has 3 outputs and 2 inputs, so its Jacobian "
            f"is {_shape(expected)} (one row per output, one column per input){hint}",
            "wrong_shape",
        )
    if _same(given, expected):
        return Verdict(True, None, f"Correct: J = {_rows(expected)}")
    if _same(given, -expected):
        return wrong(
            "every entry has the wrong sign; check each derivative's sign", "sign_error"
        )
    return wrong(
        f"J differs at entry {_first_wrong(given, expected)}; entry [i, j] is "
        f"∂f_i/∂x_j, the derivative of output i with respect to input j"
    )


# --- 3. a hook that clips dL/du to [-1, 1] -------------------------------------------------------
HOOK_X = (1.0, -2.0, 0.5)
HOOK_C = (-3.0, 0.5, 2.0)  # dL/du, with L = Σ c_i u_i and u = x²
CLIP = 1.0


def hook_truth() -> torch.Tensor:
    """x.grad with dL/du clipped: the gradient of ``Σ clamp(c, -1, 1)_i · x_i²`` (cross-checked)."""
    clipped = _f64(HOOK_C).clamp(-CLIP, CLIP)
    return jacobian_truth(lambda x: (clipped * x**2).sum(), _f64(HOOK_X))


def hook_unclipped() -> torch.Tensor:
    """x.grad with no hook: the gradient of ``Σ c_i x_i²``."""
    return jacobian_truth(lambda x: (_f64(HOOK_C) * x**2).sum(), _f64(HOOK_X))


def run_with_hook(hook: Callable[[torch.Tensor], Any]) -> torch.Tensor:
    """Register ``hook`` on u = x², backpropagate L = Σ c_i u_i in float64, return x.grad."""
    x = _f64(HOOK_X).requires_grad_(True)
    u = x**2
    handle = u.register_hook(hook)
    try:
        (_f64(HOOK_C) * u).sum().backward()
    finally:
        handle.remove()
    assert x.grad is not None
    return x.grad.detach().clone()


@checks_function(
    "clip_hook",
    "clip_hook should be a function of the gradient, def clip_hook(grad): ...",
    limit=120,
)
def check_clip_hook(clip_hook: object) -> Verdict:
    """Check a hook that clips a gradient to [-1, 1] by registering it on u. Never raises."""
    probe = _f64(HOOK_C)
    try:
        returned = clip_hook(probe)
    except Exception as exc:  # noqa: BLE001
        return raised("clip_hook(grad)", exc, limit=100)
    changed = not torch.equal(probe, _f64(HOOK_C))
    if changed and returned is not None:
        return wrong(
            "clip_hook edits grad in place (a method ending in _, such as clamp_) before "
            "returning it; a hook must not modify its argument: return a new tensor instead",
            "hook_in_place",
        )
    if returned is None:
        how = (
            "it changes grad in place, which a hook must not do (torch's documentation: "
            "a hook should not modify its argument)"
            if changed
            else "whatever it computes is thrown away, and torch keeps the gradient unchanged"
        )
        return wrong(
            f"clip_hook returns None: {how}; a hook changes the gradient only through the "
            f"tensor it returns",
            "hook_not_returned",
        )
    if not isinstance(returned, torch.Tensor):
        kind = type(returned).__name__
        why = (" (torch replaces the gradient only with a tensor; torch.as_tensor turns an "
               "array into one)" if hasattr(returned, "__array__") else "")
        return wrong(f"clip_hook should return a tensor, but it returns a {kind}{why}")
    if returned.shape != probe.shape:
        return wrong(
            f"clip_hook returns shape {_shape(returned)} for a gradient of shape "
            f"{_shape(probe)}; the returned tensor replaces the gradient, so it needs the "
            f"same shape",
            "wrong_shape",
        )
    try:
        got = run_with_hook(clip_hook)
    except Exception as exc:  # noqa: BLE001
        return raised("backward with clip_hook", exc, limit=100)
    expected = hook_truth()
    if _same(got, expected):
        return Verdict(True, None, f"Correct: with the hook, x.grad = {_rows(expected)}")
    if _same(got, hook_unclipped()):
        return wrong(
            "x.grad is the unclipped gradient: the hook returned the gradient unchanged"
        )
    return wrong(
        "the returned tensor replaces dL/du entry by entry: entries inside [-1, 1] must "
        "stay as they are, and only those outside move to the nearest bound"
    )


# --- 4. a detached target: L = (w·x - (r + γ·w·x'))² --------------------------------------------
GAMMA = 0.9
#: (w, x, x_next, r): the notebook's case first, then one the student does not see.
TARGET_CASES: tuple[tuple[float, float, float, float], ...] = (
    (0.5, 2.0, 1.0, 1.0),
    (-1.2, 0.5, 3.0, 0.0),
)


def target_grads(case: Sequence[float]) -> dict[str, float]:
    """dL/dw for the target detached ("truth"), not detached, and the prediction detached."""
    w0, x, x_next, r = case
    target = r + GAMMA * w0 * x_next  # the constant a detached target is
    prediction = w0 * x
    both = jacobian_truth(lambda w: (w * x - (r + GAMMA * w * x_next)) ** 2, _f64(w0))
    only_prediction = jacobian_truth(lambda w: (w * x - target) ** 2, _f64(w0))
    only_target = jacobian_truth(lambda w: (prediction - (r + GAMMA * w * x_next)) ** 2, _f64(w0))
    return {"truth": float(only_prediction), "none": float(both), "prediction": float(only_target)}


@checks_function("td_loss", "td_loss should be a function (w, x, x_next, r) -> the loss", limit=120)
def check_target_loss(td_loss: object) -> Verdict:
    """Call ``td_loss(w, x, x_next, r)`` with w a float64 leaf; compare ``w.grad``. Never raises."""
    for case in TARGET_CASES:
        w = _f64(case[0]).requires_grad_(True)
        x, x_next, r = (_f64(v) for v in case[1:])
        try:
            loss = td_loss(w, x, x_next, r)
        except Exception as exc:  # noqa: BLE001
            return raised("td_loss", exc, limit=100)
        if loss is Ellipsis:
            return not_attempted("td_loss")
        if not isinstance(loss, torch.Tensor):
            kind = type(loss).__name__
            why = (": a NumPy array has no graph, so backward() cannot reach w; compute the "
                   "loss with torch operations" if hasattr(loss, "__array__") else "")
            return wrong(f"td_loss should return a tensor, but it returns a {kind}{why}")
        if loss.numel() != 1:
            return wrong(
                f"td_loss returns shape {_shape(loss)}; a loss is one number",
                "wrong_shape",
            )
        if loss.grad_fn is None:
            return wrong(
                "the loss has no grad_fn: the whole loss was cut out of the graph, so no "
                "gradient reaches w; detach only the target",
                "detach_wrong_place",
            )
        (grad,) = torch.autograd.grad(loss.reshape(()), w, allow_unused=True)
        given = 0.0 if grad is None else float(grad)
        grads = target_grads(case)
        expected_loss = (case[0] * case[1] - (case[3] + GAMMA * case[0] * case[2])) ** 2
        if not close(float(loss.detach().reshape(())), expected_loss):
            return wrong("td_loss's value is not (w·x - (r + γ·w·x_next))²; check the formula")
        if close(given, grads["truth"]):
            continue
        if close(given, grads["none"]):
            return wrong(
                "the gradient also flows through the target, so the update chases a target "
                "that moves with w; cut the target out of the graph",
                "not_detached",
            )
        if close(given, grads["prediction"]):
            return wrong(
                "the gradient flows only through the target: the prediction w·x was "
                "detached instead of the target",
                "detach_wrong_place",
            )
        return wrong(
            f"td_loss gives dL/dw = {show_number(given)} at w = {case[0]}; check which part of the "
            f"loss the gradient should flow through"
        )
    first = target_grads(TARGET_CASES[0])["truth"]
    return Verdict(True, None, f"Correct: dL/dw = {first:.4f} at w = {TARGET_CASES[0][0]}")
