"""The classroom's JupyterHub authenticator and spawner (loaded by the hub's config file).

* :class:`ClassroomAuthenticator` — one password per account, checked against the salted
  hashes in ``DIR/hub/passwords.json``, off the event loop, unknown names as slowly as known
  ones, failures throttled; logout replaces the account's cookie id
  (:class:`ClassroomLogoutHandler`). For a dry run only: a course uses LTI, OAuth or LDAP.
* :class:`ClassroomSpawner` — JupyterHub's ``LocalProcessSpawner``: each server runs as the
  account's own system user (never root), home and cwd ``DIR/home/{username}``.
  :class:`SharedUserClassroomSpawner` (``--unsafe-shared-user``, not root) runs them all as
  the user who started the hub. Both put the role's Jupyter config overlay first on
  ``JUPYTER_CONFIG_PATH`` (instructor: formgrader on the course root; student: the
  Assignments tab only, and nbgrader's ``student_id``), the runtime's ``bin`` first on
  ``PATH``, and take a port from :func:`autograd_lab_course.ports.free_port`: JupyterHub's own
  choice comes from the range the system hands to every new connection, so a busy machine
  can take it before the server binds it, and the hub then waits ``http_timeout`` for a
  server that never listens. Its start returns once the server listens, and fails at once
  if the server exits first.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil
from jupyterhub.auth import Authenticator
from jupyterhub.handlers.login import LogoutHandler
from jupyterhub.spawner import LocalProcessSpawner, SimpleLocalProcessSpawner
from jupyterhub.utils import new_token
from traitlets import HasTraits, Integer, Unicode

from autograd_lab_course.classroom.accounts import (
    INSTRUCTOR,
    hash_password,
    read_password_file,
    verify_password,
)
from autograd_lab_course.classroom.login_throttle import LoginThrottle
from autograd_lab_course.grading.sandbox_client import SOCKET_ENV
from autograd_lab_course.ports import free_port

__all__ = ["ClassroomAuthenticator", "ClassroomLogoutHandler", "ClassroomSpawner",
           "SharedUserClassroomSpawner", "wait_until_listening"]


#: Checked when the name is unknown, so that an unknown name costs the same hashing time as a
#: known one (its hash matches no password).
_NOBODY = hash_password(secrets.token_urlsafe(16))


class ClassroomLogoutHandler(LogoutHandler):
    """Logout ends the session: the account's cookie id is replaced, so a saved hub cookie
    no longer logs anyone in (JupyterHub's own logout only clears the browser's copy)."""

    async def handle_logout(self) -> None:
        user = self.current_user
        if user is not None:
            user.orm_user.cookie_id = new_token()
            self.db.commit()


class ClassroomAuthenticator(Authenticator):
    """Username and password, checked against ``password_file`` (PBKDF2 hashes).

    Failed logins are throttled per account and per client address
    (:class:`~autograd_lab_course.classroom.login_throttle.LoginThrottle`): after
    ``free_tries`` failures a login is refused unchecked for a wait that doubles with each
    further checked failure (attempts during a wait are not counted, so one student's burst
    against their own name does not lock the address every local browser shares). Unknown
    names are hashed too (same time as known ones), and the hashing runs in a worker thread,
    off the hub's event loop.
    """

    password_file = Unicode(help="JSON file of {name: {salt, hash}}").tag(config=True)
    free_tries = Integer(5, help="failed logins per account before the waits start").tag(
        config=True)
    free_tries_per_address = Integer(
        20, help="failed logins per client address before the waits start (the classroom's "
        "students share one address, 127.0.0.1)").tag(config=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.by_name = LoginThrottle(free=self.free_tries)
        self.by_address = LoginThrottle(free=self.free_tries_per_address)

    def get_handlers(self, app: Any) -> list[tuple[str, type]]:
        return [*super().get_handlers(app), ("/logout", ClassroomLogoutHandler)]

    async def authenticate(self, handler: Any, data: dict[str, str]) -> str | None:
        name = str(data.get("username", "")).strip()
        password = str(data.get("password", ""))
        address = str(getattr(getattr(handler, "request", None), "remote_ip", "") or "")
        name_key, address_key = f"name:{name[:64]}", f"address:{address}"
        wait = max(self.by_name.wait_seconds(name_key), self.by_address.wait_seconds(address_key))
        if wait > 0:  # not counted: only checked passwords make the wait grow
            self.log.warning("Login for %r refused unchecked: %.0f s to wait", name[:40], wait)
            return None
        try:
            records = read_password_file(self.password_file)
        except (OSError, ValueError):
            self.log.error("Cannot read the classroom password file %s", self.password_file)
            return None
        record = records.get(name)
        right = await asyncio.get_running_loop().run_in_executor(
            None, verify_password, password, record if record is not None else _NOBODY)
        if right and record is not None:
            self.by_name.succeeded(name_key)
            self.by_address.succeeded(address_key)
            return name
        self.by_name.failed(name_key)
        self.by_address.failed(address_key)
        self.log.warning("Failed login for %r", name[:40])
        return None


class _ClassroomSpawnerMixin(HasTraits):
    """What both classroom spawners add: the role's overlay, the runtime, a port of ours."""

    config_root = Unicode(help="DIR/jupyter-config: the per-role overlays").tag(config=True)
    homes = Unicode(help="DIR/home: one folder per account").tag(config=True)
    runtime_bin = Unicode(
        help="The bin folder of the python the servers run (first on PATH)"
    ).tag(config=True)
    grading_socket = Unicode(
        help="The grading service's socket (the instructor's server grades through it)"
    ).tag(config=True)

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
        runtime_bin = self.runtime_bin or str(Path(sys.executable).parent)
        env["PATH"] = os.pathsep.join([runtime_bin, env.get("PATH", "")])
        # Jupyter's per-user state in the account's home (under a shared OS user too).
        home = os.path.join(self.homes, self.user.name)
        env["JUPYTER_CONFIG_DIR"] = os.path.join(home, ".jupyter")
        env["JUPYTER_DATA_DIR"] = os.path.join(home, ".local", "share", "jupyter")
        env["JUPYTER_RUNTIME_DIR"] = os.path.join(home, ".local", "share", "jupyter", "runtime")
        env["IPYTHONDIR"] = os.path.join(home, ".ipython")
        if self.grading_socket and self.user.name == INSTRUCTOR:
            env[SOCKET_ENV] = self.grading_socket  # grading kernels as grading users
        return env

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


class ClassroomSpawner(_ClassroomSpawnerMixin, LocalProcessSpawner):
    """Each account's server runs as its own system user (made by the classroom, see
    :mod:`autograd_lab_course.classroom.system_users`), with its home as HOME and cwd; never
    as root (no ``--allow-root``)."""


class SharedUserClassroomSpawner(_ClassroomSpawnerMixin, SimpleLocalProcessSpawner):
    """``--unsafe-shared-user``: every server runs as the one (non-root) user that started
    the classroom; homes are only folders, so nothing is isolated."""


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
