"""autograd_lab.lab: JupyterLab on 127.0.0.1 with a token, on a workspace copy, stoppable."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import webbrowser
from pathlib import Path

import pytest

from autograd_lab import lab as lab_module
from autograd_lab.lab import LabError, LabServer, free_port, start_lab

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


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> LabServer:
    base = tmp_path_factory.mktemp("lab")
    server = start_lab(base / "workspace", isolate_dir=base / "jupyter")
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
    expected = sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb"))
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
    status, _, _ = _get(lab.port, f"/formgrader?token={lab.token}")
    assert status == 404
    # the user's own configuration is not touched: the overlay lives beside the server log
    overlay = lab.log_path.parent / "student-config" / "labconfig" / "page_config.json"
    assert overlay.is_file()


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
    "stop_signal",
    [signal.SIGINT, signal.SIGTERM, signal.SIGHUP],  # Ctrl-C, `kill`, closing the terminal
    ids=["ctrl-c", "sigterm", "sighup"],
)
def test_cli_prints_url_and_stops_jupyterlab_on_signal(
    tmp_path: Path, stop_signal: signal.Signals
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
    port = free_port()
    workspace = tmp_path / "ws"
    cmd = [
        sys.executable,
        "-m",
        "autograd_lab.lab",
        "--no-browser",
        "--port",
        str(port),
        "--workspace",
        str(workspace),
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 120
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "/lab?token=" in line:
                break
        url = next((ln.strip() for ln in lines if "/lab?token=" in ln), None)
        assert url is not None, "".join(lines) + proc.stderr.read()
        assert url.startswith(f"http://127.0.0.1:{port}/lab?token=")
        token = url.split("token=", 1)[1]
        status, _, _ = _get(port, f"/api/status?token={token}")
        assert status == 200
        assert workspace.is_dir()
        proc.send_signal(stop_signal)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "Stopped." in out
        assert not _port_open(port)
        assert not _processes_mentioning(token), "JupyterLab outlived its launcher"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize(
    ("browser", "expected"),
    [
        (webbrowser.BackgroundBrowser("firefox"), True),
        (webbrowser.GenericBrowser("lynx"), False),  # text browser: would take the terminal
        (None, False),  # webbrowser.get() finds nothing
    ],
)
def test_browser_opened_only_when_one_is_available(
    browser: webbrowser.BaseBrowser | None,
    expected: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fake_get(using: str | None = None) -> webbrowser.BaseBrowser:
        if browser is None:
            raise webbrowser.Error("could not locate runnable browser")
        return browser

    monkeypatch.setattr(webbrowser, "get", fake_get)
    asked: list[bool] = []

    def fake_start(workspace: Path, **kwargs: object) -> LabServer:
        asked.append(bool(kwargs["open_browser"]))
        raise LabError("not starting in this test")

    monkeypatch.setattr(lab_module, "start_lab", fake_start)
    monkeypatch.setattr(lab_module, "copy_workspace", lambda dest: "nothing copied")
    assert lab_module.main(["--workspace", str(tmp_path)]) == 1
    assert lab_module.main(["--workspace", str(tmp_path), "--no-browser"]) == 1
    assert asked == [expected, False]
