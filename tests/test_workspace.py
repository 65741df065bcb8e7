"""autograd_lab_course.workspace: a student copy that never overwrites, never leaks solutions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograd_lab_course import workspace
from autograd_lab_course.workspace import CopyReport, WorkspaceError, copy_workspace

REPO = Path(__file__).resolve().parents[1]


def _notebook(source: str, *, tags: list[str] | None = None, outputs: bool = True) -> dict:
    """A small nbformat-4 notebook with one executed code cell and one markdown cell."""
    cell = {
        "cell_type": "code",
        "execution_count": 3 if outputs else None,
        "id": "c1",
        "metadata": {"tags": tags or [], "nbgrader": {"solution": False}},
        "outputs": [
            {"name": "stdout", "output_type": "stream", "text": ["answer 42\n"]},
            {
                "data": {"application/vnd.jupyter.widget-view+json": {"model_id": "abc"}},
                "metadata": {},
                "output_type": "display_data",
            },
        ]
        if outputs
        else [],
        "source": [source],
    }
    return {
        "cells": [
            {"cell_type": "markdown", "id": "m1", "metadata": {}, "source": ["# Lesson"]},
            cell,
        ],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "widgets": {"application/vnd.jupyter.widget-state+json": {"state": {"abc": {}}}},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _write(path: Path, notebook: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    """A fake repository: two lessons, a teacher note, one exercise (source + release)."""
    root = tmp_path / "repo"
    nbs = root / "notebooks"
    _write(nbs / "01_first.ipynb", _notebook("print('answer', 42)", tags=["raises-exception"]))
    _write(nbs / "02_second.ipynb", _notebook("x = 1"))
    _write(nbs / "teacher-notes" / "answers.ipynb", _notebook("SECRET_NOTE = 1"))
    _write(
        nbs / "exercises" / "source" / "chain_rule" / "chain_rule.ipynb",
        _notebook("### BEGIN SOLUTION\nSOLUTION = 1\n### END SOLUTION"),
    )
    _write(
        nbs / "exercises" / "release" / "chain_rule" / "chain_rule.ipynb",
        _notebook("answer = ...", outputs=False),
    )
    (nbs / "exercises" / "release" / "chain_rule" / "data.txt").write_text("1 2 3\n")
    return root


def _all_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_copies_lessons_and_release_only(repo: Path, tmp_path: Path) -> None:
    dest = tmp_path / "ws"
    report = copy_workspace(dest, source_root=repo)
    expected = [
        "01_first.ipynb",
        "02_second.ipynb",
        "exercises/chain_rule/chain_rule.ipynb",
        "exercises/chain_rule/data.txt",
    ]
    assert isinstance(report, CopyReport)
    assert sorted(report.copied) == expected
    assert report.skipped == []
    assert _all_files(dest) == expected
    text = "\n".join(p.read_text() for p in dest.rglob("*") if p.is_file())
    assert "SOLUTION" not in text and "SECRET_NOTE" not in text


def test_outputs_cleared_metadata_kept(repo: Path, tmp_path: Path) -> None:
    dest = tmp_path / "ws"
    copy_workspace(dest, source_root=repo)
    nb = json.loads((dest / "01_first.ipynb").read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    assert code[0]["metadata"]["tags"] == ["raises-exception"]
    assert code[0]["metadata"]["nbgrader"] == {"solution": False}
    assert "widgets" not in nb["metadata"]
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert nb["cells"][0]["source"] == ["# Lesson"]


def test_keep_outputs_copies_verbatim(repo: Path, tmp_path: Path) -> None:
    dest = tmp_path / "ws"
    copy_workspace(dest, keep_outputs=True, source_root=repo)
    original = (repo / "notebooks" / "01_first.ipynb").read_bytes()
    assert (dest / "01_first.ipynb").read_bytes() == original


def test_never_overwrites(repo: Path, tmp_path: Path) -> None:
    dest = tmp_path / "ws"
    (dest / "exercises" / "chain_rule").mkdir(parents=True)
    (dest / "01_first.ipynb").write_text("my own work")
    (dest / "exercises" / "chain_rule" / "chain_rule.ipynb").write_text("my answer")
    report = copy_workspace(dest, source_root=repo)
    assert sorted(report.skipped) == ["01_first.ipynb", "exercises/chain_rule/chain_rule.ipynb"]
    assert (dest / "01_first.ipynb").read_text() == "my own work"
    assert (dest / "exercises" / "chain_rule" / "chain_rule.ipynb").read_text() == "my answer"
    assert "02_second.ipynb" in report.copied
    # A second refresh copies nothing and skips everything.
    again = copy_workspace(dest, source_root=repo)
    assert again.copied == []
    assert len(again.skipped) == 4


def test_existing_symlink_is_not_followed(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    dest = tmp_path / "ws"
    dest.mkdir()
    os.symlink(outside, dest / "02_second.ipynb")  # dangling link pointing out of DEST
    report = copy_workspace(dest, source_root=repo)
    assert "02_second.ipynb" in report.skipped
    assert not outside.exists()


def test_refuses_symlinked_directory_escape(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    dest = tmp_path / "ws"
    dest.mkdir()
    os.symlink(outside, dest / "exercises", target_is_directory=True)
    with pytest.raises(WorkspaceError, match="outside the workspace"):
        copy_workspace(dest, source_root=repo)
    assert list(outside.iterdir()) == []
    assert _all_files(dest) == []  # refused before writing anything


def test_symlinked_source_cannot_smuggle_solutions(repo: Path, tmp_path: Path) -> None:
    nbs = repo / "notebooks"
    os.symlink(
        nbs / "exercises" / "source" / "chain_rule" / "chain_rule.ipynb",
        nbs / "exercises" / "release" / "chain_rule" / "leak.ipynb",
    )
    os.symlink(nbs / "teacher-notes" / "answers.ipynb", nbs / "00_leak.ipynb")
    dest = tmp_path / "ws"
    report = copy_workspace(dest, source_root=repo)
    assert "exercises/chain_rule/leak.ipynb" not in report.copied
    assert "00_leak.ipynb" not in report.copied
    assert not (dest / "00_leak.ipynb").exists()


def test_refuses_the_committed_notebooks(repo: Path) -> None:
    with pytest.raises(WorkspaceError, match="overlaps the committed notebooks"):
        copy_workspace(repo / "notebooks", source_root=repo)
    with pytest.raises(WorkspaceError, match="overlaps"):
        copy_workspace(repo / "notebooks" / "sub", source_root=repo)
    with pytest.raises(WorkspaceError, match="overlaps"):
        copy_workspace(repo, source_root=repo)


def test_destination_file_is_refused(repo: Path, tmp_path: Path) -> None:
    target = tmp_path / "a-file"
    target.write_text("x")
    with pytest.raises(WorkspaceError, match="is a file"):
        copy_workspace(target, source_root=repo)


def test_missing_notebooks_is_one_clear_sentence(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError) as info:
        copy_workspace(tmp_path / "ws", source_root=tmp_path / "nowhere")
    message = str(info.value)
    assert "No course notebooks found" in message and "pip install -e ." in message
    assert "\n" not in message


def test_cli_reports_copied_and_skipped(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setattr(workspace, "find_notebooks_dir", lambda root=None: repo / "notebooks")
    dest = tmp_path / "ws"
    dest.mkdir()
    (dest / "02_second.ipynb").write_text("mine")
    assert workspace.main([str(dest)]) == 0
    out = capsys.readouterr().out
    assert "copied  01_first.ipynb" in out
    assert "skipped 02_second.ipynb (already exists; not overwritten)" in out
    assert "3 copied, 1 skipped" in out
    assert workspace.main([str(repo / "notebooks")]) == 2
    assert capsys.readouterr().err.startswith("error: Refusing")


@pytest.mark.parametrize("module", ["autograd_lab_course.workspace", "autograd_lab.workspace"])
def test_cli_on_the_real_repository(tmp_path: Path, module: str, import_probe) -> None:
    """``python -m autograd_lab_course.workspace DEST`` (or its older alias ``python -m
    autograd_lab.workspace DEST``) copies this repository's student files.

    Run as ``-m`` runs it (``runpy``, ``__main__``, ``sys.argv``) in a new process that has
    imported torch already (``import_probe``): the alias imports the learner package, whose
    torch import was most of this test's time."""
    dest = tmp_path / "ws"
    result = import_probe(
        f"import runpy, sys\nsys.argv = [{module!r}, {str(dest)!r}]\n"
        f"runpy.run_module({module!r}, run_name='__main__', alter_sys=True)"
    )
    assert result.returncode == 0, result.stderr
    nbs = REPO / "notebooks"
    lessons = sorted(p.name for p in nbs.glob("*.ipynb"))
    release = nbs / "exercises" / "release"
    students = (
        sorted(
            ("exercises" / p.relative_to(release)).as_posix()
            for p in release.rglob("*")
            if p.is_file() and ".ipynb_checkpoints" not in p.parts and not p.name.startswith(".")
        )
        if release.is_dir()
        else []
    )
    assert _all_files(dest) == sorted(lessons + students)
    for rel in _all_files(dest):
        assert "source" not in Path(rel).parts and "teacher-notes" not in Path(rel).parts
        if rel.endswith(".ipynb"):
            nb = json.loads((dest / rel).read_text(encoding="utf-8"))
            for cell in nb["cells"]:
                if cell["cell_type"] == "code":
                    assert cell["outputs"] == [] and cell["execution_count"] is None


