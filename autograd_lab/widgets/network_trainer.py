"""NetworkTrainer: lesson 15's MLP on the engine's ``Value``, trained step by step.

Step / Run / Reset, the learning rate and the hidden width; the picture shows the points,
the decision boundary (the network's class on a grid of cells, the boundary where the logit
``z`` is 0) and the loss curve. Before a step the learner can predict "will the loss go
down?" and "will any point change class?"; the step reveals both, one line each.

:class:`~autograd_lab.widgets.network_state.NetworkSession` is the plain-Python state;
:class:`NetworkTrainer` the view.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import ipywidgets as widgets

from autograd_lab.widgets.base import WidgetBase, guarded, plain_repr
from autograd_lab.widgets.controls import html_area, picture_area
from autograd_lab.widgets.markup import message_html, pre_html
from autograd_lab.widgets.network_state import (
    LR_CHOICES,
    WIDTH_MAX,
    WIDTH_MIN,
    NetworkSession,
    StepResult,
    check_prediction,
)
from autograd_lab.widgets.svg import BLUE, ORANGE, Frame, nice_ticks, svg

__all__ = ["NetworkSession", "NetworkTrainer"]

#: Grid cells per side of the decision-boundary picture.
GRID = 20
RUN_STEPS = 20
PREDICTION_CHOICES = ("no prediction", "yes", "no")


class NetworkTrainer(WidgetBase):
    """Train lesson 15's network with Step / Run (20 steps) / Reset; predict, then step."""

    def __init__(self, width: int = 4, lr: float = 2.0) -> None:
        self.session = self._start(lambda: NetworkSession(width=width, lr=lr),
                                   NetworkSession, "width 4, lr=2")
        self.prediction_lines: list[str] = []
        self.lr_choice = widgets.Dropdown(options=[f"{v:g}" for v in LR_CHOICES],
                                          value=f"{self.session.lr:g}"
                                          if self.session.lr in LR_CHOICES else "2",
                                          description="lr")
        self.width_buttons = widgets.ToggleButtons(
            options=[(str(n), n) for n in range(WIDTH_MIN, WIDTH_MAX + 1)],
            value=self.session.width, description="hidden width",
            tooltips=[f"{n} hidden neuron{'s' if n > 1 else ''}"
                      for n in range(WIDTH_MIN, WIDTH_MAX + 1)],
            style={"description_width": "initial", "button_width": "2.6em"})
        self.width_buttons.add_class("agl-width")
        self.loss_down = widgets.ToggleButtons(options=PREDICTION_CHOICES,
                                               description="Loss goes down?",
                                               style={"description_width": "initial"})
        self.any_flip = widgets.ToggleButtons(options=PREDICTION_CHOICES,
                                              description="Any point changes class?",
                                              style={"description_width": "initial"})
        buttons = self.button_row(
            ("step_button", "Step", "One gradient-descent step; reveals your predictions",
             "agl-step", self._step),
            ("run_button", f"▶ Run {RUN_STEPS}", f"{RUN_STEPS} steps", "agl-run",
             lambda: self.session.run(RUN_STEPS)),
            ("reset_button", "↺ Reset", "Start again from the first weights", "agl-reset",
             self._reset),
            clear=True,
        )
        self.lr_choice.observe(self._on_lr, names="value")
        self.width_buttons.observe(self._on_width, names="value")
        self.status_html = html_area("agl-status")
        self.plot_image = picture_area("agl-plot")
        self.output_html = html_area("agl-output")
        self._finish([
            widgets.HTML("<b>Lesson 15's network on two circles: predict, then step</b>"),
            widgets.HBox([self.lr_choice, self.width_buttons]),
            self.loss_down,
            self.any_flip,
            buttons,
            self.status_html,
            self.message,
            self.plot_image,
            self.output_html,
        ], "agl-network-trainer")

    # -- actions -----------------------------------------------------------------------
    def _step(self) -> StepResult | None:
        result = self.session.step()
        if result is not None:
            self.prediction_lines = check_prediction(result, _choice(self.loss_down.value),
                                                     _choice(self.any_flip.value))
            self.loss_down.value = self.any_flip.value = PREDICTION_CHOICES[0]
        return result

    def _reset(self) -> None:
        self.session.reset()
        self.prediction_lines = []

    @guarded
    def _on_lr(self, change: dict[str, Any]) -> None:
        self.session.set_lr(float(change["new"]))
        self.prediction_lines = []
        self.say(f"lr is now {self.session.lr:g}: a fresh run from the first weights.")
        self._render()

    @guarded
    def _on_width(self, change: dict[str, Any]) -> None:
        self.session.set_width(int(change["new"]))
        self.prediction_lines = []
        self.say(f"{self.session.width} hidden neurons: a new network, fresh run.")
        self._render()

    # -- what it shows ---------------------------------------------------------------------
    def _plain(self) -> str:
        return plain_repr("NetworkTrainer", f"width={self.session.width}",
                          f"lr={self.session.lr:g}")

    def _lines(self) -> list[str]:
        s = self.session
        lines = [s.status(), *self.prediction_lines]
        lines += [str(r) for r in s.results[-5:]]
        return lines

    def _picture(self) -> str:
        s = self.session
        board = _board()
        body = board.axes([-1.0, 0.0, 1.0], "x1", "points and decision boundary")
        centres, cells = _grid_cells()
        for cell, z in zip(cells, s.logits_at(centres), strict=True):
            body.append(cell.format(ORANGE if z > 0 else BLUE))
        flipped = set(s.results[-1].flipped) if s.results else set()
        for cls, colour in ((0, BLUE), (1, ORANGE)):
            pts = [p for p, y in zip(s.points, s.labels, strict=True) if y == cls]
            body.append(board.dots(pts, colour, 4.0, square=cls == 1))
        for i in sorted(flipped):
            px, py = board.px(*s.points[i])
            body.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="8" fill="none" '
                        'stroke="var(--jp-content-font-color1,#1a1a1a)" stroke-width="2"/>')
        finite = [(k, v) for k, v in enumerate(s.losses) if math.isfinite(v)]
        last = max(1, len(s.losses) - 1)
        top = max((v for _, v in finite), default=1.0)
        curve = Frame(400.0, 34.0, 300.0, 260.0, (0.0, last), (0.0, max(top * 1.1, 0.1)))
        body += curve.axes([t for t in nice_ticks(0, last, 5) if t == int(t)], "step",
                           "loss per step")
        if len(finite) > 1:
            body.append(curve.polyline(finite, BLUE))
        body.append(curve.dots(finite[-1:], BLUE, 4.0))
        title = (f"Decision boundary and loss after {s.steps} steps: loss "
                 f"{s.losses[-1]:.4f}, accuracy {s.accuracy():.0%}"
                 + (f", {len(flipped)} point(s) changed class in the last step" if flipped
                    else ""))
        return svg(740.0, 340.0, title, body, "agl-network")

    def _render(self) -> None:
        s = self.session
        status = message_html(s.status(), "info")
        self.status_html.value = f'<div class="agl-status-line">{status}</div>'
        if s.stopped:
            self.message.value = message_html(s.stopped)
        self.step_button.disabled = self.run_button.disabled = bool(s.stopped)
        self.reset_button.disabled = not s.results
        self.plot_image.value = self._picture()
        self.output_html.value = pre_html(self._lines(), "agl-text")


def _board() -> Frame:
    """The decision-boundary panel: x1 and x2 from −1.5 to 1.5."""
    return Frame(50.0, 34.0, 260.0, 260.0, (-1.5, 1.5), (-1.5, 1.5))


@functools.cache
def _grid_cells() -> tuple[list[tuple[float, float]], list[str]]:
    """The GRID × GRID cells' centres and their ``<rect>`` markup with ``{}`` for the colour
    (the same for every picture: only a cell's colour, the class at its centre, changes)."""
    board, cell = _board(), 3.0 / GRID
    centres, cells = [], []
    for i in range(GRID):
        for j in range(GRID):
            x1, x2 = -1.5 + (i + 0.5) * cell, -1.5 + (j + 0.5) * cell
            px, py = board.px(x1 - cell / 2, x2 + cell / 2)
            centres.append((x1, x2))
            cells.append(f'<rect x="{px:.1f}" y="{py:.1f}" width="{board.width / GRID:.1f}" '
                         f'height="{board.height / GRID:.1f}" fill="{{}}" fill-opacity="0.18"/>')
    return centres, cells


def _choice(value: str) -> bool | None:
    return None if value == PREDICTION_CHOICES[0] else value == "yes"
