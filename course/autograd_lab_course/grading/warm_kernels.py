"""Kernels forked from a process that imported torch once, not started anew.

A new kernel spends most of its start importing torch (3–4 s of CPU here) before its first
cell runs. :class:`WarmProvisioner` is a kernel provisioner (jupyter_client's public extension
point for how kernels are launched) that launches as jupyter_client's local one does, with one
change: the first kernel it launches starts a *forker*
(:mod:`autograd_lab_course.grading.kernel_forker`), a
Python process that imports torch, autograd_lab and ipykernel and then waits; each kernel, the
first included, is a fork of it that becomes the kernel jupyter_client asked for (its
arguments, working directory and environment, its own session). A fork costs milliseconds,
not seconds of CPU.

Every kernel is still its own new process, and the forker never runs a cell, so each kernel
starts from the same state, right after the imports: torch is in ``sys.modules`` (a
student's ``import torch`` is instant; the random generator's seed is torch's default, as in
any new process), the namespace is empty, and nothing passes from one kernel to the next.
torch starts no work thread at import, which is what makes the fork safe (as for PyTorch's
own DataLoader workers, forked after ``import torch``). What an interpreter reads only when
it starts (``PYTHONHASHSEED``, ``PYTHONPATH``, the thread settings torch's OpenMP reads at
import, …: :func:`startup_env`) is the forker's: a launch whose start-up environment differs
gets a forker of its own.

Where it is used:

* nbgrader's autograding: ``Execute.kernel_name`` (nbclient's configurable kernel name) set
  to the kernelspec :func:`install_grading_kernelspec` installs, which names this provisioner
  (:mod:`autograd_lab_course.grading.autograde`): each submission in a new kernel, at a
  fraction of the CPU;
* in the classroom run as root (and deploy/'s instructor pod): the same, but each grading
  kernel is forked by the root grading service as a grading user, in a copy of its
  submission (:mod:`~autograd_lab_course.grading.sandbox_client`, used when
  ``AUTOGRAD_LAB_GRADING_SOCKET`` names the service's socket); without it a grading kernel
  is not sandboxed, and the provisioner says so once;
* any kernelspec whose ``metadata.kernel_provisioner.provisioner_name`` is
  ``autograd-lab-warm`` (the entry point this package declares): the test suite's kernels
  (``conftest.py``).

Not for a teacher's own lab: the forker keeps the ``autograd_lab`` it imported, so an edited
package would need the forker, not only the kernel, restarted.

The forker ends with the process that started it (its stdin closes) or after
:data:`FORKER_WAIT_S` seconds without an order and without a running kernel. A kernel command
that is not ``python -m ipykernel_launcher …`` is launched the usual way. A waiting forker
holds about 230 MiB, mostly shared with its kernels (copy-on-write).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from jupyter_client.connect import KernelConnectionInfo, LocalPortCache
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.launcher import launch_kernel
from jupyter_client.provisioning import KernelProvisionerBase

from autograd_lab_course.grading import kernel_forker
from autograd_lab_course.grading.autograde import GRADING_KERNEL
from autograd_lab_course.grading.kernel_forker import ForkedKernel
from autograd_lab_course.grading.sandbox_client import (
    NOT_SANDBOXED,
    SandboxedKernel,
    sandbox_forker,
)

#: Seconds without an order (and with no running kernel) before a forker exits.
FORKER_WAIT_S = kernel_forker.WAIT_S
#: The provisioner's entry point name (course/pyproject.toml), as a kernelspec names it.
PROVISIONER = "autograd-lab-warm"
#: The kernel manager's port settings, in the order a connection file lists them.
PORT_NAMES = ("shell_port", "iopub_port", "stdin_port", "hb_port", "control_port")
#: A forker this close to giving up waiting is not given an order (a new one starts).
FORKER_MARGIN_S = 30.0
#: The module a forker runs (``python -m autograd_lab_course.grading.kernel_forker REPLY_FD``).
FORKER_MODULE = "autograd_lab_course.grading.kernel_forker"
#: Environment variables read when an interpreter (or torch's import) starts, not later: the
#: interpreter's own (``PYTHONHASHSEED``, ``PYTHONPATH``, …), locale, loader, allocator and
#: thread-pool settings. Forked kernels have their forker's.
STARTUP_ENV_PREFIXES = ("PYTHON", "LANG", "LC_", "LD_", "MALLOC_", "OMP_", "GOMP_", "KMP_",
                        "MKL_", "OPENBLAS_", "TORCH", "PYTORCH_", "CUDA_")


def split_kernel_command(cmd: list[str]) -> tuple[tuple[str, ...], list[str]] | None:
    """``(python and its options, ipykernel arguments)`` of a command ``python [-X…] -m
    ipykernel_launcher ARGS``; None for any other kernel command."""
    for i in range(1, len(cmd) - 1):
        if cmd[i:i + 2] == ["-m", "ipykernel_launcher"]:
            interpreter = [os.path.expanduser(cmd[0]), *cmd[1:i]]
            if all(option.startswith("-") for option in interpreter[1:]):
                return tuple(interpreter), [os.path.expanduser(a) for a in cmd[i + 2:]]
            return None
    return None


def startup_env(env: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """The part of ``env`` a forker fixes for its kernels (see :data:`STARTUP_ENV_PREFIXES`)."""
    return tuple(sorted((k, v) for k, v in env.items() if k.startswith(STARTUP_ENV_PREFIXES)))


class Forker:
    """One forker process of an interpreter (python and its options)."""

    def __init__(self, interpreter: tuple[str, ...], env: dict[str, str] | None = None) -> None:
        read_end, write_end = os.pipe()
        self.interpreter = interpreter
        self.process = subprocess.Popen(
            [*interpreter, "-m", FORKER_MODULE, str(write_end)], stdin=subprocess.PIPE,
            pass_fds=(write_end,), env=env, start_new_session=True,
            cwd=Path.home() if Path.home().is_dir() else "/",  # kernels get their own cwd
        )
        os.close(write_end)
        # Waited for as soon as it exits (after its idle wait): no zombie per batch.
        threading.Thread(target=self.process.wait, daemon=True, name="forker-reaper").start()
        self._replies = os.fdopen(read_end, "rb")
        self._last_order = time.monotonic()
        self._lock = threading.Lock()

    def usable(self) -> bool:
        """Still running, and not about to give up waiting for orders."""
        fresh = time.monotonic() - self._last_order < FORKER_WAIT_S - FORKER_MARGIN_S
        return fresh and self.process.poll() is None

    def fork(self, args: list[str], cwd: str, env: dict[str, str]) -> ForkedKernel:
        """A new kernel ``ipykernel_launcher ARGS`` in ``cwd`` with ``env`` (blocks until the
        forker has its imports done, the first time)."""
        order = json.dumps({"args": args, "cwd": cwd, "env": env}) + "\n"
        with self._lock:
            assert self.process.stdin is not None
            try:
                self.process.stdin.write(order.encode())
                self.process.stdin.flush()
            except BrokenPipeError:
                reply = b""
            else:
                reply = self._replies.readline()
            self._last_order = time.monotonic()
        if not reply:
            raise RuntimeError("the kernel forker ended before starting a kernel; "
                               "see its error above")
        return ForkedKernel(int(reply))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self._replies.close()


_forkers: dict[tuple[tuple[str, ...], tuple[tuple[str, str], ...]], Forker] = {}
_said_not_sandboxed = False
#: Forkers replaced while kernels of theirs may still run: they end on their own.
_retired: list[Forker] = []
_lock = threading.Lock()


def forker_for(interpreter: tuple[str, ...], env: dict[str, str] | None = None) -> Forker:
    """The running forker of ``interpreter`` for ``env``'s start-up settings, started (with
    ``env``) if there is none."""
    key = (interpreter, startup_env(os.environ if env is None else env))
    with _lock:
        forker = _forkers.get(key)
        if forker is not None and not forker.usable():
            _retired.append(forker)  # stopping it would end its running kernels
            forker = None
        if forker is None:
            forker = _forkers[key] = Forker(interpreter, env)
        return forker


def running_forkers() -> list[Forker]:
    """Every forker in use now (for tests and benchmarks)."""
    with _lock:
        return list(_forkers.values())


@atexit.register
def stop_forkers() -> None:
    """Stop every forker (they would also end on their own: their stdin closes)."""
    with _lock:
        forkers = [*_forkers.values(), *_retired]
        _forkers.clear()
        _retired.clear()
    for forker in forkers:
        forker.stop()


class WarmProvisioner(KernelProvisionerBase):
    """A kernel provisioner (jupyter_client's public ``KernelProvisionerBase``) that forks
    ipykernel kernels from a forker; any other kernel command is launched the usual way
    (jupyter_client's public ``launch_kernel``).

    A kernelspec selects it with ``metadata.kernel_provisioner.provisioner_name`` set to
    ``autograd-lab-warm`` (the entry point course/pyproject.toml declares), as the grading
    kernelspec (:func:`install_grading_kernelspec`) and the test suite's do.
    """

    process: ForkedKernel | SandboxedKernel | subprocess.Popen | None = None
    pid: int | None = None
    pgid: int | None = None
    cwd: str | None = None
    #: The five ports this launch took from jupyter_client's ``LocalPortCache``.
    cached_ports: tuple[int, ...] = ()

    @property
    def has_process(self) -> bool:
        return self.process is not None

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        """Ports, connection file and the kernel command, from the kernel manager's public
        settings (``ip``, ``*_port``, ``cache_ports``, ``format_kernel_cmd``)."""
        km = self.parent
        extra_arguments = kwargs.pop("extra_arguments", [])
        kwargs.pop("transport_encryption", None)
        if km is None:
            return await super().pre_launch(cmd=[*self.kernel_spec.argv, *extra_arguments],
                                            **kwargs)
        if km.transport_encryption == "required":
            raise RuntimeError("Forked kernels run without transport encryption: set "
                               "transport_encryption to 'disabled' or use the usual kernelspec.")
        if km.transport == "tcp" and km.cache_ports and not self.cached_ports:
            cache = LocalPortCache.instance()
            ports = tuple(cache.find_available_port(km.ip) for _ in PORT_NAMES)
            for name, port in zip(PORT_NAMES, ports, strict=True):
                setattr(km, name, port)
            self.cached_ports = ports
        env = kwargs.get("env")
        km.write_connection_file(
            **({"jupyter_session": env.get("JPY_SESSION_NAME", "")} if env else {}))
        self.connection_info = km.get_connection_info()
        cmd = km.format_kernel_cmd(extra_arguments=extra_arguments)
        return await super().pre_launch(cmd=cmd, **kwargs)

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        split = split_kernel_command(cmd)
        cwd = str(kwargs.get("cwd") or Path.cwd())
        if split is None:  # not an ipykernel: the usual launch, in a session of its own
            popen_kwargs = {k: v for k, v in kwargs.items() if k not in ("kernel_id",)}
            self.process = launch_kernel(cmd, **popen_kwargs)
            self.pid = self.process.pid
            try:
                self.pgid = os.getpgid(self.pid)
            except OSError:
                self.pgid = None
        else:
            interpreter, args = split
            env = dict(kwargs.get("env") or os.environ)
            env["JPY_PARENT_PID"] = str(os.getpid())  # as jupyter_client's launcher sets it
            sandbox = sandbox_forker()  # the grading service, where the classroom runs one
            if sandbox is None:
                self._say_if_not_sandboxed()
            forker = sandbox or forker_for(interpreter, env)
            loop = asyncio.get_running_loop()  # the first fork waits for torch's import
            self.process = await loop.run_in_executor(None, forker.fork, args, cwd, env)
            # The kernel's first act is os.setsid(): its group is its pid. Not os.getpgid():
            # asked before that setsid it answers the forker's group, and a signal to it
            # would reach the forker and every kernel it made. A sandboxed kernel is another
            # user's: the service signals it.
            self.pid = self.process.pid
            self.pgid = None if sandbox else self.process.pid
        self.cwd = cwd
        return self.connection_info

    def _say_if_not_sandboxed(self) -> None:
        """:data:`NOT_SANDBOXED`, once per process, for a grading kernel."""
        global _said_not_sandboxed
        km = self.parent
        if km is not None and km.kernel_name == GRADING_KERNEL and not _said_not_sandboxed:
            _said_not_sandboxed = True
            self.log.warning(NOT_SANDBOXED)

    async def poll(self) -> int | None:
        return self.process.poll() if self.process is not None else 0

    async def wait(self) -> int | None:
        if self.process is None:
            return 0
        while self.process.poll() is None:
            await asyncio.sleep(0.1)
        code = self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        self.process = None
        return code

    async def send_signal(self, signum: int) -> None:
        """To the kernel's process group (the kernel and what it started), else the kernel."""
        if self.process is None:
            return
        if self.pgid is not None:
            try:
                os.killpg(self.pgid, signum)
                return
            except OSError:
                pass
        self.process.send_signal(signum)

    async def kill(self, restart: bool = False) -> None:
        with contextlib.suppress(ProcessLookupError):
            await self.send_signal(signal.SIGKILL)

    async def terminate(self, restart: bool = False) -> None:
        with contextlib.suppress(ProcessLookupError):
            await self.send_signal(signal.SIGTERM)

    async def cleanup(self, restart: bool = False) -> None:
        """Give the ports back to the cache, unless the same kernel restarts on them."""
        if self.cached_ports and not restart:
            cache = LocalPortCache.instance()
            for port in self.cached_ports:
                cache.return_port(port)
            self.cached_ports = ()

    def resolve_path(self, path: str) -> str | None:
        """``path`` as the kernel sees it (relative to its working directory)."""
        resolved = Path(path).expanduser()
        if not resolved.is_absolute() and self.cwd:
            resolved = Path(self.cwd, resolved).resolve()
        return resolved.as_posix() if resolved.exists() else None

    async def get_provisioner_info(self) -> dict[str, Any]:
        return {**await super().get_provisioner_info(), "pid": self.pid, "pgid": self.pgid}

    async def load_provisioner_info(self, provisioner_info: dict) -> None:
        await super().load_provisioner_info(provisioner_info)
        self.pid, self.pgid = provisioner_info["pid"], provisioner_info["pgid"]


def grading_kernelspec(kernel_name: str = "python3") -> dict[str, Any]:
    """``kernel_name``'s installed kernelspec (its ``kernel.json``), with
    ``metadata.kernel_provisioner`` naming :class:`WarmProvisioner`."""
    spec = KernelSpecManager().get_kernel_spec(kernel_name)
    return {**spec.to_dict(), "display_name": f"{spec.display_name}, forked for grading",
            "metadata": {**spec.metadata,
                         "kernel_provisioner": {"provisioner_name": PROVISIONER}}}


def install_grading_kernelspec(prefix: str | None = None) -> str:
    """Install :data:`~autograd_lab_course.grading.autograde.GRADING_KERNEL` (see
    :func:`grading_kernelspec`) under ``prefix`` (default: this environment, ``sys.prefix``),
    with jupyter_client's public ``install_kernel_spec``; the folder it went to."""
    with tempfile.TemporaryDirectory() as folder:
        kernel_json = json.dumps(grading_kernelspec(), indent=1) + "\n"
        (Path(folder) / "kernel.json").write_text(kernel_json, encoding="utf-8")
        return KernelSpecManager().install_kernel_spec(
            folder, GRADING_KERNEL, prefix=sys.prefix if prefix is None else prefix)
