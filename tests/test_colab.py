"""colab/ (make colab): up to date, every student notebook without outputs, the setup cell,
and the "Open in Colab" links from the one setting ``[tool.autograd-lab]`` (issue 33).

Static: nothing here starts a kernel (``make test-colab`` runs the notebooks).
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

from autograd_lab_course.workspace import student_notebook
from tools import build_colab
from tools.build_colab import (
    COLAB_DIR,
    SETUP_ID,
    colab_sources,
    setup_cell,
    start_page_text,
    update_links,
    write_colab,
)
from tools.course_address import AddressError, CourseAddress, colab_link, read_address

ROOT = Path(__file__).resolve().parent.parent
COLAB = ROOT / COLAB_DIR
LINK = "colab.research.google.com"
#: A written link (a markdown link's target), not the README's OWNER/REPO template.
LINK_TARGET = re.compile(r"\]\(https://colab\.research\.google\.com/github/(?!OWNER/)")
REPOSITORY = "https://github.com/example-org/autograd-lab"
BRANCH = "course-2027"


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.glob("**/*.ipynb"))}


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_colab_folder_is_up_to_date(tmp_path: Path) -> None:
    """colab/ is what make colab writes from the committed notebooks (regenerated here)."""
    write_colab(tmp_path, ROOT, read_address(ROOT))
    fresh, committed = _files(tmp_path), _files(COLAB)
    assert sorted(committed) == sorted(fresh), "colab/ is stale: run `make colab` and commit"
    stale = [rel for rel in fresh if fresh[rel] != committed[rel]]
    assert not stale, f"colab/ is stale ({stale[:3]}): run `make colab` and commit"


def test_links_are_up_to_date() -> None:
    """The README's lesson table and the start page agree with [tool.autograd-lab]."""
    settings = read_address(ROOT)
    rels = [rel for _, rel in colab_sources(ROOT)]
    names = {Path(rel).stem for rel in rels if "/" not in rel}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert build_colab.readme_text(readme, settings, names) == readme, "run `make colab`"
    start = (ROOT / "notebooks" / "00_start_here.md").read_text(encoding="utf-8")
    assert start_page_text(start, settings, rels) == start, "run `make colab`"


def test_every_lesson_and_exercise_is_there_without_outputs() -> None:
    """Found by pattern: the start page, each lesson and each student exercise; nothing else."""
    lessons = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    release = ROOT / "notebooks" / "exercises" / "release"
    exercises = sorted(f"exercises/{p.name}" for p in release.glob("*/*.ipynb"))
    assert "00_start_here.ipynb" in lessons and len(lessons) >= 12 and len(exercises) >= 8
    assert sorted(_files(COLAB)) == sorted(lessons + exercises)
    for src, rel in colab_sources(ROOT):
        nb = _load(COLAB / rel)
        first, *cells = nb["cells"]
        assert first["id"] == SETUP_ID and first["cell_type"] == "code", rel
        # outputs cleared exactly as the student workspace copy clears them
        student = student_notebook(_load(src))
        assert cells == student["cells"], rel
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, rel
        assert "widgets" not in nb["metadata"], rel
        assert nb["metadata"]["kernelspec"]["name"] == "python3", rel
        nbformat.validate(nbformat.from_dict(nb))  # Colab opens it as any notebook


def test_no_teacher_material() -> None:
    """Lessons come from notebooks/, never teacher-notes/; exercises from release/, never
    source/ (the teacher versions with the solutions)."""
    teacher = ROOT / "notebooks" / "exercises" / "source"
    for path in sorted(COLAB.glob("**/*.ipynb")):
        text = path.read_text(encoding="utf-8")
        assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text, path.name
    for src, _ in colab_sources(ROOT):
        assert "teacher-notes" not in src.parts and teacher not in src.parents, src
    for note in sorted((ROOT / "notebooks" / "teacher-notes").glob("*.ipynb")):
        # the note's answers (markdown the lesson does not have) are not in colab/
        lesson = {"".join(c["source"]) for c in _load(COLAB / note.name)["cells"]}
        answers = [c for c in _load(note)["cells"]
                   if c["cell_type"] == "markdown" and "".join(c["source"]) not in lesson]
        assert answers, f"{note.name}: the teacher note holds no answer of its own?"


def _run_transformed(cell: dict) -> str:
    """The setup cell as IPython runs it (magics turned into calls): it must compile."""
    source = "".join(cell["source"])
    python = TransformerManager().transform_cell(source)
    compile(python, "<setup cell>", "exec")
    return python


