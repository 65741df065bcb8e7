"""Classroom figures: ``python -m benchmarks classroom`` (needs ``.npm-tools/``: ``make bench``).

Rows:

- classroom start-up: ``start_classroom`` until ``/hub/health`` answers through the proxy, and
  one student's first server (login, token, spawn, ready);
- memory per student: after lesson 08 ran in a kernel of a hub-spawned single-user server,
  the resident set size (RSS) of that server plus its kernel — what ``deploy/`` sizes the
  per-student limits from (target: within the 1 GiB limit of ``deploy/values.yaml``);
- autograde time per submission over a batch: ``nbgrader autograde chain_rule`` on a batch of
  submissions (solution, one mistake, untouched, in turn) in a copy of the course root with its
  gradebook and its config (each grading kernel forked from a process that imported torch
  once: autograd_lab_course.grading.warm_kernels), divided by the batch size (target ≤ 3 s),
  and its CPU
  time (user+sys of the command, the forker and its kernels: what a shared machine's load
  does not change much);
- the same batch sandboxed (run as root only): each grading kernel forked by the classroom's
  grading service as a grading user, in a copy of its submission, with limits, and every
  process of that user killed afterwards (autograd_lab_course.grading.sandbox).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[1]
COURSE = REPO / "notebooks" / "exercises"
ASSIGNMENT = "chain_rule"
BATCH = 6
AUTOGRADE_TARGET_S = 3.0
MEMORY_LIMIT_MB = 1024.0  # MiB: deploy/values.yaml singleuser.memory.limit 1G (1024-based)


def _row(name: str, value: float, unit: str, target: str, ok: bool) -> dict[str, Any]:
    return {"benchmark": name, "value": value, "unit": unit, "target": target, "ok": ok}


def _code_cells(path: Path) -> list[tuple[str, bool]]:
    """(source, raises) for each code cell; ``raises`` for cells tagged raises-exception."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    return [
        ("".join(c["source"]), "raises-exception" in c.get("metadata", {}).get("tags", []))
        for c in notebook["cells"]
        if c["cell_type"] == "code"
    ]


def _rss_mb(proc: psutil.Process) -> float:
    return proc.memory_info().rss / 2**20


def measure_hub() -> list[dict[str, Any]]:
    """Start-up and memory rows from one classroom with one student."""
    from autograd_lab_course.classroom.client import HubError, HubUser
    from autograd_lab_course.classroom.hub import start_classroom

    lesson = sorted((REPO / "notebooks").glob("08_*.ipynb"))[0]
    with tempfile.TemporaryDirectory(prefix="bench-classroom-") as tmp:
        # the students' own system users must reach the class folder (mkdtemp makes it 0700)
        os.chmod(tmp, 0o755)
        classroom = start_classroom(1, directory=tmp)
        with classroom:
            student = HubUser(classroom.url, "student1", classroom.passwords["student1"])
            t0 = time.perf_counter()
            student.create_token()
            student.start_server()
            first_server = time.perf_counter() - t0
            kernel = student.start_kernel()
            student.execute(kernel, f"import os; os.chdir({str(Path(tmp, 'home', 'student1'))!r})")
            t1 = time.perf_counter()
            for source, raises in _code_cells(lesson):
                try:
                    student.execute(kernel, source)
                except HubError:
                    if not raises:
                        raise
            lesson_seconds = time.perf_counter() - t1
            servers = [p for p in classroom.processes()
                       if "jupyterhub.singleuser" in " ".join(p.cmdline())]
            assert len(servers) == 1, servers
            server = servers[0]
            kernels = [p for p in server.children(recursive=True)
                       if "ipykernel" in " ".join(p.cmdline())]
            server_mb = _rss_mb(server)
            kernel_mb = sum(_rss_mb(k) for k in kernels)
            hub_mb = sum(_rss_mb(p) for p in classroom.processes()
                         if p.pid != server.pid and p not in kernels
                         and p.pid not in {c.pid for c in server.children(recursive=True)})
            start = classroom.started_seconds
    total = server_mb + kernel_mb
    return [
        _row("classroom start-up (hub + proxy answering)", start, "s", "≤ 30 s", start <= 30),
        _row("first student server (login → ready)", first_server, "s", "≤ 60 s",
             first_server <= 60),
        _row(f"lesson 08 run in a hub kernel ({lesson.stem})", lesson_seconds, "s", "info",
             True),
        _row("RSS single-user server (after lesson 08)", server_mb, "MiB", "info", True),
        _row("RSS kernel after lesson 08", kernel_mb, "MiB", "info", True),
        _row("memory per student (server + kernel)", total, "MiB",
             f"≤ {MEMORY_LIMIT_MB:.0f} MiB (deploy limit: 1G)", total <= MEMORY_LIMIT_MB),
        _row("RSS hub + proxy (shared, once per class)", hub_mb, "MiB", "info", True),
    ]


