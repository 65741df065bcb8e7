"""After autograding, a submission that rebound a check is flagged: :class:`FlagRebinding`.

An nbgrader preprocessor that runs last in ``Autograde.autograde_preprocessors`` (after
``SaveAutoGrades`` wrote the scores; :func:`~autograd_lab_course.grading.autograde.
autograde_preprocessors` puts it there). It gathers

* what :func:`~autograd_lab_course.grading.rebinding_scan.scan_notebook` finds in the
  submission's code (the static scan), and
* what the kernel reported after the last cell (``resources["rebindings"]``, from
  :class:`~autograd_lab_course.grading.execute.RecoveringExecute`: the dynamic check),

and when there is anything, sets the public ``flagged`` field of the submitted notebook in
nbgrader's gradebook and adds one line per finding to the autograder comment of the answer
cell it is in (the notebook's first answer cell for what the kernel found), so the
formgrader shows it. The scores are left exactly as the hidden tests gave them: the
instructor reviews and decides. The findings are also kept in the graded notebook's
metadata (``autograd_lab.rebindings``).
"""

from __future__ import annotations

from typing import Any

from nbformat import NotebookNode
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor

from autograd_lab_course.grading.rebinding_scan import scan_notebook

__all__ = ["HEADING", "FlagRebinding", "findings_by_cell"]

#: The first line of the comment a flagged answer cell gets.
HEADING = "Flagged for review: this submission may change what its tests check."


def _answer_cells(nb: NotebookNode) -> list[str]:
    return [cell.metadata["nbgrader"]["grade_id"] for cell in nb.cells
            if cell.get("metadata", {}).get("nbgrader", {}).get("solution")
            or cell.get("metadata", {}).get("nbgrader", {}).get("task")]


def findings_by_cell(nb: NotebookNode, reported: list[str]) -> dict[str, list[str]]:
    """Each answer cell's findings (static ones in their cell, ``reported`` in the first
    answer cell); empty when there is nothing to flag."""
    answers = _answer_cells(nb)
    if not answers:
        return {}
    found: dict[str, list[str]] = {}
    for finding in scan_notebook(nb):
        cell = finding.cell_id if finding.cell_id in answers else answers[0]
        found.setdefault(cell, []).append(str(finding))
    for line in reported:
        found.setdefault(answers[0], []).append(f"after the last cell: {line}")
    return found


class FlagRebinding(NbGraderPreprocessor):
    """Flag (never re-score) a submission that rebinds checks, modules or builtins.

    An ``NbGraderPreprocessor``, so it is enabled as nbgrader's own steps are.
    """

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        found = findings_by_cell(nb, list(resources.get("rebindings") or []))
        nb.metadata.setdefault("autograd_lab", {})["rebindings"] = found
        if not found:
            return nb, resources
        ids = resources["nbgrader"]
        self.log.warning("Flagged %s/%s for %s: %d finding(s)", ids["assignment"],
                         ids["notebook"], ids["student"], sum(map(len, found.values())))
        with Gradebook(ids["db_url"]) as gradebook:
            submitted = gradebook.find_submission_notebook(
                ids["notebook"], ids["assignment"], ids["student"])
            submitted.flagged = True
            for cell_id, lines in found.items():
                comment = gradebook.find_comment(cell_id, ids["notebook"], ids["assignment"],
                                                 ids["student"])
                text = "\n".join([HEADING, *(f"- {line}" for line in lines)])
                comment.auto_comment = "\n\n".join(filter(None, [comment.auto_comment, text]))
            gradebook.db.commit()
        return nb, resources

    def preprocess_cell(self, cell: Any, resources: dict, index: int) -> tuple[Any, dict]:
        return cell, resources
