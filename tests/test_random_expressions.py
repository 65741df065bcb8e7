"""The random-expression check of lesson 14 (autograd_lab.random_expressions).

Each described expression is derived independently by ``autograd_lab.derive`` (the chain rule
by hand, from the text) and must agree with the engine's gradient from ``run``; the report's
largest differences must be what a direct comparison with torch finds.
"""

from __future__ import annotations

import math
import random

import pytest
import torch

import autograd_lab
from autograd_lab import engine
from autograd_lab.random_expressions import (
    check_random_expressions,
    describe,
    random_recipe,
    run,
    three_way_gradients,
)


@pytest.mark.parametrize("seed", range(12))
def test_described_text_is_the_expression_that_runs(seed: int) -> None:
    rng = random.Random(seed)
    recipe = random_recipe(rng)
    point = {k: rng.uniform(-2, 2) for k in "xyz"}
    text = describe(recipe)
    leaves = {k: engine.Value(v) for k, v in point.items()}
    out = run(recipe, **leaves)
    out.backward()
    derivation = autograd_lab.derive(text, **point)
    assert math.isclose(derivation.value, out.data, rel_tol=1e-12, abs_tol=1e-12)
    for k in "xyz":
        expected = derivation.gradient.get(k, 0.0)
        assert math.isclose(leaves[k].grad, expected, rel_tol=1e-9, abs_tol=1e-12), (text, k)


def test_three_way_gradients_of_a_known_function() -> None:
    rows = three_way_gradients(lambda a, b: a * b + (a * a + 1).log(), {"a": 0.5, "b": -2.0})
    hand_a = -2.0 + 2 * 0.5 / (0.25 + 1)  # b + 2a/(a²+1)
    for k, hand in (("a", hand_a), ("b", 0.5)):
        ours, theirs, numerical = rows[k]
        assert math.isclose(ours, hand, rel_tol=1e-12)
        assert math.isclose(theirs, hand, rel_tol=1e-12)
        assert math.isclose(numerical, hand, rel_tol=1e-7)


def test_report_holds_the_largest_difference_a_direct_comparison_finds() -> None:
    report = check_random_expressions(count=15, seed=7)
    rng = random.Random(7)
    worst = 0.0
    for _ in range(15):
        recipe = random_recipe(rng)
        point = {k: rng.uniform(-2, 2) for k in "xyz"}
        leaves = {k: engine.Value(v) for k, v in point.items()}
        run(recipe, **leaves).backward()
        tensors = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
                   for k, v in point.items()}
        run(recipe, **tensors).backward()
        for k in "xyz":
            theirs = 0.0 if tensors[k].grad is None else tensors[k].grad.item()
            worst = max(worst, abs(leaves[k].grad - theirs) / max(1.0, abs(theirs)))
    assert report.worst_torch == worst
    assert report.worst_torch < 1e-9 and report.worst_numerical < 1e-5
    assert report.count == 15 and len(report.examples) == 2
    assert all(len(text) <= 72 for text in report.examples)
    assert "largest difference, engine vs torch:" in str(report)


def test_count_below_one_is_refused_in_one_sentence() -> None:
    with pytest.raises(ValueError, match="count must be at least 1"):
        check_random_expressions(count=0)