# --- a full disk, a broken earlier copy, an unwritable or empty DEST --------------------------
import contextlib  # noqa: E402
import errno  # noqa: E402

from autograd_lab_course import lab_launcher as lab  # noqa: E402


@contextlib.contextmanager
def _tmpfs(path: Path, options: str):
    """A real tmpfs mounted at ``path`` (root on Linux); skip the test where that is impossible."""
    path.mkdir(parents=True, exist_ok=True)
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode()[:80]}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def _every_notebook_is_whole(dest: Path) -> None:
    for path in dest.rglob("*"):
        assert not path.name.endswith(".tmp"), path
        if path.suffix == ".ipynb":
            json.loads(path.read_text(encoding="utf-8"))  # never empty, never truncated


def _big_lesson(repo: Path) -> None:
    """A 02 lesson of about 200 KB (a long markdown cell), so it no longer fits."""
    nb = _notebook("x = 1")
    nb["cells"][0]["source"] = ["word " * 40_000]
    _write(repo / "notebooks" / "02_second.ipynb", nb)


def test_a_full_disk_leaves_no_broken_notebook_and_the_next_run_completes(
    repo: Path, tmp_path: Path
) -> None:
    _big_lesson(repo)
    with _tmpfs(tmp_path / "disk", "size=64k") as disk:
        dest = disk / "ws"
        with pytest.raises(WorkspaceError) as info:
            copy_workspace(dest, source_root=repo)
        message = str(info.value)
        assert "disk is full" in message and "02_second.ipynb" in message
        assert "\n" not in message
        _every_notebook_is_whole(dest)
        assert not (dest / "02_second.ipynb").exists()
        subprocess.run(["mount", "-o", "remount,size=4m", str(disk)], check=True)
        report = copy_workspace(dest, source_root=repo)
        assert "02_second.ipynb" in report.copied and report.repaired == []
        _every_notebook_is_whole(dest)
        assert (dest / "02_second.ipynb").stat().st_size > 150_000


