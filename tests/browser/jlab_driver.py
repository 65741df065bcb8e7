"""Drive JupyterLab 4 in a real browser the way a student does (helpers for the browser test).

Everything here goes through the page (menus, buttons, the status bar) except two things a
student never sees: the notebook's cell tags and the kernel shutdown are read/done through
the Jupyter server's REST API (``/api/contents``, ``/api/sessions``).
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page

VIEWPORT = {"width": 1400, "height": 1000}

#: Bounded waits (ms). Generous: the machine has 2 cores shared with other jobs.
OPEN_TIMEOUT = 90_000
RUN_TIMEOUT = 240_000
SETTLE_TIMEOUT = 30_000
CLICK_TIMEOUT = 30_000
#: Opening a notebook from the menu; on a timeout the page is loaded afresh instead.
IN_APP_TIMEOUT = 15_000
#: Polling interval (ms) of every wait whose timing is not measured. Playwright's default,
#: ``"raf"``, runs the predicate at every animation frame and keeps the renderer producing
#: frames at 60 Hz for the whole wait; :func:`click_and_wait` alone keeps ``"raf"`` (its
#: click→update times must be frame-accurate).
POLL_MS = 100

#: A line of an error output: ``ZeroDivisionError: division by zero``, ``Traceback (most …``,
#: or IPython's ``---- … ValueError    Traceback (most recent call last)`` banner. A stderr
#: warning (``…: UserWarning: careful``) does not match: its first word is the file/category.
ERROR_LINE = re.compile(
    r"^(Traceback \(most recent call last\)"
    r"|[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)(:.*|\s+Traceback.*|\s*)$)",
    re.MULTILINE,
)


# --- REST helpers (the Jupyter server, with the token) ---------------------------------------
class LabApi:
    """Minimal client for the server's REST API (token in the Authorization header)."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.token = token

    def request(self, method: str, path: str, body: Any = None, timeout: float = 30.0) -> Any:
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(
            self.base_url + path.lstrip("/"),
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=timeout) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def contents(self, path: str) -> dict[str, Any]:
        return self.request("GET", "api/contents/" + urllib.parse.quote(path) + "?content=1")

    def put_notebook(self, path: str, notebook: dict[str, Any]) -> None:
        self.request(
            "PUT",
            "api/contents/" + urllib.parse.quote(path),
            {"type": "notebook", "format": "json", "content": notebook},
        )

    def put_setting(self, plugin_id: str, values: dict[str, Any]) -> None:
        """Store user settings the way the Settings editor does (``PUT /lab/api/settings``)."""
        self.request("PUT", f"lab/api/settings/{plugin_id}", {"raw": json.dumps(values)})

    def sessions(self) -> list[dict[str, Any]]:
        return list(self.request("GET", "api/sessions"))

    def kernels(self) -> list[dict[str, Any]]:
        return list(self.request("GET", "api/kernels"))

    def shutdown_kernels_of(self, path: str) -> int:
        """Delete the session(s) of ``path`` (this shuts their kernels down); return how many."""
        n = 0
        for session in self.sessions():
            if session.get("path") == path:
                try:
                    self.request("DELETE", f"api/sessions/{session['id']}")
                    n += 1
                except urllib.error.HTTPError as exc:  # already gone
                    if exc.code != 404:
                        raise
        return n


def cell_tags(notebook_model: dict[str, Any]) -> list[list[str]]:
    """Tags of every cell (markdown and code), in order, from a ``/api/contents`` model."""
    cells = notebook_model["content"]["cells"]
    return [list(c.get("metadata", {}).get("tags", [])) for c in cells]


# --- what a page shows -------------------------------------------------------------------------
@dataclass
class NotebookReport:
    """What the browser saw in one notebook after Run All."""

    path: str
    problems: list[str] = field(default_factory=list)
    text: str = ""
    seconds_open: float = 0.0
    seconds_run: float = 0.0
    n_cells: int = 0
    n_widgets: int = 0
    n_images: int = 0


