"""Graph and accumulation exercises: predict ``.grad`` after several backward calls (typed
numbers, right within 5e-5, 4 decimal places), and read the gradient of an intermediate
(non-leaf) tensor with ``retain_grad()``.

``.grad`` accumulates: after ``backward()`` calls on f1, f2 with no zeroing in between,
``x.grad = df1/dx + df2/dx``; ``x.grad.zero_()`` starts the sum again. The truth is the real
torch sequence run in float64; each partial is cross-checked by a central difference.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator

import torch

from autograd_lab.exercises import ground_truth
from autograd_lab.exercises.student_code import checks_function, run_check
from autograd_lab.prediction import show_truth, within_precision
from autograd_lab.verdict import (
    Verdict,
    as_number,
    close,
    never_raises,
    not_attempted,
    not_attempted_among,
    show_number,
    wrong,
)

GRAD_SEQUENCE_X = 1.5

#: The sequence shown in the notebook: (label or None for ``x.grad.zero_()``, function).
GRAD_SEQUENCE: tuple[tuple[str, Callable[[torch.Tensor], torch.Tensor] | None], ...] = (
    ("A", lambda x: x**3),
    ("B", lambda x: 4 * x),
    ("zero", None),
    ("C", lambda x: x**2 + x),
)


def run_grad_sequence(zero: str = "as_written") -> dict[str, float]:
    """``x.grad`` after each labelled backward call, running the sequence in torch float64.

    ``zero``: "as_written" (the truth), "never" (the zero_() line ignored) or "always"
    (as if backward replaced .grad instead of adding to it).
    """
    x = torch.tensor(GRAD_SEQUENCE_X, dtype=torch.float64, requires_grad=True)
    expected_sum = 0.0
    after: dict[str, float] = {}
    for label, fn in GRAD_SEQUENCE:
        if fn is None:
            if zero != "never" and x.grad is not None:
                x.grad.zero_()
                expected_sum = 0.0
            continue
        if zero == "always" and x.grad is not None:
            x.grad.zero_()
            expected_sum = 0.0
        fn(x).backward()
        expected_sum += ground_truth.partial(fn, {"x": GRAD_SEQUENCE_X}, "x")
        assert x.grad is not None
        if not close(float(x.grad), expected_sum, rtol=1e-9, atol=1e-12):
            raise ground_truth.TruthError("x.grad does not equal the sum of finite differences")
        after[label] = float(x.grad)
    return after


def check_grad_sequence(
    grad_after_A: object, grad_after_B: object, grad_after_C: object  # noqa: N803
) -> Verdict:
    """Check the predicted ``x.grad`` after the backward calls A, B and C. Never raises."""
    answers = (grad_after_A, grad_after_B, grad_after_C)
    return run_check("grad_after_A, B, C", _grad_sequence_verdict, *answers)


@never_raises()
def _grad_sequence_verdict(
    grad_after_A: object, grad_after_B: object, grad_after_C: object  # noqa: N803
) -> Verdict:
    answers = {"A": grad_after_A, "B": grad_after_B, "C": grad_after_C}
    blank = not_attempted_among({f"grad_after_{k}": v for k, v in answers.items()})
    if blank is not None:
        return blank
    given = {k: as_number(v, f"grad_after_{k}") for k, v in answers.items()}
    true = run_grad_sequence("as_written")
    never = run_grad_sequence("never")
    always = run_grad_sequence("always")
    for label in ("A", "B", "C"):
        if within_precision(given[label], true[label]):
            continue
        if within_precision(given[label], never[label]):
            return wrong(
                f"after {label}, x.grad has not been reset: x.grad.zero_() cleared the "
                f"earlier gradients, so only the calls after it add up",
                "not_zeroed",
            )
        if within_precision(given[label], always[label]):
            return wrong(
                f"after {label}, remember that backward() adds into x.grad; it does not "
                f"replace it"
            )
        return wrong(
            f"grad_after_{label} = {show_number(given[label])}; add up d/dx of every backward call "
            f"since the last zero_()"
        )
    values = ", ".join(f"{k}: {show_truth(true[k])}" for k in ("A", "B", "C"))
    return Verdict(True, None, f"Correct: x.grad after {values}")


# --- dL/dh for an intermediate h = x*sin(x), L = h*exp(h) ------------------------------------
INTERMEDIATE_X = (0.9, -1.3)


def _h(x: torch.Tensor) -> torch.Tensor:
    return x * torch.sin(x)


def _loss_of_h(h: torch.Tensor) -> torch.Tensor:
    return h * torch.exp(h)


def intermediate_truth(x0: float) -> float:
    """dL/dh at the h that x0 produces: h is made a leaf and differentiated directly."""
    return ground_truth.partial(_loss_of_h, {"h": ground_truth.value(_h, {"x": x0})}, "h")


def _leaf_grad(x0: float) -> float:
    """dL/dx, what a student gets from x.grad instead of the intermediate's gradient."""
    return ground_truth.partial(lambda x: _loss_of_h(_h(x)), {"x": x0}, "x")


