"""nbgrader's autograding settings: each submission in a kernel forked from a forker.

nbgrader's ``Execute`` preprocessor is nbclient's ``NotebookClient``, whose kernel manager
class is a public setting (``Execute.kernel_manager_class``). Set to
:class:`~autograd_lab_course.grading.warm_kernels.WarmKernelManager`, every grading kernel is
launched by :class:`~autograd_lab_course.grading.warm_kernels.WarmProvisioner`: forked from a
process that imported torch once, still a new process per submission. nbgrader's own
preprocessor list is left as nbgrader ships it.

``Execute.shutdown_kernel = "immediate"``: once the last cell has run the graded notebook
holds every output, so the kernel is killed at once rather than asked to shut down and waited
for (which a kernel that imported torch takes its time over).

The course's ``notebooks/exercises/nbgrader_config.py``, the classroom's instructor overlay
(:mod:`autograd_lab_course.classroom.layout`) and ``deploy/`` all hold :data:`EXECUTE`;
``tests/test_warm_kernels.py`` checks they agree. Importing this module imports neither
nbgrader nor torch.
"""

from __future__ import annotations

__all__ = ["EXECUTE", "KERNEL_MANAGER_CLASS"]

#: The dotted name nbgrader's config gives ``Execute.kernel_manager_class``.
KERNEL_MANAGER_CLASS = "autograd_lab_course.grading.warm_kernels.WarmKernelManager"
#: nbgrader's ``Execute`` settings for autograding (a config section, JSON-ready).
EXECUTE: dict[str, str] = {
    "kernel_manager_class": KERNEL_MANAGER_CLASS,
    "shutdown_kernel": "immediate",
}