#: JavaScript: per cell, its prompt, its stderr outputs' text, and widget/image status.
_SCAN_JS = r"""
(panelSel) => {
  const panel = document.querySelector(panelSel);
  if (!panel) return null;
  const cells = [...panel.querySelectorAll('.jp-Notebook .jp-Cell')];
  const out = [];
  for (const c of cells) {
    const code = c.classList.contains('jp-CodeCell');
    const prompt = code ? (c.querySelector('.jp-InputArea-prompt')?.textContent || '').trim() : '';
    const stderr = [...c.querySelectorAll(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
        .map(e => e.innerText);
    const outText = [...c.querySelectorAll('.jp-OutputArea')].map(e => e.innerText).join('\n');
    const imgs = [...c.querySelectorAll('.jp-OutputArea img')];
    out.push({
      code, prompt, stderr,
      text: outText,
      widgets: c.querySelectorAll('.jp-OutputArea .jupyter-widgets').length,
      loading: /Loading widget/i.test(outText),
      widgetError: /Error displaying widget/i.test(outText),
      // ipywidgets' error view (a view failed to render): clicking it reveals the JS error
      viewErrors: [...c.querySelectorAll('.jp-OutputArea .jupyter-widgets-error-widget')]
          .map(e => { e.click(); return e.innerText.split('\n')
              .filter(l => l && !/^\[Open Browser Console/.test(l)).slice(0, 2).join(' / '); }),
      images: imgs.length,
      brokenImages: imgs.filter(i => i.complete && i.naturalWidth === 0).length,
      pendingImages: imgs.filter(i => !i.complete).length,
    });
  }
  return out;
}
"""


