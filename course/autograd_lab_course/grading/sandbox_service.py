"""The grading service: ``python -m autograd_lab_course.grading.sandbox_service --socket PATH
--owner USER --base DIR GRADER…``, run as root (the classroom starts it; deploy/'s instructor
image too).

The instructor's Jupyter server runs as the unprivileged instructor, so it cannot start a
kernel as another user. This service can: it imports torch, autograd_lab and ipykernel once
(as :mod:`~autograd_lab_course.grading.kernel_forker` does), listens on a Unix socket only
the instructor may open (the socket file is the instructor's, mode 0600, in a folder of
root's; a connection from any other uid but root's is closed unanswered, by its kernel-told
peer credentials), and forks one kernel per order, each in a sandbox of its own
(:mod:`~autograd_lab_course.grading.sandbox`): a grading user of the pool that nothing else
uses meanwhile, a fresh folder with a copy of the submission, limits, root dropped for good.
The instructor's :class:`~autograd_lab_course.grading.warm_kernels.WarmProvisioner` is its
client (:mod:`~autograd_lab_course.grading.sandbox_client`).

One JSON object per line each way::

    {"op": "start", "args": [...], "cwd": "...", "env": {...}}  -> {"pid": N} | {"error": "…"}
    {"op": "signal", "pid": N, "signum": S}                     -> {"ok": true} | {"error": "…"}
    {"op": "poll", "pid": N}                                    -> {"running": true | false}

``start`` copies ``cwd`` (the submission's folder) and the connection file named after
``-f`` in ``args``, both read with the instructor's rights. ``signal`` reaches the kernel's
process group; ``SIGKILL`` (jupyter_client's kill, at the end of each notebook's grading)
ends the grading: every process of its grading user is killed, none is left (checked), the
folder and the user's files in the shared temporary folders are removed, and the user is
free for the next kernel. A kernel that ends by itself, or whose client's connection closes,
ends the same way. The service ends when its stdin closes (the classroom ended).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import pwd
import select
import shutil
import signal
import socket
import struct
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

from autograd_lab_course.grading.kernel_forker import import_kernel_modules, run_kernel
from autograd_lab_course.grading.sandbox import (
    LIMITS,
    GradingUser,
    SandboxError,
    apply_limits,
    drop_privileges,
    kernel_env,
    kill_all,
    make_sandbox,
    read_submission,
    sweep_shared_tmp,
    write_tree,
)

__all__ = ["Service", "bind_socket", "main", "peer_uid"]
#: Seconds a forked child may take to set its sandbox up (copy, limits, drop).
SETUP_TIMEOUT_S = 30.0
_PR_SET_CHILD_SUBREAPER = 36


def bind_socket(path: Path, owner_uid: int) -> socket.socket:
    """A listening Unix socket at ``path``: the file owned by ``owner_uid``, mode 0600 (made
    so from the start: no moment when another user could connect)."""
    path.unlink(missing_ok=True)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        server.bind(str(path))
    finally:
        os.umask(old)
    os.chown(path, owner_uid, pwd.getpwuid(owner_uid).pw_gid)
    server.listen(8)
    return server


def peer_uid(conn: socket.socket) -> int:
    """The uid of the process at the other end of ``conn`` (the kernel's SO_PEERCRED)."""
    size = struct.calcsize("3i")
    _pid, uid, _gid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET,
                                                          socket.SO_PEERCRED, size))
    return uid


@dataclass
class Kernel:
    pid: int
    user: GradingUser
    sandbox: Path
    client: int  # the file descriptor of the connection that asked for it


@dataclass
class Client:
    conn: socket.socket
    uid: int
    pending: bytes = b""
    kernels: set[int] = field(default_factory=set)


