"""The exchange service's files: what it keeps where, archives in and out, atomic writes.

Everything lives under one root that only the service can reach (no user pod mounts it)::

    ROOT/tmp/                                  unpacked uploads before their rename
    ROOT/COURSE/released/ASSIGNMENT/...        what students fetch
    ROOT/COURSE/submitted/STUDENT/ASSIGNMENT/ID/...      one folder per submission,
                                                         with the service's timestamp.txt
    ROOT/COURSE/feedback/STUDENT/ASSIGNMENT/ID/*.html    feedback for that submission

``ID`` is the submission's timestamp written without spaces or colons
(``2026-12-07T11-00-00.123456Z``); ``timestamp.txt`` holds it in nbgrader's format
(``2026-12-07 11:00:00.123456 UTC``), taken from the service's clock, never the client's.

Archives are gzip'd tar files. :func:`unpack` checks every member before writing anything:
a relative name without ``..``, a regular file or a directory (no link, device or fifo),
at most :data:`MAX_MEMBERS` members and ``max_bytes`` unpacked, and writes the files into a
new folder under ``ROOT/tmp`` that :meth:`Store.place` then renames into place, so a
reader sees either the old folder or the whole new one.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import os
import re
import secrets
import shutil
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

__all__ = ["ArchiveError", "MAX_MEMBERS", "NAME", "Store", "Submission", "check_name",
           "pack", "submission_id", "timestamp", "unpack"]

#: What a course, assignment or student name may be: no separator, no ``+`` (nbgrader's
#: field separator), no leading dot; hub names such as e-mail addresses pass.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,99}")
#: nbgrader's timestamp format (``Exchange.timestamp_format``'s default), always UTC here.
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"
#: Most members an archive may have.
MAX_MEMBERS = 10_000
_CHUNK = 1 << 20


class ArchiveError(ValueError):
    """An upload the service refuses (the message is one sentence for the user)."""


def check_name(kind: str, value: str) -> str:
    """``value`` if it is a valid ``kind`` name (see :data:`NAME`); ArchiveError otherwise."""
    if not NAME.fullmatch(value or ""):
        raise ArchiveError(f"{value[:40]!r} is not a valid {kind} name: use letters, digits, "
                           "'.', '_', '@' or '-'.")
    return value


def timestamp(now: dt.datetime | None = None) -> str:
    """The service's time in nbgrader's format: ``2026-12-07 11:00:00.123456 UTC``."""
    now = now or dt.datetime.now(dt.timezone.utc)
    return now.astimezone(dt.timezone.utc).strftime(TIMESTAMP_FORMAT)


def submission_id(stamp: str) -> str:
    """A folder name for a submission made at ``stamp`` (:func:`timestamp`'s format)."""
    when = dt.datetime.strptime(stamp.replace(" UTC", ""), "%Y-%m-%d %H:%M:%S.%f")
    return when.strftime("%Y-%m-%dT%H-%M-%S.%fZ")


def pack(folder: Path, skip: tuple[str, ...] = ()) -> bytes:
    """``folder``'s regular files and folders as a gzip'd tar (links are left out).

    ``skip``: glob patterns (``fnmatch``) of names to leave out, nbgrader's
    ``CourseDirectory.ignore``.
    """
    buffer = io.BytesIO()
    folder = Path(folder)
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(folder)
            if any(PurePosixPath(part).match(p) for part in rel.parts for p in skip):
                continue
            if path.is_symlink() or not (path.is_file() or path.is_dir()):
                continue
            info = tarfile.TarInfo(rel.as_posix())
            if path.is_dir():
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                info.size, info.mode = path.stat().st_size, 0o644
                with open(path, "rb") as handle:
                    tar.addfile(info, handle)
    return buffer.getvalue()


def _checked_members(tar: tarfile.TarFile, max_bytes: int) -> list[tarfile.TarInfo]:
    members, total = [], 0
    for member in tar:
        if len(members) >= MAX_MEMBERS:
            raise ArchiveError(f"the archive has more than {MAX_MEMBERS} files.")
        name = PurePosixPath(member.name)
        if member.name.startswith("/") or name.is_absolute() or ".." in name.parts \
                or "\\" in member.name or not name.parts or name.parts[0] in ("", "."):
            raise ArchiveError(f"the archive names {member.name[:40]!r}, outside its folder.")
        if not (member.isreg() or member.isdir()):
            raise ArchiveError(f"{member.name[:40]!r} in the archive is a link or a device; "
                               "only files and folders are accepted.")
        total += member.size if member.isreg() else 0
        if total > max_bytes:
            raise ArchiveError(f"it is larger than {max_bytes // 2**20} MiB unpacked.")
        members.append(member)
    return members


def unpack(archive: bytes, destination: Path, max_bytes: int) -> None:
    """Write ``archive``'s files into the new folder ``destination`` after checking all of
    them (ArchiveError names the first bad member; nothing is left behind then)."""
    destination = Path(destination)
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
            members = _checked_members(tar, max_bytes)
            destination.mkdir(parents=True)
            try:
                for member in members:
                    target = destination.joinpath(*PurePosixPath(member.name).parts)
                    if member.isdir():
                        target.mkdir(parents=True, exist_ok=True)
                        continue
                    target.parent.mkdir(parents=True, exist_ok=True)
                    source = tar.extractfile(member)
                    with open(target, "wb") as out:
                        shutil.copyfileobj(source, out, _CHUNK)
            except BaseException:
                shutil.rmtree(destination, ignore_errors=True)
                raise
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile):
        raise ArchiveError("the upload is not a gzip'd tar archive.") from None


