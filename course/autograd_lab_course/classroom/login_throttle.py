"""Failed-login throttling: a few free tries, then a wait that doubles with each failure.

Counted per key (the account name, and separately the client's address). After ``free``
failures in a row, the key is locked for ``base * 2**(failures - free)`` seconds (at most
``cap``); a login attempt while locked is refused without checking the password, so a burst
of guesses gets nowhere even when the right password comes last. A success clears the key.
Plain state, driven by a clock that tests pass in.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["LoginThrottle"]


@dataclass
class LoginThrottle:
    """``free`` failures allowed per key, then a doubling lock from ``base`` up to ``cap``."""

    free: int = 5
    base: float = 2.0
    cap: float = 300.0
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, int] = field(default_factory=dict, repr=False)
    _locked_until: dict[str, float] = field(default_factory=dict, repr=False)

    def wait_seconds(self, key: str) -> float:
        """How long ``key`` must still wait before a password is checked (0: check now)."""
        return max(0.0, self._locked_until.get(key, 0.0) - self.clock())

    def failed(self, key: str) -> float:
        """Count a failure for ``key``; the lock it now has (seconds, 0 while tries are free)."""
        count = self._failures.get(key, 0) + 1
        self._failures[key] = count
        if count < self.free:
            return 0.0
        lock = min(self.cap, self.base * 2 ** (count - self.free))
        self._locked_until[key] = self.clock() + lock
        return lock

    def succeeded(self, key: str) -> None:
        """A right password for ``key``: its count starts again."""
        self._failures.pop(key, None)
        self._locked_until.pop(key, None)
