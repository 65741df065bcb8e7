"""ChainRuleStepper: click-through without a browser, plus its logic class driven directly.

Expected numbers come from torch autograd in float64 or a central difference computed here,
never from the widget.
"""

from __future__ import annotations

import math
import re

import pytest
import torch

widgets = pytest.importorskip("ipywidgets")

from autograd_lab.widgets import ChainRuleStepper, ChainRuleSteps  # noqa: E402


def torch_grad(fn, **values: float) -> dict[str, float]:
    leaves = {
        k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in values.items()
    }
    out = fn(**leaves)
    grads = torch.autograd.grad(out, list(leaves.values()))
    return {k: float(g) for k, g in zip(leaves, grads, strict=True)}


def central(fn, x: float, h: float = 1e-6) -> float:
    return (fn(x + h) - fn(x - h)) / (2 * h)


def type_in(w: ChainRuleStepper, text: str) -> None:
    """Type an expression into the box and press Apply (what Enter does too)."""
    w.expression_box.value = text
    w.apply_button.click()


def click_to_end(w: ChainRuleStepper) -> int:
    clicks = 0
    while not w.next_button.disabled:
        w.next_button.click()
        clicks += 1
        assert clicks < 200
    return clicks


def test_sin_x_squared_at_3_final_step_shows_three_agreeing_values() -> None:
    w = ChainRuleStepper("sin(x**2)", x=3.0)
    expected = torch_grad(lambda x: torch.sin(x**2), x=3.0)["x"]
    fd = central(lambda t: math.sin(t * t), 3.0)
    text = f"{expected:.4f}"
    assert text == "-5.4668"  # the seed's figure at 4 d.p.
    assert f"{fd:.4f}" == text
    assert text not in w.output_html.value  # not shown before the end
    clicks = click_to_end(w)
    assert clicks == w.state.total - 1
    html = w.output_html.value
    assert f"manual = {text}, autograd = {text}, finite difference = {text}" in html
    assert "✓" in html and 'data-agree="true"' in html
    assert w.graph_image.value.startswith("<svg")
    assert w.next_button.disabled and not w.back_button.disabled


def test_forward_and_backward_steps_show_values_local_upstream_product() -> None:
    w = ChainRuleStepper("sin(x**2)", x=3.0)
    # forward: v1 = x**2 = 9, z = sin(v1)
    assert "v1 = x**2" in w.output_html.value and "value = 9.0000" in w.output_html.value
    w.next_button.click()
    assert f"value = {math.sin(9.0):.4f}" in w.output_html.value
    w.next_button.click()  # first backward step: dz/dv1 = cos(v1)
    html = w.output_html.value
    assert "dz/dv1 = cos(v1)" in html
    assert f"local = {math.cos(9.0):.4f}" in html and "upstream = 1.0000" in html
    w.next_button.click()  # dz/dx = dz/dv1 · 2x
    html = w.output_html.value
    assert f"local = {6.0:.4f}" in html and f"upstream = {math.cos(9.0):.4f}" in html
    assert f"= {6.0 * math.cos(9.0):.4f}" in html


def test_highlighted_node_changes_with_the_step_and_png_changes_too() -> None:
    w = ChainRuleStepper("sin(x**2)", x=3.0)
    pngs, highlights = [], []
    for _ in range(w.state.total):
        view = w.state.current_view()
        highlights.append(view.highlight)
        pngs.append(w.graph_image.value)
        assert pngs[-1].startswith("<svg")
        w.next_button.click()
    ids = {n.id for n in w.state.graph().nodes}
    assert all(set(h) <= ids and h for h in highlights)
    assert len(set(highlights)) > 1
    assert len(set(pngs)) == w.state.total  # every step draws its own state


