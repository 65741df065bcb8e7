"""environment.yml, the lock, pyproject.toml and the running environment agree."""

from __future__ import annotations

import importlib.metadata
import re
import sys
from pathlib import Path

import pytest
import tomllib
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!-]+)$")


def _lock() -> dict[str, str]:
    pins: dict[str, str] = {}
    for number, raw in enumerate((REPO / "requirements" / "lock.txt").read_text().splitlines()):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = PIN.match(line)
        assert match, f"lock.txt line {number + 1} is not an exact name==version pin: {line!r}"
        name = canonicalize_name(match.group(1))
        assert name not in pins, f"{name} is pinned twice in lock.txt"
        pins[name] = match.group(2)
    return pins


def _pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def test_lock_pins_torch_exactly() -> None:
    assert _lock()["torch"] == "2.13.0"


def test_environment_yml_installs_the_lock_and_the_package() -> None:
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    assert env["channels"][0] == "conda-forge"
    assert "defaults" not in env["channels"]
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict)]
    assert "python=3.11" in conda and "pip" in conda
    # Nothing but python and pip from conda: every other version comes from the one lock.
    assert sorted(conda) == ["pip", "python=3.11"]
    assert pip_sections == [["-r requirements/lock.txt", "-e .", "-e course"]]
    assert (REPO / "requirements" / "lock.txt").is_file()


def test_python_version_agrees() -> None:
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    (python,) = [d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python")]
    major_minor = python.split("=", 1)[1]
    spec = _pyproject()["project"]["requires-python"]
    assert Version(f"{major_minor}.0") in Requirement(f"python{spec}").specifier


def _declared_requirements() -> list[Requirement]:
    """Every requirement of the two distributions (the root and ``course/``), but the root one
    that the course names (installed from this clone, not from the lock)."""
    reqs = []
    for pyproject in (REPO / "pyproject.toml", REPO / "course" / "pyproject.toml"):
        project = tomllib.loads(pyproject.read_text())["project"]
        reqs += [Requirement(r) for r in project["dependencies"]]
        for extra in project.get("optional-dependencies", {}).values():
            reqs += [Requirement(r) for r in extra]
    return [r for r in reqs if canonicalize_name(r.name) != "autograd-lab"]


@pytest.mark.parametrize("requirement", _declared_requirements(), ids=str)
def test_lock_satisfies_pyproject(requirement: Requirement) -> None:
    """Every dependency and extra of the package is pinned, inside its declared range."""
    pins = _lock()
    name = canonicalize_name(requirement.name)
    assert name in pins, f"{requirement.name} is declared in pyproject.toml but not locked"
    assert requirement.specifier.contains(pins[name], prereleases=True), (
        f"lock pins {name}=={pins[name]}, outside pyproject's range {requirement.specifier}"
    )


def test_running_environment_matches_the_lock() -> None:
    """The environment the tests run in is the lock (what `make` builds), version for version."""
    if sys.version_info[:2] != (3, 11):
        pytest.fail(f"the lock is for Python 3.11; this is {sys.version.split()[0]}")
    mismatched = []
    for name, pinned in _lock().items():
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            mismatched.append(f"{name}: not installed (lock {pinned})")
            continue
        if Version(installed.split("+")[0]) != Version(pinned):
            mismatched.append(f"{name}: installed {installed}, lock {pinned}")
    assert mismatched == []
