"""Talking to the ``autograd-lab-exchange`` service from a single-user server.

:class:`ExchangeClient` sends the server's hub token (``$JUPYTERHUB_API_TOKEN``) with every
request and turns every refusal into one sentence (:class:`ExchangeRefused`), e.g. "the
exchange refused the submission: it is larger than 50 MiB; remove large files and submit
again." The service's address: ``$AUTOGRAD_LAB_EXCHANGE_URL`` if set, otherwise the
``/services/autograd-lab-exchange/`` path on the host of ``$JUPYTERHUB_API_URL`` (right when
that URL goes through the hub's proxy, which routes every service's prefix).
"""

from __future__ import annotations

import os
import urllib.parse
from typing import Any

import requests

__all__ = ["URL_ENV", "ExchangeClient", "ExchangeRefused", "default_url"]

URL_ENV = "AUTOGRAD_LAB_EXCHANGE_URL"
SERVICE_PATH = "/services/autograd-lab-exchange/"
#: How each operation is named in a refusal, and the verb to do it again.
AGAIN = {"submission": "submit", "release": "release", "feedback": "release feedback"}


class ExchangeRefused(RuntimeError):
    """The exchange said no (or could not be reached); the message is one sentence."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


def default_url(env: dict[str, str] | None = None) -> str:
    """The service's address from the environment (see the module docstring)."""
    env = os.environ if env is None else env
    if env.get(URL_ENV):
        return env[URL_ENV].rstrip("/") + "/"
    api = urllib.parse.urlsplit(env.get("JUPYTERHUB_API_URL", "http://127.0.0.1:8081/hub/api"))
    return f"{api.scheme}://{api.netloc}{SERVICE_PATH}"


class ExchangeClient:
    """HTTP calls to the service's ``api/`` with the caller's hub token."""

    def __init__(self, url: str, token: str, timeout: float = 120.0) -> None:
        if not token:
            raise ExchangeRefused("no hub token: run this inside your JupyterHub server "
                                  "(JUPYTERHUB_API_TOKEN is not set).")
        self.url = url.rstrip("/") + "/api/"
        self.timeout = timeout
        self.session = requests.Session()
        self.session.trust_env = False  # the service is inside the cluster: no HTTP proxy
        self.session.headers["Authorization"] = f"token {token}"

    def call(self, method: str, path: str, what: str, *, data: bytes | None = None,
             params: dict[str, str] | None = None) -> requests.Response:
        """``method`` on ``api/path``; ExchangeRefused("the exchange refused the WHAT: …")
        unless it succeeded."""
        quoted = "/".join(urllib.parse.quote(part, safe="") for part in path.split("/"))
        try:
            response = self.session.request(method, self.url + quoted, data=data,
                                            params=params, timeout=self.timeout)
        except requests.RequestException:
            raise ExchangeRefused(f"cannot reach the exchange at {self.url[:60]}; try again "
                                  "later or ask your instructor.") from None
        if response.ok:
            return response
        try:
            reason = str(response.json()["message"])
        except (ValueError, KeyError, TypeError):
            reason = f"it answered HTTP {response.status_code}."
        raise ExchangeRefused(self.refusal(what, reason, response.status_code),
                              response.status_code)

    @staticmethod
    def refusal(what: str, reason: str, status: int) -> str:
        """One sentence for a refused ``what``."""
        if status == 413:
            return (f"the exchange refused the {what}: {reason.rstrip('.')}; remove large "
                    f"files and {AGAIN.get(what, 'try')} again.")
        return f"the exchange refused the {what}: {reason}"

    def json(self, method: str, path: str, what: str, **kwargs: Any) -> Any:
        return self.call(method, path, what, **kwargs).json()

    def whoami(self) -> dict[str, Any]:
        """``{"name", "role", "max_upload_bytes"}`` as the service sees this token."""
        return self.json("GET", "whoami", "request")