def test_graph_reveals_values_then_gradients_step_by_step() -> None:
    s = ChainRuleSteps("sin(x**2)", {"x": 3.0})
    first = {n.kind: n for n in s.graph_at(0).nodes}
    assert first["leaf"].value == 3.0 and first["output"].value is None
    assert all(n.grad is None for n in s.graph_at(0).nodes)
    s.go_to_end()
    s.back()  # last backward step: dz/dx reached
    leaf = next(n for n in s.graph_at().nodes if n.kind == "leaf")
    expected = torch_grad(lambda x: torch.sin(x**2), x=3.0)["x"]
    assert leaf.grad == pytest.approx(expected, rel=1e-12)
    s.back()
    leaf = next(n for n in s.graph_at().nodes if n.kind == "leaf")
    assert leaf.grad is None


def test_back_reset_and_button_states() -> None:
    w = ChainRuleStepper()  # default sin(x**2) at 2.0
    assert w.state.values == {"x": 2.0}
    assert w.back_button.disabled
    first = w.output_html.value
    w.next_button.click()
    w.next_button.click()
    w.back_button.click()
    assert w.state.index == 1
    w.reset_button.click()
    assert w.state.index == 0 and w.output_html.value == first
    w.end_button.click()
    expected = torch_grad(lambda x: torch.sin(x**2), x=2.0)["x"]
    assert f"manual = {expected:.4f}" in w.output_html.value


def test_a_new_value_rederives_and_keeps_the_step() -> None:
    w = ChainRuleStepper("sin(x**2)", x=3.0)
    box = w.value_boxes["x"]
    assert isinstance(box, widgets.FloatText) and (box.step, box.value) == (0.1, 3.0)
    assert box.description == "x ="  # the number box's <label for>: its accessible name
    w.end_button.click()
    end = w.state.index
    box.value = 4.0
    assert w.state.index == end
    expected = torch_grad(lambda x: torch.sin(x**2), x=4.0)["x"]
    assert f"{expected:.4f}" == "-7.6613"
    assert f"autograd = {expected:.4f}" in w.output_html.value
    w.back_button.click()
    box.value = -1.5
    assert w.state.index == end - 1
    assert "x = -1.5" in w.header_html.value


def test_any_value_can_be_given_none_is_clamped() -> None:
    w = ChainRuleStepper("x*x", x=7.5)
    assert w.value_boxes["x"].value == 7.5
    w.value_boxes["x"].value = -250.25
    w.end_button.click()
    assert w.state.values["x"] == -250.25
    assert f"manual = {2 * -250.25:.4f}" in w.output_html.value


def test_named_intermediate_gets_no_value_box_and_derives_through_it() -> None:
    w = ChainRuleStepper("2*y + y**2", y="x**2", x=2.0)
    assert list(w.value_boxes) == ["x"]
    w.end_button.click()
    expected = torch_grad(lambda x: 2 * x**2 + (x**2) ** 2, x=2.0)["x"]
    assert expected == 40.0
    assert f"manual = {expected:.4f}" in w.output_html.value


def test_new_expression_only_here_two_variables_with_value_boxes() -> None:
    """An expression no other test uses: two leaves, tanh and a division."""
    w = ChainRuleStepper()
    type_in(w, "tanh(a*b) + a/b")
    assert w.message.value == ""
    assert sorted(w.value_boxes) == ["a", "b"]
    w.value_boxes["a"].value = 1.5
    w.value_boxes["b"].value = -0.7
    w.end_button.click()
    g = torch_grad(lambda a, b: torch.tanh(a * b) + a / b, a=1.5, b=-0.7)
    html = w.output_html.value
    for name in ("a", "b"):
        assert f"dz/d{name}: manual = {g[name]:.4f}, autograd = {g[name]:.4f}" in html
    assert "✓" in html


