"""Start JupyterLab on a student workspace: ``make lab`` and the browser test use this.

What is ours: ``start_lab`` refreshes the workspace with
:func:`autograd_lab_course.workspace.copy_workspace` (the committed ``notebooks/`` are never
served), prepares the server's environment (:mod:`autograd_lab_course.lab_env`: the student
overlay, the token file, optional isolation), runs::

    python -m jupyterlab --ServerApp.ip=127.0.0.1 --ServerApp.port=N
        --ServerApp.port_retries=0 --ServerApp.root_dir=WORKSPACE
        [--ServerApp.file_to_run=WORKSPACE/00_start_here.ipynb] [--no-browser]

and waits until ``GET /api/status`` answers. The rest is jupyter-server's own: it reads the
token from ``JUPYTER_TOKEN_FILE``; with port 0 it takes a free port, which the launcher reads
from the ``jpserver-<pid>.json`` the server writes in its runtime directory; it opens the
browser on the start page (``00_start_here.ipynb``, when the workspace has one); it stops on
SIGTERM or Ctrl-C and shuts its kernels down. When it has stopped, the launcher removes its
own state folder (``/tmp/autograd-lab-*``: the server log, the student overlay).

Command line::

    python -m autograd_lab_course.lab_launcher [--port N] [--no-browser] [--workspace DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

from autograd_lab_course import REPO
from autograd_lab_course.lab_env import (
    isolated_env,
    runtime_dir,
    student_config_env,
    token_file_env,
)
from autograd_lab_course.ports import free_port
from autograd_lab_course.stop_signals import stop_on_terminal_signals, stopped_by_signals
from autograd_lab_course.workspace import WorkspaceError, copy_workspace

__all__ = ["LabError", "LabServer", "default_workspace", "free_port", "main", "start_lab"]

_HOST = "127.0.0.1"
_STARTUP_TIMEOUT = 120.0  # seconds; a cold start on a busy 2-core machine takes a while
#: The workspace's start page; the lab opens on it when it exists.
START_PAGE = "00_start_here.ipynb"
# Loopback requests never go through an http_proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class LabError(RuntimeError):
    """JupyterLab could not be started (the message includes the end of the server log)."""


def default_workspace() -> Path:
    """``<repository>/workspace`` (git-ignored) next to the package of an editable install."""
    return REPO / "workspace"


def check_port(port: int | None) -> int:
    """``port`` as jupyter-server takes it: None and 0 mean "any free port" (0).

    Anything outside 0-65535 raises :class:`LabError` at once, with one sentence.
    """
    if port is None:
        return 0
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise LabError(
            f"The port must be 0 (any free port) or a number from 1 to 65535, not {port!r:.20}."
        )
    return port


def _tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no server log)"
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class LabServer(AbstractContextManager):
    """A running JupyterLab server; ``stop()`` it (or use ``with``) when done."""

    process: subprocess.Popen[bytes]
    port: int
    token: str
    root_dir: Path
    log_path: Path
    _log_handle: object = field(default=None, repr=False)
    #: The page the lab opens on (relative to ``root_dir``), or None for the file browser.
    start_page: str | None = None
    #: The launcher's own ``/tmp/autograd-lab-*`` state folder (server log, student overlay,
    #: token file), removed by ``stop()``; None when the caller chose the folder.
    state_dir: Path | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/`` (no token)."""
        return f"http://{_HOST}:{self.port}/"

    @property
    def url(self) -> str:
        """JupyterLab's address, token included."""
        return f"{self.base_url}lab?token={self.token}"

    @property
    def start_url(self) -> str:
        """The address to open in a browser: the start page in JupyterLab, token included."""
        if self.start_page is None:
            return self.url
        return f"{self.base_url}lab/tree/{self.start_page}?token={self.token}"

    def running(self) -> bool:
        """True while the server process is alive."""
        return self.process.poll() is None

    def log_tail(self, lines: int = 25) -> str:
        """The last lines of the server log (for error messages)."""
        return _tail(self.log_path, lines)

    def stop(self, timeout: float = 15.0) -> None:
        """Shut the server (and its kernels) down, then wait for the process to exit.

        Asks politely first (``POST /api/shutdown`` stops kernels cleanly), then SIGTERM (which
        jupyter-server handles the same way), then kills it. Safe to call twice.
        """
        try:
            if self.running():
                try:
                    request = urllib.request.Request(
                        f"{self.base_url}api/shutdown",
                        method="POST",
                        headers={"Authorization": f"token {self.token}"},
                    )
                    _OPENER.open(request, timeout=5).close()
                except (OSError, urllib.error.URLError):
                    pass
                try:
                    self.process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self.process.terminate()
                    try:
                        self.process.wait(timeout=timeout)
                    except subprocess.TimeoutExpired:
                        self.process.kill()
                        self.process.wait(timeout=timeout)
        finally:
            handle = self._log_handle
            if handle is not None and hasattr(handle, "close"):
                handle.close()
                self._log_handle = None
            if self.state_dir is not None and not self.running():
                shutil.rmtree(self.state_dir, ignore_errors=True)
                self.state_dir = None

    def __exit__(self, *exc_info: object) -> None:  # `with`: stop, whatever happened
        self.stop()


