"""What the browser's ipywidgets 8 front end needs from our widget trees.

ipywidgets 8.1's JavaScript reads ``description.length`` whenever a widget has a tooltip;
an ``Image`` has no description, so an Image with a tooltip fails to render in JupyterLab
("Failed to create view for 'ImageView'") although every Python-side test passes. The
browser test (tests/browser) sees that; this test catches it without a browser.
"""

from __future__ import annotations

import ipywidgets as widgets
import pytest

from autograd_lab.widgets import (
    BackwardTracer,
    ChainRuleStepper,
    GradAccumulationLab,
    NetworkTrainer,
    NoGradExplorer,
    TrainingExplorer,
)


def _walk(root: widgets.Widget) -> list[widgets.Widget]:
    seen, stack = [], [root]
    while stack:
        widget = stack.pop()
        seen.append(widget)
        stack.extend(getattr(widget, "children", ()))
    return seen


@pytest.mark.parametrize(
    "make",
    [
        lambda: ChainRuleStepper("sin(x**2)", x=3.0),
        lambda: BackwardTracer("exp(sin(x**2))", x=3.0),
        lambda: GradAccumulationLab("x**3", x=2.0),
        NoGradExplorer,
        TrainingExplorer,
        NetworkTrainer,
    ],
    ids=["stepper", "tracer", "accumulation", "no_grad", "training", "network"],
)
def test_no_description_less_widget_carries_a_tooltip(make) -> None:
    tree = _walk(make().root)
    images = [w for w in tree if isinstance(w, widgets.Image)]
    assert all(not getattr(w, "tooltip", None) for w in images)
    for widget in tree:
        if getattr(widget, "tooltip", None) and "description" in widget.keys:
            assert widget.description is not None


def test_display_bundle_without_ipywidgets8_repr() -> None:
    """ipywidgets 7 (what Colab ships) has no ``_repr_mimebundle_`` on widgets: the view
    data is built from the model id instead, with our own text."""
    from autograd_lab.widgets.base import WidgetBase as WidgetView

    class Root:  # an ipywidgets-7-like widget: a model id, display via _ipython_display_
        model_id = "abc123"

    class View(WidgetView):
        root = Root()

        def _plain(self) -> str:
            return "View(x) — run in Jupyter to interact"

    bundle = View()._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == "abc123"
    assert bundle["application/vnd.jupyter.widget-view+json"]["version_major"] == 2
    assert bundle["text/plain"] == "View(x) — run in Jupyter to interact"


def test_widget_text_wraps_at_spaces_only() -> None:
    """JupyterLab gives output ``<pre>`` ``word-break: break-all`` ("finite diff / erence");
    every text block the widgets make overrides it inline and scrolls a too-long token."""
    from autograd_lab.widgets.markup import message_html, pre_html, table_html, title_html

    blocks = {
        "pre": pre_html(["dz/dx: finite difference = -5.4668", "x.grad = -8.2549"]),
        "message": message_html("RuntimeError: a leaf Variable that requires grad is used"),
        "table": table_html(["", "x.grad"], [["call 1", "12.0"]]),
        "title": title_html("z = exp(sin(x**2))"),
    }
    for name, html in blocks.items():
        assert html.count("word-break:normal") >= 1, name
        assert "overflow-wrap:normal" in html and "white-space:pre-wrap" in html, name
        assert "break-all" not in html and "anywhere" not in html, name
    for name in ("pre", "message", "table"):
        assert "overflow-x:auto" in blocks[name], name
    cells = blocks["table"].count("<td ") + blocks["table"].count("<th ")
    assert blocks["table"].count("word-break:normal") == cells


def test_plain_text_fallback_says_to_rerun_the_cell() -> None:
    """What JupyterLab shows when the widget model is gone (restart, reopened lesson)."""
    w = ChainRuleStepper("sin(x**2)", x=3.0)
    text = w._repr_mimebundle_()["text/plain"]
    assert text.endswith("— run this cell to interact (re-run it after a kernel restart)")
