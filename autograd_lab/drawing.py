"""Drawing a computational graph with matplotlib alone (no graphviz): boxes and arrows.

:func:`draw_graph` takes a :class:`~autograd_lab.graph.Graph` (or anything
:func:`~autograd_lab.graph.autograd_graph` accepts) and lays it out left to right, leaves to
output: each node goes in the layer after its deepest input, rows are ordered to keep
arrows short, and an arrow crossing several layers passes through a free slot in each.
matplotlib is imported only when something is drawn, so importing this module is cheap.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from numbers import Integral
from typing import TYPE_CHECKING, Any

from autograd_lab.formatting import short_float
from autograd_lab.graph import Graph, GraphNode, autograd_graph

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["HIGHLIGHT_EDGE", "HIGHLIGHT_FILL", "GraphLayout", "draw_graph", "graph_layout"]

# Okabe–Ito palette (colour-blind safe). Boxes are light tints with black text, so they read
# the same whichever JupyterLab theme surrounds the image; the figure itself is transparent
# (no white box on a dark theme) and arrows and free text are mid grey (on white and on dark).
_FILL = {"leaf": "#cde9f8", "op": "#f2f2f2", "output": "#c6ebdf"}  # sky blue / grey / green
_EDGE = {"leaf": "#0072b2", "op": "#555555", "output": "#009e73"}
HIGHLIGHT_FILL = "#f5c469"  # Okabe–Ito orange (#e69f00), lightened for black text
HIGHLIGHT_EDGE = "#d55e00"  # Okabe–Ito vermillion, drawn thick
_ARROW = "#8c8c8c"
_FREE_TEXT = "#8c8c8c"  # text outside a box: mid grey, readable on both themes

#: A box's width in layer units (layers are 1 apart) and height in row units.
BOX_W = 0.78  # box width in layer units (layers are 1 apart)
BOX_H = 0.62  # box height in row units (rows are 1 apart)


def _format_number(value: Any) -> str:
    if isinstance(value, float):
        return short_float(value)
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


def box_lines(node: GraphNode) -> tuple[str, ...]:
    """The lines written in ``node``'s box: its label, then ``= value`` and ``grad …`` when
    known (a label that already ends in ``= value``, such as a leaf ``x = 3``, keeps one)."""
    lines = [node.label]
    if node.value is not None:
        value = f"= {_format_number(node.value)}"
        if not node.label.endswith(value):
            lines.append(value)
    if node.grad is not None:
        lines.append(f"grad {_format_number(node.grad)}")
    return tuple(lines)


@dataclass(frozen=True)
class LaidBox:
    """One node's box: centre ``(x, y)`` in layer / row units and the lines it shows."""

    node: GraphNode
    x: float
    y: float
    lines: tuple[str, ...]


@dataclass(frozen=True)
class LaidArrow:
    """An arrow from an input's box to its consumer's: ``points`` from the input's right
    edge through any free slots to the consumer's left edge; ``count`` edges it stands for
    (``x * x`` gives 2, written ``×2`` at ``middle``)."""

    points: tuple[tuple[float, float], ...]
    count: int

    @property
    def middle(self) -> tuple[float, float]:
        (x0, y0), (x1, y1) = self.points[0], self.points[-1]
        return (x0 + x1) / 2, (y0 + y1) / 2


@dataclass(frozen=True)
class GraphLayout:
    """Where everything goes: ``n_layers`` columns 1 apart (x = 0 … n_layers − 1), rows 1
    apart between y = −top and top; boxes are ``BOX_W`` × ``BOX_H`` units."""

    boxes: tuple[LaidBox, ...]
    arrows: tuple[LaidArrow, ...]
    n_layers: int
    n_rows: int
    top: float


def graph_layout(graph: Graph) -> GraphLayout:
    """The one layout of ``graph`` that :func:`draw_graph` and the widgets' SVG both draw:
    leaves left, output right, each node one layer after its deepest input."""
    pos, routes = _layout(graph) if graph.nodes else ({}, {})
    n_layers = int(max((x for x, _ in pos.values()), default=0)) + 1
    per_column: dict[float, int] = {}
    for x, _ in pos.values():
        per_column[x] = per_column.get(x, 0) + 1
    n_rows = max(per_column.values(), default=1)
    boxes = tuple(LaidBox(n, *pos[n.id], box_lines(n)) for n in graph.nodes)
    counts: dict[tuple[int, int], int] = {}
    for edge in graph.edges:
        counts[edge] = counts.get(edge, 0) + 1
    half = BOX_W / 2
    arrows = []
    for (a, c), n in counts.items():
        (xa, ya), (xc, yc) = pos[a], pos[c]
        points = [(xa + half, ya)]
        for xv, yv in routes[(a, c)]:  # pass straight through each free slot
            points += [(xv - half, yv), (xv + half, yv)]
        arrows.append(LaidArrow((*points, (xc - half, yc)), n))
    return GraphLayout(boxes, tuple(arrows), n_layers, n_rows, (n_rows - 1) / 2 + 0.55)


def _fit_fontsize(ax: Axes, x_span: float, y_span: float, texts: Iterable[str]) -> float:
    """One font size (points) at which every box's text fits its box in this Axes."""
    points_per_pixel = 72.0 / ax.figure.dpi
    box_w = ax.bbox.width * points_per_pixel / x_span * BOX_W
    box_h = ax.bbox.height * points_per_pixel / y_span * BOX_H
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


