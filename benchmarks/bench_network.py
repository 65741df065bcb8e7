"""Lesson 15's time per training step: the engine's MLP against the same network in torch.

One full-batch step (zero_grad, loss, backward, update) on the lesson's 60 points with
``MLP(2, [6])``, engine vs ``nn.Linear`` + ``torch.optim.SGD`` in float64; the fastest of a
few rounds, wall-clock. The ratio is information (no target): on a busy machine it varies.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def _seconds(step: Callable[[], None], repeats: int, rounds: int = 3) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeats):
            step()
        best = min(best, (time.perf_counter() - start) / repeats)
    return best


def run() -> list[dict]:
    import torch
    from torch import nn

    from autograd_lab import mlp

    points, labels = mlp.two_circles()
    model = mlp.MLP(2, [6], seed=0)
    net = nn.Sequential(nn.Linear(2, 6), nn.Tanh(), nn.Linear(6, 1)).double()
    optimizer = torch.optim.SGD(net.parameters(), lr=2.0)
    X = torch.tensor(points, dtype=torch.float64)
    Y = torch.tensor(labels, dtype=torch.float64)

    def torch_step() -> None:
        optimizer.zero_grad()
        nn.functional.binary_cross_entropy_with_logits(net(X)[:, 0], Y).backward()
        optimizer.step()

    engine = _seconds(lambda: mlp.gd_step(model, points, labels, 2.0), repeats=5)
    torch_time = _seconds(torch_step, repeats=100)
    return [
        {"benchmark": "lesson 15: engine MLP step (60 points, 2-6-1)", "value":
         round(engine * 1e3, 2), "unit": "ms", "target": "info", "ok": True},
        {"benchmark": "lesson 15: torch nn.Linear + SGD step (same net)", "value":
         round(torch_time * 1e3, 3), "unit": "ms", "target": "info", "ok": True},
        {"benchmark": "lesson 15: engine / torch time per step", "value":
         round(engine / torch_time, 1), "unit": "x", "target": "info", "ok": True},
    ]


if __name__ == "__main__":  # pragma: no cover
    for row in run():
        print(f"{row['benchmark']:<60} {row['value']:>8} {row['unit']}")
