"""Rebinding in a submission, found by reading its code: :func:`scan_notebook`.

A submission runs in the same process as its hidden tests, so it could change what they
call. Grading loads the checks afresh for the hidden tests (``autograd_lab.exercises.
fresh_copy``); this scan reports every line that tries to change them anyway, so the
instructor can review it (:mod:`~autograd_lab_course.grading.flag_rebinding` flags the
notebook; the score is left alone). Each code cell is parsed with :mod:`ast` (IPython
syntax first turned into Python by IPython's public ``TransformerManager``); nothing is run.

What counts as rebinding (each one :class:`Finding`):

* binding again a name the notebook imported from ``autograd_lab``
  (``check_gradient = lambda *a, **k: ...``, ``def check_gradient``, ``for check_gradient
  in``, ``import x as check_gradient``, ``global`` then assignment);
* writing or deleting an attribute or item under an ``autograd_lab`` module or anything
  imported from it (``autograd_lab.exercises.check_gradient = f``, ``setattr(ex, ...)``,
  ``student_code.TIME_LIMIT = 1e9``, ``check_gradient.__code__ = ...``);
* writing under ``builtins`` / ``__builtins__`` (``builtins.print = f``,
  ``setattr(builtins, ...)``, ``__builtins__["len"] = f``);
* any use of ``sys.modules``, ``sys.meta_path``, ``sys.path_hooks`` or
  ``sys.path_importer_cache``, and writing an attribute of ``sys``;
* writing into ``globals()``, ``locals()`` or ``vars()`` (item assignment, ``update``, …);
* ``exec``, ``eval``, ``compile``, ``importlib.reload``, or IPython's ``run_cell`` with
  text that is not written out: code this scan cannot read (the code of ``%time …`` and
  other magics is read).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["Finding", "IMPORT_MACHINERY", "PACKAGE", "scan_notebook", "scan_source"]

#: Names imported from this package are the ones a submission must not rebind.
PACKAGE = "autograd_lab"
#: ``sys`` attributes that decide what an import returns.
IMPORT_MACHINERY = frozenset({"modules", "meta_path", "path_hooks", "path_importer_cache"})
_NAMESPACES = frozenset({"globals", "locals", "vars"})
_OPAQUE = frozenset({"exec", "eval", "compile"})
#: IPython's ways to run code given as text (what ``%magic`` and ``%%magic`` become).
_IPYTHON_RUNS = frozenset({"run_line_magic", "run_cell_magic", "run_cell"})
_MUTATORS = frozenset({"update", "setdefault", "pop", "popitem", "clear", "__setitem__",
                       "__delitem__", "__setattr__", "__delattr__"})


@dataclass(frozen=True)
class Finding:
    """One rebinding: the cell (its index and nbgrader id), the line, and what it does."""

    cell: int
    cell_id: str
    line: int
    what: str

    def __str__(self) -> str:
        where = f"cell {self.cell_id!r}" if self.cell_id else f"cell {self.cell + 1}"
        return f"{where}, line {self.line}: {self.what}"


def _root(node: ast.expr) -> ast.expr:
    """``a`` of ``a.b[c].d``; the call of ``globals()[k]``."""
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node


def _from_package(module: str) -> bool:
    return module == PACKAGE or module.startswith(PACKAGE + ".")


def _short(node: ast.expr) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 60 else text[:57] + "..."


def _dotted(node: ast.expr) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


class _Scanner(ast.NodeVisitor):
    """Collects findings of one cell; ``guarded`` (names from the package) is shared."""

    def __init__(self, guarded: set[str], builtins: set[str], sys_names: set[str]) -> None:
        self.guarded = guarded
        self.builtins = builtins
        self.sys_names = sys_names
        self.found: list[tuple[int, str]] = []

    def report(self, node: ast.AST, what: str) -> None:
        self.found.append((getattr(node, "lineno", 0), what))

    # -- names that import statements bind
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if not _from_package(alias.name):
                self._rebinds(node, alias.asname or alias.name.split(".")[0])
        _collect(node, self.guarded, self.builtins, self.sys_names)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        for alias in node.names:
            if not _from_package(module):
                self._rebinds(node, alias.asname or alias.name)
            if module == "sys" and alias.name in IMPORT_MACHINERY:
                self.report(node, f"imports sys.{alias.name}, which decides what imports return")
        _collect(node, self.guarded, self.builtins, self.sys_names)

    def _rebinds(self, node: ast.AST, name: str) -> None:
        if name in self.guarded:
            self.report(node, f"binds {name!r} again, a name imported from {PACKAGE}")

    # -- stores and deletions
    def _target(self, node: ast.AST, target: ast.expr, verb: str) -> None:
        if isinstance(target, ast.Name):
            self._rebinds(node, target.id)
        elif isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                self._target(node, element, verb)
        elif isinstance(target, ast.Starred):
            self._target(node, target.value, verb)
        elif isinstance(target, ast.Attribute | ast.Subscript):
            self._under(node, target, verb)

    def _under(self, node: ast.AST, target: ast.expr, verb: str) -> None:
        """A write (``verb``) to an attribute or item of ``target``'s root object."""
        root = _root(target)
        text = _short(target.value if isinstance(target, ast.Attribute) and target.attr == "?"
                      else target)
        if isinstance(root, ast.Name):
            if root.id in self.guarded:
                self.report(node, f"{verb} {text}, part of {PACKAGE}")
            elif root.id in self.builtins or root.id == "__builtins__":
                self.report(node, f"{verb} {text}, a builtin")
            elif root.id in self.sys_names:
                self.report(node, f"{verb} {text}, part of sys")
        elif isinstance(root, ast.Call) and isinstance(root.func, ast.Name) \
                and root.func.id in _NAMESPACES:
            self.report(node, f"{verb} {text}")

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._target(node, target, "sets")
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._target(node, node.target, "sets")
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._target(node, node.target, "changes")
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self._target(node, target, "deletes")
        self.generic_visit(node)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self._target(node, node.target, "sets")
        self.generic_visit(node)

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self._target(node, node.target, "sets")
        self.generic_visit(node)

    visit_AsyncFor = visit_For

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            if item.optional_vars is not None:
                self._target(node, item.optional_vars, "sets")
        self.generic_visit(node)

    visit_AsyncWith = visit_With

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._rebinds(node, node.name)
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._rebinds(node, node.name)
        self.generic_visit(node)

    # -- calls that write: setattr, delattr, namespace updates, exec
    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id in ("setattr", "delattr") and node.args:
            verb = "sets an attribute of" if func.id == "setattr" else "deletes an attribute of"
            self._under(node, ast.Attribute(value=node.args[0], attr="?"), verb)
        elif isinstance(func, ast.Name) and func.id in _OPAQUE:
            self.report(node, f"calls {func.id}(), code this check cannot read")
        elif isinstance(func, ast.Attribute) and func.attr in _IPYTHON_RUNS:
            self._magic(node)
        elif _dotted(func) in ("importlib.reload", "reload"):
            self.report(node, "reloads a module")
        elif isinstance(func, ast.Attribute) and func.attr in _MUTATORS:
            self._under(node, ast.Attribute(value=func.value, attr="?"), f"calls {func.attr} on")
        self.generic_visit(node)

    def _magic(self, node: ast.Call) -> None:
        """``%time code`` / ``%%time`` cells: the code in the magic's text is read too."""
        text = node.args[-1] if node.args else None
        if not (isinstance(text, ast.Constant) and isinstance(text.value, str)):
            self.report(node, "runs code this check cannot read")
            return
        try:
            inner = ast.parse(text.value)
        except (SyntaxError, ValueError):
            return
        for child in ast.walk(inner):
            if hasattr(child, "lineno"):
                child.lineno = node.lineno
        self.visit(inner)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in IMPORT_MACHINERY and isinstance(node.value, ast.Name) \
                and node.value.id in self.sys_names:
            self.report(node, f"uses sys.{node.attr}, which decides what imports return")
        self.generic_visit(node)


