"""Start and stop the classroom's JupyterHub (with its proxy and single-user servers).

:func:`start_classroom` fills DIR (:class:`~autograd_lab_course.classroom.layout.ClassroomLayout`),
makes new passwords, writes the hub's settings and runs::

    python -m jupyterhub -f autograd_lab/classroom/jupyterhub_config.py

in its own process group, then waits until ``GET /hub/health`` answers through the proxy on
``http://127.0.0.1:PORT/``. :meth:`Classroom.stop` sends the hub SIGTERM (JupyterHub then
stops every single-user server and the proxy), and afterwards kills whatever of the process
tree it had before is still alive (kernels included), so nothing outlives the classroom.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from autograd_lab_course import REPO
from autograd_lab_course.classroom.accounts import (
    INSTRUCTOR,
    make_passwords,
    student_names,
    write_password_file,
)
from autograd_lab_course.classroom.grading_service import (
    GRADERS,
    start_grading_service,
    wait_for_grading_service,
)
from autograd_lab_course.classroom.layout import ClassroomLayout
from autograd_lab_course.classroom.runtime import RuntimeError_, build_runtime, library_path
from autograd_lab_course.classroom.system_users import (
    SHARED_USER_WARNING,
    SystemUserError,
    can_isolate,
    ensure_user,
    lock_down,
    unreachable_parent,
)
from autograd_lab_course.ports import free_port, port_in_use

__all__ = ["Classroom", "ClassroomError", "default_directory", "find_proxy", "log_tail",
           "start_classroom"]

HOST = "127.0.0.1"
CONFIG_FILE = Path(__file__).resolve().parent / "jupyterhub_config.py"
#: Where ``make classroom`` / ``make test`` install configurable-http-proxy from npm.
NPM_PROXY = REPO / ".npm-tools" / "node_modules" / ".bin" / "configurable-http-proxy"
START_TIMEOUT = 120.0  # seconds for the hub and proxy to answer
SPAWN_START_TIMEOUT = 300  # Spawner.start_timeout (default 60)
SPAWN_HTTP_TIMEOUT = 240  # Spawner.http_timeout (default 30)
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ClassroomError(RuntimeError):
    """The classroom cannot start as asked (one sentence says why and what to do)."""


def default_directory() -> Path:
    """``<repository>/classroom`` (git-ignored)."""
    return REPO / "classroom"


def find_proxy() -> str:
    """configurable-http-proxy: the one ``make`` installed in ``.npm-tools/``, else on PATH."""
    if NPM_PROXY.is_file():
        return str(NPM_PROXY)
    found = shutil.which("configurable-http-proxy")
    if found:
        return found
    raise ClassroomError(
        "configurable-http-proxy is not installed: run `make classroom` (it installs it from "
        "npm into .npm-tools/), or `npm install -g configurable-http-proxy`."
    )


def log_tail(path: Path, lines: int = 25) -> str:
    """The last ``lines`` lines of a log file (the hub's: ``ClassroomLayout.hub_log``)."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no hub log)"


@dataclass
class Classroom(AbstractContextManager):
    """A running classroom hub; ``stop()`` it (or use ``with``)."""

    process: subprocess.Popen[bytes]
    port: int
    passwords: dict[str, str]
    layout: ClassroomLayout
    log_path: Path
    started_seconds: float = 0.0
    #: the root grading service (run as root only: grading kernels as grading users)
    grading: subprocess.Popen[bytes] | None = None
    _log: object = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT/`` (the login page is ``hub/login``)."""
        return f"http://{HOST}:{self.port}/"

    @property
    def students(self) -> list[str]:
        return [name for name in self.passwords if name != INSTRUCTOR]

    def running(self) -> bool:
        return self.process.poll() is None

    def processes(self) -> list[psutil.Process]:
        """The hub and everything it started (proxy, single-user servers, kernels)."""
        try:
            hub = psutil.Process(self.process.pid)
            return [hub, *hub.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def stop(self, timeout: float = 60.0) -> None:
        """Stop the hub, the proxy, every single-user server and kernel. Safe to call twice."""
        tree = self.processes()
        try:
            if self.running():
                self.process.send_signal(signal.SIGTERM)  # the hub cleans up servers + proxy
                try:
                    self.process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=10)
        finally:
            survivors = [p for p in tree if p.is_running()]
            for proc in survivors:
                try:
                    proc.terminate()
                except psutil.NoSuchProcess:
                    pass
            _, alive = psutil.wait_procs(survivors, timeout=10)
            for proc in alive:
                try:
                    proc.kill()
                except psutil.NoSuchProcess:
                    pass
            psutil.wait_procs(alive, timeout=10)
            if self.grading is not None and self.grading.poll() is None:
                self.grading.stdin.close()  # it ends its kernels, then itself
                try:
                    self.grading.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self.grading.kill()
                    self.grading.wait(timeout=10)
            if self._log is not None and hasattr(self._log, "close"):
                self._log.close()
                self._log = None

    def __exit__(self, *exc_info: object) -> None:  # `with`: stop, whatever happened
        self.stop()


def _health(port: int) -> bool:
    try:
        with _OPENER.open(f"http://{HOST}:{port}/hub/health", timeout=3) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def prepare_directory(directory: Path | str) -> Path:
    """Create DIR if needed and check it is writable; ClassroomError otherwise."""
    path = Path(directory).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError:
        shown = str(path) if len(str(path)) <= 60 else "…" + str(path)[-59:]
        raise ClassroomError(
            f"Cannot write to {shown}: choose a directory you can write to with --dir."
        ) from None
    return path.resolve()


def _preparation_error(root: Path, exc: OSError) -> ClassroomError:
    """The one sentence for an OSError while filling DIR."""
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return ClassroomError(
            f"Cannot prepare the class in {root}: the disk is full; free some space and run "
            "again (finished copies are kept, nothing is half-written)."
        )
    return ClassroomError(
        f"Cannot prepare the class in {root} ({exc.strerror or exc}): choose a directory "
        "you can write to with --dir."
    )


def start_classroom(
    students: int = 3,
    *,
    port: int | None = None,
    directory: Path | str | None = None,
    timeout: float = START_TIMEOUT,
    unsafe_shared_user: bool = False,
) -> Classroom:
    """Fill DIR, start JupyterHub on 127.0.0.1:``port`` and wait until it answers.

    ``port`` None picks a free port. Returns a :class:`Classroom` whose ``passwords`` map
    ``instructor`` and ``student1`` … ``studentN`` to this run's passwords.

    Run as root, every account is a system user of its own
    (:mod:`~autograd_lab_course.classroom.system_users`) and its server runs as that user
    with the runtime python (:mod:`~autograd_lab_course.classroom.runtime`). Otherwise
    nothing can be isolated: ClassroomError says so, unless ``unsafe_shared_user``.
    """
    if students < 1:
        raise ClassroomError(f"A class needs at least one student (got {students}).")
    isolated = can_isolate()
    if isolated and unsafe_shared_user:
        raise ClassroomError("Run as root, every account gets its own system user: "
                             "leave out --unsafe-shared-user.")
    if not isolated and not unsafe_shared_user:
        raise ClassroomError(SHARED_USER_WARNING)
    if port is not None and not 1 <= port <= 65535:
        raise ClassroomError(f"The port must be between 1 and 65535 (got {port}).")
    root = prepare_directory(directory if directory is not None else default_directory())
    proxy = find_proxy()
    port = port if port is not None else free_port()
    if port_in_use(port):
        raise ClassroomError(f"Port {port} on 127.0.0.1 is in use: choose another with --port.")

    if isolated:
        for needed in (root, Path(sysconfig.get_paths()["purelib"])):
            closed = unreachable_parent(needed)
            if closed is not None:
                raise ClassroomError(
                    f"The accounts cannot reach {str(needed)[-50:]}: {str(closed)[-40:]} is "
                    "closed to other users; use a --dir (and a checkout) they can reach."
                )

    layout = ClassroomLayout(root)
    names = student_names(students)
    grading = None
    try:
        layout.prepare(names, isolated=isolated)
        python, libraries = sys.executable, None
        if isolated:
            os.chmod(root, 0o755)
            os.chmod(layout.homes, 0o755)
            for name in [INSTRUCTOR, *names]:
                ensure_user(name, layout.home(name))
            for name in GRADERS:  # grading kernels run as these (no home of their own)
                ensure_user(name, layout.grading)
            python = str(build_runtime(layout.runtime))
            libraries = library_path(layout.runtime)
            lock_down({name: layout.home(name) for name in [INSTRUCTOR, *names]}, layout.state)
            grading = start_grading_service(layout, python, libraries)
    except OSError as exc:
        raise _preparation_error(root, exc) from None
    except (SystemUserError, RuntimeError_) as exc:
        raise ClassroomError(str(exc)) from None
    passwords = make_passwords(students)
    password_file = layout.state / "passwords.json"
    write_password_file(password_file, passwords)
    for stale in ("jupyterhub.sqlite", "proxy.pid"):  # fresh hub state each run
        (layout.state / stale).unlink(missing_ok=True)
    settings = {
        "port": port,
        "hub_port": free_port(),
        "proxy_api_port": free_port(),
        "proxy_command": proxy,
        "state": str(layout.state),
        "homes": str(layout.homes),
        "config_root": str(layout.config_root),
        "password_file": str(password_file),
        "users": [INSTRUCTOR, *names],
        "python": python,
        "isolated": isolated,
        "grading_socket": str(layout.grading_socket) if grading is not None else "",
        "ld_library_path": libraries,
        "start_timeout": SPAWN_START_TIMEOUT,
        "http_timeout": SPAWN_HTTP_TIMEOUT,
    }
    settings_file = layout.hub_settings
    settings_file.write_text(json.dumps(settings, indent=1) + "\n", encoding="utf-8")

    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTERHUB_")}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["AUTOGRAD_LAB_CLASSROOM_SETTINGS"] = str(settings_file)
    env["CONFIGPROXY_AUTH_TOKEN"] = secrets.token_hex(32)
    log_path = layout.hub_log
    log = open(log_path, "ab")  # noqa: SIM115 - closed by Classroom.stop()
    t0 = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyterhub", "-f", str(CONFIG_FILE)],
        cwd=layout.state,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C in the terminal reaches us; we stop the hub
    )
    classroom = Classroom(process, port, passwords, layout, log_path, grading=grading, _log=log)
    deadline = time.monotonic() + timeout
    try:
        while not _health(port):
            if not classroom.running():
                raise ClassroomError(
                    f"JupyterHub exited (code {process.returncode}) before answering; "
                    f"hub log ({log_path}):\n{log_tail(log_path)}"
                )
            if time.monotonic() > deadline:
                raise ClassroomError(
                    f"JupyterHub did not answer on {classroom.url} within {timeout:.0f} s; "
                    f"hub log ({log_path}):\n{log_tail(log_path)}"
                )
            time.sleep(0.25)
        problem = wait_for_grading_service(layout, grading, deadline) if grading else None
        if problem:
            raise ClassroomError(problem)
    except BaseException:
        classroom.stop(timeout=15)
        raise
    classroom.started_seconds = time.perf_counter() - t0
    return classroom
