"""``make site``'s build time: ``python -m benchmarks site`` (target ≤ 90 s on 2 cores).

Runs what ``make site`` runs (``python -m tools.build_site``, a fresh Sphinx build of every
page from the stored outputs) in a child process, into a temporary folder, and reports its
wall time and the CPU-seconds it used (user + system of the child and its children), so a
slow figure on a busy machine can be told apart from a slow build. Needs the npm tools
(MathJax) installed: ``make bench`` installs them.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
TARGET_S = 90.0


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_build() -> tuple[float, float]:
    """(wall seconds, CPU-seconds) of one ``python -m tools.build_site`` into a temp folder."""
    with tempfile.TemporaryDirectory(prefix="bench-site-") as tmp:
        cpu0, t0 = _children_cpu(), time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "tools.build_site", "--out", str(Path(tmp) / "html")],
            cwd=REPO, capture_output=True, text=True,
        )
        wall, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"make site failed: {last[:120]}")
    return wall, cpu


def run() -> list[dict[str, Any]]:
    wall, cpu = time_build()
    return [
        {"benchmark": f"make site (fresh build; {cpu:.1f} CPU-s)", "value": wall, "unit": "s",
         "target": f"≤ {TARGET_S:.0f} s", "ok": wall <= TARGET_S},
    ]
