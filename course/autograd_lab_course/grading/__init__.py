"""Autograding with nbgrader, faster: grading kernels forked from one process that imported
torch once.

* :mod:`~autograd_lab_course.grading.warm_kernels`: the kernel provisioner
  (``WarmProvisioner``, entry point ``autograd-lab-warm``) and the grading kernelspec that
  names it (``python -m autograd_lab_course.grading`` installs it; ``make env`` does);
* :mod:`~autograd_lab_course.grading.kernel_forker`: the forker process;
* :mod:`~autograd_lab_course.grading.autograde`: nbgrader's ``Execute`` settings using it,
  and nbgrader's autograde preprocessors with the grading rules below;
* :mod:`~autograd_lab_course.grading.execute`: ``RecoveringExecute``, a cell that times out
  or ends the kernel costs that question only;
* :mod:`~autograd_lab_course.grading.rebinding_scan` and
  :mod:`~autograd_lab_course.grading.flag_rebinding`: a submission that rebinds a check is
  flagged for the instructor (its score is left alone);
* :mod:`~autograd_lab_course.grading.sandbox`, ``sandbox_service``, ``sandbox_client``: run
  as root (the classroom), each grading kernel as a grading user of its own, with a copy of
  the submission, limits, and every process it started killed when its grading ends;
* :mod:`~autograd_lab_course.grading.sanitize_outputs`: student outputs without script.

Nothing here imports torch: nbgrader's process and a Jupyter server launching kernels with the
provisioner never need it; only the kernels (forked from the forker) do.
"""
