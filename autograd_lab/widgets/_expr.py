"""Which names in a typed expression are leaf variables (so a widget can offer one slider each).

Only ``ast.parse`` is used (it builds a syntax tree; nothing is evaluated) and the tree is
walked iteratively. The real validation — the whitelist, the hints, the error messages — is
``derive``'s job; anything this helper cannot read simply yields no names, and ``derive``
then says what is wrong.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping

#: Names the grammar treats as constants, never as variables.
CONSTANTS = frozenset({"e", "pi"})

#: The value a variable gets when the learner typed it without giving one.
DEFAULT_VALUE = 2.0


def names_in(expression: str) -> list[str]:
    """Variable names in ``expression`` in order of first appearance (called names excluded)."""
    if not isinstance(expression, str) or not expression.strip() or len(expression) > 10_000:
        return []
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return []
    called: set[int] = set()
    found: list[tuple[int, int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            called.add(id(node.func))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and id(node) not in called and node.id not in CONSTANTS:
            found.append((node.lineno, node.col_offset, node.id))
    seen: dict[str, None] = {}
    for _, _, name in sorted(found):
        seen.setdefault(name, None)
    return list(seen)


def referenced_names(expression: str, values: Mapping[str, object]) -> list[str]:
    """Every name ``expression`` uses, following string values (intermediates) transitively."""
    found: list[str] = []
    pending = [expression]
    while pending:
        for name in names_in(pending.pop(0)):
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
    leaves: list[str] = []
    pending = [expression]
    visited: set[str] = set()
    while pending:
        text = pending.pop(0)
        for name in names_in(text):
            value = values.get(name)
            if isinstance(value, str):
                if name not in visited:
                    visited.add(name)
                    pending.append(value)
            elif name not in leaves:
                leaves.append(name)
    return leaves


def with_defaults(expression: str, values: Mapping[str, object]) -> dict[str, object]:
    """``values`` plus ``DEFAULT_VALUE`` for every leaf variable that has no value yet."""
    out = dict(values)
    for name in leaf_names(expression, out):
        out.setdefault(name, DEFAULT_VALUE)
    return out
