"""The precision rule every numeric answer and every widget prediction is checked with.

An answer asked "to 4 decimal places" is right when ``|answer - truth| <= 5e-5`` (half a unit
in the fourth decimal place), plus a little float noise: ``1e-12 · max(1, |truth|)``. So for
``truth = -0.59978…`` both ``-0.5998`` and ``-0.59978`` are right and ``-0.60`` is not.

:func:`check_prediction` turns anything a learner types or passes (a number, a one-element
tensor, a string such as ``"−5.4668"`` or ``"error"``) into a :class:`Verdict`; it never raises.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from autograd_lab.exercises.verdict import AnswerError, Verdict, as_number, unanswered

#: Half a unit in the 4th decimal place: the largest error an answer to 4 places may have.
PRECISION = 5e-5

#: The answer a learner gives when they predict that the step raises an error.
ERROR = "error"

_LONGEST_ECHO = 24


def within_precision(answer: float, truth: float) -> bool:
    """True when ``|answer - truth| <= 5e-5 + 1e-12 · max(1, |truth|)`` (4 decimal places)."""
    noise = 1e-12 * max(1.0, abs(truth))
    return abs(answer - truth) <= PRECISION + noise


def show_truth(value: float) -> str:
    """The true value as a ✓ shows it: 6 decimal places, trailing zeros kept (``-5.466781``)."""
    return f"{value:.6f}"


def _echo(text: str) -> str:
    short = text if len(text) <= _LONGEST_ECHO else text[:_LONGEST_ECHO] + "…"
    return repr(short)


def parse_prediction(answer: Any, error_possible: bool = True) -> float | str:
    """A learner's prediction as a float, or :data:`ERROR` for "it raises".

    Strings may use a Unicode minus (``−``), spaces, ``_`` separators or ``e`` notation;
    ``"error"`` (any case) means the step raises. Raises :class:`AnswerError` with a sentence
    for anything else (a decimal comma, ``0,4121``, is told to use a point); the sentences
    mention ``error`` only when ``error_possible``.
    """
    if isinstance(answer, str):
        text = answer.strip().replace("−", "-").replace("–", "-").replace(" ", "")
        if text.lower() in {ERROR, "raises", "exception", "runtimeerror"}:
            return ERROR
        or_error = " (or 'error' if you expect an error)" if error_possible else ""
        if not text:
            raise AnswerError(f"type a number{or_error}, then press Check")
        if re.fullmatch(r"[-+]?\d*,\d+", text):
            raise AnswerError(f"{_echo(text)} has a decimal comma; write it with a point: "
                              f"{text.replace(',', '.')}")
        try:
            value = float(text.replace("_", ""))
        except ValueError:
            raise AnswerError(f"{_echo(answer.strip())} is not a number; type a number{or_error}"
                              ) from None
        if not math.isfinite(value):
            raise AnswerError(f"{_echo(answer.strip())} is not a finite number; type a number")
        return value
    return as_number(answer, "your prediction")


#: What a prediction that equals a known slip's value is told (the exercises' mistake codes):
#: the slip named, never the answer.
SLIP_HINTS: dict[str, str] = {
    "missing_upstream_grad": "that is the local derivative alone; multiply it by the "
                             "upstream gradient arriving from the output",
    "missing_chain_factor": "that is the upstream gradient alone; multiply it by this "
                            "step's local (inner) derivative",
    "sign_error": "the size is right but the sign is wrong; check the sign of each factor",
    "grad_overwritten": "backward() adds into .grad, it does not replace what is there",
    "not_zeroed": ".grad was cleared after the previous call, so nothing from before is left",
}


def _miss(guess: float, truth: float, label: str, slips: Mapping[str, float]) -> Verdict:
    """The ✗ for a number that is not ``truth``: a named slip, a rounding slip, or wrong."""
    named = dict(slips)
    if truth != 0:
        named.setdefault("sign_error", -truth)
    for code, value in named.items():
        if math.isfinite(value) and within_precision(guess, value):
            return Verdict(False, code, f"Not quite: {SLIP_HINTS[code]}; try again")
    for places in range(1, 4):
        if guess == round(truth, places):
            return Verdict(False, None, f"Close: that is {label} to {places} decimal place"
                           f"{'' if places == 1 else 's'}; give 4")
    if abs(guess - truth) < 2 * PRECISION * max(1.0, abs(truth)):
        return Verdict(False, None, f"Close: check the 4th decimal place of {label} (round, "
                       "do not cut off); try again")
    return Verdict(False, None, f"Not quite: that is not {label}; try again or press Show")


def check_prediction(answer: Any, truth: float | str, label: str,
                     slips: Mapping[str, float] | None = None,
                     error_possible: bool = True) -> Verdict:
    """Check a prediction of ``label`` (e.g. ``"dz/dv1"``) against ``truth`` to 4 places.

    ``truth`` is a float, or :data:`ERROR` when the step raises. A right prediction's message
    shows the true value (``✓ Right: dz/dv1 = -0.911130``); a wrong one says ✗ without the
    answer, naming the slip when the guess is one of ``slips`` (mistake code → the value that
    slip gives, e.g. ``{"missing_upstream_grad": local}``) or ``-truth`` (``sign_error``), or
    saying it is rounded to fewer places; a blank or a non-number gets a not-ok Verdict with
    a sentence, never an exception.
    """
    if unanswered(answer) or (isinstance(answer, str) and not answer.strip()):
        return Verdict(False, "not_attempted", f"Type your prediction of {label}, then press Check")
    try:
        guess = parse_prediction(answer, error_possible)
    except AnswerError as exc:
        return Verdict(False, None, f"Not a prediction: {exc}")
    if truth == ERROR:
        if guess == ERROR:
            return Verdict(True, None, f"Right: {label} raises an error")
        return Verdict(False, None, f"Not quite: that is not what {label} gives; try again")
    if guess == ERROR:
        return Verdict(False, None, f"Not quite: {label} does not raise here; predict its value")
    assert isinstance(guess, float) and isinstance(truth, float)
    if within_precision(guess, truth):
        return Verdict(True, None, f"Right: {label} = {show_truth(truth)}")
    return _miss(guess, truth, label, slips or {})