def test_bad_expression_keeps_the_last_good_one() -> None:
    w = ChainRuleStepper("sin(x**2)", x=3.0)
    w.next_button.click()
    before = (w.state.expression, w.state.index, w.output_html.value, w.graph_image.value)
    for bad in ("sin(x", "import os"):
        type_in(w, bad)
        msg = w.message.value
        assert 'class="agl-message agl-error"' in msg
        assert "\n" not in re.sub(r"<[^>]+>", "", msg).strip()
        assert (w.state.expression, w.state.index, w.output_html.value,
                w.graph_image.value) == before
    type_in(w, "cos(x)")
    assert w.message.value == "" and w.state.expression == "cos(x)"


def test_domain_error_from_a_value_is_a_message_and_the_box_goes_back() -> None:
    w = ChainRuleStepper("log(x)", x=2.0)
    w.value_boxes["x"].value = -1.0
    assert "log" in w.message.value and "positive" in w.message.value
    assert w.state.values["x"] == 2.0  # the last good derivation is still shown
    assert w.value_boxes["x"].value == 2.0  # and the box shows the value it uses


def test_bad_constructor_input_falls_back_with_a_message() -> None:
    w = ChainRuleStepper("sin(x")
    assert "missing" in w.message.value and w.state.expression == "sin(x**2)"
    w = ChainRuleStepper("sin(x)", x=[1, 2])
    assert "x must be a number" in w.message.value and w.expression_box.value == "sin(x**2)"


def test_logic_class_directly() -> None:
    s = ChainRuleSteps("x**2 + 3*x + 1", {"x": 2.0})
    assert s.total == len(s.derivation.steps) + 1
    kinds = []
    for _ in range(s.total):
        kinds.append(s.current_view().kind)
        s.next()
    s.next()  # clamps at the end
    assert s.at_end and kinds[-1] == "result" and kinds[0] == "forward"
    assert kinds.index("backward") == sum(1 for st in s.derivation.steps if st.kind == "forward")
    final = s.final()
    assert final.agree and final.rows[0][1] == 7.0  # seed: dy/dx = 7 at 2
    view = s.current_view()
    assert "manual = 7.0000" in "\n".join(view.lines)
    s.back()
    assert s.current_view().kind == "backward" and len(s.current_view().highlight) == 2
    s.reset()
    assert s.index == 0
    with pytest.raises(ValueError):
        s.rederive("", None)
    assert s.expression == "x**2 + 3*x + 1"


def test_kink_shows_na_for_the_finite_difference() -> None:
    s = ChainRuleSteps("relu(x)", {"x": 0.0})
    s.go_to_end()
    text = "\n".join(s.current_view().lines)
    assert "finite difference = n/a" in text and "manual = 0.0000" in text


def test_display_bundle_is_deterministic_text() -> None:
    w = ChainRuleStepper("sin(x**2)", x=3.0)
    bundle = w._repr_mimebundle_()
    assert bundle["text/plain"] == (
        "ChainRuleStepper(sin(x**2), x=3.0) — run this cell to interact"
        " (re-run it after a kernel restart)"
    )
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert repr(w) == bundle["text/plain"] and "0x" not in repr(w)
    assert "agl-chain-rule-stepper" in w.root._dom_classes
    for b in (w.back_button, w.next_button, w.reset_button, w.end_button):
        assert b.tooltip and b.description


def test_intermediates_given_at_construction_stay_available() -> None:
    w = ChainRuleStepper("2*y + y**2", y="x**2", x=2.0)
    type_in(w, "sin(t)")
    header = re.sub(r"<[^>]+>", "", w.header_html.value)
    assert list(w.value_boxes) == ["t"] and "y" not in header and header.startswith("z = sin(t)")
    type_in(w, "y*t")  # y is x**2 again, so x gets its value box back
    assert sorted(w.value_boxes) == ["t", "x"]
    w.end_button.click()
    g = torch_grad(lambda x, t: x**2 * t, x=2.0, t=2.0)
    assert f"dz/dx: manual = {g['x']:.4f}" in w.output_html.value


