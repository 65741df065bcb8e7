"""The exercise notebooks: teacher solutions pass, student versions say "not attempted",
a wrong answer names its mistake, nbgrader regenerates the committed student versions
exactly, and the workspace copy hands students the release versions only.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests import nbval_shared
from tools.build_exercises import ASSIGNMENTS, build

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "notebooks" / "exercises"


def source_nb(name: str) -> Path:
    return COURSE / "source" / name / f"{name}.ipynb"


def release_nb(name: str) -> Path:
    return COURSE / "release" / name / f"{name}.ipynb"


def run(nb: nbformat.NotebookNode, cwd: Path) -> nbformat.NotebookNode:
    """Execute in a fresh kernel (errors fail, except cells tagged raises-exception)."""
    bin_dir = str(Path(sys.executable).parent)
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""),
               PYTHONPATH=str(ROOT))
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(cwd)}}).execute(env=env)
    return nb


def verdicts(nb: nbformat.NotebookNode) -> list[str]:
    """Each check's one line, as text/plain (what nbval, terminals and nbgrader's asserts see)."""
    return nbval_shared.verdicts([c.outputs for c in nb.cells if c.cell_type == "code"])


def html_verdicts(nb: nbformat.NotebookNode) -> list[str]:
    """Each check's text/html (what JupyterLab and nbgrader's feedback show)."""
    return [output["data"]["text/html"]
            for cell in nb.cells if cell.cell_type == "code"
            for output in cell.outputs if "text/html" in output.get("data", {})]


def expected_checks(nb: nbformat.NotebookNode) -> int:
    return nbval_shared.expected_checks([c.source for c in nb.cells if c.cell_type == "code"])


def answer_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_teacher_notebook_layout(name: str) -> None:
    nb = nbformat.read(source_nb(name), as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert "import autograd_lab" in first.source
    assert "autograd_lab.notebook_setup()" in first.source
    answers = answer_cells(nb)
    assert answers, "no answer cells"
    for cell in answers:
        assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source
        before = cell.source.split("### BEGIN SOLUTION")[0]
        assert re.search(r"^\w+ = \.\.\.", before, re.MULTILINE), cell.source
    graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert graded and all("### BEGIN HIDDEN TESTS" in c.source for c in graded)
    ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "nbgrader" in c.metadata]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_teacher_stored_outputs_are_all_correct(name: str) -> None:
    """The executed teacher notebook (``make notebooks``) stores a ✓ for every check."""
    nb = nbformat.read(source_nb(name), as_version=4)
    found = verdicts(nb)
    assert len(found) == expected_checks(nb) > 0
    assert all(v.startswith("✓ Correct") for v in found), found
    html = html_verdicts(nb)
    assert len(html) == len(found) and all("var(--jp-success-color1" in h for h in html)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.execution_count is not None


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_title_comes_first(name: str) -> None:
    """A student opens the notebook on its title, not on a locked setup cell."""
    nb = nbformat.read(source_nb(name), as_version=4)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    release = nbformat.read(release_nb(name), as_version=4)
    assert release.cells[0].source == nb.cells[0].source


def test_no_claim_of_a_float64_check_where_nothing_is_computed() -> None:
    """The multiple-choice notebook does not say its answers are checked by autograd."""
    intro = nbformat.read(source_nb("no_grad"), as_version=4).cells[0].source
    assert "float64 and a finite" not in intro and "finite difference" not in intro


def test_teacher_solutions_pass_when_run_shares_nbvals_run() -> None:
    """"The teacher solutions pass when run" is checked on nbval's execution of each source:
    ``notebooks/exercises/source/<name>/<name>.ipynb::Teacher solutions pass``
    (``tests/nbval_shared.py``), not by executing the notebook once more here."""
    assert nbval_shared.exercise_source_paths(ROOT) == {
        source_nb(name).resolve() for name in ASSIGNMENTS}


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_student_version_unedited_runs_and_says_not_attempted(name: str) -> None:
    nb = nbformat.read(release_nb(name), as_version=4)
    text = "\n".join(c.source for c in nb.cells)
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    nb = run(nb, release_nb(name).parent)
    found = verdicts(nb)
    assert len(found) == expected_checks(nb) > 0
    assert all(v.startswith("○ Not attempted yet") and v.endswith("(not_attempted)")
               for v in found), found


def test_student_solution_code_is_not_in_the_release() -> None:
    """Lines that only appear inside the teacher's solution regions never reach students."""
    for name in ASSIGNMENTS:
        teacher = nbformat.read(source_nb(name), as_version=4)
        student = "\n".join(c.source for c in nbformat.read(release_nb(name), as_version=4).cells)
        outside = "\n".join(
            re.sub(r"### BEGIN SOLUTION.*?### END SOLUTION", "", c.source, flags=re.S)
            for c in teacher.cells
        )
        for cell in answer_cells(teacher):
            solution = cell.source.split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0]
            for line in solution.strip().splitlines():
                if line.strip() and line not in outside:
                    assert line not in student, (name, line)


