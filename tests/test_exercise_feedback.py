"""How a check talks to a student (issue 13): the 4-decimal-place rule, hints in two steps,
and the Verdict as HTML (✓ green, ✗ red, ○ grey) beside its one line of plain text.

Truths come from torch autograd in float64 here, never typed in.
"""

from __future__ import annotations

import math
import re

import pytest
import torch

from autograd_lab.exercises import Verdict, check_grad_sequence, check_gradient
from autograd_lab.exercises import gradient_checks as gradients
from autograd_lab.verdict import MARK_COLOURS


def _dz_dx_exp_cos(x: float = 2.0) -> float:
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    torch.exp(torch.cos(t)).backward()
    return float(t.grad)


@pytest.fixture(autouse=True)
def _fresh_tries():
    gradients.TRIES.clear()
    yield
    gradients.TRIES.clear()


# --- 12. precision ----------------------------------------------------------------------------
def test_two_decimals_are_wrong_and_four_are_right() -> None:
    truth = _dz_dx_exp_cos()  # -0.599757...
    assert not check_gradient("exp_cos", "x", round(truth, 2)).ok  # -0.60
    assert not check_gradient("exp_cos", "x", truth + 6e-5).ok
    for answer in (round(truth, 4), round(truth, 5), truth + 4.9e-5, truth):
        assert check_gradient("exp_cos", "x", answer).ok, answer


def test_a_rounded_answer_is_told_not_to_round() -> None:
    truth = _dz_dx_exp_cos()
    verdict = check_gradient("exp_cos", "x", round(truth, 2))
    assert not verdict.ok and verdict.mistake is None
    assert "do not round" in verdict.message and "4 decimal places" in verdict.message


def test_a_tick_shows_the_true_value_not_the_students() -> None:
    truth = _dz_dx_exp_cos()
    verdict = check_gradient("exp_cos", "x", round(truth, 4))
    assert verdict.ok
    assert f"{truth:.6f}" in verdict.message
    assert f"{round(truth, 4)}" not in verdict.message.replace(f"{truth:.6f}", "")


def test_grad_sequence_uses_the_same_precision() -> None:
    x = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    (x**3).backward()
    a = float(x.grad)
    (4 * x).backward()
    b = float(x.grad)
    x.grad.zero_()
    (x**2 + x).backward()
    c = float(x.grad)
    assert check_grad_sequence(a, b, c).ok
    assert not check_grad_sequence(a, b + 6e-5, c).ok
    assert check_grad_sequence(a, b + 4e-5, c).ok
    assert f"{b:.6f}" in check_grad_sequence(a, b, c).message


# --- 13. hints in two steps -------------------------------------------------------------------
def _missing_inner() -> float:
    """exp(cos(x)) differentiated as if cos(x) were the variable: dz/du at u = cos(2)."""
    u = torch.tensor(math.cos(2.0), dtype=torch.float64, requires_grad=True)
    torch.exp(u).backward()
    return float(u.grad)


def test_first_wrong_try_names_the_kind_second_shows_the_factor() -> None:
    first = check_gradient("exp_cos", "x", _missing_inner())
    assert first.mistake == "missing_chain_factor"
    assert "inner derivative" in first.message and "sin" not in first.message
    assert "-sin(x)" in first.hint()  # asked for, the factor is there at once
    second = check_gradient("exp_cos", "x", _missing_inner())
    assert second.mistake == "missing_chain_factor" and "-sin(x)" in second.message
    assert "\n" not in repr(second)


def test_tries_are_counted_per_exercise_and_variable() -> None:
    check_gradient("exp_cos", "x", _missing_inner())
    other = check_gradient("tanh_unit", "b", -1.0 * (1 - math.tanh(-0.9) ** 2))
    assert other.mistake == "sign_error" and "1 - tanh(u)**2" not in other.message
    assert gradients.TRIES == {("exp_cos", "x"): 1, ("tanh_unit", "b"): 1}
    # a blank or a right answer is not a wrong try
    check_gradient("tanh_unit", "w", ...)
    check_gradient("tanh_unit", "w", (1 - math.tanh(-0.9) ** 2) * 1.5)
    assert ("tanh_unit", "w") not in gradients.TRIES


