"""Build the hand-derivation graph: the Expr tree (and its named intermediates) -> nodes.

``derive("sin(x**2)", x=3)`` gets three nodes, in evaluation order (a topological order)::

    0  leaf    x = 3
    1  op      v1 = x**2        (operator "**", inputs x and the constant 2)
    2  output  z = sin(v1)      (function "sin", input v1)

Constants fold (``2*pi`` is no node); an intermediate ``y="x**2"`` becomes a node named
``y``; the output is named ``z`` (or ``out`` … when the learner uses ``z``).  The walk uses
an explicit stack, so a chain thousands of operations long never recurses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from autograd_lab.errors import DerivationError, ExpressionError
from autograd_lab.expression import EXAMPLE, Expr
from autograd_lab.operators import Operand, OutsideDomain, evaluate, render

__all__ = ["Node", "build_nodes", "output_node"]


@dataclass(eq=False)
class Node:
    """One node: ``kind`` is "leaf", "op" or "output"; ``op`` is "leaf", an operator of
    :data:`~autograd_lab.operators.OPERATORS` or a function name; ``rhs`` the right-hand
    side of its label (``"x**2"``)."""

    id: int
    kind: str
    name: str
    op: str
    inputs: tuple[Operand, ...]
    value: float
    rhs: str

    @property
    def label(self) -> str:
        return f"{self.name} = {self.rhs}"


def output_node(nodes: list[Node]) -> Node:
    """The node whose value is the expression's value."""
    return next(node for node in reversed(nodes) if node.kind == "output")


def build_nodes(root: Expr, leaves: dict[str, float], definitions: dict[str, Expr],
                output_name: str, taken: set[str]) -> tuple[list[Node], dict[str, int]]:
    """``(nodes in topological order, {leaf name: node id})``.

    Raises ExpressionError for a name without a value or a definition that refers to
    itself, DerivationError (naming the step) for a value outside an operation's domain.
    """
    builder = _Builder(leaves, definitions, output_name, taken)
    return builder.build(root), {name: builder.leaf_ids[name] for name in leaves}


class _Builder:
    def __init__(self, leaves: dict[str, float], definitions: dict[str, Expr],
                 output_name: str, taken: set[str]) -> None:
        self.leaves = leaves
        self.definitions = definitions
        self.output_name = output_name
        self.taken = taken | {output_name}
        self.nodes: list[Node] = []
        self.leaf_ids: dict[str, int] = {}
        self.named: dict[str, Operand] = {}
        self.counter = 0

    def _next_name(self) -> str:
        while True:
            self.counter += 1
            name = f"v{self.counter}"
            if name not in self.taken:
                return name

    def _add(self, kind: str, name: str, op: str, inputs: tuple[Operand, ...],
             value: float, rhs: str) -> Operand:
        node = Node(len(self.nodes), kind, name, op, inputs, value, rhs)
        self.nodes.append(node)
        return Operand(node.id, value, name)

    def _leaf(self, name: str) -> Operand:
        if name not in self.leaf_ids:
            value = self.leaves[name]
            self.leaf_ids[name] = self._add("leaf", name, "leaf", (), value, f"{value:.6g}").node
        return Operand(self.leaf_ids[name], self.leaves[name], name)

    def build(self, root: Expr) -> list[Node]:
        done: list[Operand] = []
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
                done.append(Operand(None, item.value, item.op))
            elif item.kind == "name":
                operand = self._name(item.op, in_progress, stack)
                if operand is not None:  # None: the definition is pushed, "finish" adds it
                    done.append(operand)
            else:
                stack.append(("apply", item, role))
                stack.extend(("visit", arg, None) for arg in reversed(item.args))
        (result,) = done
        return self._finish_output(result)

    def _name(self, name: str, in_progress: list[str],
              stack: list[tuple[str, Any, str | None]]) -> Operand | None:
        if name in self.leaves:
            return self._leaf(name)
        if name in self.named:
            return self.named[name]
        if name not in self.definitions:
            raise ExpressionError(
                f"{name} has no value: pass it as a keyword, e.g. "
                f"derive({EXAMPLE.replace('x', name)!r}, {name}=3.0)."
            )
        if name in in_progress:
            cycle = " -> ".join(in_progress[in_progress.index(name):] + [name])
            raise ExpressionError(
                f"{name} is defined in terms of itself ({cycle}); every "
                "intermediate must end in numbers."
            )
        in_progress.append(name)
        stack.append(("finish", name, None))
        stack.append(("visit", self.definitions[name], name))
        return None

    def _apply(self, expr: Expr, role: str | None, done: list[Operand]) -> Operand:
        count = len(expr.args)
        args = tuple(done[-count:])
        del done[-count:]
        op = expr.op if expr.kind != "neg" else "neg"
        rhs, prec = render(op, args)
        if all(a.node is None for a in args):  # constants fold: no node
            try:
                value = evaluate(op, args)
            except OutsideDomain as error:
                raise DerivationError(f"{rhs}: {error.args[0]}.") from None
            return Operand(None, value, rhs, prec)
        if role is None:
            name, kind = self._next_name(), "op"
        else:
            name, kind = role, "output" if role == self.output_name else "op"
        try:
            value = evaluate(op, args)
        except OutsideDomain as error:
            raise DerivationError(f"{name} = {rhs}: {error.args[0]}.") from None
        return self._add(kind, name, op, args, value, rhs)

    def _finish(self, name: str, result: Operand) -> None:
        """Give the intermediate ``name`` its node (an alias gets an identity node)."""
        if result.node is None:
            self.named[name] = Operand(None, result.value, name)
        elif self.nodes[result.node].name == name:
            self.named[name] = result
        else:
            self.named[name] = self._add("op", name, "id", (result,), result.value, result.text)

    def _finish_output(self, result: Operand) -> list[Node]:
        if result.node is None or self.nodes[result.node].name != self.output_name:
            self._add("output", self.output_name, "id", (result,), result.value, result.text)
        for name in self.leaves:  # variables the expression does not use: isolated leaves
            self._leaf(name)
        return self.nodes
