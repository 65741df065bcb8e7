"""The widgets' cheap redraws (figures.Backdrop, AxisUnderlay, pin_layout) give exactly the
pixels of a full matplotlib draw of the same figure (issue 14: faster, nothing different)."""

from __future__ import annotations

import random

from autograd_lab.widgets import GradAccumulationLab, TrainingExplorer
from autograd_lab.widgets.figures import figure_png


def test_training_redraw_equals_a_full_draw() -> None:
    w = TrainingExplorer()
    rng = random.Random(1)
    crossed = 0
    for i in range(12):
        # lines through the legend and beside it, on a growing loss curve
        w.session.w, w.session.b = rng.uniform(-3.0, 5.0), rng.uniform(-6.0, 14.0)
        if i % 2:
            w.session.step()
        fast = w._draw()
        crossed += w._backdrop_legend._kept is not None
        assert fast == figure_png(w._fig)
    assert crossed  # the legend-over-line path was taken at least once
    w.lr_box.value = 0.9
    w.run_button.click()  # diverging: the loss axes rescale, the title changes
    assert "diverging" in w.session.status()
    assert w.plot_image.value == figure_png(w._fig)


def test_accumulation_redraw_equals_a_full_draw() -> None:
    a = GradAccumulationLab()
    for expression in ("x**3", "-x**2"):
        a.expression_box.value = expression
        for calls in (2, 7):
            a.calls_slider.value = calls  # new x ticks: the kept x axis is drawn again
            for _ in range(calls):
                a.prediction.show_button.click()
                assert a.plot_image.value == figure_png(a._fig)
            a.reset_button.click()
            assert a.plot_image.value == figure_png(a._fig)
