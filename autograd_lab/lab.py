"""Start JupyterLab on a student workspace: ``make lab`` and the browser test use this.

``start_lab`` refreshes the workspace with :func:`autograd_lab.workspace.copy_workspace`
(the committed ``notebooks/`` are never served), then runs::

    python -m jupyter lab --no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port=N
        --ServerApp.port_retries=0 --IdentityProvider.token=TOKEN
        --ServerApp.root_dir=WORKSPACE

bound to the loopback interface with a random token, and waits until
``GET /api/status`` answers. With ``isolate_dir`` the server keeps its user state (config,
runtime files, IPython profile, lab settings and workspaces) under that directory, while
the environment's own ``share/jupyter`` (the kernelspec and the ipywidgets lab extension)
is still found.

The student's lab hides the teacher tools: nbgrader (installed for ``make exercises``) adds
a formgrader, a "Create Assignment" sidebar and a Validate button, which mean nothing to a
student working on their own copy. An extra config directory, put first on
``JUPYTER_CONFIG_PATH`` for this server only, disables nbgrader's server and lab extensions;
the user's own Jupyter configuration is left untouched. Teachers open the solution notebooks
with ``jupyter lab notebooks/exercises/source``, where nbgrader is available.

Command line::

    python -m autograd_lab.lab [--port N] [--no-browser] [--workspace DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import webbrowser
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from autograd_lab.workspace import WorkspaceError, copy_workspace

__all__ = ["LabError", "LabServer", "default_workspace", "free_port", "main", "start_lab"]

_HOST = "127.0.0.1"
_STARTUP_TIMEOUT = 120.0  # seconds; a cold start on a busy 2-core machine takes a while
# Loopback requests never go through an http_proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class LabError(RuntimeError):
    """JupyterLab could not be started (the message includes the end of the server log)."""


def default_workspace() -> Path:
    """``<repository>/workspace`` (git-ignored) next to the package of an editable install."""
    return Path(__file__).resolve().parents[1] / "workspace"


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1, chosen by the operating system."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((_HOST, 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no server log)"
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class LabServer:
    """A running JupyterLab server; ``stop()`` it (or use ``with``) when done."""

    process: subprocess.Popen[bytes]
    port: int
    token: str
    root_dir: Path
    log_path: Path
    _log_handle: object = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/`` (no token)."""
        return f"http://{_HOST}:{self.port}/"

    @property
    def url(self) -> str:
        """The address to open in a browser, token included."""
        return f"{self.base_url}lab?token={self.token}"

    def running(self) -> bool:
        """True while the server process is alive."""
        return self.process.poll() is None

    def log_tail(self, lines: int = 25) -> str:
        """The last lines of the server log (for error messages)."""
        return _tail(self.log_path, lines)

    def stop(self, timeout: float = 15.0) -> None:
        """Shut the server (and its kernels) down, then wait for the process to exit.

        Asks politely first (``POST /api/shutdown`` stops kernels cleanly), then sends
        SIGTERM to the server's process group, then SIGKILL. Safe to call twice.
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
                    self._signal(signal.SIGTERM)
                    try:
                        self.process.wait(timeout=timeout)
                    except subprocess.TimeoutExpired:
                        self._signal(getattr(signal, "SIGKILL", signal.SIGTERM))
                        self.process.wait(timeout=timeout)
        finally:
            handle = self._log_handle
            if handle is not None and hasattr(handle, "close"):
                handle.close()
                self._log_handle = None

    def _signal(self, sig: int) -> None:
        """Signal the server's process group (POSIX) or terminate the process (Windows)."""
        if not self.running():
            return
        if os.name == "posix":
            try:
                os.killpg(self.process.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        else:
            self.process.terminate()

    def __enter__(self) -> LabServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


#: What the student's lab turns off (see the module docstring): nbgrader's server extensions
#: and its JupyterLab extension.
_STUDENT_CONFIG: dict[str, dict[str, object]] = {
    "jupyter_server_config.d/autograd_lab_student.json": {
        "ServerApp": {
            "jpserver_extensions": {
                f"nbgrader.server_extensions.{name}": False
                for name in ("formgrader", "assignment_list", "course_list", "validate_assignment")
            }
        }
    },
    "labconfig/page_config.json": {"disabledExtensions": {"@jupyter/nbgrader": True}},
}


def _student_config_env(config_dir: Path, env: dict[str, str]) -> dict[str, str]:
    """Write the student overlay into ``config_dir``; the ``JUPYTER_CONFIG_PATH`` that uses it."""
    for relative, content in _STUDENT_CONFIG.items():
        target = config_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(content, indent=1) + "\n", encoding="utf-8")
    existing = env.get("JUPYTER_CONFIG_PATH", "")
    return {"JUPYTER_CONFIG_PATH": os.pathsep.join(p for p in (str(config_dir), existing) if p)}


