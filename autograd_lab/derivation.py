"""The chain rule by hand, one small step at a time, checked against torch autograd.

``derive("sin(x**2)", x=3)`` splits the expression into one node per operation::

    v1 = x**2        (forward)  v1 = 9
    z  = sin(v1)     (forward)  z  = sin(9) = 0.4121...

and walks back from the output ``z`` (``dz/dz = 1``), multiplying the upstream gradient by
each node's *local* derivative -- the chain rule ``dz/dx = dz/dv1 · dv1/dx``::

    dz/dv1 = cos(v1)            = cos(9)          = -0.9111...
    dz/dx  = dz/dv1 · 2*x       = -0.9111... · 6  = -5.466781571308061

The pieces live one concern per module: the grammar in :mod:`~autograd_lab.expression`,
the local derivatives in :mod:`~autograd_lab.operators` and :mod:`~autograd_lab.functions`,
the graph in :mod:`~autograd_lab.derivation_graph`, the steps in
:mod:`~autograd_lab.derivation_steps`, the comparison in :mod:`~autograd_lab.agreement_table`.
Everything is plain float64 Python arithmetic;
``.autograd()`` reruns the same nodes through torch (float64) and ``.numerical()`` through
central differences.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from autograd_lab.agreement_table import (
    NUMERICAL_ATOL,
    NUMERICAL_RTOL,
    CheckRow,
    CheckTable,
    central_differences,
    check_table,
)
from autograd_lab.derivation_graph import Node, build_nodes, output_node
from autograd_lab.derivation_steps import DerivationStep, backward_steps, forward_steps
from autograd_lab.errors import ExpressionError
from autograd_lab.expression import MAX_NAME_LENGTH, MAX_NAMES, MAX_NODES, parse_expression, size
from autograd_lab.functions import CONSTANTS, FUNCTIONS
from autograd_lab.graph import Graph, GraphNode
from autograd_lab.operators import torch_apply

__all__ = [
    "CheckRow",
    "CheckTable",
    "Derivation",
    "DerivationStep",
    "NUMERICAL_ATOL",
    "NUMERICAL_RTOL",
    "derive",
]

_OUTPUT_NAMES = ("z", "out", "output", "result")


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
    _nodes: list[Node] = field(repr=False)
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
    def _output(self) -> Node:
        return output_node(self._nodes)

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
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise ValueError(f"to_torch needs a real floating dtype such as torch.float64, "
                             f"got {dtype!r}.")
        given = dict(leaves or {})
        unknown = sorted(set(given) - set(self._leaves))
        if unknown:
            raise ValueError(
                f"to_torch got a tensor for {', '.join(unknown)}, which is not a variable of "
                f"{self.expression!r}; pass only its variables ({', '.join(self._leaves)})."
            )
        for name, tensor in given.items():
            _real_tensor(name, tensor, ValueError)
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
            tensors[node.id] = torch_apply(node.op, args, dtype)
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
        return central_differences(self._nodes, self._leaves, h)

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
        return check_table(self.expression, self.value, self.gradient, self.autograd(),
                           self._numerical(h), h, rtol, atol)
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
    root = parse_expression(expression)
    total = size(root) + sum(size(tree) for tree in parsed.values())
    if total > MAX_NODES:
        raise ExpressionError(
            f"The expression and its intermediates have {total:,} pieces, over the limit of "
            f"{MAX_NODES:,}; derive a smaller expression."
        )
    nodes, leaf_ids = build_nodes(root, leaves, parsed, output_name, set(values))
    grads, backward = backward_steps(nodes)
    forward = forward_steps(nodes)
    gradient = {name: grads.get(i, 0.0) for name, i in leaf_ids.items()}
    output = output_node(nodes)
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
    if len(values) > MAX_NAMES:
        raise ExpressionError(f"{len(values):,} values were given, over the limit of "
                              f"{MAX_NAMES:,} names; derive a smaller expression.")
    for name, value in values.items():
        if len(name) > MAX_NAME_LENGTH:
            raise ExpressionError(
                f"The name {name[:20]!r}... has {len(name):,} characters, over the limit of "
                f"{MAX_NAME_LENGTH}; use a shorter name."
            )
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
        if isinstance(value, torch.Tensor):
            _real_tensor(name, value, ExpressionError)
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


def _real_tensor(name: str, value: Any, error: type[ValueError]) -> None:
    """One sentence for a tensor derive cannot use: not a tensor, complex, meta, integer."""
    if not isinstance(value, torch.Tensor):
        raise error(f"{name} must be a tensor here, got {type(value).__name__}.")
    if value.is_complex():
        raise error(f"{name} is a complex tensor ({value.dtype}); derive works with real "
                    "numbers: give a float such as 2.0.")
    if value.is_meta:
        raise error(f"{name} is a meta tensor, which has a shape but no value; give a real "
                    "number such as 2.0.")
    if value.numel() != 1:
        raise error(f"{name} has {value.numel()} values; derive works on one number per "
                    "variable, e.g. 2.0.")
