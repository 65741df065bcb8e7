"""Test tiers (see conftest.py): how many examples a property test runs in this tier.

``make test`` loads hypothesis' ``full`` profile (100 examples by default), ``make check`` the
``check`` profile (10): a test that asks for a count of its own scales it by the same ratio,
so ``make check`` tries the same properties with fewer examples and ``make test`` the full
count.
"""

from __future__ import annotations

from hypothesis import settings

#: The example count of the ``full`` profile (conftest.py).
FULL = 100


def examples(full: int) -> int:
    """``full`` in the full tier; scaled with the loaded profile's count otherwise (at least 5)."""
    return max(5, full * settings.default.max_examples // FULL)
