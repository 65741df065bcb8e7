"""A class run through the local hub (issue 18): ``python -m autograd_lab_course.classroom``
end to end.

One classroom (three students) is started with the command a teacher types, on a free
loopback port, in a temporary DIR. Everything after that goes over HTTP with each account's
own login and API token, as the browser would: the instructor generates (with the gradebook)
and releases ``chain_rule`` through the formgrader's API; each student fetches and submits
through nbgrader's Assignments handlers (student1 the teacher's solution, student2 the same
with the inner derivative left out, student3 untouched; student3 fetches in a real browser
when Chromium is installed); the instructor collects, autogrades, generates and releases
feedback; students fetch it. The expected scores come from the teacher notebook's points.
The last test sends the command SIGTERM and checks that nothing it started is left.

Deselect with ``-m "not classroom"``. Needs configurable-http-proxy (``make test`` installs it
into ``.npm-tools/``).
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
import requests

from autograd_lab_course.classroom.accounts import hash_password, make_passwords, verify_password
from autograd_lab_course.classroom.cli import main as classroom_main
from autograd_lab_course.classroom.client import HubError, HubUser
from autograd_lab_course.classroom.hub import NPM_PROXY, log_tail
from autograd_lab_course.classroom.layout import COURSE_ID, ClassroomLayout
from autograd_lab_course.exchange.nbgrader_plugin import CLASSES
from autograd_lab_course.ports import ephemeral_range, free_port

pytestmark = pytest.mark.classroom

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENT = "chain_rule"
NOTEBOOK = f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
SOURCE = REPO / "notebooks" / "exercises" / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
ARTIFACTS = REPO / "test-artifacts" / "classroom"
STUDENTS = ("student1", "student2", "student3")
MISTAKE = "missing_chain_factor"
#: student2's answer to the first question: e^(cos x) without the inner factor -sin x.
MISTAKE_ANSWER = "x = 2.0\ndz_dx = math.exp(math.cos(x))  # du/dx = -sin(x) left out\n"


# --- the running classroom -----------------------------------------------------------------------
@dataclass
class Hub:
    proc: subprocess.Popen[str]
    url: str
    passwords: dict[str, str]
    directory: Path
    output: list[str]
    users: dict[str, HubUser] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def user(self, name: str) -> HubUser:
        if name not in self.users:
            self.users[name] = HubUser(self.url, name, self.passwords[name])
        return self.users[name]


def _reader(stream: object, lines: queue.Queue[str]) -> None:
    for line in iter(stream.readline, ""):  # type: ignore[attr-defined]
        lines.put(line)


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def hub() -> Hub:
    if not NPM_PROXY.is_file():
        pytest.fail("configurable-http-proxy missing: run `make test` (it installs .npm-tools/)")
    # Every account's system user must reach its home: not under pytest's tmp (mode 0700).
    directory = Path(tempfile.mkdtemp(prefix="autograd-lab-classroom-", dir="/tmp"))
    os.chmod(directory, 0o755)
    port = free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "autograd_lab_course.classroom", "--students", "3",
         "--port", str(port), "--dir", str(directory)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_reader, args=(proc.stdout, lines), daemon=True).start()
    output: list[str] = []
    try:
        deadline = time.monotonic() + 180
        while not any("Press Ctrl-C" in line for line in output):
            assert proc.poll() is None or not lines.empty(), "".join(output)
            assert time.monotonic() < deadline, "classroom did not start:\n" + "".join(output)
            try:
                output.append(lines.get(timeout=1))
            except queue.Empty:
                pass
        url = re.search(r"Classroom hub: (\S+)", "".join(output)).group(1)  # type: ignore[union-attr]
        passwords = dict(re.findall(r"^(\w+)  password: (\S+)$", "".join(output), re.M))
        hub = Hub(proc, url, passwords, directory, output)
        hub.timings["classroom start (s)"] = time.perf_counter() - t0
        yield hub
    finally:
        _stop(proc)
        if os.geteuid() == 0:  # the system users the classroom made (homes go with DIR)
            subprocess.run([sys.executable, "-m", "autograd_lab_course.classroom",
                            "--remove-accounts"], check=False, capture_output=True)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def servers(hub: Hub) -> Hub:
    """Every account logged in through the login form, with a token and a running server."""
    t0 = time.perf_counter()
    names = ["instructor", *STUDENTS]
    for name in names:
        hub.user(name).create_token()
    try:
        with ThreadPoolExecutor(len(names)) as pool:
            list(pool.map(lambda n: hub.user(n).start_server(), names))
    except HubError as error:
        tail = log_tail(ClassroomLayout(hub.directory).hub_log, 60)
        pytest.fail(f"{error}\nthe hub's log ends:\n{tail}")
    hub.timings["4 servers spawned (s)"] = time.perf_counter() - t0
    return hub


@pytest.fixture(scope="module")
def released(servers: Hub) -> Hub:
    """The instructor generates (gradebook on: hidden tests recorded) and releases."""
    teacher = servers.user("instructor")
    teacher.formgrader("POST", f"assignment/{ASSIGNMENT}/assign")
    teacher.formgrader("POST", f"assignment/{ASSIGNMENT}/release")
    return servers


# --- the source notebook's facts, independent of the hub --------------------------------------
def _source_cells() -> dict[str, dict]:
    notebook = json.loads(SOURCE.read_text(encoding="utf-8"))
    return {c["metadata"]["nbgrader"]["grade_id"]: c for c in notebook["cells"]}


def _points() -> tuple[float, float]:
    """(total points, points of the check that reads dz_dx) from the teacher notebook."""
    cells = _source_cells().values()
    graded = [c for c in cells if c["metadata"]["nbgrader"].get("grade")]
    total = sum(float(c["metadata"]["nbgrader"]["points"]) for c in graded)
    first = [c for c in graded if "dz_dx" in "".join(c["source"])]
    assert len(first) == 1
    return total, float(first[0]["metadata"]["nbgrader"]["points"])


def _solved(notebook: dict, mistake: bool) -> dict:
    """The released notebook with the teacher's solutions (and student2's one mistake)."""
    source = _source_cells()
    for cell in notebook["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if not meta.get("solution"):
            continue
        text = "".join(source[meta["grade_id"]]["source"])
        text = "\n".join(ln for ln in text.splitlines() if "### " not in ln) + "\n"
        if mistake and "dz_dx = ..." in text:
            text = MISTAKE_ANSWER
        cell["source"] = text
    return notebook


# --- the command line -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--students", "0"], "--students must be at least 1 (got 0)."),
        (["--students", "many"], "--students must be a whole number (got 'many')."),
        (["--port", "http"], "--port must be a whole number (got 'http')."),
        (["--port", "70000"], "--port must be between 1 and 65535 (got 70000)."),
    ],
)
def test_bad_input_gets_one_sentence(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert classroom_main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: {message}"


def test_unwritable_directory_gets_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    assert classroom_main(["--port", str(free_port()), "--dir", str(blocker / "dir")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: Cannot write to ") and err.endswith("with --dir.")
    assert err.count("\n") == 0


def test_passwords_are_random_and_only_their_hashes_verify() -> None:
    passwords = make_passwords(2)
    assert list(passwords) == ["instructor", "student1", "student2"]
    assert len(set(passwords.values())) == 3
    record = hash_password(passwords["student1"])
    assert passwords["student1"] not in json.dumps(record)
    assert verify_password(passwords["student1"], record)
    assert not verify_password(passwords["student2"], record)
    assert not verify_password("", record)
    assert not verify_password(passwords["student1"], {"salt": "zz", "hash": "00"})


def test_deploy_overlays_are_the_classroom_overlays(tmp_path: Path) -> None:
    """deploy/jupyter-config (baked into the hub image) hides what the classroom hides."""
    layout = ClassroomLayout(tmp_path)
    layout.write_overlays(["student1"])
    deployed = REPO / "deploy" / "jupyter-config"
    for rel in ("student/jupyter_server_config.d/autograd_lab_classroom_student.json",
                "student/labconfig/page_config.json",
                "student/labconfig/default_setting_overrides.json",
                "student/jupyter_server_config.json",
                "instructor/jupyter_server_config.json"):
        assert json.loads((deployed / rel).read_text()) == json.loads(
            (layout.config_root / rel).read_text()), rel
    css = "student/custom/custom.css"  # output text wraps at spaces (student_css)
    assert (deployed / css).read_text() == (layout.config_root / css).read_text()
    for role in ("student", "instructor"):
        local = json.loads((layout.config_root / role / "nbgrader_config.json").read_text())
        image = json.loads((deployed / role / "nbgrader_config.json").read_text())
        assert image["CourseDirectory"]["course_id"] == local["CourseDirectory"]["course_id"]
        # the hub exchange, not a shared folder (tests/test_deploy_exchange.py checks the rest)
        assert "Exchange" not in image and set(image["ExchangeFactory"]) == set(CLASSES)
        # how the formgrader grades (warm kernels) and shows student outputs (sanitized)
        for grading in ("Execute", "Autograde", "HTMLExporter"):
            assert image.get(grading) == local.get(grading), (role, grading)
    assert json.loads((layout.config_root / "users" / "student1" / "nbgrader_config.json")
                      .read_text()) == {"CourseDirectory": {"student_id": "student1"}}


def test_prints_the_address_and_one_password_line_per_account(hub: Hub) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", hub.url)
    assert list(hub.passwords) == ["instructor", *STUDENTS]
    assert len(set(hub.passwords.values())) == 4
    assert all(len(p) >= 12 for p in hub.passwords.values())
    homes = hub.directory / "home"
    assert sorted(p.name for p in homes.iterdir()) == ["instructor", *STUDENTS]
    # Lessons in every home; the exercises arrive only through nbgrader.
    lessons = sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb"))
    for name in STUDENTS:
        assert sorted(p.name for p in (homes / name).iterdir()) == lessons
    course = homes / "instructor" / "course"
    assert (course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file()
    assert not (course / "release").exists()
    assert (hub.directory / "exchange").is_dir()
    stored = (hub.directory / "hub" / "passwords.json").read_text()
    assert not any(p in stored for p in hub.passwords.values())


def test_pages_need_a_login(hub: Hub) -> None:
    anonymous = requests.Session()
    anonymous.trust_env = False
    page = anonymous.get(hub.url + "user/student1/lab", timeout=60)
    assert page.status_code == 200 and "/hub/login" in page.url
    assert 'name="password"' in page.text
    for path in ("user/student1/api/contents", "user/student1/api/kernels", "hub/api/users",
                 "hub/api/user", "user/instructor/formgrader/api/assignments"):
        response = anonymous.get(hub.url + path, timeout=60)
        # Either refused outright, or sent (via the hub) to the login page: never data.
        assert response.status_code == 403 or (
            response.status_code == 200 and "/hub/login" in response.url
            and 'name="password"' in response.text
        ), (path, response.status_code, response.url)


def test_wrong_password_is_refused(hub: Hub) -> None:
    for name, password in (("student1", hub.passwords["student2"]), ("student1", ""),
                           ("nobody", hub.passwords["student1"])):
        user = HubUser(hub.url, name, password)
        response = user.login()
        assert response.status_code == 403, (name, response.status_code)
        assert "Invalid username or password" in response.text
        assert not user.logged_in()
    right = HubUser(hub.url, "student1", hub.passwords["student1"])
    assert right.login().status_code == 302 and right.logged_in()


def _sockets(proc: psutil.Process) -> list:
    """``proc``'s sockets; none when it ended since the tree was listed (a server's short
    helper processes, such as jupyter_lsp's ``npm prefix -g`` at start, come and go)."""
    try:
        return list(proc.net_connections(kind="inet"))
    except psutil.NoSuchProcess:
        return []


