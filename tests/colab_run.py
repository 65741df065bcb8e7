"""``make test-colab``: every ``colab/`` notebook, run the way Colab runs it.

Run by ``.venv-colab/bin/python`` (built from ``requirements/colab-lock.txt``: ipywidgets
7.7.1 without JupyterLab, IPython 7, matplotlib 3.10, numpy 2, the lock's CPU torch), from
the repository root:

1. builds the wheel from the checkout (``pip wheel --no-deps --no-build-isolation``) into a
   temporary folder and uninstalls ``autograd-lab`` from this environment, so the first
   notebook's setup cell really installs it;
2. runs each ``colab/`` notebook top to bottom with nbclient, one kernel per notebook, one
   notebook after another, in an empty working folder (as Colab's ``/content``), with the
   stand-in ``google.colab`` (``tests/colab_path/``) imported at kernel start as Colab's is,
   and ``AUTOGRAD_LAB_INSTALL`` naming the wheel (``PIP_NO_INDEX``: nothing is downloaded);
3. fails on any error outside a cell tagged ``raises-exception`` (and on such a cell that
   does not raise); after each cell that shows a kit widget, clicks every button of it once
   through its Python API (``tests/colab_path/colab_probe.py``) and fails on an unexpected
   error, or when no click changed what the widget shows; fails unless every exercise check
   cell (nbgrader ``grade``) shows only Verdicts (✓ / ✗ / ○: an unanswered ``...`` gives ○);
4. reports, without failing, each lesson cell whose printed text differs from the stored
   output in ``notebooks/`` (after the nbval sanitize patterns), the versions used, and the
   wall and CPU time.

The wheel is installed with ``--no-deps``: ipywidgets 7.7.1 requires widgetsnbextension,
which requires the classic ``notebook`` package (Colab has it; this environment leaves it out
so that no Jupyter server comes along), and pip's resolver would look for it. Instead the
run checks that every requirement the installed wheel declares is met by this environment.

    .venv-colab/bin/python tests/colab_run.py [NAME ...]   # NAME: e.g. 02 or chain_rule
"""

from __future__ import annotations

import configparser
import importlib.metadata
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
COLAB = ROOT / "colab"
KERNEL_PATH = ROOT / "tests" / "colab_path"
SANITIZE = ROOT / "tests" / "sanitize.cfg"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
MARK = "COLAB-PROBE "
CELL_TIMEOUT = 300
VERDICT = re.compile(r"^[✓✗○] ")
#: The versions the report names.
REPORTED = ("torch", "numpy", "matplotlib", "ipywidgets", "ipykernel", "ipython",
            "jupyter_client", "nbclient", "widgetsnbextension", "jupyterlab_widgets", "pip")
#: Packages a Colab-like environment must not have (ipywidgets 7 would pull them in).
ABSENT = ("jupyterlab", "notebook", "jupyter_server")


def _sanitizers() -> list[tuple[re.Pattern[str], str]]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(SANITIZE, encoding="utf-8")
    return [(re.compile(parser[s]["regex"]), parser[s].get("replace", ""))
            for s in parser.sections()]


def _texts(outputs: list, sanitizers: list[tuple[re.Pattern[str], str]]) -> list[str]:
    """The printed text of a cell's outputs (streams, text/plain, errors), sanitized."""
    texts = []
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream":
            text = f"{output['name']}: {output['text']}"
        elif kind in ("execute_result", "display_data"):
            text = output.get("data", {}).get("text/plain", "")
        elif kind == "error":
            text = f"{output['ename']}: {output['evalue']}"
        else:
            continue
        text = "".join(text) if isinstance(text, list) else text
        for pattern, replace in sanitizers:
            text = pattern.sub(replace, text)
        texts.append(text)
    return texts


def _probe_results(cell: nbformat.NotebookNode) -> list[dict]:
    found = []
    for output in cell.outputs:
        if output.get("output_type") == "stream":
            for line in output["text"].splitlines():
                if line.startswith(MARK):
                    found.append(json.loads(line[len(MARK):]))
    return found


def _errors(cell: nbformat.NotebookNode) -> list[str]:
    return [f"{o['ename']}: {o['evalue']}" for o in cell.outputs if o.output_type == "error"]


