"""NoGradExplorer: four ways to stop gradient tracking, computed live with torch, side by side.

Columns: plain (tracking on), ``x.requires_grad_(False)``, ``x.detach()``, ``torch.no_grad()``.
For each the panel runs the code on a fresh ``x = torch.tensor(2.0, requires_grad=True)``
and reports the tensor you go on computing with (``requires_grad``, ``is_leaf``, ``grad_fn``,
whether it shares storage with ``x``), and what ``y.backward()`` does — ``x.grad = 4.0``
(``dy/dx = 2x``) or the real ``RuntimeError`` text. A toggle shows that an in-place edit
of the detached tensor changes ``x`` too (same storage), and what backward then says.

:class:`NoGradPanel` is the plain-Python logic; :class:`NoGradExplorer` the view.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import torch

from autograd_lab.formatting import fmt_short
from autograd_lab.widgets.base import WidgetBase, guarded, one_line, plain_repr
from autograd_lab.widgets.controls import html_area
from autograd_lab.widgets.markup import escape, message_html, pre_html, table_html

METHODS = ("plain", "requires_grad_(False)", "detach()", "torch.no_grad()")

CODE = {
    "plain": "x = torch.tensor(2.0, requires_grad=True)\ny = x ** 2\ny.backward()",
    "requires_grad_(False)": (
        "x = torch.tensor(2.0, requires_grad=True)\nx.requires_grad_(False)\ny = x ** 2\n"
        "y.backward()"
    ),
    "detach()": (
        "x = torch.tensor(2.0, requires_grad=True)\nz = x.detach()\ny = z ** 2\ny.backward()"
    ),
    "torch.no_grad()": (
        "x = torch.tensor(2.0, requires_grad=True)\nwith torch.no_grad():\n    y = x ** 2\n"
        "y.backward()"
    ),
}

#: The tensor each column goes on computing with.
HANDLE = {"plain": "x", "requires_grad_(False)": "x", "detach()": "z", "torch.no_grad()": "y"}

INPLACE_CODE = (
    "x = torch.tensor(2.0, requires_grad=True)\ny = x ** 2      # saves x for backward\n"
    "z = x.detach()\nz.add_(1.0)     # in-place edit of the detached tensor\ny.backward()"
)


@dataclass(frozen=True)
class ColumnResult:
    """One column, measured live: properties of the handle tensor and of ``y``."""

    method: str
    code: str
    handle: str
    value: str
    requires_grad: bool
    is_leaf: bool
    grad_fn: str
    shares_storage: bool
    same_object: bool
    y_grad_fn: str
    x_requires_grad_after: bool
    backward: str  # "x.grad = 4.0" or "RuntimeError: …"
    backward_ok: bool


@dataclass(frozen=True)
class InplaceResult:
    """What ``z.add_(1)`` on ``z = x.detach()`` does to ``x`` (and to a graph that saved x)."""

    code: str
    x_before: str
    x_after: str
    z_after: str
    shares_storage: bool
    backward: str


def _grad_fn_name(t: torch.Tensor) -> str:
    return "None" if t.grad_fn is None else f"<{type(t.grad_fn).__name__}>"


def _backward(y: torch.Tensor, x: torch.Tensor) -> tuple[str, bool]:
    try:
        y.backward()
    except RuntimeError as exc:
        return one_line(exc), False
    return f"x.grad = {fmt_short(x.grad.item())}", True


def _code(method: str, x_value: float) -> str:
    return CODE[method].replace("torch.tensor(2.0,", f"torch.tensor({float(x_value)!r},")


def run_column(method: str, x_value: float = 2.0) -> ColumnResult:
    """Run one column's code for real and describe the result."""
    if method not in METHODS:
        raise ValueError(f"Unknown column {method!r}; choose one of {', '.join(METHODS)}.")
    x = torch.tensor(float(x_value), requires_grad=True)
    ptr = x.data_ptr()
    if method == "plain":
        handle = x
        y = x**2
    elif method == "requires_grad_(False)":
        handle = x.requires_grad_(False)
        y = handle**2
    elif method == "detach()":
        handle = x.detach()
        y = handle**2
    else:
        with torch.no_grad():
            y = x**2
        handle = y
    result, ok = _backward(y, x)
    return ColumnResult(
        method=method,
        code=_code(method, x_value),
        handle=HANDLE[method],
        value=repr(handle),
        requires_grad=handle.requires_grad,
        is_leaf=handle.is_leaf,
        grad_fn=_grad_fn_name(handle),
        shares_storage=handle.data_ptr() == ptr,
        same_object=handle is x,
        y_grad_fn=_grad_fn_name(y),
        x_requires_grad_after=x.requires_grad,
        backward=result,
        backward_ok=ok,
    )


def run_inplace(x_value: float = 2.0, delta: float = 1.0) -> InplaceResult:
    """``z = x.detach(); z.add_(delta)``: x changes too; a graph that saved x then refuses."""
    x = torch.tensor(float(x_value), requires_grad=True)
    before = repr(x)
    y = x**2
    z = x.detach()
    z.add_(delta)
    result, _ = _backward(y, x)
    return InplaceResult(
        code=INPLACE_CODE.replace("add_(1.0)", f"add_({float(delta)!r})").replace(
            "torch.tensor(2.0,", f"torch.tensor({float(x_value)!r},"),
        x_before=before,
        x_after=repr(x),
        z_after=repr(z),
        shares_storage=z.data_ptr() == x.data_ptr(),
        backward=result,
    )


