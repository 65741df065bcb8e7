"""Ports chosen for servers stay out of the range the system hands to everything else."""

from __future__ import annotations

import socket

import pytest

from autograd_lab_course import ports
from autograd_lab_course.ports import ephemeral_range, free_port


def test_ephemeral_range_is_read_from_the_system() -> None:
    low, high = ephemeral_range()
    assert 1024 <= low < high <= 65535
    path = ports._RANGE_FILE
    if path.is_file():
        assert (low, high) == tuple(int(p) for p in path.read_text().split())


def test_free_port_is_below_the_ephemeral_range_bindable_and_never_repeated() -> None:
    low, _ = ephemeral_range()
    chosen = [free_port() for _ in range(50)]
    assert len(set(chosen)) == 50
    assert all(ports.LOWEST <= port < low for port in chosen)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", chosen[-1]))  # still free: nothing else was handed it


def test_a_port_in_use_is_not_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        taken = sock.getsockname()[1]
        monkeypatch.setattr(ports, "_band", lambda: range(taken, taken + 1))  # only the taken one
        port = free_port()
        assert port != taken  # the band is full: the operating system's choice instead
        with socket.socket() as other:
            other.bind(("127.0.0.1", port))


def test_without_room_below_the_range_the_port_comes_from_above_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ports, "ephemeral_range", lambda: (20500, 60000))
    assert all(60000 < free_port() <= 65535 for _ in range(10))
