"""Speed and safety of the torch-side graph tools: ``python -m benchmarks graph``.

- the deepest torch chain walked and freed without a crash on a 1 MB stack (Windows'
  default), over ``NODE_CAP``: the cap's safety margin (target ≥ 2; found by bisection
  in subprocesses, Linux only);
- ``autograd_graph`` on a chain at the cap, ``NODE_CAP`` nodes (target < 0.1 s);
- ``trace_backward`` on the same chain (informational target < 0.2 s);
- ``draw_graph`` redrawing a 6-node graph into an existing Axes and rendering it to PNG at
  100 dpi, as a learner saving the figure does (target < 100 ms, median of 10; the widgets
  draw SVG markup instead: ``python -m benchmarks widgets``).
"""

from __future__ import annotations

import io
import statistics
import subprocess
import sys
import time

import torch

from autograd_lab.graph import NODE_CAP

#: Build a chain of indexing ops (IndexBackward0 crashed earliest of the kinds measured),
#: touch every node as a walk does, let it go: exit 0, or a crash (-11) while freeing.
_CRASH_PROBE = """
import sys, torch
y = torch.tensor([1.0, 2.0], requires_grad=True)
for _ in range(int(sys.argv[1])):
    y = y[[0, 1]]
seen, stack = set(), [y.grad_fn]
while stack:
    fn = stack.pop()
    if fn is not None and fn not in seen:
        seen.add(fn)
        stack.extend(f for f, _ in fn.next_functions)
del fn, stack, seen, y
"""


def _survives(nodes: int, stack_kib: int) -> bool:
    import resource

    def limit() -> None:
        hard = resource.getrlimit(resource.RLIMIT_STACK)[1]
        resource.setrlimit(resource.RLIMIT_STACK, (stack_kib * 1024, hard))

    probe = [sys.executable, "-c", _CRASH_PROBE, str(nodes)]
    return subprocess.run(probe, capture_output=True, preexec_fn=limit).returncode == 0


def crash_free_depth(stack_kib: int = 1024) -> int:
    """The deepest chain (within 5%) walked and freed without a crash on this stack size."""
    low, high = NODE_CAP, 16 * NODE_CAP
    if not _survives(low, stack_kib):
        return 0
    if _survives(high, stack_kib):
        return high
    while high > low * 1.05:
        middle = (low + high) // 2
        low, high = (middle, high) if _survives(middle, stack_kib) else (low, middle)
    return low


def _chain(n: int) -> torch.Tensor:
    x = torch.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.0
    return y


def _first_call(fn, repeats: int) -> float:
    """Median time of ``fn(chain)`` on a fresh chain of ``NODE_CAP`` nodes each time: the
    first walk also creates torch's Python wrappers for every node, which later walks reuse."""
    times = []
    for _ in range(repeats):
        chain = _chain(NODE_CAP - 1)  # NODE_CAP - 1 MulBackward0 and one AccumulateGrad
        start = time.perf_counter()
        fn(chain)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run() -> list[dict]:
    from autograd_lab.drawing import draw_graph
    from autograd_lab.graph import autograd_graph
    from autograd_lab.trace import trace_backward

    graph_s = _first_call(autograd_graph, 5)
    trace_s = _first_call(trace_backward, 5)
    if sys.platform.startswith("linux"):
        depth = crash_free_depth(1024)
        margin = depth / NODE_CAP
        safety = {"benchmark": f"deepest chain walked without a crash, 1 MB stack "
                  f"({depth:,} nodes) / NODE_CAP ({NODE_CAP:,})", "value": margin,
                  "unit": "x", "target": ">= 2", "ok": margin >= 2}
    else:
        safety = {"benchmark": "deepest chain walked without a crash / NODE_CAP",
                  "value": float("nan"), "unit": "x", "target": "skipped: needs Linux",
                  "ok": True}

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
        safety,
        {"benchmark": f"autograd_graph at the cap, {NODE_CAP:,}-node chain", "value": graph_s,
         "unit": "s", "target": "< 0.1 s", "ok": graph_s < 0.1},
        {"benchmark": f"trace_backward at the cap, {NODE_CAP:,}-node chain", "value": trace_s,
         "unit": "s", "target": "< 0.2 s", "ok": trace_s < 0.2},
        {"benchmark": f"draw_graph redraw + PNG, {len(small.nodes)} nodes", "value": draw_ms,
         "unit": "ms", "target": "< 100 ms", "ok": draw_ms < 100.0},
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
