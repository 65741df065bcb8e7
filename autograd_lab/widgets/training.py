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

:class:`TrainingSession` is the plain-Python state; :class:`TrainingExplorer` the view.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.ticker import NullLocator

from autograd_lab.formatting import fmt_big
from autograd_lab.line_fit import is_diverging, train_linear
from autograd_lab.widgets.base import WidgetBase, guarded, plain_repr
from autograd_lab.widgets.controls import html_area, png_image
from autograd_lab.widgets.figures import (
    GREY,
    LINE_BLUE,
    LINE_GREEN,
    LINE_RED,
    Backdrop,
    KeptTop,
    new_figure,
    pin_layout,
    style_axes,
)
from autograd_lab.widgets.markup import message_html, pre_html

#: Lesson 08's data: y = 2x + 1.
SEED_X = (1.0, 2.0, 3.0, 4.0)
SEED_Y = (3.0, 5.0, 7.0, 9.0)


class TrainingSession:
    """Where training stands: ``w``, ``b``, the epoch records so far, divergence.

    ``step()`` trains one epoch, ``run(n)`` n more epochs (continuing), ``run_to(n)`` until
    epoch n, ``reset()`` starts again from ``w = b = 0``; ``set_lr`` starts again when
    something was trained. The update each epoch is ``w ← w − lr · dL/dw`` (and b alike).
    """

    def __init__(
        self,
        x: tuple[float, ...] = SEED_X,
        y: tuple[float, ...] = SEED_Y,
        lr: float = 0.1,
        w: float = 0.0,
        b: float = 0.0,
    ) -> None:
        self.x, self.y = tuple(float(v) for v in x), tuple(float(v) for v in y)
        self.lr = float(lr)
        self.w0, self.b0 = float(w), float(b)
        self.reset()

    def reset(self) -> None:
        self.w, self.b = self.w0, self.b0
        self.records: list[Any] = []
        self.stopped = ""

    @property
    def epoch(self) -> int:
        """Epochs trained so far (0 before any)."""
        return len(self.records)

    def set_lr(self, lr: float) -> bool:
        """A new learning rate; True when it restarted training (records were shown)."""
        lr = float(lr)
        if not (math.isfinite(lr) and lr > 0):
            raise ValueError(f"lr={lr:g} is not a learning rate; choose a number above 0.")
        if lr == self.lr:
            return False
        self.lr = lr
        restarted = bool(self.records)
        self.reset()
        return restarted

    def run_to(self, epoch: int) -> list[Any]:
        """Train until ``epoch`` epochs are done (nothing if already there)."""
        return self.run(max(0, int(epoch) - self.epoch))

    @property
    def losses(self) -> list[float]:
        return [r.loss for r in self.records]

    @property
    def diverging(self) -> bool:
        return is_diverging(self.losses)

    @property
    def finished(self) -> bool:
        """True once the loss (or w, b) stopped being finite: Reset to go on."""
        return bool(self.stopped)

    def step(self) -> list[Any]:
        return self.run(1)

    def run(self, epochs: int) -> list[Any]:
        """Train ``epochs`` more epochs from the current ``w``, ``b``; returns the new records."""
        if self.finished or int(epochs) <= 0:
            return []
        with warnings.catch_warnings():
            # the widget labels divergence itself, by the same rule
            warnings.simplefilter("ignore", RuntimeWarning)
            new = train_linear(
                self.x, self.y, lr=self.lr, epochs=int(epochs), w=self.w, b=self.b,
                start_epoch=len(self.records) + 1,
            )
        self.records.extend(new)
        if new:
            self.w, self.b = new[-1].w, new[-1].b
            if not (math.isfinite(new[-1].loss) and math.isfinite(self.w)
                    and math.isfinite(self.b)):
                self.stopped = (
                    f"The loss is no longer finite at epoch {new[-1].epoch}: lr={self.lr:g} "
                    "diverges. Press Reset and try a smaller learning rate."
                )
        return new

    def lines(self) -> list[str]:
        """Lesson 08's lines, one per epoch so far."""
        return [str(r) for r in self.records]

    def status(self) -> str:
        if not self.records:
            return f"Not trained yet: w={self.w:.4f}, b={self.b:.4f}, lr={self.lr:g}."
        last = self.records[-1]
        label = "diverging" if self.diverging else "converging"
        return (
            f"{label}: epoch {last.epoch}, loss={fmt_big(last.loss)}, w={fmt_big(last.w)}, "
            f"b={fmt_big(last.b)} (lr={self.lr:g})"
        )


