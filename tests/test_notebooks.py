"""The stored notebooks are the product: check them without trusting how they were made.

nbval (``pytest`` with ``--nbval``) re-runs every lesson and teacher exercise notebook and
compares each cell's output with the stored one. This file checks what nbval cannot:

* every code cell was executed (execution_count is set) and the first one calls
  ``autograd_lab.notebook_setup()``;
* no stored output holds an absolute path, the user's name or a hex memory address;
* ``nbval-skip`` / ``nbval-ignore-output`` only on cells in ``tests/nbval_allowlist.txt``;
* every printed line of the five seed notebooks (``tests/seed_output_lines.txt``) appears in
  some lesson's stored outputs;
* Run All twice in one kernel prints the same text both times (no drifting gradients);
* the notebooks and teacher notes match ``tools/lessons.py``, and every teacher-note answer
  is what its code really prints.
"""

from __future__ import annotations

import ast
import getpass
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from tools import lessons, run_notebooks

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
LESSON_NAMES = [
    "01_first_gradient",
    "02_chain_rule",
    "03_computational_graph",
    "04_single_neuron_bce",
    "05_vectors",
    "06_gradient_accumulation",
    "07_turning_gradients_off",
    "08_training_linear_model",
]
LESSON_PATHS = [NOTEBOOKS / f"{name}.ipynb" for name in LESSON_NAMES]
TEACHER_PATHS = sorted((NOTEBOOKS / "exercises" / "source").glob("*/*.ipynb"))
ALL_PATHS = LESSON_PATHS + TEACHER_PATHS
NBVAL_TAGS = {"nbval-skip", "nbval-ignore-output"}
NBVAL_COMMENTS = re.compile(
    r"^\s*#\s*(NBVAL_SKIP|NBVAL_IGNORE_OUTPUT|PYTEST_VALIDATE_IGNORE_OUTPUT)"
)
BINARY_MIME = ("image/", "application/vnd.jupyter.widget-view+json", "application/pdf")


def _id(path: Path) -> str:
    return str(path.relative_to(NOTEBOOKS))


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _code_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if c.cell_type == "code"]


def _output_texts(output: nbformat.NotebookNode, *, traceback: bool = True) -> list[str]:
    """All text a stored output holds (images and widget references excluded)."""
    kind = output.get("output_type")
    if kind == "stream":
        return [output.get("text", "")]
    if kind == "error":
        texts = [f"{output.get('ename', '')}: {output.get('evalue', '')}"]
        return texts + (list(output.get("traceback", [])) if traceback else [])
    texts = []
    for mime, value in output.get("data", {}).items():
        if mime.startswith(BINARY_MIME):
            continue
        texts.append(value if isinstance(value, str) else "".join(value))
    return texts


def _printed_lines(paths: list[Path]) -> set[str]:
    lines: set[str] = set()
    for path in paths:
        for cell in _code_cells(_read(path)):
            for output in cell.outputs:
                for text in _output_texts(output, traceback=False):
                    lines.update(line.rstrip() for line in text.splitlines())
    return lines


# ---------------------------------------------------------------------------------------
# Structure


def test_all_eight_lessons_exist() -> None:
    missing = [p.name for p in LESSON_PATHS if not p.is_file()]
    assert not missing, f"lesson notebooks missing: {missing}"
    assert [lesson.name for lesson in lessons.LESSONS] == LESSON_NAMES


def test_notebooks_and_teacher_notes_match_the_builder() -> None:
    assert lessons.main(["--check"]) == 0, (
        "a notebook or teacher note differs from tools/lessons.py: run "
        "`python -m tools.lessons` and `make notebooks`"
    )


@pytest.mark.parametrize("path", ALL_PATHS, ids=_id)
def test_every_code_cell_was_executed(path: Path) -> None:
    nb = _read(path)
    unexecuted = [i for i, c in enumerate(nb.cells)
                  if c.cell_type == "code" and c.get("execution_count") is None]
    assert not unexecuted, (
        f"{path.name}: cells {unexecuted} have no stored execution; run make notebooks"
    )
    counts = [c.execution_count for c in _code_cells(nb)]
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: not one Run All: {counts}"


