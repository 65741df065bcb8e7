"""BackwardTracer: torch's real backward pass stepped node by node, without a browser.

Expected gradients are computed here from the chain rule in float64 / torch autograd.
"""

from __future__ import annotations

import html
import math

import pytest
import torch

pytest.importorskip("ipywidgets")

from autograd_lab.widgets import BackwardSteps, BackwardTracer  # noqa: E402


def walk(w: BackwardTracer) -> list[str]:
    texts = [w.text]
    while not w.next_button.disabled:
        w.next_button.click()
        texts.append(w.text)
        assert len(texts) < 100
    return texts


def test_exp_sin_x_squared_visits_the_real_nodes_with_their_gradients() -> None:
    w = BackwardTracer("exp(sin(x**2))", x=3.0)
    x = 3.0
    g_exp = math.exp(math.sin(x * x))  # dz/dv2 = exp(v2)
    g_sin = g_exp * math.cos(x * x)  # dz/dv1 = dz/dv2 · cos(v1)
    g_pow = g_sin * 2 * x  # dz/dx = dz/dv1 · 2x
    assert [f"{g:.4f}" for g in (g_exp, g_sin, g_pow)] == ["1.5100", "-1.3758", "-8.2549"]
    texts = walk(w)
    assert len(texts) == 2 * 4 + 1  # two half-steps per node, then the result
    titles = [t.splitlines()[0].split(": ")[-1] for t in texts[:-1]]
    assert [t.split(",")[0] for t in titles[::2]] == [
        "ExpBackward0", "SinBackward0", "PowBackward0", "AccumulateGrad"]
    assert all(t.endswith("what it receives") for t in titles[::2])
    assert titles[1].endswith("what it passes on")
    assert "grad_inputs (out, upstream × local) = ?" in texts[0]  # not revealed yet
    assert f"grad_inputs (out, upstream × local) = ({g_exp:.4f},)" in texts[1]
    assert f"grad_outputs (in, upstream) = ({g_exp:.4f},)" in texts[2]
    assert f"= ({g_sin:.4f},)" in texts[3] and f"= ({g_pow:.4f},)" in texts[5]
    assert f"x.grad = {g_pow:.4f}" not in texts[6] and "x.grad = ?" in texts[6]
    assert f"x.grad = {g_pow:.4f}" in texts[7]
    assert f"x.grad = {g_pow:.4f}" in texts[8] and "✓ equals the hand derivation" in texts[8]
    assert w.graph_image.value.startswith("<svg")
    # the hand derivation is shown beside it
    assert "dz/dv1 = dz/dv2 · cos(v1)" in w.hand_html.value
    assert w.state.output.dtype == torch.float64


def test_highlight_follows_the_node_ids_of_autograd_graph() -> None:
    from autograd_lab import autograd_graph

    w = BackwardTracer("sin(x**2)", x=3.0)
    ids = {n.id: n.label for n in autograd_graph(w.state.output).nodes}
    seen = []
    for _ in range(w.state.total - 1):
        view = w.state.current_view()
        (node_id,) = view.highlight
        seen.append(node_id)
        assert node_id in ids
        w.next_button.click()
    assert seen[::2] == seen[1::2]  # both half-steps of a node highlight it
    assert len(set(seen)) == len(seen) // 2
    w.back_button.click()
    w.reset_button.click()
    assert w.state.index == 0


def test_tensor_with_two_leaves_and_vector_gradient() -> None:
    """A setting no other test uses: a vector output traced with gradient=ones."""
    a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = torch.tensor(0.5, requires_grad=True)
    out = a**3 * b
    w = BackwardTracer(out, gradient=torch.ones(3), a=a, b=b)
    w.end_button.click()
    ref_a, ref_b = torch.autograd.grad(out, [a, b], torch.ones(3), retain_graph=True)
    text = w.text
    expected_a = "[" + ", ".join(f"{v:.4f}" for v in ref_a.tolist()) + "]"
    assert f"a.grad = {expected_a}" in text
    assert f"b.grad = {float(ref_b):.4f}" in text
    assert a.grad is None and b.grad is None  # the trace leaves .grad as it was
    assert w.expression_box.layout.display == "none"
    assert "BackwardTracer(<tensor" in repr(w)


def test_existing_grad_is_added_to() -> None:
    x = torch.tensor(2.0, requires_grad=True)
    x.grad = torch.tensor(10.0)
    s = BackwardSteps(x * x, {"x": x})
    s.go_to_end()
    assert "x.grad = 14.0000" in "\n".join(s.current_view().lines)  # 10 + 2·2
    assert float(x.grad) == 10.0


def test_vector_output_without_gradient_is_a_message_in_expression_free_mode() -> None:
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError):
        BackwardSteps(x * 2)


def test_bad_expression_keeps_the_last_good_one() -> None:
    w = BackwardTracer("sin(x**2)", x=3.0)
    before = w.state
    for bad in ("sin(x", "import os", "x.__class__", ""):
        w.expression_box.value = bad
        w.apply_button.click()
        assert "agl-error" in w.message.value
        assert w.state is before
    w.expression_box.value = "x*y + y"
    w.apply_button.click()
    assert w.message.value == ""
    w.end_button.click()
    # x keeps its value 3.0, the new variable y gets the default 2.0
    assert "x.grad = 2.0000" in w.text and "y.grad = 4.0000" in w.text


def test_display_bundle() -> None:
    w = BackwardTracer("exp(sin(x**2))", x=3.0)
    assert w._repr_mimebundle_()["text/plain"] == (
        "BackwardTracer(exp(sin(x**2)), x=3.0) — run this cell to interact"
        " (re-run it after a kernel restart)"
    )
    assert "agl-backward-tracer" in w.root._dom_classes


