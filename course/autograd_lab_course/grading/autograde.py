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
"""

from __future__ import annotations

__all__ = ["EXECUTE", "GRADING_KERNEL"]

#: The kernelspec grading kernels start from (installed by ``make env``).
GRADING_KERNEL = "autograd-lab-grading"
#: nbgrader's ``Execute`` settings for autograding (a config section, JSON-ready).
EXECUTE: dict[str, str] = {
    "kernel_name": GRADING_KERNEL,
    "shutdown_kernel": "immediate",
}
