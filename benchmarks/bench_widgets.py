"""Widget responsiveness, measured in Python: ``python -m benchmarks widgets``.

For each widget on its default setting: construction (target ≤ 300 ms) and the time from a
``.click()`` / value change to the updated output — ≤ 50 ms median where no plot changes,
≤ 100 ms median where the plot is re-rendered to PNG, p95 ≤ 250 ms. PNG caches are cleared
before every timed click, so the re-rendered figures are measured cold.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

REPEATS = 20
CONSTRUCT_REPEATS = 5


def _times(action: Callable[[int], None], repeats: int = REPEATS,
           before: Callable[[int], None] | None = None) -> list[float]:
    out = []
    for i in range(repeats):
        if before is not None:
            before(i)
        start = time.perf_counter()
        action(i)
        out.append((time.perf_counter() - start) * 1000.0)
    return out


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _click_rows(name: str, times: list[float], plot: bool) -> list[dict]:
    target = 100.0 if plot else 50.0
    median = statistics.median(times)
    p95 = _p95(times)
    kind = "PNG re-rendered" if plot else "no plot change"
    return [
        {"benchmark": f"widgets: {name} ({kind}), median", "value": round(median, 2),
         "unit": "ms", "target": f"<= {target:g} ms", "ok": median <= target},
        {"benchmark": f"widgets: {name} ({kind}), p95", "value": round(p95, 2),
         "unit": "ms", "target": "<= 250 ms", "ok": p95 <= 250.0},
    ]


def _construct_row(name: str, make: Callable[[], object]) -> dict:
    make()  # warm-up: imports, font cache
    times = _times(lambda _: make(), CONSTRUCT_REPEATS)
    median = statistics.median(times)
    return {"benchmark": f"widgets: {name}() construction, median", "value": round(median, 2),
            "unit": "ms", "target": "<= 300 ms", "ok": median <= 300.0}


def run() -> list[dict]:
    from autograd_lab.widgets import (
        BackwardTracer,
        ChainRuleStepper,
        GradAccumulationLab,
        NoGradExplorer,
        TrainingExplorer,
    )

    rows: list[dict] = []

    # ChainRuleStepper: sin(x**2) at x = 2
    rows.append(_construct_row("ChainRuleStepper", ChainRuleStepper))
    w = ChainRuleStepper()

    def stepper_before(_: int) -> None:
        if w.state.at_end:
            w.reset_button.click()
        w._png_cache.clear()

    rows += _click_rows("ChainRuleStepper Next", _times(lambda _: w.next_button.click(),
                                                        before=stepper_before), plot=True)
    values = [2.0 + 0.1 * (i + 1) for i in range(REPEATS)]
    rows += _click_rows(
        "ChainRuleStepper slider x", _times(lambda i: setattr(w.sliders["x"], "value",
                                                              values[i])), plot=True)
    rows += _click_rows(
        "ChainRuleStepper bad expression message",
        _times(lambda i: (setattr(w.expression_box, "value", f"sin(x{'' if i % 2 else ' '}"),
                          w.apply_button.click())),  # typed, then Enter / Apply
        plot=False)

    # BackwardTracer: exp(sin(x**2)) at x = 3 (the example)
    rows.append(_construct_row("BackwardTracer", lambda: BackwardTracer("exp(sin(x**2))",
                                                                        x=3.0)))
    t = BackwardTracer("exp(sin(x**2))", x=3.0)

    def tracer_before(_: int) -> None:
        if t.state.at_end:
            t.reset_button.click()
        t._png_cache.clear()

    rows += _click_rows("BackwardTracer Next", _times(lambda _: t.next_button.click(),
                                                      before=tracer_before), plot=True)

    # GradAccumulationLab: x**3 at 2, five calls
    rows.append(_construct_row("GradAccumulationLab", GradAccumulationLab))
    a = GradAccumulationLab()
    modes = list(a.mode_buttons.options)
    rows += _click_rows(
        "GradAccumulationLab mode toggle",
        _times(lambda i: setattr(a.mode_buttons, "value", modes[(i + 1) % len(modes)])),
        plot=True)
    rows += _click_rows("GradAccumulationLab Run", _times(lambda _: a.run_button.click()),
                        plot=True)

    # NoGradExplorer
    rows.append(_construct_row("NoGradExplorer", NoGradExplorer))
    n = NoGradExplorer()
    methods = list(n.method_buttons.options)
    rows += _click_rows(
        "NoGradExplorer column switch",
        _times(lambda i: setattr(n.method_buttons, "value", methods[(i + 1) % len(methods)])),
        plot=False)
    rows += _click_rows(
        "NoGradExplorer in-place toggle",
        _times(lambda i: setattr(n.inplace_toggle, "value", i % 2 == 0)), plot=False)

    # TrainingExplorer: lr 0.1, 10 epochs per Run
    rows.append(_construct_row("TrainingExplorer", TrainingExplorer))
    tr = TrainingExplorer()
    rows += _click_rows("TrainingExplorer Step", _times(lambda _: tr.step_button.click()),
                        plot=True)
    rows += _click_rows(
        "TrainingExplorer Run (10 epochs)",
        _times(lambda _: tr.run_button.click(), before=lambda _: tr.reset_button.click()),
        plot=True)
    lrs = [0.05, 0.1]
    rows += _click_rows(
        "TrainingExplorer lr slider",
        _times(lambda i: setattr(tr.lr_slider, "value", lrs[i % 2])), plot=False)
    return rows


if __name__ == "__main__":  # pragma: no cover
    for row in run():
        print(f"{row['benchmark']:<70} {row['value']:>8} {row['unit']:<3} {row['target']:<12} "
              f"{'ok' if row['ok'] else 'SLOW'}")
