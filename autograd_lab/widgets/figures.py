"""Figures for the widgets: one Figure per widget (no pyplot), rendered to PNG bytes.

Every widget draws into ONE :class:`matplotlib.figure.Figure` it owns (no pyplot global
state) and renders it explicitly to PNG bytes, so the picture is visible in JupyterLab,
Colab and in tests that run outside a kernel.

Light and dark themes: the figure and axes backgrounds are transparent (no white box), and
lines, text and axes use mid-tone colours that read on a white and on a near-black page
(:data:`GREY` for text and axes, :data:`LINE_BLUE` / :data:`LINE_RED` / :data:`LINE_GREEN`).
"""

from __future__ import annotations

import struct
import warnings
import zlib
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

import numpy as np
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from autograd_lab.drawing import draw_graph
from autograd_lab.widgets import text_cache
from autograd_lab.widgets.text_cache import CachedTextRenderer

#: PNG files start with these eight bytes.
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

#: Text, ticks and spines: mid grey, contrast >= 3:1 on both white and JupyterLab's dark grey.
GREY = "#8c8c8c"
#: Lines and bars: mid-tone Okabe–Ito-like hues, readable on light and dark backgrounds.
LINE_BLUE = "#3b8fd9"
LINE_RED = "#e0672b"
LINE_GREEN = "#009e73"

#: dpi of every widget figure: small enough to render in a few tens of milliseconds.
DPI = 80


class _Canvas(FigureCanvasAgg):
    """An Agg canvas whose renderer draws text from kept glyph bitmaps and layouts
    (:class:`~autograd_lab.widgets.text_cache.CachedTextRenderer`, the same pixels) and
    whose renderers share one mathtext parser (and so its cache of parsed labels such as a
    log axis's ``10^{2}``): a new widget parses and rasterises nothing another already did.
    Parsing depends only on the text, dpi and font, so the pixels are the same."""

    _shared_parser: Any = None

    def get_renderer(self) -> Any:
        if not text_cache.SUPPORTED:  # an older matplotlib: its own renderer
            renderer = super().get_renderer()
        else:  # FigureCanvasAgg.get_renderer, with the caching renderer
            w, h = self.get_width_height(physical=True)
            key = w, h, self.figure.dpi
            if self._lastKey != key:
                self.renderer = CachedTextRenderer(w, h, self.figure.dpi)
                self._lastKey = key
            renderer = self.renderer
        # the first renderer's parser (of the kind this matplotlib's Agg renderer uses)
        if _Canvas._shared_parser is None:
            _Canvas._shared_parser = renderer.mathtext_parser
        renderer.mathtext_parser = _Canvas._shared_parser
        return renderer


def new_figure(width: float, height: float, dpi: int = DPI) -> Figure:
    """A Figure with its own Agg canvas (no pyplot, nothing global but the mathtext cache)."""
    fig = Figure(figsize=(width, height), dpi=dpi, facecolor="none")
    _Canvas(fig)
    return fig


def style_axes(ax: Any) -> None:
    """Transparent axes with grey spines, ticks and labels (light and dark themes)."""
    ax.set_facecolor("none")
    for spine in ax.spines.values():
        spine.set_color(GREY)
    ax.tick_params(colors=GREY, labelsize=7)
    ax.xaxis.label.set_color(GREY)
    ax.yaxis.label.set_color(GREY)
    ax.title.set_color(GREY)


def pin_layout(fig: Figure) -> None:
    """Place every axis label once, as a draw would, then keep it there.

    Matplotlib re-measures every tick label on each draw to place the axis labels below
    (or beside) them, a large part of a redraw. The widgets' tick labels keep their height
    (the layout of one line of text is the same height whatever the digits), so the places
    found once stay right; titles are pinned by ``set_title(..., y=1.0)``.
    """
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            axis.get_tightbbox(renderer)  # places the label as a draw would (text layout only)
            x_disp, y_disp = axis.label.get_transform().transform(axis.label.get_position())
            axis.set_label_coords(*ax.transAxes.inverted().transform((x_disp, y_disp)))
            _measure_only_for_offset(axis)