def _command(
    port: int, root_dir: Path, *, open_browser: bool = False, start_page: str | None = None
) -> list[str]:
    """The server's command line: nothing secret on it (the token goes by file)."""
    command = [
        sys.executable,
        "-m",
        "jupyterlab",  # not the `jupyter` shim: the server's pid is the process's own
        f"--ServerApp.ip={_HOST}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",  # a busy port is an error, not a silent other port
        f"--ServerApp.root_dir={root_dir}",
    ]
    if start_page is not None:
        command.append(f"--ServerApp.file_to_run={root_dir / start_page}")
    if not open_browser:
        command.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Containers and CI often run as root; jupyter refuses that unless told.
        command.append("--ServerApp.allow_root=True")
    return command


def _status(port: int, token: str, timeout: float = 2.0) -> int | None:
    """HTTP status of ``GET /api/status`` with the token, or None if nothing answers."""
    request = urllib.request.Request(
        f"http://{_HOST}:{port}/api/status", headers={"Authorization": f"token {token}"}
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            json.loads(response.read().decode("utf-8"))
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (OSError, ValueError):
        return None


def _server_port(info_file: Path) -> int | None:
    """The port the server wrote in its ``jpserver-<pid>.json``, or None (not written yet)."""
    try:
        port = json.loads(info_file.read_text(encoding="utf-8")).get("port")
    except (OSError, ValueError, AttributeError):
        return None
    return port if isinstance(port, int) and port > 0 else None


def _wait_until_ready(server: LabServer, info_file: Path, asked: int, timeout: float) -> None:
    """Poll until the server answers on the port it wrote in ``info_file``; else LabError."""
    deadline = time.monotonic() + timeout
    where = f"port {asked}" if asked else "a free port"
    while True:
        if not server.running():
            raise LabError(
                f"JupyterLab exited (code {server.process.returncode}) before answering on "
                f"{where}; server log ({server.log_path}):\n{server.log_tail()}"
            )
        port = _server_port(info_file)
        if port is not None and _status(port, server.token) == 200:
            server.port = port
            return
        if time.monotonic() > deadline:
            raise LabError(
                f"JupyterLab did not answer on {where} within {timeout:.0f} s; "
                f"server log ({server.log_path}):\n{server.log_tail()}"
            )
        time.sleep(0.25)


def _serve(
    root_dir: Path,
    *,
    port: int,
    token: str,
    open_browser: bool,
    isolate_dir: Path | None,
    timeout: float,
) -> LabServer:
    """Start jupyter-server on ``root_dir`` (already copied) and wait until it answers."""
    env = dict(os.environ)
    # The venv's bin first: kernels, nbgrader and jupyter subcommands come from here.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    owned = None
    if isolate_dir is not None:
        state_dir = isolate_dir
        env.update(isolated_env(isolate_dir))
    else:
        state_dir = owned = Path(tempfile.mkdtemp(prefix="autograd-lab-"))
    try:
        env.update(student_config_env(state_dir / "student-config", env))
        token_file = token_file_env(state_dir, token, env)
        start_page = START_PAGE if (root_dir / START_PAGE).is_file() else None

        log_path = state_dir / "jupyter-server.log"
        log_handle = open(log_path, "ab")  # noqa: SIM115 - closed by LabServer.stop()
        process = subprocess.Popen(
            _command(port, root_dir, open_browser=open_browser, start_page=start_page),
            cwd=root_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_handle,
            stderr=subprocess.STDOUT,
        )
    except BaseException:
        if owned is not None:
            shutil.rmtree(owned, ignore_errors=True)
        raise
    server = LabServer(process, port, token, root_dir, log_path, log_handle, start_page,
                       state_dir=owned)
    info_file = runtime_dir(env) / f"jpserver-{process.pid}.json"
    try:
        _wait_until_ready(server, info_file, port, timeout)
    except BaseException:
        server.stop(timeout=5)
        raise
    finally:
        token_file.unlink(missing_ok=True)  # read at start-up; nothing secret left behind
    return server


def start_lab(
    workspace: Path | str,
    *,
    port: int | None = None,
    token: str | None = None,
    open_browser: bool = False,
    isolate_dir: Path | str | None = None,
    timeout: float = _STARTUP_TIMEOUT,
) -> LabServer:
    """Refresh ``workspace`` and start JupyterLab there on 127.0.0.1; return the server.

    ``port`` None or 0 lets the server take a free loopback port (``server.port`` is the one it
    took); a port outside 0-65535 raises :class:`LabError` at once. ``token`` None makes a
    random one (``secrets.token_hex``). ``open_browser`` lets jupyter-server open a browser on
    the start page. ``isolate_dir`` keeps Jupyter's user state out of the home directory.
    Waits until ``GET /api/status`` answers (``LabError`` with the log tail on failure or
    after ``timeout`` seconds) and stops the process if anything goes wrong.
    """
    asked = check_port(port)
    root_dir = Path(workspace).expanduser().resolve()
    copy_workspace(root_dir)
    return _serve(
        root_dir,
        port=asked,
        token=token or secrets.token_hex(24),
        open_browser=open_browser,
        isolate_dir=None if isolate_dir is None else Path(isolate_dir).expanduser().resolve(),
        timeout=timeout,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m autograd_lab_course.lab_launcher [--port N] [--no-browser]
    [--workspace DIR]``."""
    parser = argparse.ArgumentParser(
        prog="python -m autograd_lab_course.lab_launcher",
        description="Copy the course into a workspace and open it in JupyterLab "
        "(127.0.0.1 only, with a token). Ctrl-C stops it.",
    )
    parser.add_argument(
        "--port", type=int, default=0, help="port (default 0: any free one, printed)"
    )
    parser.add_argument(
        "--no-browser", action="store_true", help="print the address but do not open a browser"
    )
    parser.add_argument(
        "--workspace",
        default=None,
        help="working copy to serve (default: workspace/ in the repository)",
    )
    args = parser.parse_args(argv)
    try:
        port = check_port(args.port)
    except LabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    workspace = args.workspace if args.workspace is not None else default_workspace()
    stop_on_terminal_signals()  # from here SIGTERM and SIGHUP stop it as Ctrl-C does
    try:
        with stopped_by_signals():  # and a stop lost in a finalizer still ends the copy
            report = copy_workspace(workspace)
    except WorkspaceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C, kill or a closed terminal during the copy
        print("\nInterrupted during the copy; JupyterLab was not started (the files copied "
              "so far are whole).", file=sys.stderr)
        return 130
    print(report)
    try:
        server = _serve(
            Path(report.dest or workspace),
            port=port,
            token=secrets.token_hex(24),
            open_browser=not args.no_browser,
            isolate_dir=None,
            timeout=_STARTUP_TIMEOUT,
        )
    except LabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C while starting: _serve has stopped the server
        print("\nInterrupted; JupyterLab was not started.", file=sys.stderr)
        return 130
    with server:
        print(f"\nJupyterLab is serving {server.root_dir}")
        print(f"Open this address in your browser:\n\n    {server.start_url}\n")
        print(f"(server log: {server.log_path}; press Ctrl-C to stop)")
        try:
            while server.running():
                time.sleep(0.5)
        except KeyboardInterrupt:
            print("\nStopping JupyterLab…")
    if server.process.returncode not in (0, None, -signal.SIGTERM, -signal.SIGINT):
        print(f"JupyterLab stopped with code {server.process.returncode}.", file=sys.stderr)
        return 1
    print("Stopped.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