def _answer_with(nb: nbformat.NotebookNode, variable: str, code: str) -> None:
    for cell in answer_cells(nb):
        if re.search(rf"^{variable} = \.\.\.", cell.source, re.MULTILINE):
            cell.source = re.sub(rf"^{variable} = \.\.\..*$", code, cell.source, flags=re.M)
            return
    raise AssertionError(f"no answer cell for {variable}")


def test_student_wrong_answers_get_named_hints() -> None:
    """As a student would: open a release notebook, answer wrongly, read the hint."""
    nb = nbformat.read(release_nb("chain_rule"), as_version=4)
    _answer_with(nb, "dz_dx", "dz_dx = math.exp(math.cos(x))  # forgot the inner derivative")
    _answer_with(nb, "dz_dw", "dz_dw = -(1 - math.tanh(w * x + b) ** 2) * x")
    nb = run(nb, release_nb("chain_rule").parent)
    found = verdicts(nb)
    assert found[0].startswith("✗ Not quite") and found[0].endswith("(missing_chain_factor)")
    assert "-sin(x)" not in found[0]  # a first wrong try names the kind, not the factor
    assert found[1].startswith("✗ Not quite") and found[1].endswith("(sign_error)")
    assert all(v.endswith("(not_attempted)") for v in found[2:])
    html = html_verdicts(nb)
    assert "var(--jp-error-color1" in html[0] and "(missing_chain_factor)</small>" in html[0]


def test_student_buggy_loop_copied_unfixed_is_named() -> None:
    nb = nbformat.read(release_nb("training"), as_version=4)
    _answer_with(nb, "train_fixed", "train_fixed = train_buggy  # copied, not fixed yet")
    nb = run(nb, release_nb("training").parent)
    found = verdicts(nb)
    assert found[-1].endswith("(not_zeroed)"), found


def test_regenerated_student_versions_match_the_committed_ones(tmp_path: Path) -> None:
    course = tmp_path / "exercises"
    course.mkdir()
    shutil.copy2(COURSE / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(COURSE / "source", course / "source")
    assert list(course.glob("source/*/*.md")), "the copied sources include their .md"
    written = build(course)
    assert len(written) == len(ASSIGNMENTS)
    committed = sorted(p.relative_to(COURSE / "release")
                       for p in (COURSE / "release").rglob("*") if p.is_file())
    fresh = sorted(p.relative_to(course / "release")
                   for p in (course / "release").rglob("*") if p.is_file())
    assert fresh == committed
    for rel in committed:
        assert (course / "release" / rel).read_bytes() == (COURSE / "release" / rel).read_bytes(), (
            f"{rel} differs from a fresh `make exercises`; run it and commit the result"
        )
    assert not (course / "gradebook.db").exists()


def test_workspace_gets_release_versions_and_never_overwrites(tmp_path: Path) -> None:
    workspace = pytest.importorskip("autograd_lab_course.workspace")
    dest = tmp_path / "ws"
    report = workspace.copy_workspace(dest)
    for name in ASSIGNMENTS:
        rel = f"exercises/{name}/{name}.ipynb"
        assert rel in report.copied
        copied = nbformat.read(dest / rel, as_version=4)
        assert "BEGIN SOLUTION" not in "\n".join(c.source for c in copied.cells)
    assert not any("source" in p.split("/") for p in report.copied)
    mine = dest / "exercises" / "chain_rule" / "chain_rule.ipynb"
    mine.write_text(mine.read_text().replace("dz_dx = ...", "dz_dx = 1.0"))
    before = mine.read_bytes()
    again = workspace.copy_workspace(dest)
    assert again.copied == [] and "exercises/chain_rule/chain_rule.ipynb" in again.skipped
    assert mine.read_bytes() == before


def test_assignments_are_found_by_pattern() -> None:
    assert len(ASSIGNMENTS) >= 5
    for name in ASSIGNMENTS:
        assert source_nb(name).with_suffix(".md").is_file(), f"{name}: no MyST source"
        assert source_nb(name).is_file(), f"{name}: no .ipynb: run make notebooks NB={name}"
        assert release_nb(name).is_file(), f"{name}: no student version: run make exercises"


def _solution_leaks(folder: Path) -> list[str]:
    """.md files, and files holding a solution or hidden-test marker, under ``folder``."""
    leaks = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if path.suffix == ".md":
            leaks.append(f"{rel}: a .md source")
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        leaks += [f"{rel}: {marker}" for marker in ("BEGIN SOLUTION", "HIDDEN TESTS")
                  if marker in text]
    return leaks


def test_no_md_and_no_solution_in_release_or_a_fresh_workspace(tmp_path: Path) -> None:
    from autograd_lab_course.workspace import copy_workspace

    assert _solution_leaks(COURSE / "release") == []
    dest = tmp_path / "ws"
    report = copy_workspace(dest)
    assert report.copied and not any(p.endswith(".md") for p in report.copied)
    assert _solution_leaks(dest) == []
    # the check can fail: a source folder is full of both
    assert any(leak.endswith("a .md source") for leak in _solution_leaks(COURSE / "source"))
    assert any(leak.endswith("BEGIN SOLUTION") for leak in _solution_leaks(COURSE / "source"))

