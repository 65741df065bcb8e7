"""GradAccumulationLab: ``.grad`` adds up over backward calls unless you clear it.

``backward()`` does ``x.grad += dy/dx`` — it *accumulates*. Five calls on ``y = x**3`` at
``x = 2`` leave 12, 24, 36, 48, 60 in ``x.grad`` (lesson 06's loop); ``x.grad.zero_()`` or
``x.grad = None`` between calls gives 12 each time. And backward frees the graph's saved
tensors, so a second backward through the *same* graph needs ``retain_graph=True`` —
otherwise torch raises "Trying to backward through the graph a second time".

Real torch, float32 like lesson 06 (so values print 12.0 …). The typed expression is parsed
by :func:`autograd_lab.derive` (an ``ast`` whitelist) and built on one persistent leaf ``x``
with :meth:`Derivation.to_torch`; nothing typed is ever evaluated as Python.

:class:`AccumulationRun` is the plain-Python logic; :class:`GradAccumulationLab` the view.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as widgets
import torch

from autograd_lab.derivation import derive
from autograd_lab.expression import names_in, parse_expression
from autograd_lab.formatting import fmt_short
from autograd_lab.widgets.base import WidgetBase, guarded, one_line, plain_repr
from autograd_lab.widgets.controls import html_area, png_image
from autograd_lab.widgets.figures import figure_png, new_figure
from autograd_lab.widgets.markup import message_html, pre_html, table_html

MAX_CALLS = 10
MODES = ("nothing", "grad.zero_()", "grad = None")
DTYPE = torch.float32


def torch_forward(expression: str) -> tuple[str, Callable[[torch.Tensor], torch.Tensor]]:
    """``(variable name, f)`` where ``f(x)`` builds ``expression`` on the tensor ``x`` in torch.

    The torch graph comes from :meth:`Derivation.to_torch` with ``x`` passed in as the leaf,
    so every forward pass feeds the same ``x.grad``. Raises ``ExpressionError`` for text
    outside the grammar and ``ValueError`` unless the expression has exactly one variable.
    """
    if not isinstance(expression, str) or not expression.strip():
        raise ValueError("The expression box is empty; type a function of x such as x**3.")
    names = names_in(parse_expression(expression))
    if len(names) != 1:
        found = ", ".join(names) if names else "none"
        raise ValueError(
            f"This lab needs a function of one variable (found: {found}); try e.g. x**3."
        )
    (name,) = names

    def f(x: torch.Tensor) -> torch.Tensor:
        derivation = derive(expression, **{name: float(x.detach())})
        return derivation.to_torch(DTYPE, leaves={name: x})[0]

    return name, f


@dataclass
class AccumulationResult:
    """One run: ``.grad`` after each backward call, what happened between calls, any error."""

    variable: str
    grads: list[float | None] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    code: list[str] = field(default_factory=list)
    error: str = ""
    failed_call: int | None = None


class AccumulationRun:
    """Settings of the lab and the run they produce (real torch, float32).

    ``calls`` backward calls on ``expression`` at ``x``; ``mode`` is what happens after each
    call ("nothing", "grad.zero_()", "grad = None"); ``fresh_forward`` rebuilds ``y`` before
    every call (a new graph each time) instead of re-using one graph, which only works with
    ``retain_graph=True``.
    """

    def __init__(
        self,
        expression: str = "x**3",
        x: float = 2.0,
        calls: int = 5,
        mode: str = "nothing",
        fresh_forward: bool = True,
        retain_graph: bool = False,
    ) -> None:
        self.expression = ""
        self.x = float(x)
        self.calls = int(calls)
        self.mode = mode
        self.fresh_forward = bool(fresh_forward)
        self.retain_graph = bool(retain_graph)
        self._forward: Callable[[torch.Tensor], torch.Tensor] | None = None
        self.variable = "x"
        self.set_expression(expression)
        self.set_mode(mode)

    def set_expression(self, expression: str) -> None:
        """Parse a new expression (raises on bad input, leaving the old one in place)."""
        name, forward = torch_forward(expression)
        self.expression, self.variable, self._forward = expression.strip(), name, forward

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"Unknown mode {mode!r}; choose one of {', '.join(MODES)}.")
        self.mode = mode

    def code_lines(self) -> list[str]:
        v = self.variable
        lines = [f"{v} = torch.tensor({self.x!r}, requires_grad=True)"]
        rg = ", retain_graph=True" if self.retain_graph else ""
        if not self.fresh_forward:
            lines.append(f"y = {self.expression}        # one forward pass, one graph")
        lines.append(f"for i in range({self.calls}):")
        if self.fresh_forward:
            lines.append(f"    y = {self.expression}    # fresh forward: a new graph each call")
        lines.append(f"    y.backward({rg.lstrip(', ')})")
        lines.append(f"    print(f'Gradient of {v} at {{i}} is {{{v}.grad}}')")
        if self.mode == "grad.zero_()":
            lines.append(f"    {v}.grad.zero_()")
        elif self.mode == "grad = None":
            lines.append(f"    {v}.grad = None")
        return lines

    def run(self) -> AccumulationResult:
        assert self._forward is not None
        if not 1 <= self.calls <= MAX_CALLS:
            raise ValueError(f"calls={self.calls} is out of range; choose 1 to {MAX_CALLS}.")
        result = AccumulationResult(self.variable, code=self.code_lines())
        x = torch.tensor(self.x, dtype=DTYPE, requires_grad=True)
        y = None if self.fresh_forward else self._forward(x)
        for i in range(self.calls):
            if self.fresh_forward:
                y = self._forward(x)
            try:
                y.backward(retain_graph=self.retain_graph)
            except RuntimeError as exc:
                result.error = one_line(exc)
                result.failed_call = i + 1
                break
            result.grads.append(None if x.grad is None else float(x.grad.item()))
            if self.mode == "grad.zero_()" and x.grad is not None:
                x.grad.zero_()
                result.after.append(f"{self.variable}.grad.zero_() → {x.grad.item():g}")
            elif self.mode == "grad = None":
                x.grad = None
                result.after.append(f"{self.variable}.grad = None")
            else:
                result.after.append("nothing (keeps adding)")
        return result

    def log_lines(self, result: AccumulationResult) -> list[str]:
        """Lesson 06's printout: ``Gradient of x at 0 is 12.0`` …, then any error."""
        v = result.variable
        lines = [
            f"Gradient of {v} at {i} is {'None' if g is None else fmt_short(g)}"
            for i, g in enumerate(result.grads)
        ]
        if result.error:
            lines.append(f"call {result.failed_call}: {result.error}")
        return lines