def _measure_only_for_offset(axis: Any) -> None:
    """With its label pinned, an axis's draw measures every tick label (text layout) only
    to place its offset text (e.g. ``1e6`` beside the ticks); an empty offset text draws
    nothing wherever it is, so while it is empty that measuring is skipped (the pixels are
    the same; outside a draw, e.g. ``get_tightbbox``, the labels are measured as always)."""
    measure, draw = axis._get_ticklabel_bboxes, axis.draw
    drawing = [False]

    def ticklabel_bboxes(ticks: Any, renderer: Any) -> Any:
        if drawing[0] and not axis._autolabelpos and not axis.major.formatter.get_offset():
            return [], []
        return measure(ticks, renderer)

    def draw_axis(renderer: Any) -> None:
        drawing[0] = True
        try:
            draw(renderer)
        finally:
            drawing[0] = False

    axis._get_ticklabel_bboxes, axis.draw = ticklabel_bboxes, draw_axis


def figure_png(fig: Figure) -> bytes:
    """Render ``fig`` to PNG bytes (the canvas draws, then encodes)."""
    fig.canvas.draw()
    return canvas_png(fig)


def canvas_png(fig: Figure) -> bytes:
    """Encode what ``fig``'s canvas holds now as PNG bytes (no draw)."""
    return encode_png(np.asarray(fig.canvas.buffer_rgba()), fig.dpi)


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def encode_png(pixels: np.ndarray, dpi: float) -> bytes:
    """PNG bytes of an ``(height, width, 4)`` uint8 RGBA array, rows top to bottom.

    Every row unfiltered, zlib level 1, and the figure's dpi (``pHYs``): several times
    faster than Pillow's adaptive filters for the same size on these flat plots; decoding
    gives back exactly ``pixels``.
    """
    height, width, _ = pixels.shape
    raw = np.zeros((height, 1 + 4 * width), dtype=np.uint8)  # filter byte 0: none
    raw[:, 1:] = pixels.reshape(height, 4 * width)
    per_metre = round(dpi / 0.0254)
    return b"".join([
        PNG_MAGIC,
        _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)),
        _chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),
        _chunk(b"IDAT", zlib.compress(raw.tobytes(), 1)),
        _chunk(b"IEND", b""),
    ])


class Backdrop:
    """A figure whose unchanging part is drawn once; each PNG redraws only ``moving``.

    The first :meth:`png` draws the figure without the ``moving`` artists (animated for
    that one draw) and keeps that picture; every PNG starts from a copy of it and draws the
    ``moving`` artists over it, in the given order. That order must be the order a full
    draw uses (by zorder) wherever two of them overlap, and nothing kept may be drawn over
    a moving artist: then the pixels are exactly those of a full draw. A moving item may be
    a :class:`KeptTop` (a child of an earlier moving axes, e.g. its title): it stays out of
    that axes' draw and is drawn, or pasted, at its own place in the order.
    """

    def __init__(self, fig: Figure, moving: Sequence[Artist | KeptTop]) -> None:
        self.fig = fig
        self.moving = list(moving)
        self._kept: Any = None

    def png(self) -> bytes:
        canvas = self.fig.canvas
        artists = [m.artist if isinstance(m, KeptTop) else m for m in self.moving]
        tops = [m.artist for m in self.moving if isinstance(m, KeptTop)]
        if self._kept is None:
            for artist in artists:
                artist.set_animated(True)
            try:
                canvas.draw()
            finally:
                for artist in artists:
                    artist.set_animated(False)
            self._kept = canvas.copy_from_bbox(self.fig.bbox)
        else:
            canvas.restore_region(self._kept)
        renderer = canvas.get_renderer()
        for artist in tops:
            artist.set_animated(True)
        try:
            for item in self.moving:
                if isinstance(item, KeptTop):
                    item.artist.set_animated(False)
                    item.draw(renderer)
                else:
                    item.draw(renderer)
        finally:
            for artist in tops:
                artist.set_animated(False)
        return canvas_png(self.fig)


