"""trace_backward: torch's real backward, node by node; grads restored; no hooks left."""

from __future__ import annotations

import math

import pytest
import torch

from autograd_lab import BackwardStep, autograd_graph, trace_backward


def test_exp_sin_square_at_3():
    x = torch.tensor(3.0, requires_grad=True)
    out = torch.exp(torch.sin(x**2))
    steps = trace_backward(out)
    assert all(isinstance(s, BackwardStep) for s in steps)
    assert [s.node for s in steps] == ["ExpBackward0", "SinBackward0", "PowBackward0",
                                       "AccumulateGrad"]
    assert [f"{s.grad_inputs[0].item():.4f}" for s in steps[:3]] == ["1.5100", "-1.3758",
                                                                     "-8.2549"]
    # each node receives what the one before it passed on; the first receives dout/dout = 1
    assert steps[0].grad_outputs[0].item() == 1.0
    for before, after in zip(steps, steps[1:], strict=False):
        assert torch.equal(after.grad_outputs[0], before.grad_inputs[0])
    acc = steps[-1]
    assert acc.leaf is x and acc.grad_inputs == ()
    assert steps[0].leaf is None
    # independent truth: d/dx exp(sin(x^2)) = exp(sin x^2) cos(x^2) 2x, in float64
    exact = math.exp(math.sin(9.0)) * math.cos(9.0) * 6.0
    assert acc.grad_outputs[0].item() == pytest.approx(exact, rel=1e-6)


def test_node_ids_match_autograd_graph():
    x = torch.tensor(3.0, requires_grad=True)
    out = torch.exp(torch.sin(x**2))
    graph = autograd_graph(out)
    labels = {n.id: n for n in graph.nodes}
    for step in trace_backward(out):
        node = labels[step.node_id]
        if step.node == "AccumulateGrad":
            assert node.kind == "leaf"
        else:
            assert node.kind == "op" and node.label == step.node


def test_grad_restored_and_no_hooks_left():
    x = torch.tensor(2.0, requires_grad=True)
    out = x**3
    trace_backward(out)
    assert x.grad is None  # tracing does not leave a gradient behind
    x.grad = torch.tensor(5.0)
    kept = x.grad
    trace_backward(out)
    assert x.grad is kept and x.grad.item() == 5.0
    # hooks were removed: a normal backward afterwards accumulates as usual, and a second
    # trace records exactly one step per node again
    out.backward(retain_graph=True)
    assert x.grad.item() == 5.0 + 12.0
    assert len(trace_backward(out)) == 2
    assert x.grad.item() == 17.0


def test_several_leaves_float64_against_autograd():
    w = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    x = torch.tensor(6.7, dtype=torch.float64)
    loss = -torch.log(1 - torch.sigmoid(w * x + b))
    steps = trace_backward(loss)
    received = {id(s.leaf): s.grad_outputs[0].item() for s in steps if s.node == "AccumulateGrad"}
    dw, db = torch.autograd.grad(loss, (w, b), retain_graph=True)
    assert received[id(w)] == pytest.approx(dw.item(), rel=1e-12)
    assert received[id(b)] == pytest.approx(db.item(), rel=1e-12)
    assert w.grad is None and b.grad is None


def test_reused_leaf_gets_the_sum():
    x = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    out = x * x + torch.sin(x)
    steps = trace_backward(out)
    acc = [s for s in steps if s.node == "AccumulateGrad"]
    assert len(acc) == 1  # one AccumulateGrad per leaf, run once with the summed gradient
    assert acc[0].grad_outputs[0].item() == pytest.approx(2 * 2.0 + math.cos(2.0), rel=1e-12)
    mul = next(s for s in steps if s.node == "MulBackward0")
    assert [g.item() for g in mul.grad_inputs] == [2.0, 2.0]


