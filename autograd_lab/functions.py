"""The one table of functions a learner may type, each with its local derivative beside it.

Every row says, for one function ``f``:

* ``forward(a)``     -- the value ``f(a)`` (Python floats, float64);
* ``derivative(a)``  -- the local derivative ``df/da`` at ``a``;
* ``formula``        -- that derivative as text for the widgets, with ``{a}`` standing for
  the input's name (``"cos({a})"`` becomes ``"cos(v1)"``);
* ``torch``          -- the torch function applied to a tensor (so ``to_torch`` and
  ``autograd`` build torch's real graph: ``sin`` shows ``SinBackward0``);
* ``domain(a)``      -- ``None`` when ``a`` is a valid input, else the reason it is not;
* ``kink``           -- True when ``f`` has a corner (``relu``, ``abs``): the derivative there
  follows torch's choice (0 at 0) and a finite difference across the corner means nothing.

The chain rule then only ever multiplies: ``dz/da = dz/df · df/da``.  Adding a function
is one row, e.g.::

    "softplus": Function(lambda a: math.log1p(math.exp(a)), sigmoid, "sigmoid({a})",
                         torch.nn.functional.softplus),

The operators ``+ - * / **`` and unary minus are the twin table in
:mod:`autograd_lab.operators`; this table holds the named functions.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch


def sigmoid(a: float) -> float:
    """``σ(a) = 1 / (1 + e^(-a))``, computed without overflow for large ``|a|``."""
    if a >= 0:
        return 1.0 / (1.0 + math.exp(-a))
    t = math.exp(a)
    return t / (1.0 + t)


def _sigmoid_derivative(a: float) -> float:
    """``dσ/da = σ(a) · (1 - σ(a))``."""
    s = sigmoid(a)
    return s * (1.0 - s)


def _relu(a: float) -> float:
    """``relu(a) = max(a, 0)``."""
    return a if a > 0 else 0.0


def _relu_derivative(a: float) -> float:
    """``d relu/da = 1`` for ``a > 0``, else 0 (torch's choice at the kink ``a = 0``)."""
    return 1.0 if a > 0 else 0.0


def _sign(a: float) -> float:
    """``d|a|/da = sign(a)``, with ``sign(0) = 0`` (torch's choice at the kink)."""
    return 1.0 if a > 0 else (-1.0 if a < 0 else 0.0)


def _positive(name: str) -> Callable[[float], str | None]:
    def check(a: float) -> str | None:
        return None if a > 0 else f"{name} needs a positive input, got {a!r}"

    return check


def _non_negative(name: str) -> Callable[[float], str | None]:
    def check(a: float) -> str | None:
        return None if a >= 0 else f"{name} needs an input of 0 or more, got {a!r}"

    return check


@dataclass(frozen=True)
class Function:
    """One row of the table: ``f(a)``, ``df/da`` and how to show and run it (see module)."""

    forward: Callable[[float], float]
    derivative: Callable[[float], float]
    formula: str
    torch: Callable[[torch.Tensor], torch.Tensor]
    domain: Callable[[float], str | None] | None = None
    kink: bool = False

    def formula_for(self, a: str) -> str:
        """The local derivative as text with the input named ``a``: ``"cos(v1)"``."""
        return self.formula.format(a=a)


#: name -> Function.  Each derivative sits beside its function (micrograd style).
FUNCTIONS: dict[str, Function] = {
    # d sin(a)/da = cos(a)
    "sin": Function(math.sin, math.cos, "cos({a})", torch.sin),
    # d cos(a)/da = -sin(a)
    "cos": Function(math.cos, lambda a: -math.sin(a), "-sin({a})", torch.cos),
    # d tan(a)/da = 1 / cos(a)**2
    "tan": Function(math.tan, lambda a: 1.0 / math.cos(a) ** 2, "1/cos({a})**2", torch.tan),
    # d e^a/da = e^a
    "exp": Function(math.exp, math.exp, "exp({a})", torch.exp),
    # d log(a)/da = 1/a            (natural log; a > 0)
    "log": Function(math.log, lambda a: 1.0 / a, "1/{a}", torch.log, _positive("log")),
    # d sqrt(a)/da = 1 / (2 sqrt(a))   (a >= 0; infinite at 0)
    "sqrt": Function(
        math.sqrt, lambda a: 1.0 / (2.0 * math.sqrt(a)), "1/(2*sqrt({a}))", torch.sqrt,
        _non_negative("sqrt"),
    ),
    # d tanh(a)/da = 1 - tanh(a)**2
    "tanh": Function(math.tanh, lambda a: 1.0 - math.tanh(a) ** 2, "1 - tanh({a})**2", torch.tanh),
    # d σ(a)/da = σ(a) (1 - σ(a))
    "sigmoid": Function(sigmoid, _sigmoid_derivative, "sigmoid({a})*(1 - sigmoid({a}))",
                        torch.sigmoid),
    # d relu(a)/da = 1 if a > 0 else 0
    "relu": Function(_relu, _relu_derivative, "(1 if {a} > 0 else 0)", torch.relu, kink=True),
    # d |a|/da = sign(a)
    "abs": Function(abs, _sign, "sign({a})", torch.abs, kink=True),
}

#: Names a learner cannot use for variables: the constants.  e and pi are not graph nodes.
CONSTANTS: dict[str, float] = {"e": math.e, "pi": math.pi}
