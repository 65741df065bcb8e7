"""Kernels forked from a process that imported torch once, not started anew.

A new kernel spends most of its start importing torch (3–4 s of CPU here) before its first
cell runs. :class:`WarmProvisioner` is jupyter_client's local kernel launcher with one change:
the first kernel it launches starts a *forker* (:mod:`autograd_lab_course.grading.kernel_forker`), a
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

* nbgrader's autograding (:class:`autograd_lab_course.grading.autograde.WarmExecute`): each
  submission in a new kernel, at a fraction of the CPU;
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
import json
import os
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner

from autograd_lab_course.grading import kernel_forker

#: Seconds without an order (and with no running kernel) before a forker exits.
FORKER_WAIT_S = kernel_forker.WAIT_S
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


class WarmProvisioner(LocalProvisioner):
    """jupyter_client's local kernel launcher, forking ipykernel kernels from a forker."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        split = split_kernel_command(cmd)
        if split is None:
            return await super().launch_kernel(cmd, **kwargs)
        interpreter, args = split
        env = dict(kwargs.get("env") or os.environ)
        env["JPY_PARENT_PID"] = str(os.getpid())  # as jupyter_client's launcher sets it
        cwd = str(kwargs.get("cwd") or Path.cwd())
        forker = forker_for(interpreter, env)
        loop = asyncio.get_running_loop()  # the first fork waits for torch's import
        self.process = await loop.run_in_executor(None, forker.fork, args, cwd, env)
        self.pid = self.pgid = self.process.pid  # the kernel leads its own session
        self.cwd = cwd
        return self.connection_info


class WarmKernelManager(AsyncKernelManager):
    """An AsyncKernelManager whose kernels are launched by :class:`WarmProvisioner`."""

    async def _async_pre_start_kernel(self, **kw: Any) -> tuple[list[str], dict[str, Any]]:
        if self.provisioner is None:
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
            self.provisioner = WarmProvisioner(kernel_id=self.kernel_id,
                                               kernel_spec=self.kernel_spec, parent=self)
        return await super()._async_pre_start_kernel(**kw)
