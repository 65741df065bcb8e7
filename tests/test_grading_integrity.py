"""Rebinding in a submission, without a kernel: the fresh copy of the checks the hidden tests
use, the kernel-side comparison (``rebindings``), the static scan on a table of submissions,
and where the grading steps are plugged in. The same rules in real autograding:
tests/test_grading_rules.py (tier ``kernels``)."""

from __future__ import annotations

import builtins
import glob
import json
import math
import sys
import types
from pathlib import Path

import nbformat
import pytest
import torch

import autograd_lab.exercises as exercises
from autograd_lab.exercises import fresh_copy, student_code
from autograd_lab.exercises.fresh_copy import fresh_checks, rebindings
from autograd_lab_course.grading.execute import stopped_output
from autograd_lab_course.grading.flag_rebinding import findings_by_cell
from autograd_lab_course.grading.rebinding_scan import scan_notebook, scan_source

REPO = Path(__file__).resolve().parents[1]
SOURCES = sorted(glob.glob(str(REPO / "notebooks" / "exercises" / "source" / "*" / "*.ipynb")))


def _exp_cos_truth() -> float:
    """dz/dx of z = exp(cos x) at x = 2, by torch autograd in float64."""
    x = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    torch.exp(torch.cos(x)).backward()
    return float(x.grad)


def always_ok(*args: object, **kwargs: object) -> types.SimpleNamespace:
    return types.SimpleNamespace(ok=True)


def test_fresh_checks_are_the_packages_after_every_kind_of_rebinding(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exercises, "check_gradient", always_ok)
    monkeypatch.setattr(student_code, "TIME_LIMIT", -1.0)
    monkeypatch.setitem(sys.modules, "autograd_lab.exercises",
                        types.SimpleNamespace(check_gradient=always_ok))
    monkeypatch.setitem(sys.modules, "autograd_lab.exercises.gradient_checks",
                        types.SimpleNamespace(check_gradient=always_ok))
    checks = fresh_checks()
    assert checks.__name__.startswith("_autograd_lab_fresh_")
    assert checks.check_gradient is not always_ok
    assert checks.check_gradient.__code__ == \
        sys.modules["autograd_lab.exercises.fresh_copy"].fresh_checks().check_gradient.__code__
    assert sys.modules[checks.check_gradient.__module__].__file__.endswith("gradient_checks.py")
    truth = _exp_cos_truth()
    assert checks.check_gradient("exp_cos", "x", truth).ok
    assert not checks.check_gradient("exp_cos", "x", truth + 1e-3).ok
    assert not checks.check_gradient("exp_cos", "x", math.exp(math.cos(2.0))).ok  # chain left out
    # sys.modules is as the test left it: the copy put everything back
    assert isinstance(sys.modules["autograd_lab.exercises"], types.SimpleNamespace)


def test_each_copy_is_new_and_shares_the_classes_answers_build_on() -> None:
    from autograd_lab.engine import Value

    first, second = fresh_checks(), fresh_checks()
    assert first is not second and first.check_sin is not second.check_sin
    engine_checks = sys.modules[first.check_sin.__module__]
    assert engine_checks.Value is Value  # a student's Value is the check's Value
    assert first.Verdict is not exercises.Verdict  # the verdicts are the copy's own


def test_fresh_module_loads_package_modules_only() -> None:
    with pytest.raises(ValueError, match="autograd_lab modules only"):
        fresh_copy.fresh_module("os")


def test_rebindings_names_what_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    clean = {name: getattr(exercises, name) for name in ("check_gradient", "check_vjp",
                                                         "Verdict", "EXERCISES")}
    assert rebindings(clean) == []
    # a wrong answer checked in the notebook counts a try (TRIES): that is not a rebinding
    from autograd_lab.exercises import gradient_checks

    monkeypatch.setattr(gradient_checks, "TRIES", {})  # this test's tries only
    assert not exercises.check_gradient("exp_cos", "x", 12345.0).ok
    assert gradient_checks.TRIES
    assert rebindings(clean) == []
    made_in_a_cell = eval(compile("lambda *a: 1", "<ipython-input-1>", "eval"))  # noqa: S307
    monkeypatch.setattr(student_code, "TIME_LIMIT", 1e9)
    monkeypatch.setattr(exercises, "check_vjp", always_ok)
    monkeypatch.setattr(builtins, "agl_test_builtin", made_in_a_cell, raising=False)
    found = rebindings({**clean, "check_gradient": always_ok})
    monkeypatch.undo()
    assert set(found) == {"check_gradient in the notebook is not the package's",
                          "autograd_lab.exercises.student_code.TIME_LIMIT was changed",
                          "autograd_lab.exercises.check_vjp was changed",
                          "builtins.agl_test_builtin was replaced by the notebook"}


def test_rebindings_sees_a_replaced_module(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "autograd_lab.verdict", types.SimpleNamespace())
    assert "sys.modules['autograd_lab.verdict'] is not the package's module" in rebindings({})


