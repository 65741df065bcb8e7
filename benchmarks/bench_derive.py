"""Speed of the hand derivation: ``python -m benchmarks derive``.

- ``derive`` on a left-deep chain of 1,000 binary operations (``x + x - 0.25 + x - x ...``,
  which Python groups as ``((((x + x) - 0.25) + x) - x) ...``, 1,000 levels deep; target
  < 1 s, median of 5).  The parser and both passes walk with
  explicit stacks, so the cost is linear;
- ``Derivation.check()`` on the same chain (torch float64 autograd + central differences;
  informational target < 1 s);
- ``derive`` on the longest left-deep chain Python's own parser accepts here (~2,000
  operations on 3.11; longer input is an ExpressionError, never a RecursionError).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from autograd_lab import ExpressionError, derive

_OPS = ("+ x", "- 0.25", "+ x", "- x")


def chain(n: int) -> str:
    """A left-deep chain of ``n`` binary operations (one precedence level, so Python's
    parser nests them all on the left: the tree is ``n`` levels deep)."""
    return "x " + " ".join(_OPS[i % len(_OPS)] for i in range(n))


def _median(fn: Callable[[], object], repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _longest_chain() -> int:
    """Largest n (to the nearest 250) whose chain Python's parser accepts."""
    n = 1000
    while n < 20_000:
        try:
            derive(chain(n + 250), x=0.5)
        except ExpressionError:
            return n
        n += 250
    return n


def run() -> list[dict]:
    text = chain(1000)
    derive(text, x=0.5)  # warm-up: imports, caches
    derive_s = _median(lambda: derive(text, x=0.5))
    derivation = derive(text, x=0.5)
    check_s = _median(lambda: derivation.check(), repeats=3)
    longest = _longest_chain()
    long_s = _median(lambda: derive(chain(longest), x=0.5), repeats=3)
    return [
        {"benchmark": "derive: left-deep chain of 1,000 binary ops", "value": derive_s,
         "unit": "s", "target": "< 1 s", "ok": derive_s < 1.0},
        {"benchmark": "Derivation.check() on that chain", "value": check_s, "unit": "s",
         "target": "< 1 s", "ok": check_s < 1.0},
        {"benchmark": f"derive: longest chain the parser accepts ({longest:,} ops)",
         "value": long_s, "unit": "s", "target": "< 2 s", "ok": long_s < 2.0},
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
