"""nbgrader's autograding settings: each submission in a kernel forked from a forker.

nbgrader's ``Execute`` preprocessor is nbclient's ``NotebookClient``, whose ``kernel_name`` is
a public setting (``Execute.kernel_name``; empty means the notebook's own kernel). Set to
:data:`GRADING_KERNEL`, every grading kernel is started from that kernelspec: a copy of the
environment's ``python3`` one whose ``metadata.kernel_provisioner`` names ``autograd-lab-warm``
(:class:`~autograd_lab_course.grading.warm_kernels.WarmProvisioner`), so it is forked from a
process that imported torch once, still a new process per submission. ``make env`` installs
that kernelspec (``python -m autograd_lab_course.grading``). nbgrader's own preprocessor list
is left as nbgrader ships it.

``Execute.shutdown_kernel = "immediate"``: once the last cell has run the graded notebook
holds every output, so the kernel is killed at once rather than asked to shut down and waited
for (which a kernel that imported torch takes its time over).

The course's ``notebooks/exercises/nbgrader_config.py``, the classroom's instructor overlay
(:mod:`autograd_lab_course.classroom.layout`) and ``deploy/`` all hold :data:`EXECUTE`;
``tests/test_warm_kernels.py`` checks they agree. Importing this module imports neither
nbgrader nor torch.

:func:`autograde_preprocessors` is nbgrader's own ``Autograde.autograde_preprocessors``,
read from nbgrader when it is called, with two changes: its ``Execute`` replaced by
:data:`RECOVERING_EXECUTE` (a cell that times out or ends the kernel costs that question
only) and :data:`FLAG_REBINDING` added last (a submission that rebinds a check is flagged in
the gradebook). The course's ``nbgrader_config.py`` and the classroom's overlay call it;
``deploy/`` holds its value, which ``tests/test_grading_integrity.py`` compares with it.
"""

from __future__ import annotations

__all__ = ["EXECUTE", "FLAG_REBINDING", "GRADING_KERNEL", "RECOVERING_EXECUTE",
           "autograde_preprocessors"]

#: The kernelspec grading kernels start from (installed by ``make env``).
GRADING_KERNEL = "autograd-lab-grading"
#: nbgrader's ``Execute`` settings for autograding (a config section, JSON-ready).
EXECUTE: dict[str, str | int] = {
    "kernel_name": GRADING_KERNEL,
    "shutdown_kernel": "immediate",
    # seconds a cell may run before RecoveringExecute stops it (that question is lost):
    # the slowest cell of a correct submission took 8.9 s (forward_and_reverse's jvp_check,
    # two checks of up to 10 s each by their own limit) on the shared 2-core machine at
    # load 6; nbgrader's default, 30 s, leaves over 3 times that
    "timeout": 30,
}

#: The Execute that restarts the kernel after a cell that timed out or ended it.
RECOVERING_EXECUTE = "autograd_lab_course.grading.execute.RecoveringExecute"
#: The step after SaveAutoGrades that flags a submission that rebinds a check.
FLAG_REBINDING = "autograd_lab_course.grading.flag_rebinding.FlagRebinding"


def autograde_preprocessors() -> list[str]:
    """nbgrader's ``Autograde.autograde_preprocessors`` (read now, as dotted names), with
    ``Execute`` replaced by :data:`RECOVERING_EXECUTE` and :data:`FLAG_REBINDING` last."""
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute

    names = []
    for item in Autograde.class_traits()["autograde_preprocessors"].default():
        names.append(RECOVERING_EXECUTE if item is Execute else
                     item if isinstance(item, str) else f"{item.__module__}.{item.__qualname__}")
    if RECOVERING_EXECUTE not in names:
        raise RuntimeError("nbgrader's autograde preprocessors no longer list Execute; "
                           "update autograd_lab_course.grading.autograde")
    return [*names, FLAG_REBINDING]
