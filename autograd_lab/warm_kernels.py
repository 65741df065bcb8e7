"""Grading kernels started ahead of time, so a batch of submissions does not wait for torch.

nbgrader autogrades each submission in a new kernel, and a new kernel spends most of its
start importing torch (about 1 s on an idle machine, 3 s on a busy one) before the student's
first cell runs. :class:`WarmExecute` is nbgrader's ``Execute`` preprocessor with one change,
its kernel launcher (:class:`WarmProvisioner`): it keeps :data:`SPARES` *spares* started
ahead, each a new Python process that has imported torch and ipykernel and then waits,
having run nothing else, for the kernel command it should become. Launching a kernel hands
that command to the oldest spare and starts a new one, which imports torch on another core
while the submission is graded.

Every submission still gets its own new process, never one used before, and the student's
namespace starts empty: torch is only in ``sys.modules`` (its ``import torch`` is then
instant; the random generator's seed is torch's default, as in any new process). Nothing
passes from one submission to the next.

A spare exits when the process that started it ends (its stdin closes) or after
:data:`SPARE_WAIT_S` seconds unclaimed, so a formgrader left open holds no idle kernel. A
kernel command that is not ``python -m ipykernel_launcher …`` is launched the usual way.

The course's ``nbgrader_config.py``, the classroom's instructor config and ``deploy/`` select
it with ``Autograde.autograde_preprocessors`` set to :func:`autograde_preprocessors`:
nbgrader's own list with ``Execute`` replaced by :class:`WarmExecute` (``Execute.*``
settings still apply to it). A waiting spare holds about 230 MiB.
"""

from __future__ import annotations

import atexit
import importlib
import json
import os
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner
from nbgrader.preprocessors import Execute

from autograd_lab import spare_kernel

#: Seconds an unclaimed spare waits before it exits.
SPARE_WAIT_S = spare_kernel.WAIT_S
#: A spare this close to its own deadline is not handed a kernel (it might exit meanwhile).
SPARE_MARGIN_S = 30.0
#: Spares kept waiting per interpreter. Two keep both cores of a small grading machine busy
#: over a batch: while one submission is graded, the next two kernels import torch.
SPARES = 2
#: The module a spare runs (``python -m autograd_lab.spare_kernel``).
SPARE_MODULE = "autograd_lab.spare_kernel"


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


class Spare:
    """One waiting Python process (torch and ipykernel imported) and when it started."""

    def __init__(self, interpreter: tuple[str, ...], env: dict[str, str] | None = None) -> None:
        self.interpreter = interpreter
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [*interpreter, "-m", SPARE_MODULE], stdin=subprocess.PIPE, env=env,
            start_new_session=True,  # as jupyter_client starts kernels: own process group
            cwd=Path.home() if Path.home().is_dir() else "/",  # moved to the kernel's at hand-over
        )

    def usable(self) -> bool:
        """Still waiting, and not about to give up waiting."""
        young = time.monotonic() - self.started < SPARE_WAIT_S - SPARE_MARGIN_S
        return young and self.process.poll() is None

    def hand_over(self, args: list[str], cwd: str, env: dict[str, str]) -> subprocess.Popen:
        """Make the spare the kernel ``ipykernel_launcher ARGS`` run in ``cwd`` with ``env``."""
        order = json.dumps({"args": args, "cwd": cwd, "env": env}) + "\n"
        assert self.process.stdin is not None
        self.process.stdin.write(order.encode())
        self.process.stdin.flush()
        return self.process

    def discard(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


#: The waiting spares of each interpreter (python and its options), oldest first.
_spares: dict[tuple[str, ...], list[Spare]] = {}
_lock = threading.Lock()


def take_spare(interpreter: tuple[str, ...]) -> Spare | None:
    """The oldest waiting spare of ``interpreter`` (taken from the pool), else None."""
    while True:
        with _lock:
            waiting = _spares.get(interpreter, [])
            spare = waiting.pop(0) if waiting else None
        if spare is None or spare.usable():
            return spare
        spare.discard()


def start_spares(interpreter: tuple[str, ...], env: dict[str, str] | None = None) -> None:
    """Start spares of ``interpreter`` until :data:`SPARES` are waiting."""
    with _lock:
        waiting = _spares.setdefault(interpreter, [])
        while len(waiting) < SPARES:
            waiting.append(Spare(interpreter, env))


def waiting_spares() -> list[Spare]:
    """Every spare waiting now (for tests and benchmarks)."""
    with _lock:
        return [spare for waiting in _spares.values() for spare in waiting]


@atexit.register
def discard_spares() -> None:
    """Stop every waiting spare (they would also exit on their own: their stdin closes)."""
    with _lock:
        spares = [spare for waiting in _spares.values() for spare in waiting]
        _spares.clear()
    for spare in spares:
        spare.discard()


class WarmProvisioner(LocalProvisioner):
    """jupyter_client's local kernel launcher, launching into a spare when one is waiting."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        split = split_kernel_command(cmd)
        spare = take_spare(split[0]) if split is not None else None
        env = dict(kwargs.get("env") or os.environ)
        if spare is None:
            info = await super().launch_kernel(cmd, **kwargs)
        else:
            cwd = str(kwargs.get("cwd") or Path.cwd())
            env["JPY_PARENT_PID"] = str(os.getpid())  # as jupyter_client's launcher sets it
            self.process = spare.hand_over(split[1], cwd, env)  # type: ignore[index]
            self.pid = self.process.pid
            self.pgid = os.getpgid(self.pid)
            self.cwd = cwd
            info = self.connection_info
        if split is not None:
            start_spares(split[0], env)
        return info


class WarmKernelManager(AsyncKernelManager):
    """An AsyncKernelManager whose kernels are launched by :class:`WarmProvisioner`."""

    async def _async_pre_start_kernel(self, **kw: Any) -> tuple[list[str], dict[str, Any]]:
        if self.provisioner is None:
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
            self.provisioner = WarmProvisioner(kernel_id=self.kernel_id,
                                               kernel_spec=self.kernel_spec, parent=self)
        return await super()._async_pre_start_kernel(**kw)


class WarmExecute(Execute):
    """nbgrader's Execute preprocessor, with each kernel launched into a waiting spare."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("kernel_manager_class", WarmKernelManager)
        super().__init__(**kwargs)


def autograde_preprocessors() -> list[str]:
    """nbgrader's ``Autograde.autograde_preprocessors``, ``Execute`` replaced by WarmExecute,
    as dotted names (``nbgrader.preprocessors.X``) for a JSON or Python nbgrader config."""
    from nbgrader.converters.autograde import Autograde

    default = Autograde.class_traits()["autograde_preprocessors"].default()
    return [f"{__name__}.WarmExecute" if pp is Execute else _public_name(pp) for pp in default]


def _public_name(cls: type) -> str:
    """``package.preprocessors.Name`` where the package exports it there, else its module."""
    public = cls.__module__.split(".")[0] + ".preprocessors"
    if getattr(importlib.import_module(public), cls.__name__, None) is cls:
        return f"{public}.{cls.__name__}"
    return f"{cls.__module__}.{cls.__name__}"
