"""``python -m autograd_lab_course.grading``: install the grading kernelspec in this
environment (``make env`` runs it); prints where it went."""

from autograd_lab_course.grading.warm_kernels import install_grading_kernelspec

print(install_grading_kernelspec())
