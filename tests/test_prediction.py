"""The 4-decimal-place rule shared by exercise checks and widget predictions."""

from __future__ import annotations

import math

import pytest
import torch

from autograd_lab.exercises.prediction import ERROR, check_prediction, within_precision


def _dsin_x2(x: float) -> float:
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    torch.sin(t**2).backward()
    return float(t.grad)


def test_four_places_are_enough_and_two_are_not() -> None:
    truth = _dsin_x2(3.0)  # -5.466781...
    assert math.isclose(truth, 6 * math.cos(9.0), rel_tol=1e-12)
    assert within_precision(round(truth, 4), truth)
    assert within_precision(round(truth, 5), truth)
    assert not within_precision(round(truth, 2), truth)
    assert not within_precision(truth + 6e-5, truth)


@pytest.mark.parametrize("typed", ["−5.4668", " -5.4668 ", "-5.46678", "-5_4668e-4"])
def test_typed_text_is_read_as_a_number(typed: str) -> None:
    truth = _dsin_x2(3.0)
    verdict = check_prediction(typed, truth, "dz/dx")
    assert verdict.ok, verdict
    assert f"{truth:.6f}" in verdict.message  # the true value, not the typed one


@pytest.mark.parametrize("bad", ["abc", "x" * 100_000, "nan", "1e999", True, [1, 2], object()])
def test_a_non_number_is_a_verdict_not_an_exception(bad: object) -> None:
    verdict = check_prediction(bad, 1.0, "x.grad")
    assert not verdict.ok
    assert len(verdict.message) < 120


def test_blank_is_not_attempted() -> None:
    assert check_prediction("  ", 1.0, "x.grad").mistake == "not_attempted"
    assert check_prediction(..., 1.0, "x.grad").mistake == "not_attempted"


def test_error_is_a_prediction() -> None:
    assert check_prediction("Error", ERROR, "x.grad").ok
    assert not check_prediction("12", ERROR, "x.grad").ok
    assert not check_prediction("error", 12.0, "x.grad").ok
    assert check_prediction(torch.tensor([12.0]), 12.0, "x.grad").ok


def test_a_decimal_comma_is_told_to_use_a_point() -> None:
    verdict = check_prediction("0,4121", math.sin(9.0), "z")
    assert not verdict.ok and "decimal comma" in verdict.message and "0.4121" in verdict.message


def test_messages_suggest_error_only_where_a_step_can_fail_and_give_no_example_value() -> None:
    for possible in (True, False):
        for typed in ("abc", "twelve"):
            message = check_prediction(typed, 1.0, "x.grad", error_possible=possible).message
            assert ("error" in message) == possible, message
            assert not any(ch.isdigit() for ch in message.replace("x.grad", "")), message


def test_a_miss_names_the_slip_or_the_rounding_never_the_answer() -> None:
    truth = _dsin_x2(3.0)  # dz/dx = dz/dv1 · dv1/dx = cos(9) · 6
    upstream, local = math.cos(9.0), 6.0
    slips = {"missing_upstream_grad": local, "missing_chain_factor": upstream}
    cases = {
        "6": "missing_upstream_grad",
        f"{upstream:.4f}": "missing_chain_factor",
        f"{-truth:.4f}": "sign_error",
    }
    for typed, code in cases.items():
        verdict = check_prediction(typed, truth, "dz/dx", slips)
        assert not verdict.ok and verdict.mistake == code, (typed, verdict)
        assert f"{truth:.4f}" not in verdict.message and f"{abs(truth):.4f}" not in verdict.message
    rounded = check_prediction(f"{truth:.2f}", truth, "dz/dx", slips)
    assert not rounded.ok and "to 2 decimal places" in rounded.message
    cut = check_prediction(f"{math.trunc(truth * 1e4) / 1e4:.4f}", truth, "dz/dx", slips)
    assert not cut.ok and "4th decimal place" in cut.message
    wrong = check_prediction("1.5", truth, "dz/dx", slips)
    assert wrong.mistake is None and "decimal" not in wrong.message
    assert wrong.message == "Not quite: that is not dz/dx; try again or press Show"
