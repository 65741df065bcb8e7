"""``notebook_setup()``: the first code cell of every lesson calls it.

Stored notebook outputs must not contain absolute paths (they differ on every machine and
nbval compares them). Two things put paths there:

* tracebacks — full IPython tracebacks name every file; the *Minimal* mode prints only
  ``ZeroDivisionError: division by zero``;
* warnings — Python prints ``/path/to/file.py:12: UserWarning: …`` plus the source line, and
  torch appends `` (Triggered internally at /pytorch/aten/src/….h:494.)``. Here a warning
  prints as ``UserWarning: <message>`` followed by the source line that triggered it
  (indented, as Python does, e.g. ``  y.grad``), with no file name or line number. A long
  message is wrapped at spaces into lines of at most :data:`WARNING_WIDTH` characters:
  JupyterLab's output area would otherwise break it mid-word ("pop|ulated").

In Google Colab it also enables the custom widget manager (so ipywidgets 8 render) and,
when the package was imported from an uploaded or cloned folder rather than installed,
``pip install``-s that folder quietly so every later import finds it. Elsewhere it does
nothing more. Calling it twice is the same as calling it once.
"""

from __future__ import annotations

import importlib.metadata
import io
import linecache
import re
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any, TextIO

__all__ = ["format_warning", "notebook_setup", "strip_torch_location"]

#: torch's C++ warnings end with " (Triggered internally at <path>:<line>.)".
_TRIGGERED = re.compile(r"\s*\(Triggered internally at .*\)\s*$", re.DOTALL)

#: The longest line of a printed warning message; longer ones wrap at spaces.
WARNING_WIDTH = 88

_colab_done = False


def strip_torch_location(message: str) -> str:
    """Drop torch's ``(Triggered internally at …)`` suffix (it names a build path)."""
    return _TRIGGERED.sub("", message)


def format_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    line: str | None = None,
) -> str:
    """``"UserWarning: <message>\\n  <source line>\\n"`` — no file name or line number.

    The source line (what the learner wrote, e.g. ``y.grad``) is kept, as Python's own
    format keeps it; a path never is.
    """
    text = strip_torch_location(str(message)).strip()
    text = "\n".join(
        textwrap.fill(paragraph, WARNING_WIDTH, initial_indent=" " * (len(category.__name__) + 2),
                      break_long_words=False, break_on_hyphens=False).lstrip()
        for paragraph in text.splitlines()
    )
    if line is None:
        line = linecache.getline(filename, lineno) if filename else ""
    source = line.strip()
    return f"{category.__name__}: {text}\n" + (f"  {source}\n" if source else "")


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    stream = file if file is not None else sys.stderr
    if stream is None:  # pythonw: nowhere to print
        return
    try:
        stream.write(format_warning(message, category, filename, lineno, line))
    except OSError:
        pass


def _figure_png(figure: Any) -> bytes:
    """A matplotlib Figure rendered to PNG bytes (what Jupyter shows for a Figure value)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def _ipython() -> Any | None:
    """The running IPython shell, without importing IPython when it is not loaded."""
    ipython_module = sys.modules.get("IPython")
    if ipython_module is None:
        return None
    get_ipython = getattr(ipython_module, "get_ipython", None)
    return get_ipython() if get_ipython is not None else None


def _in_site_packages(path: Path) -> bool:
    return any(part in ("site-packages", "dist-packages") for part in path.parts)


def _setup_colab() -> None:
    """Enable ipywidgets' custom widget manager; install the package if it was only uploaded."""
    global _colab_done
    if _colab_done:
        return
    _colab_done = True
    try:
        from google.colab import output  # type: ignore[import-not-found]

        output.enable_custom_widget_manager()
    except Exception as exc:  # noqa: BLE001 - widgets are optional; the lesson still runs
        print(f"autograd_lab: could not enable Colab's widget manager ({exc}).", file=sys.stderr)

    package_dir = Path(__file__).resolve().parent
    if _in_site_packages(package_dir):
        return
    try:
        importlib.metadata.distribution("autograd-lab")
        return  # installed (for example editable) already
    except importlib.metadata.PackageNotFoundError:
        pass
    root = package_dir.parent
    if not (root / "pyproject.toml").is_file():
        return
    # Imported from an uploaded/cloned folder: install it so it is found from any directory.
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", str(root)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        said = result.stderr.strip().splitlines()
        reason = f" (pip said: {said[-1]})" if said else ""
        print(
            "autograd_lab: could not pip-install the uploaded folder; the lessons still run "
            f"from this directory{reason}.",
            file=sys.stderr,
        )


def notebook_setup() -> None:
    """Make notebook output path-free: minimal tracebacks, one-line warnings.

    * IPython: exceptions show as ``ExceptionName: message`` (``%xmode Minimal`` without its
      printed notice); a matplotlib Figure left as a cell's value is shown as a PNG.
    * Warnings print ``Category: message`` and the source line, with torch's "(Triggered
      internally at …)" suffix removed, and ``UserWarning``/``RuntimeWarning`` are shown
      every time (so re-running a cell shows the same output, instead of Python's
      once-per-line default).
    * Google Colab: custom widget manager on; the package installed if it was uploaded.

    Idempotent; harmless outside IPython (only the warning format changes).
    """
    warnings.formatwarning = format_warning
    warnings.showwarning = _show_warning
    # filterwarnings removes an identical filter before inserting, so this stays idempotent.
    warnings.filterwarnings("always", category=UserWarning)
    warnings.filterwarnings("always", category=RuntimeWarning)

    shell = _ipython()
    if shell is not None:
        traceback_formatter = getattr(shell, "InteractiveTB", None)
        if traceback_formatter is not None:
            traceback_formatter.set_mode(mode="Minimal")
        # A matplotlib Figure (e.g. from draw_graph) left as a cell's value shows as a PNG,
        # without importing matplotlib until a Figure actually appears.
        png = shell.display_formatter.formatters["image/png"]
        png.for_type_by_name("matplotlib.figure", "Figure", _figure_png)

    if "google.colab" in sys.modules:
        _setup_colab()
