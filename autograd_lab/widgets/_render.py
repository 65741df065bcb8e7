"""Shared rendering helpers for the widgets: Figure -> PNG, one-line messages, HTML tables.

Every widget draws into ONE :class:`matplotlib.figure.Figure` it owns (no pyplot global
state) and renders it explicitly to PNG bytes, so the picture is visible in JupyterLab,
Colab and in tests that run outside a kernel.
"""

from __future__ import annotations

import html
import io
import math
from collections.abc import Iterable, Sequence
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from autograd_lab.errors import DerivationError, ExpressionError

#: PNG files start with these eight bytes.
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

#: Shown when something fails that we did not foresee (never a traceback).
UNEXPECTED = (
    "Something unexpected went wrong with that input; try a simpler expression or press Reset."
)

#: dpi of every widget figure: small enough to render in a few tens of milliseconds.
DPI = 80


def new_figure(width: float, height: float, dpi: int = DPI) -> Figure:
    """A Figure with its own Agg canvas (no pyplot, nothing global)."""
    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def figure_png(fig: Figure) -> bytes:
    """Render ``fig`` to PNG bytes (the canvas draws, then encodes)."""
    buf = io.BytesIO()
    # light zlib compression: a few kB larger, noticeably faster to encode
    fig.canvas.print_png(buf, pil_kwargs={"compress_level": 1})
    return buf.getvalue()


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message, prefixed by its class for torch errors.

    Learner-facing errors (ExpressionError, DerivationError, ValueError, TypeError) keep
    their own sentence; a torch ``RuntimeError`` is shown the way Python prints it
    (``RuntimeError: element 0 of tensors …``) because that exact text is the lesson.
    """
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, (ExpressionError, DerivationError)):
        return text or "That expression cannot be read; check it and try again."
    if isinstance(exc, RuntimeError):
        return f"{type(exc).__name__}: {text}"
    if isinstance(exc, (ValueError, TypeError, ArithmeticError)):
        return text or "That input is not valid here; check it and try again."
    return UNEXPECTED


#: Exceptions a widget turns into its own one-line message.
EXPECTED_ERRORS = (ExpressionError, DerivationError, ValueError, TypeError, ArithmeticError)


def message_html(text: str, kind: str = "error") -> str:
    """A one-line message box (``kind`` is "error", "info" or "ok"); empty text → empty."""
    if not text:
        return ""
    # JupyterLab theme colours (readable on light and dark themes), fallbacks for Colab
    colours = {
        "error": "var(--jp-error-color1, #b00020)",
        "info": "var(--jp-info-color1, #1f4e79)",
        "ok": "var(--jp-success-color1, #1b5e20)",
    }
    role = ' role="alert"' if kind == "error" else ' role="status"'
    return (
        f'<div class="agl-message agl-{kind}"{role} style="color:{colours.get(kind, "inherit")};'
        f'font-weight:600">{html.escape(text)}</div>'
    )


def pre_html(lines: Iterable[str], cls: str = "agl-text") -> str:
    """Plain text lines in a ``<pre>`` (what a browser test reads back)."""
    body = "\n".join(html.escape(line) for line in lines)
    return (
        f'<pre class="{cls}" style="margin:0;white-space:pre-wrap;'
        f'font-size:13px;line-height:1.35">{body}</pre>'
    )


def table_html(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    cls: str = "agl-table",
    highlight_col: int | None = None,
    highlight_row: int | None = None,
) -> str:
    """A small bordered HTML table; cells are escaped text (``str(cell)``)."""
    hl = "background:rgba(230,159,0,0.25);"
    out = [f'<table class="{cls}" style="border-collapse:collapse;font-size:13px">', "<thead><tr>"]
    for j, h in enumerate(headers):
        style = "border:1px solid #999;padding:3px 8px;text-align:left;line-height:1.3;"
        if highlight_col is not None and j == highlight_col:
            style += hl
        out.append(f'<th scope="col" style="{style}">{html.escape(str(h))}</th>')
    out.append("</tr></thead><tbody>")
    for i, row in enumerate(rows):
        out.append("<tr>")
        for j, cell in enumerate(row):
            style = (
                "border:1px solid #999;padding:3px 8px;vertical-align:top;white-space:pre-wrap;"
                "line-height:1.3;"
            )
            if (highlight_col is not None and j == highlight_col) or (
                highlight_row is not None and i == highlight_row
            ):
                style += hl
            tag = "th" if j == 0 else "td"
            scope = ' scope="row"' if j == 0 else ""
            out.append(f'<{tag}{scope} style="{style}">{html.escape(str(cell))}</{tag}>')
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def fmt(value: Any, digits: int = 4) -> str:
    """A number with ``digits`` decimals (``-5.4668``); ints/None/str pass through."""
    if value is None:
        return "None"
    if isinstance(value, str):
        return value
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.{digits}f}"


def fmt_short(value: float) -> str:
    """Whole numbers the way torch prints them (``12.0``), others with 4 decimals (``-1.7460``)."""
    v = float(value)
    if not math.isfinite(v):
        return fmt(v)
    if v == int(v) and abs(v) < 1e15:
        return f"{v + 0.0:.1f}"
    return f"{v:.4f}"


def fmt_tensor(t: Any, digits: int = 4, max_items: int = 6) -> str:
    """A tensor (or None) as short text: a scalar → ``-5.4668``; a vector → ``[1.0000, …]``."""
    if t is None:
        return "None"
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a hard dependency
        return str(t)
    if isinstance(t, torch.Tensor):
        flat = t.detach().reshape(-1).tolist()
        if t.dim() == 0:
            return fmt(flat[0], digits)
        items = [fmt(v, digits) for v in flat[:max_items]]
        if len(flat) > max_items:
            items.append(f"… ({len(flat)} values)")
        return "[" + ", ".join(items) + "]"
    return fmt(t, digits)


def plain_repr(name: str, *parts: str) -> str:
    """Deterministic text/plain for a widget: ``Name(a, b) — run in Jupyter to interact``."""
    return f"{name}({', '.join(p for p in parts if p)}) — run in Jupyter to interact"


class GraphPngCache:
    """PNGs of one widget's graph drawing, keyed by what is shown (e.g. the highlight).

    Draws into the widget's one Figure with :func:`autograd_lab.draw_graph` only when a key
    is new, so stepping back and forth costs no re-render. ``clear()`` after a new graph.
    """

    def __init__(self, fig: Figure, ax: Any) -> None:
        self.fig, self.ax = fig, ax
        self._png: dict[Any, bytes] = {}
        self._width: dict[Any, str] = {}

    def clear(self) -> None:
        self._png.clear()
        self._width.clear()

    def render(self, key: Any, graph: Any, highlight: Iterable[int]) -> tuple[bytes, str]:
        """``(png, css width)`` of ``graph`` with ``highlight`` drawn, for ``key``."""
        if key not in self._png:
            from autograd_lab import draw_graph

            draw_graph(graph, highlight=list(highlight), ax=self.ax)
            fit_graph_figure(self.fig, self.ax)
            self._png[key] = figure_png(self.fig)
            self._width[key] = pixel_width(self.fig)
        return self._png[key], self._width[key]


class StepCursor:
    """Back / Next / Reset / Last over positions ``0 … total - 1``.

    Subclasses set ``self.index`` and define ``total``; the views' buttons call these.
    """

    index: int

    @property
    def total(self) -> int:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def at_start(self) -> bool:
        return self.index == 0

    @property
    def at_end(self) -> bool:
        return self.index == self.total - 1

    def next(self) -> None:
        self.index = min(self.index + 1, self.total - 1)

    def back(self) -> None:
        self.index = max(self.index - 1, 0)

    def reset(self) -> None:
        self.index = 0

    def go_to_end(self) -> None:
        self.index = self.total - 1


class WidgetView:
    """Mixin for the public widget classes: display = the root widget, with our own text.

    Subclasses set ``self.root`` (an ipywidgets container) and implement ``_plain()``.
    """

    root: Any

    def _plain(self) -> str:  # pragma: no cover - overridden
        return type(self).__name__

    def __repr__(self) -> str:
        return self._plain()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        make_bundle = getattr(self.root, "_repr_mimebundle_", None)
        if make_bundle is not None:  # ipywidgets 8
            bundle = dict(make_bundle(include=include, exclude=exclude))
        else:  # ipywidgets 7 (Colab's default) shows a widget through the same view data
            bundle = {
                "application/vnd.jupyter.widget-view+json": {
                    "version_major": 2,
                    "version_minor": 0,
                    "model_id": self.root.model_id,
                }
            }
        bundle["text/plain"] = self._plain()
        return bundle

    def _attempt(self, action: Any, keep: str = "") -> bool:
        """Run ``action()``; on failure show one line (then ``keep``) in ``.message``.

        Returns whether it succeeded. Never lets a traceback reach the widget.
        """
        try:
            action()
        except Exception as exc:  # noqa: BLE001 - shown inside the widget instead
            show_error(self, exc, keep)
            return False
        self.message.value = ""
        return True


def show_error(view: Any, exc: BaseException, keep: str = "") -> None:
    """Put ``exc`` as one line in ``view.message`` (a generic line if it was unexpected)."""
    view.last_error = exc
    text = one_line(exc) + keep if isinstance(exc, EXPECTED_ERRORS) else UNEXPECTED
    view.message.value = message_html(text)


def button(label: str, tooltip: str, cls: str) -> Any:
    """A keyboard-focusable Button with a tooltip (its accessible description) and a class."""
    import ipywidgets as widgets

    b = widgets.Button(description=label, tooltip=tooltip, layout=widgets.Layout(width="auto"))
    b.add_class("agl-button")
    b.add_class(cls)
    return b


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


def clean_values(values: dict[str, Any]) -> dict[str, float | str]:
    """Numbers become floats, strings (named intermediates) stay; anything else is an error."""
    out: dict[str, float | str] = {}
    for name, value in values.items():
        if isinstance(value, str):
            out[name] = value
            continue
        try:
            out[name] = float(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"{name} must be a number or an expression string such as 'x**2', "
                f"not {type(value).__name__}."
            ) from None
    return out


def image_layout() -> Any:
    """Layout for a PNG ``Image``: never wider than the page, aspect ratio kept."""
    import ipywidgets as widgets

    return widgets.Layout(max_width="100%", height="auto", object_fit="contain")


def pixel_width(fig: Figure) -> str:
    """The figure's rendered width as a CSS length (so the image shows at its own size)."""
    return f"{round(fig.get_size_inches()[0] * fig.dpi)}px"


def guarded(handler: Any) -> Any:
    """Wrap a widget event handler: any exception becomes a one-line message, never a traceback.

    The widget must have ``.message`` (an HTML widget) and ``.last_error``.
    """
    import functools

    @functools.wraps(handler)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return handler(self, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - shown inside the widget instead
            show_error(self, exc)
            return None

    return wrapper
