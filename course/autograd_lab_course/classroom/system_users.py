"""One unprivileged system user per classroom account (The Littlest JupyterHub's model).

Run as root, the classroom makes a system user for ``instructor`` and each ``studentK`` (same
name as the hub account, home ``DIR/home/NAME``, its own group, marked by the comment
:data:`MARK` so that :func:`remove_users` deletes only users the classroom made), and
:func:`lock_down` gives every home to its user with mode 0700. The instructor's home holds the
course root (sources with solutions, ``gradebook.db``), so only the instructor (and root) can
read them; the hub's state (``DIR/hub``: password hashes, cookie secret, database) stays root's,
mode 0700. Each single-user server then runs as its user (``LocalProcessSpawner``), never as
root, so one student's kernel cannot read another's home, files or ``/proc/PID/environ``.

Without root none of this is possible: every server would run as the one user who started
the classroom, see :data:`SHARED_USER_WARNING`.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "MARK",
    "SHARED_USER_WARNING",
    "SystemUserError",
    "can_isolate",
    "classroom_users",
    "ensure_user",
    "give_tree",
    "lock_down",
    "remove_users",
    "unreachable_parent",
]

#: The comment (GECOS field) of every system user the classroom makes.
MARK = "autograd-lab classroom account"
#: What a classroom started without root can and cannot isolate (one sentence).
SHARED_USER_WARNING = (
    "Not run as root, every account's server would run as you, so any student could read "
    "the solutions, the gradebook and every other home and submit as someone else; run as "
    "root for one system user per account, or pass --unsafe-shared-user for a dry run alone."
)


class SystemUserError(RuntimeError):
    """A system user cannot be made or removed (one sentence says why)."""


def can_isolate() -> bool:
    """True when this process can make users and run servers as them (it is root)."""
    return hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("useradd") is not None


def _entry(name: str) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def ensure_user(name: str, home: Path) -> pwd.struct_passwd:
    """The system user ``name`` with home ``home``: made now, or the classroom's from before.

    A user of that name that the classroom did not make is refused (its files are not ours
    to hand out); a classroom account of another ``--dir`` gets its home moved here.
    """
    entry = _entry(name)
    if entry is None:
        result = subprocess.run(
            ["useradd", "--no-create-home", "--home-dir", str(home), "--shell", "/bin/bash",
             "--comment", MARK, "--user-group", name],
            capture_output=True, text=True, check=False,
        )
        entry = _entry(name)
        if result.returncode != 0 or entry is None:
            raise SystemUserError(
                f"Cannot create the system user {name!r} (useradd said: "
                f"{result.stderr.strip()[:60]})."
            )
        return entry
    if entry.pw_gecos != MARK:
        raise SystemUserError(
            f"A system user {name!r} exists and is not a classroom account: remove it or "
            "run the classroom on another machine."
        )
    if Path(entry.pw_dir) != home:  # a classroom account from another DIR: it moves here
        moved = subprocess.run(["usermod", "--home", str(home), name],
                               capture_output=True, text=True, check=False)
        entry = _entry(name)
        if moved.returncode != 0 or entry is None:
            raise SystemUserError(
                f"Cannot move the classroom account {name!r} to this --dir (usermod said: "
                f"{moved.stderr.strip()[:50]})."
            )
    return entry


def give_tree(path: Path, entry: pwd.struct_passwd) -> None:
    """``path`` and everything under it owned by ``entry``'s user and group (symlinks not
    followed)."""
    os.lchown(path, entry.pw_uid, entry.pw_gid)
    for folder, dirs, files in os.walk(path):
        for name in [*dirs, *files]:
            os.lchown(os.path.join(folder, name), entry.pw_uid, entry.pw_gid)


def lock_down(homes: dict[str, Path], state: Path) -> None:
    """Each home owned by its user, mode 0700; the hub's state root's, mode 0700."""
    for name, home in homes.items():
        entry = _entry(name)
        if entry is None:
            raise SystemUserError(f"The system user {name!r} is missing: restart the classroom.")
        give_tree(home, entry)
        os.chmod(home, 0o700)
    os.chown(state, 0, 0)
    os.chmod(state, 0o700)


def unreachable_parent(path: Path) -> Path | None:
    """The first folder on the way to ``path`` that other users cannot pass through (no
    ``o+x``), or None: every account must reach its home under DIR and the runtime."""
    for folder in [*reversed(path.parents), path]:
        if folder.exists() and not folder.stat().st_mode & 0o001:
            return folder
    return None


def classroom_users() -> list[str]:
    """Every system user the classroom made (on any ``--dir``)."""
    return sorted(entry.pw_name for entry in pwd.getpwall() if entry.pw_gecos == MARK)


def remove_users(names: Iterable[str] | None = None) -> list[str]:
    """Delete the classroom's system users (``names``, default all of them); their homes
    under DIR stay. Users the classroom did not make are never touched. The names removed."""
    removed = []
    for name in classroom_users() if names is None else names:
        entry = _entry(name)
        if entry is None or entry.pw_gecos != MARK:
            continue
        result = subprocess.run(["userdel", name], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise SystemUserError(
                f"Cannot delete the system user {name!r} (is a process of it still running? "
                f"userdel said: {result.stderr.strip()[:50]})."
            )
        removed.append(name)
    return removed
