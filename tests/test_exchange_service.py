"""The exchange service's rules without a hub: a HubAuth whose ``get_user`` answers from a
table stands in for the hub (tests/test_hub_exchange.py asks a real one). Instructors here
are named (``--instructors``); the hub test covers the hub group."""

from __future__ import annotations

import asyncio
import io
import json
import re
import tarfile
from pathlib import Path
from typing import Any

import pytest
from jupyterhub.services.auth import HubAuth
from tornado.httpclient import AsyncHTTPClient, HTTPResponse
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port

from autograd_lab_course.exchange.service import (
    REFUSALS,
    RULES,
    SERVICE_NAME,
    ExchangeSettings,
    make_app,
)

ACCESS = f"access:services!service={SERVICE_NAME}"
#: token -> what the hub would say about it
MODELS: dict[str, dict[str, Any]] = {
    "t-teacher": {"kind": "user", "name": "teacher", "scopes": [ACCESS]},
    "t-ada": {"kind": "user", "name": "ada", "scopes": [ACCESS]},
    "t-bob": {"kind": "user", "name": "bob", "scopes": [ACCESS]},
    "t-noscope": {"kind": "user", "name": "ada", "scopes": ["users:activity!user=ada"]},
    "t-service": {"kind": "service", "name": "culler", "scopes": [ACCESS]},
}


class TableHubAuth(HubAuth):
    """HubAuth answering from MODELS instead of asking a hub."""

    def get_user(self, handler: Any, *, sync: bool = True) -> Any:
        async def look_up() -> dict[str, Any] | None:
            token = self.get_token(handler, in_cookie=False)
            model = MODELS.get(token)
            return dict(model) if model else None
        return look_up()


def tar_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def untar(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.isreg()}


class Client:
    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}/services/{SERVICE_NAME}/api/"

    async def __call__(self, method: str, path: str, token: str | None = None,
                       body: bytes | None = None) -> HTTPResponse:
        headers = {"Authorization": f"token {token}"} if token else {}
        if body is None and method in ("PUT", "POST"):
            body = b""
        return await AsyncHTTPClient().fetch(self.base + path, method=method, headers=headers,
                                             body=body, raise_error=False)


def run(tmp_path: Path, scenario: Any) -> None:
    """Serve the exchange on a free port and run ``scenario(client, root)``."""
    async def main() -> None:
        settings = ExchangeSettings(root=tmp_path / "store", instructors=frozenset({"teacher"}),
                                    max_bytes=2**20)
        app = make_app(settings, TableHubAuth(api_token="unused",
                                              api_url="http://127.0.0.1:9/hub/api"))
        sock, port = bind_unused_port()
        server = HTTPServer(app)
        server.add_sockets([sock])
        try:
            await scenario(Client(port), settings.root)
        finally:
            server.stop()
    asyncio.run(main())


def message(response: HTTPResponse) -> str:
    return json.loads(response.body)["message"]


def test_every_route_and_method_has_a_rule_and_every_refusal_a_sentence() -> None:
    source = (Path(__file__).resolve().parents[1] / "course" / "autograd_lab_course" /
              "exchange" / "service.py").read_text()
    handlers = re.findall(r'route = "(\w+)"((?:\n(?!class ).*)*)', source)
    served = {(route, verb.upper()) for route, body in handlers if route != "none"
              for verb in re.findall(r"\n    def (get|put|post|delete)\(", body)}
    assert served == set(RULES)
    for key, who in RULES.items():
        if who != "anyone":
            assert REFUSALS[key].endswith(".") and REFUSALS[key].count(". ") == 0, key


def test_tokens_and_scopes(tmp_path: Path) -> None:
    async def scenario(call: Client, root: Path) -> None:
        for token, status in ((None, 401), ("unknown", 401), ("t-noscope", 403),
                              ("t-service", 403)):
            response = await call("GET", "courses/c/assignments", token)
            assert response.code == status, token
            assert message(response).endswith(".")
        who = json.loads((await call("GET", "whoami", "t-teacher")).body)
        assert who == {"name": "teacher", "role": "instructor", "max_upload_bytes": 2**20}
        assert json.loads((await call("GET", "whoami", "t-ada")).body)["role"] == "student"
        response = await call("GET", "elsewhere", "t-ada")
        assert response.code == 404 and message(response) == "there is no such exchange address."
    run(tmp_path, scenario)


