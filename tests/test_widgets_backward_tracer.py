"""BackwardTracer: torch's real backward pass stepped node by node, without a browser.

Expected gradients are computed here from the chain rule in float64 / torch autograd.
"""

from __future__ import annotations

import math

import pytest
import torch

pytest.importorskip("ipywidgets")

from autograd_lab.widgets import BackwardSteps, BackwardTracer  # noqa: E402
from autograd_lab.widgets.figures import PNG_MAGIC  # noqa: E402


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
    assert [t.splitlines()[0].split(": ")[-1] for t in texts[:-1]] == [
        "ExpBackward0", "SinBackward0", "PowBackward0", "AccumulateGrad"]
    assert f"grad_inputs (out, upstream × local) = ({g_exp:.4f},)" in texts[0]
    assert f"grad_outputs (in, upstream) = ({g_exp:.4f},)" in texts[1]
    assert f"= ({g_sin:.4f},)" in texts[1] and f"= ({g_pow:.4f},)" in texts[2]
    assert f"x.grad = {g_pow:.4f}" in texts[3]
    assert f"x.grad = {g_pow:.4f}" in texts[4] and "✓ equals the hand derivation" in texts[4]
    assert w.graph_image.value[:8] == PNG_MAGIC
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
    assert len(set(seen)) == len(seen)
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
        assert "agl-error" in w.message.value
        assert w.state is before
    w.expression_box.value = "x*y + y"
    assert w.message.value == ""
    w.end_button.click()
    # x keeps its value 3.0, the new variable y gets the default 2.0
    assert "x.grad = 2.0000" in w.text and "y.grad = 4.0000" in w.text


def test_display_bundle() -> None:
    w = BackwardTracer("exp(sin(x**2))", x=3.0)
    assert w._repr_mimebundle_()["text/plain"] == (
        "BackwardTracer(exp(sin(x**2)), x=3.0) — run in Jupyter to interact"
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
