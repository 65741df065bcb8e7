"""Computational graphs: the hand derivation's and torch's real one, and a matplotlib drawer.

Torch records, for every tensor computed from tensors that require grad, a ``grad_fn``
node (e.g. ``SinBackward0``); ``grad_fn.next_functions`` points at the nodes of its inputs,
ending in one ``AccumulateGrad`` node per leaf tensor. Backward walks these edges from the
output to the leaves, multiplying local derivatives (``dz/dx = dz/dy · dy/dx``).

:func:`autograd_graph` turns that structure into a plain :class:`Graph` (edges point from
input to consumer, the direction of the forward pass); :func:`draw_graph` draws a
:class:`Graph` with matplotlib alone. matplotlib is imported only when drawing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from numbers import Integral
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


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


# --------------------------------------------------------------------------- torch graph walk


def _short_float(value: float) -> str:
    """Four decimals like torch prints (trailing zeros dropped); very big/small in e-notation."""
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    if value != 0 and not 1e-4 <= abs(value) < 1e6:
        return f"{value:.4g}"
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _summary(tensor: torch.Tensor | None) -> Any:
    """A scalar tensor as a float; anything bigger as a short string such as "[6.7, 8.1, 9]"."""
    if tensor is None:
        return None
    t = tensor.detach()
    if t.numel() == 1:
        return float(t.reshape(()).item())
    flat = t.reshape(-1)
    shown = ", ".join(_short_float(float(v)) for v in flat[:4].tolist())
    more = f", … ({t.numel()} values)" if t.numel() > 4 else ""
    return f"[{shown}{more}]"


def _grad_accumulator(leaf: torch.Tensor) -> Any:
    """The ``AccumulateGrad`` node of a leaf tensor (a view's grad_fn points at it)."""
    return leaf.view_as(leaf).grad_fn.next_functions[0][0]


@dataclass
class _Walk:
    """The torch nodes of a graph in id order (inputs before consumers; the output is last)."""

    graph: Graph
    fns: list[Any]  # fns[i] is the autograd node with graph id i (output id has none)
    output_id: int


def _walk(output: torch.Tensor, names: Mapping[str, torch.Tensor] | None = None) -> _Walk:
    """Walk ``output.grad_fn`` iteratively (explicit stack: no recursion limit).

    Ids come from a post-order depth-first walk that follows ``next_functions`` in order,
    so they are deterministic and every input's id is smaller than its consumer's.
    """
    if not isinstance(output, torch.Tensor):
        raise TypeError(
            f"expected a tensor (or a Derivation), got {type(output).__name__}; "
            "pass the result of a torch computation such as torch.sin(x**2)."
        )
    if not output.requires_grad:
        raise ValueError(
            "this tensor does not require grad, so torch recorded no graph; create its "
            "inputs with requires_grad=True (e.g. torch.tensor(3.0, requires_grad=True))."
        )
    root = output.grad_fn if output.grad_fn is not None else _grad_accumulator(output)

    children: dict[Any, list[Any]] = {}
    ids: dict[Any, int] = {}
    order: list[Any] = []
    stack: list[tuple[Any, int]] = [(root, 0)]
    while stack:
        fn, i = stack[-1]
        kids = children.get(fn)
        if kids is None:
            kids = [nf for nf, _ in fn.next_functions if nf is not None]
            children[fn] = kids
        if i < len(kids):
            stack[-1] = (fn, i + 1)
            kid = kids[i]
            if kid not in ids and kid not in children:
                stack.append((kid, 0))
        else:
            stack.pop()
            ids[fn] = len(order)
            order.append(fn)

    label_of: dict[int, str] = {}
    if names:
        for name, tensor in names.items():
            if not isinstance(tensor, torch.Tensor):
                raise TypeError(
                    f"names[{name!r}] is a {type(tensor).__name__}; map each name to the "
                    "tensor it labels, e.g. names={'x': x}."
                )
            label_of[id(tensor)] = str(name)

    leaves = [fn for fn in order if hasattr(fn, "variable")]
    nodes: list[GraphNode] = []
    leaf_number = 0
    for fn in order:
        if hasattr(fn, "variable"):
            leaf = fn.variable
            leaf_number += 1
            default = "leaf" if len(leaves) == 1 else f"leaf{leaf_number}"
            nodes.append(
                GraphNode(
                    id=ids[fn],
                    kind="leaf",
                    label=label_of.get(id(leaf), default),
                    value=_summary(leaf),
                    grad=_summary(leaf.grad),
                )
            )
        else:
            nodes.append(GraphNode(id=ids[fn], kind="op", label=type(fn).__name__))
    output_id = len(order)
    nodes.append(
        GraphNode(
            id=output_id,
            kind="output",
            label=label_of.get(id(output), "output"),
            value=_summary(output),
        )
    )
    edges = [(ids[kid], ids[fn]) for fn in order for kid in children[fn]]
    edges.append((ids[root], output_id))
    return _Walk(graph=Graph(nodes=nodes, edges=edges), fns=order, output_id=output_id)


def autograd_graph(
    output_or_derivation: Any, *, names: Mapping[str, torch.Tensor] | None = None
) -> Graph:
    """The computational graph behind a tensor (or a ``Derivation``) as a :class:`Graph`.

    From a tensor: one "leaf" node per leaf tensor (torch's ``AccumulateGrad``; labelled
    from ``names={"x": x}`` when given, else "leaf"/"leaf1", …; ``value`` is the leaf's value
    — a float if it has one element, else a short string — and ``grad`` its ``.grad``), one
    "op" node per ``grad_fn`` (label ``type(grad_fn).__name__`` such as "SinBackward0"),
    and one "output" node for the tensor itself. Edges go from input to consumer; an input
    used twice (``x * x``) gives two edges. Ids are deterministic, inputs before consumers,
    the output last, and are the ids :func:`autograd_lab.trace_backward` reports.

    From a ``Derivation`` (anything with a ``.graph()`` method): its hand-derivation graph,
    whose node ids the derivation's steps use.
    """
    if isinstance(output_or_derivation, Graph):
        return output_or_derivation
    if not isinstance(output_or_derivation, torch.Tensor) and callable(
        getattr(output_or_derivation, "graph", None)
    ):
        return output_or_derivation.graph()
    return _walk(output_or_derivation, names).graph


# --------------------------------------------------------------------------- drawing

# Okabe–Ito palette (colour-blind safe). Boxes are light tints with black text on a white
# figure, so they read the same whichever JupyterLab theme surrounds the image.
_FILL = {"leaf": "#cde9f8", "op": "#f2f2f2", "output": "#c6ebdf"}  # sky blue / grey / green
_EDGE = {"leaf": "#0072b2", "op": "#555555", "output": "#009e73"}
HIGHLIGHT_FILL = "#f5c469"  # Okabe–Ito orange (#e69f00), lightened for black text
HIGHLIGHT_EDGE = "#d55e00"  # Okabe–Ito vermillion, drawn thick
_ARROW = "#444444"

_BOX_W = 0.78  # box width in layer units (layers are 1 apart)
_BOX_H = 0.62  # box height in row units (rows are 1 apart)


def _as_graph(output_or_graph: Any) -> Graph:
    if isinstance(output_or_graph, Graph):
        return output_or_graph
    return autograd_graph(output_or_graph)


def _format_number(value: Any) -> str:
    if isinstance(value, float):
        return _short_float(value)
    return str(value)


def _layers(graph: Graph) -> dict[int, int]:
    """Longest-path layers: sources at 0, every consumer right of all its inputs; a source
    is then moved right to sit just before its first consumer (shorter arrows)."""
    ids = [n.id for n in graph.nodes]
    preds: dict[int, list[int]] = {i: [] for i in ids}
    succs: dict[int, list[int]] = {i: [] for i in ids}
    indegree = dict.fromkeys(ids, 0)
    for a, c in graph.edges:
        preds[c].append(a)
        succs[a].append(c)
        indegree[c] += 1
    ready = [i for i in ids if indegree[i] == 0]
    layer: dict[int, int] = {}
    topo: list[int] = []
    while ready:
        node = ready.pop()
        topo.append(node)
        layer[node] = max((layer[p] + 1 for p in preds[node]), default=0)
        for s in succs[node]:
            indegree[s] -= 1
            if indegree[s] == 0:
                ready.append(s)
    if len(topo) != len(ids):
        raise ValueError("the graph has a cycle, so it cannot be drawn left to right.")
    for node in topo:
        if not preds[node] and succs[node]:
            layer[node] = min(layer[s] for s in succs[node]) - 1
    return layer


def _layout(
    graph: Graph,
) -> tuple[dict[Any, tuple[float, float]], dict[tuple[int, int], list[tuple[float, float]]]]:
    """Positions ``(layer, -row)`` of every node, and for each edge spanning several layers
    the waypoints it passes through (one free slot per layer crossed, so a long arrow never
    runs behind a box). Rows are ordered by the mean row of each node's inputs."""
    layer = _layers(graph)
    preds: dict[Any, list[Any]] = {n.id: [] for n in graph.nodes}
    columns: dict[int, list[Any]] = {}
    for node in graph.nodes:
        columns.setdefault(layer[node.id], []).append(node.id)
    chains: dict[tuple[int, int], list[Any]] = {}
    for a, c in dict.fromkeys(graph.edges):  # each distinct edge once, in order
        previous: Any = a
        chain = []
        for k in range(layer[a] + 1, layer[c]):
            dummy = ("via", a, c, k)
            columns.setdefault(k, []).append(dummy)
            preds[dummy] = [previous]
            chain.append(dummy)
            previous = dummy
        preds[c].append(previous)
        chains[(a, c)] = chain

    succs: dict[Any, list[Any]] = {item: [] for item in preds}
    for item, inputs in preds.items():
        for p in inputs:
            succs[p].append(item)

    # barycentre ordering: sort each column by the mean row of its neighbours, sweeping
    # left→right (inputs), right→left (consumers), and left→right again
    row: dict[Any, float] = {}
    for k in sorted(columns):
        for j, item in enumerate(columns[k]):
            row[item] = float(j)
    order = sorted(columns)
    for neighbours, layers in ((preds, order), (succs, order[::-1]), (preds, order)):
        for k in layers:

            def key(item: Any, neighbours: dict[Any, list[Any]] = neighbours) -> tuple:
                rows = [row[n] for n in neighbours[item]]
                return (sum(rows) / len(rows) if rows else row[item], row[item])

            columns[k] = sorted(columns[k], key=key)
            for j, item in enumerate(columns[k]):
                row[item] = j - (len(columns[k]) - 1) / 2
    pos = {item: (float(k), -row[item]) for k, col in columns.items() for item in col}
    routes = {edge: [pos[d] for d in chain] for edge, chain in chains.items()}
    return pos, routes


def _box_text(node: GraphNode) -> str:
    lines = [node.label]
    if node.value is not None:
        lines.append(f"= {_format_number(node.value)}")
    if node.grad is not None:
        lines.append(f"grad {_format_number(node.grad)}")
    return "\n".join(lines)


def _fit_fontsize(ax: Axes, x_span: float, y_span: float, texts: Iterable[str]) -> float:
    """One font size (points) at which every box's text fits its box in this Axes."""
    points_per_pixel = 72.0 / ax.figure.dpi
    box_w = ax.bbox.width * points_per_pixel / x_span * _BOX_W
    box_h = ax.bbox.height * points_per_pixel / y_span * _BOX_H
    size = 9.0
    for text in texts:
        lines = text.split("\n")
        chars = max(len(line) for line in lines)
        size = min(size, 0.92 * box_w / (0.66 * chars), 0.9 * box_h / (1.3 * len(lines)))
    return max(size, 4.0)


_FIT_TEXT: Any = None


def _fitted_text(x: float, y: float, text: str, fit: Any, **kwargs: Any) -> Any:
    """A matplotlib Text whose font size is recomputed by ``fit(ax)`` each time it is drawn,
    so the labels still fit their boxes after a widget resizes the figure."""
    global _FIT_TEXT
    if _FIT_TEXT is None:
        from matplotlib.text import Text

        class FitText(Text):
            def __init__(self, *args: Any, fit: Any, **kw: Any) -> None:
                self._fit = fit
                super().__init__(*args, **kw)

            def draw(self, renderer: Any) -> None:
                if self.axes is not None:
                    self.set_fontsize(self._fit(self.axes))
                super().draw(renderer)

        _FIT_TEXT = FitText
    return _FIT_TEXT(x, y, text, fit=fit, **kwargs)


_OWN = "_autograd_lab_artists"


def _reset_axes(ax: Axes) -> None:
    """Empty ``ax`` for a redraw. When it holds nothing but what draw_graph put there last
    time, removing those artists is several times faster than ``ax.clear()``."""
    previous = getattr(ax, _OWN, None)
    present = [*ax.patches, *ax.texts, *ax.lines, *ax.collections, *ax.images, *ax.artists]
    if previous is not None and len(present) == len(previous) and all(
        any(a is b for b in previous) for a in present
    ):
        for artist in previous:
            artist.remove()
    else:
        ax.clear()
    setattr(ax, _OWN, None)


def _new_axes(width: float, height: float) -> Axes:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, facecolor="white")
    return fig.add_axes((0.0, 0.0, 1.0, 1.0))


