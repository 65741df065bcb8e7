"""How every check runs: with gradients on, under a time limit, and never escaping to the cell.

A check calls code the student wrote (a training loop, ``grad_wrt_h``, even ``float()`` of an
answer object), so :func:`run_check` wraps each one:

* **Gradients on, whatever the caller's mode.** The truth is autograd's, so a check called
  inside ``with torch.no_grad():`` or ``torch.inference_mode()`` (exactly what the no_grad
  exercise has students write) runs under ``torch.inference_mode(False)`` and
  ``torch.enable_grad()``: tensors made there are ordinary tensors autograd can use.
* **A time limit the student's code cannot reach**, :data:`TIME_LIMIT` seconds (10 by
  default; set ``autograd_lab.exercises.student_code.TIME_LIMIT = 30`` to change it). Where the
  system can fork (Linux, macOS: every kernel the course runs), the whole check runs in a
  forked copy of the kernel process (:data:`ISOLATED`): the kernel waits for its Verdict
  (sent back through a pipe) and kills the copy at the limit. So nothing the student's code
  does there can defeat the limit: not ``except BaseException:`` around a loop, not
  ``signal.setitimer(signal.ITIMER_REAL, 0)``, not ``os._exit``. An in-process alarm or an
  exception injected from a watchdog thread can both be swallowed by ``except
  BaseException:`` in a loop, which is why the check runs in its own process. The copy
  starts with the kernel's memory as it is, so a check sees the objects it is given; what
  the student's code changes there (a model trained by the check, a global) stays in the
  copy. Past the limit the check answers "did not finish in 10 s — a loop that never
  ends?". Where there is no ``fork`` (Windows) the check runs in the kernel under a POSIX
  alarm if there is one, else unlimited; Kernel → Interrupt stops it, as any cell.
* **Nothing escapes.** ``SystemExit``, ``GeneratorExit`` or any other ``BaseException`` the
  student's code raises becomes a Verdict naming it. ``KeyboardInterrupt`` (Kernel →
  Interrupt, Ctrl-C) still interrupts: the kernel stops waiting, kills the copy and raises it.

Measured on the shared 2-core machine (load 8): in a 260 MB kernel a check took 50 ms of
CPU and 0.19 s of wall time this way, 2 ms and 10 ms in the kernel itself; the fork of the
process is most of it. A watchdog thread injecting an exception instead
(``PyThreadState_SetAsyncExc``) was swallowed 20 times out of 20 by ``except BaseException:``.
"""

from __future__ import annotations

import contextlib
import functools
import os
import pickle
import select
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import torch

from autograd_lab.verdict import Verdict, never_raises, not_attempted, unanswered, wrong

__all__ = [
    "ISOLATED", "TIME_LIMIT", "TimeLimitExceeded", "checks_function", "gradients_on", "guarded",
    "run_check", "time_limit",
]

#: Seconds a check may spend running student code before it gives up (read at each call).
TIME_LIMIT: float = 10.0

#: Run each check in a forked copy of the process, killed at the limit (where ``os.fork``
#: exists). False runs checks in the kernel itself under the alarm, which the student's code
#: can defeat; read at each call.
ISOLATED: bool = hasattr(os, "fork")

_active = threading.local()


class TimeLimitExceeded(BaseException):  # noqa: N818 - reads as what happened
    """Raised inside student code when the time limit runs out.

    A ``BaseException``, so a student's ``except Exception:`` inside the loop cannot swallow it.
    """


def _alarm_available() -> bool:
    return hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[bool]:
    """Raise :class:`TimeLimitExceeded` in the block after ``seconds``; yields whether it can.

    Without ``SIGALRM`` on this thread (Windows, a worker thread) the block runs unlimited and
    the context yields False. A limit inside a limit keeps the outer one.
    """
    if seconds <= 0 or not _alarm_available() or getattr(_active, "on", False):
        yield False
        return

    def on_alarm(signum: int, frame: object) -> None:
        raise TimeLimitExceeded

    previous = signal.signal(signal.SIGALRM, on_alarm)
    _active.on = True
    try:
        signal.setitimer(signal.ITIMER_REAL, seconds)
        yield True
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        _active.on = False
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def gradients_on() -> Iterator[None]:
    """Autograd on, whatever the caller's mode (``no_grad``, ``inference_mode``)."""
    with torch.inference_mode(False), torch.enable_grad():
        yield


def run_check(name: str, check: Callable[..., Verdict], *args: Any) -> Verdict:
    """``check(*args)`` with gradients on and under :data:`TIME_LIMIT`; never raises (but
    lets Kernel → Interrupt through).

    ``name`` is what the student wrote (``train_fixed``, ``dz_dx``): the messages name it.
    """
    limit = TIME_LIMIT
    if ISOLATED and hasattr(os, "fork") and not getattr(_active, "on", False) and limit > 0:
        return _run_in_copy(name, check, args, limit)
    return _run_here(name, check, args, limit)


def _too_slow(name: str, limit: float) -> Verdict:
    return Verdict(False, None, f"{name} did not finish in {limit:g} s — a loop that never ends?")


