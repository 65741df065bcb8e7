"""The classroom spawner's wait for its server's socket (the whole hub: test_classroom.py)."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time

import psutil
import pytest

from autograd_lab_course.ports import free_port

LISTEN_LATER = """
import socket, sys, time
time.sleep(0.5)
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(30)
"""


@pytest.fixture(scope="module")
def wait_until_listening():
    """hub_plugins' wait, imported when these tests run (not when every worker collects
    them): the module imports jupyterhub (1.3 s), outside the tests' timed waits."""
    from autograd_lab_course.classroom.hub_plugins import wait_until_listening

    return wait_until_listening


def _run(code: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", code, *args])


def test_returns_once_the_process_itself_listens(wait_until_listening) -> None:
    port = free_port()
    with _run(LISTEN_LATER, str(port)) as proc:
        try:
            t0 = time.perf_counter()
            asyncio.run(wait_until_listening(proc, port, "student1's server", interval=0.05))
            assert 0.4 < time.perf_counter() - t0 < 20
            assert proc.poll() is None
        finally:
            proc.kill()


def test_another_program_on_the_port_does_not_count(wait_until_listening) -> None:
    with socket.socket() as other:  # this test's process listens on the port all along
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        with _run("import sys, time; time.sleep(0.5); sys.exit(3)") as proc:
            with pytest.raises(RuntimeError) as error:
                asyncio.run(wait_until_listening(proc, port, "student3's server", interval=0.05))
    assert str(error.value) == f"student3's server exited (code 3) before listening on port {port}."


def test_a_system_that_will_not_list_sockets_leaves_the_wait_to_the_hub(
    monkeypatch: pytest.MonkeyPatch, wait_until_listening,
) -> None:
    def denied(self: psutil.Process, kind: str = "inet") -> list:
        raise psutil.AccessDenied(self.pid)

    monkeypatch.setattr(psutil.Process, "net_connections", denied)
    with _run("import time; time.sleep(30)") as proc:
        try:
            asyncio.run(wait_until_listening(proc, free_port(), "student1's server"))
            assert proc.poll() is None  # returned while the server still starts
        finally:
            proc.kill()
