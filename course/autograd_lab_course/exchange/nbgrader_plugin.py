"""nbgrader's exchange operations over the ``autograd-lab-exchange`` service.

Selected with nbgrader's public configuration, one line per operation::

    c.ExchangeFactory.submit = "autograd_lab_course.exchange.nbgrader_plugin.HubSubmit"

(and ``fetch_assignment``, ``fetch_feedback``, ``release_assignment``, ``release_feedback``,
``list``, ``collect``: :data:`CLASSES`). Each class implements its
``nbgrader.exchange.abc`` base: the same files land in the same local places as nbgrader's
default exchange, but they travel over HTTP with the server's hub token, so *who* submits is
the hub's user, whatever ``CourseDirectory.student_id`` a config file sets. A refusal fails
the nbgrader command with one sentence (``Exchange.fail``).

The service's address: ``HubExchange.url`` (default
:func:`~autograd_lab_course.exchange.client.default_url`).
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.exchange import abc
from nbgrader.utils import ignore_patterns, parse_utc
from traitlets import Bool, Float, Unicode, default

from autograd_lab_course.exchange.client import ExchangeClient, ExchangeRefused, default_url
from autograd_lab_course.exchange.store import ArchiveError, pack, unpack

__all__ = ["CLASSES", "HubCollect", "HubExchange", "HubFetchAssignment", "HubFetchFeedback",
           "HubList", "HubReleaseAssignment", "HubReleaseFeedback", "HubSubmit"]

#: Most bytes a downloaded archive may unpack to on the client.
DOWNLOAD_CAP = 4 * 2**30


class HubExchange(abc.Exchange):
    """What every operation shares: the service's address, the token, the local paths."""

    url = Unicode(help="The exchange service's address (default: $AUTOGRAD_LAB_EXCHANGE_URL, "
                  "else /services/autograd-lab-exchange/ on $JUPYTERHUB_API_URL's host)"
                  ).tag(config=True)
    api_token = Unicode(help="The hub token sent with each request "
                        "(default: $JUPYTERHUB_API_TOKEN)").tag(config=True)
    timeout = Float(120.0, help="Seconds to wait for the service").tag(config=True)
    path_includes_course = Bool(False, help="Fetch and submit in ./COURSE/ASSIGNMENT "
                                "rather than ./ASSIGNMENT, as nbgrader's option").tag(config=True)

    @default("url")
    def _default_url(self) -> str:
        return default_url()

    @default("api_token")
    def _default_api_token(self) -> str:
        return os.environ.get("JUPYTERHUB_API_TOKEN", "")

    @property
    def course(self) -> str:
        return self.coursedir.course_id

    def local_dir(self, assignment: str) -> Path:
        """Where an assignment lives in the user's folder."""
        parts = [self.course, assignment] if self.path_includes_course else [assignment]
        return Path(self.assignment_dir, *parts).absolute()

    def start(self) -> Any:
        if not self.course:
            self.fail("No course id specified. Re-run with --course flag.")
        try:
            self.client = ExchangeClient(self.url, self.api_token, self.timeout)
            return super().start()
        except ExchangeRefused as exc:
            self.fail(str(exc))
        except ArchiveError as exc:
            self.fail(f"the exchange sent a bad archive: {exc}")

    @contextmanager
    def unpacked(self, archive: bytes, beside: Path) -> Iterator[Path]:
        """``archive`` unpacked (checked) in a temporary folder next to ``beside``."""
        beside.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=beside, prefix=".exchange-") as tmp:
            folder = Path(tmp) / "files"
            unpack(archive, folder, DOWNLOAD_CAP)
            yield folder

    def copy_files(self) -> None:
        """Every transfer happens in init_src / init_dest / here, per class."""


class HubFetchAssignment(HubExchange, abc.ExchangeFetchAssignment):
    """``nbgrader fetch_assignment``: the released files into ``./ASSIGNMENT``."""

    def init_src(self) -> None:
        self.archive = self.client.call(
            "GET", f"courses/{self.course}/assignments/{self.coursedir.assignment_id}",
            "fetch").content

    def init_dest(self) -> None:
        self.dest_path = str(self.local_dir(self.coursedir.assignment_id))
        if os.path.isdir(self.dest_path) and not self.replace_missing_files:
            self.fail("You already have a copy of the assignment in this directory: "
                      f"{self.coursedir.assignment_id}")

    def copy_files(self) -> None:
        dest = Path(self.dest_path)
        with self.unpacked(self.archive, dest.parent) as files:
            if not dest.exists():
                os.rename(files, dest)
            else:  # --replace: only what is missing
                for path in sorted(files.rglob("*")):
                    target = dest / path.relative_to(files)
                    if path.is_dir():
                        target.mkdir(exist_ok=True)
                    elif not target.exists():
                        self.log.warning("Replacing missing file '%s'", target)
                        shutil.copy2(path, target)
        self.log.info("Fetched as: %s %s", self.course, self.coursedir.assignment_id)


