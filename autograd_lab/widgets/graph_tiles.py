"""A graph picture composed from its boxes' pixels: only boxes whose look changed are drawn.

Between two steps of a stepping widget the graph keeps its shape (same nodes, same arrows,
same figure size); only some boxes change, in their highlight or their text. Text is most of
a matplotlib draw (every glyph is rendered one by one), so :class:`GraphTiles` keeps

- the **under-layer**: the figure drawn without its boxes and box texts (the arrows, drawn at
  ``zorder`` 1, below every box), once per graph shape and figure size;
- **tiles**: the pixels of one box's rectangle (its patch and its text drawn over the
  under-layer), keyed by everything that box's look depends on (text, font size and weight,
  fill, edge colour and width).

A picture is the under-layer with each box's tile pasted in its rectangle; boxes with no tile
yet are drawn (patches, then texts, the order of a full draw) over the under-layer first. The
``×n`` labels of repeated edges are drawn last, as in a full draw. This gives exactly the
pixels of a full draw provided no box paints outside its rectangle and the rectangles of two
boxes, or of a box and an ``×n`` label, never overlap: :meth:`GraphTiles.png` checks that and
otherwise draws the whole figure (``None`` is never returned; the picture is the same).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch
from matplotlib.transforms import Bbox

from autograd_lab.widgets.figures import encode_png

#: Pixels added around a box's patch (beyond half its edge width) and its text: antialiasing.
PAD_PX = 2.0

#: Tiles kept for one graph shape before old ones are dropped (memory stays bounded).
MAX_TILES = 400


class GraphTiles:
    """The pictures of one widget's graph ``Figure``, composed from kept box pixels.

    Call :meth:`png` right after ``draw_graph(graph, highlight, ax)`` has put the artists of
    one picture into the figure's single axes (and the figure has its final size), or
    :meth:`compose` first: a picture whose every box was drawn before in this shape (e.g.
    the one on screen again) needs no ``draw_graph`` at all.
    """

    def __init__(self, fig: Figure, ax: Any) -> None:
        self.fig = fig
        self.ax = ax
        self._shape: Any = None
        self._under: np.ndarray | None = None
        self._tiles: dict[Any, tuple[tuple[int, int, int, int], np.ndarray]] = {}
        self._shown: set[Any] = set()  # tile keys of the picture last made
        #: (graph content, box index, highlighted) -> tile key, for pictures already met
        self._known: dict[tuple[Any, int, bool], Any] = {}
        self._labelled: set[Any] = set()  # graph contents with ×n labels (always drawn)

    def forget_unshown(self) -> None:
        """Drop every tile except those of the picture last made."""
        self._tiles = {k: v for k, v in self._tiles.items() if k in self._shown}

    # -- the artists of one picture --------------------------------------------------------
    def _parts(self, n_nodes: int) -> tuple[list[Any], list[Any], list[Any]] | None:
        """(box patches, box texts, ×n labels) of what draw_graph drew, or None if the axes
        hold anything else (then only a full draw is safe)."""
        own = getattr(self.ax, "_autograd_lab_artists", None)
        if own is None or len(own) < 2 * n_nodes:
            return None
        present = [*self.ax.patches, *self.ax.texts, *self.ax.lines, *self.ax.collections,
                   *self.ax.images, *self.ax.artists]
        if len(present) != len(own):
            return None
        patches, texts = own[0:2 * n_nodes:2], own[1:2 * n_nodes:2]
        if not all(isinstance(p, FancyBboxPatch) and p.get_zorder() == 2 for p in patches):
            return None
        if not all(hasattr(t, "_fit") and t.get_zorder() == 3 for t in texts):
            return None
        rest = own[2 * n_nodes:]
        labels = [a for a in rest if a.get_zorder() == 3]
        if any(a.get_zorder() >= 2 for a in rest if a not in labels):
            return None
        return patches, texts, labels

    def _rects(self, renderer: Any, patches: list[Any], texts: list[Any], labels: list[Any],
               keys: list[Any]) -> list[tuple[int, int, int, int]] | None:
        """Each box's rectangle in buffer rows/columns ``(r0, r1, c0, c1)`` (a kept tile's
        own, else measured), or None when two overlap (or an ``×n`` label meets one), or one
        leaves the canvas."""
        height, width = renderer.height, renderer.width
        px_per_pt = self.fig.dpi / 72.0
        boxes: list[Bbox] = []
        for patch, text, key in zip(patches, texts, keys, strict=True):
            if key in self._tiles:
                r0, r1, c0, c1 = self._tiles[key][0]
                boxes.append(Bbox([[c0, height - r1], [c1, height - r0]]))
                continue
            grow = patch.get_linewidth() * px_per_pt / 2.0 + PAD_PX
            # a rounded box with pad=0 lies inside its rectangle (cheaper than its path)
            outline = patch.get_bbox().transformed(patch.get_transform()).padded(grow)
            ink = text.get_window_extent(renderer).padded(PAD_PX)
            boxes.append(Bbox.union([outline, ink]))
        others = [label.get_window_extent(renderer).padded(PAD_PX) for label in labels]
        rects = []
        for i, box in enumerate(boxes):
            x0, x1 = int(np.floor(box.x0)), int(np.ceil(box.x1))
            y0, y1 = int(np.floor(box.y0)), int(np.ceil(box.y1))
            if x0 < 0 or y0 < 0 or x1 > width or y1 > height:
                return None
            grown = Bbox([[x0, y0], [x1, y1]])
            if any(grown.overlaps(b) for b in boxes[i + 1:]) or any(
                    grown.overlaps(o) for o in others):
                return None
            rects.append((int(height) - y1, int(height) - y0, x0, x1))
        for i, a in enumerate(rects):  # integer rectangles, checked again after rounding
            for b in rects[i + 1:]:
                if a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]:
                    return None
        return rects

    @staticmethod
    def _key(index: int, patch: Any, text: Any) -> tuple[Any, ...]:
        return (index, text.get_text(), text.get_fontsize(), text.get_fontweight(),
                text.get_color(), tuple(patch.get_facecolor()), tuple(patch.get_edgecolor()),
                patch.get_linewidth())

    # -- pictures ---------------------------------------------------------------------------
    @staticmethod
    def content(graph: Any) -> tuple[Any, ...]:
        """What a graph picture's boxes depend on, besides the highlight: shape and texts."""
        from autograd_lab.drawing import box_text

        return (tuple(n.id for n in graph.nodes), tuple(graph.edges),
                tuple(box_text(n) for n in graph.nodes))

    def compose(self, graph: Any, highlight: set[int]) -> bytes | None:
        """PNG bytes of ``graph`` with ``highlight`` from kept tiles alone (no draw_graph,
        nothing drawn), or None when some box's look in it was never drawn in this shape."""
        content = self.content(graph)
        if content in self._labelled or self._under is None:
            return None
        keys = []
        for i, node in enumerate(graph.nodes):
            key = self._known.get((content, i, node.id in highlight))
            if key is None or key not in self._tiles:
                return None
            keys.append(key)
        buffer = np.asarray(self.fig.canvas.buffer_rgba())
        if buffer.shape != self._under.shape:
            return None
        return self._paste(buffer, keys)

    def _paste(self, buffer: np.ndarray, keys: list[Any]) -> bytes:
        assert self._under is not None
        buffer[...] = self._under
        for key in keys:
            (r0, r1, c0, c1), pixels = self._tiles[key]
            buffer[r0:r1, c0:c1] = pixels
        self._shown = set(keys)
        return encode_png(buffer, self.fig.dpi)

    def png(self, graph: Any, highlight: set[int]) -> bytes:
        """PNG bytes of the figure as drawn now (exactly a full draw's pixels); ``graph`` and
        ``highlight`` are what ``draw_graph`` was just given."""
        canvas = self.fig.canvas
        ready = self._prepare(graph, highlight)
        if ready is None:
            self._forget_shape()
            canvas.draw()
            return encode_png(np.asarray(canvas.buffer_rgba()), self.fig.dpi)
        renderer, keys, labels = ready
        buffer = np.asarray(canvas.buffer_rgba())
        if not labels:
            return self._paste(buffer, keys)
        assert self._under is not None
        buffer[...] = self._under
        for key in keys:
            (r0, r1, c0, c1), pixels = self._tiles[key]
            buffer[r0:r1, c0:c1] = pixels
        for label in labels:  # drawn last in a full draw too
            label.draw(renderer)
        self._shown = set(keys)
        return encode_png(buffer, self.fig.dpi)

    def _prepare(self, graph: Any,
                 highlight: set[int]) -> tuple[Any, list[Any], list[Any]] | None:
        """Tiles for every box of the picture drawn now: ``(renderer, tile keys, ×n labels)``,
        or None when the picture must be drawn whole."""
        renderer = self.fig.canvas.get_renderer()
        parts = self._parts(len(graph.nodes))
        if parts is None:
            return None
        patches, texts, labels = parts
        for text in [*texts, *labels]:  # the size a draw gives them (FitText.draw does this)
            text.set_fontsize(text._fit(self.ax))
        shape = (renderer.width, renderer.height, self.fig.dpi, self.ax.get_xlim(),
                 self.ax.get_ylim(), tuple(n.id for n in graph.nodes), tuple(graph.edges))
        if shape != self._shape:
            self._new_shape(shape, [*patches, *texts, *labels])
        keys = [self._key(i, p, t) for i, (p, t) in enumerate(zip(patches, texts, strict=True))]
        rects = self._rects(renderer, patches, texts, labels, keys)
        if rects is None:
            return None
        self._draw_missing(renderer, keys, rects, patches, texts)
        content = (shape[5], shape[6], tuple(t.get_text() for t in texts))
        if labels:
            self._labelled.add(content)
        if len(self._known) > 4 * MAX_TILES:  # e.g. many slider values: start again
            self._known.clear()
            self._labelled.clear()
        for i, node in enumerate(graph.nodes):
            self._known[(content, i, node.id in highlight)] = keys[i]
        return renderer, keys, labels

    def _forget_shape(self) -> None:
        """Nothing kept stays usable: the next picture starts again from a full draw."""
        self._shape = self._under = None
        self._tiles.clear()
        self._shown.clear()
        self._known.clear()
        self._labelled.clear()

    def _new_shape(self, shape: Any, boxes: list[Any]) -> None:
        """Draw the under-layer: the whole figure with the boxes, texts and labels left out."""
        for artist in boxes:
            artist.set_animated(True)
        try:
            self.fig.canvas.draw()
        finally:
            for artist in boxes:
                artist.set_animated(False)
        self._forget_shape()
        self._under = np.asarray(self.fig.canvas.buffer_rgba()).copy()
        self._shape = shape

    def _draw_missing(self, renderer: Any, keys: list[Any], rects: list[Any],
                      patches: list[Any], texts: list[Any]) -> None:
        """Draw the boxes that have no tile yet over the under-layer; keep their tiles."""
        missing = [i for i, key in enumerate(keys) if key not in self._tiles]
        if not missing:
            return
        if len(self._tiles) + len(missing) > MAX_TILES:
            self._tiles = {k: v for k, v in self._tiles.items() if k in self._shown}
        buffer = np.asarray(self.fig.canvas.buffer_rgba())
        assert self._under is not None
        buffer[...] = self._under
        for i in missing:  # as in a full draw: every patch (zorder 2), then every text (3)
            patches[i].draw(renderer)
        for i in missing:
            texts[i].draw(renderer)
        for i in missing:
            r0, r1, c0, c1 = rects[i]
            self._tiles[keys[i]] = (rects[i], buffer[r0:r1, c0:c1].copy())