class JupyterLabPage:
    """One browser page on one JupyterLab server."""

    def __init__(self, page: Page, base_url: str, token: str, artifacts: Path,
                 screenshots: bool = True) -> None:
        self.page = page
        #: False: :meth:`screenshot_notebook` and :meth:`screenshot_element` take no picture
        #: (pictures nothing reads cost the renderer a layout of the whole page each)
        self.screenshots = screenshots
        self.base_url = base_url.rstrip("/") + "/"
        self.token = token
        self.api = LabApi(base_url, token)
        self.artifacts = artifacts
        #: seconds of the last :meth:`open_notebook` by phase (page, cells shown, kernel Idle)
        self.open_phases: dict[str, float] = {}
        #: indices of the cells of the notebook being run that are tagged raises-exception
        self._expected_errors: list[int] = []

    # -- opening, status ---------------------------------------------------------------------
    def open_notebook(self, path: str, *, reload: bool = False) -> float:
        """Open ``path`` and wait for its kernel to be Idle; returns the seconds it took.

        When the page already shows this JupyterLab with no notebook open, the notebook is
        opened in it as a student opens a second one: File → Open from Path…. Otherwise
        (first notebook, ``reload=True``, or a notebook left open) the page loads
        ``lab/tree/<path>?reset``: JupyterLab afresh, with a fresh workspace layout.
        """
        t0 = time.perf_counter()
        how = "reload" if reload or not self._open_in_app(path) else "in_app"
        if how == "reload":
            url = (
                f"{self.base_url}lab/tree/{urllib.parse.quote(path)}"
                f"?reset&token={urllib.parse.quote(self.token)}"
            )
            self.page.goto(url, wait_until="domcontentloaded", timeout=OPEN_TIMEOUT)
        t1 = time.perf_counter()
        name = path.rsplit("/", 1)[-1]
        self.page.wait_for_selector(
            f".lm-TabBar-tab.jp-mod-current:has-text('{name}')", timeout=OPEN_TIMEOUT
        )
        self.page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell",
                                    timeout=OPEN_TIMEOUT)
        t2 = time.perf_counter()
        self.dismiss_dialogs()
        self.wait_kernel_idle(OPEN_TIMEOUT)
        t3 = time.perf_counter()
        self.open_phases = {f"{how}_s": t1 - t0, "cells_s": t2 - t1, "kernel_s": t3 - t2}
        return t3 - t0

    def _open_in_app(self, path: str) -> bool:
        """File → Open from Path… ``path`` when the page is this server's JupyterLab with no
        notebook open and no dialog up; False (nothing done) if it is not, or if the dialog
        did not go as expected (the caller then loads the page afresh)."""
        if not self.page.url.startswith(self.base_url + "lab"):
            return False
        ready = self.page.evaluate(
            "() => !!document.querySelector('#jp-main-dock-panel')"
            " && !!document.querySelector('.lm-MenuBar-itemLabel')"
            " && !document.querySelector('.jp-NotebookPanel, .jp-Dialog')"
        )
        if not ready:
            return False
        try:
            self.menu("File", "Open from Path…", timeout=IN_APP_TIMEOUT)
            self.page.locator(".jp-Dialog input").fill(path, timeout=IN_APP_TIMEOUT)
            self.page.click(".jp-Dialog .jp-Dialog-button.jp-mod-accept",
                            timeout=IN_APP_TIMEOUT)
            self.page.wait_for_selector(".jp-NotebookPanel", timeout=IN_APP_TIMEOUT)
        except Exception:  # noqa: BLE001 - Playwright TimeoutError: fall back to a page load
            return False
        return True

    def kernel_status(self) -> str:
        """The status bar's kernel item, e.g. ``Python 3 (autograd-lab) | Idle``."""
        return str(self.page.evaluate(
            "() => document.querySelector('#jp-main-statusbar')?.innerText || ''"
        ))

    def wait_kernel_idle(self, timeout: float = OPEN_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout / 1000
        while True:
            self.dismiss_dialogs()
            try:
                self.page.wait_for_function(
                    "() => /\\|\\s*Idle/.test(document.querySelector('#jp-main-statusbar')"
                    "?.innerText || '')",
                    timeout=2_000,
                    polling=POLL_MS,
                )
                return
            except Exception:  # noqa: BLE001 - Playwright TimeoutError; retry until deadline
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"the kernel never became Idle; status bar: {self.kernel_status()!r}"
                    ) from None

    def dismiss_dialogs(self) -> None:
        """Accept a "Select Kernel" dialog; close any other dialog or notification toast."""
        page = self.page
        for _ in range(3):
            dialog = page.query_selector(".jp-Dialog")
            if dialog is None:
                break
            text = dialog.inner_text()
            accept = dialog.query_selector(".jp-Dialog-button.jp-mod-accept")
            if "Select Kernel" in text and accept is not None:
                accept.click()
            else:
                cancel = dialog.query_selector(".jp-Dialog-button.jp-mod-reject") or accept
                if cancel is None:
                    page.keyboard.press("Escape")
                else:
                    cancel.click()
            page.wait_for_timeout(200)
        for close in page.query_selector_all(".jp-toast-close, .Toastify__close-button"):
            try:
                close.click(timeout=1_000)
            except Exception:  # noqa: BLE001 - the toast went away by itself
                pass

    # -- menus -------------------------------------------------------------------------------
    def menu(self, top: str, item: str, timeout: float = CLICK_TIMEOUT) -> None:
        """Click ``top`` in the menu bar, then ``item`` in its menu.

        A menu still open (a click on a disabled item leaves it open) is closed first with
        Escape: clicking ``top`` would otherwise close it instead of opening it.
        """
        for _ in range(3):
            if not self.page.query_selector(".lm-Menu"):
                break
            self.page.keyboard.press("Escape")
        self.page.click(f".lm-MenuBar-itemLabel:text-is('{top}')", timeout=timeout)
        self.page.click(f".lm-Menu-itemLabel:text-is('{item}')", timeout=timeout)

    def run_all(self, expected_errors: Sequence[int] = ()) -> float:
        """Run → Run All Cells, then wait until every code cell has run and the kernel is Idle.

        ``expected_errors``: indices of the cells tagged ``raises-exception``. Stops waiting
        early when JupyterLab stopped the Run All at an error elsewhere (see
        :meth:`wait_run_finished`). Returns the seconds it took.
        """
        self._expected_errors = list(expected_errors)
        t0 = time.perf_counter()
        self.menu("Run", "Run All Cells")
        self.wait_run_finished(time.monotonic() + RUN_TIMEOUT / 1000)
        return time.perf_counter() - t0

    #: "done" (Idle, every shown prompt numbered), "stopped …" (Idle; the last numbered cell
    #: has stderr output, is not expected to raise, and no code cell after it ran) or false.
    #: No "[*]" is needed: once a cell's reply is not "ok" (even a ``raises-exception`` cell's
    #: expected error), JupyterLab 4 shows every still-queued cell as "[ ]" although the
    #: kernel goes on to run them.
    RUN_STATE_JS = r"""
    (expected) => {
      const st = document.querySelector('#jp-main-statusbar')?.innerText || '';
      if (!/\|\s*Idle/.test(st)) return false;
      const cells = [...document.querySelectorAll(
          '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell')];
      const prompts = [];
      let lastRun = -1;
      cells.forEach((c, i) => {
        // a cell whose source is hidden shows no prompt (see expand_hidden_code)
        const p = c.classList.contains('jp-CodeCell') && c.querySelector('.jp-InputArea-prompt');
        if (!p) return;
        const text = p.textContent.trim();
        prompts.push(text);
        if (/^\[\d+\]:?$/.test(text)) lastRun = i;
      });
      if (prompts.some(p => p.includes('*'))) return false;
      if (prompts.every(p => /^\[\d+\]:?$/.test(p))) return 'done';
      if (lastRun < 0 || expected.includes(lastRun)) return false;
      const stderr = cells[lastRun].querySelector(
          '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]');
      return stderr ? 'stopped ' + prompts.join(' ') : false;
    }
    """
    #: Seconds a "stopped" state must hold (Idle, no prompt changing) to count as the end.
    STOPPED_HOLD_S = 3.0

    def wait_run_finished(self, deadline: float) -> None:
        """Wait until the kernel is Idle and every shown prompt has a number, or until
        JupyterLab has stopped the Run All at an unexpected error (an error reply makes the
        kernel drop the cells queued after it): Idle, the last cell that ran shows stderr, is
        not tagged ``raises-exception``, and nothing changes for :data:`STOPPED_HOLD_S`.

        "Idle" can flash by between two cells, so "done" is confirmed once more a moment later.
        """
        js, expected = self.RUN_STATE_JS, self._expected_errors
        stopped, since = None, 0.0
        while True:
            self.dismiss_dialogs()
            try:
                state = self.page.wait_for_function(js, arg=expected, timeout=5_000,
                                                    polling=200).json_value()
            except Exception:  # noqa: BLE001 - Playwright TimeoutError; keep waiting
                state = None
            if state == "done":
                self.page.wait_for_timeout(300)
                if self.page.evaluate(js, expected) == "done":
                    return
            elif state:
                if state != stopped:
                    stopped, since = state, time.monotonic()
                elif time.monotonic() - since >= self.STOPPED_HOLD_S:
                    return
                self.page.wait_for_timeout(250)
            if time.monotonic() > deadline:
                prompts = self.page.evaluate(
                    "() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden)"
                    " .jp-CodeCell')].map(c => (c.querySelector('.jp-InputArea-prompt')"
                    "?.textContent || '(hidden)').trim())"
                )
                raise AssertionError(
                    f"Run All did not finish in time; status bar: {self.kernel_status()!r}; "
                    f"code cell prompts: {prompts}"
                )

    def expand_hidden_code(self) -> bool:
        """View → Expand All Code when some cell's source is hidden (its prompt is hidden too).

        A collapsed input shows no execution count, so this is how the test sees that such a
        cell ran. Returns True if anything was expanded.
        """
        if not self.page.query_selector(
            ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPlaceholder"
        ):
            return False
        self.menu("View", "Expand All Code")
        self.page.wait_for_function(
            "() => !document.querySelector("
            "'.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPlaceholder')",
            timeout=SETTLE_TIMEOUT,
            polling=POLL_MS,
        )
        self.wait_run_finished(time.monotonic() + SETTLE_TIMEOUT / 1000)
        return True

    def settle_outputs(self) -> None:
        """Wait (bounded) until no widget says "Loading widget…" and every image has loaded."""
        try:
            self.page.wait_for_function(
                r"""() => {
                  const p = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
                  if (!p) return false;
                  if (/Loading widget/i.test(p.innerText)) return false;
                  return [...p.querySelectorAll('.jp-OutputArea img')].every(i => i.complete);
                }""",
                timeout=SETTLE_TIMEOUT,
                polling=200,
            )
        except Exception:  # noqa: BLE001 - what is still loading is reported by scan()
            pass

    def scan(self) -> list[dict[str, Any]]:
        """Per cell (markdown and code, in order): prompt, stderr texts, widget/image state."""
        result = self.page.evaluate(_SCAN_JS, ".jp-NotebookPanel:not(.lm-mod-hidden)")
        if result is None:
            raise AssertionError("no notebook panel is open")
        return list(result)

    # -- saving, screenshots, closing ----------------------------------------------------------
    def save(self) -> None:
        """File → Save Notebook; wait until the tab is no longer marked dirty."""
        self.menu("File", "Save Notebook")
        self.dismiss_dialogs()
        self.page.wait_for_function(
            "() => !document.querySelector('.lm-TabBar-tab.jp-mod-current.jp-mod-dirty')",
            timeout=SETTLE_TIMEOUT,
            polling=200,
        )

    _DOCK_HEIGHT_JS = "() => document.querySelector('#jp-main-dock-panel')?.clientHeight ?? 0"

    def resize_viewport(self, height: int) -> None:
        """Make the viewport ``height`` px tall and wait until JupyterLab has laid its main
        area out again (it grew by as much as the viewport) and the page has painted."""
        was = (self.page.viewport_size or VIEWPORT)["height"]
        before = int(self.page.evaluate(self._DOCK_HEIGHT_JS))
        self.page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
        try:
            self.page.wait_for_function(
                "(want) => (document.querySelector('#jp-main-dock-panel')?.clientHeight"
                " ?? want) >= want",
                arg=before + height - was - 2,
                polling="raf",
                timeout=SETTLE_TIMEOUT,
            )
        except Exception:  # noqa: BLE001 - a picture of the page as it is beats no picture
            pass
        # two animation frames: the new layout has been painted
        self.page.evaluate(
            "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
        )

    def screenshot_notebook(self, name: str, *, always: bool = False) -> Path | None:
        """The whole notebook: the viewport is made as tall as its content for one picture.

        A JPEG (quality 80; text stays legible): Chromium encodes a page thousands of pixels
        tall faster as a JPEG than as a PNG. Widget pictures stay PNG. None (no picture)
        when :attr:`screenshots` is off, unless ``always``."""
        if not (self.screenshots or always):
            return None
        path = self.artifacts / f"{name}.jpg"
        extra = int(self.page.evaluate(
            r"""() => {
              const p = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
              const outer = p?.querySelector('.jp-WindowedPanel-outer')
                  || p?.querySelector('.jp-Notebook');
              if (!outer) return 0;
              outer.scrollTop = 0;
              return outer.scrollHeight - outer.clientHeight;
            }"""
        ))
        height = VIEWPORT["height"] + extra + 40
        tall = max(VIEWPORT["height"], min(height, 15_000))
        try:
            if tall > VIEWPORT["height"]:
                self.resize_viewport(tall)
            self.page.screenshot(path=str(path), type="jpeg", quality=80)
        finally:
            if tall > VIEWPORT["height"]:
                self.page.set_viewport_size(VIEWPORT)
        return path

    def screenshot_element(self, locator: Locator, name: str) -> Path | None:
        """One widget, whole: the viewport grows for a widget taller than the screen. None
        (no picture) when :attr:`screenshots` is off."""
        if not self.screenshots:
            return None
        path = self.artifacts / f"{name}.png"
        box_height = float(locator.evaluate("e => e.getBoundingClientRect().height"))
        tall = int(min(box_height + 400, 15_000))
        grow = tall > VIEWPORT["height"]
        try:
            if grow:
                self.resize_viewport(tall)
            locator.scroll_into_view_if_needed()
            locator.evaluate(
                "e => Promise.all([...e.querySelectorAll('img')].map("
                "i => i.complete ? 0 : new Promise(r => { i.onload = r; i.onerror = r; })))"
            )
            locator.screenshot(path=str(path))
        finally:
            if grow:
                self.page.set_viewport_size(VIEWPORT)
        return path

    def close_current_tab(self) -> None:
        """File → Close Tab (after a save nothing asks to save again); waits (up to 2 s) until
        the notebook is gone or a dialog asks something, then answers it."""
        self.menu("File", "Close Tab")
        try:
            self.page.wait_for_function(
                "() => !document.querySelector('.jp-NotebookPanel')"
                " || !!document.querySelector('.jp-Dialog')",
                polling=POLL_MS, timeout=2_000,
            )
        except Exception:  # noqa: BLE001 - Playwright TimeoutError; the next open reloads
            pass
        self.dismiss_dialogs()