def test_hint_without_a_detail_and_on_a_right_answer() -> None:
    assert "right" in Verdict(True, None, "Correct: x = 1").hint()
    plain = Verdict(False, None, "Not quite: something")
    assert plain.hint().endswith("Not quite: something")
    assert Verdict(False, "sign_error", "Not quite: s", "d/dx cos = -sin").hint() == (
        "Hint: d/dx cos = -sin"
    )


# --- 16. feedback that looks like feedback ----------------------------------------------------
@pytest.mark.parametrize(
    ("verdict", "mark"),
    [
        (Verdict(True, None, "Correct: dz/dx = -0.599757"), "✓"),
        (Verdict(False, "missing_chain_factor", "Not quite: a <b> & c"), "✗"),
        (Verdict(False, "not_attempted", "Not attempted yet: replace the ..."), "○"),
        (Verdict(False, None, "Cannot check this answer"), "✗"),
    ],
)
def test_html_is_coloured_and_the_text_stays_one_line(verdict: Verdict, mark: str) -> None:
    html = verdict._repr_html_()
    assert verdict.mark == mark and repr(verdict).startswith(f"{mark} ")
    assert MARK_COLOURS[mark] in html and "var(--jp-" in html
    assert "\n" not in html and "\n" not in repr(verdict)
    text = re.sub(r"<[^>]+>", "", html).replace("&lt;", "<").replace("&gt;", ">")
    assert text.replace("&amp;", "&") == repr(verdict)  # the same words as text/plain
    if verdict.mistake:  # the code is there for teachers, small and muted
        assert re.search(rf"<small[^>]*>\({verdict.mistake}\)</small>", html)
    assert "<b>" not in verdict.message or "&lt;b&gt;" in html


def test_a_formula_in_a_hint_never_wraps_at_its_minus() -> None:
    verdict = Verdict(False, "missing_chain_factor", "Not quite: a factor. Hint: with u = cos(x), "
                      "the inner derivative is du/dx = -sin(x)")
    html = verdict._repr_html_()
    assert '<span style="white-space: nowrap">du/dx = -sin(x)</span>' in html
    assert '<span style="white-space: nowrap">u = cos(x)</span>' in html
    assert re.sub(r"<[^>]+>", "", html).startswith("✗ Not quite")


def test_the_three_colours_differ() -> None:
    assert len(set(MARK_COLOURS.values())) == 3
    assert "success" in MARK_COLOURS["✓"] and "error" in MARK_COLOURS["✗"]


def test_a_matrix_answer_uses_the_same_precision() -> None:
    from autograd_lab.exercises import check_jacobian

    def f(v: torch.Tensor) -> torch.Tensor:  # the exercise's f, written out here
        return torch.stack([v[0] * v[1], v[0] ** 2 - v[1], torch.sin(v[0])])

    jac = torch.autograd.functional.jacobian(f, torch.tensor([1.5, -2.0], dtype=torch.float64))
    assert check_jacobian(jac).ok
    assert check_jacobian(jac.round(decimals=4)).ok
    assert not check_jacobian(jac.round(decimals=2)).ok  # cos(1.5) = 0.0707… given as 0.07


def test_the_exercises_page_lists_every_mistake_code_once() -> None:
    from pathlib import Path

    from autograd_lab.exercises import MISTAKES

    readme = (Path(__file__).resolve().parents[1] / "docs" / "exercises.md").read_text(
        encoding="utf-8")
    table = readme.split("The mistake codes")[1].split("\n\n")[1]
    rows = re.findall(r"^\| `(\w+)` \| \S.*\|$", table, re.MULTILINE)
    assert sorted(rows) == sorted(MISTAKES)


def test_a_hint_shows_without_quotes_in_a_notebook() -> None:
    from IPython.lib.pretty import pretty

    hint = Verdict(False, "sign_error", "Not quite: s", "d/dx cos(x) = -sin(x)").hint()
    assert pretty(hint) == "Hint: d/dx cos(x) = -sin(x)" == str(hint)
