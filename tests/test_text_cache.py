"""The widget figures' text cache draws exactly the pixels plain matplotlib draws.

Each figure is built twice, once on matplotlib's own ``FigureCanvasAgg`` and once on the
widgets' canvas (whose renderer keeps glyph bitmaps, layouts and metrics); the RGBA buffers
must be equal byte for byte, with the caches empty (every glyph rendered) and again when
they are warm (every glyph taken from the cache, at other places and in other colours).
"""

from __future__ import annotations

from collections.abc import Callable

import matplotlib
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from autograd_lab.widgets import text_cache
from autograd_lab.widgets.figures import _Canvas
from autograd_lab.widgets.text_cache import CachedTextRenderer


def _plot(fig: Figure, shift: float) -> None:
    """Tick labels (two sizes, two colours), a title, a legend, axis labels."""
    ax = fig.add_subplot(1, 2, 1)
    xs = np.linspace(0.0, 10.0 + shift, 50)
    ax.plot(xs, (xs - 3.0) ** 2 * (1.0 + shift), label="loss (lr=0.137)")
    ax.legend(fontsize=7)
    ax.set_title("x.grad = -8.2549", fontsize=9, color="#8c8c8c")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss", color="#3b8fd9")
    ax.tick_params(axis="y", labelsize=6.3, colors="#e0672b")
    ax.tick_params(axis="x", labelsize=8.1)
    log_ax = fig.add_subplot(1, 2, 2)
    log_ax.set_yscale("log")  # mathtext tick labels: 10^{1}, 10^{2}
    log_ax.plot(xs, 1.0 + xs ** 3, color="#009e73")


def _texts(fig: Figure, shift: float) -> None:
    """The same strings at whole- and fractional-pixel offsets, rotated, in other colours,
    sizes and weights, multi-line, mathtext, without antialiasing."""
    for k, (dx, colour) in enumerate([(0.0, "black"), (1.0, "red"), (0.37, "#3b8fd9"),
                                      (2.0 + shift, "#8c8c8c")]):
        x = 0.05 + dx / fig.bbox.width
        fig.text(x, 0.9 - 0.08 * k, "v1 = x**2 = 9.0000", color=colour, fontsize=7.3 + k)
        fig.text(x + 0.45, 0.9 - 0.08 * k, "grad -0.9111\nrunning total", color=colour,
                 fontsize=6.0 + 0.7 * k, fontweight="bold" if k % 2 else "normal")
    for angle in (30.0, 90.0, 45.0 + shift):
        fig.text(0.2 + angle / 300, 0.3, "rotated 0.158", rotation=angle, fontsize=8,
                 rotation_mode="anchor")
    fig.text(0.6, 0.25, r"$\frac{dz}{dx} = \sqrt{x^2} \cdot e^{-x}$", fontsize=10)
    fig.text(0.6, 0.1, "aliased 12.5", fontsize=9, antialiased=False, color="blue")


def _pixels(build: Callable[[Figure, float], None], canvas: type, shift: float) -> np.ndarray:
    fig = Figure(figsize=(6.0, 3.0), dpi=80, facecolor="none")
    canvas(fig)
    build(fig, shift)
    fig.canvas.draw()
    if canvas is _Canvas:
        assert isinstance(fig.canvas.get_renderer(), CachedTextRenderer)
    return np.asarray(fig.canvas.buffer_rgba()).copy()


@pytest.mark.parametrize("build", [_plot, _texts])
def test_cached_text_is_byte_identical_to_plain_matplotlib(build):
    text_cache.clear()
    for shift in (0.0, 0.0, 0.25, 3.0):  # cold, then warm at the same and at other places
        plain = _pixels(build, FigureCanvasAgg, shift)
        cached = _pixels(build, _Canvas, shift)
        assert plain.shape == cached.shape
        assert np.array_equal(plain, cached), f"pixels differ at shift {shift}"
        assert np.count_nonzero(cached[..., 3]) > 1000  # something was drawn


@pytest.mark.parametrize("setting", [{"font.family": "monospace"},
                                     {"text.hinting": "no_hinting"}])
def test_a_changed_font_setting_is_followed(setting):
    text_cache.clear()
    default = _pixels(_texts, _Canvas, 0.0)  # warm with the default settings
    with matplotlib.rc_context(setting):
        plain = _pixels(_texts, FigureCanvasAgg, 0.0)
        cached = _pixels(_texts, _Canvas, 0.0)
    assert np.array_equal(plain, cached)
    assert not np.array_equal(default, cached)


def test_a_warm_redraw_renders_no_glyph_again():
    text_cache.clear()
    first = _pixels(_texts, _Canvas, 0.0)
    kept = dict(text_cache._GLYPHS)
    assert len(kept) > 50
    again = _pixels(_texts, _Canvas, 0.0)
    assert np.array_equal(first, again)
    assert text_cache._GLYPHS.keys() == kept.keys()  # every glyph came from the cache
    assert all(text_cache._GLYPHS[k] is kept[k] for k in kept)


def test_the_caches_stay_bounded():
    lru = text_cache._Lru(8)
    for i in range(100):
        lru.keep(i, str(i))
        assert len(lru) <= 8
    assert lru.hit(99) == "99" and lru.hit(0) is None
    lru.hit(95)  # used now: outlives 96…98 when the oldest are dropped
    for i in range(100, 106):
        lru.keep(i, str(i))
    assert 95 in lru and 96 not in lru


def test_this_matplotlib_is_supported() -> None:
    """The lock's matplotlib has the internals the cache builds on (else it would be off)."""
    assert text_cache.SUPPORTED


@pytest.mark.parametrize("build", [_plot, _texts])
def test_without_the_internals_the_plain_renderer_draws(build, monkeypatch) -> None:
    """An older matplotlib (Colab may have one): matplotlib's own renderer, its own kind of
    mathtext parser, the same pixels."""
    monkeypatch.setattr(text_cache, "SUPPORTED", False)
    fig = Figure(figsize=(6.0, 3.0), dpi=80, facecolor="none")
    _Canvas(fig)
    build(fig, 0.0)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert type(renderer) is not CachedTextRenderer
    assert type(renderer.mathtext_parser) is type(FigureCanvasAgg(Figure()).get_renderer()
                                                  .mathtext_parser)
    assert np.array_equal(np.asarray(fig.canvas.buffer_rgba()),
                          _pixels(build, FigureCanvasAgg, 0.0))
