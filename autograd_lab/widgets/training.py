"""TrainingExplorer: lesson 08's linear model ``y = w*x + b`` trained epoch by epoch.

Each epoch is one call of :func:`autograd_lab.train_linear` continuing from the current
``w``, ``b`` (``start_epoch`` keeps the numbering), so the text area shows exactly lesson 08's
lines (``Epoch 1: w=3.5000, b=1.2000, loss=41.0000`` …). A learning rate that makes the loss
grow is labelled *diverging* by the same rule ``train_linear`` warns with
(:func:`autograd_lab.line_fit.is_diverging`).

Nothing on screen comes from a setting that did not produce it: changing ``lr`` or ``epochs``
after training has started starts a fresh run from the initial ``w``, ``b`` (and says so);
the status line and the plot label both show the ``lr`` the records were trained with.
**Run trains until the epoch count equals ``epochs``** (so Step, Step, Run with epochs = 10
ends at epoch 10, never 11); once there, Step and Run are off until ``epochs`` grows (a fresh
run) or Reset.

:class:`~autograd_lab.widgets.training_state.TrainingSession` is the plain-Python state;
:class:`TrainingExplorer` the view.
"""

from __future__ import annotations

import math
from typing import Any

import ipywidgets as widgets

from autograd_lab.formatting import fmt_big
from autograd_lab.widgets.base import WidgetBase, guarded, plain_repr
from autograd_lab.widgets.controls import html_area, picture_area
from autograd_lab.widgets.markup import message_html, pre_html
from autograd_lab.widgets.svg import BLUE, GREEN, RED, Frame, nice_ticks, svg
from autograd_lab.widgets.svg import text as svg_text
from autograd_lab.widgets.training_state import (
    LR_MAX,
    LR_MIN,
    LR_STEP,
    SEED_X,
    SEED_Y,
    TrainingSession,
    read_lr,
)

__all__ = ["SEED_X", "SEED_Y", "TrainingExplorer", "TrainingSession", "read_lr"]

