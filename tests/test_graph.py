"""autograd_graph and draw_graph."""

from __future__ import annotations

import pytest
import torch

from autograd_lab import Graph, GraphNode, autograd_graph, draw_graph
from autograd_lab.graph import NODE_CAP, GraphTooLarge, too_large_message


def test_import_does_not_load_matplotlib(import_probe):
    code = ("import sys, autograd_lab, autograd_lab.graph, autograd_lab.drawing; "
            "autograd_lab.draw_graph; print('matplotlib' in sys.modules)")
    result = import_probe(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_sin_square_graph():
    x = torch.tensor(3.0, requires_grad=True)
    out = torch.sin(x**2)
    g = autograd_graph(out, names={"x": x})
    assert [(n.kind, n.label) for n in g.nodes] == [
        ("leaf", "x"), ("op", "PowBackward0"), ("op", "SinBackward0"), ("output", "output")]
    assert [n.id for n in g.nodes] == [0, 1, 2, 3]
    assert g.edges == [(0, 1), (1, 2), (2, 3)]
    assert g.nodes[0].value == 3.0 and g.nodes[0].grad is None
    assert g.nodes[-1].value == pytest.approx(torch.sin(torch.tensor(9.0)).item())
    assert autograd_graph(out).nodes[0].label == "leaf"


def test_neuron_graph_two_leaves_constant_skipped():
    w = torch.tensor(1.0, requires_grad=True)
    b = torch.tensor(0.0, requires_grad=True)
    x = torch.tensor(6.7)  # no grad: not a node
    z = w * x + b
    z.backward(retain_graph=True)
    g = autograd_graph(torch.sigmoid(z), names={"w": w, "b": b})
    by_label = {n.label: n for n in g.nodes}
    assert set(by_label) == {"w", "b", "MulBackward0", "AddBackward0", "SigmoidBackward0",
                             "output"}
    assert by_label["w"].grad == pytest.approx(6.7)  # the leaf's .grad, if any
    ids = {n.label: n.id for n in g.nodes}
    assert sorted(g.edges) == sorted([
        (ids["w"], ids["MulBackward0"]), (ids["MulBackward0"], ids["AddBackward0"]),
        (ids["b"], ids["AddBackward0"]), (ids["AddBackward0"], ids["SigmoidBackward0"]),
        (ids["SigmoidBackward0"], ids["output"])])
    for a, c in g.edges:
        assert a < c  # inputs before consumers


def test_reused_leaf_gives_two_edges_and_vector_values():
    v = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    g = autograd_graph(v * v)
    assert g.edges.count((0, 1)) == 2
    assert g.nodes[0].value == "[1, 2, 3]"
    assert g.nodes[-1].value == "[1, 4, 9]"


def test_deterministic_ids():
    def build():
        a = torch.tensor(1.0, requires_grad=True)
        b = torch.tensor(2.0, requires_grad=True)
        return autograd_graph(torch.exp(a * b) + torch.sin(a) - b**2)

    assert build() == build()


def test_chain_up_to_the_node_cap_and_one_sentence_beyond():
    x = torch.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(NODE_CAP - 1):  # NODE_CAP - 1 MulBackward0 nodes and one AccumulateGrad
        y = y * 1.0
    g = autograd_graph(y)
    assert len(g.nodes) == NODE_CAP + 1 and len(g.edges) == NODE_CAP
    assert g.nodes[0].kind == "leaf" and g.nodes[-1].kind == "output"
    deeper = y * 1.0
    for walker in (autograd_graph, draw_graph):
        with pytest.raises(GraphTooLarge) as info:
            walker(deeper)
        assert str(info.value) == too_large_message()
        assert str(info.value).startswith(f"this graph has more than {NODE_CAP:,} nodes; ")


def test_leaf_output():
    x = torch.tensor(2.0, requires_grad=True)
    g = autograd_graph(x)
    assert [n.kind for n in g.nodes] == ["leaf", "output"] and g.edges == [(0, 1)]


def test_derivation_duck_typed():
    expected = Graph(nodes=[GraphNode(0, "leaf", "x", 2.0)], edges=[])

    class FakeDerivation:
        def graph(self):
            return expected

    assert autograd_graph(FakeDerivation()) is expected


def test_errors():
    with pytest.raises(ValueError, match="requires_grad=True"):
        autograd_graph(torch.tensor(2.0) ** 2)
    with pytest.raises(TypeError, match="tensor"):
        autograd_graph(2.0)
    x = torch.tensor(2.0, requires_grad=True)
    with pytest.raises(TypeError, match="names"):
        autograd_graph(x**2, names={"x": 2.0})


def _texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_draw_graph_labels_and_highlight():
    from matplotlib.figure import Figure

    from autograd_lab.drawing import HIGHLIGHT_EDGE

    x = torch.tensor(3.0, requires_grad=True)
    out = torch.exp(torch.sin(x**2))
    fig = draw_graph(out, highlight=2)
    assert isinstance(fig, Figure)
    texts = _texts(fig)
    assert any(t.startswith("SinBackward0") for t in texts)
    assert any(t.startswith("leaf") and "= 3" in t for t in texts)
    from matplotlib.colors import to_hex

    thick = [p for p in fig.axes[0].patches if p.get_linewidth() > 2]
    assert len(thick) == 1 and to_hex(thick[0].get_edgecolor()) == HIGHLIGHT_EDGE


def test_draw_graph_into_given_axes_and_png():
    import io

    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.add_subplot()
    graph = Graph(
        nodes=[GraphNode(0, "leaf", "x", 2.0, 4.0), GraphNode(1, "op", "v1 = x**2", 4.0),
               GraphNode(2, "output", "z", 4.0)],
        edges=[(0, 1), (1, 2)],
    )
    assert draw_graph(graph, highlight=[0, 1], ax=ax) is fig
    assert draw_graph(graph, ax=ax) is fig  # redraw clears the axes
    assert sum(t.get_text().startswith("x") for t in ax.texts) == 1
    (stray,) = ax.plot([0, 1], [0, 1])  # something else drawn in between is cleared too
    draw_graph(graph, ax=ax)
    assert stray not in ax.lines and sum(t.get_text() == "z\n= 4" for t in ax.texts) == 1
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    assert buffer.getvalue().startswith(b"\x89PNG")


def test_draw_graph_collapses_big_graphs():
    x = torch.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(200):
        y = torch.sin(y)
    fig = draw_graph(y, max_nodes=150)
    text = " ".join(_texts(fig))
    assert "Collapsed summary" in text and "202 nodes" in text and "SinBackward0 ×200" in text


def test_draw_graph_bad_highlight():
    x = torch.tensor(1.0, requires_grad=True)
    with pytest.raises(ValueError, match="highlight id 9"):
        draw_graph(x * 2, highlight=9)


def test_labels_refit_when_the_figure_is_resized():
    import io

    from matplotlib.figure import Figure

    x = torch.tensor(3.0, requires_grad=True)
    fig = Figure(figsize=(8, 2), dpi=100)
    ax = fig.add_subplot()
    draw_graph(torch.sigmoid(torch.sin(x**2)), ax=ax)
    label = next(t for t in ax.texts if t.get_text() == "SigmoidBackward0")
    fig.savefig(io.BytesIO(), format="png")
    wide = label.get_fontsize()
    fig.set_size_inches(6, 2)
    fig.savefig(io.BytesIO(), format="png")
    assert label.get_fontsize() < wide
    # it still fits its box: rendered width no wider than the box (one layer is 1 unit)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    text_px = label.get_window_extent(renderer).width
    layer_px = ax.bbox.width / (ax.get_xlim()[1] - ax.get_xlim()[0])
    assert text_px < 0.78 * layer_px


# --------------------------------------------------------------------------- engine Values


class StandInValue:
    """The fields autograd_lab.engine.Value has (micrograd's): data, grad, _prev, _op."""

    def __init__(self, data, _prev=(), _op=""):
        self.data, self.grad, self._prev, self._op = data, 0.0, tuple(_prev), _op
        self._backward = lambda: None

    def __mul__(self, other):
        out = StandInValue(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __add__(self, other):
        out = StandInValue(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def backward(self):
        topo, seen, stack = [], set(), [(self, False)]
        while stack:
            v, done = stack.pop()
            if done:
                topo.append(v)
            elif id(v) not in seen:
                seen.add(id(v))
                stack.append((v, True))
                stack.extend((p, False) for p in reversed(v._prev))
        self.grad = 1.0
        for v in reversed(topo):
            v._backward()


def test_value_graph_has_torch_s_shape_and_grads():
    a, b = StandInValue(2.0), StandInValue(-3.0)
    out = a * b + a
    out.backward()
    ta = torch.tensor(2.0, requires_grad=True)
    tb = torch.tensor(-3.0, requires_grad=True)
    tout = ta * tb + ta
    tout.backward()
    g = autograd_graph(out, names={"a": a, "b": b})
    t = autograd_graph(tout, names={"a": ta, "b": tb})
    assert g.edges == t.edges
    assert [(n.kind, n.label) for n in g.nodes] == [
        ("leaf", "a"), ("leaf", "b"), ("op", "*"), ("op", "+"), ("output", "output")]
    assert [n.kind for n in g.nodes] == [n.kind for n in t.nodes]
    leaves = {n.label: n for n in g.nodes if n.kind == "leaf"}
    assert leaves["a"].grad == ta.grad.item() and leaves["b"].grad == tb.grad.item()
    assert g.nodes[-1].value == tout.item() and g.nodes[2].value == -6.0


def test_value_graph_draws_and_stops_at_the_cap():
    x = StandInValue(1.0)
    y = x
    for _ in range(NODE_CAP - 1):
        y = y * x
    assert len(autograd_graph(y).nodes) == NODE_CAP + 1
    fig = draw_graph(x * x, highlight=1)
    assert any(t.startswith("*") for t in _texts(fig))
    with pytest.raises(GraphTooLarge, match=f"more than {NODE_CAP:,} nodes; "):
        draw_graph(y * x)
    with pytest.raises(TypeError, match="the Value it labels"):
        autograd_graph(x * x, names={"x": 1.0})


def test_value_graph_with_a_cycle_is_refused():
    x = StandInValue(1.0)
    y = x * x
    x._prev, x._op = (y,), "*"
    with pytest.raises(ValueError, match="cycle"):
        autograd_graph(y)


# --------------------------------------------------------------------------- bad input


def test_names_must_be_a_mapping():
    x = torch.tensor(2.0, requires_grad=True)
    with pytest.raises(TypeError, match=r"names must be a dict .* not a list; write e\.g\."):
        autograd_graph(x**2, names=["x"])


def test_draw_graph_bad_highlight_and_ax():
    x = torch.tensor(2.0, requires_grad=True)
    for bad in (1.5, "2", True, [0, 1.5]):
        with pytest.raises(TypeError, match="is not a node id; pass a whole number such as 2"):
            draw_graph(x**2, highlight=bad)
    with pytest.raises(TypeError, match=r"ax must be a matplotlib Axes .* not a str\."):
        draw_graph(x**2, ax="x")
    assert len(draw_graph(x**2, highlight=[0, 1]).axes[0].patches) == 3


def test_meta_and_complex_tensors_get_one_sentence():
    meta = torch.tensor(2.0, device="meta", requires_grad=True)
    with pytest.raises(ValueError, match="meta tensor .* create it with values on the CPU"):
        autograd_graph(meta * 2)
    with pytest.raises(ValueError, match="meta tensor"):
        draw_graph(meta * 2)
    z = torch.tensor(1 + 2j, requires_grad=True)
    with pytest.raises(TypeError, match=r"complex \(torch.complex64\), but the kit works"):
        autograd_graph(z * 2)
    with pytest.raises(TypeError, match="a leaf of this graph is complex"):
        autograd_graph((z * 2).abs())


def _rgba_png(fig):
    """The figure rendered as an RGBA array (what the PNG holds), via matplotlib's Agg."""
    import io

    from matplotlib.image import imread

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=50)
    buffer.seek(0)
    return imread(buffer)


def _contrast(rgb: tuple[float, float, float], background: tuple[float, float, float]) -> float:
    """WCAG contrast ratio of two sRGB colours (0..1 channels)."""

    def lum(c: tuple[float, float, float]) -> float:
        lin = [v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4 for v in c]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((lum(rgb), lum(background)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_graph_drawing_has_no_white_box_on_a_dark_theme():
    """The background is transparent; arrows and free text read on white and on dark grey."""
    from matplotlib.colors import to_rgb

    from autograd_lab import drawing

    x = torch.tensor(3.0, requires_grad=True)
    fig = draw_graph(torch.sin(x**2))
    assert fig.get_facecolor()[3] == 0.0
    pixels = _rgba_png(fig)
    assert pixels[0, 0, 3] == 0.0 and pixels[-1, -1, 3] == 0.0  # corners: see-through
    # JupyterLab's light (#ffffff) and dark (#111111) backgrounds
    for colour in (drawing._ARROW, drawing._FREE_TEXT):
        for page in ((1.0, 1.0, 1.0), to_rgb("#111111")):
            assert _contrast(to_rgb(colour), page) >= 3.0, (colour, page)