class Service:
    """The loop: accept the owner's connections, answer their orders, end kernels."""

    def __init__(self, server: socket.socket, owner_uid: int, graders: Sequence[GradingUser],
                 base: Path, limits: dict[str, tuple[int, int]] = LIMITS) -> None:
        self.server, self.owner_uid, self.base, self.limits = server, owner_uid, base, limits
        self.free = list(graders)
        self.kernels: dict[int, Kernel] = {}
        self.clients: dict[int, Client] = {}
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)

    # -- the loop ------------------------------------------------------------------------------
    def run(self) -> None:
        """Serve until stdin closes. Not wrapped in try/finally: a forked kernel unwinds out
        of it with SystemExit and must run none of the service's clean-up."""
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(self.wake_w)
        while True:
            watched = [0, self.server.fileno(), self.wake_r, *self.clients]
            ready, _, _ = select.select(watched, [], [])
            if 0 in ready and not os.read(0, 4096):
                self.stop()
                return
            if self.wake_r in ready:
                with contextlib.suppress(BlockingIOError):
                    os.read(self.wake_r, 4096)
            self.reap()
            if self.server.fileno() in ready:
                self.accept()
            for fd in [fd for fd in ready if fd in self.clients]:
                self.serve_client(self.clients[fd])

    def accept(self) -> None:
        conn, _ = self.server.accept()
        uid = peer_uid(conn)
        if uid not in (self.owner_uid, 0):
            print(f"grading service: refused a connection from uid {uid}", file=sys.stderr)
            conn.close()
            return
        self.clients[conn.fileno()] = Client(conn, uid)

    def serve_client(self, client: Client) -> None:
        try:
            chunk = client.conn.recv(1 << 20)
        except OSError:
            chunk = b""
        if not chunk:
            self.drop_client(client)
            return
        client.pending += chunk
        while b"\n" in client.pending:
            line, client.pending = client.pending.split(b"\n", 1)
            try:
                reply = self.answer(client, json.loads(line))
            except (ValueError, KeyError, TypeError):
                reply = {"error": "The grading service got an order it cannot read."}
            try:
                client.conn.sendall(json.dumps(reply).encode() + b"\n")
            except OSError:
                self.drop_client(client)
                return

    def answer(self, client: Client, order: dict) -> dict:
        op = order["op"]
        if op == "start":
            return self.start(client, order)
        kernel = self.kernels.get(int(order["pid"]))
        if kernel is None or kernel.client != client.conn.fileno():
            return {"running": False} if op == "poll" else {"ok": True}
        if op == "poll":
            return {"running": True}
        if op == "signal":
            signum = int(order["signum"])
            if signum == signal.SIGKILL:
                self.end(kernel)
            else:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(kernel.pid, signum)
            return {"ok": True}
        return {"error": f"Unknown order {str(op)[:20]!r}."}

    # -- kernels -------------------------------------------------------------------------------
    def start(self, client: Client, order: dict) -> dict:
        if not self.free:
            return {"error": "Every grading user is busy: grade fewer notebooks at once."}
        user = self.free.pop(0)
        sandbox = make_sandbox(self.base, user)
        report_r, report_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(report_r)
            self.become_kernel(order, client.uid, user, sandbox, report_w)
        os.close(report_w)
        kernel = Kernel(pid, user, sandbox, client.conn.fileno())
        self.kernels[pid] = kernel
        client.kernels.add(pid)
        report = b""
        while select.select([report_r], [], [], SETUP_TIMEOUT_S)[0]:
            chunk = os.read(report_r, 4096)
            if not chunk:
                break
            report += chunk
        os.close(report_r)
        if report != b"ok":
            self.end(kernel)
            message = report.decode(errors="replace")[:200] or "The sandbox did not start."
            return {"error": message}
        return {"pid": pid}

    def become_kernel(self, order: dict, peer: int, user: GradingUser, sandbox: Path,
                      report_fd: int) -> NoReturn:
        """In the forked child: the sandbox, then the kernel (never returns)."""
        try:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            os.setsid()
            self.server.close()
            for other in self.clients.values():
                other.conn.close()
            os.close(self.wake_r)
            os.close(self.wake_w)
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.close(null)
            args = [str(a) for a in order["args"]]
            if "-f" not in args[:-1]:
                raise SandboxError("A grading kernel needs its connection file (-f PATH).")
            at = args.index("-f") + 1
            entries, connection = read_submission(Path(order["cwd"]), Path(args[at]), peer)
            write_tree(entries, sandbox / "work", user)
            write_tree([("kernel.json", "file", connection)], sandbox, user)
            args[at] = str(sandbox / "kernel.json")
            env = kernel_env({str(k): str(v) for k, v in order["env"].items()}, sandbox)
            apply_limits(self.limits)
            drop_privileges(user)
        except (SandboxError, OSError, KeyError, TypeError, ValueError) as exc:
            text = str(exc) if isinstance(exc, SandboxError) else \
                f"The sandbox could not be set up ({type(exc).__name__}: {str(exc)[:60]})."
            os.write(report_fd, text.encode())
            os._exit(1)
        os.write(report_fd, b"ok")
        os.close(report_fd)
        run_kernel(args, str(sandbox / "work"), env)

    def end(self, kernel: Kernel) -> None:
        """Kill everything of the kernel's grading user, remove its files, free it."""
        left = kill_all(kernel.user.uid)
        if left:
            print(f"grading service: {kernel.user.name} still has processes {left[:5]}; "
                  "it grades no more", file=sys.stderr)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(kernel.pid, 0)
        shutil.rmtree(kernel.sandbox, ignore_errors=True)
        sweep_shared_tmp(kernel.user.uid)
        self.kernels.pop(kernel.pid, None)
        client = self.clients.get(kernel.client)
        if client is not None:
            client.kernels.discard(kernel.pid)
        if not left:
            self.free.append(kernel.user)

    def reap(self) -> None:
        """Wait for ended children (kernels, and orphans this subreaper inherited); a kernel
        that ended by itself ends its grading."""
        ended = []
        while True:
            try:
                pid, _status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            if pid in self.kernels:
                ended.append(self.kernels[pid])
        for kernel in ended:
            self.end(kernel)

    def drop_client(self, client: Client) -> None:
        for pid in list(client.kernels):
            if pid in self.kernels:
                self.end(self.kernels[pid])
        self.clients.pop(client.conn.fileno(), None)
        client.conn.close()

    def stop(self) -> None:
        for kernel in list(self.kernels.values()):
            self.end(kernel)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograd_lab_course.grading.sandbox_service",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--socket", type=Path, required=True)
    parser.add_argument("--owner", required=True, help="the only user who may connect")
    parser.add_argument("--base", type=Path, required=True, help="root's folder for sandboxes")
    parser.add_argument("graders", nargs="+", help="the grading users (a pool)")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("error: the grading service drops privileges, so it must run as root.",
              file=sys.stderr)
        return 2
    try:
        graders = [GradingUser.named(name) for name in args.graders]
        owner = pwd.getpwnam(args.owner).pw_uid
    except (SandboxError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.base.mkdir(parents=True, exist_ok=True)
    os.chown(args.base, 0, 0)
    os.chmod(args.base, 0o711)  # each grading user reaches its own folder, lists none
    ctypes.CDLL(None).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)  # orphans come back here
    import_kernel_modules()
    server = bind_socket(args.socket, owner)
    service = Service(server, owner, graders, args.base)
    print(f"grading service: listening on {args.socket}", file=sys.stderr, flush=True)
    service.run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
