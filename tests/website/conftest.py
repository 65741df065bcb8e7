"""Fixtures for the course website's browser test: one build, one local server, one Chromium.

The site is built ONCE per test session with ``make site``'s own command
(``python -m tools.build_site``, in a child process) into ``test-artifacts/site/html``, served
by a static file server on a free loopback port (as any static host would serve it), and
opened in Debian's headless Chromium (``tests/chromium.py``; skipped where it is missing,
except under ``CI=true``). Every browser context fails any request outside the site's own
files (Playwright request interception) and records it, with every console error and page
error, in :class:`Visit`.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.chromium import CHROMIUM_ARGS, INSTALL_HINT, find_chromium, in_ci

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "site"
#: The theme's dark mode, as its own toggle stores it (pydata-sphinx-theme's localStorage).
DARK_MODE = "localStorage.setItem('mode', 'dark'); localStorage.setItem('theme', 'dark');"


def build_site(out: Path) -> Path:
    """``python -m tools.build_site --out OUT`` (what ``make site`` runs); fails the test with
    Sphinx's output when the build fails."""
    if out.exists():
        shutil.rmtree(out)
    result = subprocess.run(
        [sys.executable, "-m", "tools.build_site", "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    if result.returncode != 0:
        pytest.fail(f"make site failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}",
                    pytrace=False)
    return out


@pytest.fixture(scope="session")
def site_dir() -> Path:
    """The site, built once per session into ``test-artifacts/site/html``."""
    return build_site(ARTIFACTS / "html")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass


@pytest.fixture(scope="session")
def site_url(site_dir: Path) -> Iterator[str]:
    """The site served on a free loopback port, e.g. ``http://127.0.0.1:PORT/``."""
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    path = find_chromium()
    if path is None:
        message = f"Chromium not installed: site browser test skipped ({INSTALL_HINT})"
        if in_ci():
            pytest.fail(f"{message}, but CI=true: it must run in CI", pytrace=False)
        pytest.skip(message)
    return path


# Module scope, not session: Playwright's sync API keeps an asyncio loop running in this
# thread while it is open, and under pytest-xdist --dist loadfile the same worker goes on to
# other files (asyncio.run() there would fail with "cannot be called from a running loop").
@pytest.fixture(scope="module")
def browser(chromium_executable: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=chromium_executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Visit:
    """One browser context on the site: what it blocked and what the pages logged."""

    context: Any
    base: str
    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    #: per open page, the path it shows now (what its logged errors are reported under)
    showing: dict[Any, str] = field(default_factory=dict)

    def open(self, path: str, page: Any = None) -> Any:
        """``base + path`` loaded, its math typeset and its fonts in; what it logs (console
        errors, page errors, HTTP errors) goes to :attr:`errors`.

        In a new page, or in ``page`` (a page this visit opened): the next page a reader
        opens in the same tab. A loop over many pages passes the last one back: a new tab
        per page costs Chromium a new renderer process each (about twice the CPU of the
        whole loop), and every page is a fresh document either way."""
        if page is None:
            page = self.context.new_page()
            self._record(page)
        self.showing[page] = path
        page.goto(self.base + path, wait_until="load")
        if page.locator("span.math, div.math").count():
            page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise")
            page.evaluate("MathJax.startup.promise.then(() => true)")
        page.evaluate("document.fonts.ready.then(() => true)")
        return page

    def _record(self, page: Any) -> None:
        """Send what ``page`` logs to :attr:`errors`, under the path it shows."""
        def where() -> str:
            return self.showing.get(page, "?")

        page.on("console", lambda m: m.type == "error" and self.errors.append(
            f"{where()}: console: {m.text}"))
        page.on("pageerror", lambda e: self.errors.append(f"{where()}: page error: {e}"))
        page.on("response", lambda r: r.status >= 400 and self.errors.append(
            f"{where()}: HTTP {r.status} for {r.url}"))


#: Where the browser sends every request that is not for the loopback site: a port nothing
#: listens on, so each such request fails in the page.
NO_PROXY = {"server": "http://127.0.0.1:9", "bypass": "127.0.0.1"}


def _visit(browser: Any, base: str, *, dark: bool = False) -> Visit:
    # Outside requests fail at the dead proxy and are recorded from the request events.
    # Not Playwright routing: that pauses every request of every page (the site's own
    # files too) for a round trip through Playwright's driver (measured: a quarter of the
    # CPU of loading the 41 pages).
    context = browser.new_context(viewport={"width": 1280, "height": 900}, proxy=NO_PROXY)
    context.set_default_timeout(30_000)
    visit = Visit(context, base)
    context.on("request", lambda r: r.url.startswith(base) or visit.outside.append(r.url))
    if dark:
        context.add_init_script(DARK_MODE)
    return visit


@pytest.fixture
def visit(browser: Any, site_url: str) -> Iterator[Visit]:
    """A fresh profile (light mode, the default) on the site."""
    v = _visit(browser, site_url)
    try:
        yield v
    finally:
        v.context.close()


@pytest.fixture
def dark_visit(browser: Any, site_url: str) -> Iterator[Visit]:
    """A profile in the theme's dark mode."""
    v = _visit(browser, site_url, dark=True)
    try:
        yield v
    finally:
        v.context.close()
