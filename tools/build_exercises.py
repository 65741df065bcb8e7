"""Generate the student versions of the exercises with nbgrader (``make exercises``).

For every assignment ``notebooks/exercises/source/<name>/`` this runs
``nbgrader generate_assignment <name> --force --no-db`` with the course root
``notebooks/exercises`` (so its ``nbgrader_config.py`` applies: solutions become
``# YOUR CODE HERE`` and answers stay ``...``), writing ``notebooks/exercises/release/<name>/``.
``--no-db`` keeps ``gradebook.db`` out of it; the output depends only on the source
notebooks, so tests regenerate into a temporary copy and compare.

    python -m tools.build_exercises [--course-root DIR] [NAME ...]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COURSE_ROOT = REPO / "notebooks" / "exercises"
ASSIGNMENTS = (
    "chain_rule",
    "graph_and_accumulation",
    "neuron_bce",
    "no_grad",
    "training",
    "tensors_and_hooks",
)


class BuildError(RuntimeError):
    """nbgrader failed; the message carries its output."""


def _env() -> dict[str, str]:
    """The environment with this interpreter's ``bin`` first on PATH (nbgrader needs it)."""
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    return env


def build(course_root: Path | str = COURSE_ROOT, names: Sequence[str] = ASSIGNMENTS) -> list[Path]:
    """Regenerate ``release/<name>/`` for each assignment; returns the notebooks written."""
    root = Path(course_root).resolve()
    written: list[Path] = []
    for name in names:
        if not (root / "source" / name).is_dir():
            raise BuildError(f"No assignment {name!r} under {root / 'source'}; check the name.")
        cmd = [
            sys.executable,
            "-m",
            "nbgrader",
            "generate_assignment",
            name,
            "--force",
            "--no-db",
            f"--CourseDirectory.root={root}",
        ]
        result = subprocess.run(
            cmd, cwd=root, env=_env(), capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise BuildError(
                f"nbgrader generate_assignment {name} failed:\n{result.stdout}{result.stderr}"
            )
        written.extend(sorted((root / "release" / name).glob("*.ipynb")))
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=list(ASSIGNMENTS), help="assignments")
    parser.add_argument("--course-root", default=str(COURSE_ROOT), help="nbgrader course root")
    args = parser.parse_args(argv)
    try:
        paths = build(args.course_root, args.names)
    except BuildError as exc:
        print(exc, file=sys.stderr)
        return 1
    for path in paths:
        print(f"wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
