"""autograd_lab_course.lab_launcher: JupyterLab on 127.0.0.1 with a token, on a workspace copy,
stoppable."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograd_lab_course import lab_launcher as lab_module
from autograd_lab_course.lab_launcher import LabError, LabServer, free_port, start_lab
from autograd_lab_course.student_css import MARKER

#: The launcher starts kernels as a student's lab does, not forked (tests/forked_kernels.py):
#: these tests follow a kernel's process from its start to its end.
pytestmark = pytest.mark.usefixtures("usual_kernels")

REPO = Path(__file__).resolve().parents[1]


def _get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    """A plain GET that does not follow redirects."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


START_PAGE = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> LabServer:
    """A lab on port 0 (any free port) whose workspace has a start page."""
    base = tmp_path_factory.mktemp("lab")
    (base / "workspace").mkdir()
    start_page = base / "workspace" / lab_module.START_PAGE
    if not (REPO / "notebooks" / lab_module.START_PAGE).is_file():
        start_page.write_text(json.dumps(START_PAGE), encoding="utf-8")
    server = start_lab(base / "workspace", port=0, isolate_dir=base / "jupyter")
    try:
        yield server
    finally:
        server.stop()


def test_answers_with_token(lab: LabServer) -> None:
    assert lab.base_url == f"http://127.0.0.1:{lab.port}/"
    assert lab.url == f"http://127.0.0.1:{lab.port}/lab?token={lab.token}"
    assert len(lab.token) >= 32
    status, _, body = _get(lab.port, f"/api/status?token={lab.token}")
    assert status == 200
    assert "started" in json.loads(body)


def test_refuses_without_token(lab: LabServer) -> None:
    status, _, _ = _get(lab.port, "/api/status")
    assert status == 403
    status, _, _ = _get(lab.port, "/api/status?token=wrong")
    assert status == 403
    status, headers, _ = _get(lab.port, "/lab")
    assert status == 302 and "/login" in headers["Location"]
    status, _, _ = _get(lab.port, "/api/contents")
    assert status == 403


def test_listens_on_loopback_only(lab: LabServer) -> None:
    """The kernel's socket table: every listener on the lab's port is bound to 127.0.0.1."""
    tables = [Path("/proc/net/tcp"), Path("/proc/net/tcp6")]
    if not tables[0].exists():
        pytest.skip("no /proc/net/tcp on this platform to read listening addresses from")
    listeners = []
    for table in tables:
        if not table.exists():
            continue
        for row in table.read_text().splitlines()[1:]:
            local, state = row.split()[1], row.split()[3]
            address, port_hex = local.rsplit(":", 1)
            if state == "0A" and int(port_hex, 16) == lab.port:  # 0A = LISTEN
                listeners.append(address)
    assert listeners == ["0100007F"]  # 127.0.0.1, little-endian hex; no IPv6 or 0.0.0.0


def test_serves_the_workspace_not_the_repository(lab: LabServer) -> None:
    assert lab.root_dir.name == "workspace"
    assert REPO / "notebooks" not in [lab.root_dir, *lab.root_dir.parents]
    status, _, body = _get(lab.port, f"/api/contents?token={lab.token}")
    assert status == 200
    served = sorted(item["name"] for item in json.loads(body)["content"])
    lessons = {p.name for p in (REPO / "notebooks").glob("*.ipynb")}
    expected = sorted(lessons | {"00_start_here.ipynb"})
    release = REPO / "notebooks" / "exercises" / "release"
    if release.is_dir() and any(p.is_file() for p in release.rglob("*")):
        expected = sorted([*expected, "exercises"])
    assert served == expected


def test_isolated_state_keeps_kernel_and_widgets(lab: LabServer) -> None:
    status, _, body = _get(lab.port, f"/api/kernelspecs?token={lab.token}")
    assert status == 200
    specs = json.loads(body)["kernelspecs"]
    assert "python3" in specs
    assert Path(specs["python3"]["spec"]["argv"][0]).resolve() == Path(sys.executable).resolve()
    status, _, page = _get(lab.port, f"/lab?token={lab.token}")
    assert status == 200
    # The page config lists federated extensions: ipywidgets' lab extension must be there.
    assert b"@jupyter-widgets/jupyterlab-manager" in page
    iso = lab.log_path.parent
    assert list((iso / "runtime").glob("jpserver-*.json")), "runtime files not isolated"