@pytest.mark.parametrize("path", ALL_PATHS, ids=_id)
def test_first_code_cell_calls_notebook_setup(path: Path) -> None:
    first = _code_cells(_read(path))[0]
    tree = ast.parse(first.source)
    imported = any(
        isinstance(node, ast.Import) and any(a.name == "autograd_lab" for a in node.names)
        for node in tree.body
    )
    called = any(
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Attribute)
        and node.value.func.attr == "notebook_setup"
        and isinstance(node.value.func.value, ast.Name)
        and node.value.func.value.id == "autograd_lab"
        for node in tree.body
    )
    assert imported and called, (
        f"{path.name}: the first code cell must import autograd_lab and call notebook_setup()"
    )


@pytest.mark.parametrize("path", ALL_PATHS, ids=_id)
def test_errors_only_where_expected(path: Path) -> None:
    for index, cell in enumerate(_read(path).cells):
        if cell.cell_type != "code":
            continue
        tagged = "raises-exception" in cell.metadata.get("tags", [])
        raised = any(o.output_type == "error" for o in cell.outputs)
        assert tagged == raised, (
            f"{path.name} cell {index}: " + ("tagged raises-exception but stores no error"
                                              if tagged else "stores an error but is not tagged")
        )


# ---------------------------------------------------------------------------------------
# Nothing machine-specific in stored outputs

_FORBIDDEN = [
    ("hex address", re.compile(r"\b0x[0-9a-fA-F]+")),
    ("absolute path",
     re.compile(r"(?<![\w.])/(root|home|tmp|work|Users|var/folders|private)(/|\b)")),
    ("Windows path", re.compile(r"\b[A-Za-z]:\\(Users|Windows|Temp)\b", re.IGNORECASE)),
    ("ipykernel cell file", re.compile(r"ipykernel_\d+")),
    ("torch build location", re.compile(r"Triggered internally at")),
]
_GENERIC_USERS = {"root", "user", "jovyan", "runner", "admin", "ubuntu", "vscode"}


def _user_pattern() -> re.Pattern[str] | None:
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name to look for
        return None
    if not user or user.lower() in _GENERIC_USERS:
        return None  # too common a word; the absolute-path check covers /root and /home/<x>
    return re.compile(rf"\b{re.escape(user)}\b")


def test_forbidden_patterns_catch_what_they_should() -> None:
    samples = {
        "hex address": "<PowBackward0 object at 0x7f3a2c1b9e80>",
        "absolute path": "/tmp/ipykernel_12/3.py:2: UserWarning",
        "Windows path": r"C:\Users\ada\notebook.py",
        "ipykernel cell file": "ipykernel_4242",
        "torch build location": "(Triggered internally at /pytorch/aten/src/x.h:494.)",
    }
    for name, pattern in _FORBIDDEN:
        assert pattern.search(samples[name]), name
    assert not any(p.search("tensor(6.6918) root of the graph /2 x/y") for _, p in _FORBIDDEN)


@pytest.mark.parametrize("path", ALL_PATHS, ids=_id)
def test_outputs_hold_no_paths_user_names_or_addresses(path: Path) -> None:
    patterns = list(_FORBIDDEN)
    user = _user_pattern()
    if user is not None:
        patterns.append(("user name", user))
    problems = []
    for index, cell in enumerate(_read(path).cells):
        if cell.cell_type != "code":
            continue
        for output in cell.outputs:
            for text in _output_texts(output):
                for name, pattern in patterns:
                    match = pattern.search(text)
                    if match:
                        problems.append(f"cell {index}: {name} {match.group(0)!r}")
    assert not problems, f"{path.name}: " + "; ".join(problems)


# ---------------------------------------------------------------------------------------
# nbval allow-list

ALLOWLIST = ROOT / "tests" / "nbval_allowlist.txt"


