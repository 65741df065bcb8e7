"""Computational graphs as plain data: torch's real one, an engine ``Value``'s, a Derivation's.

Torch records, for every tensor computed from tensors that require grad, a ``grad_fn``
node (e.g. ``SinBackward0``); ``grad_fn.next_functions`` points at the nodes of its inputs,
ending in one ``AccumulateGrad`` node per leaf tensor. Backward walks these edges from the
output to the leaves, multiplying local derivatives (``dz/dx = dz/dy · dy/dx``). A
micrograd-style ``Value`` keeps the same structure in ``._prev`` (its inputs) and ``._op``.

:func:`walk` visits any such graph with an explicit stack (no recursion limit) and stops
at :data:`NODE_CAP` nodes; :func:`walk_torch_graph` and :func:`autograd_graph` turn what it
finds into a plain :class:`Graph` (edges point from input to consumer, the direction of the
forward pass). Drawing lives in :mod:`autograd_lab.drawing`.

**Why a cap.** Once Python has touched a torch node (``grad_fn``, ``next_functions``), its
Python wrapper lives as long as the node, and torch then frees that part of the graph
recursively, one C stack frame per node: a chain of about 40,000 touched nodes overflows
Linux's 8 MB stack and about 3,800 overflow a 1 MB stack (Windows' default), killing the
kernel when the graph is freed. Walking at most ``NODE_CAP = 1,000`` nodes keeps well
below both; plain ``backward()`` touches nothing and has no such limit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from autograd_lab.formatting import short_float
from autograd_lab.tensor_input import refuse_meta_or_complex

#: The most nodes any function of the kit walks in one graph (see the module docstring).
NODE_CAP = 1_000


class GraphTooLarge(ValueError):
    """A graph with more than :data:`NODE_CAP` nodes: the walk stopped before touching more."""


def too_large_message(cap: int = NODE_CAP) -> str:
    """The one sentence every graph-walking function raises beyond ``cap`` nodes."""
    return (
        f"this graph has more than {cap:,} nodes; autograd_graph, draw_graph and "
        f"trace_backward stop at {cap:,} (walking a deeper torch graph can crash the kernel "
        "when it is freed), so look at a smaller example, e.g. fewer steps or samples."
    )


@dataclass(frozen=True)
class GraphNode:
    """One node: ``kind`` is "leaf", "op" or "output"; ``value``/``grad`` may be None."""

    id: int
    kind: str
    label: str
    value: Any = None
    grad: Any = None


@dataclass
class Graph:
    """Nodes and edges ``(input_id, consumer_id)``, from inputs towards the output."""

    nodes: list[GraphNode] = field(default_factory=list)
    edges: list[tuple[int, int]] = field(default_factory=list)


# --------------------------------------------------------------------------- the walk


def walk(
    root: Any, children: Callable[[Any], Iterable[Any]], cap: int = NODE_CAP
) -> tuple[list[Any], list[list[int]]]:
    """Every node reachable from ``root`` once, inputs before consumers, ``root`` last.

    ``children(node)`` lists a node's inputs (repeats allowed: ``x * x``). Nodes are told
    apart by identity. Returns ``(order, inputs)`` where ``inputs[i]`` holds the positions
    in ``order`` of ``order[i]``'s inputs, in ``children`` order. The order is a post-order
    depth-first walk with an explicit stack, so it is deterministic and needs no recursion.

    Raises :class:`GraphTooLarge` as soon as more than ``cap`` nodes have been seen (a
    node counts when ``children`` of its consumer returns it), and ``ValueError`` if the
    graph has a cycle.
    """
    kids_of: dict[int, list[Any]] = {}
    position: dict[int, int] = {}
    seen = {id(root)}
    order: list[Any] = []
    stack: list[tuple[Any, int]] = [(root, 0)]
    while stack:
        node, i = stack[-1]
        kids = kids_of.get(id(node))
        if kids is None:
            kids = list(children(node))
            kids_of[id(node)] = kids
            seen.update(id(kid) for kid in kids)
            if len(seen) > cap:
                stack.clear()
                kids_of.clear()
                raise GraphTooLarge(too_large_message(cap))
        if i < len(kids):
            stack[-1] = (node, i + 1)
            kid = kids[i]
            if id(kid) not in kids_of:
                stack.append((kid, 0))
            elif id(kid) not in position:
                raise ValueError("this graph has a cycle (a node is its own input), so it "
                                 "cannot be walked from inputs to output.")
        else:
            stack.pop()
            position[id(node)] = len(order)
            order.append(node)
    inputs = [[position[id(kid)] for kid in kids_of[id(node)]] for node in order]
    return order, inputs


def _check_names(names: Any) -> Mapping[str, Any] | None:
    if names is None or isinstance(names, Mapping):
        return names
    raise TypeError(
        f"names must be a dict from label to tensor, not a {type(names).__name__}; "
        "write e.g. names={'x': x, 'w': w}."
    )


def _labels(names: Mapping[str, Any] | None, accepts: Callable[[Any], bool], kind: str) -> dict:
    """``id(object) -> label`` from ``names``, refusing entries that are not ``kind``."""
    label_of: dict[int, str] = {}
    for name, obj in (names or {}).items():
        if not accepts(obj):
            raise TypeError(
                f"names[{name!r}] is a {type(obj).__name__}; map each name to the {kind} it "
                "labels, e.g. names={'x': x}."
            )
        label_of[id(obj)] = str(name)
    return label_of


def _leaf_nodes(order: list[Any], is_leaf: Callable[[Any], bool]) -> Callable[[Any], str]:
    """Default leaf labels: "leaf" when there is one leaf, else "leaf1", "leaf2", …"""
    leaves = [node for node in order if is_leaf(node)]
    numbers = {id(node): k for k, node in enumerate(leaves, start=1)}
    return lambda node: "leaf" if len(leaves) == 1 else f"leaf{numbers[id(node)]}"


# --------------------------------------------------------------------------- torch graphs


def _summary(tensor: torch.Tensor | None) -> Any:
    """A scalar tensor as a float; anything bigger as a short string such as "[6.7, 8.1, 9]"."""
    if tensor is None:
        return None
    t = tensor.detach()
    if t.numel() == 1:
        return float(t.reshape(()).item())
    flat = t.reshape(-1)
    shown = ", ".join(short_float(float(v)) for v in flat[:4].tolist())
    more = f", … ({t.numel()} values)" if t.numel() > 4 else ""
    return f"[{shown}{more}]"


def _grad_accumulator(leaf: torch.Tensor) -> Any:
    """The ``AccumulateGrad`` node of a leaf tensor (a view's grad_fn points at it)."""
    return leaf.view_as(leaf).grad_fn.next_functions[0][0]


def _torch_inputs(fn: Any) -> list[Any]:
    return [nf for nf, _ in fn.next_functions if nf is not None]


@dataclass
class TorchWalk:
    """The torch nodes of a graph in id order (inputs before consumers; the output is last)."""

    graph: Graph
    fns: list[Any]  # fns[i] is the autograd node with graph id i (output id has none)
    output_id: int


def walk_torch_graph(
    output: torch.Tensor, names: Mapping[str, torch.Tensor] | None = None
) -> TorchWalk:
    """Walk ``output.grad_fn`` (at most :data:`NODE_CAP` nodes) into a :class:`TorchWalk`.

    Ids follow :func:`walk`'s order following ``next_functions`` in order, so they are
    deterministic and every input's id is smaller than its consumer's; the output node
    comes last. ``names`` (``{"x": x}``) labels leaves and the output.
    """
    if not isinstance(output, torch.Tensor):
        raise TypeError(
            f"expected a tensor (or a Derivation or an engine Value), got "
            f"{type(output).__name__}; pass the result of a torch computation such as "
            "torch.sin(x**2)."
        )
    refuse_meta_or_complex(output, "this tensor")
    if not output.requires_grad:
        raise ValueError(
            "this tensor does not require grad, so torch recorded no graph; create its "
            "inputs with requires_grad=True (e.g. torch.tensor(3.0, requires_grad=True))."
        )
    label_of = _labels(_check_names(names), lambda t: isinstance(t, torch.Tensor), "tensor")
    root = output.grad_fn if output.grad_fn is not None else _grad_accumulator(output)
    order, inputs = walk(root, _torch_inputs)

    def is_leaf(fn: Any) -> bool:
        return hasattr(fn, "variable")

    default = _leaf_nodes(order, is_leaf)
    nodes: list[GraphNode] = []
    for i, fn in enumerate(order):
        if is_leaf(fn):
            leaf = fn.variable
            refuse_meta_or_complex(leaf, "a leaf of this graph")
            label = label_of.get(id(leaf)) or default(fn)
            nodes.append(GraphNode(i, "leaf", label, _summary(leaf), _summary(leaf.grad)))
        else:
            nodes.append(GraphNode(i, "op", type(fn).__name__))
    output_id = len(order)
    nodes.append(GraphNode(output_id, "output", label_of.get(id(output), "output"),
                           _summary(output)))
    edges = [(k, i) for i, kids in enumerate(inputs) for k in kids]
    edges.append((output_id - 1, output_id))
    return TorchWalk(graph=Graph(nodes=nodes, edges=edges), fns=order, output_id=output_id)


# --------------------------------------------------------------------------- engine Values

_VALUE_FIELDS = ("_prev", "_op", "data", "grad")


def is_value_like(obj: Any) -> bool:
    """True for a micrograd-style ``Value``: ``.data``, ``.grad``, inputs ``._prev``, ``._op``."""
    return not isinstance(obj, torch.Tensor) and all(hasattr(obj, f) for f in _VALUE_FIELDS)


def _number(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, torch.Tensor):
        return _summary(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)[:40]


def value_graph(output: Any, names: Mapping[str, Any] | None = None) -> Graph:
    """The graph behind an engine ``Value`` (at most :data:`NODE_CAP` nodes), torch-shaped.

    A ``Value`` with no inputs (``._prev == ()``) is a "leaf"; any other is an "op"
    labelled with its ``._op`` ("*", "tanh"); both carry ``.data`` and ``.grad``. One
    "output" node follows, as for torch, so the two graphs of one computation line up.
    """
    label_of = _labels(_check_names(names), is_value_like, "Value")
    order, inputs = walk(output, lambda v: tuple(v._prev))

    def is_leaf(v: Any) -> bool:
        return not v._prev

    default = _leaf_nodes(order, is_leaf)
    nodes = [
        GraphNode(i, "leaf", label_of.get(id(v)) or default(v), _number(v.data), _number(v.grad))
        if is_leaf(v)
        else GraphNode(i, "op", str(v._op) or "op", _number(v.data), _number(v.grad))
        for i, v in enumerate(order)
    ]
    output_id = len(order)
    nodes.append(GraphNode(output_id, "output", label_of.get(id(output), "output"),
                           _number(output.data)))
    edges = [(k, i) for i, kids in enumerate(inputs) for k in kids]
    edges.append((output_id - 1, output_id))
    return Graph(nodes=nodes, edges=edges)


# --------------------------------------------------------------------------- any graph


def autograd_graph(
    output_or_derivation: Any, *, names: Mapping[str, Any] | None = None
) -> Graph:
    """The computational graph behind a tensor, a ``Value`` or a ``Derivation``, as a Graph.

    From a tensor: one "leaf" node per leaf tensor (torch's ``AccumulateGrad``; labelled
    from ``names={"x": x}`` when given, else "leaf"/"leaf1", …; ``value`` is the leaf's value
    — a float if it has one element, else a short string — and ``grad`` its ``.grad``), one
    "op" node per ``grad_fn`` (label ``type(grad_fn).__name__`` such as "SinBackward0"),
    and one "output" node for the tensor itself. Edges go from input to consumer; an input
    used twice (``x * x``) gives two edges. Ids are deterministic, inputs before consumers,
    the output last, and are the ids :func:`autograd_lab.trace_backward` reports.

    From an engine ``Value`` (anything with ``._prev``, ``._op``, ``.data``, ``.grad``): the
    same shape, see :func:`value_graph`. From a ``Derivation`` (anything with a ``.graph()``
    method): its hand-derivation graph, whose node ids the derivation's steps use.

    A graph with more than :data:`NODE_CAP` nodes raises :class:`GraphTooLarge`.
    """
    if isinstance(output_or_derivation, Graph):
        return output_or_derivation
    if isinstance(output_or_derivation, torch.Tensor):
        return walk_torch_graph(output_or_derivation, names).graph
    if is_value_like(output_or_derivation):
        return value_graph(output_or_derivation, names)
    if callable(getattr(output_or_derivation, "graph", None)):
        return output_or_derivation.graph()
    return walk_torch_graph(output_or_derivation, names).graph  # raises its TypeError
