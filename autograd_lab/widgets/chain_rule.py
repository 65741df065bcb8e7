"""ChainRuleStepper: the hand chain rule, one step at a time, beside its graph.

Forward steps compute each intermediate node; backward steps multiply the upstream gradient
by the local derivative, ``dz/dx = dz/dv · dv/dx``; the last step compares the manual result
with torch autograd and a central finite difference.

:class:`ChainRuleSteps` is the plain-Python state (tests drive it directly);
:class:`ChainRuleStepper` is the ipywidgets view.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import ipywidgets as widgets

from autograd_lab.derivation import derive
from autograd_lab.errors import GradientMismatch
from autograd_lab.formatting import fmt
from autograd_lab.graph import Graph
from autograd_lab.widgets.base import WidgetBase, guarded, plain_repr
from autograd_lab.widgets.controls import expression_box, html_area, png_image, step_buttons
from autograd_lab.widgets.cursor import StepCursor, StepView
from autograd_lab.widgets.figures import GraphPngCache
from autograd_lab.widgets.inputs import (
    DEFAULT_VALUE,
    clean_values,
    referenced_names,
    with_defaults,
)
from autograd_lab.widgets.markup import escape, pre_html, title_html

SLIDER_MIN, SLIDER_MAX, SLIDER_STEP = -5.0, 5.0, 0.1
#: Sliders for at most this many variables (the first ones); the others keep their values.
MAX_SLIDERS = 24


@dataclass(frozen=True)
class FinalComparison:
    """``dz/d<var>`` three ways: manual chain rule, torch autograd (float64), finite difference."""

    rows: tuple[tuple[str, float, float, float | None], ...]
    agree: bool

    def lines(self, output: str = "z") -> list[str]:
        out = []
        for name, manual, auto, numeric in self.rows:
            fd = "n/a" if numeric is None else fmt(numeric)
            out.append(
                f"d{output}/d{name}: manual = {fmt(manual)}, autograd = "
                f"{fmt(auto)}, finite difference = {fd}"
            )
        if not self.agree:
            out.append("✗ the three results do not agree (see the rows above)")
        elif any(numeric is None for *_, numeric in self.rows):
            out.append("✓ manual = autograd (finite difference n/a: a kink or the domain edge)")
        else:
            out.append("✓ manual = autograd = finite difference")
        return out


class ChainRuleSteps(StepCursor):
    """Position in a :class:`~autograd_lab.Derivation`'s steps, plus a final comparison.

    Positions ``0 … len(steps) - 1`` are the derivation's steps (forward first, then
    backward); position ``len(steps)`` is the result: manual = autograd = finite difference.
    """

    def __init__(self, expression: str = "sin(x**2)", values: dict[str, Any] | None = None):
        self.expression = ""
        self.values: dict[str, Any] = {}
        self.derivation: Any = None
        self.index = 0
        self._final: FinalComparison | None = None
        self._graph: Any = None
        self.rederive(expression, dict(values or {}))

    # -- state -----------------------------------------------------------------
    @property
    def total(self) -> int:
        """Number of positions: every step plus the final comparison."""
        return len(self.derivation.steps) + 1

    def rederive(self, expression: str | None = None, values: dict[str, Any] | None = None) -> None:
        """Derive again (new expression and/or values); keeps the position when it still exists.

        Raises ``ExpressionError``/``DerivationError`` and leaves the state unchanged when the
        new input is bad.
        """
        expression = self.expression if expression is None else expression
        values = dict(self.values if values is None else values)
        if not isinstance(expression, str):
            raise TypeError(
                f"The expression must be text in quotes, e.g. ChainRuleStepper('sin(x**2)', "
                f"x=3.0), not {type(expression).__name__}."
            )
        if not expression.strip():
            raise ValueError("The expression box is empty; type an expression such as sin(x**2).")
        derivation = derive(expression, **values)
        self.expression, self.values, self.derivation = expression, values, derivation
        self._final = None
        self._graph = None
        self.index = min(self.index, self.total - 1)

    @property
    def leaves(self) -> list[str]:
        return [k for k, v in self.values.items() if not isinstance(v, str)]

    def graph(self) -> Any:
        """The hand-derivation Graph (cached per derivation)."""
        if self._graph is None:
            self._graph = self.derivation.graph()
        return self._graph

    def graph_at(self, index: int | None = None) -> Any:
        """The graph as known at a position: values of nodes computed so far, gradients
        reached so far (``dz/dz = 1`` at the output first), everything at the result.
        """
        graph = self.graph()
        steps = self.derivation.steps
        i = self.index if index is None else index
        if i >= len(steps):
            return graph
        known_values: set[int] = {n.id for n in graph.nodes if n.kind == "leaf"}
        grads: dict[int, float] = {}
        for step in steps[: i + 1]:
            if step.kind == "forward":
                known_values.add(step.node_id)
            else:
                grads.setdefault(step.node_id, step.upstream if step.upstream is not None
                                 else 1.0)
                if step.input_id is not None:
                    grads[step.input_id] = step.result
        nodes = [
            replace(n, value=n.value if n.id in known_values else None, grad=grads.get(n.id))
            for n in graph.nodes
        ]
        return Graph(nodes=nodes, edges=list(graph.edges))

    def final(self) -> FinalComparison:
        """manual (chain rule), autograd (torch float64) and central difference per leaf.

        Taken from ``Derivation.check()``; the finite difference is None ("n/a") at a
        relu/abs kink or at the edge of the domain.
        """
        if self._final is None:
            try:
                table = self.derivation.check()
            except GradientMismatch as exc:
                table = exc.table
            rows = tuple(
                (r.variable, float(r.manual), float(r.autograd),
                 None if isinstance(r.numerical, str) else float(r.numerical))
                for r in table.rows
            )
            agree = bool(table.ok) and all(r.numerical_ok is not False for r in table.rows)
            self._final = FinalComparison(rows, agree)
        return self._final

    # -- what to show ------------------------------------------------------------
    def header(self) -> str:
        parts = []
        for name, value in self.values.items():
            parts.append(f"{name} = {value}" if isinstance(value, str) else f"{name} = {value:g}")
        out = f"{self.derivation.output_name} = {self.expression}"
        return f"{out}   at " + ", ".join(parts) if parts else out

    def current_view(self) -> StepView:
        steps = self.derivation.steps
        n_forward = sum(1 for s in steps if s.kind == "forward")
        i = self.index
        if i == len(steps):
            final = self.final()
            out = self.derivation.output_name
            lines = [f"{out} = {self.expression} = {fmt(self.derivation.value)}",
                     *final.lines(out)]
            out_id = _output_id(self.graph())
            return StepView("result", f"Result (step {i + 1} of {self.total})",
                            tuple(lines), (out_id,) if out_id is not None else (), final)
        step = steps[i]
        if step.kind == "forward":
            title = f"Forward step {i + 1} of {n_forward} (step {i + 1} of {self.total})"
            lines = [step.node, f"operation: {step.formula}", f"value = {fmt(step.result)}"]
            return StepView("forward", title, tuple(lines), (step.node_id,))
        k = i - n_forward + 1
        title = (
            f"Backward step {k} of {len(steps) - n_forward} (step {i + 1} of {self.total})"
        )
        accumulate = "+=" in (step.formula or "")
        lines = [
            f"local derivative: {step.formula}",
            f"  local = {fmt(step.local)}",
            f"  upstream = {fmt(step.upstream)}",
            f"  upstream × local = {fmt(step.upstream)} × {fmt(step.local)}"
            + ("" if accumulate else f" = {fmt(step.result)}"),
        ]
        if accumulate:
            lines.append(f"  reached again, so add: running total = {fmt(step.result)}")
        highlight = (step.node_id,) if step.input_id is None else (step.node_id, step.input_id)
        return StepView("backward", title, tuple(lines), highlight)


def _output_id(graph: Any) -> int | None:
    for node in graph.nodes:
        if node.kind == "output":
            return node.id
    return graph.nodes[-1].id if graph.nodes else None


class ChainRuleStepper(WidgetBase):
    """Step through ``derive(expression, **values)``: Back / Next / Reset, sliders, graph.

    ``ChainRuleStepper("sin(x**2)", x=3.0)`` — forward steps show each node's value; backward
    steps show ``local``, ``upstream`` and their product ``dz/dv_in = dz/dv · dv/dv_in``; the
    last step shows manual = autograd = finite difference (``-5.4668`` here).
    Numeric values get a slider (default 2.0, range −5…5, widened to include the value);
    string values define named intermediates (``y="x**2"``).
    """

    def __init__(self, expression: str = "sin(x**2)", /, **values: float | str) -> None:
        self.state = self._start(
            lambda: ChainRuleSteps(expression, with_defaults(expression, clean_values(values))),
            lambda: ChainRuleSteps("sin(x**2)", {"x": DEFAULT_VALUE}), "sin(x**2)")
        self._definitions = {k: v for k, v in self.state.values.items() if isinstance(v, str)}
        self._png_cache = GraphPngCache(5.2, 3.4)
        self.expression_box = expression_box(
            self.state.expression, "e.g. sin(x**2)",
            "Expression to differentiate; press Enter to apply", self._on_expression)
        buttons = step_buttons(self, "Previous step (back)", "Next step of the chain rule",
                               "Back to the first step", "Jump to the result: manual = autograd")
        self.sliders: dict[str, widgets.FloatSlider] = {}
        self.slider_box = widgets.VBox([])
        self.header_html = html_area("agl-header")
        self.output_html = html_area("agl-output")
        self.graph_image = png_image()
        self._sync_sliders()
        self._finish([
            self.header_html,
            widgets.HBox([self.expression_box]),
            self.slider_box,
            buttons,
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
    def _on_expression(self, change: dict[str, Any]) -> None:
        text = str(change["new"])
        current = {k: s.value for k, s in self.sliders.items()}
        fixed = dict(self._definitions)  # the intermediates given when the widget was made
        values = with_defaults(text, {**fixed, **current})
        used = set(referenced_names(text, values))
        values = {k: v for k, v in values.items() if k in used}
        self._apply(lambda: self.state.rederive(text, values), reset=True)

    @guarded
    def _on_slider(self, change: dict[str, Any]) -> None:
        values = dict(self.state.values)
        for name, slider in self.sliders.items():
            values[name] = float(slider.value)
        self._apply(lambda: self.state.rederive(None, values), reset=False)

    def _apply(self, action: Any, reset: bool) -> None:
        if not self._attempt(action, keep=f" Still showing {self.state.expression}."):
            return
        self._png_cache.clear()
        if reset:
            self.state.reset()
            self._sync_sliders()
        self._render()

    def _sync_sliders(self) -> None:
        """One slider per leaf variable, for the first ``MAX_SLIDERS`` of them (kept across
        expressions when the name stays)."""
        leaves = self.state.leaves[:MAX_SLIDERS]
        for name in list(self.sliders):
            if name not in leaves:
                self.sliders.pop(name).unobserve(self._on_slider, names="value")
        for name in leaves:
            value = float(self.state.values[name])
            if name in self.sliders:
                continue
            slider = widgets.FloatSlider(
                value=value,
                min=min(SLIDER_MIN, math.floor(value)),
                max=max(SLIDER_MAX, math.ceil(value)),
                step=SLIDER_STEP,
                description=f"{name} =",
                continuous_update=False,
                readout_format=".2f",
                tooltip=f"Value of the variable {name}",
            )
            slider.add_class("agl-slider")
            slider.add_class(f"agl-slider-{name}")
            slider.observe(self._on_slider, names="value")
            self.sliders[name] = slider
        self.slider_box.children = tuple(self.sliders[n] for n in leaves)

    def _render(self) -> None:
        view = self.state.current_view()
        self.header_html.value = title_html(self.state.header())
        body = [f"<b>{escape(view.title)}</b>", pre_html(view.lines)]
        if view.final is not None:
            cls = "agl-final agl-ok" if view.final.agree else "agl-final agl-error"
            body.append(f'<div class="{cls}" data-agree="{str(view.final.agree).lower()}"></div>')
        self.output_html.value = "".join(body)
        self.back_button.disabled = self.state.at_start
        self.next_button.disabled = self.state.at_end
        key = (id(self.state.derivation), self.state.index)
        png, width = self._png_cache.render(key, self.state.graph_at(), view.highlight)
        self.graph_image.value = png
        self.graph_image.layout.width = width

    def _lines(self) -> list[str]:
        """The current step as plain text (what the output area shows)."""
        view = self.state.current_view()
        return [view.title, *view.lines]