def test_student_lab_hides_nbgrader_teacher_tools(lab: LabServer) -> None:
    """nbgrader is installed (make exercises) but its tools are off in the student's lab."""
    import nbgrader  # noqa: F401 - the premise: it is installed in this environment

    status, _, page = _get(lab.port, f"/lab?token={lab.token}")
    assert status == 200
    start = page.index(b'id="jupyter-config-data"')
    config = json.loads(page[page.index(b">", start) + 1 : page.index(b"</script>", start)])
    assert "@jupyter/nbgrader" in config["disabledExtensions"]
    # no "build recommended" check: a student cannot rebuild JupyterLab
    assert config["buildCheck"] is False and config["buildAvailable"] is False
    status, _, _ = _get(lab.port, f"/formgrader?token={lab.token}")
    assert status == 404
    # the user's own configuration is not touched: the overlay lives beside the server log
    overlay = lab.log_path.parent / "student-config" / "labconfig" / "page_config.json"
    assert overlay.is_file()


def test_student_lab_serves_the_output_wrap_css(lab: LabServer) -> None:
    """JupyterLab's page links custom.css and the server answers with the student CSS (output
    text wraps at spaces); the user's own config dir gets no custom.css from the launcher."""
    status, _, page = _get(lab.port, f"/lab?token={lab.token}")
    assert status == 200 and b"custom/custom.css" in page
    status, _, css = _get(lab.port, f"/custom/custom.css?token={lab.token}")
    assert status == 200
    assert css.decode().startswith(MARKER) and "word-break: normal" in css.decode()
    assert not (lab.log_path.parent / "config" / "custom").exists()  # the user's config dir


def _api_json(lab: LabServer, path: str) -> dict:
    status, _, body = _get(lab.port, f"{path}?token={lab.token}")
    assert status == 200, (path, status)
    return json.loads(body)


def test_token_is_never_on_a_command_line(lab: LabServer) -> None:
    """Every local user can read command lines (ps); the token goes by a private file."""
    if not Path("/proc").is_dir():
        pytest.skip("no /proc to read command lines from")
    assert _processes_mentioning(lab.token) == []
    assert _processes_mentioning(str(lab.root_dir)), "the server's command line was not found"
    iso = lab.log_path.parent
    assert list(iso.glob("token-*")) == []  # the token file is gone once the server read it


def test_port_zero_takes_a_free_port_and_reports_the_real_one(lab: LabServer) -> None:
    assert 0 < lab.port <= 65535
    info = json.loads(
        (lab.log_path.parent / "runtime" / f"jpserver-{lab.process.pid}.json").read_text()
    )
    assert info["port"] == lab.port and _port_open(lab.port)


def test_opens_on_the_start_page(lab: LabServer) -> None:
    assert lab.start_page == "00_start_here.ipynb"
    assert lab.start_url == (
        f"http://127.0.0.1:{lab.port}/lab/tree/00_start_here.ipynb?token={lab.token}"
    )
    # the server was asked to open it: its browser-open file goes to the start page
    opener = lab.log_path.parent / "runtime" / f"jpserver-file-to-run-{lab.process.pid}-open.html"
    assert f"127.0.0.1:{lab.port}/lab/tree/00_start_here.ipynb?token=" in opener.read_text()
    status, _, _ = _get(lab.port, f"/lab/tree/00_start_here.ipynb?token={lab.token}")
    assert status == 200


def test_without_a_start_page_the_lab_opens_on_the_file_browser(tmp_path: Path) -> None:
    command = lab_module._command(0, tmp_path, start_page=None)
    assert not any("file_to_run" in part for part in command)
    server = LabServer(None, 8888, "t0k", tmp_path, tmp_path / "log")  # type: ignore[arg-type]
    assert server.start_url == server.url == "http://127.0.0.1:8888/lab?token=t0k"
    with_page = lab_module._command(0, tmp_path, start_page="00_start_here.ipynb")
    assert f"--ServerApp.file_to_run={tmp_path / '00_start_here.ipynb'}" in with_page


def test_a_closed_notebooks_kernel_shuts_down_and_idle_kernels_are_culled(
    lab: LabServer,
) -> None:
    """Kernels a student leaves behind (13 of them, 3.2 GB, after one walk through the
    course) do not pile up: the settings JupyterLab serves shut a kernel down when its
    notebook closes, and the server culls kernels idle for 30 minutes with no notebook open."""
    from autograd_lab_course.lab_env import KERNEL_IDLE_TIMEOUT

    plugin = "@jupyterlab/notebook-extension:tracker"
    served = _api_json(lab, f"/lab/api/settings/{plugin}")
    assert served["schema"]["properties"]["kernelShutdown"]["default"] is True
    assert KERNEL_IDLE_TIMEOUT == 1800
    # the kernel manager starts its culler (and logs it) with the first kernel
    kernel_id = _api_call(lab, "POST", "/api/kernels", {"name": "python3"})["id"]
    try:
        line = "Culling kernels with idle durations > 1800 seconds at 300 second intervals"
        deadline = time.monotonic() + 30
        while line not in lab.log_tail(400) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert line in lab.log_tail(400)
        assert "Culling kernels even with connected clients" not in lab.log_tail(400)
    finally:
        _api_call(lab, "DELETE", f"/api/kernels/{kernel_id}")