def _allowlist() -> dict[tuple[str, str], str]:
    entries = {}
    for raw in ALLOWLIST.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 2)
        assert len(parts) == 3, f"allow-list line needs notebook, cell id and a reason: {raw!r}"
        entries[(parts[0], parts[1])] = parts[2]
    return entries


def _nbval_marked(cell: nbformat.NotebookNode) -> bool:
    tags = set(cell.metadata.get("tags", []))
    comment = any(NBVAL_COMMENTS.match(line) for line in cell.source.splitlines())
    return bool(tags & NBVAL_TAGS) or comment


def test_nbval_skip_and_ignore_only_on_allow_listed_cells() -> None:
    allowed = _allowlist()
    marked = set()
    for path in ALL_PATHS:
        rel = str(path.relative_to(ROOT))
        for cell in _read(path).cells:
            if cell.cell_type == "code" and _nbval_marked(cell):
                marked.add((rel, cell.get("id", "")))
    unlisted = sorted(marked - set(allowed))
    stale = sorted(set(allowed) - marked)
    assert not unlisted, (
        f"cells carry nbval-skip/nbval-ignore-output without an allow-list entry: {unlisted}"
    )
    assert not stale, f"allow-list entries whose cell is gone or no longer tagged: {stale}"


# ---------------------------------------------------------------------------------------
# Seed figures

SEED_LINES = ROOT / "tests" / "seed_output_lines.txt"


def _seed_lines() -> list[str]:
    lines = []
    for raw in SEED_LINES.read_text(encoding="utf-8").splitlines():
        if raw.strip() and not raw.startswith("#"):
            lines.append(raw.rstrip())
    return lines


def test_seed_line_list_is_substantial() -> None:
    lines = _seed_lines()
    assert len(lines) >= 100, "the seed line list looks truncated"
    for must in ("Epoch 10: w=2.0337, b=0.7755, loss=0.0383", "-2.6145744834544478",
                 "tensor(-1.7460)", "  y.grad"):
        assert must in lines


#: The seeds' warning-echo lines ("  y.grad"): the source line Python's warning format prints
#: under a warning. They appear only if notebook_setup()'s path-free format keeps that line.
WARNING_ECHO = re.compile(r"^  \w+\.grad$")


def _warning_format_echoes_source() -> bool:
    from autograd_lab import notebook

    text = notebook.format_warning(UserWarning("m"), UserWarning, "<cell>", 1, "y.grad")
    return "\n  y.grad\n" in text


def test_every_seed_output_line_appears_in_a_lesson() -> None:
    printed = _printed_lines(LESSON_PATHS)
    wanted = {line for line in _seed_lines() if not WARNING_ECHO.match(line)}
    missing = sorted(wanted - printed)
    assert not missing, f"seed output lines not in any lesson's stored outputs: {missing}"


@pytest.mark.xfail(
    not _warning_format_echoes_source(),
    reason="notebook_setup() prints a warning without the source line it was raised on, so "
    "the seeds' '  y.grad' / '  z.grad' echo lines cannot appear (change requested in "
    "autograd_lab/notebook.py: format_warning appends '  <source line>')",
    strict=True,
)
def test_seed_warning_echo_lines_appear_in_a_lesson() -> None:
    printed = _printed_lines(LESSON_PATHS)
    echo = {line for line in _seed_lines() if WARNING_ECHO.match(line)}
    assert echo == {"  y.grad", "  z.grad"}
    missing = sorted(echo - printed)
    assert not missing, f"seed warning-echo lines not in any lesson's stored outputs: {missing}"


# ---------------------------------------------------------------------------------------
# Run All twice in one kernel


