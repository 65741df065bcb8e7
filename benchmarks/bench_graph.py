"""Speed of the torch-side graph tools: ``python -m benchmarks graph``.

- ``autograd_graph`` on a 10,000-node torch chain (target < 1 s; the walk is iterative);
- ``trace_backward`` on the same chain (informational target < 2 s);
- ``draw_graph`` redrawing a 6-node graph into an existing Axes and rendering it to PNG at
  100 dpi, as a widget does on every click (target < 100 ms, median of 10).
"""

from __future__ import annotations

import io
import statistics
import time

import torch


def _chain(n: int) -> torch.Tensor:
    x = torch.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.0
    return y


def _first_call(fn, repeats: int) -> float:
    """Median time of ``fn(chain)`` on a fresh 10,000-node chain each time: the first walk
    also creates torch's Python wrappers for every node, which later walks reuse."""
    times = []
    for _ in range(repeats):
        chain = _chain(10_000)
        start = time.perf_counter()
        fn(chain)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run() -> list[dict]:
    from autograd_lab.drawing import draw_graph
    from autograd_lab.graph import autograd_graph
    from autograd_lab.trace import trace_backward

    graph_s = _first_call(autograd_graph, 3)
    trace_s = _first_call(trace_backward, 3)

    from matplotlib.figure import Figure

    w = torch.tensor(1.0, requires_grad=True)
    b = torch.tensor(0.0, requires_grad=True)
    out = torch.sigmoid(w * torch.tensor(6.7) + b)  # leaves w, b; Mul, Add, Sigmoid; output
    small = autograd_graph(out, names={"w": w, "b": b})
    fig = Figure(figsize=(6, 2.5), dpi=100)
    ax = fig.add_subplot()

    def redraw(step: int = 0) -> None:
        draw_graph(small, highlight=step % len(small.nodes), ax=ax)
        fig.savefig(io.BytesIO(), format="png", dpi=100)

    redraw()  # warm-up: font cache, first render
    times = []
    for step in range(10):
        start = time.perf_counter()
        redraw(step)
        times.append(time.perf_counter() - start)
    draw_ms = statistics.median(times) * 1000

    return [
        {"benchmark": "autograd_graph, 10,000-node chain", "value": graph_s, "unit": "s",
         "target": "< 1 s", "ok": graph_s < 1.0},
        {"benchmark": "trace_backward, 10,000-node chain", "value": trace_s, "unit": "s",
         "target": "< 2 s", "ok": trace_s < 2.0},
        {"benchmark": f"draw_graph redraw + PNG, {len(small.nodes)} nodes", "value": draw_ms,
         "unit": "ms", "target": "< 100 ms", "ok": draw_ms < 100.0},
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
