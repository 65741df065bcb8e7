"""What the workspace copy writes into each student notebook: the kernel JupyterLab will
report (so a plain open and close changes nothing) and no build metadata."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from jupyter_client.kernelspec import KernelSpecManager

from autograd_lab_course import workspace

ROOT = Path(__file__).resolve().parents[1]


def test_kernel_metadata_is_what_the_installed_kernel_reports() -> None:
    from ipykernel.ipkernel import IPythonKernel

    spec = KernelSpecManager().get_kernel_spec("python3")
    found = workspace.kernel_metadata()
    assert found["kernelspec"] == {
        "display_name": spec.display_name, "language": spec.language, "name": "python3",
    }
    assert found["language_info"] == IPythonKernel.language_info
    assert found["language_info"]["version"] == sys.version.split()[0]
    assert len(found["language_info"]) == 7


def test_student_copies_name_the_kernel_and_carry_no_build_hashes(tmp_path: Path) -> None:
    report = workspace.copy_workspace(tmp_path / "ws", source_root=ROOT)
    lessons = [p for p in report.copied if "/" not in p]
    assert lessons[0] == "00_start_here.ipynb"
    assert "01_first_gradient.ipynb" in lessons
    stored = json.loads((ROOT / "notebooks" / "01_first_gradient.ipynb").read_text("utf-8"))
    assert any("autograd_lab" in c["metadata"] for c in stored["cells"]), "hashes are stored"
    for rel in report.copied:
        nb = json.loads((tmp_path / "ws" / rel).read_text(encoding="utf-8"))
        assert {k: nb["metadata"][k] for k in ("kernelspec", "language_info")} == (
            workspace.kernel_metadata()
        ), rel
        assert not any("autograd_lab" in c["metadata"] for c in nb["cells"]), rel
        assert all(c.get("outputs", []) == [] for c in nb["cells"]), rel