def _submission(release: dict, source: dict, kind: str) -> dict:
    cells = {c["metadata"]["nbgrader"]["grade_id"]: c for c in source["cells"]}
    notebook = json.loads(json.dumps(release))
    for cell in notebook["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if kind == "untouched" or not meta.get("solution"):
            continue
        text = "".join(cells[meta["grade_id"]]["source"])
        text = "\n".join(ln for ln in text.splitlines() if "### " not in ln) + "\n"
        if kind == "mistake" and "dz_dx = ..." in text:
            text = "x = 2.0\ndz_dx = math.exp(math.cos(x))\n"
        cell["source"] = text
    return notebook


def _course(tmp: Path, batch: int) -> tuple[Path, dict[str, str]]:
    """A copy of the course root with ``chain_rule`` generated (gradebook on) and ``batch``
    submissions (solution, one mistake, untouched, in turn) in ``submitted/``."""
    env_bin = str(Path(sys.executable).parent)
    root = tmp / "course"
    (root / "source").mkdir(parents=True)
    shutil.copy2(COURSE / "nbgrader_config.py", root / "nbgrader_config.py")
    shutil.copytree(COURSE / "source" / ASSIGNMENT, root / "source" / ASSIGNMENT,
                    ignore=shutil.ignore_patterns("*.md", ".*"))
    env = {**os.environ, "PATH": env_bin + os.pathsep + os.environ.get("PATH", "")}
    _nbgrader(root, env, "generate_assignment", ASSIGNMENT, "--force")
    release = json.loads((root / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
    source = json.loads((root / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
    kinds = ("solution", "mistake", "untouched")
    for i in range(batch):
        folder = root / "submitted" / f"student{i + 1}" / ASSIGNMENT
        folder.mkdir(parents=True)
        notebook = _submission(release, source, kinds[i % 3])
        (folder / f"{ASSIGNMENT}.ipynb").write_text(json.dumps(notebook))
    return root, env


def _nbgrader(root: Path, env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={root}"],
                   cwd=root, env=env, check=True, capture_output=True)


def measure_autograde(batch: int = BATCH) -> list[dict[str, Any]]:
    """``nbgrader autograde`` over ``batch`` submissions; seconds per submission."""
    with tempfile.TemporaryDirectory(prefix="bench-autograde-") as tmp:
        root, env = _course(Path(tmp), batch)
        cpu0 = _children_cpu_seconds()
        t0 = time.perf_counter()
        _nbgrader(root, env, "autograde", ASSIGNMENT, "--create")
        per = (time.perf_counter() - t0) / batch
        cpu = (_children_cpu_seconds() - cpu0) / batch
    return [_row(f"autograde per submission (batch of {batch})", per, "s",
                 f"≤ {AUTOGRADE_TARGET_S:.0f} s", per <= AUTOGRADE_TARGET_S),
            _row("  CPU time per submission (the nbgrader command + its kernels, user+sys)",
                 cpu, "s", "info: load-independent", True)]


def measure_sandboxed_autograde(batch: int = BATCH) -> list[dict[str, Any]]:
    """The same batch with each grading kernel in the grading sandbox (run as root: the
    classroom's grading service, its grading users and runtime python, as the classroom
    starts them); seconds per submission, and the CPU time of the command and the service's
    kernels."""
    if os.geteuid() != 0:
        return [_row("autograde per submission, sandboxed: not measured (needs root)",
                     math.nan, "s", "", True)]
    from autograd_lab_course.classroom.grading_service import (
        GRADERS,
        start_grading_service,
        wait_for_grading_service,
    )
    from autograd_lab_course.classroom.layout import ClassroomLayout
    from autograd_lab_course.classroom.runtime import build_runtime, library_path
    from autograd_lab_course.classroom.system_users import ensure_user
    from autograd_lab_course.grading.sandbox_client import SOCKET_ENV

    with tempfile.TemporaryDirectory(prefix="bench-sandbox-", dir="/tmp") as tmp:
        os.chmod(tmp, 0o755)
        layout = ClassroomLayout(Path(tmp) / "class", notebooks=REPO / "notebooks")
        layout.state.mkdir(parents=True)
        for name in GRADERS:
            ensure_user(name, layout.grading)
        python = str(build_runtime(layout.runtime))
        # nbgrader runs as root here: root grades (its reads are root's)
        service = start_grading_service(layout, python, library_path(layout.runtime), "root")
        try:
            problem = wait_for_grading_service(layout, service, time.monotonic() + 120)
            if problem:
                raise RuntimeError(problem)
            root, env = _course(Path(tmp), batch)
            env[SOCKET_ENV] = str(layout.grading_socket)
            cpu0 = _children_cpu_seconds() + _tree_cpu_seconds(service.pid)
            t0 = time.perf_counter()
            _nbgrader(root, env, "autograde", ASSIGNMENT, "--create")
            per = (time.perf_counter() - t0) / batch
            cpu = (_children_cpu_seconds() + _tree_cpu_seconds(service.pid) - cpu0) / batch
        finally:
            service.stdin.close()
            service.wait(timeout=60)
    return [_row(f"autograde per submission, sandboxed (batch of {batch})", per, "s",
                 f"≤ {AUTOGRADE_TARGET_S:.0f} s", per <= AUTOGRADE_TARGET_S),
            _row("  CPU time per submission (the command + the service's kernels, user+sys)",
                 cpu, "s", "info: load-independent", True)]


def _tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of process ``pid`` and of its children it has waited for."""
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system + times.children_user + times.children_system


def _children_cpu_seconds() -> float:
    """user+sys CPU of this process's reaped children and theirs (nbgrader, its kernels)."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


def _cpu_seconds() -> float:
    """user+sys CPU of this process and of its reaped children (the kernels)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def measure_autograde_breakdown(batch: int = BATCH) -> list[dict[str, Any]]:
    """Where one submission's autograde time goes, measured in-process over ``batch``
    submissions, as the formgrader runs it (``NbGraderAPI.autograde`` per student): kernel
    start (the course config forks each kernel from a process that imported torch; the
    first start waits for that import), the first code cell (``import autograd_lab``), the
    other cells (the checks), and nbgrader's own work (gradebook, copies, preprocessors);
    plus the fixed cost of starting the ``nbgrader`` command (paid once per command)."""
    from nbclient import NotebookClient
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    first_cell = "first cell (import autograd_lab; torch is loaded in a forked kernel)"
    parts = {"kernel start": 0.0, first_cell: 0.0, "other cells (the checks)": 0.0,
             "kernel shut-down": 0.0}

    def timed(method: Callable[..., Any], part: Callable[..., str]) -> Callable[..., Any]:
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return method(self, *args, **kwargs)
            finally:
                parts[part(self, *args)] += time.perf_counter() - t0
        return wrapper

    def cell_part(self: Any, cell: Any, index: int, *args: Any) -> str:
        first = next(i for i, c in enumerate(self.nb.cells) if c.cell_type == "code")
        return first_cell if index == first else "other cells (the checks)"

    def shut_down_timed(method: Callable[..., Any]) -> Callable[..., Any]:
        """``setup_kernel`` (nbclient's public context manager around a notebook's run: it
        starts the kernel on entry and shuts it down on exit) with its exit timed."""
        @contextlib.contextmanager
        def wrapper(self: Any, **kwargs: Any) -> Iterator[None]:
            with method(self, **kwargs):
                yield
                t0 = time.perf_counter()  # the last cell has run: what follows is shut-down
            parts["kernel shut-down"] += time.perf_counter() - t0
        return wrapper

    # nbconvert's ExecutePreprocessor (nbgrader's Execute) calls nbclient's sync wrappers.
    patches = {
        "start_new_kernel": timed(NotebookClient.start_new_kernel, lambda *a: "kernel start"),
        "start_new_kernel_client": timed(NotebookClient.start_new_kernel_client,
                                         lambda *a: "kernel start"),
        "execute_cell": timed(NotebookClient.execute_cell, cell_part),
        "setup_kernel": shut_down_timed(NotebookClient.setup_kernel),
    }
    originals = {name: getattr(NotebookClient, name) for name in patches}
    with tempfile.TemporaryDirectory(prefix="bench-autograde-") as tmp:
        root, env = _course(Path(tmp), batch)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "nbgrader", "autograde", "--help"], cwd=root,
                       env=env, check=True, capture_output=True)
        command = time.perf_counter() - t0
        old_path, old_cwd = os.environ.get("PATH", ""), Path.cwd()
        for name, method in patches.items():
            setattr(NotebookClient, name, method)
        try:
            os.environ["PATH"] = env["PATH"]
            os.chdir(root)
            config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
            api = NbGraderAPI(coursedir=CourseDirectory(root=str(root), config=config),
                              config=config)
            cpu0 = _cpu_seconds()
            t0 = time.perf_counter()
            for i in range(batch):
                result = api.autograde(ASSIGNMENT, f"student{i + 1}")
                if not result["success"]:
                    raise RuntimeError(str(result.get("error", ""))[-300:])
            total = time.perf_counter() - t0
            # the kernels are the forker's children: their CPU time reaches this process
            # only once the forker has been waited for
            from autograd_lab_course.grading.warm_kernels import stop_forkers

            stop_forkers()
            cpu = _cpu_seconds() - cpu0
        finally:
            for name, method in originals.items():
                setattr(NotebookClient, name, method)
            os.environ["PATH"] = old_path
            os.chdir(old_cwd)
    rows = [_row(f"autograde per submission in-process (formgrader path, {batch} in turn)",
                 total / batch, "s", f"≤ {AUTOGRADE_TARGET_S:.0f} s",
                 total / batch <= AUTOGRADE_TARGET_S)]
    for name, seconds in parts.items():
        rows.append(_row(f"  of which {name}", seconds / batch, "s", "info", True))
    rows.append(_row("  CPU time per submission (nbgrader + its kernels, user+sys)",
                     cpu / batch, "s", "info: load-independent", True))
    rest = (total - sum(parts.values())) / batch
    rows.append(_row("  of which nbgrader (gradebook, copies, preprocessors)", rest, "s",
                     "info", True))
    rows.append(_row("nbgrader command start-up (once per command)", command, "s", "info",
                     True))
    return rows


def run() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for part in (measure_hub, measure_autograde, measure_sandboxed_autograde,
                 measure_autograde_breakdown):
        try:
            rows.extend(part())
        except Exception as exc:  # noqa: BLE001 - report the failure as a row
            rows.append(_row(f"{part.__name__} FAILED: {str(exc)[:120]}", math.nan, "", "", False))
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
