"""Accessibility checks in a real page with axe-core (npm ``axe-core``, pinned in
``requirements/npm/package.json`` and installed into ``.npm-tools/`` by ``make test``).

:func:`serious_violations` injects ``axe.min.js`` into a Playwright page, runs the WCAG 2 A
and AA rules (colour contrast included) and the best-practice rules, and returns the
violations whose impact is serious or critical, each as axe reports it (``id``, ``impact``,
``help``, ``nodes`` …). An empty list means nothing serious was found.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE_JS = Path(__file__).resolve().parent.parent / ".npm-tools" / "node_modules" / "axe-core" \
    / "axe.min.js"

#: axe rule tags run: WCAG 2.0 / 2.1 A and AA, and axe's best practices.
TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice")
SERIOUS = ("serious", "critical")


def serious_violations(page: Any, context: str | None = None) -> list[dict]:
    """axe-core's serious and critical violations on ``page`` (within the CSS selector
    ``context`` when given, else the whole document)."""
    if not AXE_JS.is_file():
        raise FileNotFoundError(f"{AXE_JS} is missing; run `make .npm-tools/.installed-stamp`.")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate(
        "async (a) => await axe.run(a.context ? document.querySelectorAll(a.context) : document,"
        " {runOnly: {type: 'tag', values: a.tags}, resultTypes: ['violations']})",
        {"context": context, "tags": list(TAGS)},
    )
    return [v for v in result["violations"] if v.get("impact") in SERIOUS]


def describe(violations: list[dict]) -> str:
    """One line per violation: rule, impact, how many elements, the first element's target."""
    lines = []
    for v in violations:
        first = v["nodes"][0]["target"] if v.get("nodes") else "?"
        lines.append(f"{v['id']} ({v['impact']}, {len(v.get('nodes', []))} elements, "
                     f"e.g. {first}): {v.get('help', '')}")
    return "\n".join(lines)
