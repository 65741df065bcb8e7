"""Network exercises (lesson 15): ``Layer.parameters()``, ``MLP.zero_grad()`` and a repaired
training loop, on the engine's ``Value`` and :mod:`autograd_lab.mlp`.

Each check builds small networks of the student's class from a fixed seed and compares with
the package's own ``autograd_lab.mlp`` classes, whose losses torch reproduces to 1e-9 in
lesson 15 (and in tests/test_mlp.py). A wrong training loop is compared with the two buggy
loops of the exercise, which names the mistake:

* ``.grad`` never cleared, so every step adds the gradients of all earlier steps:
  ``not_zeroed``
* ``p = Value(p.data - lr * p.grad)``, a new Value bound to the loop's name while the
  network keeps its old parameters: ``parameter_rebound``
"""

from __future__ import annotations

import random
from collections.abc import Callable

from autograd_lab import mlp
from autograd_lab.engine import Value
from autograd_lab.exercises.student_code import checks_function
from autograd_lab.verdict import Verdict, close, wrong

__all__ = ["check_layer_parameters", "check_mlp_zero_grad", "check_train_loop"]

LAYER_SHAPES = ((2, 3), (4, 1), (3, 5))
POINTS, LABELS = mlp.two_circles(n=12, seed=3)
HIDDEN = [4]
LR = 1.0
STEPS = 6


def _reference_losses(update: Callable[[mlp.MLP], None], zero: bool) -> list[float]:
    """Losses of STEPS steps on POINTS from MLP(2, HIDDEN, seed=0), with the given update."""
    model = mlp.MLP(2, HIDDEN, seed=0)
    losses = []
    for _ in range(STEPS):
        if zero:
            model.zero_grad()
        L = mlp.loss(model, POINTS, LABELS)
        L.backward()
        update(model)
        losses.append(L.data)
    return losses


def _in_place(model: mlp.MLP) -> None:
    for p in model.parameters():
        p.data -= LR * p.grad


def _rebound(model: mlp.MLP) -> None:
    for p in model.parameters():
        p = Value(p.data - LR * p.grad)  # noqa: PLW2901 - the slip the check recognises


@checks_function("Layer", "Layer should be a class like autograd_lab.mlp.Layer, with a "
                 "parameters(self) method")
def check_layer_parameters(layer_class: object) -> Verdict:
    """Check the student's ``Layer.parameters()``: every neuron's weights and bias, the very
    ``Value`` objects, in neuron order (weights before the bias), in one flat list."""
    for n_inputs, n_outputs in LAYER_SHAPES:
        layer = layer_class(n_inputs, n_outputs, random.Random(0))
        expected = [p for n in layer.neurons for p in [*n.w, n.b]]
        given = layer.parameters()
        if not isinstance(given, list):
            return wrong(f"parameters() should return a list, not {type(given).__name__}")
        if given and isinstance(given[0], list):
            return wrong("parameters() returned a list of lists, one per neuron: make it "
                         "one flat list, e.g. [p for n in self.neurons for p in n.parameters()]")
        if len(given) != len(expected):
            return wrong(f"a layer of {n_outputs} neurons with {n_inputs} inputs has "
                         f"{n_outputs} × ({n_inputs} + 1) = {len(expected)} parameters, but "
                         f"parameters() returned {len(given)}; include each bias")
        if not all(g is e for g, e in zip(given, expected, strict=True)):
            if all(isinstance(g, Value) and g.data == e.data
                   for g, e in zip(given, expected, strict=True)):
                return wrong("parameters() returned new Values with the same numbers: return "
                             "the neurons' own Values, or training will not change them")
            return wrong("parameters() should list each neuron's weights then its bias, "
                         "neuron by neuron, as Neuron.parameters() does")
    return Verdict(True, None, "Correct: every weight and bias of every neuron, the Values "
                   "themselves, in one list")


@checks_function("MLP", "MLP should be a class like autograd_lab.mlp.MLP, with a "
                 "zero_grad(self) method")
def check_mlp_zero_grad(mlp_class: object) -> Verdict:
    """Check the student's ``MLP.zero_grad()``: after a backward pass every parameter's
    ``.grad`` is 0.0 again and no ``.data`` changed."""
    model = mlp_class(2, [3, 2], seed=0)
    mlp.loss(model, POINTS, LABELS).backward()
    before = [p.data for p in model.parameters()]
    model.zero_grad()
    params = model.parameters()
    if any(p.grad is None for p in params):
        return wrong("set .grad to 0.0, not None: the engine's backward adds into .grad")
    if [p.data for p in params] != before:
        return wrong("zero_grad() changed the parameters' values (.data); clear only .grad")
    left = sum(p.grad != 0.0 for p in params)
    if left:
        return wrong(f"{left} of {len(params)} parameters still have a gradient after "
                     "zero_grad(): clear every layer's parameters", "not_zeroed")
    return Verdict(True, None, f"Correct: all {len(params)} gradients back to 0.0")


@checks_function("train", "train should be a function train(model, points, labels, lr, "
                 "steps) that returns the list of losses")
def check_train_loop(train: object) -> Verdict:
    """Check the student's repaired ``train(model, points, labels, lr, steps)``: its losses
    step by step against the reference gradient-descent loop."""
    model = mlp.MLP(2, HIDDEN, seed=0)
    given = train(model, POINTS, LABELS, LR, STEPS)
    if not isinstance(given, list) or len(given) != STEPS:
        return wrong(f"train should return a list of the {STEPS} losses, one per step "
                     "(append L.data each step)")
    given = [v.data if isinstance(v, Value) else v for v in given]
    expected = _reference_losses(_in_place, zero=True)
    if all(close(g, e, rtol=1e-9, atol=1e-12) for g, e in zip(given, expected, strict=True)):
        return Verdict(True, None, f"Correct: the loss falls from {expected[0]:.4f} to "
                       f"{expected[-1]:.4f} in {STEPS} steps")
    slips = (
        (_reference_losses(_in_place, zero=False), "not_zeroed",
         "each step adds the gradients of all earlier steps: clear them with "
         "model.zero_grad() before backward()"),
        (_reference_losses(_rebound, zero=True), "parameter_rebound",
         "the loss never changes: p = Value(…) makes a new Value the network does not hold; "
         "change the parameter itself, p.data -= lr * p.grad"),
    )
    for losses, code, hint in slips:
        if all(close(g, s, rtol=1e-9, atol=1e-12) for g, s in zip(given, losses, strict=True)):
            return wrong(hint, code)
    return wrong(f"the losses should be {expected[0]:.4f}, {expected[1]:.4f}, … but are "
                 f"{given[0]:.4f}, {given[1]:.4f}, …: zero_grad, loss, backward, then "
                 "p.data -= lr * p.grad for every parameter")
