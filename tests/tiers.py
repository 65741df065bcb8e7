"""Test tiers (see conftest.py): which markers each file's tests get, and how many examples
a property test runs in this tier.

``make test`` loads hypothesis' ``full`` profile (100 examples by default), ``make check`` the
``check`` profile (10): a test that asks for a count of its own scales it by the same ratio,
so ``make check`` tries the same properties with fewer examples and ``make test`` the full
count.
"""

from __future__ import annotations

import ast

from hypothesis import settings

#: The example count of the ``full`` profile (conftest.py).
FULL = 100


def examples(full: int) -> int:
    """``full`` in the full tier; scaled with the loaded profile's count otherwise (at least 5)."""
    return max(5, full * settings.default.max_examples // FULL)


#: Markers every test of a file (or of a folder, ending in /) gets: the test tiers.
TIERS: dict[str, tuple[str, ...]] = {
    "notebooks/": ("notebooks", "kernels"),  # nbval's cells and the checks sharing its kernel
    "tests/test_notebooks_execute.py": ("notebooks", "kernels"),
    "tests/test_exercise_notebooks.py": ("notebooks", "kernels"),
    "tests/test_adding_a_lesson.py": ("notebooks", "kernels"),
    "tests/browser/": ("browser", "kernels"),
    "tests/website/": ("browser", "kernels"),  # builds the site, then Chromium
    "tests/test_classroom.py": ("classroom", "kernels"),
    "tests/test_hub_exchange.py": ("classroom", "kernels"),  # a hub with the exchange service
    "tests/test_lab.py": ("kernels",),
    "tests/test_warm_kernels.py": ("kernels",),
    "tests/test_grading_rules.py": ("kernels",),  # nbgrader autograde in a temp course
    "tests/test_exercise_limits_kernel.py": ("kernels",),  # checks inside a real ipykernel
}


def tier_markers(nodeid: str) -> tuple[str, ...]:
    """The tier markers of a test by its file (``TIERS``)."""
    path = nodeid.split("::", 1)[0]
    return next((marks for key, marks in TIERS.items()
                 if path == key or (key.endswith("/") and path.startswith(key))), ())


def _kleene(node: ast.AST, marks: frozenset[str]) -> bool | None:
    """A ``-m`` expression's value for a test carrying ``marks`` and maybe others: True or
    False when the other markers cannot change it, None when they can (or it is not plain
    ``not``/``and``/``or`` over marker names)."""
    if isinstance(node, ast.Name):
        return True if node.id in marks else None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        value = _kleene(node.operand, marks)
        return None if value is None else not value
    if isinstance(node, ast.BoolOp):
        values = [_kleene(v, marks) for v in node.values]
        stop = isinstance(node.op, ast.Or)  # True ends an `or`, False an `and`
        if stop in values:
            return stop
        return None if None in values else not stop
    return None


def deselects_whole_file(markexpr: str, path: str) -> bool:
    """True if ``-m markexpr`` deselects every test of ``path`` (a file or folder of
    ``TIERS``, relative to the repository) whatever other markers a test of it carries, so
    the file need not even be imported (``conftest.pytest_ignore_collect``).

    Only tier markers count, and a marker a test carries besides its file's is unknown:
    ``not kernels`` and ``not kernels and not npm`` deselect a kernels-tier file;
    ``not kernels or npm`` does not (one of its tests might be marked ``npm``). An
    expression this cannot read (marker arguments, a typo) deselects nothing here: pytest
    reads it itself.
    """
    marks = tier_markers(path if path.endswith("/") else path + "::")
    return bool(marks) and deselects(markexpr, marks)


def deselects(markexpr: str, marks: tuple[str, ...]) -> bool:
    """True if ``-m markexpr`` deselects a test carrying ``marks``, whatever other markers
    it carries (False too when the expression cannot be read here)."""
    if not markexpr.strip():
        return False
    try:
        tree = ast.parse(markexpr, mode="eval").body
    except SyntaxError:
        return False
    return _kleene(tree, frozenset(marks)) is False
