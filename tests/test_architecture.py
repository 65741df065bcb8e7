"""The shape of the package: module size, no private names across modules, one table row
per operator."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "autograd_lab"
COURSE = REPO / "course" / "autograd_lab_course"
#: autograd_lab (what a learner imports) and autograd_lab_course (the course tooling, no torch)
MODULES = sorted([*PACKAGE.rglob("*.py"), *COURSE.rglob("*.py")])
MAX_LINES = 400


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_module_is_over_the_line_cap(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.name} has {lines} lines (cap {MAX_LINES}): split it"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_module_imports_another_modules_private_name(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    private = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("autograd_lab"):
            if node.module != "autograd_lab._version":
                private += [a.name for a in node.names if a.name.startswith("_")]
            if any(part.startswith("_") for part in node.module.split(".")[1:]) and \
                    node.module != "autograd_lab._version":
                private.append(node.module)
    assert private == [], f"{path.name} imports private names {private}"


def test_the_line_cap_test_sees_every_module() -> None:
    names = {p.name for p in MODULES}
    assert {"derivation.py", "operators.py", "expression.py", "base.py"} <= names
