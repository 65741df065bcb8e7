"""The kit tested as a student uses it: real JupyterLab, real (headless) Chromium.

nbval proves the kernel side; this test proves the page side. For every lesson notebook and
every student exercise notebook it opens the notebook in JupyterLab, runs Run → Run All
Cells, waits until the kernel is Idle and every code cell has an execution count, and checks
that no cell shows an unexpected error (cells tagged ``raises-exception`` excepted), that no
widget says "Error displaying widget" or stays at "Loading widget…", and that no image is
broken; then it shuts that kernel down before the next notebook. Then it clicks through each
widget as a student would and checks what the page shows against values computed here with
torch. Screenshots go to ``test-artifacts/browser/``: of every notebook and widget state with
``AUTOGRAD_LAB_SCREENSHOTS=1``, otherwise only of a notebook that shows a problem and of the
page at a failed test (a picture nothing reads costs a layout and encode of the whole page).
Click→update round-trips and the test's duration go to
``test-artifacts/browser/timings.json`` (``make bench`` reports them).
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from jlab_driver import (
    POLL_MS,
    VIEWPORT,
    JupyterLabPage,
    assert_wraps_at_spaces,
    broken_words,
    cell_tags,
    click_and_wait,
    find_problems,
    output_broken_words,
    saved_error_cells,
)

from autograd_lab.widgets.base import AFTER_RESTART
from tests.axe_check import describe, serious_violations
from tests.test_widgets_no_grad import torch_truth

pytestmark = pytest.mark.timeout(600)

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
RELEASE = NOTEBOOKS / "exercises" / "release"


def _lessons() -> list[Any]:
    found = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    return [pytest.param(p, id=p.removesuffix(".ipynb")) for p in found] or [
        pytest.param(None, id="no-lesson-notebooks")
    ]


def _exercises() -> list[Any]:
    # workspace layout (autograd_lab_course.workspace):
    # notebooks/exercises/release/** → exercises/**
    found = sorted(
        "exercises/" + p.relative_to(RELEASE).as_posix()
        for p in RELEASE.rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts
    ) if RELEASE.is_dir() else []
    return [pytest.param(p, id=Path(p).stem) for p in found] or [
        pytest.param(None, id="no-exercise-notebooks")
    ]


# --- the scratch notebook with every widget (created in the temporary workspace only) -----
WIDGET_NOTEBOOK = "browser-test-widgets.ipynb"
WIDGET_CELLS = {
    "setup": "import autograd_lab\nautograd_lab.notebook_setup()",
    "ChainRuleStepper": 'from autograd_lab.widgets import ChainRuleStepper\n'
                        'ChainRuleStepper("sin(x**2)", x=3.0)',
    "BackwardTracer": 'from autograd_lab.widgets import BackwardTracer\n'
                      'BackwardTracer("exp(sin(x**2))", x=3.0)',
    "GradAccumulationLab": "from autograd_lab.widgets import GradAccumulationLab\n"
                           "GradAccumulationLab()",
    "NoGradExplorer": "from autograd_lab.widgets import NoGradExplorer\nNoGradExplorer()",
    "TrainingExplorer": "from autograd_lab.widgets import TrainingExplorer\nTrainingExplorer()",
    "NetworkTrainer": "from autograd_lab.widgets import NetworkTrainer\nNetworkTrainer()",
}
WIDGET_INDEX = {name: i for i, name in enumerate(WIDGET_CELLS)}


def _widget_notebook() -> dict[str, Any]:
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
        "cells": [
            {"cell_type": "code", "id": f"cell-{i}", "metadata": {}, "source": src,
             "outputs": [], "execution_count": None}
            for i, src in enumerate(WIDGET_CELLS.values())
        ],
    }


def run_notebook(jl: JupyterLabPage, path: str, timings: Any, shot: str) -> tuple[list, list]:
    """Open ``path``, Run All, wait, screenshot, check; returns (problems, scanned cells).

    The kernel is left running (the caller shuts it down) so widgets can still be clicked.
    """
    model = jl.api.contents(path)
    tags = cell_tags(model)
    seconds_open = jl.open_notebook(path)
    seconds_run = jl.run_all([i for i, t in enumerate(tags) if "raises-exception" in t])
    t0 = time.perf_counter()
    jl.settle_outputs()
    t1 = time.perf_counter()
    jl.screenshot_notebook(shot)  # what the student sees (hidden code stays hidden)
    t2 = time.perf_counter()
    jl.expand_hidden_code()
    cells = jl.scan()
    problems = find_problems(cells, tags, path)
    # the student lab's CSS (autograd_lab_course.student_css): text output wraps at spaces
    problems += [f"{path} cell {index}: output text breaks inside words: {words[:5]}"
                 for index, words in output_broken_words(jl.page)]
    if problems and not jl.screenshots:  # a notebook with a problem is always pictured
        jl.screenshot_notebook(shot, always=True)
    t3 = time.perf_counter()
    # The page is what a student sees; the saved model says for certain which outputs are
    # errors (a red stderr warning is not one), so check both.
    jl.save()
    for index, error in saved_error_cells(jl.api.contents(path)):
        if "raises-exception" not in tags[index]:
            problems.append(f"{path} cell {index}: unexpected error (saved output): {error}")
    t4 = time.perf_counter()
    timings.notebook(path, open_s=seconds_open, run_all_s=seconds_run, settle_s=t1 - t0,
                     screenshot_s=t2 - t1, scan_s=t3 - t2, save_s=t4 - t3, **jl.open_phases)
    return sorted(set(problems), key=problems.index), cells


def shut_down(jl: JupyterLabPage, path: str, timings: Any = None) -> None:
    """Shut the notebook's kernel down and close its tab; never raises (it runs in
    ``finally`` blocks, where an exception would hide the real failure). Callers check
    :func:`kernels_of` afterwards.

    The kernel is shut down through the REST API on a second thread while the page closes
    the tab (the server waits for the kernel process to exit); both are done on return.
    """
    def stop_kernel() -> None:
        try:
            jl.api.shutdown_kernels_of(path)
        except Exception:  # noqa: BLE001 - reported by the caller's kernels_of() check
            pass

    t0 = time.perf_counter()
    stopper = threading.Thread(target=stop_kernel, name=f"shut down {path}")
    stopper.start()
    try:
        jl.close_current_tab()
    except Exception:  # noqa: BLE001 - the next notebook reloads the page anyway
        pass
    t1 = time.perf_counter()
    stopper.join()
    if timings is not None:
        timings.notebook(path, close_s=t1 - t0, shutdown_s=time.perf_counter() - t0)


def kernels_of(jl: JupyterLabPage, path: str) -> list[str]:
    """Kernel ids still running for ``path`` (must be none after :func:`shut_down`)."""
    return [s["kernel"]["id"] for s in jl.api.sessions() if s.get("path") == path]


def _shot_name(path: str) -> str:
    return "notebook-" + re.sub(r"[^\w.-]+", "_", path.removesuffix(".ipynb"))


# --- opening and closing a lesson untouched ------------------------------------------------
#: Runs before any test saves a notebook: the workspace copies are as the launcher wrote them.
@pytest.mark.parametrize(("path", "opened"), [("00_start_here.ipynb", "from its address"),
                                              ("01_first_gradient.ipynb", "from the menu")])
def test_opening_and_closing_a_lesson_asks_nothing(jl: JupyterLabPage, path: str,
                                                   opened: str) -> None:
    """The workspace copy names this environment's kernel, so JupyterLab changes nothing,
    whether the notebook is opened from its address (as the lab's start page opens) or
    from File → Open from Path… (as a student opens the next one)."""
    before = jl.api.contents(path)
    try:
        jl.open_notebook(path, reload=opened == "from its address")
        jl.page.wait_for_timeout(1_500)  # kernel info arrives: JupyterLab updates metadata
        dirty = jl.page.query_selector(".lm-TabBar-tab.jp-mod-current.jp-mod-dirty")
        jl.menu("File", "Close Tab")
        jl.page.wait_for_timeout(700)
        dialog = jl.page.query_selector(".jp-Dialog")
        prompt = dialog.inner_text() if dialog is not None else ""
    finally:
        shut_down(jl, path)
    assert dirty is None, f"{path} is marked modified right after opening it"
    assert not prompt, f"closing {path} untouched asked: {prompt!r}"
    after = jl.api.contents(path)
    assert after["last_modified"] == before["last_modified"], f"{path} was written"


# --- widgets ---------------------------------------------------------------------------------
@pytest.fixture(scope="class")
def widget_page(jl: JupyterLabPage, timings: Any) -> Any:
    """The scratch widget notebook, run; its kernel stays up for the click-through tests."""
    jl.api.put_notebook(WIDGET_NOTEBOOK, _widget_notebook())
    try:
        problems, cells = run_notebook(jl, WIDGET_NOTEBOOK, timings, "widgets-after-run-all")
        yield {"problems": problems, "cells": cells}
    finally:
        shut_down(jl, WIDGET_NOTEBOOK)


def _cell_ok(widget_page: Any, name: str) -> None:
    index = WIDGET_INDEX[name]
    mine = [p for p in widget_page["problems"] if f" cell {index}:" in p]
    assert not mine, "\n".join(mine)
    assert widget_page["cells"][index]["widgets"] > 0, f"{name} did not render a widget"


def _text(locator: Any) -> str:
    return str(locator.inner_text(timeout=10_000))


def _src(page: Any, sel: str) -> str:
    """The widget picture's markup (an inline SVG: a new picture is new markup)."""
    return str(page.locator(sel).first.evaluate("e => e.outerHTML", timeout=10_000))


#: Page predicates (JS) for click_and_wait / wait_for_function; ``a`` is the argument.
CHANGED_TEXT = (
    "(a) => { const e = document.querySelector(a.sel); return !!e && e.innerText !== a.before; }"
)
CHANGED_SRC = (
    "(a) => { const e = document.querySelector(a.sel);"
    " return !!e && e.outerHTML !== a.before; }"
)
#: text changed AND the picture (an inline SVG) was replaced by new markup
CHANGED_TEXT_AND_IMG = (
    "(a) => { const e = document.querySelector(a.sel); const i = document.querySelector(a.img);"
    " return !!e && !!i && e.innerText !== a.before && i.outerHTML !== a.src; }"
)
HAS_TEXT = (
    "(a) => { const e = document.querySelector(a.sel);"
    " return !!e && e.innerText.includes(a.text); }"
)
#: CHANGED_TEXT, and the Next button (``a.next``) is off exactly when the text's first line
#: shows the last step ("step k of n", the last such on the line, with k = n): the button's
#: state is a widget message of its own and may arrive after the text
CHANGED_STEP = (
    "(a) => { if (!(" + CHANGED_TEXT + ")(a)) return false;"
    " const line = document.querySelector(a.sel).innerText.split('\\n')[0];"
    " const m = [...line.matchAll(/step (\\d+) of (\\d+)/gi)].pop();"
    " const b = document.querySelector(a.next);"
    " return !!m && !!b && b.disabled === (m[1] === m[2]); }"
)
#: CHANGED_TEXT_AND_IMG, and the message area (``a.msg``) says ``a.text``: each part of the
#: page a click updates is waited for (the widgets send them one after another)
CHANGED_TEXT_AND_IMG_WITH_MESSAGE = (
    "(a) => { const m = document.querySelector(a.msg);"
    " return !!m && m.innerText.includes(a.text) && (" + CHANGED_TEXT_AND_IMG + ")(a); }"
)


def _torch_accumulation(calls: int, mode: str, fresh: bool = True,
                        retain: bool = False) -> tuple[list[float], str]:
    """x.grad after each backward() of y = x**3 at x = 2 (float32), and any RuntimeError."""
    import torch

    x = torch.tensor(2.0, requires_grad=True)
    grads: list[float] = []
    y = x**3
    for call in range(calls):
        if fresh or call == 0:
            y = x**3
        try:
            y.backward(retain_graph=retain)
        except RuntimeError as exc:
            return grads, f"RuntimeError: {str(exc).splitlines()[0]}"
        grads.append(x.grad.item())
        if mode == "grad.zero_()":
            x.grad.zero_()
        elif mode == "grad = None":
            x.grad = None
    return grads, ""


def _grad_column(page: Any, sel: str) -> list[float]:
    rows = page.locator(f"{sel} tbody tr").all_inner_texts()
    values = []
    for row in rows:
        cells = [c.strip() for c in row.split("\t")]
        if len(cells) >= 2 and cells[1] not in ("RuntimeError", "None"):
            values.append(float(cells[1]))
    return values


def _torch_backward_message(method: str) -> str:
    """What ``y.backward()`` prints for one NoGradExplorer column, computed here."""
    import torch

    x = torch.tensor(2.0, requires_grad=True)
    if method == "plain":
        y = x**2
    elif method == "requires_grad_(False)":
        y = x.requires_grad_(False) ** 2
    elif method == "detach()":
        y = x.detach() ** 2
    else:
        with torch.no_grad():
            y = x**2
    try:
        y.backward()
    except RuntimeError as exc:
        return f"RuntimeError: {str(exc).splitlines()[0]}"
    return f"x.grad = {x.grad.item()}"


def _seed_training(epochs: int, lr: float = 0.1) -> list[str]:
    """The seed's manual SGD on y = 2x + 1 (float32), written out here independently."""
    import torch

    x = torch.tensor([1.0, 2.0, 3.0, 4.0])
    y = 2 * x + 1
    w = torch.tensor(0.0, requires_grad=True)
    b = torch.tensor(0.0, requires_grad=True)
    lines = []
    for epoch in range(1, epochs + 1):
        loss = ((w * x + b - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
        lines.append(f"Epoch {epoch}: w={w.item():.4f}, b={b.item():.4f}, loss={loss.item():.4f}")
    return lines


def _predict(jl: JupyterLabPage, root_sel: str, timings: Any, name: str, wrong: str,
             right: str, shot: str) -> None:
    """The predict flow of a widget: a wrong prediction shows ✗ and reveals nothing; the
    right one shows ✓ and the reveal (``right`` appears in the output)."""
    page = jl.page
    root = page.locator(root_sel).first
    box = root.locator(".agl-predict-box input")
    msg_sel = f"{root_sel} .agl-message-area"
    out_sel = f"{root_sel} .agl-output"
    assert "Predict" in _text(root.locator(".agl-predict-prompt"))
    output = _text(page.locator(out_sel))
    ms = click_and_wait(page, box, HAS_TEXT, {"sel": msg_sel, "text": "✗"},
                        action="enter", text=wrong)
    timings.click(name, ms / 1000)
    assert "✗" in _text(page.locator(msg_sel)) and _text(page.locator(out_sel)) == output
    assert right not in output
    box.fill(right)
    ms = click_and_wait(page, root.locator("button.agl-check"), HAS_TEXT,
                        {"sel": msg_sel, "text": "✓"})
    timings.click(name, ms / 1000)
    page.wait_for_function(HAS_TEXT, arg={"sel": out_sel, "text": right}, timeout=10_000,
                           polling=POLL_MS)
    assert_wraps_at_spaces(root, name)
    jl.screenshot_element(root, shot)


class TestWidgets:
    """Each widget clicked through in one scratch notebook (its kernel stops after the class)."""

    def test_widget_notebook_runs_clean(self, widget_page: Any) -> None:
        """Every widget builds and renders in the page (no error, no "Loading widget…")."""
        assert not widget_page["problems"], "\n".join(widget_page["problems"])

    def test_chain_rule_stepper_to_last_step(
        self, jl: JupyterLabPage, widget_page: Any, timings: Any
    ) -> None:
        import torch

        _cell_ok(widget_page, "ChainRuleStepper")
        page = jl.page
        root_sel = ".agl-chain-rule-stepper"
        root = page.locator(root_sel).first
        out_sel = f"{root_sel} .agl-output"
        img_sel = f"{root_sel} .agl-graph svg"
        header = _text(root.locator(".agl-header"))
        match = re.search(r"z = (.+?)\s+at x = ([-\d.]+)", header)
        assert match, f"unexpected header {header!r}"
        expression, x_shown = match.group(1), float(match.group(2))
        assert expression == "sin(x**2)"
        first_src = root.locator(".agl-graph svg").first.evaluate("e => e.outerHTML")
        # the wrap check can fail: a narrow break-all column breaks "difference" inside
        page.evaluate(
            "() => { const d = document.createElement('div'); d.id = 'agl-wrap-probe';"
            " d.style.cssText = 'width:60px;word-break:break-all;font:13px monospace';"
            " d.textContent = 'finite difference'; document.body.appendChild(d); }")
        try:
            assert "difference" in broken_words(page.locator("#agl-wrap-probe"))[1]
        finally:
            page.evaluate("() => document.getElementById('agl-wrap-probe').remove()")
        assert_wraps_at_spaces(root, "ChainRuleStepper")

        # predict, then reveal: the next value is z = sin(v1) at v1 = x**2
        v1 = torch.tensor(x_shown**2, dtype=torch.float64)
        z_value = f"{torch.sin(v1).item():.4f}"
        assert z_value == "0.4121"  # the brief's figure at x = 3
        assert z_value not in _text(page.locator(out_sel))  # nothing revealed yet
        _predict(jl, root_sel, timings, "ChainRuleStepper", "0.5", z_value,
                 "widget-ChainRuleStepper-predicted")

        next_sel = f"{root_sel} button.agl-next"
        next_button = page.locator(next_sel).first
        clicks = 0
        src_before_click = first_src
        while not next_button.is_disabled():
            before = _text(page.locator(out_sel))
            src_before_click = _src(page, img_sel)
            ms = click_and_wait(page, next_button, CHANGED_STEP,
                                {"sel": out_sel, "before": before, "next": next_sel})
            timings.click("ChainRuleStepper", ms / 1000)
            clicks += 1
            assert clicks < 60, "Next never became disabled"
        assert clicks >= 2
        final = _text(page.locator(out_sel))

        x = torch.tensor(x_shown, dtype=torch.float64, requires_grad=True)
        torch.sin(x**2).backward()
        expected = f"{x.grad.item():.4f}"
        assert expected == "-5.4668"  # the seed's figure at x = 3
        row = re.search(
            r"dz/dx: manual = (\S+), autograd = (\S+), finite difference = (\S+)", final
        )
        assert row, f"the last step does not compare the three results:\n{final}"
        assert row.groups() == (expected, expected, expected), final
        assert "highlighted in the graph: the leaves x" in final
        # the result highlights the leaves: a new graph picture replaces the last one
        page.wait_for_function(CHANGED_SRC, arg={"sel": img_sel, "before": src_before_click},
                               timeout=10_000, polling=POLL_MS)
        assert _src(page, img_sel) != first_src
        assert_wraps_at_spaces(root, "ChainRuleStepper")
        jl.screenshot_element(root, "widget-ChainRuleStepper-last-step")

    def test_chain_rule_stepper_bad_expression(
        self, jl: JupyterLabPage, widget_page: Any, timings: Any
    ) -> None:
        _cell_ok(widget_page, "ChainRuleStepper")
        page = jl.page
        root_sel = ".agl-chain-rule-stepper"
        root = page.locator(root_sel).first
        box = root.locator(".agl-expression input")
        msg_sel = f"{root_sel} .agl-message-area"
        output_before = _text(root.locator(".agl-output"))
        for bad in ("import os", "sin(x"):  # the two examples; sin(x stays on screen
            before = _text(page.locator(msg_sel))
            ms = click_and_wait(page, box, CHANGED_TEXT, {"sel": msg_sel, "before": before},
                                action="enter", text=bad)
            timings.click("ChainRuleStepper", ms / 1000)
            message = _text(page.locator(msg_sel)).strip()
            assert message, f"no message for {bad!r}"
            assert len(message.splitlines()) == 1, f"not one line: {message!r}"
            assert "Traceback" not in message and "File " not in message, message
            # the last good expression stays, step and result included
            assert "sin(x**2)" in _text(root.locator(".agl-header"))
            assert _text(root.locator(".agl-output")) == output_before
            # Enter was pressed: no hint to press it; the message says what is still shown
            hint = _text(root.locator(".agl-expression-hint"))
            assert "press Enter or Apply" not in hint, hint
            assert "Still showing sin(x**2)" in message, message
        assert "sin(x" in message, f"the message does not name the bad input: {message!r}"
        assert_wraps_at_spaces(root, "ChainRuleStepper")
        jl.screenshot_element(root, "widget-ChainRuleStepper-bad-expression")

    def test_chain_rule_stepper_value_box_types_and_steps(
        self, jl: JupyterLabPage, widget_page: Any, timings: Any
    ) -> None:
        """x's number box: a typed 2.5 (Enter) derives again at 2.5; ↑ then steps to 2.6;
        the last step's autograd column follows, computed here with torch."""
        import torch

        _cell_ok(widget_page, "ChainRuleStepper")
        page = jl.page
        root_sel = ".agl-chain-rule-stepper"
        root = page.locator(root_sel).first
        box = root.locator(".agl-value-x input")
        assert box.get_attribute("type") == "number"
        label_for = root.locator(".agl-value-x label").get_attribute("for")
        assert label_for and label_for == box.get_attribute("id")  # its accessible name
        head_sel = f"{root_sel} .agl-header"
        for action, expected_x in (("type", 2.5), ("up", 2.6)):
            before = _text(page.locator(head_sel))
            if action == "type":
                ms = click_and_wait(page, box, CHANGED_TEXT, {"sel": head_sel, "before": before},
                                    action="enter", text=f"{expected_x}")
            else:
                box.focus()
                t0 = time.perf_counter()
                box.press("ArrowUp")
                page.wait_for_function(CHANGED_TEXT, arg={"sel": head_sel, "before": before},
                                       timeout=10_000)
                ms = (time.perf_counter() - t0) * 1000
            timings.click("ChainRuleStepper", ms / 1000)
            assert f"x = {expected_x:g}" in _text(page.locator(head_sel))
            last = root.locator("button.agl-last")
            if not last.is_disabled():  # a new value keeps the step: maybe the last already
                last.click()
            x = torch.tensor(expected_x, dtype=torch.float64, requires_grad=True)
            torch.sin(x**2).backward()
            page.wait_for_function(HAS_TEXT, arg={"sel": f"{root_sel} .agl-output",
                                                  "text": f"autograd = {x.grad.item():.4f}"},
                                   timeout=10_000, polling=POLL_MS)
        jl.screenshot_element(root, "widget-ChainRuleStepper-value-box")

    def test_backward_tracer_to_accumulate_grad(
        self, jl: JupyterLabPage, widget_page: Any, timings: Any
    ) -> None:
        import torch

        _cell_ok(widget_page, "BackwardTracer")
        page = jl.page
        root_sel = ".agl-backward-tracer"
        root = page.locator(root_sel).first
        out_sel = f"{root_sel} .agl-output"
        x = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
        v2 = torch.sin(x**2)
        z = torch.exp(v2)
        expected_nodes, fn = [], z.grad_fn
        while fn is not None:  # a chain: one input per node
            expected_nodes.append(type(fn).__name__)
            fn = next((f for f, _ in fn.next_functions if f is not None), None)
        (passes_on,) = torch.autograd.grad(z, v2, retain_graph=True)
        z.backward()
        grad = f"{x.grad.item():.4f}"
        assert grad == "-8.2549" and f"{passes_on.item():.4f}" == "1.5100"  # the issue's

        # step 1 shows the forward pass only: no gradient in the hand derivation yet
        hand = _text(root.locator(".agl-hand"))
        assert "v1 = x**2 = 9.0000" in hand and grad not in hand and "→" not in hand
        assert_wraps_at_spaces(root, "BackwardTracer")
        # predict what ExpBackward0 passes on (its grad_inputs[0]), then see it
        _predict(jl, root_sel, timings, "BackwardTracer", "1.0",
                 f"{passes_on.item():.4f}", "widget-BackwardTracer-predicted")
        shown = _text(page.locator(out_sel))
        assert f"grad_inputs (out, upstream × local) = ({passes_on.item():.4f},)" in shown
        assert f"{passes_on.item():.4f}" in _text(root.locator(".agl-hand"))

        seen = [_text(page.locator(out_sel)).splitlines()[0]]
        next_sel = f"{root_sel} button.agl-next"
        next_button = page.locator(next_sel).first
        while not next_button.is_disabled():
            before = _text(page.locator(out_sel))
            ms = click_and_wait(page, next_button, CHANGED_STEP,
                                {"sel": out_sel, "before": before, "next": next_sel})
            timings.click("BackwardTracer", ms / 1000)
            seen.append(_text(page.locator(out_sel)).splitlines()[0])
            assert len(seen) < 40, "Next never became disabled"
        nodes = [m.group(1) for t in seen if (m := re.match(r"Step \d+ of \d+: (\w+)", t))]
        nodes = [n for i, n in enumerate(nodes) if i == 0 or n != nodes[i - 1]]  # half-steps
        assert nodes == expected_nodes, f"page visited {nodes}, torch's graph is {expected_nodes}"
        final = _text(page.locator(out_sel))
        assert f"x.grad = {grad}" in final, final
        assert f"dz/dx = {grad}" in _text(root.locator(".agl-hand"))
        assert_wraps_at_spaces(root, "BackwardTracer")
        jl.screenshot_element(root, "widget-BackwardTracer-last-step")

    def test_grad_accumulation_lab_predict_then_call(
        self, jl: JupyterLabPage, widget_page: Any, timings: Any
    ) -> None:
        """Nothing drawn before acting; a wrong prediction ✗, the right one ✓ and its bar."""
        _cell_ok(widget_page, "GradAccumulationLab")
        page = jl.page
        root_sel = ".agl-grad-accumulation-lab"
        root = page.locator(root_sel).first
        table_sel = f"{root_sel} .agl-grad-table"
        msg_sel = f"{root_sel} .agl-message-area"
        img_sel = f"{root_sel} .agl-plot svg"
        accumulated, _ = _torch_accumulation(5, "nothing")
        assert accumulated[:2] == [12.0, 24.0]  # the seed's loop
        assert _revealed_grads(page, table_sel) == []  # no bar, no value before acting
        assert "Gradient of x at" not in _text(root.locator(".agl-output"))
        jl.screenshot_element(root, "widget-GradAccumulationLab-before-predicting")

        box = root.locator(".agl-predict-box input")
        check = root.locator("button.agl-check")
        box.fill(str(accumulated[0] + 1))
        ms = click_and_wait(page, check, HAS_TEXT, {"sel": msg_sel, "text": "✗"})
        timings.click("GradAccumulationLab", ms / 1000)
        assert _revealed_grads(page, table_sel) == []  # a wrong prediction reveals nothing
        jl.screenshot_element(root, "widget-GradAccumulationLab-wrong-prediction")
        box.fill(str(accumulated[0]))
        before = {"sel": table_sel, "before": _text(page.locator(table_sel)), "img": img_sel,
                  "src": _src(page, img_sel), "msg": msg_sel, "text": "✓"}
        ms = click_and_wait(page, check, CHANGED_TEXT_AND_IMG_WITH_MESSAGE, before)
        timings.click("GradAccumulationLab", ms / 1000)
        assert "✓" in _text(page.locator(msg_sel))
        assert _revealed_grads(page, table_sel) == accumulated[:1]
        jl.screenshot_element(root, "widget-GradAccumulationLab-right-prediction")
        for k in range(1, len(accumulated)):  # Show: one more call each, its bar drawn
            before = {"sel": table_sel, "before": _text(page.locator(table_sel)),
                      "img": img_sel, "src": _src(page, img_sel)}
            ms = click_and_wait(page, root.locator("button.agl-show"), CHANGED_TEXT_AND_IMG,
                                before)
            timings.click("GradAccumulationLab", ms / 1000)
            assert _revealed_grads(page, table_sel) == accumulated[: k + 1]
        jl.screenshot_element(root, "widget-GradAccumulationLab-five-calls")

    def test_grad_accumulation_lab_with_and_without_zeroing(
        self, jl: JupyterLabPage, widget_page: Any, timings: Any
    ) -> None:
        _cell_ok(widget_page, "GradAccumulationLab")
        page = jl.page
        root_sel = ".agl-grad-accumulation-lab"
        root = page.locator(root_sel).first
        table_sel = f"{root_sel} .agl-grad-table"
        out_sel = f"{root_sel} .agl-output"
        img_sel = f"{root_sel} .agl-plot svg"
        calls = int(root.locator(".agl-calls input").first.input_value())
        assert calls == 5
        accumulated, _ = _torch_accumulation(calls, "nothing")

        buttons = root.locator(".agl-mode button")
        run_rest = root.locator("button.agl-run")
        for mode in ("grad.zero_()", "grad = None", "nothing"):
            before = {"sel": table_sel, "before": _text(page.locator(table_sel))}
            button = buttons.filter(has_text=re.compile("^" + re.escape(mode) + "$"))
            ms = click_and_wait(page, button, CHANGED_TEXT, before)
            timings.click("GradAccumulationLab", ms / 1000)
            assert _revealed_grads(page, table_sel) == []  # new settings: a fresh x
            before = {"sel": table_sel, "before": _text(page.locator(table_sel)),
                      "img": img_sel, "src": _src(page, img_sel)}
            ms = click_and_wait(page, run_rest, CHANGED_TEXT_AND_IMG, before)
            timings.click("GradAccumulationLab", ms / 1000)
            expected, _ = _torch_accumulation(calls, mode)
            assert _revealed_grads(page, table_sel) == expected, mode
            if mode == "grad.zero_()":
                assert expected == [12.0] * calls
                jl.screenshot_element(root, "widget-GradAccumulationLab-zeroed")

        # the same graph twice: torch refuses without retain_graph=True; "error" is the answer
        before = {"sel": table_sel, "before": _text(page.locator(table_sel))}
        ms = click_and_wait(page, root.locator(".agl-fresh input"), CHANGED_TEXT, before)
        timings.click("GradAccumulationLab", ms / 1000)
        grads, error = _torch_accumulation(calls, "nothing", fresh=False)
        assert error.startswith("RuntimeError: Trying to backward through the graph a second time")
        box = root.locator(".agl-predict-box input")
        for answer in (str(grads[0]), "error"):
            box.fill(answer)
            before = {"sel": table_sel, "before": _text(page.locator(table_sel))}
            ms = click_and_wait(page, root.locator("button.agl-check"), CHANGED_TEXT, before)
            timings.click("GradAccumulationLab", ms / 1000)
        shown = _text(root)
        assert error in _text(page.locator(out_sel)), shown
        assert shown.count("Trying to backward through the graph a second time") == 1, shown
        jl.screenshot_element(root, "widget-GradAccumulationLab-error-once")
        before = {"sel": table_sel, "before": _text(page.locator(table_sel))}
        ms = click_and_wait(page, root.locator(".agl-retain input"), CHANGED_TEXT, before)
        timings.click("GradAccumulationLab", ms / 1000)
        before = {"sel": table_sel, "before": _text(page.locator(table_sel)), "img": img_sel,
                  "src": _src(page, img_sel)}
        ms = click_and_wait(page, run_rest, CHANGED_TEXT_AND_IMG, before)
        timings.click("GradAccumulationLab", ms / 1000)
        grads, error = _torch_accumulation(calls, "nothing", fresh=False, retain=True)
        assert not error and _revealed_grads(page, table_sel) == grads == accumulated
        jl.screenshot_element(root, "widget-GradAccumulationLab-retain-graph")

    def test_no_grad_explorer_guess_then_reveal(
        self, jl: JupyterLabPage, widget_page: Any, timings: Any
    ) -> None:
        """Only plain is shown; guesses for detach() (one wrong), Reveal marks ✓ / ✗."""
        _cell_ok(widget_page, "NoGradExplorer")
        page = jl.page
        root_sel = ".agl-no-grad-explorer"
        root = page.locator(root_sel).first
        table_sel = f"{root_sel} .agl-table-area"
        assert "does not require grad" not in _text(page.locator(table_sel))
        column = root.locator(".agl-method button").filter(has_text=re.compile(r"^detach\(\)$"))
        prompt_sel = f"{root_sel} .agl-guess-prompt"
        ms = click_and_wait(page, column, HAS_TEXT, {"sel": prompt_sel, "text": "detach()"})
        timings.click("NoGradExplorer", ms / 1000)
        truth = torch_truth("detach()")  # the unit test's torch truth
        wrong = "True" if truth["requires_grad"] == "False" else "False"
        for key, answer in truth.items():
            answer = wrong if key == "requires_grad" else answer
            row = root.locator(f".agl-guess-{key.replace('_', '-')} button")
            button = row.filter(has_text=re.compile("^" + re.escape(answer) + "$"))
            before = {"sel": table_sel, "before": _text(page.locator(table_sel))}
            ms = click_and_wait(page, button, CHANGED_TEXT, before)
            timings.click("NoGradExplorer", ms / 1000)
        assert "does not require grad" not in _text(page.locator(table_sel))
        jl.screenshot_element(root, "widget-NoGradExplorer-guessed")
        before = {"sel": table_sel, "before": _text(page.locator(table_sel))}
        ms = click_and_wait(page, root.locator("button.agl-reveal"), CHANGED_TEXT, before)
        timings.click("NoGradExplorer", ms / 1000)
        table = _text(page.locator(table_sel))
        assert "does not require grad" in table and f"✗ (you: {wrong})" in table, table
        assert table.count("✓") == len(truth) - 1, table
        assert f"{len(truth) - 1} of {len(truth)} guesses right" in _text(root)
        jl.screenshot_element(root, "widget-NoGradExplorer-revealed")

    def test_no_grad_explorer_every_column(
        self, jl: JupyterLabPage, widget_page: Any, timings: Any
    ) -> None:
        _cell_ok(widget_page, "NoGradExplorer")
        page = jl.page
        root_sel = ".agl-no-grad-explorer"
        root = page.locator(root_sel).first
        out_sel = f"{root_sel} .agl-output"
        buttons = root.locator(".agl-method button")
        labels = [t.strip() for t in buttons.all_inner_texts()]
        assert labels == ["plain", "requires_grad_(False)", "detach()", "torch.no_grad()"], labels
        # start from the last column so that every click (including "plain") changes the page
        order = labels[1:] + labels[:1]
        for label in order:
            before = _text(page.locator(out_sel))
            button = buttons.filter(has_text=re.compile("^" + re.escape(label) + "$"))
            ms = click_and_wait(page, button, CHANGED_TEXT, {"sel": out_sel, "before": before})
            timings.click("NoGradExplorer", ms / 1000)
            result_sel = f'{root_sel} .agl-backward-result[data-method="{label}"]'
            expected = _torch_backward_message(label)
            if expected not in _text(page.locator(result_sel)):  # hidden: Show, no guessing
                before = _text(page.locator(out_sel))
                ms = click_and_wait(page, root.locator("button.agl-show"), CHANGED_TEXT,
                                    {"sel": out_sel, "before": before})
                timings.click("NoGradExplorer", ms / 1000)
            result = _text(page.locator(result_sel))
            assert expected in result, f"{label}: page shows {result!r}, torch says {expected!r}"
            if label != "plain":
                assert "does not require grad" in expected  # the seed's RuntimeError
        # the in-place edit toggle: z = x.detach(); z.add_(1) changes x too
        import torch

        x = torch.tensor(2.0, requires_grad=True)
        y = x**2
        z = x.detach()
        z.add_(1.0)
        x_after = repr(x)
        try:
            y.backward()
            backward = "no error"
        except RuntimeError as exc:
            backward = f"RuntimeError: {str(exc).splitlines()[0]}"
        toggle = root.locator("button.agl-inplace-toggle")
        inplace_sel = f"{root_sel} .agl-inplace"
        before = _text(page.locator(inplace_sel))
        ms = click_and_wait(page, toggle, CHANGED_TEXT, {"sel": inplace_sel, "before": before})
        timings.click("NoGradExplorer", ms / 1000)
        shown = _text(page.locator(inplace_sel))
        assert f"x after z.add_(1): {x_after}" in shown, shown
        assert backward in shown, shown
        before = shown
        ms = click_and_wait(page, toggle, CHANGED_TEXT, {"sel": inplace_sel, "before": before})
        timings.click("NoGradExplorer", ms / 1000)
        assert _text(page.locator(inplace_sel)).strip() == ""
        # leave it showing the in-place edit for the final screenshot
        ms = click_and_wait(page, toggle, CHANGED_TEXT, {"sel": inplace_sel, "before": ""})
        timings.click("NoGradExplorer", ms / 1000)
        jl.screenshot_element(root, "widget-NoGradExplorer-inplace")

    def test_training_explorer_run_updates_loss_curve(
        self, jl: JupyterLabPage, widget_page: Any, timings: Any
    ) -> None:
        _cell_ok(widget_page, "TrainingExplorer")
        page = jl.page
        root_sel = ".agl-training-explorer"
        root = page.locator(root_sel).first
        img_sel = f"{root_sel} .agl-plot svg"
        log_sel = f"{root_sel} .agl-epoch-log"
        epochs = int(root.locator(".agl-epochs input").first.input_value())
        # Step first: Run must still end at epoch == epochs, never epochs + 1
        src_before = root.locator(".agl-plot svg").first.evaluate("e => e.outerHTML")
        ms = click_and_wait(page, root.locator("button.agl-step"), CHANGED_SRC,
                            {"sel": img_sel, "before": src_before})
        timings.click("TrainingExplorer", ms / 1000)
        src_before = root.locator(".agl-plot svg").first.evaluate("e => e.outerHTML")
        ms = click_and_wait(page, root.locator("button.agl-run"), CHANGED_SRC,
                            {"sel": img_sel, "before": src_before})
        timings.click("TrainingExplorer", ms / 1000)
        page.wait_for_function(HAS_TEXT, arg={"sel": log_sel, "text": f"Epoch {epochs}:"},
                               timeout=10_000, polling=POLL_MS)
        shown = [ln.strip() for ln in _text(page.locator(log_sel)).splitlines() if ln.strip()]
        expected = _seed_training(epochs)
        assert shown == expected, f"page:\n{shown}\nexpected:\n{expected}"
        if epochs == 10:
            assert shown[-1] == "Epoch 10: w=2.0337, b=0.7755, loss=0.0383"  # the seed's line
        status = _text(root.locator(".agl-status"))
        assert "converging" in status and "diverging" not in status, status
        assert f"epoch {epochs}," in status, status
        assert root.locator("button.agl-run").is_disabled()
        assert math.isfinite(float(re.findall(r"loss=([-\d.]+)", _text(page.locator(log_sel)))[-1]))
        jl.screenshot_element(root, "widget-TrainingExplorer-after-run")

    def test_training_explorer_lr_change_starts_a_fresh_run(
        self, jl: JupyterLabPage, widget_page: Any, timings: Any
    ) -> None:
        """Typing lr 0.12 after a run: a fresh run; status and plot label name the same lr."""
        _cell_ok(widget_page, "TrainingExplorer")
        page = jl.page
        root_sel = ".agl-training-explorer"
        root = page.locator(root_sel).first
        log_sel = f"{root_sel} .agl-epoch-log"
        label_sel = f"{root_sel} .agl-plot-label"
        if not root.locator("button.agl-run").is_disabled():  # make sure a run is on screen
            before = _text(page.locator(log_sel))
            click_and_wait(page, root.locator("button.agl-run"), CHANGED_TEXT,
                           {"sel": log_sel, "before": before})
        assert "Epoch 1:" in _text(page.locator(log_sel))
        lr = 0.12
        before = _text(page.locator(log_sel))
        ms = click_and_wait(page, root.locator(".agl-lr-box input"), CHANGED_TEXT,
                            {"sel": log_sel, "before": before}, action="enter", text=str(lr))
        timings.click("TrainingExplorer", ms / 1000)
        page.wait_for_function(HAS_TEXT, arg={"sel": label_sel, "text": f"lr={lr:g}"},
                               timeout=10_000, polling=POLL_MS)
        assert "Epoch 1:" not in _text(page.locator(log_sel))  # old results are gone
        assert "fresh run" in _text(root.locator(".agl-message-area"))
        before = _text(page.locator(log_sel))
        ms = click_and_wait(page, root.locator("button.agl-run"), CHANGED_TEXT,
                            {"sel": log_sel, "before": before})
        timings.click("TrainingExplorer", ms / 1000)
        epochs = int(root.locator(".agl-epochs input").first.input_value())
        page.wait_for_function(HAS_TEXT, arg={"sel": log_sel, "text": f"Epoch {epochs}:"},
                               timeout=10_000, polling=POLL_MS)
        shown = [ln.strip() for ln in _text(page.locator(log_sel)).splitlines() if ln.strip()]
        assert shown == _seed_training(epochs, lr=lr)
        status = _text(root.locator(".agl-status"))
        label = _text(page.locator(label_sel))
        assert f"(lr={lr:g})" in status and f"(lr={lr:g})" in label, (status, label)
        assert re.findall(r"lr=([\d.]+)", status) == re.findall(r"lr=([\d.]+)", label)
        jl.screenshot_element(root, "widget-TrainingExplorer-lr-0.12")
        # + moves lr one step of 0.001: the box, the status and the plot label follow
        ms = click_and_wait(page, root.locator("button.agl-lr-up"), HAS_TEXT,
                            {"sel": label_sel, "text": "lr=0.121"})
        timings.click("TrainingExplorer", ms / 1000)
        page.wait_for_function(HAS_TEXT, arg={"sel": f"{root_sel} .agl-status",
                                              "text": "lr=0.121"}, timeout=10_000,
                               polling=POLL_MS)
        assert root.locator(".agl-lr-box input").input_value() == "0.121"


    def test_network_trainer_predict_step_and_width(
        self, jl: JupyterLabPage, widget_page: Any, timings: Any
    ) -> None:
        """Predict "loss goes down", Step: the page says whether that was right with the
        losses a fresh NetworkSession gives here; a width button starts a new network."""
        from autograd_lab.widgets.network_state import NetworkSession

        _cell_ok(widget_page, "NetworkTrainer")
        page = jl.page
        root_sel = ".agl-network-trainer"
        root = page.locator(root_sel).first
        out_sel = f"{root_sel} .agl-output"
        root.get_by_role("button", name="yes").first.click()
        before = _text(page.locator(out_sel))
        ms = click_and_wait(page, root.locator("button.agl-step"), CHANGED_TEXT,
                            {"sel": out_sel, "before": before})
        timings.click("NetworkTrainer", ms / 1000)
        result = NetworkSession().step()
        shown = _text(page.locator(out_sel))
        assert str(result) in shown, shown
        assert f"({result.loss_before:.4f} → {result.loss_after:.4f})" in shown, shown
        status_sel = f"{root_sel} .agl-status"
        before = _text(page.locator(status_sel))
        ms = click_and_wait(page, root.locator(".agl-width button", has_text="2").first,
                            CHANGED_TEXT, {"sel": status_sel, "before": before})
        timings.click("NetworkTrainer", ms / 1000)
        assert "width 2" in _text(page.locator(status_sel))
        assert_wraps_at_spaces(root, "NetworkTrainer")
        jl.screenshot_element(root, "widget-NetworkTrainer-width-2")

    def test_every_widget_reads_well_in_light_and_dark(
        self, jl: JupyterLabPage, widget_page: Any
    ) -> None:
        """After the clicks above: axe-core finds nothing serious or critical (colour contrast
        included) in any widget, in JupyterLab Light and Dark (with AUTOGRAD_LAB_SCREENSHOTS=1,
        a screenshot of each in both)."""
        page = jl.page
        found = {}
        try:
            for theme in ("JupyterLab Dark", "JupyterLab Light"):
                set_theme(jl, theme)
                mode = "dark" if "Dark" in theme else "light"
                found[mode] = serious_violations(page, ".agl-widget")
                for name in WIDGET_CELLS:
                    if name != "setup":
                        root = page.locator(f".{_css_class(name)}").first
                        root.locator("svg").count()  # pictures are in the page (inline SVG)
                        jl.screenshot_element(root, f"widget-{name}-{mode}")
        finally:
            set_theme(jl, "JupyterLab Light")
        assert found == {"dark": [], "light": []}, "\n".join(
            f"{mode}: {describe(v)}" for mode, v in found.items() if v)

    def test_after_a_restart_the_widget_says_to_run_its_cell_again(
        self, jl: JupyterLabPage, widget_page: Any
    ) -> None:
        """Kernel → Restart: each widget shows the one sentence at its top, its controls show
        no broken-link icon each (last in the class: the widgets' kernel is gone after it)."""
        page = jl.page
        jl.menu("Kernel", "Restart Kernel…")
        page.click(".jp-Dialog button.jp-mod-accept", timeout=10_000)
        page.wait_for_selector(".agl-widget.jupyter-widgets-disconnected", timeout=30_000)
        notice = page.evaluate(
            "() => [...document.querySelectorAll('.agl-widget.jupyter-widgets-disconnected')]"
            ".map(e => getComputedStyle(e, '::before').content)")
        icons = page.evaluate(
            "() => [...document.querySelectorAll('.agl-widget .jupyter-widgets-disconnected')]"
            ".filter(e => !['none', 'normal'].includes(getComputedStyle(e, '::before').content))"
            ".length")
        assert len(notice) == len(WIDGET_CELLS) - 1
        assert all(AFTER_RESTART in text for text in notice), notice
        assert icons == 0
        jl.screenshot_element(page.locator(".agl-chain-rule-stepper").first,
                              "widget-ChainRuleStepper-after-restart")


def set_theme(jl: JupyterLabPage, theme: str) -> None:
    """Settings → Theme → ``theme``; waits until the page has switched."""
    page = jl.page
    light = "true" if "Light" in theme else "false"
    if page.evaluate("() => document.body.dataset.jpThemeLight") == light:
        return
    page.click(".lm-MenuBar-itemLabel:text-is('Settings')")
    page.hover(".lm-Menu-itemLabel:text-is('Theme')")
    page.click(f".lm-Menu-itemLabel:text-is('{theme}')")
    page.wait_for_function("(l) => document.body.dataset.jpThemeLight === l", arg=light,
                           timeout=30_000, polling=POLL_MS)
    page.wait_for_timeout(500)  # the theme's stylesheet applied


def _css_class(name: str) -> str:
    return "agl-" + re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def test_a_lesson_rendered_without_a_kernel_shows_the_widget_picture(
    jl: JupyterLabPage, tmp_path: Path
) -> None:
    """``jupyter nbconvert --to html`` of lesson 02 (stored outputs, no kernel, no widget
    state): the widget's static copy shows its SVG graph, its text and how to use it."""
    import subprocess
    import sys

    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "html",
                    "--output-dir", str(tmp_path), str(NOTEBOOKS / "02_chain_rule.ipynb")],
                   check=True, capture_output=True, timeout=300)
    page = jl.page.context.new_page()
    try:
        page.goto((tmp_path / "02_chain_rule.html").as_uri())
        static = page.locator(".agl-static").first
        picture = static.locator("svg[role=img]")
        assert picture.is_visible()
        assert "Graph of" in picture.locator("title").text_content()
        assert "x = 3" in picture.text_content()  # the boxes' labels are text
        assert picture.bounding_box()["width"] > 200
        assert "run this notebook (JupyterLab, Colab)" in static.inner_text()
        assert serious_violations(page, ".agl-static") == []
        if jl.screenshots:
            static.screenshot(path=str(jl.artifacts / "nbconvert-02-widget-static.png"))
    finally:
        page.close()


#: A scratch notebook of the text outputs the lessons ask students to read: an exercise's
#: verdict and hint (text/plain), a torch error (Minimal traceback), a warning.
WRAP_NOTEBOOK = "browser-test-wrapping.ipynb"
WRAP_CELLS = [
    ("import math\nimport torch\nimport autograd_lab\nautograd_lab.notebook_setup()\n"
     "from autograd_lab.exercises import check_gradient", []),
    ("v = check_gradient('exp_cos', 'x', math.exp(math.cos(2.0)))  # the inner factor left out\n"
     "print(v)\nv.hint()", []),
    ("x = torch.tensor(2.0, requires_grad=True)\ny = x.exp() * 3\ny.backward()\ny.backward()",
     ["raises-exception"]),
    ("z = x * 2\nz.grad", []),
]


def test_text_outputs_wrap_at_spaces_in_a_narrow_lab(jl: JupyterLabPage, timings: Any) -> None:
    """In a 700 px wide lab every text output (hint, verdict, torch error, warning) wraps at
    spaces: JupyterLab's own ``word-break: break-all`` would split "retain_g|rad()" or
    "-|sin(x)"; the student CSS (autograd_lab_course.student_css) puts it back to normal."""
    cells = [{"cell_type": "code", "id": f"wrap-{i}", "metadata": {"tags": tags},
              "source": src, "outputs": [], "execution_count": None}
             for i, (src, tags) in enumerate(WRAP_CELLS)]
    notebook = {**_widget_notebook(), "cells": cells}
    jl.api.put_notebook(WRAP_NOTEBOOK, notebook)
    page = jl.page
    page.set_viewport_size({"width": 700, "height": VIEWPORT["height"]})
    try:
        problems, scanned = run_notebook(jl, WRAP_NOTEBOOK, timings, "wrapping-700px")
        texts = [c["text"] for c in scanned]
        # the outputs are there, and long enough to wrap in 700 px
        assert "du/dx = -sin(x)" in texts[1] and "retain_graph=True" in texts[2], texts
        lines = page.evaluate(
            "() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden)"
            " .jp-OutputArea-output pre')].map(p => Math.round(p.getBoundingClientRect()"
            ".height / parseFloat(getComputedStyle(p).lineHeight)))")
        assert max(lines) >= 3, lines  # the torch error takes several lines
        assert not problems, "\n".join(problems)  # includes: no word broken across lines
        assert not output_broken_words(page)
    finally:
        page.set_viewport_size(VIEWPORT)
        shut_down(jl, WRAP_NOTEBOOK, timings)


def _revealed_grads(page: Any, sel: str) -> list[float]:
    """The ``x.grad after it`` column of GradAccumulationLab's table, revealed rows only."""
    values = []
    for row in page.locator(f"{sel} tbody tr").all_inner_texts():
        cells = [c.strip() for c in row.split("\t")]
        if len(cells) >= 2 and cells[1] not in ("RuntimeError", "None", "?"):
            values.append(float(cells[1]))
    return values


# --- every lesson and student exercise notebook ---------------------------------------------
def lesson_widgets(path: str, notebooks: Path = NOTEBOOKS) -> list[tuple[str, str]]:
    """(widget class, its root CSS class) for every cell tagged ``widget`` in a lesson.

    Found by the cell tag, never by a list of lessons: ``ChainRuleStepper`` imported from
    ``autograd_lab.widgets`` in a tagged cell is expected as ``.agl-chain-rule-stepper``.
    """
    nb = json.loads((notebooks / path).read_text(encoding="utf-8"))
    found = []
    for cell in nb["cells"]:
        if "widget" not in cell.get("metadata", {}).get("tags", []):
            continue
        source = "".join(cell["source"])
        for name in re.findall(r"from autograd_lab\.widgets import (\w+)", source):
            found.append((name, "agl-" + re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()))
    return found


def _widget_name(css_class: str) -> str:
    return "".join(part.title() for part in css_class.removeprefix("agl-").split("-"))


#: One student action per widget kind: (control to click, element whose content must change).
FIRST_ACTION = {
    "agl-chain-rule-stepper": (("button.agl-next", "button.agl-back"), ".agl-output"),
    "agl-backward-tracer": (("button.agl-next", "button.agl-back"), ".agl-output"),
    "agl-grad-accumulation-lab": ((".agl-mode button:not(.mod-active)",), ".agl-table-area"),
    "agl-no-grad-explorer": (("button.agl-inplace-toggle",), ".agl-inplace"),
    "agl-training-explorer": (("button.agl-step", "button.agl-reset"), ".agl-epoch-log"),
    "agl-network-trainer": (("button.agl-step", "button.agl-reset"), ".agl-output"),
}


def poke_widgets(jl: JupyterLabPage, path: str, timings: Any) -> list[str]:
    """Press one control of every widget in the open lesson; each must update the page."""
    page = jl.page
    found = []
    for cls, (controls, changes) in FIRST_ACTION.items():
        roots = page.locator(f".jp-NotebookPanel:not(.lm-mod-hidden) .{cls}")
        for k in range(roots.count()):
            root = roots.nth(k)
            enabled = [b for c in controls if not (b := root.locator(c).first).is_disabled()]
            if not enabled:
                continue
            button = enabled[0]
            sel = f".jp-NotebookPanel:not(.lm-mod-hidden) .{cls} >> nth={k}"
            target = page.locator(sel).locator(changes).first
            before = _text(target)
            marker = f"agl-poke-{k}"
            target.evaluate("(e, m) => e.classList.add(m)", marker)
            ms = click_and_wait(page, button, CHANGED_TEXT, {"sel": f".{marker}", "before": before})
            timings.click(_widget_name(cls), ms / 1000)
            found.append(cls)
    return found


@pytest.mark.parametrize("path", _lessons())
def test_lesson_notebook_runs_clean(jl: JupyterLabPage, timings: Any, path: str | None) -> None:
    assert path is not None, f"no lesson notebooks found in {NOTEBOOKS}"
    try:
        problems, cells = run_notebook(jl, path, timings, _shot_name(path))
        t0 = time.perf_counter()
        poked = poke_widgets(jl, path, timings) if not problems else []
        timings.notebook(path, poke_s=time.perf_counter() - t0)
    finally:
        shut_down(jl, path, timings)
    assert not problems, "\n".join(problems)
    for name, css_class in lesson_widgets(path):
        assert css_class in poked, f"{path}: no working {name} found in the page"
    assert not kernels_of(jl, path), f"{path}: its kernel is still running after shut-down"


@pytest.mark.parametrize("path", _exercises())
def test_student_exercise_notebook_runs_clean(jl: JupyterLabPage, timings: Any,
                                              path: str | None) -> None:
    assert path is not None, f"no student exercise notebooks found in {RELEASE}"
    try:
        problems, cells = run_notebook(jl, path, timings, _shot_name(path))
    finally:
        shut_down(jl, path, timings)
    assert not problems, "\n".join(problems)
    assert not kernels_of(jl, path), f"{path}: its kernel is still running after shut-down"
    # what the checks print (outputs only: the instructions also mention the verdicts)
    verdicts = [ln for c in cells for ln in c["text"].splitlines() if ln.strip()]
    attempted = [ln for ln in verdicts if re.search(r"not quite|\bcorrect\b", ln, re.I)
                 and "not attempted" not in ln.lower()]
    assert any("not attempted" in ln.lower() for ln in verdicts), (
        f"{path}: no output says 'not attempted' for the unanswered exercises"
    )
    assert not attempted, f"{path}: an unanswered exercise was judged: {attempted[:3]}"


# --- the page checks themselves (no browser needed) ------------------------------------------
@pytest.mark.parametrize(
    ("stderr", "is_error"),
    ids=["minimal", "traceback", "syntax", "dotted-name", "user-warning", "runtime-warning",
         "prose"],
    argvalues=[
        ("ZeroDivisionError: division by zero", True),  # minimal traceback (notebook_setup)
        ("-----\nRuntimeError                Traceback (most recent call last)\nCell In[3]", True),
        ("  Cell In[2], line 11\n      ^\nSyntaxError: unterminated string literal", True),
        ("torch.OutOfMemoryError: CUDA out of memory", True),
        ("UserWarning: The .grad attribute of a Tensor that is not a leaf Tensor", False),
        ("<ipython-input>:3: RuntimeWarning: lr=0.15 diverges", False),
        ("x.grad is None because y is not a leaf (RuntimeError would need retain_grad)", False),
    ],
)
def test_error_outputs_are_told_from_warnings(stderr: str, is_error: bool) -> None:
    cells = [{"code": True, "prompt": "[1]:", "stderr": [stderr], "widgetError": False,
              "viewErrors": [], "loading": False, "brokenImages": 0, "pendingImages": 0}]
    assert bool(find_problems(cells, [[]], "nb.ipynb")) is is_error
    assert find_problems(cells, [["raises-exception"]], "nb.ipynb") == []


def _run_state_page(prompts: list[str], stderr: set[int], status: str) -> str:
    """A page with the pieces of JupyterLab that JupyterLabPage.RUN_STATE_JS reads."""
    cells = "".join(
        f'<div class="jp-Cell jp-CodeCell"><div class="jp-InputArea-prompt">{p}</div>'
        + ('<div class="jp-OutputArea-output" data-mime-type="application/vnd.jupyter.stderr">'
           "E</div>" if i in stderr else "")
        + "</div>"
        for i, p in enumerate(prompts)
    )
    return (f'<div class="jp-NotebookPanel">{cells}</div>'
            f'<div id="jp-main-statusbar">Python 3 | {status}</div>')


@pytest.mark.parametrize(
    ("prompts", "stderr", "expected", "status", "state"),
    ids=["busy", "all-ran", "queued-star", "queued-after-expected-error",
         "queued-after-expected-error-and-a-clean-cell", "stopped-at-unexpected-error",
         "stopped-after-a-warning-cell-waits-for-hold"],
    argvalues=[
        (["[1]:", "[ ]:"], set(), [], "Busy", False),
        (["[1]:", "[2]:", "[3]:"], {1}, [1], "Idle", "done"),
        (["[1]:", "[*]:", "[*]:"], set(), [], "Idle", False),
        # JupyterLab 4 shows queued cells as [ ] once an expected error's reply came back:
        (["[1]:", "[2]:", "[ ]:", "[ ]:"], {1}, [1], "Idle", False),
        (["[1]:", "[2]:", "[3]:", "[ ]:"], {1}, [1], "Idle", False),
        (["[1]:", "[2]:", "[ ]:"], {1}, [], "Idle", "stopped [1]: [2]: [ ]:"),
        (["[1]:", "[2]:", "[3]:", "[ ]:"], {2}, [1], "Idle", "stopped [1]: [2]: [3]: [ ]:"),
    ],
)
def test_run_all_end_is_told_from_an_idle_moment(jl: JupyterLabPage, prompts: list[str],
                                                 stderr: set[int], expected: list[int],
                                                 status: str, state: Any) -> None:
    page = jl.page.context.new_page()
    try:
        page.set_content(_run_state_page(prompts, stderr, status))
        assert page.evaluate(jl.RUN_STATE_JS, expected) == state
    finally:
        page.close()
