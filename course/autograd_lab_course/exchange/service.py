"""The ``autograd-lab-exchange`` JupyterHub service: nbgrader's exchange behind the hub's login.

``python -m autograd_lab_course.exchange --root DIR [--instructors a,b] [--instructor-group
instructors] [--max-upload-mib 50]`` serves, under the service prefix
(``$JUPYTERHUB_SERVICE_PREFIX``, default ``/services/autograd-lab-exchange/``)::

    GET    api/whoami                                      who the hub says you are, your role
    GET    api/courses/C/assignments                       released assignments
    GET    api/courses/C/assignments/A                     a released assignment (tar.gz)
    PUT    api/courses/C/assignments/A[?replace=1]         release          (instructors)
    DELETE api/courses/C/assignments/A                     unrelease        (instructors)
    POST   api/courses/C/submissions/A                     submit, as the caller
    GET    api/courses/C/submissions[?assignment=&student=]  submissions (students: their own)
    GET    api/courses/C/inbox/A[?student=S]               every submission of A (instructors)
    GET    api/courses/C/submissions/A/S/ID                a submission (tar.gz; instructors)
    GET    api/courses/C/feedback/A/S/ID                   its feedback (S or instructors)
    PUT    api/courses/C/feedback/A/S?timestamp=T          release feedback for S's
                                                           submission made at T (instructors)

Every request carries a hub API token (``Authorization: token …``, a single-user server's
``$JUPYTERHUB_API_TOKEN``). The caller's name comes only from the hub (JupyterHub's public
``HubAuth.get_user``), and the token must hold ``access:services!service=NAME``; a student's
name in a path or a query is checked against it, never believed. Instructors are the
``--instructors`` names and the members of ``--instructor-group`` (asked of the hub with the
service's own token, scope ``read:groups!group=GROUP``). Refusals are JSON
``{"message": one sentence}`` with 401 (no or a bad token), 403 (not allowed), 404, 409 or
413 (too large). Files live in :class:`~autograd_lab_course.exchange.store.Store`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyterhub.services.auth import HubAuth, HubAuthenticated, UserNotAllowed
from tornado import httpclient, web
from tornado.httpserver import HTTPServer

from autograd_lab_course.exchange.store import ArchiveError, Store, check_name, pack

__all__ = ["DEFAULT_MAX_MIB", "SERVICE_NAME", "ExchangeSettings", "RULES", "make_app", "main"]

SERVICE_NAME = "autograd-lab-exchange"
LOG = logging.getLogger(SERVICE_NAME)
DEFAULT_MAX_MIB = 50
INSTRUCTOR, STUDENT = "instructor", "student"

#: Who may do what: (route, method) -> "anyone" (every signed-in hub user), "instructor",
#: or "self" (the student named in the path or query, or an instructor).
RULES: dict[tuple[str, str], str] = {
    ("whoami", "GET"): "anyone",
    ("assignments", "GET"): "anyone",
    ("assignment", "GET"): "anyone",
    ("assignment", "PUT"): "instructor",
    ("assignment", "DELETE"): "instructor",
    ("submit", "POST"): "anyone",
    ("submissions", "GET"): "self",
    ("inbox", "GET"): "instructor",
    ("submission", "GET"): "instructor",
    ("feedback", "GET"): "self",
    ("release_feedback", "PUT"): "instructor",
}

#: The one sentence each refused operation gets (403).
REFUSALS = {
    ("assignment", "PUT"): "only an instructor may release an assignment.",
    ("assignment", "DELETE"): "only an instructor may unrelease an assignment.",
    ("submissions", "GET"): "you may list only your own submissions.",
    ("inbox", "GET"): "only an instructor may collect submissions.",
    ("submission", "GET"): "only an instructor may collect submissions.",
    ("feedback", "GET"): "you may fetch only your own feedback.",
    ("release_feedback", "PUT"): "only an instructor may release feedback.",
}


#: The sentence of an error the handlers did not raise themselves.
GENERIC = {400: "the request is malformed.",
           401: "send your hub API token (Authorization: token …).",
           404: "there is no such exchange address.",
           405: "that method is not allowed here.",
           413: "the upload is too large."}


class Refused(web.HTTPError):
    """A refusal with its one-sentence message (sent as JSON)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, log_message=message.replace("%", "%%"))
        self.message = message


