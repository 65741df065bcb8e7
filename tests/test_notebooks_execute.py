"""The stored notebooks, executed: ``make notebooks`` reproduces one byte for byte.

The executing half of the notebook checks (a kernel per notebook: the ``notebooks`` tier, not
``make check``); ``tests/test_notebooks.py`` holds the static half, and nbval re-runs every
stored notebook and compares its outputs.
"""

from __future__ import annotations

from pathlib import Path

from tools import run_notebooks

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def test_make_notebooks_reproduces_a_stored_notebook_byte_for_byte(tmp_path: Path) -> None:
    stored = NOTEBOOKS / "05_vectors.ipynb"
    for suffix in (".md", ".ipynb"):
        (tmp_path / stored.with_suffix(suffix).name).write_bytes(
            stored.with_suffix(suffix).read_bytes())
    run_notebooks.build(tmp_path / "05_vectors.md")
    for suffix in (".md", ".ipynb"):
        assert (tmp_path / stored.with_suffix(suffix).name).read_bytes() == (
            stored.with_suffix(suffix).read_bytes()
        ), f"re-executing 05_vectors changed its {suffix}: run make notebooks (and check "
        "determinism)"
