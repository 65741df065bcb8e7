"""The environment one student JupyterLab server runs in; nothing here touches the user's config.

* :func:`student_config_env`: the student overlay, a config directory put first on
  ``JUPYTER_CONFIG_PATH`` for this server only. It disables nbgrader's teacher tools and sets
  JupyterLab setting defaults for students (no news pop-up, no update check, no "build
  recommended" check: a student cannot rebuild JupyterLab, and the check costs the server a
  ``node yarn config`` run on every page load). Kernels do not pile up: closing a notebook
  shuts its kernel down (:data:`KERNEL_SHUTDOWN_ON_CLOSE`), and a kernel with no notebook
  open is culled after 30 minutes idle (:data:`KERNEL_CULLING`). Output text wraps at spaces
  (:mod:`autograd_lab_course.student_css`: the overlay's ``custom/custom.css``, served as
  JupyterLab's custom CSS, with the user's own custom.css after it).
* :func:`isolated_env`: ``JUPYTER_*`` directories that keep all per-user state in one place.
* :func:`token_file_env`: the token goes to jupyter-server through ``JUPYTER_TOKEN_FILE``
  (a file only the user can read), never on a command line that ``ps`` shows.
* :func:`runtime_dir`: where the server writes its ``jpserver-<pid>.json``.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from autograd_lab_course.student_css import custom_css_text

__all__ = [
    "STUDENT_CSS",
    "STUDENT_CSS_EXTENSION",
    "KERNEL_CULLING",
    "KERNEL_SHUTDOWN_ON_CLOSE",
    "NO_BUILD_CHECK",
    "STUDENT_CONFIG",
    "isolated_env",
    "runtime_dir",
    "student_config_env",
    "token_file_env",
]

#: JupyterLab page settings that turn off its build check (``/lab/api/build``) for a student.
NO_BUILD_CHECK: dict[str, bool] = {"buildCheck": False, "buildAvailable": False}

#: Seconds a kernel with no notebook connected may sit idle before the server shuts it down
#: (each kernel holds 250-380 MB; a student's walk through the course left 13 of them).
KERNEL_IDLE_TIMEOUT = 1800
#: How often (seconds) the server looks for such kernels.
KERNEL_CULL_INTERVAL = 300

#: jupyter-server config for a student: an idle kernel whose notebook is closed (no
#: connection) is shut down after :data:`KERNEL_IDLE_TIMEOUT` s; a notebook still open keeps
#: its kernel however long the student reads (``cull_connected`` False).
KERNEL_CULLING: dict[str, dict[str, object]] = {
    "MappingKernelManager": {
        "cull_idle_timeout": KERNEL_IDLE_TIMEOUT,
        "cull_interval": KERNEL_CULL_INTERVAL,
        "cull_connected": False,
    }
}

#: JupyterLab setting defaults for a student: closing a notebook shuts its kernel down
#: (the notebook tracker's "Shut down kernel" setting; a student may turn it off).
KERNEL_SHUTDOWN_ON_CLOSE: dict[str, dict[str, object]] = {
    "@jupyterlab/notebook-extension:tracker": {"kernelShutdown": True},
}

#: The student's CSS: the jupyter-server extension that serves the overlay's custom.css, and
#: JupyterLab's setting that loads custom CSS at all.
STUDENT_CSS_EXTENSION = "autograd_lab_course.student_css"
STUDENT_CSS: dict[str, dict[str, object]] = {"LabApp": {"custom_css": True}}

#: What the student's lab turns off (see the module docstring): nbgrader's server extensions
#: and its JupyterLab extension; and the setting defaults students get (no news pop-up,
#: kernels shut down when their notebook closes, idle kernels culled).
STUDENT_CONFIG: dict[str, dict[str, object]] = {
    "jupyter_server_config.d/autograd_lab_student.json": {
        "ServerApp": {
            "jpserver_extensions": {
                **{f"nbgrader.server_extensions.{name}": False
                   for name in ("formgrader", "assignment_list", "course_list",
                                "validate_assignment")},
                STUDENT_CSS_EXTENSION: True,
            }
        },
    },
    # traitlets reads server options from jupyter_server_config.json on the config path
    # (the .d folder above is read for jpserver_extensions alone)
    "jupyter_server_config.json": {**KERNEL_CULLING, **STUDENT_CSS},
    "labconfig/page_config.json": {
        "disabledExtensions": {"@jupyter/nbgrader": True},
        **NO_BUILD_CHECK,
    },
    # JupyterLab reads default_setting_overrides from every labconfig dir on the config path.
    "labconfig/default_setting_overrides.json": {
        "@jupyterlab/apputils-extension:notification": {
            "fetchNews": "false",
            "checkForUpdates": False,
        },
        **KERNEL_SHUTDOWN_ON_CLOSE,
    },
}


def student_config_env(config_dir: Path, env: dict[str, str]) -> dict[str, str]:
    """Write the student overlay into ``config_dir``; the ``JUPYTER_CONFIG_PATH`` that uses it.

    Besides :data:`STUDENT_CONFIG`, the overlay holds ``custom/custom.css``: the student CSS
    and, after it, the user's own custom.css from their config directory (only read)."""
    for relative, content in STUDENT_CONFIG.items():
        target = config_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(content, indent=1) + "\n", encoding="utf-8")
    css = config_dir / "custom" / "custom.css"
    css.parent.mkdir(parents=True, exist_ok=True)
    css.write_text(custom_css_text(_user_config_dir(env)), encoding="utf-8")
    existing = env.get("JUPYTER_CONFIG_PATH", "")
    return {"JUPYTER_CONFIG_PATH": os.pathsep.join(p for p in (str(config_dir), existing) if p)}


def _user_config_dir(env: dict[str, str]) -> Path:
    """The server's own config directory (``JUPYTER_CONFIG_DIR``) for ``env``."""
    if env.get("JUPYTER_CONFIG_DIR"):
        return Path(env["JUPYTER_CONFIG_DIR"])
    from jupyter_core.paths import jupyter_config_dir

    return Path(jupyter_config_dir())


def isolated_env(isolate_dir: Path) -> dict[str, str]:
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


def runtime_dir(env: dict[str, str]) -> Path:
    """Where the server will write ``jpserver-<pid>.json`` (jupyter_core's rule, for ``env``)."""
    if env.get("JUPYTER_RUNTIME_DIR"):
        return Path(env["JUPYTER_RUNTIME_DIR"])
    from jupyter_core.paths import jupyter_runtime_dir

    return Path(jupyter_runtime_dir())  # the launcher's environment is the server's otherwise


def token_file_env(state_dir: Path, token: str, env: dict[str, str]) -> Path:
    """Write ``token`` to a new private file in ``state_dir`` and point ``env`` at it.

    Sets ``JUPYTER_TOKEN_FILE`` and removes ``JUPYTER_TOKEN`` (which would win). Returns the
    file, for the caller to delete once the server has read it.
    """
    path = state_dir / f"token-{secrets.token_hex(4)}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token)
    env.pop("JUPYTER_TOKEN", None)
    env["JUPYTER_TOKEN_FILE"] = str(path)
    return path
