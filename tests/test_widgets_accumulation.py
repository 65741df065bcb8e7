"""GradAccumulationLab: .grad accumulating over backward calls, clicked through without a browser.

Expected values come from running the seed's loop with torch here (float64 for the values,
float32 where the widget's printout is compared character for character, like the seed).
"""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("ipywidgets")

from autograd_lab.widgets import AccumulationRun, GradAccumulationLab  # noqa: E402


def seed_loop(fn, x0: float, calls: int, mode: str, dtype=torch.float32) -> list[float]:
    x = torch.tensor(x0, dtype=dtype, requires_grad=True)
    out = []
    for _ in range(calls):
        y = fn(x)
        y.backward()
        out.append(x.grad.item())
        if mode == "grad.zero_()":
            x.grad.zero_()
        elif mode == "grad = None":
            x.grad = None
    return out


def second_backward_error() -> str:
    x = torch.tensor(2.0, requires_grad=True)
    y = x**3
    y.backward()
    with pytest.raises(RuntimeError) as info:
        y.backward()
    return str(info.value).splitlines()[0]


def test_nothing_is_drawn_before_the_learner_acts() -> None:
    w = GradAccumulationLab("x**3", x=2.0)
    assert w.result.grads == [] and w.result.error == ""
    assert "Gradient of x at" not in w.output_html.value
    assert w.table_html.value.count(">?<") == 5  # five calls planned, none revealed
    assert "0 of 5 backward calls made" in w.output_html.value
    assert "Predict x.grad after call 1" in w.prediction.prompt.value
    assert w.reset_button.disabled  # nothing to reset yet


def test_predictions_12_24_36_then_wrong_then_show() -> None:
    """The issue's example: x**3 at 2, the prediction is x.grad right after each call."""
    expected = seed_loop(lambda x: x**3, 2.0, 5, "nothing", torch.float64)
    assert expected[:3] == [12.0, 24.0, 36.0]  # the seed's loop
    w = GradAccumulationLab("x**3", x=2.0)
    png = w.plot_image.value
    for k, truth in enumerate(expected[:3]):
        wrong = w.predict(truth + 1.0)
        assert not wrong.ok and "Not quite" in wrong.message and len(w.result.grads) == k
        right = w.predict(str(truth))
        assert right.ok and w.result.grads == pytest.approx(expected[: k + 1])
        assert f"Gradient of x at {k} is {truth}" in w.output_html.value  # drawn as it happens
        assert w.plot_image.value != png and w.plot_image.value.startswith("<svg")
        png = w.plot_image.value
    bad = w.predict("twelve")
    assert not bad.ok and "not a number" in bad.message  # never raises
    w.prediction.show_button.click()  # Show: the next call without a prediction
    assert w.result.grads == pytest.approx(expected[:4])
    w.run_button.click()
    assert w.result.grads == pytest.approx(expected)
    assert w.predict("72").ok is False and "Nothing left" in w.prediction.last_verdict.message


@pytest.mark.parametrize("mode", ["grad.zero_()", "grad = None"])
def test_clearing_between_calls_gives_12_each_time(mode: str) -> None:
    w = GradAccumulationLab()
    w.mode_buttons.value = mode
    assert "fresh x" in w.message.value  # the change visibly restarted the run
    expected = seed_loop(lambda x: x**3, 2.0, 5, mode, torch.float64)
    assert expected == [12.0] * 5
    for truth in expected:
        assert w.predict(truth).ok
    assert w.result.grads == expected
    assert w.output_html.value.count("is 12.0") == 5
    assert w.state.run().grads == expected  # the whole loop agrees with the calls one by one


def test_same_graph_twice_error_is_the_right_prediction_and_shows_once() -> None:
    w = GradAccumulationLab()
    w.fresh_checkbox.value = False
    message = second_backward_error()
    assert message.startswith("Trying to backward through the graph a second time")
    assert w.predict(12.0).ok
    wrong = w.predict(24.0)
    assert not wrong.ok and "does not" not in wrong.message
    assert w.predict("error").ok
    assert w.result.grads == [12.0] and w.result.failed_call == 2
    assert f"RuntimeError: {message}" == w.result.error
    shown = w.output_html.value
    assert shown.count("Trying to backward through the graph a second time") == 1
    assert w.prediction.pending() is None and w.run_button.disabled
    w.retain_checkbox.value = True
    assert w.result.grads == [] and w.state.run().grads == [12.0, 24.0, 36.0, 48.0, 60.0]
    assert w.predict("error").ok is False  # with retain_graph it does not raise


