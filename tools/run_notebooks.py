"""Re-execute every lesson notebook and every teacher exercise notebook in place.

``make notebooks`` runs ``python -m tools.run_notebooks``: it is the only way stored outputs
are produced. Each notebook runs top to bottom in a fresh ``python3`` kernel (the pinned
environment's), with the notebook's own folder as the working directory, a timeout per cell,
and errors allowed only in cells tagged ``raises-exception``. Widget state is not stored
(widget outputs keep their text/plain form; the live widget appears when the cell is run).

Deterministic: a fixed ``PYTHONHASHSEED``, no timing metadata, normalised notebook metadata,
so running it twice on the same code gives the same files.

    python -m tools.run_notebooks                 # all lessons + teacher exercise notebooks
    python -m tools.run_notebooks notebooks/02_chain_rule.ipynb   # just these
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
KERNEL = "python3"
CELL_TIMEOUT = 120  # seconds per cell
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

#: Added to the kernel's environment: fixed hashing (nbval's kernel gets the same code).
KERNEL_ENV = {
    "PYTHONHASHSEED": "0",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}


def notebook_paths(root: Path = ROOT) -> list[Path]:
    """Lesson notebooks ``notebooks/0*.ipynb`` and teacher exercise notebooks, sorted."""
    lessons = sorted((root / "notebooks").glob("0*.ipynb"))
    teacher = sorted((root / "notebooks" / "exercises" / "source").glob("*/*.ipynb"))
    return [p for p in lessons + teacher if ".ipynb_checkpoints" not in p.parts]


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


def normalise(nb: nbformat.NotebookNode) -> None:
    """Keep only metadata that does not depend on the machine or the run."""
    language = nb.metadata.get("language_info", {})
    nb.metadata["language_info"] = {"name": language.get("name", "python")}
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = {
        "name": KERNEL,
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            for output in cell.outputs:
                output.get("metadata", {}).pop("execution", None)
                # A widget view names a random model id, and with no stored widget state it
                # points at nothing: keep the widget's text/plain, which JupyterLab shows
                # until the cell is run (nbval does not compare widget views either).
                output.get("data", {}).pop(WIDGET_VIEW, None)


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


def run_notebook(path: Path, timeout: int = CELL_TIMEOUT) -> float:
    """Execute ``path`` in place; return the seconds it took."""
    start = time.perf_counter()
    nb = nbformat.read(path, as_version=4)
    make_client(nb, path, timeout).execute(env=kernel_env())
    check_raises(nb, path)
    normalise(nb)
    nbformat.write(nb, path)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Execute the course notebooks in place.")
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks (default: all)")
    parser.add_argument("--timeout", type=int, default=CELL_TIMEOUT, help="seconds per cell")
    args = parser.parse_args(argv)
    paths = [p.resolve() for p in args.paths] or notebook_paths()
    failed = 0
    for path in paths:
        try:
            seconds = run_notebook(path, args.timeout)
        except Exception as exc:  # noqa: BLE001 - report every notebook, then fail
            failed += 1
            print(f"FAILED {path.relative_to(ROOT)}: {type(exc).__name__}: {exc}", file=sys.stderr)
        else:
            print(f"ran {path.relative_to(ROOT)} ({seconds:.1f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
