"""Two packages by audience: ``autograd_lab`` (what a learner imports, the root wheel) and
``autograd_lab_course`` (the course tooling, ``course/``), which imports no torch."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograd_lab import course_alias

REPO = Path(__file__).resolve().parents[1]
COURSE = REPO / "course" / "autograd_lab_course"
#: Files of the course package that are not modules to import: the hub's config file (run by
#: JupyterHub with its ``c``) and the ``__main__`` of ``python -m``.
NOT_IMPORTED = {"jupyterhub_config.py", "__main__.py"}
#: What the learner wheel may require (names as in pyproject's dependencies).
LEARNER_REQUIREMENTS = {"torch", "numpy", "matplotlib", "ipywidgets"}


def _course_modules() -> list[str]:
    names = []
    for path in sorted(COURSE.rglob("*.py")):
        if path.name in NOT_IMPORTED:
            continue
        parts = path.relative_to(COURSE.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_the_course_package_imports_no_torch() -> None:
    """Every module of autograd_lab_course, imported in a new process, leaves torch (and
    autograd_lab, which imports it) out of ``sys.modules``."""
    modules = _course_modules()
    assert {"autograd_lab_course", "autograd_lab_course.lab_launcher",
            "autograd_lab_course.grading.warm_kernels"} <= set(modules)
    code = ("import importlib, json, sys\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            "print(json.dumps(sorted(n for n in sys.modules if n.split('.')[0] in "
            "('torch', 'autograd_lab'))))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=False, cwd=REPO)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout) == []


def test_the_learner_package_holds_no_course_tooling() -> None:
    names = {p.relative_to(REPO / "autograd_lab").as_posix()
             for p in (REPO / "autograd_lab").rglob("*.py")}
    for old in ("lab.py", "lab_env.py", "workspace.py", "ports.py",
                "classroom/hub.py"):
        assert old not in names
    assert not list((REPO / "autograd_lab_grading").glob("*.py"))


@pytest.mark.parametrize("alias, module", [
    ("lab", "autograd_lab_course.lab_launcher"),
    ("workspace", "autograd_lab_course.workspace"),
    ("classroom", "autograd_lab_course.classroom.cli"),
])
def test_old_command_lines_are_aliases(alias: str, module: str) -> None:
    """``python -m autograd_lab.<alias>`` runs the course module's ``main`` and nothing else."""
    main = (REPO / "autograd_lab" / alias / "__main__.py").read_text(encoding="utf-8")
    assert f'run("{module}")' in main
    assert len(main.splitlines()) <= 6


def test_an_alias_runs_the_course_command(monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["python -m autograd_lab.workspace", "--help"])
    with pytest.raises(SystemExit) as exit_:
        course_alias.run("autograd_lab_course.workspace")
    assert exit_.value.code == 0
    assert "DEST" in capsys.readouterr().out


def test_an_alias_without_the_course_package_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in sys.modules if n.startswith("autograd_lab_course")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "autograd_lab_course", None)  # as if not installed
    with pytest.raises(SystemExit) as exit_:
        course_alias.run("autograd_lab_course.workspace")
    assert exit_.value.code == course_alias.NOT_INSTALLED
    assert course_alias.NOT_INSTALLED.count(". ") == 0  # one sentence


def test_the_learner_wheel_is_autograd_lab_alone(learner_wheel: Path) -> None:
    """``pip wheel .`` at the root (the ``learner_wheel`` fixture, built from a copy of the
    checkout): only ``autograd_lab``, no kernel provisioner, and only the learner's four
    requirements (extras aside)."""
    wheel = learner_wheel
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        requires = [line.split(":", 1)[1].strip() for line in
                    archive.read(metadata).decode().splitlines()
                    if line.startswith("Requires-Dist:")]
        entry_points = [n for n in names if n.endswith("entry_points.txt")]
        text = "".join(archive.read(n).decode() for n in entry_points)
    packages = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert packages == {"autograd_lab"}
    assert "kernel_provisioners" not in text
    plain = {r.split(">")[0].split("<")[0].split("=")[0].strip() for r in requires
             if "extra ==" not in r}
    assert plain == LEARNER_REQUIREMENTS
