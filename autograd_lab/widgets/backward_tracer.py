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
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import torch

from autograd_lab.widgets import _render
from autograd_lab.widgets._expr import DEFAULT_VALUE, leaf_names, with_defaults

DTYPE = torch.float64


@dataclass(frozen=True)
class TraceView:
    """What the tracer shows at one position."""

    position: int
    total: int
    kind: str  # "node", "accumulate" or "result"
    title: str
    lines: tuple[str, ...]
    highlight: tuple[int, ...]


def _tuple_text(grads: tuple[Any, ...]) -> str:
    inner = ", ".join(_render.fmt_tensor(g) for g in grads)
    return f"({inner},)" if len(grads) == 1 else f"({inner})"


class BackwardSteps(_render.StepCursor):
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
        from autograd_lab import autograd_graph, trace_backward

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
        from autograd_lab import derive

        if not expression.strip():
            raise ValueError("The expression box is empty; type an expression such as sin(x**2).")
        derivation = derive(expression, **values)
        output, leaves = derivation.to_torch(DTYPE)
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
                lines.append(f"  {s.formula}  →  {_render.fmt(s.result)}")
        for name, g in d.gradient.items():
            lines.append(f"  dz/d{name} = {_render.fmt(g)}")
        return lines

    def current_view(self) -> TraceView:
        i = self.index
        if i == len(self.steps):
            lines = [f"{name}.grad = {_render.fmt_tensor(g)}" for name, g in self.leaf_grads()]
            if self.derivation is not None:
                manual = self.derivation.gradient
                for name, g in self.leaf_grads():
                    if name in manual and g is not None and g.numel() == 1:
                        same = math.isclose(float(g), float(manual[name]), rel_tol=1e-9,
                                            abs_tol=1e-12)
                        mark = "✓ equals" if same else "✗ differs from"
                        lines.append(f"{mark} the hand derivation dz/d{name} = "
                                     f"{_render.fmt(manual[name])}")
            leaf_ids = tuple(s.node_id for s in self.steps if s.node == "AccumulateGrad")
            return TraceView(i, self.total, "result", f"Result (step {i + 1} of {self.total})",
                             tuple(lines), leaf_ids)
        step = self.steps[i]
        title = f"Step {i + 1} of {self.total}: {step.node}"
        if step.node == "AccumulateGrad":
            name = self.leaf_name(step)
            grad = dict(self.leaf_grads()).get(name)
            lines = (
                f"leaf {name} receives grad_outputs = {_tuple_text(step.grad_outputs)}",
                f"AccumulateGrad adds it into {name}.grad: {name}.grad = "
                f"{_render.fmt_tensor(grad)}",
                "(it passes nothing on: grad_inputs = ())"
                if not step.grad_inputs else f"grad_inputs = {_tuple_text(step.grad_inputs)}",
            )
            return TraceView(i, self.total, "accumulate", title, lines, (step.node_id,))
        lines = (
            f"grad_outputs (in, upstream) = {_tuple_text(step.grad_outputs)}",
            f"grad_inputs (out, upstream × local) = {_tuple_text(step.grad_inputs)}",
        )
        return TraceView(i, self.total, "node", title, lines, (step.node_id,))