def _cmdline(proc: psutil.Process) -> list[str]:
    try:
        return proc.cmdline()
    except psutil.NoSuchProcess:
        return []


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_listens_on_loopback_only(servers: Hub) -> None:
    tree = psutil.Process(servers.proc.pid).children(recursive=True)
    listening = [
        conn.laddr
        for proc in tree
        for conn in _sockets(proc)
        if conn.status == psutil.CONN_LISTEN
    ]
    assert len(listening) >= 3 + 4  # proxy (public + API), hub, four single-user servers
    assert {addr.ip for addr in listening} == {"127.0.0.1"}
    # Every port the hub told a server or itself to use lies below the range the system hands
    # to new connections and kernels, so none of those could take it first
    # (autograd_lab_course.ports).
    log = ClassroomLayout(servers.directory).hub_log.read_text(errors="replace")
    routed = [int(p) for p in re.findall(r"to proxy /user/\w+/ => http://127\.0\.0\.1:(\d+)", log)]
    assert len(routed) == 4 and all(port < ephemeral_range()[0] for port in routed), routed
    settings = json.loads(ClassroomLayout(servers.directory).hub_settings.read_text())
    assert all(settings[key] < ephemeral_range()[0] for key in ("hub_port", "proxy_api_port"))


def test_browser_reaches_its_server_after_oauth_and_not_another(servers: Hub) -> None:
    student = HubUser(servers.url, "student1", servers.passwords["student1"])
    assert student.login().status_code == 302
    page = student.session.get(servers.url + "user/student1/lab", timeout=120)
    assert page.status_code == 200 and page.url.endswith("/user/student1/lab")
    hops = " ".join(r.url for r in page.history)
    assert "/hub/api/oauth2/authorize" in hops and "/user/student1/oauth_callback" in hops
    other = student.session.get(servers.url + "user/student2/lab", timeout=120)
    assert other.status_code == 403, other.url
    # With an API token, too: student1's token does not open student2's server.
    token_user = servers.user("student1")
    assert token_user.server_of("student2", "GET", "api/contents").status_code == 403
    assert token_user.server("GET", "api/contents").status_code == 200


