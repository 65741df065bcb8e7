"""The package surface: lazy imports, the torch version notice, the contract names, and
notebook_setup (minimal tracebacks, path-free warnings, Colab handling)."""

from __future__ import annotations

import importlib.metadata
import json
import re
import subprocess
import sys
import types
import warnings
from pathlib import Path

import pytest

import autograd_lab
from autograd_lab import notebook
from autograd_lab._version import PINNED_TORCH, check_torch_version

# The public API contract, copied from the brief (not from autograd_lab._EXPORTS).
CONTRACT = """derive Derivation DerivationStep CheckTable ExpressionError DerivationError
GradientMismatch binary_cross_entropy neuron_gradients NeuronGradients train_linear
EpochRecord trace_backward BackwardStep autograd_graph Graph GraphNode draw_graph
numerical_derivative notebook_setup""".split()

TORCH_SUFFIX = " (Triggered internally at /pytorch/build/aten/src/ATen/core/TensorBody.h:494.)"


_ABSOLUTE_PATH = re.compile(r"(?:^|[\s'\"(=:])/[\w.~-]+/|\b[A-Za-z]:\\")


def _has_path(text: str) -> bool:
    """True if ``text`` holds something that looks like an absolute file path."""
    return bool(_ABSOLUTE_PATH.search(text))


@pytest.mark.parametrize("name", CONTRACT)
def test_contract_name_is_exported(name: str) -> None:
    assert hasattr(autograd_lab, name), f"autograd_lab.{name} is missing"
    assert name in autograd_lab.__all__


