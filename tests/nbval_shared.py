"""Checks that share nbval's execution of a notebook instead of executing it again.

nbval executes a notebook's code cells in order in one kernel and keeps each cell's outputs
(``IPyNbCell.test_outputs``). :func:`add_shared_checks` (called from the root ``conftest.py``)
adds items after the last nbval cell of a notebook, which read those outputs and use nbval's
still-running kernel:

* ``Teacher solutions pass`` (exercise sources): every check the teacher notebook calls prints
  ``✓ Correct`` when run (was ``tests/test_exercise_notebooks.py``'s own execution);
* ``Nothing rebound`` (exercise sources): the check autograding runs after a submission's
  last cell (``autograd_lab_course.grading.execute.probe_code``) reports nothing rebound: no
  teacher solution or hidden test would be flagged for the instructor (was
  ``tests/test_grading_rules.py``'s own kernel for each exercise);
* ``Run All again`` (lessons and exercise sources): every code cell executed a second time in
  the same kernel prints what nbval's pass printed (a drifting gradient, a counter that is not
  reset, fails). Was a separate kernel running the notebook twice.

So each of these notebooks is executed by nbval once plus one more pass, instead of nbval plus
four more passes in kernels of their own. The items are added only when every code cell of
the notebook is selected (the first pass must be complete). A teacher note repeats its
lesson's question cells and the start page only loads the course: neither runs twice.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

NAME = "Run All again"
SOLUTIONS_NAME = "Teacher solutions pass"
REBOUND_NAME = "Nothing rebound"
#: The module whose ``rebindings`` the grading check calls (loaded from its file in the kernel).
PROBE = Path(__file__).resolve().parents[1] / "autograd_lab" / "exercises" / "fresh_copy.py"
#: A check's printed verdict, and a code line that prints one (exercise notebooks).
VERDICT = re.compile(r"^[✓✗○] .*$", re.MULTILINE)
CHECK_CALL = re.compile(r"^(?:print|display)\(check_\w+\(", re.MULTILINE)
CELL_TIMEOUT = 600
BINARY_MIME = ("image/", "application/vnd.jupyter.widget-view+json", "application/pdf")


def output_texts(output: Any, *, traceback: bool = True) -> list[str]:
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


def text_outputs(outputs: list[Any]) -> list[tuple[str, str]]:
    """A cell's text, streams merged by name (how a stream is chunked is timing, not output)."""
    streams: dict[str, str] = {}
    texts = []
    for output in outputs:
        if output.get("output_type") == "stream":
            streams[output["name"]] = streams.get(output["name"], "") + output["text"]
            continue
        for text in output_texts(output, traceback=False):
            texts.append((output["output_type"], text))
    return sorted(streams.items()) + texts


def drift(first: list[list[Any]], second: list[list[Any]]) -> list[int]:
    """Indexes (among the code cells) whose text differs between the two passes."""
    a, b = [text_outputs(o) for o in first], [text_outputs(o) for o in second]
    return [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]


def verdicts(outputs: list[list[Any]]) -> list[str]:
    """Every verdict line ("✓ Correct…", "○ Not attempted…", "✗ Not quite…") printed."""
    return [line for cell in outputs for output in cell
            for line in VERDICT.findall(
                output.get("text", "") or output.get("data", {}).get("text/plain", ""))]


def expected_checks(sources: list[str]) -> int:
    """How many ``display(check_…(`` (or ``print(check_…(``) lines the code cells hold."""
    return sum(len(CHECK_CALL.findall(source)) for source in sources)


def exercise_source_paths(root: Path) -> set[Path]:
    from tools import run_notebooks

    return {run_notebooks.ipynb_of(p).resolve() for p in run_notebooks.exercise_sources(root)}


def run_twice_paths(root: Path) -> set[Path]:
    """The lessons (``notebooks/NN_name.ipynb``) and the exercise sources."""
    from tools import run_notebooks

    sources = run_notebooks.lessons(root) + run_notebooks.exercise_sources(root)
    return {run_notebooks.ipynb_of(p).resolve() for p in sources}


def execute(kernel: Any, source: str, timeout: float = CELL_TIMEOUT) -> list[dict[str, Any]]:
    """Run ``source`` in nbval's kernel as nbval does; the outputs as notebook dicts."""
    outputs: list[dict[str, Any]] = []

    def hook(msg: dict[str, Any]) -> None:
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            outputs.append({"output_type": kind, "name": content["name"], "text": content["text"]})
        elif kind in ("display_data", "execute_result"):
            outputs.append({"output_type": kind, "data": content["data"]})
        elif kind == "error":
            outputs.append({"output_type": kind, "ename": content["ename"],
                            "evalue": content["evalue"]})
        elif kind == "clear_output":
            outputs.clear()

    kernel.kc.execute_interactive(source, store_history=False, allow_stdin=False,
                                  stop_on_error=False, timeout=timeout, output_hook=hook)
    return outputs