def _run_here(name: str, check: Callable[..., Verdict], args: tuple[Any, ...],
              limit: float) -> Verdict:
    """The check in this process, under the alarm where there is one."""
    try:
        with gradients_on(), time_limit(limit):
            return check(*args)
    except TimeLimitExceeded:
        return _too_slow(name, limit)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - SystemExit, GeneratorExit, a student's own
        return _escaped(name, exc)


def _escaped(name: str, exc: BaseException) -> Verdict:
    """The Verdict for a BaseException (not an Exception) out of the student's code."""
    if isinstance(exc, SystemExit):
        code = "" if exc.code is None else f"({exc.code!r})"[:40]
        return Verdict(
            False,
            None,
            f"{name} called sys.exit{code}, which would stop the check; remove that call",
        )
    kind = type(exc).__name__[:40]
    return Verdict(False, None, f"{name} raised {kind}, which would stop the check; raise an "
                                "Exception (or nothing) instead")


#: What the copy sends back instead of a Verdict when the student's code raised
#: KeyboardInterrupt: the kernel raises it, as if the cell had been interrupted.
_INTERRUPTED = "KeyboardInterrupt"


def _run_in_copy(name: str, check: Callable[..., Verdict], args: tuple[Any, ...],
                 limit: float) -> Verdict:
    """The check in a forked copy of this process; its Verdict comes back through a pipe.

    The copy is killed (SIGKILL, which no Python code can catch) at the limit, or as soon as
    this process is interrupted.
    """
    for stream in (sys.stdout, sys.stderr):  # nothing printed so far is printed twice
        with contextlib.suppress(Exception):
            stream.flush()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the copy: never returns to the caller
        _copy_main(name, check, args, read_end, write_end)
    os.close(write_end)
    try:
        payload = _wait_for(pid, read_end, limit)
    finally:
        os.close(read_end)
        _end(pid)
    if payload is None:
        return _too_slow(name, limit)
    try:
        result = pickle.loads(payload)
    except Exception:  # noqa: BLE001 - the copy ended before it said anything whole
        result = None
    if result == _INTERRUPTED:
        raise KeyboardInterrupt
    if not isinstance(result, Verdict):
        return Verdict(False, None, f"{name} ended the check's process before it could answer "
                                    "(os._exit or a crash?); remove that call")
    return result


def _copy_main(name: str, check: Callable[..., Verdict], args: tuple[Any, ...],
               read_end: int, write_end: int) -> None:
    """Run in the forked copy: the check, its Verdict pickled into ``write_end``, exit."""
    status = 0
    try:
        os.close(read_end)
        # Interrupt ends the copy at once; the kernel, interrupted too, raises it
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        torch.set_num_threads(1)  # the kernel's thread pool did not survive the fork
        _active.on = True  # a check inside this check runs here, with no limit of its own
        try:
            with gradients_on():
                result: object = check(*args)
        except KeyboardInterrupt:
            result = _INTERRUPTED
        except BaseException as exc:  # noqa: BLE001
            result = _escaped(name, exc)
        for stream in (sys.stdout, sys.stderr):  # what the student's code printed
            with contextlib.suppress(Exception):
                stream.flush()
        try:
            payload = pickle.dumps(result)
        except Exception as exc:  # noqa: BLE001 - a Verdict always pickles; anything else not
            payload = pickle.dumps(Verdict(False, None, f"Cannot check this answer "
                                                        f"({type(exc).__name__})"))
        view = memoryview(payload)
        while view:
            view = view[os.write(write_end, view):]
    except BaseException:  # noqa: BLE001 - the copy must exit whatever happened
        status = 1
    finally:
        os._exit(status)


def _wait_for(pid: int, read_end: int, limit: float) -> bytes | None:
    """Everything the copy writes before it closes the pipe, or None past ``limit`` s."""
    deadline = time.monotonic() + limit
    chunks: list[bytes] = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        ready, _, _ = select.select([read_end], [], [], remaining)
        if ready:
            chunk = os.read(read_end, 1 << 16)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def _end(pid: int) -> None:
    """Kill the copy if it still runs, and reap it (no zombie is left)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def guarded(name: str) -> Callable[[Callable[..., Verdict]], Callable[..., Verdict]]:
    """Decorator: every call of the check goes through :func:`run_check` under ``name``."""

    def wrap(check: Callable[..., Verdict]) -> Callable[..., Verdict]:
        @functools.wraps(check)
        def guarded_check(*args: Any) -> Verdict:
            return run_check(name, check, *args)

        return guarded_check

    return wrap


def checks_function(
    name: str, hint: str, limit: int | None = None
) -> Callable[[Callable[..., Verdict]], Callable[..., Verdict]]:
    """Decorator for the check of a function the student wrote, called ``name``.

    ``...`` or None is "not attempted", anything not callable is ``wrong(hint)``; otherwise the
    check runs :func:`guarded` and :func:`~autograd_lab.verdict.never_raises`
    (``limit`` as there).
    """

    def wrap(check: Callable[..., Verdict]) -> Callable[..., Verdict]:
        safe_check = guarded(name)(never_raises(limit)(check))

        @functools.wraps(check)
        def checked(function: object) -> Verdict:
            if unanswered(function):
                return not_attempted(name)
            if not callable(function):
                return wrong(hint)
            return safe_check(function)

        return checked

    return wrap