def test_the_call_count_is_a_labelled_number_box_from_1_to_max_calls() -> None:
    """A native number input (↑/↓ step by one, a <label for>), never a slider."""
    from autograd_lab.widgets.accumulation import MAX_CALLS

    w = GradAccumulationLab("x**3", x=2.0)
    box = w.calls_box
    assert box.description == "backward calls" and (box.min, box.max, box.step) == (
        1, MAX_CALLS, 1)
    w.calls_box.value = 2
    assert w.state.calls == 2 and w.state.run().grads == [12.0, 24.0]  # 3·2², added twice


def test_new_expression_and_call_count_only_here() -> None:
    """sin(x**3) at 2 with 3 calls: not used by any other test."""
    w = GradAccumulationLab("sin(x**3)", x=2.0)
    w.calls_box.value = 3
    expected = seed_loop(lambda x: torch.sin(x**3), 2.0, 3, "nothing", torch.float64)
    assert f"{expected[0]:.4f}" == "-1.7460"  # the seed's figure
    for g in expected:
        assert w.predict(f"{g:.4f}").ok  # 4 decimal places are enough
    assert w.result.grads == pytest.approx(expected, rel=1e-5)
    w.mode_buttons.value = "grad = None"
    w.run_button.click()
    assert w.result.grads == pytest.approx([expected[0]] * 3, rel=1e-5)
    assert "x.grad = None" in w.code_html.value
    w.reset_button.click()
    assert w.result.grads == [] and "0 of 3" in w.output_html.value


def test_expression_box_and_bad_input() -> None:
    w = GradAccumulationLab()
    w.expression_box.value = "t**2"  # any single variable name works
    assert w.state.run().grads == [4.0, 8.0, 12.0, 16.0, 20.0]
    for bad in ("x*y", "sin(x", "", "unknown(x)", "3"):
        w.expression_box.value = bad
        assert "agl-error" in w.message.value
        assert w.state.expression == "t**2"


def test_long_variable_names_are_capped_and_fast() -> None:
    name = "v" * 40  # the longest name the parser takes: labels show 12 characters
    w = GradAccumulationLab(f"{name}**3", x=2.0)
    assert w.message.value == ""
    assert w.predict(12.0).ok  # speed: benchmarks/bench_widgets.py (long name, <= 100 ms)
    assert name not in w.table_html.value and "v" * 11 + "…" in w.table_html.value
    w.expression_box.value = "a" * 10**5 + "**3"
    assert "agl-error" in w.message.value and "a" * 81 not in w.message.value


def test_logic_class_directly() -> None:
    run = AccumulationRun("x**2", x=3.0, calls=4, mode="nothing")
    assert run.run().grads == seed_loop(lambda x: x**2, 3.0, 4, "nothing", torch.float64)
    assert run.result.grads == []  # run() replays on a fresh x; the persistent one is untouched
    run.next_call()
    run.next_call()
    assert run.result.grads == [6.0, 12.0] and run.pending() == ("x.grad after call 3", 18.0)
    run.set_mode("grad.zero_()")
    assert run.result.grads == []
    res = run.run()
    assert res.grads == [6.0] * 4 and res.after[0] == "x.grad.zero_() → 0"
    run.fresh_forward = False
    res = run.run()
    assert res.failed_call == 2 and "second time" in res.error
    with pytest.raises(ValueError):
        run.set_mode("sometimes")
    assert run.log_lines(res)[0] == "Gradient of x at 0 is 6.0"


def test_display_bundle() -> None:
    w = GradAccumulationLab()
    assert w._repr_mimebundle_()["text/plain"] == (
        "GradAccumulationLab(x**3, x=2.0) — run this cell to interact"
        " (re-run it after a kernel restart)"
    )
    assert "agl-grad-accumulation-lab" in w.root._dom_classes


def test_overflowing_gradient_is_drawn_not_a_traceback() -> None:
    """exp(x) at x = 100 overflows float32: x.grad is inf, shown as such."""
    x = torch.tensor(100.0, requires_grad=True)
    torch.exp(x).backward()
    assert x.grad.item() == float("inf")
    w = GradAccumulationLab("exp(x)", x=100.0)
    w.prediction.show_button.click()
    assert w.message.value == "" and w.last_error is None
    assert "Gradient of x at 0 is inf" in w.output_html.value
    assert w.plot_image.value.startswith("<svg")
