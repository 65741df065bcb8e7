"""BackwardTracer: torch's *real* backward pass, one autograd node at a time.

Each node receives ``grad_outputs`` (the upstream gradient ``dz/d(node output)``) and passes
``grad_inputs`` to its inputs: upstream × the node's local derivative, e.g. for ``v = sin(u)``
``dz/du = dz/dv · cos(u)``. The pass ends at ``AccumulateGrad``, which adds what it receives
into the leaf's ``.grad``. Given an expression, the widget builds the tensors with
``derive(...).to_torch(torch.float64)`` — float64, so torch's numbers match the hand
derivation shown beside it digit for digit.

:class:`BackwardSteps` is the plain-Python state; :class:`BackwardTracer` the view.
"""

from __future__ import annotations

import math
from typing import Any

import ipywidgets as widgets
import torch

from autograd_lab.derivation import derive
from autograd_lab.formatting import fmt, fmt_tensor, fmt_tuple
from autograd_lab.graph import autograd_graph
from autograd_lab.trace import trace_backward
from autograd_lab.widgets.base import WidgetBase, guarded, plain_repr
from autograd_lab.widgets.controls import expression_box, html_area, png_image, step_buttons
from autograd_lab.widgets.cursor import StepCursor, StepView
from autograd_lab.widgets.figures import GraphPngCache
from autograd_lab.widgets.inputs import DEFAULT_VALUE, clean_values, leaf_names, with_defaults
from autograd_lab.widgets.markup import escape, pre_html, title_html

DTYPE = torch.float64


#: What the tracer shows at one position (kind "node", "accumulate" or "result").
TraceView = StepView


class BackwardSteps(StepCursor):
    """Position in ``trace_backward(output)``; the last position lists every leaf's ``.grad``.

    ``leaves`` (name → leaf tensor) label the leaves; ``derivation`` (optional) is the hand
    derivation shown beside torch's pass.
    """

    def __init__(
        self,
        output: torch.Tensor,
        leaves: dict[str, torch.Tensor] | None = None,
        gradient: Any = None,
        derivation: Any = None,
        expression: str | None = None,
    ) -> None:
        self.output = output
        self.leaves = dict(leaves or {})
        self.gradient = gradient
        self.derivation = derivation
        self.expression = expression
        self.steps = trace_backward(output, gradient=gradient)
        self.graph = autograd_graph(output, names=self.leaves or None)
        self._labels = {n.id: n.label for n in self.graph.nodes}
        self.index = 0

    @classmethod
    def from_expression(
        cls, expression: str, values: dict[str, Any], gradient: Any = None
    ) -> BackwardSteps:
        """``derive(expression, **values)`` → float64 tensors → torch's backward pass."""
        if not expression.strip():
            raise ValueError("The expression box is empty; type an expression such as sin(x**2).")
        derivation = derive(expression, **values)
        output, leaves = derivation.to_torch(DTYPE)
        if not output.requires_grad:
            raise ValueError(
                f"{_short(expression)} has no variable, so torch records no backward pass; "
                "type an expression with a variable, e.g. exp(sin(x**2))."
            )
        return cls(output, leaves, gradient, derivation, expression)

    # -- state ----------------------------------------------------------------------
    @property
    def total(self) -> int:
        return len(self.steps) + 1

    # -- what to show ------------------------------------------------------------------
    def leaf_name(self, step: Any) -> str:
        for name, leaf in self.leaves.items():
            if leaf is step.leaf:
                return name
        return self._labels.get(step.node_id, "leaf")

    def leaf_grads(self) -> list[tuple[str, torch.Tensor]]:
        """``.grad`` each leaf holds after the pass: its old ``.grad`` plus what arrived."""
        out = []
        for step in self.steps:
            if step.node == "AccumulateGrad" and step.leaf is not None:
                incoming = step.grad_outputs[0] if step.grad_outputs else None
                before = step.leaf.grad
                if incoming is None:
                    grad = before
                else:
                    grad = incoming if before is None else before.detach() + incoming
                out.append((self.leaf_name(step), grad))
        return out

    def hand_lines(self) -> list[str]:
        """The hand derivation's backward steps and gradient (side by side with torch)."""
        d = self.derivation
        if d is None:
            return []
        lines = [f"By hand: z = {self.expression}"]
        for s in d.steps:
            if s.kind == "backward":
                lines.append(f"  {s.formula}  →  {fmt(s.result)}")
        for name, g in d.gradient.items():
            lines.append(f"  dz/d{name} = {fmt(g)}")
        return lines

    def current_view(self) -> TraceView:
        i = self.index
        if i == len(self.steps):
            lines = [f"{name}.grad = {fmt_tensor(g)}" for name, g in self.leaf_grads()]
            if self.derivation is not None:
                manual = self.derivation.gradient
                for name, g in self.leaf_grads():
                    if name in manual and g is not None and g.numel() == 1:
                        same = math.isclose(float(g), float(manual[name]), rel_tol=1e-9,
                                            abs_tol=1e-12)
                        mark = "✓ equals" if same else "✗ differs from"
                        lines.append(f"{mark} the hand derivation dz/d{name} = "
                                     f"{fmt(manual[name])}")
            leaf_ids = tuple(s.node_id for s in self.steps if s.node == "AccumulateGrad")
            return TraceView("result", f"Result (step {i + 1} of {self.total})",
                             tuple(lines), leaf_ids)
        step = self.steps[i]
        title = f"Step {i + 1} of {self.total}: {step.node}"
        if step.node == "AccumulateGrad":
            name = self.leaf_name(step)
            grad = dict(self.leaf_grads()).get(name)
            lines = (
                f"leaf {name} receives grad_outputs = {fmt_tuple(step.grad_outputs)}",
                f"AccumulateGrad adds it into {name}.grad: {name}.grad = "
                f"{fmt_tensor(grad)}",
                "(it passes nothing on: grad_inputs = ())"
                if not step.grad_inputs else f"grad_inputs = {fmt_tuple(step.grad_inputs)}",
            )
            return TraceView("accumulate", title, lines, (step.node_id,))
        lines = (
            f"grad_outputs (in, upstream) = {fmt_tuple(step.grad_outputs)}",
            f"grad_inputs (out, upstream × local) = {fmt_tuple(step.grad_inputs)}",
        )
        return TraceView("node", title, lines, (step.node_id,))


