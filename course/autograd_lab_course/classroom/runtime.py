"""The Python the students' and the instructor's servers run: one they can execute.

The course environment (``.venv``) may be built on an interpreter an unprivileged user cannot
run (pyenv under ``/root``, mode 0700). So the classroom builds, once, ``DIR/runtime``: a venv
of that same interpreter — used in place where every user can run it, else copied into
``DIR/runtime/interpreter`` (binary, shared library, standard library; its servers then get
``LD_LIBRARY_PATH``, :func:`library_path`) — that reads the course environment's packages: a
``.pth`` file adds its site-packages with ``site.addsitedir`` (editable installs included),
so nothing is installed twice. It is root's and read-only
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

from autograd_lab_course.classroom.system_users import unreachable_parent

__all__ = ["RuntimeError_", "build_runtime", "library_path", "runtime_python"]

_PTH = "autograd_lab_course_env.pth"
#: Bumped when what the runtime holds changes (an older runtime is rebuilt).
_VERSION = 5


class RuntimeError_(RuntimeError):  # noqa: N801 - a builtin already has the plain name
    """The runtime cannot be built (one sentence says why)."""


def _version() -> str:
    return f"python{sys.version_info.major}.{sys.version_info.minor}"


def _interpreter(runtime: Path) -> Path:
    """The course environment's own interpreter, where every user can run it; else a copy
    of it (interpreter, its shared library and standard library, about 140 MB) in
    ``runtime/interpreter``.

    Not the system's ``python3.11``: it may be an older patch release that the locked
    packages do not work with (Debian's 3.11.2 mis-parses the possessive regular expressions
    of soupsieve, which nbconvert's HTML export uses: feedback failed to generate).
    """
    base = Path(sys.base_prefix)
    exe = base / "bin" / _version()
    if unreachable_parent(exe) is None and exe.stat().st_mode & 0o001:
        return exe
    copy = runtime / "interpreter"
    (copy / "bin").mkdir(parents=True)
    (copy / "lib").mkdir()
    shutil.copy2(exe, copy / "bin" / _version())
    for library in (base / "lib").glob("libpython*.so*"):
        shutil.copy2(library, copy / "lib" / library.name)
    # with its compiled modules (copy2 keeps the sources' times, so they stay valid): the copy
    # is read-only to the servers' users, who would otherwise compile every standard module
    # they import at each start (about 2 CPU-s for torch's imports)
    shutil.copytree(base / "lib" / _version(), copy / "lib" / _version(), symlinks=True,
                    ignore=shutil.ignore_patterns("site-packages", "test", "*.opt-1.pyc",
                                                  "*.opt-2.pyc"))
    return copy / "bin" / _version()


def library_path(runtime: Path) -> str | None:
    """What ``LD_LIBRARY_PATH`` the runtime's python needs (its copied shared library; its
    own RUNPATH names the original folder, closed to other users), or None."""
    folder = runtime / "interpreter" / "lib"
    return str(folder) if any(folder.glob("libpython*.so*")) else None


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
    runtime.mkdir(parents=True)
    interpreter = _interpreter(runtime)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "JUPYTER_PATH")}
    libraries = library_path(runtime)
    if libraries:
        env["LD_LIBRARY_PATH"] = libraries
    made = subprocess.run([str(interpreter), "-m", "venv", "--without-pip", str(runtime)],
                          capture_output=True, text=True, check=False, env=env)
    if made.returncode != 0:
        raise RuntimeError_(f"Cannot make the runtime venv ({made.stderr.strip()[:60]}).")
    pth.parent.mkdir(parents=True, exist_ok=True)
    pth.write_text(_pth_line(site_packages))
    for rel, target in _links():
        link = runtime / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(target)
    _copy_scripts(python)
    for command in (["-m", "ipykernel", "install", "--sys-prefix"],
                    ["-m", "autograd_lab_course.grading"]):
        done = subprocess.run([str(python), *command], capture_output=True, text=True,
                              check=False, env=env)
        if done.returncode != 0:
            raise RuntimeError_(f"Cannot set up the runtime ({done.stderr.strip()[-60:]}).")
    for folder, dirs, files in os.walk(runtime):
        for name in [*dirs, *files]:
            path = os.path.join(folder, name)
            if not os.path.islink(path):  # readable by all; executables stay executable
                runnable = os.path.isdir(path) or os.stat(path).st_mode & 0o100
                os.chmod(path, 0o755 if runnable else 0o644)
    os.chmod(runtime, 0o755)
    return python