def _isolated_env(isolate_dir: Path) -> dict[str, str]:
    """Environment variables that keep Jupyter's per-user state under ``isolate_dir``.

    ``JUPYTER_DATA_DIR`` replaces only the user data directory: the environment's
    ``<sys.prefix>/share/jupyter`` (kernelspec, lab extensions) stays on the search path.
    """
    isolate_dir = isolate_dir.resolve()
    dirs = {
        "JUPYTER_CONFIG_DIR": isolate_dir / "config",
        "JUPYTER_RUNTIME_DIR": isolate_dir / "runtime",
        "JUPYTER_DATA_DIR": isolate_dir / "data",
        "IPYTHONDIR": isolate_dir / "ipython",
        "JUPYTERLAB_SETTINGS_DIR": isolate_dir / "lab" / "user-settings",
        "JUPYTERLAB_WORKSPACES_DIR": isolate_dir / "lab" / "workspaces",
    }
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    return {name: str(path) for name, path in dirs.items()}


def _command(port: int, token: str, root_dir: Path) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        f"--ServerApp.ip={_HOST}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root_dir}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Containers and CI often run as root; jupyter refuses that unless told.
        command.append("--ServerApp.allow_root=True")
    return command


def _status(port: int, token: str, timeout: float = 2.0) -> int | None:
    """HTTP status of ``GET /api/status`` with the token, or None if nothing answers."""
    url = f"http://{_HOST}:{port}/api/status?token={token}"
    try:
        with _OPENER.open(url, timeout=timeout) as response:
            json.loads(response.read().decode("utf-8"))
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (OSError, ValueError):
        return None


