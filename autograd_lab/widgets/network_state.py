"""The plain-Python state of NetworkTrainer: lesson 15's MLP trained step by step.

The network is :class:`autograd_lab.mlp.MLP` ``(2, [width])`` on
:func:`autograd_lab.mlp.two_circles`; a step is :func:`autograd_lab.mlp.gd_step`,
``p ← p − lr · dL/dp`` for every parameter after ``zero_grad()`` and ``backward()``. Before a
step the learner may predict whether the loss goes down and whether any point changes
class; the step reveals both (:meth:`NetworkSession.step` returns the verdicts).

Step runs the engine. Run gets the same numbers, bit for bit, from :func:`forward` and
:func:`backward_step`: the engine's arithmetic for this network written out in plain floats,
in the engine's order, without building a graph (what made Run cost 0.6 s for 20 steps).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from autograd_lab import mlp

#: Choices the widget offers.
LR_CHOICES = (0.1, 0.3, 1.0, 2.0, 5.0, 20.0)
WIDTH_MIN, WIDTH_MAX = 1, 8


@dataclass(frozen=True)
class StepResult:
    """One step: the loss before and after, and the points whose class flipped."""

    step: int
    loss_before: float
    loss_after: float
    flipped: tuple[int, ...]

    def __str__(self) -> str:
        flips = (f"{len(self.flipped)} point(s) changed class" if self.flipped
                 else "no point changed class")
        return (f"Step {self.step}: loss {self.loss_before:.4f} → {self.loss_after:.4f}; "
                f"{flips}")


class NetworkSession:
    """Where training stands: the model, the loss per step, the last step's flips.

    ``step()`` trains one step, ``run(n)`` n more, ``reset()`` starts again from the seeded
    weights; ``set_lr`` and ``set_width`` start again too (a new network for a new width).
    """

    def __init__(self, width: int = 4, lr: float = 2.0, n_points: int = 40,
                 seed: int = 0) -> None:
        self.points, self.labels = mlp.two_circles(n=n_points, seed=seed)
        self.seed = seed
        self.width = _width(width)
        self.lr = _lr(lr)
        self.reset()

    def reset(self) -> None:
        self.model = mlp.MLP(2, [self.width], seed=self.seed)
        self._known: list[float] | None = None  # every point's logit, until the next step
        self.results: list[StepResult] = []
        self.losses: list[float] = [self.current_loss()]
        self.stopped = ""

    def set_lr(self, lr: float) -> None:
        self.lr = _lr(lr)
        self.reset()

    def set_width(self, width: int) -> None:
        self.width = _width(width)
        self.reset()

    @property
    def steps(self) -> int:
        return len(self.results)

    def logits(self) -> list[float]:
        """Every point's logit, in plain floats (no graph is built); computed once per state
        of the weights (a step or a reset changes them)."""
        if self._known is None:
            self._known = self.logits_at(self.points)
        return self._known

    def current_loss(self) -> float:
        """:func:`autograd_lab.mlp.loss` in plain floats: (1/N) Σ softplus(zᵢ) − yᵢ·zᵢ."""
        total = 0.0
        for z, y in zip(self.logits(), self.labels, strict=True):
            total += max(z, 0.0) + math.log1p(math.exp(-abs(z))) - y * z
        return total / len(self.points)

    def classes(self) -> list[int]:
        """Each point's predicted class now (1 where the logit is above 0)."""
        return [int(z > 0) for z in self.logits()]

    def accuracy(self) -> float:
        return sum(c == y for c, y in zip(self.classes(), self.labels, strict=True)) / len(
            self.labels)

    def step(self) -> StepResult | None:
        """One gradient-descent step on the engine, :func:`autograd_lab.mlp.gd_step` (None
        once the loss stopped being finite)."""
        if self.stopped:
            return None
        before_classes = self.classes()
        before = mlp.gd_step(self.model, self.points, self.labels, self.lr)
        self._known = None  # new weights
        return self._record(before, before_classes)

    def run(self, steps: int) -> list[StepResult]:
        """``steps`` more steps (fewer once the loss stops being finite): the same steps as
        :meth:`step` called ``steps`` times, bit for bit, without building a graph.

        :func:`forward` and :func:`backward_step` repeat the engine's arithmetic for this
        network in plain floats, operation for operation and in the engine's order (a graph
        of ~1,600 ``Value`` nodes a step costs milliseconds; the floats alone, a tenth of
        that). One forward pass serves twice: the logits after a step (flips, loss after) are
        the next step's forward pass. The weights and their ``.grad`` end as the engine
        leaves them; ``tests/test_widgets_network.py`` checks every number against
        :meth:`step`.
        """
        if self.stopped or int(steps) <= 0:
            return []
        layers = [([list(row) for row in W], list(b)) for W, b in self.model.weights()]
        out, grads = [], None
        seen = forward(layers, self.points)
        for _ in range(int(steps)):
            before_classes = self.classes()
            before, grads = backward_step(layers, self.points, seen, self.labels, self.lr)
            seen = forward(layers, self.points)
            self._known = [z for _, z in seen]
            out.append(self._record(before, before_classes))
            if self.stopped:
                break
        for layer, (W, b), (gW, gb) in zip(self.model.layers, layers, grads, strict=True):
            for neuron, row, bias, grow, gbias in zip(layer.neurons, W, b, gW, gb, strict=True):
                for p, value, grad in zip(neuron.w, row, grow, strict=True):
                    p.data, p.grad = value, grad
                neuron.b.data, neuron.b.grad = bias, gbias
        return out

    def _record(self, before: float, before_classes: list[int]) -> StepResult:
        """The step just taken (the weights are new): its loss after, the flips, the note
        when the loss is no longer finite."""
        after = self.current_loss()
        flipped = tuple(i for i, (a, b) in enumerate(zip(before_classes, self.classes(),
                                                         strict=True)) if a != b)
        result = StepResult(self.steps + 1, before, after, flipped)
        self.results.append(result)
        self.losses.append(after)
        if not math.isfinite(after):
            self.stopped = (f"The loss is no longer finite at step {result.step}: "
                            f"lr={self.lr:g} diverges. Press Reset.")
        return result

    def logit(self, x1: float, x2: float) -> float:
        """The network's logit at one point, from its weights as plain floats (no graph)."""
        return self.logits_at([(x1, x2)])[0]

    def logits_at(self, points: Sequence[Sequence[float]]) -> list[float]:
        """The logit at each of ``points`` from the model's weights, read once:
        :func:`forward`, the engine's own arithmetic (``model(x).data``, bit for bit)."""
        return [z for _, z in forward(self.model.weights(), points)]

    def status(self) -> str:
        return (f"step {self.steps}, loss={self.losses[-1]:.4f}, training accuracy "
                f"{self.accuracy():.0%} (width {self.width}, lr={self.lr:g})")


