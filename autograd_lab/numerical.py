"""Finite differences: the check that needs no calculus at all.

The central difference

    f'(x) ≈ (f(x + h) - f(x - h)) / (2h)

has error ``h²/6 · f'''(x)`` from truncation (Taylor: the even terms cancel) plus about
``ε·|f(x)|/h`` from rounding (ε = 2.2e-16 in float64).  With the default ``h = 1e-6`` that
is roughly 1e-10 relative for values of order 1 -- good to about 6-9 significant digits,
never bit-exact.  Partial derivatives of several variables are ``Derivation.numerical``.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["numerical_derivative"]


def numerical_derivative(f: Callable[[float], float], x: float, h: float = 1e-6) -> float:
    """Central difference ``(f(x + h) - f(x - h)) / (2h)`` in float64.

    ``f`` takes and returns one number (a Python float, or anything ``float()`` accepts,
    such as a 0-d tensor).  ``h`` must be a positive finite number.

    >>> round(numerical_derivative(lambda t: t**2, 3.0), 6)
    6.0
    """
    h = float(h)
    if not h > 0 or h == float("inf"):
        raise ValueError(f"h must be a small positive number such as 1e-6, got {h!r}.")
    x = float(x)
    return (float(f(x + h)) - float(f(x - h))) / (2.0 * h)
