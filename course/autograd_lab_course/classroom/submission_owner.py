"""Collect files a submission under the student who made it, not the one it claims.

nbgrader's submit names a submission ``inbound/STUDENT+ASSIGNMENT+TIME`` with the
``CourseDirectory.student_id`` of the student's own configuration, which the student can
change (a ``nbgrader_config.py`` in their home saying ``student_id = 'student2'``). In the
one-machine classroom every student is a system user whose name is their hub name (the hub
authenticated them and the spawner started their server as that user), so the owner of the
submitted folder *is* the hub identity. nbgrader's own ``check_owner`` only warns;
:class:`OwnerCheckedCollect` (``ExchangeFactory.collect``, set in the instructor's overlay)
leaves out every submission whose folder is not owned by the student it names, logs it as an
error for the instructor, and collects that student's newest genuine submission instead.
"""

from __future__ import annotations

import glob
import os
import pwd

from nbgrader.exchange.default import ExchangeCollect
from nbgrader.utils import parse_utc

__all__ = ["OwnerCheckedCollect", "owner_name"]


def owner_name(path: str) -> str:
    """The system user owning ``path`` (``"uid N"`` when the uid has no name)."""
    uid = os.stat(path).st_uid
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


class OwnerCheckedCollect(ExchangeCollect):
    """nbgrader's collect, keeping only submissions owned by the student they name."""

    def _genuine_newest(self, student: str) -> dict | None:
        pattern = os.path.join(self.inbound_path,
                               f"{glob.escape(student)}+{self.coursedir.assignment_id}+*")
        records = []
        for path in glob.glob(pattern):
            filename = os.path.basename(path)
            parts = filename.split("+")
            if len(parts) != 3 or owner_name(path) != student:
                continue
            records.append({"username": student, "filename": filename,
                            "timestamp": parse_utc(parts[2])})
        return max(records, key=lambda r: r["timestamp"], default=None)

    def init_src(self) -> None:
        super().init_src()
        kept = []
        for record in self.src_records:
            path = os.path.join(self.inbound_path, record["filename"])
            owner = owner_name(path)
            if owner == record["username"]:
                kept.append(record)
                continue
            self.log.error("Left out %s: it names %s but %s submitted it.",
                           record["filename"], record["username"], owner)
            genuine = self._genuine_newest(record["username"])
            if genuine is not None:
                kept.append(genuine)
        self.src_records = kept
