"""GradAccumulationLab: ``.grad`` adds up over backward calls unless you clear it.

Predict, then call: the learner predicts ``x.grad`` right after the next backward call
(or "error" where torch refuses), then the call is made on one persistent ``x`` and its bar
is drawn — nothing is drawn before the learner acts. ``x**3`` at 2 gives 12, 24, 36, …
(``dy/dx = 3x² = 12`` added each call), or 12 every time with ``zero_()`` / ``= None``.

:class:`AccumulationRun` (in :mod:`~autograd_lab.widgets.accumulation_state`) is the
plain-Python state; :class:`GradAccumulationLab` the view.
"""

from __future__ import annotations

import math
from typing import Any

import ipywidgets as widgets

from autograd_lab.formatting import fmt_short
from autograd_lab.verdict import Verdict
from autograd_lab.widgets.accumulation_state import (
    DTYPE,
    MAX_CALLS,
    MODES,
    AccumulationResult,
    AccumulationRun,
    short_name,
    torch_forward,
)
from autograd_lab.widgets.base import WidgetBase, guarded, plain_repr
from autograd_lab.widgets.controls import html_area, picture_area
from autograd_lab.widgets.markup import message_html, pre_html, table_html
from autograd_lab.widgets.prediction_box import PredictionBox
from autograd_lab.widgets.svg import BLUE, RED, Frame, svg
from autograd_lab.widgets.svg import text as svg_text

__all__ = ["DTYPE", "MAX_CALLS", "MODES", "AccumulationResult", "AccumulationRun",
           "GradAccumulationLab", "torch_forward"]


