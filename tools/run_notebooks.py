"""Build the course notebooks from their MyST sources: ``make notebooks`` and ``make sync``.

Every notebook is a pair (``notebooks/jupytext.toml``): ``NN_name.md``, MyST Markdown and the
one source of cell inputs, and ``NN_name.ipynb``, the same cells with their stored outputs. The
pairs are found by pattern (:func:`sources`): the start page ``notebooks/00_start_here.md``,
the lessons ``notebooks/NN_name.md``, the teacher notes ``notebooks/teacher-notes/NN_name.md``
and the exercise sources ``notebooks/exercises/source/<name>/<name>.md``.

``make notebooks`` (``python -m tools.run_notebooks``) reads each ``.md``, keeps the stored
outputs of the ``.ipynb`` (jupytext's combine: markdown and cell ids carry over), executes it
top to bottom in a fresh ``python3`` kernel (the pinned environment's) with the notebook's
folder as the working directory, and writes both files. A cell tagged ``raises-exception`` must
raise; any other error fails. Each executed code cell records the SHA-256 of its source in its
metadata (``autograd_lab.source_sha256``, kept out of the ``.md`` by ``cell_metadata_filter``;
the workspace copy strips it), so a test can flag a cell edited since it last ran.

``make sync`` (``--no-execute``) writes both files without running anything: a markdown-only
edit keeps every stored output. It refuses a notebook whose code changed since it was executed.

Deterministic: a fixed ``PYTHONHASHSEED``, no timing metadata, normalised notebook metadata,
so running it twice on the same code gives the same files.

    python -m tools.run_notebooks                  # every pair
    python -m tools.run_notebooks 02 chain_rule    # names starting with 02_, or chain_rule
    python -m tools.run_notebooks --no-execute     # sync only (make sync)
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import os
import re
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from jupytext.combine import combine_inputs_with_outputs
from jupytext.config import JupytextConfiguration
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
KERNEL = "python3"
CELL_TIMEOUT = 120  # seconds per cell
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
MYST = "md:myst"
#: Cell metadata written when a cell is executed: ``{"source_sha256": <hex digest>}``.
HASH_KEY = "autograd_lab"
START_PAGE = "00_start_here"
#: A lesson or teacher-note stem: two digits, an underscore, a lower-case name.
NUMBERED = re.compile(r"^(\d\d)_[a-z0-9_]+$")
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": KERNEL}

#: Added to the kernel's environment: fixed hashing (nbval's kernel gets the same code).
KERNEL_ENV = {
    "PYTHONHASHSEED": "0",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}


# --- finding the pairs by pattern ----------------------------------------------------------


def _numbered(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("[0-9][0-9]_*.md") if NUMBERED.match(p.stem))


def start_page(root: Path = ROOT) -> Path:
    """``notebooks/00_start_here.md``: copied to students, not a lesson."""
    return root / "notebooks" / f"{START_PAGE}.md"


def lessons(root: Path = ROOT) -> list[Path]:
    """The lesson sources ``notebooks/NN_name.md`` (01 and up), sorted."""
    return [p for p in _numbered(root / "notebooks") if p.stem != START_PAGE]


def teacher_notes(root: Path = ROOT) -> list[Path]:
    """The teacher-note sources ``notebooks/teacher-notes/NN_name.md``, sorted."""
    return _numbered(root / "notebooks" / "teacher-notes")


def exercise_sources(root: Path = ROOT) -> list[Path]:
    """The nbgrader sources ``notebooks/exercises/source/<name>/<name>.md``, sorted."""
    base = root / "notebooks" / "exercises" / "source"
    return sorted(p for p in base.glob("*/*.md") if p.stem == p.parent.name)


def sources(root: Path = ROOT) -> list[Path]:
    """Every paired ``.md``: the start page, lessons, teacher notes, exercise sources."""
    first = [start_page(root)] if start_page(root).is_file() else []
    return first + lessons(root) + teacher_notes(root) + exercise_sources(root)


def ipynb_of(md: Path) -> Path:
    return md.with_suffix(".ipynb")


def select(paths: list[Path], names: list[str]) -> list[Path]:
    """The pairs a command line names: ``02`` (a number prefix), a stem, or a file path."""
    if not names:
        return paths
    chosen: list[Path] = []
    for name in names:
        given = Path(name)
        if given.suffix in (".md", ".ipynb") and given.exists():
            matches = [given.resolve().with_suffix(".md")]
        else:
            matches = [p for p in paths if p.stem == name or p.stem.startswith(f"{name}_")]
        if not matches:
            raise SystemExit(f"No notebook source matches {name!r}: give a number such as 02, "
                             "a name such as chain_rule, or a path to a .md file.")
        chosen += [m for m in matches if m not in chosen]
    return chosen


# --- reading and writing a pair ------------------------------------------------------------


def source_hash(cell: nbformat.NotebookNode) -> str:
    return hashlib.sha256(cell.source.encode("utf-8")).hexdigest()


def stale_cells(nb: nbformat.NotebookNode) -> list[int]:
    """Indices of code cells whose source changed since they were last executed."""
    return [
        i for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        and cell.metadata.get(HASH_KEY, {}).get("source_sha256") != source_hash(cell)
    ]


#: The pairing's settings, as every ``jupytext.toml`` beside a source states them (a test
#: checks they agree); used here explicitly so a pair builds the same in any folder.
NOTEBOOK_METADATA_FILTER = "kernelspec,-jupytext.text_representation.jupytext_version"
CELL_METADATA_FILTER = f"-{HASH_KEY}"
CONFIG = JupytextConfiguration(
    formats="ipynb,md:myst",
    notebook_metadata_filter=NOTEBOOK_METADATA_FILTER,
    cell_metadata_filter=CELL_METADATA_FILTER,
)


def read_pair(md: Path) -> nbformat.NotebookNode:
    """The cells of ``md`` with the outputs, ids and hashes stored in its ``.ipynb``."""
    nb = jupytext.read(md, fmt=MYST, config=CONFIG)
    stored = ipynb_of(md)
    if stored.is_file():
        outputs = nbformat.read(stored, as_version=4)
        # restore the cell metadata the .md leaves out (the source hashes), as JupyterLab does
        nb.metadata.setdefault("jupytext", {})["cell_metadata_filter"] = CELL_METADATA_FILTER
        nb = combine_inputs_with_outputs(nb, outputs, fmt=MYST)
    for index, cell in enumerate(nb.cells):
        if not cell.get("id"):
            cell.id = f"{md.stem[:20]}-{index:02d}"
    return nb


def myst_text(nb: nbformat.NotebookNode, md: Path) -> str:
    """The ``.md`` text jupytext writes for ``nb`` with the pairing's configuration.

    Code cells are written as ``{code-cell} ipython3``, as JupyterLab (whose kernel reports
    the ``ipython3`` lexer) writes them when a teacher saves there.
    """
    nb = copy.deepcopy(nb)
    nb.metadata.pop("jupytext", None)
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    return jupytext.writes(nb, fmt=MYST, config=CONFIG)


def ipynb_text(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb) + "\n"


def write_pair(nb: nbformat.NotebookNode, md: Path) -> None:
    normalise(nb)
    ipynb_of(md).write_text(ipynb_text(nb), encoding="utf-8")
    md.write_text(myst_text(nb, md), encoding="utf-8")


def normalise(nb: nbformat.NotebookNode) -> None:
    """Keep only metadata that does not depend on the machine or the run."""
    nb.metadata.pop("widgets", None)
    nb.metadata.pop("jupytext", None)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    nb.nbformat, nb.nbformat_minor = 4, 5
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            for output in cell.outputs:
                output.get("metadata", {}).pop("execution", None)
                # A widget view names a random model id, and with no stored widget state it
                # points at nothing: keep the widget's text/plain, which JupyterLab shows
                # until the cell is run (nbval does not compare widget views either).
                output.get("data", {}).pop(WIDGET_VIEW, None)


# --- executing -----------------------------------------------------------------------------


def kernel_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(KERNEL_ENV)
    # The kernel must import the checked-out package, whatever the caller's cwd.
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p
    )
    return env


def make_client(
    nb: nbformat.NotebookNode, path: Path, timeout: int = CELL_TIMEOUT
) -> NotebookClient:
    return NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=KERNEL,
        resources={"metadata": {"path": str(path.parent)}},
        allow_errors=False,  # cells tagged raises-exception may (and must) raise
        store_widget_state=False,
        record_timing=False,
        coalesce_streams=True,  # one stdout and one stderr output per cell, as nbval compares
    )


def check_raises(nb: nbformat.NotebookNode, path: Path) -> None:
    """A cell tagged raises-exception must actually raise (so nbval checks a real error)."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or "raises-exception" not in cell.metadata.get("tags", []):
            continue
        if not any(o.output_type == "error" for o in cell.outputs):
            raise RuntimeError(
                f"{path.name} cell {index} is tagged raises-exception but did not raise; "
                "remove the tag or fix the cell."
            )


