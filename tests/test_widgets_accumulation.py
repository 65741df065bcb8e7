"""GradAccumulationLab: .grad accumulating over backward calls, clicked through without a browser.

Expected values come from running the seed's loop with torch here (float32, like the seed).
"""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("ipywidgets")

from autograd_lab.widgets import AccumulationRun, GradAccumulationLab  # noqa: E402
from autograd_lab.widgets.figures import PNG_MAGIC  # noqa: E402


def seed_loop(fn, x0: float, calls: int, mode: str) -> list[float]:
    x = torch.tensor(x0, requires_grad=True)
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


def test_default_accumulates_12_24_36_48_60() -> None:
    w = GradAccumulationLab()
    expected = seed_loop(lambda x: x**3, 2.0, 5, "nothing")
    assert expected == [12.0, 24.0, 36.0, 48.0, 60.0]
    for i, g in enumerate(expected):
        assert f"Gradient of x at {i} is {g}" in w.output_html.value  # the seed's line
        assert f">{g}<" in w.table_html.value
    assert w.plot_image.value[:8] == PNG_MAGIC
    assert w.result.grads == expected


@pytest.mark.parametrize("mode", ["grad.zero_()", "grad = None"])
def test_clearing_between_calls_gives_12_five_times(mode: str) -> None:
    w = GradAccumulationLab()
    png_before = w.plot_image.value
    w.mode_buttons.value = mode
    expected = seed_loop(lambda x: x**3, 2.0, 5, mode)
    assert expected == [12.0] * 5
    assert w.result.grads == expected
    assert w.output_html.value.count("is 12.0") == 5
    assert w.plot_image.value != png_before and w.plot_image.value[:8] == PNG_MAGIC
    w.run_button.click()
    assert w.result.grads == expected


def test_one_graph_without_retain_graph_shows_torchs_error_in_one_line() -> None:
    w = GradAccumulationLab()
    w.fresh_checkbox.value = False
    message = second_backward_error()
    assert message.startswith("Trying to backward through the graph a second time")
    assert w.result.grads == [12.0] and w.result.failed_call == 2
    assert f"RuntimeError: {message}" in w.result.error
    assert "Trying to backward through the graph a second time" in w.output_html.value
    w.retain_checkbox.value = True
    assert w.result.error == "" and w.result.grads == [12.0, 24.0, 36.0, 48.0, 60.0]


def test_new_expression_and_call_count_only_here() -> None:
    """sin(x**3) at 2 with 3 calls and grad = None: not used by any other test."""
    w = GradAccumulationLab("sin(x**3)", x=2.0)
    w.calls_slider.value = 3
    expected = seed_loop(lambda x: torch.sin(x**3), 2.0, 3, "nothing")
    assert f"{expected[0]:.4f}" == "-1.7460"  # the seed's figure
    assert w.result.grads == expected
    for i, g in enumerate(expected):
        assert f"Gradient of x at {i} is {g:.4f}" in w.output_html.value
    w.mode_buttons.value = "grad = None"
    assert w.result.grads == [expected[0]] * 3
    assert "x.grad = None" in w.code_html.value


def test_expression_box_and_bad_input() -> None:
    w = GradAccumulationLab()
    w.expression_box.value = "t**2"  # any single variable name works
    assert w.result.grads == [4.0, 8.0, 12.0, 16.0, 20.0]
    for bad in ("x*y", "sin(x", "", "unknown(x)", "3"):
        w.expression_box.value = bad
        assert "agl-error" in w.message.value
        assert w.state.expression == "t**2"


def test_logic_class_directly() -> None:
    run = AccumulationRun("x**2", x=3.0, calls=4, mode="nothing")
    assert run.run().grads == [6.0, 12.0, 18.0, 24.0]
    run.set_mode("grad.zero_()")
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
    assert w.message.value == "" and w.last_error is None
    assert "Gradient of x at 0 is inf" in w.output_html.value
    assert w.plot_image.value[:8] == PNG_MAGIC
