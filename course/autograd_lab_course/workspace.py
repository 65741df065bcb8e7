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

Each file is written atomically: to a hidden temporary file beside it, then linked into
place, so a full disk or a crash never leaves a half-written notebook. A copy an earlier
run left broken (empty, or a notebook cut short: not valid JSON) is replaced, the old file
kept as ``NAME.broken``; a notebook a student saved is valid JSON and is never touched. A DEST that
cannot be written (read-only, under a file, a full disk) or an empty DEST is one sentence
(:class:`WorkspaceError`; exit code 2 on the command line).

Command line::

    python -m autograd_lab_course.workspace DEST [--keep-outputs]
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from autograd_lab_course import REPO
from autograd_lab_course.stop_signals import (
    raise_if_stopped,
    signals_held,
    stopped_by_signals,
)

__all__ = [
    "CopyReport",
    "WorkspaceError",
    "copy_workspace",
    "find_notebooks_dir",
    "is_broken_copy",
    "kernel_metadata",
    "main",
    "set_aside",
    "student_notebook",
    "write_new",
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
    #: Broken copies replaced (also in ``copied``); the old file is kept as ``NAME.broken``.
    repaired: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"copied  {p}" for p in self.copied if p not in self.repaired]
        lines += [
            f"copied  {p} (the old copy was empty or damaged; kept beside it as .broken)"
            for p in self.repaired
        ]
        lines += [f"skipped {p} (already exists; not overwritten)" for p in self.skipped]
        lines.append(f"{len(self.copied)} copied, {len(self.skipped)} skipped into {self.dest}")
        return "\n".join(lines)


