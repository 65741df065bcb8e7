"""The hub exchange end to end: a real JupyterHub on 127.0.0.1 (with configurable-http-proxy)
runs ``autograd-lab-exchange`` as a hub-managed service, and nbgrader's own commands run as
``instructor``, ``student1`` and ``student2`` with the deployed overlays
(``deploy/jupyter-config/{instructor,student}``), each in its own HOME; so do the backends
of the formgrader (``NbGraderAPI``) and of the Assignments tab (``AssignmentList``).

The tokens are made through the hub's REST API by a token-minting test service, with the
scopes a single-user server's token gets from ``deploy/values.yaml`` (the user's own
activity and ``access:services!service=autograd-lab-exchange``), never an admin token.
Instructors are the hub group ``instructors``, as in ``deploy/``.

Needs configurable-http-proxy (``make test`` installs it into ``.npm-tools/``).
"""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
import requests
import yaml

from autograd_lab_course.classroom.hub import find_proxy, log_tail
from autograd_lab_course.exchange.service import SERVICE_NAME
from autograd_lab_course.ports import free_port

REPO = Path(__file__).resolve().parents[1]
COURSE = "autograd-lab"  # the overlays' course_id
ASSIGNMENT = "ps1"
OVERLAYS = REPO / "deploy" / "jupyter-config"
USERS = ("instructor", "student1", "student2")
CAP_MIB = 1  # the service's upload cap in this test
SESSION = requests.Session()
SESSION.trust_env = False  # loopback only: never an HTTP proxy


#: deploy/values.yaml's hub.loadRoles (the user, server and exchange roles), loaded as is.
ROLES = [{"name": name, **role} for name, role in yaml.safe_load(
    (REPO / "deploy" / "values.yaml").read_text())["hub"]["loadRoles"].items()]


def server_token_scopes(name: str) -> list[str]:
    """The scopes NAME's server token gets from deploy/values.yaml's `server` role, with its
    filters resolved as JupyterHub resolves them for a server's token."""
    role = next(r for r in ROLES if r["name"] == "server")
    return [scope.replace("!server", f"!server={name}/").replace("!user", f"!user={name}")
            for scope in role["scopes"]]


HUB_CONFIG = """
import json, os
s = json.load(open(os.environ["EXCHANGE_TEST_SETTINGS"]))
c.JupyterHub.bind_url = f"http://127.0.0.1:{s['port']}/"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{s['hub_port']}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{s['proxy_api_port']}"
c.ConfigurableHTTPProxy.command = [s["proxy"]]
c.ConfigurableHTTPProxy.pid_file = os.path.join(s["state"], "proxy.pid")
c.JupyterHub.db_url = "sqlite:///" + os.path.join(s["state"], "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = os.path.join(s["state"], "cookie_secret")
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = s["password"]
c.Authenticator.allowed_users = set(s["users"])
c.JupyterHub.load_groups = {"instructors": {"users": ["instructor"]}}
c.JupyterHub.services = [
    {"name": "autograd-lab-exchange", "url": f"http://127.0.0.1:{s['service_port']}",
     "command": [s["python"], "-m", "autograd_lab_course.exchange", "--root", s["root"],
                 "--instructor-group", "instructors", "--max-upload-mib", str(s["cap"])]},
    {"name": "token-minter", "api_token": s["minter_token"]},
]
# deploy/values.yaml's roles (hub.loadRoles: every user and their server's token may reach
# the exchange; the exchange may read who is in the instructors group), and the test's
# minter, which may make user tokens.
c.JupyterHub.load_roles = [
    *s["roles"],
    {"name": "token-minter", "services": ["token-minter"], "scopes": ["tokens"]},
]
"""


