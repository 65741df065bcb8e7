"""The course for Google Colab: ``make colab`` writes ``colab/`` and the "Open in Colab" links.

Every Colab notebook runs in a runtime of its own, where the kit is not installed, and a
stored output would spoil a "predict, then run" question. So ``colab/`` holds, for each file
a student may see (found by pattern, never from a list):

* the start page and every lesson, ``notebooks/NN_name.ipynb`` → ``colab/NN_name.ipynb``;
* every student exercise, ``notebooks/exercises/release/<name>/<file>.ipynb`` →
  ``colab/exercises/<file>.ipynb``;

with the outputs cleared exactly as the student workspace copy clears them
(``student_notebook``), Colab's kernel named in the metadata, and one cell put first
(:func:`setup_cell`): it installs the kit when it is not importable (``%pip install -q`` from
the one configured source) and runs ``autograd_lab.notebook_setup()``. Teacher notes and the
teacher versions of the exercises are never read.

The one setting is ``[tool.autograd-lab]`` in the root ``pyproject.toml``::

    repository = "https://github.com/OWNER/REPO"   # "" = not published yet
    branch = "main"

When ``repository`` is set, the setup cell installs ``git+REPOSITORY@BRANCH``, and the README's
lesson table and the start page link each notebook as
``https://colab.research.google.com/github/OWNER/REPO/blob/BRANCH/colab/NN_name.ipynb``
(:func:`tools.course_address.colab_link`). When it is empty, no link is written anywhere
and the setup cell installs a wheel uploaded beside the notebook (``autograd_lab-*.whl``).
Either way the environment variable ``AUTOGRAD_LAB_INSTALL`` (a pip requirement or a wheel
path) comes first: ``make test-colab`` points it at the wheel built from the checkout.

    python -m tools.build_colab            # make colab
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from autograd_lab_course.workspace import student_notebook
from tools.course_address import AddressError, CourseAddress, colab_link, read_address

ROOT = Path(__file__).resolve().parent.parent
#: The folder ``make colab`` writes, relative to the repository root.
COLAB_DIR = "colab"
#: Where the student exercises land inside ``colab/``.
EXERCISES_DIR = "exercises"
#: The environment variable that overrides the install source (a pip requirement or path).
INSTALL_VARIABLE = "AUTOGRAD_LAB_INSTALL"
#: The pattern a wheel uploaded beside a notebook matches (when no repository is set).
WHEEL_PATTERN = "autograd_lab-*.whl"
#: The id and tag of the cell :func:`setup_cell` puts first.
SETUP_ID = "colab-setup"
#: The kernel Colab runs (what a notebook it saves stores).
COLAB_METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}
#: A start page or lesson stem: two digits, an underscore, a lower-case name.
NUMBERED = re.compile(r"^\d\d_[a-z0-9_]+$")
#: The generated part of the start page's markdown, between these two lines.
START_BEGIN = "<!-- colab: written by make colab from [tool.autograd-lab] -->"
START_END = "<!-- /colab -->"


class ColabError(ValueError):
    """The course files cannot give ``colab/`` (one sentence says why)."""


def install_source(settings: CourseAddress) -> str | None:
    """What the setup cell installs by default: the repository at the branch, or None."""
    if settings.repository is None:
        return None
    return f"git+{settings.repository}@{settings.branch}"


# --- what goes into colab/ -------------------------------------------------------------------


def colab_sources(root: Path = ROOT) -> list[tuple[Path, str]]:
    """(source ``.ipynb``, path inside ``colab/``): the start page, the lessons, the exercises.

    Found by pattern: ``notebooks/NN_name.ipynb`` and the student versions
    ``notebooks/exercises/release/<name>/*.ipynb``; teacher notes and sources are not read.
    """
    notebooks = root / "notebooks"
    pairs = [(p, p.name) for p in sorted(notebooks.glob("*.ipynb")) if NUMBERED.match(p.stem)]
    release = notebooks / "exercises" / "release"
    seen: dict[str, Path] = {}
    for path in sorted(release.glob("*/*.ipynb")):
        if path.name in seen:
            raise ColabError(
                f"Two exercises are both called {path.name} ({seen[path.name].parent.name} and "
                f"{path.parent.name}); rename one, since colab/{EXERCISES_DIR}/ is one folder."
            )
        seen[path.name] = path
        pairs.append((path, f"{EXERCISES_DIR}/{path.name}"))
    if not pairs:
        raise ColabError(f"No notebooks found under {notebooks}; run make colab from a clone.")
    return pairs


