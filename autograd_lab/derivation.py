"""The chain rule by hand, one small step at a time, checked against torch autograd.

``derive("sin(x**2)", x=3)`` splits the expression into one node per operation::

    v1 = x**2        (forward)  v1 = 9
    z  = sin(v1)     (forward)  z  = sin(9) = 0.4121...

and walks back from the output ``z`` (``dz/dz = 1``), multiplying the upstream gradient by
each node's *local* derivative -- the chain rule ``dz/dx = dz/dv1 · dv1/dx``::

    dz/dv1 = cos(v1)            = cos(9)          = -0.9111...
    dz/dx  = dz/dv1 · 2*x       = -0.9111... · 6  = -5.466781571308061

When a node feeds two consumers its gradient is the *sum* of both paths
(``dz/dy = dz/dv1 · dv1/dy + dz/dv2 · dv2/dy``); the second step shows ``+=`` and its
``result`` is the running total -- what torch's ``AccumulateGrad`` does with ``.grad``.

Local derivatives of the operators (``a``, ``b`` inputs, ``c`` a constant)::

    a + b: 1, 1          a - b: 1, -1           a * b: b, a
    a / b: 1/b, -a/b**2  -a: -1                 a**c: c*a**(c - 1)
    c**b: c**b*log(c)    a**b: b*a**(b - 1), a**b*log(a)

and of the named functions: the table in :mod:`autograd_lab.functions`.

Everything is plain float64 Python arithmetic; ``.autograd()`` reruns the same node tree
through torch (float64) and ``.numerical()`` through central differences.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from autograd_lab.errors import DerivationError, ExpressionError, GradientMismatch
from autograd_lab.expression import EXAMPLE, Expr, parse_expression
from autograd_lab.functions import CONSTANTS, FUNCTIONS
from autograd_lab.graph import Graph, GraphNode
from autograd_lab.numerical import numerical_derivative

__all__ = [
    "CheckRow",
    "CheckTable",
    "Derivation",
    "DerivationStep",
    "NUMERICAL_ATOL",
    "NUMERICAL_RTOL",
    "derive",
]

#: Finite differences are never exact (see :mod:`autograd_lab.numerical`): a central
#: difference "agrees" when ``|numerical - autograd| <= NUMERICAL_ATOL + NUMERICAL_RTOL·|autograd|
#: + 8·ε·max(1, |z|)/h`` (the last term is f's rounding error divided by the step).
NUMERICAL_RTOL = 1e-5
NUMERICAL_ATOL = 1e-6

_OUTPUT_NAMES = ("z", "out", "output", "result")

# precedence, as Python parses it: used to put parentheses back into labels
_ADD, _MUL, _UNARY, _POW, _ATOM = 1, 2, 3, 4, 5
_PREC = {"+": _ADD, "-": _ADD, "*": _MUL, "/": _MUL, "**": _POW}


class _DomainError(Exception):
    """Internal: a value outside an operation's domain; ``args[0]`` says why."""


@dataclass(frozen=True)
class _Operand:
    """An input of a node: another node (``node`` is its id) or a constant (``node`` None)."""

    node: int | None
    value: float
    text: str
    prec: int = _ATOM


@dataclass(eq=False)
class _Node:
    id: int
    kind: str  # "leaf" | "op" | "output"
    name: str
    op: str  # "leaf", "+", "-", "*", "/", "**", "neg", "id", or a FUNCTIONS name
    inputs: tuple[_Operand, ...]
    value: float
    rhs: str  # right-hand side of the label, e.g. "x**2"

    @property
    def label(self) -> str:
        return f"{self.name} = {self.rhs}"


