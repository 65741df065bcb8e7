"""The result of every exercise check: ``Verdict(ok, mistake, message)``, one friendly line.

A check never raises on a student's answer: whatever goes wrong becomes a Verdict whose
``message`` says what to do next. ``mistake`` is one of :data:`MISTAKES` or None (correct,
or a slip the kit has no code for -- the message may still carry a hint). ``detail`` is the
further hint :meth:`Verdict.hint` shows (e.g. the missing factor ``du/dx = -sin(x)``).

A Verdict shows itself as one line of plain text (``repr``, ``text/plain``: nbval, terminals,
nbgrader's autograder) and, in a notebook, as HTML (``_repr_html_``): ✓ green, ✗ red,
○ grey, the mistake code small and muted after the sentence -- it is for teachers.
"""

from __future__ import annotations

import functools
import html
import math
import numbers
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

#: Every mistake code a check may report (the tests feed each one).
MISTAKES: tuple[str, ...] = (
    "missing_chain_factor",
    "sign_error",
    "not_zeroed",
    "non_leaf_grad",
    "wrong_reduction",
    "not_attempted",
    "missing_upstream_grad",
    "grad_overwritten",
    "wrong_order",
    "recursive_order",
    "wrong_grad_count",
    "accumulated_not_returned",
    "missing_create_graph",
    "missing_retain_graph",
    "first_derivative_only",
    # tensors_and_hooks (autograd_lab/exercises/tensor_checks.py)
    "wrong_shape",
    "hook_not_returned",
    "detach_wrong_place",
    "not_detached",
    # issue 13: slips the numeric and loop checks now recognise
    "gradient_not_step",
    "tanh_not_squared",
    "wrong_variable",
    "params_never_moved",
    "update_not_in_place",
    "retain_grad_not_called",
    # issue 30: holes in the checks, and the new exercises for lessons 01, 03, 05, 12
    "autograd_not_hand",
    "derivative_inside_outer",
    "degrees_not_radians",
    "hook_in_place",
    "root_backward_called",
    "hand_formula",
    "hessian_built",
    "gradient_times_v",
    "value_not_gradient",
    "one_sided_difference",
    "step_not_doubled",
    "tensor_not_node",
    "forward_order",
    "jv_not_vtj",
    "bias_not_summed",
    "path_not_taken",
    # issue 31: lesson 15's network exercise
    "parameter_rebound",
    # issue 31: lesson 13's forward/reverse-mode exercise
    "row_not_column",
    "mode_swapped",
)

#: ``du/dx = -sin(x)`` in a message: a formula the browser must not wrap at its "-".
_FORMULA = re.compile(r"[^\s(),;:]+ = -?[^\s,;]+")


def _unbroken_formulas(escaped: str) -> str:
    """Each ``left = right`` formula of an escaped message in a no-wrap span (the line may
    still wrap before or after it), so a hint never splits as "du/dx = -" / "sin(x)"."""
    return _FORMULA.sub(lambda m: f'<span style="white-space: nowrap">{m.group(0)}</span>',
                        escaped)


#: The colour of each mark in HTML: JupyterLab's theme variable, then a fallback that reads
#: on a white page (nbgrader feedback, Colab, GitHub).
MARK_COLOURS: dict[str, str] = {
    "✓": "var(--jp-success-color1, #1b5e20)",
    "✗": "var(--jp-error-color1, #b71c1c)",
    "○": "var(--jp-ui-font-color2, #616161)",
}
MUTED = "var(--jp-ui-font-color3, #757575)"

#: Tolerance for values a student's *code* returns (often float32, compared with a float64
#: reference run). A number typed as an answer "to 4 decimal places" is checked with the
#: stricter rule in ``prediction.within_precision`` (|answer - truth| <= 5e-5) instead.
RTOL = 1e-3
ATOL = 1e-4


class Hint(str):
    """The text :meth:`Verdict.hint` returns: a ``str`` a notebook shows without quotes."""

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython's text/plain
        printer.text(str(self))


