"""The instructor's side of the grading service
(:mod:`~autograd_lab_course.grading.sandbox_service`): what
:class:`~autograd_lab_course.grading.warm_kernels.WarmProvisioner` uses when the environment
names the service's socket (``AUTOGRAD_LAB_GRADING_SOCKET``, set by the classroom for the
instructor's server only).

:class:`SandboxForker` has the local forker's ``fork`` (a kernel ``ipykernel_launcher ARGS``
in ``cwd`` with ``env``), but the kernel it returns runs as a grading user, in a copy of
``cwd``; :class:`SandboxedKernel` is its handle: it cannot be signalled by the instructor's
uid, so its signals, and the question whether it still runs, go through the service.
Without the socket a grading kernel is not sandboxed, and the provisioner says so once
(:data:`NOT_SANDBOXED`).
"""

from __future__ import annotations

import json
import os
import socket
import threading

from autograd_lab_course.grading.kernel_forker import ForkedKernel

__all__ = ["NOT_SANDBOXED", "SOCKET_ENV", "SandboxForker", "SandboxedKernel", "sandbox_forker"]

#: The environment variable naming the grading service's socket (the classroom sets it).
SOCKET_ENV = "AUTOGRAD_LAB_GRADING_SOCKET"
#: Said once when a grading kernel starts without the service (not run as root).
NOT_SANDBOXED = (
    "Grading is not sandboxed: each submission's kernel runs as you and can read your files; "
    "grade in the classroom started as root (or deploy/'s instructor image) for that."
)


class SandboxError(RuntimeError):
    """The grading service refused or could not be reached (one sentence says why)."""


class SandboxForker:
    """One connection to the grading service (orders one at a time)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._conn: socket.socket | None = None
        self._replies = None

    def _ask(self, order: dict) -> dict:
        """Send ``order``, return the service's answer (connecting again once if the
        connection was lost)."""
        why = "it closed the connection"
        with self._lock:
            for _attempt in (1, 2):
                try:
                    if self._conn is None:
                        self._conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                        self._conn.connect(self.path)
                        self._replies = self._conn.makefile("rb")
                    self._conn.sendall(json.dumps(order).encode() + b"\n")
                    line = self._replies.readline()
                except OSError as exc:
                    why, line = exc.strerror or str(exc), b""
                if line:
                    return json.loads(line)
                self.close()
        raise SandboxError(f"The grading service cannot be reached ({why}): is the classroom "
                           "running?")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = self._replies = None

    def fork(self, args: list[str], cwd: str, env: dict[str, str]) -> SandboxedKernel:
        reply = self._ask({"op": "start", "args": args, "cwd": cwd, "env": env})
        if "error" in reply:
            raise SandboxError(reply["error"])
        return SandboxedKernel(self, int(reply["pid"]))

    def usable(self) -> bool:
        return True

    def stop(self) -> None:
        self.close()


class SandboxedKernel(ForkedKernel):
    """The handle of a kernel the grading service made (what jupyter_client asks of a
    ``Popen``); its exit status is not known (``returncode`` is 0 once it has ended). The
    kernel runs as a grading user, so it is watched and signalled through the service."""

    def __init__(self, forker: SandboxForker, pid: int) -> None:
        super().__init__(pid)
        self.forker = forker

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                running = self.forker._ask({"op": "poll", "pid": self.pid}).get("running")
            except SandboxError:
                running = False  # the service ended: so did its kernels
            if not running:
                self.returncode = 0
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            self.forker._ask({"op": "signal", "pid": self.pid, "signum": int(signum)})


_forker: SandboxForker | None = None
_lock = threading.Lock()


def sandbox_forker() -> SandboxForker | None:
    """The connection to the grading service this process's environment names, or None."""
    global _forker
    path = os.environ.get(SOCKET_ENV)
    if not path:
        return None
    with _lock:
        if _forker is None or _forker.path != path:
            _forker = SandboxForker(path)
        return _forker