def click_and_wait(
    page: Page,
    target: Locator,
    predicate: str,
    arg: Any = None,
    *,
    action: str = "click",
    text: str = "",
    timeout: float = CLICK_TIMEOUT,
) -> float:
    """Act on ``target`` and wait until the JS ``predicate(arg)`` holds; return milliseconds.

    The time is measured inside the browser: from the ``click`` (or ``keydown``) event on
    the target to the first animation frame at which the page shows the new content. The
    predicate must compare with the state before the action (pass it in ``arg``).
    ``action`` is "click" or "enter" (fill ``text`` into an input, then press Enter).
    """
    event = "click" if action == "click" else "keydown"
    target.scroll_into_view_if_needed(timeout=timeout)
    target.evaluate(
        "(el, ev) => { window.__aglT0 = null; window.__aglT1 = null;"
        " el.addEventListener(ev, () => { if (window.__aglT0 === null)"
        " window.__aglT0 = performance.now(); }, {capture: true, once: true}); }",
        event,
    )
    wrapped = (
        "(arg) => { const ok = (" + predicate + ")(arg);"
        " if (ok && window.__aglT0 !== null && window.__aglT1 === null)"
        " window.__aglT1 = performance.now(); return ok; }"
    )
    t0 = time.perf_counter()
    if action == "click":
        target.click(timeout=timeout)
    else:
        target.fill(text, timeout=timeout)
        target.press("Enter", timeout=timeout)
    page.wait_for_function(wrapped, arg=arg, polling="raf", timeout=timeout)
    wall_ms = (time.perf_counter() - t0) * 1000
    t_event, t_shown = page.evaluate("() => [window.__aglT0, window.__aglT1]")
    if t_event is None or t_shown is None:
        return wall_ms
    return float(t_shown) - float(t_event)


