"""The scaffolding every widget shares: one base class over a plain-Python state object.

:class:`WidgetBase` owns what the five widgets used to write out five times:

- the **message line** (``self.message``, one escaped sentence, never a traceback) and the
  **error path**: :meth:`_attempt` runs an action and shows a failure as one line;
  :func:`guarded` does the same for any event handler; ``last_error`` keeps the exception;
- the **button row** (:meth:`button_row`, keyboard-focusable buttons with tooltips);
- the **plain-text fallback** (``text/plain`` for a notebook without a widget front-end, and
  ``repr``), from :meth:`_plain`; and **``text``**, what the output area shows as plain text,
  from :meth:`_lines`.

A widget subclass builds its state, its controls and ``self.root`` (via :meth:`_finish`),
and implements ``_render``, ``_plain`` and ``_lines``.  A later "predict, then check" box
only needs another row and :meth:`say` for its verdict line.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import ipywidgets as widgets

from autograd_lab.errors import DerivationError, ExpressionError
from autograd_lab.widgets.markup import escape, message_html, pre_html

T = TypeVar("T")

#: Shown when something fails that we did not foresee (never a traceback).
UNEXPECTED = (
    "Something unexpected went wrong with that input; try a simpler expression or press Reset."
)

#: Exceptions a widget turns into its own one-line message.
EXPECTED_ERRORS = (ExpressionError, DerivationError, ValueError, TypeError, ArithmeticError)


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message, prefixed by its class for torch errors.

    Learner-facing errors (ExpressionError, DerivationError, ValueError, TypeError) keep
    their own sentence; a torch ``RuntimeError`` is shown the way Python prints it
    (``RuntimeError: element 0 of tensors …``) because that exact text is the lesson.
    """
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, (ExpressionError, DerivationError)):
        return text or "That expression cannot be read; check it and try again."
    if isinstance(exc, RuntimeError):
        return f"{type(exc).__name__}: {text}"
    if isinstance(exc, (ValueError, TypeError, ArithmeticError)):
        return text or "That input is not valid here; check it and try again."
    return UNEXPECTED


#: What the plain-text fallback says after the name: shown wherever the widget itself cannot
#: be (no widget front end, or its model gone after a kernel restart or a reopened notebook).
RUN_TO_INTERACT = "run this cell to interact (re-run it after a kernel restart)"

#: The one instruction after Kernel → Restart (the widget, the lessons and the start page).
AFTER_RESTART = ("The kernel restarted, so this widget no longer responds: run its cell again "
                 "(Shift+Enter) to use it.")

#: ipywidgets' front end puts the class ``jupyter-widgets-disconnected`` on every widget view
#: whose kernel connection is gone (a restart); its own style is a broken-link icon per view.
#: This style shows one sentence at the top of the widget instead, and dims the rest.
RESTART_STYLE = (
    "<style>"
    ".agl-widget .jupyter-widgets-disconnected::before{content:none}"
    ".jupyter-widgets.agl-widget.jupyter-widgets-disconnected::before{"
    f'content:"{AFTER_RESTART}";font-family:inherit;font-size:var(--jp-ui-font-size1,13px);'
    "font-weight:600;color:var(--jp-error-color1,#b00020);line-height:1.4;height:auto;"
    "padding:4px 0}"
    ".agl-widget.jupyter-widgets-disconnected>*{opacity:.55;pointer-events:none}"
    "</style>"
)


def plain_repr(name: str, *parts: str) -> str:
    """Deterministic text/plain for a widget:
    ``Name(a, b) — run this cell to interact (re-run it after a kernel restart)``."""
    return f"{name}({', '.join(p for p in parts if p)}) — {RUN_TO_INTERACT}"


def button(label: str, tooltip: str, cls: str) -> Any:
    """A keyboard-focusable Button with a tooltip (its accessible description) and a class."""
    b = widgets.Button(description=label, tooltip=tooltip, layout=widgets.Layout(width="auto"))
    b.add_class("agl-button")
    b.add_class(cls)
    return b