def test_students_get_the_assignments_tab_but_no_teacher_tools(servers: Hub) -> None:
    student, teacher = servers.user("student2"), servers.user("instructor")
    assert student.assignments(COURSE_ID) == []  # the handler answers; nothing released yet
    for path in ("formgrader/api/assignments", "formgrader", "assignments/validate"):
        assert student.server("GET", path).status_code == 404, path
    page = student.server("GET", "lab").text
    start = page.index('id="jupyter-config-data"')
    config = json.loads(page[page.index(">", start) + 1: page.index("</script>", start)])
    disabled = set(config["disabledExtensions"])
    for plugin in ("formgrader", "create-assignment", "validate-assignment", "course-list"):
        assert f"@jupyter/nbgrader:{plugin}" in disabled, plugin
    assert "@jupyter/nbgrader:assignment-list" not in disabled
    assert "@jupyter/nbgrader" not in disabled
    assert config["buildCheck"] is False and config["buildAvailable"] is False
    # output text wraps at spaces, as in the student lab (autograd_lab_course.student_css)
    assert "custom/custom.css" in page
    css = student.server("GET", "custom/custom.css")
    assert css.status_code == 200 and "word-break: normal" in css.text
    names = [a["name"] for a in teacher.formgrader("GET", "assignments")]
    assert ASSIGNMENT in names


