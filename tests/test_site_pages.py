"""The course website's pages and cells, without a browser (tools/build_site.py, site/*.py).

What goes on the site is found by pattern: a lesson, exercise or docs page added later is on
it with no list to edit, teacher material never is (except in ``make site-teachers``), and
the notebooks are changed only in the copy the site renders. The built site itself is
checked in a browser by ``tests/website/test_site.py``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest

from tools import build_site
from tools.course_address import AddressError, read_address

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "site"))
# sphinx-book-theme 1.4 and myst-parser 5.2 use Sphinx APIs that Sphinx 11 will remove
pytestmark = pytest.mark.filterwarnings("ignore:.*Check CHANGES for Sphinx API")

import notebook_cells  # noqa: E402  (site/, where conf.py finds it too)
import page_links  # noqa: E402


def _notebook(path: Path, *cells: nbformat.NotebookNode) -> Path:
    nb = nbformat.v4.new_notebook(cells=list(cells) or [nbformat.v4.new_markdown_cell("# T")])
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A repository with a start page, lessons 01, 08, 09, 12 (not 10/11: numbers may skip),
    an exercise with its nbgrader source, teacher notes, and two docs pages."""
    root = tmp_path / "repo"
    nb = root / "notebooks"
    _notebook(nb / "00_start_here.ipynb", nbformat.v4.new_markdown_cell("# Start here"))
    for stem in ("01_first", "08_training", "09_second_order", "12_later"):
        _notebook(nb / f"{stem}.ipynb")
        (nb / f"{stem}.md").write_text("# paired text\n", encoding="utf-8")
        _notebook(nb / "teacher-notes" / f"{stem}.ipynb")
    _notebook(nb / "exercises" / "release" / "chain" / "chain.ipynb")
    _notebook(nb / "exercises" / "source" / "chain" / "chain.ipynb",
              nbformat.v4.new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION"))
    (root / "docs").mkdir()
    for name in ("teachers", "bad-input"):
        (root / "docs" / f"{name}.md").write_text(f"# {name}\n", encoding="utf-8")
    return root


def test_pages_are_found_by_pattern_and_grouped_core_then_advanced(
        course: Path, tmp_path: Path) -> None:
    staged = tmp_path / "src"
    pages = build_site.stage(staged, root=course)
    assert pages.core == ["lessons/01_first", "lessons/08_training"]
    assert pages.advanced == ["lessons/09_second_order", "lessons/12_later"]
    assert pages.exercises == ["exercises/chain"]
    assert pages.docs == ["docs/bad-input", "docs/teachers"]
    assert pages.teacher_notes == []
    files = sorted(p.relative_to(staged).as_posix() for p in staged.rglob("*") if p.is_file())
    assert files == [
        "docs/bad-input.md", "docs/teachers.md", "exercises/chain.ipynb", "index.ipynb",
        "lessons/01_first.ipynb", "lessons/08_training.ipynb",
        "lessons/09_second_order.ipynb", "lessons/12_later.ipynb",
    ]
    # the lesson copies are the repository's files, byte for byte
    for name in pages.lessons:
        stem = name.removeprefix("lessons/")
        assert (staged / f"{name}.ipynb").read_bytes() == (
            course / "notebooks" / f"{stem}.ipynb").read_bytes()


def test_the_landing_page_is_the_start_page_with_the_navigation_last(
        course: Path, tmp_path: Path) -> None:
    pages = build_site.stage(tmp_path / "src", root=course)
    landing = json.loads((tmp_path / "src" / "index.ipynb").read_text(encoding="utf-8"))
    start = json.loads((course / "notebooks" / "00_start_here.ipynb").read_text("utf-8"))
    assert landing["cells"][:-1] == start["cells"]
    nav = landing["cells"][-1]["source"]
    order = [nav.index(f"\n{name}\n") for name in pages.all()]
    assert order == sorted(order)
    captions = [line for line in nav.splitlines() if line.startswith(":caption:")]
    assert captions == [":caption: Core lessons", ":caption: Advanced lessons",
                        ":caption: Exercises", ":caption: For teachers and developers"]
    assert nav.count(":hidden:") == 4


def test_teacher_notes_only_in_the_teachers_build(course: Path, tmp_path: Path) -> None:
    pages = build_site.stage(tmp_path / "src", root=course, teachers=True)
    assert pages.teacher_notes == [f"teacher-notes/{s}" for s in
                                   ("01_first", "08_training", "09_second_order", "12_later")]
    nav = json.loads((tmp_path / "src" / "index.ipynb").read_text("utf-8"))["cells"][-1]
    assert ":caption: Teacher notes" in nav["source"]


def test_no_docs_folder_is_fine_and_a_missing_start_page_says_what_to_do(
        course: Path, tmp_path: Path) -> None:
    for page in (course / "docs").iterdir():
        page.unlink()
    (course / "docs").rmdir()
    assert build_site.stage(tmp_path / "src", root=course).docs == []
    (course / "notebooks" / "00_start_here.ipynb").unlink()
    with pytest.raises(build_site.SiteError, match="make notebooks NB=00"):
        build_site.stage(tmp_path / "src2", root=course)


def test_the_real_course_stages_every_lesson_and_student_exercise(tmp_path: Path) -> None:
    pages = build_site.stage(tmp_path / "src")
    lessons = sorted(p.stem for p in (REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert [n.removeprefix("lessons/") for n in pages.lessons] == lessons[1:]
    assert all(int(n[8:10]) <= 8 for n in pages.core)
    assert all(int(n[8:10]) >= 9 for n in pages.advanced)
    release = REPO / "notebooks" / "exercises" / "release"
    assert pages.exercises == sorted(f"exercises/{p.name}" for p in release.iterdir()
                                     if (p / f"{p.name}.ipynb").is_file())
    staged = "".join(p.read_text("utf-8") for p in (tmp_path / "src").rglob("*.ipynb"))
    assert "BEGIN SOLUTION" not in staged and "BEGIN HIDDEN TESTS" not in staged


# --- how cells show: notebook_cells.py ------------------------------------------------------


def _code(tags: list[str], *outputs: dict) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("x", metadata={"tags": tags})
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    return cell


def test_question_cells_get_hide_output_and_nothing_else_changes() -> None:
    stream = {"output_type": "stream", "name": "stdout", "text": "tensor(18.)\n"}
    question, plain = _code(["question"], stream), _code([], stream)
    tagged = _code(["raises-exception"])
    nb = nbformat.v4.new_notebook(cells=[question, plain, tagged])
    before = json.loads(json.dumps(nb))
    notebook_cells.prepare(nb)
    assert nb.cells[0].metadata["tags"] == ["question", "hide-output"]
    assert nb.cells[0].outputs == before["cells"][0]["outputs"]
    assert json.loads(json.dumps(nb.cells[1:])) == before["cells"][1:]


def test_a_widget_cell_gets_one_run_note_unless_its_picture_says_where_to_run() -> None:
    text_only = {"output_type": "execute_result", "execution_count": 1, "metadata": {},
                 "data": {"text/plain": "GradAccumulationLab(x**3, x=2.0) — run this cell"}}
    picture = {"output_type": "display_data", "metadata": {}, "data": {
        "text/plain": "NoGradExplorer()",
        "text/html": '<div class="agl-static"><svg role="img"></svg>'
                     "<p>Run the <b>notebook</b>\nin JupyterLab to use it.</p></div>"}}
    nb = nbformat.v4.new_notebook(cells=[_code(["widget"], text_only),
                                         _code(["widget"], picture)])
    notebook_cells.prepare(nb)
    first, second = nb.cells
    assert len(first.outputs) == 2
    assert notebook_cells.RUN_NOTE in first.outputs[1]["data"]["text/html"]
    assert len(second.outputs) == 1


def test_read_notebook_reads_the_real_lesson_06_questions() -> None:
    text = (REPO / "notebooks" / "06_gradient_accumulation.ipynb").read_text("utf-8")
    raw = json.loads(text)
    nb = notebook_cells.read_notebook(text)
    questions = [i for i, c in enumerate(raw["cells"])
                 if "question" in c.get("metadata", {}).get("tags", [])]
    assert questions
    for i in questions:
        assert "hide-output" in nb.cells[i].metadata.tags


# --- the download and Colab links: page_links.py --------------------------------------------


def _pyproject(root: Path, table: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(f"[project]\nname = 'x'\n{table}", encoding="utf-8")
    return root


def test_no_repository_no_colab_link(tmp_path: Path) -> None:
    for table in ("", "[tool.autograd-lab]\nrepository = ''\nbranch = 'main'\n"):
        root = _pyproject(tmp_path / str(len(table)), table)
        repo = read_address(root)
        assert repo.repository is None
        assert page_links.colab_url(repo, "lessons/01_first_gradient", root) is None


def test_colab_links_open_the_notebook_or_its_colab_copy(tmp_path: Path) -> None:
    root = _pyproject(tmp_path, "[tool.autograd-lab]\n"
                      "repository = 'https://github.com/someone/autograd-lab'\nbranch = 'v2'\n")
    repo = read_address(root)
    base = "https://colab.research.google.com/github/someone/autograd-lab/blob/v2/"
    assert page_links.colab_url(repo, "lessons/02_chain_rule", root) == (
        base + "notebooks/02_chain_rule.ipynb")
    assert page_links.colab_url(repo, "exercises/training", root) == (
        base + "notebooks/exercises/release/training/training.ipynb")
    _notebook(root / "colab" / "02_chain_rule.ipynb")
    _notebook(root / "colab" / "exercises" / "training.ipynb")
    assert page_links.colab_url(repo, "lessons/02_chain_rule", root) == (
        base + "colab/02_chain_rule.ipynb")
    assert page_links.colab_url(repo, "exercises/training", root) == (
        base + "colab/exercises/training.ipynb")
    assert page_links.colab_url(repo, "docs/teachers", root) is None
    assert page_links.colab_url(repo, "index", root) is None


def test_a_repository_that_is_not_on_github_is_one_sentence(tmp_path: Path) -> None:
    root = _pyproject(tmp_path, "[tool.autograd-lab]\nrepository = 'ftp://example/x'\n")
    with pytest.raises(AddressError) as info:
        read_address(root)
    assert "https://github.com/OWNER/REPO" in str(info.value)
    assert "\n" not in str(info.value)


def test_repository_paths_map_to_site_pages_and_back() -> None:
    for docname in ("index", "lessons/02_chain_rule", "exercises/training", "docs/teachers",
                    "teacher-notes/02_chain_rule"):
        assert page_links.site_page(page_links.source_path(docname)) == docname
    assert page_links.site_page("notebooks/02_chain_rule.md") == "lessons/02_chain_rule"
    assert page_links.site_page("notebooks/exercises/source/training/training.ipynb") is None
    assert page_links.site_page("ARCHITECTURE.md") is None
    assert page_links.source_path("search") is None


def _build_with_links(course: Path, out: Path, link_line: str) -> str:
    (course / "ARCHITECTURE.md").write_text("# Architecture\n", encoding="utf-8")
    (course / "docs" / "teachers.md").write_text(f"# For teachers\n\n{link_line}\n", "utf-8")
    build_site.build(out, root=course)
    return (out / "docs" / "teachers.html").read_text(encoding="utf-8")


@pytest.mark.npm  # a Sphinx build copies MathJax from .npm-tools/
def test_a_docs_link_to_a_repository_file_becomes_a_page_github_or_text(
        course: Path, tmp_path: Path) -> None:
    line = ("See [the layout](../ARCHITECTURE.md#architecture), "
            "[lesson one](../notebooks/01_first.md) and [bad input](bad-input.md).")
    page = _build_with_links(course, tmp_path / "a" / "html", line)
    assert 'href="../lessons/01_first.html"' in page
    assert 'href="bad-input.html"' in page
    assert "the layout" in page and "ARCHITECTURE.md" not in page  # no repository: text
    _pyproject(course, "[tool.autograd-lab]\n"
               "repository = 'https://github.com/someone/autograd-lab'\n")
    page = _build_with_links(course, tmp_path / "b" / "html", line)
    assert ('href="https://github.com/someone/autograd-lab/blob/main/ARCHITECTURE.md'
            '#architecture"') in page
    lesson = (tmp_path / "b" / "html" / "lessons" / "01_first.html").read_text("utf-8")
    assert ("https://colab.research.google.com/github/someone/autograd-lab/blob/main/"
            "notebooks/01_first.ipynb") in lesson


@pytest.mark.npm
def test_a_link_to_no_file_fails_the_build_with_sphinxs_warning(
        course: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(build_site.SiteError, match="Sphinx failed"):
        _build_with_links(course, tmp_path / "html", "See [gone](../NO_SUCH_FILE.md).")
    assert "NO_SUCH_FILE" in capsys.readouterr().err  # that warning, not another failure
