"""Fixtures for the real-browser test: one JupyterLab, one headless Chromium per module.

JupyterLab is started with the launcher ``make lab`` uses
(:func:`autograd_lab_course.lab_launcher.start_lab`)
on a temporary workspace copy of ``notebooks/`` with isolated ``JUPYTER_*`` directories, on a
free loopback port with a token, and is stopped at the end, also when a test fails.

Chromium is Debian's (``tests/chromium.py``: its headless shell, else the full browser;
Playwright cannot download browsers here). Where it is missing the tests are skipped with a
visible reason, except under ``CI=true``, where a missing Chromium fails the run (a failed
install must never land green).
"""

from __future__ import annotations

import json
import os
import re
import statistics
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.chromium import CHROMIUM_ARGS, INSTALL_HINT, find_chromium, in_ci

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "browser"
TIMINGS_FILE = ARTIFACTS / "timings.json"

MISSING_CHROMIUM = f"Chromium not installed: browser test skipped ({INSTALL_HINT})"
#: ``AUTOGRAD_LAB_SCREENSHOTS=1``: a picture of every notebook after Run All and of every widget
#: state the tests reach. Off by default: nothing reads them, and each costs Chromium a layout
#: and an encode of the whole page; a failed test's page is pictured either way.
SCREENSHOTS = os.environ.get("AUTOGRAD_LAB_SCREENSHOTS", "").strip().lower() in {
    "1", "true", "yes"}

_skip_reason: list[str] = []
_outcomes: dict[str, str] = {}
_selection = {"selected": 0, "deselected": 0}


def _is_browser_item(item: Any) -> bool:
    return "tests/browser/" in str(getattr(item, "nodeid", "")).replace("\\", "/")


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """Path of Chromium; skip (developer machine) or fail (CI) when it is missing."""
    path = find_chromium()
    if path is None:
        if in_ci():
            pytest.fail(
                "Chromium not installed but CI=true: the browser test must run in CI "
                f"(.ci/run installs it with {INSTALL_HINT})",
                pytrace=False,
            )
        if MISSING_CHROMIUM not in _skip_reason:
            _skip_reason.append(MISSING_CHROMIUM)
        pytest.skip(MISSING_CHROMIUM)
    return path


class Timings:
    """Collects click→update round-trips and notebook timings; written to timings.json."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.widgets: dict[str, list[float]] = {}
        self.notebooks: dict[str, dict[str, float]] = {}
        self.meta: dict[str, Any] = {}

    def click(self, widget: str, seconds: float) -> None:
        self.widgets.setdefault(widget, []).append(round(seconds * 1000, 1))

    def notebook(self, path: str, **values: float) -> None:
        """Seconds spent on ``path`` by phase (``open_s``, ``run_all_s``, …); adds to earlier
        phases of the same notebook."""
        self.notebooks.setdefault(path, {}).update({k: round(v, 2) for k, v in values.items()})

    def write(self) -> None:
        total = time.perf_counter() - self.started
        data = {
            "started": self.started_at,
            "total_seconds": round(total, 1),
            "tests": dict(_outcomes),
            "all_passed": bool(_outcomes) and all(v == "passed" for v in _outcomes.values()),
            # a partial run (-k, -x stop) does not measure the whole test's duration
            "complete": _selection["deselected"] == 0
            and len(_outcomes) == _selection["selected"],
            "widgets": {
                name: {"median_ms": round(statistics.median(v), 1), "samples_ms": v}
                for name, v in self.widgets.items()
                if v
            },
            "notebooks": self.notebooks,
            **self.meta,
        }
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        TIMINGS_FILE.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def timings() -> Iterator[Timings]:
    record = Timings()
    try:
        yield record
    finally:
        record.write()


@pytest.fixture(scope="module")
def lab(chromium_executable: str, tmp_path_factory: pytest.TempPathFactory,
        timings: Timings) -> Iterator[Any]:
    """JupyterLab via ``make lab``'s launcher on a temporary workspace; stopped at the end."""
    from jlab_driver import LabApi

    from autograd_lab_course.lab_launcher import start_lab

    base = tmp_path_factory.mktemp("browser")
    workspace, isolate = base / "workspace", base / "jupyter"
    token = os.urandom(24).hex()
    t0 = time.perf_counter()
    # port=None: the launcher picks a free loopback port (and retries if it was taken)
    server = start_lab(workspace, port=None, token=token, isolate_dir=isolate)
    try:
        timings.meta["lab_start_seconds"] = round(time.perf_counter() - t0, 2)
        api = LabApi(server.base_url, server.token)
        # What a student would click away once: the news prompt; and cells are kept in
        # the page (no virtual scrolling) so every output can be inspected and screenshot.
        api.put_setting(
            "@jupyterlab/apputils-extension:notification",
            {"fetchNews": "false", "checkForUpdates": False},
        )
        api.put_setting(
            "@jupyterlab/notebook-extension:tracker",
            {"windowingMode": "none", "scrollPastEnd": False},
        )
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def jl(lab: Any, chromium_executable: str, timings: Timings) -> Iterator[Any]:
    """A :class:`jlab_driver.JupyterLabPage` in headless Chromium."""
    from jlab_driver import VIEWPORT, JupyterLabPage
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium_executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            timings.meta["chromium"] = browser.version
            context = browser.new_context(viewport=VIEWPORT)
            context.set_default_timeout(30_000)
            page = context.new_page()
            yield JupyterLabPage(page, lab.base_url, lab.token, ARTIFACTS,
                                 screenshots=SCREENSHOTS)
        finally:
            browser.close()


def pytest_deselected(items: list[Any]) -> None:
    _selection["deselected"] += sum(1 for item in items if _is_browser_item(item))


def pytest_collection_finish(session: pytest.Session) -> None:
    _selection["selected"] = sum(1 for item in session.items if _is_browser_item(item))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    """A failed browser test leaves a picture of the page as it failed
    (``failed-<test>.png``), whether or not :data:`SCREENSHOTS` is on."""
    outcome = yield
    report = outcome.get_result()
    jl = getattr(item, "funcargs", {}).get("jl")
    if report.when != "call" or not report.failed or jl is None:
        return
    name = re.sub(r"[^\w.-]+", "_", item.name)[:120]
    try:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        jl.page.screenshot(path=str(ARTIFACTS / f"failed-{name}.png"), timeout=10_000)
    except Exception:  # noqa: BLE001 - a missing picture must not hide the failure
        pass


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Remember each browser test's outcome (a failed setup counts as failed)."""
    if not _is_browser_item(report):
        return
    name = report.nodeid.split("::", 1)[-1]
    if report.when == "call" or report.outcome != "passed":
        if _outcomes.get(name) not in ("failed",):
            _outcomes[name] = report.outcome


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for reason in _skip_reason:
        terminalreporter.write_sep("-", "browser test")
        terminalreporter.write_line(f"SKIPPED: {reason}", yellow=True, bold=True)
