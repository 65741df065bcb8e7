"""Predict, then run: no lesson shows an answer before the learner could commit a guess.

A prompt is a bold **Predict**, **Work it out** or **Derive** in a lesson's markdown. After
the paragraph that holds it, the next thing a learner sees must be one of

* a code cell that runs the prediction (its output is the reveal), or
* a ``<details>`` block (the worked answer, hidden until opened).

Text after the prompt's paragraph in the same cell, or a markdown cell right after it, is
visible before the learner tried, unless it sits in ``<details>`` (or is the next prompt,
checked in its turn). A code cell that only
shows a widget (the learner tries there) is not a reveal: the text after it is hidden too.
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import pytest

from tools import run_notebooks

ROOT = Path(__file__).resolve().parent.parent
LESSONS = run_notebooks.lessons(ROOT)

PROMPT = re.compile(r"\*\*(predict|work it out|derive)\b", re.IGNORECASE)
#: A widget cell: the last line constructs one of the kit's widgets (``...Explorer(...)``).
WIDGET = re.compile(r"^\s*(?:\w+\s*=\s*)?(?:autograd_lab\.)?\w+(Explorer|Stepper|Tracer|Lab)\(",
                    re.MULTILINE)
DETAILS = "<details"


def _paragraphs(text: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n", text) if p.strip()]


def _hidden(text: str) -> bool:
    """True when ``text`` is empty or starts with a ``<details>`` block."""
    return not text.strip() or text.lstrip().startswith(DETAILS)


def reveals_before_guess(cells: list[dict]) -> list[str]:
    """Each prompt whose answer is visible before a code cell or a ``<details>`` block."""
    problems: list[str] = []
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        paragraphs = _paragraphs(cell["source"])
        for number, paragraph in enumerate(paragraphs):
            if not PROMPT.search(paragraph) or DETAILS in paragraph:
                continue
            if number + 1 < len(paragraphs) and PROMPT.search(paragraphs[number + 1]):
                continue  # a second prompt follows at once: it is checked in its turn
            rest = "\n\n".join(paragraphs[number + 1:])
            where = PROMPT.search(paragraph).group(0).strip("*")
            echo = " ".join(paragraph.split())[:60]
            if not _hidden(rest):
                problems.append(f"cell {index}: text after '{where}' ({echo}…)")
                continue
            if rest.strip():
                continue  # the rest of the cell is a <details> block
            following = cells[index + 1] if index + 1 < len(cells) else None
            if following is None:
                continue
            if following["cell_type"] == "markdown" and not _hidden(following["source"]):
                problems.append(f"cell {index + 1}: visible right after '{where}' ({echo}…)")
    for index, cell in enumerate(cells[:-1]):
        after = cells[index + 1]
        if (cell["cell_type"] == "code" and WIDGET.search(cell["source"])
                and after["cell_type"] == "markdown" and not _hidden(after["source"])
                and re.search(r"tried|answer|solution", after["source"], re.IGNORECASE)):
            problems.append(f"cell {index + 1}: the widget's answer is visible beside it")
    return problems


def _cells(path: Path) -> list[dict]:
    return [dict(c) for c in jupytext.read(path).cells]


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_no_answer_is_visible_before_the_learner_guessed(lesson: Path) -> None:
    assert reveals_before_guess(_cells(lesson)) == []


def _md(source: str) -> dict:
    return {"cell_type": "markdown", "source": source}


def _code(source: str) -> dict:
    return {"cell_type": "code", "source": source}


def test_the_rule_catches_each_way_an_answer_shows_early() -> None:
    prompt = "Take $y = x^2$. **Predict** `x.grad` at $x = 3$."
    # fine: the run comes next; a hidden worked answer; the widget's answer hidden
    assert reveals_before_guess([_md(prompt), _code("print(1)"), _md("It is 6.")]) == []
    assert reveals_before_guess([_md(prompt + "\n\n<details><summary>Answer</summary>6"
                                         "</details>")]) == []
    assert reveals_before_guess([_md("**Derive** it."), _md("<details>\n\n6\n\n</details>")]) == []
    assert reveals_before_guess([_md(prompt + "\n\n**Predict** `y.grad` too."), _code("")]) == []
    widget = _code("autograd_lab.TrainingExplorer()")
    hidden = _md("<details><summary>Once you have tried it</summary>lr = 0.12</details>")
    assert reveals_before_guess([_md(prompt), widget, hidden]) == []
    # caught: the answer in the same cell, in the next markdown cell, or beside a widget
    assert reveals_before_guess([_md(prompt + "\n\nIt is $2x = 6$."), _code("x")])
    assert reveals_before_guess([_md("**Work it out** on paper."), _md("It is 6."), _code("")])
    assert reveals_before_guess([_md(prompt), widget, _md("Once you have tried it: 0.12.")])
