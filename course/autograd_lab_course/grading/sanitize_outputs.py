"""No script from a submission in the instructor's pages: :class:`SanitizeOutputs`.

An nbconvert preprocessor (``HTMLExporter.preprocessors``, set in the instructor's overlay
for the formgrader's submission view and nbgrader's feedback HTML) that cleans what a
student's notebook would otherwise put into the page as live HTML:

* ``text/html``, ``image/svg+xml`` and ``text/markdown`` outputs, and markdown cells, go
  through ``bleach.clean`` with :data:`TAGS` and :data:`ATTRIBUTES` (formatting only: no
  ``script``, no ``on…`` handler, no ``style`` element, no ``javascript:`` link); disallowed
  tags are dropped, their text kept, so the submission stays readable;
* ``application/javascript`` outputs (and widget views, which would load code) are removed.

nbconvert's own ``sanitize_html`` escapes every tag outside a short list (``p``, ``img``,
headings included), which shows a student's markdown answers and the lessons' verdicts as
raw tags; this keeps them.
"""

from __future__ import annotations

from typing import Any

import bleach
from bleach.css_sanitizer import CSSSanitizer
from nbconvert.preprocessors import Preprocessor

__all__ = ["ATTRIBUTES", "TAGS", "SanitizeOutputs", "clean"]

#: Formatting tags a student's output or markdown may keep.
TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details", "div",
    "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li",
    "ol", "p", "pre", "q", "s", "samp", "small", "span", "strong", "sub", "summary", "sup",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
    # SVG drawings (the lessons' figures): shapes and text, no script or foreignObject
    "svg", "g", "path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "text",
    "tspan", "title", "desc", "defs", "marker", "use",
})
_SVG_ATTRIBUTES = ["viewBox", "width", "height", "x", "y", "x1", "x2", "y1", "y2", "cx", "cy",
                   "r", "rx", "ry", "d", "points", "fill", "stroke", "stroke-width",
                   "transform", "font-size", "font-family", "text-anchor", "marker-end",
                   "markerWidth", "markerHeight", "refX", "refY", "orient", "xmlns",
                   "dominant-baseline", "opacity", "role", "aria-label"]
#: Attributes kept (``href``/``src`` only with the protocols of :data:`PROTOCOLS`).
ATTRIBUTES: dict[str, list[str]] = {
    "*": ["class", "id", "title", "style", "role", "aria-label", "lang", "dir"],
    "a": ["href", "name"],
    "img": ["src", "alt", "width", "height"],
    "td": ["colspan", "rowspan", "align"],
    "th": ["colspan", "rowspan", "align", "scope"],
    **{tag: _SVG_ATTRIBUTES for tag in ("svg", "g", "path", "rect", "circle", "ellipse",
                                        "line", "polyline", "polygon", "text", "tspan",
                                        "marker", "use")},
}
PROTOCOLS = frozenset({"http", "https", "mailto", "data"})
_ACTIVE = ("application/javascript", "application/vnd.jupyter.widget-view+json")
_CLEANED = ("text/html", "image/svg+xml", "text/markdown")


def clean(html: str) -> str:
    """``html`` with only :data:`TAGS`/:data:`ATTRIBUTES` left (others dropped, text kept)."""
    return bleach.clean(html, tags=TAGS, attributes=ATTRIBUTES, protocols=PROTOCOLS,
                        strip=True, strip_comments=True, css_sanitizer=CSSSanitizer())


class SanitizeOutputs(Preprocessor):
    """Clean every HTML-like output and markdown cell; drop script outputs (see module)."""

    def preprocess_cell(self, cell: Any, resources: dict, index: int) -> tuple[Any, dict]:
        if cell.cell_type == "markdown":
            cell.source = clean(cell.source)
        for output in cell.get("outputs", []):
            data = output.get("data")
            if not data:
                continue
            for mime in _ACTIVE:
                data.pop(mime, None)
            for mime in _CLEANED:
                if mime in data:
                    text = data[mime]
                    data[mime] = clean("".join(text) if isinstance(text, list) else text)
        return cell, resources
