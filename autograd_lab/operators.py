"""The one table of operators, the twin of :mod:`autograd_lab.functions`.

Every row says, for one operator:

* ``symbol``, ``precedence``, ``syntax`` -- how it is typed and printed (Python's own
  precedence, so labels get exactly the parentheses they need; ``syntax`` is the
  :mod:`ast` class :mod:`autograd_lab.expression` reads it from);
* ``forward(a, b)``  -- the value, float64 (``domain`` first says why an input is invalid);
* ``local(inputs, index, value)`` -- the local derivative ``d node/d input[index]`` as a
  float *and* as text with the inputs' names substituted (``"-v1/x**2"``);
* ``torch``          -- the torch operation, so ``to_torch`` builds torch's real graph.

Local derivatives (``a``, ``b`` inputs, ``c`` a constant)::

    a + b: 1, 1          a - b: 1, -1           a * b: b, a
    a / b: 1/b, -a/b**2  -a: -1                 a**c: c*a**(c - 1)
    c**b: c**b*log(c)    a**b: b*a**(b - 1), a**b*log(a)

A new operator is one row of :data:`OPERATORS` (its ``local`` written beside it); the
chain rule in :mod:`autograd_lab.derivation_steps` only ever multiplies ``upstream · local``.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from autograd_lab.formatting import fmt_exact
from autograd_lab.functions import FUNCTIONS

__all__ = ["ADD", "ATOM", "MUL", "OPERATORS", "Operand", "Operator", "OutsideDomain", "POW",
           "UNARY", "evaluate", "local_derivative", "render", "torch_apply"]

# precedence, as Python parses it: used to put parentheses back into labels
ADD, MUL, UNARY, POW, ATOM = 1, 2, 3, 4, 5


class OutsideDomain(Exception):
    """A value outside an operation's domain; ``args[0]`` says why (one clause)."""


@dataclass(frozen=True)
class Operand:
    """An input of a node: another node (``node`` is its id) or a constant (``node`` None)."""

    node: int | None
    value: float
    text: str
    prec: int = ATOM


Local = Callable[[tuple[Operand, ...], int, float], tuple[float, str]]


@dataclass(frozen=True)
class Operator:
    """One row of the table (see the module docstring)."""

    symbol: str
    precedence: int
    forward: Callable[..., float]
    local: Local
    torch: Callable[..., Any]
    syntax: type[ast.AST] | None = None
    domain: Callable[..., str | None] | None = None
    #: arithmetic numpy does bit-for-bit like Python floats (used by the fast replay)
    exact_in_numpy: bool = True


def wrap(operand: Operand, needs: bool) -> str:
    """``operand``'s text, in parentheses when ``needs``."""
    return f"({operand.text})" if needs else operand.text


