"""The widgets' pictures as SVG markup (issue 27): drawn from draw_graph's own layout, a
highlight is a class, text is text, colours follow the theme, and the plots show the
values torch computes; every widget's display bundle carries a static text/html copy."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest
import torch

pytest.importorskip("ipywidgets")

from autograd_lab import derive  # noqa: E402
from autograd_lab.drawing import BOX_W, graph_layout  # noqa: E402
from autograd_lab.graph import autograd_graph  # noqa: E402
from autograd_lab.widgets import (  # noqa: E402
    BackwardTracer,
    ChainRuleStepper,
    GradAccumulationLab,
    NetworkTrainer,
    NoGradExplorer,
    TrainingExplorer,
)
from autograd_lab.widgets.base import AFTER_RESTART, RESTART_STYLE  # noqa: E402
from autograd_lab.widgets.svg import graph_svg, nice_ticks  # noqa: E402

NS = "{http://www.w3.org/2000/svg}"


def _tree(markup: str) -> ET.Element:
    root = ET.fromstring(markup)
    assert root.tag == f"{NS}svg" and root.get("role") == "img"
    return root


def _boxes(root: ET.Element) -> dict[int, ET.Element]:
    return {int(g.get("data-node")): g for g in root.iter(f"{NS}g")
            if "agl-box" in g.get("class", "")}


def _centre(g: ET.Element) -> tuple[float, float]:
    rect = g.find(f"{NS}rect")
    return (float(rect.get("x")) + float(rect.get("width")) / 2,
            float(rect.get("y")) + float(rect.get("height")) / 2)


@pytest.mark.parametrize("expression", ["sin(x**2)", "x*y + sin(x)*y", "exp(sin(x**2)) + x"])
def test_graph_svg_places_boxes_where_draw_graphs_layout_does(expression: str) -> None:
    graph = autograd_graph(derive(expression, x=3.0, y=0.5))
    layout = graph_layout(graph)
    boxes = _boxes(_tree(graph_svg(graph)))
    assert set(boxes) == {n.id for n in graph.nodes}
    centres = {b.node.id: _centre(boxes[b.node.id]) for b in layout.boxes}
    # x grows with the layer, y falls as the row rises: the same order as draw_graph's
    for box in layout.boxes:
        px, py = centres[box.node.id]
        for other in layout.boxes:
            ox, oy = centres[other.node.id]
            assert (px < ox) == (box.x < other.x) or math.isclose(box.x, other.x)
            assert (py < oy) == (box.y > other.y) or math.isclose(box.y, other.y)
    # a box's text is exactly its lines, as draw_graph writes them
    for box in layout.boxes:
        lines = [t.text for t in boxes[box.node.id].iter(f"{NS}text")]
        assert tuple(lines) == box.lines
    assert BOX_W < 1  # boxes never touch across layers


def test_highlight_is_a_class_and_the_title_says_what_is_shown() -> None:
    w = ChainRuleStepper("sin(x**2)", x=3.0)
    for _ in range(3):
        w.next_button.click()
    view = w.state.current_view()
    root = _tree(w.graph_image.value)
    hot = {i for i, g in _boxes(root).items() if "agl-hot" in g.get("class")}
    assert hot == set(view.highlight) and hot
    title = root.find(f"{NS}title").text
    assert title.startswith(f"{view.title}: {view.lines[0]}")
    assert "step 4 of 5" in title and "highlighted: " in title


def test_a_leaf_box_says_its_value_once() -> None:
    x = torch.tensor(3.0, requires_grad=True)
    graph = autograd_graph(torch.sin(x**2), names={"x": x})
    leaf = next(b for b in graph_layout(graph).boxes if b.node.kind == "leaf")
    assert sum("= 3" in line for line in leaf.lines) == 1, leaf.lines


def test_every_colour_is_a_theme_variable_and_text_is_large_enough() -> None:
    pictures = [ChainRuleStepper().graph_image.value,
                BackwardTracer("exp(sin(x**2))", x=3.0).graph_image.value]
    a = GradAccumulationLab()
    a.run_button.click()
    t = TrainingExplorer()
    t.run_button.click()
    n = NetworkTrainer()
    n.step_button.click()
    pictures += [a.plot_image.value, t.plot_image.value, n.plot_image.value]
    for markup in pictures:
        _tree(markup)
        colours = re.findall(r"(?:fill|stroke|color)[:=]\"?([^;\"}]+)", markup)
        assert colours
        for colour in colours:
            assert colour in ("none",) or colour.startswith("var(--jp-"), colour
        sizes = [float(s) for s in re.findall(r"font-size:(\d+(?:\.\d+)?)px", markup)]
        assert sizes and min(sizes) >= 12.0  # the lesson's 14 px less 2 px


def _bar_heights(markup: str) -> list[float]:
    root = _tree(markup)
    return [float(r.get("height")) for r in root.iter(f"{NS}rect")
            if r.get("class") == "agl-bar"]


def test_bars_are_as_tall_as_the_gradients_torch_accumulates() -> None:
    x = torch.tensor(2.0, requires_grad=True)
    expected = []
    for _ in range(3):
        (x**3).backward()
        expected.append(x.grad.item())  # 12, 24, 36: torch's own accumulation
    w = GradAccumulationLab("x**3", x=2.0)
    assert _bar_heights(w.plot_image.value) == []  # nothing before the learner acts
    for _ in range(3):
        w.prediction.show_button.click()
    heights = _bar_heights(w.plot_image.value)
    assert heights[1] / heights[0] == pytest.approx(expected[1] / expected[0], rel=1e-3)
    assert heights[2] / heights[0] == pytest.approx(expected[2] / expected[0], rel=1e-3)
    assert "x.grad after each call 12.0, 24.0, 36.0" in _tree(w.plot_image.value).find(
        f"{NS}title").text


def test_loss_curve_is_on_a_log_axis_and_divergence_is_said_on_the_plot() -> None:
    w = TrainingExplorer()
    w.run_button.click()
    root = _tree(w.plot_image.value)
    line = next(p for p in root.iter(f"{NS}polyline") if p.get("points").count(" ") >= 9)
    ys = [float(p.split(",")[1]) for p in line.get("points").split()]
    losses = [r.loss for r in w.session.records]
    # equal pixel steps for equal loss ratios: the y axis is log10(loss)
    slope = (ys[-1] - ys[0]) / (math.log10(losses[-1]) - math.log10(losses[0]))
    for y, loss in zip(ys, losses, strict=True):
        assert y == pytest.approx(ys[0] + slope * (math.log10(loss) - math.log10(losses[0])),
                                  abs=0.15)
    assert "diverging" not in w.plot_image.value
    w.lr_box.value = "0.9"
    w.run_button.click()
    assert "diverging (lr=0.9)" in w.plot_image.value
    assert "the line leaves the plot: training diverged" in w.plot_image.value


def test_nice_ticks_are_round_and_cover_the_range() -> None:
    assert nice_ticks(0.0, 36.0) == [0.0, 10.0, 20.0, 30.0]
    assert nice_ticks(-1.0, 12.0) == [0.0, 5.0, 10.0]
    assert nice_ticks(0.4, 5.6) == [1.0, 2.0, 3.0, 4.0, 5.0]


@pytest.mark.parametrize(
    "make",
    [lambda: ChainRuleStepper("sin(x**2)", x=3.0),
     lambda: BackwardTracer("exp(sin(x**2))", x=3.0),
     GradAccumulationLab, NoGradExplorer, TrainingExplorer, NetworkTrainer],
    ids=["stepper", "tracer", "accumulation", "no_grad", "training", "network"],
)
def test_display_bundle_carries_a_static_copy_for_pages_without_a_kernel(make) -> None:
    widget = make()
    bundle = widget._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    html = bundle["text/html"]
    assert html.startswith('<div class="agl-static">')
    picture = widget.picture()
    if isinstance(widget, NoGradExplorer):
        assert picture == "" and "<svg" not in html
    else:
        assert picture.startswith("<svg") and picture in html
    for line in widget.text.splitlines()[:3]:
        assert line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in html
    assert "run this notebook (JupyterLab, Colab) to use it" in html


def test_the_widget_says_after_a_restart_to_run_its_cell_again() -> None:
    """ipywidgets marks every view of a dead kernel ``jupyter-widgets-disconnected``; the
    widget's own style turns that into one sentence at its top (no icon per control)."""
    w = ChainRuleStepper()
    style = w.root.children[0]
    assert style.value == RESTART_STYLE and style.layout.display == "none"
    assert f'content:"{AFTER_RESTART}"' in RESTART_STYLE
    assert ".agl-widget .jupyter-widgets-disconnected::before{content:none}" \
        in RESTART_STYLE


