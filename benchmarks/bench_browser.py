"""Browser figures from the last real-browser test run: ``python -m benchmarks browser``.

The browser test (``tests/browser``, run by ``make test`` where Chromium is installed) writes
``test-artifacts/browser/timings.json``; this module only reads it (launching JupyterLab and
Chromium here would cost a minute). Rows:

- per widget, the median browser round-trip from a click (or Enter) to the page showing the
  updated output, measured inside the page (click event → first animation frame with the new
  content; it includes the kernel's work and the SVG markup's transfer) — target ≤ 80 ms
  (issue 27, on a quiet 2-core machine: the lead re-measures there);
- the browser test's own duration (one JupyterLab, one Chromium, every lesson and student
  exercise notebook run plus every widget clicked through) — target under 5 minutes on a
  2-core machine; only a complete run (nothing deselected) counts;
- whether that run passed.

When the file is missing the rows say "not run yet".
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

TIMINGS = Path(__file__).resolve().parents[1] / "test-artifacts" / "browser" / "timings.json"
WIDGETS = (
    "ChainRuleStepper",
    "BackwardTracer",
    "GradAccumulationLab",
    "NoGradExplorer",
    "TrainingExplorer",
)
ROUND_TRIP_TARGET_MS = 80.0
DURATION_TARGET_S = 300.0
NOT_RUN = "not run yet: run `make test` with Chromium installed"


def _row(name: str, value: float, unit: str, target: str, ok: bool) -> dict[str, Any]:
    return {"benchmark": name, "value": value, "unit": unit, "target": target, "ok": ok}


def _load(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def run(path: Path = TIMINGS) -> list[dict[str, Any]]:
    """Rows for ``make bench`` from ``test-artifacts/browser/timings.json``."""
    data = _load(path)
    target_rt = f"≤ {ROUND_TRIP_TARGET_MS:.0f} ms median"
    target_total = f"< {DURATION_TARGET_S / 60:.0f} min, complete run"
    if data is None:
        rows = [
            _row(f"browser click→update {w}", math.nan, "ms", f"{target_rt} ({NOT_RUN})", False)
            for w in WIDGETS
        ]
        rows.append(_row("browser test duration", math.nan, "s", f"{target_total} ({NOT_RUN})",
                         False))
        return rows

    when = str(data.get("started", "?"))
    widgets = data.get("widgets") or {}
    rows = []
    for name in WIDGETS:
        entry = widgets.get(name)
        if not entry or not entry.get("samples_ms"):
            rows.append(_row(f"browser click→update {name}", math.nan, "ms",
                             f"{target_rt} (not measured in the run of {when})", False))
            continue
        median = float(entry["median_ms"])
        n = len(entry["samples_ms"])
        rows.append(_row(f"browser click→update {name} (n={n})", median, "ms", target_rt,
                         median <= ROUND_TRIP_TARGET_MS))

    total = float(data.get("total_seconds", math.nan))
    complete = bool(data.get("complete", False))
    note = "" if complete else " (partial run: some tests deselected)"
    rows.append(_row(f"browser test duration{note}", total, "s", target_total,
                     complete and math.isfinite(total) and total < DURATION_TARGET_S))
    tests = data.get("tests") or {}
    passed = sum(1 for v in tests.values() if v == "passed")
    rows.append(_row(f"browser tests passed (run of {when})", float(passed), "tests",
                     f"all {len(tests)}", bool(tests) and passed == len(tests)))
    return rows


if __name__ == "__main__":
    for r in run():
        print(r)
