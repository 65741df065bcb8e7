"""The course website (``make site``) as a reader sees it, in headless Chromium.

Built once per session (``conftest.py``), served locally, every request outside the site's
own files failed. What is expected is computed from the notebooks in the repository (which
lessons and exercises exist, which cells are questions or widgets, what a question printed),
never listed here.
"""

from __future__ import annotations

import html
import json
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse

import pytest

from tests.axe_check import axe_installed, serious_violations
from tests.website.conftest import build_site
from tools.course_address import read_address

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "site"))

import page_links  # noqa: E402  (site/, where conf.py finds it too)

pytestmark = pytest.mark.timeout(900)

NOTEBOOKS = REPO / "notebooks"
RELEASE = NOTEBOOKS / "exercises" / "release"
SOURCE = NOTEBOOKS / "exercises" / "source"
TEACHER_NOTES = NOTEBOOKS / "teacher-notes"


def _lesson_stems() -> list[str]:
    return sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")
                  if p.stem != "00_start_here")


def _exercise_names() -> list[str]:
    return sorted(p.parent.name for p in RELEASE.glob("*/*.ipynb") if p.stem == p.parent.name)


def _notebook(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _tagged(nb: dict[str, Any], tag: str) -> list[dict[str, Any]]:
    return [c for c in nb["cells"] if tag in c.get("metadata", {}).get("tags", [])]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "".join(value)


def _pages(site: Path) -> list[str]:
    """Every HTML page of the site (not the theme's templates under ``_static/``)."""
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                  if not any(part.startswith("_") for part in p.relative_to(site).parts))


# --- every page loads, from the site's own files only ----------------------------------------


def test_every_page_loads_without_console_error_or_outside_request(site_dir: Path,
                                                                     visit: Any) -> None:
    pages = _pages(site_dir)
    expected = {"index.html", "search.html", *(f"lessons/{s}.html" for s in _lesson_stems()),
                *(f"exercises/{n}.html" for n in _exercise_names())}
    assert expected <= set(pages)
    page = None
    for path in pages:  # one tab, each page loaded afresh in it
        page = visit.open(path, page)
    assert visit.outside == [], "requests outside the site's own files"
    assert visit.errors == []


def test_a_request_outside_the_site_is_refused_and_recorded(visit: Any) -> None:
    """The fence the test above relies on: the site's own files load, anything else fails
    in the page and is recorded."""
    page = visit.open("index.html")
    fetch = "(u) => fetch(u).then(r => r.ok, () => 'refused')"
    assert page.evaluate(fetch, "search.html") is True
    assert page.evaluate(fetch, "https://example.org/x.js") == "refused"
    assert visit.outside == ["https://example.org/x.js"]


# --- navigation and search --------------------------------------------------------------------


def test_every_lesson_and_exercise_is_reachable_in_order_from_the_navigation(
        visit: Any) -> None:
    page = visit.open("index.html")
    hrefs = page.eval_on_selector_all(
        "nav.bd-docs-nav a.reference.internal", "els => els.map(e => e.href)")
    paths = [urlparse(h).path.lstrip("/") for h in hrefs]
    lessons = [p for p in paths if p.startswith("lessons/")]
    exercises = [p for p in paths if p.startswith("exercises/")]
    assert lessons == [f"lessons/{s}.html" for s in _lesson_stems()]
    assert exercises == [f"exercises/{n}.html" for n in _exercise_names()]
    captions = [c.strip() for c in page.locator("nav.bd-docs-nav p.caption").all_inner_texts()]
    assert captions[:2] == ["Core lessons", "Advanced lessons"]
    # and each link opens its page: the next lesson's link from the first lesson works
    first = visit.open(lessons[0])
    first.locator("a.right-next").click()
    first.wait_for_load_state("load")
    assert urlparse(first.url).path.lstrip("/") == lessons[1]
    assert visit.errors == [] and visit.outside == []


def test_search_finds_retain_graph_in_lessons_06_and_09(visit: Any) -> None:
    page = visit.open("search.html?q=retain_graph")
    page.wait_for_function(
        "() => { const s = document.querySelector('#search-results .search-summary');"
        " return s && /found|did not match/i.test(s.textContent); }")
    found = {urlparse(h).path.lstrip("/") for h in page.eval_on_selector_all(
        "#search-results ul.search li a", "els => els.map(e => e.href)")}
    containing = {f"lessons/{s}.html" for s in _lesson_stems()
                  if "retain_graph" in (NOTEBOOKS / f"{s}.ipynb").read_text("utf-8")}
    assert {"lessons/06_gradient_accumulation.html",
            "lessons/09_gradients_of_gradients.html"} <= containing
    assert containing <= found
    assert visit.errors == [] and visit.outside == []


# --- predict, then run ----------------------------------------------------------------------