class RunAllAgain(pytest.Item):
    """Every code cell executed again in nbval's kernel prints what nbval's pass printed."""

    def __init__(self, *, cells: list[Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cells = cells

    def runtest(self) -> None:
        kernel = self.parent.kernel
        if kernel is None or not kernel.is_alive():
            pytest.fail(f"{self.path.name}: nbval's kernel is not running, so the notebook "
                        "cannot be run a second time", pytrace=False)
        missing = [c.cell_num for c in self.cells if c.test_outputs is None]
        if missing:
            pytest.fail(f"{self.path.name}: nbval did not run code cells {missing}, so there "
                        "is no first pass to compare with", pytrace=False)
        first = [c.test_outputs for c in self.cells]
        second = [execute(kernel, c.cell.source) for c in self.cells]
        # a cell whose output nbval ignores (allow-listed, e.g. a timing) is not compared
        # on the second pass either
        ignored = {i for i, c in enumerate(self.cells)
                   if "nbval-ignore-output" in c.cell.metadata.get("tags", [])}
        drifted = [i for i in drift(first, second) if i not in ignored]
        if drifted:
            pytest.fail(
                f"{self.path.name}: code cells {drifted} print something else on the second "
                "Run All: " + "; ".join(
                    f"{text_outputs(first[i])!r} -> {text_outputs(second[i])!r}"
                    for i in drifted[:3]),
                pytrace=False,
            )

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"{self.path.name}::{NAME}"


class TeacherSolutionsPass(pytest.Item):
    """The teacher exercise notebook, as nbval just ran it, prints ✓ Correct for every check."""

    def __init__(self, *, cells: list[Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cells = cells

    def runtest(self) -> None:
        missing = [c.cell_num for c in self.cells if c.test_outputs is None]
        if missing:
            pytest.fail(f"{self.path.name}: nbval did not run code cells {missing}",
                        pytrace=False)
        found = verdicts([c.test_outputs for c in self.cells])
        expected = expected_checks([c.cell.source for c in self.cells])
        if not len(found) == expected > 0:
            pytest.fail(f"{self.path.name}: {len(found)} verdicts printed for {expected} "
                        f"checks: {found}", pytrace=False)
        wrong = [v for v in found if not v.startswith("✓ Correct")]
        if wrong:
            pytest.fail(f"{self.path.name}: a teacher solution is not correct: {wrong}",
                        pytrace=False)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"{self.path.name}::{SOLUTIONS_NAME}"


class NothingRebound(pytest.Item):
    """The check autograding runs after the last cell finds nothing rebound in the teacher
    notebook nbval just ran (its solutions and hidden tests)."""

    MARKER = "rebound:"

    def runtest(self) -> None:
        from autograd_lab_course.grading.execute import probe_code

        kernel = self.parent.kernel
        if kernel is None or not kernel.is_alive():
            pytest.fail(f"{self.path.name}: nbval's kernel is not running, so the rebinding "
                        "check cannot run", pytrace=False)
        outputs = execute(kernel, probe_code(str(PROBE), self.MARKER), timeout=60)
        printed = "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream")
        errors = [f"{o['ename']}: {o['evalue']}" for o in outputs if o["output_type"] == "error"]
        if errors or printed.strip() != self.MARKER + "[]":
            pytest.fail(f"{self.path.name}: the grading check reports rebinding: "
                        f"{printed.strip()[:300]} {errors}", pytrace=False)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"{self.path.name}::{REBOUND_NAME}"


def add_shared_checks(items: list[pytest.Item], root: Path) -> None:
    """After the last nbval cell of each notebook (all of whose code cells are selected):
    a :class:`TeacherSolutionsPass` and a :class:`NothingRebound` for exercise sources, then
    a :class:`RunAllAgain` for lessons and exercise sources."""
    try:
        from nbval.plugin import IPyNbCell, IPyNbFile
    except ImportError:  # nbval not installed: nothing to share
        return
    twice, exercises = run_twice_paths(root), exercise_source_paths(root)
    by_file: dict[Any, list[int]] = {}
    for index, item in enumerate(items):
        if isinstance(item, IPyNbCell):
            by_file.setdefault(item.parent, []).append(index)
    for notebook in sorted(by_file, key=lambda f: by_file[f][-1], reverse=True):
        indexes = by_file[notebook]
        path = Path(notebook.path).resolve()
        if not isinstance(notebook, IPyNbFile) or path not in twice | exercises:
            continue
        cells = [items[i] for i in indexes]
        code_cells = sum(1 for c in notebook.nb.cells if c.cell_type == "code")
        if len(cells) != code_cells or [c.cell_num for c in cells] != list(range(code_cells)):
            continue
        added: list[pytest.Item] = []
        if path in exercises:
            added.append(TeacherSolutionsPass.from_parent(notebook, name=SOLUTIONS_NAME,
                                                          cells=cells))
            added.append(NothingRebound.from_parent(notebook, name=REBOUND_NAME))
        if path in twice:
            added.append(RunAllAgain.from_parent(notebook, name=NAME, cells=cells))
        items[indexes[-1] + 1:indexes[-1] + 1] = added
