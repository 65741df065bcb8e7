"""A safe, git-ignored working copy of the course notebooks for students.

``make lab`` never serves the committed ``notebooks/`` directory: a student's saves would
change what nbval checks, and stored answers would spoil "predict, then run". Instead it
copies what a student may see into a workspace:

* the lessons ``notebooks/*.ipynb`` → ``DEST/*.ipynb``;
* the student versions of the exercises ``notebooks/exercises/release/**`` →
  ``DEST/exercises/**`` (for example ``DEST/exercises/chain_rule/chain_rule.ipynb``).

Only ``.ipynb`` files are copied: the start page ``00_start_here.ipynb`` and every lesson are
found by pattern, never from a list. Teacher solutions (``notebooks/exercises/source/**``),
teacher notes (``notebooks/teacher-notes/**``) and the MyST ``.md`` sources are never copied.
Outputs are cleared by default (``execution_count`` None, ``outputs`` [], saved widget state
dropped; tags and nbgrader markers are kept, the build's source hashes dropped), and each copy
names the kernel this environment runs (:func:`kernel_metadata`), so JupyterLab finds nothing
to change when a student opens and closes it; ``--keep-outputs`` copies verbatim. An
existing file is never overwritten: it is reported as skipped, so a student's work survives
a refresh. Nothing is written outside DEST: paths are resolved and
a symlink inside DEST that points elsewhere makes the copy refuse before writing anything.

Command line::

    python -m autograd_lab.workspace DEST [--keep-outputs]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "CopyReport",
    "WorkspaceError",
    "copy_workspace",
    "find_notebooks_dir",
    "kernel_metadata",
    "main",
    "student_notebook",
]

#: Directory (under ``notebooks/``) whose contents students receive as ``DEST/exercises``.
RELEASE_DIR = Path("exercises") / "release"
#: Where the student versions land inside DEST.
EXERCISES_DEST = Path("exercises")
_SKIP_NAMES = {".ipynb_checkpoints", "__pycache__", ".DS_Store", "gradebook.db"}


class WorkspaceError(ValueError):
    """The workspace cannot be created as asked (one sentence says why and what to do)."""


@dataclass
class CopyReport:
    """What :func:`copy_workspace` did: POSIX paths relative to ``dest``."""

    copied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    dest: Path | None = None

    def __str__(self) -> str:
        lines = [f"copied  {p}" for p in self.copied]
        lines += [f"skipped {p} (already exists; not overwritten)" for p in self.skipped]
        lines.append(f"{len(self.copied)} copied, {len(self.skipped)} skipped into {self.dest}")
        return "\n".join(lines)


def find_notebooks_dir(source_root: Path | str | None = None) -> Path:
    """Return the repository's ``notebooks/`` directory.

    ``source_root`` is the repository root; by default it is the directory above the
    package (an editable install from a clone: ``Path(__file__).resolve().parents[1]``).
    """
    root = Path(source_root) if source_root is not None else Path(__file__).resolve().parents[1]
    notebooks = root.resolve() / "notebooks"
    if not notebooks.is_dir():
        raise WorkspaceError(
            f"No course notebooks found at {notebooks}: install autograd_lab from a clone of "
            "the repository with `pip install -e .` (or pass source_root=<the clone>)."
        )
    return notebooks


def _is_within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _walk_files(top: Path) -> Iterator[Path]:
    """Regular files under ``top`` in sorted order, without following symlinked directories."""
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_NAMES and not d.startswith("."))
        for name in sorted(filenames):
            if name in _SKIP_NAMES or name.startswith("."):
                continue
            yield Path(dirpath) / name


def _sources(notebooks: Path) -> list[tuple[Path, Path]]:
    """(source file, path relative to DEST) for everything a student may receive."""
    pairs: list[tuple[Path, Path]] = []
    # the start page 00_start_here.ipynb and every lesson NN_name.ipynb (never a .md source)
    for lesson in sorted(notebooks.glob("*.ipynb")):
        pairs.append((lesson, Path(lesson.name)))
    release = notebooks / RELEASE_DIR
    if release.is_dir():
        for path in _walk_files(release):
            pairs.append((path, EXERCISES_DEST / path.relative_to(release)))
    allowed = [notebooks.resolve(), release.resolve()]
    forbidden = [
        (notebooks / "exercises" / "source").resolve(),
        (notebooks / "teacher-notes").resolve(),
    ]
    safe: list[tuple[Path, Path]] = []
    for src, rel in pairs:
        # A symlinked source could smuggle a teacher file in: judge where it really lives.
        real = src.resolve()
        if any(_is_within(real, f) for f in forbidden):
            continue
        if not any(_is_within(real, a) for a in allowed) or not real.is_file():
            continue
        safe.append((src, rel))
    return safe


def clear_outputs(notebook: dict) -> dict:
    """Clear outputs in place: ``execution_count`` None, ``outputs`` [], widget state dropped.

    Cell metadata (tags such as ``raises-exception``, nbgrader markers) is kept.
    """
    metadata = notebook.get("metadata", {})
    metadata.pop("widgets", None)  # application/vnd.jupyter.widget-state+json
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cell.get("metadata", {}).pop("widgets", None)
    return notebook


#: Cell metadata that ``make notebooks`` writes (the source hash of the last execution).
BUILD_METADATA = "autograd_lab"
#: The kernel the course's notebooks run on (``make env`` installs it under this name).
KERNEL_NAME = "python3"
_LANGUAGE_INFO = (
    "from ipykernel.ipkernel import IPythonKernel; import json; "
    "print(json.dumps(IPythonKernel.language_info))"
)
_kernel_metadata: dict[str, dict] = {}


def kernel_metadata(kernel_name: str = KERNEL_NAME) -> dict[str, dict]:
    """``kernelspec`` and ``language_info`` as JupyterLab would store them for this kernel.

    The kernelspec comes from the installed kernel (jupyter_client), ``language_info`` from
    ipykernel, asked without starting a kernel (in this process when the kernel runs this
    interpreter, else by one short ``python -c``). Empty if the kernel is not installed.
    """
    if kernel_name in _kernel_metadata:
        return _kernel_metadata[kernel_name]
    found: dict[str, dict] = {}
    try:
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

        spec = KernelSpecManager().get_kernel_spec(kernel_name)
    except (ImportError, NoSuchKernel):
        spec = None
    if spec is not None:
        found["kernelspec"] = {
            "display_name": spec.display_name,
            "language": spec.language,
            "name": kernel_name,
        }
        info = _language_info(spec.argv[0] if spec.argv else sys.executable)
        if info:
            found["language_info"] = info
    _kernel_metadata[kernel_name] = found
    return found


def _language_info(python: str) -> dict | None:
    same = python in ("python", "python3") or (
        Path(python).is_absolute() and Path(python).resolve() == Path(sys.executable).resolve()
    )
    try:
        if same:
            from ipykernel.ipkernel import IPythonKernel

            return dict(IPythonKernel.language_info)
        result = subprocess.run([python, "-c", _LANGUAGE_INFO], capture_output=True,
                                text=True, timeout=60, check=True)
        return json.loads(result.stdout)
    except Exception:  # noqa: BLE001 - no kernel to ask: JupyterLab will fill it in
        return None


def student_notebook(notebook: dict) -> dict:
    """A notebook as a student receives it (in place): outputs cleared, the build's source
    hashes dropped, and the kernel this environment runs named in its metadata."""
    clear_outputs(notebook)
    for cell in notebook.get("cells", []):
        cell.get("metadata", {}).pop(BUILD_METADATA, None)
    notebook.setdefault("metadata", {}).update(kernel_metadata())
    return notebook


def _content(src: Path, keep_outputs: bool) -> bytes:
    data = src.read_bytes()
    if keep_outputs or src.suffix != ".ipynb":
        return data
    notebook = student_notebook(json.loads(data.decode("utf-8")))
    text = json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def _check_target(dest: Path, rel: Path) -> Path:
    """Resolve ``dest / rel`` and refuse if it (or an existing parent symlink) leaves DEST."""
    if rel.is_absolute() or ".." in rel.parts:
        raise WorkspaceError(f"Refusing to write {rel}: it is not a plain path inside {dest}.")
    target = dest / rel
    # Resolve the deepest existing ancestor: a symlinked directory inside DEST that points
    # elsewhere must not redirect the copy.
    parent = target.parent
    while parent != dest and not parent.exists() and not parent.is_symlink():
        parent = parent.parent
    if not _is_within(parent.resolve(), dest):
        raise WorkspaceError(
            f"Refusing to write {rel}: {parent} leads outside the workspace {dest}; "
            "remove that link or choose another destination."
        )
    return target


def copy_workspace(
    dest: Path | str,
    *,
    keep_outputs: bool = False,
    source_root: Path | str | None = None,
) -> CopyReport:
    """Copy the lessons and the student exercise versions into ``dest``.

    Never overwrites an existing file (it is reported in ``.skipped``), never copies teacher
    solutions or notes, and never writes outside ``dest``. Outputs are cleared unless
    ``keep_outputs`` is true. Returns a :class:`CopyReport`.
    """
    notebooks = find_notebooks_dir(source_root)
    dest_path = Path(dest).expanduser()
    if dest_path.exists() and not dest_path.is_dir():
        raise WorkspaceError(f"The workspace {dest_path} is a file; choose a directory instead.")
    dest_resolved = dest_path.resolve()
    if _is_within(dest_resolved, notebooks) or _is_within(notebooks, dest_resolved):
        raise WorkspaceError(
            f"Refusing to use {dest_resolved} as a workspace: it overlaps the committed "
            f"notebooks in {notebooks}; choose a directory outside it (the default is "
            "workspace/ in the repository)."
        )

    plan = [(src, rel, _check_target(dest_resolved, rel)) for src, rel in _sources(notebooks)]
    report = CopyReport(dest=dest_resolved)
    dest_resolved.mkdir(parents=True, exist_ok=True)
    for src, rel, target in plan:
        if target.exists() or target.is_symlink():
            report.skipped.append(rel.as_posix())
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        _check_target(dest_resolved, rel)  # re-check after creating directories
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        flags |= getattr(os, "O_BINARY", 0)
        try:
            fd = os.open(target, flags, 0o644)
        except FileExistsError:
            report.skipped.append(rel.as_posix())
            continue
        with os.fdopen(fd, "wb") as handle:
            handle.write(_content(src, keep_outputs))
        report.copied.append(rel.as_posix())
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m autograd_lab.workspace DEST [--keep-outputs]``."""
    parser = argparse.ArgumentParser(
        prog="python -m autograd_lab.workspace",
        description="Copy the lesson notebooks and student exercises into DEST "
        "(outputs cleared; existing files are never overwritten).",
    )
    parser.add_argument("dest", type=Path, help="the workspace directory to fill")
    parser.add_argument(
        "--keep-outputs", action="store_true", help="keep the stored outputs in the copies"
    )
    args = parser.parse_args(argv)
    try:
        report = copy_workspace(args.dest, keep_outputs=args.keep_outputs)
    except WorkspaceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
