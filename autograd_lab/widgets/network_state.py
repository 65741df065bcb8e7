"""The plain-Python state of NetworkTrainer: lesson 15's MLP trained step by step.

The network is :class:`autograd_lab.mlp.MLP` ``(2, [width])`` on
:func:`autograd_lab.mlp.two_circles`; a step is :func:`autograd_lab.mlp.gd_step`,
``p ← p − lr · dL/dp`` for every parameter after ``zero_grad()`` and ``backward()``. Before a
step the learner may predict whether the loss goes down and whether any point changes
class; the step reveals both (:meth:`NetworkSession.step` returns the verdicts).
"""

from __future__ import annotations

import math
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
        self.losses: list[float] = [self.current_loss()]
        self.results: list[StepResult] = []
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
        """Every point's logit, in plain floats (no graph is built)."""
        return [self.logit(*x) for x in self.points]

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
        """One gradient-descent step (None once the loss stopped being finite)."""
        if self.stopped:
            return None
        before_classes = self.classes()
        before = mlp.gd_step(self.model, self.points, self.labels, self.lr)
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

    def run(self, steps: int) -> list[StepResult]:
        out = []
        for _ in range(max(0, int(steps))):
            result = self.step()
            if result is None:
                break
            out.append(result)
        return out

    def logit(self, x1: float, x2: float) -> float:
        """The network's logit at one point, from its weights as plain floats (no graph)."""
        activations = [x1, x2]
        layers = self.model.weights()
        for index, (W, b) in enumerate(layers):
            z = [sum(w * a for w, a in zip(row, activations, strict=True)) + bias
                 for row, bias in zip(W, b, strict=True)]
            activations = z if index == len(layers) - 1 else [math.tanh(v) for v in z]
        return activations[0]

    def status(self) -> str:
        return (f"step {self.steps}, loss={self.losses[-1]:.4f}, training accuracy "
                f"{self.accuracy():.0%} (width {self.width}, lr={self.lr:g})")


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
