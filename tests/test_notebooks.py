"""The stored notebooks are the product: check them without trusting how they were made.

nbval (``pytest`` with ``--nbval``) re-runs every stored notebook (the start page, lessons,
teacher notes and teacher exercise notebooks) and compares each cell's output with the stored
one. This file checks what nbval cannot, reading the stored JSON only (no kernel: it runs in
``make check``; ``tests/test_notebooks_execute.py`` holds the checks that execute):

* every notebook is a pair found by pattern (``tools/run_notebooks.py``): its ``.md`` (the
  one source of cell inputs) and its ``.ipynb`` agree in content, and no code cell changed
  since it was last executed (its stored source hash);
* every code cell was executed (execution_count is set) and the first one calls
  ``autograd_lab.notebook_setup()``;
* no stored output holds an absolute path, the user's name or a hex memory address;
* ``nbval-skip`` / ``nbval-ignore-output`` only on cells in ``tests/nbval_allowlist.txt``;
* every printed line of the five seed notebooks (``tests/seed_output_lines.txt``) appears in
  some lesson's stored outputs;
* Run All twice in one kernel prints the same text both times (no drifting gradients): the
  second pass runs in nbval's own kernel right after nbval's pass (``tests/nbval_shared.py``,
  items named ``Run All again``), so it shares nbval's execution;
* each lesson's "predict, then run" cells (tag ``question``) are copied exactly, in order,
  into its teacher note, whose answers are what the code prints;
* every lesson appears in the README's lesson table.
"""

from __future__ import annotations

import ast
import getpass
import re
from pathlib import Path

import nbformat
import pytest

from tests import nbval_shared
from tools import run_notebooks

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
LESSON_SOURCES = run_notebooks.lessons(ROOT)
LESSON_PATHS = [run_notebooks.ipynb_of(p) for p in LESSON_SOURCES]
NOTE_PATHS = [run_notebooks.ipynb_of(p) for p in run_notebooks.teacher_notes(ROOT)]
START_PATH = run_notebooks.ipynb_of(run_notebooks.start_page(ROOT))
SOURCES = run_notebooks.sources(ROOT)
ALL_PATHS = [run_notebooks.ipynb_of(p) for p in SOURCES]
NBVAL_TAGS = {"nbval-skip", "nbval-ignore-output"}
NBVAL_COMMENTS = re.compile(
    r"^\s*#\s*(NBVAL_SKIP|NBVAL_IGNORE_OUTPUT|PYTEST_VALIDATE_IGNORE_OUTPUT)"
)


def _id(path: Path) -> str:
    return str(path.relative_to(NOTEBOOKS))


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _code_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if c.cell_type == "code"]


_output_texts = nbval_shared.output_texts  # all text a stored output holds


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


def test_lessons_and_pairs_are_found_by_pattern() -> None:
    assert len(LESSON_SOURCES) >= 8, f"expected at least the eight lessons, found {LESSON_SOURCES}"
    numbers = [p.stem[:2] for p in LESSON_SOURCES]
    assert len(set(numbers)) == len(numbers), f"two lessons share a number: {numbers}"
    assert START_PATH.is_file(), "notebooks/00_start_here.ipynb is missing: run make notebooks"
    assert len(run_notebooks.exercise_sources(ROOT)) >= 5
    missing = [str(p.relative_to(ROOT)) for p in ALL_PATHS if not p.is_file()]
    assert not missing, f"a .md has no .ipynb yet: run make notebooks ({missing})"
    orphans = sorted(
        str(p.relative_to(ROOT))
        for folder in (NOTEBOOKS, NOTEBOOKS / "teacher-notes")
        for p in folder.glob("*.ipynb")
        if p.with_suffix(".md") not in SOURCES
    )
    assert not orphans, f"notebooks without a .md source (name them NN_name.md): {orphans}"


def _pairing(folder: Path) -> str:
    from jupytext.config import load_jupytext_config

    config = load_jupytext_config(str(folder))
    formats = "" if config is None else config.formats
    formats = formats if isinstance(formats, str) else ",".join(formats)
    if formats:  # the tools build pairs with the same settings (run_notebooks.CONFIG)
        assert config.notebook_metadata_filter == run_notebooks.NOTEBOOK_METADATA_FILTER
        assert config.cell_metadata_filter == run_notebooks.CELL_METADATA_FILTER
    return formats


def test_pairing_covers_the_sources_and_never_the_students_copies(tmp_path: Path) -> None:
    paired = {p.parent for p in SOURCES}
    assert NOTEBOOKS / "teacher-notes" in paired
    for folder in sorted(paired):
        assert _pairing(folder) == "ipynb,md:myst", folder
    release = sorted(p.parent for p in (NOTEBOOKS / "exercises" / "release").glob("*/*.ipynb"))
    assert release
    # ROOT: the students' default workspace/ sits beside notebooks/, under the repository root
    for folder in release + [NOTEBOOKS / "exercises", ROOT, tmp_path]:
        assert _pairing(folder) == "", f"{folder} would be paired: students would get a .md"


