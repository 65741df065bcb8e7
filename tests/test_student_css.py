"""The student lab's CSS (autograd_lab_course.student_css): what the launcher writes and how
the jupyter-server extension finds it, without a server (tests/test_lab.py serves it; the
browser test checks that output text then wraps at spaces)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from autograd_lab_course import student_css
from autograd_lab_course.lab_env import STUDENT_CSS_EXTENSION, student_config_env
from autograd_lab_course.student_css import MARKER, OUTPUT_WRAP_CSS, custom_css_text


def test_the_css_undoes_jupyterlabs_break_all_more_specifically() -> None:
    rule = OUTPUT_WRAP_CSS.split("\n", 1)[1]
    selector = rule.split("{", 1)[0].strip()
    # JupyterLab's own rule is ".jp-OutputArea-output pre" (one class, one element), in a
    # stylesheet added after custom.css: ours needs one class more to win
    assert selector.count(".") == 2 and selector.endswith(".jp-OutputArea-output pre")
    assert "word-break: normal;" in rule and "break-all" not in rule


def test_the_users_own_custom_css_follows_ours_and_is_only_read(tmp_path: Path) -> None:
    own = tmp_path / "custom" / "custom.css"
    assert custom_css_text(tmp_path) == OUTPUT_WRAP_CSS  # none yet
    own.parent.mkdir()
    own.write_text("body { --mine: 1; }\n", encoding="utf-8")
    before = own.stat().st_mtime_ns
    text = custom_css_text(tmp_path)
    assert text.startswith(OUTPUT_WRAP_CSS) and text.endswith("body { --mine: 1; }\n")
    assert own.stat().st_mtime_ns == before


def test_the_overlay_holds_the_css_and_turns_it_on(tmp_path: Path) -> None:
    user = tmp_path / "user-config"
    (user / "custom").mkdir(parents=True)
    (user / "custom" / "custom.css").write_text("pre { color: red; }\n", encoding="utf-8")
    overlay = tmp_path / "overlay"
    env = student_config_env(overlay, {"JUPYTER_CONFIG_DIR": str(user)})
    assert env["JUPYTER_CONFIG_PATH"] == str(overlay)
    css = (overlay / "custom" / "custom.css").read_text(encoding="utf-8")
    assert css.startswith(MARKER) and css.endswith("pre { color: red; }\n")
    server = json.loads((overlay / "jupyter_server_config.json").read_text(encoding="utf-8"))
    assert server["LabApp"] == {"custom_css": True}
    extensions = json.loads((overlay / "jupyter_server_config.d" /
                             "autograd_lab_student.json").read_text(encoding="utf-8"))
    assert extensions["ServerApp"]["jpserver_extensions"][STUDENT_CSS_EXTENSION] is True
    assert sorted(p.name for p in user.rglob("*")) == ["custom", "custom.css"]  # untouched


def test_linking_puts_the_overlays_folder_first(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    other, overlay = tmp_path / "other", tmp_path / "overlay"
    (other / "custom").mkdir(parents=True)
    (other / "custom" / "custom.css").write_text("/* not ours */\n", encoding="utf-8")
    student_config_env(overlay, {"JUPYTER_CONFIG_DIR": str(tmp_path / "none")})
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", f"{other}:{overlay}")
    app = SimpleNamespace(static_custom_path=["/home/me/.jupyter/custom", "/srv/custom"])
    assert student_css._jupyter_server_extension_points() == [
        {"module": "autograd_lab_course.student_css"}]
    student_css._link_jupyter_server_extension(app)
    assert app.static_custom_path == [str(overlay / "custom"), "/home/me/.jupyter/custom",
                                      "/srv/custom"]
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(other))  # no overlay: nothing changes
    app = SimpleNamespace(static_custom_path=["/srv/custom"])
    student_css._link_jupyter_server_extension(app)
    assert app.static_custom_path == ["/srv/custom"]
