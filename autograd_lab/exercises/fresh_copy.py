"""The checks as the package ships them, whatever a notebook rebound: :func:`fresh_checks`.

A grading notebook's hidden tests must not call ``check_gradient`` from the notebook's own
names: one line (``check_gradient = lambda *a, **k: SimpleNamespace(ok=True)``) would pass
every answer. They call :func:`fresh_checks`, which loads :mod:`autograd_lab.exercises` (and
every ``autograd_lab`` module it imports; not the top package's ``__init__``) again **from
the package's files**, under a private
name of its own (``_autograd_lab_fresh_<n>``), so

* nothing in the notebook's globals is used (the names are looked up in the new copy);
* no ``autograd_lab`` entry of ``sys.modules`` is used: while the copy loads, those entries
  are set aside and an import finder in front of ``sys.meta_path`` reads each module from
  its file under :data:`PACKAGE_DIR`; afterwards they are put back as they were;
* attributes the notebook set on the loaded modules (``autograd_lab.exercises.student_code.
  TIME_LIMIT = 1e9``) are not in the copy.

Two modules are shared, not loaded again (:data:`SHARED`): the engine and the network
classes answers are built on, so that a check sees a student's ``Value`` as a ``Value``.

The copy's modules stay in ``sys.modules`` under their private names (a check's verdict is
pickled from the forked process it runs in, and pickle finds a class through its module's
name). Each call makes a new copy; its cost is executing the modules' cached bytecode.

Inside one process this cannot be a wall: code that replaces ``sys.meta_path``, ``builtins``
or this module itself can still reach the copy. Those are the rebindings grading flags for
the instructor (``autograd_lab_course.grading``).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import itertools
import sys
from pathlib import Path
from types import ModuleType

__all__ = ["PACKAGE", "PACKAGE_DIR", "SHARED", "fresh_checks", "fresh_module", "rebindings"]

#: The package a fresh copy is read from, and its folder.
PACKAGE = "autograd_lab"
PACKAGE_DIR = Path(__file__).resolve().parent.parent

#: Modules a copy shares with the notebook instead of loading again: the classes students
#: build their answers on (``Value``, ``Neuron``, ``Layer``, ``MLP``), which the checks must
#: recognise as the same classes. Shared only while ``sys.modules`` holds the package's own
#: module for them; otherwise they are loaded again too.
SHARED = ("autograd_lab.engine", "autograd_lab.mlp")

_copies = itertools.count(1)


def _ours(name: str) -> bool:
    return name == PACKAGE or name.startswith(PACKAGE + ".")


class _PrivateLoader(importlib.machinery.SourceFileLoader):
    """Executes a module's file with ``__name__`` set to its private name."""

    def __init__(self, fullname: str, path: str, private: str, *, bare: bool = False) -> None:
        super().__init__(fullname, path)
        self.private = private
        self.bare = bare

    def exec_module(self, module: ModuleType) -> None:
        module.__name__ = self.private  # so classes and functions name the private module
        sys.modules[self.private] = module
        if not self.bare:
            exec(self.get_code(self.name), module.__dict__)  # noqa: S102 - the package's file


