"""The shape of the package: module size, no private names across modules, one table row
per operator."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "autograd_lab"
COURSE = REPO / "course" / "autograd_lab_course"
#: autograd_lab (what a learner imports) and autograd_lab_course (the course tooling, no torch)
MODULES = sorted([*PACKAGE.rglob("*.py"), *COURSE.rglob("*.py")])
MAX_LINES = 500


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


# ---------------------------------------------------------------------------------------
# ARCHITECTURE.md matches the tree

ARCHITECTURE = (REPO / "ARCHITECTURE.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_module_is_named_in_architecture_md(path: Path) -> None:
    name = path.parent.name + "/" if path.name in ("__init__.py", "__main__.py") else path.name
    assert re.search(rf"(?<!\w){re.escape(name)}", ARCHITECTURE), (
        f"{path.relative_to(REPO)} is not named in ARCHITECTURE.md")


def _imported_modules(paths: list[Path], own: str) -> set[str]:
    """The autograd_lab modules ``paths`` import, outside the folder ``own``."""
    found: set[str] = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == \
                    "autograd_lab":
                parts = node.module.split(".")
                names = parts[1:2] or [a.name for a in node.names]
                found.update(n for n in names if n not in (own, "_version"))
    return found


def _declared_dependencies() -> dict[str, set[str]]:
    block = ARCHITECTURE.split("## What depends on what", 1)[1].split("```")[1]
    declared: dict[str, set[str]] = {}
    current: list[str] = []
    for line in block.splitlines():
        if "->" in line:
            left, right = line.split("->", 1)
            current = [m.strip() for m in left.split(",") if m.strip()]
            for module in current:
                declared[module] = set()
        elif not line.strip():
            continue
        right = line.split("->", 1)[1] if "->" in line else line
        names = re.findall(r"[a-z_]+", right.split("(")[0])
        for module in current:
            declared[module].update(n for n in names if n != "none")
    return declared


def test_architecture_md_says_what_imports_what() -> None:
    declared = _declared_dependencies()
    for path in sorted(PACKAGE.glob("*.py")):
        if path.stem in ("__init__", "_version", "course_alias"):
            continue
        assert declared.get(path.stem) == _imported_modules([path], ""), path.name
    for folder in ("widgets", "exercises"):
        modules = sorted((PACKAGE / folder).glob("*.py"))
        assert declared[f"{folder}/*"] == _imported_modules(modules, folder), folder
    assert "exercises" not in _imported_modules(sorted((PACKAGE / "widgets").glob("*.py")),
                                                "widgets")