class GradAccumulationLab(WidgetBase):
    """Call ``backward()`` several times and watch ``x.grad`` accumulate (or not).

    Controls: the function of x, the number of backward calls (1–10), what happens between
    calls (nothing / ``grad.zero_()`` / ``grad = None``), whether each call runs a fresh
    forward pass, and ``retain_graph``. Shows the ``.grad`` history as a table, lesson 06's
    printout and a bar plot (12, 24, 36, … versus 12, 12, 12 … for ``x**3`` at 2).
    """

    def __init__(self, expression: str = "x**3", x: float = 2.0) -> None:
        self.state = self._start(lambda: AccumulationRun(expression, x),
                                 lambda: AccumulationRun("x**3", x), "x**3")
        self.result = self.state.run()
        self.expression_box = widgets.Text(
            value=self.state.expression, description="y =", continuous_update=False,
            placeholder="e.g. x**3", tooltip="Function of x; press Enter to apply",
            layout=widgets.Layout(width="300px"),
        )
        self.expression_box.add_class("agl-expression")
        self.calls_slider = widgets.IntSlider(
            value=5, min=1, max=MAX_CALLS, description="backward calls", continuous_update=False,
            tooltip="How many times backward() is called",
            style={"description_width": "initial"},
        )
        self.calls_slider.add_class("agl-calls")
        self.mode_buttons = widgets.ToggleButtons(
            options=list(MODES), value=MODES[0], description="between calls:",
            tooltips=["Do nothing: gradients add up", "x.grad.zero_(): reset to 0 in place",
                      "x.grad = None: drop the gradient tensor"],
            style={"description_width": "initial", "button_width": "auto"},
        )
        self.mode_buttons.add_class("agl-mode")
        self.fresh_checkbox = widgets.Checkbox(
            value=True, description="fresh forward pass before each call",
            tooltip="Rebuild y (a new graph) before every backward()", indent=False,
        )
        self.fresh_checkbox.add_class("agl-fresh")
        self.retain_checkbox = widgets.Checkbox(
            value=False, description="retain_graph=True", indent=False,
            tooltip="Keep the graph's saved tensors so it can be backpropagated again",
        )
        self.retain_checkbox.add_class("agl-retain")
        self.button_row(("run_button", "▶ Run", "Run the backward calls again", "agl-run",
                         self._read_controls), clear=True)
        self.expression_box.observe(self._on_expression, names="value")
        for control in (self.calls_slider, self.mode_buttons, self.fresh_checkbox,
                        self.retain_checkbox):
            control.observe(lambda _: self._act(self._read_controls), names="value")
        self.code_html = html_area("agl-code-area")
        self.table_html = html_area("agl-table-area")
        self.output_html = html_area("agl-output")
        self.plot_image = png_image("agl-plot")
        self._fig = new_figure(5.0, 2.8)
        self._ax = self._fig.add_axes((0.12, 0.17, 0.84, 0.7))
        self._setup_axes()
        self._finish([
            widgets.HTML("<b>Gradient accumulation: what backward() does to .grad</b>"),
            widgets.HBox([self.expression_box, self.calls_slider]),
            self.mode_buttons,
            widgets.HBox([self.fresh_checkbox, self.retain_checkbox, self.run_button]),
            self.message,
            widgets.HBox([self.plot_image, widgets.VBox([self.output_html, self.table_html])]),
            self.code_html,
        ], "agl-grad-accumulation-lab")

    def _plain(self) -> str:
        return plain_repr("GradAccumulationLab", self.state.expression,
                          f"{self.state.variable}={self.state.x}")

    # -- handlers --------------------------------------------------------------------
    @guarded
    def _on_expression(self, change: dict[str, Any]) -> None:
        text = str(change["new"])
        if self._attempt(lambda: self.state.set_expression(text),
                         keep=f" Still using {self.state.expression}."):
            self._act(self._read_controls)

    def _read_controls(self) -> None:
        """Copy the controls into the state and run it again."""
        s = self.state
        s.calls = int(self.calls_slider.value)
        s.fresh_forward = bool(self.fresh_checkbox.value)
        s.retain_graph = bool(self.retain_checkbox.value)
        s.set_mode(str(self.mode_buttons.value))
        self.result = s.run()

    # -- drawing ----------------------------------------------------------------------
    def _render(self) -> None:
        r, s = self.result, self.state
        v = r.variable
        self.code_html.value = "<b>The code this runs</b>" + pre_html(
            r.code, "agl-text agl-code")
        log = self.state.log_lines(r)
        err = (
            f'<div class="agl-torch-error">{message_html(r.error)}</div>'
            if r.error else ""
        )
        self.output_html.value = pre_html(log, "agl-text agl-log") + err
        rows = [
            [str(i + 1), "None" if g is None else fmt_short(g), after]
            for i, (g, after) in enumerate(zip(r.grads, r.after, strict=False))
        ]
        if r.error:
            rows.append([str(r.failed_call), "RuntimeError", "(stopped)"])
        self.table_html.value = table_html(
            ["backward call", f"{v}.grad after it", "then"], rows, cls="agl-table agl-grad-table"
        )
        self.plot_image.value = self._draw(r, s)

    def _setup_axes(self) -> None:
        """Create every artist once; each redraw only updates them (no ``ax.clear()``)."""
        ax = self._ax
        slots = range(1, MAX_CALLS + 1)
        self._bars = ax.bar(slots, [0.0] * MAX_CALLS, color="#0072B2", width=0.6,
                            label="x.grad after call")
        self._labels = [ax.text(c, 0.0, "", ha="center", va="bottom", fontsize=7)
                        for c in slots]
        self._one_line = ax.axhline(0.0, color="#D55E00", linestyle="--", lw=1.2,
                                    label="one backward")
        self._error_text = ax.text(0.5, 0.5, "", transform=ax.transAxes, ha="center",
                                   color="#D55E00", fontsize=10, fontweight="bold")
        ax.set_xlabel("backward call", fontsize=8)
        ax.tick_params(labelsize=7)
        self._legend = ax.legend([self._bars, self._one_line],
                                 ["x.grad after call", "one backward"],
                                 fontsize=7, loc="upper left")

    def _draw(self, r: AccumulationResult, s: AccumulationRun) -> bytes:
        ax = self._ax
        heights = [0.0 if g is None or not math.isfinite(g) else g for g in r.grads]
        for i, (bar, label) in enumerate(zip(self._bars, self._labels, strict=True)):
            shown = i < len(heights)
            h = heights[i] if shown else 0.0
            bar.set_height(h)
            bar.set_visible(shown)
            label.set_position((i + 1, h))
            label.set_va("bottom" if h >= 0 else "top")
            label.set_text(fmt_short(r.grads[i] if r.grads[i] is not None else 0.0)
                           if shown else "")
        first = heights[0] if heights and r.grads[0] is not None else None
        self._one_line.set_visible(first is not None)
        self._one_line.set_ydata([first or 0.0, first or 0.0])
        texts = self._legend.get_texts()
        texts[0].set_text(f"{r.variable}.grad after call")
        texts[1].set_text(f"one backward: {fmt_short(first)}" if first is not None
                          else "one backward")
        self._error_text.set_text(f"call {r.failed_call}: RuntimeError" if r.error else "")
        lo = min([0.0, *heights])
        hi = max([0.0, *heights])
        span = (hi - lo) or 1.0
        ax.set_ylim(lo - (0.15 * span if lo < 0 else 0.0), hi + 0.4 * span)  # room for legend
        ax.set_xlim(0.4, s.calls + 0.6)
        ax.set_xticks(range(1, s.calls + 1))
        ax.set_title(f"{r.variable}.grad, mode: {s.mode}", fontsize=9)
        return figure_png(self._fig)

    def _lines(self) -> list[str]:
        return self.state.log_lines(self.result)
