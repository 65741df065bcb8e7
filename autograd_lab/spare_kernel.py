"""A spare grading kernel: ``python -m autograd_lab.spare_kernel`` (started by warm_kernels).

It imports torch, autograd_lab and ipykernel, then waits for one line on stdin, the JSON
``{"args": [...], "cwd": "...", "env": {...}}`` of the kernel it should become, and becomes
it: ``ipykernel_launcher ARGS`` run in ``cwd`` with ``env``. It exits without running
anything if stdin closes (the process that started it ended) or nothing comes within
:data:`autograd_lab.warm_kernels.SPARE_WAIT_S` seconds. The student's namespace is not
touched: the imports are only in ``sys.modules``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import select
import sys
from pathlib import Path

#: Seconds to wait for the kernel command (the same as warm_kernels.SPARE_WAIT_S).
WAIT_S = 300.0


def serve_once(wait_s: float = WAIT_S) -> None:
    """Import torch and ipykernel, wait for one kernel command, become that kernel."""
    # as ipykernel_launcher does: no imports from the working directory (init_path adds it)
    if sys.path and (sys.path[0] == "" or Path(sys.path[0]) == Path.cwd()):
        del sys.path[0]
    import ipykernel.ipkernel  # noqa: F401 - the kernel's heavy part (IPython, zmq, tornado)
    import torch  # noqa: F401 - the point of a spare: imported before the kernel is wanted

    import autograd_lab  # noqa: F401 - (``-m`` imported it already; said for the reader)

    ready, _, _ = select.select([sys.stdin.buffer], [], [], wait_s)
    line = sys.stdin.buffer.readline() if ready else b""
    if not line:  # waited too long, or the process that started this one ended
        return
    order = json.loads(line)
    os.chdir(order["cwd"])
    os.environ.clear()
    os.environ.update(order["env"])
    launcher = importlib.util.find_spec("ipykernel_launcher")  # argv[0] as `-m` would set it
    sys.argv = [launcher.origin if launcher and launcher.origin else "", *order["args"]]
    # imported only now: its settings' defaults read the environment (JPY_PARENT_PID)
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


if __name__ == "__main__":
    serve_once()