def find_notebooks_dir(source_root: Path | str | None = None) -> Path:
    """Return the repository's ``notebooks/`` directory.

    ``source_root`` is the repository root; by default it is the directory above the
    course package (an editable install from a clone: :data:`autograd_lab_course.REPO`).
    """
    root = Path(source_root) if source_root is not None else REPO
    notebooks = root.resolve() / "notebooks"
    if not notebooks.is_dir():
        raise WorkspaceError(
            f"No course notebooks found at {notebooks}: install autograd_lab_course from a "
            "clone of the repository with `pip install -e . -e course` (or pass "
            "source_root=<the clone>)."
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


#: Bytes of an existing file read first, to tell a notebook's start from anything else.
_HEAD = 4096
#: An existing copy larger than this (in bytes) is never read whole to see whether it is
#: broken; it is kept (skipped). The largest course notebook is well under a megabyte.
LARGEST_NOTEBOOK = 64 * 1024 * 1024


def _is_broken(target: Path) -> bool:
    """A copy an interrupted run left behind: empty, or a notebook cut short.

    Cut short: it starts like a notebook (``{``) but is not valid JSON. Anything else is kept
    as it is: a notebook a student saved is valid JSON, and other text is theirs too. The
    size and the first bytes are looked at first, so a huge file (a 6 GB sparse file named
    like a lesson) is kept without being read.
    """
    if target.is_symlink() or not target.is_file():
        return False
    try:
        size = target.stat().st_size
        with open(target, "rb") as handle:  # the head first: a file may be huge (or sparse)
            head = handle.read(_HEAD)
    except OSError:
        return False
    if size == 0:
        return True
    if size > LARGEST_NOTEBOOK or target.suffix != ".ipynb":
        return False  # never read a file that large whole: it is kept as it is
    start = head.lstrip()
    if start and not start.startswith(b"{"):
        return False  # not a notebook's start: someone's own text, kept
    try:
        data = target.read_bytes()
    except OSError:
        return False
    if not data.strip():
        return True
    if not data.lstrip().startswith(b"{"):
        return False
    try:
        json.loads(data.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError is a ValueError too
        return True
    return False


def _set_aside(target: Path) -> None:
    """Rename a broken copy to ``NAME.broken`` (``NAME.broken-2``, … if that exists)."""
    backup, n = target.with_name(target.name + ".broken"), 1
    while backup.exists() or backup.is_symlink():
        n += 1
        backup = target.with_name(f"{target.name}.broken-{n}")
    os.rename(target, backup)


def _write_new(target: Path, data: bytes) -> bool:
    """Write ``data`` to ``target`` atomically, never over an existing file; False if one was.

    The bytes go to a hidden temporary file beside ``target`` first (a full disk fails
    there); a hard link then puts it in place, which fails if ``target`` exists. Where the
    file system has no hard links, a rename does it after an existence check.
    """
    temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    with signals_held():
        try:
            fd = os.open(temp, flags | getattr(os, "O_BINARY", 0), 0o644)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(temp, target)
            except FileExistsError:
                return False
            except OSError:  # no hard links here (FAT, some network drives)
                if target.exists() or target.is_symlink():
                    return False
                os.replace(temp, target)
            return True
        finally:
            temp.unlink(missing_ok=True)


#: Public names of the three steps above (the classroom's preparation uses them too).
is_broken_copy, set_aside, write_new = _is_broken, _set_aside, _write_new


def _unwritable(dest: Path, exc: OSError, rel: Path | None = None) -> WorkspaceError:
    """The one sentence for an OSError while creating or writing the workspace."""
    what = f"write {rel.as_posix()} into the workspace {dest}" if rel else f"use {dest}"
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return WorkspaceError(
            f"Cannot {what}: the disk is full; free some space and run again "
            "(finished copies are kept, nothing is half-written)."
        )
    blocker = next((p for p in (dest, *dest.parents) if p.exists()), None)
    if exc.errno in (errno.ENOTDIR, errno.EEXIST) and blocker and not blocker.is_dir():
        return WorkspaceError(
            f"Cannot {what}: {blocker} is a file, not a directory; choose another destination."
        )
    return WorkspaceError(
        f"Cannot {what}: it is not writable ({exc.strerror or exc}); choose a directory you "
        "can write to."
    )


def _check_writable(dest: Path) -> None:
    """Create ``dest`` and a throw-away file in it; :class:`WorkspaceError` if either fails."""
    probe = dest / f".autograd-lab-probe-{secrets.token_hex(4)}"
    try:
        dest.mkdir(parents=True, exist_ok=True)
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
        probe.unlink()
    except OSError as exc:
        raise _unwritable(dest, exc) from None


def copy_workspace(
    dest: Path | str,
    *,
    keep_outputs: bool = False,
    source_root: Path | str | None = None,
) -> CopyReport:
    """Copy the lessons and the student exercise versions into ``dest``.

    Never overwrites an existing file (it is reported in ``.skipped``) except a broken copy
    (empty, or a notebook cut short: replaced, the old one kept as
    ``NAME.broken``), never copies teacher solutions or notes, and never writes outside
    ``dest``. Writes each file atomically. Outputs are cleared unless ``keep_outputs`` is true.
    Returns a :class:`CopyReport`; a destination that is empty or cannot be written raises
    :class:`WorkspaceError`.
    """
    if not str(dest).strip():
        raise WorkspaceError("The workspace path is empty; give a directory, e.g. workspace.")
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
    _check_writable(dest_resolved)
    for src, rel, target in plan:
        raise_if_stopped()  # a stop signal whose KeyboardInterrupt a finalizer dropped
        try:
            broken = _is_broken(target)
            if (target.exists() or target.is_symlink()) and not broken:
                report.skipped.append(rel.as_posix())
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            _check_target(dest_resolved, rel)  # re-check after creating directories
            data = _content(src, keep_outputs)
            if broken:
                _set_aside(target)
            if not _write_new(target, data):
                report.skipped.append(rel.as_posix())
                continue
        except OSError as exc:
            raise _unwritable(dest_resolved, exc, rel) from None
        report.copied.append(rel.as_posix())
        if broken:
            report.repaired.append(rel.as_posix())
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m autograd_lab_course.workspace DEST [--keep-outputs]``."""
    parser = argparse.ArgumentParser(
        prog="python -m autograd_lab_course.workspace",
        description="Copy the lesson notebooks and student exercises into DEST "
        "(outputs cleared; existing files are never overwritten).",
    )
    parser.add_argument("dest", help="the workspace directory to fill")
    parser.add_argument(
        "--keep-outputs", action="store_true", help="keep the stored outputs in the copies"
    )
    args = parser.parse_args(argv)
    try:
        with stopped_by_signals() as stopped:
            report = copy_workspace(args.dest, keep_outputs=args.keep_outputs)
    except WorkspaceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nInterrupted: the files copied so far are whole; run again to finish the copy.",
              file=sys.stderr)
        return 128 + stopped.get("signal", signal.SIGINT)
    print(report)
    return 0


# ---------------------------------------------------------------------------------------
# The ``kernelspec`` and ``language_info`` a notebook stores for the kernel that will run it.
# JupyterLab rewrites both when it opens a notebook whose stored values differ from the
# running kernel's, and then asks "Save changes?" on close. The copy writes what this
# environment's kernel reports into each student copy, so a plain open and close changes
# nothing.

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


if __name__ == "__main__":
    raise SystemExit(main())
