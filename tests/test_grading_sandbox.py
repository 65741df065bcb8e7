"""The grading sandbox's OS-level parts, without a hub or a kernel (issue 29, point 3):
the privilege drop, the limits, kill_all, the copy read with the instructor's rights, the
socket only the instructor may open. Most need root (CI runs as root); each forks a child
that becomes a throw-away system user made for this test.
"""

from __future__ import annotations

import errno
import json
import os
import pwd
import resource
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from autograd_lab_course.grading.sandbox import (
    LIMITS,
    GradingUser,
    SandboxError,
    apply_limits,
    drop_privileges,
    kernel_env,
    kill_all,
    make_sandbox,
    processes_of,
    read_submission,
    write_tree,
)
from autograd_lab_course.grading.sandbox_client import SOCKET_ENV, sandbox_forker
from autograd_lab_course.grading.sandbox_service import Service, bind_socket, peer_uid

#: Lower limits the fork-bomb test sets itself (below LIMITS' own, which it checks as applied).
TEST_NPROC = 16
TEST_FSIZE = 2**20

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="the privilege drop needs root")


def _make_user(name: str) -> GradingUser:
    subprocess.run(["userdel", name], capture_output=True, check=False)
    subprocess.run(["useradd", "--no-create-home", "--home-dir", "/nonexistent",
                    "--user-group", "--shell", "/bin/sh", name], check=True,
                   capture_output=True)
    return GradingUser.named(name)