def _launch(
    root_dir: Path, port: int, token: str, env: dict[str, str], log_path: Path, timeout: float
) -> LabServer:
    log_handle = open(log_path, "ab")  # noqa: SIM115 - closed by LabServer.stop()
    kwargs: dict[str, object] = {}
    if os.name == "posix":
        kwargs["start_new_session"] = True  # own process group: stop() can signal all of it
    else:
        kwargs["creationflags"] = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
    process = subprocess.Popen(
        _command(port, token, root_dir),
        cwd=root_dir,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log_handle,
        stderr=subprocess.STDOUT,
        **kwargs,  # type: ignore[arg-type]
    )
    server = LabServer(process, port, token, root_dir, log_path, log_handle)
    deadline = time.monotonic() + timeout
    try:
        while True:
            if not server.running():
                raise LabError(
                    f"JupyterLab exited (code {process.returncode}) before answering on "
                    f"port {port}; server log ({log_path}):\n{server.log_tail()}"
                )
            if _status(port, token) == 200:
                return server
            if time.monotonic() > deadline:
                raise LabError(
                    f"JupyterLab did not answer on {server.base_url} within {timeout:.0f} s; "
                    f"server log ({log_path}):\n{server.log_tail()}"
                )
            time.sleep(0.25)
    except BaseException:
        server.stop(timeout=5)
        raise


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

    ``port`` None picks a free loopback port; ``token`` None makes a random one
    (``secrets.token_hex``). ``isolate_dir`` keeps Jupyter's user state out of the home
    directory. Waits until ``GET /api/status`` answers (``LabError`` with the log tail on
    failure or after ``timeout`` seconds) and stops the process if anything goes wrong.
    """
    root_dir = Path(workspace).expanduser().resolve()
    copy_workspace(root_dir)
    token = token or secrets.token_hex(24)

    env = dict(os.environ)
    # The venv's bin first: kernels, nbgrader and jupyter subcommands come from here.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.pop("JUPYTER_TOKEN", None)
    if isolate_dir is not None:
        iso = Path(isolate_dir).expanduser().resolve()
        env.update(_isolated_env(iso))
        log_path = iso / "jupyter-server.log"
        student_config = iso / "student-config"
    else:
        state_dir = Path(tempfile.mkdtemp(prefix="autograd-lab-"))
        log_path = state_dir / "jupyter-server.log"
        student_config = state_dir / "student-config"
    env.update(_student_config_env(student_config, env))

    attempts = 1 if port is not None else 3
    for attempt in range(attempts):
        chosen = port if port is not None else free_port()
        try:
            server = _launch(root_dir, chosen, token, env, log_path, timeout)
            break
        except LabError as exc:
            # Another program may grab a random port between our check and the bind: retry.
            if attempt + 1 < attempts and "already in use" in str(exc):
                continue
            raise
    if open_browser:
        webbrowser.open(server.url)
    return server


#: Text-mode browsers Python's webbrowser falls back to without a display: opening one
#: would take over the terminal that shows the address, so they do not count.
_CONSOLE_BROWSERS = {"www-browser", "links", "elinks", "lynx", "w3m"}


def _browser_available() -> bool:
    """True when ``webbrowser`` would open a graphical browser."""
    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        return False
    return getattr(browser, "name", "") not in _CONSOLE_BROWSERS


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m autograd_lab.lab [--port N] [--no-browser] [--workspace DIR]``."""
    parser = argparse.ArgumentParser(
        prog="python -m autograd_lab.lab",
        description="Copy the course into a workspace and open it in JupyterLab "
        "(127.0.0.1 only, with a token). Ctrl-C stops it.",
    )
    parser.add_argument("--port", type=int, default=None, help="port (default: a free one)")
    parser.add_argument(
        "--no-browser", action="store_true", help="print the address but do not open a browser"
    )
    parser.add_argument(
        "--workspace",
        type=Path,
        default=None,
        help="working copy to serve (default: workspace/ in the repository)",
    )
    args = parser.parse_args(argv)
    workspace = args.workspace if args.workspace is not None else default_workspace()
    _stop_on_terminal_signals()

    try:
        report = copy_workspace(workspace)
    except WorkspaceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report)
    try:
        server = start_lab(
            workspace,
            port=args.port,
            open_browser=not args.no_browser and _browser_available(),
        )
    except (LabError, WorkspaceError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C while starting: start_lab has stopped the server
        print("\nInterrupted; JupyterLab was not started.", file=sys.stderr)
        return 130
    with server:
        print(f"\nJupyterLab is serving {server.root_dir}")
        print(f"Open this address in your browser:\n\n    {server.url}\n")
        print(f"(server log: {server.log_path}; press Ctrl-C to stop)")
        try:
            while server.running():
                time.sleep(0.5)
        except KeyboardInterrupt:
            print("\nStopping JupyterLab…")
    if server.process.returncode not in (0, None, -signal.SIGTERM):
        print(f"JupyterLab stopped with code {server.process.returncode}.", file=sys.stderr)
        return 1
    print("Stopped.")
    return 0


def _stop_on_terminal_signals() -> None:
    """``kill`` (SIGTERM) and closing the terminal (SIGHUP) stop JupyterLab as Ctrl-C does.

    The server runs in its own process group, so without this those signals would end the
    launcher and leave JupyterLab running on its port.
    """

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)  # Windows has no SIGHUP
        if number is not None:
            signal.signal(number, interrupt)


if __name__ == "__main__":
    raise SystemExit(main())