class BackwardTracer(WidgetBase):
    """Step through torch's real backward pass: Back / Next / Reset, graph highlighted.

    ``BackwardTracer("exp(sin(x**2))", x=3.0)`` visits ExpBackward0, SinBackward0,
    PowBackward0, AccumulateGrad (float64 tensors built by ``derive(...).to_torch``) with the
    hand derivation beside it; ``BackwardTracer(tensor, gradient=None, x=x)`` traces any
    tensor (``x=x`` only names the leaf). ``gradient`` is needed for a non-scalar output.
    """

    def __init__(self, expression_or_tensor: Any, /, gradient: Any = None, **values: Any) -> None:
        self._is_expression = isinstance(expression_or_tensor, str)
        self.state = self._start(lambda: self._build(expression_or_tensor, gradient, values),
                                 self._fallback, "sin(x**2)")
        self._png_cache = GraphPngCache(5.6, 3.0)
        buttons = step_buttons(self, "Previous node of the backward pass",
                               "Next node of the backward pass", "Back to the first node",
                               "Jump to the leaves' .grad")
        self.expression_box = expression_box(
            self.state.expression or "", "e.g. exp(sin(x**2))",
            "Expression whose backward pass to trace; press Enter to apply",
            self._on_expression, visible=self._is_expression)
        self.header_html = html_area("agl-header")
        self.output_html = html_area("agl-output")
        self.hand_html = html_area("agl-hand")
        self.graph_image = png_image()
        self._finish([
            self.header_html,
            self.expression_box,
            buttons,
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
    def _on_expression(self, change: dict[str, Any]) -> None:
        if not self._is_expression:
            return
        text = str(change["new"])
        old = getattr(self.state.derivation, "values", {}) or {}
        values = {k: v for k, v in old.items()}
        values = with_defaults(text, values)
        keep = set(leaf_names(text, values)) | {k for k, v in values.items() if isinstance(v, str)}
        values = {k: v for k, v in values.items() if k in keep}
        def build() -> None:
            self.state = BackwardSteps.from_expression(text, values, self.state.gradient)

        if not self._attempt(build, keep=f" Still showing {self.state.expression}."):
            return
        self._png_cache.clear()
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
        self.back_button.disabled = s.at_start
        self.next_button.disabled = s.at_end
        png, width = self._png_cache.render(view.highlight, self.state.graph, view.highlight)
        self.graph_image.value = png
        self.graph_image.layout.width = width

    def _lines(self) -> list[str]:
        view = self.state.current_view()
        return [view.title, *view.lines]


def _short(text: str) -> str:
    """``text`` quoted, at most about 40 characters of it."""
    return repr(text if len(text) <= 40 else text[:37] + "...")

