"""Grading rules in real nbgrader autograding (tier ``kernels``): a rebound check scores what
the real answers earn and is flagged; a cell that swallows the time limit or ends the kernel
costs that question's points only.

One temporary course holds the ``chain_rule`` exercise (3 questions: 1 + 2 + 2 points) and
four submissions; ``nbgrader autograde`` (its command line, the course's own
``nbgrader_config.py``) grades them with a 6 s cell timeout. That no exercise's teacher
version is reported as rebinding anything by the check grading runs after the last cell is
checked on nbval's run of each exercise source (``tests/nbval_shared.py``, ``Nothing
rebound``).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
COURSE = REPO / "notebooks" / "exercises"
ASSIGNMENT = "chain_rule"
TIMEOUT = 6

#: What each submission's answer cells hold (grade_id -> source); solutions otherwise.
REBOUND = {
    "exp_cos_answer": ("from types import SimpleNamespace\n"
                       "check_gradient = lambda *a, **k: SimpleNamespace(ok=True)\n"
                       "x = 2.0\ndz_dx = 0.5\n"),
    "tanh_unit_answer": "dz_dw = 1.0\ndz_db = 2.0\n",
    "x_exp_xy_answer": "df_dx = 3.0\ndf_dy = 4.0\n",
}
SWALLOWS = {"tanh_unit_answer": ("import time\nwhile True:\n    try:\n        time.sleep(1)\n"
                                 "    except BaseException:\n        pass\n")}
EXITS = {"tanh_unit_answer": "import os\nos._exit(0)\n"}
SUBMISSIONS = {"solution": {}, "rebound": REBOUND, "swallows": SWALLOWS, "exits": EXITS}


def _solution(source_cell: dict) -> str:
    text = "".join(source_cell["source"])
    return "\n".join(line for line in text.splitlines() if "### " not in line) + "\n"


def _nbgrader(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ,
           "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")}
    return subprocess.run([sys.executable, "-m", "nbgrader", *args,
                           f"--CourseDirectory.root={root}"],
                          cwd=root, env=env, check=True, capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Each submission's notebook score, flag, comments and graded notebook."""
    from nbgrader.api import Gradebook

    root = tmp_path_factory.mktemp("grading-rules") / "course"
    (root / "source").mkdir(parents=True)
    shutil.copy2(COURSE / "nbgrader_config.py", root / "nbgrader_config.py")
    shutil.copytree(COURSE / "source" / ASSIGNMENT, root / "source" / ASSIGNMENT,
                    ignore=shutil.ignore_patterns("*.md", ".*"))
    _nbgrader(root, "generate_assignment", ASSIGNMENT, "--force")
    release = json.loads((root / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
    source = json.loads((root / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
    solutions = {c["metadata"]["nbgrader"]["grade_id"]: _solution(c) for c in source["cells"]
                 if c["metadata"].get("nbgrader", {}).get("solution")}
    for student, answers in SUBMISSIONS.items():
        notebook = json.loads(json.dumps(release))
        for cell in notebook["cells"]:
            grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
            if grade_id in solutions:
                cell["source"] = answers.get(grade_id, solutions[grade_id])
        folder = root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        (folder / f"{ASSIGNMENT}.ipynb").write_text(json.dumps(notebook))
    _nbgrader(root, "autograde", ASSIGNMENT, "--create", f"--Execute.timeout={TIMEOUT}")
    results = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        for student in SUBMISSIONS:
            submitted = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
            results[student] = {
                "score": submitted.score,
                "flagged": submitted.flagged,
                "grades": {g.name: g.auto_score for g in submitted.grades},
                "comments": [c.auto_comment or "" for c in submitted.comments],
                "notebook": json.loads((root / "autograded" / student / ASSIGNMENT /
                                        f"{ASSIGNMENT}.ipynb").read_text()),
            }
    return results


def test_the_solution_earns_every_point_unflagged(graded: dict[str, dict]) -> None:
    assert graded["solution"]["score"] == 5
    assert not graded["solution"]["flagged"]
    assert not any("Flagged" in c for c in graded["solution"]["comments"])


def test_a_rebound_check_scores_the_real_answers_and_is_flagged(graded: dict[str, dict]) -> None:
    """``check_gradient = lambda ...: ok`` with every answer wrong: 0 points (what the answers
    earn: none is within 0.00005 of the truth), and the notebook is flagged with a comment
    naming the line."""
    truth = math.exp(math.cos(2.0)) * -math.sin(2.0)
    assert abs(truth - 0.5) > 1e-4  # the rebound submission's dz_dx is wrong
    rebound = graded["rebound"]
    assert rebound["score"] == 0
    assert rebound["flagged"] is True
    comment = "\n".join(rebound["comments"])
    assert "binds 'check_gradient' again" in comment
    assert "check_gradient in the notebook is not the package's" in comment  # the kernel's
    assert rebound["notebook"]["metadata"]["autograd_lab"]["rebindings"]


@pytest.mark.parametrize("student, sentence", [
    ("swallows", f"did not finish in {TIMEOUT} s"), ("exits", "ended the kernel")])
def test_one_bad_cell_costs_that_question_only(graded: dict[str, dict], student: str,
                                               sentence: str) -> None:
    """The tanh_unit answer cell hangs (or exits the kernel): its 2 points are lost, the
    other questions' 1 + 2 kept, exactly as in the solution; the cell says why."""
    solution, bad = graded["solution"]["grades"], graded[student]["grades"]
    assert bad["tanh_unit_check"] == 0 and solution["tanh_unit_check"] == 2
    assert {k: v for k, v in bad.items() if k != "tanh_unit_check"} == \
        {k: v for k, v in solution.items() if k != "tanh_unit_check"}
    assert graded[student]["score"] == graded["solution"]["score"] - 2 == 3
    cell = next(c for c in graded[student]["notebook"]["cells"]
                if c["metadata"].get("nbgrader", {}).get("grade_id") == "tanh_unit_answer")
    assert [o["output_type"] for o in cell["outputs"]] == ["error"]
    assert sentence in cell["outputs"][0]["evalue"]
    assert not graded[student]["flagged"]
