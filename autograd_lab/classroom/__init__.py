"""``python -m autograd_lab.classroom``: an alias of ``python -m autograd_lab_course.classroom``,
the local classroom hub (``make classroom``).

The course tooling is its own package, :mod:`autograd_lab_course` (``course/`` in the clone);
this alias keeps the older command line working. Nothing here is imported by ``autograd_lab``.
"""
