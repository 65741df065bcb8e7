"""ChainRuleStepper: the hand chain rule, one step at a time, beside its graph.

Forward steps compute each intermediate node; backward steps multiply the upstream gradient
by the local derivative, ``dz/dx = dz/dv · dv/dx``; the last step compares the manual result
with torch autograd and a central finite difference. Before each reveal the learner may
predict the value it shows ("your prediction", ✓ Check / Show; :meth:`predict`).

:class:`~autograd_lab.widgets.chain_rule_state.ChainRuleSteps` is the plain-Python state
(tests drive it directly); :class:`ChainRuleStepper` is the ipywidgets view.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from autograd_lab.widgets.base import WidgetBase, guarded, plain_repr
from autograd_lab.widgets.chain_rule_state import ChainRuleSteps, FinalComparison
from autograd_lab.widgets.controls import (
    ExpressionInput,
    Stepping,
    html_area,
    picture_area,
    step_buttons,
)
from autograd_lab.widgets.inputs import (
    DEFAULT_VALUE,
    clean_values,
    referenced_names,
    with_defaults,
)
from autograd_lab.widgets.markup import escape, pre_html, title_html
from autograd_lab.widgets.prediction_box import Predicting, PredictionBox

__all__ = ["ChainRuleStepper", "ChainRuleSteps", "FinalComparison"]

#: How far ↑/↓ (or the box's spinner) moves a variable's value.
VALUE_STEP = 0.1
#: Value boxes for at most this many variables (the first ones); the others keep their values.
MAX_VALUE_BOXES = 24


class ChainRuleStepper(Predicting, Stepping, WidgetBase):
    """Step through ``derive(expression, **values)``: Back / Next / Reset, value boxes, graph.

    ``ChainRuleStepper("sin(x**2)", x=3.0)`` — forward steps show each node's value; backward
    steps show ``local``, ``upstream`` and their product ``dz/dv_in = dz/dv · dv/dv_in``; the
    last step shows manual = autograd = finite difference (``-5.4668`` here) with the leaves
    highlighted. ``predict(answer)`` checks the value the next step reveals (4 decimal
    places); a typed expression applies on Enter or Apply; a new value keeps the step.
    Numeric values get a number box (default 2.0; type any number, or ↑/↓ for steps of 0.1,
    applied on Enter; a value the expression cannot take is refused with one sentence and
    the box goes back); string values define named intermediates (``y="x**2"``).
    """

    def __init__(self, expression: str = "sin(x**2)", /, **values: float | str) -> None:
        self.state = self._start(
            lambda: ChainRuleSteps(expression, with_defaults(expression, clean_values(values))),
            lambda: ChainRuleSteps("sin(x**2)", {"x": DEFAULT_VALUE}), "sin(x**2)")
        self._definitions = {k: v for k, v in self.state.values.items() if isinstance(v, str)}
        self.expression_input = ExpressionInput(
            self.state.expression, "e.g. sin(x**2)",
            "Expression to differentiate; press Enter or Apply to show it", self.apply)
        self.expression_box = self.expression_input.box
        self.apply_button = self.expression_input.apply_button
        buttons = step_buttons(
            self, "Previous step (back)", "Next step of the chain rule (reveals it)",
            "Back to step 1 (keeps the expression and the values)",
            "Jump to the result: manual = autograd")
        self.prediction = PredictionBox(self, self.state.pending, self.state.reveal,
                                        idle=self._idle_prompt, slips=self.state.slips)
        self.value_boxes: dict[str, widgets.FloatText] = {}
        self.values_row = widgets.HBox([], layout=widgets.Layout(flex_flow="row wrap"))
        self._restoring = False
        self.header_html = html_area("agl-header")
        self.output_html = html_area("agl-output")
        self.graph_image = picture_area("agl-graph")
        self._sync_value_boxes()
        self._finish([
            self.header_html,
            self.expression_input.root,
            self.values_row,
            buttons,
            self.prediction.root,
            self.message,
            widgets.HBox([self.graph_image, widgets.Box([self.output_html],
                                                        layout=widgets.Layout(min_width="360px"))]),
        ], "agl-chain-rule-stepper")

    # -- display -------------------------------------------------------------------
    def _plain(self) -> str:
        vals = [
            f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}" for k, v in self.state.values.items()
        ]
        return plain_repr("ChainRuleStepper", self.state.expression, *vals)

    # -- handlers --------------------------------------------------------------------
    @guarded
    def apply(self, text: str | None = None) -> None:
        """Show the expression typed in the box (what Enter and Apply do), from step 1."""
        text = self.expression_box.value if text is None else str(text)
        if not self.expression_input.differs and text == self.state.expression:
            self.say(f"Already showing {_short(text)}; edit the box, then press Enter or Apply.")
            return
        current = {k: float(self.state.values[k]) for k in self.value_boxes}
        fixed = dict(self._definitions)  # the intermediates given when the widget was made
        values = with_defaults(text, {**fixed, **current})
        used = set(referenced_names(text, values))
        values = {k: v for k, v in values.items() if k in used}
        self._apply(lambda: self.state.rederive(text, values), reset=True)

    @guarded
    def _on_value(self, change: dict[str, Any]) -> None:
        """A value box changed: derive again at the new values, keeping the step; a value
        the expression cannot take (``log`` of −1) is one sentence, and the boxes go back to
        the values still shown."""
        if self._restoring:
            return
        values = dict(self.state.values)
        for name, box in self.value_boxes.items():
            values[name] = float(box.value)
        if not self._apply(lambda: self.state.rederive(None, values), reset=False):
            self._show_values()

    def _apply(self, action: Any, reset: bool) -> bool:
        if not self._attempt(action, keep=f" Still showing {_short(self.state.expression)}."):
            return False
        if reset:
            self.state.reset()
            self.prediction.tries = 0
            self.expression_input.set_shown(self.state.expression)
            self._sync_value_boxes()
        self._render()
        return True

    def _show_values(self) -> None:
        """Every value box shows the value the derivation on screen uses."""
        self._restoring = True
        try:
            for name, box in self.value_boxes.items():
                box.value = float(self.state.values[name])
        finally:
            self._restoring = False

    def _sync_value_boxes(self) -> None:
        """One labelled number box per leaf variable, for the first ``MAX_VALUE_BOXES`` of
        them (kept across expressions when the name stays)."""
        leaves = self.state.leaves[:MAX_VALUE_BOXES]
        for name in list(self.value_boxes):
            if name not in leaves:
                self.value_boxes.pop(name).unobserve(self._on_value, names="value")
        for name in leaves:
            if name in self.value_boxes:
                continue
            box = widgets.FloatText(
                value=float(self.state.values[name]),
                step=VALUE_STEP,
                description=f"{name} =",
                continuous_update=False,
                tooltip=f"Value of the variable {name}: type a number and press Enter, "
                        f"or ↑/↓ for steps of {VALUE_STEP:g}",
                layout=widgets.Layout(width="180px"),
            )
            box.add_class("agl-value")
            box.add_class(f"agl-value-{name}")
            box.observe(self._on_value, names="value")
            self.value_boxes[name] = box
        self.values_row.children = tuple(self.value_boxes[n] for n in leaves)

    def _render(self) -> None:
        view = self.state.current_view()
        self.header_html.value = title_html(self.state.header())
        body = [f"<b>{escape(view.title)}</b>", pre_html(view.lines)]
        if view.final is not None:
            cls = "agl-final agl-ok" if view.final.agree else "agl-final agl-error"
            body.append(f'<div class="{cls}" data-agree="{str(view.final.agree).lower()}"></div>')
        self.output_html.value = "".join(body)
        self._show_position(self.state.graph_at(), view)

    def _idle_prompt(self) -> str:
        """The prediction row's line when nothing is left to predict."""
        if self.state.at_end:
            return "Done: every value is revealed. ↺ Reset starts again from step 1."
        return "Next ▶ compares your chain rule with torch autograd and a finite difference."

    def _reset_keeps(self) -> str:
        values = ", ".join(f"{k} = {float(v):g}" for k, v in self.state.values.items()
                           if not isinstance(v, str))
        kept = f"the expression {_short(self.state.expression)}"
        return f"{kept} and {values} stay" if values else f"{kept} stays"


def _short(text: str) -> str:
    """``text`` at most about 40 characters long (for messages)."""
    return text if len(text) <= 40 else text[:37] + "..."
