"""The widgets' cheap redraws (figures.Backdrop, AxisUnderlay, pin_layout) give exactly the
pixels of a full matplotlib draw of the same figure (issue 14: faster, nothing different),
and that full draw (text cache, pinned axes) gives exactly plain matplotlib's pixels."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from autograd_lab import derive
from autograd_lab.drawing import draw_graph
from autograd_lab.graph import autograd_graph
from autograd_lab.widgets import (
    BackwardTracer,
    ChainRuleStepper,
    GradAccumulationLab,
    TrainingExplorer,
    graph_tiles,
)
from autograd_lab.widgets.figures import (
    GraphPngCache,
    figure_png,
    fit_graph_figure,
    new_figure,
    pin_layout,
    style_axes,
)


def _same_as_plain_matplotlib(fig: Any) -> bool:
    """The widget canvas's last full draw (``figure_png``) has the pixels plain matplotlib
    draws: its own Agg canvas and renderer, axes drawn without the pinned-layout shortcut."""
    ours = np.asarray(fig.canvas.buffer_rgba()).copy()
    canvas = fig.canvas
    patched = {axis: {k: axis.__dict__.pop(k) for k in ("_get_ticklabel_bboxes", "draw")
                      if k in axis.__dict__}
               for ax in fig.axes for axis in (ax.xaxis, ax.yaxis)}
    assert any(patched.values())  # the shortcut is in use (pin_layout)
    try:
        plain = FigureCanvasAgg(fig)
        plain.draw()
        pixels = np.asarray(plain.buffer_rgba()).copy()
    finally:
        fig.set_canvas(canvas)
        for axis, attrs in patched.items():
            axis.__dict__.update(attrs)
    return np.array_equal(ours, pixels)


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
        if i % 4 == 1:
            assert _same_as_plain_matplotlib(w._fig)
    assert crossed  # the legend-over-line path was taken at least once
    assert w._backdrop.moving[-1]._kept  # the loss title's pixels were kept (and pasted)
    w.lr_box.value = 0.9
    w.run_button.click()  # diverging: the loss axes rescale, the title changes
    assert "diverging" in w.session.status()
    assert w.plot_image.value == figure_png(w._fig)
    assert _same_as_plain_matplotlib(w._fig)


def test_pinned_axes_with_an_offset_text_equal_plain_matplotlib() -> None:
    fig = new_figure(4.0, 3.0)
    ax = fig.add_subplot()
    style_axes(ax)
    ax.plot([1e6 + 1.0, 1e6 + 2.0, 1e6 + 3.0], [1e6 + 1.0, 1e6 + 3.0, 1e6 + 2.0])
    ax.set_xlabel("epoch")  # x's offset text goes below its tick labels: they are measured
    pin_layout(fig)
    figure_png(fig)
    assert ax.xaxis.major.formatter.get_offset() and ax.yaxis.major.formatter.get_offset()
    assert _same_as_plain_matplotlib(fig)


def test_accumulation_redraw_equals_a_full_draw() -> None:
    a = GradAccumulationLab()
    legend = a._underlay.tops[-1]
    draws = 0
    draw = legend.artist.draw

    def counted(renderer: Any) -> None:
        nonlocal draws
        draws += 1
        draw(renderer)

    legend.artist.draw = counted
    shown = 0
    for expression in ("x**3", "-x**2"):
        a.expression_box.value = expression
        for calls in (2, 7):
            a.calls_slider.value = calls  # new x ticks: the kept x axis is drawn again
            for _ in range(calls):
                a.prediction.show_button.click()
                shown += 1
                png = a.plot_image.value
                assert png == figure_png(a._fig)  # (a full draw: draws the legend once)
            assert _same_as_plain_matplotlib(a._fig)
            a.reset_button.click()
            assert a.plot_image.value == figure_png(a._fig)
    widget_draws = draws - shown  # each full draw above drew the legend once
    assert legend._kept and widget_draws <= shown - 6, widget_draws  # pasted, not drawn
    a.fresh_checkbox.value = False  # the second call raises: the centred error message
    for mode in (*a.mode_buttons.options, a.mode_buttons.options[0]):
        a.mode_buttons.value = mode  # "no calls yet" message, the title names the mode
        assert a.plot_image.value == figure_png(a._fig)
        for _ in range(2):
            a.prediction.show_button.click()
            assert a.plot_image.value == figure_png(a._fig)
    assert "RuntimeError" in a._error_text.get_text()
    assert _same_as_plain_matplotlib(a._fig)
    a.fresh_checkbox.value = True
    a.expression_box.value = "x**2"  # one bar of 4: the dashed line meets the tick at 4
    a.prediction.show_button.click()
    assert not a._underlay.tops[0].apart(a._fig.canvas.get_renderer())  # y axis in place
    assert a.plot_image.value == figure_png(a._fig)


def _full_graph_png(cache: Any, graph: Any, highlight: Any) -> bytes:
    """draw_graph's full draw of ``graph`` with ``highlight`` in the widget's own figure."""
    draw_graph(graph, highlight=list(highlight), ax=cache.ax)
    fit_graph_figure(cache.fig, cache.ax)
    return figure_png(cache.fig)


@pytest.mark.parametrize("expression", ["exp(sin(x**2))", "x*x + y", "x*y + sin(x)*y"])
def test_graph_pictures_from_tiles_equal_a_full_draw(expression: str) -> None:
    """Every step's graph, composed from kept box pixels (only changed boxes drawn, or none
    for BackwardTracer), is draw_graph's full draw of that highlight, byte for byte."""
    composed = 0
    for widget in (ChainRuleStepper(expression), BackwardTracer(expression, x=3.0)):
        tracer = isinstance(widget, BackwardTracer)
        moves = ["next"] * (widget.state.total + 1) + ["back", "back", "last", "reset", "next"]
        for move in moves:
            widget._png_cache.clear()  # a picture not shown before: composed, not looked up
            {"next": widget.next_button, "back": widget.back_button, "last": widget.end_button,
             "reset": widget.reset_button}[move].click()
            composed += widget._png_cache.tiles._under is not None
            s = widget.state
            graph = s.graph if tracer else s.graph_at()
            shown = widget.graph_image.value
            assert shown == _full_graph_png(widget._png_cache, graph,
                                            s.current_view().highlight)
    assert composed  # the tile path was taken, not only the full-draw fallback
    widget = ChainRuleStepper(expression)
    for value in (2.5, -1.25, 2.5):  # new values: new texts, then back to ones seen
        widget.sliders["x"].value = value
        assert widget.graph_image.value == _full_graph_png(
            widget._png_cache, widget.state.graph_at(), widget.state.current_view().highlight)


def test_overlapping_boxes_fall_back_to_a_full_draw(monkeypatch: pytest.MonkeyPatch) -> None:
    """Boxes whose rectangles meet are never composed: the figure is drawn whole."""
    graph = autograd_graph(derive("sin(x**2)", x=2.0))
    cache = GraphPngCache(5.2, 3.4)
    cache.render("apart", graph, [0])
    assert cache.tiles._under is not None  # apart: composed
    monkeypatch.setattr(graph_tiles, "PAD_PX", 200.0)  # every rectangle meets every other
    png, _ = cache.render("meet", graph, [1])
    assert cache.tiles._under is None  # drawn whole: nothing kept
    assert png == _full_graph_png(cache, graph, [1])
