"""The plain-Python state of TrainingExplorer: lesson 08's ``y = w*x + b``, epoch by epoch.

Each epoch is one call of :func:`autograd_lab.train_linear` continuing from the current
``w``, ``b``; the update is ``w ← w − lr · dL/dw`` (and ``b`` alike). A learning rate that
makes the loss grow is *diverging* by :func:`autograd_lab.training.is_diverging`'s rule.
"""

from __future__ import annotations

import math
import re
import warnings
from typing import Any

from autograd_lab.formatting import fmt_big
from autograd_lab.line_fit import is_diverging, train_linear

#: The learning rates the widget takes: 0.001 to 1 in steps of 0.001.
LR_MIN, LR_MAX, LR_STEP = 0.001, 1.0, 0.001


def read_lr(text: str) -> float:
    """A typed learning rate: a number from 0.001 to 1 in steps of 0.001, else a
    ``ValueError`` with one sentence (``x^2``, ``2x``, ``5``, ``0``, ``1e-9``, ``0.1234``,
    and ``0,12`` with a decimal comma are all refused, never clamped)."""
    typed = text.strip().replace("−", "-")
    echo = typed if len(typed) <= 20 else typed[:20] + "…"
    if re.fullmatch(r"[-+]?\d*,\d+", typed):
        raise ValueError(f"{echo} has a decimal comma; write it with a point: "
                         f"{typed.replace(',', '.')}.")
    try:
        lr = float(typed)
    except ValueError:
        raise ValueError(f"{echo!r} is not a number; type a learning rate from {LR_MIN:g} "
                         f"to {LR_MAX:g}.") from None
    if not (math.isfinite(lr) and LR_MIN <= lr <= LR_MAX):
        raise ValueError(f"lr={echo} is out of range; type a learning rate from {LR_MIN:g} "
                         f"to {LR_MAX:g}.")
    steps = lr / LR_STEP
    if abs(steps - round(steps)) > 1e-6:
        raise ValueError(f"lr={echo} is between two steps of {LR_STEP:g}; type at most three "
                         "decimals.")
    return round(lr, 3)


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