def test_many_variables_get_value_boxes_for_the_first_ones_only() -> None:
    from autograd_lab.widgets.chain_rule import MAX_VALUE_BOXES

    values = {f"x{i}": 0.5 * (i % 3) for i in range(100)}
    w = ChainRuleStepper("+".join(f"{k}**2" for k in values), **values)
    assert list(w.value_boxes) == list(values)[:MAX_VALUE_BOXES] and w.last_error is None
    w.value_boxes["x1"].value = 3.0
    assert w.state.values["x1"] == 3.0 and w.state.values["x99"] == values["x99"]
    w.end_button.click()
    assert w.state.derivation.gradient["x1"] == 6.0 and w.message.value == ""


# -- predict, then reveal (issue 14) -----------------------------------------------------------
def sin_x_squared_reveals(x0: float) -> list[tuple[str, float]]:
    """The three values ChainRuleStepper("sin(x**2)") reveals after the start, from torch."""
    v1 = torch.tensor(x0 * x0, dtype=torch.float64, requires_grad=True)
    z = torch.sin(v1)
    (dz_dv1,) = torch.autograd.grad(z, v1)
    dz_dx = torch_grad(lambda x: torch.sin(x**2), x=x0)["x"]
    return [("z = sin(v1)", float(z.detach())), ("dz/dv1", float(dz_dv1)), ("dz/dx", dz_dx)]


def test_predict_checks_each_value_before_it_is_revealed() -> None:
    w = ChainRuleStepper("sin(x**2)", x=3.0)
    reveals = sin_x_squared_reveals(3.0)
    assert [f"{v:.4f}" for _, v in reveals] == ["0.4121", "-0.9111", "-5.4668"]  # the brief's
    assert "v1 = x**2" in w.text and "value = 9.0000" in w.text
    for step, (label, truth) in enumerate(reveals):
        assert f"{truth:.4f}" not in w.output_html.value  # nothing shown before the learner acts
        assert w.state.pending() == (label, pytest.approx(truth, rel=1e-12))
        assert f"Predict {label}" in w.prediction.prompt.value
        wrong = w.predict(f"{truth + 0.01:.4f}")
        assert not wrong.ok and "Not quite" in wrong.message and w.state.index == step
        assert w.prediction.tries == 1
        bad = w.predict("a guess")
        assert not bad.ok and "not a number" in bad.message and w.state.index == step
        right = w.predict(f"{truth:.4f}".replace("-", "−"))  # a Unicode minus works too
        assert right.ok and f"{truth:.6f}" in right.message
        assert w.state.index == step + 1 and w.prediction.tries == 0
        assert f"{truth:.4f}" in w.output_html.value
    assert w.state.pending() is None
    assert "Next ▶ compares" in w.prediction.prompt.value and w.prediction.check_button.disabled
    done = w.predict("1.0")
    assert not done.ok and "Nothing to predict at this step. Next ▶" in done.message
    w.next_button.click()
    assert w.state.current_view().kind == "result"


def test_check_and_show_buttons_in_the_view() -> None:
    w = ChainRuleStepper("sin(x**2)", x=3.0)
    (_, truth), *_ = sin_x_squared_reveals(3.0)
    w.prediction.box.value = "0.5"
    w.prediction.check_button.click()
    assert "✗" in w.message.value and w.state.index == 0
    w.prediction.box.value = f"{truth:.5f}"
    w.prediction.check_button.click()
    assert "✓" in w.message.value and w.state.index == 1
    assert f"value = {truth:.4f}" in w.output_html.value
    w.prediction.show_button.click()  # reveal without guessing
    assert w.state.index == 2 and w.message.value == ""