@pytest.mark.parametrize("path", ALL_PATHS, ids=_id)
def test_md_and_ipynb_of_a_pair_agree(path: Path) -> None:
    """Compared by content, never by timestamp: the .md is what jupytext writes for the .ipynb."""
    md = path.with_suffix(".md")
    stored = _read(path)
    assert md.read_text(encoding="utf-8") == run_notebooks.myst_text(stored, md), (
        f"{md.relative_to(ROOT)} and {path.name} differ: after editing the .md run "
        f"`make sync` (markdown only) or `make notebooks NB={md.stem}`"
    )


@pytest.mark.parametrize("path", ALL_PATHS, ids=_id)
def test_no_code_cell_changed_since_it_was_executed(path: Path) -> None:
    stale = run_notebooks.stale_cells(_read(path))
    assert not stale, (
        f"{path.name}: code cells {stale} changed since they were last executed: run "
        f"`make notebooks NB={path.stem}`"
    )


def test_a_changed_code_cell_is_flagged() -> None:
    nb = _read(LESSON_PATHS[0])
    assert run_notebooks.stale_cells(nb) == []
    index = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    nb.cells[index].source += "\nprint('edited')"
    assert run_notebooks.stale_cells(nb) == [index]


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


#: Shares nbval's run: ``tests/nbval_shared.py`` adds a ``Run All again`` item after the last
#: nbval cell of every lesson and exercise source, which executes every code cell a second time
#: in nbval's still-running kernel and compares each cell's text with nbval's first pass.
#: (A teacher note's question cells are copies of its lesson's, checked above, which run
#: twice there; the start page only loads the course.)


def test_run_all_twice_covers_the_lessons_and_exercise_sources() -> None:
    expected = {p.resolve() for p in LESSON_PATHS} | {
        run_notebooks.ipynb_of(p).resolve() for p in run_notebooks.exercise_sources(ROOT)
    }
    assert nbval_shared.run_twice_paths(ROOT) == expected
    assert len(expected) >= len(LESSON_PATHS) + 5


def test_run_all_twice_catches_drift_and_ignores_stream_chunking() -> None:
    def stream(text: str, name: str = "stdout") -> dict[str, str]:
        return {"output_type": "stream", "name": name, "text": text}

    def error(value: str) -> dict[str, str]:
        return {"output_type": "error", "ename": "RuntimeError", "evalue": value,
                "traceback": ["(differs between runs)"]}

    first = [[stream("x.grad = 4.0\n")], [stream("a\n"), stream("b\n")], [error("boom")],
             [{"output_type": "execute_result", "data": {"text/plain": "tensor(1.)",
                                                         "image/png": "AAA"}}]]
    again = [[stream("x.grad = 4.0\n")], [stream("a\nb\n")], [error("boom")],
             [{"output_type": "execute_result", "data": {"text/plain": "tensor(1.)",
                                                         "image/png": "BBB"}}]]
    assert nbval_shared.drift(first, again) == []
    drifted = [[stream("x.grad = 8.0\n")], again[1], [error("bang")],
               [{"output_type": "execute_result", "data": {"text/plain": "tensor(2.)"}}]]
    assert nbval_shared.drift(first, drifted) == [0, 2, 3]
    assert nbval_shared.drift([[stream("1\n", "stderr")]], [[stream("1\n")]]) == [0]


# ---------------------------------------------------------------------------------------
# Teacher notes: the lesson's questions, copied exactly; the answers are what the code prints


def _questions(nb: nbformat.NotebookNode) -> list[str]:
    return [c.source for c in _code_cells(nb) if "question" in c.metadata.get("tags", [])]


def _note_of(lesson: Path) -> Path:
    return NOTEBOOKS / "teacher-notes" / lesson.name


def question_mismatches(lesson_md: Path) -> list[str]:
    """What differs between a lesson's question cells and its teacher note's (empty: none)."""
    import jupytext

    asked = _questions(jupytext.read(lesson_md))
    note = _note_of(lesson_md)
    if not note.is_file():
        return [f"{lesson_md.stem} has no teacher note {note.relative_to(note.parents[2])}"]
    answered = _questions(jupytext.read(note))
    if asked != answered:
        return [f"{lesson_md.stem}: the note's question cells differ from the lesson's "
                f"({len(asked)} in the lesson, {len(answered)} in the note)"]
    return []


@pytest.mark.parametrize("lesson", LESSON_SOURCES, ids=lambda p: p.stem)
def test_teacher_note_repeats_the_lesson_questions(lesson: Path) -> None:
    assert 2 <= len(_questions(_read(run_notebooks.ipynb_of(lesson)))) <= 5, (
        "each lesson ends with 2-5 predict-then-run questions (code cells tagged question)"
    )
    assert question_mismatches(lesson) == []