@pytest.mark.parametrize("stem", ["06_gradient_accumulation", "09_gradients_of_gradients"])
def test_a_question_output_appears_after_its_click_and_not_before(visit: Any,
                                                                  stem: str) -> None:
    nb = _notebook(NOTEBOOKS / f"{stem}.ipynb")
    questions = _tagged(nb, "question")
    worked_answers = sum(_text(c["source"]).count("<details") for c in nb["cells"]
                         if c["cell_type"] == "markdown")
    page = visit.open(f"lessons/{stem}.html")
    cells = page.locator("div.cell.tag_question")
    assert cells.count() == len(questions) > 0
    details = page.locator("article details")
    assert details.count() >= len(questions) + worked_answers
    assert details.evaluate_all("els => els.filter(d => d.open).length") == 0
    for index, question in enumerate(questions):
        printed = " ".join(_text(o.get("text", "")) for o in question["outputs"]
                           if o["output_type"] == "stream").split()
        cell = cells.nth(index)
        output = cell.locator(".cell_output")
        source = cell.locator(".cell_input")
        assert source.is_visible()  # the question's code is there to predict from
        assert not output.is_visible()
        cell.locator("details > summary").first.click()
        output.wait_for(state="visible")
        shown = output.inner_text().split()
        assert printed and shown[: len(printed)] == printed
    assert visit.errors == []


def test_a_lessons_math_is_typeset_with_no_raw_tex_left(visit: Any) -> None:
    page = None
    for stem in ("02_chain_rule", "09_gradients_of_gradients"):
        page = visit.open(f"lessons/{stem}.html", page)  # opens once MathJax has finished
        maths = page.locator("article span.math, article div.math")
        assert maths.count() > 5
        untypeset = maths.evaluate_all(
            "els => els.filter(e => !e.querySelector('mjx-container')).map(e => e.textContent)")
        assert untypeset == []
        prose = page.evaluate(
            "() => { const a = document.querySelector('article').cloneNode(true);"
            " a.querySelectorAll('pre, code, mjx-container, .cell_output')"
            ".forEach(e => e.remove()); return a.textContent; }")
        assert not re.search(r"\$[^$\s][^$]*\$|\\\(|\\\[", prose), "raw TeX left on the page"
    assert visit.errors == [] and visit.outside == []


def _stored_static_copy(cell: dict[str, Any]) -> str:
    """The widget's static copy as stored in the notebook (its ``text/html`` output)."""
    return "".join(_text(o.get("data", {}).get("text/html", "")) for o in cell["outputs"])


def test_a_widget_cell_says_where_to_run_it_and_shows_its_picture(visit: Any) -> None:
    lessons = {s: _tagged(_notebook(NOTEBOOKS / f"{s}.ipynb"), "widget")
               for s in _lesson_stems()}
    lessons = {s: cells for s, cells in lessons.items() if cells}
    assert lessons
    missing = []
    pictured = 0
    page = None
    for stem, widget_cells in lessons.items():
        page = visit.open(f"lessons/{stem}.html", page)
        cells = page.locator("div.cell.tag_widget")
        assert cells.count() == len(widget_cells)
        for index, stored in enumerate(widget_cells):
            copy = _stored_static_copy(stored)
            assert 'class="agl-static"' in copy, (stem, index)  # every widget stores one
            output = cells.nth(index).locator(".cell_output")
            text = " ".join(output.inner_text().split())
            assert re.search(r"run the notebook", text, re.IGNORECASE), (stem, text)
            # the widget's own picture (not the copy button's icon) where its copy has one;
            # a widget without a picture (NoGradExplorer's table) shows its text
            pictures = cells.nth(index).locator(".cell_output .output.text_html svg")
            if "<svg" in copy:
                pictured += 1
                if pictures.count() == 0 or not pictures.first.is_visible():
                    missing.append(f"{stem} widget cell {index}")
            elif not output.locator(".agl-static").first.is_visible():
                missing.append(f"{stem} widget cell {index} (its text)")
    assert visit.errors == [] and visit.outside == []
    assert missing == [] and pictured >= 5


# --- each notebook page: download link, copy buttons ----------------------------------------


def test_each_notebook_page_downloads_its_own_notebook_and_has_copy_buttons(
        site_dir: Path, visit: Any) -> None:
    pages = {f"lessons/{s}.html": NOTEBOOKS / f"{s}.ipynb" for s in _lesson_stems()}
    pages |= {f"exercises/{n}.html": RELEASE / n / f"{n}.ipynb" for n in _exercise_names()}
    repository = read_address(REPO)
    for path, notebook in pages.items():
        text = (site_dir / path).read_text("utf-8")
        links = re.findall(r'<p class="agl-page-links">(.*?)</p>', text, re.DOTALL)
        assert len(links) == 1, path
        href = re.search(r'href="([^"]+\.ipynb)"', links[0]).group(1)
        target = (site_dir / path).parent / href
        assert target.read_bytes() == notebook.read_bytes(), path
        # a Colab link exactly where [tool.autograd-lab] names a repository
        colab = re.findall(r'href="(https://colab\.research\.google\.com/[^"]+)"', links[0])
        expected = page_links.colab_url(repository, path.removesuffix(".html"), REPO)
        assert colab == ([expected] if expected else []), path
        assert text.count("colab.research.google.com") == len(colab)
    page = visit.open("lessons/02_chain_rule.html")
    code_cells = page.locator("div.cell div.cell_input div.highlight")
    assert code_cells.count() > 0
    assert page.locator("div.cell div.cell_input button.copybtn").count() == code_cells.count()


