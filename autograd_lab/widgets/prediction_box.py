"""The "your prediction" row a widget shows before each reveal: a box, Check and Show.

Predict, then run: the widget asks for the value its next step will reveal. The row is a
composed helper, not a base class; the widget hands it two callables over its plain-Python
state:

- ``pending() -> (label, truth) | None``: what the next reveal shows (``("dz/dv1", -0.9111…)``,
  or ``("x.grad", "error")`` when the step raises), or None when nothing is left to predict;
- ``reveal() -> None``: advance the state by that one step;
- ``slips() -> {mistake code: value}`` (optional): what the common slips at this step give,
  so a ✗ can name the slip (the exercises' codes, e.g. ``missing_upstream_grad``).

:meth:`PredictionBox.predict` checks an answer with the exercises' rule
(:func:`autograd_lab.exercises.prediction.check_prediction`: 4 decimal places). A right
prediction says ✓ and reveals; a wrong one says ✗ and waits for another try (or Show); a blank
or a non-number gets a not-ok Verdict with a sentence. It never raises.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets

from autograd_lab.exercises.prediction import check_prediction
from autograd_lab.exercises.verdict import Verdict
from autograd_lab.widgets.base import WidgetBase, button, guarded
from autograd_lab.widgets.controls import on_enter
from autograd_lab.widgets.markup import escape

Pending = Callable[[], "tuple[str, float | str] | None"]


class PredictionBox:
    """A prompt line, a text box, ✓ Check and Show, wired to ``view``'s message line.

    ``tries`` counts wrong predictions of the current step (reset by every reveal);
    ``last_verdict`` is the latest Verdict (None before the first Check). ``idle`` (optional)
    gives the prompt line while nothing is pending (e.g. "Next ▶ shows the result").
    """

    def __init__(self, view: WidgetBase, pending: Pending, reveal: Callable[[], None],
                 error_possible: bool = False, idle: Callable[[], str] | None = None,
                 slips: Callable[[], Mapping[str, float]] | None = None) -> None:
        self.view = view
        self._idle = idle
        self._slips = slips
        self._pending = pending
        self._reveal = reveal
        self.error_possible = error_possible
        self.tries = 0
        self.last_verdict: Verdict | None = None
        self.prompt = widgets.HTML()
        self.prompt.add_class("agl-predict-prompt")
        self.box = widgets.Text(
            placeholder="a number, or error" if error_possible else "four decimal places",
            description="your prediction:",
            continuous_update=True, layout=widgets.Layout(width="300px"),
            style={"description_width": "initial"},
        )
        self.box.add_class("agl-predict-box")
        on_enter(self.box, lambda _: self._check_clicked())
        self.check_button = button(
            "✓ Check", "Check your prediction of the next value (4 decimal places)", "agl-check")
        self.check_button.on_click(lambda _: self._check_clicked())
        self.show_button = button(
            "Show", "Reveal the next step without predicting", "agl-show")
        self.show_button.on_click(lambda _: self._show_clicked())
        self.root = widgets.VBox(
            [self.prompt, widgets.HBox([self.box, self.check_button, self.show_button])])
        self.root.add_class("agl-predict")

    # -- the plain-Python surface (tests drive these) ------------------------------------
    def pending(self) -> tuple[str, float | str] | None:
        """``(label, truth)`` of the value the next reveal shows, or None at the end."""
        return self._pending()

    def predict(self, answer: Any) -> Verdict:
        """Check ``answer`` against the next reveal; ✓ reveals it, ✗ waits. Never raises."""
        try:
            target = self._pending()
        except Exception as exc:  # noqa: BLE001 - the state could not say; nothing to check
            verdict = Verdict(False, None, f"Nothing to predict here ({type(exc).__name__})")
        else:
            if target is None:
                idle = self._idle() if self._idle is not None else ""
                verdict = Verdict(False, None, f"Nothing to predict at this step. {idle}".strip()
                                  if idle else "Nothing left to predict; press Reset to restart")
            else:
                label, truth = target
                slips = self._slips() if self._slips is not None else None
                verdict = check_prediction(answer, truth, label, slips, self.error_possible)
                if verdict.ok:
                    self._advance()
                elif verdict.mistake != "not_attempted" and not verdict.message.startswith(
                        "Not a prediction"):
                    self.tries += 1
        self.last_verdict = verdict
        return verdict

    def show(self) -> None:
        """Reveal the next step without a prediction."""
        if self._pending() is not None:
            self._advance()

    def _advance(self) -> None:
        self._reveal()
        self.tries = 0
        self.box.value = ""

    # -- what it shows -------------------------------------------------------------------
    def refresh(self) -> None:
        """The prompt for the current step; Check and Show are off when nothing is left."""
        target = self._pending()
        done = target is None
        self.check_button.disabled = done
        self.show_button.disabled = done
        self.box.disabled = done
        if done:
            self.box.value = ""  # no stale text in a box that cannot be used
            idle = self._idle() if self._idle is not None else ""
            self.prompt.value = (
                f'<span class="agl-predict-idle">{escape(idle)}</span>' if idle else "")
            return
        label = target[0]
        extra = " (or error, if you think it raises)" if self.error_possible else ""
        self.prompt.value = (
            f'<span class="agl-predict-label">Predict {escape(label)} to 4 decimal places'
            f"{escape(extra)}, then press ✓ Check (or Show to skip).</span>"
        )

    def lines(self) -> list[str]:
        """The prompt as plain text (for ``text``), or nothing at the end."""
        target = self._pending()
        if target is None:
            idle = self._idle() if self._idle is not None else ""
            return [idle] if idle else []
        return [f"Predict {target[0]} (4 decimal places)."]

    @guarded
    def _check_clicked(self) -> None:
        verdict = self.predict(self.box.value)
        self.view._render()
        mark = "✓" if verdict.ok else ("○" if verdict.mistake == "not_attempted" else "✗")
        self.view.say(f"{mark} {verdict.message}", "ok" if verdict.ok else "error")

    @guarded
    def _show_clicked(self) -> None:
        self.show()
        self.view._render()
        self.view.say("")

    # guarded needs these on the object it wraps
    def show_error(self, exc: BaseException, keep: str = "") -> None:
        self.view.show_error(exc, keep)


class Predicting:
    """Mixin for a widget with a :class:`PredictionBox` in ``self.prediction``: the public
    ``predict(answer) -> Verdict``."""

    prediction: PredictionBox

    def predict(self, answer: Any) -> Verdict:
        """Check a prediction of the value the next step reveals (4 decimal places): ✓
        reveals it, ✗ waits for another try. A non-number gets a not-ok Verdict; never raises.
        """
        verdict = self.prediction.predict(answer)
        self._render()  # type: ignore[attr-defined]  # the widget's own redraw
        return verdict