class HubSubmit(HubExchange, abc.ExchangeSubmit):
    """``nbgrader submit``: stored by the service under the caller's hub name."""

    def init_src(self) -> None:
        src = self.local_dir(self.coursedir.assignment_id)
        if not src.is_dir():
            self.fail(f"Assignment not found at: {src}")
        self.src_path = str(src)

    def init_dest(self) -> None:
        released = {a["assignment_id"]: a for a in self.client.json(
            "GET", f"courses/{self.course}/assignments", "submission")}
        assignment = released.get(self.coursedir.assignment_id)
        if assignment is None:
            self.fail(f"the exchange refused the submission: "
                      f"{self.coursedir.assignment_id} has not been released in {self.course}.")
        submitted = {p.stem for p in Path(self.src_path).glob("*.ipynb")}
        missing = sorted(set(assignment["notebooks"]) - submitted)
        if missing and self.strict:
            self.fail(f"Assignment {self.coursedir.assignment_id} not submitted: "
                      f"{', '.join(missing)} missing.")
        if missing:
            self.log.warning("Possible missing notebooks: %s", ", ".join(missing))

    def copy_files(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "submission"
            shutil.copytree(self.src_path, copy, symlinks=True, ignore=ignore_patterns(
                exclude=self.coursedir.ignore, include=self.coursedir.include,
                max_file_size=self.coursedir.max_file_size, log=self.log))
            (copy / "submission_secret.txt").write_text(secrets.token_hex(64))
            archive = pack(copy)
        cap = int(self.client.whoami()["max_upload_bytes"])
        if len(archive) > cap:
            self.fail(self.client.refusal(
                "submission", f"it is larger than {cap // 2**20} MiB", 413))
        stored = self.client.json(
            "POST", f"courses/{self.course}/submissions/{self.coursedir.assignment_id}",
            "submission", data=archive)
        self.log.info("Submitted as: %s %s %s", self.course, self.coursedir.assignment_id,
                      stored["timestamp"])


class HubReleaseAssignment(HubExchange, abc.ExchangeReleaseAssignment):
    """``nbgrader release_assignment`` (instructors): ``release/ASSIGNMENT`` to the service."""

    def init_src(self) -> None:
        self.src_path = self.coursedir.format_path(
            self.coursedir.release_directory, ".", self.coursedir.assignment_id)
        if not os.path.isdir(self.src_path):
            self.fail(f"Assignment not found at: {self.src_path}; run `nbgrader "
                      "generate_assignment` first.")

    def init_dest(self) -> None:
        pass

    def copy_files(self) -> None:
        archive = pack(Path(self.src_path), tuple(self.coursedir.ignore))
        self.client.call(
            "PUT", f"courses/{self.course}/assignments/{self.coursedir.assignment_id}",
            "release", data=archive, params={"replace": "1" if self.force else "0"})
        self.log.info("Released as: %s %s", self.course, self.coursedir.assignment_id)


class HubCollect(HubExchange, abc.ExchangeCollect):
    """``nbgrader collect`` (instructors): each student's newest submission (or the newest
    before the due date with ``--before-duedate``) into ``submitted/STUDENT/ASSIGNMENT``."""

    def init_src(self) -> None:
        params = {"student": self.coursedir.student_id} \
            if self.coursedir.student_id not in ("", "*") else {}
        found = self.client.json(
            "GET", f"courses/{self.course}/inbox/{self.coursedir.assignment_id}", "collect",
            params=params)
        with Gradebook(self.coursedir.db_url, self.course) as gb:
            try:
                duedate = gb.find_assignment(self.coursedir.assignment_id).duedate
            except MissingEntry:
                duedate = None
        by_student: dict[str, list[dict[str, Any]]] = {}
        for record in found:
            record["when"] = parse_utc(record["timestamp"])
            by_student.setdefault(record["student_id"], []).append(record)
        self.src_records = []
        for records in by_student.values():
            records.sort(key=lambda r: r["when"], reverse=True)
            early = [r for r in records if duedate is not None and r["when"] <= duedate]
            self.src_records.append(early[0] if self.before_duedate and early else records[0])

    def init_dest(self) -> None:
        pass

    def copy_files(self) -> None:
        if not self.src_records:
            self.log.warning("No submissions of '%s' for course '%s' to collect",
                             self.coursedir.assignment_id, self.course)
        for record in self.src_records:
            student, assignment = record["student_id"], record["assignment_id"]
            dest = Path(self.coursedir.format_path(self.coursedir.submitted_directory,
                                                   student, assignment))
            if dest.is_dir():
                existing = self.coursedir.get_existing_timestamp(str(dest))
                newer = existing is None or record["when"] > existing
                if not ((self.update and newer) or (
                        self.before_duedate and existing != record["when"])):
                    self.log.info("Submission already exists, use --update to update: %s %s",
                                  student, assignment)
                    continue
            archive = self.client.call(
                "GET", f"courses/{self.course}/submissions/{assignment}/{student}/"
                f"{record['submission_id']}", "collect").content
            with self.unpacked(archive, dest.parent) as files:
                if dest.is_dir():
                    self.log.info("Updating submission: %s %s", student, assignment)
                    shutil.rmtree(dest)
                else:
                    self.log.info("Collecting submission: %s %s", student, assignment)
                os.rename(files, dest)


class HubReleaseFeedback(HubExchange, abc.ExchangeReleaseFeedback):
    """``nbgrader release_feedback`` (instructors): each ``feedback/STUDENT/ASSIGNMENT``
    folder's HTML to the submission it was generated from (matched by its timestamp)."""

    def init_src(self) -> None:
        student = self.coursedir.student_id if self.coursedir.student_id else "*"
        pattern = self.coursedir.format_path(self.coursedir.feedback_directory, student,
                                             self.coursedir.assignment_id)
        excluded = set(filter(None, self.coursedir.student_id_exclude.split(",")))
        root = self.coursedir.format_path(self.coursedir.feedback_directory, ".", ".")
        self.folders = []
        for folder in sorted(glob.glob(pattern)):
            name = Path(os.path.relpath(folder, root)).parts[0]
            if os.path.isdir(folder) and name not in excluded:
                self.folders.append((name, Path(folder)))

    def init_dest(self) -> None:
        pass

    def copy_files(self) -> None:
        assignment = self.coursedir.assignment_id
        for student, folder in self.folders:
            stamp = (folder / "timestamp.txt").read_text().strip()
            with tempfile.TemporaryDirectory() as tmp:
                for html in folder.glob("*.html"):
                    shutil.copy2(html, tmp)
                archive = pack(Path(tmp))
            try:
                self.client.call("PUT", f"courses/{self.course}/feedback/{assignment}/"
                                 f"{student}", "feedback", data=archive,
                                 params={"timestamp": stamp})
            except ExchangeRefused as exc:
                if exc.status != 404:
                    raise
                self.log.error("%s", exc)  # that submission is not in the exchange: go on
                continue
            self.log.info("Releasing feedback for student '%s' on assignment '%s/%s' (%s)",
                          student, self.course, assignment, stamp)


class HubFetchFeedback(HubExchange, abc.ExchangeFetchFeedback):
    """``nbgrader fetch_feedback``: the caller's feedback into
    ``./ASSIGNMENT/feedback/TIMESTAMP/NOTEBOOK.html``."""

    def init_src(self) -> None:
        params = {"assignment": self.coursedir.assignment_id} \
            if self.coursedir.assignment_id else {}
        self.submissions = [s for s in self.client.json(
            "GET", f"courses/{self.course}/submissions", "feedback fetch", params=params)
            if s["has_feedback"]]
        if not self.submissions:
            self.log.warning("No feedback for %s %s yet.", self.course,
                             self.coursedir.assignment_id)

    def init_dest(self) -> None:
        pass

    def copy_files(self) -> None:
        for sub in self.submissions:
            archive = self.client.call(
                "GET", f"courses/{self.course}/feedback/{sub['assignment_id']}/"
                f"{sub['student_id']}/{sub['submission_id']}", "feedback fetch").content
            dest = self.local_dir(sub["assignment_id"]) / "feedback" / sub["timestamp"]
            with self.unpacked(archive, dest.parent) as files:
                if dest.exists():
                    shutil.rmtree(dest)
                os.rename(files, dest)
            self.log.info("Fetched feedback: %s", dest)


class HubList(HubExchange, abc.ExchangeList):
    """``nbgrader list`` and the Assignments tab: released assignments, or (``--inbound``,
    ``--cached``) submissions: a student's own only, every student's for an instructor."""

    def init_src(self) -> None:
        pass

    def init_dest(self) -> None:
        pass

    def released(self) -> list[dict[str, Any]]:
        listed = self.client.json("GET", f"courses/{self.course}/assignments", "list")
        wanted = self.coursedir.assignment_id
        found = []
        for item in listed:
            if wanted and item["assignment_id"] != wanted:
                continue
            local = self.local_dir(item["assignment_id"])
            fetched = local.is_dir()
            path = local  # where it is, or would be once fetched
            found.append({
                "course_id": self.course, "assignment_id": item["assignment_id"],
                "status": "removed" if self.remove else "fetched" if fetched else "released",
                "path": str(path),
                "notebooks": [{"notebook_id": nb, "path": str(path / f"{nb}.ipynb")}
                              for nb in item["notebooks"]]})
        return found

    def submitted(self) -> list[dict[str, Any]]:
        params = {"assignment": self.coursedir.assignment_id} \
            if self.coursedir.assignment_id else {}
        if self.client.whoami()["role"] == "instructor" and \
                self.coursedir.student_id not in ("", "*"):
            params["student"] = self.coursedir.student_id
        groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for sub in self.client.json("GET", f"courses/{self.course}/submissions", "list",
                                    params=params):
            local = self.local_dir(sub["assignment_id"]) / "feedback" / sub["timestamp"]
            notebooks = [{
                "notebook_id": nb, "path": f"{sub['submission_id']}/{nb}.ipynb",
                "has_exchange_feedback": sub["has_feedback"],
                "has_local_feedback": (local / f"{nb}.html").is_file(),
                "local_feedback_path": str(local / f"{nb}.html")
                if (local / f"{nb}.html").is_file() else None,
                "feedback_updated": False} for nb in sub["notebooks"]]
            info = {"course_id": sub["course_id"], "student_id": sub["student_id"],
                    "assignment_id": sub["assignment_id"], "timestamp": sub["timestamp"],
                    "status": "submitted", "path": sub["submission_id"],
                    "notebooks": notebooks,
                    "has_exchange_feedback": bool(notebooks) and sub["has_feedback"],
                    "has_local_feedback": bool(notebooks) and all(
                        n["has_local_feedback"] for n in notebooks),
                    "feedback_updated": False}
            info["local_feedback_path"] = str(local) if info["has_local_feedback"] else None
            groups.setdefault((sub["student_id"], sub["assignment_id"]), []).append(info)
        return [{"course_id": self.course, "student_id": student, "assignment_id": assignment,
                 "status": "submitted",
                 "submissions": sorted(subs, key=lambda s: parse_utc(s["timestamp"]))}
                for (student, assignment), subs in sorted(groups.items())]

    def list_files(self) -> list[dict[str, Any]]:
        if self.inbound or self.cached:
            found = self.submitted()
            self.log.info("Submitted assignments:")
            for group in found:
                for info in group["submissions"]:
                    self.log.info("%s %s %s %s%s", info["course_id"], info["student_id"],
                                  info["assignment_id"], info["timestamp"],
                                  " (feedback ready to be fetched)"
                                  if info["has_exchange_feedback"] else "")
            return found
        found = self.released()
        self.log.info("Released assignments:")
        for info in found:
            self.log.info("%s %s%s", info["course_id"], info["assignment_id"],
                          " (already downloaded)" if info["status"] == "fetched" else "")
        return found

    def remove_files(self) -> list[dict[str, Any]]:
        if self.inbound or self.cached:
            self.fail("the hub exchange keeps every submission: only released assignments "
                      "can be removed.")
        found = self.released()
        for info in found:
            self.client.call("DELETE", f"courses/{self.course}/assignments/"
                             f"{info['assignment_id']}", "removal")
            self.log.info("Removed: %s %s", info["course_id"], info["assignment_id"])
        return found


#: The ``c.ExchangeFactory`` trait of each class.
CLASSES = {"fetch_assignment": HubFetchAssignment, "fetch_feedback": HubFetchFeedback,
           "release_assignment": HubReleaseAssignment, "release_feedback": HubReleaseFeedback,
           "list": HubList, "submit": HubSubmit, "collect": HubCollect}