Layers = list[tuple[list[list[float]], list[float]]]


def forward(layers: Layers, points: Sequence[Sequence[float]],
            ) -> list[tuple[list[float], float]]:
    """Each point's hidden activations and logit, as the engine's ``MLP(n, [width])``
    computes them: ``z_j = (b_j + W_j0·x0) + W_j1·x1``, ``h_j = tanh(z_j)``,
    ``z = ((c + V_0·h_0) + V_1·h_1) + …`` (``layers`` = ``[(W, b), (V, c)]`` as
    :meth:`autograd_lab.mlp.MLP.weights` gives them)."""
    (W, b), (V_rows, c) = layers
    hidden, out_weights, out_bias = list(zip(W, b, strict=True)), V_rows[0], c[0]
    tanh, out = math.tanh, []
    for x in points:
        x = [float(xi) for xi in x]
        h = []
        for row, bias in hidden:
            z = bias
            for w, xi in zip(row, x, strict=True):
                z = z + w * xi
            h.append(tanh(z))
        z = out_bias
        for v, hj in zip(out_weights, h, strict=True):
            z = z + v * hj
        out.append((h, z))
    return out


def backward_step(layers: Layers, points: Sequence[Sequence[float]],
                  seen: list[tuple[list[float], float]], labels: Sequence[int],
                  lr: float) -> tuple[float, Layers]:
    """The rest of :func:`autograd_lab.mlp.gd_step` after :func:`forward`, in plain floats,
    bit for bit: the loss, the gradients and ``p ← p − lr·dL/dp`` (``layers`` updated in
    place). Returns the loss before the step and the gradients, laid out as ``layers``.

    The loss is the engine's running total ``(total + softplus(z)) − y·z``, then
    ``L = total / N``. Each node gets what the engine's ``_backward`` closures give it:
    ``dL/dz = σ(z)·(1/N) + y·(−1/N)``, ``dL/dc = dL/dz``, ``dL/dV_j = h_j·dL/dz``,
    ``dL/dz_j = (1 − h_j²)·(V_j·dL/dz)``, ``dL/db_j = dL/dz_j``, ``dL/dW_ji = x_i·dL/dz_j``;
    a parameter adds the points' shares in the order the engine's reverse topological walk
    reaches them (point 1 first), which fixes the rounding.
    """
    (W, b), (V_rows, c) = layers
    V, width = V_rows[0], len(b)
    total = 0.0
    for (_, z), y in zip(seen, labels, strict=True):
        total = (total + (max(z, 0.0) + math.log1p(math.exp(-abs(z))))) - float(y) * z
    loss = total / float(len(seen))
    g = 1.0 / float(len(seen))
    gW = [[0.0] * len(row) for row in W]
    gb, gV, gc = [0.0] * width, [0.0] * width, 0.0
    for x, (h, z), y in zip(points, seen, labels, strict=True):
        s = 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))
        dz = s * g + float(y) * (0.0 - g)
        gc += dz
        for j in range(width):
            gV[j] += h[j] * dz
            dzj = (1.0 - h[j] * h[j]) * (V[j] * dz)
            gb[j] += dzj
            for i, xi in enumerate(x):
                gW[j][i] += float(xi) * dzj
    for j in range(width):
        for i in range(len(W[j])):
            W[j][i] -= lr * gW[j][i]
        b[j] -= lr * gb[j]
        V[j] -= lr * gV[j]
    c[0] -= lr * gc
    return loss, [(gW, gb), ([gV], [gc])]


def check_prediction(result: StepResult, loss_down: bool | None,
                     any_flip: bool | None) -> list[str]:
    """One line per prediction made: right or wrong, and what happened."""
    lines = []
    if loss_down is not None:
        went_down = result.loss_after < result.loss_before
        said = "go down" if loss_down else "not go down"
        verdict = "right" if loss_down == went_down else "not this time"
        lines.append(f"You predicted the loss would {said}: {verdict} "
                     f"({result.loss_before:.4f} → {result.loss_after:.4f}).")
    if any_flip is not None:
        flipped = bool(result.flipped)
        said = "some points would change class" if any_flip else "no point would change class"
        verdict = "right" if any_flip == flipped else "not this time"
        lines.append(f"You predicted {said}: {verdict} ({len(result.flipped)} changed).")
    return lines


def _lr(lr: float) -> float:
    lr = float(lr)
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr={lr:g} is not a learning rate; choose a number above 0.")
    return lr


def _width(width: int) -> int:
    if not (isinstance(width, int) and WIDTH_MIN <= width <= WIDTH_MAX):
        raise ValueError(f"width={width!r} is out of range; choose a whole number from "
                         f"{WIDTH_MIN} to {WIDTH_MAX}.")
    return width