def build_wheel(dest: Path) -> Path:
    """The wheel of the checkout, built without network (this environment's setuptools)."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(dest), str(ROOT)],
        check=True,
    )
    wheels = sorted(dest.glob("autograd_lab-*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"expected one autograd_lab wheel in {dest}, found {len(wheels)}")
    return wheels[0]


def uninstall_kit() -> None:
    subprocess.run([sys.executable, "-m", "pip", "uninstall", "--quiet", "--yes", "autograd-lab"],
                   check=False, capture_output=True)


def kernel_env(wheel: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.update({
        "PYTHONPATH": str(KERNEL_PATH),
        "AUTOGRAD_LAB_INSTALL": f"--no-deps {wheel}",
        "PIP_NO_INDEX": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PYTHONHASHSEED": "0",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    })
    return env


def stored_outputs(rel: str) -> dict[str, list]:
    """The stored outputs of ``notebooks/<rel>`` by cell id (lessons only)."""
    source = ROOT / "notebooks" / rel
    if "/" in rel or not source.is_file():
        return {}
    nb = nbformat.read(source, as_version=4)
    return {c.id: c.outputs for c in nb.cells if c.cell_type == "code"}


def run_notebook(path: Path, env: dict[str, str], workdir: Path, sanitizers) -> dict:
    """Execute one colab notebook cell by cell; return what was found (failures, counts)."""
    rel = path.relative_to(COLAB).as_posix()
    nb = nbformat.read(path, as_version=4)
    stored = stored_outputs(rel)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        allow_errors=True,  # judged below: only cells tagged raises-exception may raise
        store_widget_state=False,
        record_timing=False,
        coalesce_streams=True,
        resources={"metadata": {"path": str(workdir)}},
        # Colab's kernel has google.colab imported before the first cell runs.
        extra_arguments=["--IPKernelApp.exec_lines=import google.colab"],
    )
    result = {"notebook": rel, "failures": [], "widgets": [], "verdicts": 0, "differs": [],
              "compared": 0}
    start = time.perf_counter()
    with client.setup_kernel(env=env):
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            client.execute_cell(cell, index)
            tags = cell.metadata.get("tags", [])
            errors = _errors(cell)
            where = f"{rel} cell {index} ({cell.id})"
            if "raises-exception" in tags and not errors:
                result["failures"].append(f"{where}: tagged raises-exception but did not raise")
            if errors and "raises-exception" not in tags:
                result["failures"].append(f"{where}: {errors[0][:300]}")
            if cell.metadata.get("nbgrader", {}).get("grade"):
                verdicts = [
                    o for o in cell.outputs
                    if o.output_type in ("display_data", "execute_result")
                    and "agl-verdict" in o.get("data", {}).get("text/html", "")
                    and VERDICT.match(o.get("data", {}).get("text/plain", ""))
                ]
                others = [o for o in cell.outputs if o not in verdicts]
                if not verdicts or others:
                    result["failures"].append(
                        f"{where}: an exercise check showed something other than Verdicts: "
                        f"{_texts(others, sanitizers)[:2]}")
                result["verdicts"] += len(verdicts)
            if index == 0:
                probe = nbformat.v4.new_code_cell(
                    "import colab_probe\ncolab_probe.colab_state()")
                client.execute_cell(probe, index, store_history=False)
                states = _probe_results(probe)
                if _errors(probe) or not states:
                    result["failures"].append(f"{where}: setup probe failed {_errors(probe)}")
                else:
                    result["state"] = states[0]
            if any(WIDGET_VIEW in o.get("data", {}) for o in cell.outputs):
                probe = nbformat.v4.new_code_cell(
                    f"import colab_probe\ncolab_probe.click_once(Out[{cell.execution_count}])")
                client.execute_cell(probe, index, store_history=False)
                found = _probe_results(probe)
                if _errors(probe) or not found:
                    result["failures"].append(f"{where}: clicking failed {_errors(probe)}")
                    continue
                summary = found[0]
                result["widgets"].append(summary)
                if not summary["clicked"] or not summary["changed"] or summary["errors"]:
                    result["failures"].append(f"{where}: widget {summary}")
            if cell.id in stored:
                result["compared"] += 1
                here, there = _texts(cell.outputs, sanitizers), _texts(stored[cell.id], sanitizers)
                if here != there:
                    result["differs"].append((index, cell.id, there[:1], here[:1]))
    result["seconds"] = time.perf_counter() - start
    return result


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in REPORTED:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "absent"
    return found


def requirements_met() -> list[str]:
    """Every requirement of the installed kit (no extras) that this environment misses."""
    missing = []
    for text in importlib.metadata.requires("autograd-lab") or []:
        requirement = Requirement(text)
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        try:
            have = importlib.metadata.version(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(f"{requirement} (not installed)")
            continue
        if not requirement.specifier.contains(have, prereleases=True):
            missing.append(f"{requirement} (have {have})")
    return missing


def main(argv: list[str]) -> int:
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    wall, cpu = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    notebooks = sorted(COLAB.glob("*.ipynb")) + sorted(COLAB.glob("exercises/*.ipynb"))
    if argv:
        notebooks = [p for p in notebooks if any(p.stem == a or p.stem.startswith(f"{a}_")
                                                 for a in argv)]
    if not notebooks:
        print("no colab/ notebooks to run: run `make colab` first", file=sys.stderr)
        return 2
    failures: list[str] = []
    present = [name for name in ABSENT if versions_of(name)]
    if present:
        failures.append(f"not Colab-like: {', '.join(present)} installed")
    sanitizers = _sanitizers()
    results = []
    with tempfile.TemporaryDirectory(prefix="colab-") as temp:
        wheel = build_wheel(Path(temp) / "wheel")
        uninstall_kit()
        env = kernel_env(wheel)
        for path in notebooks:
            workdir = Path(temp) / "content" / path.stem  # an empty folder, as /content
            workdir.mkdir(parents=True)
            result = run_notebook(path, env, workdir, sanitizers)
            results.append(result)
            failures += result["failures"]
            widgets = ", ".join(f"{w['widget']} ({len(w['clicked'])} clicks)"
                                for w in result["widgets"])
            print(f"ran {result['notebook']:45} {result['seconds']:6.1f} s"
                  + (f"  widgets: {widgets}" if widgets else "")
                  + (f"  verdicts: {result['verdicts']}" if result["verdicts"] else "")
                  + (f"  differs: {len(result['differs'])} cells" if result["differs"] else ""),
                  flush=True)
        first = results[0].get("state", {})
        if "site-packages" not in first.get("package", ""):
            failures.append(f"the kit was not imported from the installed wheel: {first}")
        if any(r.get("state", {}).get("widget_manager_calls") != 1 for r in results):
            failures.append("notebook_setup did not enable the widget manager exactly once "
                            "in every notebook")
        missing = requirements_met()
        if missing:
            failures.append(f"the wheel's requirements are not met here: {missing}")
    used = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_seconds = (used.ru_utime - cpu.ru_utime + used.ru_stime - cpu.ru_stime
                   + children.ru_utime + children.ru_stime)
    print("\nversions: " + ", ".join(f"{k} {v}" for k, v in versions().items()))
    for result in results:
        for index, cell_id, there, here in result["differs"]:
            print(f"differs from the stored output: {result['notebook']} cell {index} "
                  f"({cell_id}): stored {there!r}, here {here!r}")
    widgets = sum(len(r["widgets"]) for r in results)
    verdicts = sum(r["verdicts"] for r in results)
    differs = sum(len(r["differs"]) for r in results)
    compared = sum(r["compared"] for r in results)
    print(f"{len(results)} notebooks, {widgets} widgets clicked, {verdicts} verdicts; "
          f"{differs} of {compared} lesson cells print differently from the stored outputs; "
          f"{time.perf_counter() - wall:.0f} s wall, {cpu_seconds:.0f} CPU-seconds")
    for failure in failures:
        print(f"FAILED {failure}", file=sys.stderr)
    # one line a CI reads: notebooks that passed; notebooks that failed, and failed checks
    # of the whole run (the environment, the install)
    failed = sum(1 for r in results if r["failures"])
    whole_run = len(failures) - sum(len(r["failures"]) for r in results)
    print(f"{len(results) - failed} passed, {failed + whole_run} failed")
    return 1 if failures else 0


def versions_of(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