@dataclass
class ExchangeHub:
    proc: subprocess.Popen[bytes]
    url: str
    root: Path
    tokens: dict[str, str]
    homes: dict[str, Path]
    log: Path

    @property
    def api(self) -> str:
        return f"{self.url}services/{SERVICE_NAME}/api/"

    def raw(self, method: str, path: str, token: str | None, **kwargs: object
            ) -> requests.Response:
        headers = {"Authorization": f"token {token}"} if token else {}
        return SESSION.request(method, self.api + path, headers=headers, timeout=60,
                               **kwargs)

    def nbgrader(self, who: str, *args: str, ok: bool = True,
                 command: tuple[str, ...] = ("-m", "nbgrader")) -> subprocess.CompletedProcess:
        """``python -m nbgrader ARGS`` as WHO: in WHO's HOME (its cwd), with its role's
        deployed overlay and a token like its server's."""
        home = self.homes[who]
        role = "instructor" if who == "instructor" else "student"
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("JUPYTER", "AUTOGRAD_LAB_EXCHANGE", "http_", "https_"))}
        env.update(HOME=str(home), JUPYTER_CONFIG_DIR=str(home / ".jupyter"),
                   JUPYTER_DATA_DIR=str(home / ".local" / "share" / "jupyter"),
                   JUPYTER_CONFIG_PATH=str(OVERLAYS / role), JUPYTERHUB_USER=who,
                   PATH=os.pathsep.join([str(Path(sys.executable).parent), env["PATH"]]),
                   JUPYTERHUB_API_TOKEN=self.tokens[who],
                   # through the proxy, as the plugin's default address expects
                   JUPYTERHUB_API_URL=f"{self.url}hub/api")
        extra = [f"--CourseDirectory.root={home / 'course'}"] if role == "instructor" \
            and command == ("-m", "nbgrader") else []
        done = subprocess.run([sys.executable, *command, *args, *extra], cwd=home,
                              env=env, capture_output=True, text=True, timeout=120)
        assert (done.returncode == 0) == ok, (args, done.returncode, done.stderr[-3000:])
        return done


def _wait(url: str, proc: subprocess.Popen[bytes], log: Path, status: set[int]) -> None:
    deadline = time.monotonic() + 90
    while True:
        assert proc.poll() is None, "hub exited:\n" + log_tail(log)
        try:
            if SESSION.get(url, timeout=3).status_code in status:
                return
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, f"{url} did not answer:\n" + log_tail(log)
        time.sleep(0.25)


def _mint(url: str, minter: str, name: str, scopes: list[str]) -> str:
    response = SESSION.post(f"{url}hub/api/users/{name}/tokens",
                             headers={"Authorization": f"token {minter}"},
                             json={"scopes": scopes, "note": "as a server token"}, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()["token"]


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> ExchangeHub:
    base = tmp_path_factory.mktemp("hub-exchange")
    state, root = base / "hub", base / "exchange-service"
    state.mkdir()
    settings = {
        "port": free_port(), "hub_port": free_port(), "proxy_api_port": free_port(),
        "service_port": free_port(), "proxy": find_proxy(), "state": str(state),
        "root": str(root), "users": list(USERS), "password": secrets.token_urlsafe(12),
        "python": sys.executable, "cap": CAP_MIB, "minter_token": secrets.token_hex(32),
        "roles": ROLES,
    }
    (state / "settings.json").write_text(json.dumps(settings))
    (state / "jupyterhub_config.py").write_text(HUB_CONFIG)
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTERHUB_")}
    env.update(EXCHANGE_TEST_SETTINGS=str(state / "settings.json"),
               CONFIGPROXY_AUTH_TOKEN=secrets.token_hex(32))
    log = state / "hub.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f",
                                 str(state / "jupyterhub_config.py")], cwd=state, env=env,
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    url = f"http://127.0.0.1:{settings['port']}/"
    try:
        _wait(url + "hub/health", proc, log, {200})
        _wait(f"{url}services/{SERVICE_NAME}/api/whoami", proc, log, {401})
        tokens = {name: _mint(url, settings["minter_token"], name, server_token_scopes(name))
                  for name in USERS}
        homes = {name: base / "home" / name for name in USERS}
        for home in homes.values():
            home.mkdir(parents=True)
        yield ExchangeHub(proc, url, root, tokens, homes, log)
    finally:
        try:  # the hub, its proxy and the service (in a session of its own)
            tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(True)]
        except psutil.NoSuchProcess:
            tree = []
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # the hub stops its service and proxy
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for survivor in [p for p in tree if p.is_running()]:
            try:
                survivor.kill()
            except psutil.NoSuchProcess:
                pass


RELEASED = {"ps1.ipynb": json.dumps({"cells": [], "metadata": {}, "nbformat": 4,
                                     "nbformat_minor": 5}).encode(),
            "data/points.bin": os.urandom(4096)}


#: What the formgrader asks (nbgrader's NbGraderAPI, built as its handlers build it).
FORMGRADER = """
import json, sys
from nbgrader.apps import NbGrader
from nbgrader.apps.api import NbGraderAPI
from nbgrader.auth import Authenticator
from nbgrader.coursedir import CourseDirectory
app = NbGrader()
app.load_config_file()
app.config.CourseDirectory.root = sys.argv[1]
api = NbGraderAPI(CourseDirectory(parent=app), Authenticator(parent=app), parent=app)
print(json.dumps({"functional": bool(api.exchange_is_functional),
                  "released": sorted(api.get_released_assignments())}))
"""


