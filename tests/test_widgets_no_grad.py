"""NoGradExplorer: four ways to stop tracking, computed live, clicked through without a browser."""

from __future__ import annotations

import html

import pytest
import torch

pytest.importorskip("ipywidgets")

from autograd_lab.widgets import NoGradExplorer, NoGradPanel  # noqa: E402
from autograd_lab.widgets.no_grad import METHODS, run_column  # noqa: E402

#: The seed's text (three seed notebooks print it for requires_grad_(False), detach, no_grad).
SEED_ERROR = "RuntimeError: element 0 of tensors does not require grad and does not have a grad_fn"


def test_three_methods_show_the_seeds_runtime_error_and_plain_works() -> None:
    w = NoGradExplorer()
    table = html.unescape(w.table_html.value)
    assert table.count(SEED_ERROR) == 3
    # plain: y = x**2, dy/dx = 2x = 4 at x = 2 (torch autograd here)
    x = torch.tensor(2.0, requires_grad=True)
    (x**2).backward()
    assert f"x.grad = {x.grad.item()}" in table


def test_every_column_can_be_selected_and_shows_its_code_and_result() -> None:
    w = NoGradExplorer()
    for method in METHODS:
        w.method_buttons.value = method
        out = html.unescape(w.output_html.value)
        assert f'data-method="{method}"' in out
        assert w.panel.columns[method].code.splitlines()[1] in out
        if method == "plain":
            assert "x.grad = 4.0" in out and "agl-ok" in out
        else:
            assert SEED_ERROR in out and "agl-error" in out


def test_properties_are_measured_live() -> None:
    cols = {m: run_column(m) for m in METHODS}
    x = torch.tensor(2.0, requires_grad=True)
    z = x.detach()
    with torch.no_grad():
        y = x**2
    assert cols["detach()"].shares_storage == (z.data_ptr() == x.data_ptr()) is True
    assert cols["torch.no_grad()"].shares_storage == (y.data_ptr() == x.data_ptr()) is False
    assert cols["detach()"].requires_grad is z.requires_grad is False
    assert cols["torch.no_grad()"].grad_fn == "None" and cols["plain"].y_grad_fn == (
        f"<{type((x**2).grad_fn).__name__}>")
    assert cols["requires_grad_(False)"].same_object and not cols["detach()"].same_object
    assert cols["requires_grad_(False)"].x_requires_grad_after is False
    assert cols["detach()"].x_requires_grad_after is True
    assert run_column("plain", 3.5).backward == "x.grad = 7.0"  # a value no other test uses


def test_inplace_edit_of_detached_tensor_changes_the_original() -> None:
    w = NoGradExplorer()
    assert w.inplace_html.value == ""
    w.inplace_toggle.value = True
    text = html.unescape(w.inplace_html.value)
    x = torch.tensor(2.0, requires_grad=True)
    y = x**2
    x.detach().add_(1.0)
    with pytest.raises(RuntimeError) as info:
        y.backward()
    assert f"x after z.add_(1): {x!r}" in text
    assert "tensor(3., requires_grad=True)" in text
    assert str(info.value).splitlines()[0][:60] in text
    assert "yes — editing z edits x" in text
    w.inplace_toggle.value = False
    assert w.inplace_html.value == ""


def test_panel_logic_directly() -> None:
    p = NoGradPanel()
    rows = p.rows()
    assert rows[0][0] == "code" and len(rows[0]) == 5
    p.select("detach()")
    assert p.detail_lines()[0] == "detach():"
    with pytest.raises(ValueError):
        p.select("nothing")
    p.toggle_inplace()
    assert p.inplace is not None and p.inplace.shares_storage
    p.toggle_inplace()
    assert p.inplace is None


def test_display_bundle() -> None:
    w = NoGradExplorer()
    assert w._repr_mimebundle_()["text/plain"] == (
        "NoGradExplorer(x=tensor(2., requires_grad=True)) — run this cell to interact"
        " (re-run it after a kernel restart)"
    )
    assert "agl-no-grad-explorer" in w.root._dom_classes
    w.rerun_button.click()
    assert w.message.value == ""


def test_other_starting_value_only_here() -> None:
    """x = -1.5: a setting no other test uses; dy/dx = 2x = -3 for the plain column."""
    w = NoGradExplorer(x=-1.5)
    x = torch.tensor(-1.5, requires_grad=True)
    (x**2).backward()
    table = html.unescape(w.table_html.value)
    assert f"x.grad = {x.grad.item()}" in table and table.count(SEED_ERROR) == 3
    assert "torch.tensor(-1.5, requires_grad=True)" in table
    w.inplace_toggle.value = True
    assert "tensor(-0.5000, requires_grad=True)" in w.inplace_html.value
    assert repr(w) == (
        "NoGradExplorer(x=tensor(-1.5000, requires_grad=True)) — run this cell to interact"
        " (re-run it after a kernel restart)"
    )