def find_problems(
    cells: list[dict[str, Any]], tags: list[list[str]], path: str
) -> list[str]:
    """Unexpected errors, widget failures, unrun cells and broken images, one line each."""
    problems: list[str] = []
    if len(cells) != len(tags):
        problems.append(
            f"{path}: the page shows {len(cells)} cells but the notebook has {len(tags)}"
        )
    for i, cell in enumerate(cells):
        where = f"{path} cell {i}"
        expected = i < len(tags) and "raises-exception" in tags[i]
        if cell["code"] and not re.fullmatch(r"\[\d+\]:?", cell["prompt"]):
            problems.append(f"{where}: did not run (prompt {cell['prompt']!r})")
        for text in cell["stderr"]:
            if ERROR_LINE.search(text) and not expected:
                first = next((ln for ln in text.splitlines() if ERROR_LINE.match(ln)), text[:200])
                problems.append(f"{where}: unexpected error output: {first.strip()[:300]}")
        if cell["widgetError"]:
            problems.append(f"{where}: a widget shows 'Error displaying widget'")
        for error in cell.get("viewErrors", []):
            problems.append(f"{where}: a widget failed to render in the browser: {error[:400]}")
        if cell["loading"]:
            problems.append(f"{where}: a widget is still 'Loading widget…'")
        if cell["brokenImages"]:
            problems.append(f"{where}: {cell['brokenImages']} broken image(s)")
        if cell["pendingImages"]:
            problems.append(f"{where}: {cell['pendingImages']} image(s) never finished loading")
    return problems


