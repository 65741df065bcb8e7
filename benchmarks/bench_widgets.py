"""Widget responsiveness, measured in Python: ``python -m benchmarks widgets``.

For each widget on its default setting: construction (target ≤ 300 ms) and the time from a
``.click()`` / value change to the updated output — ≤ 50 ms median and ≤ 150 ms p95 for
every click (issue 14), whether or not the plot is re-rendered to PNG. PNG caches are cleared
before every timed click, so the re-rendered figures are measured cold. Typed bad input (a
10⁵-character name) must get its one-line answer within 100 ms.

What is kept when the PNG cache is cleared (``GraphPngCache.clear``): the graph widgets
compose a picture from kept box pixels (``widgets/graph_tiles.py``), and clearing keeps only
the boxes of the picture on screen. So a timed ChainRuleStepper or BackwardTracer Next draws
every box whose text or highlight changed since the picture on screen (a BackwardTracer
half-step that keeps the highlight, what a node receives then passes on, draws nothing),
and a slider move draws the boxes whose values changed; the row "BackwardTracer Next (the
highlight moves)" times only the half-steps that draw. GradAccumulationLab and
TrainingExplorer keep the pixels of the parts a full draw paints last (legend, title, centred
message; GradAccumulationLab's y axis with its limits) and paste them while they look the
same over the same pixels: so in rows that repeat one picture (mode toggle, Run the rest,
Run) those parts are pasted, as they are for a learner who repeats that click.

What is kept across every click and widget, and never cleared here: the widget figures'
text cache (``widgets/text_cache.py``: glyph bitmaps per font, size and sub-pixel phase,
string layouts and metrics, fonts and their line heights; bounded, least recently used
dropped first). A learner's kernel keeps it warm the same way after the first draws; a
string never drawn before (a slider's new value, new tick labels) is still laid out and
rasterised when it comes. A pinned axis (``pin_layout``) measures its tick labels in a draw
only when its offset text is shown.
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


MEDIAN_TARGET_MS = 50.0
P95_TARGET_MS = 150.0
BAD_INPUT_TARGET_MS = 100.0


def _click_rows(name: str, times: list[float], plot: bool) -> list[dict]:
    median = statistics.median(times)
    p95 = _p95(times)
    kind = "PNG re-rendered" if plot else "no plot change"
    return [
        {"benchmark": f"widgets: {name} ({kind}), median", "value": round(median, 2),
         "unit": "ms", "target": f"<= {MEDIAN_TARGET_MS:g} ms",
         "ok": median <= MEDIAN_TARGET_MS},
        {"benchmark": f"widgets: {name} ({kind}), p95", "value": round(p95, 2),
         "unit": "ms", "target": f"<= {P95_TARGET_MS:g} ms", "ok": p95 <= P95_TARGET_MS},
    ]


def _bad_input_row(name: str, times: list[float]) -> dict:
    worst = max(times)
    return {"benchmark": f"widgets: {name}, slowest", "value": round(worst, 2), "unit": "ms",
            "target": f"<= {BAD_INPUT_TARGET_MS:g} ms", "ok": worst <= BAD_INPUT_TARGET_MS}


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
    moved: list[float] = []
    while len(moved) < REPEATS:  # only the Next clicks after which the highlight differs
        tracer_before(0)
        shown = t.state.current_view().highlight
        start = time.perf_counter()
        t.next_button.click()
        elapsed = (time.perf_counter() - start) * 1000.0
        if t.state.current_view().highlight != shown:
            moved.append(elapsed)
    rows += _click_rows("BackwardTracer Next (the highlight moves)", moved, plot=True)

    # GradAccumulationLab: x**3 at 2, five calls; each Check/Show makes one call and draws it
    rows.append(_construct_row("GradAccumulationLab", GradAccumulationLab))
    a = GradAccumulationLab()

    def predict_before(_: int) -> None:
        if a.state.finished:
            a.reset_button.click()
        a.prediction.box.value = str(a.state.pending()[1])

    rows += _click_rows("GradAccumulationLab Check (right prediction: one call, one bar)",
                        _times(lambda _: a.prediction.check_button.click(),
                               before=predict_before), plot=True)
    rows += _click_rows("GradAccumulationLab Check (wrong prediction)",
                        _times(lambda _: a.prediction.check_button.click(),
                               before=lambda _: setattr(a.prediction.box, "value", "-1")),
                        plot=False)
    rows += _click_rows(
        "GradAccumulationLab Show", _times(lambda _: a.prediction.show_button.click(),
                                           before=lambda _: a.state.finished
                                           and a.reset_button.click()), plot=True)
    modes = list(a.mode_buttons.options)
    rows += _click_rows(
        "GradAccumulationLab mode toggle",
        _times(lambda i: setattr(a.mode_buttons, "value", modes[(i + 1) % len(modes)])),
        plot=True)
    rows += _click_rows("GradAccumulationLab Run the rest",
                        _times(lambda _: a.run_button.click(),
                               before=lambda _: a.reset_button.click()), plot=True)
    long_names = [("ab"[i % 2]) * 10**5 + "**3" for i in range(REPEATS)]
    rows.append(_bad_input_row(
        "GradAccumulationLab 10^5-character name typed",
        _times(lambda i: setattr(a.expression_box, "value", long_names[i]))))

    # NoGradExplorer: pick a column, guess a row, reveal, start over, in-place toggle
    rows.append(_construct_row("NoGradExplorer", NoGradExplorer))
    n = NoGradExplorer()
    methods = list(n.method_buttons.options)
    rows += _click_rows(
        "NoGradExplorer column switch",
        _times(lambda i: setattr(n.method_buttons, "value", methods[(i + 1) % len(methods)])),
        plot=False)

    def fresh_column(i: int) -> None:
        n.reset_button.click()
        n.method_buttons.value = methods[1 + i % 3]

    rows += _click_rows(
        "NoGradExplorer guess (one row)",
        _times(lambda i: n.guess("is_leaf", ("True", "False")[i % 2]), before=fresh_column),
        plot=False)

    def all_guessed(i: int) -> None:
        fresh_column(i)
        for toggle in n.guess_buttons.values():
            toggle.value = toggle.options[0]

    rows += _click_rows("NoGradExplorer Reveal this column",
                        _times(lambda _: n.reveal_button.click(), before=all_guessed),
                        plot=False)
    rows += _click_rows("NoGradExplorer Start over",
                        _times(lambda _: n.reset_button.click(), before=all_guessed),
                        plot=False)
    rows += _click_rows(
        "NoGradExplorer in-place toggle",
        _times(lambda i: setattr(n.inplace_toggle, "value", i % 2 == 0)), plot=False)

    # TrainingExplorer: lr 0.1, Run trains until epoch 10
    rows.append(_construct_row("TrainingExplorer", TrainingExplorer))
    tr = TrainingExplorer()
    rows += _click_rows("TrainingExplorer Step", _times(
        lambda _: tr.step_button.click(),
        before=lambda _: tr.step_button.disabled and tr.reset_button.click()), plot=True)
    rows += _click_rows(
        "TrainingExplorer Run (to epoch 10)",
        _times(lambda _: tr.run_button.click(), before=lambda _: tr.reset_button.click()),
        plot=True)
    lrs = [0.12 + 0.001 * i for i in range(REPEATS)]
    rows += _click_rows(
        "TrainingExplorer lr typed after a run (fresh run, plot relabelled)",
        _times(lambda i: setattr(tr.lr_box, "value", f"{lrs[i]:.3f}"),
               before=lambda _: tr.run_button.click()), plot=True)
    return rows


if __name__ == "__main__":  # pragma: no cover
    for row in run():
        print(f"{row['benchmark']:<70} {row['value']:>8} {row['unit']:<3} {row['target']:<12} "
              f"{'ok' if row['ok'] else 'SLOW'}")
