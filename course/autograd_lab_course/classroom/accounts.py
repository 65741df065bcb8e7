"""The classroom's accounts: ``instructor`` and ``student1`` … ``studentN``, with random passwords.

Each start of the classroom makes new passwords (``secrets.token_urlsafe``), prints them once
and stores only salted PBKDF2-SHA256 hashes in ``DIR/hub/passwords.json`` (mode 0600), which
:class:`autograd_lab_course.classroom.hub_plugins.ClassroomAuthenticator` checks at login.

This is a small authenticator for a dry run on one machine. A real course logs people in
through the institution: LTI from the learning-management system, OAuth (GitHub, Google, the
university's identity provider) or LDAP — the deployer's choice (see ``deploy/``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

__all__ = [
    "INSTRUCTOR",
    "hash_password",
    "make_passwords",
    "read_password_file",
    "student_names",
    "verify_password",
    "write_password_file",
]

#: The one teacher account; it gets the formgrader on the course root.
INSTRUCTOR = "instructor"
_ITERATIONS = 100_000


def student_names(students: int) -> list[str]:
    """``["student1", …, "studentN"]``."""
    return [f"student{i}" for i in range(1, students + 1)]


def make_passwords(students: int) -> dict[str, str]:
    """A fresh random password (12 URL-safe characters) for the instructor and each student."""
    return {name: secrets.token_urlsafe(9) for name in [INSTRUCTOR, *student_names(students)]}


def hash_password(password: str, salt: bytes | None = None) -> dict[str, str]:
    """``{"salt": hex, "hash": hex}``: PBKDF2-HMAC-SHA256 with a random 16-byte salt."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, _ITERATIONS)
    return {"salt": salt.hex(), "hash": digest.hex()}


def verify_password(password: str, record: dict[str, str]) -> bool:
    """True when ``password`` hashes to ``record`` (constant-time comparison)."""
    try:
        salt = bytes.fromhex(record["salt"])
        expected = bytes.fromhex(record["hash"])
    except (KeyError, ValueError, TypeError):
        return False
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, _ITERATIONS)
    return hmac.compare_digest(digest, expected)


def write_password_file(path: Path, passwords: dict[str, str]) -> None:
    """Store the hashes (never the passwords) in ``path``, readable by its owner only."""
    records = {name: hash_password(password) for name, password in passwords.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(records, handle, indent=1)
    os.chmod(path, 0o600)


def read_password_file(path: Path | str) -> dict[str, dict[str, str]]:
    """The hash records written by :func:`write_password_file`."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return {str(k): dict(v) for k, v in data.items()}
