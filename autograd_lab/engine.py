"""A scalar autograd engine small enough to read in one sitting (lesson 14).

``Value(data)`` holds one float and the gradient ``dL/d(this value)`` that ``backward()``
fills in. Every operation builds a new ``Value`` that remembers its inputs (``_prev``), its
operation (``_op``) and a closure ``_backward`` that applies the chain rule for that one
operation: with ``out = f(a, b)``,

    a.grad += (d out / d a) · out.grad        (local derivative times upstream gradient)

so each local derivative sits right beside its forward computation. ``backward()`` finds
an order in which every node comes after all of its inputs (a topological order), with an
explicit stack instead of recursion, so a chain of 100,000 operations works; then it calls
each ``_backward`` once in the reverse of that order, from the output down to the leaves.

Gradients accumulate like torch's: a second ``backward()`` adds into the leaves' ``.grad``
(a leaf is a Value made directly, with no inputs). Intermediate values hold the gradient
of the latest backward call.

Extreme values follow float arithmetic exactly as torch's float64 does, forward and
backward, and never raise: a result too large for a float is ``±inf`` (``exp(1000)``,
``1e200**2``, ``1/1e-200`` then its derivative ``-1/b² = -inf``), ``1/0`` is ``inf``,
``log(0)`` is ``-inf``, and what has no real value is ``nan`` (``log(-1)``, ``0/0``,
``(-8)**(1/3)``). So a ``backward()`` either finishes or (interrupted) leaves every
``.grad`` as it was before the call.

>>> x = Value(3.0)
>>> y = x * x + 2 * x
>>> y.backward()
>>> x.grad          # dy/dx = 2x + 2
8.0
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

__all__ = ["Value"]


def _noop() -> None:
    """The ``_backward`` of a leaf: there is nothing below it to pass a gradient to."""


def _short(x: object) -> str:
    """At most a few dozen characters of a bad input, for an error sentence."""
    text = repr(x)
    return text if len(text) <= 40 else text[:37] + "..."


def _divide(a: float, b: float) -> float:
    """``a / b`` as IEEE floats (and torch) do it: ``±inf`` for a nonzero ``a`` over ``±0``,
    ``nan`` for ``0/0``; Python's ``/`` raises ZeroDivisionError instead."""
    try:
        return a / b
    except ZeroDivisionError:
        if a == 0 or a != a:  # 0/0 and nan/0
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _power(a: float, n: float) -> float:
    """``aⁿ`` as IEEE ``pow`` (and torch) does it: ``±inf`` past the largest float or for
    ``0`` to a negative power, ``nan`` for a negative base with a fractional exponent."""
    if n == 0.5:  # torch takes a square root here: √-0 = -0 and √-inf = nan
        return math.sqrt(a) if a >= 0 or a != a else math.nan
    odd = n.is_integer() and n % 2 == 1  # aⁿ keeps a's sign
    try:
        return math.pow(a, n)
    except OverflowError:
        return -math.inf if a < 0 and odd else math.inf
    except ValueError:  # 0 to a negative power, or a negative base and a fractional n
        if a == 0:
            return math.copysign(math.inf, a) if odd else math.inf
        return math.nan


def _number(x: object, what: str) -> float:
    """``x`` as a float, or a TypeError sentence saying what ``what`` needs."""
    if type(x) is float:  # the common case, checked first
        return x
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        fix = "; use .item() to get a tensor's number" if hasattr(x, "item") else ""
        raise TypeError(
            f"{what} needs a real number such as 2.0, not {type(x).__name__} {_short(x)}{fix}."
        )
    try:
        return float(x)
    except OverflowError:  # an int past 1.8e308: torch.tensor refuses it too
        raise OverflowError(
            f"{what} needs a number a float can hold (up to about 1.8e308), not {_short(x)}."
        ) from None


