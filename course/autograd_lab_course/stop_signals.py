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
* :func:`raise_if_stopped`, called between the steps of a long loop (the copy's files) run
  inside :func:`stopped_by_signals`, stops it if a signal came whose ``KeyboardInterrupt``
  was lost. Python runs a signal's handler
  wherever the program is, and drops an exception raised inside a finalizer (a half-used
  generator being closed, a ``__del__``): a handler that ran there stopped nothing. Every
  handler here records its signal first, so the stop still happens, one step later (before
  this, the copy sometimes ran to its end after a SIGTERM in the test suite).
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["STOP_SIGNALS", "raise_if_stopped", "signals_held", "stop_on_terminal_signals",
           "stopped_by_signals"]

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


#: The records of the :func:`stopped_by_signals` blocks open now, innermost last
#: (:func:`raise_if_stopped`); none outlives its block.
_RECORDS: list[dict[str, int]] = []


def _raise_interrupt(record: dict[str, int]) -> Callable[[int, object], None]:
    """A signal handler that records the signal in ``record`` and raises KeyboardInterrupt."""

    def interrupt(signum: int, frame: object) -> None:
        record["signal"] = signum
        raise KeyboardInterrupt

    return interrupt


def _handled_here() -> frozenset[int]:
    """The stop signals to handle: SIGTERM, SIGHUP, and SIGINT unless something other than
    Python's Ctrl-C handler has it (a background job's ignored SIGINT stays ignored)."""
    keep = {signal.SIGINT} if signal.getsignal(signal.SIGINT) is not \
        signal.default_int_handler else set()
    return STOP_SIGNALS - keep


def raise_if_stopped() -> None:
    """Raise KeyboardInterrupt if a stop signal has come during an open
    :func:`stopped_by_signals` block (its own KeyboardInterrupt was then lost in a finalizer;
    see the module's text). Cheap: call it between the steps of a long loop."""
    if any("signal" in record for record in _RECORDS):
        raise KeyboardInterrupt


def _quiet_lost_stops(previous: Callable[[Any], object]) -> Callable[[Any], object]:
    """An ``unraisablehook`` that leaves out a KeyboardInterrupt a finalizer dropped after a
    recorded stop signal (:func:`raise_if_stopped` acts on it), and passes on the rest."""

    def hook(unraisable: Any) -> None:
        if isinstance(unraisable.exc_value, KeyboardInterrupt) and any(
                "signal" in record for record in _RECORDS):
            return
        previous(unraisable)

    return hook


@contextlib.contextmanager
def stopped_by_signals() -> Iterator[dict[str, int]]:
    """SIGTERM and SIGHUP raise KeyboardInterrupt in the block, as Ctrl-C does, so the work
    stops cleanly (``finally`` blocks run). The dict it yields gets the number of the signal
    that stopped it under ``"signal"``, for the exit code (128 + it). Inside the block,
    :func:`raise_if_stopped` raises once a stop signal has come, and a KeyboardInterrupt a
    finalizer drops after one is not printed. Off the main thread, where Python cannot set
    handlers, the block runs unchanged."""
    stopped: dict[str, int] = {}
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for number in _handled_here():
            previous[number] = signal.signal(number, _raise_interrupt(stopped))
    hook = sys.unraisablehook
    _RECORDS.append(stopped)
    sys.unraisablehook = _quiet_lost_stops(hook)
    try:
        yield stopped
    finally:
        sys.unraisablehook = hook
        _RECORDS.remove(stopped)
        for number, handler in previous.items():
            signal.signal(number, handler)


def stop_on_terminal_signals() -> dict[str, int]:
    """From now on SIGTERM and SIGHUP stop the process as Ctrl-C does (KeyboardInterrupt);
    the dict returned records which signal came, as :func:`stopped_by_signals` does. (A
    long loop under it runs inside :func:`stopped_by_signals` too, so that
    :func:`raise_if_stopped` sees a lost stop; this process-wide record never counts there.)"""
    stopped: dict[str, int] = {}
    for number in STOP_SIGNALS - {signal.SIGINT}:
        signal.signal(number, _raise_interrupt(stopped))
    return stopped
