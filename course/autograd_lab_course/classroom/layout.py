"""What the classroom puts under DIR before the hub starts, and the per-role Jupyter overlays.

::

    DIR/home/instructor/          lessons + course/ (the nbgrader course root: a copy of
                                  notebooks/exercises, teacher versions with solutions)
    DIR/home/studentK/            lessons only: exercises arrive through nbgrader
    DIR/exchange/                 nbgrader's exchange (release → fetch, submit → collect)
    DIR/jupyter-config/instructor nbgrader config: course root, exchange, course id
    DIR/jupyter-config/student    nbgrader config (exchange, course id); nbgrader's teacher
                                  tools off, the Assignments tab on; a closed notebook's
                                  kernel shut down, idle kernels culled (lab_env)
    DIR/jupyter-config/users/studentK   nbgrader's ``CourseDirectory.student_id``
    DIR/hub/                      the hub's state: database, cookie secret, password hashes,
                                  settings, logs

The spawner puts the role's overlay first on ``JUPYTER_CONFIG_PATH`` for each single-user
server (see :mod:`autograd_lab_course.classroom.hub_plugins`). Files that already exist are never
overwritten: a student's saved work and the teacher's gradebook survive a restart.

Every single-user server runs as the same OS user here, and nbgrader files a submission under
the OS user name (it reads ``JUPYTERHUB_USER`` only when that is ``jovyan``), so each student
gets ``CourseDirectory.student_id`` = their hub name, and submissions land under student1,
student2, …
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
from collections.abc import Sequence
from pathlib import Path

from autograd_lab_course.classroom.accounts import INSTRUCTOR
from autograd_lab_course.grading.autograde import EXECUTE, autograde_preprocessors
from autograd_lab_course.lab_env import (
    KERNEL_CULLING,
    KERNEL_SHUTDOWN_ON_CLOSE,
    NO_BUILD_CHECK,
    STUDENT_CSS,
    STUDENT_CSS_EXTENSION,
)
from autograd_lab_course.student_css import OUTPUT_WRAP_CSS
from autograd_lab_course.workspace import (
    find_notebooks_dir,
    is_broken_copy,
    set_aside,
    write_new,
)

__all__ = [
    "COURSE_ID",
    "INSTRUCTOR_CSP",
    "OWNER_CHECKED_COLLECT",
    "SANITIZED",
    "copy_course",
    "copy_lessons",
    "main",
    "COURSE_DIRNAME",
    "STUDENT_LAB_DISABLED",
    "STUDENT_SERVER_EXTENSIONS_OFF",
    "ClassroomLayout",
]

COURSE_ID = "autograd-lab"
#: The course root inside the instructor's home.
COURSE_DIRNAME = "course"
#: nbgrader's server extensions a student does not get (the Assignments tab's
#: ``assignment_list`` stays on: fetch, submit, fetch feedback).
STUDENT_SERVER_EXTENSIONS_OFF = ("formgrader", "course_list", "validate_assignment")
#: nbgrader's JupyterLab plugins a student does not get (the menu then offers only
#: "Assignment List").
STUDENT_LAB_DISABLED = (
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:validate-assignment",
    "@jupyter/nbgrader:course-list",
)
#: The instructor's server's Content-Security-Policy: no inline event handler (an
#: ``<img onerror>`` in a student's output), no plugins, no framing.
INSTRUCTOR_CSP = "frame-ancestors 'none'; script-src-attr 'none'; object-src 'none'"
#: Student outputs shown sanitized in the formgrader and in feedback
#: (:mod:`autograd_lab_course.grading.sanitize_outputs`).
SANITIZED = {"HTMLExporter": {"preprocessors": [
    "autograd_lab_course.grading.sanitize_outputs.SanitizeOutputs"]}}
OWNER_CHECKED_COLLECT = "autograd_lab_course.classroom.submission_owner.OwnerCheckedCollect"
_SKIP = {".ipynb_checkpoints", "__pycache__", "gradebook.db", ".nbgrader.log", "jupytext.toml"}


def _write_json(path: Path, content: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, indent=1) + "\n", encoding="utf-8")


def _clear_outputs(notebook: dict) -> dict:
    """Outputs and execution counts cleared, saved widget state dropped; metadata kept."""
    notebook.get("metadata", {}).pop("widgets", None)
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    return notebook


def _copy_new(src: Path, dest: Path, clear: bool) -> bool:
    """Copy ``src`` to ``dest`` unless ``dest`` exists; True when written.

    Written atomically (a full disk leaves no half-written file), and a copy an interrupted
    run left empty or cut short is set aside as ``NAME.broken`` and written again, as the
    workspace does (:mod:`autograd_lab_course.workspace`).
    """
    if is_broken_copy(dest):
        set_aside(dest)
    elif dest.exists() or dest.is_symlink():
        return False
    dest.parent.mkdir(parents=True, exist_ok=True)
    if clear and src.suffix == ".ipynb":
        notebook = _clear_outputs(json.loads(src.read_text(encoding="utf-8")))
        data = (json.dumps(notebook, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
    else:
        data = src.read_bytes()
    return write_new(dest, data)


def copy_lessons(home: Path, notebooks: Path | None = None) -> list[str]:
    """The lessons (``notebooks/*.ipynb``, outputs cleared) into ``home``; never overwrites."""
    notebooks = notebooks if notebooks is not None else find_notebooks_dir()
    home.mkdir(parents=True, exist_ok=True)
    return [
        lesson.name
        for lesson in sorted(notebooks.glob("*.ipynb"))
        if _copy_new(lesson, home / lesson.name, clear=True)
    ]


def copy_course(course_root: Path, notebooks: Path | None = None) -> list[str]:
    """``notebooks/exercises`` (config and teacher sources) into ``course_root``.

    Only notebooks and plain files of ``source/``: a paired MyST text of a teacher notebook
    would be copied to students by ``generate_assignment`` with its solutions. ``release/``
    is left out: the formgrader's Generate makes it (and records the hidden tests). Never
    overwrites.
    """
    exercises = (notebooks if notebooks is not None else find_notebooks_dir()) / "exercises"
    copied = []
    if _copy_new(exercises / "nbgrader_config.py", course_root / "nbgrader_config.py",
                 clear=False):
        copied.append("nbgrader_config.py")
    source = exercises / "source"
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source)
        if (
            not path.is_file()
            or path.suffix == ".md"
            or any(p in _SKIP or p.startswith(".") for p in rel.parts)
        ):
            continue
        if _copy_new(path, course_root / "source" / rel, clear=False):
            copied.append(f"source/{rel.as_posix()}")
    return copied


class ClassroomLayout:
    """Paths under DIR and the steps that fill them (see the module docstring)."""

    def __init__(self, root: Path | str, notebooks: Path | None = None) -> None:
        self.root = Path(root).expanduser().resolve()
        self.notebooks = notebooks if notebooks is not None else find_notebooks_dir()
        self.homes = self.root / "home"
        self.exchange = self.root / "exchange"
        self.config_root = self.root / "jupyter-config"
        self.state = self.root / "hub"
        #: root's: the grading service's socket and the grading kernels' folders
        self.grading = self.root / "grading"
        self.grading_socket = self.grading / "sandbox.sock"
        self.hub_log = self.state / "hub.log"
        #: the python every server runs (:mod:`autograd_lab_course.classroom.runtime`)
        self.runtime = self.root / "runtime"
        #: what the hub's config reads (``AUTOGRAD_LAB_CLASSROOM_SETTINGS``): ports, users, dirs
        self.hub_settings = self.state / "settings.json"

    def home(self, name: str) -> Path:
        return self.homes / name

    @property
    def course_root(self) -> Path:
        return self.home(INSTRUCTOR) / COURSE_DIRNAME

    # -- filling DIR ------------------------------------------------------------------------
    def prepare(self, students: list[str], *, isolated: bool = False) -> None:
        """Homes with the lessons, the course root, the exchange and every overlay
        (``isolated``: each account is its own system user, see :meth:`write_overlays`)."""
        for name in [INSTRUCTOR, *students]:
            self.copy_lessons(self.home(name))
        self.copy_course()
        self.exchange.mkdir(parents=True, exist_ok=True)
        # Everyone writes into the exchange (as nbgrader's docs set it up: world-writable,
        # sticky). With one OS user here it matters only on a real multi-user machine.
        os.chmod(self.exchange, 0o777 | stat.S_ISVTX)
        self.state.mkdir(parents=True, exist_ok=True)
        self.write_overlays(students, isolated=isolated)

    def copy_lessons(self, home: Path) -> list[str]:
        return copy_lessons(home, self.notebooks)

    def copy_course(self) -> list[str]:
        return copy_course(self.course_root, self.notebooks)

    def write_overlays(self, students: list[str], *, isolated: bool = False) -> None:
        """The instructor's and the students' Jupyter config overlays (rewritten each start).

        The instructor's server shows student outputs sanitized (no script, no event
        handler: :mod:`autograd_lab_course.grading.sanitize_outputs`) and sends
        :data:`INSTRUCTOR_CSP`, which forbids inline event handlers. ``isolated`` (one
        system user per account): collect files a submission under the student who owns it
        (:mod:`autograd_lab_course.classroom.submission_owner`).
        """
        common = {"CourseDirectory": {"course_id": COURSE_ID},
                  "Exchange": {"root": str(self.exchange)}}
        instructor = self.config_root / "instructor"
        _write_json(
            instructor / "nbgrader_config.json",
            {**common, "CourseDirectory": {"course_id": COURSE_ID,
                                           "root": str(self.course_root)},
             # The formgrader autogrades with this config, not the course's .py: as
             # nbgrader_config.py does, fork each grading kernel from a process that imported
             # torch once and kill it once its last cell ran (autograd_lab_course.grading).
             "Execute": dict(EXECUTE),
             # one bad cell costs one question; rebinding is flagged (grading.execute)
             "Autograde": {"autograde_preprocessors": autograde_preprocessors()},
             **SANITIZED,
             **({"ExchangeFactory": {"collect": OWNER_CHECKED_COLLECT}} if isolated else {})},
        )
        _write_json(
            # the server's own settings file (a jupyter_server_config.d file sets only
            # which extensions are on)
            instructor / "jupyter_server_config.json",
            {"ServerApp": {"tornado_settings": {"headers": {
                "Content-Security-Policy": INSTRUCTOR_CSP}}},
             **SANITIZED},
        )
        student = self.config_root / "student"
        _write_json(student / "nbgrader_config.json", common)
        _write_json(
            student / "jupyter_server_config.d" / "autograd_lab_classroom_student.json",
            {"ServerApp": {"jpserver_extensions": {
                **{f"nbgrader.server_extensions.{name}": False
                   for name in STUDENT_SERVER_EXTENSIONS_OFF},
                STUDENT_CSS_EXTENSION: True,  # output text wraps at spaces (student_css)
            }}},
        )
        # server options (traitlets) come from jupyter_server_config.json, not the .d folder
        _write_json(student / "jupyter_server_config.json", {**KERNEL_CULLING, **STUDENT_CSS})
        # as in the student lab: output text wraps at spaces, not inside words
        (student / "custom").mkdir(parents=True, exist_ok=True)
        (student / "custom" / "custom.css").write_text(OUTPUT_WRAP_CSS, encoding="utf-8")
        _write_json(
            student / "labconfig" / "page_config.json",
            {"disabledExtensions": {plugin: True for plugin in STUDENT_LAB_DISABLED},
             **NO_BUILD_CHECK},
        )
        # as in the student lab: a closed notebook's kernel shuts down (lab_env)
        _write_json(student / "labconfig" / "default_setting_overrides.json",
                    KERNEL_SHUTDOWN_ON_CLOSE)
        for name in students:
            _write_json(
                self.config_root / "users" / name / "nbgrader_config.json",
                {"CourseDirectory": {"student_id": name}},
            )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m autograd_lab_course.classroom.layout lessons|course DEST``: fill one home.

    What a hub image runs when a user's server starts (see ``deploy/``): ``lessons`` copies
    the lessons into DEST, ``course`` the nbgrader course root (instructor only). Existing
    files are never overwritten.
    """
    parser = argparse.ArgumentParser(prog="python -m autograd_lab_course.classroom.layout",
                                     description=main.__doc__.splitlines()[0])
    parser.add_argument("what", choices=["lessons", "course"])
    parser.add_argument("dest", type=Path)
    args = parser.parse_args(argv)
    copy = copy_lessons if args.what == "lessons" else copy_course
    try:
        copied = copy(args.dest.expanduser())
    except OSError as exc:
        print(f"error: cannot fill {str(args.dest)[:60]}: {exc.strerror}.", file=sys.stderr)
        return 2
    print(f"{len(copied)} files copied into {args.dest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
