"""README.md and docs/: the pages a newcomer reads exist, stay short, and every relative link
points at a file that exists (and, with a ``#fragment``, at a heading of that file)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
#: One page per audience or topic (issue 26); the Sphinx site (issue 32) renders them.
PAGES = ("teachers", "package", "widgets", "exercises", "bad-input", "classroom",
         "performance", "testing", "site")
#: Markdown files whose links are checked.
LINKED = sorted([REPO / "README.md", REPO / "ARCHITECTURE.md", *DOCS.glob("*.md")])
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def slug(heading: str) -> str:
    """A heading's anchor as GitHub and MyST (``heading_anchors``) make it."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return {slug(m) for m in re.findall(r"^#{1,6} (.+)$", text, re.MULTILINE)}


def links(path: Path) -> list[str]:
    return LINK.findall(FENCE.sub("", path.read_text(encoding="utf-8")))


def test_every_docs_page_exists() -> None:
    assert sorted(p.stem for p in DOCS.glob("*.md")) == sorted(PAGES)


def test_the_readme_is_short() -> None:
    assert len((REPO / "README.md").read_text(encoding="utf-8").splitlines()) <= 250


def test_slug_matches_github() -> None:
    assert slug("Capacity (measured)") == "capacity-measured"
    assert slug("One machine: a dry run with `make classroom`") == (
        "one-machine-a-dry-run-with-make-classroom")


@pytest.mark.parametrize("page", LINKED, ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_point_at_files_and_headings(page: Path) -> None:
    broken = []
    for target in links(page):
        if re.match(r"^[a-z]+:", target):  # http:, https:, mailto:
            continue
        file, _, fragment = target.partition("#")
        dest = (page.parent / file).resolve() if file else page
        if not dest.exists():
            broken.append(f"{target} (no such file)")
        elif fragment and dest.suffix == ".md" and fragment not in anchors(dest):
            broken.append(f"{target} (no such heading)")
    assert broken == [], f"{page.name}: broken links {broken}"


def test_a_broken_link_is_caught(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text("# Top\n\n[a](missing.md) [b](#top) [c](#nowhere) [d](https://x.org)\n")
    assert links(page) == ["missing.md", "#top", "#nowhere", "https://x.org"]
    assert "top" in anchors(page) and "nowhere" not in anchors(page)
