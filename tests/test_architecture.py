"""The shape of the package: module size, no private names across modules, one table row
per operator."""

from __future__ import annotations

import ast
import functools
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
# --- no private name of a third-party library ------------------------------------------------

#: Libraries whose private parts change at minor releases (issue 27): nothing in the packages
#: may import or touch a ``_name`` of theirs.
THIRD_PARTY = ("matplotlib", "ipywidgets", "ipykernel", "jupyter_client", "jupyter_server",
               "nbgrader", "jupyterhub", "torch")
#: IPython's display protocol: named with underscores, public by design.
PUBLIC_PROTOCOL = {"_repr_mimebundle_", "_ipython_display_", "_repr_html_"}
#: Every module of both packages: the learner's and the course tooling.
PACKAGE_FILES = MODULES
#: (file name, private name) pairs allowed, each with why no public API serves. None today.
ALLOWED: set[tuple[str, str]] = set()


def _private(name: str) -> bool:
    dunder = name.startswith("__") and name.endswith("__")
    return name.startswith("_") and not dunder and name not in PUBLIC_PROTOCOL


@functools.cache
def _own_names(paths: tuple[Path, ...]) -> set[str]:
    """Names the packages define themselves: functions, classes, variables, arguments and
    attributes set on ``self`` / ``cls`` (an attribute set on another object is not ours)."""
    own: set[str] = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                own.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                own.add(node.id)
            elif isinstance(node, ast.arg):
                own.add(node.arg)
            elif (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store)
                  and isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                own.add(node.attr)
    return own


def third_party_private_names(source: str, own: set[str]) -> list[str]:
    """Each use of a third-party private name in ``source``: an import of one (``from
    torch._C import …``, ``import torch._dynamo``), an attribute on a third-party module
    (``torch._C``), a private attribute the packages never define (``fig.canvas._lastKey``:
    it can only be the library's), or ``getattr``/``setattr``/``hasattr``/``delattr`` with a
    literal private name (``getattr(ax, "_x")`` slips past an attribute check otherwise)."""
    tree = ast.parse(source)
    modules: dict[str, bool] = {}  # alias -> is it a third-party module (or a name from one)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                third = alias.name.split(".")[0] in THIRD_PARTY
                modules[alias.asname or alias.name.split(".")[0]] = third
                if third and any(_private(p) for p in alias.name.split(".")):
                    found.append(f"import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.module:
            third = node.module.split(".")[0] in THIRD_PARTY
            for alias in node.names:
                modules[alias.asname or alias.name] = third
            if third and any(_private(p) for p in node.module.split(".")):
                found.append(f"from {node.module} import")
            found += [f"from {node.module} import {a.name}" for a in node.names
                      if third and _private(a.name)]
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            base = node.value.id if isinstance(node.value, ast.Name) else None
            if base in modules:  # a module: private only when it is a third-party one
                if modules[base]:
                    found.append(ast.unparse(node))
            elif node.attr not in own:
                found.append(ast.unparse(node))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in ("getattr", "setattr", "hasattr", "delattr")
              and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)
              and isinstance(node.args[1].value, str) and _private(node.args[1].value)):
            found.append(f"{node.func.id}(…, {node.args[1].value!r})")
    return found


@pytest.mark.parametrize("path", PACKAGE_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_private_name_of_a_third_party_library(path: Path) -> None:
    own = _own_names(tuple(PACKAGE_FILES))
    found = [name for name in third_party_private_names(path.read_text(encoding="utf-8"), own)
             if (path.name, name) not in ALLOWED]
    assert found == [], f"{path.name} uses private names of a library: {found}"


@pytest.mark.parametrize("source, expected", [
    ("import torch\nx = torch._C._get_tracing_state()", ["torch._C._get_tracing_state",
                                                         "torch._C"]),
    ("from torch._C import _functions", ["from torch._C import",
                                         "from torch._C import _functions"]),
    ("import matplotlib.pyplot as plt\nplt._backend_mod", ["plt._backend_mod"]),
    ("def f(fig):\n    return fig.canvas._lastKey", ["fig.canvas._lastKey"]),
    ("def f(ax):\n    return getattr(ax, '_autograd_lab_artists', None)",
     ["getattr(…, '_autograd_lab_artists')"]),
    ("import os\nos._exit(0)", []),  # the standard library is not in the list
    ("class A:\n    def f(self):\n        self._x = 1\n        return self._x", []),
    ("def f(w):\n    return w._repr_mimebundle_()", []),  # IPython's public protocol
])
def test_the_private_name_check_sees_each_kind_of_use(source: str, expected: list[str]) -> None:
    tree = ast.parse(source)
    own = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)
           and isinstance(n.ctx, ast.Store)} | {"f", "A"}
    assert sorted(third_party_private_names(source, own)) == sorted(expected)


def test_the_private_name_check_scans_every_package() -> None:
    names = {p.relative_to(REPO).parts[0] for p in PACKAGE_FILES}
    assert names == {"autograd_lab", "course"}
    assert len(ALLOWED) <= 3  # the cap on exceptions
