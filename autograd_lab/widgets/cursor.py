"""Back / Next / Reset / Last over the positions of a stepping widget's state."""

from __future__ import annotations


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