class TrainingExplorer(WidgetBase):
    """Train lesson 08's linear model with Step / Run / Reset and watch loss and fit update.

    Learning rate: a linear slider 0.001 … 1 in steps of 0.001 (←/→ keys move one step) and
    a box to type it in (default 0.1); epochs (1 … 100, default 10): Run trains until that
    epoch. Left plot: loss per epoch (log scale) labelled with its lr; right: the data and
    the line ``y = w*x + b``. A diverging learning rate is labelled *diverging*.
    """

    def __init__(self) -> None:
        self.session = TrainingSession()
        self._new_message_line()
        self.lr_slider = widgets.FloatSlider(
            value=0.1, min=0.001, max=1.0, step=0.001, description="lr",
            readout_format=".3f", continuous_update=False,
            tooltip="Learning rate: drag, or ←/→ for steps of 0.001",
        )
        self.lr_slider.add_class("agl-lr")
        self.lr_box = widgets.BoundedFloatText(
            value=0.1, min=0.001, max=1.0, step=0.001, description="type lr:",
            tooltip="Type a learning rate (0.001 to 1) and press Enter",
            layout=widgets.Layout(width="170px"), style={"description_width": "initial"},
        )
        self.lr_box.add_class("agl-lr-box")
        widgets.link((self.lr_box, "value"), (self.lr_slider, "value"))
        self.epochs_slider = widgets.IntSlider(
            value=10, min=1, max=100, step=1, description="epochs",
            continuous_update=False, tooltip="Run trains until this epoch",
        )
        self.epochs_slider.add_class("agl-epochs")
        buttons = self.button_row(
            ("step_button", "Step", "Train one epoch", "agl-step", self.session.step),
            ("run_button", "▶ Run", "Train until epoch = epochs", "agl-run",
             lambda: self.session.run_to(self.epochs_slider.value)),
            ("reset_button", "↺ Reset", "Start again from w = 0, b = 0", "agl-reset",
             self.session.reset),
            clear=True,
        )
        self.lr_slider.observe(self._on_lr, names="value")
        self.epochs_slider.observe(self._on_epochs, names="value")
        hint = widgets.HTML(
            '<span class="agl-hint">lr moves in steps of 0.001: drag the slider, press ←/→, '
            "or type a value (0.001 to 1) in the box. Changing lr or epochs after training "
            "starts a fresh run from w = 0, b = 0.</span>")
        hint.add_class("agl-lr-hint")

        self.status_html = html_area("agl-status")
        self.output_html = html_area("agl-output")
        self.output_html.add_class("agl-epoch-log")
        self.plot_image = png_image("agl-plot")
        self.plot_label = html_area("agl-plot-label")  # the plot's title, as page text

        self._drawn: tuple[Any, ...] | None = None
        self._fig = new_figure(8.0, 3.0)
        self._ax_loss = self._fig.add_axes((0.08, 0.16, 0.38, 0.72))
        self._ax_fit = self._fig.add_axes((0.58, 0.16, 0.38, 0.72))
        self._setup_axes()

        self._finish([
            widgets.HTML("<b>Training y = w·x + b on lesson 08's data (y = 2x + 1)</b>"),
            widgets.HBox([self.lr_slider, self.lr_box, self.epochs_slider]),
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
                          f"epochs={self.epochs_slider.value}")

    # -- plot ----------------------------------------------------------------------------
    def _setup_axes(self) -> None:
        ax = self._ax_loss
        style_axes(ax)
        ax.set_title(self.loss_title(), fontsize=10, color=GREY, y=1.0)  # y: placed once
        ax.set_xlabel("epoch", fontsize=9, color=GREY)
        ax.set_yscale("log")
        ax.yaxis.set_minor_locator(NullLocator())  # fewer tick artists: faster redraws
        ax.tick_params(labelsize=8)
        (self._loss_line,) = ax.plot([], [], "o-", color=LINE_BLUE, markersize=3)
        self._diverge_text = ax.text(
            0.5, 0.92, "", transform=ax.transAxes, ha="center", va="top",
            color=LINE_RED, fontsize=11, fontweight="bold",
        )
        fx = self._ax_fit
        style_axes(fx)
        fx.set_title("data and fitted line", fontsize=10, color=GREY, y=1.0)
        fx.set_xlabel("x", fontsize=9, color=GREY)
        fx.tick_params(labelsize=8)
        fx.plot(self.session.x, self.session.y, "s", color=LINE_GREEN, label="data (y = 2x + 1)")
        xs = (0.0, 5.0)
        (self._fit_line,) = fx.plot(xs, (0.0, 0.0), "-", color=LINE_BLUE, label="w·x + b")
        fx.set_xlim(*xs)
        fx.set_ylim(-1.0, 12.0)
        legend = fx.legend(fontsize=8, loc="upper left", frameon=False, labelcolor=GREY)
        pin_layout(self._fig)
        # only the loss axes and the fitted line change: the rest of the right plot is drawn
        # once; the spines (and the legend, when the line crosses it) are drawn after the
        # line in a full draw, so they are redrawn over it
        # the loss title is drawn last (nothing drawn later comes near it) and pasted while
        # its text stays
        title = KeptTop(self._fig, ax.title, ax.title.get_text)
        moving = [ax, self._fit_line, *fx.spines.values(), title]
        self._backdrop = Backdrop(self._fig, moving)
        self._backdrop_legend = Backdrop(self._fig, [*moving, legend])
        self._legend_box = legend.get_window_extent().padded(4.0)  # + line width, antialias

    def _draw(self) -> bytes:
        s = self.session
        pts = [(r.epoch, r.loss) for r in s.records if math.isfinite(r.loss) and r.loss > 0]
        self._loss_line.set_data([p[0] for p in pts], [p[1] for p in pts])
        ax = self._ax_loss
        if pts:
            lo = min(p[1] for p in pts)
            hi = max(p[1] for p in pts)
            ax.set_ylim(lo / 2, hi * 2)
            ax.set_xlim(0.5, max(p[0] for p in pts) + 0.5)
        else:
            ax.set_ylim(0.01, 100)
            ax.set_xlim(0.5, 10.5)
        self._diverge_text.set_text(f"diverging (lr={s.lr:g})" if s.diverging else "")
        ax.title.set_text(self.loss_title())
        if math.isfinite(s.w) and math.isfinite(s.b):
            self._fit_line.set_ydata((s.b, 5.0 * s.w + s.b))
        path = self._fit_line.get_transform().transform_path(self._fit_line.get_path())
        apart = (np.isfinite(path.vertices).all()
                 and not path.intersects_bbox(self._legend_box, filled=False))
        return (self._backdrop if apart else self._backdrop_legend).png()

    def loss_title(self) -> str:
        """The loss plot's title: the lr its points were trained with (as the status says)."""
        return f"loss per epoch (lr={self.session.lr:g})"

    # -- handlers --------------------------------------------------------------------
    @guarded
    def _on_lr(self, change: dict[str, Any]) -> None:
        restarted: list[bool] = []
        if self._attempt(lambda: restarted.append(self.session.set_lr(float(change["new"])))) \
                and any(restarted):
            self._fresh_run_note(f"lr is now {self.session.lr:g}")
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
        at_end = s.epoch >= int(self.epochs_slider.value)
        self.step_button.disabled = self.run_button.disabled = s.finished or at_end
        self.run_button.description = f"▶ Run to epoch {int(self.epochs_slider.value)}"
        self.reset_button.disabled = not s.records
        if at_end and not s.finished:
            self.say(f"Epoch {s.epoch} of {int(self.epochs_slider.value)} done: raise epochs or "
                     "change lr for a fresh run, or press Reset.", "info")
        lines = s.lines() or ["(press Step or Run to train)"]
        self.output_html.value = (
            '<div style="max-height:220px;overflow-y:auto">'
            + pre_html(lines, "agl-text agl-epochs-text") + "</div>"
        )
        if plot:
            key = (tuple(s.losses), s.lr, s.w, s.b)  # everything the plot shows
            if key != self._drawn:  # e.g. a message-only change draws nothing
                self.plot_image.value = self._draw()
                self._drawn = key
            self.plot_label.value = (f'<span style="color:{GREY};font-size:12px">Plot: '
                                     f"{self.loss_title()}, {s.epoch} epochs</span>")

    def _lines(self) -> list[str]:
        """The epoch lines shown in the text area."""
        return self.session.lines()

