"""The HTML the widgets show: a one-line message, plain text in ``<pre>``, a small table.

Every piece of text is escaped; class names (``agl-…``) are what the browser test reads.

Text wraps at spaces only (:data:`WRAP`): JupyterLab styles output ``<pre>`` with
``word-break: break-all``, which split "finite diff / erence" and "x.gra / d" in the narrow
text columns; the inline style here wins over that class rule. A token longer than its
column (a long formula) scrolls sideways instead of breaking (``overflow-x:auto``).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

#: JupyterLab theme colours (readable on light and dark themes), fallbacks for Colab.
COLOURS = {
    "error": "var(--jp-error-color1, #b00020)",
    "info": "var(--jp-info-color1, #1f4e79)",
    "ok": "var(--jp-success-color1, #1b5e20)",
}

#: Wrap at spaces only, never inside a word or a number; a longer token scrolls sideways.
WRAP = "white-space:pre-wrap;overflow-wrap:normal;word-break:normal;"
#: The same for a block: too long a token gives the block its own horizontal scroll bar.
WRAP_BLOCK = WRAP + "overflow-x:auto;max-width:100%;"

_CELL = "border:1px solid #999;padding:3px 8px;"
_HIGHLIGHT = "background:rgba(230,159,0,0.25);"


def escape(text: str) -> str:
    """``text`` safe inside HTML."""
    return html.escape(text)


def message_html(text: str, kind: str = "error") -> str:
    """A one-line message box (``kind`` is "error", "info" or "ok"); empty text → empty."""
    if not text:
        return ""
    role = ' role="alert"' if kind == "error" else ' role="status"'
    return (
        f'<div class="agl-message agl-{kind}"{role} style="color:{COLOURS.get(kind, "inherit")};'
        f'font-weight:600;{WRAP_BLOCK}">{html.escape(text)}</div>'
    )


def pre_html(lines: Iterable[str], cls: str = "agl-text") -> str:
    """Plain text lines in a ``<pre>`` (what a browser test reads back)."""
    body = "\n".join(html.escape(line) for line in lines)
    return (
        f'<pre class="{cls}" style="margin:0;{WRAP_BLOCK}'
        f'font-size:13px;line-height:1.35">{body}</pre>'
    )


def title_html(text: str) -> str:
    """A bold heading line (wraps at spaces only)."""
    return f'<b class="agl-title" style="{WRAP}">{html.escape(text)}</b>'


def table_html(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    cls: str = "agl-table",
    highlight_col: int | None = None,
    highlight_row: int | None = None,
) -> str:
    """A small bordered HTML table; cells are escaped text (``str(cell)``)."""
    out = [f'<div class="agl-table-scroll" style="overflow-x:auto;max-width:100%">'
           f'<table class="{cls}" style="border-collapse:collapse;font-size:13px">', "<thead><tr>"]
    for j, h in enumerate(headers):
        style = _CELL + WRAP + "text-align:left;line-height:1.3;"
        if highlight_col is not None and j == highlight_col:
            style += _HIGHLIGHT
        out.append(f'<th scope="col" style="{style}">{html.escape(str(h))}</th>')
    out.append("</tr></thead><tbody>")
    for i, row in enumerate(rows):
        out.append("<tr>")
        for j, cell in enumerate(row):
            style = _CELL + WRAP + "vertical-align:top;line-height:1.3;"
            if (highlight_col is not None and j == highlight_col) or (
                highlight_row is not None and i == highlight_row
            ):
                style += _HIGHLIGHT
            tag = "th" if j == 0 else "td"
            scope = ' scope="row"' if j == 0 else ""
            out.append(f'<{tag}{scope} style="{style}">{html.escape(str(cell))}</{tag}>')
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)
