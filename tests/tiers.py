"""Test tiers (see conftest.py): which markers each file's tests get, and how many examples
a property test runs in this tier.

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


#: Markers every test of a file (or of a folder, ending in /) gets: the test tiers.
TIERS: dict[str, tuple[str, ...]] = {
    "notebooks/": ("notebooks", "kernels"),  # nbval's cells and the checks sharing its kernel
    "tests/test_notebooks_execute.py": ("notebooks", "kernels"),
    "tests/test_exercise_notebooks.py": ("notebooks", "kernels"),
    "tests/test_adding_a_lesson.py": ("notebooks", "kernels"),
    "tests/browser/": ("browser", "kernels"),
    "tests/website/": ("browser", "kernels"),  # builds the site, then Chromium
    "tests/test_classroom.py": ("classroom", "kernels"),
    "tests/test_lab.py": ("kernels",),
    "tests/test_warm_kernels.py": ("kernels",),
    "tests/test_grading_rules.py": ("kernels",),  # nbgrader autograde in a temp course
    "tests/test_exercise_limits_kernel.py": ("kernels",),  # checks inside a real ipykernel
}


def tier_markers(nodeid: str) -> tuple[str, ...]:
    """The tier markers of a test by its file (``TIERS``)."""
    path = nodeid.split("::", 1)[0]
    return next((marks for key, marks in TIERS.items()
                 if path == key or (key.endswith("/") and path.startswith(key))), ())
