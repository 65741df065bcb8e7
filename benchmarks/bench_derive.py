"""Speed of the hand derivation: ``python -m benchmarks derive``.

- ``derive`` on a left-deep chain of 1,000 binary operations (``x + x - 0.25 + x - x ...``,
  which Python groups as ``((((x + x) - 0.25) + x) - x) ...``, 1,000 levels deep; target
  < 1 s, median of 5).  The parser and both passes walk with
  explicit stacks, so the cost is linear;
- ``Derivation.check()`` on the same chain (torch float64 autograd + central differences;
  informational target < 1 s);
- ``derive`` on the longest left-deep chain Python's own parser accepts here (~2,000
  operations on 3.11; longer input is an ExpressionError, never a RecursionError);
- ``derive`` + ``check()`` on a sum of 2,000 variables (target ≤ 0.5 s): every variable's
  finite difference comes from one replay of the graph;
- the slowest of a seeded fuzz run (the token soup of ``tests/test_fuzz.py`` plus inputs at
  and just over the size cap of :mod:`autograd_lab.expression`): derive, then ``check()``
  when it derives; target ≤ 0.5 s -- everything over the cap is refused at once.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable

from autograd_lab import DerivationError, ExpressionError, GradientMismatch, derive
from autograd_lab.expression import MAX_LENGTH, MAX_NAMES, MAX_NODES

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


def _sum_of(n: int) -> tuple[str, dict[str, float]]:
    values = {f"x{i}": 0.1 * (i % 7) - 0.3 for i in range(n)}
    return "+".join(values), values


def _fuzz_inputs(seed: int = 0, count: int = 300) -> list[tuple[str, str, dict]]:
    """(label, text, values): token soup, then inputs at and over the size cap."""
    tokens = ["x", "y", "2", "0.5", "1e308", "e", "pi", "+", "-", "*", "/", "**", "(", ")",
              "sin", "exp", "log", "sqrt", "relu", "abs", "tan", "^", " ", "=", "2x"]
    rng = random.Random(seed)
    out = [("token soup", "".join(rng.choice(tokens) for _ in range(rng.randrange(40))),
            {"x": rng.uniform(-5, 5), "y": rng.uniform(-5, 5)}) for _ in range(count)]
    text, values = _sum_of(MAX_NAMES)
    out.append((f"sum of {MAX_NAMES:,} variables (the name cap)", text, values))
    nested = "x"
    for i in range(90):
        nested = f"sin({nested})+x{i % 50}" if i % 2 else f"({nested})*x{i % 50}"
    out.append(("90 nested sin/* over 50 variables", nested,
                {"x": 0.3, **{f"x{i}": 0.3 for i in range(50)}}))
    out.append(("x repeated to the length cap", "x" * MAX_LENGTH, {"x": 1.0}))
    out.append(("one character over the length cap", "x" * (MAX_LENGTH + 1), {}))
    out.append((f"{MAX_NODES + 1:,} pieces", "+".join(["x"] * (MAX_NODES // 2 + 1)),
                {"x": 1.0}))
    out.append(("a million characters", "x" * 10**6, {}))
    return out


def _derive_and_check(text: str, values: dict) -> None:
    try:
        derive(text, **values).check()
    except (ExpressionError, DerivationError, GradientMismatch):
        pass


def slowest_fuzz_input() -> tuple[str, float]:
    """The label and seconds of the slowest input of the seeded fuzz run."""
    worst = ("", 0.0)
    for label, text, values in _fuzz_inputs():
        start = time.perf_counter()
        _derive_and_check(text, values)
        elapsed = time.perf_counter() - start
        if elapsed > worst[1]:
            worst = (label, elapsed)
    return worst


def run() -> list[dict]:
    text = chain(1000)
    derive(text, x=0.5)  # warm-up: imports, caches
    derive_s = _median(lambda: derive(text, x=0.5))
    derivation = derive(text, x=0.5)
    check_s = _median(lambda: derivation.check(), repeats=3)
    longest = _longest_chain()
    long_s = _median(lambda: derive(chain(longest), x=0.5), repeats=3)
    text, values = _sum_of(2_000)
    sum_s = _median(lambda: derive(text, **values).check(), repeats=3)
    fuzz_label, fuzz_s = slowest_fuzz_input()
    return [
        {"benchmark": "derive: left-deep chain of 1,000 binary ops", "value": derive_s,
         "unit": "s", "target": "< 1 s", "ok": derive_s < 1.0},
        {"benchmark": "Derivation.check() on that chain", "value": check_s, "unit": "s",
         "target": "< 1 s", "ok": check_s < 1.0},
        {"benchmark": f"derive: longest chain the parser accepts ({longest:,} ops)",
         "value": long_s, "unit": "s", "target": "< 2 s", "ok": long_s < 2.0},
        {"benchmark": "derive + check() on a sum of 2,000 variables", "value": sum_s,
         "unit": "s", "target": "<= 0.5 s", "ok": sum_s <= 0.5},
        {"benchmark": f"slowest fuzz input: {fuzz_label}", "value": fuzz_s, "unit": "s",
         "target": "<= 0.5 s", "ok": fuzz_s <= 0.5},
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
