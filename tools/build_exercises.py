"""Generate the student versions of the exercises with nbgrader (``make exercises``).

For every assignment ``notebooks/exercises/source/<name>/`` this does what
``nbgrader generate_assignment <name> --force --no-db`` does with the course root
``notebooks/exercises`` (so its ``nbgrader_config.py`` applies: solutions become
``# YOUR CODE HERE`` and answers stay ``...``), writing ``notebooks/exercises/release/<name>/``.
All assignments are generated in one child process running nbgrader's own command-line app
(``NbGraderApp`` with that argument list, in the course root): nbgrader's start-up (its
imports, the config) is paid once, not once per assignment.
``--no-db`` keeps ``gradebook.db`` out of it; the output depends only on the source
notebooks, so tests regenerate into a temporary copy and compare. The assignments are found by
pattern: every ``source/<name>/<name>.md`` (the MyST source; nbgrader reads its ``.ipynb`` twin
and ignores ``*.md``). The build's source hashes (cell metadata ``autograd_lab``) are dropped
from the student versions.

    python -m tools.build_exercises [--course-root DIR] [NAME ...]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
COURSE_ROOT = REPO / "notebooks" / "exercises"
BUILD_METADATA = "autograd_lab"  # cell metadata written by make notebooks (tools/run_notebooks)


def assignments(course_root: Path | str = COURSE_ROOT) -> tuple[str, ...]:
    """Names of the assignments: ``source/<name>/<name>.md`` under ``course_root``, sorted."""
    source = Path(course_root) / "source"
    return tuple(sorted(p.parent.name for p in source.glob("*/*.md") if p.stem == p.parent.name))


ASSIGNMENTS = assignments()


class BuildError(RuntimeError):
    """nbgrader failed; the message carries its output."""


def _env() -> dict[str, str]:
    """The environment with this interpreter's ``bin`` first on PATH (nbgrader needs it)."""
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    return env


def _strip_build_metadata(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    changed = False
    for cell in nb.cells:
        changed |= cell.metadata.pop(BUILD_METADATA, None) is not None
    if changed:
        nbformat.write(nb, path)


#: The child process: nbgrader's command line ``nbgrader generate_assignment NAME --force
#: --no-db --CourseDirectory.root=ROOT`` for the first name, set up once (same app, same config
#: files); then the same sub-app starts again for each further name, as its command line would.
#: Each name is announced on stdout first, so a failure (nbgrader exits 1) names its assignment.
_MARK = "autograd-lab generate_assignment: "
_GENERATE = f"""
import sys
from jupyter_core.application import NoStart
from nbgrader.apps.nbgraderapp import NbGraderApp

root, names = sys.argv[1], sys.argv[2:]
app = NbGraderApp.instance()
print({_MARK!r} + names[0], flush=True)
app.initialize(["generate_assignment", names[0], "--force", "--no-db",
                "--CourseDirectory.root=" + root])
try:
    app.start()  # starts the sub-app, then says so by NoStart (launch_instance catches it)
except NoStart:
    pass
for name in names[1:]:
    print({_MARK!r} + name, flush=True)
    app.subapp.extra_args = [name]
    app.subapp.coursedir.assignment_id = ""
    app.subapp.start()
"""


def build(course_root: Path | str = COURSE_ROOT, names: Sequence[str] | None = None) -> list[Path]:
    """Regenerate ``release/<name>/`` for each assignment (default: all); returns the
    notebooks written."""
    root = Path(course_root).resolve()
    names = assignments(root) if names is None else list(names)
    for name in names:
        if not (root / "source" / name).is_dir():
            raise BuildError(f"No assignment {name!r} under {root / 'source'}; check the name.")
    if not names:
        return []
    result = subprocess.run(
        [sys.executable, "-c", _GENERATE, str(root), *names],
        cwd=root, env=_env(), capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        started = [ln.removeprefix(_MARK) for ln in result.stdout.splitlines()
                   if ln.startswith(_MARK)]
        name = started[-1] if started else names[0]
        output = "".join(ln + "\n" for ln in result.stdout.splitlines()
                         if not ln.startswith(_MARK))
        raise BuildError(
            f"nbgrader generate_assignment {name} failed:\n{output}{result.stderr}"
        )
    written: list[Path] = []
    for name in names:
        notebooks = sorted((root / "release" / name).glob("*.ipynb"))
        for path in notebooks:
            _strip_build_metadata(path)
        written.extend(notebooks)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="assignments (default: all)")
    parser.add_argument("--course-root", default=str(COURSE_ROOT), help="nbgrader course root")
    args = parser.parse_args(argv)
    try:
        paths = build(args.course_root, args.names or None)
    except BuildError as exc:
        print(exc, file=sys.stderr)
        return 1
    for path in paths:
        print(f"wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
