"""Text for the widget figures, rasterised once: an Agg renderer that keeps glyph bitmaps.

Most of a widget redraw is matplotlib's text: for every string drawn it lays the string out
with FreeType (``FT2Font._layout``, tens of microseconds per glyph, hinting included), then
renders each glyph to a bitmap at its exact sub-pixel place (``_render_glyph``) and blends
that bitmap into the canvas in the colour of the graphics context (``draw_text_image``).
Tick labels, box labels and legends repeat from draw to draw, so :class:`CachedTextRenderer`
keeps what does not depend on where or in which colour a string is drawn:

- **glyph bitmaps**, keyed by font, size, dpi, glyph, transform matrix (angle, slant,
  stretch), the glyph origin's *fraction of a pixel* (in FreeType's 1/64 units), hinting
  flags and antialiasing. FreeType places a glyph by translating its outline; moved by a
  whole number of pixels (a multiple of 64 units) the outline covers exactly the same parts
  of each pixel, so the bitmap is the same, shifted. The colour is applied when the bitmap
  is blended (``draw_text_image`` reads it from the graphics context), so one bitmap serves
  every colour. Each glyph is still blended on its own, in matplotlib's order: the pixels
  are exactly those of ``RendererAgg`` (``tests/test_text_cache.py`` compares byte for byte);
- **string layouts** (the glyphs of a string and their offsets) and string **metrics**
  (width, height, descent), keyed by font object, size, dpi, string and hinting flags: the
  same calls FreeType would make again give the same numbers;
- **the font** of a ``FontProperties`` (``get_font(fontManager._find_fonts_by_props(prop))``,
  some tens of microseconds, asked several times per text per draw), keyed by the
  properties' values and every setting that lookup reads (the ``font.*`` rcParams, the
  ``MPL_IGNORE_SYSTEM_FONTS`` variable, the fonts installed, the thread);
- **line-height metrics** of a font (ascent, descent, line gap from its ``OS/2`` / ``hhea``
  tables), which ``Text._get_layout`` otherwise reads from the font file's tables for every
  text on every draw; the same formula as ``Text._get_layout`` (which asks a renderer for
  them through ``_get_font_height_metrics`` when it has that method).

Every cache is bounded (least recently used entries are dropped) and global, so widgets
share what one of them rasterised. Mathtext uses the same glyph cache (its parse is cached
by the shared parser, see :mod:`autograd_lab.widgets.figures`).
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Hashable, Iterable
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.backends.backend_agg import RendererAgg, get_hinting_flag
from matplotlib.font_manager import fontManager, get_font
from matplotlib.ft2font import FT2Font

try:
    from matplotlib.ft2font import RenderMode
except ImportError:  # matplotlib < 3.10 (e.g. an older Colab): the plain renderer is used
    RenderMode = None

#: Whether this matplotlib has the text internals the cache builds on (matplotlib 3.11's
#: per-glyph rendering). Where it does not (the package allows matplotlib >= 3.7, as Colab
#: may have), :mod:`autograd_lab.widgets.figures` uses matplotlib's own renderer instead.
SUPPORTED = RenderMode is not None and all(
    hasattr(owner, name) for owner, name in (
        (RendererAgg, "_draw_text_glyphs_and_boxes"), (FT2Font, "_layout"),
        (FT2Font, "_render_glyph"), (FT2Font, "_set_transform")))

#: Glyph bitmaps kept (each a few dozen bytes to a few hundred).
MAX_GLYPHS = 8192
#: String layouts, string metrics and font line heights kept (each).
MAX_STRINGS = 4096


class _Lru(dict):
    """A dict that keeps at most ``limit`` entries, dropping the least recently used."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def hit(self, key: Hashable) -> Any:
        """The value for ``key`` (now the most recently used), or None."""
        value = self.pop(key, None)
        if value is not None:
            self[key] = value
        return value

    def keep(self, key: Hashable, value: Any) -> Any:
        if len(self) >= self.limit:
            for old in list(self)[: self.limit // 4]:  # the oldest quarter, in one go
                del self[old]
        self[key] = value
        return value


_GLYPHS = _Lru(MAX_GLYPHS)
_LAYOUTS = _Lru(MAX_STRINGS)
_METRICS = _Lru(MAX_STRINGS)
_HEIGHTS = _Lru(MAX_STRINGS)
_FONTS = _Lru(MAX_STRINGS)
_MATRICES: dict[tuple[float, float, float, float], Any] = {}


def clear() -> None:
    """Forget every kept bitmap, layout and metric (e.g. after installing a font)."""
    for cache in (_GLYPHS, _LAYOUTS, _METRICS, _HEIGHTS, _FONTS, _MATRICES, _HINTING):
        cache.clear()


#: The rcParams that ``findfont`` and ``get_font`` read.
_FONT_RC = ("font.family", "font.style", "font.variant", "font.weight", "font.stretch",
            "font.size", "font.serif", "font.sans-serif", "font.cursive", "font.fantasy",
            "font.monospace", "text.kerning_factor", "font.enable_last_resort")
_IDENTITY = [[0x10000, 0], [0, 0x10000]]


_SETTINGS: list[Any] = [None, None]  # the font rcParams last read (lists copied), as a key


def _font_settings() -> Hashable:
    """The :data:`_FONT_RC` rcParams as a key (lists compared by content, not copied to
    tuples again while they stay the same)."""
    values = [mpl.rcParams._get(name) for name in _FONT_RC]
    if values != _SETTINGS[0]:
        _SETTINGS[0] = [list(v) if isinstance(v, list) else v for v in values]
        _SETTINGS[1] = tuple(tuple(v) if isinstance(v, list) else v for v in values)
    return _SETTINGS[1]


_HINTING: dict[Any, Any] = {}


def _hinting_flag() -> Any:
    """``get_hinting_flag()`` (the FreeType load flags of :rc:`text.hinting`), kept."""
    setting = mpl.rcParams._get("text.hinting")
    flag = _HINTING.get(setting)
    if flag is None:
        flag = _HINTING[setting] = get_hinting_flag()
    return flag


def _font(prop: Any) -> Any:
    """``get_font(fontManager._find_fonts_by_props(prop))``, kept. A kept font may still
    carry the transform of the last glyph rendered with it: callers that lay text out
    reset it (:data:`_IDENTITY`, as ``get_font`` does)."""
    key = (tuple(prop.__dict__.values()), _font_settings(),
           os.environ.get("MPL_IGNORE_SYSTEM_FONTS"), threading.get_ident(),
           id(fontManager), len(fontManager.ttflist))
    font = _FONTS.hit(key)
    if font is None:
        font = _FONTS.keep(key, get_font(fontManager._find_fonts_by_props(prop)))
    return font


def _hashable(value: Any) -> Hashable:
    """``value`` (None, a string, or a list of strings / tuples) as a dict key."""
    if isinstance(value, list | tuple):
        return tuple(_hashable(v) for v in value)
    return value


def _matrix(cos: float, sin: float, slant: float, extend: float) -> tuple[Any, Hashable]:
    """FreeType's 16.16 transform of a glyph, exactly as ``RendererAgg`` computes it."""
    key = (cos, sin, slant, extend)
    found = _MATRICES.get(key)
    if found is None:
        if len(_MATRICES) > 256:
            _MATRICES.clear()
        matrix = (0x10000 * np.array([[cos, -sin], [sin, cos]])
                  @ [[extend, extend * slant], [0, 1]]).round().astype(int)
        found = _MATRICES[key] = (matrix, tuple(matrix.ravel().tolist()))
    return found


class CachedTextRenderer(RendererAgg):
    """``RendererAgg`` drawing text from kept glyph bitmaps, layouts and metrics (same
    pixels; see the module docstring for why each is exact)."""

    def _draw_text_glyphs_and_boxes(self, gc: Any, x: float, y: float, angle: float,
                                    glyphs: Iterable[Any], boxes: Iterable[Any]) -> None:
        # y is downwards; each glyph's (dx, dy) offset is upwards (as in RendererAgg)
        cos = math.cos(math.radians(angle))
        sin = math.sin(math.radians(angle))
        load_flags = _hinting_flag()
        antialiased = bool(gc.get_antialiased())
        height = self.height
        draw = self._renderer.draw_text_image
        for font, size, glyph_index, slant, extend, dx, dy in glyphs:
            matrix, matrix_key = _matrix(cos, sin, slant, extend)
            tx = round(0x40 * (x + dx * cos - dy * sin))
            ty = round(0x40 * (height - y + dx * sin + dy * cos))  # FreeType's y is upwards
            key = (font, size, self.dpi, glyph_index, matrix_key, tx & 63, ty & 63,
                   load_flags, antialiased)
            kept = _GLYPHS.hit(key)
            if kept is None:
                font.set_size(size, self.dpi)
                font._set_transform(matrix, [tx, ty])
                bitmap = font._render_glyph(
                    glyph_index, load_flags,
                    RenderMode.NORMAL if antialiased else RenderMode.MONO)
                buffer = bitmap.buffer
                if not antialiased:
                    buffer *= 0xff
                kept = _GLYPHS.keep(key, (buffer, bitmap.left - (tx >> 6),
                                          bitmap.top - (ty >> 6)))
            buffer, left, top = kept
            # draw_text_image's y is downwards and names the bitmap's bottom side
            draw(buffer, left + (tx >> 6), int(height) - (top + (ty >> 6)) + buffer.shape[0],
                 0, gc)
        boxes = list(boxes)
        if boxes:  # mathtext's fraction bars and the like: drawn as paths, as before
            super()._draw_text_glyphs_and_boxes(gc, x, y, angle, (), boxes)

    def draw_text(self, gc: Any, x: float, y: float, s: str, prop: Any, angle: float,
                  ismath: Any = False, mtext: Any = None) -> None:
        if ismath:
            return self.draw_mathtext(gc, x, y, s, prop, angle)
        features = mtext.get_fontfeatures() if mtext is not None else None
        language = mtext.get_language() if mtext is not None else None
        font = _font(prop)
        size = prop.get_size_in_points()
        flags = _hinting_flag()
        key = (font, size, self.dpi, s, flags, _hashable(features), _hashable(language))
        items = _LAYOUTS.hit(key)
        if items is None:
            font._set_transform(_IDENTITY, [0, 0])
            font.clear()
            font.set_size(size, self.dpi)
            items = _LAYOUTS.keep(key, tuple(
                (item.ft_object, item.glyph_index, item.x, item.y)
                for item in font._layout(s, flags=flags, features=features,
                                         language=language)))
        self._draw_text_glyphs_and_boxes(
            gc, x, y, angle,
            ((ft_object, size, glyph_index, 0, 1, gx, gy)
             for ft_object, glyph_index, gx, gy in items),
            [])
        return None

    def get_text_width_height_descent(self, s: str, prop: Any,
                                      ismath: Any) -> tuple[float, float, float]:
        if ismath:  # "TeX" and mathtext: matplotlib's own (mathtext parses are cached)
            return super().get_text_width_height_descent(s, prop, ismath)
        font = _font(prop)
        size = prop.get_size_in_points()
        flags = _hinting_flag()
        key = (font, size, self.dpi, s, flags)
        found = _METRICS.hit(key)
        if found is None:
            font._set_transform(_IDENTITY, [0, 0])
            font.clear()
            font.set_size(size, self.dpi)
            font.set_text(s, 0.0, flags=flags)
            w, h = font.get_width_height()  # of the unrotated string, in 1/64 pixels
            found = _METRICS.keep(key, (w / 64.0, h / 64.0, font.get_descent() / 64.0))
        return found

    def _get_font_height_metrics(self, prop: Any) -> tuple[Any, Any, Any]:
        """``(min ascent, min descent, line gap)`` in pixels of ``prop``'s first font, as
        ``Text._get_layout`` computes them from the ``OS/2`` (else ``hhea``) table."""
        font = _font(prop)
        fontsize = prop.get_size_in_points()
        key = (font, fontsize, self.dpi)
        found = _HEIGHTS.hit(key)
        if found is None:
            found = (None, None, None)
            for table_name, gap_key, ascent_key, descent_key in (
                    ("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
                    ("hhea", "lineGap", "ascent", "descent")):
                table = font.get_sfnt_table(table_name)
                if table is None:
                    continue
                units_per_em = font.get_sfnt_table("head")["unitsPerEm"]
                scale = 1 / units_per_em * fontsize * self.dpi / 72
                found = (table[ascent_key] * scale, -table[descent_key] * scale,
                         table[gap_key] * scale)
                break
            _HEIGHTS.keep(key, found)
        return found