def test_a_failed_write_is_one_sentence_and_leaves_nothing_half_written(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same as the full disk, by injecting the error the disk gives (any platform)."""
    real_fsync, calls = os.fsync, []

    def full(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(workspace.os, "fsync", full)
    dest = tmp_path / "ws"
    with pytest.raises(WorkspaceError, match="the disk is full; free some space"):
        copy_workspace(dest, source_root=repo)
    monkeypatch.setattr(workspace.os, "fsync", real_fsync)
    assert _all_files(dest) == ["01_first.ipynb"]  # the second never appeared, even empty
    _every_notebook_is_whole(dest)
    assert len(copy_workspace(dest, source_root=repo).copied) == 3


def test_a_broken_earlier_copy_is_replaced_with_a_backup_but_student_work_is_not(
    repo: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "ws"
    (dest / "exercises" / "chain_rule").mkdir(parents=True)
    (dest / "01_first.ipynb").write_bytes(b"")  # what the old copy left on a full disk
    (dest / "02_second.ipynb").write_text('{\n "cells": [\n  {\n   "cell_type": "mark')
    mine = json.dumps(_notebook("answer = 0.25  # my answer")) + "\n"
    (dest / "exercises" / "chain_rule" / "chain_rule.ipynb").write_text(mine)
    report = copy_workspace(dest, source_root=repo)
    assert sorted(report.repaired) == ["01_first.ipynb", "02_second.ipynb"]
    assert "exercises/chain_rule/chain_rule.ipynb" in report.skipped
    assert (dest / "exercises" / "chain_rule" / "chain_rule.ipynb").read_text() == mine
    assert (dest / "01_first.ipynb.broken").read_bytes() == b""
    assert (dest / "02_second.ipynb.broken").read_text().endswith('"mark')
    _every_notebook_is_whole(dest)
    fresh = tmp_path / "fresh"
    copy_workspace(fresh, source_root=repo)
    assert (dest / "02_second.ipynb").read_bytes() == (fresh / "02_second.ipynb").read_bytes()
    assert "kept beside it as .broken" in str(report)
    again = copy_workspace(dest, source_root=repo)
    assert again.copied == [] and again.repaired == []


def _refused_by_both_commands(dest: str, fragment: str, capsys: pytest.CaptureFixture) -> None:
    """The workspace command and the launcher: exit 2 and one sentence naming ``fragment``."""
    for command in (
        lambda: workspace.main([dest]),
        lambda: lab.main(["--no-browser", "--workspace", dest]),
    ):
        assert command() == 2
        captured = capsys.readouterr()
        assert captured.err.startswith("error: ") and fragment in captured.err
        assert captured.err.count("\n") == 1 and "Traceback" not in captured.err


def test_a_destination_under_a_file_is_one_sentence(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setattr(workspace, "find_notebooks_dir", lambda root=None: repo / "notebooks")
    (tmp_path / "notes.txt").write_text("x")
    dest = tmp_path / "notes.txt" / "ws"
    with pytest.raises(WorkspaceError, match="notes.txt is a file, not a directory"):
        copy_workspace(dest, source_root=repo)
    _refused_by_both_commands(str(dest), "is a file, not a directory", capsys)


def test_a_read_only_destination_is_one_sentence(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setattr(workspace, "find_notebooks_dir", lambda root=None: repo / "notebooks")
    with _tmpfs(tmp_path / "ro", "size=1m,ro") as read_only:
        with pytest.raises(WorkspaceError, match="Read-only file system"):
            copy_workspace(read_only / "ws", source_root=repo)
        # also when DEST itself exists and every file is there: students could not save
        _refused_by_both_commands(str(read_only), "is not writable (Read-only", capsys)


def test_an_empty_destination_is_refused(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(workspace, "find_notebooks_dir", lambda root=None: repo / "notebooks")
    for empty in ("", "  "):
        with pytest.raises(WorkspaceError, match="The workspace path is empty"):
            copy_workspace(empty, source_root=repo)
    _refused_by_both_commands("", "The workspace path is empty", capsys)
    assert list(tmp_path.iterdir()) == [repo]  # nothing was copied into the current directory


# --- issue 28: stopped during the copy; a huge file named like a lesson ---------------------
def _run_in_child(main, argv: list[str], err_path: Path) -> int:
    """``main(argv)`` in a forked copy of this process, as a fresh command line would run it
    (SIGTERM's default action, Ctrl-C raising KeyboardInterrupt); stderr into ``err_path``.
    A child that ends without being stopped writes its pending and blocked stop signals after
    its output, for the diagnosis (that is how a lost stop was told from a blocked one: see
    ``stop_signals.raise_if_stopped``)."""
    import signal
    import traceback

    from autograd_lab_course.stop_signals import STOP_SIGNALS

    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 99
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
            sys.stderr = open(err_path, "w")  # noqa: SIM115
            code = main(argv)
            if code == 0:
                blocked = signal.pthread_sigmask(signal.SIG_BLOCK, [])
                print(f"(child not stopped: pending {sorted(signal.sigpending())}, "
                      f"blocked {sorted(blocked & STOP_SIGNALS)})", file=sys.stderr)
        except BaseException:  # noqa: BLE001 - what the command line would print
            traceback.print_exc()
            code = 98
        finally:
            sys.stderr.flush()
            os._exit(code)
    return pid


def _paced(main, pause_after: int, pause: float):
    """``main`` with the copy paced in the child: each written file is followed by ``pause``
    seconds (outside the write's held signals), and the ``pause_after``-th file by a long
    wait. The copy itself stays real; only the time between files grows, so a signal sent
    once that file exists lands while the copy is still under way, however busy the machine
    (a CI run once saw the whole copy finish before the parent was scheduled again)."""
    import time

    from autograd_lab_course import workspace as ws

    def paced_main(argv: list[str]) -> int:
        real_write, written = ws._write_new, []

        def write_then_wait(target: Path, data: bytes) -> bool:
            done = real_write(target, data)
            written.append(target)
            time.sleep(60 if len(written) == pause_after else pause)
            return done

        ws._write_new = write_then_wait  # the child's copy of the module
        return main(argv)

    return paced_main


def _stop_during_copy(main, argv: list[str], dest: Path, err: Path, signum: int,
                      files: int) -> int:
    """Start ``main``; once ``files`` files are in ``dest``, send ``signum``. Returns the
    exit code. The child waits after that many files (see :func:`_paced`)."""
    import time

    pid = _run_in_child(_paced(main, files, 0.002), argv, err)
    deadline = time.monotonic() + 60
    while (sum(1 for p in dest.rglob("*") if p.is_file() and not p.name.endswith(".tmp"))
           < files and time.monotonic() < deadline):
        time.sleep(0.001)
    os.kill(pid, signum)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _stop_at_random(main, argv: list[str], dest: Path, err: Path, signum: int,
                    delay: float) -> int:
    """Start ``main`` with a paced copy; ``delay`` s after its first file, send ``signum``
    wherever the copy is then (inside a write, between two, or in the wait after the 20th
    file, so the copy never ends first). Returns the exit code."""
    import time

    pid = _run_in_child(_paced(main, 20, 0.01), argv, err)
    deadline = time.monotonic() + 60
    while not any(dest.rglob("*.ipynb")) and time.monotonic() < deadline:
        time.sleep(0.001)
    time.sleep(delay)
    os.kill(pid, signum)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX signals")
@pytest.mark.parametrize("signame", ["SIGTERM", "SIGINT"])
def test_a_signal_during_the_copy_leaves_no_temporary_file_and_one_line(
    tmp_path: Path, signame: str
) -> None:
    import random
    import signal

    signum = getattr(signal, signame)
    rng = random.Random(28)
    tries = 12 if signame == "SIGTERM" else 4
    for attempt in range(tries):
        dest = tmp_path / f"ws{attempt}"
        err = tmp_path / f"err{attempt}.txt"
        code = _stop_at_random(workspace.main, [str(dest)], dest, err, signum,
                               rng.uniform(0.0, 0.03))
        assert not [p.name for p in dest.rglob("*.tmp")], attempt  # was 3 of 12 with SIGTERM
        text = err.read_text()
        # the child waits after its 20th file, so the signal always finds the copy running
        assert code == 128 + signum, (code, text)  # 143 for kill, 130 for Ctrl-C
        assert "Traceback" not in text and len(text.strip().splitlines()) == 1, text
        assert "Interrupted" in text
        # what was copied is whole: every notebook there is valid JSON
        for notebook in dest.rglob("*.ipynb"):
            json.loads(notebook.read_text(encoding="utf-8"))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX signals")
def test_ctrl_c_during_the_lab_launchers_copy_is_one_line_and_130(tmp_path: Path) -> None:
    import signal

    from autograd_lab_course import lab_launcher as lab

    def main(argv: list[str]) -> int:
        def not_started(*args: object, **kwargs: object) -> None:
            raise lab.LabError("not started in this test")

        lab._serve = not_started  # the child's copy of the module; the copy stays real
        return lab.main(argv)

    dest = tmp_path / "ws"
    err = tmp_path / "err.txt"
    code = _stop_during_copy(main, ["--no-browser", "--workspace", str(dest)], dest, err,
                             signal.SIGINT, 3)
    text = err.read_text()
    assert code == 130, (code, text)
    assert "Traceback" not in text and "Interrupted during the copy" in text
    assert len(text.strip().splitlines()) == 1
    assert not list(dest.rglob("*.tmp"))
    assert 3 <= sum(1 for p in dest.rglob("*") if p.is_file()) < 30  # stopped part-way


def test_a_huge_sparse_file_named_like_a_lesson_is_kept_without_being_read(
    tmp_path: Path,
) -> None:
    # 6 GB of holes under a lesson's name: every existing notebook used to be read whole
    # (MemoryError). A child process with 1.5 GB of address space shows it is not read.
    dest = tmp_path / "ws"
    dest.mkdir()
    huge = dest / "01_first_gradient.ipynb"
    with open(huge, "wb") as handle:
        handle.truncate(6 * 1024**3)
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1536 * 1024**2, 1536 * 1024**2))\n"
        "from autograd_lab_course import workspace\n"
        f"report = workspace.copy_workspace({str(dest)!r})\n"
        "print('skipped' if '01_first_gradient.ipynb' in report.skipped else 'copied')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr[-500:]
    assert result.stdout.strip() == "skipped"
    assert huge.stat().st_size == 6 * 1024**3  # kept as it was


@pytest.mark.skipif(not hasattr(os, "kill"), reason="POSIX signals")
def test_a_stop_whose_interrupt_a_finalizer_dropped_still_stops_the_next_step(
    capsys: pytest.CaptureFixture,
) -> None:
    """Python runs a signal's handler wherever the program is; run inside a finalizer (here a
    half-used generator closed by ``del``), the handler's KeyboardInterrupt is dropped. The
    copy loop's ``raise_if_stopped`` raises it at the next file, and nothing is printed."""
    import signal

    from autograd_lab_course.stop_signals import raise_if_stopped, stopped_by_signals

    def half_used():
        try:
            yield 1
        finally:  # runs in the finalizer, and the handler with it
            os.kill(os.getpid(), signal.SIGTERM)
            sum(range(10))

    reached = []
    with pytest.raises(KeyboardInterrupt), stopped_by_signals() as stopped:
        generator = half_used()
        next(generator)
        del generator  # closed by its finalizer: the KeyboardInterrupt raised there is dropped
        reached.append(dict(stopped))
        raise_if_stopped()
    assert reached == [{"signal": signal.SIGTERM}]  # the stop got past `del`, recorded
    assert capsys.readouterr().err == ""
    raise_if_stopped()  # outside the block, no stop is pending


@pytest.mark.skipif(not hasattr(os, "kill"), reason="POSIX signals")
def test_a_stop_already_acted_on_does_not_stop_a_later_copy(repo: Path, tmp_path: Path) -> None:
    """The lab launcher's process-wide handlers keep their record for good; a signal they
    turned into KeyboardInterrupt earlier (here caught) must not stop a copy made later in
    the same process, as it once did in a test worker."""
    import signal

    from autograd_lab_course.stop_signals import stop_on_terminal_signals

    previous = {n: signal.getsignal(n) for n in (signal.SIGTERM, signal.SIGHUP)}
    try:
        record = stop_on_terminal_signals()
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)
            sum(range(10))  # the handler runs here at the latest
        assert record == {"signal": signal.SIGTERM}
        report = copy_workspace(tmp_path / "ws", source_root=repo)
        assert report.copied and not report.skipped
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