def setup_cell(settings: CourseAddress) -> dict:
    """The first cell of every Colab notebook: install the kit when missing, then set up.

    ``%pip install -q SOURCE`` runs only when ``autograd_lab`` is not importable, with SOURCE
    the ``AUTOGRAD_LAB_INSTALL`` environment variable if set, else the configured repository
    (``git+https://github.com/OWNER/REPO@BRANCH``), else a wheel uploaded beside the notebook.
    """
    source = install_source(settings)
    lines = [
        "# Run this cell first: it installs the course's package autograd_lab when this",
        "# runtime does not have it yet (a new Colab runtime does not), then sets it up.",
    ]
    if source is None:
        lines += [
            "# Upload the package's wheel (autograd_lab-*.whl, from your teacher) to the",
            "# Files panel first.",
            "import glob",
        ]
    lines += ["import importlib.util", "import os", ""]
    lines.append('if importlib.util.find_spec("autograd_lab") is None:')
    if source is None:
        lines += [
            f'    wheels = sorted(glob.glob("{WHEEL_PATTERN}"))',
            f'    source = os.environ.get("{INSTALL_VARIABLE}") or (wheels[-1] if wheels else "")',
            "    if not source:",
            '        raise ModuleNotFoundError("autograd_lab is not installed here: upload its '
            'wheel (autograd_lab-*.whl) to the Files panel, then run this cell again.")',
            "    %pip install -q {source}",
            "    importlib.invalidate_caches()",
        ]
    else:
        lines += [
            f'    source = os.environ.get("{INSTALL_VARIABLE}", "{source}")',
            "    %pip install -q {source}",
            "    importlib.invalidate_caches()",
        ]
    lines += [
        "",
        "import autograd_lab",
        "",
        "autograd_lab.notebook_setup()",
    ]
    text = "\n".join(lines)
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": SETUP_ID,
        "metadata": {"tags": [SETUP_ID]},
        "outputs": [],
        "source": text.splitlines(keepends=True),
    }


def colab_notebook(notebook: dict, settings: CourseAddress) -> dict:
    """``notebook`` as ``colab/`` holds it (in place): the student copy, then the setup cell.

    The outputs are cleared by the student workspace copy's own ``student_notebook``; the
    kernel metadata is then Colab's, so the file does not depend on the machine that built it.
    """
    student_notebook(notebook)
    metadata = notebook.setdefault("metadata", {})
    metadata.update(json.loads(json.dumps(COLAB_METADATA)))
    cells = [c for c in notebook.get("cells", []) if c.get("id") != SETUP_ID]
    notebook["cells"] = [setup_cell(settings), *cells]
    return notebook


def colab_text(source: Path, settings: CourseAddress) -> str:
    """The text of ``colab/``'s copy of ``source`` (JSON as the workspace copy writes it)."""
    notebook = colab_notebook(json.loads(source.read_text(encoding="utf-8")), settings)
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def write_colab(dest: Path, root: Path = ROOT, settings: CourseAddress | None = None) -> list[str]:
    """Write every Colab notebook into ``dest``; remove notebooks there with no source.

    Returns the paths written, relative to ``dest`` (POSIX).
    """
    settings = settings if settings is not None else read_address(root)
    wanted = {rel: colab_text(src, settings) for src, rel in colab_sources(root)}
    for old in sorted(dest.glob("**/*.ipynb")) if dest.is_dir() else []:
        if old.relative_to(dest).as_posix() not in wanted:
            old.unlink()
    for rel, text in wanted.items():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
    return list(wanted)


# --- the links: README's lesson table and the start page -------------------------------------


