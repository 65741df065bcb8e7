"""An HTTP client for one hub account: what the classroom test and benchmarks drive.

:class:`HubUser` logs in through the hub's login form (``POST /hub/login`` with the ``_xsrf``
cookie), asks the hub for an API token (``POST /hub/api/users/NAME/tokens``), starts the
user's server (``POST /hub/api/users/NAME/server``) and then talks to it with that token
through the proxy at ``/user/NAME/``: the Jupyter REST API (contents, sessions, kernels),
nbgrader's Assignments handlers (``assignments``, ``assignments/fetch|submit|fetch_feedback``:
what the Assignments tab calls) and the formgrader's API (``formgrader/api/…``). Everything
goes to the hub's 127.0.0.1 address; nothing uses an HTTP proxy from the environment.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import uuid
from typing import Any

import requests

__all__ = ["HubError", "HubUser"]


class HubError(RuntimeError):
    """The hub or a user's server answered something unexpected."""


class HubUser:
    """One account on the classroom hub (``base_url`` like ``http://127.0.0.1:8000/``)."""

    def __init__(self, base_url: str, name: str, password: str) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.name = name
        self.password = password
        self.session = requests.Session()
        self.session.trust_env = False  # loopback only: never an environment proxy
        self.token: str | None = None
        self.api_session = requests.Session()  # token requests: no cookies, reused connections
        self.api_session.trust_env = False

    # -- the hub ------------------------------------------------------------------------------
    def url(self, path: str) -> str:
        return self.base_url + path.lstrip("/")

    def login(self, password: str | None = None) -> requests.Response:
        """Submit the login form; returns the hub's answer (not following its redirect)."""
        self.session.get(self.url("hub/login"), timeout=30)
        xsrf = self.session.cookies.get("_xsrf", "")
        return self.session.post(
            self.url("hub/login"),
            data={"username": self.name, "password": self.password if password is None
                  else password, "_xsrf": xsrf},
            allow_redirects=False,
            timeout=60,
        )

    def logged_in(self) -> bool:
        return any(c.name.startswith("jupyterhub-hub-login") for c in self.session.cookies)

    def create_token(self, note: str = "classroom client") -> str:
        """A new API token for this user, requested with the login cookie."""
        if not self.logged_in():
            response = self.login()
            if response.status_code != 302:
                raise HubError(f"Login as {self.name} failed ({response.status_code}).")
        response = self.session.post(
            self.url(f"hub/api/users/{self.name}/tokens"),
            json={"note": note, "expires_in": 3600},
            headers={"X-XSRFToken": self.session.cookies.get("_xsrf", "")},
            timeout=30,
        )
        _check(response, "create a token")
        self.token = str(response.json()["token"])
        return self.token

    def _auth(self) -> dict[str, str]:
        if self.token is None:
            self.create_token()
        return {"Authorization": f"token {self.token}"}

    def hub_api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """``/hub/api/<path>`` with this user's token."""
        kwargs.setdefault("timeout", 60)
        return self.api_session.request(method, self.url("hub/api/" + path.lstrip("/")),
                                        headers=self._auth(), **kwargs)

    def start_server(self, timeout: float = 300.0) -> float:
        """Start this user's server and wait until the hub calls it ready; seconds taken.

        Raises :class:`HubError` as soon as the hub gives up on the server (it is then neither
        ready nor pending: the hub's log says why), or after ``timeout`` seconds.
        """
        t0 = time.perf_counter()
        response = self.hub_api("POST", f"users/{self.name}/server")
        if response.status_code not in (201, 202, 400):  # 400: already running
            _check(response, "start the server")
        deadline = time.monotonic() + timeout
        while True:
            model = self.hub_api("GET", f"users/{self.name}").json()
            server = (model.get("servers") or {}).get("") or {}
            if server.get("ready"):
                return time.perf_counter() - t0
            if not server.get("pending"):
                raise HubError(f"The hub gave up starting {self.name}'s server after "
                               f"{time.perf_counter() - t0:.0f} s; its log says why.")
            if time.monotonic() > deadline:
                raise HubError(f"{self.name}'s server was not ready within {timeout:.0f} s.")
            time.sleep(0.5)

    # -- the user's own server ------------------------------------------------------------------
    def server(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """``/user/NAME/<path>`` with this user's token."""
        kwargs.setdefault("timeout", 300)
        return self.server_of(self.name, method, path, **kwargs)

    def server_of(self, owner: str, method: str, path: str, **kwargs: Any) -> requests.Response:
        """``/user/OWNER/<path>`` with this user's token (403 unless OWNER is this user)."""
        kwargs.setdefault("timeout", 60)
        return self.api_session.request(method, self.url(f"user/{owner}/" + path.lstrip("/")),
                                        headers=self._auth(), **kwargs)

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.server(method, path, **kwargs)
        _check(response, f"{method} {path}")
        return response.json() if response.content else None

    def contents(self, path: str) -> dict[str, Any]:
        """A file or notebook model from ``/api/contents`` (with content)."""
        return dict(self.json("GET", "api/contents/" + urllib.parse.quote(path) + "?content=1"))

    def put_notebook(self, path: str, notebook: dict[str, Any]) -> None:
        self.json("PUT", "api/contents/" + urllib.parse.quote(path),
                  json={"type": "notebook", "format": "json", "content": notebook})

    # -- nbgrader: the Assignments tab's handlers ----------------------------------------------
    def assignments(self, course_id: str) -> list[dict[str, Any]]:
        return _value(self.json("GET", "assignments", params={"course_id": course_id}))

    def assignment_action(self, action: str, course_id: str, assignment_id: str) -> Any:
        """``fetch``, ``submit`` or ``fetch_feedback``, as the Assignments tab posts them."""
        return _value(self.json("POST", f"assignments/{action}",
                                json={"course_id": course_id, "assignment_id": assignment_id}))

    # -- nbgrader: the formgrader's API --------------------------------------------------------
    def formgrader(self, method: str, path: str, **kwargs: Any) -> Any:
        data = self.json(method, "formgrader/api/" + path.lstrip("/"), **kwargs)
        if isinstance(data, dict) and data.get("success") is False:
            raise HubError(f"formgrader {path}: {str(data.get('error') or data)[:2000]}")
        return data

    # -- kernels -------------------------------------------------------------------------------
    def start_kernel(self) -> str:
        return str(self.json("POST", "api/kernels", json={"name": "python3"})["id"])

    def execute(self, kernel_id: str, code: str, timeout: float = 300.0) -> list[str]:
        """Run ``code`` in the kernel over its websocket; return its text outputs.

        Raises :class:`HubError` with the traceback if the code raises.
        """
        import websocket  # websocket-client, a Jupyter dependency

        ws_url = self.url(f"user/{self.name}/api/kernels/{kernel_id}/channels")
        ws_url = "ws" + ws_url[len("http"):]
        conn = websocket.create_connection(ws_url, header=[f"Authorization: token {self.token}"],
                                           timeout=timeout, http_no_proxy=["127.0.0.1"])
        msg_id = uuid.uuid4().hex
        conn.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": self.name,
                       "session": uuid.uuid4().hex, "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": False,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
        }))
        outputs: list[str] = []
        error: str | None = None
        replied = idle = False  # done: the shell reply and iopub's idle (either comes first)
        try:
            while True:
                raw = conn.recv()
                if not isinstance(raw, str):
                    continue  # a binary frame: comm/display data with buffers (widgets)
                msg = json.loads(raw)
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind, content = msg["header"]["msg_type"], msg["content"]
                if kind == "stream":
                    outputs.append(content["text"])
                elif kind in ("execute_result", "display_data"):
                    outputs.append(str(content["data"].get("text/plain", "")))
                elif kind == "error":
                    error = "\n".join(content.get("traceback", []))[-2000:]
                elif kind == "execute_reply":
                    replied = True
                elif kind == "status" and content.get("execution_state") == "idle":
                    idle = True  # every output of this request was sent before it
                if replied and idle:
                    break
        finally:
            conn.close()
        if error is not None:
            raise HubError(f"the code raised in {self.name}'s kernel:\n{error}")
        return outputs


def _check(response: requests.Response, what: str) -> None:
    if response.status_code >= 400:
        raise HubError(f"Could not {what}: HTTP {response.status_code} {response.text[:500]}")


def _value(data: Any) -> Any:
    """nbgrader's ``{"success": …, "value": …}`` answers: the value, or HubError."""
    if isinstance(data, dict) and "success" in data:
        if not data["success"]:
            raise HubError(f"nbgrader: {str(data.get('value'))[:2000]}")
        return data.get("value")
    return data