@pytest.fixture(scope="module")
def released(hub: ExchangeHub) -> dict[str, bytes]:
    release = hub.homes["instructor"] / "course" / "release" / ASSIGNMENT
    for rel, data in RELEASED.items():
        (release / rel).parent.mkdir(parents=True, exist_ok=True)
        (release / rel).write_bytes(data)
    hub.nbgrader("instructor", "release_assignment", ASSIGNMENT)
    return RELEASED


def test_a_release_is_fetched_byte_identical(hub: ExchangeHub,
                                             released: dict[str, bytes]) -> None:
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda name: hub.nbgrader(name, "fetch_assignment", ASSIGNMENT),
                      ("student1", "student2")))
    for student in ("student1", "student2"):
        for rel, data in released.items():
            assert (hub.homes[student] / ASSIGNMENT / rel).read_bytes() == data
    assert f"{COURSE} {ASSIGNMENT} (already downloaded)" in hub.nbgrader(
        "student1", "list").stderr
    # the formgrader's backend sees a working exchange with the release in it
    done = hub.nbgrader("instructor", str(hub.homes["instructor"] / "course"),
                        command=("-c", FORMGRADER))
    assert json.loads(done.stdout) == {"functional": True, "released": [ASSIGNMENT]}
    # released again only with --force
    again = hub.nbgrader("instructor", "release_assignment", ASSIGNMENT, ok=False).stderr
    assert "is released already; release it again with --force" in again


def _write_work(hub: ExchangeHub, student: str, text: str) -> bytes:
    notebook = json.dumps({"cells": [{"cell_type": "markdown", "metadata": {},
                                      "source": text}], "metadata": {}, "nbformat": 4,
                           "nbformat_minor": 5}).encode()
    (hub.homes[student] / ASSIGNMENT / "ps1.ipynb").write_bytes(notebook)
    return notebook