def test_every_teacher_note_belongs_to_a_lesson() -> None:
    lessons = {p.name for p in LESSON_SOURCES}
    strays = [p.name for p in run_notebooks.teacher_notes(ROOT) if p.name not in lessons]
    assert not strays, f"teacher notes without a lesson of the same name: {strays}"


@pytest.mark.parametrize("note", NOTE_PATHS, ids=lambda p: p.stem)
def test_teacher_note_answers_are_what_the_code_prints(note: Path) -> None:
    """The markdown under each question quotes the question cell's stored (nbval-checked) output."""
    cells = _read(note).cells
    questions = [i for i, c in enumerate(cells)
                 if c.cell_type == "code" and "question" in c.metadata.get("tags", [])]
    assert questions, f"{note.name} has no question cells"
    for number, index in enumerate(questions, 1):
        printed = "".join(t for o in cells[index].outputs for t in _output_texts(o)).rstrip("\n")
        answer = cells[index + 1] if index + 1 < len(cells) else None
        assert answer is not None and answer.cell_type == "markdown", (
            f"{note.name} question {number}: no answer (markdown) below the code"
        )
        assert f"```text\n{printed}\n```" in answer.source, (
            f"{note.name} question {number}: the answer does not quote what it prints, {printed!r}"
        )


def test_teacher_notes_are_not_in_the_students_notebooks() -> None:
    for note in NOTE_PATHS:
        lesson = NOTEBOOKS / note.name
        text = "\n".join(c.source for c in _read(lesson).cells)
        for cell in _read(note).cells[1:]:
            if cell.cell_type == "markdown" and cell.source.startswith("Prints:"):
                why = cell.source.split("```", 2)[-1].strip()
                assert why not in text, f"{lesson.name} shows a teacher answer"


# ---------------------------------------------------------------------------------------
# The README lists every lesson


def lessons_missing_from_readme(root: Path) -> list[str]:
    """Lessons (by pattern) that have no row in the README's "The lessons" table."""
    readme = (root / "README.md").read_text(encoding="utf-8")
    # a row names the lesson as `NN_name`, or as a link [`NN_name`](…) once make colab
    # writes the Open-in-Colab links
    rows = set(re.findall(r"^\| \[?`(\d\d_[a-z0-9_]+)`(?:\]\([^)]*\))? \|", readme,
                          re.MULTILINE))
    return [p.stem for p in run_notebooks.lessons(root) if p.stem not in rows]


def test_every_lesson_is_in_the_readme_table() -> None:
    missing = lessons_missing_from_readme(ROOT)
    assert not missing, f"add a row to README.md's lesson table for: {missing}"


# ---------------------------------------------------------------------------------------
# make notebooks is the only way outputs are made, and it is deterministic


@pytest.mark.parametrize("path", ALL_PATHS, ids=_id)
def test_stored_notebooks_are_normalised(path: Path) -> None:
    nb = _read(path)
    assert nb.metadata.get("language_info") == {"name": "python"}, "run make notebooks"
    assert nb.metadata.get("kernelspec") == run_notebooks.KERNELSPEC
    assert set(nb.metadata) == {"kernelspec", "language_info"}, "only the kernel is stored"
    for index, cell in enumerate(nb.cells):
        assert "execution" not in cell.metadata, f"cell {index}: timing metadata stored"
        for output in cell.get("outputs", []):
            assert run_notebooks.WIDGET_VIEW not in output.get("data", {}), (
                f"cell {index}: a widget view with a random model id is stored"
            )


def test_a_markdown_edit_syncs_without_running_and_keeps_every_output(tmp_path: Path) -> None:
    lesson = NOTEBOOKS / "02_chain_rule"
    md, ipynb = tmp_path / "02_chain_rule.md", tmp_path / "02_chain_rule.ipynb"
    md.write_text(lesson.with_suffix(".md").read_text(encoding="utf-8").replace(
        "# 02 ·", "# 02 (edited) ·", 1), encoding="utf-8")
    ipynb.write_bytes(lesson.with_suffix(".ipynb").read_bytes())
    run_notebooks.build(md, run=False)
    before, after = _read(lesson.with_suffix(".ipynb")), _read(ipynb)
    assert after.cells[0].source.startswith("# 02 (edited) ·")
    assert [c.get("outputs") for c in after.cells] == [c.get("outputs") for c in before.cells]
    assert [c.get("id") for c in after.cells] == [c.get("id") for c in before.cells]
    # a code edit is refused: it needs make notebooks
    md.write_text(md.read_text(encoding="utf-8").replace(
        "autograd_lab.notebook_setup()", "autograd_lab.notebook_setup()  # edited", 1),
        encoding="utf-8")
    with pytest.raises(RuntimeError, match="changed since they were executed"):
        run_notebooks.build(md, run=False)