def test_student_fetches_and_runs_a_check_in_the_browser(released: Hub) -> None:
    from classroom_browser import run_student_in_browser, skip_or_fail_without_chromium

    chromium = skip_or_fail_without_chromium()
    t0 = time.perf_counter()
    text = run_student_in_browser(
        chromium, released.url, "student3", released.passwords["student3"],
        NOTEBOOK, ARTIFACTS,
    )
    released.timings["browser step (s)"] = time.perf_counter() - t0
    assert "not attempted" in text.lower(), text[-1500:]


def test_a_class_runs_through_the_hub(released: Hub) -> None:
    t0 = time.perf_counter()
    students = [released.user(n) for n in STUDENTS]
    teacher = released.user("instructor")
    for student in students:
        fetched = [a for a in student.assignments(COURSE_ID)
                   if a["assignment_id"] == ASSIGNMENT and a["status"] == "fetched"]
        if not fetched:  # student3 may have fetched it in the browser already
            student.assignment_action("fetch", COURSE_ID, ASSIGNMENT)
    released_nb = students[0].contents(NOTEBOOK)["content"]
    students[0].put_notebook(NOTEBOOK, _solved(released_nb, mistake=False))
    students[1].put_notebook(NOTEBOOK, _solved(students[1].contents(NOTEBOOK)["content"], True))
    for student in students:
        student.assignment_action("submit", COURSE_ID, ASSIGNMENT)

    teacher.formgrader("POST", f"assignment/{ASSIGNMENT}/collect")
    for name in STUDENTS:
        teacher.formgrader("POST", f"submission/{ASSIGNMENT}/{name}/autograde")
    teacher.formgrader("POST", f"assignment/{ASSIGNMENT}/generate_feedback")
    teacher.formgrader("POST", f"assignment/{ASSIGNMENT}/release_feedback")

    total, first = _points()
    expected = {"student1": (total, total), "student2": (total - first, total),
                "student3": (0.0, total)}
    submissions = teacher.formgrader("GET", f"submissions/{ASSIGNMENT}")
    scores = {s["student"]: (s["score"], s["max_score"]) for s in submissions}
    assert scores == expected
    # The gradebook itself: three distinct student ids, one submission each.
    from nbgrader.api import Gradebook

    course = released.directory / "home" / "instructor" / "course"
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gradebook:
        ids = sorted(s.id for s in gradebook.students)
        assert ids == list(STUDENTS)
        for name, (score, max_score) in expected.items():
            submission = gradebook.find_submission(ASSIGNMENT, name)
            assert (submission.score, submission.max_score) == (score, max_score)

    feedback = {}
    for student in students:
        student.assignment_action("fetch_feedback", COURSE_ID, ASSIGNMENT)
        folder = student.contents(f"{ASSIGNMENT}/feedback")["content"]
        assert len(folder) == 1
        (html,) = [f for f in student.contents(folder[0]["path"])["content"]
                   if f["name"].endswith(".html")]
        feedback[student.name] = student.contents(html["path"])["content"]
    assert MISTAKE in feedback["student2"]
    assert MISTAKE not in feedback["student1"] and MISTAKE not in feedback["student3"]
    assert "not attempted" in feedback["student3"].lower()
    released.timings["class run (s)"] = time.perf_counter() - t0