@dataclass(frozen=True)
class Submission:
    """One stored submission."""

    course: str
    student: str
    assignment: str
    id: str
    timestamp: str
    notebooks: tuple[str, ...]
    has_feedback: bool

    def as_json(self) -> dict[str, object]:
        return {"course_id": self.course, "student_id": self.student,
                "assignment_id": self.assignment, "submission_id": self.id,
                "timestamp": self.timestamp, "notebooks": list(self.notebooks),
                "has_feedback": self.has_feedback}


class Store:
    """The on-disk exchange under ``root`` (see the module docstring for the layout)."""

    def __init__(self, root: Path | str, max_bytes: int) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.tmp = self.root / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)

    # -- paths -----------------------------------------------------------------------------
    def released(self, course: str, assignment: str) -> Path:
        return self.root / check_name("course", course) / "released" / check_name(
            "assignment", assignment)

    def submitted(self, course: str, student: str, assignment: str) -> Path:
        return (self.root / check_name("course", course) / "submitted"
                / check_name("student", student) / check_name("assignment", assignment))

    def feedback(self, course: str, student: str, assignment: str, sid: str) -> Path:
        return (self.root / check_name("course", course) / "feedback"
                / check_name("student", student) / check_name("assignment", assignment)
                / check_name("submission", sid))

    # -- writing ---------------------------------------------------------------------------
    def unpack_new(self, archive: bytes) -> Path:
        """``archive`` unpacked (checked) into a new folder under ``ROOT/tmp``."""
        folder = self.tmp / secrets.token_hex(8)
        unpack(archive, folder, self.max_bytes)
        return folder

    def place(self, new: Path, final: Path, replace: bool) -> bool:
        """Rename the folder ``new`` to ``final``; an existing ``final`` is replaced only if
        ``replace`` (returns False and removes ``new`` otherwise)."""
        final.parent.mkdir(parents=True, exist_ok=True)
        old = None
        if final.exists():
            if not replace:
                shutil.rmtree(new, ignore_errors=True)
                return False
            old = self.tmp / f"old-{secrets.token_hex(8)}"
            os.rename(final, old)
        os.rename(new, final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return True

    def release(self, course: str, assignment: str, archive: bytes, replace: bool) -> bool:
        """Store a released assignment; False if it was released already and not ``replace``."""
        final = self.released(course, assignment)
        return self.place(self.unpack_new(archive), final, replace)

    def unrelease(self, course: str, assignment: str) -> bool:
        """Remove a released assignment; False if it was not released."""
        final = self.released(course, assignment)
        if not final.is_dir():
            return False
        old = self.tmp / f"old-{secrets.token_hex(8)}"
        os.rename(final, old)
        shutil.rmtree(old, ignore_errors=True)
        return True

    def submit(self, course: str, student: str, assignment: str, new: Path,
               now: dt.datetime | None = None) -> Submission:
        """Store the unpacked folder ``new`` (:meth:`unpack_new`) as a submission of
        ``student`` at the service's time (its ``timestamp.txt`` replaces any it had)."""
        when = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
        folder = self.submitted(course, student, assignment)
        while (folder / submission_id(timestamp(when))).exists():  # same microsecond
            when += dt.timedelta(microseconds=1)
        stamp = timestamp(when)
        (new / "timestamp.txt").write_text(stamp, encoding="utf-8")
        self.place(new, folder / submission_id(stamp), replace=False)
        return self.submission(course, student, assignment, submission_id(stamp))

    # -- reading ---------------------------------------------------------------------------
    def assignments(self, course: str) -> list[dict[str, object]]:
        """The released assignments of ``course`` with their notebooks."""
        folder = self.root / check_name("course", course) / "released"
        found = []
        for path in sorted(folder.iterdir()) if folder.is_dir() else []:
            if path.is_dir() and NAME.fullmatch(path.name):
                found.append({"course_id": course, "assignment_id": path.name,
                              "notebooks": sorted(p.stem for p in path.glob("*.ipynb"))})
        return found

    def submission(self, course: str, student: str, assignment: str, sid: str) -> Submission:
        folder = self.submitted(course, student, assignment) / check_name("submission", sid)
        return Submission(
            course, student, assignment, sid,
            (folder / "timestamp.txt").read_text(encoding="utf-8").strip(),
            tuple(sorted(p.stem for p in folder.glob("*.ipynb"))),
            self.feedback(course, student, assignment, sid).is_dir())

    def submissions(self, course: str, student: str | None = None,
                    assignment: str | None = None) -> list[Submission]:
        """Stored submissions, oldest first, of one student / assignment or all."""
        base = self.root / check_name("course", course) / "submitted"
        students = [check_name("student", student)] if student else (
            sorted(p.name for p in base.iterdir()) if base.is_dir() else [])
        found = []
        for who in students:
            names = [check_name("assignment", assignment)] if assignment else sorted(
                p.name for p in (base / who).iterdir()) if (base / who).is_dir() else []
            for what in names:
                folder = base / who / what
                for sid in sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []:
                    if NAME.fullmatch(sid):
                        found.append(self.submission(course, who, what, sid))
        return found