def test_a_variable_reached_twice_shows_contributions_and_running_total() -> None:
    x0 = 1.3
    # dz/dx of x*sin(x) has two paths: through the product directly and through sin
    a = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    direct, through_sin = (float(g) for g in torch.autograd.grad(a * torch.sin(b), [a, b]))
    total = torch_grad(lambda x: x * torch.sin(x), x=x0)["x"]
    assert direct + through_sin == pytest.approx(total, rel=1e-12)

    s = ChainRuleSteps("x*sin(x)", {"x": x0})
    labels = []
    while s.pending() is not None:
        labels.append(s.pending())
        s.reveal()
        text = "\n".join(s.current_view().lines)
        if labels[-1][0] == "contribution 1 of 2 to dz/dx":
            assert labels[-1][1] == pytest.approx(direct, rel=1e-12)
            assert f"running total: dz/dx = {direct:.4f} (1 of 2 paths so far)" in text
            assert "not final yet: 1 more contribution to add" in text
            assert "local derivative" not in text
        if labels[-1][0] == "contribution 2 of 2 to dz/dx":
            assert labels[-1][1] == pytest.approx(through_sin, rel=1e-12)
            assert (f"running total: dz/dx = {direct:.4f} + {through_sin:.4f} = {total:.4f}"
                    in text)
            assert f"all 2 paths added: dz/dx = {total:.4f}" in text
    names = [label for label, _ in labels]
    assert names.index("contribution 1 of 2 to dz/dx") < names.index(
        "contribution 2 of 2 to dz/dx")
    assert "dz/dx" not in names  # never asked as if one path were the whole gradient


def test_result_step_highlights_the_leaves() -> None:
    s = ChainRuleSteps("tanh(a*b) + a/b", {"a": 1.5, "b": -0.7})
    s.go_to_end()
    view = s.current_view()
    graph = s.graph()
    leaf_ids = {n.id for n in graph.nodes if n.label.split(" =")[0] in ("a", "b")}
    assert len(leaf_ids) == 2 and set(view.highlight) == leaf_ids
    assert "highlighted in the graph: the leaves a, b" in "\n".join(view.lines)


def test_typing_shows_a_hint_and_applies_only_on_apply_or_enter() -> None:
    w = ChainRuleStepper("sin(x**2)", x=3.0)
    assert w.apply_button.disabled and w.expression_input.hint.value == ""
    w.next_button.click()
    w.next_button.click()
    w.expression_box.value = "cos(x)"  # typed, not applied yet
    assert "press Enter or Apply" in w.expression_input.hint.value
    assert "sin(x**2)" in w.expression_input.hint.value and not w.apply_button.disabled
    w.value_boxes["x"].value = 2.5  # a new value keeps the step and the expression shown
    assert (w.state.expression, w.state.index) == ("sin(x**2)", 2)
    assert "press Enter or Apply" in w.expression_input.hint.value
    w.expression_box._handle_string_msg(None, {"event": "submit"}, None)  # what Enter sends
    assert (w.state.expression, w.state.index) == ("cos(x)", 0)
    assert w.expression_input.hint.value == "" and w.apply_button.disabled
    assert w.state.values == {"x": 2.5}
    w.apply()  # the same again: says so instead of silently resetting
    assert "Already showing cos(x)" in w.message.value


def test_reset_says_what_it_resets_and_every_button_changes_something() -> None:
    w = ChainRuleStepper("sin(x**2)", x=3.0)
    assert "keeps the expression" in w.reset_button.tooltip
    assert w.reset_button.disabled and w.back_button.disabled  # nothing to undo at step 1
    clickable = [w.next_button, w.end_button, w.back_button, w.reset_button,
                 w.prediction.show_button, w.prediction.check_button]
    for b in clickable:
        if b.disabled:
            continue
        before = (w.output_html.value, w.message.value, w.prediction.prompt.value)
        b.click()
        after = (w.output_html.value, w.message.value, w.prediction.prompt.value)
        assert after != before, b.description
    w.next_button.click()
    w.reset_button.click()
    assert w.state.index == 0
    msg = w.message.value
    assert "Reset" in msg and "step 1" in msg and "sin(x**2)" in msg and "x = 3" in msg
    w.end_button.click()
    assert w.end_button.disabled and w.next_button.disabled