@dataclass
class ExchangeSettings:
    """What the service is told at start."""

    root: Path
    instructors: frozenset[str] = frozenset()
    instructor_group: str = ""
    max_bytes: int = DEFAULT_MAX_MIB * 2**20
    name: str = SERVICE_NAME
    prefix: str = f"/services/{SERVICE_NAME}/"
    store: Store | None = field(default=None, repr=False)


class ExchangeHandler(HubAuthenticated, web.RequestHandler):
    """One route; ``route`` names its row in :data:`RULES`."""

    route = ""

    def initialize(self, settings: ExchangeSettings, hub_auth: HubAuth) -> None:
        self.exchange = settings
        self.store = settings.store
        self.hub_auth = hub_auth
        self.user_name = ""
        self.role = STUDENT

    @property
    def hub_scopes(self) -> set[str]:
        return {f"access:services!service={self.exchange.name}"}

    def refuse(self, status: int, message: str) -> None:
        """End the request with ``{"message": message}``."""
        raise Refused(status, message)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        error = kwargs.get("exc_info", (None, None, None))[1]
        message = error.message if isinstance(error, Refused) else GENERIC.get(
            status_code, "the exchange failed; ask your instructor.")
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"message": message}))

    async def prepare(self) -> None:
        """Who is calling (from the hub), their role, and whether :data:`RULES` allow it."""
        if not self.hub_auth.get_token(self, in_cookie=False):
            self.refuse(401, "send your hub API token (Authorization: token …).")
        model = await self.hub_auth.get_user(self, sync=False)
        if not model:
            self.refuse(401, "the hub does not know this token; use your server's "
                        "JUPYTERHUB_API_TOKEN.")
        try:
            model = self.check_hub_user(model)
        except UserNotAllowed:
            model = None
        if not model or model.get("kind", "user") != "user":
            self.refuse(403, f"this token may not use the {self.exchange.name} service; "
                        "ask the hub's administrator for its access scope.")
        self.user_name = model["name"]
        self.role = INSTRUCTOR if await self.is_instructor(self.user_name) else STUDENT
        rule = RULES.get((self.route, self.request.method or ""))
        if rule is None:
            self.refuse(405, "that method is not allowed here.")
        if rule == "instructor" and self.role != INSTRUCTOR:
            self.refuse(403, REFUSALS[(self.route, self.request.method)])

    async def is_instructor(self, name: str) -> bool:
        if name in self.exchange.instructors:
            return True
        group = self.exchange.instructor_group
        if not group:
            return False
        url = f"{self.hub_auth.api_url.rstrip('/')}/groups/{urllib.parse.quote(group)}"
        try:
            response = await httpclient.AsyncHTTPClient().fetch(
                url, headers={"Authorization": f"token {self.hub_auth.api_token}"},
                request_timeout=20)
        except (httpclient.HTTPClientError, OSError) as exc:
            LOG.error("Cannot read hub group %s: %s", group, exc)
            return False
        return name in json.loads(response.body).get("users", [])

    def check_self(self, student: str) -> None:
        """A student may name only themself."""
        if self.role != INSTRUCTOR and student != self.user_name:
            self.refuse(403, REFUSALS[(self.route, self.request.method)])

    def send_json(self, value: object) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(value))

    def send_folder(self, folder: Path) -> None:
        self.set_header("Content-Type", "application/gzip")
        self.finish(pack(folder))

    def names(self, *pairs: tuple[str, str]) -> None:
        """Check path parts against the name rule (400 with one sentence otherwise)."""
        for kind, value in pairs:
            try:
                check_name(kind, value)
            except ArchiveError as exc:
                self.refuse(400, str(exc))

    def unpacked(self, what: str) -> Path:
        """The request body unpacked into a new temporary folder (checked)."""
        try:
            return self.store.unpack_new(self.request.body)
        except ArchiveError as exc:
            status = 413 if "larger than" in str(exc) or "more than" in str(exc) else 400
            self.refuse(status, f"the exchange refused the {what}: {exc}")