@pytest.mark.parametrize("bad", [3.0, "tensor without grad", "vector without gradient"])
def test_bad_constructor_argument_is_a_message_not_a_traceback(bad: object) -> None:
    if bad == "tensor without grad":
        bad = torch.tensor(2.0) * 3
    elif bad == "vector without gradient":
        bad = torch.ones(3, requires_grad=True) * 2
    w = BackwardTracer(bad)
    assert "Showing sin(x**2) instead." in w.message.value
    assert w.expression_box.layout.display == "" and w.state.expression == "sin(x**2)"


# -- predict, then reveal (issue 14) ----------------------------------------------------------
def exp_sin_reveals(x0: float) -> tuple[list[float], float]:
    """Each node's first grad_inputs entry and x.grad, from torch autograd (float64)."""
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    v1 = x**2
    v2 = torch.sin(v1)
    z = torch.exp(v2)
    g_v2, g_v1, g_x = torch.autograd.grad(z, [v2, v1, x])
    return [float(g_v2), float(g_v1), float(g_x)], float(g_x)


def test_predict_each_nodes_grad_inputs_then_the_leafs_grad() -> None:
    w = BackwardTracer("exp(sin(x**2))", x=3.0)
    passes_on, x_grad = exp_sin_reveals(3.0)
    assert f"{passes_on[0]:.4f}" == "1.5100" and f"{x_grad:.4f}" == "-8.2549"  # the brief's
    labels = ["ExpBackward0's grad_inputs[0]", "SinBackward0's grad_inputs[0]",
              "PowBackward0's grad_inputs[0]", "x.grad afterwards"]
    for node, (label, truth) in enumerate(zip(labels, [*passes_on, x_grad], strict=True)):
        assert w.state.index == 2 * node  # what the node receives
        assert w.state.pending() == (label, pytest.approx(truth, rel=1e-12))
        assert f"Predict {label}" in html.unescape(w.prediction.prompt.value)
        wrong = w.predict(truth * 1.01)
        assert not wrong.ok and w.state.index == 2 * node and "Not quite" in wrong.message
        assert not w.predict("").ok and not w.predict("x.grad").ok  # never raises
        assert w.state.index == 2 * node
        right = w.predict(f"{truth:.4f}")
        assert right.ok and f"{truth:.6f}" in right.message
        assert w.state.index == 2 * node + 1 and f"{truth:.4f}" in w.output_html.value
        assert w.state.pending() is None and "Next ▶" in w.prediction.prompt.value
        w.next_button.click()
    assert w.state.current_view().kind == "result"


def test_hand_derivation_grows_beside_the_node_being_visited() -> None:
    w = BackwardTracer("exp(sin(x**2))", x=3.0)
    passes_on, x_grad = exp_sin_reveals(3.0)
    hand = html.unescape(w.hand_html.value)
    assert "v1 = x**2 = 9.0000" in hand  # the forward pass is there from the start
    assert "→" not in hand and "dz/dx" not in hand  # no gradient before the learner acts
    for value in (*passes_on[1:], x_grad):  # (dz/dv2 = exp(v2) is z itself, 1.5100)
        assert f"{value:.4f}" not in hand, value
    counts = []
    for _ in range(w.state.total - 1):
        hand = html.unescape(w.hand_html.value)
        counts.append(hand.count("  →  ") + hand.count("dz/dx = -"))
        w.next_button.click()
    assert counts == sorted(counts) and counts[0] == 0 and counts[-1] == 4
    w.reset_button.click()
    w.next_button.click()  # ExpBackward0 has passed on: its hand line, marked
    hand = html.unescape(w.hand_html.value)
    assert f"dz/dv2 = exp(v2)  →  {passes_on[0]:.4f}   ◀" in hand
    assert f"{passes_on[1]:.4f}" not in hand


def test_tracer_reset_says_what_it_keeps_and_enter_applies() -> None:
    w = BackwardTracer("exp(sin(x**2))", x=3.0)
    w.next_button.click()
    w.reset_button.click()
    msg = html.unescape(w.message.value)
    assert "Reset" in msg and "step 1" in msg and "exp(sin(x**2))" in msg and "x = 3" in msg
    w.expression_box.value = "x**3"
    assert "press Enter or Apply" in w.expression_input.hint.value
    assert w.state.expression == "exp(sin(x**2))"
    w.expression_box._handle_string_msg(None, {"event": "submit"}, None)  # what Enter sends
    assert w.state.expression == "x**3" and w.expression_input.hint.value == ""
    x = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    (x**3).backward()
    assert w.state.pending()[1] == pytest.approx(float(x.grad), rel=1e-12)


def test_hand_lines_wait_for_the_result_when_torch_splits_an_operation() -> None:
    """torch computes 1/x as two nodes (reciprocal, then a product): no one-to-one match with
    the hand derivation, so its backward lines are shown at the result, never beside a wrong
    node."""
    s = BackwardSteps.from_expression("2*x + x**2 - 1/x", {"x": 2.0})
    x = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    (2 * x + x**2 - 1 / x).backward()
    for _ in range(s.total - 1):
        assert "→" not in "\n".join(s.hand_lines())
        s.next()
    hand = "\n".join(s.hand_lines())
    assert hand.count("→") == sum(1 for st in s.derivation.steps if st.kind == "backward")
    assert f"dz/dx = {float(x.grad):.4f}" in hand