def test_vector_output_with_gradient():
    v = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    out = v**2
    steps = trace_backward(out, gradient=[1.0, 0.5, 0.0])
    acc = steps[-1]
    assert acc.node == "AccumulateGrad"
    assert acc.grad_outputs[0].tolist() == [2.0, 2.0, 0.0]  # 2 v * gradient
    with pytest.raises(ValueError, match="gradient="):
        trace_backward(out)
    with pytest.raises(ValueError, match="shape"):
        trace_backward(out, gradient=[1.0, 1.0])


def test_retain_graph_false_frees_the_graph():
    x = torch.tensor(3.0, requires_grad=True)
    out = torch.sin(x**2)
    trace_backward(out, retain_graph=False)
    with pytest.raises(RuntimeError):
        out.backward()


def test_errors():
    with pytest.raises(ValueError, match="requires_grad=True"):
        trace_backward(torch.tensor(3.0) ** 2)
    with pytest.raises(TypeError, match="tensor"):
        trace_backward(3.0)  # type: ignore[arg-type]


def test_grad_restored_even_when_backward_fails():
    x = torch.tensor(3.0, requires_grad=True)
    out = torch.sin(x**2)
    out.backward()  # frees the graph; x.grad is now set
    before = x.grad.clone()
    with pytest.raises(RuntimeError):
        trace_backward(out)
    assert torch.equal(x.grad, before)


def test_freed_graph_message():
    x = torch.tensor(3.0, requires_grad=True)
    out = torch.sin(x)
    out.backward()
    with pytest.raises(RuntimeError, match="already freed"):
        trace_backward(out)


def test_leaf_output():
    x = torch.tensor(2.0, requires_grad=True)
    steps = trace_backward(x)
    assert [(s.node, s.node_id) for s in steps] == [("AccumulateGrad", 0)]
    assert steps[0].grad_outputs[0].item() == 1.0 and x.grad is None


def test_str_is_one_readable_line():
    x = torch.tensor(3.0, requires_grad=True)
    steps = trace_backward(torch.exp(torch.sin(x**2)))
    assert str(steps[1]) == "SinBackward0 [node 2]: received (1.5100,) -> passed on (-1.3758,)"
    assert str(steps[-1]) == "AccumulateGrad [node 0]: adds (-8.2549,) into the leaf's .grad"


def test_retained_non_leaf_grad_left_as_found():
    x = torch.tensor(2.0, requires_grad=True)
    y = x * 3
    y.retain_grad()
    z = y**2
    trace_backward(z)
    assert y.grad is None and x.grad is None
    z.backward(retain_graph=True)
    assert y.grad.item() == 2 * 6.0  # dz/dy = 2y, once: not 24
    kept = y.grad
    trace_backward(z)
    assert y.grad is kept and y.grad.item() == 12.0
    z.retain_grad()  # the output itself, retained
    trace_backward(z)
    assert z.grad is None


def test_retained_non_leaf_dropped_by_the_user_but_saved_by_a_node():
    x = torch.tensor(2.0, requires_grad=True)
    y = x * 3
    y.retain_grad()
    z = y**2  # PowBackward0 saves y
    del y
    trace_backward(z)
    assert z.grad_fn._saved_self.grad is None


def test_meta_and_complex_outputs_get_one_sentence():
    meta = torch.tensor(2.0, device="meta", requires_grad=True)
    with pytest.raises(ValueError, match="output is a meta tensor"):
        trace_backward(meta * 2)
    z = torch.tensor(1 + 2j, requires_grad=True)
    with pytest.raises(TypeError, match=r"output is complex \(torch.complex64\)"):
        trace_backward(z * 2)
    with pytest.raises(TypeError, match="a leaf of this graph is complex"):
        trace_backward((z * 2).abs())
    assert z.grad is None


def test_too_large_graph_refused_before_running():
    from autograd_lab.graph import NODE_CAP, GraphTooLarge

    x = torch.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(NODE_CAP):
        y = y * 1.0
    with pytest.raises(GraphTooLarge, match=f"this graph has more than {NODE_CAP:,} nodes; "):
        trace_backward(y)
    assert x.grad is None
