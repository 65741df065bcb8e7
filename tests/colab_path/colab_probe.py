"""What ``make test-colab`` (tests/colab_run.py) runs inside a notebook's kernel, after a cell.

``click_once(widget)`` clicks every button of a kit widget once through ipywidgets' Python
API (``Button.click()``; a ``ToggleButton`` is flipped), and prints one line of JSON: the
widget's class, the controls it clicked, which of those clicks changed the widget's text,
and any error it showed. ``colab_state()`` prints what the stand-in ``google.colab``
recorded and where ``autograd_lab`` was imported from.
"""

from __future__ import annotations

import json
from typing import Any

#: The line a probe result starts with (the driver finds it in the cell's stdout).
MARK = "COLAB-PROBE "


def widget_tree(root: Any) -> list[Any]:
    seen, stack = [], [root]
    while stack:
        widget = stack.pop(0)
        seen.append(widget)
        stack[:0] = list(getattr(widget, "children", ()) or ())
    return seen


def click_once(widget: Any) -> dict:
    """Click each button of ``widget`` once (tree order); print and return the summary."""
    import ipywidgets

    clicked, changed, errors = [], [], []
    for control in widget_tree(widget.root):
        before = widget.text
        if isinstance(control, ipywidgets.ToggleButton):
            control.value = not control.value
        elif isinstance(control, ipywidgets.Button):
            control.click()
        else:
            continue
        clicked.append(control.description)
        if widget.text != before:
            changed.append(control.description)
        error = getattr(widget, "last_error", None)
        if error is not None and not isinstance(error, (ValueError, TypeError, RuntimeError)):
            errors.append(f"{control.description}: {type(error).__name__}: {error}")
    message = getattr(getattr(widget, "message", None), "value", "") or ""
    if "Something unexpected went wrong" in message:
        errors.append(f"unexpected-error message: {message[:120]}")
    summary = {
        "widget": type(widget).__name__,
        "clicked": clicked,
        "changed": changed,
        "errors": errors,
    }
    print(MARK + json.dumps(summary))
    return summary


def colab_state() -> dict:
    """What the stand-in google.colab recorded, and where autograd_lab came from."""
    from google.colab import output

    import autograd_lab

    state = {
        "widget_manager_calls": output.custom_widget_manager_calls,
        "package": autograd_lab.__file__,
        "version": autograd_lab.__version__,
    }
    print(MARK + json.dumps(state))
    return state