class NoGradPanel:
    """The four columns (recomputed by :meth:`refresh`), a selected column and the toggle."""

    def __init__(self, x_value: float = 2.0) -> None:
        self.x_value = float(x_value)
        self.selected = METHODS[0]
        self.show_inplace = False
        self.refresh()

    def refresh(self) -> None:
        self.columns = {m: run_column(m, self.x_value) for m in METHODS}
        self.inplace = run_inplace(self.x_value) if self.show_inplace else None

    def select(self, method: str) -> None:
        if method not in METHODS:
            raise ValueError(f"Unknown column {method!r}; choose one of {', '.join(METHODS)}.")
        self.selected = method

    def toggle_inplace(self, on: bool | None = None) -> None:
        self.show_inplace = (not self.show_inplace) if on is None else bool(on)
        self.inplace = run_inplace(self.x_value) if self.show_inplace else None

    def rows(self) -> list[list[str]]:
        """Table rows: a label, then one cell per column."""
        cols = [self.columns[m] for m in METHODS]

        def yes(b: bool) -> str:
            return "yes" if b else "no"

        return [
            ["code", *[c.code for c in cols]],
            ["tensor you compute with", *[c.handle for c in cols]],
            ["its value", *[c.value for c in cols]],
            [".requires_grad", *[str(c.requires_grad) for c in cols]],
            [".is_leaf", *[str(c.is_leaf) for c in cols]],
            [".grad_fn", *[c.grad_fn for c in cols]],
            ["shares storage with x", *[yes(c.shares_storage) for c in cols]],
            ["same object as x", *[yes(c.same_object) for c in cols]],
            ["y.grad_fn", *[c.y_grad_fn for c in cols]],
            ["x.requires_grad afterwards", *[str(c.x_requires_grad_after) for c in cols]],
            ["y.backward()", *[c.backward for c in cols]],
        ]

    def detail_lines(self) -> list[str]:
        c = self.columns[self.selected]
        lines = [f"{c.method}:", *c.code.splitlines(), f"→ {c.backward}"]
        return lines

    def inplace_lines(self) -> list[str]:
        r = self.inplace
        if r is None:
            return []
        return [
            *r.code.splitlines(),
            f"x before: {r.x_before}",
            f"x after z.add_(1): {r.x_after}   (z = {r.z_after})",
            "z shares storage with x: " + ("yes — editing z edits x" if r.shares_storage else "no"),
            f"y.backward(): {r.backward}",
        ]


class NoGradExplorer(WidgetBase):
    """One panel, four columns: plain, ``requires_grad_(False)``, ``detach()``, ``no_grad()``.

    Everything shown is computed live with torch each time (nothing hard-coded): pick a
    column to see its code and what ``backward()`` does, and flip the toggle to see an
    in-place edit of ``x.detach()`` change ``x``.
    """

    def __init__(self, *, x: float = 2.0) -> None:
        self.panel = NoGradPanel(x)
        self._new_message_line()
        self.method_buttons = widgets.ToggleButtons(
            options=list(METHODS),
            value=METHODS[0],
            description="column:",
            tooltips=[f"Show the code and backward() result for {m}" for m in METHODS],
            style={"button_width": "auto"},
        )
        self.method_buttons.add_class("agl-method")
        self.method_buttons.observe(self._on_method, names="value")
        self.inplace_toggle = widgets.ToggleButton(
            value=False,
            description="in-place edit of z = x.detach()",
            tooltip="Show what z.add_(1) on a detached tensor does to the original x",
            icon="pencil",
            layout=widgets.Layout(width="auto"),
        )
        self.inplace_toggle.add_class("agl-inplace-toggle")
        self.inplace_toggle.observe(self._on_toggle, names="value")
        self.button_row(("rerun_button", "↻ Run again", "Recompute every column with torch",
                         "agl-rerun", self.panel.refresh), clear=True)
        self.table_html = html_area("agl-table-area")
        self.output_html = html_area("agl-output")
        self.inplace_html = html_area("agl-inplace")
        self._finish([
            widgets.HTML("<b>Turning gradient tracking off: four ways, computed live</b>"),
            self.table_html,
            widgets.HBox([self.method_buttons]),
            self.output_html,
            widgets.HBox([self.inplace_toggle, self.rerun_button]),
            self.inplace_html,
            self.message,
        ], "agl-no-grad-explorer")

    def _plain(self) -> str:
        x = torch.tensor(self.panel.x_value, requires_grad=True)
        return plain_repr("NoGradExplorer", f"x={x!r}")

    @guarded
    def _on_method(self, change: dict[str, Any]) -> None:
        self._act(lambda: self.panel.select(str(change["new"])))

    @guarded
    def _on_toggle(self, change: dict[str, Any]) -> None:
        self._act(lambda: self.panel.toggle_inplace(bool(change["new"])))

    def _render(self) -> None:
        p = self.panel
        col = METHODS.index(p.selected) + 1
        self.table_html.value = table_html(
            ["", *METHODS], p.rows(), cls="agl-table agl-no-grad-table", highlight_col=col
        )
        detail = p.columns[p.selected]
        kind = "ok" if detail.backward_ok else "error"
        self.output_html.value = (
            pre_html(p.detail_lines()[:-1], "agl-text agl-code")
            + f'<div class="agl-backward-result" data-method="{escape(p.selected)}">'
            + message_html(f"y.backward() → {detail.backward}", kind)
            + "</div>"
        )
        self.inplace_html.value = (
            pre_html(p.inplace_lines(), "agl-text agl-inplace-text")
            if p.show_inplace else ""
        )

    def _lines(self) -> list[str]:
        """Everything the panel shows, as plain text rows."""
        lines = [" | ".join(r).replace("\n", "; ") for r in self.panel.rows()]
        return lines + self.panel.detail_lines() + self.panel.inplace_lines()
