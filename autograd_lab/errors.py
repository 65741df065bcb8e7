"""The errors a learner can meet, each with one sentence saying what is wrong and how to fix it."""

from __future__ import annotations


class ExpressionError(ValueError):
    """A typed expression the kit cannot read (syntax, unknown name, forbidden construct)."""


class DerivationError(ValueError):
    """A math domain error while deriving (``log(-1)``, division by zero); names the step."""


class GradientMismatch(AssertionError):
    """Manual chain rule and torch autograd disagree; ``.table`` holds the comparison."""

    def __init__(self, message: str, table: object = None) -> None:
        super().__init__(message)
        self.table = table
