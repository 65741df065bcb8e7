"""The controls the widgets build the same way: the expression box, the step buttons,
output areas and the graph image (css classes ``agl-…`` are what the browser test finds)."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from autograd_lab.widgets.base import WidgetBase


def expression_box(value: str, placeholder: str, tooltip: str, handler: Any,
                   visible: bool | None = None) -> Any:
    """The "z =" text box; ``handler`` runs when Enter is pressed (``visible=False`` hides it)."""
    layout = {"width": "360px"}
    if visible is not None:
        layout["display"] = "" if visible else "none"
    box = widgets.Text(
        value=value, description="z =", placeholder=placeholder, continuous_update=False,
        tooltip=tooltip, layout=widgets.Layout(**layout),
    )
    box.add_class("agl-expression")
    box.observe(handler, names="value")
    return box


def step_buttons(view: WidgetBase, back: str, next_: str, reset: str, last: str) -> Any:
    """◀ Back, Next ▶, ↺ Reset, Last ▶▶ over ``view.state`` (a StepCursor), with tooltips."""
    return view.button_row(
        ("back_button", "◀ Back", back, "agl-back", lambda: view.state.back()),
        ("next_button", "Next ▶", next_, "agl-next", lambda: view.state.next()),
        ("reset_button", "↺ Reset", reset, "agl-reset", lambda: view.state.reset()),
        ("end_button", "Last ▶▶", last, "agl-last", lambda: view.state.go_to_end()),
    )


def html_area(cls: str) -> Any:
    """An empty HTML output area with a css class."""
    area = widgets.HTML()
    area.add_class(cls)
    return area


def image_layout() -> Any:
    """Layout for a PNG ``Image``: never wider than the page, aspect ratio kept."""
    return widgets.Layout(max_width="100%", height="auto", object_fit="contain")


def png_image(cls: str = "agl-graph") -> Any:
    """An image area for a widget's PNG (never wider than the page), with a css class."""
    image = widgets.Image(format="png", layout=image_layout())
    image.add_class(cls)
    return image