@dataclass(frozen=True, repr=False)
class Verdict:
    """``ok`` is True for a correct answer; ``mistake`` names a recognised slip (or None).

    ``repr``/``str`` is one line: ``✓ Correct: dz/dx = -5.466781`` or
    ``✗ Not quite: … (missing_chain_factor)``. ``detail`` (optional) is the further hint
    that :meth:`hint` shows.
    """

    ok: bool
    mistake: str | None
    message: str
    detail: str | None = None

    def __post_init__(self) -> None:
        if self.mistake is not None and self.mistake not in MISTAKES:
            raise ValueError(f"unknown mistake code {self.mistake!r}; use one of {MISTAKES}")

    @property
    def mark(self) -> str:
        """``✓`` correct, ``○`` not attempted yet, ``✗`` otherwise."""
        if self.ok:
            return "✓"
        return "○" if self.mistake == "not_attempted" else "✗"

    def hint(self) -> Hint:
        """The further hint for a wrong answer (e.g. the missing factor), one sentence."""
        if self.ok:
            return Hint("Nothing to fix: the answer is right.")
        if self.detail:
            return Hint(f"Hint: {self.detail}")
        return Hint(f"No further hint for this one: {self.message}")

    def __repr__(self) -> str:
        code = f" ({self.mistake})" if self.mistake else ""
        return f"{self.mark} {self.message}{code}"

    __str__ = __repr__

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython's text/plain
        printer.text(repr(self))

    def _repr_html_(self) -> str:
        """One coloured line; the mistake code small and muted (for teachers)."""
        code = ""
        if self.mistake:
            code = (
                f' <small class="agl-mistake" title="mistake code (for teachers)" '
                f'style="color: {MUTED}">({html.escape(self.mistake)})</small>'
            )
        return (
            f'<div class="agl-verdict" style="color: {MARK_COLOURS[self.mark]}">'
            f"<b>{self.mark}</b> {_unbroken_formulas(html.escape(self.message))}{code}</div>"
        )


def correct(label: str, value: float) -> Verdict:
    """A correct answer, showing the true ``value`` (not the student's): ``Correct: dz/dx =
    -5.466781`` (6 decimal places, as :func:`~autograd_lab.prediction.show_truth`)."""
    return Verdict(True, None, f"Correct: {label} = {value:.6f}")


def not_attempted(name: str) -> Verdict:
    """The answer is still ``...`` (or None)."""
    return Verdict(
        False,
        "not_attempted",
        f"Not attempted yet: replace the ... in {name} with your answer, then run this cell again",
    )


def not_attempted_among(answers: dict[str, Any]) -> Verdict | None:
    """:func:`not_attempted` naming every answer of ``answers`` (name → answer) still blank,
    or None when each one is given."""
    blank = [name for name, answer in answers.items() if unanswered(answer)]
    return not_attempted(", ".join(blank)) if blank else None


def wrong(hint: str, mistake: str | None = None, detail: str | None = None) -> Verdict:
    """A wrong answer; ``hint`` says what probably went wrong (one sentence), ``detail`` the
    further hint :meth:`Verdict.hint` shows."""
    return Verdict(False, mistake, f"Not quite: {hint}", detail)


def unanswered(answer: Any) -> bool:
    """True for ``...`` and None, the two ways an exercise is left blank."""
    return answer is Ellipsis or answer is None


class AnswerError(ValueError):
    """The answer has the wrong shape or type; the message is the sentence shown to the student."""


