"""The classroom's safety pieces without a running hub (issue 29): login throttling, system
users, the runtime python, atomic class preparation, the overlays' sanitizing and CSP."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from autograd_lab_course.classroom import hub, system_users
from autograd_lab_course.classroom.cli import main as classroom_main
from autograd_lab_course.classroom.layout import (
    INSTRUCTOR_CSP,
    OWNER_CHECKED_COLLECT,
    ClassroomLayout,
)
from autograd_lab_course.classroom.login_throttle import LoginThrottle
from autograd_lab_course.ports import free_port

ROOT_ONLY = pytest.mark.skipif(not system_users.can_isolate(), reason="needs root (CI is)")


@pytest.fixture
def proxy_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """The proxy lookup answers as if `make classroom` had installed it (make check installs no
    npm tools): the runs using this end with an error about DIR before any proxy would start."""
    monkeypatch.setattr(hub, "find_proxy", lambda: "configurable-http-proxy")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_five_free_tries_then_a_doubling_wait() -> None:
    clock = Clock()
    throttle = LoginThrottle(free=5, base=2.0, cap=10.0, clock=clock)
    assert [throttle.failed("a") for _ in range(4)] == [0.0] * 4
    assert throttle.wait_seconds("a") == 0.0
    assert throttle.failed("a") == 2.0 and throttle.wait_seconds("a") == 2.0
    assert throttle.wait_seconds("b") == 0.0  # keys are apart
    clock.now += 2.0
    assert throttle.wait_seconds("a") == 0.0
    assert throttle.failed("a") == 4.0
    clock.now += 4.0
    assert throttle.failed("a") == 8.0
    clock.now += 8.0
    assert throttle.failed("a") == 10.0  # capped
    throttle.succeeded("a")
    assert throttle.wait_seconds("a") == 0.0 and throttle.failed("a") == 0.0


def test_not_root_refuses_in_one_sentence_without_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(system_users.os, "geteuid", lambda: 1000)
    assert classroom_main(["--port", str(free_port()), "--dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"error: {system_users.SHARED_USER_WARNING}"
    assert err.count(".") == 1 and "--unsafe-shared-user" in err


def test_root_refuses_the_shared_user_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(system_users, "can_isolate", lambda: True)
    monkeypatch.setattr("autograd_lab_course.classroom.hub.can_isolate", lambda: True)
    code = classroom_main(["--port", str(free_port()), "--dir", str(tmp_path),
                           "--unsafe-shared-user"])
    assert code == 1
    assert "leave out --unsafe-shared-user" in capsys.readouterr().err


@ROOT_ONLY
def test_system_users_are_made_locked_down_and_removed(tmp_path: Path) -> None:
    name = "agl-test-29"
    home = tmp_path / "home" / name
    home.mkdir(parents=True)
    (home / "work.ipynb").write_text("{}")
    state = tmp_path / "hub"
    state.mkdir()
    try:
        entry = system_users.ensure_user(name, home)
        assert entry.pw_uid != 0 and entry.pw_gecos == system_users.MARK
        assert system_users.ensure_user(name, home).pw_uid == entry.pw_uid  # reused
        moved = system_users.ensure_user(name, tmp_path / "elsewhere")  # another --dir
        assert moved.pw_dir == str(tmp_path / "elsewhere") and moved.pw_uid == entry.pw_uid
        system_users.ensure_user(name, home)
        system_users.lock_down({name: home}, state)
        assert home.stat().st_mode & 0o777 == 0o700 and home.stat().st_uid == entry.pw_uid
        assert (home / "work.ipynb").stat().st_uid == entry.pw_uid
        assert state.stat().st_mode & 0o777 == 0o700 and state.stat().st_uid == 0
        # Another user cannot list the home.
        probe = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                                "ls", str(home)], capture_output=True, text=True, check=False)
        assert probe.returncode != 0 and "Permission denied" in probe.stderr
    finally:
        assert system_users.remove_users([name]) == [name]
    with pytest.raises(KeyError):
        pwd.getpwnam(name)
    assert (home / "work.ipynb").read_text() == "{}"  # the home stays


@ROOT_ONLY
def test_a_user_the_classroom_did_not_make_is_refused_and_never_removed(tmp_path: Path) -> None:
    with pytest.raises(system_users.SystemUserError, match="not a classroom account"):
        system_users.ensure_user("nobody", tmp_path)
    assert system_users.remove_users(["nobody"]) == []
    assert pwd.getpwnam("nobody")


@ROOT_ONLY
def test_the_runtime_runs_the_course_packages_as_an_unprivileged_user(tmp_path: Path) -> None:
    from autograd_lab_course.classroom.runtime import build_runtime, library_path

    open_folder = Path(tempfile.mkdtemp(prefix="autograd-lab-runtime-", dir="/tmp"))
    os.chmod(open_folder, 0o755)  # pytest's tmp_path is closed to other users
    runtime = open_folder / "runtime"
    python = build_runtime(runtime)
    again = build_runtime(runtime)  # cached: the same interpreter, not rebuilt
    assert again == python
    code = ("import json, os, sys, torch, nbgrader, jupyterhub, autograd_lab, autograd_lab_course;"
            "from jupyter_client.kernelspec import KernelSpecManager as K;"
            "specs = K().get_all_specs();"
            "print(json.dumps([os.getuid(), sys.executable,"
            " {n: s['spec']['argv'][0] for n, s in specs.items()}]))")
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", **({"LD_LIBRARY_PATH": library_path(
        runtime)} if library_path(runtime) else {})}
    done = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                           str(python), "-c", code], capture_output=True, text=True,
                          check=False, cwd="/", env=env)
    assert done.returncode == 0, done.stderr[-800:]
    uid, executable, argv0 = json.loads(done.stdout)
    assert uid == pwd.getpwnam("nobody").pw_uid
    assert executable == str(python)
    assert sorted(argv0) == ["autograd-lab-grading", "python3"]
    assert set(argv0.values()) == {str(python)}  # both start the runtime's interpreter
    # the same interpreter as the course environment (not an older system patch release)
    version = subprocess.run(env=env, args=[str(python), "-c", "import sys; print(sys.version)"],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert version == sys.version
    # nbgrader runs `alembic` from PATH: the runtime's copy starts the runtime's python
    alembic = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                              str(python.parent / "alembic"), "--help"], capture_output=True,
                             text=True, check=False, cwd="/", env=env)
    assert alembic.returncode == 0 and "usage" in alembic.stdout.lower(), alembic.stderr[-300:]
    shutil.rmtree(open_folder)


@ROOT_ONLY
def test_a_dir_other_users_cannot_reach_gets_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], proxy_found: None
) -> None:
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    assert classroom_main(["--port", str(free_port()), "--dir", str(closed / "dir")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: The accounts cannot reach ") and err.count("\n") == 0
    assert "closed to other users" in err


def test_class_prep_repairs_an_empty_copy_and_keeps_saved_work(tmp_path: Path) -> None:
    layout = ClassroomLayout(tmp_path)
    layout.prepare(["student1"])
    home = layout.home("student1")
    lessons = sorted(home.glob("*.ipynb"))
    assert lessons
    lessons[0].write_bytes(b"")  # what a full disk left behind
    saved = json.loads(lessons[1].read_text())
    saved["metadata"]["saved_by_student"] = True
    lessons[1].write_text(json.dumps(saved))
    layout.prepare(["student1"])
    repaired = json.loads(lessons[0].read_text())
    assert repaired["cells"]
    assert (home / (lessons[0].name + ".broken")).read_bytes() == b""
    assert json.loads(lessons[1].read_text())["metadata"]["saved_by_student"] is True
    assert not list(home.glob(".*.tmp"))


@ROOT_ONLY
def test_full_disk_while_preparing_gets_one_sentence_and_no_empty_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], proxy_found: None
) -> None:
    open_folder = Path(tempfile.mkdtemp(prefix="autograd-lab-disk-", dir="/tmp"))
    os.chmod(open_folder, 0o755)
    disk = open_folder / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()[:80]}")
    try:
        code = classroom_main(["--port", str(free_port()), "--dir", str(disk)])
        err = capsys.readouterr().err.strip()
        assert code == 1
        assert err.startswith("error: Cannot prepare the class in ")
        assert "the disk is full" in err and err.count("\n") == 0
        written = [p for p in (disk / "home").rglob("*") if p.is_file()]
        assert written and all(p.stat().st_size > 0 for p in written)
        assert not [p for p in written if p.name.endswith(".tmp")]
    finally:
        subprocess.run(["umount", str(disk)], check=False)
        shutil.rmtree(open_folder)


def test_instructor_overlay_sanitizes_and_forbids_inline_handlers(tmp_path: Path) -> None:
    layout = ClassroomLayout(tmp_path)
    layout.write_overlays(["student1"], isolated=True)
    instructor = layout.config_root / "instructor"
    nbgrader = json.loads((instructor / "nbgrader_config.json").read_text())
    assert nbgrader["HTMLExporter"] == {
        "preprocessors": ["autograd_lab_course.grading.sanitize_outputs.SanitizeOutputs"]}
    assert nbgrader["ExchangeFactory"] == {"collect": OWNER_CHECKED_COLLECT}
    server = json.loads((instructor / "jupyter_server_config.json").read_text())
    csp = server["ServerApp"]["tornado_settings"]["headers"]["Content-Security-Policy"]
    assert csp == INSTRUCTOR_CSP and "script-src-attr 'none'" in csp
    shared = ClassroomLayout(tmp_path / "shared")
    shared.write_overlays(["student1"])
    assert "ExchangeFactory" not in json.loads(
        (shared.config_root / "instructor" / "nbgrader_config.json").read_text())


def test_outputs_lose_scripts_and_handlers_but_keep_their_text() -> None:
    import nbformat

    from autograd_lab_course.grading.sanitize_outputs import SanitizeOutputs

    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [nbformat.v4.new_output("display_data", data={
        "text/html": '<p>probe-visible</p><img src=x onerror="alert(1)"><script>alert(2)'
                     '</script><small title="t" style="color: red">(code)</small>',
        "application/javascript": "alert(3)", "text/plain": "plain"})]
    note = nbformat.v4.new_markdown_cell('# Answer\n<a href="javascript:alert(4)">x</a>'
                                         '<img src="a.png" onload="alert(5)">')
    notebook = nbformat.v4.new_notebook(cells=[cell, note])
    cleaned, _ = SanitizeOutputs().preprocess(notebook, {})
    html = cleaned.cells[0].outputs[0].data["text/html"]
    assert "<p>probe-visible</p>" in html and '<img src="x">' in html
    assert "onerror" not in html and "<script" not in html and "alert(2)" in html  # text kept
    assert '<small title="t" style="color: red;">(code)</small>' in html
    assert "application/javascript" not in cleaned.cells[0].outputs[0].data
    assert cleaned.cells[0].outputs[0].data["text/plain"] == "plain"
    source = cleaned.cells[1].source
    assert source.startswith("# Answer") and "javascript:" not in source
    assert "onload" not in source and '<img src="a.png">' in source
