"""``python -m benchmarks [TOPIC ...] [--strict]``: run every ``benchmarks/bench_*.py``.

Each module's ``run()`` returns rows ``{"benchmark", "value", "unit", "target", "ok"}``;
all rows are printed as one table. A module that fails to import or run, returns malformed
rows, or an expected topic with no module yet, prints a row saying so instead of stopping
the run. Exit status is 0 unless ``--strict`` is given and some row is not ok.
"""

from __future__ import annotations

import argparse
import importlib
import math
import pkgutil
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

#: Topics the issues ask for; a missing module is reported rather than silently absent.
EXPECTED_TOPICS = ("import", "derive", "graph", "widgets", "browser", "engine")
_KEYS = ("benchmark", "value", "unit", "target", "ok")


def discover() -> list[str]:
    """Topic names of the ``bench_<topic>.py`` modules next to this file, sorted."""
    here = Path(__file__).resolve().parent
    return sorted(
        info.name.removeprefix("bench_")
        for info in pkgutil.iter_modules([str(here)])
        if info.name.startswith("bench_")
    )


def _problem(topic: str, text: str) -> dict:
    return {
        "benchmark": f"bench_{topic}",
        "value": math.nan,
        "unit": "",
        "target": text,
        "ok": False,
    }


def run_topic(topic: str) -> list[dict]:
    """Rows from ``benchmarks.bench_<topic>.run()``, or one row describing the failure."""
    try:
        module = importlib.import_module(f"benchmarks.bench_{topic}")
        rows = module.run()
    except Exception as exc:  # noqa: BLE001 - one broken benchmark must not hide the others
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return [_problem(topic, f"FAILED: {last}")]
    if not isinstance(rows, list) or not all(
        isinstance(r, dict) and all(k in r for k in _KEYS) for r in rows
    ):
        return [_problem(topic, f"FAILED: run() must return a list of dicts with {_KEYS}")]
    return rows


def _fmt_value(value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:.4g}"
    return str(value)


def format_table(rows: Sequence[dict]) -> str:
    """A plain-text table: benchmark, value, unit, target, ok/MISS."""
    header = ("benchmark", "value", "unit", "target", "ok")
    body = [
        (
            str(r["benchmark"]),
            _fmt_value(r["value"]),
            str(r["unit"]),
            str(r["target"]),
            "ok" if r["ok"] else "MISS",
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if i == 1 else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(b) for b in body)])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("topics", nargs="*", help="only these topics (e.g. import derive)")
    parser.add_argument("--strict", action="store_true", help="exit 1 if any row is not ok")
    args = parser.parse_args(argv)

    found = discover()
    topics = args.topics or sorted(set(found) | set(EXPECTED_TOPICS))
    rows: list[dict] = []
    start = time.perf_counter()
    for topic in topics:
        if topic not in found:
            rows.append(_problem(topic, f"not written yet (no benchmarks/bench_{topic}.py)"))
            continue
        print(f"running bench_{topic} …", file=sys.stderr, flush=True)
        rows.extend(run_topic(topic))
    print(format_table(rows))
    print(f"\n{len(rows)} rows in {time.perf_counter() - start:.1f} s")
    return 1 if args.strict and not all(r["ok"] for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