class _PackageFinder:
    """Finds ``autograd_lab`` modules in :data:`PACKAGE_DIR` only (a ``sys.meta_path`` entry)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def find_spec(self, fullname: str, path: object = None,
                  target: object = None) -> importlib.machinery.ModuleSpec | None:
        if not _ours(fullname):
            return None
        parts = fullname.split(".")[1:]
        folder = PACKAGE_DIR.joinpath(*parts)
        private = ".".join([self.prefix, *parts])
        if (folder / "__init__.py").is_file():
            file, locations = folder / "__init__.py", [str(folder)]
        elif folder.with_suffix(".py").is_file():
            file, locations = folder.with_suffix(".py"), None
        else:
            return None
        # the top package's __init__ (the whole public API) is not run: only the modules
        # the checks import are loaded
        loader = _PrivateLoader(fullname, str(file), private, bare=fullname == PACKAGE)
        return importlib.util.spec_from_file_location(
            fullname, file, loader=loader, submodule_search_locations=locations)


def fresh_module(name: str = f"{PACKAGE}.exercises") -> ModuleType:
    """A new copy of the module ``name`` (an ``autograd_lab`` module), loaded from its file.

    ``sys.modules`` is left as it was for every ``autograd_lab`` name.
    """
    if not _ours(name):
        raise ValueError(f"fresh_module loads {PACKAGE} modules only, not {name[:40]!r}")
    finder = _PackageFinder(f"_{PACKAGE}_fresh_{next(_copies)}")
    saved = {key: sys.modules.pop(key) for key in [key for key in sys.modules if _ours(key)]}
    for key in SHARED:
        if isinstance(saved.get(key), ModuleType) and _in_package(saved[key]):
            sys.modules[key] = saved[key]
    sys.meta_path.insert(0, finder)
    try:
        module = importlib.import_module(name)
    finally:
        sys.meta_path.remove(finder)
        for key in [key for key in sys.modules if _ours(key)]:
            del sys.modules[key]
        sys.modules.update(saved)
    return module


def fresh_checks() -> ModuleType:
    """A new copy of :mod:`autograd_lab.exercises` (every check), loaded from its files.

    For hidden tests: ``fresh_checks().check_gradient("exp_cos", "x", dz_dx).ok``.
    """
    return fresh_module(f"{PACKAGE}.exercises")


def _unwrapped(value: object) -> list[object]:
    chain = [value]
    while hasattr(chain[-1], "__wrapped__") and len(chain) < 10:
        chain.append(chain[-1].__wrapped__)
    return chain


def _same(value: object, fresh: object) -> bool:
    """Whether ``value`` is the package's ``fresh`` object (or an equal copy of it)."""
    if value is fresh:
        return True
    if isinstance(fresh, ModuleType):
        return isinstance(value, ModuleType) and _in_package(value)
    if callable(fresh) and hasattr(fresh, "__code__"):
        ours, theirs = _unwrapped(value), _unwrapped(fresh)
        return len(ours) == len(theirs) and all(
            getattr(a, "__code__", None) == b.__code__ for a, b in zip(ours, theirs, strict=True))
    if isinstance(fresh, type):
        return isinstance(value, type) and value.__qualname__ == fresh.__qualname__ and \
            value.__module__.split(".")[1:] == fresh.__module__.split(".")[1:]
    if isinstance(fresh, int | float | str | bool | type(None)):
        try:
            return type(value) is type(fresh) and bool(value == fresh)
        except Exception:  # noqa: BLE001 - a comparison that raises is not the same value
            return False
    if isinstance(fresh, list | dict | set):
        # state the package changes as it runs (the wrong tries a check counts, TRIES): a
        # notebook that checks a wrong answer changes it too, so only its kind is compared
        return type(value) is type(fresh)
    if isinstance(fresh, tuple | frozenset):
        return type(value) is type(fresh) and len(value) == len(fresh)
    return type(value).__qualname__ == type(fresh).__qualname__


def _in_package(module: ModuleType) -> bool:
    file = getattr(module, "__file__", None)
    return isinstance(file, str) and Path(file).resolve().is_relative_to(PACKAGE_DIR)


def _made_in_notebook(value: object) -> bool:
    code = getattr(value, "__code__", None)
    file = getattr(code, "co_filename", "")
    return code is not None and (file.startswith("<") or "ipykernel_" in file)


def rebindings(namespace: dict[str, object]) -> list[str]:
    """What a notebook rebound, one short sentence each (empty: nothing).

    ``namespace`` is the notebook's globals. Compared with a :func:`fresh_checks` copy: the
    check names in ``namespace`` and in the loaded :mod:`autograd_lab.exercises` modules'
    attributes (functions by their code, down the ``__wrapped__`` chain), the
    ``autograd_lab`` entries of ``sys.modules`` (modules from :data:`PACKAGE_DIR`), and
    ``builtins`` (no function defined in the notebook).
    """
    import builtins

    found = []
    fresh = fresh_checks()
    for name in fresh.__all__:
        if name in namespace and not _same(namespace[name], getattr(fresh, name)):
            found.append(f"{name} in the notebook is not the package's")
    for key, module in list(sys.modules.items()):
        if not _ours(key):
            continue
        if not isinstance(module, ModuleType) or not _in_package(module):
            found.append(f"sys.modules[{key[:60]!r}] is not the package's module")
            continue
        if not key.startswith(f"{PACKAGE}.exercises"):
            continue
        copy = sys.modules.get(fresh.__name__ + key[len(f"{PACKAGE}.exercises"):])
        for attr, value in (vars(copy) if copy is not None else {}).items():
            if attr.startswith("__") or attr not in vars(module):
                continue
            if not _same(vars(module)[attr], value):
                found.append(f"{key}.{attr} was changed")
    for name, value in vars(builtins).items():
        if _made_in_notebook(value):
            found.append(f"builtins.{name} was replaced by the notebook")
    return found
