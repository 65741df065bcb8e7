"""What the widgets say (issue 27, points 6-11): predictions name the exercises' slips,
nothing hints at a pending answer, bad input gets one sentence and changes nothing."""

from __future__ import annotations

import math

import pytest
import torch

pytest.importorskip("ipywidgets")

from autograd_lab.widgets import (  # noqa: E402
    BackwardTracer,
    ChainRuleStepper,
    GradAccumulationLab,
    TrainingExplorer,
)


def _grad(f, x: float) -> float:
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    f(t).backward()
    return float(t.grad)


def test_chain_rule_stepper_names_a_missing_factor_and_a_sign_error() -> None:
    w = ChainRuleStepper("sin(x**2)", x=3.0)
    while w.state.pending() is None or w.state.pending()[0] != "dz/dx":
        w.next_button.click()
    truth = _grad(lambda t: torch.sin(t**2), 3.0)
    upstream, local = math.cos(9.0), 6.0  # dz/dv1 and dv1/dx, by hand
    assert w.predict(f"{local:.4f}").mistake == "missing_upstream_grad"
    assert w.predict(f"{upstream:.4f}").mistake == "missing_chain_factor"
    assert w.predict(f"{-truth:.4f}").mistake == "sign_error"
    close = w.predict(f"{truth:.2f}")
    assert not close.ok and "2 decimal places" in close.message
    assert w.prediction.tries == 4 and w.state.pending()[0] == "dz/dx"  # nothing revealed
    assert w.predict(f"{truth:.4f}").ok


def test_backward_tracer_names_an_upstream_passed_on_unchanged() -> None:
    w = BackwardTracer("exp(sin(x**2))", x=3.0)
    w.next_button.click()  # ExpBackward0 passes on
    w.next_button.click()  # SinBackward0 receives exp(sin(9))
    label, truth = w.state.pending()
    assert label == "SinBackward0's grad_inputs[0]"
    received = math.exp(math.sin(9.0))
    assert truth == pytest.approx(received * math.cos(9.0), rel=1e-12)
    assert w.predict(f"{received:.4f}").mistake == "missing_chain_factor"
    assert w.predict(f"{math.cos(9.0):.4f}").mistake == "missing_upstream_grad"


def test_accumulation_lab_names_12_instead_of_24_and_hints_at_nothing_pending() -> None:
    w = GradAccumulationLab("x**3", x=2.0)
    assert w.predict("12").ok
    assert "keeps adding" not in w.table_html.value
    slip = w.predict("12")
    assert slip.mistake == "grad_overwritten" and "24" not in slip.message
    assert w.predict("24").ok
    w.mode_buttons.value = "grad.zero_()"
    assert w.predict("12").ok
    assert w.predict("24").mistake == "not_zeroed"


def test_placeholder_is_never_an_answer_and_error_only_where_a_call_can_fail() -> None:
    stepper, lab = ChainRuleStepper("sin(x**2)", x=3.0), GradAccumulationLab()
    for widget, possible in ((stepper, False), (lab, True)):
        placeholder = widget.prediction.box.placeholder
        assert not any(ch.isdigit() for ch in placeholder)
        assert ("error" in placeholder) == possible


def test_a_finished_widget_keeps_no_text_in_its_prediction_box() -> None:
    w = GradAccumulationLab("x**3", x=2.0)
    w.calls_box.value = 1
    w.prediction.box.value = "13"
    w.prediction.show_button.click()
    w.prediction.box.value = "stale"
    w._render()
    assert w.prediction.box.disabled and w.prediction.box.value == ""


def test_the_press_enter_hint_goes_once_enter_was_pressed() -> None:
    w = ChainRuleStepper("sin(x**2)", x=3.0)
    w.expression_box.value = "sin(x"
    assert "press Enter or Apply" in w.expression_input.hint.value
    w.apply_button.click()
    assert w.expression_input.hint.value == "" and "Still showing sin(x**2)" in w.message.value
    w.expression_box.value = "sin(x)+"
    assert "press Enter or Apply" in w.expression_input.hint.value


def test_bad_expressions_are_quoted_once_and_the_lab_says_y_and_what_stays() -> None:
    w = ChainRuleStepper()
    w.expression_box.value = "__import__('os')"
    w.apply_button.click()
    assert w.message.value.count("__import__(&#x27;os&#x27;)") == 1
    lab = GradAccumulationLab("x**3", x=2.0)
    lab.expression_box.value = "sqrt(-x)"
    assert "y = sqrt" in lab.message.value and "z = " not in lab.message.value
    assert "Still using x**3" in lab.message.value and lab.state.expression == "x**3"


@pytest.mark.parametrize("typed, says", [
    ("5", "out of range"), ("0", "out of range"), ("-1", "out of range"),
    ("1e-9", "out of range"), ("x^2", "not a number"), ("2x", "not a number"),
    ("0.1234", "between two steps"), ("0,12", "decimal comma"),
])
def test_a_typed_lr_out_of_range_or_not_a_number_changes_nothing(typed: str, says: str) -> None:
    w = TrainingExplorer()
    w.run_button.click()
    before = (w.session.lr, list(w.session.losses))
    w.lr_box.value = typed
    assert says in w.message.value and "lr stays 0.1" in w.message.value
    assert (w.session.lr, list(w.session.losses)) == before
    assert w.lr_box.value == "0.1"  # the box shows the lr in use again


def test_a_typed_lr_is_the_one_the_box_and_the_status_name() -> None:
    w = TrainingExplorer()
    w.lr_box.value = "0.1230"
    assert w.lr_box.value == "0.123" and w.session.lr == pytest.approx(0.123)
    w.step_button.click()
    assert "(lr=0.123)" in w.status_html.value


def test_the_lr_buttons_move_it_one_step_and_stop_at_the_ends() -> None:
    """− / + move lr by 0.001; each move is a fresh run, its lr named everywhere."""
    w = TrainingExplorer()
    w.run_button.click()
    w.lr_up_button.click()
    assert w.session.lr == pytest.approx(0.101) and w.lr_box.value == "0.101"
    assert w.text == "" and "lr is now 0.101" in w.message.value
    w.step_button.click()
    assert "(lr=0.101)" in w.status_html.value and "(lr=0.101)" in w.plot_label.value
    w.lr_down_button.click()
    w.lr_down_button.click()
    assert w.lr_box.value == "0.099" and w.session.lr == pytest.approx(0.099)
    w.lr_box.value = "0.002"
    w.lr_down_button.click()
    assert w.session.lr == pytest.approx(0.001) and w.lr_down_button.disabled
    w.lr_box.value = "1"
    assert w.lr_up_button.disabled and not w.lr_down_button.disabled


def test_the_widget_the_lessons_and_the_start_page_give_one_restart_instruction() -> None:
    from pathlib import Path

    from autograd_lab.widgets.base import AFTER_RESTART

    instruction = "run its cell again (Shift+Enter)"
    assert instruction in AFTER_RESTART
    notebooks = Path(__file__).resolve().parent.parent / "notebooks"
    lessons = [p for p in sorted(notebooks.glob("[0-9][0-9]_*.md"))
               if "from autograd_lab.widgets import" in p.read_text(encoding="utf-8")]
    assert len(lessons) >= 6  # 02, 03, 06, 07, 08 and 15 embed a widget
    for path in [notebooks / "00_start_here.md", *lessons]:
        text = " ".join(path.read_text(encoding="utf-8").split()).lower()
        assert instruction.lower() in text and "kernel → restart" in text, path.name