class KeptTop:
    """An artist drawn last in a full draw (nothing over it), kept as pixels per look.

    Drawn over the same pixels, an artist that looks the same gives the same pixels; so the
    pixels under it and the result are kept, and pasted instead of a draw whenever the
    pixels under it are the same again (e.g. a legend over an empty corner). ``look()`` must
    name everything its pixels depend on (e.g. a legend's texts; its place is fixed). A look
    seen for the first time is only drawn; from its second time on it is measured and kept
    (so a look that changes every time costs nothing extra).
    """

    def __init__(self, fig: Figure, artist: Artist, look: Callable[[], Hashable],
                 extent: Callable[[Any], Bbox] | None = None,
                 apart: Callable[[Any], bool] | None = None) -> None:
        self.fig = fig
        self.artist = artist
        self.look = look
        #: where it paints (default: its window extent); ``apart(renderer)``: False when
        #: something a full draw paints after it (and here before it) comes near it
        self.extent = extent or artist.get_window_extent
        self.apart = apart
        self._kept: dict[Hashable, tuple[tuple[int, int, int, int], np.ndarray, np.ndarray]] = {}
        self._seen: set[Hashable] = set()  # looks drawn once (a few, most recent)

    def late(self, renderer: Any) -> bool:
        """True when this top should be left out of the figure's draw and drawn (or pasted)
        after it: its look was seen before, and it is apart. Else the figure draws it in
        place, and its look is noted."""
        key = self.look()
        if key not in self._kept and key not in self._seen:
            self._note(key)
            return False
        return self.apart is None or self.apart(renderer)

    def _note(self, key: Hashable) -> None:
        if len(self._seen) >= 16:
            self._seen.clear()
        self._seen.add(key)

    def draw(self, renderer: Any) -> None:
        """Draw the artist (last), or paste its kept pixels where that is the same."""
        if not self.artist.get_visible():
            return
        buffer = np.asarray(self.fig.canvas.buffer_rgba())
        key = self.look()
        kept = self._kept.get(key)
        if kept is not None:
            (r0, r1, c0, c1), under, result = kept
            if np.array_equal(buffer[r0:r1, c0:c1], under):
                buffer[r0:r1, c0:c1] = result
                return
        if key not in self._kept and key not in self._seen:  # first time: draw only
            self._note(key)
            self.artist.draw(renderer)
            return
        box = self.extent(renderer).padded(2.0)  # + antialiasing
        height, width = buffer.shape[:2]
        c0, c1 = max(0, int(np.floor(box.x0))), min(width, int(np.ceil(box.x1)))
        r0, r1 = max(0, height - int(np.ceil(box.y1))), min(height, height - int(np.floor(box.y0)))
        under = buffer[r0:r1, c0:c1].copy()
        self.artist.draw(renderer)
        inside = box.x0 >= 0 and box.y0 >= 0 and box.x1 <= width and box.y1 <= height
        if inside and r0 < r1 and c0 < c1:
            if len(self._kept) >= 4:  # a few looks (e.g. after Reset, after Run)
                del self._kept[next(iter(self._kept))]
            self._kept[key] = ((r0, r1, c0, c1), under, buffer[r0:r1, c0:c1].copy())


