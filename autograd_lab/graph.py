"""Computational graphs: the hand derivation's and torch's real one, and a matplotlib drawer.

(Skeleton: the dataclasses are the shared contract; autograd_graph/draw_graph are filled in.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
