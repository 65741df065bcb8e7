"""The controls the widgets build the same way: the expression box, the step buttons,
output areas and the graph image (css classes ``agl-…`` are what the browser test finds)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from autograd_lab.widgets.base import WidgetBase, button
from autograd_lab.widgets.markup import COLOURS, escape
from autograd_lab.widgets.svg import graph_svg

#: The hint echoes at most this many characters of the expression shown.
_HINT_ECHO = 30


def on_enter(box: Any, handler: Callable[[Any], Any]) -> None:
    """Run ``handler`` when Enter is pressed in the Text ``box``.

    ipywidgets 8 marks ``Text.on_submit`` deprecated (it suggests ``continuous_update=False``,
    which applies on blur too, the very thing a learner could not see coming), but its front
    end still sends the "submit" event on Enter; it is the only Enter event there is.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "on_submit is deprecated", DeprecationWarning)
        box.on_submit(handler)


class ExpressionInput:
    """The "z =" box, an Apply button and a hint: typing only edits, Enter or Apply applies.

    While the box differs from the expression shown (``shown``), the hint says "press Enter
    or Apply" and Apply is enabled; ``apply(text)`` is the widget's handler (it calls
    :meth:`set_shown` when the text was good). A new value in another control never applies
    half-typed text.
    """

    def __init__(self, value: str, placeholder: str, tooltip: str,
                 apply: Callable[[str], Any], visible: bool | None = None) -> None:
        self.shown = value
        self.tried = value  # the text last applied (Enter or Apply), good or not
        layout = {"width": "360px"}
        if visible is not None:
            layout["display"] = "" if visible else "none"
        self.box = widgets.Text(
            value=value, description="z =", placeholder=placeholder, continuous_update=True,
            tooltip=tooltip, layout=widgets.Layout(**layout),
        )
        self.box.add_class("agl-expression")
        on_enter(self.box, lambda _: self._apply(apply))
        self.apply_button = button(
            "Apply", "Show the expression typed in the box (Enter does the same)", "agl-apply")
        self.apply_button.on_click(lambda _: self._apply(apply))
        self.hint = widgets.HTML()
        self.hint.add_class("agl-expression-hint")
        self.box.observe(lambda _: self.refresh(), names="value")
        self.root = widgets.HBox([self.box, self.apply_button, self.hint])
        if visible is False:
            self.root.layout.display = "none"
        self.refresh()

    def _apply(self, apply: Callable[[str], Any]) -> None:
        self.tried = self.box.value
        apply(self.box.value)
        self.refresh()  # pressed: the hint to press goes (the message line says the rest)

    @property
    def differs(self) -> bool:
        """True while the box holds text that is not the expression shown."""
        return self.box.value != self.shown

    def set_shown(self, text: str) -> None:
        """The widget now shows ``text``: the hint goes away."""
        self.shown = text
        self.refresh()

    def refresh(self) -> None:
        differs = self.differs
        self.apply_button.disabled = not differs
        if not differs or self.box.value == self.tried:
            self.hint.value = ""
            return
        shown = self.shown if len(self.shown) <= _HINT_ECHO else self.shown[:_HINT_ECHO] + "…"
        self.hint.value = (
            f'<span class="agl-hint" style="color:{COLOURS["info"]}">press Enter or Apply to '
            f"show it (still showing {escape(shown)})</span>"
        )


def step_buttons(view: WidgetBase, back: str, next_: str, reset: str, last: str) -> Any:
    """◀ Back, Next ▶, ↺ Reset, Last ▶▶ with tooltips; a click calls ``view.step(kind)``
    (``kind`` is "back", "next", "reset" or "last") and redraws."""
    return view.button_row(
        ("back_button", "◀ Back", back, "agl-back", lambda: view.step("back")),
        ("next_button", "Next ▶", next_, "agl-next", lambda: view.step("next")),
        ("reset_button", "↺ Reset", reset, "agl-reset", lambda: view.step("reset")),
        ("end_button", "Last ▶▶", last, "agl-last", lambda: view.step("last")),
    )


def html_area(cls: str) -> Any:
    """An empty HTML output area with a css class."""
    area = widgets.HTML()
    area.add_class(cls)
    return area


def picture_area(cls: str) -> Any:
    """An HTML area for a widget's SVG picture (never wider than the page), with a css class."""
    area = widgets.HTML(layout=widgets.Layout(max_width="100%"))
    area.add_class(cls)
    return area


class Stepping:
    """What the step buttons do in the two stepping widgets (ChainRuleStepper,
    BackwardTracer): needs ``state`` (a StepCursor), ``prediction`` (a PredictionBox),
    ``say`` and ``_reset_keeps()`` (what Reset leaves as it is, in words).

    Next reveals like Show (the prediction row starts afresh); Reset says what it reset.
    """

    state: Any
    prediction: Any
    back_button: Any
    next_button: Any
    reset_button: Any
    end_button: Any
    graph_image: Any

    def step(self, kind: str) -> None:
        """``kind`` is "back", "next", "reset" or "last"."""
        s = self.state
        if kind == "next":
            if self.prediction.pending() is not None:
                self.prediction.show()
            else:
                s.next()
        elif kind == "back":
            s.back()
        elif kind == "reset":
            s.reset()
        elif kind == "last":
            s.go_to_end()
        else:
            raise ValueError(f"unknown step {kind!r}; use back, next, reset or last")
        self.prediction.tries = 0
        if kind == "reset":
            self.say(f"↺ Reset: back to step 1 of {s.total}; {self._reset_keeps()}.", "info")
        else:
            self.say("")

    def _reset_keeps(self) -> str:  # pragma: no cover - overridden
        return "everything else stays"

    def _show_position(self, graph: Any, view: Any) -> None:
        """The buttons that cannot move are off; the prediction row and the graph picture
        (the step's nodes highlighted, its title saying what it shows) follow the step."""
        s = self.state
        self.back_button.disabled = self.reset_button.disabled = s.at_start
        self.next_button.disabled = self.end_button.disabled = s.at_end
        self.prediction.refresh()
        said = f"{view.title}: {view.lines[0]}" if view.lines else view.title
        self.graph_image.value = graph_svg(graph, view.highlight, said)

    def _lines(self) -> list[str]:
        """The current step as plain text (what the output area shows)."""
        view = self.state.current_view()
        return [view.title, *view.lines, *self.prediction.lines()]