@contextlib.contextmanager
def watching_retain_grad() -> Iterator[list[torch.Tensor]]:
    """Within the block, every tensor whose ``retain_grad()`` is called is listed (the call
    itself is torch's own). This is how the check sees what the student's code did."""
    retained: list[torch.Tensor] = []
    original = torch.Tensor.retain_grad

    def retain_grad(self: torch.Tensor) -> None:
        retained.append(self)
        original(self)

    torch.Tensor.retain_grad = retain_grad  # type: ignore[method-assign]
    try:
        yield retained
    finally:
        torch.Tensor.retain_grad = original  # type: ignore[method-assign]


def _read_from_retained(given: float, retained: list[torch.Tensor]) -> bool:
    """True if ``given`` is the ``.grad`` autograd kept on a tensor after ``retain_grad()``."""
    grads = [t.grad for t in retained if t.grad is not None and t.grad.numel() == 1]
    return any(close(given, float(g)) for g in grads)


@checks_function("grad_wrt_h", "grad_wrt_h should be a function of x0 that returns dL/dh")
def check_intermediate_grad(grad_wrt_h: object) -> Verdict:
    """Call the student's ``grad_wrt_h(x0)`` (returns dL/dh) at several x0. Never raises.

    Right means: the value is dL/dh, *and* it is the ``.grad`` of a tensor on which the code
    called ``retain_grad()`` -- a hand formula or ``torch.autograd.grad`` gets
    ``retain_grad_not_called``, since the exercise is about reading a non-leaf's ``.grad``.
    """
    for x0 in INTERMEDIATE_X:
        with warnings.catch_warnings(record=True) as caught, watching_retain_grad() as kept:
            warnings.simplefilter("always")
            try:
                result = grad_wrt_h(x0)
            except Exception as exc:  # noqa: BLE001
                if _non_leaf_warning(caught) or "NoneType" in str(exc):
                    return _non_leaf_verdict()
                return wrong(f"grad_wrt_h({x0}) raised {type(exc).__name__}: {exc}")
        if result is None:  # h.grad of a non-leaf is None
            return _non_leaf_verdict()
        if result is Ellipsis:
            return not_attempted("grad_wrt_h")
        given = as_number(result, f"grad_wrt_h({x0})")
        if close(given, intermediate_truth(x0)):
            if not _read_from_retained(given, kept):
                return wrong(
                    "the value is dL/dh, but the code did not read it from h.grad: call "
                    "h.retain_grad() before L.backward(), then return h.grad",
                    "retain_grad_not_called",
                )
            continue
        if close(given, _leaf_grad(x0)):
            return wrong("that is dL/dx, the leaf's gradient (x.grad); the exercise asks dL/dh")
        return wrong(f"grad_wrt_h({x0}) returned {show_number(given)}, which is not dL/dh")
    x0 = INTERMEDIATE_X[0]
    return Verdict(True, None, f"Correct: dL/dh = {intermediate_truth(x0):.6f} at x = {x0}")


def _non_leaf_warning(caught: list[warnings.WarningMessage]) -> bool:
    return any("not a leaf" in str(w.message) for w in caught)


def _non_leaf_verdict() -> Verdict:
    return wrong(
        "h is not a leaf, so h.grad stays None after backward(); call h.retain_grad() before "
        "backward()",
        "non_leaf_grad",
    )