def guarded(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a widget event handler: any exception becomes a one-line message, never a traceback."""

    @functools.wraps(handler)
    def wrapper(self: WidgetBase, *args: Any, **kwargs: Any) -> Any:
        try:
            return handler(self, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - shown inside the widget instead
            self.show_error(exc)
            return None

    return wrapper


class WidgetBase:
    """Base of the public widgets: message line, button row, error path, ``text``, display."""

    root: Any
    message: Any
    last_error: BaseException | None = None

    # -- building ---------------------------------------------------------------------
    def _new_message_line(self) -> None:
        self.last_error = None
        self.message = widgets.HTML()
        self.message.add_class("agl-message-area")

    def _start(self, build: Callable[[], T], fallback: Callable[[], T], instead: str) -> T:
        """The state from the caller's arguments or, if they fail, ``fallback()`` with one
        line in the message line ("… Showing sin(x**2) instead.")."""
        self._new_message_line()
        try:
            return build()
        except Exception as exc:  # noqa: BLE001 - shown as one line inside the widget
            self.last_error = exc
            self.message.value = message_html(f"{one_line(exc)} Showing {instead} instead.")
            return fallback()

    def button_row(self, *specs: tuple[str, str, str, str, Callable[[], Any]],
                   clear: bool = False) -> Any:
        """Buttons ``(attribute, label, tooltip, css class, action)`` in one row; a click
        runs ``action`` then redraws (and, with ``clear``, empties the message line when
        the action succeeds: :meth:`_act`; else :meth:`_move`)."""
        row = []
        run = self._act if clear else self._move
        for attribute, label, tooltip, cls, action in specs:
            b = button(label, tooltip, cls)
            b.on_click(lambda _, action=action: run(action))
            setattr(self, attribute, b)
            row.append(b)
        return widgets.HBox(row)

    def _finish(self, children: Sequence[Any], cls: str) -> None:
        """``self.root``: the children in a column, with the widget's css classes; render."""
        style = widgets.HTML(RESTART_STYLE, layout=widgets.Layout(display="none"))
        self.root = widgets.VBox([style, *children])
        self.root.add_class("agl-widget")
        self.root.add_class(cls)
        self._render()

    # -- the error path ----------------------------------------------------------------
    def show_error(self, exc: BaseException, keep: str = "") -> None:
        """Put ``exc`` as one line in the message line (a generic line if unexpected)."""
        self.last_error = exc
        text = one_line(exc) + keep if isinstance(exc, EXPECTED_ERRORS) else UNEXPECTED
        self.message.value = message_html(text)

    def say(self, text: str, kind: str = "info") -> None:
        """One line of feedback in the message line ("error", "info" or "ok")."""
        self.message.value = message_html(text, kind)

    def _attempt(self, action: Callable[[], Any], keep: str = "") -> bool:
        """Run ``action()``; on failure show one line (then ``keep``); clear it on success."""
        try:
            action()
        except Exception as exc:  # noqa: BLE001 - shown inside the widget instead
            self.show_error(exc, keep)
            return False
        self.message.value = ""
        return True

    @guarded
    def _move(self, action: Callable[[], Any]) -> None:
        action()
        self._render()

    @guarded
    def _act(self, action: Callable[[], Any] | None) -> None:
        """Run ``action`` through :meth:`_attempt`, then redraw whatever happened."""
        if action is not None:
            self._attempt(action)
        self._render()

    # -- what it shows -------------------------------------------------------------------
    def _render(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _plain(self) -> str:  # pragma: no cover - overridden
        return type(self).__name__

    def _lines(self) -> list[str]:  # pragma: no cover - overridden
        return []

    def picture(self) -> str:
        """The widget's picture now, as SVG markup ("" for a widget without one)."""
        area = getattr(self, "graph_image", None) or getattr(self, "plot_image", None)
        return str(area.value) if area is not None else ""

    def static_html(self) -> str:
        """What a page without a kernel shows (nbconvert, GitHub, the course site, a lesson
        not run yet): the picture, the text and one line saying how to use the widget."""
        name = type(self).__name__
        return (f'<div class="agl-static">{self.picture()}{pre_html(self._lines())}'
                f'<p class="agl-static-note"><i>{escape(name)} is interactive: run this '
                "notebook (JupyterLab, Colab) to use it.</i></p></div>")

    @property
    def text(self) -> str:
        """What the widget shows, as plain text (for notebooks, tests and screen readers)."""
        return "\n".join(self._lines())

    def __repr__(self) -> str:
        return self._plain()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        make_bundle = getattr(self.root, "_repr_mimebundle_", None)
        if make_bundle is not None:  # ipywidgets 8
            bundle = dict(make_bundle(include=include, exclude=exclude))
        else:  # ipywidgets 7 (Colab's default) shows a widget through the same view data
            bundle = {
                "application/vnd.jupyter.widget-view+json": {
                    "version_major": 2,
                    "version_minor": 0,
                    "model_id": self.root.model_id,
                }
            }
        bundle["text/plain"] = self._plain()
        bundle["text/html"] = self.static_html()
        return bundle