class WhoAmI(ExchangeHandler):
    route = "whoami"

    def get(self) -> None:
        self.send_json({"name": self.user_name, "role": self.role,
                        "max_upload_bytes": self.exchange.max_bytes})


class Assignments(ExchangeHandler):
    route = "assignments"

    def get(self, course: str) -> None:
        self.names(("course", course))
        self.send_json(self.store.assignments(course))


class Assignment(ExchangeHandler):
    route = "assignment"

    def get(self, course: str, assignment: str) -> None:
        self.names(("course", course), ("assignment", assignment))
        folder = self.store.released(course, assignment)
        if not folder.is_dir():
            self.refuse(404, f"{assignment} has not been released in {course}.")
        self.send_folder(folder)

    def put(self, course: str, assignment: str) -> None:
        self.names(("course", course), ("assignment", assignment))
        replace = self.get_argument("replace", "0") == "1"
        new = self.unpacked("release")
        if not self.store.place(new, self.store.released(course, assignment), replace):
            self.refuse(409, f"{assignment} is released already; release it again with "
                        "--force to replace it.")
        LOG.info("%s released %s/%s", self.user_name, course, assignment)
        self.send_json({"course_id": course, "assignment_id": assignment})

    def delete(self, course: str, assignment: str) -> None:
        self.names(("course", course), ("assignment", assignment))
        if not self.store.unrelease(course, assignment):
            self.refuse(404, f"{assignment} has not been released in {course}.")
        self.send_json({"course_id": course, "assignment_id": assignment})


class Submit(ExchangeHandler):
    route = "submit"

    def post(self, course: str, assignment: str) -> None:
        self.names(("course", course), ("assignment", assignment))
        if not self.store.released(course, assignment).is_dir():
            self.refuse(404, f"{assignment} has not been released in {course}.")
        new = self.unpacked("submission")  # stored under the caller's hub name, always
        stored = self.store.submit(course, self.user_name, assignment, new)
        LOG.info("%s submitted %s/%s at %s", self.user_name, course, assignment,
                 stored.timestamp)
        self.send_json(stored.as_json())


class Submissions(ExchangeHandler):
    route = "submissions"

    def get(self, course: str) -> None:
        student = self.get_argument("student", "") or (
            None if self.role == INSTRUCTOR else self.user_name)
        assignment = self.get_argument("assignment", "") or None
        self.names(("course", course), *([("student", student)] if student else []),
                   *([("assignment", assignment)] if assignment else []))
        if student:
            self.check_self(student)
        self.send_json([s.as_json() for s in self.store.submissions(course, student,
                                                                    assignment)])


class Inbox(ExchangeHandler):
    route = "inbox"

    def get(self, course: str, assignment: str) -> None:
        student = self.get_argument("student", "") or None
        self.names(("course", course), ("assignment", assignment),
                   *([("student", student)] if student else []))
        self.send_json([s.as_json() for s in self.store.submissions(course, student,
                                                                    assignment)])


class SubmissionFiles(ExchangeHandler):
    route = "submission"

    def get(self, course: str, assignment: str, student: str, sid: str) -> None:
        self.names(("course", course), ("assignment", assignment), ("student", student),
                   ("submission", sid))
        folder = self.store.submitted(course, student, assignment) / sid
        if not folder.is_dir():
            self.refuse(404, f"{student} has no submission {sid} of {assignment}.")
        self.send_folder(folder)


class Feedback(ExchangeHandler):
    route = "feedback"

    def get(self, course: str, assignment: str, student: str, sid: str) -> None:
        self.names(("course", course), ("assignment", assignment), ("student", student),
                   ("submission", sid))
        self.check_self(student)
        folder = self.store.feedback(course, student, assignment, sid)
        if not folder.is_dir():
            self.refuse(404, f"there is no feedback for that submission of {assignment}.")
        self.send_folder(folder)


