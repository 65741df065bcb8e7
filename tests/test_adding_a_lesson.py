"""Adding a lesson is adding one ``NN_name.md``: everything else finds it by pattern.

A small lesson file is dropped into a temporary copy of the repository; then, with no other
edit, ``make notebooks`` creates and executes its ``.ipynb``, nbval and the notebook checks
collect it, the browser test collects it and finds its widget by the cell tag, the workspace
copy hands it to students, and the README and teacher-note checks name it as missing.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest

from tests.test_notebooks import lessons_missing_from_readme, question_mismatches
from tools import run_notebooks

ROOT = Path(__file__).resolve().parents[1]
NAME = "42_tiny_lesson"
TINY_LESSON = """\
---
kernelspec:
  display_name: Python 3 (ipykernel)
  language: python
  name: python3
---

# 42 · A tiny lesson

```{code-cell} ipython3
import torch

import autograd_lab

autograd_lab.notebook_setup()
```

```{code-cell} ipython3
:tags: [widget]

from autograd_lab.widgets import ChainRuleStepper

ChainRuleStepper("x**2", x=3.0)
```

## Predict, then run

**1.** What does `6 * 7` print?

```{code-cell} ipython3
:tags: [question]

print(6 * 7)
```
"""
_NOT_COPIED = shutil.ignore_patterns(
    ".git", ".venv", ".npm-tools", "workspace", "classroom", "test-artifacts", "__pycache__",
    ".ipynb_checkpoints", ".pytest_cache", ".ruff_cache", "*.egg-info",
)


def _run(args: list[str], cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          check=False, env=run_notebooks.kernel_env() | {"PYTHONPATH": str(cwd)})


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("repo") / "autograd-lab"
    shutil.copytree(ROOT, copy, ignore=_NOT_COPIED, symlinks=True)
    (copy / "notebooks" / f"{NAME}.md").write_text(TINY_LESSON, encoding="utf-8")
    # make notebooks NB=42, as a teacher would run it
    built = _run([sys.executable, "-m", "tools.run_notebooks", "42"], copy)
    (copy / "make-notebooks.log").write_text(built.stdout + built.stderr, encoding="utf-8")
    return copy


def test_make_notebooks_creates_and_executes_it(repo: Path) -> None:
    log = (repo / "make-notebooks.log").read_text(encoding="utf-8")
    assert f"ran notebooks/{NAME}.md" in log, log
    assert "FAILED" not in log, log
    nb = nbformat.read(repo / "notebooks" / f"{NAME}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == [1, 2, 3]
    assert code[-1].outputs[0]["text"] == "42\n"
    assert run_notebooks.stale_cells(nb) == []
    # the .md is rewritten in jupytext's canonical form, with the very same cells
    written = jupytext.read(repo / "notebooks" / f"{NAME}.md")
    given = jupytext.reads(TINY_LESSON, fmt="md:myst")
    assert [(c.cell_type, c.source, c.metadata) for c in written.cells] == [
        (c.cell_type, c.source, c.metadata) for c in given.cells
    ]


def test_pytest_and_the_browser_test_collect_it(repo: Path) -> None:
    result = _run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-o", "addopts=",
                   "-p", "no:cacheprovider", "--nbval", "notebooks", "tests/test_notebooks.py",
                   "tests/browser/test_browser.py"], repo)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for node in (
        f"notebooks/{NAME}.ipynb::Cell 0",  # nbval
        f"tests/test_notebooks.py::test_every_code_cell_was_executed[{NAME}.ipynb]",
        f"tests/test_notebooks.py::test_md_and_ipynb_of_a_pair_agree[{NAME}.ipynb]",
        f"tests/test_notebooks.py::test_teacher_note_repeats_the_lesson_questions[{NAME}]",
        f"tests/browser/test_browser.py::test_lesson_notebook_runs_clean[{NAME}]",
    ):
        assert node in result.stdout, f"{node} not collected"


def test_the_browser_test_finds_its_widget_by_tag(repo: Path) -> None:
    script = ("import sys; sys.path.insert(0, 'tests/browser'); "
              "from test_browser import lesson_widgets; "
              f"print(lesson_widgets('{NAME}.ipynb'))")
    result = _run([sys.executable, "-c", script], repo, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[('ChainRuleStepper', 'agl-chain-rule-stepper')]"


def test_students_get_it(repo: Path, tmp_path: Path) -> None:
    from autograd_lab_course.workspace import copy_workspace

    report = copy_workspace(tmp_path / "ws", source_root=repo)
    assert f"{NAME}.ipynb" in report.copied
    assert not any(p.endswith(".md") for p in report.copied)


def test_readme_and_teacher_note_checks_name_it(repo: Path) -> None:
    assert lessons_missing_from_readme(repo) == [NAME]
    readme = repo / "README.md"
    text = readme.read_text(encoding="utf-8")
    row = "| `08_training_linear_model` |"
    readme.write_text(text.replace(row, f"| `{NAME}` | six times seven |\n{row}", 1),
                      encoding="utf-8")
    assert lessons_missing_from_readme(repo) == []
    md = repo / "notebooks" / f"{NAME}.md"
    assert question_mismatches(md) == [
        f"{NAME} has no teacher note notebooks/teacher-notes/{NAME}.md"
    ]
