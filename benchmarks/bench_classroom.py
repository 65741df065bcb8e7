"""Classroom figures: ``python -m benchmarks classroom`` (needs ``.npm-tools/``: ``make bench``).

Rows:

- classroom start-up: ``start_classroom`` until ``/hub/health`` answers through the proxy, and
  one student's first server (login, token, spawn, ready);
- memory per student: after lesson 08 ran in a kernel of a hub-spawned single-user server,
  the resident set size (RSS) of that server plus its kernel — what ``deploy/`` sizes the
  per-student limits from (target: within the 1 GiB limit of ``deploy/values.yaml``);
- autograde time per submission over a batch: ``nbgrader autograde chain_rule`` on a batch of
  submissions (solution, one mistake, untouched, in turn) in a copy of the course root with its
  gradebook, divided by the batch size (target ≤ 3 s).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
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
    from autograd_lab.classroom.client import HubError, HubUser
    from autograd_lab.classroom.hub import start_classroom

    lesson = sorted((REPO / "notebooks").glob("08_*.ipynb"))[0]
    with tempfile.TemporaryDirectory(prefix="bench-classroom-") as tmp:
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


def measure_autograde(batch: int = BATCH) -> list[dict[str, Any]]:
    """``nbgrader autograde`` over ``batch`` submissions; seconds per submission."""
    env_bin = str(Path(sys.executable).parent)
    with tempfile.TemporaryDirectory(prefix="bench-autograde-") as tmp:
        root = Path(tmp) / "course"
        (root / "source").mkdir(parents=True)
        shutil.copy2(COURSE / "nbgrader_config.py", root / "nbgrader_config.py")
        shutil.copytree(COURSE / "source" / ASSIGNMENT, root / "source" / ASSIGNMENT,
                        ignore=shutil.ignore_patterns("*.md", ".*"))
        env = {**os.environ, "PATH": env_bin + os.pathsep + os.environ.get("PATH", "")}

        def nbgrader(*args: str) -> None:
            subprocess.run([sys.executable, "-m", "nbgrader", *args,
                            f"--CourseDirectory.root={root}"], cwd=root, env=env, check=True,
                           capture_output=True)

        nbgrader("generate_assignment", ASSIGNMENT, "--force")
        release = json.loads((root / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
        source = json.loads((root / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
        kinds = ("solution", "mistake", "untouched")
        for i in range(batch):
            folder = root / "submitted" / f"student{i + 1}" / ASSIGNMENT
            folder.mkdir(parents=True)
            notebook = _submission(release, source, kinds[i % 3])
            (folder / f"{ASSIGNMENT}.ipynb").write_text(json.dumps(notebook))
        t0 = time.perf_counter()
        nbgrader("autograde", ASSIGNMENT, "--create")
        per = (time.perf_counter() - t0) / batch
    return [_row(f"autograde per submission (batch of {batch})", per, "s",
                 f"≤ {AUTOGRADE_TARGET_S:.0f} s", per <= AUTOGRADE_TARGET_S)]


def run() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for part in (measure_hub, measure_autograde):
        try:
            rows.extend(part())
        except Exception as exc:  # noqa: BLE001 - report the failure as a row
            rows.append(_row(f"{part.__name__} FAILED: {str(exc)[:120]}", math.nan, "", "", False))
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
