"""A small neural network on lesson 14's ``Value`` (lesson 15): ``Neuron``, ``Layer``, ``MLP``,
the two-circles data set, the loss and one gradient-descent step.

A neuron with weights ``w`` and bias ``b`` computes ``act(w · x + b)``; a layer is a list of
neurons that read the same input; an MLP is a list of layers, each reading the previous one's
output. The last layer has no activation: it outputs a *logit* ``z``, and the model's
probability of class 1 is ``σ(z)``.

The loss is binary cross-entropy on the logit, averaged over the ``N`` points:

    ℓ(z, y) = -[y log σ(z) + (1 - y) log(1 - σ(z))] = softplus(z) - y·z

and its gradient is the one line lesson 15 derives, ``dℓ/dz = σ(z) - y``.
A gradient-descent step is ``p.data -= lr · p.grad`` for every parameter ``p`` after a
``zero_grad()`` and a ``backward()``.
"""

from __future__ import annotations

import gc
import math
import random
from collections.abc import Sequence

from autograd_lab.engine import Value

__all__ = ["Neuron", "Layer", "MLP", "two_circles", "loss", "accuracy", "gd_step"]


class Neuron:
    """``act(w · x + b)`` with ``len(w) = n_inputs``; ``act`` is ``"tanh"`` or ``"linear"``.

    Weights start uniform in ``[-1, 1]/√n_inputs`` from ``rng`` and the bias at 0.
    """

    def __init__(self, n_inputs: int, rng: random.Random, activation: str = "tanh") -> None:
        if activation not in ("tanh", "linear"):
            raise ValueError(f"activation must be 'tanh' or 'linear', not {activation!r}.")
        scale = 1.0 / math.sqrt(n_inputs)
        self.w = [Value(rng.uniform(-scale, scale)) for _ in range(n_inputs)]
        self.b = Value(0.0)
        self.activation = activation

    def __call__(self, x: Sequence[Value | float]) -> Value:
        z = self.b
        for wi, xi in zip(self.w, x, strict=True):
            z = z + wi * xi
        return z.tanh() if self.activation == "tanh" else z

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0


class Layer:
    """``n_outputs`` neurons reading the same ``n_inputs`` numbers."""

    def __init__(self, n_inputs: int, n_outputs: int, rng: random.Random,
                 activation: str = "tanh") -> None:
        self.neurons = [Neuron(n_inputs, rng, activation) for _ in range(n_outputs)]

    def __call__(self, x: Sequence[Value | float]) -> list[Value]:
        return [n(x) for n in self.neurons]

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0


class MLP:
    """Layers of sizes ``n_inputs → hidden[0] → … → 1``: tanh in the hidden layers, a logit out.

    ``MLP(2, [6], seed=0)`` has 2·6+6 + 6+1 = 25 parameters.
    """

    def __init__(self, n_inputs: int, hidden: Sequence[int], seed: int = 0) -> None:
        rng = random.Random(seed)
        sizes = [n_inputs, *hidden, 1]
        self.layers = [
            Layer(sizes[i], sizes[i + 1], rng,
                  "tanh" if i < len(sizes) - 2 else "linear")
            for i in range(len(sizes) - 1)
        ]

    def __call__(self, x: Sequence[Value | float]) -> Value:
        out: Sequence[Value | float] = x
        for layer in self.layers:
            out = layer(out)
        return out[0]

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0

    def weights(self) -> list[tuple[list[list[float]], list[float]]]:
        """Each layer's ``(W, b)`` as plain floats, ``W[j][i]`` = neuron j's weight on input i
        (the layout of ``torch.nn.Linear.weight``)."""
        return [([[w.data for w in n.w] for n in layer.neurons],
                 [n.b.data for n in layer.neurons]) for layer in self.layers]


def two_circles(n: int = 60, noise: float = 0.1, seed: int = 0
                ) -> tuple[list[tuple[float, float]], list[int]]:
    """``n`` points, alternately on a circle of radius 1 (class 0) and one of radius 0.5
    (class 1), at uniform random angles, with Gaussian noise of standard deviation ``noise``
    added to each coordinate. No straight line separates the classes."""
    rng = random.Random(seed)
    points: list[tuple[float, float]] = []
    labels: list[int] = []
    for i in range(n):
        label = i % 2
        angle = 2.0 * math.pi * rng.random()
        radius = 0.5 if label else 1.0
        points.append((radius * math.cos(angle) + rng.gauss(0.0, noise),
                       radius * math.sin(angle) + rng.gauss(0.0, noise)))
        labels.append(label)
    return points, labels


def loss(model: MLP, points: Sequence[Sequence[float]], labels: Sequence[int]) -> Value:
    """Mean binary cross-entropy on the logits: ``(1/N) Σ softplus(zᵢ) - yᵢ·zᵢ``."""
    total = Value(0.0)
    for x, y in zip(points, labels, strict=True):
        z = model(x)
        total = total + z.softplus() - y * z
    return total / len(points)


def accuracy(model: MLP, points: Sequence[Sequence[float]], labels: Sequence[int]) -> float:
    """The share of points whose logit has the sign of their class (z > 0 means class 1)."""
    right = sum((model(x).data > 0) == bool(y) for x, y in zip(points, labels, strict=True))
    return right / len(points)


def gd_step(model: MLP, points: Sequence[Sequence[float]], labels: Sequence[int],
            lr: float) -> float:
    """One full-batch gradient-descent step; returns the loss *before* the step.

    The step's graph (thousands of ``Value`` nodes) is freed as soon as the step ends
    (``Value.free_graph``), and Python's garbage collector is paused while it is built: it
    would find nothing to free, yet in a kernel with torch loaded a full pass takes about
    100 ms, and the nodes a step makes would start one every few steps.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        model.zero_grad()
        L = loss(model, points, labels)
        L.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
        L.free_graph()
        return L.data
    finally:
        if collecting:
            gc.enable()
