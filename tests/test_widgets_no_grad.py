"""NoGradExplorer: four ways to stop tracking, guessed then revealed, without a browser."""

from __future__ import annotations

import html

import pytest
import torch

pytest.importorskip("ipywidgets")

from autograd_lab.widgets import NoGradExplorer, NoGradPanel  # noqa: E402
from autograd_lab.widgets.no_grad import GUESS_ROWS, METHODS, run_column  # noqa: E402

#: The seed's text (three seed notebooks print it for requires_grad_(False), detach, no_grad).
SEED_ERROR = "RuntimeError: element 0 of tensors does not require grad and does not have a grad_fn"


def torch_truth(method: str, x0: float = 2.0) -> dict[str, str]:
    """Each guessable row of ``method``, computed here with torch (in the widget's words)."""
    x = torch.tensor(x0, requires_grad=True)
    ptr = x.data_ptr()
    if method == "plain":
        handle, y = x, x**2
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

    def fn(t: torch.Tensor) -> str:
        return "None" if t.grad_fn is None else f"<{type(t.grad_fn).__name__}>"

    try:
        y.backward()
        backward = f"x.grad = {x.grad.item()}"
    except RuntimeError:
        backward = "error"
    return {"requires_grad": str(handle.requires_grad), "is_leaf": str(handle.is_leaf),
            "grad_fn": fn(handle), "shares_storage": "yes" if handle.data_ptr() == ptr else "no",
            "y_grad_fn": fn(y), "backward": backward}


def test_only_the_plain_column_is_shown_at_first() -> None:
    w = NoGradExplorer()
    table = html.unescape(w.table_html.value)
    assert SEED_ERROR not in table  # no answer before the learner acts
    x = torch.tensor(2.0, requires_grad=True)
    (x**2).backward()
    assert f"x.grad = {x.grad.item()}" in table  # plain: dy/dx = 2x = 4 at x = 2
    assert table.count("?") >= 3 * 9  # nine hidden rows in each of three columns
    assert w.reset_button.disabled


def test_guess_every_row_then_reveal_shows_which_were_right() -> None:
    w = NoGradExplorer()
    w.method_buttons.value = "detach()"
    assert w.reveal_button.disabled and "6 of 6 rows left" in w.guess_prompt.value
    truth = torch_truth("detach()")
    wrong = {"requires_grad", "shares_storage"}
    for key, _ in GUESS_ROWS:
        choices = list(w.guess_buttons[key].options)
        assert truth[key] in choices  # the choices fit the row
        answer = truth[key] if key not in wrong else next(c for c in choices if c != truth[key])
        before = w.table_html.value
        w.guess(key, answer)
        assert w.table_html.value != before  # each guess visibly changes the table
        assert f"your guess: {answer}" in html.unescape(w.table_html.value)
    assert SEED_ERROR not in html.unescape(w.table_html.value)
    w.reveal_button.click()
    table = html.unescape(w.table_html.value)
    assert SEED_ERROR in table and table.count("✗ (you:") == 2 and table.count("✓") == 4
    assert "detach(): 4 of 6 guesses right." in html.unescape(w.score_html.value)
    assert w.guess_box.layout.display == "none"
    assert SEED_ERROR in html.unescape(w.output_html.value)
    w.reset_button.click()
    assert SEED_ERROR not in html.unescape(w.table_html.value)
    assert w.panel.guesses["detach()"] == {}


def test_show_reveals_without_guessing_and_reveal_needs_every_row() -> None:
    p = NoGradPanel()
    p.guess("torch.no_grad()", "is_leaf", "True")
    with pytest.raises(ValueError, match="Guess every row first"):
        p.reveal("torch.no_grad()")
    p.reveal("torch.no_grad()", force=True)
    assert p.marks("torch.no_grad()") == {
        "is_leaf": torch_truth("torch.no_grad()")["is_leaf"] == "True"}
    with pytest.raises(ValueError, match="already shown"):
        p.guess("torch.no_grad()", "is_leaf", "False")
    with pytest.raises(ValueError, match="not a choice"):
        p.guess("detach()", "is_leaf", "maybe")


@pytest.mark.parametrize("method", METHODS[1:])
def test_truths_are_measured_live(method: str) -> None:
    p = NoGradPanel()
    assert {k: p.truth(method, k) for k, _ in GUESS_ROWS} == torch_truth(method)


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
    assert p.detail_lines()[0] == "detach():" and p.detail_lines()[-1].startswith("→ ?")
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


def test_other_starting_value_only_here() -> None:
    """x = -1.5: a setting no other test uses; dy/dx = 2x = -3 for the plain column."""
    w = NoGradExplorer(x=-1.5)
    x = torch.tensor(-1.5, requires_grad=True)
    (x**2).backward()
    table = html.unescape(w.table_html.value)
    assert f"x.grad = {x.grad.item()}" in table and SEED_ERROR not in table
    assert "torch.tensor(-1.5, requires_grad=True)" in table
    assert f"x.grad = {x.grad.item()}" in w.guess_buttons["backward"].options
    for method in METHODS[1:]:
        w.method_buttons.value = method
        w.show_button.click()
    assert html.unescape(w.table_html.value).count(SEED_ERROR) == 3
    w.inplace_toggle.value = True
    assert "tensor(-0.5000, requires_grad=True)" in w.inplace_html.value
    assert repr(w) == (
        "NoGradExplorer(x=tensor(-1.5000, requires_grad=True)) — run this cell to interact"
        " (re-run it after a kernel restart)"
    )