def _new_axes(width: float, height: float) -> Axes:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, facecolor="none")
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
        ax.clear()
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
            ha="center", va="center", fontsize=8, color=_FREE_TEXT, wrap=True)
    return ax.figure


def _highlight_ids(highlight: Any) -> set[int]:
    """``highlight`` (None, one node id, or several) as a set of ids; anything else refused."""
    if highlight is None:
        return set()
    single = isinstance(highlight, Integral | float | str) or not isinstance(highlight, Iterable)
    items = [highlight] if single else list(highlight)
    for item in items:
        if not isinstance(item, Integral) or isinstance(item, bool):
            raise TypeError(
                f"highlight={str(item)[:30]!r} is not a node id; pass a whole number such as 2 "
                "(an id from graph.nodes), a list of them, or None."
            )
    return {int(item) for item in items}


def draw_graph(
    output_or_graph: Any,
    highlight: int | Iterable[int] | None = None,
    ax: Axes | None = None,
    max_nodes: int = 150,
) -> Figure:
    """Draw a computational graph left to right (leaves → output) with matplotlib alone.

    ``output_or_graph`` is a tensor, an engine ``Value``, a ``Derivation`` or a
    :class:`Graph` (a tensor or a ``Value`` with more than
    :data:`~autograd_lab.graph.NODE_CAP` nodes raises ``GraphTooLarge``). Each node is a
    box with its label (and value / grad when known); arrows go from input to consumer, in
    the direction of the forward pass — backward runs them in reverse, multiplying local
    derivatives (``dz/dx = dz/dy · dy/dx``). ``highlight`` (a node id or ids) fills those
    boxes Okabe–Ito orange with a thick vermillion outline (colour-blind safe; the figure
    background is transparent, boxes carry their own light fill and black text, arrows are
    mid grey, so it reads the same on light and dark themes).

    With ``ax=None`` a new ``matplotlib.figure.Figure`` is made (no pyplot state); otherwise
    ``ax`` is cleared and drawn into, which is how widgets redraw quickly. Graphs with more
    than ``max_nodes`` nodes are drawn as a collapsed summary (leaf count, op counts by kind)
    that says so. Returns the Figure. A ``highlight`` that is not a node id, or an ``ax``
    that is not an Axes, raises one sentence saying what to pass.
    """
    marked = _highlight_ids(highlight)
    if ax is not None:
        from matplotlib.axes import Axes as AxesType

        if not isinstance(ax, AxesType):
            raise TypeError(
                f"ax must be a matplotlib Axes to draw into (e.g. ax = fig.add_subplot()), or "
                f"None for a new figure, not a {type(ax).__name__}."
            )
    graph = autograd_graph(output_or_graph)
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

    layout = graph_layout(graph)
    if ax is None:
        ax = _new_axes(min(max(1.9 * layout.n_layers, 2.5), 24.0),
                       min(max(0.95 * layout.n_rows, 1.5), 16.0))
    else:
        ax.clear()
    ax.set_axis_off()
    ax.set_xlim(-0.5, layout.n_layers - 0.5)
    ax.set_ylim(-layout.top, layout.top)
    texts = ["\n".join(box.lines) for box in layout.boxes]
    cache: dict[tuple[float, float, float], float] = {}

    def fit(axes: Axes) -> float:
        key = (axes.bbox.width, axes.bbox.height, axes.figure.dpi)
        if key not in cache:
            cache.clear()
            cache[key] = _fit_fontsize(axes, layout.n_layers, 2 * layout.top, texts)
        return cache[key]

    fontsize = fit(ax)
    for box, text in zip(layout.boxes, texts, strict=True):
        hot = box.node.id in marked
        ax.add_patch(mpatches.FancyBboxPatch(
            (box.x - BOX_W / 2, box.y - BOX_H / 2), BOX_W, BOX_H,
            boxstyle="round,pad=0,rounding_size=0.08",
            fc=HIGHLIGHT_FILL if hot else _FILL.get(box.node.kind, "#ffffff"),
            ec=HIGHLIGHT_EDGE if hot else _EDGE.get(box.node.kind, "#555555"),
            lw=3.5 if hot else 1.0, zorder=2,
        ))
        ax.add_artist(_fitted_text(
            box.x, box.y, text, fit, ha="center", va="center", fontsize=fontsize,
            color="black", fontweight="bold" if hot else "normal", zorder=3, clip_on=True,
        ))
    for arrow in layout.arrows:
        if len(arrow.points) > 2:
            xs, ys = [p[0] for p in arrow.points[:-1]], [p[1] for p in arrow.points[:-1]]
            ax.plot(xs, ys, color=_ARROW, lw=1.1, zorder=1, solid_capstyle="butt")
        ax.annotate("", xy=arrow.points[-1], xytext=arrow.points[-2],
                    arrowprops={"arrowstyle": "-|>", "color": _ARROW, "lw": 1.1, "shrinkA": 0,
                                "shrinkB": 1}, zorder=1)
        if arrow.count > 1:
            xm, ym = arrow.middle
            ax.add_artist(_fitted_text(
                xm, ym + 0.06, f"×{arrow.count}", fit, ha="center", va="bottom",
                fontsize=fontsize, color=_FREE_TEXT, fontweight="bold", zorder=3,
            ))
    return ax.figure
