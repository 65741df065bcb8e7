"""Free TCP ports on 127.0.0.1 that stay free until the server that was told one binds it.

A port found the usual way (bind to port 0, read the number, close) comes from the
operating system's *ephemeral* range, the same range it hands out to every ``bind(0)`` and
to the local end of every outgoing connection (on Linux ``ip_local_port_range``, by default
32768-60999). Between choosing such a port and a server binding it seconds later, a kernel
starting elsewhere or a browser's connection can take it; the server then cannot listen, and
JupyterHub waits for it until ``Spawner.http_timeout`` (jupyterhub/jupyterhub#3005).

:func:`free_port` therefore picks a random port *below* the ephemeral range (20000 up to
its start), checks that it can be bound, and never hands the same port out twice in one
process. Nothing else on the machine is given such a port unless it asks for it by number.
"""

from __future__ import annotations

import random
import socket
import threading
from pathlib import Path

__all__ = ["ephemeral_range", "free_port", "port_in_use"]

HOST = "127.0.0.1"
LOWEST = 20000  # above the ports services usually ask for by number (8000, 8888, …)
_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_handed_out: set[int] = set()
_lock = threading.Lock()


def ephemeral_range() -> tuple[int, int]:
    """The operating system's ephemeral port range (Linux's default where it cannot be read)."""
    try:
        low, high = (int(part) for part in _RANGE_FILE.read_text().split())
    except (OSError, ValueError):
        return 32768, 60999
    return low, high


def port_in_use(port: int, host: str = HOST) -> bool:
    """True when something already listens on ``host:port`` (or it cannot be bound)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def _os_choice(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _band() -> range:
    """Where :func:`free_port` looks: below the ephemeral range, else above it."""
    low, high = ephemeral_range()
    if low - LOWEST >= 1000:
        return range(LOWEST, low)
    return range(max(high + 1, LOWEST), 65536)


def free_port(host: str = HOST) -> int:
    """A port nothing listens on now and the system will not hand out by itself.

    Chosen at random from 20000 up to the start of :func:`ephemeral_range`, never twice in one
    process; where that band is empty or full, the operating system's choice (``bind`` to 0).
    """
    band = _band()
    rng = random.SystemRandom()
    with _lock:
        for _ in range(200):
            if not band:
                break
            port = rng.choice(band)
            if port not in _handed_out and not port_in_use(port, host):
                _handed_out.add(port)
                return port
        return _os_choice(host)