def as_number(answer: Any, name: str) -> float:
    """Turn a student's answer (int, float, numpy scalar, one-element tensor) into a float.

    Raises :class:`AnswerError` with a sentence for the student otherwise.
    """
    if isinstance(answer, bool):
        raise AnswerError(f"{name} should be a number, not {answer!r}")
    if isinstance(answer, numbers.Real):
        try:
            value = float(answer)
        except OverflowError:  # an int such as 10**400: no float holds it
            raise AnswerError(f"{name} is too large for a float (more than about 1.8e308); "
                              "check the number") from None
    else:
        numel = getattr(answer, "numel", None) or getattr(answer, "size", None)
        item = getattr(answer, "item", None)
        try:
            count = numel() if callable(numel) else numel
        except Exception:  # noqa: BLE001 - any odd object is "not a number"
            count = None
        if item is None or count != 1:
            kind = type(answer).__name__
            raise AnswerError(f"{name} should be one number (a float), but it is a {kind}")
        try:
            value = float(item())
        except Exception as exc:  # noqa: BLE001
            raise AnswerError(f"{name} should be one number (a float)") from exc
    if not math.isfinite(value):
        raise AnswerError(f"{name} is {value}, not a finite number; check for a division by zero")
    return value


def show_number(value: float) -> str:
    """A number a student's code gave, for a message: 4 decimal places (``-0.5998``), or 4
    significant digits past a billion (``1e+308``, not 309 digits)."""
    return f"{value:.4f}" if abs(value) < 1e9 else f"{value:.4g}"


def close(a: float, b: float, rtol: float = RTOL, atol: float = ATOL) -> bool:
    """``|a - b| <= max(rtol·|b|, atol)`` -- the tolerance every numeric check uses."""
    return math.isclose(a, b, rel_tol=rtol, abs_tol=atol)


#: The most characters of an error's message a Verdict echoes (the student's code may raise
#: with a message thousands of characters long).
ECHO = 60


def shorten(text: str, limit: int = ECHO) -> str:
    """``text`` on one line, cut to ``limit`` characters with ``…`` when it is longer."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def error_line(error: BaseException, limit: int | None = None) -> str:
    """``TypeError: …``: the error's type and the first line of its message, cut at ``limit``
    characters (:data:`ECHO` by default)."""
    try:
        lines = str(error).splitlines()
    except Exception:  # noqa: BLE001 - a student's exception whose __str__ itself raises
        lines = []
    return f"{type(error).__name__}: {shorten(lines[0], limit or ECHO) if lines else ''}"


def raised(what: str, error: BaseException, limit: int | None = None) -> Verdict:
    """Student code raised: ``Not quite: slope raised TypeError: …`` (first line only)."""
    return wrong(f"{what} raised {error_line(error, limit)}")


def explain_error(
    what: str, error: BaseException, known: Iterable[tuple[str, str, str | None]] = ()
) -> Verdict:
    """Student code raised: the hint (and mistake) of the first ``(text, hint, mistake)`` in
    ``known`` whose text occurs in ``Type: message``, otherwise :func:`raised`."""
    text = f"{type(error).__name__}: {error}"
    for needle, hint, mistake in known:
        if needle in text:
            return wrong(hint, mistake)
    return raised(what, error)


def cannot_check(error: BaseException, limit: int | None = None) -> Verdict:
    """The check itself failed: ``Cannot check this answer (TypeError: …)``, the first line of
    the message cut at ``limit`` characters (:data:`ECHO` by default)."""
    return Verdict(False, None, f"Cannot check this answer ({error_line(error, limit)})")


def never_raises(
    limit: int | None = None,
) -> Callable[[Callable[..., Verdict]], Callable[..., Verdict]]:
    """Decorator: an :class:`AnswerError` becomes ``wrong(its sentence)``, any other exception
    :func:`cannot_check` (with ``limit``); a check never shows a traceback."""

    def wrap(check: Callable[..., Verdict]) -> Callable[..., Verdict]:
        @functools.wraps(check)
        def safe_check(*args: Any) -> Verdict:
            try:
                return check(*args)
            except AnswerError as exc:
                return wrong(str(exc))
            except Exception as exc:  # noqa: BLE001 - a check must never show a traceback
                return cannot_check(exc, limit)

        return safe_check

    return wrap
