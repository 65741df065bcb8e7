"""The classroom's grading service: grading kernels as grading users, not as the instructor.

Run as root, the classroom makes the grading users :data:`GRADERS` (system users like the
accounts, marked the same way, so ``--remove-accounts`` deletes them) and starts
:mod:`autograd_lab_course.grading.sandbox_service` as root with the runtime python (which
every user can run): it listens on ``DIR/grading/sandbox.sock``, a socket only the
instructor may open, and forks each grading kernel in a sandbox
(:mod:`autograd_lab_course.grading.sandbox`). The instructor's server gets the socket's path
in ``AUTOGRAD_LAB_GRADING_SOCKET`` (:mod:`autograd_lab_course.classroom.hub_plugins`), so its
autograding kernels (the ``autograd-lab-grading`` kernelspec) come from the service. Its log
is ``DIR/hub/grading.log``; it ends with the classroom (its stdin closes).
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from autograd_lab_course.classroom.accounts import INSTRUCTOR
from autograd_lab_course.classroom.layout import ClassroomLayout
from autograd_lab_course.grading.sandbox import grader_names

__all__ = ["GRADERS", "start_grading_service", "wait_for_grading_service"]

#: The grading users: one per kernel graded at the same time (nbgrader grades one at a time).
GRADERS = grader_names(2)


def start_grading_service(layout: ClassroomLayout, python: str, libraries: str | None,
                          owner: str = INSTRUCTOR) -> subprocess.Popen[bytes]:
    """Start the grading service as root (the caller is root) with ``python``, for ``owner``
    (the only user who may connect, besides root); its process."""
    layout.grading.mkdir(parents=True, exist_ok=True)
    os.chown(layout.grading, 0, 0)
    os.chmod(layout.grading, 0o755)  # the socket inside is the instructor's, mode 0600
    layout.grading_socket.unlink(missing_ok=True)
    env = {"PATH": str(Path(python).parent) + os.pathsep + "/usr/bin:/bin",
           "LANG": os.environ.get("LANG", "C.UTF-8")}
    if libraries:
        env["LD_LIBRARY_PATH"] = libraries
    log = open(layout.state / "grading.log", "ab")  # noqa: SIM115 - the process holds it
    try:
        return subprocess.Popen(
            [python, "-m", "autograd_lab_course.grading.sandbox_service",
             "--socket", str(layout.grading_socket), "--owner", owner,
             "--base", str(layout.grading / "kernels"), *GRADERS],
            stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, env=env,
            cwd="/", start_new_session=True,
        )
    finally:
        log.close()


def wait_for_grading_service(layout: ClassroomLayout, process: subprocess.Popen[bytes],
                             deadline: float) -> str | None:
    """Wait until the service listens (it imports torch first); None, or one sentence of
    what went wrong."""
    while not layout.grading_socket.exists():
        if process.poll() is not None:
            return (f"The grading service exited (code {process.returncode}); see "
                    f"{layout.state / 'grading.log'}.")
        if time.monotonic() > deadline:
            return "The grading service did not start in time; see its log in DIR/hub."
        time.sleep(0.25)
    return None
