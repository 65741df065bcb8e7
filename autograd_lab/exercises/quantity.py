"""One number a student is asked for (:class:`Quantity`) and its plausible wrong answers
(:class:`WrongAnswer`): the rows of ``gradient_table.EXERCISES``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Quantity", "WrongAnswer"]


@dataclass(frozen=True)
class WrongAnswer:
    """A plausible wrong answer: mistake code, first hint (the kind), how to compute it, detail."""

    mistake: str | None
    hint: str
    compute: Callable[[], float]
    detail: str | None = None


@dataclass(frozen=True)
class Quantity:
    """One number a student is asked for (``label`` ``dz/dx``, ``variable`` ``dz_dx``); the
    right size with the wrong sign gets ``sign_hint``, then ``sign_detail`` (None: no check)."""

    label: str
    variable: str
    truth: Callable[[], float]
    wrong: tuple[WrongAnswer, ...] = field(default=())
    sign_hint: str | None = "the size is right but the sign is wrong; check each factor's sign"
    sign_detail: str | None = None
