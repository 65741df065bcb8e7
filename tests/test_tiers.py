"""The test tiers: markers by file (tiers.TIERS) and the hypothesis profiles."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import tomllib
from hypothesis import settings

from tests import tiers
from tests.tiers import FULL, examples

REPO = Path(__file__).resolve().parents[1]


def test_every_tiered_path_exists_and_every_marker_is_registered() -> None:
    registered = {m.split(":")[0] for m in tomllib.loads(
        (REPO / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["markers"]}
    for path, marks in tiers.TIERS.items():
        assert (REPO / path).exists(), path
        assert "kernels" in marks and set(marks) <= registered


def test_markers_follow_the_file() -> None:
    assert tiers.tier_markers("tests/test_classroom.py::test_x") == ("classroom", "kernels")
    assert tiers.tier_markers("tests/browser/test_browser.py::t[a]") == ("browser", "kernels")
    assert tiers.tier_markers("notebooks/02_chain_rule.ipynb::Cell 3") == (
        "notebooks", "kernels")
    assert tiers.tier_markers("tests/test_notebooks.py::test_x") == ()  # the static half
    assert tiers.tier_markers("tests/test_engine.py::test_x") == ()


def test_this_file_runs_in_the_fast_tier(request: pytest.FixtureRequest) -> None:
    assert request.node.get_closest_marker("kernels") is None


def test_example_counts_scale_with_the_loaded_profile() -> None:
    ratio = settings.default.max_examples / FULL
    assert examples(300) == max(5, int(300 * ratio))
    assert settings.get_profile("full").max_examples == FULL
    assert settings.get_profile("check").max_examples == FULL // 10


@pytest.mark.parametrize(("markexpr", "path", "whole"), [
    ("not kernels", "tests/browser/", True),
    ("not kernels", "tests/test_lab.py", True),
    ("not kernels and not npm", "notebooks/", True),
    ("not kernels and not npm", "notebooks/02_chain_rule.ipynb", True),
    ("not (kernels or npm)", "tests/test_classroom.py", True),
    ("not classroom", "tests/test_classroom.py", True),
    ("not classroom", "tests/test_lab.py", False),  # kernels but not classroom: selected
    ("not kernels or npm", "tests/test_lab.py", False),  # a test there may be marked npm
    ("kernels", "tests/test_lab.py", False),
    ("not kernels", "tests/test_engine.py", False),  # no tier: pytest decides per test
    ("not kernels", "tests/", False),
    ("", "tests/test_lab.py", False),
    ("not kernels(", "tests/test_lab.py", False),  # unreadable: left to pytest
    ("not kernels()", "tests/test_lab.py", False),
])
def test_a_file_is_skipped_whole_only_when_m_deselects_all_its_tests(
        markexpr: str, path: str, whole: bool) -> None:
    assert tiers.deselects_whole_file(markexpr, path) is whole


def test_make_check_leaves_out_the_kernels_and_npm_tiers_only() -> None:
    makefile = (REPO / "Makefile").read_text()
    check = makefile[makefile.index("\ncheck:"):].split("\n\n", 1)[0]
    markexpr = re.search(r'-m "([^"]+)"', check)[1]
    assert "--hypothesis-profile=check" in check
    for marks in [("kernels",), ("npm",), ("notebooks", "kernels"), ("browser", "kernels"),
                  ("classroom", "kernels")]:
        assert tiers.deselects(markexpr, marks), marks
    assert not tiers.deselects(markexpr, ())  # an untiered test runs (or -m decides)
