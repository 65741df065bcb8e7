"""Ctrl-C, ``kill`` and a closed terminal, for the course's command lines (lab, workspace).

Three signals stop a command: SIGINT (Ctrl-C), SIGTERM (``kill PID``) and SIGHUP (the
terminal closed). Python turns only the first into ``KeyboardInterrupt``; by default the
other two end the process at once, with no ``finally`` run, which is how an interrupted copy
left hidden ``.NAME.xxxx.tmp`` files behind. Here:

* :func:`signals_held` blocks all three for a short critical section (a temporary file
  written, linked into place and removed); one that arrives meanwhile is delivered when the
  section ends.
* :func:`stopped_by_signals` makes SIGTERM and SIGHUP raise ``KeyboardInterrupt`` for a
  block, as Ctrl-C does, and records which signal it was (exit code ``128 + signal``).
* :func:`stop_on_terminal_signals` does the same for the rest of the process (the lab
  launcher, which runs until it is stopped).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator

__all__ = ["STOP_SIGNALS", "signals_held", "stop_on_terminal_signals", "stopped_by_signals"]

#: The signals that stop a command (Windows has only SIGINT and SIGTERM, and no sigmask).
STOP_SIGNALS: frozenset[int] = frozenset(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Block Ctrl-C, SIGTERM and SIGHUP in this thread for the block (POSIX); one that
    arrives meanwhile is delivered as the block ends, after its ``finally`` has run. Keep the
    block short: a file's write, ``fsync`` and link take a few milliseconds."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _raise_interrupt(record: dict[str, int]) -> Callable[[int, object], None]:
    """A signal handler that records the signal in ``record`` and raises KeyboardInterrupt."""

    def interrupt(signum: int, frame: object) -> None:
        record["signal"] = signum
        raise KeyboardInterrupt

    return interrupt


@contextlib.contextmanager
def stopped_by_signals() -> Iterator[dict[str, int]]:
    """SIGTERM and SIGHUP raise KeyboardInterrupt in the block, as Ctrl-C does, so the work
    stops cleanly (``finally`` blocks run). The dict it yields gets the number of the signal
    that stopped it under ``"signal"`` (none for Ctrl-C), for the exit code (128 + it). Off
    the main thread, where Python cannot set handlers, the block runs unchanged."""
    stopped: dict[str, int] = {}
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for number in STOP_SIGNALS - {signal.SIGINT}:
            previous[number] = signal.signal(number, _raise_interrupt(stopped))
    try:
        yield stopped
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def stop_on_terminal_signals() -> dict[str, int]:
    """From now on SIGTERM and SIGHUP stop the process as Ctrl-C does (KeyboardInterrupt);
    the dict returned records which signal came, as :func:`stopped_by_signals` does."""
    stopped: dict[str, int] = {}
    for number in STOP_SIGNALS - {signal.SIGINT}:
        signal.signal(number, _raise_interrupt(stopped))
    return stopped
