"""``python -m autograd_lab_course.classroom [--students N] [--port P] [--dir DIR]
[--unsafe-shared-user]`` (``make classroom``), and ``… --remove-accounts``.

Run as root, each account is a system user of its own; ``--remove-accounts`` deletes those
users again (homes under DIR stay). Not run as root it refuses, saying what it could not
isolate, unless ``--unsafe-shared-user``.

Prints the hub's address and one line per account, ``NAME  password: PASSWORD``, then keeps
the hub running until Ctrl-C or SIGTERM, which stop the hub, the proxy and every single-user
server. Bad input gets one sentence on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from autograd_lab_course.classroom.hub import (
    ClassroomError,
    default_directory,
    prepare_directory,
    start_classroom,
)
from autograd_lab_course.classroom.system_users import (
    SystemUserError,
    can_isolate,
    remove_users,
)
from autograd_lab_course.ports import port_in_use

__all__ = ["main"]

DEFAULT_PORT = 8000
DEFAULT_STUDENTS = 3


def _short(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _whole_number(text: str, what: str) -> int:
    try:
        return int(text, 10)
    except ValueError:
        raise ClassroomError(f"{what} must be a whole number (got {_short(text)!r}).") from None


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m autograd_lab_course.classroom",
        description="Start a local JupyterHub with nbgrader for a dry run of the course "
        "(127.0.0.1 only). Ctrl-C stops the hub, its proxy and every user's server.",
    )
    parser.add_argument("--students", default=str(DEFAULT_STUDENTS),
                        help=f"number of student accounts (default {DEFAULT_STUDENTS})")
    parser.add_argument("--port", default=str(DEFAULT_PORT),
                        help=f"port on 127.0.0.1 (default {DEFAULT_PORT})")
    parser.add_argument("--dir", default=None,
                        help="where homes, the course and the exchange live "
                        "(default: classroom/ in the repository)")
    parser.add_argument("--unsafe-shared-user", action="store_true",
                        help="not run as root: run every account's server as you anyway "
                        "(nothing is isolated; a dry run on your own only)")
    parser.add_argument("--remove-accounts", action="store_true",
                        help="delete the system users the classroom made (their homes under "
                        "DIR stay) and exit; needs root")
    return parser.parse_args(argv)


class _Stop(Exception):
    """SIGTERM or SIGHUP arrived: stop like Ctrl-C."""


def _raise_stop(signum: int, frame: object) -> None:
    raise _Stop


def _remove_accounts() -> int:
    if not can_isolate():
        print("error: only root can delete system users: run --remove-accounts as root.",
              file=sys.stderr)
        return 2
    try:
        removed = remove_users()
    except SystemUserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Removed {len(removed)} classroom accounts: {' '.join(removed) or '(none)'}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    if args.remove_accounts:
        return _remove_accounts()
    try:
        students = _whole_number(args.students, "--students")
        if students < 1:
            raise ClassroomError(f"--students must be at least 1 (got {students}).")
        port = _whole_number(args.port, "--port")
        if not 1 <= port <= 65535:
            raise ClassroomError(f"--port must be between 1 and 65535 (got {port}).")
        if port_in_use(port):
            raise ClassroomError(
                f"Port {port} on 127.0.0.1 is in use: choose another with --port."
            )
        directory = prepare_directory(Path(args.dir) if args.dir else default_directory())
    except ClassroomError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is not None:
            signal.signal(sig, _raise_stop)
    plural = "student" if students == 1 else "students"
    print(f"Starting a classroom for {students} {plural} in {directory} …", flush=True)
    try:
        classroom = start_classroom(students, port=port, directory=directory,
                                    unsafe_shared_user=args.unsafe_shared_user)
    except ClassroomError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, _Stop):
        print("\nInterrupted; the classroom was not started.", file=sys.stderr)
        return 130
    with classroom:
        print(f"\nClassroom hub: {classroom.url}  (log in at {classroom.url}hub/login)")
        for name, password in classroom.passwords.items():
            print(f"{name}  password: {password}")
        print(
            f"\nHomes: {classroom.layout.homes}  ·  course root: {classroom.layout.course_root}"
            f"\nHub log: {classroom.log_path}"
            f"\nStarted in {classroom.started_seconds:.1f} s. Press Ctrl-C to stop the hub, "
            "the proxy and every user's server.",
            flush=True,
        )
        try:
            while classroom.running():
                time.sleep(0.5)
        except (KeyboardInterrupt, _Stop):
            print("\nStopping the classroom…", flush=True)
    if classroom.process.returncode not in (0, None, -signal.SIGTERM):
        print(f"JupyterHub stopped with code {classroom.process.returncode}.", file=sys.stderr)
        return 1
    print("Stopped.", flush=True)
    return 0