def test_students_see_and_fetch_only_their_own(tmp_path: Path) -> None:
    released = {"ps1.ipynb": b'{"cells": []}', "data/x.bin": bytes(range(256))}

    async def scenario(call: Client, root: Path) -> None:
        assert (await call("PUT", "courses/c/assignments/ps1", "t-ada",
                           tar_of(released))).code == 403
        assert (await call("PUT", "courses/c/assignments/ps1", "t-teacher",
                           tar_of(released))).code == 200
        fetched = await call("GET", "courses/c/assignments/ps1", "t-bob")
        assert untar(fetched.body) == released
        for student in ("ada", "bob"):
            work = {"ps1.ipynb": student.encode(), "timestamp.txt": b"1999-01-01"}
            response = await call("POST", "courses/c/submissions/ps1", f"t-{student}",
                                  tar_of(work))
            assert response.code == 200
            stored = json.loads(response.body)
            assert stored["student_id"] == student and stored["timestamp"] != "1999-01-01"
        mine = json.loads((await call("GET", "courses/c/submissions", "t-ada")).body)
        assert [s["student_id"] for s in mine] == ["ada"]
        response = await call("GET", "courses/c/submissions?student=bob", "t-ada")
        assert response.code == 403
        assert message(response) == "you may list only your own submissions."
        inbox = json.loads((await call("GET", "courses/c/inbox/ps1", "t-teacher")).body)
        assert sorted(s["student_id"] for s in inbox) == ["ada", "bob"]
        one = json.loads((await call("GET", "courses/c/inbox/ps1?student=bob", "t-teacher")).body)
        assert [s["student_id"] for s in one] == ["bob"]  # collect for one student
        bob = next(s for s in inbox if s["student_id"] == "bob")
        files = await call("GET", f"courses/c/submissions/ps1/bob/{bob['submission_id']}",
                           "t-teacher")
        got = untar(files.body)
        assert got["ps1.ipynb"] == b"bob" and got["timestamp.txt"].decode() == bob["timestamp"]
        assert (await call("GET", f"courses/c/submissions/ps1/bob/{bob['submission_id']}",
                           "t-ada")).code == 403
        # feedback: for bob's submission, by an instructor, fetched by bob only
        html = {"ps1.html": b"<p>bob 3/5</p>"}
        release = f"courses/c/feedback/ps1/bob?timestamp={bob['timestamp'].replace(' ', '%20')}"
        assert (await call("PUT", release, "t-ada", tar_of(html))).code == 403
        assert (await call("PUT", release, "t-teacher", tar_of(html))).code == 200
        path = f"courses/c/feedback/ps1/bob/{bob['submission_id']}"
        assert untar((await call("GET", path, "t-bob")).body) == html
        response = await call("GET", path, "t-ada")
        assert response.code == 403 and message(response) == "you may fetch only your own feedback."
        assert (await call("DELETE", "courses/c/assignments/ps1", "t-bob")).code == 403
        assert (await call("DELETE", "courses/c/assignments/ps1", "t-teacher")).code == 200
        response = await call("POST", "courses/c/submissions/ps1", "t-ada", tar_of(released))
        assert response.code == 404 and message(response) == "ps1 has not been released in c."
    run(tmp_path, scenario)


@pytest.mark.parametrize("path", ["courses/c%2F..%2Fx/assignments", "courses/.hidden/assignments",
                                  "courses/c/submissions?student=..%2Fbob"])
def test_names_in_paths_are_checked(tmp_path: Path, path: str) -> None:
    async def scenario(call: Client, root: Path) -> None:
        response = await call("GET", path, "t-teacher")
        assert response.code == 400 and "is not a valid" in message(response)
    run(tmp_path, scenario)


def test_an_upload_over_the_cap_is_413_with_one_sentence(tmp_path: Path) -> None:
    async def scenario(call: Client, root: Path) -> None:
        await call("PUT", "courses/c/assignments/ps1", "t-teacher", tar_of({"a": b"a"}))
        response = await call("POST", "courses/c/submissions/ps1", "t-ada",
                              tar_of({"zeros.bin": bytes(2**20 + 1)}))
        assert response.code == 413
        assert message(response) == ("the exchange refused the submission: it is larger "
                                     "than 1 MiB unpacked.")
        assert not (root / "c" / "submitted").exists()
    run(tmp_path, scenario)
