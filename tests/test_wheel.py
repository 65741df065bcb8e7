"""The learner's wheel (issue 33): ``pip wheel --no-deps .`` from the root holds the learner
package only, installs only the learner's dependencies, and describes itself in a few lines.

The wheel is built from a copy of the checkout's files (git's tracked and new, unignored
files) so the build's ``build/`` and ``*.egg-info`` never land in the working tree, once per
test run (the ``learner_wheel`` fixture, ``tests/learner_wheel.py``).
"""

from __future__ import annotations

import ast
import email
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
#: What a learner's ``pip install autograd-lab`` may pull in, and nothing else.
LEARNER_DEPENDENCIES = {"torch", "numpy", "matplotlib", "ipywidgets"}
#: What the learner package's modules may import besides the standard library and itself:
#: its dependencies, and what they bring (IPython with ipywidgets, Pillow with matplotlib),
#: and Colab's google.colab, imported only inside Colab.
IMPORTABLE = LEARNER_DEPENDENCIES | {"autograd_lab", "IPython", "PIL", "google"}


@pytest.fixture(scope="module")
def wheel(learner_wheel: Path) -> zipfile.ZipFile:
    with zipfile.ZipFile(learner_wheel) as archive:
        yield archive


def _dist_info(wheel: zipfile.ZipFile, name: str) -> str | None:
    matches = [n for n in wheel.namelist() if n.endswith(f".dist-info/{name}")]
    return wheel.read(matches[0]).decode("utf-8") if matches else None


def test_only_the_learner_package(wheel: zipfile.ZipFile) -> None:
    """autograd_lab and its dist-info: no grading package, notebooks, tests or teacher files."""
    names = wheel.namelist()
    tops = {n.split("/")[0] for n in names}
    dist_info = {t for t in tops if t.endswith(".dist-info")}
    assert tops - dist_info == {"autograd_lab"}, sorted(tops)
    #: The three command aliases (``python -m autograd_lab.lab|workspace|classroom``): a
    #: three-line ``__main__`` each that says the course tools are not installed.
    aliases = {f"autograd_lab/{a}/{f}" for a in ("lab", "workspace", "classroom")
               for f in ("__init__.py", "__main__.py")}
    for name in names:
        assert not name.endswith((".ipynb", ".md")), name
        if name in aliases:
            continue
        assert not {"tests", "notebooks", "teacher-notes", "classroom", "deploy"} & set(
            name.split("/")), name


def test_the_modules_import_only_the_learners_dependencies(wheel: zipfile.ZipFile) -> None:
    """Every module in the wheel imports the standard library, itself and the learner's
    dependencies only: course tooling (Jupyter servers, JupyterHub, nbgrader) lives
    elsewhere, so nothing in a learner's install needs it."""
    stray: dict[str, set[str]] = {}
    for name in wheel.namelist():
        if not name.endswith(".py"):
            continue
        for node in ast.walk(ast.parse(wheel.read(name).decode("utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top not in sys.stdlib_module_names and top not in IMPORTABLE:
                    stray.setdefault(top, set()).add(name)
                if top == "google":
                    assert module.startswith("google.colab"), (name, module)
    assert not stray, {k: sorted(v)[:3] for k, v in stray.items()}


def test_install_pulls_only_the_learners_dependencies(wheel: zipfile.ZipFile) -> None:
    metadata = email.message_from_string(_dist_info(wheel, "METADATA") or "")
    plain = set()
    for text in metadata.get_all("Requires-Dist") or []:
        requirement = Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            plain.add(requirement.name.lower())
    assert plain == LEARNER_DEPENDENCIES
    requirement = next(Requirement(t) for t in metadata.get_all("Requires-Dist")
                       if Requirement(t).name == "ipywidgets")
    assert requirement.specifier.contains("7.7.1"), "Colab's ipywidgets 7.7.1 must be allowed"
    assert requirement.specifier.contains("8.1.9")


def test_no_kernel_provisioner_entry_point(wheel: zipfile.ZipFile) -> None:
    """The warm-kernel provisioner belongs to the course tooling, not to a learner's kernel."""
    entry_points = _dist_info(wheel, "entry_points.txt") or ""
    assert "jupyter_client.kernel_provisioners" not in entry_points
    assert "autograd_lab_grading" not in entry_points


def test_a_short_description(wheel: zipfile.ZipFile) -> None:
    """The index page says what the package is in a paragraph, not the whole README."""
    metadata = email.message_from_string(_dist_info(wheel, "METADATA") or "")
    body = metadata.get_payload()
    assert "autograd" in body and "PyTorch" in body
    assert 0 < len(body) < 1500, len(body)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make test" not in body and readme.splitlines()[0] not in body.splitlines()