def test_setup_cell_when_no_repository_is_set() -> None:
    """Unset: no install address is written; the cell installs AUTOGRAD_LAB_INSTALL or a
    wheel uploaded beside the notebook, and says what to do when there is neither."""
    cell = setup_cell(CourseAddress())
    source = "".join(cell["source"])
    assert "git+" not in source and LINK not in source and "github.com" not in source
    python = _run_transformed(cell)
    assert "run_line_magic('pip', 'install -q {source}')" in python
    assert 'os.environ.get("AUTOGRAD_LAB_INSTALL")' in source
    assert 'glob.glob("autograd_lab-*.whl")' in source
    assert "autograd_lab.notebook_setup()" in source
    # the install runs only when the kit is not importable
    assert re.search(r'if importlib\.util\.find_spec\("autograd_lab"\) is None:\n(    .*\n)+'
                     r"    %pip install -q \{source\}", source)


def test_setup_cell_when_a_repository_is_set() -> None:
    cell = setup_cell(CourseAddress(REPOSITORY, BRANCH))
    source = "".join(cell["source"])
    _run_transformed(cell)
    assert f'os.environ.get("AUTOGRAD_LAB_INSTALL", "git+{REPOSITORY}@{BRANCH}")' in source
    assert "glob" not in source


def test_the_setup_cell_installs_from_the_variable(tmp_path: Path) -> None:
    """Run the (unset) setup cell's Python with the kit "missing" and pip recorded: it
    installs exactly what AUTOGRAD_LAB_INSTALL names; with nothing to install, one sentence."""
    python = _run_transformed(setup_cell(CourseAddress()))
    stub = (
        "import importlib.util, sys, types\n"
        "calls = []\n"
        "class Shell:\n"
        "    def run_line_magic(self, name, line):\n"
        "        calls.append((name, line.format(**globals())))\n"
        "get_ipython = Shell\n"
        "importlib.util.find_spec = lambda name: None\n"
        "sys.modules['autograd_lab'] = types.SimpleNamespace(notebook_setup=lambda: None)\n"
    )
    script = tmp_path / "cell.py"
    script.write_text(stub + python + "\nprint(calls)\n", encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "AUTOGRAD_LAB_INSTALL": "--no-deps /w/autograd_lab.whl"}
    run = subprocess.run([sys.executable, str(script)], cwd=tmp_path,
                         env=env, capture_output=True, text=True, check=False)
    assert run.stdout.strip() == "[('pip', 'install -q --no-deps /w/autograd_lab.whl')]"
    (tmp_path / "autograd_lab-0.1.0-py3-none-any.whl").write_bytes(b"")
    del env["AUTOGRAD_LAB_INSTALL"]
    run = subprocess.run([sys.executable, str(script)], cwd=tmp_path,
                         env=env, capture_output=True, text=True, check=False)
    assert run.stdout.strip() == "[('pip', 'install -q autograd_lab-0.1.0-py3-none-any.whl')]"
    (tmp_path / "autograd_lab-0.1.0-py3-none-any.whl").unlink()
    run = subprocess.run([sys.executable, str(script)], cwd=tmp_path,
                         env=env, capture_output=True, text=True, check=False)
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("ModuleNotFoundError: autograd_lab is not installed here: upload")
    assert "[('pip'" not in run.stdout


def _course_copy(tmp_path: Path) -> Path:
    """The files make colab reads and rewrites, copied into ``tmp_path``."""
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, tmp_path / name)
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    for path in (ROOT / "notebooks").glob("*.*"):
        shutil.copy2(path, notebooks / path.name)
    shutil.copytree(ROOT / "notebooks" / "exercises" / "release",
                    notebooks / "exercises" / "release")
    return tmp_path


def _set_repository(root: Path, repository: str, branch: str) -> None:
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    text, count = re.subn(r'(?m)^repository = ".*"$', f'repository = "{repository}"', text)
    text, count2 = re.subn(r'(?m)^branch = ".*"$', f'branch = "{branch}"', text)
    assert count == count2 == 1, "[tool.autograd-lab] has one repository and one branch"
    pyproject.write_text(text, encoding="utf-8")