class Value:
    """One number in a computation graph: ``data`` (float) and ``grad`` (float, 0.0 until
    ``backward()``), with the inputs it was computed from in ``_prev`` and the name of that
    operation in ``_op`` (``""`` for a leaf)."""

    __slots__ = ("data", "grad", "_prev", "_op", "_backward")

    def __init__(self, data: float, _prev: tuple[Value, ...] = (), _op: str = "") -> None:
        self.data: float = _number(data, "Value(data)")
        self.grad: float = 0.0
        self._prev: tuple[Value, ...] = _prev
        self._op: str = _op
        self._backward: Callable[[], None] = _noop

    def __repr__(self) -> str:
        op = f", op={self._op!r}" if self._op else ""
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g}{op})"

    # --- two inputs -------------------------------------------------------------------------
    def __add__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(_number(other, "+"))
        out = Value(self.data + other.data, (self, other), "+")

        def _backward() -> None:  # d(a + b)/da = 1, d(a + b)/db = 1
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __sub__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(_number(other, "-"))
        out = Value(self.data - other.data, (self, other), "-")

        def _backward() -> None:  # d(a - b)/da = 1, d(a - b)/db = -1
            self.grad += out.grad
            other.grad -= out.grad

        out._backward = _backward
        return out

    def __mul__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(_number(other, "*"))
        out = Value(self.data * other.data, (self, other), "*")

        def _backward() -> None:  # d(a·b)/da = b, d(a·b)/db = a
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __truediv__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(_number(other, "/"))
        out = Value(_divide(self.data, other.data), (self, other), "/")

        def _backward() -> None:  # d(a/b)/da = 1/b, d(a/b)/db = -a/b² = -(a/b)/b as torch
            b = other.data       # computes it, so b² can neither underflow to 0 nor overflow
            self.grad += _divide(out.grad, b)
            other.grad -= _divide(_divide(self.data, b), b) * out.grad

        out._backward = _backward
        return out

    def __pow__(self, n: float) -> Value:
        if isinstance(n, Value):
            raise TypeError(
                "** needs a number exponent such as 2 or 0.5, not a Value; "
                "write (b * a.log()).exp() for a ** b with a Value b."
            )
        n = _number(n, "** (the exponent)")
        a = self.data
        out = Value(_power(a, n), (self,), f"**{n:g}")

        def _backward() -> None:  # d(aⁿ)/da = n·aⁿ⁻¹ (0 for n = 0, as torch; ∞ at a = 0, n < 1)
            if n == 0.5:  # as torch's square root: 1/(2√a), so -inf at a = -0
                local = _divide(0.5, out.data)
            else:
                local = 0.0 if n == 0 else n * _power(a, n - 1)
            self.grad += local * out.grad

        out._backward = _backward
        return out

    # reflected forms: 2 + v, 2 - v, 2 * v, 2 / v (the number becomes a leaf Value)
    def __radd__(self, other: float) -> Value:
        return Value(_number(other, "+")) + self

    def __rsub__(self, other: float) -> Value:
        return Value(_number(other, "-")) - self

    def __rmul__(self, other: float) -> Value:
        return Value(_number(other, "*")) * self

    def __rtruediv__(self, other: float) -> Value:
        return Value(_number(other, "/")) / self

    def __rpow__(self, other: float) -> Value:
        raise TypeError(
            "** needs a number exponent such as 2 or 0.5, not a Value; "
            "write (v * math.log(base)).exp() for base ** v."
        )

    # --- one input ----------------------------------------------------------------------------
    def __neg__(self) -> Value:
        out = Value(-self.data, (self,), "neg")

        def _backward() -> None:  # d(-a)/da = -1
            self.grad -= out.grad

        out._backward = _backward
        return out

    def exp(self) -> Value:
        try:
            e = math.exp(self.data)
        except OverflowError:  # e^710 and above do not fit a float: inf, as torch gives
            e = math.inf
        out = Value(e, (self,), "exp")

        def _backward() -> None:  # d(eᵃ)/da = eᵃ, the output itself
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def log(self) -> Value:
        a = self.data  # log(0) = -inf and log(negative) = nan, as torch gives
        out = Value(math.log(a) if a > 0 else -math.inf if a == 0 else math.nan, (self,), "log")

        def _backward() -> None:  # d(ln a)/da = 1/a
            self.grad += _divide(out.grad, a)

        out._backward = _backward
        return out

    def tanh(self) -> Value:
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward() -> None:  # d(tanh a)/da = 1 - tanh²(a)
            self.grad += (1.0 - t * t) * out.grad

        out._backward = _backward
        return out

    def sigmoid(self) -> Value:
        a = self.data
        if a >= 0:  # two forms of 1 / (1 + e⁻ᵃ), so that e^(large) never overflows
            s = 1.0 / (1.0 + math.exp(-a))
        else:
            e = math.exp(a)
            s = e / (1.0 + e)
        out = Value(s, (self,), "sigmoid")

        def _backward() -> None:  # dσ(a)/da = σ(a)·(1 - σ(a))
            self.grad += s * (1.0 - s) * out.grad

        out._backward = _backward
        return out

    def softplus(self) -> Value:
        """log(1 + eᵃ), written max(a, 0) + log(1 + e^-|a|) so that no exponent is positive
        (lesson 14's stable form). Lesson 15's loss: -log σ(z) = softplus(-z)."""
        a = self.data
        out = Value(max(a, 0.0) + math.log1p(math.exp(-abs(a))), (self,), "softplus")

        def _backward() -> None:  # d log(1 + eᵃ)/da = eᵃ/(1 + eᵃ) = σ(a)
            s = 1.0 / (1.0 + math.exp(-a)) if a >= 0 else math.exp(a) / (1.0 + math.exp(a))
            self.grad += s * out.grad

        out._backward = _backward
        return out

    def relu(self) -> Value:
        out = Value(0.0 if self.data <= 0 else self.data, (self,), "relu")  # relu(nan) = nan

        def _backward() -> None:  # d relu(a)/da = 1 if a > 0 else 0 (0 at a = 0, as torch;
            if self.data > 0 or self.data != self.data:  # a nan passes the gradient on)
                self.grad += out.grad

        out._backward = _backward
        return out

    # --- backward -----------------------------------------------------------------------------
    def topological_order(self) -> list[Value]:
        """Every node this value depends on, each after all of its inputs, ending with self.

        Depth-first with an explicit stack: a node is pushed once to be expanded and once
        more to be emitted after its inputs, so the depth is limited by memory, not by
        Python's recursion limit (micrograd's recursive version stops near 1,000).
        """
        order: list[Value] = []
        visited: set[Value] = set()
        stack: list[tuple[Value, bool]] = [(self, False)]
        while stack:
            node, inputs_done = stack.pop()
            if inputs_done:
                order.append(node)  # all of node's inputs are already in order
                continue
            if node in visited:
                continue
            visited.add(node)
            stack.append((node, True))
            for child in node._prev:
                if child not in visited:
                    stack.append((child, False))
        return order

    def backward(self) -> None:
        """Fill ``.grad`` of every value this one depends on with ``d self / d value``.

        ``self.grad`` is set to 1 (dL/dL), then each node's ``_backward`` runs in reverse
        topological order, so a node passes its gradient on only after every node that uses
        it has added its share. Leaves accumulate over calls, like torch's ``.grad``.
        If the walk stops part-way (Kernel → Interrupt), every ``.grad`` is put back.
        """
        order = self.topological_order()
        before = [node.grad for node in order]
        try:
            for node in order:
                if node._prev:  # intermediate values start from 0 on every call; leaves add up
                    node.grad = 0.0
            self.grad = 1.0 if self._prev else self.grad + 1.0
            for node in reversed(order):
                node._backward()
        except BaseException:  # Interrupt (or a MemoryError): no .grad is left half updated
            for node, grad in zip(order, before, strict=True):
                node.grad = grad
            raise

    def free_graph(self) -> None:
        """Forget how every value below this one was computed (``_prev`` and ``_backward``),
        keeping ``data`` and ``.grad``: the graph is freed the moment it is dropped.

        Each node's ``_backward`` closure refers back to the node, so a graph is a reference
        cycle, which Python frees only when its garbage collector next runs a full pass:
        tens of milliseconds once torch is loaded. torch frees a graph's saved values after
        ``backward()`` for the same reason (keep them with ``retain_graph=True``). After this,
        ``backward()`` from this value reaches nothing below it (where torch raises an error).
        """
        for node in self.topological_order():
            node._prev = ()
            node._backward = _noop