@dataclass(frozen=True)
class DerivationStep:
    """One line of a hand derivation.

    Forward (``kind="forward"``): ``node`` is ``"v1 = x**2"``, ``formula`` the operation
    (``"x**2"``), ``result`` the node's value; ``local``/``upstream``/``input_id`` are None.

    Backward (``kind="backward"``): one per edge from the consumer ``node`` (its graph id is
    ``node_id``) to one input (``input_id``).  ``formula`` is ``"dz/dv1 = cos(v1)"`` (or
    ``"dz/dx = dz/dv1 · 2*x"``, ``+=`` when the input was reached before), ``local`` the
    local derivative ``d node/d input``, ``upstream`` ``dz/d node``, and ``result``
    ``upstream · local`` -- or the running total ``dz/d input`` when reached again.
    ``local_formula`` is the local derivative alone (``"dv1/dx = 2*x"``; None on forward
    steps).
    """

    kind: str
    node: str
    formula: str
    local: float | None
    upstream: float | None
    result: float
    node_id: int
    input_id: int | None = None
    local_formula: str | None = None

    def __str__(self) -> str:
        if self.kind == "forward":
            return f"{self.node:<24} = {self.result!r}"
        return f"{self.formula:<24} = {self.result!r}"


@dataclass(frozen=True)
class CheckRow:
    """One variable in a :class:`CheckTable`.

    ``numerical`` is "n/a" where a central difference means nothing (it straddles a
    relu/abs kink, or steps outside the function's domain); ``abs_diff`` is
    ``|manual - autograd|``; ``ok`` says manual and autograd agree within rtol/atol;
    ``numerical_ok`` says the finite difference agrees with autograd within the looser
    ``NUMERICAL_*`` tolerance (None when "n/a") -- when manual is the odd one out, the
    slip is in the hand derivation.
    """

    variable: str
    manual: float
    autograd: float
    numerical: float | str
    abs_diff: float
    ok: bool
    numerical_ok: bool | None
    note: str | None = None  # why the finite difference is "n/a"

    @property
    def exact(self) -> bool:
        """Bit-for-bit the same float."""
        return self.manual == self.autograd

    @property
    def verdict(self) -> str:
        return "exact" if self.exact else ("close" if self.ok else "MISMATCH")


@dataclass(frozen=True)
class CheckTable:
    """Manual chain rule vs torch autograd vs central differences, one row per variable.

    Its repr is a plain-text table a student reads in one glance (like the "zero to hero"
    ``cmp`` helper: exact / close / max diff).
    """

    expression: str
    rows: list[CheckRow]
    rtol: float
    atol: float

    @property
    def ok(self) -> bool:
        """True when manual and autograd agree for every variable."""
        return all(row.ok for row in self.rows)

    @property
    def max_diff(self) -> float:
        """Largest ``|manual - autograd|``."""
        return max((row.abs_diff for row in self.rows), default=0.0)

    def __str__(self) -> str:
        header = ("variable", "manual", "autograd", "numerical", "|diff|", "manual vs autograd",
                  "finite diff")
        lines = [header]
        for row in self.rows:
            if isinstance(row.numerical, str):
                num, fd = row.numerical, "n/a"
            else:
                num, fd = f"{row.numerical:.10g}", "agrees" if row.numerical_ok else "differs"
            lines.append((row.variable, repr(row.manual), repr(row.autograd), num,
                          f"{row.abs_diff:.3g}", row.verdict, fd))
        widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
        text = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
                for line in lines]
        text += [f"{row.variable}: no finite difference ({row.note})"
                 for row in self.rows if row.note]
        n = len(self.rows)
        exact = sum(row.exact for row in self.rows)
        verdict = "OK" if self.ok else "MISMATCH"
        text.append(
            f"{verdict}: {sum(row.ok for row in self.rows)}/{n} agree with autograd "
            f"({exact} exact), max diff {self.max_diff:.3g} "
            f"(rtol={self.rtol:g}, atol={self.atol:g})"
        )
        return "\n".join(text)

    __repr__ = __str__