class GradAccumulationLab(WidgetBase):
    """Call ``backward()`` one call at a time and watch ``x.grad`` accumulate (or not).

    Controls: the function of x, the number of backward calls (1–10), what happens between
    calls (nothing / ``grad.zero_()`` / ``grad = None``), whether each call runs a fresh
    forward pass, and ``retain_graph``; changing any of them starts again from a fresh ``x``.
    The prediction row asks for ``x.grad`` after the next call (✓ Check, or Show to just
    call); "Run the rest" makes the remaining calls; "↺ Reset" starts again.
    """

    def __init__(self, expression: str = "x**3", x: float = 2.0) -> None:
        self.state = self._start(lambda: AccumulationRun(expression, x),
                                 lambda: AccumulationRun("x**3", x), "x**3")
        self.expression_box = widgets.Text(
            value=self.state.expression, description="y =", continuous_update=False,
            placeholder="e.g. x**3", tooltip="Function of x; press Enter to apply",
            layout=widgets.Layout(width="300px"),
        )
        self.expression_box.add_class("agl-expression")
        self.calls_box = widgets.BoundedIntText(
            value=self.state.calls, min=1, max=MAX_CALLS, step=1, description="backward calls",
            continuous_update=False,
            tooltip=f"How many times backward() is called (1 to {MAX_CALLS}; ↑/↓ step by one)",
            style={"description_width": "initial"}, layout=widgets.Layout(width="200px"),
        )
        self.calls_box.add_class("agl-calls")
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
        self.prediction = PredictionBox(self, self.state.pending, self.next_call,
                                        error_possible=True, slips=self.state.slips)
        buttons = self.button_row(
            ("run_button", "▶▶ Run the rest", "Make every remaining backward call now",
             "agl-run", self.state.run_rest),
            ("reset_button", "↺ Reset x", "A fresh x (x.grad = None): no calls made yet",
             "agl-reset", self.state.reset),
            clear=True,
        )
        self.expression_box.observe(self._on_expression, names="value")
        for control in (self.calls_box, self.mode_buttons, self.fresh_checkbox,
                        self.retain_checkbox):
            control.observe(lambda _: self._act(self._read_controls), names="value")
        self.code_html = html_area("agl-code-area")
        self.table_html = html_area("agl-table-area")
        self.output_html = html_area("agl-output")
        self.plot_image = picture_area("agl-plot")
        self._finish([
            widgets.HTML("<b>Gradient accumulation: what backward() does to .grad</b>"),
            widgets.HBox([self.expression_box, self.calls_box]),
            self.mode_buttons,
            widgets.HBox([self.fresh_checkbox, self.retain_checkbox]),
            self.prediction.root,
            buttons,
            self.message,
            widgets.HBox([self.plot_image, widgets.VBox([self.output_html, self.table_html])]),
            self.code_html,
        ], "agl-grad-accumulation-lab")

    @property
    def result(self) -> AccumulationResult:
        """The calls made so far on the persistent ``x``."""
        return self.state.result

    def _plain(self) -> str:
        return plain_repr("GradAccumulationLab", self.state.expression[:60],
                          f"{short_name(self.state.variable)}={self.state.x}")

    # -- the public, plain-Python surface ----------------------------------------------
    def predict(self, answer: Any) -> Verdict:
        """Check a prediction of ``x.grad`` after the next call ("error" if it raises).

        ✓ makes the call and draws its bar; ✗ waits for another try. Never raises.
        """
        verdict = self.prediction.predict(answer)
        self._render()
        mark = "✓" if verdict.ok else "✗"
        self.say(f"{mark} {verdict.message}", "ok" if verdict.ok else "error")
        return verdict

    def next_call(self) -> None:
        """Make one backward call on the persistent ``x`` (what ✓ and Show reveal)."""
        self.state.next_call()

    # -- handlers --------------------------------------------------------------------
    @guarded
    def _on_expression(self, change: dict[str, Any]) -> None:
        text = str(change["new"])
        if self._attempt(lambda: self.state.set_expression(text),
                         keep=f" Still using {self.state.expression[:40]}."):
            self._render()

    def _read_controls(self) -> None:
        """Copy the controls into the state; a change starts again from a fresh x."""
        if self.state.configure(self.calls_box.value, str(self.mode_buttons.value),
                                self.fresh_checkbox.value, self.retain_checkbox.value):
            self.say("New settings: a fresh x, no calls made yet. Predict the first call.",
                     "info")

    @guarded
    def _act(self, action: Any) -> None:  # keep the "new settings" line visible
        try:
            if action is not None:
                self.message.value = ""
                action()
        except Exception as exc:  # noqa: BLE001 - shown inside the widget instead
            self.show_error(exc)
        self._render()

    # -- drawing ----------------------------------------------------------------------
    def _render(self) -> None:
        r, s = self.result, self.state
        v = short_name(r.variable)
        self.prediction.refresh()
        self.run_button.disabled = s.finished
        self.reset_button.disabled = s.made == 0
        self.code_html.value = "<b>The code this runs</b>" + pre_html(
            s.code_lines(), "agl-text agl-code")
        made = f"{s.made} of {s.calls} backward calls made"
        log = self.state.log_lines() or [f"{made}: no bars yet."]
        err = (f'<div class="agl-torch-error">{message_html(f"call {r.failed_call}: {r.error}")}'
               "</div>" if r.error else "")
        self.output_html.value = (pre_html([*log, made] if s.made else log, "agl-text agl-log")
                                  + err)
        rows = [
            [str(i + 1), "None" if g is None else fmt_short(g), after]
            for i, (g, after) in enumerate(zip(r.grads, r.after, strict=False))
        ]
        if r.error:
            rows.append([str(r.failed_call), "RuntimeError", "(stopped)"])
        then = {"nothing": "nothing", "grad.zero_()": f"{v}.grad.zero_()",
                "grad = None": f"{v}.grad = None"}[s.mode]
        rows += [[str(i + 1), "?", then] for i in range(len(rows), s.calls)]
        self.table_html.value = table_html(
            ["backward call", f"{v}.grad after it", "then"], rows, cls="agl-table agl-grad-table"
        )
        self.plot_image.value = self._picture()

    def _picture(self) -> str:
        """The bar of ``x.grad`` after each call made, the first call's value dashed."""
        r, s = self.result, self.state
        v = short_name(r.variable)
        heights = [0.0 if g is None or not math.isfinite(g) else g for g in r.grads]
        lo, hi = min([0.0, *heights]), max([0.0, *heights])
        span = (hi - lo) or 1.0
        frame = Frame(64.0, 34.0, 380.0, 170.0, (0.4, s.calls + 0.6),
                      (lo - (0.15 * span if lo < 0 else 0.0), hi + 0.6 * span))
        title = f"{v}.grad, mode: {s.mode} — {s.made} of {s.calls} calls"
        body = frame.axes(range(1, s.calls + 1), "backward call", title)
        _, zero = frame.px(0.0, 0.0)
        for i, h in enumerate(heights):
            (x0, top), (x1, _) = frame.px(i + 0.7, h), frame.px(i + 1.3, h)
            body.append(f'<rect class="agl-bar" x="{x0:.1f}" y="{min(top, zero):.1f}" '
                        f'width="{x1 - x0:.1f}" height="{abs(zero - top):.1f}" fill="{BLUE}"/>')
            label = fmt_short(r.grads[i] if r.grads[i] is not None else 0.0)
            body.append(svg_text((x0 + x1) / 2, top - 9.0 if h >= 0 else top + 9.0, label))
        said = f"{title}: no bars yet."
        if heights:
            first = heights[0]
            body.append(frame.polyline([(0.4, first), (s.calls + 0.6, first)], RED, dashed=True))
            body += frame.legend([(BLUE, f"{v}.grad after call"),
                                  (RED, f"one backward: {fmt_short(first)}")])
            said = f"{title}: {v}.grad after each call " + ", ".join(
                fmt_short(h) for h in heights) + "."
        if r.error or not heights:
            note = f"call {r.failed_call}: RuntimeError" if r.error else \
                "no calls yet: predict, then Check"
            body.append(svg_text(frame.left + frame.width / 2, frame.top + frame.height / 2,
                                 note, extra=' font-weight="bold"'))
            said += f" {note}." if r.error else ""
        return svg(frame.left + frame.width + 16.0, frame.top + frame.height + 40.0, said,
                   body, "agl-bars")

    def _lines(self) -> list[str]:
        lines = self.state.log_lines()
        if self.result.error:
            lines.append(f"call {self.result.failed_call}: {self.result.error}")
        return lines + self.prediction.lines()