class TrainingExplorer(WidgetBase):
    """Train lesson 08's linear model with Step / Run / Reset and watch loss and fit update.

    Learning rate: a box to type it in (0.001 … 1 in steps of 0.001, default 0.1, applied on
    Enter) and − / + buttons that move it one step; epochs: a number box (1 … 100, default
    10, ↑/↓ step by one): Run trains until that epoch. Left plot: loss per epoch (log
    scale) labelled with its lr; right: the data and the line ``y = w*x + b``. A diverging
    learning rate is labelled *diverging*.
    """

    def __init__(self) -> None:
        self.session = TrainingSession()
        self._new_message_line()
        self.lr_box = widgets.Text(
            value=f"{self.session.lr:g}", description="lr", continuous_update=False,
            tooltip=f"Type a learning rate ({LR_MIN:g} to {LR_MAX:g}) and press Enter",
            layout=widgets.Layout(width="150px"), style={"description_width": "initial"},
        )
        self.lr_box.add_class("agl-lr-box")
        self.lr_box.observe(self._on_lr_typed, names="value")
        lr_steps = self.button_row(
            ("lr_down_button", f"− {LR_STEP:g}", f"Lower lr by {LR_STEP:g}", "agl-lr-down",
             lambda: self._set_lr(round(self.session.lr - LR_STEP, 3))),
            ("lr_up_button", f"+ {LR_STEP:g}", f"Raise lr by {LR_STEP:g}", "agl-lr-up",
             lambda: self._set_lr(round(self.session.lr + LR_STEP, 3))),
        )
        self.epochs_box = widgets.BoundedIntText(
            value=10, min=1, max=100, step=1, description="epochs", continuous_update=False,
            tooltip="Run trains until this epoch (1 to 100; ↑/↓ step by one)",
            layout=widgets.Layout(width="150px"), style={"description_width": "initial"},
        )
        self.epochs_box.add_class("agl-epochs")
        buttons = self.button_row(
            ("step_button", "Step", "Train one epoch", "agl-step", self.session.step),
            ("run_button", "▶ Run", "Train until epoch = epochs", "agl-run",
             lambda: self.session.run_to(self.epochs_box.value)),
            ("reset_button", "↺ Reset", "Start again from w = 0, b = 0", "agl-reset",
             self.session.reset),
            clear=True,
        )
        self.epochs_box.observe(self._on_epochs, names="value")
        hint = widgets.HTML(
            f'<span class="agl-hint">Type a learning rate from {LR_MIN:g} to {LR_MAX:g} (steps '
            f"of {LR_STEP:g}) and press Enter, or press − / + for one step. Changing lr or "
            "epochs after training starts a fresh run from w = 0, b = 0.</span>")
        hint.add_class("agl-lr-hint")

        self.status_html = html_area("agl-status")
        self.output_html = html_area("agl-output")
        self.output_html.add_class("agl-epoch-log")
        self.plot_image = picture_area("agl-plot")
        self.plot_label = html_area("agl-plot-label")  # the plot's title, as page text

        self._finish([
            widgets.HTML("<b>Training y = w·x + b on lesson 08's data (y = 2x + 1)</b>"),
            widgets.HBox([self.lr_box, lr_steps, self.epochs_box]),
            hint,
            buttons,
            self.status_html,
            self.message,
            self.plot_image,
            self.plot_label,
            self.output_html,
        ], "agl-training-explorer")

    def _plain(self) -> str:
        return plain_repr("TrainingExplorer", f"lr={self.session.lr:g}",
                          f"epochs={self.epochs_box.value}")

    # -- plot ----------------------------------------------------------------------------
    def _picture(self) -> str:
        """Left: the loss per epoch (log axis); right: the data and the line w·x + b."""
        s = self.session
        pts = [(r.epoch, r.loss) for r in s.records if math.isfinite(r.loss) and r.loss > 0]
        last = max((p[0] for p in pts), default=10)
        ylim = (min(p[1] for p in pts) / 2, max(p[1] for p in pts) * 2) if pts else (0.01, 100.0)
        loss = Frame(70.0, 34.0, 280.0, 160.0, (0.5, last + 0.5), ylim, log_y=True)
        xticks = [t for t in nice_ticks(1, last, 6) if t == int(t)]
        body = loss.axes(xticks, "epoch", self.loss_title())
        said = [f"{self.loss_title()}: " + (f"{len(pts)} epochs, last loss {fmt_big(pts[-1][1])}"
                                           if pts else "not trained yet")]
        if pts:
            body += [loss.polyline(pts, BLUE), loss.dots(pts, BLUE)]
        if s.diverging:
            note = f"diverging (lr={s.lr:g})"
            body.append(svg_text(loss.left + loss.width / 2, loss.top + 16.0, note,
                                 extra=f' font-weight="bold" style="fill:{RED}"'))
            said.append(note)
        fit = Frame(450.0, 34.0, 280.0, 160.0, (0.0, 5.0), (-1.0, 12.0))
        body += fit.axes(range(6), "x", "data and fitted line")
        body.append(fit.dots(list(zip(s.x, s.y, strict=True)), GREEN, 4.0, square=True))
        seen = _visible_part(s.w, s.b, fit)
        if seen is not None:
            body.append(fit.polyline([(x, s.w * x + s.b) for x in seen], BLUE))
        if seen != (0.0, 5.0) and (s.diverging or s.finished):
            note = "the line leaves the plot: training diverged"
            body.append(svg_text(fit.left + fit.width - 8.0, fit.top + fit.height - 14.0, note,
                                 "end", extra=f' font-weight="bold" style="fill:{RED}"'))
            said.append(note)
        body += fit.legend([(GREEN, "data (y = 2x + 1)"), (BLUE, "w·x + b")])
        said.append(f"fitted line y = {fmt_big(s.w)}·x + {fmt_big(s.b)}")
        return svg(760.0, 240.0, "; ".join(t for t in said if t) + ".", body, "agl-loss-fit")

    def loss_title(self) -> str:
        """The loss plot's title: the lr its points were trained with (as the status says)."""
        return f"loss per epoch (lr={self.session.lr:g})"

    # -- handlers --------------------------------------------------------------------
    def _set_lr(self, lr: float) -> None:
        """Train with ``lr`` from now on (a fresh run if anything was trained); the box, the
        status and the plot label all show it once the caller redraws."""
        restarted: list[bool] = []
        if self._attempt(lambda: restarted.append(self.session.set_lr(lr))) and any(restarted):
            self._fresh_run_note(f"lr is now {self.session.lr:g}")
        self.lr_box.value = f"{self.session.lr:g}"

    @guarded
    def _on_lr_typed(self, change: dict[str, Any]) -> None:
        """A typed lr (applied on Enter): one sentence and no change unless it is a number
        from 0.001 to 1 in steps of 0.001."""
        shown = f"{self.session.lr:g}"
        if str(change["new"]).strip() == shown:
            return
        try:
            lr = read_lr(str(change["new"]))
        except ValueError as exc:
            self.say(f"{exc} lr stays {shown}.", "error")
            self.lr_box.value = shown
            return
        self._set_lr(lr)
        self._render()

    @guarded
    def _on_epochs(self, change: dict[str, Any]) -> None:
        self.message.value = ""
        if self.session.records:
            self.session.reset()
            self._fresh_run_note(f"epochs is now {int(change['new'])}")
        self._render()

    def _fresh_run_note(self, what: str) -> None:
        self.say(f"{what}: a fresh run from w = 0, b = 0 — press Step or Run.", "info")

    def _render(self, plot: bool = True) -> None:
        s = self.session
        status = s.status()
        kind = "error" if s.diverging else "info"
        cls = "agl-diverging" if s.diverging else "agl-converging"
        self.status_html.value = (
            f'<div class="agl-status-line {cls}">{message_html(status, kind)}</div>'
        )
        if s.stopped:
            self.message.value = message_html(s.stopped)
        at_end = s.epoch >= int(self.epochs_box.value)
        self.step_button.disabled = self.run_button.disabled = s.finished or at_end
        self.run_button.description = f"▶ Run to epoch {int(self.epochs_box.value)}"
        self.reset_button.disabled = not s.records
        self.lr_down_button.disabled = s.lr <= LR_MIN
        self.lr_up_button.disabled = s.lr >= LR_MAX
        if at_end and not s.finished:
            self.say(f"Epoch {s.epoch} of {int(self.epochs_box.value)} done: raise epochs or "
                     "change lr for a fresh run, or press Reset.", "info")
        lines = s.lines() or ["(press Step or Run to train)"]
        self.output_html.value = (
            '<div style="max-height:220px;overflow-y:auto">'
            + pre_html(lines, "agl-text agl-epochs-text") + "</div>"
        )
        if plot:
            self.plot_image.value = self._picture()
            self.plot_label.value = (f'<span style="font-size:12px">Plot: '
                                     f"{self.loss_title()}, {s.epoch} epochs</span>")

    def _lines(self) -> list[str]:
        """The epoch lines shown in the text area."""
        return self.session.lines()



def _visible_part(w: float, b: float, frame: Frame) -> tuple[float, float] | None:
    """The x range of ``y = w·x + b`` inside ``frame`` (None when none of it is)."""
    if not (math.isfinite(w) and math.isfinite(b)):
        return None
    (x0, x1), (y0, y1) = frame.xlim, frame.ylim
    if w == 0:
        return (x0, x1) if y0 <= b <= y1 else None
    ends = sorted(((y0 - b) / w, (y1 - b) / w))
    lo, hi = max(x0, ends[0]), min(x1, ends[1])
    return (lo, hi) if lo < hi else None
