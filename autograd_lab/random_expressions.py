"""Random expressions that check the scalar engine against torch and a finite difference.

Lesson 14 calls :func:`check_random_expressions` once: it builds ``count`` expressions at
random from the engine's operations on three variables ``x``, ``y``, ``z`` (each step applies
one operation to earlier results, so later steps reuse them, as real networks do; ``log`` and
``/`` only where they are defined: ``log(a² + 1)``, ``a / (b² + 1)``), evaluates each at a
random point in ``[-2, 2]³`` and compares every partial derivative three ways:

* **engine**: :class:`autograd_lab.engine.Value` leaves, ``backward()``, ``.grad``;
* **torch**: float64 leaves, ``backward()``, ``.grad``;
* **finite difference**: ``(f(v + h) - f(v - h)) / 2h`` with ``h = 1e-6``, on Values.

Differences are relative to ``max(1, |torch|)``.  Every operation is one row of
:data:`UNARY` or :data:`BINARY` (text template → function on Values or tensors).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from autograd_lab import engine

__all__ = [
    "BINARY",
    "UNARY",
    "RandomExpressionReport",
    "check_random_expressions",
    "describe",
    "random_recipe",
    "run",
    "three_way_gradients",
]

#: One-operand operations: the text (``{}`` is the operand) → the function.
UNARY: dict[str, Callable[[Any], Any]] = {
    "tanh({})": lambda a: a.tanh(),
    "sigmoid({})": lambda a: a.sigmoid(),
    "exp({})": lambda a: a.exp(),
    "log({0}*{0} + 1)": lambda a: (a * a + 1).log(),
    "relu({})": lambda a: a.relu(),
    "(-{})": lambda a: -a,
    "({}**3)": lambda a: a**3,
}
#: Two-operand operations: the text (``{0}``, ``{1}`` the operands) → the function.
BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "({} + {})": lambda a, b: a + b,
    "({} - {})": lambda a, b: a - b,
    "({} * {})": lambda a, b: a * b,
    "({0} / ({1}*{1} + 1))": lambda a, b: a / (b * b + 1),
}
VARIABLES = ("x", "y", "z")
STEP = 1e-6  # the finite difference's h
EXAMPLE_WIDTH = 72  # the report shows only examples that fit on one short line

Recipe = list[tuple[str, list[int]]]


def random_recipe(rng: random.Random, steps: int = 6) -> Recipe:
    """Each step: an operation's text and the positions of its operands among earlier results
    (0–2 are x, y, z; step i's result is at 3 + i)."""
    recipe: Recipe = []
    for i in range(steps):
        binary = rng.random() < 0.6
        text = rng.choice(list(BINARY if binary else UNARY))
        last = 2 + i if i else rng.randrange(3)  # the previous step (a variable at first)
        operands = [last, rng.randrange(3 + i)] if binary else [last]
        rng.shuffle(operands)
        recipe.append((text, operands))
    return recipe


def run(recipe: Recipe, x: Any, y: Any, z: Any) -> Any:
    """The recipe applied to three Values or three tensors; its last result."""
    results = [x, y, z]
    for text, operands in recipe:
        fn = UNARY.get(text) or BINARY[text]
        results.append(fn(*(results[i] for i in operands)))
    return results[-1]


def describe(recipe: Recipe) -> str:
    """The recipe as text (the same steps applied to strings), e.g. ``exp((x + y))``."""
    results = list(VARIABLES)
    for text, operands in recipe:
        results.append(text.format(*(results[i] for i in operands)))
    return results[-1]


def three_way_gradients(
    fn: Callable[..., Any], values: dict[str, float]
) -> dict[str, tuple[float, float, float]]:
    """∂fn/∂v for each variable v: (engine, torch in float64, central difference)."""
    leaves = {k: engine.Value(v) for k, v in values.items()}
    fn(**leaves).backward()
    tensors = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
               for k, v in values.items()}
    fn(**tensors).backward()
    rows = {}
    for k in values:
        up, down = dict(values), dict(values)
        up[k] += STEP
        down[k] -= STEP
        plus = fn(**{n: engine.Value(v) for n, v in up.items()}).data
        minus = fn(**{n: engine.Value(v) for n, v in down.items()}).data
        grad = tensors[k].grad  # None when fn does not use k: its derivative is 0
        theirs = 0.0 if grad is None else grad.item()
        rows[k] = (leaves[k].grad, theirs, (plus - minus) / (2 * STEP))
    return rows


@dataclass(frozen=True)
class RandomExpressionReport:
    """What :func:`check_random_expressions` found: the largest relative differences."""

    count: int
    examples: tuple[str, ...]
    worst_torch: float  # engine vs torch
    worst_numerical: float  # engine vs finite difference

    def __str__(self) -> str:
        shown = "\n".join(f"  {text}" for text in self.examples)
        return (
            f"{self.count} random expressions of x, y, z, for example\n{shown}\n"
            f"largest difference, engine vs torch:             {self.worst_torch:.1e}\n"
            f"largest difference, engine vs finite difference: {self.worst_numerical:.1e}"
        )


def check_random_expressions(
    count: int = 200, seed: int = 2074, steps: int = 6, shown: int = 2
) -> RandomExpressionReport:
    """Compare engine, torch and a finite difference on ``count`` random expressions.

    The differences are |engine − torch| / max(1, |torch|) and the same for the finite
    difference, the largest over every partial derivative of every expression.
    """
    if count < 1:
        raise ValueError(f"count must be at least 1 (got {count}); try 200.")
    rng = random.Random(seed)
    worst_torch = worst_numerical = 0.0
    examples = []
    for _ in range(count):
        recipe = random_recipe(rng, steps)
        point = {k: rng.uniform(-2, 2) for k in VARIABLES}
        if len(examples) < shown and len(describe(recipe)) <= EXAMPLE_WIDTH:
            examples.append(describe(recipe))
        rows = three_way_gradients(lambda x, y, z, r=recipe: run(r, x, y, z), point)
        for ours, theirs, numerical in rows.values():
            scale = max(1.0, abs(theirs))
            worst_torch = max(worst_torch, abs(ours - theirs) / scale)
            worst_numerical = max(worst_numerical, abs(ours - numerical) / scale)
    return RandomExpressionReport(count, tuple(examples), worst_torch, worst_numerical)