def _draw_summary(graph: Graph, ax: Axes | None, max_nodes: int) -> Figure:
    counts: dict[str, int] = {}
    for node in graph.nodes:
        if node.kind == "op":
            counts[node.label] = counts.get(node.label, 0) + 1
    leaves = sum(1 for n in graph.nodes if n.kind == "leaf")
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    ops = "\n".join(f"{name} ×{n}" for name, n in top)
    if len(counts) > len(top):
        ops += f"\n… {len(counts) - len(top)} more kinds"
    if ax is None:
        ax = _new_axes(7.0, 3.0)
    else:
        _reset_axes(ax)
    ax.set_axis_off()
    ax.set_xlim(-0.6, 2.6)
    ax.set_ylim(-1.4, 1.0)
    boxes = [
        (0, f"{leaves} leaf" if leaves == 1 else f"{leaves} leaves", "leaf"),
        (1, f"{sum(counts.values())} ops\n{ops}", "op"),
        (2, "output", "output"),
    ]
    for x, text, kind in boxes:
        ax.text(x, 0, text, ha="center", va="center", fontsize=8, color="black",
                bbox={"boxstyle": "round,pad=0.4", "fc": _FILL[kind], "ec": _EDGE[kind]})
    for x in (0, 1):
        ax.annotate("", xy=(x + 0.62, 0), xytext=(x + 0.38, 0),
                    arrowprops={"arrowstyle": "-|>", "color": _ARROW, "lw": 1.2})
    ax.text(1, -1.15, f"Collapsed summary: this graph has {len(graph.nodes)} nodes, more than "
            f"max_nodes={max_nodes}; pass a larger max_nodes to draw every node.",
            ha="center", va="center", fontsize=8, color="black", wrap=True)
    return ax.figure