def _is_literal(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# ------------------------------------------------------------- local derivatives
def _one(args: tuple[Operand, ...], index: int, value: float) -> tuple[float, str]:
    return 1.0, "1"


def _minus_one(args: tuple[Operand, ...], index: int, value: float) -> tuple[float, str]:
    return -1.0, "-1"


def _sub_local(args: tuple[Operand, ...], index: int, value: float) -> tuple[float, str]:
    """d(a - b)/da = 1, d(a - b)/db = -1."""
    return (1.0, "1") if index == 0 else (-1.0, "-1")


def _mul_local(args: tuple[Operand, ...], index: int, value: float) -> tuple[float, str]:
    """d(ab)/da = b, d(ab)/db = a."""
    other = args[1 - index]
    return other.value, other.text


def _div_local(args: tuple[Operand, ...], index: int, value: float) -> tuple[float, str]:
    """d(a/b)/da = 1/b, d(a/b)/db = -a/b**2.

    ``-a/b**2`` is computed as ``-(a/b)/b`` (torch does the same): for ``x/x`` at a tiny
    ``x`` the two paths ``1/x`` and ``-x/x**2`` then cancel exactly, and ``b**2`` cannot
    underflow to 0 or overflow on its own.
    """
    a, b = args
    if index == 0:
        return 1.0 / b.value, f"1/{wrap(b, b.prec <= MUL)}"
    return -(a.value / b.value) / b.value, f"-{wrap(a, a.prec <= MUL)}/{wrap(b, b.prec <= POW)}**2"


def _pow_local(args: tuple[Operand, ...], index: int, value: float) -> tuple[float, str]:
    """d(a**c)/da = c*a**(c - 1); d(a**b)/da = b*a**(b - 1); d(a**b)/db = a**b*log(a)."""
    a, b = args
    if index == 0:
        if b.node is None:  # a constant exponent c
            c = b.value
            if c == 0:
                return 0.0, "0"
            a_text = wrap(a, a.prec <= POW)
            if _is_literal(b.text):
                text = ("1" if c == 1 else f"{fmt_exact(c)}*{a_text}" if c == 2
                        else f"{fmt_exact(c)}*{a_text}**{fmt_exact(c - 1)}")
            else:
                text = f"{wrap(b, b.prec <= MUL)}*{a_text}**({b.text} - 1)"
            return c * power(a.value, c - 1), text
        text = f"{wrap(b, b.prec <= MUL)}*{wrap(a, a.prec <= POW)}**({b.text} - 1)"
        if b.value == 0:  # torch's choice: 0 where b == 0
            return 0.0, text
        return b.value * power(a.value, b.value - 1), text
    a_text = wrap(a, a.prec <= POW)
    text = (f"e**{wrap(b, b.prec < UNARY)}" if a.node is None and a.text == "e"
            else f"{a_text}**{wrap(b, b.prec < UNARY)}*log({a.text})")
    if a.value == 0 and b.value >= 0:  # torch's choice: 0 at a == 0, b >= 0
        return 0.0, text
    if a.value <= 0:
        raise OutsideDomain(
            f"the derivative with respect to the exponent, {text}, needs a positive base "
            f"({a.text} is {a.value!r})"
        )
    return value * math.log(a.value), text


# --------------------------------------------------------------------- forwards
def power(a: float, b: float) -> float:
    """``a**b`` for floats, or OutsideDomain saying why not."""
    if a == 0 and b < 0:
        raise OutsideDomain("0 to a negative power divides by zero")
    if a < 0 and not b.is_integer():
        raise OutsideDomain(f"a negative base ({a!r}) needs a whole-number exponent, got {b!r}")
    try:
        return math.pow(a, b)
    except OverflowError:
        raise OutsideDomain("the result is too large for a float (overflow)") from None


def _divisor(a: float, b: float) -> str | None:
    return "division by zero" if b == 0 else None


def _same(value: Any) -> Any:
    return value


#: symbol -> Operator.  "neg" is unary minus, "id" names a value (``y = v1``).
OPERATORS: dict[str, Operator] = {
    "+": Operator("+", ADD, operator.add, _one, operator.add, ast.Add),
    "-": Operator("-", ADD, operator.sub, _sub_local, operator.sub, ast.Sub),
    "*": Operator("*", MUL, operator.mul, _mul_local, operator.mul, ast.Mult),
    "/": Operator("/", MUL, operator.truediv, _div_local, operator.truediv, ast.Div, _divisor),
    "**": Operator("**", POW, power, _pow_local, operator.pow, ast.Pow, exact_in_numpy=False),
    "neg": Operator("-", UNARY, operator.neg, _minus_one, operator.neg, ast.USub),
    "id": Operator("", ATOM, _same, _one, _same),
}


def render(op: str, args: tuple[Operand, ...]) -> tuple[str, int]:
    """The operation as text with Python's precedence rules, and its precedence."""
    row = OPERATORS.get(op)
    if row is None:  # a named function
        return f"{op}({args[0].text})", ATOM
    if op == "id":
        return args[0].text, args[0].prec
    p = row.precedence
    if len(args) == 1:
        return f"{row.symbol}{wrap(args[0], args[0].prec <= p)}", p
    a, b = args
    if p == POW:  # right-associative; x**-2 is fine, (-2)**x needs parentheses
        left, right = a.prec <= p, b.prec < UNARY
    else:
        left, right = a.prec < p, b.prec <= p
    sep = f" {row.symbol} " if p == ADD else row.symbol
    return f"{wrap(a, left)}{sep}{wrap(b, right)}", p


def evaluate(op: str, args: tuple[Operand, ...] | list[float]) -> float:
    """The value of one operation (operator or named function); OutsideDomain says why not."""
    vals = [a.value if isinstance(a, Operand) else a for a in args]
    row = OPERATORS.get(op)
    if row is not None:
        reason = row.domain(*vals) if row.domain else None
        if reason:
            culprit = args[-1]
            if isinstance(culprit, Operand) and culprit.node is not None:
                reason = f"{reason} ({culprit.text} is 0)"
            raise OutsideDomain(reason)
        result = row.forward(*vals)
    else:
        function = FUNCTIONS[op]
        reason = function.domain(vals[0]) if function.domain else None
        if reason:
            raise OutsideDomain(reason)
        try:
            result = function.forward(vals[0])
        except OverflowError:
            raise OutsideDomain(f"{op}({vals[0]!r}) is too large for a float (overflow)") from None
        except (ValueError, ZeroDivisionError) as error:
            raise OutsideDomain(f"{op} is undefined at {vals[0]!r} ({error})") from None
    if not math.isfinite(result):
        raise OutsideDomain("the result is too large for a float (overflow)")
    return float(result)


def local_derivative(op: str, args: tuple[Operand, ...], index: int,
                     value: float) -> tuple[float, str]:
    """``d node / d input[index]`` as a float and as text (the inputs' names substituted)."""
    row = OPERATORS.get(op)
    if row is not None:
        return row.local(args, index, value)
    function = FUNCTIONS[op]
    a = args[0]
    text = function.formula_for(a.text)
    try:
        return function.derivative(a.value), text
    except ZeroDivisionError:
        why = "it divides by zero"
    except (ValueError, OverflowError):
        why = "it is undefined or too large there"
    raise OutsideDomain(f"its derivative {text} cannot be computed at {a.text} = {a.value!r} "
                        f"({why})")


def torch_apply(op: str, args: list[Any], dtype: torch.dtype) -> torch.Tensor:
    """One operation on tensors (constants stay Python floats), with torch's own ops."""
    row = OPERATORS.get(op)
    result = row.torch(*args) if row is not None else FUNCTIONS[op].torch(args[0])
    return result if isinstance(result, torch.Tensor) else torch.tensor(result, dtype=dtype)
