"""How a notebook's cells show on the course website (a Sphinx extension for ``site/conf.py``).

Predict, then run, on the page too: the notebooks stay as they are in the repository, and the
site reads them through :func:`read_notebook` (``nb_custom_formats`` in ``conf.py``),
which changes the copy it renders:

* a cell tagged ``question`` also gets myst-nb's ``hide-output`` tag, so its output sits in a
  closed "Show output" block until the reader clicks it (its code stays visible);
* a cell tagged ``widget`` gets one line saying where to use the widget interactively, unless
  its stored output already says so (the widget's static picture says "run the notebook … to
  use it"). On a page a widget is a picture: there is no kernel behind it.

``<details>`` blocks in the markdown stay closed: myst-nb passes them through as written.
"""

from __future__ import annotations

import re
from typing import Any

import nbformat
from sphinx.application import Sphinx

QUESTION_TAG = "question"
WIDGET_TAG = "widget"
HIDE_OUTPUT_TAG = "hide-output"
#: Words that show a widget's stored output already says where to run it.
RUN_HINT = "run the notebook"
#: The line added under a widget cell whose output does not say where to run it.
RUN_NOTE = (
    "This widget is interactive in the notebook: run the notebook in JupyterLab "
    "(<code>make lab</code>) or in Colab to use it; this page shows the text it starts with."
)
RUN_NOTE_CLASS = "agl-run-note"


def _tags(cell: Any) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _output_text(cell: Any) -> str:
    parts: list[str] = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(str(output.get("text", "")))
        for value in output.get("data", {}).values():
            parts.append(value if isinstance(value, str) else "".join(map(str, value)))
    return " ".join(parts)


def says_where_to_run(cell: Any) -> bool:
    """True when a widget cell's stored output already tells the reader where to run it."""
    text = re.sub(r"<[^>]*>", " ", _output_text(cell))  # the words, not the markup
    return RUN_HINT in " ".join(text.lower().split())


def prepare(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook as the site shows it (changed in place and returned); see the module."""
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        tags = _tags(cell)
        if QUESTION_TAG in tags and HIDE_OUTPUT_TAG not in tags:
            cell.setdefault("metadata", {})["tags"] = [*tags, HIDE_OUTPUT_TAG]
        if WIDGET_TAG in tags and not says_where_to_run(cell):
            cell.setdefault("outputs", []).append(nbformat.v4.new_output(
                "display_data",
                data={"text/html": f'<p class="{RUN_NOTE_CLASS}">{RUN_NOTE}</p>'},
            ))
    return nb


def read_notebook(text: str) -> nbformat.NotebookNode:
    """myst-nb's reader for ``.ipynb``: nbformat's, then :func:`prepare`."""
    return prepare(nbformat.reads(text, as_version=4))


def setup(app: Sphinx) -> dict[str, Any]:
    # conf.py names read_notebook in nb_custom_formats; nothing else to register.
    return {"parallel_read_safe": True, "parallel_write_safe": True}
