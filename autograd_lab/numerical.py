"""Finite differences: the check that needs no calculus at all.

The central difference

    f'(x) ≈ (f(x + h) - f(x - h)) / (2h)

has error ``h²/6 · f'''(x)`` from truncation (Taylor: the even terms cancel) plus about
``ε·|f(x)|/h`` from rounding (ε = 2.2e-16 in float64).  With the default ``h = 1e-6`` that
is roughly 1e-10 relative for values of order 1 -- good to about 6-9 significant digits,
never bit-exact.  Partial derivatives of several variables are ``Derivation.numerical``.

Two ways it silently fails, both refused or reported here: a step too small to move ``x``
(``3.0 + 1e-20 == 3.0``, so the difference is 0), and an ``f`` that computes in float32
(ε = 1.2e-7: the rounding term ``ε·9/1e-6`` is about 1, and x² at 3 comes out 5.72).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

__all__ = ["numerical_derivative"]

#: The smallest step relative to ``|x|``: ``x ± h`` is then still at least 16 float64 steps
#: (ulps) from ``x``, so the step actually taken is within about 3% of ``2h``.
MIN_RELATIVE_STEP = 2.0**-48  # ≈ 3.6e-15


def _low_precision(value: Any) -> str | None:
    """The dtype's name when ``value`` is a float32/float16 tensor or NumPy scalar, else None."""
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        return None
    is_float = getattr(dtype, "is_floating_point", None)  # torch.dtype
    if is_float is None:
        is_float = getattr(dtype, "kind", "") == "f"  # numpy.dtype
    if is_float and getattr(dtype, "itemsize", 8) < 8:
        return str(dtype).removeprefix("torch.")
    return None


def numerical_derivative(f: Callable[[float], float], x: float, h: float = 1e-6) -> float:
    """Central difference ``(f(x + h) - f(x - h)) / (2h)`` in float64.

    ``f`` takes and returns one number (a Python float, or anything ``float()`` accepts,
    such as a 0-d tensor).  ``x`` must be finite and ``h`` a positive finite number that
    still moves ``x``: at least ``MIN_RELATIVE_STEP · |x|`` (≈ 3.6e-15·|x|), otherwise a
    ``ValueError`` says so rather than returning 0.  If ``f`` returns float32 (or float16)
    values, a ``UserWarning`` says that rounding, not calculus, decides the digits.

    >>> round(numerical_derivative(lambda t: t**2, 3.0), 6)
    6.0
    """
    h = float(h)
    if not h > 0 or h == math.inf:
        raise ValueError(f"h must be a small positive number such as 1e-6, got {h!r}.")
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"x must be a finite number, got {x!r}.")
    if h < MIN_RELATIVE_STEP * abs(x):
        raise ValueError(
            f"h={h:.3g} is too small for x={x:.6g}: x ± h rounds to (almost) x itself, so the "
            f"difference says nothing; use h around 1e-6 * max(1, |x|), e.g. "
            f"h={1e-6 * max(1.0, abs(x)):.3g}."
        )
    above, below = f(x + h), f(x - h)
    dtype = _low_precision(above) or _low_precision(below)
    if dtype is not None:
        warnings.warn(
            f"f returned {dtype} values, so rounding swamps the step h={h:.3g} (x**2 at 3 "
            "gives 5.72, not 6); compute f in float64 (e.g. dtype=torch.float64) instead.",
            UserWarning,
            stacklevel=2,
        )
    return (float(above) - float(below)) / (2.0 * h)
