"""Every way the kit prints a number, in one place (the widgets' text, the labels).

- :func:`fmt` -- fixed decimals: ``-5.4668`` (None, text and non-numbers pass through);
- :func:`fmt_short` -- whole numbers the way torch prints them (``12.0``), else ``-1.7460``;
- :func:`fmt_big` -- 4 decimals, or 4 significant digits once a number is huge (``3.2e+09``);
- :func:`fmt_exact` -- a float as short as it is exact: ``2``, ``0.5``, ``1e-300``;
- :func:`fmt_tensor` / :func:`fmt_tuple` -- a tensor (or a tuple of them) as short text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

__all__ = ["fmt", "fmt_big", "fmt_exact", "fmt_short", "fmt_tensor", "fmt_tuple"]


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


def fmt_big(value: float) -> str:
    """4 decimals, or 4 significant digits once a diverging run makes numbers huge."""
    return f"{value:.4f}" if abs(value) < 1e6 else f"{value:.4g}"


def fmt_exact(value: float) -> str:
    """A whole number without ``.0`` (``2``), anything else as Python's shortest repr."""
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def fmt_tensor(t: Any, digits: int = 4, max_items: int = 6) -> str:
    """A tensor (or None) as short text: a scalar → ``-5.4668``; a vector → ``[1.0000, …]``."""
    if t is None:
        return "None"
    if not isinstance(t, torch.Tensor):
        return fmt(t, digits)
    flat = t.detach().reshape(-1).tolist()
    if t.dim() == 0:
        return fmt(flat[0], digits)
    items = [fmt(v, digits) for v in flat[:max_items]]
    if len(flat) > max_items:
        items.append(f"… ({len(flat)} values)")
    return "[" + ", ".join(items) + "]"


def fmt_tuple(grads: Sequence[Any]) -> str:
    """A tuple of tensors the way Python prints a tuple: ``(-5.4668,)``, ``(1.0000, None)``."""
    inner = ", ".join(fmt_tensor(g) for g in grads)
    return f"({inner},)" if len(grads) == 1 else f"({inner})"


def short_float(value: float) -> str:
    """Four decimals like torch prints (trailing zeros dropped); very big/small in e-notation."""
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    if value != 0 and not 1e-4 <= abs(value) < 1e6:
        return f"{value:.4g}"
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
