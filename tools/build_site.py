"""Build the course as a static website (``make site``), offline, from the stored outputs.

The pages are the notebooks as they are in the repository, laid out in a staging folder that
Sphinx reads (``site/conf.py``: myst-nb renders every notebook from its stored outputs, never
executing one; the theme is sphinx-book-theme):

* ``index.ipynb``: the start page ``notebooks/00_start_here.ipynb``, the landing page. A
  hidden table of contents is added to this copy (the site's navigation).
* ``lessons/NN_name.ipynb``: every lesson ``notebooks/NN_name.ipynb`` present, in order,
  grouped core (01–08) and advanced (09 and up).
* ``exercises/<name>.ipynb``: the student versions ``notebooks/exercises/release/<name>/`` —
  never the nbgrader sources (solutions, hidden tests) nor ``notebooks/teacher-notes/``.
* ``docs/<page>.md``: every ``docs/*.md`` present.
* ``teacher-notes/NN_name.ipynb`` only with ``--teachers`` (``make site-teachers``), into its
  own folder ``site/_build/teachers``: never part of the default site.

Everything is found by pattern, so a lesson, exercise or docs page added later is on the site
without editing this file. Sphinx runs with ``-W`` (a warning fails the build) and ``-E``
(nothing reused from an earlier build, so two builds of one commit give the same pages).

    python -m tools.build_site [--teachers] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SITE = REPO / "site"
#: Where ``make site`` writes the site (git-ignored); the staging folder sits beside it.
DEFAULT_OUT = SITE / "_build" / "html"
TEACHERS_OUT = SITE / "_build" / "teachers"
START_PAGE = "00_start_here"
#: The last lesson of the core part; later numbers are the advanced part.
CORE_LAST = 8
#: A lesson or teacher-note stem: two digits, an underscore, a lower-case name.
NUMBERED = re.compile(r"^(\d\d)_[a-z0-9_]+$")


class SiteError(Exception):
    """The site cannot be built; the message says why and what to do."""


@dataclass
class Pages:
    """The site's pages, as staged document names (no suffix), in navigation order."""

    core: list[str] = field(default_factory=list)
    advanced: list[str] = field(default_factory=list)
    exercises: list[str] = field(default_factory=list)
    docs: list[str] = field(default_factory=list)
    teacher_notes: list[str] = field(default_factory=list)

    @property
    def lessons(self) -> list[str]:
        return self.core + self.advanced

    def all(self) -> list[str]:
        """Every page except the landing page ``index``."""
        return self.lessons + self.exercises + self.docs + self.teacher_notes


def lesson_notebooks(root: Path = REPO) -> list[Path]:
    """``notebooks/NN_name.ipynb`` for 01 and up, sorted by number."""
    return sorted(
        p for p in (root / "notebooks").glob("[0-9][0-9]_*.ipynb")
        if NUMBERED.match(p.stem) and p.stem != START_PAGE
    )


def exercise_notebooks(root: Path = REPO) -> list[Path]:
    """The student versions ``notebooks/exercises/release/<name>/<name>.ipynb``, by name."""
    release = root / "notebooks" / "exercises" / "release"
    return sorted(p for p in release.glob("*/*.ipynb") if p.stem == p.parent.name)


def teacher_note_notebooks(root: Path = REPO) -> list[Path]:
    return sorted(
        p for p in (root / "notebooks" / "teacher-notes").glob("[0-9][0-9]_*.ipynb")
        if NUMBERED.match(p.stem)
    )


def docs_pages(root: Path = REPO) -> list[Path]:
    """Every ``docs/*.md``, by name (none is fine)."""
    return sorted((root / "docs").glob("*.md"))


def _toctree(caption: str, names: list[str]) -> str:
    if not names:
        return ""
    lines = "\n".join(names)
    return f"```{{toctree}}\n:caption: {caption}\n:hidden:\n\n{lines}\n```\n"


def navigation(pages: Pages) -> str:
    """The MyST text of the site's hidden tables of contents, one per group."""
    return "\n".join(
        part for part in (
            _toctree("Core lessons", pages.core),
            _toctree("Advanced lessons", pages.advanced),
            _toctree("Exercises", pages.exercises),
            _toctree("For teachers and developers", pages.docs),
            _toctree("Teacher notes", pages.teacher_notes),
        ) if part
    )


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def stage(dest: Path, *, root: Path = REPO, teachers: bool = False) -> Pages:
    """Lay out the site's sources in ``dest`` (emptied first); returns the pages staged."""
    start = root / "notebooks" / f"{START_PAGE}.ipynb"
    if not start.is_file():
        raise SiteError(f"{start.relative_to(root)} is missing: run `make notebooks NB=00`.")
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    pages = Pages()
    for path in lesson_notebooks(root):
        name = f"lessons/{path.stem}"
        (pages.core if int(path.stem[:2]) <= CORE_LAST else pages.advanced).append(name)
        _copy(path, dest / f"{name}.ipynb")
    for path in exercise_notebooks(root):
        pages.exercises.append(f"exercises/{path.stem}")
        _copy(path, dest / "exercises" / path.name)
    for path in docs_pages(root):
        pages.docs.append(f"docs/{path.stem}")
        _copy(path, dest / "docs" / path.name)
    if teachers:
        for path in teacher_note_notebooks(root):
            pages.teacher_notes.append(f"teacher-notes/{path.stem}")
            _copy(path, dest / "teacher-notes" / path.name)
    landing = json.loads(start.read_text(encoding="utf-8"))
    landing["cells"].append({
        "cell_type": "markdown",
        "id": "site-navigation",
        "metadata": {},
        "source": navigation(pages),
    })
    (dest / "index.ipynb").write_text(json.dumps(landing, indent=1) + "\n", encoding="utf-8")
    return pages


def build(out: Path = DEFAULT_OUT, *, root: Path = REPO, teachers: bool = False,
          quiet: bool = True) -> Pages:
    """Stage the pages of the repository at ``root`` beside ``out`` and build the HTML site
    into ``out`` (Sphinx ``-W -E``, ``site/conf.py``).

    Raises :class:`SiteError` when Sphinx reports a warning or an error.
    """
    from sphinx.cmd.build import build_main

    out = out.resolve()
    staging = out.parent / f"{out.name}-src"
    pages = stage(staging, root=root, teachers=teachers)
    if out.exists():
        shutil.rmtree(out)
    doctrees = out.parent / f"{out.name}-doctrees"
    args = ["-W", "-E", "-b", "html", "-c", str(SITE), "-d", str(doctrees)]
    if quiet:
        args.append("-q")
    # the repository whose pyproject.toml and files the pages' links are resolved against
    args += ["-D", f"course_repository_root={root.resolve()}"]
    status = build_main([*args, str(staging), str(out)])
    if status != 0:
        raise SiteError(f"Sphinx failed (exit {status}): fix the warning printed above.")
    return pages


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teachers", action="store_true",
                        help="add the teacher notes (default output site/_build/teachers)")
    parser.add_argument("--out", type=Path, help="output folder (default site/_build/html)")
    args = parser.parse_args(argv)
    out = args.out or (TEACHERS_OUT if args.teachers else DEFAULT_OUT)
    started = time.perf_counter()
    try:
        pages = build(out, teachers=args.teachers)
    except SiteError as exc:
        print(exc, file=sys.stderr)
        return 1
    seconds = time.perf_counter() - started
    shown = out.resolve()
    shown = shown.relative_to(REPO) if shown.is_relative_to(REPO) else shown
    print(f"built {len(pages.all()) + 1} pages in {seconds:.1f} s: open {shown}/index.html")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
