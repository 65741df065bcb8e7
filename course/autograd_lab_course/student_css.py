"""The student lab's CSS: output text wraps at spaces, never inside a word.

JupyterLab 4 styles every text output (``.jp-OutputArea-output pre``: printed text, errors,
warnings, an exercise's hint) with ``word-break: break-all``, so a long line breaks wherever
the width ends: "pop|ulated", "retain_g|rad()", "epoc|hs". :data:`OUTPUT_WRAP_CSS` puts it
back to ``word-break: normal``: a line wraps at its spaces, and only a word longer than the
whole line is broken (``overflow-wrap: break-word``).

JupyterLab loads ``custom/custom.css`` when ``LabApp.custom_css`` is on, from jupyter-server's
``static_custom_path`` (the user's ``JUPYTER_CONFIG_DIR/custom`` by default). The launcher
must not write into the user's own configuration, so this module is also a small
jupyter-server extension that the student overlay (:mod:`autograd_lab_course.lab_env`)
enables: when the server links its extensions (before it builds its web application), it
puts the overlay's ``custom`` folder first on ``static_custom_path``. The overlay's
``custom.css`` is :data:`OUTPUT_WRAP_CSS` followed by the user's own ``custom.css``, if any
(read, never written), so a user's own rules still apply and win.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["MARKER", "OUTPUT_WRAP_CSS", "custom_css_text", "overlay_custom_dir"]

#: The first line of the overlay's custom.css: how the extension finds the overlay's folder.
MARKER = "/* autograd-lab student lab (autograd_lab_course.student_css) */"

#: Output text wraps at spaces. The selector is one class more specific than JupyterLab's own
#: ``.jp-OutputArea-output pre``, whose stylesheet is added to the page after custom.css.
OUTPUT_WRAP_CSS = f"""{MARKER}
.jp-OutputArea .jp-OutputArea-output pre {{
  word-break: normal;
  overflow-wrap: break-word;
}}
"""


def custom_css_text(user_config_dir: Path | None) -> str:
    """The overlay's custom.css: :data:`OUTPUT_WRAP_CSS`, then the user's own custom.css
    from ``user_config_dir/custom/custom.css`` when there is one (so it still applies)."""
    text = OUTPUT_WRAP_CSS
    own = None if user_config_dir is None else user_config_dir / "custom" / "custom.css"
    if own is not None and own.is_file():
        text += f"\n/* the user's own {own} */\n" + own.read_text(encoding="utf-8")
    return text


def overlay_custom_dir(config_path: list[str]) -> Path | None:
    """The first ``custom`` folder on the Jupyter config path whose custom.css is ours."""
    for folder in config_path:
        css = Path(folder) / "custom" / "custom.css"
        try:
            if css.is_file() and css.read_text(encoding="utf-8").startswith(MARKER):
                return css.parent
        except OSError:
            continue
    return None


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """jupyter-server's entry point: this module is the extension."""
    return [{"module": "autograd_lab_course.student_css"}]


def _link_jupyter_server_extension(serverapp: Any) -> None:
    """Put the overlay's ``custom`` folder first on the server's ``static_custom_path``
    (jupyter-server links extensions before it builds the web application that reads it)."""
    from jupyter_core.paths import jupyter_config_path

    folder = overlay_custom_dir(jupyter_config_path())
    if folder is not None:
        serverapp.static_custom_path = [str(folder), *serverapp.static_custom_path]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    """Nothing to load: the linking step above is all this extension does."""