def saved_error_cells(notebook_model: dict[str, Any]) -> list[tuple[int, str]]:
    """(cell index, "Ename: evalue") for every error output stored in a saved notebook."""
    found = []
    for i, cell in enumerate(notebook_model["content"]["cells"]):
        for out in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            if out.get("output_type") == "error":
                found.append((i, f"{out.get('ename')}: {out.get('evalue')}"))
    return found


#: Every word (run of non-space characters) of every text node under the element: the words
#: whose text lies on more than one line box (``getClientRects().length > 1``), i.e. broken
#: inside by the line wrap ("finite diff / erence", "x.gra / d"). Words without a box (not
#: displayed) are skipped; so is a word that stays on one line but is split into several
#: boxes on it (a glyph from a fallback font), which is not a broken word.
_BROKEN_WORDS_JS = r"""
(root) => {
  const broken = [];
  let words = 0;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const re = /\S+/g;
    for (let m = re.exec(node.textContent); m; m = re.exec(node.textContent)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const rects = [...range.getClientRects()].filter(r => r.width > 0 && r.height > 0);
      if (rects.length === 0) continue;
      words += 1;
      if (rects.length === 1) continue;
      const lines = new Set(rects.map(r => Math.round(r.top + r.height / 2)));
      if (lines.size > 1) broken.push(m[0].slice(0, 60));
    }
  }
  return {words, broken};
}
"""


