"""Speed targets for autograd-lab: ``make bench`` (``python -m benchmarks``) prints one table.

Each module ``benchmarks/bench_<topic>.py`` exposes ``run() -> list[dict]``; every dict has
``{"benchmark": str, "value": float, "unit": str, "target": str, "ok": bool}``. Targets are
reported here, not asserted in timed tests.
"""
