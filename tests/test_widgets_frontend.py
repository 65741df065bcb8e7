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
    ],
    ids=["stepper", "tracer", "accumulation", "no_grad", "training"],
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