class AxisUnderlay:
    """One axis drawn once (until :meth:`invalidate`); each PNG draws the rest over a copy.

    For a figure whose x axis (ticks, tick labels, label) stays while the data change: the
    axis is drawn alone and kept, then every PNG draws the figure without it on top. Right
    when nothing drawn before the axis in a full draw overlaps its pixels. ``tops`` are the
    artists drawn last in a full draw, in that order (:class:`KeptTop`: pasted while they
    look the same over the same pixels); nothing else may overlap them.
    """

    def __init__(self, fig: Figure, axis: Any, tops: Sequence[KeptTop] = ()) -> None:
        self.fig = fig
        self.axis = axis
        self.tops = list(tops)
        self._kept: Any = None

    def invalidate(self) -> None:
        """The axis changed (its limits or ticks): draw it again on the next PNG."""
        self._kept = None

    def png(self) -> bytes:
        canvas = self.fig.canvas
        renderer = canvas.get_renderer()
        if self._kept is None:
            renderer.clear()
            self.axis.draw(renderer)
            self._kept = canvas.copy_from_bbox(self.fig.bbox)
        else:
            canvas.restore_region(self._kept)
        # a top not late now (new look, or not apart) is drawn in place by the figure's draw
        tops = [top for top in self.tops if top.late(renderer)]
        later = [self.axis, *(top.artist for top in tops)]
        for artist in later:
            artist.set_animated(True)
        try:
            self.fig.draw(renderer)
        finally:
            for artist in later:
                artist.set_animated(False)
        for top in tops:
            top.draw(renderer)
        return canvas_png(self.fig)


def pixel_width(fig: Figure) -> str:
    """The figure's rendered width as a CSS length (so the image shows at its own size)."""
    return f"{round(fig.get_size_inches()[0] * fig.dpi)}px"


def fit_graph_figure(fig: Figure, ax: Any, inch_per_layer: float = 1.5,
                     inch_per_row: float = 1.0) -> None:
    """Size ``fig`` to the graph ``draw_graph`` just drew into ``ax`` (boxes keep their shape).

    ``draw_graph`` sets the axes limits to one unit per layer (x) and per row (y).
    """
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    width = min(max(inch_per_layer * abs(x1 - x0), 2.5), 10.0)
    height = min(max(inch_per_row * abs(y1 - y0), 1.2), 6.0)
    if tuple(fig.get_size_inches()) != (width, height):
        fig.set_size_inches(width, height)


class GraphPngCache:
    """PNGs of one widget's graph drawing, keyed by what is shown (e.g. the highlight).

    Owns the widget's one Figure; draws with :func:`autograd_lab.draw_graph` only when a
    key is new, so stepping back and forth costs no re-render. ``clear()`` after a new graph
    (or values): it forgets the PNGs. The pixels are composed by
    :class:`~autograd_lab.widgets.graph_tiles.GraphTiles`: only boxes whose look changed
    since the picture shown are drawn (text is most of a draw), the rest is copied, and the
    result equals ``draw_graph``'s full draw pixel for pixel.
    """

    def __init__(self, width: float, height: float) -> None:
        from autograd_lab.widgets.graph_tiles import GraphTiles

        self.fig = new_figure(width, height)
        self.ax = self.fig.add_axes((0.0, 0.0, 1.0, 1.0))
        self.tiles = GraphTiles(self.fig, self.ax)
        self._png: dict[Any, bytes] = {}
        self._width: dict[Any, str] = {}

    def clear(self) -> None:
        """Forget the PNGs (and every box's pixels except those of the picture shown)."""
        self._png.clear()
        self._width.clear()
        self.tiles.forget_unshown()

    def render(self, key: Any, graph: Any, highlight: Iterable[int]) -> tuple[bytes, str]:
        """``(png, css width)`` of ``graph`` with ``highlight`` drawn, for ``key``."""
        if key not in self._png:
            with warnings.catch_warnings():  # a name in a script the font lacks: boxes stay
                warnings.filterwarnings("ignore", "Glyph .* missing from font", UserWarning)
                marked = set(highlight)
                png = self.tiles.compose(graph, marked)
                if png is None:
                    draw_graph(graph, highlight=sorted(marked), ax=self.ax)
                    fit_graph_figure(self.fig, self.ax)
                    png = self.tiles.png(graph, marked)
                self._png[key] = png
            self._width[key] = pixel_width(self.fig)
        return self._png[key], self._width[key]
