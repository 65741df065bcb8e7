"""``python -m autograd_lab.lab``: an alias of ``python -m autograd_lab_course.lab_launcher``,
the student lab launcher (``make lab``).

The course tooling is its own package, :mod:`autograd_lab_course` (``course/`` in the clone);
this alias keeps the older command line working. Nothing here is imported by ``autograd_lab``.
"""
