"""What a widget's text box and keyword values mean, read through ``expression.py``'s API.

The typed text is parsed by :func:`autograd_lab.expression.parse_expression` (the same
whitelist, size cap and messages as ``derive``); text it cannot read yields no names here,
and ``derive`` then says what is wrong in one sentence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from autograd_lab.errors import ExpressionError
from autograd_lab.expression import names_in, parse_expression

#: The value a variable gets when the learner typed it without giving one.
DEFAULT_VALUE = 2.0


def variables(expression: str) -> list[str]:
    """Variable names in ``expression`` in order of first appearance; [] if unreadable."""
    try:
        return names_in(parse_expression(expression))
    except ExpressionError:
        return []


def referenced_names(expression: str, values: Mapping[str, object]) -> list[str]:
    """Every name ``expression`` uses, following string values (intermediates) transitively."""
    found: list[str] = []
    pending = [expression]
    while pending:
        for name in variables(pending.pop(0)):
            if name not in found:
                found.append(name)
                value = values.get(name)
                if isinstance(value, str):
                    pending.append(value)
    return found


def leaf_names(expression: str, values: Mapping[str, object]) -> list[str]:
    """Leaf variables of ``expression`` given ``values`` (string values are intermediates).

    ``leaf_names("2*y + y**2", {"y": "x**2"}) == ["x"]``: ``y`` is defined by its own
    expression, so the leaf is the ``x`` inside it.
    """
    return [name for name in referenced_names(expression, values)
            if not isinstance(values.get(name), str)]


def with_defaults(expression: str, values: Mapping[str, object]) -> dict[str, object]:
    """``values`` plus ``DEFAULT_VALUE`` for every leaf variable that has no value yet."""
    out = dict(values)
    for name in leaf_names(expression, out):
        out.setdefault(name, DEFAULT_VALUE)
    return out


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
