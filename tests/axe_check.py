"""Accessibility checks in a real browser page with axe-core (npm, pinned in requirements/npm/).

:func:`serious_violations` injects ``.npm-tools/node_modules/axe-core/axe.min.js`` into a
Playwright page (as inline script text: no request leaves the page) and runs it with the
WCAG 2 A and AA rules and axe's best practices. It returns only the violations axe rates
``serious`` or ``critical``. axe's verdicts change between releases (4.14 flags
``label-content-name-mismatch`` on the stock sphinx-book-theme's search button and toggles;
4.12 does not), so the version is pinned exactly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
AXE_JS = REPO / ".npm-tools" / "node_modules" / "axe-core" / "axe.min.js"
#: The rule sets run: WCAG 2.0/2.1 levels A and AA, and axe's best practices.
TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice")
SERIOUS = ("serious", "critical")

_RUN = """async (tags) => {
    // preload: false: axe's own fetch of the page's style sheets resolves a sheet's
    // @import against the page, not the sheet (sphinx-book-theme's theme.css imports
    // "../basic.css"), a 404 the page itself never makes; only css-orientation-lock needs it.
    const result = await axe.run(document, {
        runOnly: {type: "tag", values: tags}, preload: false,
    });
    return result.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5),
    }));
}"""


def axe_installed() -> bool:
    return AXE_JS.is_file()


def serious_violations(page: Any) -> list[dict]:
    """axe-core's serious and critical violations on ``page`` (a Playwright page), as dicts
    ``{"id", "impact", "help", "nodes"}`` (``nodes``: up to five CSS selectors)."""
    if not axe_installed():
        raise FileNotFoundError(
            f"axe-core is not installed ({AXE_JS.name}): run `make .npm-tools/.installed-stamp`."
        )
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=AXE_JS.read_text(encoding="utf-8"))
    violations = page.evaluate(_RUN, list(TAGS))
    return [v for v in violations if v.get("impact") in SERIOUS]