class ReleaseFeedback(ExchangeHandler):
    route = "release_feedback"

    def put(self, course: str, assignment: str, student: str) -> None:
        self.names(("course", course), ("assignment", assignment), ("student", student))
        stamp = self.get_argument("timestamp", "").strip()
        match = [s for s in self.store.submissions(course, student, assignment)
                 if s.timestamp == stamp]
        if not match:
            self.refuse(404, f"{student} has no submission of {assignment} made at "
                        f"{stamp[:40]!r}.")
        new = self.unpacked("feedback")
        self.store.place(new, self.store.feedback(course, student, assignment, match[0].id),
                         True)
        LOG.info("%s released feedback for %s on %s/%s", self.user_name, student,
                 course, assignment)
        self.send_json(match[0].as_json())


class NotFound(ExchangeHandler):
    """Every other address: 404."""

    route = "none"

    def prepare(self) -> None:  # type: ignore[override]
        self.refuse(404, "there is no such exchange address.")


def make_app(settings: ExchangeSettings, hub_auth: HubAuth) -> web.Application:
    """The tornado application of the service (``settings.store`` set from ``root``)."""
    settings.store = settings.store or Store(settings.root, settings.max_bytes)
    part = r"([^/]+)"
    api = settings.prefix.rstrip("/") + "/api"
    routes = [
        (f"{api}/whoami", WhoAmI),
        (f"{api}/courses/{part}/assignments", Assignments),
        (f"{api}/courses/{part}/assignments/{part}", Assignment),
        (f"{api}/courses/{part}/submissions", Submissions),
        (f"{api}/courses/{part}/submissions/{part}", Submit),
        (f"{api}/courses/{part}/inbox/{part}", Inbox),
        (f"{api}/courses/{part}/submissions/{part}/{part}/{part}", SubmissionFiles),
        (f"{api}/courses/{part}/feedback/{part}/{part}", ReleaseFeedback),
        (f"{api}/courses/{part}/feedback/{part}/{part}/{part}", Feedback),
        (r".*", NotFound),
    ]
    args = {"settings": settings, "hub_auth": hub_auth}
    return web.Application([(path, handler, args) for path, handler in routes])


def hub_auth_for(name: str) -> HubAuth:
    """JupyterHub's HubAuth from the service environment (``JUPYTERHUB_API_TOKEN``,
    ``JUPYTERHUB_API_URL``): tokens in the Authorization header only, never in a URL."""
    return HubAuth(access_scopes={f"access:services!service={name}"},
                   allow_token_in_url=False, cache_max_age=60)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m autograd_lab_course.exchange",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, help="where the service keeps its files")
    parser.add_argument("--instructors", default="", help="comma-separated hub names")
    parser.add_argument("--instructor-group", default="", help="a hub group of instructors")
    parser.add_argument("--max-upload-mib", type=float, default=DEFAULT_MAX_MIB)
    parser.add_argument("--name", default=os.environ.get("JUPYTERHUB_SERVICE_NAME",
                                                         SERVICE_NAME))
    parser.add_argument("--url", default=os.environ.get("JUPYTERHUB_SERVICE_URL",
                                                        "http://0.0.0.0:8000"),
                        help="where to listen (default $JUPYTERHUB_SERVICE_URL)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the service until SIGTERM or SIGINT."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[%(levelname)1.1s %(asctime)s %(name)s] "
                        "%(message)s")
    settings = ExchangeSettings(
        root=Path(args.root),
        instructors=frozenset(n.strip() for n in args.instructors.split(",") if n.strip()),
        instructor_group=args.instructor_group,
        max_bytes=int(args.max_upload_mib * 2**20),
        name=args.name,
        prefix=os.environ.get("JUPYTERHUB_SERVICE_PREFIX", f"/services/{args.name}/"))
    listen = urllib.parse.urlsplit(args.url)

    async def serve() -> None:
        app = make_app(settings, hub_auth_for(settings.name))
        server = HTTPServer(app, max_body_size=settings.max_bytes + 2**20)
        server.listen(listen.port or 8000, listen.hostname or "")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        server.stop()

    asyncio.run(serve())
    return 0
