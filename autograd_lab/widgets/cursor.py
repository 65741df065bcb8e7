"""Back / Next / Reset / Last over the positions of a stepping widget's state, and what
the widget shows at one position."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StepView:
    """What a stepping widget shows at one position: a title, text lines, the graph node
    ids to highlight and (the chain-rule stepper's result) the final comparison.

    ``kind`` is "forward", "backward" or "result" (ChainRuleStepper), "node",
    "accumulate" or "result" (BackwardTracer).
    """

    kind: str
    title: str
    lines: tuple[str, ...]
    highlight: tuple[int, ...]
    final: Any = None


class StepCursor:
    """A position ``index`` in ``0 … total - 1``; the stepping widgets' buttons call these.

    Subclasses set ``self.index`` and define ``total``.
    """

    index: int

    @property
    def total(self) -> int:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def at_start(self) -> bool:
        return self.index == 0

    @property
    def at_end(self) -> bool:
        return self.index == self.total - 1

    def next(self) -> None:
        self.index = min(self.index + 1, self.total - 1)

    def back(self) -> None:
        self.index = max(self.index - 1, 0)

    def reset(self) -> None:
        self.index = 0

    def go_to_end(self) -> None:
        self.index = self.total - 1
