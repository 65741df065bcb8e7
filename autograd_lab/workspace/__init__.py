"""``python -m autograd_lab.workspace``: an alias of ``python -m autograd_lab_course.workspace``,
the student copy of the course.

The course tooling is its own package, :mod:`autograd_lab_course` (``course/`` in the clone);
this alias keeps the older command line working. Nothing here is imported by ``autograd_lab``.
"""
