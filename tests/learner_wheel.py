"""The learner's wheel, built once per test run however many pytest-xdist workers ask for
it (the ``learner_wheel`` fixture in conftest.py; ``tests/test_wheel.py`` and
``tests/test_package_split.py`` read it)."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` between processes (where ``fcntl`` exists)."""
    try:
        import fcntl
    except ImportError:  # Windows: each worker may build its own copy; still correct
        yield
        return
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build(root: Path, folder: Path) -> Path:
    """``pip wheel --no-deps`` of a copy of ``root``'s files (git's tracked and new,
    unignored ones) into ``folder/dist``; the wheel's path."""
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=root, capture_output=True, text=True, check=True,
    ).stdout.split("\0")
    source = folder / "checkout"
    for rel in filter(None, files):
        if (root / rel).is_file():
            (source / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / rel, source / rel)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "--wheel-dir", str(folder / "dist"), str(source)],
        check=True, capture_output=True,
    )
    (built,) = sorted((folder / "dist").glob("*.whl"))
    return built


def build_once(root: Path, folder: Path) -> Path:
    """The wheel in ``folder``, built by whichever process gets there first."""
    folder.mkdir(parents=True, exist_ok=True)
    with _locked(folder.with_suffix(".lock")):
        built = sorted((folder / "dist").glob("*.whl"))
        if len(built) == 1 and (folder / "done").exists():
            return built[0]
        shutil.rmtree(folder / "checkout", ignore_errors=True)
        shutil.rmtree(folder / "dist", ignore_errors=True)
        wheel = build(root, folder)
        (folder / "done").touch()
        return wheel
