"""Autograding with nbgrader, faster: grading kernels forked from one process that imported
torch (:mod:`autograd_lab_course.grading.warm_kernels`,
:mod:`autograd_lab_course.grading.kernel_forker`),
used by nbgrader's Execute (:mod:`autograd_lab_course.grading.autograde`).

A package of its own, beside ``autograd_lab``, so that nbgrader's process, which loads
:class:`~autograd_lab_course.grading.autograde.WarmExecute`, and a Jupyter server launching kernels
with :class:`~autograd_lab_course.grading.warm_kernels.WarmProvisioner` do not import torch
(importing ``autograd_lab`` does; only the kernels need it).
"""