# --- red team (issue 29): what one student can do to the class ----------------------------------
def _kernel_run(user: HubUser, code: str) -> str:
    kernel = user.start_kernel()
    try:
        return "".join(user.execute(kernel, code, timeout=120))
    finally:
        user.server("DELETE", f"api/kernels/{kernel}")


def _server_processes(hub: Hub) -> dict[str, psutil.Process]:
    servers = {}
    for proc in psutil.Process(hub.proc.pid).children(recursive=True):
        command = " ".join(_cmdline(proc))
        if "jupyterhub.singleuser" in command:
            try:
                servers[proc.environ().get("JUPYTERHUB_USER", "?")] = proc
            except psutil.NoSuchProcess:
                pass
    return servers


def test_every_server_runs_as_its_own_system_user_never_root(servers: Hub) -> None:
    import pwd

    running = _server_processes(servers)
    assert sorted(running) == sorted(["instructor", *STUDENTS])
    for name, proc in running.items():
        assert proc.uids().real == proc.uids().effective == pwd.getpwnam(name).pw_uid != 0
        assert "--allow-root" not in _cmdline(proc) and "allow_root" not in str(_cmdline(proc))
    # Inside a student's kernel: their own uid, and `id` says so.
    said = _kernel_run(servers.user("student1"),
                       "import os, subprocess\n"
                       "print(os.getuid(), subprocess.run(['id', '-un'], capture_output=True,"
                       " text=True).stdout.strip())")
    uid, name = said.split()
    assert int(uid) == pwd.getpwnam("student1").pw_uid and name == "student1"


def test_class_files_are_not_world_readable(servers: Hub) -> None:
    root = servers.directory
    for name in ["instructor", *STUDENTS]:
        home = root / "home" / name
        assert home.stat().st_mode & 0o777 == 0o700, name
    state = root / "hub"
    assert state.stat().st_uid == 0 and state.stat().st_mode & 0o777 == 0o700
    gradebook = root / "home" / "instructor" / "course"
    assert gradebook.is_relative_to(root / "home" / "instructor")


def test_a_student_kernel_reads_no_token_secret_or_other_home(servers: Hub) -> None:
    """The ``/proc/*/environ`` token read, the cookie secret, solutions, the gradebook,
    another student's home: each is refused to student1's kernel."""
    root = servers.directory
    course = root / "home" / "instructor" / "course"
    code = f"""
import glob, os
tokens = set()
for path in glob.glob('/proc/[0-9]*/environ'):
    try:
        env = open(path, 'rb').read().split(b'\\0')
    except OSError:
        continue
    for item in env:
        if item.startswith(b'JUPYTERHUB_API_TOKEN='):
            tokens.add(item.split(b'=', 1)[1].decode())
print('TOKENS', len(tokens), os.environ.get('JUPYTERHUB_API_TOKEN') in tokens)
for path in {[str(root / "hub" / "jupyterhub_cookie_secret"),
              str(root / "hub" / "passwords.json"),
              str(course / "gradebook.db"), str(course / "source" / ASSIGNMENT),
              str(root / "home" / "student2")]!r}:
    try:
        (os.listdir if os.path.isdir(path) else lambda p: open(p, 'rb').read(1))(path)
        print('READ', path)
    except PermissionError:
        print('DENIED', path)
"""
    said = _kernel_run(servers.user("student1"), code)
    assert "READ" not in said, said
    assert said.count("DENIED") == 5, said
    # Only student1's own processes' environments were readable: its own server's token.
    match = re.search(r"TOKENS (\d+) (\w+)", said)
    assert match and match.group(1) == "1" and match.group(2) == "True", said