@dataclass(eq=False)
class Derivation:
    """A scalar expression derived by hand.  Build it with :func:`derive`.

    ``value`` is ``z``; ``gradient[name]`` is ``dz/d name`` for every numeric variable
    (0.0 for one the expression does not use); ``steps`` lists the forward steps (one per
    operation, evaluation order) then the backward steps (one per edge, reverse
    topological order).
    """

    expression: str
    values: dict[str, float | str]
    value: float
    gradient: dict[str, float]
    steps: list[DerivationStep]
    _nodes: list[_Node] = field(repr=False)
    _grads: dict[int, float] = field(repr=False)
    _leaves: dict[str, int] = field(repr=False)

    # ------------------------------------------------------------------ views
    @property
    def forward_steps(self) -> list[DerivationStep]:
        return [step for step in self.steps if step.kind == "forward"]

    @property
    def backward_steps(self) -> list[DerivationStep]:
        return [step for step in self.steps if step.kind == "backward"]

    @property
    def output_name(self) -> str:
        """``z``, or ``out`` when the learner uses ``z`` as a name."""
        return self._output.name

    @property
    def _output(self) -> _Node:
        return next(node for node in reversed(self._nodes) if node.kind == "output")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.values.items())
        args = f", {args}" if args else ""
        return (f"Derivation({self.expression!r}{args}): value={self.value!r}, "
                f"gradient={self.gradient!r}")

    def __str__(self) -> str:
        lines = [f"{self.output_name} = {self.expression}", "forward:"]
        lines += [f"  {step}" for step in self.forward_steps]
        lines.append("backward:")
        lines += [f"  {step}" for step in self.backward_steps]
        return "\n".join(lines)

    def graph(self) -> Graph:
        """The hand-derivation graph: one node per variable/operation, edges input -> consumer.

        Leaves are ``kind="leaf"`` (label ``"x = 3"``), operations ``"op"``
        (``"v1 = x**2"``), the final node ``"output"`` (``"z = sin(v1)"``); ``value`` is the
        node's value and ``grad`` is ``dz/d node``.  Steps refer to these ids.
        """
        nodes = [
            GraphNode(node.id, node.kind, node.label, node.value, self._grads.get(node.id, 0.0))
            for node in self._nodes
        ]
        edges = [(operand.node, node.id) for node in self._nodes for operand in node.inputs
                 if operand.node is not None]
        return Graph(nodes=nodes, edges=edges)

    # ------------------------------------------------------------------ torch
    def to_torch(
        self,
        dtype: torch.dtype = torch.float32,
        *,
        leaves: Mapping[str, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The same expression built from ordinary torch ops on leaf tensors.

        Returns ``(output, {name: leaf})``; every leaf has ``requires_grad=True``, so
        ``output.grad_fn`` shows torch's real graph (``sin(x**2)`` -> ``SinBackward0``,
        whose input is ``PowBackward0``).  ``dtype`` defaults to ``torch.float32`` (what
        the lessons print); use ``torch.float64`` to compare digits.

        ``leaves`` reuses existing tensors for some variables (e.g. one ``x`` across several
        forward passes, so its ``.grad`` accumulates); the others get fresh leaves.
        """
        given = dict(leaves or {})
        unknown = sorted(set(given) - set(self._leaves))
        if unknown:
            raise ValueError(
                f"to_torch got a tensor for {', '.join(unknown)}, which is not a variable of "
                f"{self.expression!r}; pass only its variables ({', '.join(self._leaves)})."
            )
        tensors: dict[int, Any] = {}
        made: dict[str, torch.Tensor] = {}
        for node in self._nodes:
            if node.op == "leaf":
                tensor = given.get(node.name)
                if tensor is None:
                    tensor = torch.tensor(node.value, dtype=dtype, requires_grad=True)
                tensors[node.id] = made[node.name] = tensor
                continue
            args = [tensors[o.node] if o.node is not None else o.value for o in node.inputs]
            tensors[node.id] = _torch_apply(node.op, args, dtype)
        return tensors[self._output.id], made

    def autograd(self) -> dict[str, float]:
        """``dz/d name`` from torch autograd in float64 on the same expression."""
        output, leaves = self.to_torch(torch.float64)
        names = list(leaves)
        if not output.requires_grad or not names:
            return {name: 0.0 for name in names}
        grads = torch.autograd.grad(output, [leaves[n] for n in names], allow_unused=True)
        return {name: 0.0 if g is None else float(g) for name, g in zip(names, grads, strict=True)}

    # -------------------------------------------------------------- numerical
    def numerical(self, h: float = 1e-6) -> dict[str, float]:
        """Central differences ``(z(x+h) - z(x-h)) / 2h`` per variable, float64.

        Gives ``nan`` where ``x ± h`` leaves the expression's domain (e.g. ``sqrt`` near 0).
        """
        return {name: value for name, (value, _) in self._numerical(h).items()}

    def _numerical(self, h: float) -> dict[str, tuple[float, str | None]]:
        """Per variable: (central difference, reason it is meaningless or None)."""
        kinks = [n for n in self._nodes if n.op in FUNCTIONS and FUNCTIONS[n.op].kink]
        result: dict[str, tuple[float, str | None]] = {}
        for name, leaf_id in self._leaves.items():
            seen: list[dict[int, float]] = []

            def f(t: float, leaf_id: int = leaf_id, seen: list[dict[int, float]] = seen) -> float:
                values, kink_inputs = _replay(self._nodes, {leaf_id: t}, kinks)
                seen.append(kink_inputs)
                return values[self._output.id]

            try:
                estimate = numerical_derivative(f, self._nodes[leaf_id].value, h)
            except _DomainError:
                result[name] = (math.nan, f"{name} ± h leaves the domain")
                continue
            reason = None
            for kink in kinks:
                samples = [s[kink.id] for s in seen] + [kink.inputs[0].value]
                if min(samples) <= 0 <= max(samples) and len(set(samples)) > 1:
                    reason = f"{name} ± h crosses the {kink.op} kink in {kink.label}"
                    break
            result[name] = (estimate, reason)
        return result

    # ------------------------------------------------------------------ check
    def check(self, rtol: float = 1e-6, atol: float = 1e-9) -> CheckTable:
        """Compare manual, torch autograd (float64) and central differences per variable.

        Manual and autograd agree when ``|manual - autograd| <= atol + rtol·|autograd|``;
        otherwise :class:`~autograd_lab.errors.GradientMismatch` is raised carrying the table.
        At a relu/abs kink both follow torch (derivative 0 at 0) and the finite difference
        shows "n/a".  The finite-difference column uses the looser ``NUMERICAL_*``
        tolerance and never raises.
        """
        h = 1e-6
        auto = self.autograd()
        numeric = self._numerical(h)
        slack = 8 * sys.float_info.epsilon * max(1.0, abs(self.value)) / h
        rows = []
        for name, manual in self.gradient.items():
            reference = auto[name]
            diff = abs(manual - reference)
            ok = diff <= atol + rtol * abs(reference)
            estimate, reason = numeric[name]
            if reason is not None or math.isnan(estimate):
                num: float | str = "n/a"
                num_ok = None
                reason = reason or f"{name} ± h leaves the domain"
            else:
                num = estimate
                num_ok = abs(estimate - reference) <= (
                    NUMERICAL_ATOL + NUMERICAL_RTOL * abs(reference) + slack
                )
            rows.append(CheckRow(name, manual, reference, num, diff, ok, num_ok, reason))
        table = CheckTable(self.expression, rows, rtol, atol)
        if not table.ok:
            bad = ", ".join(row.variable for row in rows if not row.ok)
            raise GradientMismatch(
                f"the manual chain rule and torch autograd disagree for {bad} in "
                f"{self.expression!r}:\n{table}",
                table,
            )
        return table


# ---------------------------------------------------------------------------- derive
def derive(expression: str, /, **values: float | str) -> Derivation:
    """Derive ``expression`` by hand with the chain rule at the given ``values``.

    ``values`` maps each variable to a number (a leaf: it gets a gradient) or to an
    expression string (a named intermediate, shown as its own node)::

        >>> derive("sin(x**2)", x=3).gradient
        {'x': -5.466781571308061}
        >>> d = derive("2*y + y**2", y="x**2", x=2.0)
        >>> d.value, d.gradient
        (24.0, {'x': 40.0})

    The constants ``e`` and ``pi`` cannot be given values (ExpressionError), nor can
    function names.  An intermediate whose definition has no variables (``c="2*pi"``) is a
    named constant: no node, no gradient.

    Raises ExpressionError for text outside the grammar, a variable without a value, or a
    definition that refers to itself; DerivationError (naming the step) for a math domain
    error such as ``log(-1)``, division by zero or overflow.
    """
    leaves, definitions = _split_values(values)
    output_name = next((n for n in _OUTPUT_NAMES if n not in values), None)
    if output_name is None:
        raise ExpressionError(f"Rename one of {', '.join(_OUTPUT_NAMES)}: the output node "
                              "needs one of these names.")
    # parse every definition now, so a typo is reported even in an unused one
    parsed = {name: parse_expression(text, name=name) for name, text in definitions.items()}
    builder = _Builder(leaves, parsed, output_name, set(values))
    nodes = builder.build(parse_expression(expression))
    grads, backward = _backward(nodes)
    forward = [
        DerivationStep("forward", node.label, node.rhs, None, None, node.value, node.id)
        for node in nodes if node.op != "leaf"
    ]
    leaf_ids = {name: builder.leaf_ids[name] for name in leaves}
    gradient = {name: grads.get(i, 0.0) for name, i in leaf_ids.items()}
    output = next(node for node in reversed(nodes) if node.kind == "output")
    return Derivation(
        expression=expression,
        values={k: v if isinstance(v, str) else leaves[k] for k, v in values.items()},
        value=output.value,
        gradient=gradient,
        steps=forward + backward,
        _nodes=nodes,
        _grads=grads,
        _leaves=leaf_ids,
    )


def _split_values(values: dict[str, Any]) -> tuple[dict[str, float], dict[str, str]]:
    leaves: dict[str, float] = {}
    definitions: dict[str, str] = {}
    for name, value in values.items():
        if name in CONSTANTS:
            raise ExpressionError(
                f"{name} is the constant {CONSTANTS[name]!r} and cannot be given a value; "
                f"call your variable something else."
            )
        if name in FUNCTIONS:
            raise ExpressionError(f"{name} is a function name; call your variable something else.")
        if isinstance(value, str):
            definitions[name] = value
            continue
        if isinstance(value, bool):
            raise ExpressionError(f"{name}={value!r} is not a number; give a float such as 2.0.")
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        except (TypeError, ValueError):
            raise ExpressionError(
                f"{name} must be a number or an expression string, got {type(value).__name__}."
            ) from None
        if not math.isfinite(number):
            raise ExpressionError(f"{name}={number!r} is not a finite number; give a float.")
        leaves[name] = number
    return leaves, definitions


class _Builder:
    """Turns the Expr tree (and the intermediates it names) into a list of nodes.

    Nodes are created in evaluation order (left operand, right operand, operation), so the
    list is a topological order; the walk uses an explicit stack.
    """

    def __init__(self, leaves: dict[str, float], definitions: dict[str, Expr],
                 output_name: str, taken: set[str]) -> None:
        self.leaves = leaves
        self.definitions = definitions
        self.output_name = output_name
        self.taken = taken | {output_name}
        self.nodes: list[_Node] = []
        self.leaf_ids: dict[str, int] = {}
        self.named: dict[str, _Operand] = {}
        self.counter = 0

    def _next_name(self) -> str:
        while True:
            self.counter += 1
            name = f"v{self.counter}"
            if name not in self.taken:
                return name

    def _add(self, kind: str, name: str, op: str, inputs: tuple[_Operand, ...],
             value: float, rhs: str) -> _Operand:
        node = _Node(len(self.nodes), kind, name, op, inputs, value, rhs)
        self.nodes.append(node)
        return _Operand(node.id, value, name)

    def _leaf(self, name: str) -> _Operand:
        if name not in self.leaf_ids:
            value = self.leaves[name]
            self.leaf_ids[name] = self._add("leaf", name, "leaf", (), value, f"{value:.6g}").node
        node_id = self.leaf_ids[name]
        return _Operand(node_id, self.leaves[name], name)

    def build(self, root: Expr) -> list[_Node]:
        done: list[_Operand] = []
        in_progress: list[str] = []
        # entries: ("visit", expr, role) | ("apply", expr, role) | ("finish", name)
        stack: list[tuple[str, Any, str | None]] = [("visit", root, self.output_name)]
        while stack:
            action, item, role = stack.pop()
            if action == "finish":
                self._finish(item, done.pop())
                done.append(self.named[item])
                in_progress.pop()
            elif action == "apply":
                done.append(self._apply(item, role, done))
            elif item.kind in ("number", "constant"):
                done.append(_Operand(None, item.value, item.op))
            elif item.kind == "name":
                name = item.op
                if name in self.leaves:
                    done.append(self._leaf(name))
                elif name in self.named:
                    done.append(self.named[name])
                elif name in self.definitions:
                    if name in in_progress:
                        cycle = " -> ".join(in_progress[in_progress.index(name):] + [name])
                        raise ExpressionError(
                            f"{name} is defined in terms of itself ({cycle}); every "
                            "intermediate must end in numbers."
                        )
                    in_progress.append(name)
                    stack.append(("finish", name, None))
                    stack.append(("visit", self.definitions[name], name))
                else:
                    raise ExpressionError(
                        f"{name} has no value: pass it as a keyword, e.g. "
                        f"derive({EXAMPLE.replace('x', name)!r}, {name}=3.0)."
                    )
            else:
                stack.append(("apply", item, role))
                stack.extend(("visit", arg, None) for arg in reversed(item.args))
        (result,) = done
        return self._finish_output(result)

    def _apply(self, expr: Expr, role: str | None, done: list[_Operand]) -> _Operand:
        count = len(expr.args)
        args = tuple(done[-count:])
        del done[-count:]
        op = expr.op if expr.kind != "neg" else "neg"
        rhs, prec = _rhs(op, args)
        if all(a.node is None for a in args):  # constants fold: no node
            try:
                value = _forward(op, args)
            except _DomainError as error:
                raise DerivationError(f"{rhs}: {error.args[0]}.") from None
            return _Operand(None, value, rhs, prec)
        if role is None:
            name, kind = self._next_name(), "op"
        else:
            name, kind = role, "output" if role == self.output_name else "op"
        try:
            value = _forward(op, args)
        except _DomainError as error:
            raise DerivationError(f"{name} = {rhs}: {error.args[0]}.") from None
        return self._add(kind, name, op, args, value, rhs)

    def _finish(self, name: str, result: _Operand) -> None:
        """Give the intermediate ``name`` its node (an alias gets an identity node)."""
        if result.node is None:
            self.named[name] = _Operand(None, result.value, name)
        elif self.nodes[result.node].name == name:
            self.named[name] = result
        else:
            self.named[name] = self._add("op", name, "id", (result,), result.value, result.text)

    def _finish_output(self, result: _Operand) -> list[_Node]:
        if result.node is None or self.nodes[result.node].name != self.output_name:
            self._add("output", self.output_name, "id", (result,), result.value, result.text)
        for name in self.leaves:  # variables the expression does not use: isolated leaves
            self._leaf(name)
        return self.nodes


# ------------------------------------------------------------------- the arithmetic
def _wrap(operand: _Operand, needs: bool) -> str:
    return f"({operand.text})" if needs else operand.text


def _rhs(op: str, args: tuple[_Operand, ...]) -> tuple[str, int]:
    """The operation as text with Python's precedence rules, and its precedence."""
    if op in _PREC:
        a, b = args
        p = _PREC[op]
        if op == "**":  # right-associative; x**-2 is fine, (-2)**x needs parentheses
            left, right = a.prec <= p, b.prec < _UNARY
        else:
            left, right = a.prec < p, b.prec <= p
        sep = f" {op} " if p == _ADD else op
        return f"{_wrap(a, left)}{sep}{_wrap(b, right)}", p
    if op == "neg":
        return f"-{_wrap(args[0], args[0].prec <= _UNARY)}", _UNARY
    if op == "id":
        return args[0].text, args[0].prec
    return f"{op}({args[0].text})", _ATOM


def _forward(op: str, args: tuple[_Operand, ...] | list[float]) -> float:
    """The value of one operation; raises _DomainError with the reason."""
    vals = [a.value if isinstance(a, _Operand) else a for a in args]
    if op == "+":
        result = vals[0] + vals[1]
    elif op == "-":
        result = vals[0] - vals[1]
    elif op == "*":
        result = vals[0] * vals[1]
    elif op == "/":
        if vals[1] == 0:
            divisor = args[1]
            named = isinstance(divisor, _Operand) and divisor.node is not None
            raise _DomainError(f"division by zero ({divisor.text} is 0)" if named
                               else "division by zero")
        result = vals[0] / vals[1]
    elif op == "**":
        result = _pow(vals[0], vals[1])
    elif op == "neg":
        result = -vals[0]
    elif op == "id":
        result = vals[0]
    else:
        function = FUNCTIONS[op]
        reason = function.domain(vals[0]) if function.domain else None
        if reason:
            raise _DomainError(reason)
        try:
            result = function.forward(vals[0])
        except OverflowError:
            raise _DomainError(f"{op}({vals[0]!r}) is too large for a float (overflow)") from None
        except (ValueError, ZeroDivisionError) as error:
            raise _DomainError(f"{op} is undefined at {vals[0]!r} ({error})") from None
    if not math.isfinite(result):
        raise _DomainError("the result is too large for a float (overflow)")
    return float(result)


def _pow(a: float, b: float) -> float:
    if a == 0 and b < 0:
        raise _DomainError("0 to a negative power divides by zero")
    if a < 0 and not b.is_integer():
        raise _DomainError(f"a negative base ({a!r}) needs a whole-number exponent, got {b!r}")
    try:
        return math.pow(a, b)
    except OverflowError:
        raise _DomainError("the result is too large for a float (overflow)") from None


def _num(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def _is_literal(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _local(node: _Node, index: int) -> tuple[float, str]:
    """``d node / d input[index]`` as a float and as text (the inputs' names substituted)."""
    op, args = node.op, node.inputs
    a = args[0]
    if op == "+":
        return 1.0, "1"
    if op == "-":
        return (1.0, "1") if index == 0 else (-1.0, "-1")
    if op == "*":  # d(ab)/da = b, d(ab)/db = a
        other = args[1 - index]
        return other.value, other.text
    if op == "/":
        b = args[1]
        if index == 0:  # d(a/b)/da = 1/b
            return 1.0 / b.value, f"1/{_wrap(b, b.prec <= _MUL)}"
        # d(a/b)/db = -a/b**2
        return -a.value / b.value ** 2, f"-{_wrap(a, a.prec <= _MUL)}/{_wrap(b, b.prec <= _POW)}**2"
    if op == "**":
        return _local_pow(node, index)
    if op == "neg":
        return -1.0, "-1"
    if op == "id":
        return 1.0, "1"
    function = FUNCTIONS[op]
    text = function.formula_for(a.text)
    try:
        return function.derivative(a.value), text
    except ZeroDivisionError:
        why = "it divides by zero"
    except (ValueError, OverflowError):
        why = "it is undefined or too large there"
    raise _DomainError(f"its derivative {text} cannot be computed at {a.text} = {a.value!r} "
                       f"({why})")


def _local_pow(node: _Node, index: int) -> tuple[float, str]:
    a, b = node.inputs
    if index == 0:
        if b.node is None:  # d(a**c)/da = c * a**(c - 1)
            c = b.value
            if c == 0:
                return 0.0, "0"
            a_text = _wrap(a, a.prec <= _POW)
            if _is_literal(b.text):
                text = ("1" if c == 1 else f"{_num(c)}*{a_text}" if c == 2
                        else f"{_num(c)}*{a_text}**{_num(c - 1)}")
            else:
                text = f"{_wrap(b, b.prec <= _MUL)}*{a_text}**({b.text} - 1)"
            return c * _pow(a.value, c - 1), text
        # d(a**b)/da = b * a**(b - 1), with torch's choice 0 where b == 0
        if b.value == 0:
            return 0.0, f"{b.text}*{_wrap(a, a.prec <= _POW)}**({b.text} - 1)"
        return (b.value * _pow(a.value, b.value - 1),
                f"{_wrap(b, b.prec <= _MUL)}*{_wrap(a, a.prec <= _POW)}**({b.text} - 1)")
    # d(a**b)/db = a**b * log(a)   (needs a > 0; torch's choice 0 at a == 0, b >= 0)
    a_text = _wrap(a, a.prec <= _POW)
    text = (f"e**{_wrap(b, b.prec < _UNARY)}" if a.node is None and a.text == "e"
            else f"{a_text}**{_wrap(b, b.prec < _UNARY)}*log({a.text})")
    if a.value == 0 and b.value >= 0:
        return 0.0, text
    if a.value <= 0:
        raise _DomainError(
            f"the derivative with respect to the exponent, {text}, needs a positive base "
            f"({a.text} is {a.value!r})"
        )
    return node.value * math.log(a.value), text


def _backward(nodes: list[_Node]) -> tuple[dict[int, float], list[DerivationStep]]:
    """Reverse-mode chain rule over the nodes (already in topological order)."""
    output = next(node for node in reversed(nodes) if node.kind == "output")
    out = output.name
    grads: dict[int, float] = {output.id: 1.0}
    steps: list[DerivationStep] = []
    for node in reversed(nodes):
        if node.op == "leaf" or node.id not in grads:
            continue
        upstream = grads[node.id]
        for index, operand in enumerate(node.inputs):
            if operand.node is None:
                continue
            try:
                local, text = _local(node, index)
            except _DomainError as error:
                raise DerivationError(f"{node.label}: {error.args[0]}.") from None
            except (ValueError, ZeroDivisionError, OverflowError) as error:
                raise DerivationError(
                    f"{node.label}: its derivative cannot be computed at "
                    f"{operand.text} = {operand.value!r} ({error})."
                ) from None
            contribution = upstream * local
            target = f"d{out}/d{operand.text}"
            chain = text if node.id == output.id else f"d{out}/d{node.name} · {_paren(text)}"
            if operand.node in grads:
                result = grads[operand.node] + contribution
                formula = f"{target} += {chain}"
            else:
                result = contribution
                formula = f"{target} = {chain}"
            if not math.isfinite(result):
                raise DerivationError(
                    f"{node.label}: the gradient {target} is too large for a float (overflow)."
                )
            grads[operand.node] = result
            steps.append(DerivationStep("backward", node.label, formula, local, upstream,
                                        result, node.id, operand.node,
                                        f"d{node.name}/d{operand.text} = {text}"))
    return grads, steps


def _paren(text: str) -> str:
    """Parenthesise a local-derivative text after "·" unless it is a name, number or call."""
    if text.replace("_", "").replace(".", "").lstrip("-").isalnum():
        return text
    depth = 0
    for i, char in enumerate(text):  # already one (...) or f(...) group around everything?
        depth += (char == "(") - (char == ")")
        if depth == 0 and char == ")" and i < len(text) - 1:
            return f"({text})"
    head = text.split("(", 1)[0]
    return text if text.endswith(")") and (head == "" or head.isidentifier()) else f"({text})"


def _replay(nodes: list[_Node], changed: dict[int, float],
            kinks: list[_Node]) -> tuple[dict[int, float], dict[int, float]]:
    """Recompute every node's value with some leaves changed (for finite differences)."""
    values: dict[int, float] = {}
    for node in nodes:
        if node.op == "leaf":
            values[node.id] = changed.get(node.id, node.value)
            continue
        args = [values[o.node] if o.node is not None else o.value for o in node.inputs]
        values[node.id] = _forward(node.op, args)
    kink_inputs = {}
    for kink in kinks:
        operand = kink.inputs[0]
        kink_inputs[kink.id] = values[operand.node] if operand.node is not None else operand.value
    return values, kink_inputs


def _torch_apply(op: str, args: list[Any], dtype: Any) -> Any:
    """One operation on tensors (constants stay Python floats), with torch's own ops."""
    if op == "+":
        return args[0] + args[1]
    if op == "-":
        return args[0] - args[1]
    if op == "*":
        return args[0] * args[1]
    if op == "/":
        return args[0] / args[1]
    if op == "**":
        return args[0] ** args[1]
    if op == "neg":
        return -args[0]
    if op == "id":
        value = args[0]
        return value if isinstance(value, torch.Tensor) else torch.tensor(value, dtype=dtype)
    return FUNCTIONS[op].torch(args[0])
