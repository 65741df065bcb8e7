"""BackwardTracer: torch's *real* backward pass, one autograd node at a time.

Each node receives ``grad_outputs`` (the upstream gradient ``dz/d(node output)``) and passes
``grad_inputs`` to its inputs: upstream × the node's local derivative, e.g. for ``v = sin(u)``
``dz/du = dz/dv · cos(u)``. The pass ends at ``AccumulateGrad``, which adds what it receives
into the leaf's ``.grad``. Given an expression, the widget builds the tensors with
``derive(...).to_torch(torch.float64)`` — float64, so torch's numbers match the hand
derivation shown beside it digit for digit.

Predict, then reveal: each node takes two half-steps, what it *receives* (``grad_outputs``),
then what it *passes on* (``grad_inputs``); before the second the learner predicts the
node's first ``grad_inputs`` entry (at ``AccumulateGrad``: the leaf's ``.grad`` afterwards).
The hand derivation grows line by line beside the node being visited: at the start it shows
only the forward pass.

:class:`~autograd_lab.widgets.backward_state.BackwardSteps` is the plain-Python state;
:class:`BackwardTracer` the view.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import torch

from autograd_lab.widgets.backward_state import DTYPE, BackwardSteps, TraceView, quoted_short
from autograd_lab.widgets.base import WidgetBase, guarded, plain_repr
from autograd_lab.widgets.controls import (
    ExpressionInput,
    Stepping,
    html_area,
    picture_area,
    step_buttons,
)
from autograd_lab.widgets.inputs import DEFAULT_VALUE, clean_values, leaf_names, with_defaults
from autograd_lab.widgets.markup import escape, pre_html, title_html
from autograd_lab.widgets.prediction_box import Predicting, PredictionBox

__all__ = ["DTYPE", "BackwardSteps", "BackwardTracer", "TraceView"]


class BackwardTracer(Predicting, Stepping, WidgetBase):
    """Step through torch's real backward pass: Back / Next / Reset, graph highlighted.

    ``BackwardTracer("exp(sin(x**2))", x=3.0)`` visits ExpBackward0, SinBackward0,
    PowBackward0, AccumulateGrad (float64 tensors built by ``derive(...).to_torch``) with the
    hand derivation beside it; ``BackwardTracer(tensor, gradient=None, x=x)`` traces any
    tensor (``x=x`` only names the leaf). ``gradient`` is needed for a non-scalar output.
    Each node takes two half-steps (receives, then passes on); ``predict(answer)`` checks the
    node's first ``grad_inputs`` entry (at ``AccumulateGrad``: the leaf's ``.grad``) before
    it is shown. A typed expression applies on Enter or Apply.
    """

    def __init__(self, expression_or_tensor: Any, /, gradient: Any = None, **values: Any) -> None:
        self._is_expression = isinstance(expression_or_tensor, str)
        self.state = self._start(lambda: self._build(expression_or_tensor, gradient, values),
                                 self._fallback, "sin(x**2)")
        buttons = step_buttons(
            self, "Previous half-step of the backward pass",
            "Next half-step: what the node receives, then what it passes on (reveals it)",
            "Back to step 1 (keeps the expression and its values)", "Jump to the leaves' .grad")
        self.expression_input = ExpressionInput(
            self.state.expression or "", "e.g. exp(sin(x**2))",
            "Expression whose backward pass to trace; press Enter or Apply to show it",
            self.apply, visible=self._is_expression)
        self.expression_box = self.expression_input.box
        self.apply_button = self.expression_input.apply_button
        self.prediction = PredictionBox(self, lambda: self.state.pending(),
                                        lambda: self.state.reveal(), idle=self._idle_prompt,
                                        slips=lambda: self.state.slips())
        self.header_html = html_area("agl-header")
        self.output_html = html_area("agl-output")
        self.hand_html = html_area("agl-hand")
        self.graph_image = picture_area("agl-graph")
        self._finish([
            self.header_html,
            self.expression_input.root,
            buttons,
            self.prediction.root,
            self.message,
            widgets.HBox([self.graph_image, widgets.VBox([self.output_html, self.hand_html])]),
        ], "agl-backward-tracer")

    def _build(self, given: Any, gradient: Any, values: dict[str, Any]) -> BackwardSteps:
        if isinstance(given, str):
            return BackwardSteps.from_expression(
                given, with_defaults(given, clean_values(values)), gradient)
        if not isinstance(given, torch.Tensor):
            raise TypeError(
                f"BackwardTracer needs an expression in quotes, e.g. BackwardTracer('sin(x**2)', "
                f"x=3.0), or a tensor that requires grad, not {type(given).__name__}."
            )
        names = {k: v for k, v in values.items() if isinstance(v, torch.Tensor)}
        return BackwardSteps(given, names, gradient)

    def _fallback(self) -> BackwardSteps:
        self._is_expression = True
        return BackwardSteps.from_expression("sin(x**2)", {"x": DEFAULT_VALUE})

    def _plain(self) -> str:
        if self.state.expression is not None:
            vals = [f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}"
                    for k, v in self.state.derivation.values.items()]
            return plain_repr("BackwardTracer", self.state.expression, *vals)
        return plain_repr("BackwardTracer", f"<tensor, {len(self.state.steps)} nodes>")

    # -- handlers -------------------------------------------------------------------
    @guarded
    def apply(self, text: str | None = None) -> None:
        """Trace the expression typed in the box (what Enter and Apply do), from step 1."""
        if not self._is_expression:
            return
        text = self.expression_box.value if text is None else str(text)
        if not self.expression_input.differs and text == self.state.expression:
            self.say(f"Already showing {quoted_short(text)}; edit the box, then press Enter "
                     "or Apply.")
            return
        old = getattr(self.state.derivation, "values", {}) or {}
        values = with_defaults(text, dict(old))
        keep = set(leaf_names(text, values)) | {k for k, v in values.items() if isinstance(v, str)}
        values = {k: v for k, v in values.items() if k in keep}

        def build() -> None:
            self.state = BackwardSteps.from_expression(text, values, self.state.gradient)

        if not self._attempt(build, keep=f" Still showing {quoted_short(self.state.expression)}."):
            return
        self.prediction.tries = 0
        self.expression_input.set_shown(text)
        self._render()

    def _render(self) -> None:
        s = self.state
        view = s.current_view()
        head = (f"z = {s.expression} (float64 tensors from derive(...).to_torch)"
                if s.expression is not None else "torch's backward pass for the given tensor")
        self.header_html.value = title_html(head)
        self.output_html.value = f"<b>{escape(view.title)}</b>" + pre_html(view.lines)
        hand = s.hand_lines()
        self.hand_html.value = (
            "<b>Hand derivation</b>" + pre_html(hand, "agl-text agl-hand-text")
            if hand else ""
        )
        self._show_position(self.state.graph, view)

    def _idle_prompt(self) -> str:
        """The prediction row's line when nothing is left to predict at this half-step."""
        s = self.state
        if s.at_end:
            return "Done: every gradient is revealed. ↺ Reset starts again from step 1."
        if s.node_index + 1 >= len(s.steps) and s.passed_on:
            return "Next ▶ shows every leaf's .grad and compares it with the hand derivation."
        if s.passed_on:
            return "Next ▶ shows what the next node receives."
        return "Next ▶ shows what this node passes on."

    def _reset_keeps(self) -> str:
        s = self.state
        if s.expression is None:
            return "the traced tensor stays"
        values = ", ".join(f"{k} = {float(v):g}" for k, v in s.derivation.values.items()
                           if not isinstance(v, str))
        kept = f"the expression {quoted_short(s.expression)}"
        return f"{kept} and {values} stay" if values else f"{kept} stays"
