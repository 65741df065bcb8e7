"""Numeric exercises: gradients derived by hand, and one gradient-descent step by hand.

``check_gradient(exercise, wrt, answer)`` compares a typed answer with the truth of
``gradient_table.EXERCISES`` to 4 decimal places (``|answer - truth| <= 5e-5``), then with
each plausible wrong answer there. The first wrong try names the kind of mistake; the second
wrong try at the same exercise and variable in this kernel (:data:`TRIES`), or
``verdict.hint()``, shows the further hint (e.g. the missing factor ``du/dx = -sin(x)``).
"""

from __future__ import annotations

from dataclasses import replace

import torch

from autograd_lab.exercises.gradient_table import EXERCISES, Quantity, WrongAnswer
from autograd_lab.exercises.student_code import run_check
from autograd_lab.prediction import PRECISION, within_precision
from autograd_lab.verdict import (
    AnswerError,
    Verdict,
    as_number,
    cannot_check,
    correct,
    not_attempted,
    show_number,
    unanswered,
    wrong,
)

__all__ = ["EXERCISES", "TRIES", "Quantity", "WrongAnswer", "check_gradient", "check_quantity"]


#: Wrong tries so far in this kernel, per (exercise, variable): the first wrong try names the
#: kind of mistake, the second and later ones add the further hint (the missing factor).
TRIES: dict[tuple[str, str], int] = {}

#: An answer this close to the truth, but not within the precision, was probably rounded.
ROUNDED = 5e-3


#: Exercises whose answers must be derived by hand (lesson 02's chain rule): a torch tensor
#: there is almost always ``x.grad`` or ``torch.autograd.grad`` doing the work.
BY_HAND = frozenset({"exp_cos", "tanh_unit", "x_exp_xy"})
AUTOGRAD_NOT_HAND = (
    "{name} is a torch tensor, so autograd probably computed it; this exercise asks for the "
    "chain rule by hand: write {name} as a Python expression with math (a float)"
)


def check_quantity(quantity: Quantity, answer: object, by_hand: bool = False) -> Verdict:
    """Compare ``answer`` with the truth (to 4 decimal places), then with each plausible wrong
    answer (to the same precision). A wrong answer's Verdict carries its ``detail``. With
    ``by_hand``, a torch tensor is refused (``autograd_not_hand``) before any comparison."""
    if unanswered(answer):
        return not_attempted(quantity.variable)
    if by_hand and isinstance(answer, torch.Tensor):
        return wrong(AUTOGRAD_NOT_HAND.format(name=quantity.variable), "autograd_not_hand")
    try:
        given = as_number(answer, quantity.variable)
    except AnswerError as exc:
        return wrong(f"{exc}")
    expected = quantity.truth()
    if within_precision(given, expected):
        return correct(quantity.label, expected)
    for candidate in quantity.wrong:
        if within_precision(given, candidate.compute()):
            return wrong(candidate.hint, candidate.mistake, candidate.detail)
    if quantity.sign_hint and abs(expected) > PRECISION and within_precision(given, -expected):
        return wrong(quantity.sign_hint, "sign_error", quantity.sign_detail)
    if abs(given - expected) <= ROUNDED:
        return wrong(
            f"{quantity.label} = {given:.6f} is close but not right to 4 decimal places; "
            f"do not round intermediate values, and give at least 4 decimal places"
        )
    return wrong(
        f"{quantity.label} = {show_number(given)} is not what the chain rule gives here; write out "
        f"each local derivative and multiply them along the path"
    )


def remember_try(key: tuple[str, str], verdict: Verdict) -> Verdict:
    """Count a wrong try at ``key``; from the second one on, add the verdict's detail."""
    if verdict.ok or verdict.mistake == "not_attempted" or verdict.message.startswith("Cannot"):
        return verdict
    TRIES[key] = TRIES.get(key, 0) + 1
    if TRIES[key] >= 2 and verdict.detail:
        return replace(verdict, message=f"{verdict.message}. Hint: {verdict.detail}")
    return verdict


def check_gradient(exercise: str, wrt: str, answer: object) -> Verdict:
    """Check ``answer`` for exercise ``exercise`` (e.g. ``"tanh_unit"``) with respect to ``wrt``.

    Right within 5e-5 (4 decimal places); a ✓ shows the true value to 6 decimals. The first
    wrong try names the kind of mistake; the second wrong try at the same exercise and
    variable (in this kernel) or ``verdict.hint()`` shows the further hint, e.g. the factor.

    Never raises: an unknown exercise or an internal problem is reported as a Verdict. The
    truth is computed with gradients on, also when called inside ``torch.no_grad()``, and an
    answer whose ``float()`` never returns gets "did not finish" (see ``student_code``).
    """
    if not isinstance(exercise, str) or not isinstance(wrt, str):
        given = f"{exercise!r}, {wrt!r}"
        return Verdict(
            False,
            None,
            "Cannot check: give the exercise and the variable as two strings, e.g. "
            f'check_gradient("exp_cos", "x", dz_dx), not {given[:40]}',
        )
    quantities = EXERCISES.get(exercise)
    if quantities is None or wrt not in quantities:
        known = ", ".join(f"{e}/{v}" for e, qs in EXERCISES.items() for v in qs)
        return Verdict(
            False, None, f"Cannot check: there is no exercise {exercise}/{wrt} (known: {known})"
        )
    try:
        quantity = quantities[wrt]
        verdict = run_check(quantity.variable, check_quantity, quantity, answer,
                            exercise in BY_HAND)
        return remember_try((exercise, wrt), verdict)
    except Exception as exc:  # noqa: BLE001 - a check must never show a traceback
        return cannot_check(exc)
