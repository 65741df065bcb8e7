"""HubUser.start_server against scripted hub answers (the real hub: test_classroom.py)."""

from __future__ import annotations

from typing import Any

import pytest

from autograd_lab_course.classroom.client import HubError, HubUser


class _Answer:
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status_code, self._body = status, body

    def json(self) -> dict[str, Any]:
        return self._body


def _user(models: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> HubUser:
    """A user whose hub accepts the start (202) and then shows ``models`` one GET at a time."""
    user = HubUser("http://127.0.0.1:1/", "student3", "pw")
    answers = iter([_Answer(202, {}), *(_Answer(200, m) for m in models)])
    monkeypatch.setattr(user, "hub_api", lambda method, path, **kw: next(answers))
    monkeypatch.setattr("autograd_lab_course.classroom.client.time.sleep", lambda s: None)
    return user


PENDING = {"servers": {"": {"ready": False, "pending": "spawn"}}}


def test_waits_while_pending_and_returns_when_ready(monkeypatch: pytest.MonkeyPatch) -> None:
    ready = {"servers": {"": {"ready": True, "pending": None}}}
    user = _user([PENDING, PENDING, ready], monkeypatch)
    assert user.start_server(timeout=60) >= 0


def test_a_spawn_the_hub_gave_up_on_fails_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    user = _user([PENDING, {"servers": {}}], monkeypatch)
    with pytest.raises(HubError, match="gave up starting student3's server"):
        user.start_server(timeout=300)


def test_still_pending_at_the_deadline_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    user = _user([PENDING] * 5, monkeypatch)
    with pytest.raises(HubError, match="not ready within 0 s"):
        user.start_server(timeout=0)
