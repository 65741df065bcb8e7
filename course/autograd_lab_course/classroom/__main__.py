"""``python -m autograd_lab_course.classroom``: see :mod:`autograd_lab_course.classroom.cli`."""

from autograd_lab_course.classroom.cli import main

raise SystemExit(main())
