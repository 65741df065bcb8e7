"""The lesson-11 engine against micrograd: ``python -m benchmarks engine``.

- ``Value.backward()`` on a 400-operation chain against micrograd 0.1.0's on the same chain:
  median of 9 interleaved runs in one process, each on a freshly built chain (target ≤ 1.0×);
- a 10,000-operation chain: ``Value.backward()`` works, micrograd raises RecursionError
  (its topological sort is recursive; the row shows what it raised);
- cost grows linearly: backward on 10,000 operations against 1,000 (target ≤ 12×).

Times are this process's CPU time (``time.process_time``): on a shared machine the wall
clock also counts the time other processes held the core, which swamped 10,000-op runs.
micrograd is a bench-only dependency (pinned in requirements/lock.txt); the package never
imports it. The chain repeats ``* 0.999``, ``+ 0.001`` and ``relu``, operations both engines
have, so both build the same graph: one node per operation plus one per constant.
"""

from __future__ import annotations

import statistics
import sys
import time

RUNS = 9
OPS = (lambda v: v * 0.999, lambda v: v + 0.001, lambda v: v.relu())


def chain(value_cls: type, n: int):
    """``n`` operations on one leaf; returns (leaf, output)."""
    x = value_cls(0.5)
    y = x
    for i in range(n):
        y = OPS[i % 3](y)
    return x, y


def time_backward(value_cls: type, n: int) -> float:
    """CPU seconds for one ``backward()`` on a freshly built ``n``-operation chain."""
    _, y = chain(value_cls, n)
    start = time.process_time()
    y.backward()
    return time.process_time() - start


def interleaved_medians(classes: dict[str, type], n: int, runs: int = RUNS) -> dict[str, float]:
    """Median backward time per engine, the engines taking turns run after run."""
    times: dict[str, list[float]] = {name: [] for name in classes}
    for cls in classes.values():  # warm-up: first-call costs out of the measurement
        time_backward(cls, n)
    for _ in range(runs):
        for name, cls in classes.items():
            times[name].append(time_backward(cls, n))
    return {name: statistics.median(ts) for name, ts in times.items()}


def deep_outcome(value_cls: type, n: int) -> str:
    """What ``backward()`` on an ``n``-operation chain does: "works" or the exception name."""
    x, y = chain(value_cls, n)
    try:
        y.backward()
    except RecursionError:
        return "RecursionError"
    return "works" if x.grad != 0 else "wrong gradient"


def run() -> list[dict]:
    from autograd_lab.engine import Value

    rows: list[dict] = []
    try:
        from micrograd.engine import Value as MicrogradValue
    except ImportError:
        MicrogradValue = None  # noqa: N806

    if MicrogradValue is not None:
        med = interleaved_medians({"ours": Value, "micrograd": MicrogradValue}, 400)
        ratio = med["ours"] / med["micrograd"]
        rows.append({
            "benchmark": f"Value.backward() 400 ops vs micrograd 0.1.0 (median of {RUNS})",
            "value": ratio, "unit": "×",
            "target": f"≤ 1.0× ({med['ours'] * 1e6:.0f} vs {med['micrograd'] * 1e6:.0f} µs)",
            "ok": ratio <= 1.0,
        })
    else:
        rows.append({"benchmark": "Value.backward() vs micrograd", "value": float("nan"),
                     "unit": "", "target": "micrograd not installed (pip install -r "
                     "requirements/lock.txt)", "ok": False})

    ours_deep = deep_outcome(Value, 10_000)
    theirs = deep_outcome(MicrogradValue, 10_000) if MicrogradValue is not None else "-"
    rows.append({
        "benchmark": "backward() on a 10,000-op chain",
        "value": ours_deep, "unit": "",
        "target": f"works (micrograd: {theirs}, recursion limit {sys.getrecursionlimit()})",
        "ok": ours_deep == "works",
    })

    small = statistics.median(time_backward(Value, 1_000) for _ in range(RUNS))
    large = statistics.median(time_backward(Value, 10_000) for _ in range(RUNS))
    growth = large / small
    rows.append({
        "benchmark": "Value.backward() 10,000 vs 1,000 ops",
        "value": growth, "unit": "×",
        "target": "≤ 12× (linear)", "ok": growth <= 12.0,
    })
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