def _table_row(line: str, settings: CourseAddress, names: set[str]) -> str:
    """A README lesson-table row with its first cell linked (or plain, when unset)."""
    match = re.match(r"^\| (?:\[`(?P<a>[^`]+)`\]\([^)]*\)|`(?P<b>[^`]+)`) \|", line)
    if not match:
        return line
    name = match.group("a") or match.group("b")
    if name not in names:
        return line
    url = colab_link(settings, f"{COLAB_DIR}/{name}.ipynb")
    cell = f"[`{name}`]({url})" if url else f"`{name}`"
    return f"| {cell} |" + line[match.end():]


def readme_text(text: str, settings: CourseAddress, names: set[str]) -> str:
    """README with each lesson-table row's notebook name linked to Colab (or unlinked)."""
    return "".join(_table_row(line, settings, names) for line in text.splitlines(keepends=True))


def start_section(settings: CourseAddress, rels: list[str]) -> str:
    """The start page's "In Colab" text between :data:`START_BEGIN` and :data:`START_END`."""
    links = [(rel, colab_link(settings, f"{COLAB_DIR}/{rel}")) for rel in rels]
    lines = [START_BEGIN]
    if settings.published:
        lines += [
            "Open a lesson or an exercise in Google Colab with its link below (or upload it",
            "from the course's `colab/` folder: File → Upload notebook), then run its first",
            "cell: it installs the course's package in that notebook's runtime.",
        ]
    else:
        lines += [
            "Every lesson and exercise is also in the course's `colab/` folder, outputs",
            "cleared, for Google Colab: File → Upload notebook, pick one, and run its first",
            "cell: it installs the course's package in that notebook's runtime (first upload",
            "the package's wheel, `autograd_lab-….whl`, from your teacher to the Files panel).",
        ]
    lines += [
        "Each Colab notebook has a runtime of its own, so each one starts with that cell.",
        "Keep your work with File → Save a copy in Drive.",
    ]
    if settings.published:
        lines.append("")
        lines += [f"* [`{Path(rel).stem}`]({url})" for rel, url in links]
    lines.append(START_END)
    return "\n".join(lines)


def start_page_text(text: str, settings: CourseAddress, rels: list[str]) -> str:
    """The start page's markdown with its generated Colab part replaced."""
    pattern = re.compile(re.escape(START_BEGIN) + r".*?" + re.escape(START_END), re.DOTALL)
    if not pattern.search(text):
        raise ColabError(
            f"notebooks/00_start_here.md has no line {START_BEGIN!r}; put it back (with "
            f"{START_END!r} after it) where the Colab paragraph goes."
        )
    section = start_section(settings, rels)
    return pattern.sub(lambda _: section, text, count=1)


def update_links(root: Path = ROOT, settings: CourseAddress | None = None) -> list[Path]:
    """Rewrite the README's lesson table and the start page's Colab part; return changed files.

    The start page's ``.ipynb`` is synced from its ``.md`` (markdown only: no cell runs).
    """
    settings = settings if settings is not None else read_address(root)
    rels = [rel for _, rel in colab_sources(root)]
    names = {Path(rel).stem for rel in rels if "/" not in rel}
    changed: list[Path] = []
    readme = root / "README.md"
    old = readme.read_text(encoding="utf-8")
    new = readme_text(old, settings, names)
    if new != old:
        readme.write_text(new, encoding="utf-8")
        changed.append(readme)
    start = root / "notebooks" / "00_start_here.md"
    old = start.read_text(encoding="utf-8")
    new = start_page_text(old, settings, rels)
    if new != old:
        start.write_text(new, encoding="utf-8")
        from tools.run_notebooks import build  # jupytext: only when the page changed

        build(start, run=False)
        changed += [start, start.with_suffix(".ipynb")]
    return changed


def main(argv: list[str] | None = None) -> int:
    """``python -m tools.build_colab``: the links first (the start page), then ``colab/``."""
    del argv
    try:
        settings = read_address(ROOT)
        for path in update_links(ROOT, settings):
            print(f"updated {path.relative_to(ROOT)}")
        written = write_colab(ROOT / COLAB_DIR, ROOT, settings)
    except (AddressError, ColabError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    where = settings.repository or "no repository set: no links, wheel upload"
    print(f"wrote {len(written)} notebooks into {COLAB_DIR}/ ({where})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
