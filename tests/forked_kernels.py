"""The test suite's kernels are forked from a process that imported torch once.

Each notebook the tests run (nbval, the exercise and package tests, the browser test's
JupyterLab, ``make notebooks`` in a test) needs a new kernel, and a new kernel spends 3–4 s
of CPU importing torch before its first cell, and ``make test`` starts dozens of kernels.
:func:`use_forked_kernels` (called from the root ``conftest.py``) puts a copy of the installed
``python3`` kernelspec first on ``JUPYTER_PATH``, the same in every way but one: its
``metadata.kernel_provisioner`` names ``autograd-lab-warm``, the launcher of
:mod:`autograd_lab_course.grading.warm_kernels` (nbgrader's autograding uses it too). Every kernel
is
still a new process that starts with an empty namespace; ``tests/test_warm_kernels.py`` checks
that a forked kernel behaves as one started the usual way.

Servers a JupyterHub spawns do not inherit ``JUPYTER_PATH``: the class run in
``tests/test_classroom.py`` starts its kernels the usual way, as does every test when
``AUTOGRAD_LAB_TEST_KERNELS=usual`` is set (e.g. ``AUTOGRAD_LAB_TEST_KERNELS=usual make test``).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

#: The provisioner's entry point name (course/pyproject.toml).
PROVISIONER = "autograd-lab-warm"
#: Set to "usual" to start the test suite's kernels the usual way.
SWITCH = "AUTOGRAD_LAB_TEST_KERNELS"


def use_forked_kernels(kernel_name: str = "python3") -> Path | None:
    """Put a forking copy of ``kernel_name``'s kernelspec first on ``JUPYTER_PATH`` (for this
    process and every process it starts); the folder holding it, to delete when done, or None
    when :data:`SWITCH` says ``usual`` (or the provisioner is not installed)."""
    if os.environ.get(SWITCH) == "usual" or not _provisioner_installed():
        return None
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec(kernel_name)
    root = Path(tempfile.mkdtemp(prefix="autograd-lab-test-kernels-"))
    target = root / "kernels" / kernel_name
    shutil.copytree(spec.resource_dir, target)
    content = json.loads((target / "kernel.json").read_text(encoding="utf-8"))
    content.setdefault("metadata", {})["kernel_provisioner"] = {"provisioner_name": PROVISIONER}
    (target / "kernel.json").write_text(json.dumps(content, indent=1) + "\n", encoding="utf-8")
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        p for p in (str(root), os.environ.get("JUPYTER_PATH", "")) if p)
    return root


def _provisioner_installed() -> bool:
    """The entry point is there (an environment installed before it was added has none:
    ``make env`` reinstalls the packages when a pyproject.toml changes)."""
    from importlib.metadata import entry_points

    return any(ep.name == PROVISIONER
               for ep in entry_points(group="jupyter_client.kernel_provisioners"))


def usual_kernels_env() -> dict[str, str]:
    """``os.environ`` with the forking kernelspecs taken off ``JUPYTER_PATH`` (for a test that
    needs a kernel started the usual way)."""
    env = dict(os.environ)
    kept = [p for p in env.get("JUPYTER_PATH", "").split(os.pathsep) if p and not _forking(p)]
    env.pop("JUPYTER_PATH", None)
    if kept:
        env["JUPYTER_PATH"] = os.pathsep.join(kept)
    return env


def _forking(folder: str) -> bool:
    for spec in Path(folder).glob("kernels/*/kernel.json"):
        metadata = json.loads(spec.read_text(encoding="utf-8")).get("metadata", {})
        if metadata.get("kernel_provisioner", {}).get("provisioner_name") == PROVISIONER:
            return True
    return False