def test_a_config_file_cannot_submit_as_another_student(released: Hub) -> None:
    """student1 saves ``nbgrader_config.py`` naming student2 and submits a blank notebook;
    collect and autograde leave student2's work and score as they were."""
    from nbgrader.api import Gradebook

    course = released.directory / "home" / "instructor" / "course"
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gradebook:
        before = gradebook.find_submission(ASSIGNMENT, "student2").score
    mallory = released.user("student1")
    mallory.json("PUT", "api/contents/nbgrader_config.py", json={
        "type": "file", "format": "text",
        "content": "c = get_config()\nc.CourseDirectory.student_id = 'student2'\n"})
    blank = released.user("student3").contents(NOTEBOOK)["content"]  # student3 left it blank
    mine = mallory.contents(NOTEBOOK)["content"]
    try:
        mallory.put_notebook(NOTEBOOK, blank)
        mallory.assignment_action("submit", COURSE_ID, ASSIGNMENT)
        inbound = [p for p in (released.directory / "exchange" / COURSE_ID / "inbound").iterdir()
                   if p.name.startswith("student2+")]
        assert any(p.owner() == "student1" for p in inbound)  # the probe did file it so
        teacher = released.user("instructor")
        teacher.formgrader("POST", f"assignment/{ASSIGNMENT}/collect")
        teacher.formgrader("POST", f"submission/{ASSIGNMENT}/student2/autograde")
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gradebook:
            assert gradebook.find_submission(ASSIGNMENT, "student2").score == before
    finally:
        mallory.server("DELETE", "api/contents/nbgrader_config.py")
        mallory.put_notebook(NOTEBOOK, mine)  # nothing student1 saved is lost


def test_a_student_output_runs_no_script_in_the_formgrader(released: Hub) -> None:
    """student3's answer displays ``<img src=x onerror=…>``; the formgrader's page for it
    carries the text but no handler, under a CSP that forbids inline handlers."""
    teacher = released.user("instructor")
    probe = ("from IPython.display import HTML, display\n"
             "display(HTML('<p>probe-visible</p><img src=x onerror=\"document.title=1\">'))\n")
    _submit_and_grade(released, "student3", probe)
    (submitted,) = [s for s in teacher.formgrader(
        "GET", f"submitted_notebooks/{ASSIGNMENT}/{ASSIGNMENT}") if s["student"] == "student3"]
    page = teacher.server("GET", f"formgrader/submissions/{submitted['id']}")
    assert page.status_code == 200
    assert "<p>probe-visible</p>" in page.text  # the output, rendered
    assert not re.search(r"<img[^>]*onerror", page.text, re.I)  # without its handler
    csp = page.headers["Content-Security-Policy"]
    assert "script-src-attr 'none'" in csp and "frame-ancestors 'none'" in csp
    from classroom_browser import formgrader_page_in_browser, skip_or_fail_without_chromium

    seen = formgrader_page_in_browser(
        skip_or_fail_without_chromium(), released.url, "instructor",
        released.passwords["instructor"], f"formgrader/submissions/{submitted['id']}")
    assert "probe-visible" in seen["text"]  # the submission is still readable
    assert seen["title"] != "1"  # the sanitized handler never ran
    # and an inline handler that got into the page anyway is blocked by the CSP
    assert seen["injected_ran"] is False and seen["violations"] >= 1


def test_a_login_burst_gets_nowhere_and_takes_no_longer_for_a_known_name(hub: Hub) -> None:
    right = hub.passwords["student3"]
    burst = HubUser(hub.url, "student3", "wrong")
    codes = [burst.login(password=f"wrong-{i}").status_code for i in range(40)]
    assert set(codes) == {403}
    assert burst.login(password=right).status_code == 403  # still waiting: refused unchecked
    deadline = time.monotonic() + 150  # the waits double: 2 s, 4 s, … as the burst went on
    while burst.login(password=right).status_code != 302:
        assert time.monotonic() < deadline, "the right password never worked again"
        time.sleep(1)

    def refusal_seconds(name: str) -> float:
        user = HubUser(hub.url, name, "wrong")
        user.session.get(user.url("hub/login"), timeout=30)
        t0 = time.perf_counter()
        assert user.login().status_code == 403
        return time.perf_counter() - t0

    known = sorted(refusal_seconds("instructor") for _ in range(3))[1]
    unknown = sorted(refusal_seconds(f"nobody{i}") for i in range(3))[1]
    assert unknown > 0.5 * known, (known, unknown)  # hashed too: not 10 times quicker
    assert HubUser(hub.url, "instructor", hub.passwords["instructor"]).login().status_code == 302