def test_links_when_set_and_none_when_unset(tmp_path: Path) -> None:
    """Set in a copy: the README's lesson table, the start page (.md and .ipynb) and every
    setup cell name the address; unset again: not one link is left, and the README and start
    page are back as they were."""
    root = _course_copy(tmp_path)
    readme_before = (root / "README.md").read_text(encoding="utf-8")
    start_before = (root / "notebooks" / "00_start_here.ipynb").read_text(encoding="utf-8")
    _set_repository(root, REPOSITORY, BRANCH)
    settings = read_address(root)
    assert settings == CourseAddress(REPOSITORY, BRANCH)
    update_links(root)
    write_colab(root / COLAB_DIR, root)
    base = f"https://colab.research.google.com/github/example-org/autograd-lab/blob/{BRANCH}/colab"
    readme = (root / "README.md").read_text(encoding="utf-8")
    lessons = sorted(p.stem for p in (root / "notebooks").glob("[0-9][0-9]_*.md")
                     if p.stem != "00_start_here")
    for lesson in lessons:
        assert f"| [`{lesson}`]({base}/{lesson}.ipynb) |" in readme, lesson
    start_md = (root / "notebooks" / "00_start_here.md").read_text(encoding="utf-8")
    start_nb = _load(root / "notebooks" / "00_start_here.ipynb")
    start_text = "".join("".join(c["source"]) for c in start_nb["cells"])
    for _, rel in colab_sources(root):
        link = f"({base}/{rel})"
        assert link in start_md and link in start_text, rel
    # the stored outputs of the start page are kept (markdown only changed)
    before = {c["id"]: c.get("outputs") for c in json.loads(start_before)["cells"]}
    assert {c["id"]: c.get("outputs") for c in start_nb["cells"]} == before
    for path in (root / COLAB_DIR).glob("**/*.ipynb"):
        first = "".join(_load(path)["cells"][0]["source"])
        assert f"git+{REPOSITORY}@{BRANCH}" in first, path.name
    colab_start = "".join("".join(c["source"])
                          for c in _load(root / COLAB_DIR / "00_start_here.ipynb")["cells"])
    assert f"({base}/01_first_gradient.ipynb)" in colab_start

    _set_repository(root, "", "main")
    update_links(root)
    write_colab(root / COLAB_DIR, root)
    assert (root / "README.md").read_text(encoding="utf-8") == readme_before
    assert (root / "notebooks" / "00_start_here.ipynb").read_text(encoding="utf-8") \
        == start_before
    for path in [root / "README.md", *root.glob("notebooks/*.*"), *root.glob("colab/**/*")]:
        if path.is_file():
            assert not LINK_TARGET.search(path.read_text(encoding="utf-8")), path


def test_no_link_is_written_while_unset() -> None:
    """In this repository as committed: no address is set, so no Colab link anywhere."""
    if read_address(ROOT).published:
        pytest.skip("[tool.autograd-lab] repository is set: test_links_are_up_to_date covers it")
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    for rel in tracked:
        if Path(rel).suffix in (".md", ".ipynb", ".html", ".rst", ".txt"):
            text = (ROOT / rel).read_text(encoding="utf-8", errors="replace")
            assert not LINK_TARGET.search(text), rel


@pytest.mark.parametrize(
    ("repository", "branch", "says"),
    [
        ("github.com/o/r", "main", "is not a GitHub address"),
        ("https://gitlab.com/o/r", "main", "is not a GitHub address"),
        (REPOSITORY, "a branch", "is not a branch name"),
    ],
)
def test_a_bad_setting_is_one_sentence(tmp_path: Path, repository: str, branch: str,
                                       says: str) -> None:
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.autograd-lab]\nrepository = "{repository}"\nbranch = "{branch}"\n',
        encoding="utf-8")
    with pytest.raises(AddressError) as raised:
        read_address(tmp_path)
    message = str(raised.value)
    assert says in message and "\n" not in message and len(message) < 160


def test_a_repository_address_is_normalised(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.autograd-lab]\nrepository = "{REPOSITORY}.git"\n', encoding="utf-8")
    settings = read_address(tmp_path)
    assert settings == CourseAddress(REPOSITORY, "main")
    assert colab_link(settings, "colab/exercises/engine.ipynb") == (
        "https://colab.research.google.com/github/example-org/autograd-lab/blob/main/"
        "colab/exercises/engine.ipynb")
    assert colab_link(CourseAddress(), "colab/01_first_gradient.ipynb") is None


def test_the_setup_cell_is_replaced_not_stacked() -> None:
    """Building from an already built notebook keeps one setup cell."""
    nb = _load(COLAB / "01_first_gradient.ipynb")
    again = build_colab.colab_notebook(copy.deepcopy(nb), CourseAddress())
    assert [c["id"] for c in again["cells"]] == [c["id"] for c in nb["cells"]]


def test_the_probe_clicks_every_button_once(capsys: pytest.CaptureFixture[str]) -> None:
    """make test-colab's widget probe (tests/colab_path/colab_probe.py), here under
    ipywidgets 8: every button of the widget clicked once, the clicks that changed it named."""
    import importlib.util

    from autograd_lab.widgets import ChainRuleStepper

    spec = importlib.util.spec_from_file_location(
        "colab_probe", ROOT / "tests" / "colab_path" / "colab_probe.py")
    assert spec is not None and spec.loader is not None
    probe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(probe)
    widget = ChainRuleStepper("sin(x**2)", x=3.0)
    buttons = [b.description for b in probe.widget_tree(widget.root)
               if b.__class__.__name__ == "Button"]
    summary = probe.click_once(widget)
    assert summary["clicked"] == buttons and len(buttons) >= 4
    assert summary["errors"] == [] and summary["changed"]
    assert set(summary["changed"]) <= set(buttons)
    printed = capsys.readouterr().out.strip()
    assert printed.startswith(probe.MARK) and json.loads(printed[len(probe.MARK):]) == summary