# --- accessibility ----------------------------------------------------------------------------

AXE_PAGES = ["index.html", "lessons/02_chain_rule.html", "lessons/06_gradient_accumulation.html",
             "exercises/chain_rule.html"]


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_axe_finds_no_serious_violation(visit: Any, dark_visit: Any, mode: str) -> None:
    if not axe_installed():
        pytest.fail("axe-core missing: run `make .npm-tools/.installed-stamp`", pytrace=False)
    chosen = dark_visit if mode == "dark" else visit
    found = {}
    page = None
    for path in AXE_PAGES:
        page = chosen.open(path, page)
        assert page.evaluate("document.documentElement.dataset.theme") == mode
        if violations := serious_violations(page):
            found[path] = violations
    assert found == {}
    assert chosen.errors == [] and chosen.outside == []


# --- nothing for teachers only ---------------------------------------------------------------


def _lines(text: str) -> set[str]:
    return {" ".join(line.split()) for line in text.splitlines() if len(line.strip()) >= 24}


def _solution_blocks(text: str) -> str:
    found = re.findall(r"BEGIN SOLUTION(.*?)END SOLUTION", text, re.DOTALL)
    found += re.findall(r"BEGIN HIDDEN TESTS(.*?)END HIDDEN TESTS", text, re.DOTALL)
    return "\n".join(found)


def _all_text(nb: dict[str, Any]) -> str:
    """A notebook's sources and stored text outputs."""
    parts = []
    for cell in nb["cells"]:
        parts.append(_text(cell["source"]))
        for output in cell.get("outputs", []):
            parts.append(_text(output.get("text", "")))
            parts += [_text(v) for k, v in output.get("data", {}).items() if k.startswith("text/")]
    return "\n".join(parts)


def test_no_solution_hidden_test_or_teacher_note_anywhere_in_the_built_folder(
        site_dir: Path) -> None:
    public = "\n".join(_all_text(_notebook(p))
                       for p in [*NOTEBOOKS.glob("*.ipynb"), *RELEASE.glob("*/*.ipynb")])
    public += "\n".join(p.read_text("utf-8") for p in (REPO / "docs").glob("*.md"))
    secrets = set()
    for source in SOURCE.glob("*/*.ipynb"):
        for cell in _notebook(source)["cells"]:
            secrets |= _lines(_solution_blocks(_text(cell["source"])))
    for note in TEACHER_NOTES.glob("*.ipynb"):
        secrets |= {line for c in _notebook(note)["cells"] for line in _lines(_text(c["source"]))}
    # a line the student versions or lessons also show (in prose, say) is no secret
    public = " ".join(public.split())
    secrets = {line for line in secrets if line not in public}
    assert secrets, "no solution lines found in the exercise sources to look for"
    markers = ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS", "teacher-notes")
    # The markers may not appear in anything made from a notebook (lesson and exercise pages,
    # their downloads and sources); the docs pages may name them, as they tell a teacher how
    # an exercise is written. A solution or teacher-note line may appear nowhere at all.
    from_notebooks = ("index.", "lessons/", "exercises/", "_downloads/", "_sources/index.",
                      "_sources/lessons/", "_sources/exercises/")
    problems = []
    for path in sorted(site_dir.rglob("*")):
        if not path.is_file() or path.suffix not in {".html", ".js", ".ipynb", ".txt", ".json"}:
            continue
        if "_static/mathjax" in path.as_posix():
            continue
        text = " ".join(html.unescape(path.read_text("utf-8", errors="replace")).split())
        rel = path.relative_to(site_dir).as_posix()
        if rel.startswith(from_notebooks):
            problems += [f"{rel}: {m}" for m in markers if m.lower() in text.lower()]
        problems += [f"{rel}: {s[:60]}" for s in secrets if s in text]
    assert problems == []


# --- reproducible ------------------------------------------------------------------------------


def test_two_builds_give_the_same_pages(site_dir: Path, tmp_path: Path) -> None:
    again = build_site(tmp_path / "html")

    def files(root: Path) -> dict[str, bytes]:
        return {p.relative_to(root).as_posix(): p.read_bytes()
                for p in root.rglob("*") if p.is_file()}

    first, second = files(site_dir), files(again)
    assert sorted(first) == sorted(second)
    assert [name for name in first if first[name] != second[name]] == []


def test_links_between_pages_resolve_to_built_files(site_dir: Path) -> None:
    broken = []
    for path in _pages(site_dir):
        text = (site_dir / path).read_text("utf-8")
        for href in re.findall(r'href="([^"#?]+)', text):
            if "://" in href or href.startswith("mailto:"):
                continue
            target = urlparse(urljoin(f"http://x/{path}", href)).path.lstrip("/")
            if not (site_dir / target).exists():
                broken.append(f"{path} -> {href}")
    assert broken == []
