"""autograd_lab.mlp (lesson 15) against torch's nn.Linear + SGD in float64, from the same
starting weights, and its pieces against independent computations."""

from __future__ import annotations

import math

import torch
from torch import nn

from autograd_lab import mlp
from autograd_lab.engine import Value
from tests.tiers import examples


def _torch_copy(model: mlp.MLP) -> nn.Sequential:
    """The same network in torch: Linear, Tanh, …, Linear, with the engine's weights."""
    layers: list[nn.Module] = []
    for index, (W, b) in enumerate(model.weights()):
        linear = nn.Linear(len(W[0]), len(W)).double()
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(W, dtype=torch.float64))
            linear.bias.copy_(torch.tensor(b, dtype=torch.float64))
        layers.append(linear)
        if index < len(model.layers) - 1:
            layers.append(nn.Tanh())
    return nn.Sequential(*layers)


def test_training_matches_torch_sgd_to_1e_9_for_20_steps() -> None:
    points, labels = mlp.two_circles(n=30, seed=1)
    model = mlp.MLP(2, [5, 3], seed=4)
    net = _torch_copy(model)
    optimizer = torch.optim.SGD(net.parameters(), lr=1.5)
    X = torch.tensor(points, dtype=torch.float64)
    Y = torch.tensor(labels, dtype=torch.float64)
    for _ in range(20):
        engine_loss = mlp.gd_step(model, points, labels, lr=1.5)
        optimizer.zero_grad()
        torch_loss = nn.functional.binary_cross_entropy_with_logits(net(X)[:, 0], Y)
        torch_loss.backward()
        optimizer.step()
        assert abs(engine_loss - torch_loss.item()) < 1e-9
    final = [p for W, b in model.weights() for p in [*sum(W, []), *b]]
    torch_final = [v for p in net.parameters() for v in p.detach().flatten().tolist()]
    assert max(abs(a - b) for a, b in zip(final, torch_final, strict=True)) < 1e-9


def test_loss_gradient_at_the_logit_is_sigmoid_minus_label() -> None:
    for z0, y in ((0.3, 1), (-2.0, 0), (40.0, 0), (-40.0, 1)):
        z = Value(z0)
        loss = z.softplus() - y * z
        loss.backward()
        assert math.isclose(z.grad, 1 / (1 + math.exp(-z0)) - y, rel_tol=1e-12, abs_tol=1e-15)
        t = torch.tensor([z0], dtype=torch.float64)
        expected = nn.functional.binary_cross_entropy_with_logits(t, torch.tensor([float(y)],
                                                                                  dtype=torch.float64))
        assert math.isclose(loss.data, expected.item(), rel_tol=1e-12)


def test_parameter_counts_and_shared_objects() -> None:
    model = mlp.MLP(2, [6], seed=0)
    assert len(model.parameters()) == 2 * 6 + 6 + 6 + 1
    layer = model.layers[0]
    assert layer.parameters()[0] is layer.neurons[0].w[0]
    assert layer.parameters()[2] is layer.neurons[0].b
    mlp.loss(model, *mlp.two_circles(n=8)).backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_two_circles_is_fixed_by_its_seed_and_not_linearly_trivial() -> None:
    a, b = mlp.two_circles(seed=0), mlp.two_circles(seed=0)
    assert a == b and a != mlp.two_circles(seed=1)
    points, labels = a
    radii = [math.hypot(*p) for p in points]
    inner = [r for r, y in zip(radii, labels, strict=True) if y == 1]
    outer = [r for r, y in zip(radii, labels, strict=True) if y == 0]
    assert sum(labels) == len(labels) // 2
    assert sum(inner) / len(inner) < 0.6 < 0.9 < sum(outer) / len(outer)


def test_lesson_run_reaches_95_percent() -> None:
    """Lesson 15's stored run: 60 points, MLP(2, [6]), lr 2.0, 120 steps.

    torch (float64, from the engine's starting weights) takes all 120 steps; the engine takes
    the first ``examples(120)`` of them beside it (all 120 in ``make test``, 12 in ``make
    check``, where the engine's 5 s run would be a fifth of the tier), its loss agreeing with
    torch's to 1e-9 at every step. Both reach 95 % where both ran to the end.
    """
    points, labels = mlp.two_circles()
    model = mlp.MLP(2, [6], seed=0)
    net = _torch_copy(model)
    optimizer = torch.optim.SGD(net.parameters(), lr=2.0)
    X = torch.tensor(points, dtype=torch.float64)
    Y = torch.tensor(labels, dtype=torch.float64)
    engine_steps = examples(120)
    for step in range(120):
        optimizer.zero_grad()
        torch_loss = nn.functional.binary_cross_entropy_with_logits(net(X)[:, 0], Y)
        torch_loss.backward()
        optimizer.step()
        if step < engine_steps:
            engine_loss = mlp.gd_step(model, points, labels, lr=2.0)
            assert abs(engine_loss - torch_loss.item()) < 1e-9, step
    with torch.no_grad():
        torch_right = ((net(X)[:, 0] > 0) == Y.bool()).double().mean().item()
    assert torch_right >= 0.95
    if engine_steps == 120:
        assert mlp.accuracy(model, points, labels) >= 0.95
