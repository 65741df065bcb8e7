"""The ``kernelspec`` and ``language_info`` a notebook stores for the kernel that will run it.

JupyterLab rewrites both when it opens a notebook whose stored values differ from the running
kernel's, and then asks "Save changes?" on close. The workspace copy writes what this
environment's kernel reports into each student copy, so a plain open and close changes nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

__all__ = ["KERNEL_NAME", "kernel_metadata"]

#: The kernel the course's notebooks run on (``make env`` installs it under this name).
KERNEL_NAME = "python3"
_LANGUAGE_INFO = (
    "from ipykernel.ipkernel import IPythonKernel; import json; "
    "print(json.dumps(IPythonKernel.language_info))"
)
_kernel_metadata: dict[str, dict] = {}


def kernel_metadata(kernel_name: str = KERNEL_NAME) -> dict[str, dict]:
    """``kernelspec`` and ``language_info`` as JupyterLab would store them for this kernel.

    The kernelspec comes from the installed kernel (jupyter_client), ``language_info`` from
    ipykernel, asked without starting a kernel (in this process when the kernel runs this
    interpreter, else by one short ``python -c``). Empty if the kernel is not installed.
    """
    if kernel_name in _kernel_metadata:
        return _kernel_metadata[kernel_name]
    found: dict[str, dict] = {}
    try:
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

        spec = KernelSpecManager().get_kernel_spec(kernel_name)
    except (ImportError, NoSuchKernel):
        spec = None
    if spec is not None:
        found["kernelspec"] = {
            "display_name": spec.display_name,
            "language": spec.language,
            "name": kernel_name,
        }
        info = _language_info(spec.argv[0] if spec.argv else sys.executable)
        if info:
            found["language_info"] = info
    _kernel_metadata[kernel_name] = found
    return found


def _language_info(python: str) -> dict | None:
    same = python in ("python", "python3") or (
        Path(python).is_absolute() and Path(python).resolve() == Path(sys.executable).resolve()
    )
    try:
        if same:
            from ipykernel.ipkernel import IPythonKernel

            return dict(IPythonKernel.language_info)
        result = subprocess.run([python, "-c", _LANGUAGE_INFO], capture_output=True,
                                text=True, timeout=60, check=True)
        return json.loads(result.stdout)
    except Exception:  # noqa: BLE001 - no kernel to ask: JupyterLab will fill it in
        return None