IMPORTS = "from autograd_lab.exercises import check_gradient\nimport autograd_lab\n"
#: One submission cell per rebinding form, and the words its finding must hold.
REBINDING = [
    ("check_gradient = lambda *a, **k: SimpleNamespace(ok=True)", "binds 'check_gradient'"),
    ("def check_gradient(*args):\n    return 1", "binds 'check_gradient'"),
    ("from types import SimpleNamespace as check_gradient", "binds 'check_gradient'"),
    ("for check_gradient in [print]:\n    pass", "binds 'check_gradient'"),
    ("check_gradient.__code__ = (lambda: 1).__code__", "sets check_gradient.__code__"),
    ("autograd_lab.exercises.check_gradient = print", "autograd_lab.exercises.check_gradient"),
    ("setattr(autograd_lab.exercises, 'check_gradient', print)", "sets an attribute"),
    ("del autograd_lab.exercises.check_gradient", "deletes"),
    ("import autograd_lab.exercises.student_code as sc\nsc.TIME_LIMIT = 1e9",
     "sc.TIME_LIMIT"),
    ("autograd_lab.exercises.__dict__.update(check_gradient=print)", "calls update"),
    ("import builtins\nbuiltins.print = len", "builtins.print, a builtin"),
    ("import builtins as b\nsetattr(b, 'abs', len)", "a builtin"),
    ("__builtins__['len'] = print", "a builtin"),
    ("import sys\nsys.modules['autograd_lab.exercises'] = None", "sys.modules"),
    ("import sys\ndel sys.modules['autograd_lab']", "sys.modules"),
    ("import sys\nsys.meta_path.insert(0, object())", "sys.meta_path"),
    ("globals()['check_gradient'] = print", "globals()"),
    ("globals().update(check_gradient=print)", "globals()"),
    ("exec('check_gradient = print')", "exec()"),
    ("%time check_gradient = print", "binds 'check_gradient'"),
]


@pytest.mark.parametrize("cell, words", REBINDING, ids=[r[0][:40] for r in REBINDING])
def test_every_rebinding_form_is_found(cell: str, words: str) -> None:
    found = scan_source([("imports", IMPORTS), ("answer", cell)])
    assert found and all(f.cell_id == "answer" for f in found)
    assert any(words in str(f) for f in found), [str(f) for f in found]


NORMAL = [
    "x = 2.0\ndz_dx = math.exp(math.cos(x)) * -math.sin(x)",
    "display(check_gradient('exp_cos', 'x', dz_dx))",
    "from autograd_lab.exercises import check_gradient",  # importing it again
    "import sys\nprint(sys.version)",
    "values = {}\nvalues.update(a=1)\nvalues['b'] = 2",
    "class Model:\n    pass\nm = Model()\nm.weight = 3",
    "%matplotlib inline\nimport math",
    "this is not python (",
]


def test_normal_cells_are_not_flagged() -> None:
    assert scan_source([("imports", IMPORTS), *(("answer", c) for c in NORMAL)]) == []


@pytest.mark.parametrize("path", SOURCES, ids=[Path(p).parent.name for p in SOURCES])
def test_no_exercise_solution_is_flagged(path: str) -> None:
    """The teacher versions (solutions and hidden tests) hold no rebinding."""
    nb = nbformat.read(path, as_version=4)
    assert scan_notebook(nb) == []
    assert findings_by_cell(nb, []) == {}


def test_findings_go_to_their_answer_cell_and_the_kernels_to_the_first() -> None:
    nb = nbformat.v4.new_notebook()
    meta = {"solution": True, "grade": False, "locked": False}
    nb.cells = [nbformat.v4.new_code_cell(IMPORTS, metadata={"nbgrader": {
                    "grade_id": "imports", "solution": False, "locked": True}}),
                nbformat.v4.new_code_cell("a = 1", metadata={"nbgrader": {
                    **meta, "grade_id": "first"}}),
                nbformat.v4.new_code_cell("check_gradient = print", metadata={"nbgrader": {
                    **meta, "grade_id": "second"}})]
    found = findings_by_cell(nb, ["check_gradient in the notebook is not the package's"])
    assert found == {
        "second": ["cell 'second', line 1: binds 'check_gradient' again, a name imported "
                   "from autograd_lab"],
        "first": ["after the last cell: check_gradient in the notebook is not the package's"]}


def test_every_hidden_test_uses_the_fresh_checks() -> None:
    """No hidden test calls a check from the notebook's names; the visible cells still do."""
    for path in SOURCES:
        for cell in nbformat.read(path, as_version=4).cells:
            source = cell.source
            if "### BEGIN HIDDEN TESTS" not in source:
                continue
            visible, hidden = source.split("### BEGIN HIDDEN TESTS")
            asserts = [ln for ln in hidden.splitlines() if ln.startswith("assert ")]
            assert asserts and all(ln.startswith("assert _checks.check_") for ln in asserts)
            assert "_checks = _fresh_checks()" in hidden
            assert "display(check_" in visible


def test_the_deployed_config_is_nbgraders_list_with_ours() -> None:
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute

    from autograd_lab_course.grading.autograde import (
        FLAG_REBINDING,
        RECOVERING_EXECUTE,
        autograde_preprocessors,
    )

    nbgraders = Autograde.class_traits()["autograde_preprocessors"].default()
    ours = autograde_preprocessors()
    assert ours[nbgraders.index(Execute)] == RECOVERING_EXECUTE and ours[-1] == FLAG_REBINDING
    assert [n for n in ours if n not in (RECOVERING_EXECUTE, FLAG_REBINDING)] == [
        f"{p.__module__}.{p.__qualname__}" for p in nbgraders if p is not Execute]
    deployed = json.loads((REPO / "deploy" / "jupyter-config" / "instructor" /
                           "nbgrader_config.json").read_text())
    assert deployed["Autograde"]["autograde_preprocessors"] == ours


def test_a_stopped_cell_says_why_in_one_sentence() -> None:
    output = stopped_output("This cell ended the kernel; it was stopped and graded as failing.")
    assert output.output_type == "error" and output.traceback == [output.evalue]