def test_a_saved_cookie_stops_working_after_logout(hub: Hub) -> None:
    user = HubUser(hub.url, "student2", hub.passwords["student2"])
    assert user.login().status_code == 302
    saved = requests.utils.dict_from_cookiejar(user.session.cookies)
    assert user.session.get(user.url("hub/api/user"), timeout=30).status_code == 200
    user.session.get(user.url("hub/logout"), timeout=120)
    replay = requests.Session()
    replay.trust_env = False
    replay.cookies.update(saved)
    answer = replay.get(user.url("hub/api/user"), timeout=30)
    assert answer.status_code == 403, answer.text[:200]


# --- the grading sandbox (issue 29): what a submission can do while it is graded ----------------
GRADERS = ("autograd-grader-1", "autograd-grader-2")


def _submit_and_grade(hub: Hub, name: str, code: str, *, feedback: bool = False) -> None:
    """``name`` submits the notebook with ``code`` as its first answer; the instructor
    collects and autogrades it (and makes that student's feedback); what the student had
    saved is put back."""
    student, teacher = hub.user(name), hub.user("instructor")
    if not [a for a in student.assignments(COURSE_ID)
            if a["assignment_id"] == ASSIGNMENT and a["status"] != "released"]:
        student.assignment_action("fetch", COURSE_ID, ASSIGNMENT)
    notebook = student.contents(NOTEBOOK)["content"]
    mine = json.loads(json.dumps(notebook))
    for cell in notebook["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("solution"):
            cell["source"] = code
            break
    try:
        student.put_notebook(NOTEBOOK, notebook)
        student.assignment_action("submit", COURSE_ID, ASSIGNMENT)
        teacher.formgrader("POST", f"assignment/{ASSIGNMENT}/collect")
        teacher.formgrader("POST", f"submission/{ASSIGNMENT}/{name}/autograde")
        if feedback:
            teacher.formgrader("POST", f"assignment/{ASSIGNMENT}/{name}/generate_feedback")
    finally:
        student.put_notebook(NOTEBOOK, mine)


def _graded(hub: Hub, name: str, code: str) -> tuple[dict, str]:
    """:func:`_submit_and_grade` with feedback: (the autograded notebook, the feedback
    HTML)."""
    _submit_and_grade(hub, name, code, feedback=True)
    course = hub.directory / "home" / "instructor" / "course"
    graded = json.loads((course / "autograded" / name / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
                        .read_text(encoding="utf-8"))
    (html,) = (course / "feedback" / name / ASSIGNMENT).glob("*.html")
    return graded, html.read_text(encoding="utf-8")


def _answer_output(notebook: dict) -> str:
    """What the first answer cell printed (its streams and errors)."""
    for cell in notebook["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("solution"):
            return "".join("".join(o.get(key, "")) for o in cell.get("outputs", [])
                           for key in ("text", "ename", "evalue"))
    raise AssertionError("no answer cell")


def _grader_processes() -> list[int]:
    from autograd_lab_course.grading.sandbox import GradingUser, processes_of

    return [pid for name in GRADERS for pid in processes_of(GradingUser.named(name).uid)]


def test_a_graded_submission_runs_as_a_grading_user_and_reads_nothing_of_the_instructor(
        released: Hub) -> None:
    """The probe reads the gradebook, the source with the hidden tests, another student's
    submission and the instructor's home: a PermissionError each, in its feedback too."""
    import pwd

    course = released.directory / "home" / "instructor" / "course"
    paths = [str(course / "gradebook.db"), str(course / "source" / NOTEBOOK),
             str(course / "submitted" / "student1" / NOTEBOOK),
             str(released.directory / "home" / "instructor"),
             str(released.directory / "home" / "student1")]
    code = f"""import os, subprocess
said = subprocess.run(['id', '-u'], capture_output=True, text=True).stdout.strip()
print('UID', os.getuid(), said)
for path in {paths!r}:
    try:
        print('READ', path, (os.listdir if os.path.isdir(path) else lambda p: open(p).read())(path))
    except OSError as error:
        print(type(error).__name__, path)
"""
    graded, feedback = _graded(released, "student3", code)
    said = _answer_output(graded)
    uid, id_u = re.search(r"UID (\d+) (\d+)", said).groups()  # type: ignore[union-attr]
    graders = {pwd.getpwnam(name).pw_uid for name in GRADERS}
    assert int(uid) == int(id_u) and int(uid) in graders, said
    assert int(uid) not in (0, pwd.getpwnam("instructor").pw_uid)
    assert "READ" not in said and said.count("PermissionError") == len(paths), said
    assert feedback.count("PermissionError") >= len(paths)
    hidden = [line.strip() for cell in _source_cells().values()
              for block in "".join(cell["source"]).split("### BEGIN HIDDEN TESTS")[1:]
              for line in block.split("### END HIDDEN TESTS")[0].splitlines() if line.strip()]
    assert hidden and not any(line in said for line in hidden)  # no hidden test came back


def test_grading_leaves_no_process_no_startup_file_and_survives_a_fork_bomb(
        released: Hub) -> None:
    """The probe writes an IPython start-up file, starts ``sleep 600`` in a session of its
    own and a fork bomb, and allocates 10 GB: the limits stop the bomb and the allocation,
    nothing of it runs once its grading ended, and student1's correct work, graded next,
    gets every point."""
    marker = "SABOTAGED-" + os.urandom(4).hex()
    code = f"""import os, subprocess, sys, time
startup = os.path.join(os.environ['IPYTHONDIR'], 'profile_default', 'startup')
os.makedirs(startup, exist_ok=True)
with open(os.path.join(startup, '00-sabotage.py'), 'w') as f:
    f.write("print({marker!r})\\n")
print('STARTUP', os.path.join(startup, '00-sabotage.py'))
print('SLEEPER', subprocess.Popen(['sleep', '600'], start_new_session=True).pid)
bomb = ("import os\\nwhile True:\\n    try:\\n        os.fork()\\n"
        "    except OSError:\\n        pass\\n")
subprocess.Popen([sys.executable, '-c', bomb], start_new_session=True)
time.sleep(1.5)
try:
    blob = bytearray(10 * 10**9)
    print('ALLOCATED')
except MemoryError:
    print('MemoryError')
"""
    graded, _ = _graded(released, "student3", code)
    said = _answer_output(graded)
    assert "MemoryError" in said and "ALLOCATED" not in said, said
    sleeper = int(re.search(r"SLEEPER (\d+)", said).group(1))  # type: ignore[union-attr]
    startup = Path(re.search(r"STARTUP (\S+)", said).group(1))  # type: ignore[union-attr]
    assert not _alive_pid(sleeper)
    assert _grader_processes() == []
    assert not startup.exists()  # its folder is gone with the kernel
    assert list((released.directory / "grading" / "kernels").iterdir()) == []
    teacher = released.user("instructor")
    teacher.formgrader("POST", f"submission/{ASSIGNMENT}/student1/autograde")
    scores = {s["student"]: s["score"] for s in teacher.formgrader("GET",
                                                                   f"submissions/{ASSIGNMENT}")}
    assert scores["student1"] == _points()[0]
    course = released.directory / "home" / "instructor" / "course"
    assert marker not in (course / "autograded" / "student1" / ASSIGNMENT /
                          f"{ASSIGNMENT}.ipynb").read_text(encoding="utf-8")


def _alive_pid(pid: int) -> bool:
    try:
        return _alive(psutil.Process(pid))
    except psutil.NoSuchProcess:
        return False


def test_a_student_cannot_use_the_grading_socket(servers: Hub) -> None:
    socket_path = servers.directory / "grading" / "sandbox.sock"
    assert socket_path.stat().st_mode & 0o777 == 0o600
    said = _kernel_run(servers.user("student1"), f"""import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect({str(socket_path)!r})
    print('CONNECTED')
except OSError as error:
    print(type(error).__name__)
""")
    assert said.strip() == "PermissionError", said


def test_sigterm_stops_the_hub_the_proxy_and_every_server(hub: Hub) -> None:
    tree = psutil.Process(hub.proc.pid).children(recursive=True)
    commands = [" ".join(_cmdline(p)) for p in tree]
    assert any("configurable-http-proxy" in c for c in commands)
    t0 = time.perf_counter()
    hub.proc.send_signal(signal.SIGTERM)
    assert hub.proc.wait(timeout=90) == 0
    hub.timings["stop (s)"] = time.perf_counter() - t0
    deadline = time.monotonic() + 15  # a process SIGTERMed last may still be exiting
    while [p for p in tree if _alive(p)] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [(p.pid, _cmdline(p)) for p in tree if _alive(p)] == []
    port = int(hub.url.rsplit(":", 1)[1].strip("/"))
    with pytest.raises(requests.ConnectionError):
        requests.get(hub.url, timeout=5, proxies={"http": "", "https": ""})
    assert port
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "timings.json").write_text(
        json.dumps({k: round(v, 1) for k, v in hub.timings.items()}, indent=1) + "\n"
    )