def _api_call(lab: LabServer, method: str, path: str, body: dict | None = None) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", lab.port, timeout=120)
    try:
        conn.request(method, path, body=json.dumps(body) if body is not None else None,
                     headers={"Authorization": f"token {lab.token}"})
        response = conn.getresponse()
        data = response.read()
        assert response.status in (200, 201, 204), (method, path, response.status, data[:200])
        return json.loads(data) if data else {}
    finally:
        conn.close()


def test_student_lab_has_no_news_popup(lab: LabServer) -> None:
    """The per-server overlay sets the default; the user's own settings dirs stay empty."""
    plugin = "@jupyterlab/apputils-extension:notification"
    schema = _api_json(lab, f"/lab/api/settings/{plugin}")["schema"]["properties"]
    assert schema["fetchNews"]["default"] == "false"
    assert schema["checkForUpdates"]["default"] is False
    iso = lab.log_path.parent
    overrides = iso / "student-config" / "labconfig" / "default_setting_overrides.json"
    assert json.loads(overrides.read_text())[plugin]["fetchNews"] == "false"
    assert not any((iso / "config").rglob("*.json"))  # JUPYTER_CONFIG_DIR: untouched


@pytest.mark.parametrize("port", [70000, -1, 65536])
def test_port_out_of_range_fails_at_once(
    port: int, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    start = time.monotonic()
    assert lab_module.main(["--port", str(port), "--workspace", str(tmp_path / "ws")]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"error: The port must be 0 (any free port) or a number from 1 to 65535, not {port}.\n"
    )
    with pytest.raises(LabError, match="from 1 to 65535"):
        start_lab(tmp_path / "ws", port=port, isolate_dir=tmp_path / "jupyter")
    assert time.monotonic() - start < 2
    assert not (tmp_path / "ws").exists() and not (tmp_path / "jupyter").exists()


def _processes_mentioning(text: str) -> list[int]:
    """PIDs whose command line contains ``text`` (Linux /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if text.encode() in cmdline:
                pids.append(int(entry.name))
    return pids


def test_stop_closes_port_and_ends_process_and_kernels(tmp_path: Path) -> None:
    server = start_lab(tmp_path / "ws", isolate_dir=tmp_path / "jupyter")
    runtime = str((tmp_path / "jupyter" / "runtime").resolve())
    with server:
        assert _port_open(server.port)
        pid = server.process.pid
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        conn.request(
            "POST", "/api/kernels", body="{}", headers={"Authorization": f"token {server.token}"}
        )
        assert conn.getresponse().status == 201
        conn.close()
        if Path("/proc").is_dir():  # the kernel's connection file lives in the runtime dir
            deadline = time.monotonic() + 60
            while not _processes_mentioning(runtime) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert _processes_mentioning(runtime), "the kernel did not start"
    assert server.process.poll() is not None
    assert not _port_open(server.port)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    if Path("/proc").is_dir():
        deadline = time.monotonic() + 10
        while _processes_mentioning(runtime) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _processes_mentioning(runtime) == [], "a kernel outlived the server"
    server.stop()  # a second stop is harmless


def test_busy_port_fails_clearly_and_cleans_up(tmp_path: Path) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        with pytest.raises(LabError, match=f"port {port}") as info:
            start_lab(tmp_path / "ws", port=port, isolate_dir=tmp_path / "jupyter")
    assert "already in use" in str(info.value)  # the server log tail is in the message


def test_free_port_is_bindable() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


@pytest.mark.parametrize(
    ("stop_signal", "to_group"),
    # Ctrl-C in a terminal reaches the launcher and JupyterLab (one process group); `kill`
    # and closing the terminal reach the launcher alone.
    [(signal.SIGINT, True), (signal.SIGTERM, False), (signal.SIGHUP, False)],
    ids=["ctrl-c", "sigterm", "sighup"],
)
def test_cli_prints_url_and_stops_jupyterlab_on_signal(
    tmp_path: Path, stop_signal: signal.Signals, to_group: bool
) -> None:
    iso = tmp_path / "jupyter"
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(iso / "config"),
        JUPYTER_RUNTIME_DIR=str(iso / "runtime"),
        JUPYTER_DATA_DIR=str(iso / "data"),
        IPYTHONDIR=str(iso / "ipython"),
        JUPYTERLAB_SETTINGS_DIR=str(iso / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(iso / "workspaces"),
        PYTHONUNBUFFERED="1",
        TMPDIR=str(tmp_path),  # the server log lands here, not in /tmp
    )
    asked = 0 if to_group else free_port()  # 0: any free port, printed
    workspace = tmp_path / "ws"
    cmd = [
        sys.executable,
        "-m",
        "autograd_lab_course.lab_launcher",
        "--no-browser",
        "--port",
        str(asked),
        "--workspace",
        str(workspace),
    ]
    proc = subprocess.Popen(
        cmd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own group, like a shell job: Ctrl-C goes to the group
    )
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 120
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "?token=" in line:
                break
        url = next((ln.strip() for ln in lines if "?token=" in ln), None)
        assert url is not None, "".join(lines) + proc.stderr.read()
        port = int(url.split(":")[2].split("/")[0])
        assert port == asked or (asked == 0 and port > 0)
        has_start_page = (workspace / "00_start_here.ipynb").is_file()
        start = "lab/tree/00_start_here.ipynb" if has_start_page else "lab"
        assert url.startswith(f"http://127.0.0.1:{port}/{start}?token=")
        token = url.split("token=", 1)[1]
        assert not _processes_mentioning(token), "the token is on a command line"
        status, _, _ = _get(port, f"/api/status?token={token}")
        assert status == 200
        assert workspace.is_dir()
        if to_group:
            os.killpg(proc.pid, stop_signal)
        else:
            proc.send_signal(stop_signal)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "Stopped." in out
        assert not _port_open(port)
        runtime = str(iso / "runtime")
        deadline = time.monotonic() + 10
        while _processes_mentioning(runtime) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _processes_mentioning(runtime), "JupyterLab outlived its launcher"
        # the launcher's state folder (TMPDIR/autograd-lab-*: log, overlay) is gone too
        assert not list(tmp_path.glob("autograd-lab-*"))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_browser_is_left_to_jupyter_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--no-browser` reaches the server; otherwise the server opens one (or says it found none)."""
    asked: list[bool] = []

    def fake_serve(root_dir: Path, **kwargs: object) -> LabServer:
        asked.append(bool(kwargs["open_browser"]))
        raise LabError("not starting in this test")

    monkeypatch.setattr(lab_module, "_serve", fake_serve)
    assert lab_module.main(["--workspace", str(tmp_path / "ws")]) == 1
    assert lab_module.main(["--workspace", str(tmp_path / "ws"), "--no-browser"]) == 1
    assert asked == [True, False]
    ws = tmp_path / "ws"
    assert "--no-browser" in lab_module._command(0, ws, open_browser=False)
    assert "--no-browser" not in lab_module._command(0, ws, open_browser=True)


def test_the_workspace_is_copied_once_per_launch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copies: list[str] = []
    real_copy = lab_module.copy_workspace

    def counting_copy(dest: object, **kwargs: object) -> object:
        copies.append(str(dest))
        return real_copy(dest, **kwargs)  # type: ignore[arg-type]

    def fake_serve(root_dir: Path, **kwargs: object) -> LabServer:
        raise LabError("not starting in this test")

    monkeypatch.setattr(lab_module, "copy_workspace", counting_copy)
    monkeypatch.setattr(lab_module, "_serve", fake_serve)
    assert lab_module.main(["--no-browser", "--workspace", str(tmp_path / "ws")]) == 1
    assert copies == [str(tmp_path / "ws")]
    with pytest.raises(LabError):
        start_lab(tmp_path / "ws2")
    assert len(copies) == 2


def test_stop_removes_the_launchers_own_state_folder(tmp_path: Path) -> None:
    state = tmp_path / "autograd-lab-test"
    (state / "student-config").mkdir(parents=True)
    (state / "jupyter-server.log").write_text("log\n")
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    server = LabServer(done, 8888, "t0k", tmp_path, state / "jupyter-server.log",
                       state_dir=state)
    server.stop()
    assert not state.exists()
    kept = tmp_path / "chosen"  # a folder the caller chose (isolate_dir) is not the launcher's
    kept.mkdir()
    LabServer(done, 8888, "t0k", tmp_path, kept / "log").stop()
    assert kept.is_dir()