#: For every code cell of the open notebook that has text output (printed text, an error, a
#: warning, a hint: ``.jp-OutputArea-output pre``), the words that break across lines.
_OUTPUT_BROKEN_WORDS_JS = r"""
() => {
  const check = """ + _BROKEN_WORDS_JS.strip() + r""";
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  const found = [];
  [...panel.querySelectorAll('.jp-Cell')].forEach((cell, index) => {
    for (const pre of cell.querySelectorAll('.jp-OutputArea-output pre')) {
      const r = check(pre);
      if (r.broken.length) found.push({cell: index, broken: r.broken});
    }
  });
  return found;
}
"""


def output_broken_words(page: Page) -> list[tuple[int, list[str]]]:
    """``(cell index, words broken across lines)`` for each text output of the open notebook
    that breaks inside a word (JupyterLab's own style breaks anywhere: "pop|ulated")."""
    return [(int(f["cell"]), [str(w) for w in f["broken"]])
            for f in page.evaluate(_OUTPUT_BROKEN_WORDS_JS)]


def broken_words(root: Locator) -> tuple[int, list[str]]:
    """``(words checked, words broken across lines)`` in the widget ``root``'s text.

    Text must wrap at spaces only: every visible word has one client rect (one line box).
    """
    result = root.evaluate(_BROKEN_WORDS_JS)
    return int(result["words"]), [str(w) for w in result["broken"]]


def assert_wraps_at_spaces(root: Locator, name: str) -> None:
    """Fail with the broken words if any word of the widget ``root`` is split across lines."""
    words, broken = broken_words(root)
    assert words > 0, f"{name}: no visible text to check"
    assert not broken, f"{name}: words broken across lines: {broken[:10]}"