@pytest.fixture(scope="module")
def users() -> Iterator[tuple[GradingUser, GradingUser]]:
    """(a grading user, an instructor), made for this module and deleted after it."""
    if os.geteuid() != 0:
        pytest.skip("making users needs root")
    names = (f"agl-sbx-g{os.getpid()}", f"agl-sbx-i{os.getpid()}")
    made = tuple(_make_user(name) for name in names)
    yield made  # type: ignore[misc]
    for user in made:
        kill_all(user.uid)
        subprocess.run(["userdel", user.name], capture_output=True, check=False)


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A folder other users can pass through (pytest's own is under a 0700 folder)."""
    folder = Path(tempfile.mkdtemp(prefix="agl-sandbox-test-", dir="/tmp"))
    os.chmod(folder, 0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _in_child(body: Callable[[], object]) -> tuple[object, int]:
    """Run ``body`` in a forked child; (what it returned, JSON, or the error's text; the
    child's wait status)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        try:
            result = {"ok": body()}
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            result = {"error": f"{type(exc).__name__}: {exc}"}
        os.write(write_end, json.dumps(result).encode() + b"\n")
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as replies:
        data = replies.readline()  # not till EOF: the child's own children hold the pipe too
    _, status = os.waitpid(pid, 0)
    return (json.loads(data) if data else None), status


def test_the_kernel_environment_keeps_no_hub_token(tmp_path: Path) -> None:
    env = kernel_env({"JUPYTERHUB_API_TOKEN": "secret", "JPY_API_TOKEN": "secret",
                      "CONFIGPROXY_AUTH_TOKEN": "secret", "PATH": "/usr/bin", "LANG": "C.UTF-8",
                      "JPY_PARENT_PID": "7", "HOME": "/home/instructor"}, tmp_path)
    assert "secret" not in json.dumps(env)
    assert env["PATH"] == "/usr/bin" and env["JPY_PARENT_PID"] == "7"
    assert env["HOME"] == str(tmp_path / "home")
    assert env["IPYTHONDIR"] == str(tmp_path / "home" / ".ipython")
    assert env["TMPDIR"] == str(tmp_path / "tmp")


def test_the_socket_is_named_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SOCKET_ENV, raising=False)
    assert sandbox_forker() is None  # not sandboxed: the local forker, as before
    monkeypatch.setenv(SOCKET_ENV, "/nonexistent/sandbox.sock")
    forker = sandbox_forker()
    assert forker is not None and forker.path == "/nonexistent/sandbox.sock"
    with pytest.raises(RuntimeError, match="cannot be reached"):
        forker.fork(["-f", "x.json"], "/", {})


@root_only
def test_the_privilege_drop_cannot_be_undone(users: tuple[GradingUser, GradingUser]) -> None:
    grader, _ = users

    def body() -> dict:
        drop_privileges(grader)
        try:
            os.setuid(0)
            regained = True
        except PermissionError:
            regained = False
        status = Path("/proc/self/status").read_text()
        no_new = [ln.split()[1] for ln in status.splitlines() if ln.startswith("NoNewPrivs")]
        try:
            Path("/etc/shadow").read_bytes()
            shadow = "read"
        except PermissionError:
            shadow = "denied"
        return {"ids": [*os.getresuid(), *os.getresgid()], "groups": os.getgroups(),
                "regained": regained, "no_new": no_new, "shadow": shadow}

    said, status = _in_child(body)
    assert status == 0 and "ok" in said, said
    result = said["ok"]
    assert result["ids"] == [grader.uid] * 3 + [grader.gid] * 3
    assert result["groups"] == [] and result["regained"] is False
    assert result["no_new"] == ["1"] and result["shadow"] == "denied"


@root_only
def test_the_limits_stop_a_huge_allocation_a_fork_bomb_and_a_big_file(
        users: tuple[GradingUser, GradingUser], open_tmp: Path) -> None:
    grader, _ = users
    sandbox = make_sandbox(open_tmp, grader)

    def body() -> dict:
        apply_limits(LIMITS)
        applied = {name: list(resource.getrlimit(getattr(resource, name))) for name in LIMITS}
        # The bomb and the file meet lower limits set here, by the same mechanism: the real
        # values are checked above (as applied) and the classroom test's fork bomb meets them
        # (tests/test_classroom.py); 256 forks of a torch-importing worker take seconds.
        resource.setrlimit(resource.RLIMIT_NPROC, (TEST_NPROC, TEST_NPROC))
        resource.setrlimit(resource.RLIMIT_FSIZE, (TEST_FSIZE, TEST_FSIZE))
        drop_privileges(grader)
        try:
            bytearray(10 * 10**9)
            allocation = "allocated"
        except MemoryError:
            allocation = "MemoryError"
        forked = 0
        for _ in range(2000):  # a fork bomb, counted: each child just waits
            try:
                if os.fork() == 0:
                    time.sleep(600)
                    os._exit(0)
            except BlockingIOError:
                break
            forked += 1
        try:
            with open(sandbox / "tmp" / "big", "wb") as file:
                file.write(b"\0" * (TEST_FSIZE + 1))
            written = "written"
        except OSError as exc:
            written = errno.errorcode[exc.errno]
        return {"applied": applied, "allocation": allocation, "forked": forked,
                "written": written}

    said, status = _in_child(body)
    assert status == 0 and "ok" in said, said
    result = said["ok"]
    assert result["applied"] == {name: list(limit) for name, limit in LIMITS.items()}
    assert result["allocation"] == "MemoryError"
    assert 0 < result["forked"] < TEST_NPROC
    assert result["written"] == "EFBIG"
    assert len(processes_of(grader.uid)) == result["forked"]
    assert kill_all(grader.uid) == [] and processes_of(grader.uid) == []


@root_only
def test_the_cpu_limit_ends_a_process_that_computes_too_long(
        users: tuple[GradingUser, GradingUser]) -> None:
    grader, _ = users

    def body() -> None:
        apply_limits({"RLIMIT_CPU": (1, 2)})
        drop_privileges(grader)
        while True:
            pass

    t0 = time.perf_counter()
    _, status = _in_child(body)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGXCPU
    assert time.perf_counter() - t0 < 30


@root_only
def test_kill_all_ends_processes_in_sessions_of_their_own(
        users: tuple[GradingUser, GradingUser]) -> None:
    grader, _ = users
    own_session = subprocess.Popen(["sleep", "600"], user=grader.uid, group=grader.gid,
                                   extra_groups=[], start_new_session=True)
    subprocess.run(["sh", "-c", "setsid sleep 600 >/dev/null 2>&1 &"], user=grader.uid,
                   group=grader.gid, extra_groups=[], check=True)  # an orphan, reparented
    deadline = time.monotonic() + 10
    while len(processes_of(grader.uid)) < 2:
        assert time.monotonic() < deadline, processes_of(grader.uid)
        time.sleep(0.05)
    assert kill_all(grader.uid) == []
    assert processes_of(grader.uid) == []
    assert own_session.wait(timeout=10) == -signal.SIGKILL


@root_only
def test_the_copy_is_read_with_the_instructor_rights(
        users: tuple[GradingUser, GradingUser], open_tmp: Path) -> None:
    grader, instructor = users
    os.chmod(open_tmp, 0o755)
    folder = open_tmp / "submitted"
    (folder / "data").mkdir(parents=True)
    (folder / "answer.ipynb").write_text("{}")
    (folder / "data" / "points.csv").write_text("1,2\n")
    secret = open_tmp / "gradebook.db"
    secret.write_text("hidden tests")
    os.chmod(secret, 0o600)  # root's: the instructor cannot read it
    (folder / "gradebook.db").symlink_to(secret)
    connection = folder / "kernel.json"
    connection.write_text('{"key": "k"}')
    for path in (folder, folder / "data", folder / "answer.ipynb",
                 folder / "data" / "points.csv", connection):
        os.lchown(path, instructor.uid, instructor.gid)
    entries, conn = read_submission(folder, connection, instructor.uid)
    assert conn == b'{"key": "k"}'
    assert ("gradebook.db", "link", os.fsencode(secret)) in entries  # a link, not its content
    assert not any(b"hidden tests" in content for _, _, content in entries)
    sandbox = make_sandbox(open_tmp, grader)
    write_tree(entries, sandbox / "work", grader)
    work = sandbox / "work"
    assert (work / "data" / "points.csv").read_text() == "1,2\n"
    assert {p.lstat().st_uid for p in work.rglob("*")} == {grader.uid}
    assert sandbox.stat().st_mode & 0o777 == 0o700
    # What the instructor cannot read, the copy does not get, even though root makes it.
    os.chmod(folder, 0o700)
    os.chown(folder, 0, 0)
    with pytest.raises(SandboxError, match="Cannot read the submission"):
        read_submission(folder, connection, instructor.uid)
    with pytest.raises(SandboxError, match="Cannot read the submission"):
        read_submission(open_tmp, secret, instructor.uid)
    with pytest.raises(SandboxError, match="leaves its folder"):
        write_tree([("../escape", "file", b"x")], work, grader)


@root_only
def test_only_the_instructor_can_use_the_socket(
        users: tuple[GradingUser, GradingUser], open_tmp: Path) -> None:
    grader, instructor = users
    os.chmod(open_tmp, 0o755)
    path = open_tmp / "sandbox.sock"
    server = bind_socket(path, instructor.uid)
    info = path.lstat()
    assert (info.st_uid, info.st_mode & 0o777) == (instructor.uid, 0o600)
    service = Service(server, instructor.uid, [grader], open_tmp)

    def connect_as(user: GradingUser) -> object:
        def body() -> str:
            os.setgroups([])
            os.setgid(user.gid)
            os.setuid(user.uid)
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                conn.connect(str(path))
            except PermissionError:
                return "refused by the file's mode"
            try:
                conn.sendall(b'{"op": "poll", "pid": 1}\n')
                return conn.recv(100).decode() or "closed unanswered"
            except (BrokenPipeError, ConnectionResetError):
                return "closed unanswered"
        return body

    said, _ = _in_child(connect_as(grader))  # a student: another uid
    assert said == {"ok": "refused by the file's mode"}
    os.chmod(path, 0o666)  # were the mode ever wrong, the peer check still refuses

    pid = os.fork()
    if pid == 0:
        said, _ = _in_child(connect_as(grader))
        os._exit(0 if said == {"ok": "closed unanswered"} else 1)
    service.accept()
    assert service.clients == {}
    assert os.waitpid(pid, 0)[1] == 0

    pid = os.fork()
    if pid == 0:
        said, _ = _in_child(connect_as(instructor))
        os._exit(0 if said == {"ok": "{\"running\": false}\n"} else 1)
    service.accept()
    (client,) = service.clients.values()
    assert peer_uid(client.conn) == instructor.uid
    service.serve_client(client)
    assert os.waitpid(pid, 0)[1] == 0
    server.close()
    assert pwd.getpwuid(path.lstat().st_uid).pw_name == instructor.name


def test_a_grading_kernel_without_the_service_is_said_to_be_unsandboxed_once(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from jupyter_client.manager import KernelManager

    from autograd_lab_course.grading import warm_kernels
    from autograd_lab_course.grading.autograde import GRADING_KERNEL
    from autograd_lab_course.grading.sandbox_client import NOT_SANDBOXED

    monkeypatch.setattr(warm_kernels, "_said_not_sandboxed", False)
    said = []
    for name in (GRADING_KERNEL, GRADING_KERNEL, "python3"):
        manager = KernelManager(kernel_name=name)
        provisioner = warm_kernels.WarmProvisioner(kernel_id="k", kernel_spec=manager.kernel_spec,
                                                   parent=manager)
        monkeypatch.setattr(provisioner.log, "warning", said.append)
        provisioner._say_if_not_sandboxed()
    assert said == [NOT_SANDBOXED]
    assert NOT_SANDBOXED.count(". ") == 0 and len(NOT_SANDBOXED) < 200  # one sentence