def test_a_log_axis_spanning_less_than_a_decade_still_has_tick_labels() -> None:
    from autograd_lab.widgets.svg import Frame

    labels = [t for t in Frame(0, 0, 100, 100, (0, 1), (20.0, 90.0), log_y=True).axes(
        [], "", "") if t.startswith("<text") and 'text-anchor="end"' in t]
    assert len(labels) >= 2
    decades = [t for t in Frame(0, 0, 100, 100, (0, 1), (0.01, 1000.0), log_y=True).axes(
        [], "", "") if 'text-anchor="end"' in t]
    assert [re.search(r">(.*)<", t)[1] for t in decades] == ["0.01", "0.1", "1", "10", "100",
                                                              "1000"]


def test_no_widget_loads_matplotlib(import_probe) -> None:
    """Pictures are markup: building and clicking every widget never imports matplotlib."""
    code = ("import sys\nfrom autograd_lab.widgets import *\n"
            "for w in (ChainRuleStepper(), BackwardTracer('sin(x**2)'), GradAccumulationLab(),"
            " NoGradExplorer(), TrainingExplorer()):\n"
            "    w._repr_mimebundle_()\n"
            "TrainingExplorer().run_button.click()\n"
            "print('matplotlib' in sys.modules)\n")
    out = import_probe(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
