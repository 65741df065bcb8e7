"""Training-loop exercises: the student fixes a loop; the check runs it and compares the fitted
``(w, b)`` with a correct run.

The reference run is plain gradient descent on the MSE of a line in float64,
``w ← w - lr · dL/dw``, ``L = mean((w·x + b - y)²)``, with each gradient taken by torch
autograd and cross-checked by a central difference. The plausible buggy runs are the same
loop with the gradients never zeroed (``g`` accumulates: ``w ← w - lr · Σ dL/dw``) and with
the summed instead of the mean squared error.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from autograd_lab.exercises import ground_truth
from autograd_lab.exercises.student_code import run_check
from autograd_lab.verdict import (
    AnswerError,
    Verdict,
    as_number,
    close,
    explain_error,
    never_raises,
    not_attempted,
    unanswered,
    wrong,
)


@dataclass(frozen=True)
class LoopCase:
    """One run a check makes: data, learning rate, epochs (parameters start at 0)."""

    x: tuple[float, ...]
    y: tuple[float, ...]
    lr: float
    epochs: int


#: The training notebook's data (shown to the student) and a second run they do not see.
TRAINING_CASES = (
    LoopCase((-2.0, -1.0, 0.0, 1.0, 2.0), (4.1, 2.9, 2.2, 0.8, -0.1), lr=0.1, epochs=30),
    LoopCase((0.0, 1.0, 2.0), (2.0, 2.5, 3.5), lr=0.05, epochs=15),
)
#: The no-grad notebook's data and a second run.
NO_GRAD_CASES = (
    LoopCase((0.0, 1.0, 2.0, 3.0), (1.0, -1.0, -3.0, -5.0), lr=0.05, epochs=30),
    LoopCase((1.0, 2.0, 4.0), (0.5, 1.5, 2.0), lr=0.03, epochs=12),
)


def reference_fit(
    case: LoopCase, *, zero_grad: bool = True, reduction: str = "mean"
) -> tuple[float, float]:
    """``(w, b)`` after ``case.epochs`` steps of gradient descent, in float64."""
    x = torch.tensor(case.x, dtype=torch.float64)
    y = torch.tensor(case.y, dtype=torch.float64)

    def loss(w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        err = (w * x + b - y) ** 2
        return err.mean() if reduction == "mean" else err.sum()

    w = b = 0.0
    gw = gb = 0.0
    for _ in range(case.epochs):
        params = {"w": w, "b": b}
        if zero_grad:
            gw = gb = 0.0
        gw += ground_truth.partial(loss, params, "w")
        gb += ground_truth.partial(loss, params, "b")
        w, b = w - case.lr * gw, b - case.lr * gb
    return w, b


def _call(fn: object, case: LoopCase) -> tuple[object, bool, BaseException | None]:
    """Run the student's ``fn(x, y, lr, epochs)``: (result, non-leaf warning seen, error)."""
    x = torch.tensor(case.x)
    y = torch.tensor(case.y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn(x, y, case.lr, case.epochs)  # type: ignore[operator]
            error = None
        except Exception as exc:  # noqa: BLE001 - reported as a Verdict
            result, error = None, exc
    non_leaf = any("not a leaf" in str(w.message) for w in caught)
    return result, non_leaf, error


def _pair(result: object, name: str) -> tuple[float, float, bool]:
    """(w, b, tracked) from the returned pair; ``tracked`` is True if w or b has a grad_fn."""
    if not isinstance(result, Sequence) or len(result) != 2:
        raise AnswerError(f"{name} should return the pair (w, b), got {type(result).__name__}")
    tracked = any(getattr(v, "grad_fn", None) is not None for v in result)
    w = as_number(result[0], f"the w returned by {name}")
    b = as_number(result[1], f"the b returned by {name}")
    return w, b, tracked


def _same(pair: tuple[float, float], ref: tuple[float, float]) -> bool:
    return all(math.isfinite(r) and close(p, r) for p, r in zip(pair, ref, strict=True))


NON_LEAF_HINT = (
    "after w = w - lr * w.grad, w is no longer a leaf (it has a grad_fn), so w.grad is None; "
    "update in place inside `with torch.no_grad():` (w -= lr * w.grad)"
)

NOT_IN_PLACE_HINT = (
    "inside `with torch.no_grad():`, w = w - lr * w.grad makes a new tensor that does not "
    "require grad, so it has no .grad (w.grad.zero_() fails) and the next backward() has "
    "nothing to differentiate; update the parameter itself, in place: w -= lr * w.grad"
)

#: Errors a broken loop raises: (text in the error, hint, mistake code). Without the
#: non-leaf warning (see _run_loop), a missing .grad means w was replaced by an untracked copy.
LOOP_ERRORS: tuple[tuple[str, str, str | None], ...] = (
    ("has no attribute 'zero_'", NOT_IN_PLACE_HINT, "update_not_in_place"),
    ("does not require grad and does not have a grad_fn", NOT_IN_PLACE_HINT,
     "update_not_in_place"),
    ("NoneType", NON_LEAF_HINT, "non_leaf_grad"),
    (
        "leaf Variable that requires grad",
        "an in-place update of a parameter must happen inside "
        "`with torch.no_grad():`, otherwise autograd refuses to record it",
        None,
    ),
)


def check_loop(fn: object, name: str, cases: Sequence[LoopCase]) -> Verdict:
    """Run ``fn(x, y, lr, epochs) -> (w, b)`` on each case and compare with the reference.

    With gradients on and under a time limit, whatever the caller's mode (see ``student_code``).
    """
    if unanswered(fn):
        return not_attempted(name)
    if not callable(fn):
        return wrong(f"{name} should be a function (x, y, lr, epochs) -> (w, b)")
    return run_check(name, _run_loop, fn, name, cases)


@never_raises()
def _run_loop(fn: object, name: str, cases: Sequence[LoopCase]) -> Verdict:
    for case in cases:
        result, non_leaf, error = _call(fn, case)
        if error is not None:
            if non_leaf:
                return wrong(NON_LEAF_HINT, "non_leaf_grad")
            return explain_error(name, error, LOOP_ERRORS)
        if result is Ellipsis:
            return not_attempted(name)
        w, b, tracked = _pair(result, name)
        if _same((w, b), reference_fit(case)):
            continue
        if tracked or non_leaf:
            return wrong(NON_LEAF_HINT, "non_leaf_grad")
        if w == 0.0 and b == 0.0:
            return wrong(
                f"w and b are still 0 after {case.epochs} epochs: the parameters never moved; "
                f"update them after backward() and before the gradients are cleared, in place "
                f"(w -= lr * w.grad inside torch.no_grad())",
                "params_never_moved",
            )
        if _same((w, b), reference_fit(case, zero_grad=False)):
            return wrong(
                "the gradients add up across epochs: clear them after each update with "
                "w.grad.zero_() and b.grad.zero_() (or optimizer.zero_grad())",
                "not_zeroed",
            )
        if _same((w, b), reference_fit(case, reduction="sum")):
            return wrong(
                f"the loss is summed over the {len(case.x)} points; use the mean squared "
                f"error, ((pred - y)**2).mean()",
                "wrong_reduction",
            )
        ref_w, ref_b = reference_fit(case)
        return wrong(
            f"after {case.epochs} epochs {name} gives w={w:.4f}, b={b:.4f} but gradient "
            f"descent gives w={ref_w:.4f}, b={ref_b:.4f}"
        )
    ref_w, ref_b = reference_fit(cases[0])
    return Verdict(True, None, f"Correct: {name} fits w={ref_w:.4f}, b={ref_b:.4f}")


def check_training_loop(train_fixed: object) -> Verdict:
    """The training notebook's loop (the original never zeroes its gradients)."""
    return check_loop(train_fixed, "train_fixed", TRAINING_CASES)


def check_no_grad_loop(fit_fixed: object) -> Verdict:
    """The no-grad notebook's loop (the original updates its parameters outside no_grad)."""
    return check_loop(fit_fixed, "fit_fixed", NO_GRAD_CASES)
