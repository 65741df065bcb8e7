"""``import autograd_lab`` should cost about what ``import torch`` does (target ≤ 1.2×).

Each import runs in a fresh interpreter (nothing cached in ``sys.modules``) and is timed
inside that interpreter with ``time.perf_counter``, so interpreter start-up is excluded.
The two are measured alternately, several times. The ratio compares the fastest run of
each: on a shared machine other load only ever adds time, so the minimum is the least
disturbed measurement of what the import itself costs (medians are shown too).
"""

from __future__ import annotations

import statistics
import subprocess
import sys

RUNS = 9
TARGET_RATIO = 1.2

_TIMER = (
    "import time; t = time.perf_counter(); import {module}; print(repr(time.perf_counter() - t))"
)


def time_import(module: str) -> float:
    """Seconds to ``import module`` in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-c", _TIMER.format(module=module)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout.strip().splitlines()[-1])


def _median(times: list[float]) -> str:
    return f"{statistics.median(times):.3f} s"


def run(runs: int = RUNS) -> list[dict]:
    """Median import times of torch and autograd_lab, and their ratio."""
    time_import("torch")  # warm the file cache once; not counted
    torch_times: list[float] = []
    lab_times: list[float] = []
    for _ in range(runs):
        torch_times.append(time_import("torch"))
        lab_times.append(time_import("autograd_lab"))
    ratio = min(lab_times) / min(torch_times)
    return [
        {
            "benchmark": f"import torch (fastest of {runs}; median {_median(torch_times)})",
            "value": min(torch_times),
            "unit": "s",
            "target": "reference",
            "ok": True,
        },
        {
            "benchmark": f"import autograd_lab (fastest of {runs}; median {_median(lab_times)})",
            "value": min(lab_times),
            "unit": "s",
            "target": "reference",
            "ok": True,
        },
        {
            "benchmark": "import autograd_lab / import torch (fresh processes)",
            "value": ratio,
            "unit": "×",
            "target": f"≤ {TARGET_RATIO}",
            "ok": ratio <= TARGET_RATIO,
        },
    ]