def test_import_is_lazy_and_quiet(import_probe) -> None:
    result = import_probe(
        "import sys, autograd_lab\n"
        "heavy = ('matplotlib', 'IPython', 'ipywidgets')\n"
        "print([m for m in heavy if m in sys.modules])\n"
        "autograd_lab.notebook_setup\n"  # the notebook module itself imports none of them
        "print([m for m in heavy if m in sys.modules])\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["[]", "[]"]
    assert result.stderr == ""  # the pinned torch is installed: no version notice


def test_version_notice_when_torch_differs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    import torch

    monkeypatch.setattr(torch, "__version__", "2.5.1+cpu")
    assert check_torch_version() == "2.5.1"
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1
    assert "torch 2.5.1" in lines[0] and f"torch {PINNED_TORCH}" in lines[0]


@pytest.mark.parametrize("version", [PINNED_TORCH, f"{PINNED_TORCH}+cpu"])
def test_no_notice_for_the_pinned_torch(
    version: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    import torch

    monkeypatch.setattr(torch, "__version__", version)
    assert check_torch_version() == PINNED_TORCH
    assert capsys.readouterr().err == ""


def test_version_notice_at_import_time(import_probe) -> None:
    result = import_probe(
        "import torch\ntorch.__version__ = '2.4.0'\nimport autograd_lab\nprint('imported')"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "imported"
    assert len(result.stderr.splitlines()) == 1 and "torch 2.4.0" in result.stderr


# --- notebook_setup ----------------------------------------------------------------------


@pytest.fixture()
def restore_warnings(monkeypatch: pytest.MonkeyPatch):
    """notebook_setup changes process-wide warning hooks: put them back afterwards."""
    monkeypatch.setattr(warnings, "formatwarning", warnings.formatwarning)
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)
    with warnings.catch_warnings():
        yield


def test_format_warning_drops_path_and_torch_suffix() -> None:
    text = notebook.format_warning(
        UserWarning("Tensors do things." + TORCH_SUFFIX), UserWarning, "/abs/path.py", 12
    )
    assert text == "UserWarning: Tensors do things.\n"
    assert notebook.strip_torch_location("no suffix here (kept)") == "no suffix here (kept)"


def test_warning_from_torch_is_path_free_and_keeps_the_source_line(
    restore_warnings: None, capsys
) -> None:
    import torch

    notebook.notebook_setup()
    notebook.notebook_setup()  # idempotent
    assert warnings.filters.count(("always", None, UserWarning, None, 0)) == 1
    assert warnings.filters.count(("always", None, RuntimeWarning, None, 0)) == 1
    x = torch.tensor(2.0, requires_grad=True)
    y = x * 2
    for _ in range(2):  # shown every time, so a re-run cell prints the same
        assert y.grad is None
    err = capsys.readouterr().err
    lines = err.splitlines()
    half = len(lines) // 2
    assert len(lines) % 2 == 0 and lines[:half] == lines[half:]
    assert lines[0].startswith("UserWarning: The .grad attribute of a Tensor that is not a leaf")
    assert lines[half - 1] == "  assert y.grad is None"
    # wrapped at spaces (JupyterLab would break a long line mid-word): no word is split
    assert all(len(line) <= notebook.WARNING_WIDTH for line in lines)
    message = " ".join(lines[: half - 1]).removeprefix("UserWarning: ")
    x.grad = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y.grad  # noqa: B018 - the warning is the point
    assert message == notebook.strip_torch_location(str(caught[0].message)).strip()
    assert "Triggered internally" not in err and not _has_path(err)


def test_outside_ipython_only_warnings_change(import_probe) -> None:
    result = import_probe(
        "import sys, warnings, autograd_lab\n"
        "autograd_lab.notebook_setup()\n"
        "warnings.warn('careful')\n"
        "print('IPython' in sys.modules, 'google.colab' in sys.modules)\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == "UserWarning: careful\n"
    assert result.stdout == "False False\n"


def _fake_colab(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    output = types.ModuleType("google.colab.output")
    output.enable_custom_widget_manager = lambda: calls.append("widgets")  # type: ignore[attr-defined]
    colab = types.ModuleType("google.colab")
    colab.output = output  # type: ignore[attr-defined]
    google = types.ModuleType("google")
    google.colab = colab  # type: ignore[attr-defined]
    for name, module in [
        ("google", google),
        ("google.colab", colab),
        ("google.colab.output", output),
    ]:
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(notebook, "_colab_done", False)
    return calls


def test_colab_enables_widget_manager_once(
    monkeypatch: pytest.MonkeyPatch, restore_warnings: None
) -> None:
    calls = _fake_colab(monkeypatch)
    pip_calls: list[list[str]] = []
    monkeypatch.setattr(notebook.subprocess, "run", lambda cmd, **kw: pip_calls.append(cmd))
    notebook.notebook_setup()
    notebook.notebook_setup()
    assert calls == ["widgets"]
    assert pip_calls == []  # installed (editable) here: nothing to install


def test_colab_installs_an_uploaded_folder(
    monkeypatch: pytest.MonkeyPatch, restore_warnings: None
) -> None:
    _fake_colab(monkeypatch)

    def not_installed(name: str):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(notebook.importlib.metadata, "distribution", not_installed)
    pip_calls: list[list[str]] = []

    def fake_run(cmd: list[str], **kwargs):
        pip_calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(notebook.subprocess, "run", fake_run)
    notebook.notebook_setup()
    root = Path(notebook.__file__).resolve().parents[1]
    assert pip_calls == [[sys.executable, "-m", "pip", "install", "--quiet", str(root)]]


@pytest.mark.kernels
def test_real_kernel_outputs_are_path_free(tmp_path: Path) -> None:
    """Run a tiny notebook in a real kernel and inspect what would be stored."""
    import nbclient
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import autograd_lab\nautograd_lab.notebook_setup()"),
        nbformat.v4.new_code_cell(
            "import torch\nx = torch.tensor(2., requires_grad=True); y = x * 2; y.grad"
        ),
        nbformat.v4.new_code_cell(
            "def f():\n    return 1 / 0\nf()", metadata={"tags": ["raises-exception"]}
        ),
        nbformat.v4.new_code_cell("autograd_lab.notebook_setup()\nprint('again')"),
        nbformat.v4.new_code_cell(
            "from matplotlib.figure import Figure\n"
            "fig = Figure()\nfig.add_subplot().plot([1, 2])\nfig"
        ),
    ]
    nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    setup, grad, error, again, figure = (cell.outputs for cell in nb.cells)
    assert setup == []
    assert [o["output_type"] for o in grad] == ["stream"]
    assert grad[0]["name"] == "stderr"
    text = grad[0]["text"]
    assert text.startswith("UserWarning: The .grad attribute")
    assert all(len(line) <= notebook.WARNING_WIDTH for line in text.splitlines())
    assert text.endswith("\n  x = torch.tensor(2., requires_grad=True); y = x * 2; y.grad\n")
    assert "Triggered internally" not in text and ".py" not in text
    assert [o["output_type"] for o in error] == ["error"]
    assert (error[0]["ename"], error[0]["evalue"]) == ("ZeroDivisionError", "division by zero")
    traceback = "\n".join(error[0]["traceback"])
    assert "File" not in traceback and not _has_path(traceback) and "In[" not in traceback
    assert len(error[0]["traceback"]) == 1
    assert [o.get("text") for o in again] == ["again\n"]
    # a Figure value is shown as a PNG (notebook_setup's formatter), not only as text
    assert figure[0]["data"]["image/png"] and "text/plain" in figure[0]["data"]
    assert not _has_path(json.dumps([c.outputs for c in nb.cells]))
    assert _has_path("see /home/student/x.py") and _has_path("C:\\Users\\x")