def _text_outputs(cell: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """A cell's text, streams merged by name (how a stream is chunked is timing, not output)."""
    streams: dict[str, str] = {}
    texts = []
    for output in cell.outputs:
        if output.output_type == "stream":
            streams[output.name] = streams.get(output.name, "") + output.text
            continue
        for text in _output_texts(output, traceback=False):
            texts.append((output.output_type, text))
    return sorted(streams.items()) + texts


@pytest.mark.parametrize("path", ALL_PATHS, ids=_id)
def test_run_all_twice_prints_the_same(path: Path) -> None:
    nb = _read(path)
    client = run_notebooks.make_client(nb, path)
    passes: list[list[list[tuple[str, str]]]] = []
    with client.setup_kernel(env=run_notebooks.kernel_env()):
        for _ in range(2):
            outputs = []
            for index, cell in enumerate(nb.cells):
                if cell.cell_type == "code":
                    client.execute_cell(cell, index)
                    outputs.append(_text_outputs(cell))
            passes.append(outputs)
    first, second = passes
    drifted = [i for i, (a, b) in enumerate(zip(first, second, strict=True)) if a != b]
    assert not drifted, (
        f"{path.name}: code cells {drifted} print something else on the second Run All: "
        + "; ".join(f"{first[i]!r} -> {second[i]!r}" for i in drifted[:3])
    )


# ---------------------------------------------------------------------------------------
# Teacher notes: the answers are what the code prints


def _question_script(lesson: lessons.Lesson) -> str:
    parts = ["import torch", "import autograd_lab", ""]
    for i, question in enumerate(lesson.questions):
        body = textwrap.indent(textwrap.dedent(question.code).strip("\n"), "    ")
        parts += [f"def _question_{i}():", body, "",
                  f"print('@@question {i}')", f"_question_{i}()", ""]
    return "\n".join(parts)


@pytest.mark.parametrize("lesson", lessons.LESSONS, ids=lambda lesson: lesson.name)
def test_teacher_note_answers_are_what_the_code_prints(lesson: lessons.Lesson) -> None:
    assert 2 <= len(lesson.questions) <= 4, "each lesson ends with 2-4 predict-then-run questions"
    result = subprocess.run(
        [sys.executable, "-c", _question_script(lesson)],
        capture_output=True, text=True, cwd=ROOT, timeout=300, check=False,
        env={**run_notebooks.kernel_env()},
    )
    assert result.returncode == 0, result.stderr
    printed = result.stdout.split("@@question ")[1:]
    assert len(printed) == len(lesson.questions)
    for i, (question, text) in enumerate(zip(lesson.questions, printed, strict=True)):
        got = text.split("\n", 1)[1].rstrip("\n")
        assert got == question.expected, f"{lesson.name} question {i + 1}: prints {got!r}"


def test_teacher_notes_are_not_in_the_students_notebooks() -> None:
    for path, lesson in zip(LESSON_PATHS, lessons.LESSONS, strict=True):
        text = "\n".join(c.source for c in _read(path).cells)
        for question in lesson.questions:
            assert question.why not in text, f"{path.name} shows a teacher answer"


# ---------------------------------------------------------------------------------------
# make notebooks is the only way outputs are made, and it is deterministic


@pytest.mark.parametrize("path", ALL_PATHS, ids=_id)
def test_stored_notebooks_are_normalised(path: Path) -> None:
    nb = _read(path)
    assert nb.metadata.get("language_info") == {"name": "python"}, "run make notebooks"
    assert nb.metadata.get("kernelspec", {}).get("name") == run_notebooks.KERNEL
    assert "widgets" not in nb.metadata, "widget state must not be stored"
    for index, cell in enumerate(nb.cells):
        assert "execution" not in cell.metadata, f"cell {index}: timing metadata stored"
        for output in cell.get("outputs", []):
            assert run_notebooks.WIDGET_VIEW not in output.get("data", {}), (
                f"cell {index}: a widget view with a random model id is stored"
            )


def test_make_notebooks_reproduces_a_stored_notebook_byte_for_byte(tmp_path: Path) -> None:
    stored = NOTEBOOKS / "05_vectors.ipynb"
    copy = tmp_path / stored.name
    copy.write_bytes(stored.read_bytes())
    run_notebooks.run_notebook(copy)
    assert copy.read_bytes() == stored.read_bytes(), (
        "re-executing 05_vectors.ipynb changed it: run make notebooks (and check determinism)"
    )