@pytest.fixture(scope="module")
def submitted(hub: ExchangeHub, released: dict[str, bytes]) -> dict[str, bytes]:
    """student2 submits correct work first; then student1, whose own nbgrader_config.py
    claims to be student2, submits theirs (the impersonation probe of issue 29)."""
    for student in ("student1", "student2"):
        if not (hub.homes[student] / ASSIGNMENT).is_dir():
            hub.nbgrader(student, "fetch_assignment", ASSIGNMENT)
    work = {"student2": _write_work(hub, "student2", "student2's correct work")}
    hub.nbgrader("student2", "submit", ASSIGNMENT)
    (hub.homes["student1"] / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.student_id = 'student2'\n")
    work["student1"] = _write_work(hub, "student1", "student1's work, claiming student2")
    out = hub.nbgrader("student1", "submit", ASSIGNMENT).stderr
    assert f"Submitted as: {COURSE} {ASSIGNMENT}" in out
    return work


def test_a_false_student_id_cannot_file_work_as_another(
        hub: ExchangeHub, submitted: dict[str, bytes]) -> None:
    stored = hub.root / COURSE / "submitted"
    assert sorted(p.name for p in stored.iterdir()) == ["student1", "student2"]
    assert len(list((stored / "student2" / ASSIGNMENT).iterdir())) == 1  # untouched
    hub.nbgrader("instructor", "collect", ASSIGNMENT)
    course = hub.homes["instructor"] / "course" / "submitted"
    for student, work in submitted.items():
        folder = course / student / ASSIGNMENT
        assert (folder / "ps1.ipynb").read_bytes() == work, student
        assert (folder / "data" / "points.bin").read_bytes() == RELEASED["data/points.bin"]
        assert (folder / "timestamp.txt").read_text().endswith(" UTC")


def test_students_cannot_collect_release_or_release_feedback(
        hub: ExchangeHub, submitted: dict[str, bytes]) -> None:
    student = "student1"
    course = hub.homes[student] / "course"
    (course / "release" / ASSIGNMENT).mkdir(parents=True)
    (course / "release" / ASSIGNMENT / "ps1.ipynb").write_text("{}")
    (course / "feedback" / "student2" / ASSIGNMENT).mkdir(parents=True)
    (course / "feedback" / "student2" / ASSIGNMENT / "ps1.html").write_text("<p>forged</p>")
    (course / "feedback" / "student2" / ASSIGNMENT / "timestamp.txt").write_text(
        "2026-01-01 00:00:00.000000 UTC")
    root = [f"--CourseDirectory.root={course}"]
    attempts = {
        ("collect", ASSIGNMENT): "only an instructor may collect submissions.",
        ("release_assignment", ASSIGNMENT, "--force"):
            "only an instructor may release an assignment.",
        ("list", "--remove", ASSIGNMENT): "only an instructor may unrelease an assignment.",
        ("release_feedback", ASSIGNMENT): "only an instructor may release feedback."}
    with ThreadPoolExecutor(len(attempts)) as pool:  # independent: side by side
        errors = dict(zip(attempts, pool.map(
            lambda args: hub.nbgrader(student, *args, *root, ok=False).stderr, attempts),
            strict=True))
    for args, sentence in attempts.items():
        assert "the exchange refused the " in errors[args] and sentence in errors[args], (
            args, errors[args][-1500:])
        assert "Traceback" not in errors[args]
    token = hub.tokens[student]
    sub = hub.raw("GET", f"courses/{COURSE}/submissions", hub.tokens["student2"]).json()[0]
    for method, path in (
            ("PUT", f"courses/{COURSE}/assignments/{ASSIGNMENT}"),
            ("DELETE", f"courses/{COURSE}/assignments/{ASSIGNMENT}"),
            ("GET", f"courses/{COURSE}/inbox/{ASSIGNMENT}"),
            ("GET", f"courses/{COURSE}/submissions/{ASSIGNMENT}/student2/"
                    f"{sub['submission_id']}"),
            ("PUT", f"courses/{COURSE}/feedback/{ASSIGNMENT}/student2?timestamp="
                    f"{sub['timestamp']}"),
            ("GET", f"courses/{COURSE}/feedback/{ASSIGNMENT}/student2/{sub['submission_id']}"),
            ("GET", f"courses/{COURSE}/submissions?student=student2")):
        response = hub.raw(method, path, token, data=b"")
        assert response.status_code == 403, (method, path, response.status_code)
        message = response.json()["message"]
        assert message.endswith(".") and message.count(". ") == 0, message
    assert hub.raw("GET", f"courses/{COURSE}/assignments", token).status_code == 200


def test_list_shows_a_student_only_their_own_submissions(
        hub: ExchangeHub, submitted: dict[str, bytes]) -> None:
    who = ("student1", "student2", "instructor")
    with ThreadPoolExecutor(len(who)) as pool:  # independent: side by side
        out = dict(zip(who, pool.map(
            lambda name: hub.nbgrader(name, "list", "--inbound").stderr, who), strict=True))
    for student, other in (("student1", "student2"), ("student2", "student1")):
        assert f"{COURSE} {student} {ASSIGNMENT} " in out[student] and other not in out[student]
        mine = hub.raw("GET", f"courses/{COURSE}/submissions", hub.tokens[student]).json()
        assert {s["student_id"] for s in mine} == {student}
    assert f"{COURSE} student1 {ASSIGNMENT}" in out["instructor"]
    assert f"{COURSE} student2 {ASSIGNMENT}" in out["instructor"]
    # (--cached, what the Assignments tab lists: test_the_assignments_tab_…)


#: What the Assignments tab's server extension does for a student (nbgrader's own
#: AssignmentList, the manager behind its /assignments handlers), as JSON on stdout.
ASSIGNMENTS_TAB = """
import json, os, sys
from nbgrader.server_extensions.assignment_list.handlers import AssignmentList
tab = AssignmentList()
tab.root_dir = os.getcwd()
result = {"before": tab.list_assignments(course_id=sys.argv[1])}
result["submit"] = tab.submit_assignment(sys.argv[1], sys.argv[2])
result["after"] = tab.list_assignments(course_id=sys.argv[1])
print(json.dumps(result))
"""


def test_the_assignments_tab_lists_and_submits_through_the_exchange(
        hub: ExchangeHub, submitted: dict[str, bytes]) -> None:
    done = hub.nbgrader("student2", COURSE, ASSIGNMENT, command=("-c", ASSIGNMENTS_TAB))
    result = json.loads(done.stdout)
    assert result["submit"] == {"success": True}
    for when, count in (("before", 1), ("after", 2)):
        listing = result[when]
        assert listing["success"], listing
        released, *rest = listing["value"]
        assert (released["assignment_id"], released["status"]) == (ASSIGNMENT, "fetched")
        assert released["path"] == ASSIGNMENT  # relative to the server's root, as the tab wants
        assert [nb["notebook_id"] for nb in released["notebooks"]] == ["ps1"]
        (mine,) = rest  # student2's only: never student1's
        assert (mine["student_id"], mine["status"]) == ("student2", "submitted")
        assert len(mine["submissions"]) == count
        for sub in mine["submissions"]:
            assert {"timestamp", "notebooks", "has_local_feedback", "has_exchange_feedback",
                    "feedback_updated", "local_feedback_path"} <= set(sub)
    stored = hub.root / COURSE / "submitted" / "student2" / ASSIGNMENT
    assert len(list(stored.iterdir())) == 2


def test_feedback_reaches_its_student_only(hub: ExchangeHub,
                                           submitted: dict[str, bytes]) -> None:
    course = hub.homes["instructor"] / "course"
    collected = course / "submitted" / "student1" / ASSIGNMENT
    if not collected.is_dir():
        hub.nbgrader("instructor", "collect", ASSIGNMENT)
    feedback = course / "feedback" / "student1" / ASSIGNMENT
    feedback.mkdir(parents=True)
    html = f"<html><body>student1: 4/5 {secrets.token_hex(8)}</body></html>".encode()
    (feedback / "ps1.html").write_bytes(html)
    stamp = (collected / "timestamp.txt").read_text()
    (feedback / "timestamp.txt").write_text(stamp)  # as generate_feedback copies it
    hub.nbgrader("instructor", "release_feedback", ASSIGNMENT)
    assert "(feedback ready to be fetched)" in hub.nbgrader(
        "student1", "list", "--inbound").stderr
    hub.nbgrader("student1", "fetch_feedback", ASSIGNMENT)
    fetched = hub.homes["student1"] / ASSIGNMENT / "feedback" / stamp / "ps1.html"
    assert fetched.read_bytes() == html
    hub.nbgrader("student2", "fetch_feedback", ASSIGNMENT)
    assert not (hub.homes["student2"] / ASSIGNMENT / "feedback").exists()
    mine = hub.raw("GET", f"courses/{COURSE}/submissions", hub.tokens["student1"]).json()
    sid = next(s["submission_id"] for s in mine if s["timestamp"] == stamp)
    path = f"courses/{COURSE}/feedback/{ASSIGNMENT}/student1/{sid}"
    assert hub.raw("GET", path, hub.tokens["student2"]).status_code == 403
    assert hub.raw("GET", path, hub.tokens["student1"]).status_code == 200


def test_no_bad_or_unscoped_token_is_refused(hub: ExchangeHub) -> None:
    path = f"courses/{COURSE}/assignments"
    for token, status in ((None, 401), ("not-a-token", 401)):
        response = hub.raw("GET", path, token)
        assert response.status_code == status
        assert response.json()["message"].endswith(".")
    minter = json.loads((hub.log.parent / "settings.json").read_text())["minter_token"]
    unscoped = _mint(hub.url, minter, "student1", ["users:activity!user=student1"])
    for token in (unscoped, minter):  # a user token without the scope; a service's token
        response = hub.raw("GET", path, token)
        assert response.status_code == 403, response.text
        assert "may not use the autograd-lab-exchange service" in response.json()["message"]
    assert hub.raw("GET", "whoami", hub.tokens["instructor"]).json()["role"] == "instructor"
    assert hub.raw("GET", "whoami", hub.tokens["student1"]).json() == {
        "name": "student1", "role": "student", "max_upload_bytes": CAP_MIB * 2**20}


def _tar(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_oversize_and_unsafe_uploads_are_refused(hub: ExchangeHub,
                                                 submitted: dict[str, bytes]) -> None:
    work = hub.homes["student2"] / ASSIGNMENT
    stored_before = len(list((hub.root / COURSE / "submitted" / "student2" / ASSIGNMENT)
                             .iterdir()))
    (work / "huge.bin").write_bytes(os.urandom(CAP_MIB * 2**20 + 1000))
    try:
        err = hub.nbgrader("student2", "submit", ASSIGNMENT, ok=False).stderr
    finally:
        (work / "huge.bin").unlink()
    assert (f"the exchange refused the submission: it is larger than {CAP_MIB} MiB; remove "
            "large files and submit again.") in err
    token = hub.tokens["student2"]
    path = f"courses/{COURSE}/submissions/{ASSIGNMENT}"
    zeros = hub.raw("POST", path, token, data=_tar("z.bin", b"\0" * (CAP_MIB * 2**20 + 1)))
    assert zeros.status_code == 413
    assert zeros.json()["message"] == (
        f"the exchange refused the submission: it is larger than {CAP_MIB} MiB unpacked.")
    escape = hub.raw("POST", path, token, data=_tar("../../escape.txt", b"x"))
    assert escape.status_code == 400 and "outside its folder" in escape.json()["message"]
    assert not list(hub.root.rglob("escape.txt")) and not list(hub.root.rglob("z.bin"))
    assert len(list((hub.root / COURSE / "submitted" / "student2" / ASSIGNMENT).iterdir())) \
        == stored_before
    shutil.rmtree(hub.homes["student2"] / "course", ignore_errors=True)