def execute(nb: nbformat.NotebookNode, path: Path, timeout: int = CELL_TIMEOUT) -> None:
    """Run ``nb`` top to bottom (cwd: ``path``'s folder); record each code cell's hash."""
    make_client(nb, path, timeout).execute(env=kernel_env())
    check_raises(nb, path)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.metadata[HASH_KEY] = {"source_sha256": source_hash(cell)}


def build(md: Path, *, run: bool = True, timeout: int = CELL_TIMEOUT) -> float:
    """Write ``md``'s pair (executed unless ``run`` is false); return the seconds it took."""
    start = time.perf_counter()
    nb = read_pair(md)
    if run:
        execute(nb, md, timeout)
    elif stale := stale_cells(nb):
        raise RuntimeError(
            f"code cells {stale} changed since they were executed: run "
            f"`make notebooks NB={md.stem}` instead (make sync never runs code)."
        )
    write_pair(nb, md)
    return time.perf_counter() - start


def run_notebook(path: Path, timeout: int = CELL_TIMEOUT) -> float:
    """Execute one pair in place, given its ``.md`` or its ``.ipynb``."""
    return build(Path(path).with_suffix(".md"), timeout=timeout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the course notebooks from their .md.")
    parser.add_argument("names", nargs="*",
                        help="numbers (02), names (chain_rule) or .md paths (default: all)")
    parser.add_argument("--no-execute", action="store_true",
                        help="only sync both files from the .md, keeping stored outputs")
    parser.add_argument("--timeout", type=int, default=CELL_TIMEOUT, help="seconds per cell")
    args = parser.parse_args(argv)
    paths = select(sources(), args.names)
    failed = 0
    for md in paths:
        rel = md.relative_to(ROOT) if md.is_relative_to(ROOT) else md
        try:
            seconds = build(md, run=not args.no_execute, timeout=args.timeout)
        except Exception as exc:  # noqa: BLE001 - report every notebook, then fail
            failed += 1
            print(f"FAILED {rel}: {type(exc).__name__}: {exc}", file=sys.stderr)
        else:
            verb = "synced" if args.no_execute else "ran"
            print(f"{verb} {rel} ({seconds:.1f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
