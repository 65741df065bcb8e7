"""The classroom test's browser step: a student in headless Chromium, through the hub.

Logs in on the hub's login page, opens nbgrader's Assignments tab (Nbgrader → Assignment List),
fetches the released assignment, opens its notebook from the tab, runs it (Run → Run All
Cells) and returns the text of the first check cell's output. Screenshots go to
``test-artifacts/classroom/`` (git-ignored). Chromium is Debian's (``tests/chromium.py``);
without it the step is skipped, except under ``CI=true`` where it fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chromium import CHROMIUM_ARGS, INSTALL_HINT, find_chromium, in_ci

LONG = 180_000  # ms: a cold JupyterLab and kernel on a busy 2-core machine


def skip_or_fail_without_chromium() -> str:
    """The Chromium to use; skip (developer machine) or fail (CI=true) when there is none."""
    path = find_chromium()
    if path is None:
        message = f"Chromium not installed: classroom browser step skipped ({INSTALL_HINT})"
        if in_ci():
            pytest.fail(message + " but CI=true", pytrace=False)
        pytest.skip(message)
    return path


def run_student_in_browser(
    chromium: str, hub_url: str, name: str, password: str, notebook: str, artifacts: Path
) -> str:
    """Log in as ``name``, fetch through the Assignments tab, run ``notebook``; check output."""
    from playwright.sync_api import sync_playwright

    artifacts.mkdir(parents=True, exist_ok=True)
    assignment = notebook.split("/", 1)[0]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            page.set_default_timeout(60_000)
            shot = 0

            def screenshot(label: str) -> None:
                nonlocal shot
                shot += 1
                page.screenshot(path=str(artifacts / f"{shot:02d}-{label}.png"))

            try:
                page.goto(hub_url + "hub/login", timeout=LONG)
                page.fill("input[name=username]", name)
                page.fill("input[name=password]", password)
                screenshot("login")
                page.click("input[type=submit], button[type=submit]")
                page.wait_for_url(f"**/user/{name}/lab**", timeout=LONG)
                page.wait_for_selector(".jp-LauncherCard, .jp-DirListing-item", timeout=LONG)
                _dismiss(page)
                page.click(".lm-MenuBar-itemLabel:text-is('Nbgrader')")
                menu = page.inner_text(".lm-Menu")
                page.click(".lm-Menu-itemLabel:text-is('Assignment List')")
                assert "Formgrader" not in menu and "Create Assignment" not in menu, menu
                released = page.locator("#released_assignments_list .list_item",
                                        has_text=assignment)
                released.wait_for(timeout=LONG)
                screenshot("assignments-tab")
                released.locator("button:has-text('Fetch')").click()
                fetched = page.locator("#fetched_assignments_list .list_item",
                                       has_text=assignment)
                fetched.first.wait_for(timeout=LONG)
                screenshot("fetched")
                # Expand the fetched assignment and open its notebook from the tab.
                page.locator("#fetched_assignments_list a.assignment-notebooks-link",
                             has_text=assignment).first.click()
                page.locator(f"#fetched_assignments_list a[href='#']:text-is('{assignment}')"
                             ).first.click()
                page.wait_for_selector(
                    f".lm-TabBar-tab.jp-mod-current:has-text('{assignment}.ipynb')", timeout=LONG)
                page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell",
                                       timeout=LONG)
                _dismiss(page)
                page.wait_for_function(
                    "() => /\\|\\s*Idle/.test(document.querySelector('#jp-main-statusbar')"
                    "?.innerText || '')", timeout=LONG)
                page.click(".lm-MenuBar-itemLabel:text-is('Run')")
                page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
                check = page.locator(
                    ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output",
                    has_text="not attempted",
                )
                check.first.wait_for(timeout=LONG)
                text = check.first.inner_text()
                screenshot("check-cell-ran")
                return text
            except Exception:
                screenshot("failure")
                raise
        finally:
            browser.close()


def _dismiss(page: object) -> None:
    """Close a dialog (e.g. kernel selection: accept) or a notification toast if one shows."""
    for _ in range(3):
        dialog = page.query_selector(".jp-Dialog")  # type: ignore[attr-defined]
        if dialog is None:
            break
        accept = dialog.query_selector(".jp-Dialog-button.jp-mod-accept")
        if accept is not None:
            accept.click()
        else:
            page.keyboard.press("Escape")  # type: ignore[attr-defined]
        page.wait_for_timeout(200)  # type: ignore[attr-defined]


def formgrader_page_in_browser(chromium: str, hub_url: str, name: str, password: str,
                               path: str) -> dict[str, object]:
    """Log in as ``name`` and open ``/user/NAME/PATH`` (a formgrader page) in Chromium.

    Returns ``title`` (the page's, after the images had time to fail), ``text`` (its visible
    text), and ``injected_ran`` / ``violations``: an ``<img onerror>`` added to the page by
    script afterwards, as unsanitized output would arrive, and the CSP violations reported.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context().new_page()
            page.set_default_timeout(60_000)
            page.goto(hub_url + "hub/login", timeout=LONG)
            page.fill("input[name=username]", name)
            page.fill("input[name=password]", password)
            page.click("input[type=submit], button[type=submit]")
            page.wait_for_url(f"**/user/{name}/**", timeout=LONG)
            page.goto(hub_url + f"user/{name}/" + path, timeout=LONG)
            page.wait_for_load_state("load", timeout=LONG)
            page.wait_for_timeout(1000)
            title, text = page.title(), page.inner_text("body")
            injected = page.evaluate("""() => new Promise(done => {
                window.__violations = 0;
                document.addEventListener('securitypolicyviolation', () => window.__violations++);
                const holder = document.createElement('div');
                holder.innerHTML = '<img src="x-missing" onerror="window.__ran = true">';
                document.body.appendChild(holder);
                setTimeout(() => done({ran: window.__ran === true,
                                       violations: window.__violations}), 1500);
            })""")
            return {"title": title, "text": text, "injected_ran": injected["ran"],
                    "violations": injected["violations"]}
        finally:
            browser.close()
