"""The Python the students' and the instructor's servers run: one they can execute.

The course environment (``.venv``) may be built on an interpreter an unprivileged user cannot
run (pyenv under ``/root``, mode 0700). So the classroom builds, once, ``DIR/runtime``: a venv
of the system's ``python3.X`` (same minor version as the course environment, so the same
compiled packages load) that reads the course environment's packages — a ``.pth`` file adds
its site-packages with ``site.addsitedir`` (editable installs included) — instead of copying
them (no second 1 GB install: building it takes about a second). It is root's and read-only
to everyone else; Jupyter's data and settings are links into the course environment
(everything under ``share/jupyter`` but the kernelspecs, and ``etc/jupyter``); its ``bin``
holds the course environment's console scripts, rewritten to start it; and it holds its own
kernelspecs (``python3`` and the grading kernel, both starting this interpreter).

A later start reuses it when its ``.pth`` still names this course environment (and this
layout's version).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

__all__ = ["RuntimeError_", "build_runtime", "runtime_python", "system_python"]

_PTH = "autograd_lab_course_env.pth"
#: Bumped when what the runtime holds changes (an older runtime is rebuilt).
_VERSION = 3


class RuntimeError_(RuntimeError):  # noqa: N801 - a builtin already has the plain name
    """The runtime cannot be built (one sentence says why)."""


def system_python() -> str:
    """The system's interpreter of this minor version (``/usr/bin/python3.11``)."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for folder in ("/usr/bin", "/usr/local/bin"):
        candidate = Path(folder) / version
        if candidate.is_file() and os.access(candidate, os.X_OK):
            mode = candidate.stat().st_mode
            if mode & 0o001:  # others may execute it
                return str(candidate)
    raise RuntimeError_(
        f"No system {version} that every user can run: install it "
        f"(apt-get install {version}-venv)."
    )


def runtime_python(runtime: Path) -> Path:
    return runtime / "bin" / "python"


def _pth_line(site_packages: str) -> str:
    return f"import site; site.addsitedir({site_packages!r})  # runtime {_VERSION}\n"


def _links() -> list[tuple[str, Path]]:
    """``(where in the runtime, what in the course environment)``: every data folder of
    ``share/jupyter`` (JupyterLab's build, lab extensions, nbconvert's templates, …) but the
    kernelspecs, and ``etc/jupyter`` (which server extensions are on)."""
    share = Path(sys.prefix) / "share" / "jupyter"
    links = [(f"share/jupyter/{p.name}", p) for p in sorted(share.iterdir())
             if p.name != "kernels"] if share.is_dir() else []
    etc = Path(sys.prefix) / "etc" / "jupyter"
    return links + ([("etc/jupyter", etc)] if etc.is_dir() else [])


def _copy_scripts(python: Path) -> None:
    """The course environment's console scripts (``alembic``, ``jupyter``, ``nbgrader``, …:
    nbgrader runs ``alembic`` from PATH) into the runtime's ``bin``, starting its python."""
    for script in sorted((Path(sys.prefix) / "bin").iterdir()):
        copy = python.parent / script.name
        if copy.exists() or copy.is_symlink() or not script.is_file():
            continue
        try:
            head, _, body = script.read_bytes().partition(b"\n")
        except OSError:
            continue
        if head.startswith(b"#!") and b"python" in head:
            copy.write_bytes(b"#!" + str(python).encode() + b"\n" + body)
            copy.chmod(0o755)


def build_runtime(runtime: Path) -> Path:
    """Build (or reuse) the runtime venv at ``runtime``; its python."""
    site_packages = sysconfig.get_paths()["purelib"]
    python = runtime_python(runtime)
    pth = runtime / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / \
        "site-packages" / _PTH
    if python.exists() and pth.is_file() and pth.read_text() == _pth_line(site_packages):
        return python
    shutil.rmtree(runtime, ignore_errors=True)
    made = subprocess.run([system_python(), "-m", "venv", "--without-pip", str(runtime)],
                          capture_output=True, text=True, check=False)
    if made.returncode != 0:
        raise RuntimeError_(f"Cannot make the runtime venv ({made.stderr.strip()[:60]}).")
    pth.parent.mkdir(parents=True, exist_ok=True)
    pth.write_text(_pth_line(site_packages))
    for rel, target in _links():
        link = runtime / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(target)
    _copy_scripts(python)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "JUPYTER_PATH")}
    for command in (["-m", "ipykernel", "install", "--sys-prefix"],
                    ["-m", "autograd_lab_course.grading"]):
        done = subprocess.run([str(python), *command], capture_output=True, text=True,
                              check=False, env=env)
        if done.returncode != 0:
            raise RuntimeError_(f"Cannot set up the runtime ({done.stderr.strip()[-60:]}).")
    for folder, dirs, files in os.walk(runtime):
        for name in [*dirs, *files]:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                os.chmod(path, 0o755 if os.path.isdir(path) else 0o644)
    for exe in (runtime / "bin").iterdir():
        if not exe.is_symlink():
            exe.chmod(0o755)
    os.chmod(runtime, 0o755)
    return python
