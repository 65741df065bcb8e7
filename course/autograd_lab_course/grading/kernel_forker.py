"""The kernel forker: ``python -m autograd_lab_course.grading.kernel_forker REPLY_FD``
(see warm_kernels).

It imports torch, autograd_lab and ipykernel once, then for each line on stdin — the JSON
``{"args": [...], "cwd": "...", "env": {...}}`` of a kernel to start — forks, writes the new
process id to ``REPLY_FD``, and the child becomes that kernel: ``ipykernel_launcher ARGS``
in its own session, run in ``cwd`` with ``env`` and a fresh empty HOME and IPYTHONDIR
(:func:`fresh_home`). The forker itself never runs a cell: each
kernel is a copy of it as it was right after the imports, so nothing passes from one kernel
to the next (torch is in ``sys.modules``; the namespace a student sees starts empty).

It exits when stdin closes (the process that started it ended; its kernels, reparented,
then end too, as ipykernel's parent poller sees), or after :data:`WAIT_S` seconds with no
order and no kernel of its own still running.
"""

from __future__ import annotations

import importlib.util
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NoReturn

#: The fresh HOME of each running kernel, by process id (removed once it has ended).
_homes: dict[int, str] = {}
#: Seconds without an order (and with no kernel of its own running) before the forker exits.
WAIT_S = 300.0



class ForkedKernel:
    """The handle of a kernel the forker made (what jupyter_client asks of a ``Popen``).

    The kernel is the forker's child, not ours: it is watched by its process id, and its
    exit status is not known (``returncode`` is 0 once it has ended).
    """

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.returncode = 0
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout or 0.0)
            time.sleep(0.05)
        return 0

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

def serve(reply_fd: int, wait_s: float = WAIT_S) -> None:
    """Import torch and ipykernel, then fork one kernel per order until stdin closes."""
    import_kernel_modules()
    signal.signal(signal.SIGCHLD, _reap)  # ended kernels are waited for (CPU time counted)
    kernels: set[int] = set()
    pending = b""
    while True:
        ready, _, _ = select.select([0], [], [], wait_s)
        if not ready:
            kernels = {pid for pid in kernels if _alive(pid)}
            if kernels:
                continue  # they would end with this process
            return
        chunk = os.read(0, 65536)
        if not chunk:  # the process that started this one ended
            return
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            home = tempfile.mkdtemp(prefix="autograd-lab-kernel-")
            pid = os.fork()
            if pid == 0:
                _become_kernel(json.loads(line), reply_fd, home)
            _homes[pid] = home
            kernels.add(pid)
            os.write(reply_fd, f"{pid}\n".encode())


def import_kernel_modules() -> None:
    """Import what every kernel needs (torch, autograd_lab, ipykernel's kernel), once."""
    # as ipykernel_launcher does: no imports from the working directory (init_path adds it)
    if sys.path and (sys.path[0] == "" or Path(sys.path[0]) == Path.cwd()):
        del sys.path[0]
    import ipykernel.ipkernel  # noqa: F401 - the kernel's heavy part (IPython, zmq, tornado)
    import torch  # noqa: F401 - the point: imported once, before any kernel is wanted

    import autograd_lab  # noqa: F401 - (``-m`` imported it already; said for the reader)


def _reap(*_: object) -> None:
    """Wait for every ended kernel (a SIGCHLD handler): no zombie is left to look alive."""
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        home = _homes.pop(pid, None)
        if home:
            shutil.rmtree(home, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def fresh_home(env: dict[str, str], home: str) -> dict[str, str]:
    """``env`` with HOME the new empty folder ``home`` (IPYTHONDIR, JUPYTER_CONFIG_DIR in it;
    the forker removes it when the kernel has ended): nothing one graded notebook writes
    there (an IPython start-up file, a config) reaches the next kernel or the instructor's."""
    return {**env, "HOME": home, "IPYTHONDIR": os.path.join(home, ".ipython"),
            "JUPYTER_CONFIG_DIR": os.path.join(home, ".jupyter")}


def _become_kernel(order: dict, reply_fd: int, home: str) -> NoReturn:
    """In the forked child: become the kernel ``order`` asks for; never returns to the loop.

    The kernel's end is an ordinary interpreter exit: ``SystemExit`` (or an error, printed on
    the kernel's stderr, exit status 1) unwinds out of :func:`serve`, which catches nothing, so
    Python runs the kernel's exit handlers and flushes its streams as it does for
    ``python -m ipykernel_launcher``.
    """
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the kernel waits for its own children
    os.setsid()  # its own process group, as jupyter_client starts kernels
    os.close(reply_fd)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)  # not the forker's order pipe
    os.close(null)
    run_kernel(order["args"], order["cwd"], fresh_home(order["env"], home))


def run_kernel(args: list[str], cwd: str, env: dict[str, str]) -> NoReturn:
    """Become ``ipykernel_launcher ARGS`` in ``cwd`` with exactly ``env`` (in a forked child,
    its own session already); ends as that kernel's interpreter ends."""
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    launcher = importlib.util.find_spec("ipykernel_launcher")  # argv[0] as `-m` sets it
    sys.argv = [launcher.origin if launcher and launcher.origin else "", *args]
    # imported only now: its settings' defaults read the environment (JPY_PARENT_PID)
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()
    sys.exit(0)


if __name__ == "__main__":
    serve(int(sys.argv[1]))
