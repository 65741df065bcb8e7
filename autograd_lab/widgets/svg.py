"""The widgets' pictures as SVG markup: a graph of boxes and arrows, bar and line plots.

One small module for every picture a widget shows (no pixels, no matplotlib): each is a
string ``<svg role="img">`` whose ``<title>`` says what it shows now, whose labels are SVG
``<text>`` (selectable, read by screen readers) and whose colours are JupyterLab's theme
variables with fallbacks for Colab, VS Code and a static page (``var(--jp-…, #…)``), so it
follows the light and the dark theme and stays sharp at any zoom. A highlight is a CSS
class (``agl-hot``) styled by the picture's own ``<style>``.

The graph is drawn from :func:`autograd_lab.drawing.graph_layout`, the layout
:func:`~autograd_lab.draw_graph` draws with matplotlib: one layout, two renderings.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from autograd_lab.drawing import BOX_H, BOX_W, graph_layout
from autograd_lab.graph import Graph
from autograd_lab.widgets.markup import escape

#: Text at the lesson text's size less 2 px, in the theme's text colour.
FONT = "font-family:var(--jp-ui-font-family,sans-serif);font-size:12px"
MONO = "font-family:var(--jp-code-font-family,monospace);font-size:12px"
TEXT = "var(--jp-content-font-color1,#1a1a1a)"
MUTED = "var(--jp-content-font-color2,#555)"
BLUE = "var(--jp-brand-color1,#1565c0)"
RED = "var(--jp-error-color1,#c62828)"
GREEN = "var(--jp-success-color1,#2e7d32)"
ORANGE = "var(--jp-warn-color0,#d55e00)"

#: The rules every picture carries (scoped to ``svg.agl-svg``; the same on every picture).
STYLE = (
    "<style>"
    f"svg.agl-svg text{{fill:{TEXT};{FONT}}}"
    f"svg.agl-svg .agl-box text{{{MONO}}}"
    f"svg.agl-svg .agl-box rect{{fill:var(--jp-layout-color1,#fff);stroke-width:1.5}}"
    f"svg.agl-svg .agl-node-leaf rect{{stroke:{BLUE}}}"
    f"svg.agl-svg .agl-node-op rect{{stroke:{MUTED}}}"
    f"svg.agl-svg .agl-node-output rect{{stroke:{GREEN}}}"
    f"svg.agl-svg .agl-hot rect{{fill:var(--jp-layout-color2,#eee);stroke:{ORANGE};"
    "stroke-width:4}"
    "svg.agl-svg .agl-hot text{font-weight:bold}"
    f"svg.agl-svg .agl-arrow{{stroke:{MUTED};fill:none;stroke-width:1.3}}"
    f"svg.agl-svg .agl-head{{fill:{MUTED}}}"
    f"svg.agl-svg .agl-axis{{stroke:{MUTED};fill:none}}"
    "</style>"
)

CHAR_PX = 7.3  # a 12 px monospace character's advance (0.6 em), with room to spare
LINE_PX = 15.0


def svg(width: float, height: float, title: str, body: Iterable[str], cls: str) -> str:
    """An ``<svg role="img">`` of ``width`` × ``height`` px (shrinks to fit the page)."""
    w, h = math.ceil(width), math.ceil(height)
    return (
        f'<svg class="agl-svg {cls}" role="img" viewBox="0 0 {w} {h}" width="{w}" '
        f'height="{h}" style="max-width:100%;height:auto" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{STYLE}{''.join(body)}</svg>"
    )


def text(x: float, y: float, content: str, anchor: str = "middle", extra: str = "") -> str:
    """One line of SVG text (``anchor``: start, middle or end; ``y`` is its middle)."""
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" dominant-baseline="central"'
            f"{extra}>{escape(content)}</text>")


def _arrow_head(x0: float, y0: float, x1: float, y1: float, size: float = 7.0) -> str:
    angle = math.atan2(y1 - y0, x1 - x0)
    points = [(x1, y1)] + [(x1 - size * math.cos(angle + s), y1 - size * math.sin(angle + s))
                           for s in (0.4, -0.4)]
    return ('<polygon class="agl-head" points="'
            + " ".join(f"{x:.1f},{y:.1f}" for x, y in points) + '"/>')


def graph_svg(graph: Graph, highlight: Iterable[int] = (), title: str = "") -> str:
    """``graph`` as boxes (label, ``= value``, ``grad …``) and arrows, leaves → output.

    The boxes of ``highlight`` get the class ``agl-hot``. ``title`` (what the picture
    shows now) heads the ``<title>``, followed by which boxes are highlighted.
    """
    layout = graph_layout(graph)
    marked = set(highlight)
    chars = max((len(line) for b in layout.boxes for line in b.lines), default=4)
    lines = max((len(b.lines) for b in layout.boxes), default=1)
    box_w, box_h = chars * CHAR_PX + 16.0, lines * LINE_PX + 12.0
    col, row = max(box_w / BOX_W, 110.0), box_h / BOX_H

    def px(x: float, y: float) -> tuple[float, float]:
        return (x + 0.5) * col, (layout.top - y) * row

    body = []
    for arrow in layout.arrows:
        points = [px(x, y) for x, y in arrow.points]
        points[-1] = (points[-1][0] - 2.0, points[-1][1])
        body.append('<polyline class="agl-arrow" points="'
                    + " ".join(f"{x:.1f},{y:.1f}" for x, y in points) + '"/>')
        body.append(_arrow_head(*points[-2], *points[-1]))
        if arrow.count > 1:
            xm, ym = px(*arrow.middle)
            body.append(text(xm, ym - 9.0, f"×{arrow.count}", extra=' font-weight="bold"'))
    for box in layout.boxes:
        x, y = px(box.x, box.y)
        kind = box.node.kind if box.node.kind in ("leaf", "op", "output") else "op"
        hot = " agl-hot" if box.node.id in marked else ""
        first = y - (len(box.lines) - 1) * LINE_PX / 2
        body.append(
            f'<g class="agl-box agl-node-{kind}{hot}" data-node="{box.node.id}">'
            f'<rect x="{x - box_w / 2:.1f}" y="{y - box_h / 2:.1f}" width="{box_w:.1f}" '
            f'height="{box_h:.1f}" rx="6"/>'
            + "".join(text(x, first + k * LINE_PX, line) for k, line in enumerate(box.lines))
            + "</g>")
    hot_labels = [b.node.label for b in layout.boxes if b.node.id in marked]
    said = f"{title}. " if title else ""
    said += f"Graph of {len(layout.boxes)} nodes, leaves left, output right"
    said += f"; highlighted: {', '.join(hot_labels)}." if hot_labels else "."
    return svg(layout.n_layers * col, 2 * layout.top * row, said, body, "agl-graph")


# ------------------------------------------------------------------------------- plots


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values (steps of 1, 2 or 5 × 10^k) covering ``lo … hi``."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else [0.0]
    raw = (hi - lo) / max(count - 1, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= 0.75 * raw)
    first = math.ceil(lo / step - 1e-9)
    return [round(k * step, 12) for k in range(first, math.floor(hi / step + 1e-9) + 1)]


def tick_label(value: float, log: bool = False) -> str:
    """A short tick label: 0.5, 12, 1e+06 (``log``: 0.01, 100, 1e6, 1e-5)."""
    if log and value > 0 and abs(k := round(math.log10(value))) >= 4:
        return f"1e{k}"
    return f"{value:.6g}"


@dataclass(frozen=True)
class Frame:
    """A plot area at ``(left, top)`` px, ``width`` × ``height`` px, showing ``xlim`` ×
    ``ylim`` (``log_y``: the y axis in powers of ten)."""

    left: float
    top: float
    width: float
    height: float
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    log_y: bool = False

    def _y(self, y: float) -> float:
        return math.log10(y) if self.log_y else y

    def px(self, x: float, y: float) -> tuple[float, float]:
        (x0, x1), (y0, y1) = self.xlim, (self._y(self.ylim[0]), self._y(self.ylim[1]))
        return (self.left + (x - x0) / (x1 - x0) * self.width,
                self.top + (y1 - self._y(y)) / (y1 - y0) * self.height)

    def inside(self, y: float) -> bool:
        return self.ylim[0] <= y <= self.ylim[1]

    def axes(self, xticks: Sequence[float], xlabel: str, title: str) -> list[str]:
        """The frame's box, ticks and their labels, the x label and the title."""
        out = [f'<rect class="agl-axis" x="{self.left:.1f}" y="{self.top:.1f}" '
               f'width="{self.width:.1f}" height="{self.height:.1f}"/>']
        bottom = self.top + self.height
        for x in xticks:
            px, _ = self.px(x, self.ylim[0])
            out.append(f'<line class="agl-axis" x1="{px:.1f}" y1="{bottom:.1f}" x2="{px:.1f}" '
                       f'y2="{bottom + 4:.1f}"/>')
            out.append(text(px, bottom + 13.0, tick_label(x)))
        if self.log_y:
            lo, hi = (math.floor(math.log10(v) + 1e-9) for v in self.ylim)
            step = max(1, math.ceil((hi - lo + 1) / 6))
            yticks = [10.0 ** k for k in range(lo, hi + 1, step) if self.inside(10.0 ** k)]
            if len(yticks) < 2:  # less than a decade shown: round values in between
                yticks = [t for t in nice_ticks(*self.ylim, 4) if t > 0]
        else:
            yticks = nice_ticks(*self.ylim)
        for y in yticks:
            _, py = self.px(self.xlim[0], y)
            out.append(f'<line class="agl-axis" x1="{self.left - 4:.1f}" y1="{py:.1f}" '
                       f'x2="{self.left:.1f}" y2="{py:.1f}"/>')
            out.append(text(self.left - 6.0, py, tick_label(y, self.log_y), "end"))
        out.append(text(self.left + self.width / 2, bottom + 30.0, xlabel))
        out.append(text(self.left + self.width / 2, self.top - 12.0, title,
                        extra=' font-weight="bold"'))
        return out

    def polyline(self, points: Sequence[tuple[float, float]], colour: str,
                 dashed: bool = False, cls: str = "") -> str:
        pts = " ".join("{:.1f},{:.1f}".format(*self.px(x, y)) for x, y in points)
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        return (f'<polyline class="{cls}" points="{pts}" fill="none" stroke="{colour}" '
                f'stroke-width="2"{dash}/>')

    def dots(self, points: Sequence[tuple[float, float]], colour: str, size: float = 3.0,
             square: bool = False) -> str:
        out = []
        for x, y in points:
            px, py = self.px(x, y)
            out.append(f'<rect x="{px - size:.1f}" y="{py - size:.1f}" width="{2 * size}" '
                       f'height="{2 * size}" fill="{colour}"/>' if square else
                       f'<circle cx="{px:.1f}" cy="{py:.1f}" r="{size}" fill="{colour}"/>')
        return "".join(out)

    def legend(self, entries: Sequence[tuple[str, str]]) -> list[str]:
        """``(colour, label)`` rows in the frame's top-left corner."""
        out = []
        for k, (colour, label) in enumerate(entries):
            y = self.top + 12.0 + 16.0 * k
            out.append(f'<line x1="{self.left + 8:.1f}" y1="{y:.1f}" x2="{self.left + 26:.1f}" '
                       f'y2="{y:.1f}" stroke="{colour}" stroke-width="3"/>')
            out.append(text(self.left + 32.0, y, label, "start"))
        return out
