"""The browser tests drive the headless shell where it is installed, else the full Chromium."""

from __future__ import annotations

from pathlib import Path

from tests.chromium import find_chromium


def _executable(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / name
    exe.write_text("#!/bin/sh\n", encoding="utf-8")
    exe.chmod(0o755)
    return exe


def test_the_headless_shell_is_preferred_then_chromium_then_none(tmp_path: Path) -> None:
    system, on_path = tmp_path / "usr-bin", tmp_path / "path"
    system.mkdir()
    assert find_chromium(system, path=str(on_path)) is None
    full = _executable(on_path, "chromium")
    assert find_chromium(system, path=str(on_path)) == str(full)
    shell = _executable(on_path, "chromium-headless-shell")
    assert find_chromium(system, path=str(on_path)) == str(shell)
    debian = _executable(system, "chromium-headless-shell")
    assert find_chromium(system, path=str(on_path)) == str(debian)


def test_a_file_that_cannot_be_run_is_not_taken(tmp_path: Path) -> None:
    system = tmp_path / "usr-bin"
    (_executable(system, "chromium-headless-shell")).chmod(0o644)
    full = _executable(system, "chromium")
    assert find_chromium(system, path="") == str(full)
