"""How every check runs: with gradients on, under a time limit, and never escaping to the cell.

A check calls code the student wrote (a training loop, ``grad_wrt_h``, even ``float()`` of an
answer object), so :func:`run_check` wraps each one:

* **Gradients on, whatever the caller's mode.** The truth is autograd's, so a check called
  inside ``with torch.no_grad():`` or ``torch.inference_mode()`` (exactly what the no_grad
  exercise has students write) runs under ``torch.inference_mode(False)`` and
  ``torch.enable_grad()``: tensors made there are ordinary tensors autograd can use.
* **A time limit**, :data:`TIME_LIMIT` seconds (10 by default; set
  ``autograd_lab.exercises.student_code.TIME_LIMIT = 30`` to change it). Past it the check answers
  "did not finish in 10 s — a loop that never ends?". It uses a POSIX alarm (``SIGALRM``),
  which works where the kernel runs cells: on its main thread. On Windows, and off the main
  thread, there is no alarm: the check runs without a limit and a loop that never ends is
  stopped with Kernel → Interrupt, as any cell is.
* **Nothing escapes.** ``SystemExit`` from student code (``sys.exit()``, ``exit()``) becomes a
  Verdict. ``KeyboardInterrupt`` (Kernel → Interrupt, Ctrl-C) still interrupts.

Like any Python-level timeout, the alarm is delivered between bytecodes: a single C call that
never returns (a gigantic integer power, say) cannot be cut short.
"""

from __future__ import annotations

import contextlib
import functools
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

import torch

from autograd_lab.verdict import Verdict, never_raises, not_attempted, unanswered, wrong

__all__ = [
    "TIME_LIMIT", "TimeLimitExceeded", "checks_function", "gradients_on", "guarded", "run_check",
    "time_limit",
]

#: Seconds a check may spend running student code before it gives up (read at each call).
TIME_LIMIT: float = 10.0

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
    """``check(*args)`` with gradients on and under :data:`TIME_LIMIT`; never raises.

    ``name`` is what the student wrote (``train_fixed``, ``dz_dx``): the messages name it.
    """
    limit = TIME_LIMIT
    try:
        with gradients_on(), time_limit(limit):
            return check(*args)
    except TimeLimitExceeded:
        message = f"{name} did not finish in {limit:g} s — a loop that never ends?"
        return Verdict(False, None, message)
    except SystemExit as exc:
        code = "" if exc.code is None else f"({exc.code!r})"[:40]
        return Verdict(
            False,
            None,
            f"{name} called sys.exit{code}, which would stop the check; remove that call",
        )


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
