"""The grading sandbox at the operating-system level: whom a grading kernel runs as, what it
can read, how much it may use, and that nothing it started outlives its grading.

Run as root (:mod:`~autograd_lab_course.grading.sandbox_service` forks each grading kernel),
the forked child does, before it becomes the kernel:

1. :func:`read_submission`: the submission's folder (the kernel's working directory) and the
   kernel's connection file, read with the rights of the instructor who asked
   (:func:`rights_of`: effective uid and groups switched, so root's own rights never read a
   path the instructor named), symlinks kept as links, at most :data:`MAX_COPY_BYTES`;
2. :func:`make_sandbox` and :func:`write_tree`: a fresh folder, mode 0700, owned by a grading
   user of its own (``work/`` the copy and the working directory, ``home/`` an empty HOME and
   IPYTHONDIR, ``tmp/`` TMPDIR); :func:`kernel_env` keeps only what a kernel needs of the
   environment (no hub token);
3. :func:`apply_limits`: :data:`LIMITS` (processes, memory, CPU seconds, file size);
4. :func:`drop_privileges`: ``setgroups([])``, ``setgid``, ``setuid`` to the grading user,
   no new privileges (a set-user-ID program such as ``su`` gains none), and a check that root
   cannot be regained.

So the kernel reads nothing of the instructor's: the course source with the hidden tests,
the gradebook and the other submissions are in the instructor's home (mode 0700). When its
grading ends, :func:`kill_all` kills every process of that grading user (a forked helper,
``kill(-1, SIGKILL)`` as that uid, repeated until :func:`processes_of` finds none: one
started with ``start_new_session=True`` included), and the folder and anything the user left
in the shared temporary folders (:func:`sweep_shared_tmp`) are removed before the user
grades again.

Nothing here imports torch.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import resource
import shutil
import signal
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import psutil

__all__ = [
    "GRADER_PREFIX",
    "LIMITS",
    "MAX_COPY_BYTES",
    "GradingUser",
    "SandboxError",
    "apply_limits",
    "drop_privileges",
    "grader_names",
    "kernel_env",
    "kill_all",
    "make_sandbox",
    "processes_of",
    "read_submission",
    "rights_of",
    "sweep_shared_tmp",
    "write_tree",
]

#: The grading users are ``autograd-grader-1`` … (system users the classroom makes).
GRADER_PREFIX = "autograd-grader-"
#: What a grading kernel may use: (soft, hard) per ``resource`` limit. Measured (every teacher
#: notebook of notebooks/exercises/source run in a sandboxed kernel): at most 342 MiB of data
#: (VmData), 220 MiB resident, 0.95 CPU seconds, 13 threads; a correct submission never
#: comes near these.
LIMITS: dict[str, tuple[int, int]] = {
    # processes and threads of the grading user (torch's and ipykernel's threads count)
    "RLIMIT_NPROC": (256, 256),
    # heap and private memory: a 10 GB allocation fails with MemoryError, the kernel lives
    "RLIMIT_DATA": (3 * 2**30, 3 * 2**30),
    # CPU seconds of each process: SIGXCPU ends a kernel that computes for longer
    "RLIMIT_CPU": (120, 130),
    # the largest file it may write (Python ignores SIGXFSZ: the write fails, EFBIG)
    "RLIMIT_FSIZE": (64 * 2**20, 64 * 2**20),
    "RLIMIT_CORE": (0, 0),
}
#: The most a submission's folder may hold to be copied into a sandbox.
MAX_COPY_BYTES = 50 * 2**20
#: Environment variables a grading kernel keeps (the rest, such as the instructor server's
#: JUPYTERHUB_API_TOKEN, is dropped).
KEPT_ENV = ("PATH", "LANG", "LANGUAGE", "TERM", "TZ", "JPY_PARENT_PID", "JPY_SESSION_NAME",
            "MPLBACKEND", "LD_LIBRARY_PATH")
KEPT_ENV_PREFIXES = ("LC_", "OMP_", "MKL_", "OPENBLAS_", "PYDEVD_")
_SHARED_TMP = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")
_PR_SET_NO_NEW_PRIVS = 38


class SandboxError(RuntimeError):
    """The sandbox cannot be set up (one sentence says why)."""


class GradingUser(NamedTuple):
    name: str
    uid: int
    gid: int

    @classmethod
    def named(cls, name: str) -> GradingUser:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            raise SandboxError(f"The grading user {name!r} does not exist.") from None
        if entry.pw_uid == 0:
            raise SandboxError(f"The grading user {name!r} is root: use an unprivileged one.")
        return cls(name, entry.pw_uid, entry.pw_gid)


def grader_names(count: int) -> list[str]:
    """``autograd-grader-1`` … ``autograd-grader-COUNT``."""
    return [f"{GRADER_PREFIX}{k}" for k in range(1, count + 1)]


# --- reading with the instructor's rights ---
@contextlib.contextmanager
def rights_of(uid: int) -> Iterator[None]:
    """Run the block with ``uid``'s effective uid, gid and groups (root's back afterwards):
    what it reads, ``uid`` could read."""
    entry = pwd.getpwuid(uid)
    os.setgroups(os.getgrouplist(entry.pw_name, entry.pw_gid))
    os.setegid(entry.pw_gid)
    os.seteuid(uid)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)
        os.setgroups([])


Entry = tuple[str, str, bytes]  # (relative path, "dir" | "file" | "link", content or target)


def _read_tree(folder: Path, limit: int) -> list[Entry]:
    entries: list[Entry] = []
    total = 0
    for here, dirs, files in os.walk(folder):  # never follows a symlink to a folder
        rel_here = os.path.relpath(here, folder)
        for name in sorted(dirs):
            path = os.path.join(here, name)
            rel = os.path.normpath(os.path.join(rel_here, name))
            if os.path.islink(path):
                entries.append((rel, "link", os.fsencode(os.readlink(path))))
            else:
                entries.append((rel, "dir", b""))
        for name in sorted(files):
            path = os.path.join(here, name)
            rel = os.path.normpath(os.path.join(rel_here, name))
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                entries.append((rel, "link", os.fsencode(os.readlink(path))))
            elif stat.S_ISREG(mode):
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
                with os.fdopen(fd, "rb") as file:
                    data = file.read(limit - total + 1)
                total += len(data)
                if total > limit:
                    raise SandboxError(f"The submission holds more than {limit >> 20} MiB: "
                                       "it is not graded.")
                entries.append((rel, "file", data))
    return entries


def read_submission(folder: Path, connection_file: Path, uid: int,
                    limit: int = MAX_COPY_BYTES) -> tuple[list[Entry], bytes]:
    """``folder``'s files and ``connection_file``'s content, read as ``uid``."""
    with rights_of(uid):
        try:
            entries = _read_tree(folder, limit)
            connection = connection_file.read_bytes()
        except OSError as exc:
            raise SandboxError(f"Cannot read the submission as its grader "
                               f"({exc.strerror}: {str(exc.filename)[-40:]}).") from None
    return entries, connection


# --- the grading user's folder ---
def make_sandbox(base: Path, user: GradingUser) -> Path:
    """A new folder in ``base``, mode 0700, owned by ``user``: ``work/``, ``home/``, ``tmp/``
    (all three empty, the user's)."""
    sandbox = Path(tempfile.mkdtemp(prefix=f"{user.name}-", dir=base))
    for part in ("work", "home", "tmp"):
        (sandbox / part).mkdir(mode=0o700)
        os.chown(sandbox / part, user.uid, user.gid)
    os.chown(sandbox, user.uid, user.gid)
    os.chmod(sandbox, 0o700)
    return sandbox


def write_tree(entries: list[Entry], dest: Path, user: GradingUser) -> None:
    """Write ``entries`` (see :func:`read_submission`) under ``dest``, owned by ``user``.

    Made by root in a folder nobody else can write to, so no entry can be redirected; a
    relative path climbing out of ``dest`` is refused.
    """
    for rel, kind, content in entries:
        path = dest / rel
        if not path.resolve().is_relative_to(dest.resolve()) or ".." in Path(rel).parts:
            raise SandboxError(f"A submission path leaves its folder: {rel[:40]}.")
        if kind == "dir":
            path.mkdir(mode=0o700)
        elif kind == "link":
            os.symlink(os.fsdecode(content), path)
        else:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as file:
                file.write(content)
        os.lchown(path, user.uid, user.gid)


def kernel_env(env: dict[str, str], sandbox: Path) -> dict[str, str]:
    """What the grading kernel's environment keeps of ``env`` (:data:`KEPT_ENV`), with HOME,
    IPYTHONDIR, Jupyter's folders and TMPDIR in ``sandbox`` (empty, the grading user's)."""
    kept = {k: v for k, v in env.items() if k in KEPT_ENV or k.startswith(KEPT_ENV_PREFIXES)}
    home = sandbox / "home"
    return {**kept, "HOME": str(home), "IPYTHONDIR": str(home / ".ipython"),
            "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
            "JUPYTER_DATA_DIR": str(home / ".local" / "share" / "jupyter"),
            "JUPYTER_RUNTIME_DIR": str(home / ".local" / "share" / "jupyter" / "runtime"),
            "MPLCONFIGDIR": str(home / ".matplotlib"), "TMPDIR": str(sandbox / "tmp")}


# --- limits and the privilege drop ---
def apply_limits(limits: dict[str, tuple[int, int]] = LIMITS) -> None:
    """Set each ``resource`` limit of ``limits`` on this process (inherited by its children)."""
    for name, (soft, hard) in limits.items():
        resource.setrlimit(getattr(resource, name), (soft, hard))


def _no_new_privileges() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise SandboxError("Cannot forbid new privileges to the grading kernel.")


def drop_privileges(user: GradingUser) -> None:
    """Become ``user`` for good: no supplementary group, its group, its uid (real, effective
    and saved), no new privileges through set-user-ID programs; SandboxError if root could
    be regained."""
    os.setgroups([])
    os.setgid(user.gid)
    os.setuid(user.uid)
    _no_new_privileges()
    try:
        os.setuid(0)
    except PermissionError:
        pass
    else:
        raise SandboxError("The grading kernel could become root again: not graded.")
    if os.getresuid() != (user.uid,) * 3 or os.getresgid() != (user.gid,) * 3 or \
            os.getgroups():
        raise SandboxError("The grading kernel kept another user's rights: not graded.")


# --- after grading ---
def processes_of(uid: int) -> list[int]:
    """Process ids of every living (not zombie) process whose real or effective uid is
    ``uid``."""
    found = []
    for proc in psutil.process_iter(["uids", "status"]):
        uids = proc.info["uids"]
        if uids is None or proc.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        if uid in (uids.real, uids.effective, uids.saved):
            found.append(proc.pid)
    return found


def _kill_as(uid: int) -> None:
    """``kill(-1, SIGKILL)`` from a forked child that became ``uid``: every process that uid
    may signal, whatever its session or process group."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(pwd.getpwuid(uid).pw_gid)
            os.setuid(uid)
            os.kill(-1, signal.SIGKILL)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def kill_all(uid: int, timeout: float = 10.0) -> list[int]:
    """Kill every process of ``uid`` (never 0); the ones still alive after ``timeout``
    seconds (none, unless the system refuses)."""
    if uid == 0:
        raise SandboxError("kill_all is never run for root.")
    deadline = time.monotonic() + timeout
    while True:
        left = processes_of(uid)
        if not left or time.monotonic() > deadline:
            return left
        _kill_as(uid)
        time.sleep(0.01)


def sweep_shared_tmp(uid: int, folders: tuple[str, ...] = _SHARED_TMP) -> list[str]:
    """Remove what ``uid`` left at the top of the shared temporary folders (``/tmp``,
    ``/var/tmp``, ``/dev/shm``, ``/run/lock``); the paths removed. Run once its processes
    are gone."""
    removed = []
    for folder in folders:
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            path = os.path.join(folder, name)
            try:
                info = os.lstat(path)
            except OSError:
                continue
            if info.st_uid != uid:
                continue
            if stat.S_ISDIR(info.st_mode):
                shutil.rmtree(path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    os.unlink(path)
            removed.append(path)
    return removed
