"""Accessibility checks in a real browser page with axe-core (npm ``axe-core``, pinned in
``requirements/npm/package.json`` and installed into ``.npm-tools/`` by ``make test``).

:func:`serious_violations` injects ``.npm-tools/node_modules/axe-core/axe.min.js`` into a
Playwright page (as inline script text: no request leaves the page), runs the WCAG 2 A and
AA rules (colour contrast included) and axe's best practices, and returns the violations
axe rates ``serious`` or ``critical``, each as axe reports it (``id``, ``impact``, ``help``,
``nodes`` …). An empty list means nothing serious was found. axe's verdicts change between
releases (4.14 flags ``label-content-name-mismatch`` on the stock sphinx-book-theme's search
button and toggles; 4.12 does not), so the version is pinned exactly. The widget browser
test and the course-site test both use it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
AXE_JS = REPO / ".npm-tools" / "node_modules" / "axe-core" / "axe.min.js"
#: The rule sets run: WCAG 2.0/2.1 levels A and AA, and axe's best practices.
TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice")
SERIOUS = ("serious", "critical")

# preload: false: axe's own fetch of the page's style sheets resolves a sheet's @import
# against the page, not the sheet (sphinx-book-theme's theme.css imports "../basic.css"), a
# 404 the page itself never makes; only the css-orientation-lock rule needs that fetch.
_RUN = """async (a) => (await axe.run(
    a.context ? document.querySelectorAll(a.context) : document,
    {runOnly: {type: "tag", values: a.tags}, resultTypes: ["violations"], preload: false},
)).violations"""


def axe_installed() -> bool:
    return AXE_JS.is_file()


def serious_violations(page: Any, context: str | None = None) -> list[dict]:
    """axe-core's serious and critical violations on ``page`` (a Playwright page), within the
    CSS selector ``context`` when given, else the whole document."""
    if not axe_installed():
        raise FileNotFoundError(
            f"axe-core is not installed ({AXE_JS.name}): run `make .npm-tools/.installed-stamp`."
        )
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=AXE_JS.read_text(encoding="utf-8"))
    violations = page.evaluate(_RUN, {"context": context, "tags": list(TAGS)})
    return [v for v in violations if v.get("impact") in SERIOUS]


def describe(violations: list[dict]) -> str:
    """One line per violation: rule, impact, how many elements, the first element's target."""
    lines = []
    for v in violations:
        first = v["nodes"][0]["target"] if v.get("nodes") else "?"
        lines.append(f"{v['id']} ({v['impact']}, {len(v.get('nodes', []))} elements, "
                     f"e.g. {first}): {v.get('help', '')}")
    return "\n".join(lines)