def _python(source: str) -> str:
    """IPython syntax (``%magic``, ``!cmd``) as the Python IPython runs; as is without IPython."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # pragma: no cover - nbgrader's environment has IPython
        return source
    return TransformerManager().transform_cell(source)


def scan_source(sources: Iterable[tuple[str, str]]) -> list[Finding]:
    """Findings in code cells given as ``(nbgrader id or "", source)``, in order.

    A cell that does not parse is skipped (it ran as an error, and earned nothing).
    """
    guarded: set[str] = set()
    builtins: set[str] = set()
    sys_names: set[str] = set()
    findings = []
    for index, (cell_id, source) in enumerate(sources):
        try:
            tree = ast.parse(_python(source))
        except (SyntaxError, ValueError):
            continue
        scanner = _Scanner(guarded, builtins, sys_names)
        scanner.visit(tree)
        findings += [Finding(index, cell_id, line, what)
                     for line, what in dict.fromkeys(scanner.found)]
    return findings


def _collect(node: ast.Import | ast.ImportFrom, guarded: set[str], builtins: set[str],
             sys_names: set[str]) -> None:
    """Names an import binds to package objects, ``builtins`` or ``sys`` (no finding yet)."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            bound = alias.asname or alias.name.split(".")[0]
            if _from_package(alias.name):
                guarded.add(bound)
            elif alias.name == "builtins":
                builtins.add(bound)
            elif alias.name == "sys":
                sys_names.add(bound)
    elif _from_package(node.module or ""):
        guarded.update(alias.asname or alias.name for alias in node.names)


def _cells(nb: Any) -> Iterator[tuple[str, str]]:
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            meta = cell.get("metadata", {}).get("nbgrader", {})
            source = cell.get("source", "")
            yield meta.get("grade_id", ""), "".join(source) if isinstance(source, list) else source


def scan_notebook(nb: Any) -> list[Finding]:
    """Findings in every code cell of a notebook (an nbformat node or its JSON dict).

    Cell indices count code cells only.
    """
    return scan_source(_cells(nb))
