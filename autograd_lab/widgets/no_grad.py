"""NoGradExplorer: four ways to stop gradient tracking, computed live with torch, side by side.

Columns: plain (tracking on), ``x.requires_grad_(False)``, ``x.detach()``, ``torch.no_grad()``.
Predict, then reveal: the plain column is shown from the start; for every other column the
learner picks a guess for each row (``.requires_grad``, ``.is_leaf``, ``.grad_fn``, shared
storage, ``y.grad_fn``, what ``y.backward()`` does), presses Reveal and sees ✓ / ✗ per row.

:class:`NoGradPanel` (in :mod:`~autograd_lab.widgets.no_grad_state`) is the plain-Python
logic; :class:`NoGradExplorer` the view.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import torch

from autograd_lab.widgets.base import WidgetBase, guarded, plain_repr
from autograd_lab.widgets.controls import html_area
from autograd_lab.widgets.markup import escape, message_html, pre_html, table_html
from autograd_lab.widgets.no_grad_state import (
    CODE,
    GUESS_ROWS,
    HANDLE,
    INPLACE_CODE,
    METHODS,
    ColumnResult,
    InplaceResult,
    NoGradPanel,
    run_column,
    run_inplace,
)

__all__ = ["CODE", "GUESS_ROWS", "HANDLE", "INPLACE_CODE", "METHODS", "ColumnResult",
           "InplaceResult", "NoGradExplorer", "NoGradPanel", "run_column", "run_inplace"]


class NoGradExplorer(WidgetBase):
    """One panel, four columns: plain, ``requires_grad_(False)``, ``detach()``, ``no_grad()``.

    Everything shown is computed live with torch (nothing hard-coded). Pick a column, guess
    each row, press "Reveal this column" (or Show to skip guessing) and see which guesses
    were right; flip the toggle to see an in-place edit of ``x.detach()`` change ``x``;
    "↺ Start over" hides the three columns again and forgets the guesses.
    """

    def __init__(self, *, x: float = 2.0) -> None:
        self.panel = NoGradPanel(x)
        self._new_message_line()
        self._syncing = False
        self.method_buttons = widgets.ToggleButtons(
            options=list(METHODS), value=METHODS[0], description="column:",
            tooltips=[f"Guess, then reveal the {m} column" for m in METHODS],
            style={"button_width": "auto"},
        )
        self.method_buttons.add_class("agl-method")
        self.method_buttons.observe(self._on_method, names="value")
        self.guess_buttons: dict[str, Any] = {}
        for key, label in GUESS_ROWS:
            toggle = widgets.ToggleButtons(
                options=list(self.panel.choices(key)), value=None, description=label,
                tooltips=[f"Your guess: {label} is {c}" for c in self.panel.choices(key)],
                style={"description_width": "170px", "button_width": "auto"},
            )
            toggle.add_class("agl-guess")
            toggle.add_class(f"agl-guess-{key.replace('_', '-')}")
            toggle.observe(lambda change, key=key: self._on_guess(key, change), names="value")
            self.guess_buttons[key] = toggle
        self.guess_prompt = html_area("agl-guess-prompt")
        self.reveal_row = self.button_row(
            ("reveal_button", "Reveal this column", "Show the column and mark your guesses",
             "agl-reveal", lambda: self.panel.reveal(self.panel.selected)),
            ("show_button", "Show", "Show the column without guessing", "agl-show",
             lambda: self.panel.reveal(self.panel.selected, force=True)),
            clear=True,
        )
        self.guess_box = widgets.VBox([self.guess_prompt, *self.guess_buttons.values(),
                                       self.reveal_row])
        self.guess_box.add_class("agl-guesses")
        self.inplace_toggle = widgets.ToggleButton(
            value=False, description="in-place edit of z = x.detach()",
            tooltip="Show what z.add_(1) on a detached tensor does to the original x",
            icon="pencil", layout=widgets.Layout(width="auto"),
        )
        self.inplace_toggle.add_class("agl-inplace-toggle")
        self.inplace_toggle.observe(self._on_toggle, names="value")
        self.button_row(("reset_button", "↺ Start over",
                         "Hide the three columns again and forget every guess", "agl-reset",
                         self.panel.start_over), clear=True)
        self.score_html = html_area("agl-score")
        self.table_html = html_area("agl-table-area")
        self.output_html = html_area("agl-output")
        self.inplace_html = html_area("agl-inplace")
        self._finish([
            widgets.HTML("<b>Turning gradient tracking off: four ways, computed live</b>"),
            self.table_html,
            widgets.HBox([self.method_buttons]),
            self.guess_box,
            self.score_html,
            self.message,
            self.output_html,
            widgets.HBox([self.inplace_toggle, self.reset_button]),
            self.inplace_html,
        ], "agl-no-grad-explorer")

    def _plain(self) -> str:
        x = torch.tensor(self.panel.x_value, requires_grad=True)
        return plain_repr("NoGradExplorer", f"x={x!r}")

    # -- the plain-Python surface ------------------------------------------------------
    def guess(self, key: str, answer: str) -> None:
        """Pick ``answer`` for row ``key`` of the selected column (as the buttons do)."""
        self.guess_buttons[key].value = answer

    # -- handlers --------------------------------------------------------------------
    @guarded
    def _on_method(self, change: dict[str, Any]) -> None:
        self._act(lambda: self.panel.select(str(change["new"])))

    @guarded
    def _on_guess(self, key: str, change: dict[str, Any]) -> None:
        if self._syncing or change["new"] is None:
            return
        self._act(lambda: self.panel.guess(self.panel.selected, key, str(change["new"])))

    @guarded
    def _on_toggle(self, change: dict[str, Any]) -> None:
        self._act(lambda: self.panel.toggle_inplace(bool(change["new"])))

    def _render(self) -> None:
        p = self.panel
        m = p.selected
        hidden = m not in p.revealed
        self._syncing = True
        try:
            for key, toggle in self.guess_buttons.items():
                toggle.value = p.guesses[m].get(key)
        finally:
            self._syncing = False
        self.guess_box.layout.display = "" if hidden else "none"
        left = len(p.missing(m))
        self.guess_prompt.value = (
            f"<b>Your guesses for the {escape(m)} column</b> "
            f"({left} of {len(GUESS_ROWS)} rows left):" if hidden else "")
        self.reveal_button.disabled = bool(left)
        self.reset_button.disabled = p.revealed == {METHODS[0]} and not any(p.guesses.values())
        col = METHODS.index(m) + 1
        self.table_html.value = table_html(
            ["", *METHODS], p.rows(), cls="agl-table agl-no-grad-table", highlight_col=col
        )
        self.score_html.value = message_html(p.score_line(m), "info")
        detail = p.columns[m]
        kind = "ok" if detail.backward_ok else "error"
        result = (message_html(f"y.backward() → {detail.backward}", kind) if not hidden
                  else message_html("y.backward() → ? (guess every row, then reveal)", "info"))
        self.output_html.value = (
            pre_html(p.detail_lines()[:-1], "agl-text agl-code")
            + f'<div class="agl-backward-result" data-method="{escape(m)}">{result}</div>'
        )
        self.inplace_html.value = (
            pre_html(p.inplace_lines(), "agl-text agl-inplace-text")
            if p.show_inplace else ""
        )

    def _lines(self) -> list[str]:
        """Everything the panel shows, as plain text rows."""
        lines = [" | ".join(r).replace("\n", "; ") for r in self.panel.rows()]
        return (lines + [self.panel.score_line(self.panel.selected)]
                + self.panel.detail_lines() + self.panel.inplace_lines())
