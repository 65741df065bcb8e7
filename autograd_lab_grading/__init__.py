"""Autograding with nbgrader, faster: grading kernels forked from one process that imported
torch (:mod:`autograd_lab_grading.warm_kernels`, :mod:`autograd_lab_grading.kernel_forker`).

A package of its own, beside ``autograd_lab``, so that nbgrader's process, which loads
:class:`~autograd_lab_grading.warm_kernels.WarmExecute`, does not import torch (importing
``autograd_lab`` does; only the kernels need it).
"""