def draw_graph(
    output_or_graph: Any,
    highlight: int | Iterable[int] | None = None,
    ax: Axes | None = None,
    max_nodes: int = 150,
) -> Figure:
    """Draw a computational graph left to right (leaves → output) with matplotlib alone.

    ``output_or_graph`` is a tensor, a ``Derivation`` or a :class:`Graph`. Each node is a
    box with its label (and value / grad when known); arrows go from input to consumer, in
    the direction of the forward pass — backward runs them in reverse, multiplying local
    derivatives (``dz/dx = dz/dy · dy/dx``). ``highlight`` (a node id or ids) fills those
    boxes Okabe–Ito orange with a thick vermillion outline (colour-blind safe; the figure
    has a white background, so it reads the same on light and dark themes).

    With ``ax=None`` a new ``matplotlib.figure.Figure`` is made (no pyplot state); otherwise
    ``ax`` is cleared and drawn into, which is how widgets redraw quickly. Graphs with more
    than ``max_nodes`` nodes are drawn as a collapsed summary (leaf count, op counts by kind)
    that says so. Returns the Figure.
    """
    graph = _as_graph(output_or_graph)
    if highlight is None:
        marked: set[int] = set()
    elif isinstance(highlight, Integral):
        marked = {int(highlight)}
    else:
        marked = {int(i) for i in highlight}
    known = {n.id for n in graph.nodes}
    for edge in graph.edges:
        if edge[0] not in known or edge[1] not in known:
            raise ValueError(f"edge {edge} names a node id that is not in graph.nodes; "
                             "every edge must join two listed nodes.")
    unknown = sorted(marked - known)
    if unknown:
        ids = f"{min(known)}…{max(known)}" if known else "none: the graph is empty"
        raise ValueError(
            f"highlight id {unknown[0]} is not a node of this graph; use an id of one of its "
            f"nodes ({ids})."
        )
    if len(graph.nodes) > max_nodes:
        return _draw_summary(graph, ax, max_nodes)

    import matplotlib.patches as mpatches

    pos, routes = _layout(graph) if graph.nodes else ({}, {})
    n_layers = int(max((x for x, _ in pos.values()), default=0)) + 1
    per_column: dict[float, int] = {}
    for x, _ in pos.values():
        per_column[x] = per_column.get(x, 0) + 1
    n_rows = max(per_column.values(), default=1)
    if ax is None:
        ax = _new_axes(min(max(1.9 * n_layers, 2.5), 24.0), min(max(0.95 * n_rows, 1.5), 16.0))
    else:
        _reset_axes(ax)
    own: list[Any] = []
    ax.set_axis_off()
    ax.set_xlim(-0.5, n_layers - 0.5)
    top = (n_rows - 1) / 2 + 0.55
    ax.set_ylim(-top, top)
    texts = {node.id: _box_text(node) for node in graph.nodes}
    cache: dict[tuple[float, float, float], float] = {}

    def fit(axes: Axes) -> float:
        key = (axes.bbox.width, axes.bbox.height, axes.figure.dpi)
        if key not in cache:
            cache.clear()
            cache[key] = _fit_fontsize(axes, n_layers, 2 * top, texts.values())
        return cache[key]

    fontsize = fit(ax)

    for node in graph.nodes:
        x, y = pos[node.id]
        hot = node.id in marked
        own.append(ax.add_patch(
            mpatches.FancyBboxPatch(
                (x - _BOX_W / 2, y - _BOX_H / 2), _BOX_W, _BOX_H,
                boxstyle="round,pad=0,rounding_size=0.08",
                fc=HIGHLIGHT_FILL if hot else _FILL.get(node.kind, "#ffffff"),
                ec=HIGHLIGHT_EDGE if hot else _EDGE.get(node.kind, "#555555"),
                lw=3.5 if hot else 1.0,
                zorder=2,
            )
        ))
        own.append(ax.add_artist(_fitted_text(
            x, y, texts[node.id], fit, ha="center", va="center", fontsize=fontsize,
            color="black", fontweight="bold" if hot else "normal", zorder=3, clip_on=True,
        )))

    counts: dict[tuple[int, int], int] = {}
    for edge in graph.edges:
        counts[edge] = counts.get(edge, 0) + 1
    half = _BOX_W / 2
    for (a, c), n in counts.items():
        (xa, ya), (xc, yc) = pos[a], pos[c]
        points = [(xa + half, ya)]
        for xv, yv in routes[(a, c)]:  # pass straight through each free slot
            points += [(xv - half, yv), (xv + half, yv)]
        if len(points) > 1:
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            own += ax.plot(xs, ys, color=_ARROW, lw=1.1, zorder=1, solid_capstyle="butt")
        own.append(ax.annotate(
            "",
            xy=(xc - half, yc),
            xytext=points[-1],
            arrowprops={"arrowstyle": "-|>", "color": _ARROW, "lw": 1.1, "shrinkA": 0,
                        "shrinkB": 1},
            zorder=1,
        ))
        if n > 1:
            xm, ym = (points[0][0] + xc - half) / 2, (points[0][1] + yc) / 2
            own.append(ax.add_artist(_fitted_text(
                xm, ym + 0.06, f"×{n}", fit, ha="center", va="bottom", fontsize=fontsize,
                color="black", zorder=3,
            )))
    setattr(ax, _OWN, own)
    return ax.figure