class BackwardTracer(_render.WidgetView):
    """Step through torch's real backward pass: Back / Next / Reset, graph highlighted.

    ``BackwardTracer("exp(sin(x**2))", x=3.0)`` visits ExpBackward0, SinBackward0,
    PowBackward0, AccumulateGrad (float64 tensors built by ``derive(...).to_torch``) with the
    hand derivation beside it; ``BackwardTracer(tensor, gradient=None, x=x)`` traces any
    tensor (``x=x`` only names the leaf). ``gradient`` is needed for a non-scalar output.
    """

    def __init__(self, expression_or_tensor: Any, /, gradient: Any = None, **values: Any) -> None:
        self.last_error: BaseException | None = None
        message = ""
        self._is_expression = isinstance(expression_or_tensor, str)
        if self._is_expression:
            try:
                vals = _render.clean_values(values)
                self.state = BackwardSteps.from_expression(
                    expression_or_tensor, with_defaults(expression_or_tensor, vals), gradient
                )
            except Exception as exc:  # noqa: BLE001 - shown as one line in the widget
                self.last_error = exc
                message = _render.one_line(exc) + " Showing sin(x**2) instead."
                self.state = BackwardSteps.from_expression("sin(x**2)", {"x": DEFAULT_VALUE})
                self._is_expression = True
        else:
            names = {k: v for k, v in values.items() if isinstance(v, torch.Tensor)}
            try:
                self.state = BackwardSteps(expression_or_tensor, names, gradient)
            except Exception as exc:  # noqa: BLE001 - shown as one line in the widget
                self.last_error = exc
                message = _render.one_line(exc) + " Showing sin(x**2) instead."
                self.state = BackwardSteps.from_expression("sin(x**2)", {"x": DEFAULT_VALUE})
                self._is_expression = True

        self._fig = _render.new_figure(5.6, 3.0)
        self._ax = self._fig.add_axes((0.0, 0.0, 1.0, 1.0))
        self._png_cache = _render.GraphPngCache(self._fig, self._ax)
        self.back_button = _render.button("◀ Back", "Previous node of the backward pass",
                                          "agl-back")
        self.next_button = _render.button("Next ▶", "Next node of the backward pass", "agl-next")
        self.reset_button = _render.button("↺ Reset", "Back to the first node", "agl-reset")
        self.end_button = _render.button("Last ▶▶", "Jump to the leaves' .grad", "agl-last")
        self.back_button.on_click(lambda _: self._move(self.state.back))
        self.next_button.on_click(lambda _: self._move(self.state.next))
        self.reset_button.on_click(lambda _: self._move(self.state.reset))
        self.end_button.on_click(lambda _: self._move(self.state.go_to_end))
        self.expression_box = widgets.Text(
            value=self.state.expression or "",
            description="z =",
            placeholder="e.g. exp(sin(x**2))",
            continuous_update=False,
            tooltip="Expression whose backward pass to trace; press Enter to apply",
            layout=widgets.Layout(width="360px", display="" if self._is_expression else "none"),
        )
        self.expression_box.add_class("agl-expression")
        self.expression_box.observe(self._on_expression, names="value")
        self.header_html = widgets.HTML()
        self.header_html.add_class("agl-header")
        self.output_html = widgets.HTML()
        self.output_html.add_class("agl-output")
        self.hand_html = widgets.HTML()
        self.hand_html.add_class("agl-hand")
        self.graph_image = widgets.Image(
            format="png", layout=_render.image_layout(),
        )
        self.graph_image.add_class("agl-graph")
        self.message = widgets.HTML(value=_render.message_html(message))
        self.message.add_class("agl-message-area")
        self.root = widgets.VBox([
            self.header_html,
            self.expression_box,
            widgets.HBox([self.back_button, self.next_button, self.reset_button,
                          self.end_button]),
            self.message,
            widgets.HBox([self.graph_image, widgets.VBox([self.output_html, self.hand_html])]),
        ])
        self.root.add_class("agl-widget")
        self.root.add_class("agl-backward-tracer")
        self._render()

    def _plain(self) -> str:
        if self.state.expression is not None:
            vals = [f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}"
                    for k, v in self.state.derivation.values.items()]
            return _render.plain_repr("BackwardTracer", self.state.expression, *vals)
        return _render.plain_repr("BackwardTracer", f"<tensor, {len(self.state.steps)} nodes>")

    # -- handlers -------------------------------------------------------------------
    @_render.guarded
    def _move(self, action: Any) -> None:
        action()
        self._render()

    @_render.guarded
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
        self.header_html.value = f'<b class="agl-title">{_render.html.escape(head)}</b>'
        self.output_html.value = (
            f"<b>{_render.html.escape(view.title)}</b>" + _render.pre_html(view.lines)
        )
        hand = s.hand_lines()
        self.hand_html.value = (
            "<b>Hand derivation</b>" + _render.pre_html(hand, "agl-text agl-hand-text")
            if hand else ""
        )
        self.back_button.disabled = s.at_start
        self.next_button.disabled = s.at_end
        png, width = self._png_cache.render(view.highlight, self.state.graph, view.highlight)
        self.graph_image.value = png
        self.graph_image.layout.width = width

    @property
    def text(self) -> str:
        view = self.state.current_view()
        return "\n".join([view.title, *view.lines])

