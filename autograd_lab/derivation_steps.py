"""The chain rule by hand, one line per step: forward values, then backward edges.

Walking back from the output ``z`` (``dz/dz = 1``), each edge multiplies the upstream
gradient by the consumer's *local* derivative (a row of :mod:`autograd_lab.operators` or
:mod:`autograd_lab.functions`) -- ``dz/dx = dz/dv1 · dv1/dx``::

    dz/dv1 = cos(v1)            = cos(9)          = -0.9111...
    dz/dx  = dz/dv1 · 2*x       = -0.9111... · 6  = -5.466781571308061

When a node feeds two consumers its gradient is the *sum* of both paths; the second step
shows ``+=`` and its ``result`` is the running total (what ``AccumulateGrad`` does).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from autograd_lab.derivation_graph import Node, output_node
from autograd_lab.errors import DerivationError
from autograd_lab.operators import OutsideDomain, local_derivative

__all__ = ["DerivationStep", "backward_steps", "forward_steps"]


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


def forward_steps(nodes: list[Node]) -> list[DerivationStep]:
    """One step per operation node, in evaluation order."""
    return [DerivationStep("forward", node.label, node.rhs, None, None, node.value, node.id)
            for node in nodes if node.op != "leaf"]


def backward_steps(nodes: list[Node]) -> tuple[dict[int, float], list[DerivationStep]]:
    """Reverse-mode chain rule over the nodes (already in topological order).

    Returns ``({node id: dz/d node}, steps)``; DerivationError names the step whose local
    derivative cannot be computed or whose gradient overflows.
    """
    output = output_node(nodes)
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
                local, text = local_derivative(node.op, node.inputs, index, node.value)
            except OutsideDomain as error:
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
