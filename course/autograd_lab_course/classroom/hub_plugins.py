"""The classroom's JupyterHub authenticator and spawner (loaded by the hub's config file).

* :class:`ClassroomAuthenticator` — one password per account, checked against the salted
  hashes in ``DIR/hub/passwords.json``. For a dry run only: a course uses LTI, OAuth or LDAP.
* :class:`ClassroomSpawner` — JupyterHub's ``SimpleLocalProcessSpawner`` (every server runs as
  the OS user that started the hub, home ``DIR/home/{username}``), plus the role's Jupyter
  config overlay first on ``JUPYTER_CONFIG_PATH`` (instructor: formgrader on the course root;
  student: the Assignments tab only, and nbgrader's ``student_id``), the environment's
  ``bin`` first on ``PATH``, ``--allow-root`` when the hub itself runs as root (CI does), and
  a port from :func:`autograd_lab_course.ports.free_port`: JupyterHub's own choice comes from the
  range the system hands to every new connection, so a busy machine can take it before the
  server binds it, and the hub then waits ``http_timeout`` for a server that never listens.
  Its start returns once the server listens, and fails at once if the server exits first.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil
from jupyterhub.auth import Authenticator
from jupyterhub.spawner import SimpleLocalProcessSpawner
from traitlets import Unicode

from autograd_lab_course.classroom.accounts import INSTRUCTOR, read_password_file, verify_password
from autograd_lab_course.ports import free_port

__all__ = ["ClassroomAuthenticator", "ClassroomSpawner", "wait_until_listening"]


class ClassroomAuthenticator(Authenticator):
    """Username and password, checked against ``password_file`` (PBKDF2 hashes)."""

    password_file = Unicode(help="JSON file of {name: {salt, hash}}").tag(config=True)

    async def authenticate(self, handler: Any, data: dict[str, str]) -> str | None:
        name = str(data.get("username", "")).strip()
        password = str(data.get("password", ""))
        try:
            records = read_password_file(self.password_file)
        except (OSError, ValueError):
            self.log.error("Cannot read the classroom password file %s", self.password_file)
            return None
        record = records.get(name)
        if record is not None and verify_password(password, record):
            return name
        self.log.warning("Failed login for %r", name[:40])
        return None


class ClassroomSpawner(SimpleLocalProcessSpawner):
    """A local single-user server per account with its role's Jupyter overlay."""

    config_root = Unicode(help="DIR/jupyter-config: the per-role overlays").tag(config=True)

    def overlay_dirs(self) -> list[str]:
        """Overlay directories for this user, highest priority first."""
        root = Path(self.config_root)
        name = self.user.name
        if name == INSTRUCTOR:
            return [str(root / "instructor")]
        return [str(root / "users" / name), str(root / "student")]

    def get_env(self) -> dict[str, str]:
        env = super().get_env()
        env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(self.overlay_dirs())
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        # One OS user for every account: keep Jupyter's per-user state in each home.
        home = self.home_dir
        env["JUPYTER_CONFIG_DIR"] = os.path.join(home, ".jupyter")
        env["JUPYTER_DATA_DIR"] = os.path.join(home, ".local", "share", "jupyter")
        env["JUPYTER_RUNTIME_DIR"] = os.path.join(home, ".local", "share", "jupyter", "runtime")
        env["IPYTHONDIR"] = os.path.join(home, ".ipython")
        return env

    def get_args(self) -> list[str]:
        args = list(super().get_args())
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            # CI runs as root; Jupyter refuses that unless told. A deployment never runs
            # single-user servers as root (deploy/ uses the image's unprivileged user).
            args.append("--allow-root")
        return args

    _chosen_port = 0

    async def start(self) -> tuple[str, int]:
        """Start the server on a port of ours; return once it listens (raise if it exits first).

        JupyterHub itself notices a server that exits only once, ``slow_spawn_timeout`` (10 s)
        after the start; later it waits the whole ``http_timeout`` for it.
        """
        if self.port in (0, self._chosen_port):  # not configured: a new port for each start
            self.port = self._chosen_port = free_port(self.ip or "127.0.0.1")
        ip, port = await super().start()
        await wait_until_listening(self.proc, port, f"{self.user.name}'s server")
        return ip, port


async def wait_until_listening(process: subprocess.Popen[bytes], port: int, what: str,
                               interval: float = 0.25) -> None:
    """Return once ``process`` listens on TCP ``port``; raise RuntimeError once it has exited.

    Asks the process itself (its sockets), so another program answering on that port does not
    count; where the system will not list them, returns at once (JupyterHub's own wait for
    the server's HTTP answer then decides). Without a time limit of its own: JupyterHub
    cancels a start after ``start_timeout``.
    """
    while True:
        code = process.poll()
        if code is not None:
            raise RuntimeError(f"{what} exited (code {code}) before listening on port {port}.")
        try:
            sockets = psutil.Process(process.pid).net_connections(kind="tcp")
        except psutil.NoSuchProcess:  # ended between the two looks: poll() says how, next
            sockets = []
        except (psutil.Error, OSError):  # this system will not say: the hub's own wait decides
            return
        if any(c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in sockets):
            return
        await asyncio.sleep(interval)
